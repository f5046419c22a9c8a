//! Public pages of product notices: objection (GET shows, POST objects; RFC 8058 one-click),
//! acknowledgement (GET shows, POST answers), the archive page of a notice, the Atom feed of
//! a product line and the JSON of every published notice.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::header,
    response::{IntoResponse, Response},
};
use maud::Markup;
use serde::Deserialize;

use crate::{
    config::join_url,
    domain::{AckAnswer, AckStatus, Locale, NoticeId, NoticeRecipientId, SubscriptionId},
    services::{
        notices::{
            NoticesError,
            acknowledgements::{self, AckActionError, AckView},
            archive::{self, NoticeRecord},
            objection::{self, ObjectionScope},
        },
        subscriptions::LinkActionError,
    },
    signing::{Purpose, TokenError},
    web::AppState,
    web::{
        error::{PageError, PageErrorKind},
        extract::{AckLink, Client, ObjectLink, PageForm, Verified},
        views::{self, notices::AckPageView},
    },
};

fn gone(locale: Locale) -> PageError {
    PageError::new(locale, PageErrorKind::LinkInvalid(TokenError::BadSignature))
}

fn link_error(locale: Locale, e: LinkActionError) -> PageError {
    match e {
        LinkActionError::Gone | LinkActionError::Refused(_) => gone(locale),
        LinkActionError::Store(e) => PageError::internal(locale, &e),
    }
}

