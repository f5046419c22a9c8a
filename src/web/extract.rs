//! Typed extractors: who is asking (`Client`), API authentication (`ApiCaller`), bodies that
//! fail with our error shapes (`ApiJson`, `PageForm`), and verified link tokens (`Verified<P>`).

use std::{marker::PhantomData, net::SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Request},
    http::{StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::{ApiError, PageError, PageErrorKind};
use crate::{
    domain::Locale,
    services::{Requester, api_tokens},
    signing::{Purpose, TokenError},
    store::api_tokens::ApiToken,
    web::AppState,
};

/// The client of a request: network, user agent and language.
#[derive(Debug, Clone)]
pub struct Client(pub Requester);

impl<S: Send + Sync> FromRequestParts<S> for Client
where
    AppState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let header_text =
            |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let forwarded = match state.ctx.settings.http.trust_forwarded_for {
            true => last_forwarded(&parts.headers),
            false => None,
        };
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Self(Requester {
            ip: forwarded.or(peer),
            user_agent: header_text(header::USER_AGENT).map(str::to_owned),
            locale: request_locale(&parts.headers),
        }))
    }
}

/// The address the trusted proxy appended to `X-Forwarded-For`: the last entry of all the
/// header's lines read as one list (RFC 9110 §5.3), since a proxy may add its own line after
/// the ones the client wrote. `None` when that entry is not an address.
fn last_forwarded(headers: &header::HeaderMap) -> Option<std::net::IpAddr> {
    let last_line = headers
        .get_all(header::HeaderName::from_static("x-forwarded-for"))
        .iter()
        .next_back()?;
    let last = last_line.to_str().ok()?.rsplit(',').next()?;
    last.trim().parse().ok()
}

/// An authenticated API caller (`Authorization: Bearer <token>`).
#[derive(Debug, Clone)]
pub struct ApiCaller(pub ApiToken);

impl ApiCaller {
    /// The token as the services see it: its name, and the role it acts with.
    pub fn actor(&self) -> crate::domain::Actor {
        crate::domain::Actor::Token {
            id: self.0.id,
            name: self.0.name.clone(),
            role: self.0.role,
            owner: self.0.user_id,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid bearer token is required",
            )
        };
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim_start().split_once(' '))
            // The scheme's name is case-insensitive (RFC 9110 §11.1).
            .and_then(|(scheme, secret)| scheme.eq_ignore_ascii_case("bearer").then_some(secret))
            .ok_or_else(unauthorized)?;
        let Some(token) = api_tokens::authenticate(&state.ctx, secret.trim()).await? else {
            return Err(unauthorized());
        };
        Ok(Self(token))
    }
}

/// The language a request asks for (`Accept-Language`), English when it asks for none we
/// speak.
pub(crate) fn request_locale(headers: &axum::http::HeaderMap) -> Locale {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Locale::negotiate)
        .unwrap_or_default()
}

/// A JSON body whose rejection is an `ApiError` (400 malformed, 415 wrong type, 422 fields).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .is_some_and(|t| {
                t == "application/json" || (t.starts_with("application/") && t.ends_with("+json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(e.status(), "malformed_body", e.body_text()))?;
        // JSON carries a NUL only escaped; no text Bulletin keeps may have one.
        if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
            return Err(ApiError::invalid(
                "text may not contain NUL characters (\\u0000)",
            ));
        }
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes)
            && let Some(c) = control_in_json(&value)
        {
            return Err(ApiError::invalid(format!(
                "text may not contain control characters (U+{:04X})",
                u32::from(c)
            )));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::invalid(e.body_text())),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            )),
            Err(e) => Err(ApiError::new(e.status(), "malformed_body", e.body_text())),
        }
    }
}

/// A form body, URL-encoded or `multipart/form-data` (text fields; RFC 8058 one-click POSTs
/// should come as multipart), repeatable fields allowed, whose rejection is a 400 page.
#[derive(Debug, Clone)]
pub struct PageForm<T>(pub T);

/// The text fields of a `multipart/form-data` body, URL-encoded, for the same deserialiser
/// as a URL-encoded form.
async fn multipart_as_urlencoded<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<String, (StatusCode, String)> {
    let mut multipart = axum::extract::Multipart::from_request(req, state)
        .await
        .map_err(|e| (e.status(), e.body_text()))?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| (e.status(), e.body_text()))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field
            .text()
            .await
            .map_err(|e| (e.status(), e.body_text()))?;
        pairs.push((name, value));
    }
    serde_html_form::to_string(&pairs).map_err(|e| (StatusCode::BAD_REQUEST, e.to_string()))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let locale = request_locale(req.headers());
        let bad = |reason: String| PageError::new(locale, PageErrorKind::BadRequest(reason));
        let refused = |status: StatusCode, reason: String| match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                PageError::new(locale, PageErrorKind::TooLarge(reason))
            }
            _ => bad(reason),
        };
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        let bytes = if multipart {
            multipart_as_urlencoded(req, state)
                .await
                .map(axum::body::Bytes::from)
                .map_err(|(status, e)| {
                    refused(status, format!("The form could not be read: {e}"))
                })?
        } else {
            axum::body::Bytes::from_request(req, state)
                .await
                .map_err(|e| refused(e.status(), e.body_text()))?
        };
        if super::has_nul(&bytes) {
            return Err(bad("The form contains a NUL character.".to_owned()));
        }
        if url::form_urlencoded::parse(&bytes)
            .any(|(_, value)| super::control_char(&value).is_some())
        {
            return Err(bad("The form contains a control character.".to_owned()));
        }
        serde_html_form::from_bytes(&bytes)
            .map(Self)
            .map_err(|e| bad(format!("The form could not be read: {e}")))
    }
}

