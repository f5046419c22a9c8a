//! Mailing lists: kind, legal basis, opt-in rule and visibility, and the rule that ties them.

use super::{ConsentText, EmailAddress, LegalBasis, ListId, ListSlug, Locale};

/// What a list is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKind {
    /// A consent-based newsletter.
    Newsletter,
    /// Tech News / release notes.
    TechNews,
    /// Product change and discontinuation notices.
    ProductNotices,
}

super::text_enum!(ListKind, "kind", {
    Newsletter => "newsletter",
    TechNews => "tech_news",
    ProductNotices => "product_notices",
});

/// How a subscription becomes active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptIn {
    /// The address owner confirms by an e-mailed link.
    Double,
    /// No confirmation (legitimate-interest enrolment).
    None,
}

super::text_enum!(OptIn, "opt_in", { Double => "double", None => "none" });

/// Whether the public signup page offers the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ListVisibility {
    /// Anyone can sign up.
    #[default]
    Public,
    /// Not offered for signup; subscriptions come from the operator.
    Private,
}

super::text_enum!(ListVisibility, "visibility", { Public => "public", Private => "private" });

/// Why a list definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// GDPR Art. 7(1): consent must be provable, so consent lists confirm by e-mail.
    #[error("a list with legal_basis \"consent\" must have opt_in \"double\"")]
    ConsentNeedsDoubleOptIn,
    /// The name is empty or too long.
    #[error("name must be 1 to 200 characters")]
    BadName,
    /// A text field is too long.
    #[error("{0} is too long (at most 10000 characters)")]
    TooLong(&'static str),
}

/// A list as it is defined by the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewList {
    /// Public short name.
    pub slug: ListSlug,
    /// Display name.
    pub name: String,
    /// Longer description shown on the signup page.
    pub description: String,
    /// What the list is for.
    pub kind: ListKind,
    /// Legal basis of processing.
    pub legal_basis: LegalBasis,
    /// Confirmation rule.
    pub opt_in: OptIn,
    /// Signup visibility.
    pub visibility: ListVisibility,
    /// Operator-written consent text; `None` uses Bulletin's default wording.
    pub consent_text: Option<String>,
    /// Operator-written welcome paragraph; `None` sends no welcome e-mail.
    pub welcome_message: Option<String>,
    /// Where replies to the list's mail go (`Reply-To`); `None`: `mail.reply_to`, if set.
    pub reply_to: Option<EmailAddress>,
}

const MAX_TEXT: usize = 10_000;

impl NewList {
    /// Checks the rules that tie the fields together.
    ///
    /// # Errors
    /// A consent list without double opt-in, a bad name or over-long texts.
    pub fn validate(&self) -> Result<(), ListError> {
        if self.legal_basis == LegalBasis::Consent && self.opt_in != OptIn::Double {
            return Err(ListError::ConsentNeedsDoubleOptIn);
        }
        let name_len = self.name.trim().chars().count();
        if name_len == 0 || name_len > 200 {
            return Err(ListError::BadName);
        }
        let too_long = |s: &Option<String>| s.as_ref().is_some_and(|t| t.len() > MAX_TEXT);
        if self.description.len() > MAX_TEXT {
            return Err(ListError::TooLong("description"));
        }
        if too_long(&self.consent_text) {
            return Err(ListError::TooLong("consent_text"));
        }
        if too_long(&self.welcome_message) {
            return Err(ListError::TooLong("welcome_message"));
        }
        Ok(())
    }
}

/// A stored list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct MailingList {
    pub id: ListId,
    /// Its definition.
    pub def: NewList,
    /// When it was archived: it then takes no signups and no new campaigns.
    pub archived_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl MailingList {
    /// The consent text shown for this list in `locale`: the operator's, or the default wording.
    pub fn consent_text(&self, locale: Locale) -> ConsentText {
        if let Some(text) = &self.def.consent_text {
            return ConsentText::new(text.clone());
        }
        let name = &self.def.name;
        ConsentText::new(match locale {
            Locale::De => format!(
                "Ja, ich m\u{f6}chte \u{201e}{name}\u{201c} per E-Mail erhalten. \
                 Ich kann meine Einwilligung jederzeit \u{fc}ber den Link in jeder E-Mail widerrufen."
            ),
            // An operator's language: English until the list is given its own consent text.
            _ => format!(
                "Yes, I would like to receive \u{201c}{name}\u{201d} by e-mail. \
                 I can withdraw my consent at any time with the link in every e-mail."
            ),
        })
    }

    /// Whether the public signup page takes signups for this list.
    pub fn is_open_for_signup(&self) -> bool {
        self.def.visibility == ListVisibility::Public
            && self.def.legal_basis == LegalBasis::Consent
            && self.archived_at.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(basis: LegalBasis, opt_in: OptIn) -> NewList {
        NewList {
            slug: ListSlug::parse("news").unwrap(),
            name: "News".into(),
            description: String::new(),
            kind: ListKind::Newsletter,
            legal_basis: basis,
            opt_in,
            visibility: ListVisibility::Public,
            consent_text: None,
            welcome_message: None,
            reply_to: None,
        }
    }

    #[test]
    fn consent_lists_need_double_opt_in() {
        assert_eq!(
            list(LegalBasis::Consent, OptIn::None).validate(),
            Err(ListError::ConsentNeedsDoubleOptIn)
        );
        assert!(list(LegalBasis::Consent, OptIn::Double).validate().is_ok());
        assert!(
            list(LegalBasis::LegitimateInterest, OptIn::None)
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn default_consent_text_depends_on_the_locale() {
        let l = MailingList {
            id: ListId::new(),
            def: list(LegalBasis::Consent, OptIn::Double),
            archived_at: None,
        };
        assert_ne!(
            l.consent_text(Locale::En).hash(),
            l.consent_text(Locale::De).hash()
        );
        assert!(l.consent_text(Locale::De).body().contains("News"));
    }
}
