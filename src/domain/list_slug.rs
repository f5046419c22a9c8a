//! `ListSlug`: the short, URL-safe public name of a list (`list` form field), and
//! `ListRef`: a list as an API caller names it, by slug or by id.

use super::ListId;

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

/// A list as an API caller names it: by its slug or by its id, the same everywhere. A text
/// that is both (a slug of hex digits and hyphens shaped like a UUID) names the list that has
/// either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRef {
    raw: String,
    slug: Option<ListSlug>,
    id: Option<ListId>,
}

impl ListRef {
    /// Reads a slug or an id.
    ///
    /// # Errors
    /// Text that is neither a slug nor a UUID.
    pub fn parse(raw: &str) -> Result<Self, ListSlugError> {
        let id = uuid::Uuid::parse_str(raw).ok().map(ListId::from_uuid);
        let slug = ListSlug::parse(raw).ok();
        if id.is_none() && slug.is_none() {
            return Err(ListSlugError);
        }
        Ok(Self {
            raw: raw.to_owned(),
            slug,
            id,
        })
    }

    /// The slug, if the text is one.
    pub fn slug(&self) -> Option<&ListSlug> {
        self.slug.as_ref()
    }

    /// The id, if the text is one.
    pub fn id(&self) -> Option<ListId> {
        self.id
    }

    /// Whether this names the list with `id` and `slug`.
    pub fn names(&self, id: ListId, slug: &ListSlug) -> bool {
        self.id == Some(id) || self.slug.as_ref() == Some(slug)
    }

    /// The text as the caller gave it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl From<ListSlug> for ListRef {
    fn from(slug: ListSlug) -> Self {
        Self {
            raw: slug.as_str().to_owned(),
            id: None,
            slug: Some(slug),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_list_is_named_by_slug_or_id() {
        let id = ListId::new();
        let slug = ListSlug::parse("weekly").unwrap();
        assert!(ListRef::parse("weekly").unwrap().names(id, &slug));
        assert!(ListRef::parse(&id.to_string()).unwrap().names(id, &slug));
        assert!(!ListRef::parse("monthly").unwrap().names(id, &slug));
        assert!(ListRef::parse("Weekly News").is_err());
    }

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
