//! Subscribers: search by address, name, list and status (keyset pages, newest first), the
//! subscriber's page with subscriptions and the whole consent history, and CSV export.

use axum::{
    Extension,
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use maud::html;
use serde::Deserialize;

use super::AdminSession;
use crate::{
    domain::{Action, ListId, MailingList, SubscriberId, SubscriberStatus, SubscriptionStatus},
    services::{csv_export::CsvTable, lists, subscribers},
    store::{StoreError, overview::SubscriberFilter},
    web::AppState,
    web::views::admin::{self as view, status},
};

/// Rows per page.
const PAGE_SIZE: u64 = 50;
/// Rows per CSV export (read in pages of this size until the end).
const EXPORT_PAGE: u64 = 1000;

#[derive(Debug, Default, Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    before: String,
}

impl SearchQuery {
    fn filter(&self) -> SubscriberFilter {
        SubscriberFilter {
            query: Some(self.q.clone()).filter(|q| !q.trim().is_empty()),
            list: self.list.parse().ok().map(ListId::from_uuid),
            status: SubscriptionStatus::parse(&self.status).ok(),
        }
    }

    fn link(&self, before: SubscriberId) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("list", &self.list)
            .append_pair("status", &self.status)
            .append_pair("before", &before.to_string())
            .finish();
        format!("/admin/subscribers?{query}")
    }
}

/// `GET /admin/subscribers`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<SearchQuery>,
) -> Response {
    let before = q.before.parse().ok().map(SubscriberId::from_uuid);
    let (found, all_lists) = match (
        subscribers::search(&state.ctx, &q.filter(), before, PAGE_SIZE).await,
        lists::all(&state.ctx).await,
    ) {
        (Ok(f), Ok(l)) => (f, l),
        (Err(e), _) | (_, Err(e)) => return view::internal(&e),
    };
    let (rows, next) = found;
    let export = format!(
        "/admin/subscribers.csv?{}",
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &q.q)
            .append_pair("list", &q.list)
            .append_pair("status", &q.status)
            .finish()
    );
    view::layout(
        &session.ctx(),
        "Subscribers",
        html! {
            form.filters.card method="get" action="/admin/subscribers" {
                div { label for="q" { "Address or name" } input #q type="search" name="q" value=(q.q); }
                div { label for="list" { "List" }
                    select #list name="list" {
                        option value="" { "any list" }
                        @for l in &all_lists { option value=(l.id) selected[l.id.to_string() == q.list] { (l.def.name) } }
                    }
                }
                div { label for="status" { "Status" }
                    select #status name="status" {
                        @for (v, t) in [("", "any"), ("pending", "pending"), ("confirmed", "confirmed"), ("unsubscribed", "unsubscribed")] {
                            option value=(v) selected[v == q.status] { (t) }
                        }
                    }
                }
                div { button type="submit" { "Search" } " " a.button href=(export) { "Export CSV" }
                    @if session.ctx().may(Action::ManageSubscribers) {
                        " " a.button href="/admin/subscribers/new" { "Add…" }
                        " " a.button href={ "/admin/import?list=" (list_slug(&all_lists, &q.list)) } { "Import CSV…" }
                    } }
            }
            table {
                tr { th { "Address" } th { "Name" } th { "Status" } th { "Since" } }
                @for s in &rows {
                    tr {
                        td { a href={ "/admin/subscribers/" (s.id) } { (s.email.as_str()) } }
                        td { (s.name.as_str()) } td { (status(s.status.as_str())) }
                        td { (s.created_at.format("%Y-%m-%d")) }
                    }
                }
            }
            @if rows.is_empty() { p.muted { "No subscriber matches." } }
            @if let Some(next) = next { p.pager { a.button href=(q.link(next)) { "Older →" } } }
        },
    )
    .into_response()
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

