//! Pages as maud functions of view structs. maud escapes every value; `PreEscaped` is
//! used only for markup we rendered ourselves.

pub mod admin;
pub mod archive;
pub mod notices;
pub mod privacy;
pub mod text;

use maud::{DOCTYPE, Markup, html};

use crate::domain::{Locale, SubscriptionStatus, UnsubscribeReason};
pub use text::{ArchiveText, PrivacyText, Text, archive_text, privacy_text, text};

tokio::task_local! {
    /// The organisation's name (`mail.organisation`) while a public request is answered: the
    /// public router sets it around each request, and the shared layout names it in the
    /// footer. Views stay functions of their arguments otherwise; this saves passing the name
    /// through the some 40 pages (error pages too) that share the layout.
    pub static ORGANISATION: std::sync::Arc<str>;
}

/// The shared page shell; search engines are asked to leave the page out.
pub fn layout(locale: Locale, title: &str, body: Markup) -> Markup {
    layout_with(
        locale,
        title,
        html! { meta name="robots" content="noindex"; },
        body,
    )
}

/// The shared page shell with `head` (robots, alternate links) of the page's own.
pub fn layout_with(locale: Locale, title: &str, head: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(locale.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                (head)
                title { (title) }
                link rel="stylesheet" href="/assets/bulletin.css";
            }
            body {
                main { h1 { (title) } (body) }
                footer.site {
                    @if let Ok(name) = ORGANISATION.try_with(std::sync::Arc::clone) { p { (name) } }
                }
            }
        }
    }
}

/// A page with a title and one paragraph.
pub fn message_page(locale: Locale, title: &str, message: &str) -> Markup {
    layout(locale, title, html! { p { (message) } })
}

/// The signup form's values and errors.
#[derive(Debug, Default, Clone)]
pub struct SignupView {
    /// Where the form posts.
    pub action: String,
    /// The lists signed up for.
    pub lists: Vec<SignupListView>,
    /// The address typed so far.
    pub email: String,
    /// The name typed so far.
    pub name: String,
    /// Error shown at the address field.
    pub email_error: Option<String>,
    /// Error shown at the name field.
    pub name_error: Option<String>,
    /// Error shown at the consent box.
    pub consent_error: Option<String>,
    /// Privacy notice URL.
    pub privacy_url: String,
}

/// One list on the signup form.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct SignupListView {
    /// Slug (form value).
    pub slug: String,
    /// Display name.
    pub name: String,
    pub description: String,
    /// The consent text shown for it, beside its own box.
    pub consent_text: String,
    /// Whether its consent box is ticked (kept after an error).
    pub checked: bool,
}

/// The signup page.
pub fn signup_page(locale: Locale, v: &SignupView) -> Markup {
    let t = text(locale);
    let has_errors = v.email_error.is_some() || v.name_error.is_some() || v.consent_error.is_some();
    layout(
        locale,
        t.signup_title,
        html! {
            @if has_errors { p.error role="alert" { (t.fix_errors) } }
            form method="post" action=(v.action) {
                @for list in &v.lists {
                    input type="hidden" name="list" value=(list.slug);
                    section.list {
                        h2 { (list.name) }
                        @if !list.description.is_empty() { p { (list.description) } }
                        // GDPR Art. 7(2): consent to each list is asked, and recorded, apart.
                        label.consent {
                            input type="checkbox" name="consent" value=(list.slug) checked[list.checked]
                                aria-invalid=[v.consent_error.as_ref().map(|_| "true")];
                            " " (list.consent_text)
                        }
                    }
                }
                label for="email" { (t.email) }
                input #email type="email" name="email" required maxlength="254" autocomplete="email" value=(v.email)
                    aria-invalid=[v.email_error.as_ref().map(|_| "true")];
                @if let Some(e) = &v.email_error { p.field-error { (e) } }
                label for="name" { (t.name) " " small { (t.name_optional) } }
                input #name type="text" name="name" maxlength="100" autocomplete="name" value=(v.name)
                    aria-invalid=[v.name_error.as_ref().map(|_| "true")];
                @if let Some(e) = &v.name_error { p.field-error { (e) } }
                @if let Some(e) = &v.consent_error { p.field-error { (e) } }
                p.hint { (t.privacy_hint) " " a href=(v.privacy_url) { (t.privacy_notice) } "." }
                button type="submit" { (t.subscribe) }
            }
        },
    )
}

