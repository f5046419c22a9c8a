//! Raw settings as read from TOML and the environment, before parsing into real types.

use std::{path::Path, time::Duration};

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use super::{
    AdminSettings, BounceSettings, ConfigError, DatabaseSettings, DeliverySettings, DkimSettings,
    HttpSettings, ImportSettings, InboundSettings, LimitSettings, LogSettings, MailSettings,
    MailTransportSettings, NoticeSettings, PrivacySettings, RetentionSettings, SchedulerSettings,
    SesWebhook, SigningSettings, SubscriptionSettings, WebhookSettings, invalid,
};
use crate::domain::{EmailAddress, NoticeKind};

/// The compiled-in defaults, so the binary runs from any directory.
const DEFAULTS: &str = include_str!("../../config/default.toml");

/// Every setting as plain values.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub(super) http: RawHttp,
    pub(super) database: RawDatabase,
    pub(super) data: RawData,
    pub(super) signing: RawSigning,
    pub(super) mail: RawMail,
    pub(super) subscriptions: RawSubscriptions,
    pub(super) privacy: RawPrivacy,
    pub(super) admin: RawAdmin,
    pub(super) limits: RawLimits,
    pub(super) bounces: RawBounces,
    pub(super) inbound: RawInbound,
    pub(super) webhooks: RawWebhooks,
    pub(super) import: RawImport,
    pub(super) delivery: RawDelivery,
    pub(super) scheduler: RawScheduler,
    pub(super) retention: RawRetention,
    pub(super) notices: RawNotices,
    pub(super) log: RawLog,
}

