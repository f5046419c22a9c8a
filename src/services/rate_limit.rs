//! Fixed-window limits on what strangers and users can make Bulletin do: signups and privacy
//! requests per client network, e-mails a stranger can trigger per recipient and per network,
//! test sends per user, login attempts. The windows live in the database (`rate_limits`), so a
//! limit survives a restart and is shared by every instance; a key is stored only as a keyed
//! hash, never as the text a client sent, and only once a hit is counted (a refused request
//! adds no row). The retention job deletes ended windows.

use chrono::{DateTime, Duration, Utc};

use crate::{
    config::Settings,
    context::Context,
    domain::EmailAddress,
    store::{self, StoreError},
};

/// What a limit counts; its name is the `scope` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `POST /subscribe` per client network.
    Signups,
    /// `POST /api/v1/subscriptions` per API token.
    ApiSignups,
    /// `POST /privacy` per client network.
    PrivacyRequests,
    /// E-mails a stranger can trigger (confirmations, privacy links, address changes) per
    /// recipient address.
    MailsToRecipient,
    /// The same e-mails per client network that asked for them.
    MailsFromNetwork,
    /// Test sends per user or API token.
    TestSends,
    /// Login attempts per client network.
    LoginsFromNetwork,
    /// Failed logins per account and client network.
    LoginFailuresFromNetwork,
    /// Failed logins per account, from anywhere (they slow logins down, never refuse them).
    LoginFailures,
    /// Signed webhook calls (Mailgun's tokens, SNS message ids, SendGrid bodies): each is
    /// taken once while its signature is fresh.
    WebhookTokens,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Self::Signups => "signups",
            Self::ApiSignups => "api_signups",
            Self::PrivacyRequests => "privacy_requests",
            Self::MailsToRecipient => "mails_to_recipient",
            Self::MailsFromNetwork => "mails_from_network",
            Self::TestSends => "test_sends",
            Self::LoginsFromNetwork => "logins_from_network",
            Self::LoginFailuresFromNetwork => "login_failures_from_network",
            Self::LoginFailures => "login_failures",
            Self::WebhookTokens => "webhook_tokens",
        }
    }
}

/// A limit: at most `per_window` hits per key in each window (0: no limit).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    scope: Scope,
    per_window: u32,
    window: Duration,
}

/// A refused hit and when its window ends: what a 429 answer's `Retry-After` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Whole seconds until the window ends (at least 1).
    pub retry_after_secs: u64,
}

impl Limit {
    /// `per_window` hits of `scope` per key and `window`.
    pub fn new(scope: Scope, per_window: u32, window: Duration) -> Self {
        Self {
            scope,
            per_window,
            window,
        }
    }

    /// The limit of `scope` as configured.
    pub fn of(scope: Scope, settings: &Settings) -> Self {
        let hour = Duration::hours(1);
        let admin = &settings.admin;
        match scope {
            Scope::Signups => Self::new(scope, settings.subscriptions.signups_per_hour, hour),
            Scope::ApiSignups => Self::new(
                scope,
                settings.subscriptions.api_signups_per_token_per_hour,
                hour,
            ),
            Scope::PrivacyRequests => Self::new(scope, settings.privacy.requests_per_hour, hour),
            Scope::MailsToRecipient => Self::new(
                scope,
                settings.limits.mails_per_recipient_per_day,
                Duration::days(1),
            ),
            Scope::MailsFromNetwork => {
                Self::new(scope, settings.limits.mails_per_network_per_hour, hour)
            }
            Scope::TestSends => Self::new(scope, settings.delivery.test_sends_per_hour, hour),
            Scope::LoginsFromNetwork => {
                Self::new(scope, admin.login_attempts_per_ip, admin.login_window)
            }
            Scope::LoginFailuresFromNetwork | Scope::LoginFailures => {
                Self::new(scope, admin.login_attempts_per_account, admin.login_window)
            }
            Scope::WebhookTokens => Self::new(scope, 1, crate::mail::providers::TOKEN_MEMORY),
        }
    }

