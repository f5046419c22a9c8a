//! Bounce and complaint calls from e-mail providers: each is proven to be the provider's
//! (`mail::providers`), then acted on exactly like a report to the bounce domain
//! (`services::inbound`). The delivery is the one a signed reference names when the
//! provider passes it back; otherwise the provider's authenticated word names the address,
//! and the report is taken to be about the last message sent to that person.

use super::{
    inbound::{self, Act, Handled, Target},
    rate_limit::{Limit, Scope},
};
use crate::{
    context::Context,
    domain::{DeliveryId, EmailAddress, bounce},
    mail::providers::{self, Event, Outcome, mailgun, postmark, sendgrid, ses},
    store::{self, StoreError},
};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

pub use crate::mail::providers::Refused;

/// The header of SendGrid's signature.
pub const SENDGRID_SIGNATURE_HEADER: &str = sendgrid::SIGNATURE_HEADER;
/// The header of SendGrid's signed timestamp.
pub const SENDGRID_TIMESTAMP_HEADER: &str = sendgrid::TIMESTAMP_HEADER;

/// The largest call body taken.
pub const MAX_BODY_BYTES: usize = providers::MAX_BODY_BYTES;

/// The providers Bulletin takes calls from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Amazon SES, through Amazon SNS.
    Ses,
    /// Postmark.
    Postmark,
    /// Mailgun.
    Mailgun,
    /// SendGrid (Twilio).
    Sendgrid,
}

impl Provider {
    /// The provider of a `/webhooks/{name}` path.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ses" => Some(Self::Ses),
            "postmark" => Some(Self::Postmark),
            "mailgun" => Some(Self::Mailgun),
            "sendgrid" => Some(Self::Sendgrid),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Ses => "ses",
            Self::Postmark => "postmark",
            Self::Mailgun => "mailgun",
            Self::Sendgrid => "sendgrid",
        }
    }
}

/// A call as it arrived: the headers that can prove it, and its body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Call<'a> {
    /// `Authorization` (Postmark's basic authentication).
    pub authorization: Option<&'a str>,
    /// SendGrid's signature header.
    pub signature: Option<&'a str>,
    /// SendGrid's timestamp header.
    pub timestamp: Option<&'a str>,
    /// The raw body.
    pub body: &'a [u8],
}

/// What was done with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Received {
    /// Bounces and complaints acted on.
    pub acted: usize,
    /// Events that named nothing of Bulletin's or said nothing to act on.
    pub ignored: usize,
}

