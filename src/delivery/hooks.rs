//! The webhook outbox's worker: claims due rows with a lease, posts each event signed as the
//! Standard Webhooks specification says (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), outside any transaction, then records the attempt: delivered, or
//! due again after an exponential backoff. An endpoint failing without a success for
//! `DISABLE_AFTER` is disabled. Connections go to public addresses only unless
//! `webhooks.allow_private_targets` (checked after DNS resolution, against rebinding).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::watch;

use crate::{
    context::Context,
    domain::hooks::{DISABLE_AFTER, backoff, is_public, literal_ip},
    store::{
        self, StoreError,
        hooks::{AttemptOutcome, Claimed},
    },
};

/// Rows claimed per batch.
const BATCH: u64 = 20;
/// How long a claim holds a row (a request takes at most `REQUEST_TIMEOUT`).
const LEASE_SECS: i64 = 60;
/// The longest a delivery may take, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Batches in one drain at most, so that one drain ends.
const MAX_BATCHES: usize = 500;

/// The signature of a message: `v1,` and base64 of HMAC-SHA256 over
/// `{id}.{timestamp}.{body}` keyed with the secret's bytes (the base64 after `whsec_`).
///
/// # Errors
/// A secret that is not `whsec_` and base64.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| format!("the endpoint's secret is not base64: {e}"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

/// Resolves names to their public addresses only; a name with none fails to connect.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err("the host resolves to no public address".into());
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client of webhooks: Mozilla's roots, no redirects, no proxy, short timeouts,
/// and (unless private targets are allowed) the public-only resolver.
///
/// # Errors
/// TLS set-up failure.
pub fn client(allow_private: bool) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(Duration::from_secs(5))
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("Bulletin-Webhooks/", env!("CARGO_PKG_VERSION")));
    if !allow_private {
        builder = builder.dns_resolver(PublicOnly);
    }
    builder.build().map_err(|e| e.to_string())
}

/// What one drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookReport {
    /// Events the endpoints took.
    pub delivered: u64,
    /// Attempts that failed (to be retried).
    pub failed: u64,
    /// Endpoints disabled for failing a day.
    pub disabled: u64,
}

/// Sends every due webhook until none is due.
///
/// # Errors
/// Store failure.
pub async fn drain(ctx: &Context, client: &reqwest::Client) -> Result<HookReport, StoreError> {
    let mut report = HookReport::default();
    for _ in 0..MAX_BATCHES {
        let now = ctx.clock.now();
        let lease = now + chrono::Duration::seconds(LEASE_SECS);
        let claimed = store::hooks::claim_due(&ctx.writer, now, lease, BATCH).await?;
        if claimed.is_empty() {
            break;
        }
        for row in &claimed {
            let outcome = post(ctx, client, row).await;
            record(ctx, row, &outcome, &mut report).await?;
        }
    }
    Ok(report)
}

/// Posts one event to its endpoint.
async fn post(ctx: &Context, client: &reqwest::Client, row: &Claimed) -> AttemptOutcome {
    let failed = |error: String| AttemptOutcome {
        status_code: None,
        error: Some(error.chars().take(500).collect()),
    };
    let Ok(url) = url::Url::parse(&row.endpoint.url) else {
        return failed("the endpoint's URL does not parse".into());
    };
    // An address in the URL is not resolved, so the resolver cannot check it.
    if let Some(ip) = literal_ip(&url)
        && !ctx.settings.webhooks.allow_private_targets
        && !is_public(ip)
    {
        return failed(format!("{ip} is not a public address"));
    }
    let event = &row.event;
    let body = serde_json::json!({
        "type": event.event_type.as_str(),
        "timestamp": event.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": event.data,
    })
    .to_string();
    let id = event.id.to_string();
    let timestamp = ctx.clock.now().timestamp();
    let signature = match sign(&row.endpoint.secret, &id, timestamp, &body) {
        Ok(s) => s,
        Err(e) => return failed(e),
    };
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        // The body is not read: a status is all an endpoint has to say.
        Ok(response) => {
            let status = response.status();
            AttemptOutcome {
                status_code: Some(status.as_u16()),
                error: (!status.is_success()).then(|| format!("answered {status}")),
            }
        }
        // Without the URL: it may carry the integrator's own token.
        Err(e) => failed(error_chain(&e.without_url())),
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Records an attempt, and the endpoint's failure streak, in one transaction.
async fn record(
    ctx: &Context,
    row: &Claimed,
    outcome: &AttemptOutcome,
    report: &mut HookReport,
) -> Result<(), StoreError> {
    let now = ctx.clock.now();
    let retry_at = now + backoff(row.attempts + 1);
    let txn = store::begin_write(&ctx.writer).await?;
    store::hooks::record_attempt(&txn, row, outcome, retry_at, now).await?;
    let mut endpoint = store::hooks::find(&txn, row.endpoint.id).await?;
    let before = endpoint.clone();
    if outcome.is_success() {
        report.delivered += 1;
        endpoint.failing_since = None;
    } else {
        report.failed += 1;
        let since = *endpoint.failing_since.get_or_insert(now);
        if endpoint.enabled && now - since >= DISABLE_AFTER {
            endpoint.enabled = false;
            endpoint.disabled_at = Some(now);
            report.disabled += 1;
            tracing::warn!(
                webhook.id = %endpoint.id,
                "webhook endpoint disabled: its deliveries have failed for a day"
            );
        }
    }
    if endpoint != before {
        endpoint.updated_at = now;
        store::hooks::update(&txn, &endpoint).await?;
    }
    store::commit(txn).await?;
    tracing::debug!(
        webhook.id = %row.endpoint.id,
        event.id = %row.event.id,
        status = ?outcome.status_code,
        "webhook attempt recorded"
    );
    Ok(())
}

/// Runs until `stopped`: drains, then waits a second (or for the stop).
pub async fn run(ctx: Context, mut stopped: watch::Receiver<bool>) {
    let client = match client(ctx.settings.webhooks.allow_private_targets) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook client could not be built; webhooks are not sent");
            return;
        }
    };
    while !*stopped.borrow() {
        if let Err(e) = drain(&ctx, &client).await {
            tracing::error!(error = %e, "webhook delivery failed; retrying shortly");
        }
        tokio::select! {
            _ = stopped.changed() => {}
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_test_vector() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
