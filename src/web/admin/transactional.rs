//! `/admin/transactional`: the templates of transactional mail: list, write, change and
//! delete them, as `/api/v1/transactional-templates` does. The messages themselves are asked
//! for through the API.

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    services::transactional::{self, TemplateText, TransactionalError},
    web::{
        AppState,
        extract::PageForm,
        views::admin::{
            te,
            transactional::{Draft, template_page, templates_page},
        },
    },
};

impl From<TransactionalError> for AdminError {
    fn from(e: TransactionalError) -> Self {
        match e {
            TransactionalError::Forbidden(_) => Self::Forbidden,
            TransactionalError::NotFound => Self::NotFound,
            TransactionalError::Store(e) => e.into(),
            e @ (TransactionalError::Invalid(_)
            | TransactionalError::NameTaken(_)
            | TransactionalError::NotMailable(_)) => Self::internal(&e),
        }
    }
}

/// `GET /admin/transactional`: every template, and the form for a new one.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let all = transactional::templates(&state.ctx, &session.actor()).await?;
    Ok(templates_page(&session.ctx(), &all, &Draft::default(), None).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TemplateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body_markdown: String,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

impl TemplateForm {
    fn draft(&self) -> Draft {
        Draft {
            name: self.name.trim().to_owned(),
            subject: self.subject.trim().to_owned(),
            // Browsers send textarea lines with CRLF.
            body_markdown: self.body_markdown.replace("\r\n", "\n"),
        }
    }
}

/// `POST /admin/transactional`: saves a new template, or shows the form again with why not.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<TemplateForm>,
) -> Result<Response, AdminError> {
    let draft = form.draft();
    let text = TemplateText {
        subject: draft.subject.clone(),
        body_markdown: draft.body_markdown.clone(),
    };
    match transactional::create_template(&state.ctx, &session.actor(), &draft.name, text).await {
        Ok(t) => Ok(Redirect::to(&format!("/admin/transactional/{}", t.name)).into_response()),
        Err(e @ (TransactionalError::Invalid(_) | TransactionalError::NameTaken(_))) => {
            let all = transactional::templates(&state.ctx, &session.actor()).await?;
            let page = templates_page(&session.ctx(), &all, &draft, Some(&te(&e)));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/transactional/{name}`: the template's editor.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(name): Path<String>,
) -> Result<Response, AdminError> {
    let found = transactional::template(&state.ctx, &session.actor(), &name).await?;
    let draft = Draft {
        name: found.name.clone(),
        subject: found.subject.clone(),
        body_markdown: found.body_markdown.clone(),
    };
    Ok(template_page(&session.ctx(), &found, &draft, None).into_response())
}

/// `POST /admin/transactional/{name}`: saves the subject and body.
pub(super) async fn save(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(name): Path<String>,
    PageForm(form): PageForm<TemplateForm>,
) -> Result<Response, AdminError> {
    let draft = Draft {
        name: name.clone(),
        ..form.draft()
    };
    let saved = transactional::update_template(
        &state.ctx,
        &session.actor(),
        &name,
        Some(draft.subject.clone()),
        Some(draft.body_markdown.clone()),
    )
    .await;
    match saved {
        Ok(t) => Ok(Redirect::to(&format!("/admin/transactional/{}", t.name)).into_response()),
        Err(e @ TransactionalError::Invalid(_)) => {
            let found = transactional::template(&state.ctx, &session.actor(), &name).await?;
            let page = template_page(&session.ctx(), &found, &draft, Some(&te(&e)));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/transactional/{name}/delete`.
pub(super) async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(name): Path<String>,
) -> Result<Response, AdminError> {
    transactional::delete_template(&state.ctx, &session.actor(), &name).await?;
    Ok(Redirect::to("/admin/transactional").into_response())
}
