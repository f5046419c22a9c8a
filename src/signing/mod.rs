//! Signed link tokens: make and check the HMAC tokens that every e-mailed link carries. No I/O.
//!
//! A token binds a purpose, a subject id, an expiry and a key id, never an address or a name.

mod address_hash;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{
    STANDARD_NO_PAD_INDIFFERENT, URL_SAFE_NO_PAD, URL_SAFE_NO_PAD_INDIFFERENT,
};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use address_hash::AddressHasher;

type HmacSha256 = Hmac<Sha256>;

/// First byte of every token; bump it when the layout changes.
const VERSION: u8 = 1;
/// First byte of a token that also carries a context id (the campaign an unsubscribe link
/// came with) after the expiry. Version 1 tokens stay valid.
const VERSION_WITH_CONTEXT: u8 = 2;
const CONTEXT_LEN: usize = 16;
const KEY_ID_LEN: usize = 4;
/// Version, purpose, key id, subject and expiry: the bytes the MAC covers.
const PAYLOAD_LEN: usize = 1 + 1 + KEY_ID_LEN + 16 + 8;
const MAC_LEN: usize = 32;
const TOKEN_LEN: usize = PAYLOAD_LEN + MAC_LEN;
/// A token is 83 characters; anything much longer is refused before it is decoded.
const MAX_TOKEN_CHARS: usize = 200;
/// Expiry value meaning "never expires" (unsubscribe and objection links must always work).
const NEVER: i64 = 0;
const MIN_SECRET_LEN: usize = 32;
/// Domain separation, so a key id reveals nothing usable about the secret it names.
const KEY_ID_DOMAIN: &[u8] = b"bulletin-signing-key-id:";
/// HMAC-SHA-256 block size B (RFC 2104 §2).
const HMAC_BLOCK_LEN: usize = 64;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm a pending subscription (double opt-in).
    Confirm,
    /// Unsubscribe from a list.
    Unsubscribe,
    /// Open the subscriber's preferences page.
    Preferences,
    /// Open the subscriber's privacy page (access, objection, erasure).
    Privacy,
    /// Confirm a change of e-mail address.
    ChangeAddress,
    /// Object to legitimate-interest notices (Art. 21); never expires.
    Object,
    /// Acknowledge a product change notice.
    Acknowledge,
    /// Open a notice's archive page when the archive is not public.
    Archive,
    /// Finish an admin login with a one-time code, after the password (short-lived).
    LoginTicket,
    /// Set a new admin password from an e-mailed link (short-lived, good once).
    PasswordReset,
}

impl Purpose {
    fn to_byte(self) -> u8 {
        match self {
            Self::Confirm => 1,
            Self::Unsubscribe => 2,
            Self::Preferences => 3,
            Self::Privacy => 4,
            Self::ChangeAddress => 5,
            Self::Object => 6,
            Self::Acknowledge => 7,
            Self::Archive => 8,
            Self::LoginTicket => 9,
            Self::PasswordReset => 10,
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Confirm),
            2 => Some(Self::Unsubscribe),
            3 => Some(Self::Preferences),
            4 => Some(Self::Privacy),
            5 => Some(Self::ChangeAddress),
            6 => Some(Self::Object),
            7 => Some(Self::Acknowledge),
            8 => Some(Self::Archive),
            9 => Some(Self::LoginTicket),
            10 => Some(Self::PasswordReset),
            _ => None,
        }
    }
}

/// One HMAC key with its derived key id.
#[derive(Clone)]
pub struct SigningKey {
    id: [u8; KEY_ID_LEN],
    secret: Vec<u8>,
    /// HMAC state already keyed with `secret`, cloned for each token.
    mac: HmacSha256,
}

impl SigningKey {
    /// Makes a new key from 32 random bytes.
    pub fn generate() -> Self {
        // `rand::random` draws from ThreadRng, a CSPRNG seeded from the operating system.
        let secret: [u8; MIN_SECRET_LEN] = rand::random();
        Self::from_secret(secret.to_vec())
    }