/// `GET /admin/subscribers/{id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    let ctx = session.ctx();
    let d = match subscribers::detail(&state.ctx, SubscriberId::from_uuid(id)).await {
        Ok(d) => d,
        Err(StoreError::NotFound) => return view::not_found(&ctx),
        Err(e) => return view::internal(&e),
    };
    let all_lists: Vec<MailingList> = d.subscriptions.iter().map(|(l, _)| l.clone()).collect();
    let s = &d.subscriber;
    view::layout(
        &ctx,
        s.email.as_str(),
        html! {
            div.card {
                p { "Name: " (s.name.as_str()) " · language " (s.locale.as_str()) " · " (status(s.status.as_str()))
                    " · since " (s.created_at.format("%Y-%m-%d %H:%M")) }
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
                        td { (sub.requested_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                        td { (sub.confirmed_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                        td { (sub.unsubscribed_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                    }
                }
            }
            h2 { "Consent history" }
            table {
                tr { th { "When" } th { "List" } th { "Action" } th { "Basis" } th { "Actor" } th { "Source" } th { "Network" } }
                @for e in &d.history {
                    tr {
                        td { (e.occurred_at.format("%Y-%m-%d %H:%M:%S")) }
                        td { (list_name(&all_lists, e.list_id)) }
                        td { (e.action.as_str()) } td { (e.legal_basis.as_str()) }
                        td { (e.actor) } td { (e.source) }
                        td { (e.ip_anon.as_deref().unwrap_or("")) }
                    }
                }
            }
        },
    )
    .into_response()
}

/// `GET /admin/subscribers.csv`: the filtered set as CSV (id, email, name, locale, status,
/// created_at), read page by page along the same keyset.
pub(super) async fn export(
    State(state): State<AppState>,
    Extension(_session): Extension<AdminSession>,
    Query(q): Query<SearchQuery>,
) -> Response {
    let filter = q.filter();
    let mut table = CsvTable::new(["id", "email", "name", "locale", "status", "created_at"]);
    let mut before = None;
    loop {
        let (rows, next) = match subscribers::search(&state.ctx, &filter, before, EXPORT_PAGE).await
        {
            Ok(r) => r,
            Err(e) => return view::internal(&e),
        };
        for s in &rows {
            table.row([
                s.id.to_string(),
                s.email.as_str().to_owned(),
                s.name.as_str().to_owned(),
                s.locale.as_str().to_owned(),
                s.status.as_str().to_owned(),
                s.created_at.to_rfc3339(),
            ]);
        }
        match next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"subscribers.csv\"",
            ),
        ],
        table.into_string(),
    )
        .into_response()
}

/// What a subscriber action does, for the confirmation page.
/// The confirmation page's title and explanation of a subscriber action, and what the
/// permission table calls it.
fn action_text(action: &str) -> Option<(&'static str, &'static str, Action)> {
    match action {
        "unsubscribe" => Some((
            "Unsubscribe from every list",
            "Every subscription of this person ends now; the ledger records it with your name.",
            Action::ManageSubscribers,
        )),
        "restrict" => Some((
            "Restrict processing",
            "Nothing is sent to this person until the restriction is lifted (GDPR Art. 18).",
            Action::HandlePersonalData,
        )),
        "block" => Some((
            "Block this person",
            "Nothing is sent to this person and no signup, import or API call adds them again until you lift the block. Their data and subscriptions stay as they are; the ledger records the block with your name.",
            Action::ManageSubscribers,
        )),
        "unblock" => Some((
            "Lift the block",
            "The person returns to the state before the block (restricted, if they asked for a restriction, else active) and receives their confirmed subscriptions again.",
            Action::ManageSubscribers,
        )),
        "erase" => Some((
            "Erase this person",
            "The profile is deleted, the ledger is pseudonymised and the address stays suppressed. This cannot be undone.",
            Action::HandlePersonalData,
        )),
        _ => None,
    }
}

/// `GET /admin/subscribers/{id}/{action}`: asks for confirmation (a GET changes nothing).
pub(super) async fn confirm_action(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((id, action)): Path<(uuid::Uuid, String)>,
) -> Response {
    let ctx = session.ctx();
    let Some((title, text, needs)) = action_text(&action) else {
        return view::not_found(&ctx);
    };
    if session.actor().authorize(needs).is_err() {
        return view::forbidden(&ctx);
    }
    let s = match crate::services::subscribers::find(&state.ctx, SubscriberId::from_uuid(id)).await
    {
        Ok(s) => s,
        Err(StoreError::NotFound) => return view::not_found(&ctx),
        Err(e) => return view::internal(&e),
    };
    view::layout(
        &ctx,
        title,
        html! {
            div.card {
                p { strong { (s.email.as_str()) } }
                p { (text) }
                form method="post" action={ "/admin/subscribers/" (id) "/" (action) } {
                    (view::csrf_field(&ctx.csrf))
                    button.danger type="submit" { (title) }
                    " " a href={ "/admin/subscribers/" (id) } { "Back" }
                }
            }
        },
    )
    .into_response()
}

/// `POST /admin/subscribers/{id}/{action}`: the same privacy services the API calls.
pub(super) async fn act(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((id, action)): Path<(uuid::Uuid, String)>,
) -> Response {
    use crate::services::privacy::{self, Party, PrivacyError};
    let ctx = session.ctx();
    if action_text(&action).is_none() {
        return view::not_found(&ctx);
    }
    let subscriber = SubscriberId::from_uuid(id);
    let actor = Party::operator(&session.actor(), None);
    let result = match action.as_str() {
        "unsubscribe" => privacy::withdraw(&state.ctx, subscriber, None, &actor)
            .await
            .map(|_| ()),
        "restrict" => privacy::restrict(&state.ctx, subscriber, true, &actor)
            .await
            .map(|_| ()),
        "block" | "unblock" => privacy::block(&state.ctx, subscriber, action == "block", &actor)
            .await
            .map(|_| ()),
        "erase" => privacy::erase(&state.ctx, subscriber, &actor).await,
        _ => return view::not_found(&ctx),
    };
    match result {
        Ok(()) => {
            let to = match action.as_str() {
                "erase" => "/admin/subscribers".to_owned(),
                _ => format!("/admin/subscribers/{id}"),
            };
            axum::response::Redirect::to(&to).into_response()
        }
        Err(PrivacyError::Forbidden(_)) => view::forbidden(&ctx),
        Err(PrivacyError::NotFound | PrivacyError::AlreadyErased) => view::not_found(&ctx),
        Err(e) => view::internal(&e),
    }
}
