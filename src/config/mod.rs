//! Settings: `config/default.toml` (compiled in), then the `--config` file, then
//! `BULLETIN__SECTION__KEY` variables; parsed once into real types. Errors name the key.

mod raw;

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::SecretString;
use url::Url;

use crate::domain::{EmailAddress, retention::RetentionPolicy};

pub use raw::RawSettings;

/// A configuration value that cannot be used, with the key that holds it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key holds an unusable value.
    #[error("{key}: {message}")]
    Invalid {
        /// Dotted key, e.g. `mail.smtp_url`.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The sources could not be read or merged.
    #[error("configuration: {0}")]
    Load(#[from] config::ConfigError),
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// All settings, parsed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[http]`
    pub http: HttpSettings,
    /// `[database]`
    pub database: DatabaseSettings,
    /// `[data] dir`
    pub data_dir: PathBuf,
    /// `[signing]`
    pub signing: SigningSettings,
    /// `[mail]`
    pub mail: MailSettings,
    /// `[subscriptions]`
    pub subscriptions: SubscriptionSettings,
    /// `[privacy] notice_url`, resolved.
    pub privacy_notice_url: Url,
    /// `[privacy] hash_key`, if configured (otherwise generated into the data directory).
    pub address_hash_key: Option<SecretString>,
    /// `[privacy]`: the data-subject rights' links and limits.
    pub privacy: PrivacySettings,
    /// `[admin]`
    pub admin: AdminSettings,
    /// `[limits]`: the e-mails strangers can trigger.
    pub limits: LimitSettings,
    /// `[bounces]`: what refusals and complaints do.
    pub bounces: BounceSettings,
    /// `[inbound]`: the SMTP receiver for the bounce domain.
    pub inbound: InboundSettings,
    /// `[webhooks]`: the e-mail providers whose bounce and complaint calls are taken.
    pub webhooks: WebhookSettings,
    /// `[import]`
    pub import: ImportSettings,
    /// `[delivery]`
    pub delivery: DeliverySettings,
    /// `[scheduler]`
    pub scheduler: SchedulerSettings,
    /// `[retention]`
    pub retention: RetentionSettings,
    /// `[notices]`
    pub notices: NoticeSettings,
    /// `[log]`
    pub log: LogSettings,
}

/// `[http]`
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct HttpSettings {
    /// Listen address.
    pub bind: SocketAddr,
    /// Base of every link, without a trailing slash.
    pub public_url: Url,
    /// Whether to trust `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    pub request_timeout: Duration,
    /// Largest request body.
    pub body_limit_bytes: usize,
    /// Time for a request's headers, and for an idle connection's next request.
    pub header_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections at most from one client address (0: no such limit).
    pub max_connections_per_client: usize,
}

/// `[database]`
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// Connection URL (`sqlite:` or `postgres:`).
    pub url: SecretString,
    /// Pool size.
    pub max_connections: u32,
    /// How long a statement waits for a lock before the request is answered 503.
    pub busy_timeout: Duration,
}

/// `[signing]`
#[derive(Debug, Clone)]
pub struct SigningSettings {
    /// Current key, if configured (otherwise generated into the data directory).
    pub key: Option<SecretString>,
    /// Earlier keys still accepted.
    pub previous_keys: Vec<SecretString>,
}

/// How mail leaves Bulletin.
#[derive(Debug, Clone)]
pub enum MailTransportSettings {
    /// `.eml` files in a directory.
    File {
        /// Where the files go.
        outbox_dir: PathBuf,
    },
    /// An SMTP relay.
    Smtp {
        /// `smtp://`, `smtp+starttls://` or `smtps://` URL, possibly with credentials.
        url: SecretString,
        /// Pool size.
        pool_max: u32,
        /// Command timeout.
        timeout: Duration,
    },
}

impl MailTransportSettings {
    /// The longest one send may take before the transport gives up (four SMTP command
    /// timeouts); `None` for files.
    pub fn longest_send(&self) -> Option<Duration> {
        match self {
            Self::File { .. } => None,
            Self::Smtp { timeout, .. } => Some(*timeout * 4),
        }
    }
}

/// `[mail]`
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct MailSettings {
    pub transport: MailTransportSettings,
    /// From header value (display name and address).
    pub from: String,
    /// Address part of `from`, for the envelope and Message-IDs.
    pub from_address: EmailAddress,
    /// Organisation named in e-mails and pages.
    pub organisation: String,
    /// Operator template overrides.
    pub templates_dir: PathBuf,
    /// The domain of the per-message envelope senders (VERP) that bounces come back to;
    /// `None`: the envelope sender is `from_address`.
    pub bounce_domain: Option<String>,
    /// `[mail.dkim]`: Bulletin's own DKIM signature; `None`: the relay signs.
    pub dkim: Option<DkimSettings>,
    /// The domains a campaign's From may use: that of `from`, then the configured ones.
    pub allowed_from_domains: Vec<String>,
    /// The name Bulletin gives in EHLO: `helo_name`, or the host of `http.public_url`.
    pub helo_name: String,
    /// The sender's postal address and imprint, one line each, in every mail's footer.
    pub postal_address: String,
    /// Where replies go when neither the campaign nor the list names an address
    /// (`Reply-To`); `None`: no `Reply-To`, replies go to `from`.
    pub reply_to: Option<EmailAddress>,
}