    /// Reads a key written by [`SigningKey::encode`] (or any base64 of at least 32 bytes).
    ///
    /// # Errors
    ///
    /// [`KeyError::NotBase64`] if the trimmed text is neither base64url nor standard base64,
    /// with or without padding; [`KeyError::TooShort`] if it decodes to fewer than 32 bytes.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let secret = URL_SAFE_NO_PAD_INDIFFERENT
            .decode(text)
            .or_else(|_| STANDARD_NO_PAD_INDIFFERENT.decode(text))
            .map_err(|_| KeyError::NotBase64)?;
        if secret.len() < MIN_SECRET_LEN {
            return Err(KeyError::TooShort(secret.len()));
        }
        Ok(Self::from_secret(secret))
    }

    /// The secret as base64url without padding, so `parse(encode(k)) == k`.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.secret)
    }

    /// The key id as 8 lowercase hex characters, safe to log.
    pub fn id(&self) -> String {
        format!("{:08x}", u32::from_be_bytes(self.id))
    }

    fn from_secret(secret: Vec<u8>) -> Self {
        let digest = Sha256::new()
            .chain_update(KEY_ID_DOMAIN)
            .chain_update(&secret)
            .finalize();
        let mut id = [0; KEY_ID_LEN];
        for (to, from) in id.iter_mut().zip(digest.iter()) {
            *to = *from;
        }
        let mac = HmacSha256::new(&hmac_key_block(&secret).into());
        Self { id, secret, mac }
    }

    fn tag(&self, payload: &[u8]) -> [u8; MAC_LEN] {
        self.mac
            .clone()
            .chain_update(payload)
            .finalize()
            .into_bytes()
            .into()
    }

    fn is_tag_valid(&self, payload: &[u8], tag: &[u8]) -> bool {
        // `verify_slice` compares in constant time.
        self.mac
            .clone()
            .chain_update(payload)
            .verify_slice(tag)
            .is_ok()
    }
}

/// The HMAC key block for `secret`, derived as RFC 2104 §2 does: a key longer than the block
/// is hashed first, and the key is then zero-padded to the block size. Keying from the
/// fixed-size block makes key construction infallible, with the same MAC as the raw secret.
fn hmac_key_block(secret: &[u8]) -> [u8; HMAC_BLOCK_LEN] {
    let hashed;
    let key = if secret.len() > HMAC_BLOCK_LEN {
        hashed = Sha256::digest(secret);
        hashed.as_slice()
    } else {
        secret
    };
    let mut block = [0; HMAC_BLOCK_LEN];
    for (to, from) in block.iter_mut().zip(key) {
        *to = *from;
    }
    block
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.secret == other.secret
    }
}

impl Eq for SigningKey {}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// Why a key could not be read (Display readable by an operator).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The text is not base64 (url-safe or standard, padded or not).
    #[error("not valid base64")]
    NotBase64,
    /// The key decodes to fewer than 32 bytes; the field is the decoded length.
    #[error("must be at least 32 bytes, got {0}")]
    TooShort(usize),
}

/// The current key (signs) and previous keys (still accepted when checking).
#[derive(Debug, Clone)]
pub struct Keyring {
    current: SigningKey,
    previous: Vec<SigningKey>,
}

impl Keyring {
    /// Makes a keyring that signs with `current` and also accepts tokens from `previous`.
    pub fn new(current: SigningKey, previous: Vec<SigningKey>) -> Self {
        Self { current, previous }
    }

    /// The id of the key that signs new tokens.
    pub fn current_id(&self) -> String {
        self.current.id()
    }

