//! Segments: a typed filter over people (never SQL) that narrows a campaign's audience, the
//! parser that reads it from JSON and names the part it refuses, and a plain evaluation over
//! one person's facts. The store turns the same filter into a query; tests hold the two to
//! the same answers.
//!
//! ```json
//! {"all": [
//!   {"attribute": "plan", "op": "eq", "value": "pro"},
//!   {"not": {"received": "0192…"}},
//!   {"any": [{"locale": "de"}, {"list": "tech-news"}]}
//! ]}
//! ```

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::{Attributes, CampaignId, ListId, Locale, attributes};

/// At most this many nested groups (`all`, `any`, `not`) inside one another.
pub const MAX_DEPTH: usize = 6;
/// At most this many conditions and groups in one filter.
pub const MAX_PARTS: usize = 60;
/// At most this many characters in a segment's name.
pub const MAX_NAME_CHARS: usize = 100;

/// A filter; `L` is how a list is named: as given (`String`, a slug or an id) until the
/// service resolves it, then a [`ListId`].
#[derive(Debug, Clone, PartialEq)]
pub enum Filter<L = ListId> {
    /// Every part matches (an empty `all` is refused).
    All(Vec<Filter<L>>),
    /// At least one part matches.
    Any(Vec<Filter<L>>),
    /// The part does not match.
    Not(Box<Filter<L>>),
    /// A test on one of the person's attributes.
    Attribute {
        /// The attribute's key.
        key: String,
        /// What is tested.
        test: AttributeTest,
    },
    /// The person's language.
    Locale(Locale),
    /// A confirmed subscription to the list.
    List(L),
    /// A confirmed subscription (to `list`, or to any list) confirmed before `at`.
    SubscribedBefore {
        /// The moment (a date means its start, UTC).
        at: DateTime<Utc>,
        /// Only subscriptions to this list count.
        list: Option<L>,
    },
    /// A confirmed subscription (to `list`, or to any list) confirmed at or after `at`.
    SubscribedAfter {
        /// The moment (a date means its start, UTC).
        at: DateTime<Utc>,
        /// Only subscriptions to this list count.
        list: Option<L>,
    },
    /// The relay accepted the campaign's message to the person.
    Received(CampaignId),
}

/// What an attribute condition tests. Values of another type than the test's never match
/// (`gt 5` does not match the text `"7"`), so a filter means the same on every database.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeTest {
    /// The person has the attribute, whatever its value.
    Exists,
    /// The value equals this one (same type; text compared exactly).
    Eq(Scalar),
    /// Not `Eq`: also true for a person without the attribute.
    Ne(Scalar),
    /// The value is text that contains this text (case-sensitive).
    Contains(String),
    /// The value is greater than this number, or a date after this date.
    Gt(Bound),
    /// The value is less than this number, or a date before this date.
    Lt(Bound),
}

/// A value an attribute can equal.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// Text (dates are text `YYYY-MM-DD`).
    Text(String),
    /// A finite number.
    Number(f64),
    /// Yes or no.
    Bool(bool),
}

/// A value attributes are ordered against.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    /// A finite number: matches number attributes.
    Number(f64),
    /// A date `YYYY-MM-DD`: matches text attributes shaped as a date.
    Date(String),
}

/// A part of a filter the rules refuse: where (`filter.all[1].op`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct FilterError {
    /// Where in the filter, from `filter`.
    pub path: String,
    /// What is wrong, in plain words.
    pub problem: String,
}

impl FilterError {
    fn new(path: &str, problem: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            problem: problem.into(),
        }
    }
}

/// What the plain evaluation knows of one person.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonFacts {
    /// The person's attributes.
    pub attributes: Attributes,
    /// The person's language.
    pub locale: Locale,
    /// Confirmed subscriptions: the list and when it was confirmed.
    pub confirmed: Vec<(ListId, Option<DateTime<Utc>>)>,
    /// Campaigns whose message the relay accepted for the person.
    pub received: Vec<CampaignId>,
}

impl Filter<String> {
    /// Reads a filter from JSON, naming the first part it refuses.
    ///
    /// # Errors
    /// A part that is not a filter, an unknown operator, a value of the wrong type, an empty
    /// group, or a filter deeper or larger than the limits.
    pub fn parse(value: &Value) -> Result<Self, FilterError> {
        let mut parts = 0;
        parse_part(value, "filter", 0, &mut parts)
    }
}

