//! Product notices (JEDEC J-STD-046 PCN, J-STD-048 PDN, and Tech News): kinds, typed fields,
//! the rules that check them (the 90-day PCN rule among them), numbering and revisions, and
//! the acknowledgement state of one recipient. Pure; time is a parameter.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{CampaignId, ListKind, Locale, NoticeId, PartNumber};

/// What a notice announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// Product Change Notification (J-STD-046).
    Pcn,
    /// Product Discontinuation Notice, end of life (J-STD-048).
    Pdn,
    /// Tech News / release notes.
    TechNews,
}

super::text_enum!(NoticeKind, "kind", {
    Pcn => "pcn",
    Pdn => "pdn",
    TechNews => "tech_news",
});

impl NoticeKind {
    /// The kind of legitimate-interest list that carries this kind of notice.
    pub fn list_kind(self) -> ListKind {
        match self {
            Self::Pcn | Self::Pdn => ListKind::ProductNotices,
            Self::TechNews => ListKind::TechNews,
        }
    }

    /// The prefix of automatic numbers (`PCN-2026-0001`).
    pub fn number_prefix(self) -> &'static str {
        match self {
            Self::Pcn => "PCN",
            Self::Pdn => "PDN",
            Self::TechNews => "TN",
        }
    }
}

/// What a PCN changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeCategory {
    /// Material (die, mould compound, plating, …).
    Material,
    /// Manufacturing or assembly site.
    Site,
    /// Design (die revision, layout).
    Design,
    /// Datasheet (specification, errata).
    Datasheet,
    /// Packing and labelling.
    Packing,
    /// Firmware.
    Firmware,
    /// Manufacturing process.
    Process,
    /// Anything else (say what in the description).
    Other,
}

super::text_enum!(ChangeCategory, "change_category", {
    Material => "material",
    Site => "site",
    Design => "design",
    Datasheet => "datasheet",
    Packing => "packing",
    Firmware => "firmware",
    Process => "process",
    Other => "other",
});

impl ChangeCategory {
    /// Every category, in the order forms offer them.
    pub const ALL: [Self; 8] = [
        Self::Material,
        Self::Site,
        Self::Design,
        Self::Datasheet,
        Self::Packing,
        Self::Firmware,
        Self::Process,
        Self::Other,
    ];

    /// What people read for this category in `locale` (e-mails, pages, the admin UI; English
    /// in an operator's language); the stable key (`as_str`) is for the database and the API
    /// only.
    pub fn label(self, locale: Locale) -> &'static str {
        let (en, de) = match self {
            Self::Material => ("Material", "Material"),
            Self::Site => ("Manufacturing site", "Fertigungsstandort"),
            Self::Design => ("Design", "Design"),
            Self::Datasheet => ("Datasheet", "Datenblatt"),
            Self::Packing => ("Packing and labelling", "Verpackung und Kennzeichnung"),
            Self::Firmware => ("Firmware", "Firmware"),
            Self::Process => ("Manufacturing process", "Fertigungsprozess"),
            Self::Other => ("Other", "Sonstiges"),
        };
        match locale {
            Locale::De => de,
            _ => en,
        }
    }
}

/// A notice number: 1 to 64 letters, digits and `-_./`; unique together with the revision.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct NoticeNumber(String);

impl NoticeNumber {
    /// Parses an operator-given number.
    ///
    /// # Errors
    /// Empty, too long, or a character outside the allowed set.
    pub fn parse(raw: &str) -> Result<Self, NoticeError> {
        let t = raw.trim();
        let ok = !t.is_empty()
            && t.len() <= 64
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
        if ok {
            Ok(Self(t.to_owned()))
        } else {
            Err(NoticeError::Field(
                "number must be 1 to 64 letters, digits or -_./".into(),
            ))
        }
    }

    /// The automatic number: kind prefix, year and a 4-digit sequence (`PCN-2026-0007`).
    pub fn automatic(kind: NoticeKind, year: i32, sequence: u32) -> Self {
        Self(format!("{}-{year}-{sequence:04}", kind.number_prefix()))
    }

