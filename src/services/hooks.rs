//! Outgoing webhooks and the events feed: register, change and remove endpoints (admins
//! only: they carry data out), read their delivery attempts, and read the feed (admins and
//! marketers). Sending is the delivery module's (`delivery::hooks`).

use base64::Engine as _;
use rand::RngCore;

use super::audit::{self, Change};
use crate::{
    context::Context,
    domain::{
        Action, Actor, EventType, Forbidden, HookEndpointId,
        hooks::{HookUrlError, is_public, parse_hook_url},
    },
    store::{
        self, StoreError,
        events::Event,
        hooks::{Attempt, Endpoint},
    },
};

/// Why a webhook request was refused.
#[derive(Debug, thiserror::Error)]
pub enum HooksError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// A field breaks a rule (the message names it).
    #[error("{0}")]
    Invalid(String),
    /// No such endpoint.
    #[error("webhook not found")]
    NotFound,
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for HooksError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

impl From<HookUrlError> for HooksError {
    fn from(e: HookUrlError) -> Self {
        Self::Invalid(e.to_string())
    }
}

/// Most endpoints one installation keeps.
const MAX_ENDPOINTS: usize = 50;

/// Parses event names: at least one, each known.
///
/// # Errors
/// `Invalid` naming the unknown event.
pub fn parse_events(raw: &[String]) -> Result<Vec<EventType>, HooksError> {
    if raw.is_empty() {
        return Err(HooksError::Invalid(
            "events: name at least one event".into(),
        ));
    }
    let mut events = Vec::new();
    for name in raw {
        let event = EventType::parse(name.trim())
            .map_err(|e| HooksError::Invalid(format!("events: {e}")))?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    Ok(events)
}

/// Checks a URL: the syntax rule, and unless `webhooks.allow_private_targets`, that its host
/// resolves only to public addresses. The delivery worker checks again at every connection
/// (a name may resolve elsewhere later).
///
/// # Errors
/// `Invalid` naming the problem.
pub async fn check_url(ctx: &Context, raw: &str) -> Result<url::Url, HooksError> {
    let allow = ctx.settings.webhooks.allow_private_targets;
    let url = parse_hook_url(raw, allow)?;
    if allow {
        return Ok(url);
    }
    if let Some(url::Host::Domain(host)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs = tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| HooksError::Invalid(format!("url: the host {host} does not resolve")))?;
        for addr in addrs {
            if !is_public(addr.ip()) {
                return Err(HookUrlError::NotPublic(addr.ip()).into());
            }
        }
    }
    Ok(url)
}

/// A new signing secret: `whsec_` and base64 of 32 random bytes (Standard Webhooks).
fn new_secret() -> String {
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Registers an endpoint. The answer holds the secret; it is never shown again.
///
/// # Errors
/// `Forbidden` (admins only), `Invalid` (url, events), or a store failure.
pub async fn create(
    ctx: &Context,
    actor: &Actor,
    url: &str,
    events: &[String],
) -> Result<Endpoint, HooksError> {
    actor.authorize(Action::ManageAccess)?;
    let events = parse_events(events)?;
    let url = check_url(ctx, url).await?;
    let now = ctx.clock.now();
    let endpoint = Endpoint {
        id: HookEndpointId::new(),
        url: url.to_string(),
        events,
        secret: new_secret(),
        enabled: true,
        failing_since: None,
        disabled_at: None,
        created_at: now,
        updated_at: now,
    };
    let txn = store::begin_write(&ctx.writer).await?;
    if store::hooks::all(&txn).await?.len() >= MAX_ENDPOINTS {
        return Err(HooksError::Invalid(format!(
            "url: at most {MAX_ENDPOINTS} webhooks; delete one first"
        )));
    }
    store::hooks::insert(&txn, &endpoint).await?;
    let change = Change::of("webhook.create", endpoint.id).detail(endpoint.url.clone());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(endpoint)
}

/// Every endpoint, oldest first.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn all(ctx: &Context, actor: &Actor) -> Result<Vec<Endpoint>, HooksError> {
    actor.authorize(Action::ManageAccess)?;
    Ok(store::hooks::all(&ctx.db).await?)
}

/// One endpoint.
///
/// # Errors
/// `Forbidden`, `NotFound`, or a store failure.
pub async fn find(
    ctx: &Context,
    actor: &Actor,
    id: HookEndpointId,
) -> Result<Endpoint, HooksError> {
    actor.authorize(Action::ManageAccess)?;
    Ok(store::hooks::find(&ctx.db, id).await?)
}

/// What to change of an endpoint (`None`: leave it).
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    /// A new URL.
    pub url: Option<String>,
    /// New events.
    pub events: Option<Vec<String>>,
    /// Enable (its failure streak forgotten, its waiting events due now) or disable.
    pub enabled: Option<bool>,
}

/// Changes an endpoint's URL, events or state.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid`, or a store failure.
pub async fn update(
    ctx: &Context,
    actor: &Actor,
    id: HookEndpointId,
    change: EndpointChange,
) -> Result<Endpoint, HooksError> {
    actor.authorize(Action::ManageAccess)?;
    let events = change.events.as_deref().map(parse_events).transpose()?;
    let url = match change.url.as_deref() {
        Some(raw) => Some(check_url(ctx, raw).await?),
        None => None,
    };
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let mut endpoint = store::hooks::find(&txn, id).await?;
    if let Some(url) = url {
        endpoint.url = url.to_string();
    }
    if let Some(events) = events {
        endpoint.events = events;
    }
    if let Some(enabled) = change.enabled {
        if enabled && !endpoint.enabled {
            endpoint.failing_since = None;
            endpoint.disabled_at = None;
            store::hooks::retry_now(&txn, id, now).await?;
        }
        endpoint.enabled = enabled;
    }
    endpoint.updated_at = now;
    store::hooks::update(&txn, &endpoint).await?;
    let detail = format!(
        "{} ({})",
        endpoint.url,
        if endpoint.enabled {
            "enabled"
        } else {
            "disabled"
        }
    );
    audit::append(
        &txn,
        actor,
        Change::of("webhook.update", id).detail(detail),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(endpoint)
}

/// Removes an endpoint with the events still owed to it.
///
/// # Errors
/// `Forbidden`, `NotFound`, or a store failure.
pub async fn delete(ctx: &Context, actor: &Actor, id: HookEndpointId) -> Result<(), HooksError> {
    actor.authorize(Action::ManageAccess)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    store::hooks::delete(&txn, id).await?;
    audit::append(&txn, actor, Change::of("webhook.delete", id), now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// The newest delivery attempts at an endpoint (before attempt `before`), newest first.
///
/// # Errors
/// `Forbidden`, `NotFound`, or a store failure.
pub async fn attempts(
    ctx: &Context,
    actor: &Actor,
    id: HookEndpointId,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<Attempt>, HooksError> {
    actor.authorize(Action::ManageAccess)?;
    store::hooks::find(&ctx.db, id).await?;
    Ok(store::hooks::attempts(&ctx.db, id, before, limit).await?)
}

/// Up to `limit` events of the feed after `after`, in order. Admins and marketers (the
/// events hold ids, no addresses).
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn events(
    ctx: &Context,
    actor: &Actor,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<Event>, HooksError> {
    actor.authorize(Action::ManageSubscribers)?;
    Ok(store::events::after(&ctx.db, after, limit).await?)
}
