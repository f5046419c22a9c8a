//! "Manage my data" (GDPR Art. 15–21): `/privacy` asks for the e-mailed link, `/privacy/{token}`
//! is the person's data page, and each right is a POST below it. `/privacy/address/{token}`
//! confirms a new address. A GET only shows.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use maud::Markup;
use serde::Deserialize;

use crate::{
    config::join_url,
    domain::{
        AddressChangeId, EmailAddress, Locale, SubscriberId, SubscriberName, SubscriberStatus,
        SubscriptionId,
    },
    services::{
        Requester,
        privacy::{self, EXPORT_SCHEMA, Party, PersonalData, PrivacyError, RequestLinkError},
    },
    signing::TokenError,
    web::AppState,
    web::{
        error::{PageError, PageErrorKind},
        extract::{AddressLink, Client, PageForm, PrivacyLink, Verified},
        views::{
            self,
            privacy::{DataView, EntryRow, HistoryRow, SubscriptionRow},
            privacy_text,
        },
    },
};

fn url(state: &AppState, path: &str) -> String {
    join_url(&state.ctx.settings.http.public_url, path).to_string()
}

fn failed(locale: Locale, e: PrivacyError) -> PageError {
    match e {
        PrivacyError::NotFound => {
            PageError::new(locale, PageErrorKind::LinkInvalid(TokenError::BadSignature))
        }
        PrivacyError::Store(e) => PageError::internal(locale, &e),
        other => PageError::new(locale, PageErrorKind::BadRequest(other.to_string())),
    }
}

/// `GET /privacy`: the form that asks for the link.
pub(super) async fn request_form(State(state): State<AppState>, Client(client): Client) -> Markup {
    views::privacy::request_page(client.locale, &url(&state, "privacy"), None)
}

#[derive(Debug, Deserialize)]
pub(super) struct RequestForm {
    email: Option<String>,
}

/// `POST /privacy`: the same page whether or not the address is known; rate limited per
/// client network (429, whatever the address).
pub(super) async fn request_link(
    State(state): State<AppState>,
    Client(client): Client,
    PageForm(form): PageForm<RequestForm>,
) -> Result<Response, PageError> {
    let locale = client.locale;
    let p = privacy_text(locale);
    let Some(raw) = form.email else {
        return Ok(request_form(State(state), Client(client))
            .await
            .into_response());
    };
    let email = match EmailAddress::parse(&raw) {
        Ok(email) => email,
        Err(e) => {
            let action = url(&state, "privacy");
            let page = views::privacy::request_page(locale, &action, Some(&e.to_string()));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    match privacy::request_link(&state.ctx, &email, &client).await {
        Ok(()) => Ok(views::message_page(locale, p.sent_title, p.sent_body).into_response()),
        Err(RequestLinkError::RateLimited(refused)) => {
            let page = views::message_page(locale, p.too_many_title, p.too_many_body);
            let header = [(header::RETRY_AFTER, refused.retry_after_secs.to_string())];
            Ok((StatusCode::TOO_MANY_REQUESTS, header, page).into_response())
        }
        Err(RequestLinkError::Store(e)) => Err(PageError::internal(locale, &e)),
    }
}

/// `GET /privacy/export-schema/v1.json`: the JSON Schema of the export.
pub(super) async fn export_schema() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/schema+json")],
        EXPORT_SCHEMA,
    )
}

fn subject(link: &Verified<PrivacyLink>) -> SubscriberId {
    SubscriberId::from_uuid(link.subject)
}

fn page_url(state: &AppState, link: &Verified<PrivacyLink>) -> String {
    url(state, &format!("privacy/{}", link.token))
}

/// `GET /privacy/{token}`: a button that shows the data; records nothing.
pub(super) async fn landing(
    State(state): State<AppState>,
    link: Verified<PrivacyLink>,
) -> Result<Markup, PageError> {
    let data = privacy::data(&state.ctx, subject(&link))
        .await
        .map_err(|e| failed(link.locale, e))?;
    Ok(views::privacy::landing_page(
        data.subscriber.locale,
        &page_url(&state, &link),
    ))
}

