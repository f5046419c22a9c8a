//! CSV import in the admin UI: upload a file for a list (streamed to disk), see its first
//! rows as the import reads them, check it by a dry run (the invalid rows by line, nothing
//! written), and import it in the background, with a progress page that reloads itself (no
//! script) when the user asks (`?watch=1`, where starting a run leads). The same import service as the API and the CLI does the work.

use axum::{
    Extension,
    extract::{
        Multipart, Path, Query, State,
        multipart::{Field, MultipartError, MultipartRejection},
    },
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use futures_util::TryStreamExt;
use serde::Deserialize;
use tokio_util::io::StreamReader;

use super::{AdminError, AdminSession};
use crate::{
    domain::{Action, ListSlug, MailingList},
    services::{
        imports::uploads::{self, Stage, StagedFile, Upload, UploadError},
        lists,
    },
    web::AppState,
    web::views::admin::{
        Ctx, Errors,
        imports::{
            no_such_upload_page, not_now_page, progress_page, reason, upload_form_page,
            upload_page, upload_refused_page,
        },
        t, te, tf,
    },
};

/// Rows shown in the preview.
const PREVIEW_ROWS: usize = 10;

#[derive(Debug, Default, Deserialize)]
pub(super) struct FormQuery {
    #[serde(default)]
    list: String,
}

/// `GET /admin/import[?list=SLUG]`: the upload form.
pub(super) async fn form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<FormQuery>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageSubscribers)?;
    let all = lists::all(&state.ctx).await?;
    Ok(form_page(
        &state,
        &session.ctx(),
        &all,
        &q.list,
        &Errors::new(),
    ))
}

/// The upload form with `list` chosen and the errors in place; 413 for a file too large.
fn form_page(
    state: &AppState,
    ctx: &Ctx,
    all: &[MailingList],
    list: &str,
    errors: &Errors,
) -> Response {
    let max_mib = state.ctx.settings.import.max_upload_bytes / (1024 * 1024);
    let code = if errors.is_empty() {
        StatusCode::OK
    } else if errors.contains_key("too_large") {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (code, upload_form_page(ctx, all, list, errors, max_mib)).into_response()
}

/// What the upload form sent.
#[derive(Debug, Default)]
struct Received {
    list: String,
    file: Option<(String, StagedFile)>,
}

/// `POST /admin/import/upload` (`multipart/form-data`: `list`, `file`): streams the file to
/// disk, checks the list and the header, and shows the preview.
pub(super) async fn upload(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AdminError> {
    let ctx = session.ctx();
    let Ok(multipart) = multipart else {
        return Ok(bad_request(
            &ctx,
            t("The form was not sent as a file upload."),
        ));
    };
    let all = lists::all(&state.ctx).await?;
    let mut errors = Errors::new();
    // The file must arrive within `import.timeout_secs`; a partial file is deleted.
    let receiving = receive(&state, multipart);
    let Ok(received) = tokio::time::timeout(state.ctx.settings.import.timeout, receiving).await
    else {
        let message =
            t("The upload took longer than import.timeout_secs allows; nothing was kept.");
        return Ok((
            StatusCode::REQUEST_TIMEOUT,
            upload_refused_page(&ctx, message),
        )
            .into_response());
    };
    let received = match received {
        Ok(r) => r,
        Err(UploadError::Read(_)) => {
            return Ok(bad_request(&ctx, t("The upload could not be read.")));
        }
        Err(e @ UploadError::Disk(_)) => return Err(e.into()),
        Err(e) => {
            note(&mut errors, &e);
            return Ok(form_page(&state, &ctx, &all, "", &errors));
        }
    };
    let slug = ListSlug::parse(&received.list);
    let (Ok(slug), Some((file_name, staged))) = (slug, received.file) else {
        if ListSlug::parse(&received.list).is_err() {
            errors.insert("list", t("Choose a list.").into());
        }
        errors
            .entry("file")
            .or_insert_with(|| t("Choose a CSV file.").into());
        return Ok(form_page(&state, &ctx, &all, &received.list, &errors));
    };
    let actor = session.actor();
    match uploads::register(
        &state.ctx,
        &state.uploads,
        staged,
        &slug,
        &file_name,
        &actor,
    )
    .await
    {
        Ok(upload) => Ok(Redirect::to(&format!("/admin/import/{}", upload.id)).into_response()),
        Err(e @ (UploadError::Forbidden(_) | UploadError::Disk(_) | UploadError::Store(_))) => {
            Err(e.into())
        }
        Err(e) => {
            note(&mut errors, &e);
            Ok(form_page(&state, &ctx, &all, &received.list, &errors))
        }
    }
}

/// Reads the form's fields in any order; the file goes to disk as it arrives.
async fn receive(state: &AppState, mut multipart: Multipart) -> Result<Received, UploadError> {
    let mut received = Received::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("list") => received.list = small_text(field).await?,
            Some("file") => {
                let file_name = field.file_name().unwrap_or("upload.csv").to_owned();
                let stream = field.map_err(|e| io_error(&e));
                let staged = uploads::receive(&state.ctx, StreamReader::new(stream)).await?;
                received.file = Some((file_name, staged));
            }
            _ => drop(small_text(field).await?),
        }
    }
    Ok(received)
}

