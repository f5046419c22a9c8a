//! Pages of product notices: the objection page, the acknowledgement page, the archive page
//! of a notice, and the Atom feed of a product line.

use maud::{Markup, html};

use super::layout;
use crate::{
    domain::{AckAnswer, AckError, AckStatus, ListKind, Locale},
    services::notices::archive::NoticeRecord,
};

/// The German or, in every other language, the English words.
fn pick(locale: Locale, en: &'static str, de: &'static str) -> &'static str {
    match locale {
        Locale::De => de,
        _ => en,
    }
}

/// The objection page: what the person receives, and the two choices.
pub fn object_page(locale: Locale, kind: ListKind, receiving: bool, action: &str) -> Markup {
    let what = match kind {
        ListKind::TechNews => pick(locale, "Tech News", "Tech News"),
        ListKind::ProductNotices | ListKind::Newsletter => pick(
            locale,
            "product change and discontinuation notices",
            "Produktänderungs- und Abkündigungsmitteilungen",
        ),
    };
    let title = pick(locale, "Object to notices", "Mitteilungen widersprechen");
    layout(
        locale,
        title,
        html! {
            @if receiving {
                p { (pick(locale, "You receive", "Sie erhalten")) " " strong { (what) } " "
                    (pick(locale, "because you use our products (legitimate interest, Art. 6(1)(f) GDPR). You may object at any time (Art. 21 GDPR).",
                          "weil Sie unsere Produkte einsetzen (berechtigtes Interesse, Art. 6 Abs. 1 lit. f DSGVO). Sie können jederzeit widersprechen (Art. 21 DSGVO).")) }
            } @else {
                p { (pick(locale, "You no longer receive", "Sie erhalten keine")) " " strong { (what) } "." }
            }
            form method="post" action=(action) {
                input type="hidden" name="scope" value="kind";
                button type="submit" { (pick(locale, "Stop these notices", "Diese Mitteilungen abbestellen")) }
            }
            form method="post" action=(action) {
                input type="hidden" name="scope" value="all";
                button type="submit" { (pick(locale, "Stop all product mailings", "Alle Produktmitteilungen abbestellen")) }
            }
        },
    )
}

/// The confirmation after an objection.
pub fn objected_page(locale: Locale) -> Markup {
    super::message_page(
        locale,
        pick(locale, "Objection recorded", "Widerspruch erfasst"),
        pick(
            locale,
            "We have recorded your objection and will send you no more of these mailings.",
            "Wir haben Ihren Widerspruch erfasst und senden Ihnen diese Mitteilungen nicht mehr.",
        ),
    )
}

/// What the acknowledgement page shows.
#[derive(Debug)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct AckPageView {
    /// Notice number and revision, e.g. `PCN-2026-0001 rev 1`.
    pub label: String,
    pub title: String,
    /// Deadline, as text.
    pub deadline: String,
    /// The current answer.
    pub status: AckStatus,
    /// The comment given (or, after a refusal, the one typed).
    pub comment: String,
    /// The decision the form shows selected: the one typed before a refusal, else the
    /// recorded answer; none while nothing was chosen.
    pub chosen: Option<AckAnswer>,
    /// Whether an answer can still be given.
    pub open: bool,
    /// Where the form posts.
    pub action: String,
    /// An error to show above the form.
    pub error: Option<String>,
}

/// The acknowledgement page: the notice, the current answer and (while open) the form.
pub fn ack_page(locale: Locale, v: &AckPageView) -> Markup {
    let title = pick(
        locale,
        "Acknowledge a change notice",
        "Änderungsmitteilung bestätigen",
    );
    layout(
        locale,
        title,
        html! {
            p { strong { (v.label) } ": " (v.title) }
            p { (pick(locale, "Deadline:", "Frist:")) " " (v.deadline) }
            p { (pick(locale, "Your answer:", "Ihre Antwort:")) " " strong { (status_label(locale, v.status)) } }
            @if let Some(error) = &v.error { p.error role="alert" { (error) } }
            @if v.open {
                form method="post" action=(v.action) {
                    @for (answer, en, de) in [
                        (AckAnswer::Approve, "Approve", "Zustimmen"),
                        (AckAnswer::ApproveWithConditions, "Approve with conditions", "Mit Auflagen zustimmen"),
                        (AckAnswer::Reject, "Reject", "Ablehnen"),
                    ] {
                        label { input type="radio" name="decision" value=(answer.as_str()) required checked[v.chosen == Some(answer)]; " " (pick(locale, en, de)) } br;
                    }
                    label { (pick(locale, "Conditions or reasons", "Auflagen oder Gründe")) br;
                        textarea name="comment" maxlength="2000" { (v.comment) } }
                    br;
                    button type="submit" { (pick(locale, "Send answer", "Antwort senden")) }
                }
            } @else {
                p { (pick(locale, "The deadline has passed; the answer above stands.", "Die Frist ist abgelaufen; die obige Antwort gilt.")) }
            }
        },
    )
}

/// An acknowledgement status in the reader's words.
fn status_label(locale: Locale, status: AckStatus) -> &'static str {
    match status {
        AckStatus::Pending => pick(locale, "none yet", "noch keine"),
        AckStatus::Approved => pick(locale, "approved", "zugestimmt"),
        AckStatus::ApprovedWithConditions => pick(
            locale,
            "approved with conditions",
            "mit Auflagen zugestimmt",
        ),
        AckStatus::Rejected => pick(locale, "rejected", "abgelehnt"),
        AckStatus::AcceptedBySilence => pick(
            locale,
            "accepted (no answer by the deadline)",
            "angenommen (keine Antwort bis zur Frist)",
        ),
    }
}