    /// Signs a token for `subject`, valid until `expires_at` (`None`: never expires).
    ///
    /// The expiry is kept to the whole second, rounding down.
    pub fn sign(
        &self,
        purpose: Purpose,
        subject: Uuid,
        expires_at: Option<DateTime<Utc>>,
    ) -> SignedToken {
        let mut bytes = Vec::with_capacity(TOKEN_LEN);
        bytes.push(VERSION);
        bytes.push(purpose.to_byte());
        bytes.extend_from_slice(&self.current.id);
        bytes.extend_from_slice(subject.as_bytes());
        bytes.extend_from_slice(&expiry_secs(expires_at).to_be_bytes());
        let tag = self.current.tag(&bytes);
        bytes.extend_from_slice(&tag);
        SignedToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Signs a token like [`Keyring::sign`] that also carries `context`, an id the link came
    /// with (the campaign of an unsubscribe link), covered by the same MAC.
    pub fn sign_with_context(
        &self,
        purpose: Purpose,
        subject: Uuid,
        context: Uuid,
        expires_at: Option<DateTime<Utc>>,
    ) -> SignedToken {
        let mut bytes = Vec::with_capacity(TOKEN_LEN + CONTEXT_LEN);
        bytes.push(VERSION_WITH_CONTEXT);
        bytes.push(purpose.to_byte());
        bytes.extend_from_slice(&self.current.id);
        bytes.extend_from_slice(subject.as_bytes());
        bytes.extend_from_slice(&expiry_secs(expires_at).to_be_bytes());
        bytes.extend_from_slice(context.as_bytes());
        let tag = self.current.tag(&bytes);
        bytes.extend_from_slice(&tag);
        SignedToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Like [`Keyring::verify`], and also returns the context id of a token made by
    /// [`Keyring::sign_with_context`] (`None` for a token without one).
    ///
    /// # Errors
    /// As [`Keyring::verify`].
    pub fn verify_with_context(
        &self,
        token: &str,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<(Uuid, Option<Uuid>), TokenError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Malformed)?;
        let fields = Fields::parse(&bytes).ok_or(TokenError::Malformed)?;
        let subject = self.check(&fields, purpose, now)?;
        Ok((subject, fields.context))
    }

    /// Checks `token` for `purpose` at `now` and returns its subject.
    ///
    /// # Errors
    ///
    /// [`TokenError::Malformed`] if it is not a token at all, [`TokenError::BadSignature`] if
    /// no key in the ring signed it, [`TokenError::WrongPurpose`] if it was made for another
    /// purpose, and [`TokenError::Expired`] if its expiry is at or before `now`.
    pub fn verify(
        &self,
        token: &str,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<Uuid, TokenError> {
        self.verify_with_context(token, purpose, now)
            .map(|(subject, _)| subject)
    }

    fn check(
        &self,
        fields: &Fields<'_>,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<Uuid, TokenError> {
        // Every key with a matching id is tried, so an unlikely 32-bit id clash is harmless.
        let is_signed = self
            .keys()
            .filter(|key| key.id == fields.key_id)
            .any(|key| key.is_tag_valid(fields.payload, fields.tag));
        if !is_signed {
            return Err(TokenError::BadSignature);
        }
        if fields.purpose != purpose {
            return Err(TokenError::WrongPurpose);
        }
        if fields.expiry_secs != NEVER && fields.expiry_secs <= now.timestamp() {
            return Err(TokenError::Expired {
                subject: fields.subject,
            });
        }
        Ok(fields.subject)
    }

    fn keys(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.current).chain(&self.previous)
    }
}

/// Expiry as written in a token: unix seconds, with [`NEVER`] reserved for "never expires".
fn expiry_secs(expires_at: Option<DateTime<Utc>>) -> i64 {
    match expires_at.map(|at| at.timestamp()) {
        None => NEVER,
        // An expiry at exactly the epoch would read as "never"; a second earlier is as expired.
        Some(NEVER) => NEVER - 1,
        Some(secs) => secs,
    }
}

/// A decoded token, split into its fields; the signature is not yet checked.
struct Fields<'a> {
    payload: &'a [u8],
    tag: &'a [u8],
    purpose: Purpose,
    key_id: [u8; KEY_ID_LEN],
    subject: Uuid,
    expiry_secs: i64,
    context: Option<Uuid>,
}

