//! Subscribers: search by address, name, list, status and suppression (keyset pages, newest
//! first), the subscriber's page with subscriptions and the whole consent history, CSV
//! export, and the bulk actions on everyone a filter finds (asked first, audited).

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
    domain::{Action, ListId, ListSlug, SubscriberId, SubscriptionStatus},
    services::{
        lists,
        privacy::{self, Party},
        subscribers,
    },
    store::overview::SubscriberFilter,
    web::AppState,
    web::extract::PageForm,
    web::views::admin::{
        i18n,
        imports::reason,
        subscribers::{
            BulkView, ConfirmView, SearchView, bulk_page, confirm_page, search_page,
            subscriber_page,
        },
        t, te, tf,
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

    /// The filter as a query string.
    fn filter_query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &self.q)
            .append_pair("list", &self.list)
            .append_pair("status", &self.status)
            .append_pair("suppressed", &self.suppressed)
            .finish()
    }

    /// The CSV export of the same filter.
    fn export_link(&self) -> String {
        format!("/admin/subscribers.csv?{}", self.filter_query())
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
    let bulk_query = q.filter_query();
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
        bulk_query: &bulk_query,
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
            t("Unsubscribe from every list"),
            t("Every subscription of this person ends now; the ledger records it with your name."),
            Action::ManageSubscribers,
        )),
        "restrict" => Some((
            t("Restrict processing"),
            t("Nothing is sent to this person until the restriction is lifted (GDPR Art. 18)."),
            Action::HandlePersonalData,
        )),
        "block" => Some((
            t("Block this person"),
            t(
                "Nothing is sent to this person and no signup, import or API call adds them again until you lift the block. Their data and subscriptions stay as they are; the ledger records the block with your name.",
            ),
            Action::ManageSubscribers,
        )),
        "unblock" => Some((
            t("Lift the block"),
            t(
                "The person returns to the state before the block (restricted, if they asked for a restriction, else active) and receives their confirmed subscriptions again.",
            ),
            Action::ManageSubscribers,
        )),
        "erase" => Some((
            t("Erase this person"),
            t(
                "The profile is deleted, the ledger is pseudonymised and the address stays suppressed. This cannot be undone.",
            ),
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
        "erase" => ("/admin/subscribers".to_owned(), t("The person was erased.")),
        "unsubscribe" => (
            format!("/admin/subscribers/{id}"),
            t("Every subscription of this person has ended."),
        ),
        "restrict" => (
            format!("/admin/subscribers/{id}"),
            t("Processing is restricted: nothing is sent to this person."),
        ),
        "block" => (
            format!("/admin/subscribers/{id}"),
            t("The person is blocked."),
        ),
        _ => (
            format!("/admin/subscribers/{id}"),
            t("The block is lifted."),
        ),
    };
    Ok(super::redirect_with(&state, &session, &to, done))
}

/// The bulk action form: the filter it applies to, and what `add` needs.
#[derive(Debug, Default, Deserialize)]
pub(super) struct BulkForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    suppressed: String,
    /// The list to add to (its slug).
    #[serde(default)]
    target: String,
    #[serde(default)]
    consent_at: String,
    #[serde(default)]
    consent_source: String,
    #[serde(default)]
    consent_text: String,
}

impl BulkForm {
    fn search(&self) -> SearchQuery {
        SearchQuery {
            q: self.q.clone(),
            list: self.list.clone(),
            status: self.status.clone(),
            suppressed: self.suppressed.clone(),
            before: String::new(),
        }
    }

    /// What the form asks, or why it cannot be done.
    fn action(&self, action: &str) -> Result<subscribers::BulkAction, String> {
        let some = |raw: &str| Some(raw.trim().to_owned()).filter(|s| !s.is_empty());
        match action {
            "unsubscribe" => Ok(subscribers::BulkAction::Unsubscribe),
            "block" => Ok(subscribers::BulkAction::Block),
            _ => Ok(subscribers::BulkAction::AddToList {
                list: ListSlug::parse(&self.target)
                    .map_err(|e| tf("list: {error}", &[("error", &te(&e))]))?,
                consent_at: some(&self.consent_at),
                consent_source: some(&self.consent_source),
                consent_text: some(&self.consent_text),
            }),
        }
    }
}

/// The confirmation page's title and what the bulk action does to each person.
fn bulk_text(action: &str) -> Option<(&'static str, &'static str)> {
    match action {
        "add" => Some((
            t("Add everyone found to a list"),
            t(
                "Each person is added to the list by the rules of an import row; the ledger records it with your name.",
            ),
        )),
        "unsubscribe" => Some((
            t("Unsubscribe everyone found from every list"),
            t(
                "Every subscription of each person ends now (product notices too); the ledger records it with your name.",
            ),
        )),
        "block" => Some((
            t("Block everyone found"),
            t(
                "Nothing is sent to these people and no signup, import or API call adds them again until the block is lifted. Their data and subscriptions stay as they are.",
            ),
        )),
        _ => None,
    }
}

