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
            t, te, tf, tl, tn,
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
    let leaving = campaigns::leaving_reasons(&state.ctx, id).await?;
    let v = CampaignView {
        overview,
        timeline,
        error,
        audience,
        is_notice,
        watch,
        leaving,
    };
    Ok((code, campaign_page(&session.ctx(), &v)).into_response())
}

/// `GET /admin/campaigns/{id}/preview`: the HTML as a sample recipient would get it, under a
/// sandboxing CSP of its own.
pub(super) async fn preview(
    State(state): State<AppState>,
    Path(id): Path<uuid::Uuid>,
    Query(q): Query<super::campaign_forms::LocaleQuery>,
) -> Result<Response, AdminError> {
    let id = CampaignId::from_uuid(id);
    let page = match campaigns::preview(&state.ctx, id, q.locale()).await {
        Ok(m) => view::campaigns::preview(&m.html),
        Err(CampaignsError::NotFound) => return Err(AdminError::NotFound),
        Err(e) => view::preview_failed(&refusal(&e)),
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
                        (Some(_), Some(at)) => tf(
                            "Scheduled for {time}.",
                            &[("time", &session.ctx().time(at))],
                        ),
                        _ => t("Sending now: the campaign starts within a minute.").to_owned(),
                    })
            }
            Err(e) => Err(CampaignsError::Invalid(e)),
        },
        "pause" => campaigns::pause(ctx, &actor, id, "paused by a person")
            .await
            .map(|_| t("Paused: nothing more is sent until you resume.").to_owned()),
        "resume" => campaigns::resume(ctx, &actor, id)
            .await
            .map(|c| match c.status {
                CampaignStatus::Scheduled => t("Resumed: it is scheduled again.").to_owned(),
                _ => {
                    t("Resumed: sending continues, messages that waited go out at once.").to_owned()
                }
            }),
        "cancel" => campaigns::cancel(ctx, &actor, id)
            .await
            .map(|_| t("Cancelled: messages not sent yet will never be sent.").to_owned()),
        "test" => match parse_addresses(&form.to) {
            Ok(to) => state.send_test(&actor, id, &to).await.map(|()| {
                tn(
                    "Test sent to {n} address.",
                    "Test sent to {n} addresses.",
                    to.len() as u64,
                )
            }),
            Err(e) => Err(CampaignsError::Invalid(e)),
        },
        "publish" | "unpublish" => {
            let patch = campaigns::CampaignPatch {
                archive: Some(verb == "publish"),
                ..Default::default()
            };
            campaigns::update(ctx, &actor, id, patch)
                .await
                .map(|c| match c.def.archive {
                    true => t("It is in the public archive (once sent, for its public lists).")
                        .to_owned(),
                    false => t("It is not in the public archive.").to_owned(),
                })
        }
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
            let said = tf(
                "Copied into a new draft, “{name}”: change it here.",
                &[("name", &copy.def.name)],
            );
            (format!("/admin/campaigns/{}/edit", copy.id), said)
        }),
        _ => {
            let name = campaigns::find(ctx, id).await?.def.name;
            campaigns::delete(ctx, &actor, id).await.map(|()| {
                let said = tf("The campaign “{name}” is deleted.", &[("name", &name)]);
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
        Err(e) => show_with(state, session, id, Some(refusal(&e)), StatusCode::CONFLICT).await,
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
        let error = Some((field, refusal(&e)));
        return super::campaign_forms::review_with(state, session, id, error, &form.send_at, code)
            .await;
    }
    show_with(state, session, id, Some(refusal(&e)), code).await
}

/// A refusal of the campaigns service in the page's language: the state machine's in words of
/// its own, the service's fixed and patterned texts from the catalogue's `[labels]`, anything
/// else as the service said it.
pub(super) fn refusal(e: &CampaignsError) -> String {
    if let CampaignsError::UnknownSegment = e {
        return t("There is no such segment; choose one from the list.").to_owned();
    }
    let CampaignsError::State(refused) = e else {
        return reworded(&e.to_string());
    };
    let from = tl(refused.from.as_str());
    let status: &[(&str, &dyn std::fmt::Display)] = &[("status", &from)];
    match refused.action {
        "scheduled" => tf("a {status} campaign cannot be scheduled", status),
        "started" => tf("a {status} campaign cannot be started", status),
        "paused" => tf("a {status} campaign cannot be paused", status),
        "resumed" => tf("a {status} campaign cannot be resumed", status),
        "cancelled" => tf("a {status} campaign cannot be cancelled", status),
        "edited" => tf("a {status} campaign cannot be edited", status),
        "deleted" => tf("a {status} campaign cannot be deleted", status),
        _ => te(e),
    }
}

/// Texts of the campaigns service with a value in them, as `[labels]` keys: `{name}` stands
/// for the value, which the translation keeps.
const PATTERNS: &[&str] = &[
    "There is no list “{slug}”.",
    "The list “{name}” is archived and takes no campaigns.",
    "The list “{name}” is for product notices to customers, who did not sign up for marketing: a campaign may go only to lists people asked for. Send product notices as notices.",
    "Bulletin does not send from {domain}. Use an address at {allowed}.",
    "The message uses a variable that does not exist (see the list of variables) on line {line}.",
    "The subject uses a variable that does not exist (see the list of variables) on line {line}.",
    "The message cannot be filled in ({problem}) on line {line}.",
    "The subject cannot be filled in ({problem}) on line {line}.",
    "The message cannot be filled in ({problem}).",
    "The subject cannot be filled in ({problem}).",
    "the campaign sent {n} messages and stays on record",
    "the test message was not sent: {error}",
    "{address}: this address may not be mailed (suppressed, blocked or restricted)",
    "there is no list {slug}",
];

/// A text of the campaigns service (a refusal, a field's problem) in the page's language:
/// a fixed one from `[labels]`, one of [`PATTERNS`] with its values put into the translation,
/// else as it is.
pub(super) fn reworded(said: &str) -> String {
    let fixed = te(&said);
    if fixed != said {
        return fixed;
    }
    PATTERNS
        .iter()
        .find_map(|key| {
            let values = values_in(key, said)?;
            let mut out = tl(key).to_owned();
            for (name, value) in values {
                out = out.replace(&format!("{{{name}}}"), value);
            }
            Some(out)
        })
        .unwrap_or(fixed)
}

/// The values of `pattern`'s placeholders in `said`, when `said` is `pattern` filled in.
fn values_in<'p, 's>(pattern: &'p str, said: &'s str) -> Option<Vec<(&'p str, &'s str)>> {
    let (first, mut pattern_rest) = pattern.split_once('{')?;
    let mut rest = said.strip_prefix(first)?;
    let mut values = Vec::new();
    while !pattern_rest.is_empty() {
        let (name, after) = pattern_rest.split_once('}')?;
        let value = match after.split_once('{') {
            Some((literal, next)) => {
                let (value, r) = rest.split_once(literal)?;
                rest = r;
                pattern_rest = next;
                value
            }
            None => {
                let value = rest.strip_suffix(after)?;
                rest = "";
                pattern_rest = "";
                value
            }
        };
        if value.is_empty() {
            return None;
        }
        values.push((name, value));
    }
    rest.is_empty().then_some(values)
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
        ("at", "") => Err(t("Choose the date and time to send it at, or send it now.").into()),
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
        return Err(t("Write the address to send the test to.").into());
    }
    typed
        .iter()
        .map(|a| {
            EmailAddress::parse(a)
                .map_err(|_| tf("“{address}” is not an e-mail address.", &[("address", a)]))
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
        .ok_or_else(|| {
            let typed = format!("{raw:?}");
            tf(
                "send at: {typed} is not a date and time",
                &[("typed", &typed)],
            )
        })?;
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| Some(t.with_timezone(&Utc)))
        .ok_or_else(|| {
            tf(
                "send at: {typed} does not exist in {zone} (the clocks skip it)",
                &[("typed", &raw), ("zone", &zone.name())],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        domain::{CampaignStateError, Locale},
        web::views::admin::i18n::ADMIN_LOCALE,
    };

    #[test]
    fn values_are_read_out_of_a_patterned_text() {
        assert_eq!(
            values_in(
                "Bulletin does not send from {domain}. Use an address at {allowed}.",
                "Bulletin does not send from x.example. Use an address at a.example or b.example."
            ),
            Some(vec![
                ("domain", "x.example"),
                ("allowed", "a.example or b.example")
            ])
        );
        assert_eq!(
            values_in("there is no list {slug}", "there is no list \"news\""),
            Some(vec![("slug", "\"news\"")])
        );
        assert_eq!(
            values_in("The list “{name}” is archived.", "Something else."),
            None
        );
    }

    #[tokio::test]
    async fn refusals_are_english_as_the_service_says_them_and_german_for_a_german_user() {
        let state = CampaignsError::State(CampaignStateError {
            from: CampaignStatus::Sent,
            action: "paused",
        });
        let patterned = CampaignsError::Invalid(
            "x@example.com: this address may not be mailed (suppressed, blocked or restricted)"
                .to_owned(),
        );
        let other = CampaignsError::Invalid("no pattern fits this".to_owned());
        for e in [&state, &patterned, &other, &CampaignsError::Raced] {
            assert_eq!(refusal(e), e.to_string());
        }
        ADMIN_LOCALE
            .scope(Locale::De, async {
                assert_eq!(
                    refusal(&state),
                    "Eine Kampagne im Status „gesendet“ kann nicht pausiert werden."
                );
                assert!(refusal(&patterned).starts_with("x@example.com: An diese Adresse"));
                assert_eq!(refusal(&other), "no pattern fits this");
                assert!(refusal(&CampaignsError::Raced).starts_with("Die Kampagne wurde"));
                assert_eq!(
                    reworded("The list “Weekly” is archived and takes no campaigns."),
                    "Die Liste „Weekly“ ist archiviert und nimmt keine Kampagnen an."
                );
            })
            .await;
    }
}
