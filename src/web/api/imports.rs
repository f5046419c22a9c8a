//! `POST /api/v1/subscribers/import?list=SLUG`: a CSV body, streamed into the import service.

use crate::web::error::ApiErrors;
use std::io;

use axum::{
    Json,
    body::Body,
    extract::{RawQuery, State},
    http::StatusCode,
};
use futures_util::TryStreamExt;
use serde::Deserialize;
use tokio_util::io::StreamReader;

use crate::{
    services::imports::{self, ImportError, ImportOptions, ImportReport},
    web::AppState,
    web::{error::ApiError, extract::ApiCaller},
};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    list: Option<String>,
    dry_run: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/subscribers/import", tag = "imports", security(("bearer" = [])), params(("list" = String, Query, description = "the list slug", pattern = "^[a-z0-9][a-z0-9-]{0,63}$", example = "news"), ("dry_run" = Option<bool>, Query, description = "true: check every row and write nothing; the report says what an import would do")), request_body(content = String, content_type = "text/csv", description = "UTF-8 CSV with a header row: `email` (required), `name`, `locale`, `consent_at`, `consent_source`, `consent_text`, `attr.KEY[:type]`", example = json!("email,name,consent_at,consent_source,consent_text\nada@example.com,Ada,2025-05-01T08:30:00Z,shop,Yes please\n")), responses((status = 200, description = "the import report", body = Object), ApiErrors))]
/// `POST /api/v1/subscribers/import?list=SLUG[&dry_run=true]` with a CSV body → the import
/// report (of a dry run: what an import would do; nothing is written).
pub(super) async fn import(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<Json<ImportReport>, ApiError> {
    let query: ImportQuery = serde_html_form::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    let raw = query
        .list
        .ok_or_else(|| ApiError::invalid("list: the query parameter is required"))?;
    // A list is named by slug or id here as everywhere; the import works by slug.
    let slug = super::named_list(&state, &raw)
        .await?
        .ok_or_else(|| unknown_list(&raw))?
        .def
        .slug;
    imports::check(&state.ctx, &caller.actor(), &slug).await?;
    let stream = body.into_data_stream().map_err(crate::web::body_error);
    // The whole body is on disk before the import's transaction opens; it must arrive
    // within `import.timeout_secs`.
    let spooled = imports::spool(&state.ctx, StreamReader::new(stream));
    let file = tokio::time::timeout(state.ctx.settings.import.timeout, spooled)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the body did not arrive within import.timeout_secs; nothing was imported",
            )
        })??;
    let options = ImportOptions {
        dry_run: query.dry_run.unwrap_or(false),
        progress: None,
    };
    let source = tokio::io::BufReader::with_capacity(64 * 1024, file);
    let report =
        imports::import_csv_with(&state.ctx, &caller.actor(), &slug, source, options).await?;
    Ok(Json(report))
}

fn unknown_list(slug: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("there is no list {slug:?}"),
    )
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Forbidden(e) => e.into(),
            ImportError::UnknownList(slug) => unknown_list(&slug),
            ImportError::MissingEmailColumn | ImportError::Malformed { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_csv",
                e.to_string(),
            ),
            ImportError::Read(io) if io.kind() == io::ErrorKind::FileTooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the file is larger than import.max_body_bytes allows",
            ),
            ImportError::Read(_) => Self::new(
                StatusCode::BAD_REQUEST,
                "malformed_body",
                "the request body could not be read",
            ),
            ImportError::Store(e) => e.into(),
        }
    }
}
