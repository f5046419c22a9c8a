//! `SubscriberName`: the optional name a person gives at signup.

/// A trimmed name of at most 100 characters without control characters; may be empty.
#[derive(Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(into = "String")]
pub struct SubscriberName(String);

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriberNameError {
    /// Longer than 100 characters.
    #[error("The name is too long (at most 100 characters).")]
    TooLong,
    /// Holds control characters such as line breaks.
    #[error("The name contains characters that are not allowed.")]
    ForbiddenCharacters,
}

const MAX_CHARS: usize = 100;

impl SubscriberName {
    /// Trims and checks a name.
    ///
    /// # Errors
    /// Over-long names and names with control characters.
    pub fn parse(raw: &str) -> Result<Self, SubscriberNameError> {
        let trimmed = raw.trim();
        if trimmed.chars().count() > MAX_CHARS {
            return Err(SubscriberNameError::TooLong);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(SubscriberNameError::ForbiddenCharacters);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<SubscriberName> for String {
    fn from(value: SubscriberName) -> Self {
        value.0
    }
}

impl std::fmt::Debug for SubscriberName {
    /// Redacted: only the first character and the length.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first = self.0.chars().next().map(String::from).unwrap_or_default();
        write!(f, "{first}***({})", self.0.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_trimmed_and_may_be_empty() {
        assert_eq!(SubscriberName::parse("  Jane ").unwrap().as_str(), "Jane");
        assert_eq!(SubscriberName::parse("").unwrap().as_str(), "");
    }

    #[test]
    fn long_names_and_line_breaks_are_refused() {
        assert_eq!(
            SubscriberName::parse(&"x".repeat(101)),
            Err(SubscriberNameError::TooLong)
        );
        assert_eq!(
            SubscriberName::parse("Jane\r\nBcc: a@b.c"),
            Err(SubscriberNameError::ForbiddenCharacters)
        );
    }

    proptest! {
        #[test]
        fn parse_is_stable(raw in "\\PC{0,120}") {
            if let Ok(n) = SubscriberName::parse(&raw) {
                prop_assert_eq!(SubscriberName::parse(n.as_str()), Ok(n));
            }
        }
    }
}
