//! `ConsentProof`: the evidence of an earlier consent that an import row or an API request
//! brings along (time, source, wording), and the rule of when it is required.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::{ConsentText, LegalBasis};

/// The longest `consent_source` kept (the ledger's `source` column).
const MAX_SOURCE_CHARS: usize = 200;
/// The longest `consent_text` kept, as for a list's own consent text.
const MAX_TEXT_CHARS: usize = 10_000;

/// Evidence of consent given elsewhere, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsentProof {
    /// When the person consented.
    pub consent_at: Option<DateTime<Utc>>,
    /// Where they consented (a form, a shop, a trade fair, …).
    pub source: Option<String>,
    /// The wording they agreed to.
    pub text: Option<ConsentText>,
}

/// Why the evidence of consent is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// GDPR Art. 7(1): a consent list must be able to show each consent.
    #[error("a consent list needs consent_at, consent_source and consent_text; missing: {0}")]
    Missing(String),
    /// `consent_at` is neither RFC 3339 nor `YYYY-MM-DD HH:MM:SS`.
    #[error("consent_at must be an RFC 3339 time or YYYY-MM-DD HH:MM:SS (UTC)")]
    BadTime,
    /// `consent_at` lies after the import.
    #[error("consent_at lies in the future")]
    FutureTime,
    /// `consent_at` lies before 1970: no e-mail consent is that old.
    #[error("consent_at lies before 1970")]
    AncientTime,
    /// A value holds a NUL character, which no text column keeps.
    #[error("{0} contains a NUL character")]
    Nul(&'static str),
    /// A value is longer than the ledger keeps.
    #[error("{0} is too long (at most {1} characters)")]
    TooLong(&'static str, usize),
}

impl ConsentProof {
    /// Parses the three raw values (empty means absent). On a `consent` list all three are
    /// required; on a `legitimate_interest` list they are optional but checked when given.
    ///
    /// # Errors
    /// Missing evidence on a consent list, a bad or future time, or over-long values.
    pub fn parse(
        basis: LegalBasis,
        consent_at: Option<&str>,
        source: Option<&str>,
        text: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self, ProofError> {
        let (consent_at, source, text) = (given(consent_at), given(source), given(text));
        if basis == LegalBasis::Consent {
            let missing: Vec<&str> = [
                ("consent_at", consent_at.is_none()),
                ("consent_source", source.is_none()),
                ("consent_text", text.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, absent)| absent.then_some(name))
            .collect();
            if !missing.is_empty() {
                return Err(ProofError::Missing(missing.join(", ")));
            }
        }
        let source = source.map(str::trim);
        if source.is_some_and(|s| s.contains('\0')) {
            return Err(ProofError::Nul("consent_source"));
        }
        if text.is_some_and(|t| t.contains('\0')) {
            return Err(ProofError::Nul("consent_text"));
        }
        if source.is_some_and(|s| s.chars().count() > MAX_SOURCE_CHARS) {
            return Err(ProofError::TooLong("consent_source", MAX_SOURCE_CHARS));
        }
        if text.is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS) {
            return Err(ProofError::TooLong("consent_text", MAX_TEXT_CHARS));
        }
        Ok(Self {
            consent_at: consent_at
                .map(|raw| parse_consent_at(raw, now))
                .transpose()?,
            source: source.map(str::to_owned),
            // The exact wording is hashed as given: it is what the person saw.
            text: text.map(ConsentText::new),
        })
    }

    /// The ledger's `source`: the given source, or `import`.
    pub fn source_or<'a>(&'a self, fallback: &'a str) -> &'a str {
        self.source.as_deref().unwrap_or(fallback)
    }

    /// The evidence as the ledger keeps it: `{"consent_at":…,"consent_source":…}` with the
    /// keys that were given, or `None` when nothing was.
    pub fn evidence(&self) -> Option<serde_json::Value> {
        let mut map = serde_json::Map::new();
        if let Some(at) = self.consent_at {
            map.insert(
                "consent_at".into(),
                at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                    .into(),
            );
        }
        if let Some(source) = &self.source {
            map.insert("consent_source".into(), source.clone().into());
        }
        (!map.is_empty()).then_some(serde_json::Value::Object(map))
    }
}

/// A value that is present and not blank.
fn given(value: Option<&str>) -> Option<&str> {
    value.filter(|s| !s.trim().is_empty())
}

/// Reads a consent time: RFC 3339 (any offset), or `YYYY-MM-DD HH:MM:SS` taken as UTC; it
/// must lie between 1970 and `now`.
///
/// # Errors
/// `BadTime`, `FutureTime` or `AncientTime`.
pub fn parse_consent_at(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ProofError> {
    let raw = raw.trim();
    let at = DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
        .map_err(|_| ProofError::BadTime)?;
    if at > now {
        return Err(ProofError::FutureTime);
    }
    if at < DateTime::UNIX_EPOCH {
        return Err(ProofError::AncientTime);
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn nul_characters_and_times_before_1970_are_refused() {
        let basis = LegalBasis::LegitimateInterest;
        let parse = |at, source, text| ConsentProof::parse(basis, at, source, text, now());
        assert_eq!(
            parse(None, Some("fair\0"), None),
            Err(ProofError::Nul("consent_source"))
        );
        assert_eq!(
            parse(None, None, Some("I agree\0")),
            Err(ProofError::Nul("consent_text"))
        );
        assert_eq!(
            parse_consent_at("-5000-01-01 00:00:00", now()),
            Err(ProofError::AncientTime)
        );
        assert_eq!(
            parse_consent_at("1969-12-31T23:59:59Z", now()),
            Err(ProofError::AncientTime)
        );
        assert!(parse_consent_at("1970-01-01T00:00:00Z", now()).is_ok());
    }

    #[test]
    fn consent_times_in_both_forms_are_read_as_utc() {
        let expected = Utc.with_ymd_and_hms(2025, 5, 1, 8, 30, 0).unwrap();
        for raw in [
            "2025-05-01T08:30:00Z",
            "2025-05-01T10:30:00+02:00",
            " 2025-05-01 08:30:00 ",
        ] {
            assert_eq!(parse_consent_at(raw, now()), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn bad_and_future_consent_times_are_refused() {
        for raw in ["yesterday", "2025-05-01", "01.05.2025 08:30", ""] {
            assert_eq!(
                parse_consent_at(raw, now()),
                Err(ProofError::BadTime),
                "{raw}"
            );
        }
        assert_eq!(
            parse_consent_at("2026-01-01T12:00:01Z", now()),
            Err(ProofError::FutureTime)
        );
    }

    #[test]
    fn consent_lists_need_all_three_values() {
        let err = ConsentProof::parse(
            LegalBasis::Consent,
            Some("2025-05-01T08:30:00Z"),
            Some("  "),
            None,
            now(),
        );
        assert_eq!(
            err,
            Err(ProofError::Missing("consent_source, consent_text".into()))
        );
    }

    #[test]
    fn legitimate_interest_lists_take_no_evidence_or_checked_evidence() {
        let none = ConsentProof::parse(LegalBasis::LegitimateInterest, None, None, None, now());
        assert_eq!(none, Ok(ConsentProof::default()));
        assert_eq!(none.unwrap().evidence(), None);
        let bad = ConsentProof::parse(
            LegalBasis::LegitimateInterest,
            Some("soon"),
            None,
            None,
            now(),
        );
        assert_eq!(bad, Err(ProofError::BadTime));
    }

    #[test]
    fn evidence_keeps_the_original_time_and_source() {
        let proof = ConsentProof::parse(
            LegalBasis::Consent,
            Some("2025-05-01 08:30:00"),
            Some(" shop checkout "),
            Some("Yes, send me news."),
            now(),
        )
        .unwrap();
        assert_eq!(
            proof.evidence(),
            Some(serde_json::json!({
                "consent_at": "2025-05-01T08:30:00Z",
                "consent_source": "shop checkout"
            }))
        );
        assert_eq!(proof.source_or("import"), "shop checkout");
        assert_eq!(
            proof.text.unwrap().hash(),
            ConsentText::new("Yes, send me news.").hash()
        );
    }

    #[test]
    fn over_long_sources_are_refused() {
        let long = "x".repeat(201);
        assert_eq!(
            ConsentProof::parse(
                LegalBasis::LegitimateInterest,
                None,
                Some(&long),
                None,
                now()
            ),
            Err(ProofError::TooLong("consent_source", 200))
        );
    }
}
