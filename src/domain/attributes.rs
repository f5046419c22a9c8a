//! A subscriber's own attributes: a flat JSON object of text, numbers, yes/no and dates that
//! the operator fills (API, admin UI, import columns `attr.KEY`), templates read
//! (`{{ subscriber.attributes.company }}`) and segments filter on. Flat and bounded, so that
//! an import or an API client cannot make one person's record large.

use serde_json::{Map, Value};

/// At most this many attributes per person.
pub const MAX_KEYS: usize = 50;
/// At most this many characters in one text value.
pub const MAX_TEXT_CHARS: usize = 500;
/// At most this many bytes for all of a person's attributes, as JSON.
pub const MAX_BYTES: usize = 8 * 1024;

/// A person's attributes: keys `[a-z0-9_]{1,40}`, each value a string, a finite number or a
/// boolean; a date is a string `YYYY-MM-DD`, which sorts as it should.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attributes(Map<String, Value>);

/// What an attribute's value is, as an import column's suffix names it (`attr.seats:number`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttributeKind {
    /// Any text (the default).
    #[default]
    Text,
    /// A number.
    Number,
    /// `true`/`false` (also `yes`/`no`, `1`/`0`).
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
}

super::text_enum!(AttributeKind, "attribute type", {
    Text => "text",
    Number => "number",
    Boolean => "boolean",
    Date => "date",
});

/// An attribute the rules refuse: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("attributes.{key}: {problem}")]
pub struct AttributeError {
    /// The key (`*` when the object as a whole is refused).
    pub key: String,
    /// What is wrong, in plain words.
    pub problem: String,
}

impl AttributeError {
    fn new(key: &str, problem: impl Into<String>) -> Self {
        Self {
            key: key.chars().take(60).collect(),
            problem: problem.into(),
        }
    }
}