/// The first control character in any string (or key) of a JSON document.
fn control_in_json(value: &serde_json::Value) -> Option<char> {
    match value {
        serde_json::Value::String(s) => super::control_char(s),
        serde_json::Value::Array(items) => items.iter().find_map(control_in_json),
        serde_json::Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| super::control_char(k).or_else(|| control_in_json(v))),
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => None,
    }
}

/// A link purpose as a type, for `Verified<P>`.
pub trait LinkPurpose {
    /// The token purpose.
    const PURPOSE: Purpose;
}

/// Marker: confirmation links.
#[derive(Debug)]
pub struct ConfirmLink;
impl LinkPurpose for ConfirmLink {
    const PURPOSE: Purpose = Purpose::Confirm;
}

/// Marker: unsubscribe links.
#[derive(Debug)]
pub struct UnsubscribeLink;
impl LinkPurpose for UnsubscribeLink {
    const PURPOSE: Purpose = Purpose::Unsubscribe;
}

/// Marker: preferences links.
#[derive(Debug)]
pub struct PreferencesLink;
impl LinkPurpose for PreferencesLink {
    const PURPOSE: Purpose = Purpose::Preferences;
}

/// Marker: links to a person's data page.
#[derive(Debug)]
pub struct PrivacyLink;
impl LinkPurpose for PrivacyLink {
    const PURPOSE: Purpose = Purpose::Privacy;
}

/// Marker: links that confirm a new address.
#[derive(Debug)]
pub struct AddressLink;
impl LinkPurpose for AddressLink {
    const PURPOSE: Purpose = Purpose::ChangeAddress;
}

/// Marker: objection links of notices.
#[derive(Debug)]
pub struct ObjectLink;
impl LinkPurpose for ObjectLink {
    const PURPOSE: Purpose = Purpose::Object;
}

/// Marker: acknowledgement links of notices.
#[derive(Debug)]
pub struct AckLink;
impl LinkPurpose for AckLink {
    const PURPOSE: Purpose = Purpose::Acknowledge;
}

/// The verified subject of the `{token}` path segment, for purpose `P`.
#[derive(Debug)]
pub struct Verified<P> {
    /// The id the token was signed for.
    pub subject: Uuid,
    /// The context id the token carries, if any (the campaign of an unsubscribe link).
    pub context: Option<Uuid>,
    /// The token as received (for forms that post back to the same link).
    pub token: String,
    /// The request's language.
    pub locale: Locale,
    _purpose: PhantomData<P>,
}

impl<P: LinkPurpose, S: Send + Sync> FromRequestParts<S> for Verified<P>
where
    AppState: FromRef<S>,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let Ok(Client(requester)) = Client::from_request_parts(parts, state).await;
        let locale = requester.locale;
        let token = match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(token)) => token,
            Err(_) => {
                return Err(PageError::new(
                    locale,
                    PageErrorKind::LinkInvalid(TokenError::Malformed),
                ));
            }
        };
        match app
            .ctx
            .keyring
            .verify_with_context(&token, P::PURPOSE, app.ctx.clock.now())
        {
            Ok((subject, context)) => Ok(Self {
                subject,
                context,
                token,
                locale,
                _purpose: PhantomData,
            }),
            Err(TokenError::Expired { .. }) => {
                let base = &app.ctx.settings.http.public_url;
                let resend_action = match P::PURPOSE {
                    Purpose::Confirm => Some(format!("confirm/{token}/resend")),
                    // A data-page link is short-lived: the button leads to a fresh request.
                    Purpose::Privacy => Some("privacy".to_owned()),
                    Purpose::Unsubscribe
                    | Purpose::Preferences
                    | Purpose::ChangeAddress
                    | Purpose::Object
                    | Purpose::Acknowledge
                    | Purpose::Archive
                    | Purpose::LoginTicket
                    | Purpose::PasswordReset => None,
                }
                .map(|path| crate::config::join_url(base, &path).to_string());
                Err(PageError::new(
                    locale,
                    PageErrorKind::LinkExpired { resend_action },
                ))
            }
            Err(reason) => Err(PageError::new(locale, PageErrorKind::LinkInvalid(reason))),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::last_forwarded;

    fn headers(lines: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append("x-forwarded-for", HeaderValue::from_static(line));
        }
        map
    }

    #[test]
    fn the_proxy_s_entry_is_the_last_of_all_lines() {
        let ip = |s: &str| s.parse().ok();
        assert_eq!(last_forwarded(&headers(&["192.0.2.1"])), ip("192.0.2.1"));
        assert_eq!(
            last_forwarded(&headers(&["198.51.100.7, 203.0.113.9"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            last_forwarded(&headers(&["198.51.100.7", "203.0.113.9"])),
            ip("203.0.113.9"),
            "a second line is the same list"
        );
        assert_eq!(
            last_forwarded(&headers(&["203.0.113.9", "2001:db8::1, not-an-address"])),
            None
        );
        assert_eq!(last_forwarded(&headers(&[])), None);
    }
}