/// A short text field (a slug, a token): at most 1 KiB is kept, the rest is read and dropped.
async fn small_text(mut field: Field<'_>) -> Result<String, UploadError> {
    let mut text = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        let room = 1024_usize.saturating_sub(text.len());
        text.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(String::from_utf8_lossy(&text).trim().to_owned())
}

fn io_error(e: &MultipartError) -> std::io::Error {
    let kind = match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => std::io::ErrorKind::FileTooLarge,
        _ => std::io::ErrorKind::InvalidData,
    };
    std::io::Error::new(kind, e.body_text())
}

fn multipart_error(e: MultipartError) -> UploadError {
    UploadError::Read(io_error(&e))
}

/// Puts an upload error where the form shows it.
fn note(errors: &mut Errors, e: &UploadError) {
    let (key, message) = match e {
        UploadError::UnknownList(_) => ("list", t("There is no such list.").to_owned()),
        UploadError::Empty => ("file", t("The file is empty.").to_owned()),
        UploadError::TooLarge { max_bytes } => {
            errors.insert("too_large", String::new());
            let said = tf(
                "the file is larger than {max} bytes (import.max_upload_bytes)",
                &[("max", max_bytes)],
            );
            ("file", said)
        }
        UploadError::Invalid(e) => (
            "file",
            tf(
                "This file cannot be imported: {reason}",
                &[("reason", &reason(&e.to_string()))],
            ),
        ),
        UploadError::Quota(setting) => (
            "form",
            tf(
                "too many uploads are waiting to be imported ({setting}); import or wait for earlier ones",
                &[("setting", setting)],
            ),
        ),
        other => ("form", te(other)),
    };
    errors.insert(key, message);
}

fn bad_request(ctx: &Ctx, message: &str) -> Response {
    (StatusCode::BAD_REQUEST, upload_refused_page(ctx, message)).into_response()
}

/// The upload of a page's path, if this process has it (the role is asked first).
fn upload_of(
    state: &AppState,
    session: &AdminSession,
    id: &str,
) -> Result<Option<std::sync::Arc<Upload>>, AdminError> {
    session.authorize(Action::ManageSubscribers)?;
    Ok(id.parse().ok().and_then(|id| state.uploads.find(id)))
}

/// The answer to the path of an upload this process does not have.
fn no_such_upload(ctx: &Ctx) -> Response {
    (StatusCode::NOT_FOUND, no_such_upload_page(ctx)).into_response()
}

/// `?watch=1`: the progress page reloads itself while the run goes on.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WatchQuery {
    #[serde(default)]
    watch: Option<String>,
}

/// `GET /admin/import/{id}[?watch=1]`: the preview and the actions, the progress while a run
/// goes on (reloading itself when watched), or the report (which never reloads).
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    Query(q): Query<WatchQuery>,
) -> Result<Response, AdminError> {
    let ctx = session.ctx();
    let Some(upload) = upload_of(&state, &session, &id)? else {
        return Ok(no_such_upload(&ctx));
    };
    let stage = upload.stage();
    if let Stage::Running { dry_run, progress } = &stage {
        let watch = q.watch.as_deref() == Some("1");
        return Ok(progress_page(&ctx, &upload, *dry_run, progress, watch).into_response());
    }
    let preview = match &stage {
        Stage::Imported(_) => None,
        _ => match uploads::preview(&upload, PREVIEW_ROWS).await {
            Ok(p) => Some(p),
            Err(e @ UploadError::Disk(_)) => return Err(e.into()),
            Err(e) => return Ok(bad_request(&ctx, &reason(&e.to_string()))),
        },
    };
    Ok(upload_page(&ctx, &upload, &stage, preview.as_ref()).into_response())
}

/// `POST /admin/import/{id}/check` (dry run) or `…/run` (the import): starts it in the
/// background and leads to the progress page, watched: the user's click asks for its reloads.
pub(super) async fn start(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let dry_run = match action.as_str() {
        "check" => true,
        "run" => false,
        _ => return Err(AdminError::NotFound),
    };
    let ctx = session.ctx();
    let Some(upload) = upload_of(&state, &session, &id)? else {
        return Ok(no_such_upload(&ctx));
    };
    match uploads::start(&state.ctx, &upload, dry_run, &session.actor()).await {
        Ok(()) => Ok(Redirect::to(&format!("/admin/import/{}?watch=1", upload.id)).into_response()),
        Err(e @ (UploadError::Busy | UploadError::Done)) => {
            let page = not_now_page(&ctx, &upload, &te(&e));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

impl From<UploadError> for AdminError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Forbidden(_) => Self::Forbidden,
            UploadError::NotFound => Self::NotFound,
            UploadError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
}
