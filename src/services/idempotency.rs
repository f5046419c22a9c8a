//! The rules of `Idempotency-Key` on the API's POST requests (issue 18): what a key may be,
//! whose it is, how a request is fingerprinted, which answers are kept and for how long.
//! It knows no HTTP types: the web layer hands it bytes, methods and paths as text.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use sha2::{Digest, Sha256};

use crate::{
    context::Context,
    store::{self, StoreError},
};

pub use store::idempotency::StoredAnswer;

/// How long a finished request's answer is given again; an older key is free again.
pub const KEY_LIFETIME: Duration = Duration::hours(24);

/// How long a request may hold its key in progress. A process that died mid-request never
/// released its key; after this the key is free again. Imports, the longest requests, are
/// bounded by `import.timeout_secs` for the body and run far shorter than this.
pub const IN_PROGRESS_LEASE: Duration = Duration::hours(1);

/// The largest answer body kept for replay; a larger answer releases the key.
pub const MAX_STORED_BODY_BYTES: usize = 1024 * 1024;

/// An `Idempotency-Key` value: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// Why an `Idempotency-Key` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    /// Empty, or longer than 255 characters.
    #[error("must be 1 to 255 characters long")]
    Length,
    /// Holds a space, a control character or a non-ASCII byte.
    #[error("must be visible ASCII characters only")]
    Characters,
}