impl<L> Filter<L> {
    /// The same filter with every list named by `resolve(name, path)`.
    ///
    /// # Errors
    /// The first error `resolve` gives.
    pub fn resolve<M, E>(
        self,
        resolve: &mut impl FnMut(L, &str) -> Result<M, E>,
    ) -> Result<Filter<M>, E> {
        self.resolve_at("filter", resolve)
    }

    fn resolve_at<M, E>(
        self,
        path: &str,
        resolve: &mut dyn FnMut(L, &str) -> Result<M, E>,
    ) -> Result<Filter<M>, E> {
        let mut group = |parts: Vec<Filter<L>>, name: &str| -> Result<Vec<Filter<M>>, E> {
            parts
                .into_iter()
                .enumerate()
                .map(|(i, p)| p.resolve_at(&format!("{path}.{name}[{i}]"), &mut *resolve))
                .collect()
        };
        Ok(match self {
            Self::All(parts) => Filter::All(group(parts, "all")?),
            Self::Any(parts) => Filter::Any(group(parts, "any")?),
            Self::Not(part) => {
                Filter::Not(Box::new(part.resolve_at(&format!("{path}.not"), resolve)?))
            }
            Self::Attribute { key, test } => Filter::Attribute { key, test },
            Self::Locale(l) => Filter::Locale(l),
            Self::List(l) => Filter::List(resolve(l, &format!("{path}.list"))?),
            Self::SubscribedBefore { at, list } => Filter::SubscribedBefore {
                at,
                list: list
                    .map(|l| resolve(l, &format!("{path}.list")))
                    .transpose()?,
            },
            Self::SubscribedAfter { at, list } => Filter::SubscribedAfter {
                at,
                list: list
                    .map(|l| resolve(l, &format!("{path}.list")))
                    .transpose()?,
            },
            Self::Received(c) => Filter::Received(c),
        })
    }

    /// Every list the filter names.
    pub fn lists(&self) -> Vec<&L> {
        let mut out = Vec::new();
        self.walk("filter", &mut |_, f| match f {
            Self::List(l)
            | Self::SubscribedBefore { list: Some(l), .. }
            | Self::SubscribedAfter { list: Some(l), .. } => out.push(l),
            _ => {}
        });
        out
    }

    /// Every campaign the filter names, with where (`filter.all[2].received`).
    pub fn campaigns(&self) -> Vec<(String, CampaignId)> {
        let mut out = Vec::new();
        self.walk("filter", &mut |path, f| {
            if let Self::Received(c) = f {
                out.push((format!("{path}.received"), *c));
            }
        });
        out
    }

    fn walk<'a>(&'a self, path: &str, visit: &mut impl FnMut(&str, &'a Self)) {
        visit(path, self);
        match self {
            Self::All(parts) | Self::Any(parts) => {
                let name = if matches!(self, Self::All(_)) {
                    "all"
                } else {
                    "any"
                };
                for (i, p) in parts.iter().enumerate() {
                    p.walk(&format!("{path}.{name}[{i}]"), visit);
                }
            }
            Self::Not(part) => part.walk(&format!("{path}.not"), visit),
            _ => {}
        }
    }

    /// The filter as JSON, each list written by `list`; [`Filter::parse`] reads it back.
    pub fn to_json(&self, list: &impl Fn(&L) -> Value) -> Value {
        match self {
            Self::All(parts) => {
                json!({"all": parts.iter().map(|p| p.to_json(list)).collect::<Vec<_>>()})
            }
            Self::Any(parts) => {
                json!({"any": parts.iter().map(|p| p.to_json(list)).collect::<Vec<_>>()})
            }
            Self::Not(part) => json!({"not": part.to_json(list)}),
            Self::Attribute { key, test } => {
                let mut out = Map::new();
                out.insert("attribute".into(), key.clone().into());
                out.insert("op".into(), test.op().into());
                if let Some(value) = test.value() {
                    out.insert("value".into(), value);
                }
                Value::Object(out)
            }
            Self::Locale(l) => json!({"locale": l.as_str()}),
            Self::List(l) => json!({"list": list(l)}),
            Self::SubscribedBefore { at, list: l } | Self::SubscribedAfter { at, list: l } => {
                let name = if matches!(self, Self::SubscribedBefore { .. }) {
                    "subscribed_before"
                } else {
                    "subscribed_after"
                };
                let mut out = Map::new();
                out.insert(name.into(), at.to_rfc3339().into());
                if let Some(l) = l {
                    out.insert("list".into(), list(l));
                }
                Value::Object(out)
            }
            Self::Received(c) => json!({"received": c.to_string()}),
        }
    }
}

