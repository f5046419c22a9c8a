//! `/admin/suppressions`: see, add and lift suppressions, as `/api/v1/suppressions` does.

use axum::{
    Extension,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    domain::{EmailAddress, SuppressionReason},
    services::{
        paging::Page,
        suppressions::{self, SuppressionsError},
    },
    web::{
        AppState,
        extract::PageForm,
        views::admin::{
            suppressions::{SuppressionsView, suppressions_page},
            t,
        },
    },
};

const PAGE: u64 = 50;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

/// `GET /admin/suppressions[?reason=R][&cursor=C]`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AdminError> {
    page(&state, &session, &q, None, StatusCode::OK).await
}

async fn page(
    state: &AppState,
    session: &AdminSession,
    q: &ListQuery,
    problem: Option<&str>,
    code: StatusCode,
) -> Result<Response, AdminError> {
    let reason = q
        .reason
        .as_deref()
        .filter(|r| !r.is_empty())
        .and_then(|r| SuppressionReason::parse(r).ok());
    let after = q
        .cursor
        .as_deref()
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    let Page { items, next } =
        suppressions::page(&state.ctx, &session.actor(), reason, after, PAGE).await?;
    let view = SuppressionsView {
        items: &items,
        next_cursor: next.as_deref(),
        reason,
        problem,
    };
    Ok((code, suppressions_page(&session.ctx(), &view)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    note: String,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

/// `POST /admin/suppressions`: suppresses an address by hand.
pub(super) async fn add(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<AddForm>,
) -> Result<Response, AdminError> {
    let Ok(email) = EmailAddress::parse(&form.email) else {
        let q = ListQuery::default();
        let problem = Some(t("Enter the e-mail address to suppress."));
        return page(
            &state,
            &session,
            &q,
            problem,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let note = Some(form.note.trim()).filter(|n| !n.is_empty());
    suppressions::add(&state.ctx, &session.actor(), &email, note).await?;
    Ok(Redirect::to("/admin/suppressions?reason=manual").into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct LiftForm {
    #[serde(default)]
    note: String,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

/// `POST /admin/suppressions/{id}/lift`: admins, with a note.
pub(super) async fn lift(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    PageForm(form): PageForm<LiftForm>,
) -> Result<Response, AdminError> {
    match suppressions::lift(&state.ctx, &session.actor(), &id, &form.note).await {
        Ok(()) => Ok(Redirect::to("/admin/suppressions").into_response()),
        Err(SuppressionsError::NoteMissing) => {
            let q = ListQuery::default();
            let problem = Some(t("Say why the suppression is lifted."));
            page(
                &state,
                &session,
                &q,
                problem,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

impl From<SuppressionsError> for AdminError {
    fn from(e: SuppressionsError) -> Self {
        match e {
            SuppressionsError::Forbidden(_) => Self::Forbidden,
            SuppressionsError::NotFound => Self::NotFound,
            SuppressionsError::Store(e) => e.into(),
            e @ SuppressionsError::NoteMissing => Self::internal(&e),
        }
    }
}