/// The confirmation page of a bulk action, with `error` above it.
async fn bulk_confirmation(
    state: &AppState,
    session: &AdminSession,
    action: &str,
    form: &BulkForm,
    error: Option<&str>,
) -> Result<Response, AdminError> {
    let (title, text) = bulk_text(action).ok_or(AdminError::NotFound)?;
    session.authorize(Action::ManageSubscribers)?;
    let search = form.search();
    let count = subscribers::count(&state.ctx, &search.filter()).await?;
    let all_lists = lists::all(&state.ctx).await?;
    let query = search.filter_query();
    let filter = [
        ("q", form.q.as_str()),
        ("list", form.list.as_str()),
        ("status", form.status.as_str()),
        ("suppressed", form.suppressed.as_str()),
    ];
    let v = BulkView {
        action,
        title,
        text,
        count,
        max: subscribers::MAX_BULK_PEOPLE,
        query: &query,
        filter: &filter,
        lists: &all_lists,
        add: [
            &form.target,
            &form.consent_at,
            &form.consent_source,
            &form.consent_text,
        ],
        error,
    };
    let code = match error {
        Some(_) => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        None => axum::http::StatusCode::OK,
    };
    Ok((code, bulk_page(&session.ctx(), &v)).into_response())
}

/// `GET /admin/subscribers/bulk/{action}?FILTER`: how many people the action reaches, and
/// the button (a GET changes nothing).
pub(super) async fn confirm_bulk(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(action): Path<String>,
    Query(form): Query<BulkForm>,
) -> Result<Response, AdminError> {
    bulk_confirmation(&state, &session, &action, &form, None).await
}

/// `POST /admin/subscribers/bulk/{action}`: does it to everyone the filter finds, through
/// the one-person services, and says what it did on the search page.
pub(super) async fn act_in_bulk(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(action): Path<String>,
    PageForm(form): PageForm<BulkForm>,
) -> Result<Response, AdminError> {
    let (title, _) = bulk_text(&action).ok_or(AdminError::NotFound)?;
    let what = match form.action(&action) {
        Ok(what) => what,
        Err(e) => return bulk_confirmation(&state, &session, &action, &form, Some(&e)).await,
    };
    let filter = form.search().filter();
    // The work runs on its own task: if the request times out or the browser goes away, it
    // still finishes and writes its audit entry.
    let (ctx, actor) = (state.ctx.clone(), session.actor());
    let task = tokio::spawn(async move { subscribers::bulk(&ctx, &actor, &filter, &what).await });
    let report = match task.await {
        Ok(Ok(report)) => report,
        Ok(Err(subscribers::BulkError::Forbidden(_))) => return Err(AdminError::Forbidden),
        Ok(Err(subscribers::BulkError::Store(e))) => return Err(e.into()),
        Ok(Err(subscribers::BulkError::TooMany(found))) => {
            let e = tf(
                "the filter finds {found} people; one bulk action reaches at most {max}: narrow the filter, or use the CSV import or the API",
                &[
                    ("found", &i18n::number(found)),
                    ("max", &i18n::number(subscribers::MAX_BULK_PEOPLE)),
                ],
            );
            return bulk_confirmation(&state, &session, &action, &form, Some(&e)).await;
        }
        Ok(Err(subscribers::BulkError::Invalid(e))) => {
            let e = reason(&e);
            return bulk_confirmation(&state, &session, &action, &form, Some(&e)).await;
        }
        Err(e) => return Err(AdminError::internal(&e)),
    };
    let done = tf(
        "{title}: {found} found, {changed} changed, {unchanged} already so, {refused} refused (suppressed, left, blocked or erased).",
        &[
            ("title", &title),
            ("found", &i18n::number(report.found)),
            ("changed", &i18n::number(report.changed)),
            ("unchanged", &i18n::number(report.unchanged)),
            ("refused", &i18n::number(report.refused)),
        ],
    );
    let to = format!("/admin/subscribers?{}", form.search().filter_query());
    Ok(super::redirect_with(&state, &session, &to, &done))
}

impl From<subscribers::ExportError> for AdminError {
    fn from(e: subscribers::ExportError) -> Self {
        match e {
            subscribers::ExportError::Forbidden(e) => e.into(),
            subscribers::ExportError::Store(e) => e.into(),
        }
    }
}
