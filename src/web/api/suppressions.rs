//! `/api/v1/suppressions`: the addresses Bulletin never mails again, with why and since
//! when; adding one by hand; lifting one (admins, with a note).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, RawQuery, State},
    http::StatusCode,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{EmailAddress, SuppressionReason},
    services::{
        paging::Page,
        suppressions::{self, Suppression, SuppressionsError},
    },
    web::AppState,
    web::{
        error::{ApiError, ApiErrors},
        extract::{ApiCaller, ApiJson},
    },
};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SuppressionResponse {
    /// Opaque and stable.
    id: String,
    /// `hard_bounce`, `soft_bounce_limit`, `complaint`, `erased` or `manual`.
    reason: String,
    created_at: DateTime<Utc>,
    /// The refusal's status line, the note, or what else was recorded.
    detail: Option<String>,
    /// `null` when the person was erased (or is not known).
    subscriber_id: Option<String>,
    /// `null` when the person was erased (or is not known).
    email: Option<String>,
}

impl From<Suppression> for SuppressionResponse {
    fn from(s: Suppression) -> Self {
        let (subscriber_id, email) = match s.subscriber {
            Some((id, email)) => (Some(id.to_string()), Some(email.as_str().to_owned())),
            None => (None, None),
        };
        Self {
            id: s.id,
            reason: s.reason.as_str().to_owned(),
            created_at: s.created_at,
            detail: s.detail,
            subscriber_id,
            email,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SuppressionsResponse {
    suppressions: Vec<SuppressionResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    reason: Option<String>,
    cursor: Option<String>,
    limit: Option<super::PageLimit>,
}

#[utoipa::path(get, path = "/api/v1/suppressions", tag = "suppressions", security(("bearer" = [])), params(("reason" = Option<crate::domain::SuppressionReason>, Query, description = "only this reason"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = SuppressionsResponse), ApiErrors))]
/// `GET /api/v1/suppressions[?reason=R][&cursor=C][&limit=N]` → the suppressions by id.
pub(super) async fn all(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<SuppressionsResponse>, ApiError> {
    let query: ListQuery = super::query(raw.as_deref())?;
    let reason = query
        .reason
        .as_deref()
        .map(SuppressionReason::parse)
        .transpose()
        .map_err(|e| ApiError::invalid(format!("reason: {e}")))?;
    let after = super::cursor(query.cursor.as_deref(), |c| {
        (c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit())).then(|| c.to_owned())
    })?;
    let limit = super::page_limit(query.limit);
    let Page { items, next } =
        suppressions::page(&state.ctx, &caller.actor(), reason, after.as_deref(), limit).await?;
    Ok(Json(SuppressionsResponse {
        suppressions: items.into_iter().map(SuppressionResponse::from).collect(),
        next_cursor: next,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AddRequest {
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    email: String,
    /// Only `manual` (the default).
    #[schema(value_type = Option<String>, pattern = "^manual$", example = "manual")]
    reason: Option<String>,
    note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/suppressions", tag = "suppressions", security(("bearer" = [])), request_body = AddRequest, responses((status = 201, body = SuppressionResponse), ApiErrors))]
/// `POST /api/v1/suppressions` `{"email","reason":"manual","note"}` → 201: the address is
/// never mailed again (unchanged when it was suppressed already).
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<AddRequest>,
) -> Result<(StatusCode, Json<SuppressionResponse>), ApiError> {
    if body.reason.as_deref().is_some_and(|r| r != "manual") {
        return Err(ApiError::invalid(
            "reason: only \"manual\" can be added by hand",
        ));
    }
    let email =
        EmailAddress::parse(&body.email).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let note = body
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let added = suppressions::add(&state.ctx, &caller.actor(), &email, note).await?;
    Ok((StatusCode::CREATED, Json(added.into())))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LiftRequest {
    /// Why the address may be mailed again (required).
    note: Option<String>,
}

#[utoipa::path(delete, path = "/api/v1/suppressions/{id}", tag = "suppressions", security(("bearer" = [])), params(("id" = String, Path, description = "the suppression id")), request_body = LiftRequest, responses((status = 204, description = "lifted"), ApiErrors))]
/// `DELETE /api/v1/suppressions/{id}` `{"note"}` → 204: the address may be mailed again.
/// Admins only; the note is required (422 without) and audited.
pub(super) async fn lift(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let request: LiftRequest = match body.is_empty() {
        true => LiftRequest::default(),
        false => {
            serde_json::from_slice(&body).map_err(|e| ApiError::invalid(format!("body: {e}")))?
        }
    };
    let note = request.note.unwrap_or_default();
    suppressions::lift(&state.ctx, &caller.actor(), &id, &note).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/suppressions/import", tag = "suppressions", security(("bearer" = [])), request_body(content = String, content_type = "text/csv", description = "UTF-8 CSV with a header row: `email` (required), optionally `reason`", example = json!("email\nada@example.com\n")), responses((status = 200, description = "what the import did: rows, added, already, errors by line", body = Object), ApiErrors))]
/// `POST /api/v1/suppressions/import` with another provider's suppression list as CSV (an
/// `email` column, optionally `reason`) → the report. The body is written to disk first
/// (within `import.timeout_secs`), at most `import.max_body_bytes`.
pub(super) async fn import(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: axum::body::Body,
) -> Result<Json<suppressions::ImportReport>, ApiError> {
    use futures_util::TryStreamExt;
    caller
        .actor()
        .authorize(crate::domain::Action::ManageSubscribers)?;
    let stream = body.into_data_stream().map_err(crate::web::body_error);
    let spooled =
        crate::services::imports::spool(&state.ctx, tokio_util::io::StreamReader::new(stream));
    let file = tokio::time::timeout(state.ctx.settings.import.timeout, spooled)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the body did not arrive within import.timeout_secs; nothing was imported",
            )
        })??;
    let report = suppressions::import(&state.ctx, &caller.actor(), file.into_std().await)
        .await
        .map_err(|e| match e {
            suppressions::ImportError::Forbidden(e) => e.into(),
            suppressions::ImportError::BadFile(m) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_csv", m)
            }
            suppressions::ImportError::Store(e) => e.into(),
        })?;
    Ok(Json(report))
}

impl From<SuppressionsError> for ApiError {
    fn from(e: SuppressionsError) -> Self {
        match e {
            SuppressionsError::Forbidden(e) => e.into(),
            SuppressionsError::NotFound => Self::not_found("suppression"),
            SuppressionsError::NoteMissing => Self::invalid(e.to_string()),
            SuppressionsError::Store(e) => e.into(),
        }
    }
}