impl Filter<ListId> {
    /// Whether the person the facts describe matches: the plain meaning of the filter, which
    /// the store's query must agree with.
    pub fn matches(&self, person: &PersonFacts) -> bool {
        match self {
            Self::All(parts) => parts.iter().all(|p| p.matches(person)),
            Self::Any(parts) => parts.iter().any(|p| p.matches(person)),
            Self::Not(part) => !part.matches(person),
            Self::Attribute { key, test } => test.matches(person.attributes.get(key)),
            Self::Locale(l) => person.locale == *l,
            Self::List(l) => person.confirmed.iter().any(|(list, _)| list == l),
            Self::SubscribedBefore { at, list } => person.confirmed.iter().any(|(l, when)| {
                list.is_none_or(|list| list == *l) && when.is_some_and(|w| w < *at)
            }),
            Self::SubscribedAfter { at, list } => person.confirmed.iter().any(|(l, when)| {
                list.is_none_or(|list| list == *l) && when.is_some_and(|w| w >= *at)
            }),
            Self::Received(c) => person.received.contains(c),
        }
    }
}

impl AttributeTest {
    /// The operator's name in JSON.
    pub fn op(&self) -> &'static str {
        match self {
            Self::Exists => "exists",
            Self::Eq(_) => "eq",
            Self::Ne(_) => "ne",
            Self::Contains(_) => "contains",
            Self::Gt(_) => "gt",
            Self::Lt(_) => "lt",
        }
    }

    /// The compared value in JSON, if the operator has one.
    pub fn value(&self) -> Option<Value> {
        Some(match self {
            Self::Exists => return None,
            Self::Eq(s) | Self::Ne(s) => s.to_json(),
            Self::Contains(t) => t.clone().into(),
            Self::Gt(b) | Self::Lt(b) => match b {
                Bound::Number(n) => json!(n),
                Bound::Date(d) => d.clone().into(),
            },
        })
    }

    /// Whether an attribute's value (`None`: the person has none) passes.
    pub fn matches(&self, value: Option<&Value>) -> bool {
        match self {
            Self::Exists => value.is_some(),
            Self::Eq(s) => value.is_some_and(|v| s.equals(v)),
            Self::Ne(s) => !value.is_some_and(|v| s.equals(v)),
            Self::Contains(t) => value
                .and_then(Value::as_str)
                .is_some_and(|v| v.contains(t.as_str())),
            Self::Gt(b) => value.is_some_and(|v| b.compare(v) == Some(std::cmp::Ordering::Greater)),
            Self::Lt(b) => value.is_some_and(|v| b.compare(v) == Some(std::cmp::Ordering::Less)),
        }
    }
}

impl Scalar {
    fn to_json(&self) -> Value {
        match self {
            Self::Text(t) => t.clone().into(),
            Self::Number(n) => json!(n),
            Self::Bool(b) => (*b).into(),
        }
    }

    fn equals(&self, value: &Value) -> bool {
        match (self, value) {
            (Self::Text(t), Value::String(v)) => t == v,
            (Self::Number(n), Value::Number(v)) => v.as_f64() == Some(*n),
            (Self::Bool(b), Value::Bool(v)) => b == v,
            _ => false,
        }
    }
}

impl Bound {
    /// How an attribute's value compares with the bound, if they are of one kind.
    fn compare(&self, value: &Value) -> Option<std::cmp::Ordering> {
        match (self, value) {
            (Self::Number(n), Value::Number(v)) => v.as_f64()?.partial_cmp(n),
            (Self::Date(d), Value::String(v)) if date_shaped(v) => Some(v.as_str().cmp(d)),
            _ => None,
        }
    }
}