impl RawSettings {
    /// Merges the defaults, the optional file and `BULLETIN__…` variables.
    ///
    /// # Errors
    /// An unreadable file, bad TOML, an unknown key or a value of the wrong type.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(path) = file {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let env = config::Environment::with_prefix("BULLETIN")
            .prefix_separator("__")
            .separator("__")
            .list_separator(",")
            .with_list_parse_key("signing.previous_keys")
            .with_list_parse_key("webhooks.ses.topic_arns")
            .with_list_parse_key("mail.allowed_from_domains")
            .with_list_parse_key("notices.reminder_days_before")
            .with_list_parse_key("notices.service_critical_kinds")
            .try_parsing(true);
        Ok(builder.add_source(env).build()?.try_deserialize()?)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHttp {
    bind: String,
    public_url: String,
    trust_forwarded_for: bool,
    request_timeout_secs: u64,
    body_limit_bytes: usize,
    header_timeout_secs: u64,
    max_connections: usize,
    max_connections_per_client: usize,
}

impl RawHttp {
    pub(super) fn parse(self) -> Result<HttpSettings, ConfigError> {
        let bind = self.bind.parse().map_err(|e| {
            invalid(
                "http.bind",
                format!("{e}; expected HOST:PORT such as 127.0.0.1:8080"),
            )
        })?;
        let public_url =
            Url::parse(&self.public_url).map_err(|e| invalid("http.public_url", e.to_string()))?;
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host().is_none() {
            return Err(invalid(
                "http.public_url",
                "must be an http:// or https:// URL with a host",
            ));
        }
        if public_url.query().is_some() || public_url.fragment().is_some() {
            return Err(invalid(
                "http.public_url",
                "must not have a query or fragment",
            ));
        }
        if self.body_limit_bytes < 1024 {
            return Err(invalid("http.body_limit_bytes", "must be at least 1024"));
        }
        Ok(HttpSettings {
            bind,
            public_url,
            trust_forwarded_for: self.trust_forwarded_for,
            request_timeout: Duration::from_secs(positive(
                "http.request_timeout_secs",
                self.request_timeout_secs,
            )?),
            body_limit_bytes: self.body_limit_bytes,
            header_timeout: Duration::from_secs(positive(
                "http.header_timeout_secs",
                self.header_timeout_secs,
            )?),
            max_connections: match self.max_connections {
                0 => return Err(invalid("http.max_connections", "must be at least 1")),
                n => n,
            },
            max_connections_per_client: self.max_connections_per_client,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    url: String,
    max_connections: u32,
    busy_timeout_secs: u64,
}

impl RawDatabase {
    pub(super) fn parse(self) -> Result<DatabaseSettings, ConfigError> {
        if !(self.url.starts_with("sqlite:")
            || self.url.starts_with("postgres://")
            || self.url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "database.url",
                "must start with sqlite: or postgres://",
            ));
        }
        Ok(DatabaseSettings {
            url: SecretString::from(self.url),
            max_connections: positive("database.max_connections", self.max_connections)?,
            busy_timeout: Duration::from_secs(positive(
                "database.busy_timeout_secs",
                self.busy_timeout_secs,
            )?),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawData {
    pub(super) dir: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSigning {
    key: String,
    previous_keys: Vec<String>,
}

impl RawSigning {
    pub(super) fn parse(self) -> SigningSettings {
        let key = Some(self.key.trim().to_owned())
            .filter(|k| !k.is_empty())
            .map(SecretString::from);
        let previous_keys = self
            .previous_keys
            .into_iter()
            .map(|k| k.trim().to_owned())
            .filter(|k| !k.is_empty())
            .map(SecretString::from)
            .collect();
        SigningSettings { key, previous_keys }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMail {
    transport: String,
    smtp_url: String,
    outbox_dir: String,
    from: String,
    organisation: String,
    templates_dir: String,
    smtp_pool_max: u32,
    smtp_timeout_secs: u64,
    bounce_domain: String,
    allowed_from_domains: Vec<String>,
    helo_name: String,
    postal_address: String,
    reply_to: String,
    dkim: RawDkim,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDkim {
    domain: String,
    selector: String,
    key_file: String,
}

impl RawDkim {
    /// All three set: signing; none: the relay signs; anything else is an error.
    fn parse(self) -> Result<Option<DkimSettings>, ConfigError> {
        let domain = self.domain.trim().to_ascii_lowercase();
        let selector = self.selector.trim().to_owned();
        let key_file = self.key_file.trim();
        match (domain.is_empty(), selector.is_empty(), key_file.is_empty()) {
            (true, true, true) => return Ok(None),
            (false, false, false) => {}
            _ => {
                return Err(invalid(
                    "mail.dkim",
                    "set domain, selector and key_file together, or none of them",
                ));
            }
        }
        if EmailAddress::parse(&format!("x@{domain}")).is_err() {
            return Err(invalid("mail.dkim.domain", "must be a domain name"));
        }
        let label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if !selector.split('.').all(label) {
            return Err(invalid(
                "mail.dkim.selector",
                "must be a DNS label such as \"bulletin2026\"",
            ));
        }
        let key_pem = std::fs::read_to_string(key_file)
            .map_err(|e| invalid("mail.dkim.key_file", format!("{key_file}: {e}")))?;
        Ok(Some(DkimSettings {
            domain,
            selector,
            key_pem: SecretString::from(key_pem),
        }))
    }
}

impl RawMail {
    pub(super) fn parse(self, public_url: &Url) -> Result<MailSettings, ConfigError> {
        let transport = match self.transport.as_str() {
            "file" => MailTransportSettings::File {
                outbox_dir: self.outbox_dir.into(),
            },
            "smtp" => {
                let url = Url::parse(&self.smtp_url)
                    .map_err(|e| invalid("mail.smtp_url", e.to_string()))?;
                if !matches!(url.scheme(), "smtp" | "smtp+starttls" | "smtps")
                    || url.host().is_none()
                {
                    return Err(invalid(
                        "mail.smtp_url",
                        "must be smtp://, smtp+starttls:// or smtps:// with a host",
                    ));
                }
                MailTransportSettings::Smtp {
                    url: SecretString::from(self.smtp_url),
                    pool_max: positive("mail.smtp_pool_max", self.smtp_pool_max)?,
                    timeout: Duration::from_secs(positive(
                        "mail.smtp_timeout_secs",
                        self.smtp_timeout_secs,
                    )?),
                }
            }
            other => {
                return Err(invalid(
                    "mail.transport",
                    format!("must be \"file\" or \"smtp\", got {other:?}"),
                ));
            }
        };
        let mailbox: lettre::message::Mailbox = self.from.parse().map_err(|e| {
            invalid(
                "mail.from",
                format!("{e}; expected \"Name <address@example.com>\""),
            )
        })?;
        let from_address = EmailAddress::parse(mailbox.email.as_ref())
            .map_err(|e| invalid("mail.from", e.to_string()))?;
        let bounce_domain =
            Some(self.bounce_domain.trim().to_ascii_lowercase()).filter(|d| !d.is_empty());
        if let Some(domain) = &bounce_domain
            && EmailAddress::parse(&format!("b@{domain}")).is_err()
        {
            return Err(invalid(
                "mail.bounce_domain",
                "must be a domain name, e.g. bounces.example.com",
            ));
        }
        let mut allowed_from_domains = vec![from_address.domain().to_owned()];
        for domain in &self.allowed_from_domains {
            let domain = domain.trim().to_ascii_lowercase();
            if domain.is_empty() || allowed_from_domains.contains(&domain) {
                continue;
            }
            if EmailAddress::parse(&format!("x@{domain}")).is_err() {
                return Err(invalid(
                    "mail.allowed_from_domains",
                    format!("{domain:?} is not a domain name"),
                ));
            }
            allowed_from_domains.push(domain);
        }
        // EHLO names this host as the world knows it: the public URL's, never the machine's
        // own name (`localhost`, `ip-10-0-0-1`), which relays and receivers distrust.
        let helo_name = match self.helo_name.trim() {
            "" => match public_url.host() {
                Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
                Some(url::Host::Ipv4(ip)) => format!("[{ip}]"),
                Some(url::Host::Ipv6(ip)) => format!("[IPv6:{ip}]"),
                None => "localhost".to_owned(),
            },
            name if name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b)) =>
            {
                name.to_ascii_lowercase()
            }
            _ => {
                return Err(invalid(
                    "mail.helo_name",
                    "must be a host name such as mail.example.com",
                ));
            }
        };
        let postal_address: String = self
            .postal_address
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        if postal_address.chars().count() > 500 {
            return Err(invalid(
                "mail.postal_address",
                "must be at most 500 characters",
            ));
        }
        let reply_to = match self.reply_to.trim() {
            "" => None,
            raw => Some(EmailAddress::parse(raw).map_err(|e| {
                invalid(
                    "mail.reply_to",
                    format!("{e} Expected an address such as help@example.com."),
                )
            })?),
        };
        Ok(MailSettings {
            reply_to,
            postal_address,
            helo_name,
            allowed_from_domains,
            transport,
            from: mailbox.to_string(),
            from_address,
            organisation: self.organisation,
            templates_dir: self.templates_dir.into(),
            bounce_domain,
            dkim: self.dkim.parse()?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSubscriptions {
    confirm_link_ttl_hours: i64,
    resend_cooldown_secs: i64,
    max_confirmations: u32,
    signups_per_hour: u32,
    api_signups_per_token_per_hour: u32,
}

impl RawSubscriptions {
    pub(super) fn parse(self) -> Result<SubscriptionSettings, ConfigError> {
        Ok(SubscriptionSettings {
            confirm_link_ttl: span(
                "subscriptions.confirm_link_ttl_hours",
                positive(
                    "subscriptions.confirm_link_ttl_hours",
                    self.confirm_link_ttl_hours,
                )?,
                3600,
            )?,
            resend_cooldown: span(
                "subscriptions.resend_cooldown_secs",
                non_negative(
                    "subscriptions.resend_cooldown_secs",
                    self.resend_cooldown_secs,
                )?,
                1,
            )?,
            max_confirmations: positive("subscriptions.max_confirmations", self.max_confirmations)?,
            signups_per_hour: self.signups_per_hour,
            api_signups_per_token_per_hour: self.api_signups_per_token_per_hour,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrivacy {
    pub(super) notice_url: String,
    pub(super) hash_key: String,
    link_ttl_minutes: i64,
    link_cooldown_secs: i64,
    address_change_ttl_hours: i64,
    requests_per_hour: u32,
}

impl RawPrivacy {
    pub(super) fn parse(&self) -> Result<PrivacySettings, ConfigError> {
        Ok(PrivacySettings {
            link_ttl: span(
                "privacy.link_ttl_minutes",
                positive("privacy.link_ttl_minutes", self.link_ttl_minutes)?,
                60,
            )?,
            link_cooldown: span(
                "privacy.link_cooldown_secs",
                non_negative("privacy.link_cooldown_secs", self.link_cooldown_secs)?,
                1,
            )?,
            address_change_ttl: span(
                "privacy.address_change_ttl_hours",
                positive(
                    "privacy.address_change_ttl_hours",
                    self.address_change_ttl_hours,
                )?,
                3600,
            )?,
            requests_per_hour: self.requests_per_hour,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotices {
    lia_reference: String,
    min_pcn_notice_days: u32,
    archive: String,
    reminder_days_before: Vec<u32>,
    service_critical_kinds: Vec<String>,
    cron: String,
}

impl RawNotices {
    pub(super) fn parse(self) -> Result<NoticeSettings, ConfigError> {
        let lia_reference = self.lia_reference.trim().to_owned();
        if lia_reference.is_empty() || lia_reference.len() > 200 {
            return Err(invalid(
                "notices.lia_reference",
                "name your legitimate-interest assessment (1 to 200 characters)",
            ));
        }
        let public_archive = match self.archive.as_str() {
            "public" => true,
            "signed" => false,
            other => {
                return Err(invalid(
                    "notices.archive",
                    format!("expected \"public\" or \"signed\", got {other:?}"),
                ));
            }
        };
        let service_critical_kinds = self
            .service_critical_kinds
            .iter()
            .map(|k| NoticeKind::parse(k.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("notices.service_critical_kinds", e))?;
        let mut reminder_days_before = self.reminder_days_before;
        reminder_days_before.sort_unstable_by(|a, b| b.cmp(a));
        reminder_days_before.dedup();
        Ok(NoticeSettings {
            lia_reference,
            min_pcn_notice_days: self.min_pcn_notice_days,
            public_archive,
            reminder_days_before,
            service_critical_kinds,
            cron: self.cron,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAdmin {
    session_ttl_hours: i64,
    login_attempts_per_account: i64,
    login_attempts_per_ip: i64,
    login_window_secs: i64,
    require_2fa: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInbound {
    bind: String,
    max_message_bytes: usize,
    max_connections: usize,
}

impl RawInbound {
    pub(super) fn parse(self, has_bounce_domain: bool) -> Result<InboundSettings, ConfigError> {
        let bind = match self.bind.trim() {
            "" => None,
            raw => Some(
                raw.parse()
                    .map_err(|e| invalid("inbound.bind", format!("{e}")))?,
            ),
        };
        if bind.is_some() && !has_bounce_domain {
            return Err(invalid(
                "inbound.bind",
                "needs mail.bounce_domain: the receiver takes mail for that domain only",
            ));
        }
        // The largest report `mail::reports` reads.
        let max = 4 * 1024 * 1024;
        let max_message_bytes = positive("inbound.max_message_bytes", self.max_message_bytes)?;
        if max_message_bytes > max {
            return Err(invalid(
                "inbound.max_message_bytes",
                format!("must be at most {max}"),
            ));
        }
        Ok(InboundSettings {
            bind,
            max_message_bytes,
            max_connections: positive("inbound.max_connections", self.max_connections)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBounces {
    soft_limit: i64,
    soft_window_days: i64,
    pause_complaint_rate: f64,
    pause_bounce_rate: f64,
}

/// A rate between 0 and 1.
fn rate(key: &'static str, value: f64) -> Result<f64, ConfigError> {
    match (0.0..=1.0).contains(&value) {
        true => Ok(value),
        false => Err(invalid(key, "must be between 0 and 1 (0.003 is 0.3 %)")),
    }
}

impl RawBounces {
    pub(super) fn parse(self) -> Result<BounceSettings, ConfigError> {
        Ok(BounceSettings {
            soft_limit: u32::try_from(positive("bounces.soft_limit", self.soft_limit)?)
                .map_err(|_| invalid("bounces.soft_limit", "is too large"))?,
            soft_window: span(
                "bounces.soft_window_days",
                positive("bounces.soft_window_days", self.soft_window_days)?,
                24 * 3600,
            )?,
            pause_rates: crate::domain::bounce::PauseRates {
                complaint_rate: rate("bounces.pause_complaint_rate", self.pause_complaint_rate)?,
                bounce_rate: rate("bounces.pause_bounce_rate", self.pause_bounce_rate)?,
                min_delivered: 500,
            },
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    mails_per_recipient_per_day: u32,
    mails_per_network_per_hour: u32,
}

impl RawLimits {
    pub(super) fn parse(self) -> LimitSettings {
        LimitSettings {
            mails_per_recipient_per_day: self.mails_per_recipient_per_day,
            mails_per_network_per_hour: self.mails_per_network_per_hour,
        }
    }
}

impl RawAdmin {
    pub(super) fn parse(self) -> Result<AdminSettings, ConfigError> {
        let hours = positive("admin.session_ttl_hours", self.session_ttl_hours)?;
        if hours > 24 * 366 {
            return Err(invalid(
                "admin.session_ttl_hours",
                "must be at most 8784 (a year)",
            ));
        }
        let window = positive("admin.login_window_secs", self.login_window_secs)?;
        if window > 7 * 24 * 3600 {
            return Err(invalid(
                "admin.login_window_secs",
                "must be at most 604800 (a week)",
            ));
        }
        Ok(AdminSettings {
            session_ttl: chrono::Duration::hours(hours),
            login_attempts_per_account: attempts(
                "admin.login_attempts_per_account",
                self.login_attempts_per_account,
            )?,
            login_attempts_per_ip: attempts(
                "admin.login_attempts_per_ip",
                self.login_attempts_per_ip,
            )?,
            login_window: chrono::Duration::seconds(window),
            require_2fa: self.require_2fa,
        })
    }
}

/// A number of login attempts: 1 to 1,000,000 (no limit is not an option for logins).
fn attempts(key: &'static str, value: i64) -> Result<u32, ConfigError> {
    let value = positive(key, value)?;
    u32::try_from(value)
        .ok()
        .filter(|v| *v <= 1_000_000)
        .ok_or_else(|| invalid(key, "must be at most 1000000"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImport {
    max_body_bytes: usize,
    max_upload_bytes: usize,
    uploads_per_user: usize,
    uploads_total_bytes: u64,
    timeout_secs: u64,
    batch_rows: usize,
}

impl RawImport {
    pub(super) fn parse(self) -> Result<ImportSettings, ConfigError> {
        Ok(ImportSettings {
            max_body_bytes: positive("import.max_body_bytes", self.max_body_bytes)?,
            max_upload_bytes: positive("import.max_upload_bytes", self.max_upload_bytes)?,
            uploads_per_user: positive("import.uploads_per_user", self.uploads_per_user)?,
            uploads_total_bytes: positive("import.uploads_total_bytes", self.uploads_total_bytes)?,
            timeout: Duration::from_secs(positive("import.timeout_secs", self.timeout_secs)?),
            batch_rows: positive("import.batch_rows", self.batch_rows)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDelivery {
    worker_enabled: bool,
    poll_interval_ms: u64,
    batch_size: u32,
    concurrency: usize,
    lease_secs: i64,
    max_attempts: u32,
    backoff_base_secs: i64,
    backoff_max_secs: i64,
    pause_after_failures: u32,
    fan_out_chunk: u64,
    max_per_second: u32,
    max_per_hour: u32,
    test_sends_per_hour: u32,
}

impl RawDelivery {
    pub(super) fn parse(self) -> Result<DeliverySettings, ConfigError> {
        Ok(DeliverySettings {
            worker_enabled: self.worker_enabled,
            poll_interval: Duration::from_millis(positive(
                "delivery.poll_interval_ms",
                self.poll_interval_ms,
            )?),
            batch_size: positive("delivery.batch_size", self.batch_size)?,
            concurrency: positive("delivery.concurrency", self.concurrency)?,
            lease: span(
                "delivery.lease_secs",
                positive("delivery.lease_secs", self.lease_secs)?,
                1,
            )?,
            max_attempts: positive("delivery.max_attempts", self.max_attempts)?,
            backoff_base: span(
                "delivery.backoff_base_secs",
                positive("delivery.backoff_base_secs", self.backoff_base_secs)?,
                1,
            )?,
            backoff_max: span(
                "delivery.backoff_max_secs",
                positive("delivery.backoff_max_secs", self.backoff_max_secs)?,
                1,
            )?,
            pause_after_failures: positive(
                "delivery.pause_after_failures",
                self.pause_after_failures,
            )?,
            fan_out_chunk: positive("delivery.fan_out_chunk", self.fan_out_chunk)?,
            max_per_second: self.max_per_second,
            max_per_hour: self.max_per_hour,
            test_sends_per_hour: self.test_sends_per_hour,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScheduler {
    enabled: bool,
    start_campaigns_cron: String,
    missed_start_grace_secs: i64,
}

impl RawScheduler {
    pub(super) fn parse(self) -> Result<SchedulerSettings, ConfigError> {
        let fields = self.start_campaigns_cron.split_whitespace().count();
        if fields != 6 {
            return Err(invalid(
                "scheduler.start_campaigns_cron",
                format!("needs 6 fields (seconds first), got {fields}"),
            ));
        }
        Ok(SchedulerSettings {
            enabled: self.enabled,
            start_campaigns_cron: self.start_campaigns_cron,
            missed_start_grace: span(
                "scheduler.missed_start_grace_secs",
                non_negative(
                    "scheduler.missed_start_grace_secs",
                    self.missed_start_grace_secs,
                )?,
                1,
            )?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    pending_days: i64,
    lapsed_days: i64,
    review_after_days: i64,
    erase_after_review: bool,
    purge_cron: String,
}

impl RawRetention {
    pub(super) fn parse(
        self,
        subscriptions: &SubscriptionSettings,
    ) -> Result<RetentionSettings, ConfigError> {
        let pending = days("retention.pending_days", self.pending_days)?;
        if pending < subscriptions.confirm_link_ttl {
            return Err(invalid(
                "retention.pending_days",
                "must cover subscriptions.confirm_link_ttl_hours, so no request is deleted while its link still works",
            ));
        }
        let fields = self.purge_cron.split_whitespace().count();
        if fields != 6 {
            return Err(invalid(
                "retention.purge_cron",
                format!("needs 6 fields (seconds first), got {fields}"),
            ));
        }
        Ok(RetentionSettings {
            policy: crate::domain::retention::RetentionPolicy {
                pending,
                lapsed: days("retention.lapsed_days", self.lapsed_days)?,
                review_after: days("retention.review_after_days", self.review_after_days)?,
                erase_after_review: self.erase_after_review,
            },
            purge_cron: self.purge_cron,
        })
    }
}

/// `value` units of `unit_secs` seconds, at most a century (far from date overflow).
fn span(key: &'static str, value: i64, unit_secs: i64) -> Result<chrono::Duration, ConfigError> {
    const CENTURY_SECS: i64 = 36_500 * 86_400;
    value
        .checked_mul(unit_secs)
        .filter(|secs| *secs <= CENTURY_SECS)
        .and_then(chrono::Duration::try_seconds)
        .ok_or_else(|| invalid(key, "must be at most a century"))
}

/// A number of days from 1 to 36,500 (a century keeps date arithmetic far from overflow).
fn days(key: &'static str, value: i64) -> Result<chrono::Duration, ConfigError> {
    if !(1..=36_500).contains(&value) {
        return Err(invalid(
            key,
            format!("must be 1 to 36500 days, got {value}"),
        ));
    }
    Ok(chrono::Duration::days(value))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLog {
    filter: String,
    format: String,
}

impl RawLog {
    pub(super) fn parse(self) -> Result<LogSettings, ConfigError> {
        let json = match self.format.as_str() {
            "text" => false,
            "json" => true,
            other => {
                return Err(invalid(
                    "log.format",
                    format!("must be \"text\" or \"json\", got {other:?}"),
                ));
            }
        };
        Ok(LogSettings {
            filter: self.filter,
            json,
        })
    }
}

fn positive<T: PartialOrd + Default + Copy>(key: &'static str, value: T) -> Result<T, ConfigError> {
    if value > T::default() {
        Ok(value)
    } else {
        Err(invalid(key, "must be greater than zero"))
    }
}

fn non_negative<T: PartialOrd + Default + Copy>(
    key: &'static str,
    value: T,
) -> Result<T, ConfigError> {
    if value >= T::default() {
        Ok(value)
    } else {
        Err(invalid(key, "must not be negative"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhooks {
    allow_private_targets: bool,
    ses: RawSes,
    postmark: RawPostmark,
    mailgun: RawMailgun,
    sendgrid: RawSendgrid,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSes {
    topic_arns: Vec<String>,
    certificate_file: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPostmark {
    username: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMailgun {
    signing_key: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSendgrid {
    public_key: String,
}

/// The DER prefix of every P-256 public key in SubjectPublicKeyInfo form: the algorithm
/// (id-ecPublicKey, prime256v1) and the bit string header of the 65-byte uncompressed point.
pub(super) const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

impl RawWebhooks {
    pub(super) fn parse(self) -> Result<WebhookSettings, ConfigError> {
        let topic_arns: Vec<String> = self
            .ses
            .topic_arns
            .iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        if let Some(bad) = topic_arns.iter().find(|a| !a.starts_with("arn:")) {
            return Err(invalid(
                "webhooks.ses.topic_arns",
                format!("{bad:?} is not an ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)"),
            ));
        }
        let certificate_pem =
            match self.ses.certificate_file.trim() {
                "" => None,
                path => Some(std::fs::read(path).map_err(|e| {
                    invalid("webhooks.ses.certificate_file", format!("{path}: {e}"))
                })?),
            };
        let ses = (!topic_arns.is_empty()).then_some(SesWebhook {
            topic_arns,
            certificate_pem,
        });
        let postmark = match (
            self.postmark.username.trim(),
            self.postmark.password.as_str(),
        ) {
            ("", "") => None,
            ("", _) | (_, "") => {
                return Err(invalid(
                    "webhooks.postmark",
                    "set both username and password, or neither",
                ));
            }
            (_, password) if password.chars().count() < 16 => {
                return Err(invalid(
                    "webhooks.postmark.password",
                    "must have at least 16 characters: it is the webhook's only protection",
                ));
            }
            (user, password) => Some((user.to_owned(), SecretString::from(password.to_owned()))),
        };
        let mailgun = Some(self.mailgun.signing_key.trim().to_owned())
            .filter(|k| !k.is_empty())
            .map(SecretString::from);
        let sendgrid = match self.sendgrid.public_key.trim() {
            "" => None,
            key => Some(sendgrid_key(key)?),
        };
        Ok(WebhookSettings {
            ses,
            postmark,
            mailgun,
            sendgrid,
            allow_private_targets: self.allow_private_targets,
        })
    }
}

/// The uncompressed P-256 point of SendGrid's verification key (base64 of its
/// SubjectPublicKeyInfo, the only form SendGrid shows).
fn sendgrid_key(key: &str) -> Result<Vec<u8>, ConfigError> {
    use base64::Engine as _;
    let bad = || {
        invalid(
            "webhooks.sendgrid.public_key",
            "is not a P-256 verification key in base64 (copy it from SendGrid's Mail Settings)",
        )
    };
    let der = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| bad())?;
    match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
        Some(point) if point.len() == 65 && point[0] == 4 => Ok(point.to_vec()),
        _ => Err(bad()),
    }
}