    /// Counts a hit of `key` at `now`; `Err(Refused)` when the key had used up its window.
    ///
    /// # Errors
    /// Store failure.
    pub async fn hit(
        &self,
        ctx: &Context,
        conn: &impl store::Connection,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError> {
        if self.per_window == 0 {
            return Ok(Ok(()));
        }
        let key_hash = ctx.address_hasher.hash_limit_key(self.scope.as_str(), key);
        let now_secs = now.timestamp();
        let window = store::rate_limits::hit(
            conn,
            self.scope.as_str(),
            &key_hash,
            self.window.num_seconds(),
            now_secs,
        )
        .await?;
        Ok(match window.hits > self.per_window {
            true => Err(refused(window.ends, now_secs)),
            false => Ok(()),
        })
    }

    /// Whether `key` still has hits left at `now`, counting nothing.
    ///
    /// # Errors
    /// Store failure.
    pub async fn check(
        &self,
        ctx: &Context,
        conn: &impl store::Connection,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Refused>, StoreError> {
        let hits = self.counted(ctx, conn, key, now).await?;
        Ok(match hits {
            Some((hits, ends)) if self.per_window > 0 && hits >= self.per_window => {
                Err(refused(ends, now.timestamp()))
            }
            _ => Ok(()),
        })
    }

    /// How far `key` is beyond its share at `now`: 0 within it, 1 for the first hit over it.
    ///
    /// # Errors
    /// Store failure.
    pub async fn excess(
        &self,
        ctx: &Context,
        conn: &impl store::Connection,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        if self.per_window == 0 {
            return Ok(0);
        }
        let hits = self.counted(ctx, conn, key, now).await?;
        Ok(hits.map_or(0, |(hits, _)| hits.saturating_sub(self.per_window)))
    }

    async fn counted(
        &self,
        ctx: &Context,
        conn: &impl store::Connection,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(u32, i64)>, StoreError> {
        let key_hash = ctx.address_hasher.hash_limit_key(self.scope.as_str(), key);
        let window =
            store::rate_limits::look(conn, self.scope.as_str(), &key_hash, now.timestamp()).await?;
        Ok(window.map(|w| (w.hits, w.ends)))
    }
}

fn refused(ends: i64, now: i64) -> Refused {
    Refused {
        retry_after_secs: u64::try_from(ends - now).unwrap_or(0).max(1),
    }
}

/// Whether an e-mail a stranger asked for may go to `to`: counts it against the client
/// network that asked (`network`, if known) and then against the recipient. `false` (and
/// the mail is not sent, with the same answer to the client) when either has had its share,
/// so that nobody can flood an address by any path or any number of paths.
///
/// # Errors
/// Store failure.
pub async fn may_mail_stranger(
    ctx: &Context,
    conn: &impl store::Connection,
    to: &EmailAddress,
    network: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if let Some(network) = network {
        let limit = Limit::of(Scope::MailsFromNetwork, &ctx.settings);
        if limit.hit(ctx, conn, network, now).await?.is_err() {
            tracing::info!(
                "an e-mail a stranger asked for was not sent: the network's share is used up"
            );
            return Ok(false);
        }
    }
    let limit = Limit::of(Scope::MailsToRecipient, &ctx.settings);
    if limit.hit(ctx, conn, to.as_str(), now).await?.is_err() {
        tracing::info!(
            "an e-mail a stranger asked for was not sent: the recipient's share is used up"
        );
        return Ok(false);
    }
    Ok(true)
}

/// Deletes the windows that have ended; returns how many.
///
/// # Errors
/// Store failure.
pub async fn delete_ended(ctx: &Context, now: DateTime<Utc>) -> Result<u64, StoreError> {
    store::rate_limits::delete_ended(&ctx.db, now.timestamp()).await
}