    /// The number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for NoticeNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The revision a new notice gets: 1 for a new number; for a revision, one more than the
/// latest stored revision, which it must supersede.
///
/// # Errors
/// `NotLatest` when `supersedes` is not the latest revision of its number.
pub fn next_revision(latest: u32, supersedes: u32) -> Result<u32, NoticeError> {
    if supersedes == latest {
        Ok(latest + 1)
    } else {
        Err(NoticeError::NotLatest { latest })
    }
}

/// The impact of a change on form, fit, function, quality and reliability (J-STD-046);
/// each a short statement such as "none".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Impact {
    /// Form (dimensions, marking).
    pub form: String,
    /// Fit (footprint, mounting).
    pub fit: String,
    /// Function (electrical behaviour).
    pub function: String,
    pub quality: String,
    pub reliability: String,
}

impl Impact {
    fn is_empty(&self) -> bool {
        [
            &self.form,
            &self.fit,
            &self.function,
            &self.quality,
            &self.reliability,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

/// The typed fields of a notice, as stored (JSON) and as the API receives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeFields {
    /// One-line title.
    pub title: String,
    /// A short introduction (required for Tech News, where it is the body).
    #[serde(default)]
    pub summary: String,
    /// The affected part numbers: who receives the notice.
    pub affected_parts: Vec<PartNumber>,
    /// What kind of change (PCN).
    #[serde(default)]
    pub change_category: Option<ChangeCategory>,
    /// How it is now (PCN).
    #[serde(default)]
    pub description_before: String,
    /// How it will be (PCN).
    #[serde(default)]
    pub description_after: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// Impact on form, fit, function, quality and reliability (PCN).
    #[serde(default)]
    pub impact: Impact,
    /// Qualification summary (PCN).
    #[serde(default)]
    pub qualification_summary: String,
    /// When samples of the changed part are available.
    #[serde(default)]
    pub sample_availability_date: Option<NaiveDate>,
    /// When the change takes effect (PCN) or the product is discontinued (PDN).
    #[serde(default)]
    pub effective_date: Option<NaiveDate>,
    /// Until when recipients should acknowledge (PCN only); none: no acknowledgement asked.
    #[serde(default)]
    pub ack_deadline: Option<DateTime<Utc>>,
    /// Last-time-buy date (PDN).
    #[serde(default)]
    pub last_time_buy_date: Option<NaiveDate>,
    /// Last-time-ship date (PDN).
    #[serde(default)]
    pub last_time_ship_date: Option<NaiveDate>,
    /// Suggested replacement parts (PDN).
    #[serde(default)]
    pub replacement_parts: Vec<PartNumber>,
    /// Why the operator marked this notice service-critical, if they did; shown in the
    /// e-mail, the archive and the API.
    #[serde(default)]
    pub service_critical: Option<String>,
    /// Warnings the operator overrode with `force` (recorded, shown in the API).
    #[serde(default)]
    pub overridden_warnings: Vec<String>,
    /// The descriptive texts in languages other than the default (English); a recipient or
    /// reader whose language has none reads the default.
    #[serde(default)]
    pub translations: NoticeTranslations,
}

/// A notice's descriptive texts in one language other than the default: `title` and
/// `summary` are required, an empty other field falls back to the default's text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[expect(
    missing_docs,
    reason = "each field translates the notice field of its name"
)]
pub struct NoticeText {
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description_before: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description_after: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub qualification_summary: String,
}

/// The translations of a notice by language; only languages Bulletin speaks, and not the
/// default one, whose text is the notice's own fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct NoticeTranslations(BTreeMap<Locale, NoticeText>);

impl NoticeTranslations {
    /// Translations from texts by language.
    ///
    /// # Errors
    /// `translations.LANG: …` for a language Bulletin does not speak or the default one.
    pub fn parse(raw: BTreeMap<String, NoticeText>) -> Result<Self, NoticeError> {
        let mut out = BTreeMap::new();
        for (tag, text) in raw {
            let locale = match Locale::parse(&tag) {
                Ok(l) if l != Locale::default() => l,
                Ok(_) => {
                    return Err(NoticeError::Field(format!(
                        "translations.{tag}: {tag} is the default language; write it in the notice's own fields"
                    )));
                }
                Err(_) => {
                    return Err(NoticeError::Field(format!(
                        "translations.{tag}: Bulletin speaks no such language; a translation may be in {}",
                        Self::languages().join(", ")
                    )));
                }
            };
            out.insert(locale, text);
        }
        Ok(Self(out))
    }