/// Whether text has the shape of a date, `dddd-dd-dd`: such text orders as its dates do. The
/// store tests the same shape, not the calendar, so both agree on text like `2026-02-30`.
pub fn date_shaped(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

/// A segment's name: trimmed, 1 to [`MAX_NAME_CHARS`] characters.
///
/// # Errors
/// An empty or too long name.
pub fn parse_name(raw: &str) -> Result<String, FilterError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FilterError::new("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(FilterError::new(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters, without control characters"),
        ));
    }
    Ok(name.to_owned())
}

const CONDITION_KEYS: &str = "all, any, not, attribute, locale, list, subscribed_before, \
                              subscribed_after or received";

fn parse_part(
    value: &Value,
    path: &str,
    depth: usize,
    parts: &mut usize,
) -> Result<Filter<String>, FilterError> {
    *parts += 1;
    if *parts > MAX_PARTS {
        return Err(FilterError::new(
            path,
            format!("a filter has at most {MAX_PARTS} conditions and groups"),
        ));
    }
    let Value::Object(object) = value else {
        return Err(FilterError::new(
            path,
            format!("must be an object with one of {CONDITION_KEYS}"),
        ));
    };
    let kind = ["all", "any", "not"]
        .into_iter()
        .chain([
            "attribute",
            "locale",
            "subscribed_before",
            "subscribed_after",
        ])
        .chain(["received", "list"])
        .find(|k| object.contains_key(*k))
        .ok_or_else(|| FilterError::new(path, format!("must have one of {CONDITION_KEYS}")))?;
    let allowed: &[&str] = match kind {
        "attribute" => &["attribute", "op", "value"],
        "subscribed_before" | "subscribed_after" => &[kind, "list"],
        _ => &[kind],
    };
    if let Some(extra) = object.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(FilterError::new(
            &format!("{path}.{extra}"),
            format!("is not allowed beside {kind:?}"),
        ));
    }
    let at = |key: &str| format!("{path}.{key}");
    let field = &object[kind];
    match kind {
        "all" | "any" | "not" if depth >= MAX_DEPTH => Err(FilterError::new(
            &at(kind),
            format!("groups nest at most {MAX_DEPTH} deep"),
        )),
        "all" | "any" => {
            let Value::Array(items) = field else {
                return Err(FilterError::new(&at(kind), "must be a list of conditions"));
            };
            if items.is_empty() {
                return Err(FilterError::new(&at(kind), "needs at least one condition"));
            }
            let parsed = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_part(item, &format!("{path}.{kind}[{i}]"), depth + 1, parts))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if kind == "all" {
                Filter::All(parsed)
            } else {
                Filter::Any(parsed)
            })
        }
        "not" => Ok(Filter::Not(Box::new(parse_part(
            field,
            &at("not"),
            depth + 1,
            parts,
        )?))),
        "attribute" => parse_attribute(object, path),
        "locale" => {
            let text = field
                .as_str()
                .ok_or_else(|| FilterError::new(&at("locale"), "must be a language code"))?;
            Locale::parse(text)
                .map(Filter::Locale)
                .map_err(|e| FilterError::new(&at("locale"), e))
        }
        "list" => parse_list(field, &at("list")).map(Filter::List),
        "subscribed_before" | "subscribed_after" => {
            let moment = parse_moment(field, &at(kind))?;
            let list = object
                .get("list")
                .map(|l| parse_list(l, &at("list")))
                .transpose()?;
            Ok(if kind == "subscribed_before" {
                Filter::SubscribedBefore { at: moment, list }
            } else {
                Filter::SubscribedAfter { at: moment, list }
            })
        }
        _ => {
            let id = field
                .as_str()
                .and_then(|t| uuid::Uuid::parse_str(t).ok())
                .ok_or_else(|| FilterError::new(&at("received"), "must be a campaign id"))?;
            Ok(Filter::Received(CampaignId::from_uuid(id)))
        }
    }
}

fn parse_list(value: &Value, path: &str) -> Result<String, FilterError> {
    match value.as_str().map(str::trim) {
        Some(name) if !name.is_empty() && name.len() <= 100 => Ok(name.to_owned()),
        _ => Err(FilterError::new(path, "must name a list by its slug or id")),
    }
}

