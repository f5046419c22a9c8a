//! Campaigns: the list, the page of one campaign with its figures and a preview in a
//! sandboxed iframe, and the moves: test send, schedule, pause, resume, cancel, duplicate,
//! delete, each saying what it did on the next page (composing and reviewing are in
//! `campaign_forms`).

use axum::{
    Extension,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{NaiveDateTime, TimeZone, Utc};
use maud::Markup;
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    domain::{Action, CampaignId, CampaignStatus, EmailAddress},
    services::campaigns::{self, CampaignsError},
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            self as view,
            campaigns::{CampaignView, campaign_page, campaigns_page},
        },
    },
};

/// The preview is marketer HTML: it may not run scripts, reach our origin, or be framed by
/// anything but our own pages.
pub(super) const PREVIEW_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'";

/// Campaigns per page of the list.
const CAMPAIGNS_PAGE: u64 = 50;

#[derive(Debug, Default, Deserialize)]
pub(super) struct IndexQuery {
    #[serde(default)]
    before: String,
}

/// `GET /admin/campaigns[?before=ID]`: a page of campaigns, newest first, with their figures.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    axum::extract::Query(q): axum::extract::Query<IndexQuery>,
) -> Result<Response, AdminError> {
    let before = match q.before.as_str() {
        "" => None,
        raw => Some(CampaignId::from_uuid(
            raw.parse().map_err(|_| AdminError::NotFound)?,
        )),
    };
    let found = campaigns::page_with_counts(&state.ctx, before, CAMPAIGNS_PAGE).await?;
    Ok(campaigns_page(&session.ctx(), &found.items, found.next).into_response())
}

/// `GET /admin/campaigns/{id}`: figures, progress, preview and the moves.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    Query(q): Query<WatchQuery>,
) -> Result<Response, AdminError> {
    let id = CampaignId::from_uuid(id);
    let watch = q.watch.as_deref() == Some("1");
    show_watching(&state, &session, id, None, StatusCode::OK, watch).await
}

/// `?watch=1`: the page of a sending campaign reloads itself.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct WatchQuery {
    #[serde(default)]
    watch: Option<String>,
}

