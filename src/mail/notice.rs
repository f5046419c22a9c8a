//! The variables of the notice e-mail (`emails/<locale>/notice.*`): the typed fields of a
//! notice as text, the recipient's links, and the statements the law asks for.

use serde::Serialize;

/// Everything a notice e-mail shows. Dates are ISO 8601 (`2026-05-01`), empty when unset.
#[derive(Debug, Clone, Default, Serialize)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct NoticeMailContext {
    /// The operator's organisation.
    pub organisation: String,
    /// The sender's postal address and imprint (may be empty).
    pub postal_address: String,
    /// `pcn`, `pdn` or `tech_news`.
    pub kind: String,
    pub number: String,
    pub revision: u32,
    /// The revision this one supersedes (0: none).
    pub supersedes_revision: u32,
    /// Whether this is a reminder to acknowledge.
    pub reminder: bool,
    pub title: String,
    /// Introduction / Tech News body.
    pub summary: String,
    /// Affected part numbers, comma-separated.
    pub affected_parts: String,
    /// The change category, in the recipient's language (`Manufacturing site`).
    pub change_category: String,
    pub description_before: String,
    pub description_after: String,
    pub reason: String,
    /// Impact on form.
    pub impact_form: String,
    /// Impact on fit.
    pub impact_fit: String,
    /// Impact on function.
    pub impact_function: String,
    /// Impact on quality.
    pub impact_quality: String,
    /// Impact on reliability.
    pub impact_reliability: String,
    pub qualification_summary: String,
    pub sample_availability_date: String,
    pub effective_date: String,
    pub last_time_buy_date: String,
    pub last_time_ship_date: String,
    /// Replacement parts, comma-separated.
    pub replacement_parts: String,
    /// Acknowledgement deadline (UTC, `2026-05-01 12:00 UTC`); empty: none asked.
    pub ack_deadline: String,
    /// The recipient's acknowledgement link (empty when none is asked).
    pub ack_url: String,
    /// Why the notice is service-critical (empty: it is not).
    pub service_critical: String,
    /// Whether this is the first notice the customer gets: the right to object is stated
    /// explicitly and separately (GDPR Art. 21(4)).
    pub first_notice: bool,
    /// The objection page (also the `List-Unsubscribe` URL).
    pub object_url: String,
    /// The notice's archive page.
    pub archive_url: String,
    /// The privacy notice.
    pub privacy_url: String,
}

impl NoticeMailContext {
    /// Sample values that exercise every branch of the templates.
    pub fn sample() -> Self {
        let text = |s: &str| s.to_owned();
        Self {
            organisation: text("Sample Org"),
            postal_address: text("Sample Org, 1 Main Street, 12345 Sample Town"),
            kind: text("pcn"),
            number: text("PCN-2026-0001"),
            revision: 2,
            supersedes_revision: 1,
            reminder: true,
            title: text("Title"),
            summary: text("Summary"),
            affected_parts: text("A1, B2"),
            change_category: text("Manufacturing site"),
            description_before: text("before"),
            description_after: text("after"),
            reason: text("reason"),
            impact_form: text("none"),
            impact_fit: text("none"),
            impact_function: text("none"),
            impact_quality: text("none"),
            impact_reliability: text("none"),
            qualification_summary: text("qualified"),
            sample_availability_date: text("2026-01-01"),
            effective_date: text("2026-06-01"),
            last_time_buy_date: text("2026-03-01"),
            last_time_ship_date: text("2026-09-01"),
            replacement_parts: text("C3"),
            ack_deadline: text("2026-02-01 12:00 UTC"),
            ack_url: text("https://example.com/a"),
            service_critical: text("safety"),
            first_notice: true,
            object_url: text("https://example.com/o"),
            archive_url: text("https://example.com/n"),
            privacy_url: text("https://example.com/privacy"),
        }
    }
}