    /// The language tags a translation may have.
    fn languages() -> Vec<&'static str> {
        Locale::all()
            .into_iter()
            .filter(|l| *l != Locale::default())
            .map(Locale::as_str)
            .collect()
    }

    /// The text in `locale`, if the notice has one.
    pub fn get(&self, locale: Locale) -> Option<&NoticeText> {
        self.0.get(&locale)
    }

    /// Sets (or, with `None`, removes) the text in `locale`; the default language has none.
    pub fn set(&mut self, locale: Locale, text: Option<NoticeText>) {
        match text {
            Some(text) if locale != Locale::default() => {
                self.0.insert(locale, text);
            }
            _ => {
                self.0.remove(&locale);
            }
        }
    }

    /// The languages that have a text, in order.
    pub fn locales(&self) -> impl Iterator<Item = Locale> + '_ {
        self.0.keys().copied()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The texts by language.
    pub fn iter(&self) -> impl Iterator<Item = (Locale, &NoticeText)> {
        self.0.iter().map(|(l, t)| (*l, t))
    }
}

impl<'de> Deserialize<'de> for NoticeTranslations {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, NoticeText>::deserialize(d)?;
        Self::parse(raw).map_err(serde::de::Error::custom)
    }
}

/// Why a notice was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// A field breaks a rule.
    #[error("{0}")]
    Field(String),
    /// J-STD-046: a PCN's effective date should be at least 90 days after publication.
    #[error(
        "the effective date is {days} days after publication; a PCN needs at least {min_days} \
         (set \"force\": true to publish it anyway, which is recorded)"
    )]
    ShortNotice {
        /// Days between publication and the effective date.
        days: i64,
        /// The configured minimum.
        min_days: u32,
    },
    /// The acknowledgement deadline has passed.
    #[error("ack_deadline lies in the past")]
    DeadlineInPast,
    /// A revision must supersede the latest revision of its number.
    #[error("only the latest revision ({latest}) can be revised")]
    NotLatest {
        /// The latest revision.
        latest: u32,
    },
}

const MAX_TEXT: usize = 20_000;

fn required(value: &str, name: &str) -> Result<(), NoticeError> {
    if value.trim().is_empty() {
        return Err(NoticeError::Field(format!("{name} is required")));
    }
    Ok(())
}

impl NoticeFields {
    /// Checks the fields of a notice of `kind` published at `now`; `min_notice_days` is the
    /// PCN rule, and `force` overrides it (the warning is then recorded in
    /// `overridden_warnings`). A deadline in the past is never accepted.
    ///
    /// # Errors
    /// The first rule broken.
    pub fn check(
        &mut self,
        kind: NoticeKind,
        now: DateTime<Utc>,
        min_notice_days: u32,
        force: bool,
    ) -> Result<(), NoticeError> {
        self.check_texts()?;
        match kind {
            NoticeKind::Pcn => self.check_pcn()?,
            NoticeKind::Pdn => self.check_pdn()?,
            NoticeKind::TechNews => self.check_tech_news()?,
        }
        if let Some(deadline) = self.ack_deadline {
            if kind != NoticeKind::Pcn {
                return Err(NoticeError::Field(
                    "ack_deadline: only a PCN asks for acknowledgement".into(),
                ));
            }
            if deadline <= now {
                return Err(NoticeError::DeadlineInPast);
            }
        }
        if kind == NoticeKind::Pcn
            && let Some(effective) = self.effective_date
        {
            let days = (effective - now.date_naive()).num_days();
            if days < i64::from(min_notice_days) {
                let warning = NoticeError::ShortNotice {
                    days,
                    min_days: min_notice_days,
                };
                if !force {
                    return Err(warning);
                }
                let text = warning.to_string();
                if !self.overridden_warnings.contains(&text) {
                    self.overridden_warnings.push(text);
                }
            }
        }
        Ok(())
    }

    /// The notice's descriptive texts in `locale` (its translation, field by field, falling
    /// back to the default's text), with every other field as it is.
    pub fn localised(&self, locale: Locale) -> NoticeFields {
        let mut out = self.clone();
        out.translations = NoticeTranslations::default();
        let Some(t) = self.translations.get(locale) else {
            return out;
        };
        let pairs = [
            (&mut out.title, &t.title),
            (&mut out.summary, &t.summary),
            (&mut out.description_before, &t.description_before),
            (&mut out.description_after, &t.description_after),
            (&mut out.reason, &t.reason),
            (&mut out.qualification_summary, &t.qualification_summary),
        ];
        for (field, text) in pairs {
            if !text.trim().is_empty() {
                field.clone_from(text);
            }
        }
        out
    }