/// The campaign's page, with `error` above it when a move was refused.
async fn show_with(
    state: &AppState,
    session: &AdminSession,
    id: CampaignId,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, AdminError> {
    show_watching(state, session, id, error, code, false).await
}

/// The campaign's page; `watch`: it reloads itself while the campaign moves.
async fn show_watching(
    state: &AppState,
    session: &AdminSession,
    id: CampaignId,
    error: Option<String>,
    code: StatusCode,
    watch: bool,
) -> Result<Response, AdminError> {
    let overview = campaigns::overview(&state.ctx, id).await?;
    let timeline = campaigns::timeline(&state.ctx, id).await?;
    let audience = match overview.campaign.status {
        CampaignStatus::Draft | CampaignStatus::Scheduled => {
            Some(campaigns::audience(&state.ctx, id).await?)
        }
        _ => None,
    };
    let is_notice = crate::services::notices::is_notice_campaign(&state.ctx, id).await?;
    let v = CampaignView {
        overview,
        timeline,
        error,
        audience,
        is_notice,
        watch,
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
        Ok(m) => view::campaigns::preview(&m.html),
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
    /// `now` or `at` (the review's choice); absent: an empty `send_at` means now.
    #[serde(default)]
    when: String,
    #[serde(default)]
    to: String,
    /// The page the form is on: `review` answers a refusal there, beside its field.
    #[serde(default)]
    page: String,
}

/// `POST /admin/campaigns/{id}/{schedule|pause|resume|cancel|test|duplicate|delete}`: each
/// move says what it did on the next page.
pub(super) async fn act(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((id, verb)): Path<(uuid::Uuid, String)>,
    PageForm(form): PageForm<ActForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let id = CampaignId::from_uuid(id);
    let here = format!("/admin/campaigns/{id}");
    let done = match verb.as_str() {
        "duplicate" | "delete" => return copy_or_delete(&state, &session, id, &verb).await,
        _ => do_move(&state, &session, id, &verb, &form).await?,
    };
    let said = match done {
        Ok(said) => said,
        Err(
            e
            @ (CampaignsError::Forbidden(_) | CampaignsError::NotFound | CampaignsError::Store(_)),
        ) => {
            return Err(e.into());
        }
        Err(e) => return refused(&state, &session, id, &verb, &form, e).await,
    };
    let to = match (verb.as_str(), form.page.as_str()) {
        ("test", "review") => format!("{here}/review"),
        // Who just set it going watches it go.
        ("schedule" | "resume", _) => format!("{here}?watch=1"),
        _ => here,
    };
    Ok(super::redirect_with(&state, &session, &to, &said))
}

/// Makes move `verb` and says what it did; `Err(NotFound)` (outer) for an unknown verb.
async fn do_move(
    state: &AppState,
    session: &AdminSession,
    id: CampaignId,
    verb: &str,
    form: &ActForm,
) -> Result<Result<String, CampaignsError>, AdminError> {
    let (ctx, actor) = (&state.ctx, session.actor());
    Ok(match verb {
        "schedule" => match parse_when(&form.when, &form.send_at, session.user.time_zone) {
            Ok(at) => {
                campaigns::schedule(ctx, &actor, id, at)
                    .await
                    .map(|c| match (at, c.send_at) {
                        (Some(_), Some(t)) => {
                            format!("Scheduled for {}.", session.ctx().time(t))
                        }
                        _ => "Sending now: the campaign starts within a minute.".to_owned(),
                    })
            }
            Err(e) => Err(CampaignsError::Invalid(e)),
        },
        "pause" => campaigns::pause(ctx, &actor, id, "paused by a person")
            .await
            .map(|_| "Paused: nothing more is sent until you resume.".to_owned()),
        "resume" => campaigns::resume(ctx, &actor, id)
            .await
            .map(|c| match c.status {
                CampaignStatus::Scheduled => "Resumed: it is scheduled again.".to_owned(),
                _ => "Resumed: sending continues, messages that waited go out at once.".to_owned(),
            }),
        "cancel" => campaigns::cancel(ctx, &actor, id)
            .await
            .map(|_| "Cancelled: messages not sent yet will never be sent.".to_owned()),
        "test" => match parse_addresses(&form.to) {
            Ok(to) => state
                .send_test(&actor, id, &to)
                .await
                .map(|()| match to.len() {
                    1 => "Test sent to 1 address.".to_owned(),
                    n => format!("Test sent to {n} addresses."),
                }),
            Err(e) => Err(CampaignsError::Invalid(e)),
        },
        _ => return Err(AdminError::NotFound),
    })
}

/// Duplicate (to the copy's composer) or delete (to the list), each with its message; a
/// refusal is shown on the campaign's page.
async fn copy_or_delete(
    state: &AppState,
    session: &AdminSession,
    id: CampaignId,
    verb: &str,
) -> Result<Response, AdminError> {
    let (ctx, actor) = (&state.ctx, session.actor());
    let result = match verb {
        "duplicate" => campaigns::duplicate(ctx, &actor, id).await.map(|copy| {
            let said = format!(
                "Copied into a new draft, \u{201c}{}\u{201d}: change it here.",
                copy.def.name
            );
            (format!("/admin/campaigns/{}/edit", copy.id), said)
        }),
        _ => {
            let name = campaigns::find(ctx, id).await?.def.name;
            campaigns::delete(ctx, &actor, id).await.map(|()| {
                let said = format!("The campaign \u{201c}{name}\u{201d} is deleted.");
                ("/admin/campaigns".to_owned(), said)
            })
        }
    };
    match result {
        Ok((to, said)) => Ok(super::redirect_with(state, session, &to, &said)),
        Err(
            e
            @ (CampaignsError::Forbidden(_) | CampaignsError::NotFound | CampaignsError::Store(_)),
        ) => Err(e.into()),
        Err(e) => {
            show_with(
                state,
                session,
                id,
                Some(e.to_string()),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

/// A refused move: on the review page beside its field when it came from there, else above
/// the campaign's page.
async fn refused(
    state: &AppState,
    session: &AdminSession,
    id: CampaignId,
    verb: &str,
    form: &ActForm,
    e: CampaignsError,
) -> Result<Response, AdminError> {
    let code = match e {
        CampaignsError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        CampaignsError::State(_) | CampaignsError::Raced => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    if form.page == "review" {
        let field = if verb == "test" { "to" } else { "send_at" };
        let error = Some((field, e.to_string()));
        return super::campaign_forms::review_with(state, session, id, error, &form.send_at, code)
            .await;
    }
    show_with(state, session, id, Some(e.to_string()), code).await
}

/// The review's choice: `now`, or `at` the typed time (which must be given); without a
/// choice an empty time means now.
fn parse_when(
    when: &str,
    send_at: &str,
    zone: chrono_tz::Tz,
) -> Result<Option<chrono::DateTime<Utc>>, String> {
    match (when, send_at.trim()) {
        ("now", _) => Ok(None),
        ("at", "") => Err("Choose the date and time to send it at, or send it now.".into()),
        _ => parse_send_at(send_at, zone),
    }
}

/// Test addresses as typed: up to 10, separated by commas, semicolons or spaces.
fn parse_addresses(raw: &str) -> Result<Vec<EmailAddress>, String> {
    let typed: Vec<&str> = raw
        .split([',', ';', ' ', '\n', '\r', '\t'])
        .filter(|s| !s.is_empty())
        .collect();
    if typed.is_empty() {
        return Err("Write the address to send the test to.".into());
    }
    typed
        .iter()
        .map(|a| {
            EmailAddress::parse(a)
                .map_err(|_| format!("\u{201c}{a}\u{201d} is not an e-mail address."))
        })
        .collect()
}

/// A `datetime-local` value read in the user's time zone `zone`, as UTC; empty means now.
/// A time the clocks skip (the spring change) is refused; one they pass twice (autumn) is
/// the first.
fn parse_send_at(raw: &str, zone: chrono_tz::Tz) -> Result<Option<chrono::DateTime<Utc>>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let local = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .ok_or_else(|| format!("send at: {raw:?} is not a date and time"))?;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| {
            format!(
                "send at: {raw} does not exist in {} (the clocks skip it)",
                zone.name()
            )
        })
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
