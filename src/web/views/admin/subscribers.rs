//! The admin pages of subscribers: the search with its pages, one subscriber's page with
//! subscriptions and consent history, the confirmation of an action (on one person or on
//! everyone a filter finds), and the forms that add a subscriber and correct one (name,
//! language and attributes). Render only.

use std::collections::HashMap;

use maud::{Markup, PreEscaped, html};
use serde_json::Value;

use super::{
    Ctx, Errors, csrf_field, field, i18n, layout, open_list_options, select, status, t, tf, tl, tn,
};
use crate::{
    domain::{
        Action, AttributeKind, ListId, MailingList, Subscriber, SubscriberId, SubscriberStatus,
        SubscriptionStatus, attributes,
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
        t("Subscribers"),
        html! {
            form.filters.card method="get" action="/admin/subscribers" {
                div { label for="q" { (t("Address or name")) } input #q type="search" name="q" value=(v.q); }
                div { label for="list" { (t("List")) }
                    select #list name="list" {
                        option value="" { (t("any list")) }
                        @for l in v.lists { option value=(l.id) selected[l.id.to_string() == v.list] { (l.def.name) } }
                    }
                }
                div { label for="status" { (t("Status")) }
                    select #status name="status" {
                        @for (value, text) in [("", t("any")), ("pending", tl("pending")), ("confirmed", tl("confirmed")), ("unsubscribed", tl("unsubscribed"))] {
                            option value=(value) selected[value == v.status] { (text) }
                        }
                    }
                }
                div { label for="suppressed" { (t("Suppression")) }
                    select #suppressed name="suppressed" {
                        @for (value, text) in [("", t("all")), ("true", t("suppressed")), ("false", t("not suppressed"))] {
                            option value=(value) selected[value == v.suppressed] { (text) }
                        }
                    }
                }
                div { button type="submit" { (t("Search")) }
                    @if ctx.may(Action::ManageSubscribers) {
                        " " a.button href=(v.export_href) { (t("Export CSV")) }
                        " " a.button href="/admin/subscribers/new" { (t("Add…")) }
                        " " a.button href={ "/admin/import?list=" (list_slug(v.lists, v.list)) } { (t("Import CSV…")) }
                    } }
            }
            p #total role="status" {
                (tn("{n} subscriber matches.", "{n} subscribers match.", v.total))
            }
            @if ctx.may(Action::ManageSubscribers) && v.total > 0 {
                p #bulk { (t("With everyone found:")) " "
                    @for (action, label) in bulk_actions() {
                        a href={ "/admin/subscribers/bulk/" (action) "?" (v.bulk_query) } { (label) } " · "
                    }
                }
            }
            @let list = v.lists.iter().find(|l| l.id.to_string() == v.list);
            table {
                tr { th { (t("Address")) } th { (t("Name")) }
                    th { @if let Some(l) = list { (tf("Status on {list}", &[("list", &l.def.name)])) } @else { (t("Status")) } }
                    th { (t("Since")) } }
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
            @if v.rows.is_empty() { p.muted { (t("No subscriber matches.")) } }
            @if let Some(next) = v.next_href { p.pager { a.button href=(next) { (t("Older →")) } } }
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
                p { (t("Name:")) " " (s.name.as_str()) " · " (t("language")) " " (s.locale.as_str()) " · " (status(s.status.as_str()))
                    " · " (t("since")) " " (ctx.time(s.created_at)) }
                @if let Some((reason, at)) = d.suppressed {
                    p role="status" {
                        (filled(
                            t("Never mailed: the address is suppressed ({reason}) since {since}."),
                            &[("reason", status(reason.as_str())), ("since", html! { (ctx.time(at)) })],
                        ))
                        " " a href="/admin/suppressions" { (t("Suppressions")) } }
                }
            }
            @if ctx.may(Action::ManageSubscribers) {
                p {
                    a.button href={ "/admin/subscribers/" (s.id) "/edit" } { (t("Correct…")) } " "
                    a.button href={ "/admin/subscribers/" (s.id) "/unsubscribe" } { (t("Unsubscribe…")) } " "
                    @if s.status == SubscriberStatus::Blocked {
                        a.button href={ "/admin/subscribers/" (s.id) "/unblock" } { (t("Unblock…")) } " "
                    } @else {
                        a.button href={ "/admin/subscribers/" (s.id) "/block" } { (t("Block…")) } " "
                    }
                    @if ctx.may(Action::HandlePersonalData) {
                        a.button href={ "/admin/subscribers/" (s.id) "/restrict" } { (t("Restrict…")) } " "
                        a.button href={ "/admin/subscribers/" (s.id) "/erase" } { (t("Erase…")) }
                    }
                }
            }
            h2 { (t("Attributes")) }
            @if s.attributes.is_empty() {
                p.muted #attributes { (t("No attributes.")) }
            } @else {
                table #attributes {
                    tr { th { (t("Key")) } th { (t("Value")) } }
                    @for (key, value) in s.attributes.iter() {
                        tr { td { code { (key) } } td { (attribute_shown(value)) } }
                    }
                }
            }
            h2 { (t("Subscriptions")) }
            table {
                tr { th { (t("List")) } th { (t("Status")) } th { (t("Source")) } th { (t("Requested")) } th { (t("Confirmed")) } th { (t("Left")) } }
                @for (l, sub) in &d.subscriptions {
                    tr {
                        td { (l.def.name) } td { (status(sub.status.as_str())) } td { (sub.source) }
                        td { (sub.requested_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                        td { (sub.confirmed_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                        td { (sub.unsubscribed_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                    }
                }
            }
            h2 { (t("Consent history")) }
            table {
                tr { th { (t("When")) } th { (t("List")) } th { (t("Action")) } th { (t("Basis")) } th { (t("Actor")) } th { (t("Source")) } th { (t("Network")) } }
                @for e in &d.history {
                    tr {
                        td { (ctx.time_secs(e.occurred_at)) }
                        td { (list_name(&all_lists, e.list_id)) }
                        td { (tl(e.action.as_str())) } td { (tl(e.legal_basis.as_str())) }
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
                    " " a href={ "/admin/subscribers/" (id) } { (t("Back")) }
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
        t("Add a subscriber"),
        html! {
            @if let Some(err) = e("form") { p.error role="alert" { (err) } }
            form.card method="post" action="/admin/subscribers/new" {
                (csrf_field(&ctx.csrf))
                (field("email", t("E-mail address"), "email", form.email, e("email")))
                (field("name", t("Name (optional)"), "text", form.name, e("name")))
                (select("locale", t("Language"), &[("en", "English"), ("de", t("German"))], form.locale, None))
                (select("list", t("List"), &options, form.list, e("list")))
                p.muted { (t("For a consent list, the evidence is required (GDPR Art. 7(1)): when and where the person agreed, and to what wording. No confirmation e-mail is sent.")) }
                (field("consent_at", t("Consented at (RFC 3339 or 2025-05-01 08:30:00 UTC)"), "text", form.consent_at, e("consent")))
                (field("consent_source", t("Where"), "text", form.consent_source, None))
                (field("consent_text", t("The wording they agreed to"), "text", form.consent_text, None))
                p { button type="submit" { (t("Add subscriber")) } }
            }
        },
    )
}

/// One attribute in the correct form, as stored or as typed, with its errors in place.
#[derive(Debug, Clone, Default)]
pub struct AttributeRow {
    /// The key (of a new row: as typed).
    pub key: String,
    /// The value as the form writes it.
    pub value: String,
    /// The type: `text`, `number`, `boolean` or `date`.
    pub kind: String,
    /// Whether "remove" is ticked.
    pub remove: bool,
    /// What is wrong with the key.
    pub key_error: Option<String>,
    /// What is wrong with the value.
    pub value_error: Option<String>,
}

impl AttributeRow {
    /// The row of a stored attribute, as the form shows it.
    pub fn stored(key: &str, value: &Value) -> Self {
        let (value, kind) = attribute_form_text(value);
        Self {
            key: key.to_owned(),
            value,
            kind: kind.as_str().to_owned(),
            ..Self::default()
        }
    }

    /// An empty row for a new attribute.
    pub fn empty() -> Self {
        Self {
            kind: AttributeKind::Text.as_str().to_owned(),
            ..Self::default()
        }
    }

    /// Whether the row has an error.
    pub fn has_error(&self) -> bool {
        self.key_error.is_some() || self.value_error.is_some()
    }
}

/// A stored attribute's value as the form writes it, and its type: yes/no in the page's
/// language, a date as `YYYY-MM-DD`.
pub fn attribute_form_text(value: &Value) -> (String, AttributeKind) {
    match value {
        Value::Bool(b) => (attribute_shown(&Value::Bool(*b)), AttributeKind::Boolean),
        Value::Number(n) => (n.to_string(), AttributeKind::Number),
        Value::String(s) if attributes::is_date(s) => (s.clone(), AttributeKind::Date),
        Value::String(s) => (s.clone(), AttributeKind::Text),
        other => (other.to_string(), AttributeKind::Text),
    }
}

/// An attribute's value as a page shows it.
fn attribute_shown(value: &Value) -> String {
    match value {
        Value::Bool(true) => t("yes").to_owned(),
        Value::Bool(false) => t("no").to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The attribute types a row may choose, as (value, label).
fn attribute_kinds() -> [(&'static str, &'static str); 4] {
    [
        ("text", t("text")),
        ("number", t("number")),
        ("boolean", t("yes/no")),
        ("date", t("date")),
    ]
}

fn kind_select(id: &str, name: &str, value: &str, label: &str) -> Markup {
    html! {
        select id=(id) name=(name) aria-label=(label) {
            @for (v, text) in attribute_kinds() { option value=(v) selected[v == value] { (text) } }
        }
    }
}

/// What the correct form shows.
#[derive(Debug, Clone, Copy)]
pub struct EditView<'a> {
    /// Whom it corrects.
    pub id: SubscriberId,
    /// The name as stored or typed.
    pub name: &'a str,
    /// The language tag as stored or chosen.
    pub locale: &'a str,
    /// The person's attributes, as stored or typed.
    pub present: &'a [AttributeRow],
    /// The rows for new attributes.
    pub added: &'a [AttributeRow],
    /// Errors by field: `name`, `attributes` (all of them together).
    pub errors: &'a Errors,
}

/// `/admin/subscribers/{id}/edit`: the form that corrects name, language and attributes,
/// with the errors in place.
pub fn edit_page(ctx: &Ctx, v: &EditView) -> Markup {
    let e = |k: &str| v.errors.get(k);
    let failed =
        !v.errors.is_empty() || v.present.iter().chain(v.added).any(AttributeRow::has_error);
    let id = v.id;
    layout(
        ctx,
        t("Correct a subscriber"),
        html! {
            @if failed { p.error role="alert" { (t("Please correct the fields marked below. Nothing was saved.")) } }
            form.card method="post" action={ "/admin/subscribers/" (id) "/edit" } {
                (csrf_field(&ctx.csrf))
                (field("name", t("Name"), "text", v.name, e("name")))
                (select("locale", t("Language"), &[("en", "English"), ("de", t("German"))], v.locale, None))
                fieldset #attributes {
                    legend { (t("Attributes")) }
                    p.muted { (t("A key is 1 to 40 of a-z, 0-9 and _. Write a number as 12 or 2.5, yes/no as yes or no, a date as YYYY-MM-DD. Tick “remove” or empty the value to remove an attribute.")) }
                    @if let Some(err) = e("attributes") { p.field-error #attributes-error { (err) } }
                    table {
                        tr { th { (t("Key")) } th { (t("Value")) } th { (t("Type")) } th { (t("remove")) } }
                        @for (i, row) in v.present.iter().enumerate() {
                            tr {
                                td { code { (row.key) } input type="hidden" name="attr_key" value=(row.key); }
                                td {
                                    input id={ "attr-value-" (i) } name="attr_value" type="text" value=(row.value)
                                        aria-label=(tf("Value of {key}", &[("key", &row.key)]))
                                        aria-invalid=[row.value_error.as_ref().map(|_| "true")];
                                    @if let Some(err) = &row.value_error { p.field-error { (err) } }
                                }
                                td { (kind_select(&format!("attr-kind-{i}"), "attr_kind", &row.kind, &tf("Type of {key}", &[("key", &row.key)]))) }
                                td { input id={ "attr-remove-" (i) } type="checkbox" name="remove" value=(row.key) checked[row.remove]
                                    aria-label=(tf("Remove {key}", &[("key", &row.key)])); }
                            }
                        }
                        @for (i, row) in v.added.iter().enumerate() {
                            tr {
                                td {
                                    input id={ "new-key-" (i) } name="new_key" type="text" value=(row.key)
                                        aria-label=(t("New key"))
                                        aria-invalid=[row.key_error.as_ref().map(|_| "true")];
                                    @if let Some(err) = &row.key_error { p.field-error { (err) } }
                                }
                                td {
                                    input id={ "new-value-" (i) } name="new_value" type="text" value=(row.value)
                                        aria-label=(t("New value"))
                                        aria-invalid=[row.value_error.as_ref().map(|_| "true")];
                                    @if let Some(err) = &row.value_error { p.field-error { (err) } }
                                }
                                td { (kind_select(&format!("new-kind-{i}"), "new_kind", &row.kind, t("Type of the new value"))) }
                                td {}
                            }
                        }
                    }
                }
                p { button type="submit" { (t("Save")) } " " a href={ "/admin/subscribers/" (id) } { (t("Back")) } }
            }
        },
    )
}

/// The bulk actions, as (path, link text).
fn bulk_actions() -> [(&'static str, &'static str); 3] {
    [
        ("add", t("add to a list…")),
        ("unsubscribe", t("unsubscribe from every list…")),
        ("block", t("block…")),
    ]
}

/// `text` (translated already) with each `{name}` replaced by its markup; the rest of the
/// text is escaped. Lets a sentence with markup inside be ordered by the language.
pub fn filled(text: &str, parts: &[(&str, Markup)]) -> Markup {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let found = rest[open + 1..].find('}').and_then(|close| {
            let name = &rest[open + 1..open + 1 + close];
            parts
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, m)| (close, m))
        });
        match found {
            Some((close, markup)) => {
                out.push_str(&html! { (rest[..open]) }.into_string());
                out.push_str(&markup.0);
                rest = &rest[open + close + 2..];
            }
            None => {
                out.push_str(&html! { (rest[..=open]) }.into_string());
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(&html! { (rest) }.into_string());
    PreEscaped(out)
}

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
                p {
                    @let found = if v.count == 1 { t("{n} person found by the current filter.") } else { t("{n} people found by the current filter.") };
                    (filled(found, &[("n", html! { strong #bulk-count { (v.count) } })]))
                }
                p { (v.text) }
                @if v.count > v.max {
                    p.error role="alert" #too-many { (tf("One bulk action reaches at most {max} people. Narrow the filter, or use the CSV import or the API for larger sets.", &[("max", &i18n::number(v.max))])) }
                    p { a href=(back) { (t("Back to the search")) } }
                } @else if v.count == 0 {
                    p { (t("Nobody to act on.")) " " a href=(back) { (t("Back to the search")) } }
                } @else {
                    form method="post" action={ "/admin/subscribers/bulk/" (v.action) } {
                        (csrf_field(&ctx.csrf))
                        @for (name, value) in v.filter { input type="hidden" name=(name) value=(value); }
                        @if v.action == "add" {
                            (select("target", t("List"), &open_list_options(v.lists), v.add[0], None))
                            p.muted { (t("For a consent list, the evidence is required (GDPR Art. 7(1)) and is recorded for each person: when and where they agreed, and to what wording. No confirmation e-mail is sent. People who left the list, are blocked or suppressed are not added.")) }
                            (field("consent_at", t("Consented at (RFC 3339 or 2025-05-01 08:30:00 UTC)"), "text", v.add[1], None))
                            (field("consent_source", t("Where"), "text", v.add[2], None))
                            (field("consent_text", t("The wording they agreed to"), "text", v.add[3], None))
                        }
                        p {
                            button.danger type="submit" { (v.title) " (" (v.count) ")" }
                            " " a href=(back) { (t("Back")) }
                        }
                    }
                }
            }
        },
    )
}