/// Why an answer was not recorded, in the reader's words; `None`: no decision was chosen.
pub fn ack_refusal(locale: Locale, e: Option<AckError>) -> &'static str {
    match e {
        None => pick(
            locale,
            "Please choose an answer.",
            "Bitte wählen Sie eine Antwort.",
        ),
        Some(AckError::CommentRequired) => pick(
            locale,
            "Please say what your conditions or reasons are.",
            "Bitte nennen Sie Ihre Auflagen oder Gründe.",
        ),
        Some(AckError::DeadlinePassed) => pick(
            locale,
            "The acknowledgement deadline has passed.",
            "Die Frist für die Bestätigung ist abgelaufen.",
        ),
    }
}

/// The archive page of a notice in `locale` (its translation, else the English text), with
/// links to the other languages it can be read in; `key` is the signed key the page was
/// opened with, kept in those links.
pub fn archive_page(r: &NoticeRecord, locale: Locale, key: Option<&str>) -> Markup {
    let f = &r.fields.localised(locale);
    let row = |label: &str, value: String| {
        html! { @if !value.is_empty() { tr { th { (label) } td { (value) } } } }
    };
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let parts = |p: &[crate::domain::PartNumber]| {
        p.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
    };
    let p = |en, de| pick(locale, en, de);
    let others: Vec<Locale> = r
        .fields
        .languages()
        .into_iter()
        .filter(|l| *l != locale)
        .collect();
    let href = |l: Locale| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(key) = key {
            query.append_pair("key", key);
        }
        query.append_pair("lang", l.as_str());
        format!("?{}", query.finish())
    };
    layout(
        locale,
        &format!("{} rev {}", r.number, r.revision),
        html! {
            @if !others.is_empty() {
                p.languages {
                    (p("Also in:", "Auch auf:"))
                    @for l in &others {
                        " " a href=(href(*l)) hreflang=(l.as_str()) lang=(l.as_str()) { (super::admin::auth::language_name(*l)) }
                    }
                }
            }
            h2 { (f.title) }
            @if let Some(reason) = &f.service_critical { p { strong { (p("Service-critical: ", "Servicekritisch: ")) } (reason) } }
            @if let Some(by) = r.superseded_by { p { (p("Superseded by revision ", "Ersetzt durch Revision ")) (by) "." } }
            p { (f.summary) }
            table {
                (row(p("Kind", "Art"), r.kind.clone()))
                (row(p("Affected parts", "Betroffene Teile"), parts(&f.affected_parts)))
                (row(p("Change category", "Art der Änderung"), f.change_category.map(|c| c.label(locale).to_owned()).unwrap_or_default()))
                (row(p("Before", "Bisher"), f.description_before.clone()))
                (row(p("After", "Künftig"), f.description_after.clone()))
                (row(p("Reason", "Grund"), f.reason.clone()))
                (row(p("Impact on form", "Auswirkung auf die Form"), f.impact.form.clone()))
                (row(p("Impact on fit", "Auswirkung auf die Passform"), f.impact.fit.clone()))
                (row(p("Impact on function", "Auswirkung auf die Funktion"), f.impact.function.clone()))
                (row(p("Impact on quality", "Auswirkung auf die Qualität"), f.impact.quality.clone()))
                (row(p("Impact on reliability", "Auswirkung auf die Zuverlässigkeit"), f.impact.reliability.clone()))
                (row(p("Qualification", "Qualifizierung"), f.qualification_summary.clone()))
                (row(p("Samples available", "Muster verfügbar"), date(f.sample_availability_date)))
                (row(p("Effective date", "Gültig ab"), date(f.effective_date)))
                (row(p("Last time buy", "Letzte Bestellung"), date(f.last_time_buy_date)))
                (row(p("Last time ship", "Letzte Lieferung"), date(f.last_time_ship_date)))
                (row(p("Replacement parts", "Ersatztypen"), parts(&f.replacement_parts)))
                (row(p("Published", "Veröffentlicht"), r.published_at.map(|t| t.to_rfc3339()).unwrap_or_default()))
            }
        },
    )
}

/// The Atom feed (RFC 4287) of a product line; `link` gives each entry's page.
pub fn atom_feed(
    feed_url: &str,
    line: &str,
    organisation: &str,
    entries: &[NoticeRecord],
    link: impl Fn(&NoticeRecord) -> String,
) -> String {
    let updated = entries
        .iter()
        .filter_map(|e| e.published_at)
        .max()
        .map(|t| t.to_rfc3339())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    let markup = html! {
        feed xmlns="http://www.w3.org/2005/Atom" {
            id { (feed_url) }
            title { (organisation) " notices: " (line) }
            updated { (updated) }
            link rel="self" href=(feed_url) {}
            author { name { (organisation) } }
            @for e in entries {
                entry {
                    id { "urn:uuid:" (e.id) }
                    title { (e.number) " rev " (e.revision) ": " (e.fields.title) }
                    link href=(link(e)) {}
                    updated { (e.published_at.map(|t| t.to_rfc3339()).unwrap_or_default()) }
                    summary { (e.fields.summary) (e.fields.description_after) }
                    category term=(e.kind) {}
                }
            }
        }
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{}",
        markup.into_string()
    )
}