    /// The languages the notice can be read in: the default, then each translation's.
    pub fn languages(&self) -> Vec<Locale> {
        std::iter::once(Locale::default())
            .chain(self.translations.locales())
            .collect()
    }

    fn check_translations(&self) -> Result<(), NoticeError> {
        for (locale, t) in self.translations.iter() {
            let field = |name: &str, rule: &str| {
                Err(NoticeError::Field(format!(
                    "translations.{locale}.{name} {rule}"
                )))
            };
            let title = t.title.trim().chars().count();
            if title == 0 {
                return field("title", "is required in a translation");
            }
            if title > 300 || t.title.contains(['\r', '\n']) {
                return field("title", "must be one line of 1 to 300 characters");
            }
            if t.summary.trim().is_empty() {
                return field("summary", "is required in a translation");
            }
            let texts = [
                ("summary", &t.summary),
                ("description_before", &t.description_before),
                ("description_after", &t.description_after),
                ("reason", &t.reason),
                ("qualification_summary", &t.qualification_summary),
            ];
            if let Some((name, _)) = texts.iter().find(|(_, t)| t.len() > MAX_TEXT) {
                return field(name, &format!("is limited to {MAX_TEXT} bytes"));
            }
        }
        Ok(())
    }

    fn check_texts(&self) -> Result<(), NoticeError> {
        let title = self.title.trim().chars().count();
        if title == 0 || title > 300 || self.title.contains(['\r', '\n']) {
            return Err(NoticeError::Field(
                "title must be one line of 1 to 300 characters".into(),
            ));
        }
        if self.affected_parts.is_empty() || self.affected_parts.len() > 1000 {
            return Err(NoticeError::Field(
                "affected_parts must name 1 to 1000 part numbers".into(),
            ));
        }
        let texts = [
            &self.summary,
            &self.description_before,
            &self.description_after,
            &self.reason,
            &self.qualification_summary,
        ];
        if texts.iter().any(|t| t.len() > MAX_TEXT) {
            return Err(NoticeError::Field(format!(
                "texts are limited to {MAX_TEXT} bytes"
            )));
        }
        if let Some(reason) = &self.service_critical
            && (reason.trim().is_empty() || reason.len() > 1000)
        {
            return Err(NoticeError::Field(
                "service_critical must give the reason (1 to 1000 characters)".into(),
            ));
        }
        self.check_translations()
    }

    fn check_pcn(&self) -> Result<(), NoticeError> {
        if self.change_category.is_none() {
            return Err(NoticeError::Field(
                "change_category is required for a PCN".into(),
            ));
        }
        required(&self.description_before, "description_before")?;
        required(&self.description_after, "description_after")?;
        required(&self.reason, "reason")?;
        if self.impact.is_empty() {
            return Err(NoticeError::Field(
                "impact (form, fit, function, quality, reliability) is required for a PCN".into(),
            ));
        }
        if self.effective_date.is_none() {
            return Err(NoticeError::Field(
                "effective_date is required for a PCN".into(),
            ));
        }
        Ok(())
    }

    fn check_pdn(&self) -> Result<(), NoticeError> {
        required(&self.reason, "reason")?;
        let (Some(buy), Some(ship)) = (self.last_time_buy_date, self.last_time_ship_date) else {
            return Err(NoticeError::Field(
                "last_time_buy_date and last_time_ship_date are required for a PDN".into(),
            ));
        };
        if ship < buy {
            return Err(NoticeError::Field(
                "last_time_ship_date must not be before last_time_buy_date".into(),
            ));
        }
        Ok(())
    }

    fn check_tech_news(&self) -> Result<(), NoticeError> {
        required(&self.summary, "summary")
    }
}

