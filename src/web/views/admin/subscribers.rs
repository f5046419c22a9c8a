//! The admin pages of subscribers: the search with its pages, one subscriber's page with
//! subscriptions and consent history, the confirmation of an action (on one person or on
//! everyone a filter finds), and the forms that add a subscriber and correct one. Render only.

use std::collections::HashMap;

use maud::{Markup, html};

use super::{Ctx, Errors, csrf_field, field, layout, open_list_options, select, status};
use crate::{
    domain::{
        Action, ListId, MailingList, Subscriber, SubscriberId, SubscriberStatus, SubscriptionStatus,
    },
    services::subscribers::SubscriberDetail,
};

/// What `/admin/subscribers` shows.
#[derive(Debug, Clone, Copy)]
pub struct SearchView<'a> {
    /// The address or name searched for.
    pub q: &'a str,
    /// The id of the list filtered by, or empty.
    pub list: &'a str,
    /// The status filtered by, or empty.
    pub status: &'a str,
    /// `true` (only suppressed addresses), `false` (only the others), or empty.
    pub suppressed: &'a str,
    /// Every list, for the filter.
    pub lists: &'a [MailingList],
    /// A page of matches.
    pub rows: &'a [Subscriber],
    /// How many match on every page together.
    pub total: u64,
    /// Each row's status on the list filtered by (empty without one).
    pub on_list: &'a HashMap<SubscriberId, SubscriptionStatus>,
    /// The CSV export of the same filter.
    pub export_href: &'a str,
    /// The filter as a query string, for the bulk actions' links.
    pub bulk_query: &'a str,
    /// The next page, if there is one.
    pub next_href: Option<&'a str>,
}

/// `/admin/subscribers`: the filters, a page of matches, and the links to add and import.
pub fn search_page(ctx: &Ctx, v: &SearchView) -> Markup {
    layout(
        ctx,
        "Subscribers",
        html! {
            form.filters.card method="get" action="/admin/subscribers" {
                div { label for="q" { "Address or name" } input #q type="search" name="q" value=(v.q); }
                div { label for="list" { "List" }
                    select #list name="list" {
                        option value="" { "any list" }
                        @for l in v.lists { option value=(l.id) selected[l.id.to_string() == v.list] { (l.def.name) } }
                    }
                }
                div { label for="status" { "Status" }
                    select #status name="status" {
                        @for (value, t) in [("", "any"), ("pending", "pending"), ("confirmed", "confirmed"), ("unsubscribed", "unsubscribed")] {
                            option value=(value) selected[value == v.status] { (t) }
                        }
                    }
                }
                div { label for="suppressed" { "Suppression" }
                    select #suppressed name="suppressed" {
                        @for (value, t) in [("", "all"), ("true", "suppressed"), ("false", "not suppressed")] {
                            option value=(value) selected[value == v.suppressed] { (t) }
                        }
                    }
                }
                div { button type="submit" { "Search" }
                    @if ctx.may(Action::ManageSubscribers) {
                        " " a.button href=(v.export_href) { "Export CSV" }
                        " " a.button href="/admin/subscribers/new" { "Add…" }
                        " " a.button href={ "/admin/import?list=" (list_slug(v.lists, v.list)) } { "Import CSV…" }
                    } }
            }
            p #total role="status" {
                (v.total) @if v.total == 1 { " subscriber matches." } @else { " subscribers match." }
            }
            @if ctx.may(Action::ManageSubscribers) && v.total > 0 {
                p #bulk { "With everyone found: "
                    @for (action, label) in BULK_ACTIONS {
                        a href={ "/admin/subscribers/bulk/" (action) "?" (v.bulk_query) } { (label) } " · "
                    }
                }
            }
            @let list = v.lists.iter().find(|l| l.id.to_string() == v.list);
            table {
                tr { th { "Address" } th { "Name" }
                    th { @if let Some(l) = list { "Status on " (l.def.name) } @else { "Status" } }
                    th { "Since" } }
                @for s in v.rows {
                    tr {
                        td { a href={ "/admin/subscribers/" (s.id) } { (s.email.as_str()) } }
                        td { (s.name.as_str()) }
                        td {
                            @match (list, v.on_list.get(&s.id)) {
                                (Some(_), Some(on_list)) => (status(on_list.as_str())),
                                _ => (status(s.status.as_str())),
                            }
                        }
                        td { (s.created_at.format("%Y-%m-%d")) }
                    }
                }
            }
            @if v.rows.is_empty() { p.muted { "No subscriber matches." } }
            @if let Some(next) = v.next_href { p.pager { a.button href=(next) { "Older →" } } }
        },
    )
}

/// The slug of the list with this id (as text), or empty.
fn list_slug(lists: &[MailingList], id: &str) -> String {
    lists
        .iter()
        .find(|l| l.id.to_string() == id)
        .map(|l| l.def.slug.as_str().to_owned())
        .unwrap_or_default()
}

