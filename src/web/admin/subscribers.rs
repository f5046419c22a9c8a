//! Subscribers: search by address, name, list, status and suppression (keyset pages, newest
//! first), the subscriber's page with subscriptions and the whole consent history, and CSV
//! export.

use axum::{
    Extension,
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::services::paging::Page;
use crate::{
    domain::{Action, ListId, SubscriberId, SubscriptionStatus},
    services::{
        lists,
        privacy::{self, Party},
        subscribers,
    },
    store::overview::SubscriberFilter,
    web::AppState,
    web::views::admin::subscribers::{
        ConfirmView, SearchView, confirm_page, search_page, subscriber_page,
    },
};

/// Rows per page.
const PAGE_SIZE: u64 = 50;

#[derive(Debug, Default, Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    status: String,
    /// `true`, `false`, or empty for everyone.
    #[serde(default)]
    suppressed: String,
    #[serde(default)]
    before: String,
}

impl SearchQuery {
    fn filter(&self) -> SubscriberFilter {
        SubscriberFilter {
            query: Some(self.q.clone()).filter(|q| !q.trim().is_empty()),
            list: self.list.parse().ok().map(ListId::from_uuid),
            status: SubscriptionStatus::parse(&self.status).ok(),
            suppressed: match self.suppressed.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
        }
    }

    /// The CSV export of the same filter.
    fn export_link(&self) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("list", &self.list)
            .append_pair("status", &self.status)
            .append_pair("suppressed", &self.suppressed)
            .finish();
        format!("/admin/subscribers.csv?{query}")
    }

    /// The page of the same filter after `before`.
    fn link(&self, before: SubscriberId) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("list", &self.list)
            .append_pair("status", &self.status)
            .append_pair("suppressed", &self.suppressed)
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
) -> Result<Response, AdminError> {
    let before = q.before.parse().ok().map(SubscriberId::from_uuid);
    let found = subscribers::browse(&state.ctx, &q.filter(), before, PAGE_SIZE).await?;
    let Page { items: rows, next } = found.page;
    let all_lists = lists::all(&state.ctx).await?;
    let export = q.export_link();
    let next = next.map(|n| q.link(n));
    let v = SearchView {
        q: &q.q,
        list: &q.list,
        status: &q.status,
        suppressed: &q.suppressed,
        lists: &all_lists,
        rows: &rows,
        total: found.total,
        on_list: &found.on_list,
        export_href: &export,
        next_href: next.as_deref(),
    };
    Ok(search_page(&session.ctx(), &v).into_response())
}

/// `GET /admin/subscribers/{id}`.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    let d = subscribers::detail(&state.ctx, SubscriberId::from_uuid(id)).await?;
    Ok(subscriber_page(&session.ctx(), &d).into_response())
}

/// `GET /admin/subscribers.csv`: the filtered set as CSV (id, email, name, locale, status,
/// created_at), read page by page along the same keyset.
pub(super) async fn export(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<SearchQuery>,
) -> Result<Response, AdminError> {
    let csv = subscribers::export_csv(&state.ctx, &session.actor(), &q.filter()).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"subscribers.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

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
) -> Result<Response, AdminError> {
    let (title, text, needs) = action_text(&action).ok_or(AdminError::NotFound)?;
    session.authorize(needs)?;
    let subscriber = subscribers::find(&state.ctx, SubscriberId::from_uuid(id)).await?;
    let v = ConfirmView {
        subscriber: &subscriber,
        action: &action,
        title,
        text,
    };
    Ok(confirm_page(&session.ctx(), &v).into_response())
}

/// `POST /admin/subscribers/{id}/{action}`: the same privacy services the API calls.
pub(super) async fn act(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((id, action)): Path<(uuid::Uuid, String)>,
) -> Result<Response, AdminError> {
    let (ctx, subscriber) = (&state.ctx, SubscriberId::from_uuid(id));
    let actor = Party::operator(&session.actor(), None);
    match action.as_str() {
        "unsubscribe" => privacy::withdraw(ctx, subscriber, None, &actor)
            .await
            .map(|_| ()),
        "restrict" => privacy::restrict(ctx, subscriber, true, &actor)
            .await
            .map(|_| ()),
        "block" | "unblock" => privacy::block(ctx, subscriber, action == "block", &actor)
            .await
            .map(|_| ()),
        "erase" => privacy::erase(ctx, subscriber, &actor).await,
        _ => return Err(AdminError::NotFound),
    }?;
    let (to, done) = match action.as_str() {
        "erase" => ("/admin/subscribers".to_owned(), "The person was erased."),
        "unsubscribe" => (
            format!("/admin/subscribers/{id}"),
            "Every subscription of this person has ended.",
        ),
        "restrict" => (
            format!("/admin/subscribers/{id}"),
            "Processing is restricted: nothing is sent to this person.",
        ),
        "block" => (format!("/admin/subscribers/{id}"), "The person is blocked."),
        _ => (format!("/admin/subscribers/{id}"), "The block is lifted."),
    };
    Ok(super::redirect_with(&state, &session, &to, done))
}

impl From<subscribers::ExportError> for AdminError {
    fn from(e: subscribers::ExportError) -> Self {
        match e {
            subscribers::ExportError::Forbidden(e) => e.into(),
            subscribers::ExportError::Store(e) => e.into(),
        }
    }
}
