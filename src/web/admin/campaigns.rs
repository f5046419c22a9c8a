//! Campaigns: the list, compose (Markdown), the page of one campaign with its figures and a
//! preview in a sandboxed iframe, and the moves: test send, schedule, pause, resume, cancel.

use std::collections::HashMap;

use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{NaiveDateTime, TimeZone, Utc};
use maud::{PreEscaped, html};
use serde::Deserialize;

use super::AdminSession;
use crate::{
    domain::{Action, CampaignId, EmailAddress, ListSlug, MailingList},
    services::{
        campaigns::{self, CampaignDraft, CampaignsError},
        lists,
    },
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{self as view, CampaignChart, campaign_chart, csrf_field, field, status},
    },
};

/// The preview is marketer HTML: it may not run scripts, reach our origin, or be framed by
/// anything but our own pages.
pub(super) const PREVIEW_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'";

/// `GET /admin/campaigns`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let all = match campaigns::all(&state.ctx).await {
        Ok(a) => a,
        Err(e) => return view::internal(&e),
    };
    let ctx = session.ctx();
    view::layout(
        &ctx,
        "Campaigns",
        html! {
            @if ctx.may(Action::ManageCampaigns) { p { a.button href="/admin/campaigns/new" { "New campaign" } } }
            table {
                tr { th { "Name" } th { "Subject" } th { "Status" } th { "Send at" } }
                @for c in &all {
                    tr {
                        td { a href={ "/admin/campaigns/" (c.id) } { (c.def.name) } }
                        td { (c.def.subject) } td { (status(c.status.as_str())) }
                        td { (c.send_at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()) }
                    }
                }
            }
            @if all.is_empty() { p.muted { "No campaigns yet." } }
        },
    )
    .into_response()
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
}

type Errors = HashMap<&'static str, String>;

fn compose_page(
    session: &AdminSession,
    all: &[MailingList],
    form: &CampaignForm,
    errors: &Errors,
    code: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let e = |k: &str| errors.get(k);
    let markup = view::layout(
        &ctx,
        "New campaign",
        html! {
            @if !errors.is_empty() { p.error role="alert" { "Please correct the fields marked below." } }
            form.card method="post" action="/admin/campaigns" {
                (csrf_field(&ctx.csrf))
                (field("name", "Internal name", "text", &form.name, e("name")))
                (field("subject", "Subject", "text", &form.subject, e("subject")))
                label { "Lists" }
                @for l in all {
                    label.check { input type="checkbox" name="list" value=(l.def.slug.as_str()) checked[form.list.iter().any(|s| s == l.def.slug.as_str())]; " " (l.def.name) }
                }
                @if let Some(err) = e("list") { p.field-error { (err) } }
                label for="body_markdown" { "Body (Markdown; variables such as " code { "{{ subscriber.name }}" } ")" }
                textarea id="body_markdown" name="body_markdown" aria-invalid=[e("body_markdown").map(|_| "true")] { (form.body_markdown) }
                @if let Some(err) = e("body_markdown") { p.field-error { (err) } }
                p { button type="submit" { "Save draft and preview" } }
            }
        },
    );
    (code, markup).into_response()
}

/// `GET /admin/campaigns/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    match lists::all(&state.ctx).await {
        Ok(all) => compose_page(
            &session,
            &all,
            &CampaignForm::default(),
            &Errors::new(),
            StatusCode::OK,
        ),
        Err(e) => view::internal(&e),
    }
}

