//! What an action did, said on the next page: a handler that redirects after a POST leaves a
//! short message in a cookie, and the next page the user sees shows it once. The cookie is
//! tagged with an HMAC under the session's own CSRF secret, so nothing but this session's
//! server can put words on its pages (a cookie tossed in from a sibling domain is dropped).

use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::{AdminSession, cookie, set_cookie};
use crate::web::AppState;

/// Name of the cookie.
pub const FLASH_COOKIE: &str = "bulletin_flash";
/// Longest message kept (characters).
const MAX_CHARS: usize = 300;
/// How long an unread message waits (seconds).
const MAX_AGE_SECS: i64 = 120;

/// A redirect to `to` after which the page shows `message`.
pub(crate) fn redirect_with(
    state: &AppState,
    session: &AdminSession,
    to: &str,
    message: &str,
) -> Response {
    let message: String = message.chars().take(MAX_CHARS).collect();
    let encoded: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    let value = format!("{}.{encoded}", tag(&session.csrf, &message));
    let mut response = Redirect::to(to).into_response();
    if let Ok(cookie) =
        HeaderValue::from_str(&set_cookie(state, FLASH_COOKIE, &value, MAX_AGE_SECS))
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The message waiting for this session in `headers`, if its tag is right.
pub(crate) fn read(headers: &HeaderMap, csrf: &str) -> Option<String> {
    let value = cookie(headers, FLASH_COOKIE)?;
    let (given, encoded) = value.split_once('.')?;
    let message: String = url::form_urlencoded::parse(format!("m={encoded}").as_bytes())
        .next()
        .map(|(_, m)| m.into_owned())?;
    let expected = tag(csrf, &message);
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
        .then_some(message)
        .filter(|m| !m.is_empty() && m.chars().count() <= MAX_CHARS)
}

/// After a page that showed the message: the cookie is cleared (a redirect leaves it, or the
/// new message its handler set, for the page it leads to).
pub(crate) fn clear_if_shown(state: &AppState, had_message: bool, response: &mut Response) {
    if !had_message || response.status().is_redirection() {
        return;
    }
    if let Ok(cookie) = HeaderValue::from_str(&set_cookie(state, FLASH_COOKIE, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

fn tag(csrf: &str, message: &str) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(csrf.as_bytes()) else {
        return String::new();
    };
    mac.update(b"bulletin-flash:");
    mac.update(message.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{FLASH_COOKIE}={value}")).unwrap(),
        );
        h
    }

    #[test]
    fn a_message_reads_back_only_under_its_own_session() {
        let message = "Test sent to 3 addresses; <b>& \"quotes\" · Grüße";
        let encoded: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
        let value = format!("{}.{encoded}", tag("csrf-a", message));
        assert_eq!(read(&headers(&value), "csrf-a").as_deref(), Some(message));
        assert_eq!(read(&headers(&value), "csrf-b"), None);
        let forged = format!("{}.{}", tag("csrf-a", message), "Other");
        assert_eq!(read(&headers(&forged), "csrf-a"), None);
        for junk in ["", ".", "abc", "x.y"] {
            assert_eq!(read(&headers(junk), "csrf-a"), None);
        }
    }
}