/// Why a call was not taken.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// That provider is not configured.
    #[error("this webhook is off")]
    Off,
    /// Not proven to be the provider's, or not readable.
    #[error(transparent)]
    Refused(#[from] Refused),
    /// Store failure (the provider should retry).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the configured providers need between calls: SNS's verifier with its certificates.
#[derive(Debug)]
pub struct Webhooks {
    sns: Option<ses::Sns>,
}

impl Webhooks {
    /// The verifiers of `ctx`'s settings.
    ///
    /// # Errors
    /// A pinned SNS certificate that cannot be read, or no TLS set-up for fetching one.
    pub fn new(ctx: &Context) -> Result<Self, String> {
        let sns = match &ctx.settings.webhooks.ses {
            Some(settings) => Some(ses::Sns::new(settings)?),
            None => None,
        };
        Ok(Self { sns })
    }
}

/// Takes one call from `provider`.
///
/// # Errors
/// `Off`, `Refused` (nothing was changed), or a store failure.
pub async fn receive(
    ctx: &Context,
    hooks: &Webhooks,
    provider: Provider,
    call: Call<'_>,
) -> Result<Received, WebhookError> {
    let settings = &ctx.settings.webhooks;
    let now = ctx.clock.now();
    let once = Limit::of(Scope::WebhookTokens, &ctx.settings);
    let mut nonce = None;
    let events = match provider {
        Provider::Ses => {
            let sns = hooks.sns.as_ref().ok_or(WebhookError::Off)?;
            match sns.verify(call.body, now).await? {
                ses::Message::Events(id, events) => {
                    nonce = Some(format!("sns:{id}"));
                    events
                }
                ses::Message::Subscribe { topic, url } => {
                    match sns.confirm(&url).await {
                        Ok(()) => tracing::info!(%topic, "the SNS subscription is confirmed"),
                        Err(error) => tracing::error!(
                            %topic, %error, %url,
                            "the SNS subscription could not be confirmed: open the URL once, \
                             or confirm it in the AWS console"
                        ),
                    }
                    Vec::new()
                }
                ses::Message::Nothing => Vec::new(),
            }
        }
        Provider::Postmark => {
            let (user, password) = settings.postmark.as_ref().ok_or(WebhookError::Off)?;
            postmark::authenticate(call.authorization, user, password.expose_secret())?;
            postmark::read(call.body)?
        }
        Provider::Mailgun => {
            let key = settings.mailgun.as_ref().ok_or(WebhookError::Off)?;
            let (token, events) = mailgun::read(key.expose_secret().as_bytes(), call.body, now)?;
            nonce = Some(format!("mailgun:{token}"));
            events
        }
        Provider::Sendgrid => {
            let point = settings.sendgrid.as_ref().ok_or(WebhookError::Off)?;
            let events = sendgrid::read(point, call.signature, call.timestamp, call.body, now)?;
            nonce = Some(format!(
                "sendgrid:{}",
                hex::encode(Sha256::digest(call.body))
            ));
            events
        }
    };
    // Each signed call is taken once: Mailgun's signature does not cover the body, and an
    // SNS or SendGrid call replayed within its freshness would act again. Taken only after
    // its events are acted on, so that a provider's retry after a 503 still goes through.
    if let Some(key) = &nonce
        && once.check(ctx, &ctx.db, key, now).await?.is_err()
    {
        return Err(Refused::Unauthenticated("a call that was taken before").into());
    }
    let mut received = Received::default();
    for event in events {
        match act_on(ctx, event).await? {
            Handled::Ignored(why) => {
                tracing::info!(
                    provider = provider.as_str(),
                    why,
                    "a provider's event was ignored"
                );
                received.ignored += 1;
            }
            Handled::Bounce(_) | Handled::Complaint | Handled::Unsubscribed => received.acted += 1,
        }
    }
    if let Some(key) = nonce {
        // A second call with the same key in between has acted the same way (the effects
        // are idempotent); from here on the key is refused.
        let _ = once.hit(ctx, &ctx.db, &key, now).await?;
    }
    Ok(received)
}

/// Acts on one authenticated event.
async fn act_on(ctx: &Context, event: Event) -> Result<Handled, StoreError> {
    let Some(target) = target_of(ctx, &event).await? else {
        return Ok(Handled::Ignored("names no one Bulletin mailed"));
    };
    match event.outcome {
        Outcome::Complaint => inbound::act(ctx, &target, Act::Complaint).await,
        Outcome::Bounce {
            status,
            verdict,
            diagnostic,
        } => {
            let kind = match status {
                Some(_) => bounce::classify(None, status, false),
                None => verdict,
            };
            let detail = match (status, diagnostic) {
                (_, Some(d)) => d,
                (Some(s), None) => s.to_string(),
                (None, None) => format!("{} bounce reported by the provider", kind.as_str()),
            };
            inbound::act(ctx, &target, Act::Bounce(kind, &detail)).await
        }
    }
}

/// How long after a message a provider's report naming only the address is taken to be
/// about it.
const REPORTS_COME_WITHIN: chrono::Duration = chrono::Duration::days(7);

/// The delivery a signed reference names, else the last one sent in the past week to the
/// person the address names, else that person.
async fn target_of(ctx: &Context, event: &Event) -> Result<Option<Target>, StoreError> {
    for reference in &event.references {
        let Some(id) = ctx.address_hasher.check_delivery_ref(reference) else {
            continue;
        };
        if let Some(found) = store::deliveries::find(&ctx.db, DeliveryId::from_uuid(id)).await? {
            return Ok(Some(Target::Delivery(found)));
        }
    }
    let Some(email) = event
        .recipient
        .as_deref()
        .and_then(|r| EmailAddress::parse(r).ok())
    else {
        return Ok(None);
    };
    let Some(person) = store::subscribers::find_by_email(&ctx.db, &email).await? else {
        return Ok(None);
    };
    // A report about an older message is the person's, not a campaign's: it must not count
    // against, or pause, a newer campaign.
    let since = ctx.clock.now() - REPORTS_COME_WITHIN;
    Ok(Some(
        match store::deliveries::last_sent_to(&ctx.db, person.id, since).await? {
            Some(delivery) => Target::Delivery(delivery),
            None => Target::Person(person.id),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_named_by_their_path() {
        for p in [
            Provider::Ses,
            Provider::Postmark,
            Provider::Mailgun,
            Provider::Sendgrid,
        ] {
            assert_eq!(Provider::parse(p.as_str()), Some(p));
        }
        assert_eq!(Provider::parse("SES"), None);
    }
}
