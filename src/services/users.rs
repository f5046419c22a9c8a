//! Use cases of admin users: the first set-up, create, log in (rate-limited, same answer and
//! cost for unknown users, wrong passwords and disabled users), sessions, log out, change
//! password, and an admin changing a user's role or disabling them.

use std::sync::OnceLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::audit::{self, Change};
use super::paging::Page;
use super::rate_limit::{Limit, Refused, Scope};
use crate::{
    context::Context,
    domain::{Action, Actor, EmailAddress, Forbidden, Password, Role, User, UserId},
    signing::Purpose,
    store::{self, StoreError, users::StoredSession},
};

impl From<Refused> for UsersError {
    fn from(refused: Refused) -> Self {
        Self::RateLimited {
            retry_after_secs: refused.retry_after_secs,
        }
    }
}

/// Why a user action was refused.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// Unknown address or wrong password: the same answer for both.
    #[error("wrong address or password")]
    BadCredentials,
    /// Too many attempts for this account or from this address.
    #[error("too many login attempts; try again later")]
    RateLimited {
        /// Seconds until the refusing window ends.
        retry_after_secs: u64,
    },
    /// The address is taken by another user.
    #[error("a user with this address already exists")]
    EmailTaken,
    /// No user has this id.
    #[error("there is no such user")]
    UnknownUser,
    /// The one asking is no longer an active admin (changed while the request waited).
    #[error("only an active admin may change users")]
    NotAllowed,
    /// The change would leave no active admin.
    #[error("this is the last active admin: make another user admin first")]
    LastAdmin,
    /// The set-up link is unknown or used, or users exist already.
    #[error("this set-up link is not valid (any more)")]
    SetupClosed,
    /// Admins must keep a second factor (`admin.require_2fa`).
    #[error("admins must log in with a one-time code here")]
    TwoFactorRequired,
    /// A password-reset link that is forged, expired or used.
    #[error("this password-reset link is not valid (any more)")]
    ResetLinkInvalid,
    /// Hashing failed (not expected).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new session: the cookie secret (shown to the browser once) and its user.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie value.
    pub secret: String,
    /// Whose session.
    pub user: User,
}

/// Hashes a password with argon2id (random salt, default parameters) off the async threads.
async fn hash_password(password: &Password) -> Result<String, UsersError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| UsersError::Hashing(e.to_string()))
    })
    .await
    .map_err(|e| UsersError::Hashing(e.to_string()))?
}

/// Whether `password` matches `hash`; costs the same for a malformed or dummy hash.
pub(super) async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A real hash of a random password, checked for unknown users so that they cost the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(random_hex().as_bytes())
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

fn random_hex() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A short fingerprint of a password hash, for links that must end when the password
/// changes (a login ticket, a reset link): never the hash itself.
pub(super) fn password_fingerprint(hash: &str) -> uuid::Uuid {
    let digest = Sha256::digest(hash.as_bytes());
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Uuid::from_bytes(bytes)
}

fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a user (CLI, the users page, the API).
///
/// # Errors
/// `Forbidden`, `EmailTaken`, or a store failure.
pub async fn create(
    ctx: &Context,
    actor: &Actor,
    email: EmailAddress,
    role: Role,
    password: &Password,
) -> Result<User, UsersError> {
    actor.authorize(Action::ManageAccess)?;
    let user = User {
        id: UserId::new(),
        email,
        role,
        disabled_at: None,
        two_factor: false,
        time_zone: chrono_tz::UTC,
        locale: crate::domain::Locale::En,
    };
    insert(ctx, actor, "user.create", user, password).await
}

/// Stores a new user with the audit entry `action` of `actor`.
async fn insert(
    ctx: &Context,
    actor: &Actor,
    action: &'static str,
    user: User,
    password: &Password,
) -> Result<User, UsersError> {
    let hash = hash_password(password).await?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    match store::users::insert(&txn, &user, &hash, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(UsersError::EmailTaken),
        Err(e) => return Err(e.into()),
    }
    let change = Change::of(action, user.id).detail(access_summary(&user));
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(user)
}

/// Every user.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn all(ctx: &Context, actor: &Actor) -> Result<Vec<User>, UsersError> {
    actor.authorize(Action::ManageAccess)?;
    Ok(store::users::all(&ctx.db).await?)
}

