//! Admin users: who may log in to `/admin/`, and the rules for their passwords.

use chrono::{DateTime, Utc};

use super::{EmailAddress, Role, ids::UserId};

/// A user of the admin UI.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct User {
    pub id: UserId,
    /// The login address.
    pub email: EmailAddress,
    /// What the user may do.
    pub role: Role,
    /// Since when the user may not log in or use their tokens; `None` while active.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Whether the user logs in with a one-time code (TOTP) besides the password.
    pub two_factor: bool,
    /// The zone the admin UI shows and reads times in (times are stored in UTC).
    pub time_zone: chrono_tz::Tz,
    /// The language the admin UI speaks to the user.
    pub locale: super::Locale,
}

/// A time zone name that is not in the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("choose a time zone from the list (an IANA name such as Europe/Berlin)")]
pub struct TimeZoneError;

/// An IANA time zone name (`Europe/Berlin`, `UTC`) as a zone.
///
/// # Errors
/// `TimeZoneError` for a name the IANA database does not know.
pub fn parse_time_zone(raw: &str) -> Result<chrono_tz::Tz, TimeZoneError> {
    raw.trim().parse().map_err(|_| TimeZoneError)
}

impl User {
    /// Whether the user may log in and use their API tokens.
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }

    /// Whether the user counts as an admin who can still act (an active admin).
    pub fn is_active_admin(&self) -> bool {
        self.is_active() && self.role.is_admin()
    }
}

/// A password as typed: at least 12 and at most 1,024 characters.
#[derive(Clone)]
pub struct Password(String);

/// Why a password is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than 12 characters.
    #[error("the password must have at least {MIN_CHARS} characters")]
    TooShort,
    /// More than 1,024 characters (hashing cost is bounded).
    #[error("the password must have at most {MAX_CHARS} characters")]
    TooLong,
}

const MIN_CHARS: usize = 12;
const MAX_CHARS: usize = 1024;

impl Password {
    /// Checks the length rules (NIST SP 800-63B §5.1.1: length, no composition rules).
    ///
    /// # Errors
    /// `TooShort` or `TooLong`.
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        match raw.chars().count() {
            n if n < MIN_CHARS => Err(PasswordError::TooShort),
            n if n > MAX_CHARS => Err(PasswordError::TooLong),
            _ => Ok(Self(raw.to_owned())),
        }
    }

    /// The password text, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_twelve_to_1024_characters() {
        assert_eq!(
            Password::parse("short").err(),
            Some(PasswordError::TooShort)
        );
        assert!(Password::parse("twelve chars").is_ok());
        assert!(Password::parse("äöüäöüäöüäöü").is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(1025)).err(),
            Some(PasswordError::TooLong)
        );
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let p = Password::parse("correct horse battery").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