/// Whether `key` may name an attribute: 1 to 40 of `a-z`, `0-9`, `_`.
pub fn valid_key(key: &str) -> bool {
    (1..=40).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `text` is a calendar date written `YYYY-MM-DD`.
pub fn is_date(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

impl Attributes {
    /// The attributes as stored, checked as if they were set now.
    ///
    /// # Errors
    /// The first key or value the rules refuse.
    pub fn from_json(value: &Value) -> Result<Self, AttributeError> {
        let Value::Object(map) = value else {
            return Err(AttributeError::new("*", "must be a JSON object"));
        };
        let mut out = Self::default();
        out.merge(map)?;
        Ok(out)
    }

    /// The attributes as one JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone())
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Every attribute, by key in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter()
    }

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Applies `patch`: each key set to its value, a `null` removes the key. All or nothing.
    /// Returns the keys that changed.
    ///
    /// # Errors
    /// The first key or value the rules refuse; `self` is then unchanged.
    pub fn merge(&mut self, patch: &Map<String, Value>) -> Result<Vec<String>, AttributeError> {
        let mut next = self.0.clone();
        let mut changed = Vec::new();
        for (key, value) in patch {
            if !valid_key(key) {
                return Err(AttributeError::new(
                    key,
                    "a key is 1 to 40 of a-z, 0-9 and _",
                ));
            }
            match value {
                Value::Null => {
                    if next.remove(key).is_some() {
                        changed.push(key.clone());
                    }
                }
                value => {
                    check_value(key, value)?;
                    if next.get(key) != Some(value) {
                        next.insert(key.clone(), value.clone());
                        changed.push(key.clone());
                    }
                }
            }
        }
        if next.len() > MAX_KEYS {
            return Err(AttributeError::new(
                "*",
                format!("at most {MAX_KEYS} attributes per person"),
            ));
        }
        if Value::Object(next.clone()).to_string().len() > MAX_BYTES {
            return Err(AttributeError::new(
                "*",
                format!("at most {MAX_BYTES} bytes of attributes per person"),
            ));
        }
        self.0 = next;
        Ok(changed)
    }
}

fn check_value(key: &str, value: &Value) -> Result<(), AttributeError> {
    match value {
        Value::String(text) if text.chars().count() > MAX_TEXT_CHARS => Err(AttributeError::new(
            key,
            format!("a text of at most {MAX_TEXT_CHARS} characters"),
        )),
        Value::String(text) if text.chars().any(char::is_control) => Err(AttributeError::new(
            key,
            "a text without control characters",
        )),
        Value::String(_) | Value::Bool(_) => Ok(()),
        Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => Ok(()),
        Value::Number(_) => Err(AttributeError::new(key, "a finite number")),
        Value::Array(_) | Value::Object(_) | Value::Null => Err(AttributeError::new(
            key,
            "a text, a number, true or false, or a date YYYY-MM-DD (no lists or objects)",
        )),
    }
}

impl AttributeKind {
    /// `raw`, as an import cell, read as this kind; an empty cell is `null` (no value).
    ///
    /// # Errors
    /// A cell that is not of the kind, in plain words.
    pub fn read(self, key: &str, raw: &str) -> Result<Value, AttributeError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Value::Null);
        }
        let value = match self {
            Self::Text => Value::String(raw.to_owned()),
            Self::Number => raw
                .parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| {
                    raw.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .and_then(serde_json::Number::from_f64)
                        .map(Value::Number)
                })
                .ok_or_else(|| AttributeError::new(key, format!("{raw:?} is not a number")))?,
            Self::Boolean => match raw.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Value::Bool(true),
                "false" | "no" | "0" => Value::Bool(false),
                _ => {
                    return Err(AttributeError::new(
                        key,
                        format!("{raw:?} is not true or false"),
                    ));
                }
            },
            Self::Date if is_date(raw) => Value::String(raw.to_owned()),
            Self::Date => {
                return Err(AttributeError::new(
                    key,
                    format!("{raw:?} is not a date YYYY-MM-DD"),
                ));
            }
        };
        check_value(key, &value)?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn merging_sets_replaces_and_removes_and_reports_what_changed() {
        let mut a = Attributes::default();
        let changed = a
            .merge(&map(json!({"plan": "pro", "seats": 12, "trial": false})))
            .unwrap();
        assert_eq!(changed, ["plan", "seats", "trial"]);
        let changed = a
            .merge(&map(
                json!({"plan": "pro", "seats": null, "since": "2026-01-31"}),
            ))
            .unwrap();
        assert_eq!(changed, ["seats", "since"]);
        assert_eq!(
            a.to_json(),
            json!({"plan": "pro", "trial": false, "since": "2026-01-31"})
        );
    }

    #[test]
    fn a_refused_patch_changes_nothing_and_names_the_key() {
        let mut a = Attributes::from_json(&json!({"plan": "pro"})).unwrap();
        for (patch, key) in [
            (json!({"ok": 1, "Bad-Key": 1}), "Bad-Key"),
            (json!({"ok": 1, "nested": {"a": 1}}), "nested"),
            (json!({"ok": 1, "list": [1, 2]}), "list"),
            (json!({"ok": 1, "long": "x".repeat(501)}), "long"),
            (json!({"ok": 1, "": 1}), ""),
        ] {
            let e = a.merge(&map(patch)).unwrap_err();
            assert_eq!(e.key, key);
            assert!(e.to_string().starts_with(&format!("attributes.{key}: ")));
        }
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        assert_eq!(a.merge(&many).unwrap_err().key, "*");
        let big: Map<String, Value> = (0..20)
            .map(|i| (format!("k{i}"), json!("x".repeat(450))))
            .collect();
        assert_eq!(a.merge(&big).unwrap_err().key, "*");
        assert_eq!(a.to_json(), json!({"plan": "pro"}));
    }

    #[test]
    fn import_cells_are_read_as_their_column_says() {
        assert_eq!(AttributeKind::Number.read("n", " 12 ").unwrap(), json!(12));
        assert_eq!(AttributeKind::Number.read("n", "2.5").unwrap(), json!(2.5));
        assert!(AttributeKind::Number.read("n", "twelve").is_err());
        assert!(AttributeKind::Number.read("n", "NaN").is_err());
        assert_eq!(
            AttributeKind::Boolean.read("b", "Yes").unwrap(),
            json!(true)
        );
        assert!(AttributeKind::Boolean.read("b", "maybe").is_err());
        assert_eq!(
            AttributeKind::Date.read("d", "2026-02-28").unwrap(),
            json!("2026-02-28")
        );
        assert!(AttributeKind::Date.read("d", "2026-02-30").is_err());
        assert_eq!(AttributeKind::Text.read("t", "").unwrap(), Value::Null);
    }

    proptest! {
        #[test]
        fn whatever_is_stored_reads_back_the_same(
            entries in proptest::collection::btree_map("[a-z0-9_]{1,40}", prop_oneof![
                any::<bool>().prop_map(Value::from),
                any::<i32>().prop_map(Value::from),
                "[a-zA-Z0-9 äöü]{0,40}".prop_map(Value::from),
            ], 0..20)
        ) {
            let patch: Map<String, Value> = entries.into_iter().collect();
            let mut a = Attributes::default();
            a.merge(&patch).unwrap();
            prop_assert_eq!(Attributes::from_json(&a.to_json()).unwrap(), a);
        }
    }
}