/// A page of users whose address sorts after `after`, by address, and the next cursor.
///
/// # Errors
/// Store failure.
pub async fn page(
    ctx: &Context,
    actor: &Actor,
    after: Option<&str>,
    limit: u64,
) -> Result<Page<User, String>, UsersError> {
    use super::paging;
    actor.authorize(Action::ManageAccess)?;
    let found = store::users::page(&ctx.db, after, paging::fetch_size(limit)).await?;
    Ok(Page::cut(found, limit, |u| u.email.as_str().to_owned()))
}

/// On a start without users: a fresh one-time set-up secret (only its hash is kept, in
/// memory), or `None` when users exist.
///
/// # Errors
/// Store failure.
pub async fn open_setup(ctx: &Context, setup: &SetupSecret) -> Result<Option<String>, StoreError> {
    if store::users::count(&ctx.db).await? > 0 {
        return Ok(None);
    }
    let secret = random_hex();
    *setup.lock() = Some(sha256_hex(&secret));
    Ok(Some(secret))
}

/// The hash of the one-time set-up secret while no user exists; per process, in memory.
#[derive(Debug, Default)]
pub struct SetupSecret(std::sync::Mutex<Option<String>>);

impl SetupSecret {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `secret` is the open set-up secret.
    pub fn matches(&self, secret: &str) -> bool {
        self.lock()
            .as_deref()
            .is_some_and(|h| bool::from(h.as_bytes().ct_eq(sha256_hex(secret).as_bytes())))
    }
}

/// Creates the first admin through the set-up link, which then closes, and logs them in.
///
/// # Errors
/// `SetupClosed` for a wrong or used link or when users exist; `EmailTaken`; store failure.
pub async fn complete_setup(
    ctx: &Context,
    setup: &SetupSecret,
    secret: &str,
    email: EmailAddress,
    password: &Password,
) -> Result<NewSession, UsersError> {
    if !setup.matches(secret) || store::users::count(&ctx.db).await? > 0 {
        return Err(UsersError::SetupClosed);
    }
    let user = User {
        id: UserId::new(),
        email,
        role: Role::Admin,
        disabled_at: None,
        two_factor: false,
        time_zone: chrono_tz::UTC,
        locale: crate::domain::Locale::En,
    };
    // The first admin creates themselves: the set-up link is their authority.
    let user = insert(ctx, &as_actor(&user), "user.setup", user, password).await?;
    *setup.lock() = None;
    start_session(ctx, user).await
}

/// Checks an address and password and starts a session. Unknown addresses and wrong
/// passwords get the same error after the same work (one argon2id verification).
///
/// Three limits, kept in the database: attempts per client network (429 beyond), wrong
/// passwords per account from one network (429 beyond, for that network only), and wrong
/// passwords per account from everywhere, beyond which each attempt waits a second more (up
/// to `MAX_LOGIN_DELAY_SECS`) but is never refused: nobody without the password can lock
/// the owner out.
///
/// A user with two-factor login (or an admin who must have it) gets a ticket for the code
/// instead of a session.
///
/// # Errors
/// `RateLimited`, `BadCredentials`, or a store failure.
pub async fn log_in(
    ctx: &Context,
    email_raw: &str,
    password: &str,
    client: Option<std::net::IpAddr>,
) -> Result<LoginOutcome, UsersError> {
    let now = ctx.clock.now();
    let limit = |scope| Limit::of(scope, &ctx.settings);
    // The client's network is counted first; an attempt it refuses leaves nothing more
    // behind, so a flood from one network cannot grow the per-account windows.
    let network = login_network(client);
    if let Err(refused) = limit(Scope::LoginsFromNetwork)
        .hit(ctx, &ctx.db, &network, now)
        .await?
    {
        return Err(refused.into());
    }
    // Only a well-formed address has account windows (normalised, at most 254 bytes);
    // anything else cannot be an account and is counted by its network alone.
    let email = EmailAddress::parse(email_raw).ok();
    if let Some(email) = &email {
        let pair = format!("{}|{network}", email.as_str());
        if let Err(refused) = limit(Scope::LoginFailuresFromNetwork)
            .check(ctx, &ctx.db, &pair, now)
            .await?
        {
            return Err(refused.into());
        }
        let excess = limit(Scope::LoginFailures)
            .excess(ctx, &ctx.db, email.as_str(), now)
            .await?;
        if excess > 0 {
            let secs = u64::from(excess.min(MAX_LOGIN_DELAY_SECS));
            tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
        }
    }
    let found = match &email {
        Some(email) => store::users::find_by_email(&ctx.db, email).await?,
        None => None,
    };
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, dummy_hash().to_owned()),
    };
    let matches = verify_password(password.to_owned(), hash.clone()).await;
    match (user, matches) {
        (Some(user), true) if user.is_active() && user.two_factor => Ok(LoginOutcome::NeedsCode(
            super::two_factor::ticket(ctx, &user, &hash),
        )),
        (Some(user), true) if user.is_active() => {
            Ok(LoginOutcome::Session(start_session(ctx, user).await?))
        }
        _ => {
            if let Some(email) = &email {
                let pair = format!("{}|{network}", email.as_str());
                // The attempt was refused already: whether these windows are full now
                // matters only to the next attempt.
                let _ = limit(Scope::LoginFailuresFromNetwork)
                    .hit(ctx, &ctx.db, &pair, now)
                    .await?;
                let _ = limit(Scope::LoginFailures)
                    .hit(ctx, &ctx.db, email.as_str(), now)
                    .await?;
            }
            Err(UsersError::BadCredentials)
        }
    }
}

