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
        users::{ResetMail, SetupSecret},
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
    /// CSV files uploaded in the admin UI for import, with their progress.
    pub uploads: Arc<Uploads>,
    /// The one-time set-up secret while no user exists.
    pub setup: Arc<SetupSecret>,
    /// The e-mail providers' webhook verifiers.
    pub webhooks: Arc<crate::services::webhooks::Webhooks>,
}

impl AppState {
    /// The state of a server sending through `engine`, taking webhook calls with `webhooks`.
    pub fn new(
        engine: Engine,
        metrics: PrometheusHandle,
        webhooks: crate::services::webhooks::Webhooks,
    ) -> Self {
        Self {
            ctx: engine.ctx.clone(),
            metrics,
            webhooks: Arc::new(webhooks),
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
        let campaign = campaigns::test_send(&self.ctx, actor, id, to).await?;
        delivery::send_test(&self.engine, &campaign, to)
            .await
            .map_err(|e| CampaignsError::Invalid(format!("the test message was not sent: {e}")))
    }

    /// Sends a password-reset e-mail in the background: the page answers at once, whether
    /// or not a user had the address. A failure is logged.
    pub fn send_password_reset(&self, mail: ResetMail) {
        let engine = self.engine.clone();
        tokio::spawn(async move {
            let organisation = &engine.ctx.settings.mail.organisation;
            let subject = format!("Set a new password for {organisation}");
            let text = format!(
                "Someone asked to set a new password for the Bulletin account {}.\n\n\
                 To set one, open this link within {} minutes (it works once):\n\n{}\n\n\
                 If it was not you, ignore this e-mail: your password stays as it is.\n",
                mail.to.as_str(),
                mail.minutes,
                mail.link
            );
            if let Err(e) = delivery::send_plain(&engine, &mail.to, &subject, text).await {
                tracing::warn!(error = %e, "the password-reset e-mail was not sent");
            }
        });
    }
}
