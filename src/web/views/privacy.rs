//! The "manage my data" pages: the request form, the data page with every right as a form
//! that POSTs, the erasure confirmation and outcome, and the new-address confirmation.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};
use maud::{Markup, html};

use super::{layout, privacy_text, text};
use crate::{
    domain::{ConsentEvent, LegalBasis, Locale, SubscriberStatus, SubscriptionStatus},
    services::privacy::{ExportDocument, ProofOfConsent, export_csv},
};

/// The export as a download: JSON (pretty) or CSV, never cached.
pub fn export_download(document: &ExportDocument, csv: bool) -> Response {
    let (body, content_type, extension) = if csv {
        (export_csv(document), "text/csv; charset=utf-8", "csv")
    } else {
        (
            serde_json::to_string_pretty(document).unwrap_or_default(),
            "application/json",
            "json",
        )
    };
    let disposition = format!("attachment; filename=\"personal-data.{extension}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `GET /privacy`: the form that asks for the link.
pub fn request_page(locale: Locale, action: &str, email_error: Option<&str>) -> Markup {
    let (t, p) = (text(locale), privacy_text(locale));
    layout(
        locale,
        p.request_title,
        html! {
            p { (p.request_lead) }
            form method="post" action=(action) {
                label for="email" { (t.email) }
                input #email type="email" name="email" required maxlength="254" autocomplete="email"
                    aria-invalid=[email_error.map(|_| "true")];
                @if let Some(e) = email_error { p.field-error { (e) } }
                button type="submit" { (p.request_button) }
            }
        },
    )
}

/// One subscription on the data page.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct SubscriptionRow {
    /// Subscription id (form value).
    pub id: String,
    pub list_name: String,
    /// Where it stands.
    pub status: SubscriptionStatus,
    /// Why Bulletin may write.
    pub basis: LegalBasis,
    /// How it came about.
    pub source: String,
    /// Since when (formatted).
    pub since: String,
}

/// One ledger entry on the data page.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// When (formatted).
    pub when: String,
    /// The action's text form.
    pub action: &'static str,
    /// The list's name, for list entries.
    pub list: Option<String>,
    /// Through what.
    pub source: String,
    /// The client network, if kept.
    pub network: Option<String>,
    /// The user agent, if kept.
    pub browser: Option<String>,
}

/// One message, or one request, on the data page: when, what, how it stands.
#[derive(Debug, Clone)]
pub struct EntryRow {
    /// When (formatted).
    pub when: String,
    /// What (a text form looked up in the words table).
    pub what: &'static str,
    /// A name to add (the campaign).
    pub detail: Option<String>,
    /// Where it stands (a text form looked up in the words table).
    pub status: &'static str,
}

/// Everything the data page shows.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct DataView {
    /// The page's own URL; each form posts below it.
    pub action: String,
    /// The outcome of the last action, if any.
    pub notice: Option<String>,
    /// The address.
    pub email: String,
    pub name: String,
    /// The language.
    pub locale: Locale,
    /// Processing status.
    pub status: SubscriberStatus,
    /// When the record was created (formatted).
    pub created_at: String,
    /// The organisation's attributes of the person, by key, as text.
    pub attributes: Vec<(String, String)>,
    /// A new address waiting for confirmation.
    pub pending_address: Option<String>,
    pub subscriptions: Vec<SubscriptionRow>,
    /// Consent history.
    pub history: Vec<HistoryRow>,
    pub messages: Vec<EntryRow>,
    /// Data-subject requests.
    pub requests: Vec<EntryRow>,
    /// Products used as a customer (part number and name).
    pub products: Vec<String>,
    /// Error at the name field.
    pub name_error: Option<String>,
    /// Error at the new-address field.
    pub email_error: Option<String>,
}

/// `GET /privacy/{token}`: a button that shows the data (a GET records nothing).
pub fn landing_page(locale: Locale, action: &str) -> Markup {
    let p = privacy_text(locale);
    layout(
        locale,
        p.data_title,
        html! {
            p { (p.landing_lead) }
            form method="post" action=(action) { button type="submit" { (p.show_button) } }
        },
    )
}

/// The data page (Art. 15) with a form for every other right.
pub fn data_page(locale: Locale, v: &DataView) -> Markup {
    let p = privacy_text(locale);
    layout(
        locale,
        p.data_title,
        html! {
            @if let Some(notice) = &v.notice { p.notice role="status" { (notice) } }
            (profile(locale, v))
            (subscriptions(locale, v))
            (history(locale, v))
            (entries(p.messages_heading, locale, &v.messages))
            h2 { (p.products_heading) }
            @if v.products.is_empty() {
                p { (p.no_products) }
            } @else {
                ul { @for product in &v.products { li { (product) } } }
            }
            (entries(p.requests_heading, locale, &v.requests))
            (actions(locale, v))
        },
    )
}