/// `[mail.dkim]`: the key and names of Bulletin's DKIM signature.
#[derive(Debug, Clone)]
pub struct DkimSettings {
    /// The signing domain (`d=`).
    pub domain: String,
    /// The selector (`s=`): the key is published at `SELECTOR._domainkey.DOMAIN`.
    pub selector: String,
    /// The private key, PEM.
    pub key_pem: SecretString,
}

/// `[subscriptions]`
#[derive(Debug, Clone)]
pub struct SubscriptionSettings {
    /// Confirmation link lifetime.
    pub confirm_link_ttl: chrono::Duration,
    /// Least time between two confirmation e-mails.
    pub resend_cooldown: chrono::Duration,
    /// Most confirmation e-mails per request.
    pub max_confirmations: u32,
    /// `POST /subscribe` requests per client network and hour; 0: no limit.
    pub signups_per_hour: u32,
    /// `POST /api/v1/subscriptions` requests per API token and hour; 0: no limit.
    pub api_signups_per_token_per_hour: u32,
}

/// `[admin]`: sessions and login limits of the admin UI.
#[derive(Debug, Clone)]
pub struct AdminSettings {
    /// How long a session lasts from login.
    pub session_ttl: chrono::Duration,
    /// Login attempts per account and window.
    pub login_attempts_per_account: u32,
    /// Login attempts per client address and window.
    pub login_attempts_per_ip: u32,
    /// The window the attempts are counted in.
    pub login_window: chrono::Duration,
    /// Whether admins must log in with a second factor (TOTP).
    pub require_2fa: bool,
}

/// `[import]`
#[derive(Debug, Clone)]
pub struct ImportSettings {
    /// Largest CSV body.
    pub max_body_bytes: usize,
    /// Largest CSV file uploaded in the admin UI (kept on disk until imported).
    pub max_upload_bytes: usize,
    /// Uploads waiting on disk at most per user.
    pub uploads_per_user: usize,
    /// Bytes of the uploads waiting on disk at most in all.
    pub uploads_total_bytes: u64,
    /// Longest import request.
    pub timeout: Duration,
    /// Rows read, looked up and inserted at a time (an import is one transaction).
    pub batch_rows: usize,
}

/// `[delivery]`
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Whether the worker loop runs in this process.
    pub worker_enabled: bool,
    /// Idle poll interval.
    pub poll_interval: Duration,
    /// Rows claimed per batch.
    pub batch_size: u32,
    /// Messages in flight at once.
    pub concurrency: usize,
    /// Claim lease length.
    pub lease: chrono::Duration,
    /// Attempts before failing.
    pub max_attempts: u32,
    /// First retry delay.
    pub backoff_base: chrono::Duration,
    /// Longest retry delay.
    pub backoff_max: chrono::Duration,
    /// Temporary failures in a row that pause running campaigns.
    pub pause_after_failures: u32,
    /// Recipients per fan-out transaction.
    pub fan_out_chunk: u64,
    /// Messages per second at most (0: no limit).
    pub max_per_second: u32,
    /// Messages per hour at most (0: no limit).
    pub max_per_hour: u32,
    /// Test messages one user or token may send per hour (0: no limit).
    pub test_sends_per_hour: u32,
}

/// `[inbound]`: the built-in SMTP receiver for the bounce domain.
#[derive(Debug, Clone)]
pub struct InboundSettings {
    /// Where it listens; `None`: off.
    pub bind: Option<SocketAddr>,
    /// Largest message it takes.
    pub max_message_bytes: usize,
    /// Connections at once.
    pub max_connections: usize,
}

/// `[webhooks]`: the providers whose calls are taken, with what proves a call is theirs.
/// `None`: that provider's webhook is off (404).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Amazon SES through SNS.
    pub ses: Option<SesWebhook>,
    /// Postmark: the basic-authentication user name and password.
    pub postmark: Option<(String, SecretString)>,
    /// Mailgun: the webhook signing key.
    pub mailgun: Option<SecretString>,
    /// SendGrid: the uncompressed P-256 point of the Event Webhook's verification key.
    pub sendgrid: Option<Vec<u8>>,
    /// Outgoing webhooks may go to loopback, private and link-local addresses (off: only
    /// public ones, against SSRF).
    pub allow_private_targets: bool,
}

/// Amazon SES notifications through SNS.
#[derive(Debug, Clone)]
pub struct SesWebhook {
    /// The SNS topics whose messages are taken.
    pub topic_arns: Vec<String>,
    /// SNS's signing certificate (PEM) when it is pinned instead of fetched.
    pub certificate_pem: Option<Vec<u8>>,
}

