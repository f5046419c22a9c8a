//! `POST /webhooks/{provider}`: bounce and complaint calls from e-mail providers. A call
//! that does not prove it is the provider's is answered 401 and changes nothing; a provider
//! that is not configured is 404.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;

use super::{AppState, error::ApiError};
use crate::services::webhooks::{self, Call, Provider, WebhookError};

/// The webhook routes (their body limit is set where they are merged).
pub fn routes() -> Router<AppState> {
    Router::new().route("/webhooks/{provider}", post(receive))
}

async fn receive(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(provider) = Provider::parse(&provider) else {
        return ApiError::not_found("webhook").into_response();
    };
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let call = Call {
        authorization: text(header::AUTHORIZATION.as_str()),
        signature: text(webhooks::SENDGRID_SIGNATURE_HEADER),
        timestamp: text(webhooks::SENDGRID_TIMESTAMP_HEADER),
        body: &body,
    };
    match webhooks::receive(&state.ctx, &state.webhooks, provider, call).await {
        Ok(received) => Json(json!({
            "acted": received.acted,
            "ignored": received.ignored,
        }))
        .into_response(),
        Err(WebhookError::Off) => ApiError::not_found("webhook").into_response(),
        Err(WebhookError::Refused(refused)) => {
            tracing::warn!(?provider, reason = %refused, "a webhook call was refused");
            match refused {
                webhooks::Refused::Unauthenticated(_) => {
                    let mut response = ApiError::new(
                        StatusCode::UNAUTHORIZED,
                        "unauthenticated",
                        "the call does not prove it comes from the provider",
                    )
                    .into_response();
                    if provider == Provider::Postmark {
                        response.headers_mut().insert(
                            header::WWW_AUTHENTICATE,
                            HeaderValue::from_static("Basic realm=\"bulletin webhooks\""),
                        );
                    }
                    response
                }
                webhooks::Refused::Malformed(what) => {
                    ApiError::new(StatusCode::BAD_REQUEST, "malformed", what).into_response()
                }
            }
        }
        Err(WebhookError::Store(e)) => ApiError::from(e).into_response(),
    }
}