fn profile(locale: Locale, v: &DataView) -> Markup {
    let (t, p) = (text(locale), privacy_text(locale));
    let processing = match v.status {
        SubscriberStatus::Active | SubscriberStatus::Erased => p.processing_normal,
        SubscriberStatus::Restricted => p.processing_restricted,
        SubscriberStatus::Blocked => p.processing_blocked,
    };
    html! {
        h2 { (p.profile_heading) }
        dl {
            dt { (t.email) } dd { (v.email) }
            dt { (t.name) } dd { (v.name) }
            dt { (p.language) } dd { (v.locale.as_str()) }
            dt { (p.processing) } dd #processing { (processing) }
            dt { (p.stored_since) } dd { (v.created_at) }
        }
        @if let Some(new) = &v.pending_address { p { (p.pending_address) " " strong { (new) } } }
        @if !v.attributes.is_empty() {
            h3 { (p.attributes_heading) }
            dl #attributes { @for (key, value) in &v.attributes { dt { (key) } dd { (value) } } }
        }
    }
}

fn subscriptions(locale: Locale, v: &DataView) -> Markup {
    let (t, p) = (text(locale), privacy_text(locale));
    let status = |s: SubscriptionStatus| match s {
        SubscriptionStatus::Pending => t.status_pending,
        SubscriptionStatus::Confirmed => t.status_confirmed,
        SubscriptionStatus::Unsubscribed => t.status_unsubscribed,
    };
    let basis = |b: LegalBasis| match b {
        LegalBasis::Consent => p.basis_consent,
        LegalBasis::LegitimateInterest => p.basis_interest,
    };
    html! {
        h2 { (p.subscriptions_heading) }
        @if v.subscriptions.is_empty() { p { (p.none) } } @else {
            table {
                tr { th { (p.list) } th { (p.status) } th { (p.legal_basis) } th { (p.source) } th { (p.since) } }
                @for s in &v.subscriptions {
                    tr { td { (s.list_name) } td { (status(s.status)) } td { (basis(s.basis)) } td { (s.source) } td { (s.since) } }
                }
            }
        }
    }
}

fn history(locale: Locale, v: &DataView) -> Markup {
    let p = privacy_text(locale);
    html! {
        h2 { (p.history_heading) }
        table {
            tr { th { (p.when) } th { (p.what) } th { (p.list) } th { (p.source) } th { (p.network) } th { (p.browser) } }
            @for e in &v.history {
                tr {
                    td { (e.when) } td { (p.word(p.actions, e.action)) } td { (e.list.as_deref().unwrap_or("")) }
                    td { (e.source) } td { (e.network.as_deref().unwrap_or("")) } td { (e.browser.as_deref().unwrap_or("")) }
                }
            }
        }
    }
}

fn entries(heading: &str, locale: Locale, rows: &[EntryRow]) -> Markup {
    let p = privacy_text(locale);
    html! {
        h2 { (heading) }
        @if rows.is_empty() { p { (p.none) } } @else {
            table {
                tr { th { (p.when) } th { (p.what) } th { (p.status) } }
                @for r in rows {
                    tr {
                        td { (r.when) }
                        td { (p.word(p.messages, r.what)) @if let Some(d) = &r.detail { " — " (d) } }
                        td { (p.word(p.messages, r.status)) }
                    }
                }
            }
        }
    }
}

fn actions(locale: Locale, v: &DataView) -> Markup {
    let (t, p) = (text(locale), privacy_text(locale));
    let to = |path: &str| format!("{}/{path}", v.action);
    let active: Vec<&SubscriptionRow> = v
        .subscriptions
        .iter()
        .filter(|s| s.status != SubscriptionStatus::Unsubscribed)
        .collect();
    html! {
        h2 { (p.download_heading) }
        form method="post" action=(to("export")) {
            button type="submit" name="format" value="json" { (p.download_json) } " "
            button.secondary type="submit" name="format" value="csv" { (p.download_csv) }
        }
        h2 { (p.correct_heading) }
        form method="post" action=(to("correct")) {
            label for="name" { (t.name) }
            input #name type="text" name="name" maxlength="100" value=(v.name)
                aria-invalid=[v.name_error.as_ref().map(|_| "true")];
            @if let Some(e) = &v.name_error { p.field-error { (e) } }
            label for="locale" { (p.language) }
            select #locale name="locale" {
                @for l in Locale::all() { option value=(l.as_str()) selected[l == v.locale] { (l.as_str()) } }
            }
            button type="submit" { (p.save) }
        }
        h2 { (p.address_heading) }
        p.hint { (p.address_hint) }
        form method="post" action=(to("address")) {
            label for="new-email" { (t.email) }
            input #new-email type="email" name="email" required maxlength="254"
                aria-invalid=[v.email_error.as_ref().map(|_| "true")];
            @if let Some(e) = &v.email_error { p.field-error { (e) } }
            button type="submit" { (p.address_button) }
        }
        h2 { (p.restrict_heading) }
        p.hint { (p.restrict_hint) }
        form method="post" action=(to("restrict")) {
            @if v.status == SubscriberStatus::Restricted {
                input type="hidden" name="restricted" value="no";
                button type="submit" { (p.lift_button) }
            } @else {
                input type="hidden" name="restricted" value="yes";
                button type="submit" { (p.restrict_button) }
            }
        }
        @if !active.is_empty() {
            h2 { (p.withdraw_heading) }
            p.hint { (p.withdraw_hint) }
            form method="post" action=(to("withdraw")) {
                @for s in &active {
                    label { input type="checkbox" name="subscription" value=(s.id); " " (s.list_name) }
                }
                button type="submit" { (t.leave_selected) }
            }
            form method="post" action=(to("withdraw")) {
                input type="hidden" name="all" value="yes";
                button.secondary type="submit" { (t.leave_all) }
            }
        }
        h2 { (p.erase_heading) }
        p.hint { (p.erase_hint) }
        form method="post" action=(to("erase")) { button.secondary type="submit" { (p.erase_button) } }
    }
}

