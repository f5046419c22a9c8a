//! `/admin/webhooks`: outgoing webhooks, as `/api/v1/webhooks` manages them (admins only).

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    domain::HookEndpointId,
    services::hooks::{self, EndpointChange, HooksError},
    web::{
        AppState,
        extract::PageForm,
        views::admin::hooks::{HooksView, hook_page, hooks_page},
    },
};

/// Attempts shown on an endpoint's page.
const ATTEMPTS: u64 = 100;

impl From<HooksError> for AdminError {
    fn from(e: HooksError) -> Self {
        match e {
            HooksError::Forbidden(_) => Self::Forbidden,
            HooksError::NotFound => Self::NotFound,
            HooksError::Store(e) => e.into(),
            e @ HooksError::Invalid(_) => Self::internal(&e),
        }
    }
}

/// `GET /admin/webhooks`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let endpoints = hooks::all(&state.ctx, &session.actor()).await?;
    let view = HooksView {
        endpoints: &endpoints,
        created: None,
        problem: None,
    };
    Ok(hooks_page(&session.ctx(), &view).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AddForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

/// `POST /admin/webhooks`: adds one and shows its secret, once.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<AddForm>,
) -> Result<Response, AdminError> {
    let actor = session.actor();
    let created = hooks::create(&state.ctx, &actor, &form.url, &form.events).await;
    let (created, problem, code) = match created {
        Ok(endpoint) => (Some(endpoint), None, StatusCode::OK),
        Err(HooksError::Invalid(problem)) => {
            (None, Some(problem), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => return Err(e.into()),
    };
    let endpoints = hooks::all(&state.ctx, &actor).await?;
    let view = HooksView {
        endpoints: &endpoints,
        created: created.as_ref().map(|e| (e, e.secret.as_str())),
        problem: problem.as_deref(),
    };
    Ok((code, hooks_page(&session.ctx(), &view)).into_response())
}

fn endpoint_id(raw: &str) -> Result<HookEndpointId, AdminError> {
    raw.parse()
        .map(HookEndpointId::from_uuid)
        .map_err(|_| AdminError::NotFound)
}

/// `GET /admin/webhooks/{id}`: the endpoint and its newest attempts.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    let id = endpoint_id(&id)?;
    let actor = session.actor();
    let endpoint = hooks::find(&state.ctx, &actor, id).await?;
    let attempts = hooks::attempts(&state.ctx, &actor, id, None, ATTEMPTS).await?;
    Ok(hook_page(&session.ctx(), &endpoint, &attempts).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ActionForm {
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

/// `POST /admin/webhooks/{id}/{enable|disable|delete}`.
pub(super) async fn act(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((id, action)): Path<(String, String)>,
    PageForm(_form): PageForm<ActionForm>,
) -> Result<Response, AdminError> {
    let id = endpoint_id(&id)?;
    let actor = session.actor();
    let enabled = match action.as_str() {
        "enable" => true,
        "disable" => false,
        "delete" => {
            hooks::delete(&state.ctx, &actor, id).await?;
            return Ok(Redirect::to("/admin/webhooks").into_response());
        }
        _ => return Err(AdminError::NotFound),
    };
    let change = EndpointChange {
        enabled: Some(enabled),
        ..EndpointChange::default()
    };
    hooks::update(&state.ctx, &actor, id, change).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}
