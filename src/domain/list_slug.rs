//! `ListSlug`: the short, URL-safe public name of a list (`list` form field).

/// Lower-case letters, digits and hyphens; 1 to 64 characters; starts with a letter or digit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct ListSlug(String);

/// Why a slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "A list slug is 1 to 64 lower-case letters, digits or hyphens, starting with a letter or digit."
)]
pub struct ListSlugError;

impl ListSlug {
    /// Checks a slug.
    ///
    /// # Errors
    /// Anything but 1–64 of `[a-z0-9-]` starting with `[a-z0-9]`.
    pub fn parse(raw: &str) -> Result<Self, ListSlugError> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !raw.starts_with('-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ListSlugError)
        }
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<ListSlug> for String {
    fn from(value: ListSlug) -> Self {
        value.0
    }
}

impl<'de> serde::Deserialize<'de> for ListSlug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs_are_checked() {
        assert!(ListSlug::parse("weekly-news").is_ok());
        for bad in ["", "-x", "Weekly", "a b", "ä", &"a".repeat(65)] {
            assert!(ListSlug::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_is_stable(raw in "\\PC{0,70}") {
            if let Ok(s) = ListSlug::parse(&raw) {
                prop_assert_eq!(ListSlug::parse(s.as_str()), Ok(s));
            }
        }
    }
}