/// What a right password leads to.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// Logged in.
    Session(NewSession),
    /// The one-time code is still needed: the ticket the code form carries.
    NeedsCode(super::two_factor::Ticket),
}

/// The longest a login attempt waits for the wrong passwords before it.
const MAX_LOGIN_DELAY_SECS: u32 = 8;

/// Starts a session for `user` if they are still active: their row is locked while the
/// session is written, so a disable that commits meanwhile either waits for it (and then
/// deletes it) or is seen here.
pub(super) async fn start_session(ctx: &Context, user: User) -> Result<NewSession, UsersError> {
    let now = ctx.clock.now();
    let secret = random_hex();
    let txn = store::begin_write(&ctx.writer).await?;
    let user = match store::users::find_for_update(&txn, user.id).await {
        Ok(current) if current.is_active() => current,
        Ok(_) | Err(StoreError::NotFound) => return Err(UsersError::BadCredentials),
        Err(e) => return Err(e.into()),
    };
    store::users::insert_session(
        &txn,
        &sha256_hex(&secret),
        user.id,
        &random_hex(),
        now,
        now + ctx.settings.admin.session_ttl,
    )
    .await?;
    audit::append(
        &txn,
        &as_actor(&user),
        Change::of("session.login", user.id),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(NewSession { secret, user })
}

/// The live session of a cookie secret, if any.
///
/// # Errors
/// Store failure.
pub async fn session(ctx: &Context, secret: &str) -> Result<Option<StoredSession>, StoreError> {
    if secret.len() != 64 {
        return Ok(None);
    }
    store::users::find_session(&ctx.db, &sha256_hex(secret), ctx.clock.now()).await
}

/// The user as the actor of their own session.
fn as_actor(user: &User) -> Actor {
    Actor::User {
        id: user.id,
        email: user.email.clone(),
        role: user.role,
    }
}

/// Ends the session of `actor` with this cookie secret.
///
/// # Errors
/// Store failure.
pub async fn log_out(ctx: &Context, actor: &Actor, secret: &str) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    store::users::delete_session(&txn, &sha256_hex(secret)).await?;
    let target = actor.user().map(|id| id.to_string());
    let change = Change {
        action: "session.logout",
        target,
        detail: None,
    };
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await
}