/// A page whose one button POSTs to `action` (GET never changes state).
pub fn button_page(
    locale: Locale,
    title: &str,
    lead: &str,
    subject: &str,
    action: &str,
    button: &str,
) -> Markup {
    layout(
        locale,
        title,
        html! {
            p { (lead) " " strong { (subject) } }
            form method="post" action=(action) {
                button type="submit" { (button) }
            }
        },
    )
}

/// The unsubscribe page: the list, an optional reason (nothing chosen beforehand) and
/// comment, and the button, which works whatever is filled in.
pub fn unsubscribe_page(locale: Locale, subject: &str, action: &str) -> Markup {
    let t = text(locale);
    let reasons = [
        (UnsubscribeReason::TooMany, t.reason_too_many),
        (UnsubscribeReason::NotRelevant, t.reason_not_relevant),
        (UnsubscribeReason::NeverSignedUp, t.reason_never_signed_up),
        (UnsubscribeReason::Other, t.reason_other),
    ];
    layout(
        locale,
        t.unsubscribe_title,
        html! {
            p { (t.unsubscribe_body) " " strong { (subject) } }
            form method="post" action=(action) {
                fieldset {
                    legend { (t.reason_question) }
                    @for (reason, words) in reasons {
                        label.check {
                            input type="radio" name="reason" value=(reason.as_str());
                            " " (words)
                        }
                    }
                }
                label for="comment" { (t.reason_comment) }
                textarea #comment name="comment" maxlength="500" rows="3" {}
                p { button type="submit" { (t.unsubscribe_button) } }
            }
        },
    )
}

/// A page that states an outcome about one list.
pub fn outcome_page(locale: Locale, title: &str, lead: &str, subject: &str) -> Markup {
    layout(
        locale,
        title,
        html! { p { (lead) " " strong { (subject) } "." } },
    )
}

/// One line of the preferences page.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct PreferenceView {
    /// Subscription id (form value).
    pub id: String,
    pub list_name: String,
    /// Where it stands.
    pub status: SubscriptionStatus,
}

/// What the preferences page shows and where its forms post.
#[derive(Debug, Clone, Default)]
pub struct PreferencesView {
    /// Where the leave forms post.
    pub action: String,
    /// Where the add form posts.
    pub add_action: String,
    /// The subscriptions.
    pub items: Vec<PreferenceView>,
    /// Lists the person may ask to join, each with its consent box.
    pub offered: Vec<SignupListView>,
    /// Why the add form was refused.
    pub add_error: Option<String>,
}

/// The preferences page.
pub fn preferences_page(locale: Locale, v: &PreferencesView) -> Markup {
    let (action, items) = (v.action.as_str(), v.items.as_slice());
    let t = text(locale);
    let status = |s: SubscriptionStatus| match s {
        SubscriptionStatus::Pending => t.status_pending,
        SubscriptionStatus::Confirmed => t.status_confirmed,
        SubscriptionStatus::Unsubscribed => t.status_unsubscribed,
    };
    let active: Vec<&PreferenceView> = items
        .iter()
        .filter(|i| i.status != SubscriptionStatus::Unsubscribed)
        .collect();
    layout(
        locale,
        t.preferences_title,
        html! {
            // Left lists are not listed: "unsubscribed" beside "no subscriptions" reads as
            // a contradiction. They can be joined again below.
            @if !active.is_empty() {
                ul.subscriptions {
                    @for item in &active { li { strong { (item.list_name) } " — " (status(item.status)) } }
                }
            }
            @if active.is_empty() {
                p { (t.no_subscriptions) }
            } @else {
                p { (t.preferences_body) }
                form method="post" action=(action) {
                    @for item in &active {
                        label { input type="checkbox" name="subscription" value=(item.id); " " (item.list_name) }
                    }
                    button type="submit" { (t.leave_selected) }
                }
                form method="post" action=(action) {
                    input type="hidden" name="all" value="yes";
                    button.secondary type="submit" { (t.leave_all) }
                }
            }
            @if !v.offered.is_empty() {
                h2 #add { (t.add_title) }
                p { (t.add_body) }
                @if let Some(e) = &v.add_error { p.error role="alert" { (e) } }
                form method="post" action=(v.add_action) {
                    @for list in &v.offered {
                        section.list {
                            h3 { (list.name) }
                            @if !list.description.is_empty() { p { (list.description) } }
                            label.consent {
                                input type="checkbox" name="list" value=(list.slug) checked[list.checked];
                                " " (list.consent_text)
                            }
                        }
                    }
                    button type="submit" { (t.add_button) }
                }
            }
        },
    )
}

