//! Two-factor login for admin users: one-time codes (TOTP, RFC 6238: SHA-1, six digits,
//! 30-second steps, one step of clock skew either way) from an authenticator app. Setting
//! up shows a secret that a first code must confirm; a login after the right password
//! gets a short-lived signed ticket, and the code finishes it. A code is good once.

use rand::RngCore;

use super::{
    audit::{self, Change},
    rate_limit::{Limit, Scope},
    users::{self, NewSession, UsersError},
};
use crate::{
    context::Context,
    domain::{Action, Actor, User, UserId},
    signing::Purpose,
    store::{self, StoreError},
};

/// How long a login ticket lasts between the password and the code.
const TICKET_MINUTES: i64 = 5;

/// What the set-up page shows: the secret to type in, and the `otpauth://` URI an
/// authenticator app reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The secret in base32, as authenticator apps take it.
    pub secret: String,
    /// `otpauth://totp/…` with the secret, the issuer and the account.
    pub uri: String,
}

/// A login that needs its one-time code: the signed ticket the code form carries.
#[derive(Debug, Clone)]
pub struct Ticket(pub String);

/// The ticket that lets `user`, whose password was right, finish logging in with a code. It
/// names the password it followed, so a password change ends it.
pub(super) fn ticket(ctx: &Context, user: &User, password_hash: &str) -> Ticket {
    let expires = ctx.clock.now() + chrono::Duration::minutes(TICKET_MINUTES);
    let token = ctx.keyring.sign_with_context(
        Purpose::LoginTicket,
        user.id.as_uuid(),
        users::password_fingerprint(password_hash),
        Some(expires),
    );
    Ticket(token.to_string())
}

/// Finishes a login with the one-time code: the ticket must be fresh and for the current
/// password, and the code right and unused. Wrong codes count like wrong passwords (per
/// account and network; the network's attempts too).
///
/// # Errors
/// `BadCredentials` (an invalid or expired ticket, a wrong or used code), `RateLimited`, or
/// a store failure.
pub async fn finish_login(
    ctx: &Context,
    ticket: &str,
    code: &str,
    client: Option<std::net::IpAddr>,
) -> Result<NewSession, UsersError> {
    let now = ctx.clock.now();
    let (subject, fingerprint) = ctx
        .keyring
        .verify_with_context(ticket, Purpose::LoginTicket, now)
        .map_err(|_| UsersError::BadCredentials)?;
    let id = UserId::from_uuid(subject);
    let (user, hash) = match store::users::find(&ctx.db, id).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Err(UsersError::BadCredentials),
        Err(e) => return Err(e.into()),
    };
    if fingerprint != Some(users::password_fingerprint(&hash)) || !user.is_active() {
        return Err(UsersError::BadCredentials);
    }
    let network = users::login_network(client);
    let limit = |scope| Limit::of(scope, &ctx.settings);
    limit(Scope::LoginsFromNetwork)
        .hit(ctx, &ctx.db, &network, now)
        .await??;
    let pair = format!("{}|{network}", user.email.as_str());
    limit(Scope::LoginFailuresFromNetwork)
        .check(ctx, &ctx.db, &pair, now)
        .await??;
    let secrets = store::users::totp_secrets(&ctx.db, id).await?;
    let step = secrets
        .secret
        .as_deref()
        .and_then(|secret| matching_step(secret, &user, code, now));
    let fresh = match step {
        Some(step) => store::users::use_totp_step(&ctx.db, id, step).await?,
        None => false,
    };
    if !fresh {
        // Counted like a wrong password; whether the windows are full now matters only to
        // the next attempt.
        let _ = limit(Scope::LoginFailuresFromNetwork)
            .hit(ctx, &ctx.db, &pair, now)
            .await?;
        let _ = limit(Scope::LoginFailures)
            .hit(ctx, &ctx.db, user.email.as_str(), now)
            .await?;
        return Err(UsersError::BadCredentials);
    }
    users::start_session(ctx, user).await
}