/// Changes the password of `actor`, a user, after checking the current one; ends all their
/// sessions.
///
/// # Errors
/// `BadCredentials` for a wrong current password or an actor that is no user; store failure.
pub async fn change_password(
    ctx: &Context,
    actor: &Actor,
    current: &str,
    new: &Password,
) -> Result<(), UsersError> {
    let Actor::User { id, .. } = *actor else {
        return Err(UsersError::BadCredentials);
    };
    let (_, hash) = store::users::find(&ctx.db, id).await?;
    if !verify_password(current.to_owned(), hash).await {
        return Err(UsersError::BadCredentials);
    }
    let hash = hash_password(new).await?;
    let txn = store::begin_write(&ctx.writer).await?;
    let now = ctx.clock.now();
    store::users::set_password(&txn, id, &hash, now).await?;
    store::users::delete_sessions_of(&txn, id, now).await?;
    audit::append(&txn, actor, Change::of("user.password", id), now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Sets the time zone the admin UI shows and reads times in for `actor`, a user.
///
/// # Errors
/// `BadCredentials` for an actor that is no user; store failure.
pub async fn set_time_zone(
    ctx: &Context,
    actor: &Actor,
    zone: chrono_tz::Tz,
) -> Result<(), UsersError> {
    let Actor::User { id, .. } = *actor else {
        return Err(UsersError::BadCredentials);
    };
    let txn = store::begin_write(&ctx.writer).await?;
    let now = ctx.clock.now();
    store::users::set_time_zone(&txn, id, zone).await?;
    let change = Change::of("user.time_zone", id).detail(zone.name().to_owned());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Sets the language the admin UI speaks to `actor`, a user.
///
/// # Errors
/// `BadCredentials` for an actor that is no user; store failure.
pub async fn set_locale(
    ctx: &Context,
    actor: &Actor,
    locale: crate::domain::Locale,
) -> Result<(), UsersError> {
    let Actor::User { id, .. } = *actor else {
        return Err(UsersError::BadCredentials);
    };
    let txn = store::begin_write(&ctx.writer).await?;
    let now = ctx.clock.now();
    store::users::set_locale(&txn, id, locale).await?;
    let change = Change::of("user.locale", id).detail(locale.as_str().to_owned());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// What an admin changes of a user's access; `None` leaves that part as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessChange {
    /// The new role.
    pub role: Option<Role>,
    /// `true` disables the user (ends their sessions, refuses their tokens), `false`
    /// enables them again.
    pub disabled: Option<bool>,
}

impl AccessChange {
    /// A change of role only.
    pub fn role(role: Role) -> Self {
        Self {
            role: Some(role),
            disabled: None,
        }
    }

    /// Disabling (`true`) or enabling (`false`) only.
    pub fn disabled(disabled: bool) -> Self {
        Self {
            role: None,
            disabled: Some(disabled),
        }
    }
}

/// Changes a user's role or disables/enables them, never leaving the workspace without an
/// active admin. Disabling ends the user's sessions at once; their API tokens are refused
/// while they are disabled, and no token does more than its owner's current role allows.
/// The user behind `actor` (the session's user or the token's owner) must still be an
/// active admin when the change is made. Each part of the change is audited.
///
/// # Errors
/// `Forbidden`, `NotAllowed`, `UnknownUser`, `LastAdmin`, or a store failure.
pub async fn change_access(
    ctx: &Context,
    actor: &Actor,
    id: UserId,
    change: AccessChange,
) -> Result<User, UsersError> {
    actor.authorize(Action::ManageAccess)?;
    let by = actor.user();
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    // The admins are locked first, always in the same order, so that two admins demoting
    // each other at once are serialised and the second sees the first's change.
    let admins = store::users::active_admins_for_update(&txn).await?;
    // Checked again here: a request authorised before another admin's change committed
    // must not undo it.
    if by.is_some_and(|by| !admins.contains(&by)) {
        return Err(UsersError::NotAllowed);
    }
    let before = match store::users::find_for_update(&txn, id).await {
        Ok(user) => user,
        Err(StoreError::NotFound) => return Err(UsersError::UnknownUser),
        Err(e) => return Err(e.into()),
    };
    let after = User {
        role: change.role.unwrap_or(before.role),
        disabled_at: match change.disabled {
            Some(true) => before.disabled_at.or(Some(now)),
            Some(false) => None,
            None => before.disabled_at,
        },
        ..before.clone()
    };
    if before.is_active_admin() && !after.is_active_admin() && admins.iter().all(|a| *a == id) {
        return Err(UsersError::LastAdmin);
    }
    store::users::set_access(&txn, id, after.role, after.disabled_at).await?;
    if !after.is_active() {
        store::users::delete_sessions_of(&txn, id, now).await?;
    }
    let actions = [
        (change.role.is_some(), "user.role"),
        (change.disabled == Some(true), "user.disable"),
        (change.disabled == Some(false), "user.enable"),
    ];
    for (_, action) in actions.iter().filter(|(done, _)| *done) {
        let entry = Change::of(action, id).detail(access_summary(&after));
        audit::append(&txn, actor, entry, now).await?;
    }
    store::commit(txn).await?;
    Ok(after)
}

/// A user's access in words, for the audit log: `ADDRESS as ROLE[, disabled]`.
pub fn access_summary(user: &User) -> String {
    match user.disabled_at {
        Some(_) => format!("{} as {}, disabled", user.email.as_str(), user.role),
        None => format!("{} as {}", user.email.as_str(), user.role),
    }
}

/// The network a login attempt is counted by: an IPv4 address, or the /64 of an IPv6 one
/// (which a client may rotate within at will).
pub(super) fn login_network(client: Option<std::net::IpAddr>) -> String {
    match client {
        Some(std::net::IpAddr::V6(ip)) => {
            let [a, b, c, d, ..] = ip.segments();
            format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
        }
        Some(ip @ std::net::IpAddr::V4(_)) => ip.to_string(),
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::login_network;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let net = |ip: &str| login_network(ip.parse().ok());
        assert_eq!(net("2001:db8:1:2::1"), net("2001:db8:1:2:ffff::9"));
        assert_ne!(net("2001:db8:1:2::1"), net("2001:db8:1:3::1"));
        assert_eq!(net("203.0.113.7"), "203.0.113.7");
        assert_ne!(net("203.0.113.7"), net("203.0.113.8"));
    }
}

/// How long an e-mailed password-reset link works.
const RESET_LINK_MINUTES: i64 = 30;

/// The e-mail a password reset sends: to whom, and the link.
#[derive(Debug, Clone)]
pub struct ResetMail {
    /// The user's address.
    pub to: EmailAddress,
    /// The signed link to the new-password form.
    pub link: String,
    /// How long the link works, in minutes.
    pub minutes: i64,
}

/// Asks for a password-reset link for `email`. The answer is the same whether or not a user
/// has the address: `Some` only when one does (active), and the e-mail is within the limits
/// on e-mails strangers can trigger; the caller sends it. Counted as a login attempt of the
/// client's network.
///
/// # Errors
/// `RateLimited` (the network's attempts), or a store failure.
pub async fn request_password_reset(
    ctx: &Context,
    email: &EmailAddress,
    client: Option<std::net::IpAddr>,
) -> Result<Option<ResetMail>, UsersError> {
    let now = ctx.clock.now();
    let network = login_network(client);
    Limit::of(Scope::LoginsFromNetwork, &ctx.settings)
        .hit(ctx, &ctx.db, &network, now)
        .await??;
    let Some((user, hash)) = store::users::find_by_email(&ctx.db, email).await? else {
        return Ok(None);
    };
    let mail_network = client.map(crate::domain::privacy::anonymise_ip);
    if !user.is_active()
        || !super::rate_limit::may_mail_stranger(ctx, &ctx.db, email, mail_network.as_deref(), now)
            .await?
    {
        return Ok(None);
    }
    let token = ctx.keyring.sign_with_context(
        Purpose::PasswordReset,
        user.id.as_uuid(),
        password_fingerprint(&hash),
        Some(now + chrono::Duration::minutes(RESET_LINK_MINUTES)),
    );
    let link = crate::config::join_url(
        &ctx.settings.http.public_url,
        &format!("admin/password-reset/{token}"),
    );
    Ok(Some(ResetMail {
        to: user.email,
        link: link.to_string(),
        minutes: RESET_LINK_MINUTES,
    }))
}

/// Whether a password-reset link is still good (to show its form); the user's address.
///
/// # Errors
/// `ResetLinkInvalid`, or a store failure.
pub async fn password_reset_link(ctx: &Context, token: &str) -> Result<User, UsersError> {
    let (user, _) = reset_link_user(ctx, token).await?;
    Ok(user)
}

/// Sets a new password from a reset link; the link is spent with it (it names the old
/// password) and every session of the user ends. A second factor stays as it was.
///
/// # Errors
/// `ResetLinkInvalid`, or a store failure.
pub async fn reset_password(ctx: &Context, token: &str, new: &Password) -> Result<(), UsersError> {
    let (user, _) = reset_link_user(ctx, token).await?;
    let hash = hash_password(new).await?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    // The link is checked again under the row lock: two uses at once, one wins.
    let (_, current) = store::users::find(&txn, user.id).await?;
    let (_, context) = ctx
        .keyring
        .verify_with_context(token, Purpose::PasswordReset, now)
        .map_err(|_| UsersError::ResetLinkInvalid)?;
    if context != Some(password_fingerprint(&current)) {
        return Err(UsersError::ResetLinkInvalid);
    }
    store::users::set_password(&txn, user.id, &hash, now).await?;
    store::users::delete_sessions_of(&txn, user.id, now).await?;
    audit::append(
        &txn,
        &as_actor(&user),
        Change::of("user.password_reset", user.id),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(())
}

async fn reset_link_user(ctx: &Context, token: &str) -> Result<(User, String), UsersError> {
    let (subject, context) = ctx
        .keyring
        .verify_with_context(token, Purpose::PasswordReset, ctx.clock.now())
        .map_err(|_| UsersError::ResetLinkInvalid)?;
    let (user, hash) = match store::users::find(&ctx.db, UserId::from_uuid(subject)).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Err(UsersError::ResetLinkInvalid),
        Err(e) => return Err(e.into()),
    };
    if context != Some(password_fingerprint(&hash)) || !user.is_active() {
        return Err(UsersError::ResetLinkInvalid);
    }
    Ok((user, hash))
}