/// One stored revision of a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Notice {
    pub id: NoticeId,
    /// The campaign that carries it through the delivery engine.
    pub campaign_id: CampaignId,
    /// What it announces.
    pub kind: NoticeKind,
    pub number: NoticeNumber,
    /// Its revision (1 for the first).
    pub revision: u32,
    /// The typed fields.
    pub fields: NoticeFields,
    /// The revision this one supersedes.
    pub supersedes: Option<NoticeId>,
    /// When it was sent.
    pub published_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl Notice {
    /// Whether recipients are asked to acknowledge it.
    pub fn asks_acknowledgement(&self) -> bool {
        self.fields.ack_deadline.is_some()
    }
}

/// One recipient of a notice, and their acknowledgement if one is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct NoticeRecipient {
    /// Its id (the subject of the acknowledgement link).
    pub id: super::NoticeRecipientId,
    pub notice_id: NoticeId,
    /// The customer.
    pub subscriber_id: super::SubscriberId,
    /// The legitimate-interest subscription the notice went through.
    pub subscription_id: super::SubscriptionId,
    /// Whether this was the first notice the customer was sent (it states the right to
    /// object explicitly, Art. 21(4)).
    pub first_notice: bool,
    /// The acknowledgement, when the notice asks for one.
    pub ack_status: Option<AckStatus>,
    /// Conditions or reasons given.
    pub ack_comment: Option<String>,
    /// When the answer (or the deadline's silence) was recorded.
    pub ack_at: Option<DateTime<Utc>>,
    /// How: `ack_page`, or `deadline` for silence.
    pub ack_source: Option<String>,
    /// Reminders sent so far.
    pub reminders_sent: u32,
    /// When the notice was sent to them.
    pub created_at: DateTime<Utc>,
}

/// Where one recipient's acknowledgement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckStatus {
    /// No answer yet.
    Pending,
    /// Approved.
    Approved,
    /// Approved with conditions (in the comment).
    ApprovedWithConditions,
    /// Rejected (the comment says why).
    Rejected,
    /// No answer by the deadline: silence is taken as acceptance (J-STD-046 §3.2).
    AcceptedBySilence,
}

super::text_enum!(AckStatus, "ack_status", {
    Pending => "pending",
    Approved => "approved",
    ApprovedWithConditions => "approved_with_conditions",
    Rejected => "rejected",
    AcceptedBySilence => "accepted_by_silence",
});

/// A recipient's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckAnswer {
    /// Approve.
    Approve,
    /// Approve with conditions.
    ApproveWithConditions,
    /// Reject.
    Reject,
}

super::text_enum!(AckAnswer, "decision", {
    Approve => "approve",
    ApproveWithConditions => "approve_with_conditions",
    Reject => "reject",
});

/// Why an answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The deadline has passed; the answer stands as recorded.
    #[error("the acknowledgement deadline has passed")]
    DeadlinePassed,
    /// Conditions and rejections need a comment.
    #[error("please say what your conditions or reasons are")]
    CommentRequired,
}