/// `GET /object/{token}`: what the person receives and the two choices; changes nothing.
pub(super) async fn object_page(
    State(state): State<AppState>,
    link: Verified<ObjectLink>,
) -> Result<Markup, PageError> {
    let s = objection::summary(&state.ctx, SubscriptionId::from_uuid(link.subject))
        .await
        .map_err(|e| link_error(link.locale, e))?;
    let action = join_url(
        &state.ctx.settings.http.public_url,
        &format!("object/{}", link.token),
    );
    Ok(views::notices::object_page(
        s.locale,
        s.kind,
        s.still_receiving,
        action.as_str(),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct ObjectForm {
    #[serde(default)]
    scope: Option<String>,
    /// RFC 8058 one-click (`List-Unsubscribe=One-Click`): objects to this kind.
    #[serde(default, rename = "List-Unsubscribe")]
    one_click: Option<String>,
}

/// `POST /object/{token}`: objects to this kind of notice (`scope=kind`, also the RFC 8058
/// one-click) or to every product mailing (`scope=all`). Idempotent.
pub(super) async fn object(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<ObjectLink>,
    PageForm(form): PageForm<ObjectForm>,
) -> Result<Markup, PageError> {
    let one_click = form.one_click.as_deref() == Some("One-Click");
    let scope = match form.scope.as_deref() {
        Some("all") if !one_click => ObjectionScope::All,
        _ => ObjectionScope::Kind,
    };
    let source = if one_click {
        "one_click"
    } else {
        "object_page"
    };
    let s = objection::object(
        &state.ctx,
        SubscriptionId::from_uuid(link.subject),
        scope,
        &client,
        source,
        link.context.map(crate::domain::CampaignId::from_uuid),
    )
    .await
    .map_err(|e| link_error(link.locale, e))?;
    Ok(views::notices::objected_page(s.locale))
}

fn ack_view(state: &AppState, token: &str, v: &AckView, error: Option<String>) -> AckPageView {
    AckPageView {
        label: format!("{} rev {}", v.notice.number, v.notice.revision),
        title: v.notice.fields.localised(v.locale).title,
        deadline: v.deadline.format("%Y-%m-%d %H:%M UTC").to_string(),
        status: v.status,
        comment: v.comment.clone().unwrap_or_default(),
        chosen: match v.status {
            AckStatus::Approved => Some(AckAnswer::Approve),
            AckStatus::ApprovedWithConditions => Some(AckAnswer::ApproveWithConditions),
            AckStatus::Rejected => Some(AckAnswer::Reject),
            AckStatus::Pending | AckStatus::AcceptedBySilence => None,
        },
        open: v.open,
        action: join_url(
            &state.ctx.settings.http.public_url,
            &format!("acknowledge/{token}"),
        )
        .to_string(),
        error,
    }
}

fn ack_error(locale: Locale, e: AckActionError) -> PageError {
    match e {
        AckActionError::Gone | AckActionError::NotAsked => gone(locale),
        AckActionError::Refused(e) => {
            PageError::new(locale, PageErrorKind::BadRequest(e.to_string()))
        }
        AckActionError::Raced => PageError::new(
            locale,
            PageErrorKind::BadRequest("The answer changed meanwhile; please try again.".into()),
        ),
        AckActionError::Store(e) => PageError::internal(locale, &e),
    }
}

/// `GET /acknowledge/{token}`: the notice, the current answer and the form; changes nothing.
pub(super) async fn ack_page(
    State(state): State<AppState>,
    link: Verified<AckLink>,
) -> Result<Markup, PageError> {
    let v = acknowledgements::page(&state.ctx, NoticeRecipientId::from_uuid(link.subject))
        .await
        .map_err(|e| ack_error(link.locale, e))?;
    Ok(views::notices::ack_page(
        v.locale,
        &ack_view(&state, &link.token, &v, None),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct AckForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

/// `POST /acknowledge/{token}`: records the answer (`decision`, `comment`); a refusal shows
/// the form again, in the reader's language, with what they chose and typed.
pub(super) async fn acknowledge(
    State(state): State<AppState>,
    link: Verified<AckLink>,
    PageForm(form): PageForm<AckForm>,
) -> Result<Response, PageError> {
    let id = NoticeRecipientId::from_uuid(link.subject);
    let decision = AckAnswer::parse(&form.decision).ok();
    let refusal = match decision {
        None => None,
        Some(d) => match acknowledgements::answer(&state.ctx, id, d, &form.comment).await {
            Ok(v) => {
                let view = ack_view(&state, &link.token, &v, None);
                return Ok(views::notices::ack_page(v.locale, &view).into_response());
            }
            Err(AckActionError::Refused(e)) => Some(e),
            Err(e) => return Err(ack_error(link.locale, e)),
        },
    };
    let v = acknowledgements::page(&state.ctx, id)
        .await
        .map_err(|e| ack_error(link.locale, e))?;
    let error = views::notices::ack_refusal(v.locale, refusal).to_owned();
    let mut view = ack_view(&state, &link.token, &v, Some(error));
    view.chosen = decision;
    view.comment = form.comment;
    let page = views::notices::ack_page(v.locale, &view);
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

fn not_found(e: NoticesError) -> PageError {
    match e {
        NoticesError::Store(e) => PageError::internal(Locale::En, &e),
        _ => PageError::new(Locale::En, PageErrorKind::NotFound),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ArchiveQuery {
    key: Option<String>,
    /// The language to show (`en`, `de`); otherwise `Accept-Language` decides.
    lang: Option<String>,
}

/// `GET /notices/{id}[?key=TOKEN][&lang=de]`: the archive page of a published notice in the
/// reader's language (`lang`, else `Accept-Language`, else English), with links to its
/// other languages; with `notices.archive = "signed"` only with the signed key from its
/// e-mail.
pub(super) async fn archive_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Client(client): Client,
    RawQuery(raw): RawQuery,
) -> Result<Markup, PageError> {
    let nf = || PageError::new(client.locale, PageErrorKind::NotFound);
    let id: NoticeId = id.parse().map(NoticeId::from_uuid).map_err(|_| nf())?;
    let q: ArchiveQuery =
        serde_html_form::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let locale = q
        .lang
        .as_deref()
        .and_then(Locale::from_tag)
        .unwrap_or(client.locale);
    if !state.ctx.settings.notices.public_archive {
        let key = q.key.clone().ok_or_else(nf)?;
        let subject = state
            .ctx
            .keyring
            .verify(&key, Purpose::Archive, state.ctx.clock.now())
            .map_err(|_| nf())?;
        if subject != id.as_uuid() {
            return Err(nf());
        }
    }
    let record = archive::entry(&state.ctx, id).await.map_err(not_found)?;
    let key = q.key.filter(|_| !state.ctx.settings.notices.public_archive);
    Ok(views::notices::archive_page(
        &record,
        locale,
        key.as_deref(),
    ))
}

/// `GET /feeds/{line}.atom`: the Atom feed of a product line (public archive only).
pub(super) async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, PageError> {
    let nf = || PageError::new(Locale::En, PageErrorKind::NotFound);
    let line = file.strip_suffix(".atom").ok_or_else(nf)?;
    if !state.ctx.settings.notices.public_archive || !crate::domain::product::is_product_line(line)
    {
        return Err(nf());
    }
    let entries = archive::feed(&state.ctx, line).await.map_err(not_found)?;
    let base = &state.ctx.settings.http.public_url;
    let feed_url = join_url(base, &format!("feeds/{line}.atom")).to_string();
    let body = views::notices::atom_feed(
        &feed_url,
        line,
        &state.ctx.settings.mail.organisation,
        &entries,
        |e: &NoticeRecord| join_url(base, &format!("notices/{}", e.id)).to_string(),
    );
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

/// `GET /notices.json`: every published notice (public archive only).
pub(super) async fn export(State(state): State<AppState>) -> Result<Response, PageError> {
    if !state.ctx.settings.notices.public_archive {
        return Err(PageError::new(Locale::En, PageErrorKind::NotFound));
    }
    let records = archive::export(&state.ctx, true).await.map_err(not_found)?;
    Ok(Json(serde_json::json!({ "notices": records })).into_response())
}
