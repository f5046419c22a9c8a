//! E-mail templates: the files in use per language, one file's editor with its preview (in a
//! sandboxed iframe; of the saved source or, without saving, of what is typed), saving an
//! override (refused in place, with the line, when it does not
//! work) and reverting to the built-in. The same service as `/api/v1/templates`.

use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use maud::{PreEscaped, html};
use serde::Deserialize;

use super::{AdminSession, campaigns::PREVIEW_CSP};
use crate::{
    domain::{Action, Locale},
    services::templates::{self, TemplateInfo, TemplatesError},
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{self as view, csrf_field, status},
    },
};

/// `GET /admin/templates`: every message per language, with the parts that are overridden.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let all = match templates::all(&state.ctx).await {
        Ok(a) => a,
        Err(e) => return view::internal(&e),
    };
    let mut messages: Vec<&str> = all.iter().map(|t| t.file.message).collect();
    messages.dedup();
    messages.sort_unstable();
    messages.dedup();
    let ctx = session.ctx();
    view::layout(
        &ctx,
        "E-mail templates",
        html! {
            p.muted { "The messages Bulletin sends, per language. An override saved here is used by every instance at once and survives deploys; revert goes back to the built-in." }
            table {
                tr { th { "Message" } @for l in Locale::ALL { th { (l.as_str()) } } }
                @for m in &messages {
                    tr {
                        td { (m) }
                        @for l in Locale::ALL {
                            td {
                                @for t in all.iter().filter(|t| t.file.message == *m && t.file.locale == l) {
                                    a href={ "/admin/templates/" (t.file.path) } { (t.file.part) }
                                    @if t.saved.is_some() { " " (status("overridden")) }
                                    br;
                                }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SourceForm {
    #[serde(default)]
    source: String,
}

fn edit_page(
    session: &AdminSession,
    t: &TemplateInfo,
    typed: &str,
    error: Option<&TemplatesError>,
    code: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let action = format!("/admin/templates/{}", t.file.path);
    let markup = view::layout(
        &ctx,
        &format!("Template {}", t.file.path),
        html! {
            p { a href="/admin/templates" { "← all templates" } }
            div.card {
                p {
                    "Message " strong { (t.file.message) } ", part " code { (t.file.part) } ", language " (t.file.locale.as_str()) ". "
                    @match &t.saved {
                        Some(o) => { (status("overridden")) " saved by " (o.updated_by) " at " (o.updated_at.format("%Y-%m-%d %H:%M UTC")) }
                        None => { (status("built-in")) }
                    }
                }
                @if ctx.may(Action::ManageTemplates) {
                    form method="post" action=(action) {
                        (csrf_field(&ctx.csrf))
                        label for="source" { "Source (minijinja; variables as in the built-in below)" }
                        textarea id="source" name="source" aria-invalid=[error.map(|_| "true")] { (typed) }
                        @if let Some(e) = error { p.field-error role="alert" { (e) } }
                        p {
                            button type="submit" { "Save override" } " "
                            button.secondary type="submit" formaction={ (action) "/preview" } formtarget="template-preview" { "Preview without saving" }
                        }
                    }
                    @if t.saved.is_some() {
                        form method="post" action={ (action) "/revert" } {
                            (csrf_field(&ctx.csrf))
                            button.secondary type="submit" { "Revert to the built-in" }
                        }
                    }
                } @else {
                    pre { (typed) }
                }
            }
            details { summary { "Built-in source" } pre { (t.builtin) } }
            h2 { "Preview with sample values" }
            p.muted { "As saved; “Preview without saving” shows what is typed above instead." }
            iframe.preview sandbox="" name="template-preview" src={ (action) "/preview" } title="Preview of the e-mail" {}
        },
    );
    (code, markup).into_response()
}

fn path_of(locale: &str, file: &str) -> String {
    format!("{locale}/{file}")
}

/// `GET /admin/templates/{locale}/{file}`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((locale, file)): Path<(String, String)>,
) -> Response {
    match templates::get(&state.ctx, &path_of(&locale, &file)).await {
        Ok(t) => edit_page(&session, &t, &t.source.clone(), None, StatusCode::OK),
        Err(TemplatesError::NotFound) => view::not_found(&session.ctx()),
        Err(e) => view::internal(&e),
    }
}

/// `POST /admin/templates/{locale}/{file}`: saves an override, or shows the problem with
/// what was typed.
pub(super) async fn save(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((locale, file)): Path<(String, String)>,
    PageForm(form): PageForm<SourceForm>,
) -> Response {
    let path = path_of(&locale, &file);
    // Browsers send textarea lines with CRLF; the files have LF.
    let source = form.source.replace("\r\n", "\n");
    match templates::save(&state.ctx, &session.actor(), &path, &source).await {
        Ok(_) => Redirect::to(&format!("/admin/templates/{path}")).into_response(),
        Err(TemplatesError::NotFound) => view::not_found(&session.ctx()),
        Err(TemplatesError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(e @ TemplatesError::Invalid { .. }) => match templates::get(&state.ctx, &path).await {
            Ok(t) => edit_page(
                &session,
                &t,
                &source,
                Some(&e),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(e) => view::internal(&e),
        },
        Err(e) => view::internal(&e),
    }
}

/// `POST /admin/templates/{locale}/{file}/revert`.
pub(super) async fn revert(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((locale, file)): Path<(String, String)>,
) -> Response {
    let path = path_of(&locale, &file);
    match templates::revert(&state.ctx, &session.actor(), &path).await {
        Ok(_) => Redirect::to(&format!("/admin/templates/{path}")).into_response(),
        Err(TemplatesError::NotFound) => view::not_found(&session.ctx()),
        Err(TemplatesError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(e) => view::internal(&e),
    }
}

/// `GET /admin/templates/{locale}/{file}/preview`: the HTML of the message the file belongs
/// to, with sample values, under the sandboxing CSP of the campaign preview.
pub(super) async fn preview(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((locale, file)): Path<(String, String)>,
) -> Response {
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
) -> Response {
    let source = form.source.replace("\r\n", "\n");
    preview_page(&state, &session, &path_of(&locale, &file), Some(&source)).await
}

async fn preview_page(
    state: &AppState,
    session: &AdminSession,
    path: &str,
    draft: Option<&str>,
) -> Response {
    let html = match templates::preview(&state.ctx, &session.actor(), path, draft).await {
        Ok(m) => {
            // Subject and text part above the HTML, escaped by maud.
            html! {
                p { strong { "Subject: " } (m.subject) }
                details { summary { "Text part" } pre { (m.text) } }
                hr;
            }
            .into_string()
                + &m.html
        }
        Err(TemplatesError::NotFound) => return view::not_found(&session.ctx()),
        Err(TemplatesError::Forbidden(_)) => return view::forbidden(&session.ctx()),
        Err(e) => html! { p { "The template does not render: " (e) } }.into_string(),
    };
    (
        [
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PREVIEW_CSP),
            ),
            (
                header::X_FRAME_OPTIONS,
                HeaderValue::from_static("SAMEORIGIN"),
            ),
        ],
        // Rendered by our template engine from operator templates; the CSP sandbox contains it.
        axum::response::Html(PreEscaped(html).into_string()),
    )
        .into_response()
}