fn parse_moment(value: &Value, path: &str) -> Result<DateTime<Utc>, FilterError> {
    let text = value.as_str().unwrap_or_default();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            FilterError::new(
                path,
                "must be a date (YYYY-MM-DD) or a moment (RFC 3339, 2026-01-31T12:00:00Z)",
            )
        })
}

fn parse_attribute(object: &Map<String, Value>, path: &str) -> Result<Filter<String>, FilterError> {
    let key = object["attribute"]
        .as_str()
        .filter(|k| attributes::valid_key(k))
        .ok_or_else(|| {
            FilterError::new(
                &format!("{path}.attribute"),
                "must be an attribute key: 1 to 40 of a-z, 0-9 and _",
            )
        })?
        .to_owned();
    let op_path = format!("{path}.op");
    let op = object.get("op").and_then(Value::as_str).ok_or_else(|| {
        FilterError::new(&op_path, "is required: eq, ne, contains, gt, lt or exists")
    })?;
    let value_path = format!("{path}.value");
    let value = object.get("value");
    let needs = |what: &str| FilterError::new(&value_path, format!("must be {what} for {op:?}"));
    let test = match op {
        "exists" => match value {
            None => AttributeTest::Exists,
            Some(_) => {
                return Err(FilterError::new(&value_path, "is not used with \"exists\""));
            }
        },
        "eq" | "ne" => {
            let scalar = match value {
                Some(Value::String(t)) => Scalar::Text(text_value(t, &value_path)?),
                Some(Value::Bool(b)) => Scalar::Bool(*b),
                Some(Value::Number(n)) => {
                    Scalar::Number(finite(n).ok_or_else(|| needs("a finite number"))?)
                }
                _ => return Err(needs("text, a number or true/false")),
            };
            if op == "eq" {
                AttributeTest::Eq(scalar)
            } else {
                AttributeTest::Ne(scalar)
            }
        }
        "contains" => match value {
            Some(Value::String(t)) if !t.is_empty() => {
                AttributeTest::Contains(text_value(t, &value_path)?)
            }
            _ => return Err(needs("non-empty text")),
        },
        "gt" | "lt" => {
            let bound = match value {
                Some(Value::Number(n)) => {
                    Bound::Number(finite(n).ok_or_else(|| needs("a finite number"))?)
                }
                Some(Value::String(t)) if attributes::is_date(t) => Bound::Date(t.clone()),
                _ => return Err(needs("a number or a date (YYYY-MM-DD)")),
            };
            if op == "gt" {
                AttributeTest::Gt(bound)
            } else {
                AttributeTest::Lt(bound)
            }
        }
        other => {
            return Err(FilterError::new(
                &op_path,
                format!("must be one of eq, ne, contains, gt, lt, exists; got {other:?}"),
            ));
        }
    };
    Ok(Filter::Attribute { key, test })
}

fn finite(n: &serde_json::Number) -> Option<f64> {
    n.as_f64().filter(|f| f.is_finite())
}

