//! `Locale`: the languages Bulletin speaks to people, and how one is chosen. English and
//! German are built in; an operator adds more at start (`Locale::register`), never later.

use std::sync::{PoisonError, RwLock};

/// A language of public pages and system e-mails: English, German, or one the operator
/// registered at start.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Locale(u8);

/// The codes of the registered languages beyond the built-in two, in order of registration;
/// `Locale(2)` is the first of them.
// Process-wide on purpose: a language registered at start must parse everywhere (API
// bodies, database rows, headers, CLI input) without threading a registry through each
// signature. It only grows, and only while starting.
static EXTRA: RwLock<Vec<&'static str>> = RwLock::new(Vec::new());

/// The codes of the built-in languages, by index.
const BUILT_IN: [&str; 2] = ["en", "de"];

/// A language code that cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocaleError {
    /// Not two or three lower-case ASCII letters.
    #[error("a language code is two or three lower-case letters (ISO 639); got {0:?}")]
    BadCode(String),
    /// The registry holds as many languages as a `Locale` can name.
    #[error("cannot register {0:?}: too many languages")]
    TooMany(String),
}

impl Locale {
    /// English, the fallback.
    #[expect(
        non_upper_case_globals,
        reason = "reads like the enum variant it replaced, at some 90 call sites"
    )]
    pub const En: Locale = Locale(0);

    /// German.
    #[expect(
        non_upper_case_globals,
        reason = "reads like the enum variant it replaced, at some 90 call sites"
    )]
    pub const De: Locale = Locale(1);

    /// Every registered locale: English, German, then the operator's in order of registration.
    pub fn all() -> Vec<Locale> {
        let extra = EXTRA.read().unwrap_or_else(PoisonError::into_inner).len();
        (0..BUILT_IN.len() + extra)
            .filter_map(|i| u8::try_from(i).ok())
            .map(Locale)
            .collect()
    }

    /// The codes of every registered locale, comma-separated, for messages: `en, de, fr`.
    pub fn codes() -> String {
        let extra = EXTRA.read().unwrap_or_else(PoisonError::into_inner);
        let codes: Vec<&str> = BUILT_IN.iter().chain(extra.iter()).copied().collect();
        codes.join(", ")
    }

    /// Whether this is one of the languages compiled into Bulletin (English or German).
    pub fn is_built_in(self) -> bool {
        usize::from(self.0) < BUILT_IN.len()
    }

    /// Registers the language `code` (ISO 639, such as `fr`) and returns its locale; a code
    /// already registered returns the same locale again.
    ///
    /// # Errors
    /// A code that is not two or three lower-case ASCII letters, or a full registry.
    pub fn register(code: &str) -> Result<Locale, LocaleError> {
        if !Self::is_code(code) {
            return Err(LocaleError::BadCode(code.to_owned()));
        }
        if let Ok(known) = Self::parse(code) {
            return Ok(known);
        }
        let mut extra = EXTRA.write().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have registered it since the read above.
        if let Some(i) = extra.iter().position(|c| *c == code) {
            return Ok(Self::from_index(BUILT_IN.len() + i));
        }
        let index = u8::try_from(BUILT_IN.len() + extra.len())
            .map_err(|_| LocaleError::TooMany(code.to_owned()))?;
        // Leaked once per language and process: the code must outlive every `Locale`.
        extra.push(Box::leak(code.to_owned().into_boxed_str()));
        Ok(Locale(index))
    }

    /// Whether `raw` has the form of a language code: two or three lower-case ASCII letters.
    pub fn is_code(raw: &str) -> bool {
        (2..=3).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_lowercase())
    }

    fn from_index(index: usize) -> Locale {
        Locale(u8::try_from(index).unwrap_or(0))
    }

    /// The stable text form used in the database and the API (`en`, `de`, `fr`, …).
    pub fn as_str(self) -> &'static str {
        let index = usize::from(self.0);
        if let Some(code) = BUILT_IN.get(index) {
            return code;
        }
        EXTRA
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(index - BUILT_IN.len())
            .copied()
            .unwrap_or(BUILT_IN[0])
    }

    /// Parses the stable text form of a registered locale.
    ///
    /// # Errors
    /// An unknown text gives a message that lists the accepted values.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(i) = BUILT_IN.iter().position(|c| *c == raw) {
            return Ok(Self::from_index(i));
        }
        let extra = EXTRA.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = extra.iter().position(|c| *c == raw) {
            return Ok(Self::from_index(BUILT_IN.len() + i));
        }
        drop(extra);
        Err(format!(
            "locale must be one of {}; got {raw:?}",
            Self::codes()
        ))
    }

    /// The registered locale for a language tag such as `de-AT`, if any.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Self::parse(&primary).ok()
    }

    /// The best registered locale for an `Accept-Language` header (RFC 9110 §12.5.4).
    pub fn negotiate(accept_language: &str) -> Self {
        let mut best: Option<(f32, Locale)> = None;
        for part in accept_language.split(',').take(20) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("");
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(locale) = Self::from_tag(tag)
                && quality > 0.0
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, locale));
            }
        }
        best.map_or(Self::En, |(_, l)| l)
    }
}

impl std::str::FromStr for Locale {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl std::fmt::Debug for Locale {
    /// `En`, `De`, `Fr`: the code with a capital, as the enum it replaced printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut chars = self.as_str().chars();
        if let Some(first) = chars.next() {
            write!(f, "{}", first.to_ascii_uppercase())?;
        }
        f.write_str(chars.as_str())
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Locale {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Locale {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(Locale::negotiate("de-DE,de;q=0.9,en;q=0.8"), Locale::De);
        assert_eq!(Locale::negotiate("ko, en;q=0.5, de;q=0.7"), Locale::De);
        assert_eq!(Locale::negotiate("ko"), Locale::En);
        assert_eq!(Locale::negotiate("de;q=0"), Locale::En);
        assert_eq!(Locale::negotiate(""), Locale::En);
    }

    #[test]
    fn a_registered_language_parses_prints_and_negotiates() {
        // "nl" is the only extra language the unit tests register; "ko" stays unknown.
        let nl = Locale::register("nl").unwrap();
        assert_eq!(
            Locale::register("nl"),
            Ok(nl),
            "registering again is a no-op"
        );
        assert_eq!(Locale::register("en"), Ok(Locale::En));
        assert!(!nl.is_built_in() && Locale::De.is_built_in());
        assert_eq!(nl.as_str(), "nl");
        assert_eq!(Locale::parse("nl"), Ok(nl));
        assert_eq!(format!("{nl:?}"), "Nl");
        assert!(Locale::all().contains(&nl));
        assert_eq!(Locale::all()[..2], [Locale::En, Locale::De]);
        assert_eq!(Locale::negotiate("nl-BE, en;q=0.5"), nl);
        assert_eq!(serde_json::to_string(&nl).unwrap(), "\"nl\"");
        assert!(
            nl > Locale::De,
            "BTreeMaps list the built-in languages first"
        );
    }

    #[test]
    fn a_bad_code_is_refused_and_an_unknown_one_names_the_choices() {
        for bad in ["", "f", "fren", "FR", "f1", "../x"] {
            assert!(Locale::register(bad).is_err(), "{bad}");
        }
        let err = Locale::parse("ko").unwrap_err();
        assert!(err.starts_with("locale must be one of en, de"), "{err}");
    }
}