impl<'a> Fields<'a> {
    /// Splits `bytes` by the layout; `None` for a wrong length, version or purpose byte.
    fn parse(bytes: &'a [u8]) -> Option<Self> {
        let payload_len = match (bytes.first(), bytes.len()) {
            (Some(&VERSION), TOKEN_LEN) => PAYLOAD_LEN,
            (Some(&VERSION_WITH_CONTEXT), len) if len == TOKEN_LEN + CONTEXT_LEN => {
                PAYLOAD_LEN + CONTEXT_LEN
            }
            _ => return None,
        };
        let (payload, tag) = bytes.split_at_checked(payload_len)?;
        let (_version, rest) = payload.split_first()?;
        let (&purpose, rest) = rest.split_first()?;
        let (key_id, rest) = rest.split_first_chunk::<KEY_ID_LEN>()?;
        let (subject, rest) = rest.split_first_chunk::<16>()?;
        let (expiry, context) = rest.split_first_chunk::<8>()?;
        let context = match context {
            [] => None,
            bytes => Some(Uuid::from_bytes(bytes.try_into().ok()?)),
        };
        Some(Self {
            payload,
            tag,
            purpose: Purpose::from_byte(purpose)?,
            key_id: *key_id,
            subject: Uuid::from_bytes(*subject),
            expiry_secs: i64::from_be_bytes(*expiry),
            context,
        })
    }
}

/// A signed, URL-safe token string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedToken(String);