/// Starts setting up two-factor login for the actor: a fresh secret, kept as pending until
/// `confirm` sees a code of it.
///
/// # Errors
/// `NotAllowed` for anyone but a logged-in user, or a store failure.
pub async fn enrol(ctx: &Context, actor: &Actor) -> Result<Enrolment, UsersError> {
    let Some(id) = actor.user() else {
        return Err(UsersError::NotAllowed);
    };
    let (user, _) = store::users::find(&ctx.db, id).await?;
    let mut bytes = [0_u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    let secret = totp_rs::Secret::from(bytes).to_base32();
    store::users::set_totp_pending(&ctx.db, id, Some(&secret)).await?;
    let uri = totp(&secret, &user, &ctx.settings.mail.organisation)
        .and_then(|t| t.to_url().ok())
        .unwrap_or_default();
    Ok(Enrolment { secret, uri })
}

/// Turns two-factor login on for the actor with a code of the pending secret.
///
/// # Errors
/// `BadCredentials` for a wrong code or no pending secret, `NotAllowed`, or a store failure.
pub async fn confirm(ctx: &Context, actor: &Actor, code: &str) -> Result<(), UsersError> {
    let Some(id) = actor.user() else {
        return Err(UsersError::NotAllowed);
    };
    let now = ctx.clock.now();
    let (user, _) = store::users::find(&ctx.db, id).await?;
    let secrets = store::users::totp_secrets(&ctx.db, id).await?;
    let Some(pending) = secrets.pending else {
        return Err(UsersError::BadCredentials);
    };
    let Some(step) = matching_step(&pending, &user, code, now) else {
        return Err(UsersError::BadCredentials);
    };
    let txn = store::begin_write(&ctx.writer).await?;
    store::users::set_totp(&txn, id, Some(&pending), Some(step)).await?;
    audit::append(&txn, actor, Change::of("user.two_factor.on", id), now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Turns two-factor login off for the actor, who proves it with their password; not for
/// admins while `admin.require_2fa` is on.
///
/// # Errors
/// `BadCredentials`, `Required` (admins must keep it), `NotAllowed`, or a store failure.
pub async fn turn_off(ctx: &Context, actor: &Actor, password: &str) -> Result<(), UsersError> {
    let Some(id) = actor.user() else {
        return Err(UsersError::NotAllowed);
    };
    let (user, hash) = store::users::find(&ctx.db, id).await?;
    if is_required(ctx, &user) {
        return Err(UsersError::TwoFactorRequired);
    }
    if !users::verify_password(password.to_owned(), hash).await {
        return Err(UsersError::BadCredentials);
    }
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    store::users::set_totp(&txn, id, None, None).await?;
    audit::append(&txn, actor, Change::of("user.two_factor.off", id), now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Removes another user's second factor (a lost phone): they set it up again at their next
/// login if it is required. Ends their sessions.
///
/// # Errors
/// `Forbidden` without `ManageAccess`, `UnknownUser`, or a store failure.
pub async fn remove(ctx: &Context, actor: &Actor, id: UserId) -> Result<(), UsersError> {
    actor.authorize(Action::ManageAccess)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    match store::users::find_for_update(&txn, id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => return Err(UsersError::UnknownUser),
        Err(e) => return Err(e.into()),
    }
    store::users::set_totp(&txn, id, None, None).await?;
    store::users::delete_sessions_of(&txn, id, now).await?;
    audit::append(&txn, actor, Change::of("user.two_factor.remove", id), now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// Whether `user` must have a second factor before doing anything (`admin.require_2fa`).
pub fn is_required(ctx: &Context, user: &User) -> bool {
    ctx.settings.admin.require_2fa && user.role.is_admin()
}

/// The time step whose code `code` is, within a step either way of `now`.
fn matching_step(
    secret: &str,
    user: &User,
    code: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let time = u64::try_from(now.timestamp()).ok()?;
    let step = totp(secret, user, "Bulletin")?.check(&code, time)?;
    i64::try_from(step).ok()
}

/// The generator of `secret` (base32) for `user`, named by `issuer` in apps.
fn totp(secret: &str, user: &User, issuer: &str) -> Option<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret).ok()?;
    // Neither part may hold a colon in an otpauth URI.
    let clean = |s: &str| s.replace(':', " ");
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(clean(user.email.as_str()))
        .with_issuer(Some(clean(issuer)))
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EmailAddress, Role};

    fn user() -> User {
        User {
            id: UserId::new(),
            email: EmailAddress::parse("ann@example.com").unwrap(),
            role: Role::Admin,
            disabled_at: None,
            two_factor: true,
            time_zone: chrono_tz::UTC,
            locale: crate::domain::Locale::En,
        }
    }

    #[test]
    fn rfc_6238_test_vector_and_one_step_of_skew() {
        // RFC 6238 appendix B, SHA-1, T = 59: 94287082 (eight digits); its last six.
        let secret = totp_rs::Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let at = |secs| chrono::DateTime::from_timestamp(secs, 0).unwrap();
        assert_eq!(matching_step(&secret, &user(), "287082", at(59)), Some(1));
        assert_eq!(matching_step(&secret, &user(), "287 082", at(89)), Some(1));
        assert_eq!(matching_step(&secret, &user(), "287082", at(120)), None);
        assert_eq!(matching_step(&secret, &user(), "000000", at(59)), None);
        assert_eq!(matching_step(&secret, &user(), "not a code", at(59)), None);
    }
}