fn list_name(lists: &[MailingList], id: Option<ListId>) -> String {
    id.and_then(|id| lists.iter().find(|l| l.id == id))
        .map(|l| l.def.slug.as_str().to_owned())
        .unwrap_or_default()
}

/// `/admin/subscribers/{id}`: the person, the actions the viewer may take, the
/// subscriptions and the whole consent history.
pub fn subscriber_page(ctx: &Ctx, d: &SubscriberDetail) -> Markup {
    let all_lists: Vec<MailingList> = d.subscriptions.iter().map(|(l, _)| l.clone()).collect();
    let s = &d.subscriber;
    layout(
        ctx,
        s.email.as_str(),
        html! {
            div.card {
                p { "Name: " (s.name.as_str()) " · language " (s.locale.as_str()) " · " (status(s.status.as_str()))
                    " · since " (ctx.time(s.created_at)) }
                @if let Some((reason, at)) = d.suppressed {
                    p role="status" { "Never mailed: the address is suppressed (" (status(reason.as_str())) ") since "
                        (ctx.time(at)) ". " a href="/admin/suppressions" { "Suppressions" } }
                }
            }
            @if ctx.may(Action::ManageSubscribers) {
                p {
                    a.button href={ "/admin/subscribers/" (s.id) "/edit" } { "Correct…" } " "
                    a.button href={ "/admin/subscribers/" (s.id) "/unsubscribe" } { "Unsubscribe…" } " "
                    @if s.status == SubscriberStatus::Blocked {
                        a.button href={ "/admin/subscribers/" (s.id) "/unblock" } { "Unblock…" } " "
                    } @else {
                        a.button href={ "/admin/subscribers/" (s.id) "/block" } { "Block…" } " "
                    }
                    @if ctx.may(Action::HandlePersonalData) {
                        a.button href={ "/admin/subscribers/" (s.id) "/restrict" } { "Restrict…" } " "
                        a.button href={ "/admin/subscribers/" (s.id) "/erase" } { "Erase…" }
                    }
                }
            }
            h2 { "Subscriptions" }
            table {
                tr { th { "List" } th { "Status" } th { "Source" } th { "Requested" } th { "Confirmed" } th { "Left" } }
                @for (l, sub) in &d.subscriptions {
                    tr {
                        td { (l.def.name) } td { (status(sub.status.as_str())) } td { (sub.source) }
                        td { (sub.requested_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                        td { (sub.confirmed_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                        td { (sub.unsubscribed_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                    }
                }
            }
            h2 { "Consent history" }
            table {
                tr { th { "When" } th { "List" } th { "Action" } th { "Basis" } th { "Actor" } th { "Source" } th { "Network" } }
                @for e in &d.history {
                    tr {
                        td { (ctx.time_secs(e.occurred_at)) }
                        td { (list_name(&all_lists, e.list_id)) }
                        td { (e.action.as_str()) } td { (e.legal_basis.as_str()) }
                        td { (e.actor) } td { (e.source) }
                        td { (e.ip_anon.as_deref().unwrap_or("")) }
                    }
                }
            }
        },
    )
}

/// What the confirmation of a subscriber action shows.
#[derive(Debug, Clone, Copy)]
pub struct ConfirmView<'a> {
    /// Whom it concerns.
    pub subscriber: &'a Subscriber,
    /// The action, as its path segment (`erase`).
    pub action: &'a str,
    /// The page's title, also the button's label.
    pub title: &'a str,
    /// What the action does.
    pub text: &'a str,
}

/// `/admin/subscribers/{id}/{action}`: what the action does, and the button that does it.
pub fn confirm_page(ctx: &Ctx, v: &ConfirmView) -> Markup {
    let id = v.subscriber.id;
    layout(
        ctx,
        v.title,
        html! {
            div.card {
                p { strong { (v.subscriber.email.as_str()) } }
                p { (v.text) }
                form method="post" action={ "/admin/subscribers/" (id) "/" (v.action) } {
                    (csrf_field(&ctx.csrf))
                    button.danger type="submit" { (v.title) }
                    " " a href={ "/admin/subscribers/" (id) } { "Back" }
                }
            }
        },
    )
}

/// The values typed into the add-a-subscriber form.
#[derive(Debug, Default, Clone, Copy)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct AddFormView<'a> {
    /// The address.
    pub email: &'a str,
    pub name: &'a str,
    /// The language tag.
    pub locale: &'a str,
    /// The slug of the list.
    pub list: &'a str,
    /// When the person consented, as typed.
    pub consent_at: &'a str,
    /// Where they consented.
    pub consent_source: &'a str,
    /// The wording they agreed to.
    pub consent_text: &'a str,
}

/// `/admin/subscribers/new`: the form that adds a subscriber to one of the open `lists`,
/// with its errors in place.
pub fn add_page(ctx: &Ctx, lists: &[MailingList], form: &AddFormView, errors: &Errors) -> Markup {
    let e = |k: &str| errors.get(k);
    let options = open_list_options(lists);
    layout(
        ctx,
        "Add a subscriber",
        html! {
            @if let Some(err) = e("form") { p.error role="alert" { (err) } }
            form.card method="post" action="/admin/subscribers/new" {
                (csrf_field(&ctx.csrf))
                (field("email", "E-mail address", "email", form.email, e("email")))
                (field("name", "Name (optional)", "text", form.name, e("name")))
                (select("locale", "Language", &[("en", "English"), ("de", "German")], form.locale, None))
                (select("list", "List", &options, form.list, e("list")))
                p.muted { "For a consent list, the evidence is required (GDPR Art. 7(1)): when and where the person agreed, and to what wording. No confirmation e-mail is sent." }
                (field("consent_at", "Consented at (RFC 3339 or 2025-05-01 08:30:00 UTC)", "text", form.consent_at, e("consent")))
                (field("consent_source", "Where", "text", form.consent_source, None))
                (field("consent_text", "The wording they agreed to", "text", form.consent_text, None))
                p { button type="submit" { "Add subscriber" } }
            }
        },
    )
}

/// `/admin/subscribers/{id}/edit`: the form that corrects name and language, with the
/// name's error in place.
pub fn edit_page(
    ctx: &Ctx,
    id: SubscriberId,
    name: &str,
    locale: &str,
    error: Option<&String>,
) -> Markup {
    layout(
        ctx,
        "Correct a subscriber",
        html! {
            form.card method="post" action={ "/admin/subscribers/" (id) "/edit" } {
                (csrf_field(&ctx.csrf))
                (field("name", "Name", "text", name, error))
                (select("locale", "Language", &[("en", "English"), ("de", "German")], locale, None))
                p { button type="submit" { "Save" } " " a href={ "/admin/subscribers/" (id) } { "Back" } }
            }
        },
    )
}

/// The bulk actions, as (path, link text).
const BULK_ACTIONS: [(&str, &str); 3] = [
    ("add", "add to a list…"),
    ("unsubscribe", "unsubscribe from every list…"),
    ("block", "block…"),
];

/// What the confirmation of a bulk action shows.
#[derive(Debug, Clone, Copy)]
pub struct BulkView<'a> {
    /// `add`, `unsubscribe` or `block`.
    pub action: &'a str,
    /// The page's title and the button's words.
    pub title: &'a str,
    /// What it does to each person.
    pub text: &'a str,
    /// How many people the filter finds.
    pub count: u64,
    /// The most one bulk action may reach.
    pub max: u64,
    /// The filter as a query string (back to the search) and its fields (kept in the form).
    pub query: &'a str,
    /// The filter's fields: (name, value).
    pub filter: &'a [(&'a str, &'a str)],
    /// The lists to add to (the `add` action).
    pub lists: &'a [MailingList],
    /// The add form as typed: list slug, consented at, where, wording.
    pub add: [&'a str; 4],
    /// Why the last try was refused.
    pub error: Option<&'a str>,
}

/// `/admin/subscribers/bulk/{action}`: how many people the action will reach, what it does,
/// and the button (a GET changes nothing); above the limit, why not and what to use instead.
pub fn bulk_page(ctx: &Ctx, v: &BulkView) -> Markup {
    let back = format!("/admin/subscribers?{}", v.query);
    layout(
        ctx,
        v.title,
        html! {
            @if let Some(e) = v.error { p.error role="alert" { (e) } }
            div.card {
                p { strong #bulk-count { (v.count) } @if v.count == 1 { " person" } @else { " people" } " found by the current filter." }
                p { (v.text) }
                @if v.count > v.max {
                    p.error role="alert" #too-many { "One bulk action reaches at most " (v.max) " people. Narrow the filter, or use the CSV import or the API for larger sets." }
                    p { a href=(back) { "Back to the search" } }
                } @else if v.count == 0 {
                    p { "Nobody to act on. " a href=(back) { "Back to the search" } }
                } @else {
                    form method="post" action={ "/admin/subscribers/bulk/" (v.action) } {
                        (csrf_field(&ctx.csrf))
                        @for (name, value) in v.filter { input type="hidden" name=(name) value=(value); }
                        @if v.action == "add" {
                            (select("target", "List", &open_list_options(v.lists), v.add[0], None))
                            p.muted { "For a consent list, the evidence is required (GDPR Art. 7(1)) and is recorded for each person: when and where they agreed, and to what wording. No confirmation e-mail is sent. People who left the list, are blocked or suppressed are not added." }
                            (field("consent_at", "Consented at (RFC 3339 or 2025-05-01 08:30:00 UTC)", "text", v.add[1], None))
                            (field("consent_source", "Where", "text", v.add[2], None))
                            (field("consent_text", "The wording they agreed to", "text", v.add[3], None))
                        }
                        p {
                            button.danger type="submit" { (v.title) " (" (v.count) ")" }
                            " " a href=(back) { "Back" }
                        }
                    }
                }
            }
        },
    )
}