/// `POST /privacy/{token}`: Art. 15 access, recorded; the data page.
pub(super) async fn access(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<PrivacyLink>,
) -> Result<Markup, PageError> {
    let data = privacy::access(&state.ctx, subject(&link), &Party::subject(client))
        .await
        .map_err(|e| failed(link.locale, e))?;
    Ok(render(&state, &link, &data, None))
}

/// The data page after an action, with `notice` on top.
async fn page_after(
    state: &AppState,
    link: &Verified<PrivacyLink>,
    notice: Option<&str>,
    errors: (Option<String>, Option<String>),
) -> Result<Response, PageError> {
    let data = privacy::data(&state.ctx, subject(link))
        .await
        .map_err(|e| failed(link.locale, e))?;
    let mut view = data_view(state, link, &data, notice);
    let status = match errors {
        (None, None) => StatusCode::OK,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (view.name_error, view.email_error) = errors;
    Ok((
        status,
        views::privacy::data_page(data.subscriber.locale, &view),
    )
        .into_response())
}

fn render(
    state: &AppState,
    link: &Verified<PrivacyLink>,
    data: &PersonalData,
    notice: Option<&str>,
) -> Markup {
    let view = data_view(state, link, data, notice);
    views::privacy::data_page(data.subscriber.locale, &view)
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn data_view(
    state: &AppState,
    link: &Verified<PrivacyLink>,
    data: &PersonalData,
    notice: Option<&str>,
) -> DataView {
    let s = &data.subscriber;
    DataView {
        action: page_url(state, link),
        notice: notice.map(str::to_owned),
        email: s.email.as_str().to_owned(),
        name: s.name.as_str().to_owned(),
        locale: s.locale,
        status: s.status,
        created_at: when(s.created_at),
        attributes: s
            .attributes
            .iter()
            .map(|(k, v)| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                (k.clone(), text)
            })
            .collect(),
        products: data
            .products
            .iter()
            .map(|p| format!("{} ({})", p.part_number, p.name))
            .collect(),
        pending_address: data
            .address_change
            .as_ref()
            .map(|c| c.new_email.as_str().to_owned()),
        subscriptions: data
            .subscriptions
            .iter()
            .map(|(sub, list)| SubscriptionRow {
                id: sub.id.to_string(),
                list_name: list.def.name.clone(),
                status: sub.status,
                basis: list.def.legal_basis,
                source: sub.source.clone(),
                since: [sub.unsubscribed_at, sub.confirmed_at, sub.requested_at]
                    .into_iter()
                    .flatten()
                    .next()
                    .map(when)
                    .unwrap_or_default(),
            })
            .collect(),
        history: data
            .events
            .iter()
            .map(|e| HistoryRow {
                when: when(e.occurred_at),
                action: e.action.as_str(),
                list: e
                    .list_id
                    .and_then(|id| data.list(id))
                    .map(|l| l.def.name.clone()),
                source: e.source.clone(),
                network: e.ip_anon.clone(),
                browser: e.user_agent.clone(),
            })
            .collect(),
        messages: data
            .messages
            .iter()
            .map(|m| EntryRow {
                when: when(m.queued_at),
                what: m.kind.as_str(),
                detail: m.campaign.clone(),
                status: m.status.as_str(),
            })
            .collect(),
        requests: data
            .requests
            .iter()
            .map(|r| EntryRow {
                when: when(r.received_at),
                what: r.kind.as_str(),
                detail: None,
                status: r.status.as_str(),
            })
            .collect(),
        name_error: None,
        email_error: None,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ExportForm {
    format: Option<String>,
}

/// `POST /privacy/{token}/export` (`format=json|csv`): Art. 20, recorded; a download.
pub(super) async fn export(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<PrivacyLink>,
    PageForm(form): PageForm<ExportForm>,
) -> Result<Response, PageError> {
    let data = privacy::export(&state.ctx, subject(&link), &Party::subject(client))
        .await
        .map_err(|e| failed(link.locale, e))?;
    let document = privacy::export_document(&state.ctx, &data);
    Ok(views::privacy::export_download(
        &document,
        form.format.as_deref() == Some("csv"),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct RestrictForm {
    restricted: Option<String>,
}

/// `POST /privacy/{token}/restrict` (`restricted=yes|no`): Art. 18.
pub(super) async fn restrict(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<PrivacyLink>,
    PageForm(form): PageForm<RestrictForm>,
) -> Result<Response, PageError> {
    let restricted = match form.restricted.as_deref() {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            let reason = "The form must say restricted=yes or restricted=no.".to_owned();
            return Err(PageError::new(
                link.locale,
                PageErrorKind::BadRequest(reason),
            ));
        }
    };
    let status = privacy::restrict(
        &state.ctx,
        subject(&link),
        restricted,
        &Party::subject(client),
    )
    .await
    .map_err(|e| failed(link.locale, e))?;
    let p = privacy_text(link.locale);
    let notice = match status {
        SubscriberStatus::Restricted => p.done_restricted,
        SubscriberStatus::Active => p.done_lifted,
        SubscriberStatus::Blocked | SubscriberStatus::Erased => p.done_nothing,
    };
    page_after(&state, &link, Some(notice), (None, None)).await
}

#[derive(Debug, Deserialize)]
pub(super) struct WithdrawForm {
    #[serde(default)]
    subscription: Vec<String>,
    all: Option<String>,
}

/// `POST /privacy/{token}/withdraw` (`subscription=ID`…, or `all=yes`): Art. 7(3) / 21.
pub(super) async fn withdraw(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<PrivacyLink>,
    PageForm(form): PageForm<WithdrawForm>,
) -> Result<Response, PageError> {
    let chosen: Vec<SubscriptionId> = form
        .subscription
        .iter()
        .filter_map(|id| id.parse().ok().map(SubscriptionId::from_uuid))
        .collect();
    let only = (form.all.as_deref() != Some("yes")).then_some(chosen.as_slice());
    let changed = privacy::withdraw(&state.ctx, subject(&link), only, &Party::subject(client))
        .await
        .map_err(|e| failed(link.locale, e))?;
    let p = privacy_text(link.locale);
    let notice = if changed > 0 {
        p.done_withdrawn
    } else {
        p.done_nothing
    };
    page_after(&state, &link, Some(notice), (None, None)).await
}

#[derive(Debug, Deserialize)]
pub(super) struct CorrectForm {
    #[serde(default)]
    name: String,
    locale: Option<String>,
}

/// `POST /privacy/{token}/correct` (`name`, `locale`): Art. 16.
pub(super) async fn correct(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<PrivacyLink>,
    PageForm(form): PageForm<CorrectForm>,
) -> Result<Response, PageError> {
    let name = match SubscriberName::parse(&form.name) {
        Ok(name) => name,
        Err(e) => return page_after(&state, &link, None, (Some(e.to_string()), None)).await,
    };
    let current = privacy::data(&state.ctx, subject(&link))
        .await
        .map_err(|e| failed(link.locale, e))?
        .subscriber
        .locale;
    let locale = form
        .locale
        .as_deref()
        .and_then(|l| Locale::parse(l).ok())
        .unwrap_or(current);
    let changed = privacy::correct(
        &state.ctx,
        subject(&link),
        &name,
        locale,
        &Party::subject(client),
    )
    .await
    .map_err(|e| failed(link.locale, e))?;
    let p = privacy_text(locale);
    let notice = if changed {
        p.done_corrected
    } else {
        p.done_nothing
    };
    page_after(&state, &link, Some(notice), (None, None)).await
}

#[derive(Debug, Deserialize)]
pub(super) struct AddressForm {
    #[serde(default)]
    email: String,
}

/// `POST /privacy/{token}/address` (`email`): Art. 16; a link goes to the new address.
pub(super) async fn change_address(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<PrivacyLink>,
    PageForm(form): PageForm<AddressForm>,
) -> Result<Response, PageError> {
    let p = privacy_text(link.locale);
    let email = match EmailAddress::parse(&form.email) {
        Ok(email) => email,
        Err(e) => return page_after(&state, &link, None, (None, Some(e.to_string()))).await,
    };
    match privacy::request_address_change(&state.ctx, subject(&link), &email, &client).await {
        Ok(()) => page_after(&state, &link, Some(p.done_address), (None, None)).await,
        Err(PrivacyError::SameAddress) => {
            page_after(&state, &link, None, (None, Some(p.same_address.into()))).await
        }
        Err(PrivacyError::TooSoon) => {
            page_after(&state, &link, None, (None, Some(p.address_too_soon.into()))).await
        }
        Err(PrivacyError::TooManyMails) => {
            page_after(&state, &link, None, (None, Some(p.address_too_many.into()))).await
        }
        Err(e) => Err(failed(link.locale, e)),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct EraseForm {
    confirm: Option<String>,
}

/// `POST /privacy/{token}/erase`: without `confirm=yes` a page that asks; with it, Art. 17
/// erasure and a page that says what was kept and why.
pub(super) async fn erase(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<PrivacyLink>,
    PageForm(form): PageForm<EraseForm>,
) -> Result<Response, PageError> {
    let locale = link.locale;
    if form.confirm.as_deref() != Some("yes") {
        let data = privacy::data(&state.ctx, subject(&link)).await;
        return match data {
            Ok(data) => Ok(views::privacy::erase_confirm_page(
                data.subscriber.locale,
                &format!("{}/erase", page_url(&state, &link)),
            )
            .into_response()),
            Err(e) => Err(erase_failed(locale, e)),
        };
    }
    privacy::erase(&state.ctx, subject(&link), &Party::subject(client))
        .await
        .map_err(|e| erase_failed(locale, e))?;
    Ok(views::privacy::erased_page(locale).into_response())
}

fn erase_failed(locale: Locale, e: PrivacyError) -> PageError {
    match e {
        // A second erasure: the same kind answer, never a 500.
        PrivacyError::AlreadyErased => {
            let p = privacy_text(locale);
            PageError::new(
                locale,
                PageErrorKind::Gone {
                    title: p.already_erased_title,
                    body: p.already_erased_body,
                },
            )
        }
        other => failed(locale, other),
    }
}

fn change_id(link: &Verified<AddressLink>) -> AddressChangeId {
    AddressChangeId::from_uuid(link.subject)
}

/// `GET /privacy/address/{token}`: confirm or refuse the new address; changes nothing.
pub(super) async fn address_page(
    State(state): State<AppState>,
    link: Verified<AddressLink>,
) -> Result<Markup, PageError> {
    let (change, locale) = privacy::address_change(&state.ctx, change_id(&link))
        .await
        .map_err(|e| failed(link.locale, e))?;
    let action = url(&state, &format!("privacy/address/{}", link.token));
    Ok(views::privacy::address_change_page(
        locale,
        &action,
        change.new_email.as_str(),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct DecisionForm {
    decision: Option<String>,
}

/// `POST /privacy/address/{token}`: `decision=confirm` changes the address; anything else,
/// the RFC 8058 one-click of the e-mail included, refuses the change.
pub(super) async fn address_decision(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<AddressLink>,
    PageForm(form): PageForm<DecisionForm>,
) -> Result<Markup, PageError> {
    let locale = link.locale;
    if form.decision.as_deref() != Some("confirm") {
        privacy::refuse_address_change(&state.ctx, change_id(&link))
            .await
            .map_err(|e| failed(locale, e))?;
        let p = privacy_text(locale);
        return Ok(views::message_page(locale, p.refused_title, p.refused_body));
    }
    let requester: Requester = client;
    match privacy::confirm_address_change(&state.ctx, change_id(&link), requester).await {
        Ok(locale) => {
            let p = privacy_text(locale);
            Ok(views::message_page(locale, p.changed_title, p.changed_body))
        }
        Err(PrivacyError::AddressInUse) => {
            let p = privacy_text(locale);
            Err(PageError::new(
                locale,
                PageErrorKind::Conflict {
                    title: p.in_use_title,
                    body: p.in_use_body,
                },
            ))
        }
        Err(e) => Err(failed(locale, e)),
    }
}