/// `POST /admin/campaigns`: saves a draft through the same service as the API.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<CampaignForm>,
) -> Response {
    if let Err(e) = session.authorize(Action::ManageCampaigns) {
        return e.into_response();
    }
    let all = match lists::all(&state.ctx).await {
        Ok(a) => a,
        Err(e) => return view::internal(&e),
    };
    let mut errors = Errors::new();
    let slugs: Vec<ListSlug> = form
        .list
        .iter()
        .filter_map(|s| ListSlug::parse(s).ok())
        .collect();
    if slugs.is_empty() {
        errors.insert("list", "choose at least one list".to_owned());
        return compose_page(
            &session,
            &all,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let draft = CampaignDraft {
        name: form.name.clone(),
        subject: form.subject.clone(),
        body_markdown: form.body_markdown.clone(),
        lists: slugs,
        from: None,
    };
    match campaigns::create(&state.ctx, &session.actor(), draft).await {
        Ok(c) => Redirect::to(&format!("/admin/campaigns/{}", c.id)).into_response(),
        Err(CampaignsError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(e @ (CampaignsError::Invalid(_) | CampaignsError::UnknownList(_))) => {
            let text = e.to_string();
            let key = match () {
                () if text.starts_with("lists:") => "list",
                () if text.contains("subject") => "subject",
                () if text.contains("name") => "name",
                () if matches!(e, CampaignsError::UnknownList(_)) => "list",
                () => "body_markdown",
            };
            errors.insert(key, text);
            compose_page(
                &session,
                &all,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e @ CampaignsError::Template(_)) => {
            errors.insert("body_markdown", e.to_string());
            compose_page(
                &session,
                &all,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => view::internal(&e),
    }
}

/// `GET /admin/campaigns/{id}`: figures, progress, preview and the moves.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    show_with(
        &state,
        &session,
        CampaignId::from_uuid(id),
        None,
        StatusCode::OK,
    )
    .await
}

async fn show_with(
    state: &AppState,
    session: &AdminSession,
    id: CampaignId,
    error: Option<String>,
    code: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let o = match campaigns::overview(&state.ctx, id).await {
        Ok(o) => o,
        Err(CampaignsError::NotFound) => return view::not_found(&ctx),
        Err(e) => return view::internal(&e),
    };
    let timeline = match campaigns::timeline(&state.ctx, id).await {
        Ok(t) => t,
        Err(e) => return view::internal(&e),
    };
    let c = &o.campaign;
    let n = &o.counts;
    let done = n.sent + n.failed + n.suppressed;
    let action = |verb: &str| format!("/admin/campaigns/{}/{verb}", c.id);
    let markup = view::layout(
        &ctx,
        &c.def.name,
        html! {
            @if let Some(e) = &error { p.error role="alert" { (e) } }
            div.card {
                p { "Status: " (status(c.status.as_str()))
                    @if let Some(t) = c.send_at { " · send at " (t.format("%Y-%m-%d %H:%M UTC")) }
                    @if let Some(r) = &c.paused_reason { " · paused: " (r) } }
                @if n.total > 0 {
                    progress max=(n.total) value=(done) { (done) " of " (n.total) }
                }
                table.figures {
                    tr { th.num { "Recipients" } th.num { "Sent" } th.num { "Queued" } th.num { "Deferred" } th.num { "Failed" } th.num { "Suppressed" } th.num { "Unsubscribed because of it" } }
                    tr { td.num { (n.total) } td.num #sent { (n.sent) } td.num { (n.queued + n.sending) } td.num { (n.deferred) } td.num { (n.failed) } td.num { (n.suppressed) } td.num #unsubscribed { (n.unsubscribed) } }
                }
            }
            @if let Some(t) = &timeline {
                div.card {
                    h2 { "Over time" }
                    (campaign_chart(&chart(n, t)))
                    p.muted { "Blue: messages sent per " (bucket_label(t.bucket_secs)) "; red: people who left by this campaign's unsubscribe link, on their own scale. A pause shows as a gap; unsubscribes that follow the sends closely are a reaction to the content." }
                }
            }
            @if ctx.may(Action::ManageCampaigns) {
                div.card {
                    form.inline method="post" action=(action("schedule")) {
                        (csrf_field(&ctx.csrf))
                        label for="send_at" { "Send at (UTC; empty: now)" }
                        input #send_at type="datetime-local" name="send_at";
                        " " button type="submit" { "Schedule" }
                    }
                    p {
                        @for (verb, label) in [("pause", "Pause"), ("resume", "Resume"), ("cancel", "Cancel")] {
                            form.inline method="post" action=(action(verb)) {
                                (csrf_field(&ctx.csrf))
                                button.secondary type="submit" { (label) } " "
                            }
                        }
                    }
                    form method="post" action=(action("test")) {
                        (csrf_field(&ctx.csrf))
                        label for="to" { "Send a test to" }
                        input #to type="email" name="to";
                        " " button.secondary type="submit" { "Send test" }
                    }
                }
            }
            h2 { "Preview" }
            p.muted { "Subject: " (c.def.subject) }
            iframe.preview sandbox="" src=(action("preview")) title="Preview of the e-mail" {}
        },
    );
    (code, markup).into_response()
}

fn bucket_label(secs: i64) -> String {
    match secs {
        604_800 => "week".to_owned(),
        86_400 => "day".to_owned(),
        3600 => "hour".to_owned(),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{} min", s / 60),
    }
}

fn chart(n: &campaigns::CampaignCounts, t: &campaigns::CampaignTimeline) -> CampaignChart {
    CampaignChart {
        outcomes: vec![
            ("sent", n.sent, "#3aa76d"),
            ("waiting", n.queued + n.sending + n.deferred, "#f2c14e"),
            ("failed", n.failed, "#c0392b"),
            ("suppressed", n.suppressed, "#9aa5bd"),
        ],
        start: t.start.format("%Y-%m-%d %H:%M UTC").to_string(),
        bucket: bucket_label(t.bucket_secs),
        sent: t.sent.clone(),
        unsubscribed: t.unsubscribed.clone(),
    }
}

/// `GET /admin/campaigns/{id}/preview`: the HTML as a sample recipient would get it, under a
/// sandboxing CSP of its own.
pub(super) async fn preview(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    let html = match campaigns::preview(&state.ctx, CampaignId::from_uuid(id)).await {
        Ok(m) => m.html,
        Err(CampaignsError::NotFound) => return view::not_found(&session.ctx()),
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
        // Rendered by our campaign template engine; the CSP sandbox contains it.
        axum::response::Html(PreEscaped(html).into_string()),
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
) -> Response {
    if let Err(e) = session.authorize(Action::ManageCampaigns) {
        return e.into_response();
    }
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
        _ => return view::not_found(&session.ctx()),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/admin/campaigns/{id}")).into_response(),
        Err(CampaignsError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(CampaignsError::NotFound) => view::not_found(&session.ctx()),
        Err(CampaignsError::Store(e)) => view::internal(&e),
        Err(e) => {
            show_with(
                &state,
                &session,
                id,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
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