impl SignedToken {
    /// The token text, ready to put in a URL path or query without escaping.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SignedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The text is not a token: too long, not base64url, wrong length, version or purpose.
    #[error("the token is malformed")]
    Malformed,
    /// No key in the keyring made this token, or it was altered.
    #[error("the token's signature does not match")]
    BadSignature,
    /// The token is genuine but was made for another purpose.
    #[error("the token is for another purpose")]
    WrongPurpose,
    /// The token is genuine but its expiry has passed.
    #[error("the token has expired")]
    Expired {
        /// Whom the token was for, so a page can offer a fresh link.
        subject: Uuid,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::Index;

    const ALL_PURPOSES: [Purpose; 10] = [
        Purpose::Confirm,
        Purpose::Unsubscribe,
        Purpose::Preferences,
        Purpose::Privacy,
        Purpose::ChangeAddress,
        Purpose::Object,
        Purpose::Acknowledge,
        Purpose::Archive,
        Purpose::LoginTicket,
        Purpose::PasswordReset,
    ];
    const URL_SAFE_ALPHABET: &str =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const NOW_SECS: i64 = 1_800_000_000;
    const YEAR_SECS: i64 = 365 * 24 * 60 * 60;

    fn key(fill: u8) -> SigningKey {
        SigningKey::from_secret(vec![fill; 32])
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn now() -> DateTime<Utc> {
        at(NOW_SECS)
    }

    fn ring(current: SigningKey) -> Keyring {
        Keyring::new(current, vec![])
    }

    fn subject() -> Uuid {
        Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001)
    }

    /// Signs raw payload bytes with `key`, bypassing `Keyring::sign`'s checks.
    fn raw_token(key: &SigningKey, payload: &[u8]) -> String {
        let mut bytes = payload.to_vec();
        bytes.extend_from_slice(&key.tag(payload));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn payload(version: u8, purpose: u8, key: &SigningKey) -> Vec<u8> {
        let mut bytes = vec![version, purpose];
        bytes.extend_from_slice(&key.id);
        bytes.extend_from_slice(subject().as_bytes());
        bytes.extend_from_slice(&NEVER.to_be_bytes());
        bytes
    }

    #[test]
    fn a_token_round_trips_for_every_purpose() {
        let ring = ring(key(1));
        for purpose in ALL_PURPOSES {
            let token = ring.sign(purpose, subject(), Some(at(NOW_SECS + 60)));
            assert_eq!(ring.verify(token.as_str(), purpose, now()), Ok(subject()));
        }
    }

    #[test]
    fn purposes_encode_as_one_to_ten_and_decode_back() {
        for (purpose, byte) in ALL_PURPOSES.into_iter().zip(1..) {
            assert_eq!(purpose.to_byte(), byte);
            assert_eq!(Purpose::from_byte(byte), Some(purpose));
        }
        assert_eq!(Purpose::from_byte(0), None);
        assert_eq!(Purpose::from_byte(11), None);
    }

    #[test]
    fn a_token_without_expiry_never_expires() {
        let ring = ring(key(1));
        let token = ring.sign(Purpose::Unsubscribe, subject(), None);
        let far_future = at(NOW_SECS + 1_000 * YEAR_SECS);
        let verified = ring.verify(token.as_str(), Purpose::Unsubscribe, far_future);
        assert_eq!(verified, Ok(subject()));
    }

    #[test]
    fn an_expired_token_reports_its_subject() {
        let ring = ring(key(1));
        let token = ring.sign(Purpose::Confirm, subject(), Some(at(NOW_SECS - 1)));
        let verified = ring.verify(token.as_str(), Purpose::Confirm, now());
        assert_eq!(verified, Err(TokenError::Expired { subject: subject() }));
    }

    #[test]
    fn a_token_expires_at_its_expiry_second() {
        let ring = ring(key(1));
        let token = ring.sign(Purpose::Confirm, subject(), Some(now()));
        let just_before = ring.verify(token.as_str(), Purpose::Confirm, at(NOW_SECS - 1));
        assert_eq!(just_before, Ok(subject()));
        let at_expiry = ring.verify(token.as_str(), Purpose::Confirm, now());
        assert_eq!(at_expiry, Err(TokenError::Expired { subject: subject() }));
    }

    #[test]
    fn an_expiry_at_the_epoch_does_not_mean_never() {
        let ring = ring(key(1));
        let token = ring.sign(Purpose::Confirm, subject(), Some(at(0)));
        let verified = ring.verify(token.as_str(), Purpose::Confirm, now());
        assert_eq!(verified, Err(TokenError::Expired { subject: subject() }));
    }

    #[test]
    fn a_token_signed_with_a_previous_key_still_verifies() {
        let old = Keyring::new(key(1), vec![]);
        let token = old.sign(Purpose::Preferences, subject(), None);
        let rotated = Keyring::new(key(2), vec![key(3), key(1)]);
        let verified = rotated.verify(token.as_str(), Purpose::Preferences, now());
        assert_eq!(verified, Ok(subject()));
    }

    #[test]
    fn a_token_signed_with_an_unknown_key_is_rejected() {
        let token = ring(key(1)).sign(Purpose::Privacy, subject(), None);
        let other = Keyring::new(key(2), vec![key(3)]);
        let verified = other.verify(token.as_str(), Purpose::Privacy, now());
        assert_eq!(verified, Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_contains_no_plus_slash_or_equals_sign() {
        let ring = ring(key(1));
        for fill in 0..=255 {
            let subject = Uuid::from_bytes([fill; 16]);
            let token = ring.sign(Purpose::Confirm, subject, Some(at(NOW_SECS)));
            assert!(!token.as_str().contains(['+', '/', '=']), "{token}");
            assert_eq!(token.as_str().len(), 83);
        }
    }

    #[test]
    fn a_token_has_the_documented_binary_layout() {
        let key = key(7);
        let expires_at = at(NOW_SECS);
        let token = ring(key.clone()).sign(Purpose::Privacy, subject(), Some(expires_at));
        let bytes = URL_SAFE_NO_PAD.decode(token.as_str()).unwrap();
        assert_eq!(bytes.len(), 62);
        assert_eq!(bytes[0], 1);
        assert_eq!(bytes[1], 4);
        assert_eq!(bytes[2..6], key.id);
        assert_eq!(bytes[6..22], *subject().as_bytes());
        assert_eq!(bytes[22..30], NOW_SECS.to_be_bytes());
        let expected = HmacSha256::new_from_slice(&[7; 32])
            .unwrap()
            .chain_update(&bytes[..30])
            .finalize()
            .into_bytes();
        assert_eq!(bytes[30..], expected[..]);
    }

    #[test]
    fn an_over_long_token_is_malformed() {
        let ring = ring(key(1));
        let token = ring.sign(Purpose::Confirm, subject(), None);
        let long = format!("{token}{}", "A".repeat(MAX_TOKEN_CHARS));
        let verified = ring.verify(&long, Purpose::Confirm, now());
        assert_eq!(verified, Err(TokenError::Malformed));
    }

    #[test]
    fn a_signed_token_with_an_unknown_version_or_purpose_is_malformed() {
        let key = key(1);
        let ring = ring(key.clone());
        for (version, purpose) in [(2, 1), (0, 1), (1, 0), (1, 11), (1, 255)] {
            let token = raw_token(&key, &payload(version, purpose, &key));
            let verified = ring.verify(&token, Purpose::Confirm, now());
            assert_eq!(verified, Err(TokenError::Malformed), "{version} {purpose}");
        }
        let valid = raw_token(&key, &payload(1, 1, &key));
        assert_eq!(ring.verify(&valid, Purpose::Confirm, now()), Ok(subject()));
    }

    #[test]
    fn padded_standard_base64_or_empty_tokens_are_malformed() {
        let ring = ring(key(1));
        let token = ring.sign(Purpose::Confirm, subject(), None);
        let bytes = URL_SAFE_NO_PAD.decode(token.as_str()).unwrap();
        let standard = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes);
        assert_ne!(
            standard,
            token.as_str(),
            "pick a subject whose token has - or _"
        );
        for text in [format!("{token}="), standard, String::new()] {
            let verified = ring.verify(&text, Purpose::Confirm, now());
            assert_eq!(verified, Err(TokenError::Malformed), "{text}");
        }
    }

    #[test]
    fn a_key_parses_from_its_own_encoding() {
        let key = SigningKey::generate();
        let parsed = SigningKey::parse(&key.encode()).unwrap();
        assert_eq!(parsed.id(), key.id());
        assert_eq!(parsed, key);
    }

    #[test]
    fn a_key_parses_from_padded_standard_base64_with_whitespace() {
        let secret = [0xfb; 32];
        let standard = base64::engine::general_purpose::STANDARD.encode(secret);
        assert!(standard.contains(['+', '/']) && standard.ends_with('='));
        let parsed = SigningKey::parse(&format!("  {standard}\n")).unwrap();
        assert_eq!(parsed, SigningKey::from_secret(secret.to_vec()));
        let url_padded = base64::engine::general_purpose::URL_SAFE.encode(secret);
        assert_eq!(SigningKey::parse(&url_padded), Ok(parsed));
    }

    #[test]
    fn a_short_key_is_refused_with_its_length() {
        let short = URL_SAFE_NO_PAD.encode([1; 16]);
        assert_eq!(SigningKey::parse(&short), Err(KeyError::TooShort(16)));
        assert_eq!(SigningKey::parse(""), Err(KeyError::TooShort(0)));
        let message = KeyError::TooShort(16).to_string();
        assert_eq!(message, "must be at least 32 bytes, got 16");
    }

    #[test]
    fn a_key_that_is_not_base64_is_refused() {
        assert_eq!(SigningKey::parse("not base64!"), Err(KeyError::NotBase64));
        assert_eq!(SigningKey::parse("ab+c-d"), Err(KeyError::NotBase64));
    }

    #[test]
    fn a_key_id_is_eight_lowercase_hex_characters_from_the_tagged_hash() {
        let secret = [9; 32];
        let key = SigningKey::from_secret(secret.to_vec());
        let mut input = b"bulletin-signing-key-id:".to_vec();
        input.extend_from_slice(&secret);
        let digest = Sha256::digest(&input);
        let expected: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key.id(), expected);
        assert_eq!(key.id().len(), 8);
        assert!(key.id().chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
    }

    #[test]
    fn debug_output_shows_key_ids_but_never_secrets() {
        let (current, previous) = (key(1), key(2));
        let keyring = Keyring::new(current.clone(), vec![previous.clone()]);
        let debug = format!("{keyring:?} {current:?}");
        assert!(debug.contains(&current.id()) && debug.contains(&previous.id()));
        assert!(!debug.contains(&current.encode()) && !debug.contains(&previous.encode()));
        assert!(!debug.contains("secret") && !debug.contains("[1, 1"));
        assert_eq!(keyring.current_id(), current.id());
    }

    fn purposes() -> impl Strategy<Value = Purpose> {
        proptest::sample::select(ALL_PURPOSES.to_vec())
    }

    fn subjects() -> impl Strategy<Value = Uuid> {
        any::<u128>().prop_map(Uuid::from_u128)
    }

    fn secrets() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 32..=100)
    }

    /// Instants between 1970 and about 2096, in whole seconds.
    fn instants() -> impl Strategy<Value = i64> {
        1..4_000_000_000_i64
    }

    proptest! {
        #[test]
        fn verify_returns_the_signed_subject(
            secret in secrets(),
            purpose in purposes(),
            subject in subjects(),
            now in instants(),
            lifetime in proptest::option::of(1..=10 * YEAR_SECS),
        ) {
            let ring = ring(SigningKey::from_secret(secret));
            let token = ring.sign(purpose, subject, lifetime.map(|secs| at(now + secs)));
            prop_assert_eq!(ring.verify(token.as_str(), purpose, at(now)), Ok(subject));
        }

        #[test]
        fn changing_any_one_character_is_rejected(
            secret in secrets(),
            purpose in purposes(),
            subject in subjects(),
            lifetime in proptest::option::of(1..=10 * YEAR_SECS),
            position in any::<Index>(),
            replacement in any::<Index>(),
        ) {
            let ring = ring(SigningKey::from_secret(secret));
            let token = ring.sign(purpose, subject, lifetime.map(|secs| at(NOW_SECS + secs)));
            let mut chars: Vec<char> = token.as_str().chars().collect();
            let i = position.index(chars.len());
            let others: Vec<char> = URL_SAFE_ALPHABET.chars().filter(|&c| c != chars[i]).collect();
            chars[i] = others[replacement.index(others.len())];
            let tampered: String = chars.into_iter().collect();
            let verified = ring.verify(&tampered, purpose, now());
            prop_assert!(
                matches!(verified, Err(TokenError::Malformed | TokenError::BadSignature)),
                "{:?}", verified
            );
        }

        #[test]
        fn a_token_with_a_context_returns_it_and_refuses_any_changed_character(
            secret in secrets(),
            purpose in purposes(),
            (subject, context) in (subjects(), subjects()),
            position in any::<Index>(),
            replacement in any::<Index>(),
        ) {
            let ring = ring(SigningKey::from_secret(secret));
            let token = ring.sign_with_context(purpose, subject, context, None);
            prop_assert_eq!(ring.verify_with_context(token.as_str(), purpose, now()), Ok((subject, Some(context))));
            prop_assert_eq!(ring.verify(token.as_str(), purpose, now()), Ok(subject));
            let plain = ring.sign(purpose, subject, None);
            prop_assert_eq!(ring.verify_with_context(plain.as_str(), purpose, now()), Ok((subject, None)));
            let mut chars: Vec<char> = token.as_str().chars().collect();
            let i = position.index(chars.len());
            let others: Vec<char> = URL_SAFE_ALPHABET.chars().filter(|&c| c != chars[i]).collect();
            chars[i] = others[replacement.index(others.len())];
            let tampered: String = chars.into_iter().collect();
            let verified = ring.verify_with_context(&tampered, purpose, now());
            prop_assert!(
                matches!(verified, Err(TokenError::Malformed | TokenError::BadSignature)),
                "{:?}", verified
            );
        }

        #[test]
        fn a_token_for_another_purpose_is_wrong_purpose(
            secret in secrets(),
            (signed_for, checked_for) in (purposes(), purposes()).prop_filter("distinct", |(a, b)| a != b),
            subject in subjects(),
        ) {
            let ring = ring(SigningKey::from_secret(secret));
            let token = ring.sign(signed_for, subject, None);
            let verified = ring.verify(token.as_str(), checked_for, now());
            prop_assert_eq!(verified, Err(TokenError::WrongPurpose));
        }

        #[test]
        fn a_token_from_another_key_is_a_bad_signature(
            (signer, checker) in (secrets(), secrets()).prop_filter("distinct", |(a, b)| a != b),
            purpose in purposes(),
            subject in subjects(),
        ) {
            let token = ring(SigningKey::from_secret(signer)).sign(purpose, subject, None);
            let other = ring(SigningKey::from_secret(checker));
            prop_assert_eq!(other.verify(token.as_str(), purpose, now()), Err(TokenError::BadSignature));
        }

        #[test]
        fn a_token_past_its_expiry_is_expired(
            secret in secrets(),
            purpose in purposes(),
            subject in subjects(),
            now in instants(),
            overdue in 0..=10 * YEAR_SECS,
        ) {
            let ring = ring(SigningKey::from_secret(secret));
            let token = ring.sign(purpose, subject, Some(at(now - overdue)));
            let verified = ring.verify(token.as_str(), purpose, at(now));
            prop_assert_eq!(verified, Err(TokenError::Expired { subject }));
        }

        #[test]
        fn verify_refuses_arbitrary_strings_without_panicking(text in any::<String>(), purpose in purposes()) {
            prop_assert!(ring(key(1)).verify(&text, purpose, now()).is_err());
        }

        #[test]
        fn verify_refuses_arbitrary_url_safe_text_without_panicking(
            text in "[A-Za-z0-9_=+/-]{0,220}",
            purpose in purposes(),
        ) {
            prop_assert!(ring(key(1)).verify(&text, purpose, now()).is_err());
        }

        #[test]
        fn verify_refuses_arbitrary_encoded_bytes_without_panicking(
            bytes in proptest::collection::vec(any::<u8>(), 0..160),
            purpose in purposes(),
        ) {
            let token = URL_SAFE_NO_PAD.encode(bytes);
            prop_assert!(ring(key(1)).verify(&token, purpose, now()).is_err());
        }

        #[test]
        fn a_well_formed_token_with_a_forged_tag_is_a_bad_signature(
            purpose in purposes(),
            rest in proptest::collection::vec(any::<u8>(), TOKEN_LEN - 6),
        ) {
            let key = key(1);
            let mut bytes = vec![VERSION, purpose.to_byte()];
            bytes.extend_from_slice(&key.id);
            bytes.extend_from_slice(&rest);
            let token = URL_SAFE_NO_PAD.encode(bytes);
            prop_assert_eq!(ring(key).verify(&token, purpose, now()), Err(TokenError::BadSignature));
        }

        #[test]
        fn a_key_parses_from_its_encoding(secret in secrets()) {
            let key = SigningKey::from_secret(secret);
            prop_assert_eq!(SigningKey::parse(&key.encode()), Ok(key));
        }

        #[test]
        fn key_parse_never_panics(text in any::<String>()) {
            let _ = SigningKey::parse(&text);
        }

        #[test]
        fn the_key_block_gives_the_same_mac_as_the_raw_secret(
            secret in proptest::collection::vec(any::<u8>(), 0..300),
            message in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let direct = HmacSha256::new_from_slice(&secret).unwrap().chain_update(&message);
            let direct: [u8; MAC_LEN] = direct.finalize().into_bytes().into();
            let via_block = SigningKey::from_secret(secret).tag(&message);
            prop_assert_eq!(direct, via_block);
        }
    }
}
