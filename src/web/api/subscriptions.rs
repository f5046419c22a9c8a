//! `POST /api/v1/subscriptions`: a website's backend starts the double opt-in for a visitor.

use std::net::IpAddr;

use axum::{Json, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{EmailAddress, ListRef, Locale, SubscriberName},
    services::{
        Requester,
        lists::SignupListsError,
        subscriptions::{self, MAX_CONSENT_TEXT_CHARS, Signup, SubscribeError},
    },
    web::{
        AppState,
        error::{ApiError, ApiErrors},
        extract::{ApiCaller, ApiJson},
    },
};

/// A visitor's signup as the website took it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SubscriptionRequest {
    /// The visitor's address; the confirmation e-mail goes there.
    #[schema(format = "email", example = "ada@example.com")]
    email: String,
    /// The name the visitor gave (stored, never mailed).
    #[serde(default)]
    #[schema(example = "Ada Lovelace")]
    name: String,
    /// The lists, each by slug or id; each must be public and consent-based.
    #[schema(min_items = 1, example = json!(["weekly"]))]
    lists: Vec<String>,
    /// The visitor's language (`en`, `de`, or one the operator added); default `en`.
    #[schema(example = "en")]
    locale: Option<String>,
    /// The visitor's IP address, as the website saw it; kept anonymised (IPv4 /24, IPv6 /48).
    #[schema(example = "203.0.113.7")]
    ip: Option<String>,
    /// The visitor's user agent.
    user_agent: Option<String>,
    /// The consent text the website showed; default: each list's own.
    #[schema(min_length = 1, max_length = 10000)]
    consent_text: Option<String>,
}

/// What was started.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SubscriptionAccepted {
    /// `confirmation_requested`: the person is subscribed once they confirm by the e-mailed
    /// link. The answer is the same whether or not the address was known.
    status: &'static str,
    email: String,
    /// The lists requested, as the request named them.
    lists: Vec<String>,
}

#[utoipa::path(post, path = "/api/v1/subscriptions", operation_id = "subscriptions_create", tag = "subscriptions", security(("bearer" = [])), request_body = SubscriptionRequest, responses((status = 202, description = "the double opt-in has started: a confirmation e-mail is on its way, within the limits on e-mails to one address", body = SubscriptionAccepted), ApiErrors))]
/// `POST /api/v1/subscriptions` → 202: the same double opt-in as the signup form, with the
/// visitor's evidence as the caller names it; limited per token, not per network.
pub(super) async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<SubscriptionRequest>,
) -> Result<(StatusCode, Json<SubscriptionAccepted>), ApiError> {
    let email =
        EmailAddress::parse(&req.email).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let name =
        SubscriberName::parse(&req.name).map_err(|e| ApiError::invalid(format!("name: {e}")))?;
    if req.lists.is_empty() {
        return Err(ApiError::invalid("lists: name at least one list"));
    }
    let lists = req
        .lists
        .iter()
        .map(|raw| {
            ListRef::parse(raw).map_err(|_| {
                ApiError::invalid(format!("lists: {raw:?} is neither a slug nor an id"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let locale = match req.locale.as_deref() {
        None => Locale::default(),
        Some(raw) => Locale::parse(raw).map_err(|e| ApiError::invalid(format!("locale: {e}")))?,
    };
    let ip = req
        .ip
        .as_deref()
        .map(|raw| {
            raw.parse::<IpAddr>()
                .map_err(|_| ApiError::invalid("ip: not an IPv4 or IPv6 address"))
        })
        .transpose()?;
    let requester = Requester {
        ip,
        user_agent: req.user_agent,
        locale,
    };
    let signup = Signup {
        email: email.clone(),
        name,
        lists,
        consent: true,
    };
    subscriptions::subscribe_for(
        &state.ctx,
        &caller.actor(),
        signup.clone(),
        &requester,
        req.consent_text.as_deref(),
    )
    .await
    .map_err(refused)?;
    let accepted = SubscriptionAccepted {
        status: "confirmation_requested",
        email: email.as_str().to_owned(),
        lists: signup.lists.iter().map(|l| l.as_str().to_owned()).collect(),
    };
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

fn refused(e: SubscribeError) -> ApiError {
    match e {
        SubscribeError::Forbidden(e) => e.into(),
        SubscribeError::RateLimited { retry_after_secs } => ApiError::too_many(
            "this token has used up its signups for the hour",
            retry_after_secs,
        ),
        SubscribeError::Lists(SignupListsError::NoList) => {
            ApiError::invalid("lists: name at least one list")
        }
        SubscribeError::Lists(SignupListsError::Unknown(name)) => ApiError::invalid(format!(
            "lists: there is no public, consent-based list {name:?}"
        )),
        SubscribeError::ConsentText => ApiError::invalid(format!(
            "consent_text: 1 to {MAX_CONSENT_TEXT_CHARS} characters"
        )),
        SubscribeError::ConsentMissing => ApiError::invalid("consent was not given"),
        SubscribeError::Lists(SignupListsError::Store(e)) | SubscribeError::Store(e) => e.into(),
    }
}
