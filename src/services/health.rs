//! Whether this instance can serve: what `/healthz` answers.

use crate::{context::Context, store};

/// Whether the database answers.
pub async fn is_healthy(ctx: &Context) -> bool {
    store::ping(&ctx.db).await
}
