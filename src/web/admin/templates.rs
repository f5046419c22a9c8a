//! E-mail templates: the files in use per language, one file's editor with its preview (in a
//! sandboxed iframe; of the saved source or, without saving, of what is typed), saving an
//! override (refused in place, with the line, when it does not
//! work) and reverting to the built-in. The same service as `/api/v1/templates`.

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession, campaigns::sandboxed};
use crate::{
    services::templates::{self, TemplatesError},
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            self as view, te,
            templates::{template_page, templates_page},
            tf,
        },
    },
};

/// `GET /admin/templates`: every message per language, with the parts that are overridden.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let all = templates::all(&state.ctx).await?;
    Ok(templates_page(&session.ctx(), &all).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SourceForm {
    #[serde(default)]
    source: String,
}

fn path_of(locale: &str, file: &str) -> String {
    format!("{locale}/{file}")
}

/// `GET /admin/templates/{locale}/{file}`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((locale, file)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let t = templates::get(&state.ctx, &path_of(&locale, &file)).await?;
    Ok(template_page(&session.ctx(), &t, &t.source, None).into_response())
}

/// `POST /admin/templates/{locale}/{file}`: saves an override, or shows the problem with
/// what was typed.
pub(super) async fn save(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((locale, file)): Path<(String, String)>,
    PageForm(form): PageForm<SourceForm>,
) -> Result<Response, AdminError> {
    let path = path_of(&locale, &file);
    // Browsers send textarea lines with CRLF; the files have LF.
    let source = form.source.replace("\r\n", "\n");
    match templates::save(&state.ctx, &session.actor(), &path, &source).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/templates/{path}")).into_response()),
        Err(e @ TemplatesError::Invalid { .. }) => {
            let t = templates::get(&state.ctx, &path).await?;
            let page = template_page(&session.ctx(), &t, &source, Some(&said(&e)));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/templates/{locale}/{file}/revert`.
pub(super) async fn revert(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((locale, file)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let path = path_of(&locale, &file);
    templates::revert(&state.ctx, &session.actor(), &path).await?;
    Ok(Redirect::to(&format!("/admin/templates/{path}")).into_response())
}

/// `GET /admin/templates/{locale}/{file}/preview`: the HTML of the message the file belongs
/// to, with sample values, under the sandboxing CSP of the campaign preview.
pub(super) async fn preview(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((locale, file)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    preview_page(&state, &session, &path_of(&locale, &file), None).await
}

/// `POST /admin/templates/{locale}/{file}/preview`: the same with the typed source in place
/// of the file's (the editor's "Preview without saving", shown in the preview's iframe);
/// saves nothing.
pub(super) async fn preview_draft(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((locale, file)): Path<(String, String)>,
    PageForm(form): PageForm<SourceForm>,
) -> Result<Response, AdminError> {
    let source = form.source.replace("\r\n", "\n");
    preview_page(&state, &session, &path_of(&locale, &file), Some(&source)).await
}

async fn preview_page(
    state: &AppState,
    session: &AdminSession,
    path: &str,
    draft: Option<&str>,
) -> Result<Response, AdminError> {
    let page = match templates::preview(&state.ctx, &session.actor(), path, draft).await {
        Ok(m) => view::templates::preview(&m.subject, &m.text, &m.html),
        Err(e @ (TemplatesError::NotFound | TemplatesError::Forbidden(_))) => return Err(e.into()),
        Err(e) => view::preview_failed(&said(&e)),
    };
    Ok(sandboxed(page))
}

/// Why a template does not work, in the page's language (the engine's own words stay).
fn said(e: &TemplatesError) -> String {
    match e {
        TemplatesError::Invalid {
            line: Some(line),
            reason,
        } => tf(
            "line {line}: {reason}",
            &[("line", line), ("reason", reason)],
        ),
        e => te(e),
    }
}

impl From<TemplatesError> for AdminError {
    fn from(e: TemplatesError) -> Self {
        match e {
            TemplatesError::Forbidden(_) => Self::Forbidden,
            TemplatesError::NotFound => Self::NotFound,
            TemplatesError::Store(e) => e.into(),
            e @ TemplatesError::Invalid { .. } => Self::internal(&e),
        }
    }
}