/// The confirming step of erasure: nothing is erased until this button is pressed.
pub fn erase_confirm_page(locale: Locale, action: &str) -> Markup {
    let p = privacy_text(locale);
    layout(
        locale,
        p.erase_confirm_title,
        html! {
            p { (p.erase_confirm_lead) }
            form method="post" action=(action) {
                input type="hidden" name="confirm" value="yes";
                button type="submit" { (p.erase_confirm_button) }
            }
        },
    )
}

/// After erasure: exactly what was kept, and why.
pub fn erased_page(locale: Locale) -> Markup {
    let p = privacy_text(locale);
    layout(
        locale,
        p.erased_title,
        html! { ul { @for line in p.erased_kept { li { (line) } } } },
    )
}

/// `GET /privacy/address/{token}`: confirm or refuse the new address.
pub fn address_change_page(locale: Locale, action: &str, new_email: &str) -> Markup {
    let p = privacy_text(locale);
    layout(
        locale,
        p.change_title,
        html! {
            p { (p.change_lead) " " strong { (new_email) } }
            form method="post" action=(action) {
                input type="hidden" name="decision" value="confirm";
                button type="submit" { (p.change_confirm) }
            }
            form method="post" action=(action) {
                input type="hidden" name="decision" value="refuse";
                button.secondary type="submit" { (p.change_refuse) }
            }
        },
    )
}

/// The printable proof of consent (Art. 7(1)), for the operator; in English.
pub fn proof_page(proof: &ProofOfConsent) -> Markup {
    let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let step = |title: &str, event: &Option<ConsentEvent>| {
        html! {
            h2 { (title) }
            @match event {
                None => p { "None recorded." },
                Some(e) => dl {
                    dt { "When" } dd { (at(e.occurred_at)) }
                    dt { "Action" } dd { (e.action.as_str()) }
                    dt { "Legal basis" } dd { (e.legal_basis.as_str()) }
                    dt { "How (source)" } dd { (e.source) }
                    dt { "Who acted" } dd { (e.actor) }
                    dt { "Network (anonymised)" } dd { (e.ip_anon.as_deref().unwrap_or("—")) }
                    dt { "User agent" } dd { (e.user_agent.as_deref().unwrap_or("—")) }
                    @if let Some(evidence) = &e.evidence { dt { "Evidence" } dd { code { (evidence.to_string()) } } }
                }
            }
        }
    };
    let title = format!("Proof of consent: {}", proof.list.def.name);
    layout(
        Locale::En,
        &title,
        html! {
            dl {
                dt { "Person" } dd { (proof.subscriber.email.as_str()) " (" (proof.subscriber.id.to_string()) ")" }
                dt { "Name" } dd { (proof.subscriber.name.as_str()) }
                dt { "List" } dd { (proof.list.def.name) " (" (proof.list.def.slug.as_str()) ")" }
                dt { "Legal basis" } dd { (proof.list.def.legal_basis.as_str()) }
                dt { "Status now" } dd { (proof.subscription.as_ref().map_or("no subscription", |s| s.status.as_str())) }
                dt { "Drawn up" } dd { (at(proof.generated_at)) }
            }
            (step("Request", &proof.requested))
            (step("Confirmation (double opt-in)", &proof.confirmed))
            (step("Withdrawal or objection", &proof.withdrawn))
            h2 { "Consent text shown" }
            @match &proof.consent_text {
                None => p { "No consent text recorded." },
                Some((hash, body)) => {
                    p { "SHA-256: " code { (hash) } }
                    blockquote { (body) }
                }
            }
            h2 { "Ledger entries" }
            table {
                tr { th { "When" } th { "Action" } th { "Source" } th { "Actor" } th { "Network" } th { "User agent" } }
                @for e in &proof.events {
                    tr {
                        td { (at(e.occurred_at)) } td { (e.action.as_str()) } td { (e.source) } td { (e.actor) }
                        td { (e.ip_anon.as_deref().unwrap_or("")) } td { (e.user_agent.as_deref().unwrap_or("")) }
                    }
                }
            }
        },
    )
}