/// The expired-confirmation page, offering a fresh link.
pub fn link_expired_page(locale: Locale, resend_action: Option<&str>) -> Markup {
    let t = text(locale);
    layout(
        locale,
        t.link_expired_title,
        html! {
            p { (t.link_expired_body) }
            @if let Some(action) = resend_action {
                form method="post" action=(action) { button type="submit" { (t.resend_button) } }
            }
        },
    )
}

/// A list of public lists with signup links.
pub fn index_page(locale: Locale, lists: &[(String, String, String)]) -> Markup {
    let t = text(locale);
    layout(
        locale,
        t.index_title,
        html! {
            @if lists.is_empty() { p { (t.index_empty) } }
            ul.subscriptions {
                @for (href, name, description) in lists {
                    li { a href=(href) { (name) } @if !description.is_empty() { " — " (description) } }
                }
            }
        },
    )
}

/// The built-in privacy notice, used until the operator configures their own URL.
pub fn privacy_notice_page(locale: Locale, organisation: &str, manage_url: &str) -> Markup {
    let t = text(locale);
    let manage = privacy_text(locale).request_title;
    let body = match locale {
        Locale::De => html! {
            p { (organisation) " verarbeitet Ihre E-Mail-Adresse, den angegebenen Namen (freiwillig), Ihre Sprache und den Verlauf Ihrer Einwilligung (Zeitpunkt, Netzanteil Ihrer IP-Adresse, User-Agent Ihres Browsers), um Ihnen das Bestellte zu senden (Art. 6 Abs. 1 lit. a DSGVO) und Ihre Einwilligung nachweisen zu können (Art. 7 Abs. 1)." }
            p { "Jede E-Mail enthält einen Link zur sofortigen Abmeldung. Sie haben das Recht auf Auskunft, Berichtigung, Löschung, Einschränkung, Datenübertragbarkeit und Widerspruch (Art. 15–21) und können sich bei einer Aufsichtsbehörde beschweren." }
        },
        _ => html! {
            p { (organisation) " processes your e-mail address, the name you give (optional), your language and the history of your consent (time, the network part of your IP address, your browser's user agent) to send you what you subscribed to (GDPR Art. 6(1)(a)) and to be able to prove your consent (Art. 7(1))." }
            p { "Every e-mail contains a link to unsubscribe at once. You have the rights of access, rectification, erasure, restriction, portability and objection (Art. 15–21) and may complain to a supervisory authority." }
        },
    };
    layout(
        locale,
        t.privacy_notice,
        html! { (body) p { a href=(manage_url) { (manage) } } },
    )
}

/// The stylesheet served at `/assets/bulletin.css` (a file, so the CSP needs no inline styles).
pub const STYLESHEET: &str = "\
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#59636e;--accent:#1d4ed8;--err:#b42318}\
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--accent:#6ea8fe;--err:#ff8a80}}\
body{font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0}\
main{max-width:36rem;margin:3rem auto;padding:0 1rem}\
footer.site{max-width:36rem;margin:0 auto 2rem;padding:0 1rem;color:var(--muted);font-size:.9rem}\
h1{font-size:1.6rem}h2{font-size:1.15rem;margin:.5rem 0}\
label{display:block;margin-top:1rem;font-weight:600}label.consent,form label:has(input[type=checkbox]){font-weight:400}\
input[type=email],input[type=text]{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid var(--muted);border-radius:6px}\
button{margin-top:1.25rem;padding:.6rem 1.2rem;font:inherit;border:0;border-radius:6px;background:var(--accent);color:#fff;cursor:pointer}\
button.secondary{background:transparent;color:var(--accent);border:1px solid var(--accent)}\
.error,.field-error{color:var(--err)}.hint,small{color:var(--muted)}\
ul.subscriptions{padding-left:1.2rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.25rem .5rem .25rem 0;vertical-align:top;border-bottom:1px solid var(--muted)}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dd{margin:0}.notice{font-weight:600}\
select{padding:.5rem;font:inherit}\
article.issue{margin:1.5rem 0;overflow-wrap:anywhere}article.issue img{max-width:100%;height:auto}\
ul.issues{list-style:none;padding:0}ul.issues time{color:var(--muted);margin-right:.5rem}\
@media print{button,form{display:none}main{max-width:none;margin:0}}\
";