impl AckStatus {
    /// Records an answer given at `now`. Until the deadline an answer may be changed.
    ///
    /// # Errors
    /// After the deadline, or a condition or rejection without a comment.
    pub fn answer(
        self,
        answer: AckAnswer,
        comment: &str,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Self, AckError> {
        if now > deadline || self == Self::AcceptedBySilence {
            return Err(AckError::DeadlinePassed);
        }
        match answer {
            AckAnswer::Approve => Ok(Self::Approved),
            AckAnswer::ApproveWithConditions | AckAnswer::Reject if comment.trim().is_empty() => {
                Err(AckError::CommentRequired)
            }
            AckAnswer::ApproveWithConditions => Ok(Self::ApprovedWithConditions),
            AckAnswer::Reject => Ok(Self::Rejected),
        }
    }

    /// After the deadline, silence becomes acceptance; anything else stays.
    pub fn lapse(self, deadline: DateTime<Utc>, now: DateTime<Utc>) -> Option<Self> {
        match self {
            Self::Pending if now > deadline => Some(Self::AcceptedBySilence),
            Self::Pending
            | Self::Approved
            | Self::ApprovedWithConditions
            | Self::Rejected
            | Self::AcceptedBySilence => None,
        }
    }

    /// Whether the recipient has not answered yet.
    pub fn is_outstanding(self) -> bool {
        self == Self::Pending
    }
}

/// How many reminders should have gone out by `now`: one per configured offset (days before
/// the deadline) that has been reached, and none once the deadline has passed.
pub fn reminders_due(deadline: DateTime<Utc>, days_before: &[u32], now: DateTime<Utc>) -> u32 {
    if now >= deadline {
        return 0;
    }
    let reached = days_before
        .iter()
        .filter(|d| deadline - chrono::Duration::days(i64::from(**d)) <= now)
        .count();
    u32::try_from(reached).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_category_reads_as_words_in_every_language_not_as_its_key() {
        for category in ChangeCategory::ALL {
            assert_eq!(ChangeCategory::parse(category.as_str()), Ok(category));
            for locale in Locale::all() {
                let label = category.label(locale);
                assert!(!label.is_empty() && label != category.as_str(), "{label}");
            }
        }
        assert_eq!(ChangeCategory::Site.label(Locale::De), "Fertigungsstandort");
    }

    fn now() -> DateTime<Utc> {
        "2026-01-10T12:00:00Z".parse().unwrap()
    }

    fn pcn(effective_in_days: i64) -> NoticeFields {
        NoticeFields {
            title: "New mould compound".into(),
            affected_parts: vec![PartNumber::parse("LM317").unwrap()],
            change_category: Some(ChangeCategory::Material),
            description_before: "compound A".into(),
            description_after: "compound B".into(),
            reason: "supplier change".into(),
            impact: Impact {
                form: "none".into(),
                ..Impact::default()
            },
            effective_date: Some(now().date_naive() + chrono::Duration::days(effective_in_days)),
            ..NoticeFields::default()
        }
    }

    #[test]
    fn a_pcn_needs_its_typed_fields() {
        assert!(pcn(120).check(NoticeKind::Pcn, now(), 90, false).is_ok());
        let mut no_category = pcn(120);
        no_category.change_category = None;
        assert!(matches!(
            no_category.check(NoticeKind::Pcn, now(), 90, false),
            Err(NoticeError::Field(_))
        ));
        let mut no_parts = pcn(120);
        no_parts.affected_parts.clear();
        assert!(no_parts.check(NoticeKind::Pcn, now(), 90, false).is_err());
        let mut two_lines = pcn(120);
        two_lines.title = "a\nb".into();
        assert!(two_lines.check(NoticeKind::Pcn, now(), 90, false).is_err());
    }

    fn german(title: &str, summary: &str) -> NoticeTranslations {
        let text = NoticeText {
            title: title.into(),
            summary: summary.into(),
            reason: "Lieferantenwechsel".into(),
            ..NoticeText::default()
        };
        NoticeTranslations::parse(BTreeMap::from([("de".to_owned(), text)])).unwrap()
    }

    #[test]
    fn a_translation_replaces_the_texts_it_has_and_falls_back_for_the_rest() {
        let mut fields = pcn(120);
        fields.translations = german("Neue Pressmasse", "Kurz");
        assert!(fields.check(NoticeKind::Pcn, now(), 90, false).is_ok());
        let de = fields.localised(Locale::De);
        assert_eq!(de.title, "Neue Pressmasse");
        assert_eq!(de.reason, "Lieferantenwechsel");
        assert_eq!(
            de.description_before, "compound A",
            "falls back to the default"
        );
        assert!(de.translations.is_empty());
        assert_eq!(fields.localised(Locale::En).title, "New mould compound");
        assert_eq!(fields.languages(), [Locale::En, Locale::De]);
    }

    #[test]
    fn a_translation_needs_a_known_other_language_a_title_and_a_summary() {
        let text = || NoticeText {
            title: "T".into(),
            summary: "S".into(),
            ..NoticeText::default()
        };
        for (tag, named) in [("fr", "translations.fr:"), ("en", "translations.en:")] {
            let raw = BTreeMap::from([(tag.to_owned(), text())]);
            let Err(NoticeError::Field(said)) = NoticeTranslations::parse(raw) else {
                panic!("{tag} accepted");
            };
            assert!(said.starts_with(named), "{said}");
        }
        for (title, summary, named) in [
            ("", "S", "translations.de.title"),
            ("a\nb", "S", "translations.de.title"),
            ("T", " ", "translations.de.summary"),
        ] {
            let mut fields = pcn(120);
            fields.translations = german(title, summary);
            let Err(NoticeError::Field(said)) = fields.check(NoticeKind::Pcn, now(), 90, false)
            else {
                panic!("{title:?}/{summary:?} accepted");
            };
            assert!(said.starts_with(named), "{said}");
        }
    }

    #[test]
    fn the_90_day_rule_refuses_unless_forced_and_then_records_the_warning() {
        let mut short = pcn(30);
        assert_eq!(
            short.check(NoticeKind::Pcn, now(), 90, false),
            Err(NoticeError::ShortNotice {
                days: 30,
                min_days: 90
            })
        );
        assert!(short.overridden_warnings.is_empty());
        assert!(short.check(NoticeKind::Pcn, now(), 90, true).is_ok());
        assert_eq!(short.overridden_warnings.len(), 1);
        assert!(pcn(90).check(NoticeKind::Pcn, now(), 90, false).is_ok());
    }

    #[test]
    fn a_deadline_in_the_past_is_refused_even_when_forced() {
        let mut late = pcn(120);
        late.ack_deadline = Some(now() - chrono::Duration::hours(1));
        assert_eq!(
            late.check(NoticeKind::Pcn, now(), 90, true),
            Err(NoticeError::DeadlineInPast)
        );
    }

    #[test]
    fn a_pdn_needs_last_time_buy_before_last_time_ship() {
        let mut pdn = NoticeFields {
            title: "End of life".into(),
            affected_parts: vec![PartNumber::parse("LM317").unwrap()],
            reason: "demand".into(),
            last_time_buy_date: NaiveDate::from_ymd_opt(2026, 6, 1),
            last_time_ship_date: NaiveDate::from_ymd_opt(2026, 5, 1),
            ..NoticeFields::default()
        };
        assert!(pdn.check(NoticeKind::Pdn, now(), 90, false).is_err());
        pdn.last_time_ship_date = NaiveDate::from_ymd_opt(2026, 12, 1);
        assert!(pdn.check(NoticeKind::Pdn, now(), 90, false).is_ok());
        pdn.ack_deadline = Some(now() + chrono::Duration::days(10));
        assert!(pdn.check(NoticeKind::Pdn, now(), 90, false).is_err());
    }

    #[test]
    fn numbers_and_revisions() {
        assert_eq!(
            NoticeNumber::automatic(NoticeKind::Pcn, 2026, 7).as_str(),
            "PCN-2026-0007"
        );
        assert!(NoticeNumber::parse("PCN 1").is_err());
        assert!(NoticeNumber::parse("ACME-PCN/2026.1").is_ok());
        assert_eq!(next_revision(1, 1), Ok(2));
        assert_eq!(
            next_revision(3, 2),
            Err(NoticeError::NotLatest { latest: 3 })
        );
    }

    #[test]
    fn acknowledgement_moves() {
        let deadline = now() + chrono::Duration::days(1);
        use AckStatus::*;
        assert_eq!(
            Pending.answer(AckAnswer::Approve, "", deadline, now()),
            Ok(Approved)
        );
        assert_eq!(
            Pending.answer(AckAnswer::Reject, " ", deadline, now()),
            Err(AckError::CommentRequired)
        );
        assert_eq!(
            Approved.answer(AckAnswer::Reject, "no", deadline, now()),
            Ok(Rejected),
            "an answer may change before the deadline"
        );
        let after = deadline + chrono::Duration::seconds(1);
        assert_eq!(
            Pending.answer(AckAnswer::Approve, "", deadline, after),
            Err(AckError::DeadlinePassed)
        );
        assert_eq!(Pending.lapse(deadline, now()), None);
        assert_eq!(Pending.lapse(deadline, after), Some(AcceptedBySilence));
        assert_eq!(Rejected.lapse(deadline, after), None);
        assert_eq!(
            AcceptedBySilence.answer(AckAnswer::Approve, "", deadline, now()),
            Err(AckError::DeadlinePassed)
        );
    }

    #[test]
    fn reminders_fall_due_at_each_offset_and_stop_at_the_deadline() {
        let deadline = now() + chrono::Duration::days(10);
        assert_eq!(reminders_due(deadline, &[7, 1], now()), 0);
        let day4 = now() + chrono::Duration::days(4);
        assert_eq!(reminders_due(deadline, &[7, 1], day4), 1);
        let day9 = now() + chrono::Duration::days(9);
        assert_eq!(reminders_due(deadline, &[7, 1], day9), 2);
        assert_eq!(reminders_due(deadline, &[7, 1], deadline), 0);
    }
}
