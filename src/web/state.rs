//! The web layer's state: the services' context, the delivery engine (for test sends, which
//! answer with the relay's verdict) and what only HTTP needs.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::{
    context::Context,
    delivery::{self, Engine},
    domain::{Actor, CampaignId, EmailAddress},
    services::{
        campaigns::{self, CampaignsError},
        imports::uploads::Uploads,
        rate_limit::RateLimiter,
        users::{LoginLimiter, SetupSecret},
    },
};

/// What every handler may use; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// What the services read.
    pub ctx: Context,
    /// The sender, for test sends.
    pub engine: Engine,
    /// The Prometheus registry that `/metrics` renders.
    pub metrics: PrometheusHandle,
    /// `POST /privacy` requests per client network and hour.
    pub privacy_limiter: Arc<RateLimiter>,
    /// `POST /subscribe` requests per client network and hour.
    pub signup_limiter: Arc<RateLimiter>,
    /// Test messages per user or token and hour.
    pub test_send_limiter: Arc<RateLimiter>,
    /// Admin login attempts per account and per client address.
    pub login_limiter: Arc<LoginLimiter>,
    /// CSV files uploaded in the admin UI for import, with their progress.
    pub uploads: Arc<Uploads>,
    /// The one-time set-up secret while no user exists.
    pub setup: Arc<SetupSecret>,
}

impl AppState {
    /// The state of a server sending through `engine`, with the limits of its settings.
    pub fn new(engine: Engine, metrics: PrometheusHandle) -> Self {
        let settings = &engine.ctx.settings;
        Self {
            ctx: engine.ctx.clone(),
            metrics,
            privacy_limiter: Arc::new(RateLimiter::new(settings.privacy.requests_per_hour)),
            signup_limiter: Arc::new(RateLimiter::new(settings.subscriptions.signups_per_hour)),
            test_send_limiter: Arc::new(RateLimiter::new(settings.delivery.test_sends_per_hour)),
            login_limiter: Arc::new(LoginLimiter::new(&settings.admin)),
            uploads: Arc::default(),
            setup: Arc::default(),
            engine,
        }
    }
}

impl AppState {
    /// Sends the campaign, rendered with sample values, to `to` now: the service checks it,
    /// the engine sends it and answers with the relay's verdict.
    ///
    /// # Errors
    /// What `campaigns::test_send` refuses, or `Invalid` with the relay's answer.
    pub async fn send_test(
        &self,
        actor: &Actor,
        id: CampaignId,
        to: &[EmailAddress],
    ) -> Result<(), CampaignsError> {
        let limiter = &self.test_send_limiter;
        let campaign = campaigns::test_send(&self.ctx, limiter, actor, id, to).await?;
        delivery::send_test(&self.engine, &campaign, to)
            .await
            .map_err(|e| CampaignsError::Invalid(format!("the test message was not sent: {e}")))
    }
}