fn text_value(text: &str, path: &str) -> Result<String, FilterError> {
    if text.chars().count() > attributes::MAX_TEXT_CHARS {
        return Err(FilterError::new(
            path,
            format!("must be at most {} characters", attributes::MAX_TEXT_CHARS),
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Filter<String>, FilterError> {
        Filter::parse(&v)
    }

    fn person(attrs: Value) -> PersonFacts {
        PersonFacts {
            attributes: Attributes::from_json(&attrs).unwrap(),
            ..PersonFacts::default()
        }
    }

    fn resolved(v: Value) -> Filter<ListId> {
        parse(v)
            .unwrap()
            .resolve(&mut |_, _| Ok::<_, ()>(ListId::from_uuid(uuid::Uuid::nil())))
            .unwrap()
    }

    #[test]
    fn refusals_name_the_part() {
        let cases = [
            (json!([]), "filter"),
            (json!({"all": []}), "filter.all"),
            (json!({"all": [{"locale": "xx"}]}), "filter.all[0].locale"),
            (
                json!({"any": [{"locale": "de"}, {"attribute": "Plan", "op": "eq", "value": 1}]}),
                "filter.any[1].attribute",
            ),
            (
                json!({"attribute": "plan", "op": "like", "value": "x"}),
                "filter.op",
            ),
            (
                json!({"attribute": "plan", "op": "gt", "value": "x"}),
                "filter.value",
            ),
            (
                json!({"attribute": "plan", "op": "exists", "value": 1}),
                "filter.value",
            ),
            (json!({"not": {"received": "nope"}}), "filter.not.received"),
            (json!({"locale": "de", "list": "news"}), "filter.list"),
            (
                json!({"subscribed_after": "2026-13-01"}),
                "filter.subscribed_after",
            ),
            (json!({"list": ""}), "filter.list"),
            (json!({"colour": "red"}), "filter"),
        ];
        for (input, path) in cases {
            let err = parse(input.clone()).unwrap_err();
            assert_eq!(err.path, path, "{input}: {err}");
        }
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let mut deep = json!({"locale": "de"});
        for _ in 0..=MAX_DEPTH {
            deep = json!({"not": deep});
        }
        assert!(parse(deep).unwrap_err().problem.contains("deep"));
        let wide = json!({"any": vec![json!({"locale": "de"}); MAX_PARTS]});
        assert!(parse(wide).unwrap_err().problem.contains("at most"));
    }

    #[test]
    fn attribute_tests_compare_only_values_of_their_type() {
        let p = person(json!({"plan": "pro", "seats": 12, "paid": true, "renews": "2027-01-31"}));
        let yes = [
            json!({"attribute": "plan", "op": "eq", "value": "pro"}),
            json!({"attribute": "plan", "op": "contains", "value": "r"}),
            json!({"attribute": "seats", "op": "gt", "value": 11.5}),
            json!({"attribute": "seats", "op": "eq", "value": 12}),
            json!({"attribute": "paid", "op": "eq", "value": true}),
            json!({"attribute": "renews", "op": "gt", "value": "2026-12-31"}),
            json!({"attribute": "missing", "op": "ne", "value": "x"}),
            json!({"attribute": "seats", "op": "ne", "value": "12"}),
            json!({"attribute": "plan", "op": "exists"}),
        ];
        let no = [
            json!({"attribute": "plan", "op": "eq", "value": "Pro"}),
            json!({"attribute": "seats", "op": "gt", "value": 12}),
            json!({"attribute": "plan", "op": "gt", "value": 1}),
            json!({"attribute": "seats", "op": "eq", "value": "12"}),
            json!({"attribute": "renews", "op": "lt", "value": "2027-01-31"}),
            json!({"attribute": "missing", "op": "exists"}),
            json!({"attribute": "missing", "op": "lt", "value": 5}),
        ];
        for f in yes {
            assert!(resolved(f.clone()).matches(&p), "{f}");
        }
        for f in no {
            assert!(!resolved(f.clone()).matches(&p), "{f}");
        }
    }

    #[test]
    fn written_filters_read_back_the_same() {
        let input = json!({"all": [
            {"attribute": "plan", "op": "eq", "value": "pro"},
            {"not": {"any": [{"locale": "de"}, {"list": "news"}]}},
            {"subscribed_after": "2026-01-01", "list": "news"},
            {"subscribed_before": "2026-06-01T12:00:00Z"},
            {"received": "0192e4c4-7d2a-7000-8000-000000000000"},
            {"attribute": "seats", "op": "lt", "value": 5},
            {"attribute": "x", "op": "exists"}
        ]});
        let filter = parse(input).unwrap();
        let written = filter.to_json(&|l| Value::String(l.clone()));
        assert_eq!(parse(written).unwrap(), filter);
        assert_eq!(filter.lists(), vec!["news", "news"]);
        assert_eq!(filter.campaigns()[0].0, "filter.all[4].received");
    }

    #[test]
    fn subscription_dates_split_at_the_moment() {
        let list = ListId::from_uuid(uuid::Uuid::nil());
        let at = Utc::now();
        let p = PersonFacts {
            confirmed: vec![(list, Some(at))],
            ..PersonFacts::default()
        };
        let before = Filter::SubscribedBefore {
            at,
            list: Some(list),
        };
        let after = Filter::SubscribedAfter { at, list: None };
        assert!(!before.matches(&p));
        assert!(after.matches(&p));
    }
}