/// `[bounces]`: when soft bounces suppress an address.
#[derive(Debug, Clone)]
pub struct BounceSettings {
    /// Soft bounces in a row (no delivery between) that suppress an address.
    pub soft_limit: u32,
    /// How far back the soft bounces in a row are counted.
    pub soft_window: chrono::Duration,
    /// The complaint and hard-bounce rates that pause a campaign.
    pub pause_rates: crate::domain::bounce::PauseRates,
}

/// `[limits]`: how many e-mails strangers can make Bulletin send (confirmations, privacy
/// links, address changes), whatever the path.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Such e-mails per recipient address and day (0: no limit).
    pub mails_per_recipient_per_day: u32,
    /// Such e-mails asked for from one client network per hour (0: no limit).
    pub mails_per_network_per_hour: u32,
}

/// `[privacy]`: links and limits of the "manage my data" flow.
#[derive(Debug, Clone)]
pub struct PrivacySettings {
    /// Lifetime of the e-mailed link to a person's data page.
    pub link_ttl: chrono::Duration,
    /// Least time between two privacy links for the same address.
    pub link_cooldown: chrono::Duration,
    /// Lifetime of the link that confirms a new address.
    pub address_change_ttl: chrono::Duration,
    /// `POST /privacy` requests per hour from one client network (0: no limit).
    pub requests_per_hour: u32,
}

/// `[scheduler]`
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// Whether the scheduler runs in this process.
    pub enabled: bool,
    /// Cron expression of the campaign-start job.
    pub start_campaigns_cron: String,
    /// How late a missed campaign may start on boot.
    pub missed_start_grace: chrono::Duration,
}

/// `[retention]`
#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// What is deleted, erased or flagged, and when.
    pub policy: RetentionPolicy,
    /// Cron expression of the purge job.
    pub purge_cron: String,
}

/// `[notices]`: product notices to customers on the basis of legitimate interest.
#[derive(Debug, Clone)]
pub struct NoticeSettings {
    /// Reference to the operator's legitimate-interest assessment, recorded with every
    /// enrolment (GDPR Art. 6(1)(f), Recital 47).
    pub lia_reference: String,
    /// A PCN's effective date must be at least this many days after publication (J-STD-046).
    pub min_pcn_notice_days: u32,
    /// Whether the archive pages and feeds are public (else only by signed link).
    pub public_archive: bool,
    /// Reminders to non-responders go this many days before the deadline (descending).
    pub reminder_days_before: Vec<u32>,
    /// Notice kinds the operator may mark service-critical.
    pub service_critical_kinds: Vec<crate::domain::NoticeKind>,
    /// Cron expression of the `notices` job (reminders, deadlines).
    pub cron: String,
}

/// `[log]`
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// tracing filter directive.
    pub filter: String,
    /// Whether to log JSON lines.
    pub json: bool,
}

impl Settings {
    /// Loads defaults, the optional file and the environment, then parses.
    ///
    /// # Errors
    /// Unreadable sources or an unusable value (the error names the key).
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        RawSettings::load(file)?.parse()
    }
}

impl RawSettings {
    /// Turns raw values into real types, naming the key of the first bad one.
    ///
    /// # Errors
    /// The first unusable value.
    pub fn parse(self) -> Result<Settings, ConfigError> {
        let http = self.http.parse()?;
        let subscriptions = self.subscriptions.parse()?;
        let privacy_notice_url = match self.privacy.notice_url.trim() {
            "" => join_url(&http.public_url, "privacy-notice"),
            raw => Url::parse(raw).map_err(|e| invalid("privacy.notice_url", e.to_string()))?,
        };
        let mail = self.mail.parse(&http.public_url)?;
        let delivery = self.delivery.parse()?;
        // A claimed message is sent only while its lease has a whole send left (see
        // `delivery::worker`), so the lease must be longer than one.
        if let Some(send) = mail.transport.longest_send()
            && chrono::Duration::from_std(send).is_ok_and(|send| delivery.lease <= send)
        {
            return Err(invalid(
                "delivery.lease_secs",
                "must be longer than 4 × mail.smtp_timeout_secs (the longest send)",
            ));
        }
        let inbound = self.inbound.parse(mail.bounce_domain.is_some())?;
        Ok(Settings {
            database: self.database.parse()?,
            data_dir: PathBuf::from(self.data.dir),
            signing: self.signing.parse(),
            mail,
            retention: self.retention.parse(&subscriptions)?,
            subscriptions,
            admin: self.admin.parse()?,
            limits: self.limits.parse(),
            bounces: self.bounces.parse()?,
            inbound,
            webhooks: self.webhooks.parse()?,
            import: self.import.parse()?,
            delivery,
            scheduler: self.scheduler.parse()?,
            notices: self.notices.parse()?,
            log: self.log.parse()?,
            privacy_notice_url,
            privacy: self.privacy.parse()?,
            address_hash_key: Some(self.privacy.hash_key.trim().to_owned())
                .filter(|k| !k.is_empty())
                .map(SecretString::from),
            http,
        })
    }
}

/// `base` with `path` appended below its own path.
pub fn join_url(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url
}

#[cfg(test)]
mod tests;