impl IdempotencyKey {
    /// Checks a header value's bytes.
    ///
    /// # Errors
    /// `Length` or `Characters`.
    pub fn parse(raw: &[u8]) -> Result<Self, IdempotencyKeyError> {
        if raw.is_empty() || raw.len() > 255 {
            return Err(IdempotencyKeyError::Length);
        }
        if !raw.iter().all(u8::is_ascii_graphic) {
            return Err(IdempotencyKeyError::Characters);
        }
        // Only visible ASCII remains, which is UTF-8.
        Ok(Self(String::from_utf8_lossy(raw).into_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whose a key is: a SHA-256 of the caller's `Authorization` value, the method and the path.
/// One token never sees another's answers, the same key on another route is another key,
/// and the token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyScope(String);

impl KeyScope {
    /// The scope of a request by `authorization` to `method path`.
    pub fn new(authorization: &[u8], method: &str, path: &str) -> Self {
        let mut hash = Sha256::new();
        for part in [authorization, method.as_bytes(), path.as_bytes()] {
            // Length-prefixed, so that no two different triples hash the same bytes.
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Self(hex::encode(hash.finalize()))
    }
}

/// The fingerprint of a request (SHA-256 of method, path, query and body), fed as the body
/// arrives so that a body is never held whole for it.
#[derive(Debug, Clone)]
pub struct Fingerprint(Sha256);

impl Fingerprint {
    /// Starts the fingerprint of `method path?query`; the body follows with `update`.
    pub fn new(method: &str, path: &str, query: Option<&str>) -> Self {
        let mut hash = Sha256::new();
        for part in [method, path, query.unwrap_or("")] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        Self(hash)
    }

    /// Adds the next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The fingerprint of the whole request, as hex.
    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// What is known of a key before its request runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Earlier {
    /// No live record: the request may claim the key and run.
    None,
    /// A request with the key is still running.
    InProgress,
    /// A request with the key finished: the same request gets `answer` again, another one
    /// is refused.
    Done {
        /// That request's fingerprint.
        fingerprint: String,
        /// Its answer.
        answer: StoredAnswer,
    },
}

/// A key claimed by a running request: complete it with the answer, or release it.
#[derive(Debug, Clone)]
pub struct Claim {
    scope: KeyScope,
    key: IdempotencyKey,
    claimed_at: DateTime<Utc>,
}

/// What happened to a key before: a record past [`KEY_LIFETIME`], or in progress past
/// [`IN_PROGRESS_LEASE`], counts as none.
///
/// # Errors
/// Store failure.
pub async fn earlier(
    ctx: &Context,
    scope: &KeyScope,
    key: &IdempotencyKey,
) -> Result<Earlier, StoreError> {
    let now = ctx.clock.now();
    let record = store::idempotency::find(&ctx.db, &scope.0, key.as_str()).await?;
    Ok(match record {
        None => Earlier::None,
        Some(store::idempotency::Record::InProgress { claimed_at })
            if claimed_at >= now - IN_PROGRESS_LEASE =>
        {
            Earlier::InProgress
        }
        Some(store::idempotency::Record::Done {
            fingerprint,
            answer,
            claimed_at,
        }) if claimed_at >= now - KEY_LIFETIME => Earlier::Done {
            fingerprint,
            answer,
        },
        Some(_) => Earlier::None,
    })
}

/// Claims `key` for a request about to run, replacing an expired or abandoned record.
///
/// # Errors
/// `Conflict` when another request holds the key; store failure.
pub async fn claim(
    ctx: &Context,
    scope: KeyScope,
    key: IdempotencyKey,
) -> Result<Claim, StoreError> {
    // Whole microseconds: PostgreSQL keeps no finer time, and the claim is found again by it.
    let now = ctx.clock.now().trunc_subsecs(6);
    store::idempotency::claim(
        &ctx.db,
        &scope.0,
        key.as_str(),
        now,
        now - KEY_LIFETIME,
        now - IN_PROGRESS_LEASE,
    )
    .await?;
    Ok(Claim {
        scope,
        key,
        claimed_at: now,
    })
}

/// Whether an answer with `status` is kept for replay: a success, or a refusal that the
/// same request would meet again (422, 404, …). Answers that may change on a retry are not
/// kept: 401 and 403 (the token may be fixed), 408 (the body was late), 409 (a conflict
/// may clear), 429 (the limit resets) and every 5xx.
pub fn is_kept(status: u16) -> bool {
    match status {
        200..=299 => true,
        401 | 403 | 408 | 409 | 429 => false,
        400..=499 => true,
        _ => false,
    }
}

impl Claim {
    /// Keeps `answer` for requests with the same key and `fingerprint`, if [`is_kept`] says
    /// so and its body is within [`MAX_STORED_BODY_BYTES`]; otherwise releases the key.
    /// Returns whether the answer was kept.
    ///
    /// # Errors
    /// Store failure (the key is then left in progress until [`IN_PROGRESS_LEASE`]).
    pub async fn complete(
        self,
        ctx: &Context,
        fingerprint: &str,
        answer: StoredAnswer,
    ) -> Result<bool, StoreError> {
        if !is_kept(answer.status) || answer.body.len() > MAX_STORED_BODY_BYTES {
            self.release(ctx).await?;
            return Ok(false);
        }
        store::idempotency::complete(
            &ctx.db,
            &self.scope.0,
            self.key.as_str(),
            self.claimed_at,
            fingerprint,
            answer,
        )
        .await
    }

    /// Gives the key up: the request kept nothing, and a retry runs anew.
    ///
    /// # Errors
    /// Store failure.
    pub async fn release(self, ctx: &Context) -> Result<(), StoreError> {
        store::idempotency::release(&ctx.db, &self.scope.0, self.key.as_str(), self.claimed_at)
            .await
    }
}

/// Deletes the records older than [`KEY_LIFETIME`] at `now`; returns how many.
///
/// # Errors
/// Store failure.
pub async fn delete_expired(ctx: &Context, now: DateTime<Utc>) -> Result<u64, StoreError> {
    store::idempotency::delete_claimed_before(&ctx.db, now - KEY_LIFETIME).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_one_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        assert!(IdempotencyKey::parse(b"8e03978e-40d5-43e8-bc93-6894a57f9324").is_ok());
        assert_eq!(IdempotencyKey::parse(b""), Err(IdempotencyKeyError::Length));
        assert_eq!(
            IdempotencyKey::parse(&[b'k'; 256]),
            Err(IdempotencyKeyError::Length)
        );
        for bad in [&b"a b"[..], b"a\tb", "é".as_bytes(), b"a\x7f"] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(IdempotencyKeyError::Characters)
            );
        }
    }

    #[test]
    fn final_answers_are_kept_and_retryable_ones_are_not() {
        for kept in [200, 201, 204, 400, 404, 410, 413, 422] {
            assert!(is_kept(kept), "{kept}");
        }
        for not in [401, 403, 408, 409, 429, 500, 503, 302] {
            assert!(!is_kept(not), "{not}");
        }
    }

    #[test]
    fn scopes_and_fingerprints_differ_with_every_part() {
        let scope = KeyScope::new(b"Bearer a", "POST", "/lists");
        assert_ne!(scope, KeyScope::new(b"Bearer b", "POST", "/lists"));
        assert_ne!(scope, KeyScope::new(b"Bearer a", "POST", "/campaigns"));
        assert_ne!(
            KeyScope::new(b"ab", "c", "/"),
            KeyScope::new(b"a", "bc", "/")
        );
        let print = |query: Option<&str>, body: &[u8]| {
            let mut f = Fingerprint::new("POST", "/lists", query);
            f.update(body);
            f.finish()
        };
        assert_eq!(print(None, b"{}"), print(Some(""), b"{}"));
        assert_ne!(print(None, b"{}"), print(None, b"{ }"));
        assert_ne!(print(Some("a=1"), b""), print(None, b"a=1"));
    }
}
