//! `/api/v1/subscribers`: look a subscriber up by address, read their consent ledger.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{ConsentEvent, EmailAddress, SubscriberId},
    services::subscribers,
    startup::AppState,
    store::StoreError,
    web::{error::ApiError, extract::ApiCaller},
};

#[derive(Debug, Deserialize)]
struct FindQuery {
    email: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct SubscriptionResponse {
    list: String,
    status: String,
}

#[derive(Debug, Serialize)]
pub(super) struct SubscriberResponse {
    id: String,
    email: String,
    name: String,
    locale: String,
    status: String,
    created_at: DateTime<Utc>,
    subscriptions: Vec<SubscriptionResponse>,
}

#[derive(Debug, Serialize)]
pub(super) struct ConsentEventsResponse {
    subscriber_id: String,
    events: Vec<ConsentEvent>,
}

/// `GET /api/v1/subscribers?email=ADDR` → the subscriber and their subscriptions.
pub(super) async fn find(
    State(state): State<AppState>,
    _caller: ApiCaller,
    RawQuery(query): RawQuery,
) -> Result<Json<SubscriberResponse>, ApiError> {
    let query: FindQuery = serde_html_form::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::invalid(format!("query: {e}")))?;
    let raw = query
        .email
        .ok_or_else(|| ApiError::invalid("email: the query parameter is required"))?;
    let email = EmailAddress::parse(&raw).map_err(|e| ApiError::invalid(format!("email: {e}")))?;
    let found = subscribers::find_by_email(&state, &email)
        .await?
        .ok_or_else(|| ApiError::not_found("subscriber"))?;
    let s = found.subscriber;
    Ok(Json(SubscriberResponse {
        id: s.id.to_string(),
        email: s.email.as_str().to_owned(),
        name: s.name.as_str().to_owned(),
        locale: s.locale.as_str().to_owned(),
        status: s.status.as_str().to_owned(),
        created_at: s.created_at,
        subscriptions: found
            .subscriptions
            .into_iter()
            .map(|(slug, status)| SubscriptionResponse {
                list: slug.as_str().to_owned(),
                status: status.as_str().to_owned(),
            })
            .collect(),
    }))
}

/// `GET /api/v1/subscribers/{id}/consent-events` → the person's ledger, oldest first.
pub(super) async fn consent_events(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<ConsentEventsResponse>, ApiError> {
    let id = id
        .parse()
        .map(SubscriberId::from_uuid)
        .map_err(|_| ApiError::not_found("subscriber"))?;
    match subscribers::consent_history(&state, id).await {
        Ok(events) => Ok(Json(ConsentEventsResponse {
            subscriber_id: id.to_string(),
            events,
        })),
        Err(StoreError::NotFound) => Err(ApiError::not_found("subscriber")),
        Err(e) => Err(e.into()),
    }
}
