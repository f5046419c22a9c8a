//! `EmailAddress`: a normalised, syntactically valid address, parsed once at the edge.

/// A normalised (trimmed, lower-case), syntactically valid e-mail address.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub struct EmailAddress(String);

/// Why a text is not an acceptable e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailAddressError {
    /// Nothing was given.
    #[error("Please enter an e-mail address.")]
    Empty,
    /// Longer than RFC 5321 allows.
    #[error("The e-mail address is too long (at most 254 characters).")]
    TooLong,
    /// Not of the form local@domain.
    #[error("This does not look like an e-mail address.")]
    Invalid,
}

/// RFC 5321 §4.5.3.1.3: a path holds at most 256 octets, so an address at most 254.
const MAX_LEN: usize = 254;

impl EmailAddress {
    /// Trims, lower-cases and checks an address typed by a person or sent by a client.
    ///
    /// # Errors
    /// Empty, over-long or malformed input.
    pub fn parse(raw: &str) -> Result<Self, EmailAddressError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailAddressError::Empty);
        }
        if trimmed.len() > MAX_LEN {
            return Err(EmailAddressError::TooLong);
        }
        let normalised = trimmed.to_lowercase();
        let plain = normalised
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && !"<>()[],;:\"\\".contains(c));
        let Some((local, domain)) = normalised.rsplit_once('@') else {
            return Err(EmailAddressError::Invalid);
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.starts_with('-');
        if !plain
            || local.is_empty()
            || !domain_ok
            || !email_address::EmailAddress::is_valid(&normalised)
        {
            return Err(EmailAddressError::Invalid);
        }
        Ok(Self(normalised))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl std::fmt::Debug for EmailAddress {
    /// Redacted (`j***@e***.com`), so an address never lands in a log by accident.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (local, domain) = self.0.rsplit_once('@').unwrap_or(("", ""));
        let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
        let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
        write!(f, "{}***@{}***.{}", first(local), first(host), tld)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let a = EmailAddress::parse("  Jane.Doe@Example.COM ").unwrap();
        assert_eq!(a.as_str(), "jane.doe@example.com");
        assert_eq!(a.domain(), "example.com");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for raw in [
            "",
            "   ",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "Jane <j@example.com>",
            "a@example.com\r\nBcc: x@y.z",
            "a@.example.com",
        ] {
            assert!(EmailAddress::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn over_long_addresses_are_refused() {
        let raw = format!("{}@example.com", "a".repeat(250));
        assert_eq!(EmailAddress::parse(&raw), Err(EmailAddressError::TooLong));
    }

    #[test]
    fn debug_output_is_redacted() {
        let a = EmailAddress::parse("jane@example.com").unwrap();
        assert_eq!(format!("{a:?}"), "j***@e***.com");
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in "\\PC{0,300}") {
            let _ = EmailAddress::parse(&raw);
        }

        #[test]
        fn parse_of_a_parsed_address_is_the_same(local in "[a-z0-9._%+-]{1,30}", host in "[a-z0-9]{1,20}", tld in "[a-z]{2,6}") {
            if let Ok(a) = EmailAddress::parse(&format!("{local}@{host}.{tld}")) {
                prop_assert_eq!(EmailAddress::parse(a.as_str()), Ok(a));
            }
        }
    }
}
