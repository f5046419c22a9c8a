//! Campaigns: the list, compose (Markdown), the page of one campaign with its figures and a
//! preview in a sandboxed iframe, and the moves: test send, schedule, pause, resume, cancel.

use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{NaiveDateTime, TimeZone, Utc};
use maud::Markup;
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    domain::{Action, CampaignId, EmailAddress, ListSlug, MailingList},
    services::{
        campaigns::{self, CampaignDraft, CampaignsError},
        lists,
    },
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            self as view, Errors,
            campaigns::{
                CampaignView, ComposeFormView, campaign_page, campaigns_page, compose_page,
            },
        },
    },
};

/// The preview is marketer HTML: it may not run scripts, reach our origin, or be framed by
/// anything but our own pages.
pub(super) const PREVIEW_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'";

/// `GET /admin/campaigns`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let all = campaigns::all(&state.ctx).await?;
    Ok(campaigns_page(&session.ctx(), &all).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CampaignForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body_markdown: String,
    #[serde(default)]
    list: Vec<String>,
    #[serde(default)]
    reply_to: String,
}

/// The compose page with the form as typed.
fn compose(
    session: &AdminSession,
    all: &[MailingList],
    form: &CampaignForm,
    errors: &Errors,
    code: StatusCode,
) -> Response {
    let values = ComposeFormView {
        name: &form.name,
        subject: &form.subject,
        body_markdown: &form.body_markdown,
        lists: &form.list,
        reply_to: &form.reply_to,
    };
    (code, compose_page(&session.ctx(), all, &values, errors)).into_response()
}

/// `GET /admin/campaigns/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let all = lists::all(&state.ctx).await?;
    let form = CampaignForm::default();
    Ok(compose(
        &session,
        &all,
        &form,
        &Errors::new(),
        StatusCode::OK,
    ))
}

/// The form field a refusal of the service is about.
fn field_of(e: &CampaignsError) -> &'static str {
    let text = e.to_string();
    match e {
        _ if text.starts_with("lists:") => "list",
        _ if text.contains("subject") => "subject",
        _ if text.contains("name") => "name",
        CampaignsError::UnknownList(_) => "list",
        _ => "body_markdown",
    }
}

/// `POST /admin/campaigns`: saves a draft through the same service as the API.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<CampaignForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let all = lists::all(&state.ctx).await?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let slugs: Vec<ListSlug> = form
        .list
        .iter()
        .filter_map(|s| ListSlug::parse(s).ok())
        .collect();
    if slugs.is_empty() {
        let errors = Errors::from([("list", "choose at least one list".to_owned())]);
        return Ok(compose(&session, &all, &form, &errors, refused));
    }
    let reply_to = match form.reply_to.trim() {
        "" => None,
        raw => match EmailAddress::parse(raw) {
            Ok(address) => Some(address),
            Err(e) => {
                let errors = Errors::from([("reply_to", e.to_string())]);
                return Ok(compose(&session, &all, &form, &errors, refused));
            }
        },
    };
    let draft = CampaignDraft {
        name: form.name.clone(),
        subject: form.subject.clone(),
        body_markdown: form.body_markdown.clone(),
        lists: slugs,
        from: None,
        reply_to,
    };
    let errors = match campaigns::create(&state.ctx, &session.actor(), draft).await {
        Ok(c) => return Ok(Redirect::to(&format!("/admin/campaigns/{}", c.id)).into_response()),
        Err(e @ (CampaignsError::Invalid(_) | CampaignsError::UnknownList(_))) => {
            Errors::from([(field_of(&e), e.to_string())])
        }
        Err(e @ CampaignsError::Template(_)) => Errors::from([("body_markdown", e.to_string())]),
        Err(e) => return Err(e.into()),
    };
    Ok(compose(&session, &all, &form, &errors, refused))
}

/// `GET /admin/campaigns/{id}`: figures, progress, preview and the moves.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    let id = CampaignId::from_uuid(id);
    show_with(&state, &session, id, None, StatusCode::OK).await
}

/// The campaign's page, with `error` above it when a move was refused.
async fn show_with(
    state: &AppState,
    session: &AdminSession,
    id: CampaignId,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, AdminError> {
    let overview = campaigns::overview(&state.ctx, id).await?;
    let timeline = campaigns::timeline(&state.ctx, id).await?;
    let v = CampaignView {
        overview,
        timeline,
        error,
    };
    Ok((code, campaign_page(&session.ctx(), &v)).into_response())
}

/// `GET /admin/campaigns/{id}/preview`: the HTML as a sample recipient would get it, under a
/// sandboxing CSP of its own.
pub(super) async fn preview(
    State(state): State<AppState>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    let page = match campaigns::preview(&state.ctx, CampaignId::from_uuid(id)).await {
        Ok(m) => view::campaigns::preview(m.html),
        Err(CampaignsError::NotFound) => return Err(AdminError::NotFound),
        Err(e) => view::preview_failed(&e.to_string()),
    };
    Ok(sandboxed(page))
}

/// A preview frame's document under the sandboxing CSP, framed only by our own pages.
pub(super) fn sandboxed(page: Markup) -> Response {
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
        axum::response::Html(page.into_string()),
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ActForm {
    #[serde(default)]
    send_at: String,
    #[serde(default)]
    to: String,
}

/// `POST /admin/campaigns/{id}/{schedule|pause|resume|cancel|test}`.
pub(super) async fn act(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((id, verb)): Path<(uuid::Uuid, String)>,
    PageForm(form): PageForm<ActForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let id = CampaignId::from_uuid(id);
    let (ctx, actor) = (&state.ctx, session.actor());
    let result = match verb.as_str() {
        "schedule" => match parse_send_at(&form.send_at) {
            Ok(at) => campaigns::schedule(ctx, &actor, id, at).await.map(|_| ()),
            Err(e) => Err(CampaignsError::Invalid(e)),
        },
        "pause" => campaigns::pause(ctx, &actor, id, "paused by a person")
            .await
            .map(|_| ()),
        "resume" => campaigns::resume(ctx, &actor, id).await.map(|_| ()),
        "cancel" => campaigns::cancel(ctx, &actor, id).await.map(|_| ()),
        "test" => match EmailAddress::parse(&form.to) {
            Ok(to) => state.send_test(&actor, id, &[to]).await,
            Err(e) => Err(CampaignsError::Invalid(format!("test address: {e}"))),
        },
        _ => return Err(AdminError::NotFound),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/campaigns/{id}")).into_response()),
        Err(
            e
            @ (CampaignsError::Forbidden(_) | CampaignsError::NotFound | CampaignsError::Store(_)),
        ) => Err(e.into()),
        Err(e) => {
            let code = match e {
                CampaignsError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            show_with(&state, &session, id, Some(e.to_string()), code).await
        }
    }
}

/// A `datetime-local` value read as UTC; empty means now.
fn parse_send_at(raw: &str) -> Result<Option<chrono::DateTime<Utc>>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(|t| Some(Utc.from_utc_datetime(&t)))
        .ok_or_else(|| format!("send at: {raw:?} is not a date and time"))
}

impl From<CampaignsError> for AdminError {
    fn from(e: CampaignsError) -> Self {
        match e {
            CampaignsError::Forbidden(_) => Self::Forbidden,
            CampaignsError::NotFound => Self::NotFound,
            CampaignsError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
}
