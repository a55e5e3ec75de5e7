//! The admin API under `/api/v1/admin`, behind the admin bearer token (or
//! an admin UI session, see `ui`).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use herald_core::{EventPatterns, PayloadFilter};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{check_bearer, parse_json, ApiError, AppState};
use crate::dispatch::AttemptOutcome;
use crate::store::{
    now_millis, rfc3339, Delivery, DeliveryQuery, DeliveryStatus, Destination, Origin,
    SignatureScheme, Webhook,
};
use crate::webhooks::{self, WebhookSettings};

pub(super) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/webhooks",
            get(list_webhooks).post(create_webhook),
        )
        .route(
            "/api/v1/admin/webhooks/{id}",
            get(get_webhook).patch(patch_webhook).delete(delete_webhook),
        )
        .route("/api/v1/admin/webhooks/{id}/secret", get(get_secret))
        .route(
            "/api/v1/admin/webhooks/{id}/secret/rotate",
            post(rotate_secret),
        )
        .route("/api/v1/admin/webhooks/{id}/test", post(test_webhook))
        .route(
            "/api/v1/admin/webhooks/{id}/deliveries",
            get(webhook_deliveries),
        )
        .route("/api/v1/admin/deliveries", get(all_deliveries))
        .route("/api/v1/admin/deliveries/{id}", get(get_delivery))
        .route("/api/v1/admin/deliveries/{id}/retry", post(retry_delivery))
        .route("/api/v1/admin/plugins", get(list_plugins))
        .route("/api/v1/admin/plugins/{name}/test", post(test_plugin))
        .route("/api/v1/admin/queue", get(queue_depth))
        .route("/api/v1/admin/test/clock", post(advance_clock))
        .route("/api/v1/admin/sources", get(list_sources))
        .route_layer(middleware::from_fn_with_state(state, require_admin))
}

/// The admin bearer token, or an admin UI session cookie (with its CSRF
/// header on changing requests).
pub(super) async fn require_admin(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let authorized = check_bearer(&headers, &state.admin_token).or_else(|bearer| {
        if headers.contains_key(axum::http::header::AUTHORIZATION) {
            Err(bearer)
        } else {
            super::ui::check_session(&state, &headers, request.method())
        }
    });
    match authorized {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// A webhook as the API shows it: never its secret.
pub fn webhook_json(w: &Webhook) -> Value {
    json!({
        "id": w.id,
        "name": w.name,
        "url": w.url,
        "events": w.events,
        "filters": w.filters,
        "active": w.active,
        "origin": w.origin,
        "signature": w.signature,
        "max_retries": w.max_retries,
        "body_template": w.body_template,
        "rules": w.rules,
        "total_failures": w.total_failures,
        "consecutive_failures": w.consecutive_failures,
        "disabled_reason": w.disabled_reason,
        "last_status": w.last_status,
        "last_status_code": w.last_status_code,
        "last_delivery_at": w.last_delivery_at.map(rfc3339),
        "created_at": rfc3339(w.created_at),
        "updated_at": rfc3339(w.updated_at),
    })
}

fn destination_json(d: &Destination) -> Value {
    match d {
        Destination::Webhook(id) => json!({"type": "webhook", "id": id}),
        Destination::Plugin(name) => json!({"type": "plugin", "name": name}),
    }
}

fn delivery_json(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "destination": destination_json(&d.destination),
        "event_id": d.event_id,
        "event": d.event_kind,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.filter(|_| d.status == DeliveryStatus::Pending).map(rfc3339),
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "response_body": d.response_body,
        "duration_ms": d.duration_ms,
        "note": d.note,
        "created_at": rfc3339(d.created_at),
        "updated_at": rfc3339(d.updated_at),
    })
}

fn outcome_json(outcome: &AttemptOutcome) -> Value {
    json!({
        "success": outcome.report.is_delivered(),
        "status_code": outcome.report.status_code,
        "error": outcome.report.error,
        "duration_ms": outcome.duration.as_millis() as u64,
        "delivery_id": outcome.delivery_id,
        "response_body": outcome.report.response_body.as_deref().map(crate::dispatch::excerpt),
    })
}

async fn load_webhook(state: &AppState, id: &str) -> Result<Webhook, ApiError> {
    state
        .dispatcher
        .store()
        .webhook(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("webhook `{id}`")))
}

/// Stores a changed webhook and makes the dispatcher see it.
async fn save(state: &AppState, webhook: &Webhook) -> Result<(), ApiError> {
    state
        .dispatcher
        .store()
        .update_webhook(webhook.clone())
        .await?;
    state.dispatcher.reload_webhooks().await?;
    Ok(())
}

async fn list_webhooks(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let webhooks = state.dispatcher.store().webhooks().await?;
    Ok(Json(json!({
        "webhooks": webhooks.iter().map(webhook_json).collect::<Vec<_>>()
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateWebhook {
    name: String,
    url: String,
    #[serde(default)]
    secret: Option<String>,
    events: EventPatterns,
    #[serde(default)]
    filters: PayloadFilter,
    #[serde(default)]
    signature: SignatureScheme,
    #[serde(default)]
    max_retries: Option<u32>,
    #[serde(default)]
    body_template: Option<String>,
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    rules: herald_core::rules::Rules,
}

fn yes() -> bool {
    true
}

async fn create_webhook(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let body = body?;
    let input: CreateWebhook = parse_json(&body)?;
    let settings = WebhookSettings {
        name: input.name,
        url: input.url,
        secret: input.secret,
        events: input.events,
        filters: input.filters,
        signature: input.signature,
        max_retries: input.max_retries,
        body_template: input.body_template,
        active: input.active,
        rules: input.rules,
    };
    let webhook =
        webhooks::new_webhook(settings, Origin::Api, state.dispatcher.settings().policy).await?;
    state
        .dispatcher
        .store()
        .create_webhook(webhook.clone())
        .await?;
    state.dispatcher.reload_webhooks().await?;
    tracing::info!(webhook = %webhook.id, name = %webhook.name, "webhook created");
    Ok((
        StatusCode::CREATED,
        Json(json!({"webhook": webhook_json(&webhook)})),
    ))
}

async fn get_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let webhook = load_webhook(&state, &id).await?;
    Ok(Json(json!({"webhook": webhook_json(&webhook)})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchWebhook {
    name: Option<String>,
    url: Option<String>,
    events: Option<EventPatterns>,
    filters: Option<PayloadFilter>,
    active: Option<bool>,
    signature: Option<SignatureScheme>,
    #[serde(default, with = "double_option")]
    max_retries: Option<Option<u32>>,
    #[serde(default, with = "double_option")]
    body_template: Option<Option<String>>,
    rules: Option<herald_core::rules::Rules>,
}

/// `null` clears a field, absence keeps it.
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

async fn patch_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let body = body?;
    let patch: PatchWebhook = parse_json(&body)?;
    let mut webhook = load_webhook(&state, &id).await?;
    if webhook.origin == Origin::Config {
        let only_active = patch.name.is_none()
            && patch.url.is_none()
            && patch.events.is_none()
            && patch.filters.is_none()
            && patch.signature.is_none()
            && patch.max_retries.is_none()
            && patch.body_template.is_none()
            && patch.rules.is_none();
        if !only_active {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "read_only",
                "this webhook is declared in the config file; only `active` can be changed here",
            ));
        }
    }
    let policy = state.dispatcher.settings().policy;
    if let Some(name) = patch.name {
        webhook.name = webhooks::check_name(&name)?;
    }
    if let Some(url) = patch.url {
        webhook.url = webhooks::check_destination(&url, policy).await?;
    }
    if let Some(events) = patch.events {
        webhook.events = events;
    }
    if let Some(filters) = patch.filters {
        webhook.filters = filters;
    }
    if let Some(signature) = patch.signature {
        if signature != webhook.signature {
            // A secret of one scheme is not valid for the other.
            webhook.secret = webhooks::generate_secret(signature);
            webhook.signature = signature;
        }
    }
    if let Some(max_retries) = patch.max_retries {
        webhook.max_retries = max_retries;
    }
    if let Some(template) = patch.body_template {
        if let Some(t) = &template {
            crate::webhook::check_body_template(t)?;
        }
        webhook.body_template = template;
    }
    if let Some(rules) = patch.rules {
        rules.validate().map_err(webhooks::rules_error)?;
        webhook.rules = rules;
    }
    if let Some(active) = patch.active {
        if active && !webhook.active {
            webhook.consecutive_failures = 0;
            webhook.disabled_reason = None;
            tracing::info!(webhook = %webhook.id, "webhook re-enabled");
        }
        webhook.active = active;
    }
    webhook.updated_at = now_millis();
    save(&state, &webhook).await?;
    Ok(Json(json!({"webhook": webhook_json(&webhook)})))
}

async fn delete_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let webhook = load_webhook(&state, &id).await?;
    if webhook.origin == Origin::Config {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "read_only",
            "this webhook is declared in the config file; remove it there",
        ));
    }
    state.dispatcher.store().delete_webhook(&id).await?;
    state.dispatcher.reload_webhooks().await?;
    tracing::info!(webhook = %id, "webhook deleted");
    Ok(StatusCode::NO_CONTENT)
}

async fn get_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let webhook = load_webhook(&state, &id).await?;
    Ok(Json(
        json!({"secret": webhook.secret, "signature": webhook.signature}),
    ))
}

async fn rotate_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut webhook = load_webhook(&state, &id).await?;
    if webhook.origin == Origin::Config {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "read_only",
            "this webhook's secret comes from the config file",
        ));
    }
    webhook.secret = webhooks::generate_secret(webhook.signature);
    webhook.updated_at = now_millis();
    save(&state, &webhook).await?;
    tracing::info!(webhook = %id, "webhook secret rotated");
    Ok(Json(
        json!({"secret": webhook.secret, "signature": webhook.signature}),
    ))
}

async fn test_webhook(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let webhook = load_webhook(&state, &id).await?;
    let outcome = state
        .dispatcher
        .test(Destination::Webhook(webhook.id.clone()), Some(&webhook.id))
        .await?;
    Ok(Json(outcome_json(&outcome)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveriesParams {
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    destination: Option<String>,
}

async fn deliveries_page(
    state: &AppState,
    params: DeliveriesParams,
    destination: Option<Destination>,
) -> Result<Json<Value>, ApiError> {
    let status = match params.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
            ApiError::invalid("status", "expected one of pending, success, failed")
        })?),
    };
    let limit = params.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 500"));
    }
    let destination = match (destination, params.destination.as_deref()) {
        (Some(d), _) => Some(d),
        (None, None | Some("")) => None,
        (None, Some(text)) => Some(match text.split_once(':') {
            Some(("webhook", id)) => Destination::Webhook(id.to_owned()),
            Some(("plugin", name)) => Destination::Plugin(name.to_owned()),
            _ => {
                return Err(ApiError::invalid(
                    "destination",
                    "expected `webhook:<id>` or `plugin:<name>`",
                ))
            }
        }),
    };
    let page = state
        .dispatcher
        .store()
        .deliveries(DeliveryQuery {
            destination,
            status,
            before: params.cursor,
            limit: limit + 1,
        })
        .await?;
    let has_more = page.len() > limit as usize;
    let page = &page[..page.len().min(limit as usize)];
    let next_cursor = has_more
        .then(|| page.last().map(|d| d.id.clone()))
        .flatten();
    Ok(Json(json!({
        "deliveries": page.iter().map(delivery_json).collect::<Vec<_>>(),
        "next_cursor": next_cursor,
    })))
}

async fn webhook_deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<DeliveriesParams>,
) -> Result<Json<Value>, ApiError> {
    let webhook = load_webhook(&state, &id).await?;
    deliveries_page(&state, params, Some(Destination::Webhook(webhook.id))).await
}

async fn all_deliveries(
    State(state): State<AppState>,
    Query(params): Query<DeliveriesParams>,
) -> Result<Json<Value>, ApiError> {
    deliveries_page(&state, params, None).await
}

async fn get_delivery(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.dispatcher.store();
    let delivery = store
        .delivery(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("delivery `{id}`")))?;
    let attempts = store.attempts(&id).await?;
    let mut body = delivery_json(&delivery);
    body["attempts_log"] = attempts
        .iter()
        .map(|a| {
            json!({
                "number": a.number,
                "started_at": rfc3339(a.started_at),
                "duration_ms": a.duration_ms,
                "status_code": a.status_code,
                "error": a.error,
                "response_body": a.response_body,
                "outcome": a.outcome,
            })
        })
        .collect();
    Ok(Json(json!({"delivery": body})))
}

async fn retry_delivery(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let delivery = state
        .dispatcher
        .store()
        .requeue(&id, now_millis())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("delivery `{id}`")))?;
    state.dispatcher.wake();
    tracing::info!(delivery = %id, "delivery queued for a manual retry");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"delivery": delivery_json(&delivery)})),
    ))
}

async fn list_plugins(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let mut plugins = Vec::new();
    for instance in state.dispatcher.plugins() {
        let c = &instance.config;
        let stats = state
            .dispatcher
            .store()
            .destination_stats(&Destination::Plugin(c.name.clone()))
            .await?;
        plugins.push(json!({
            "name": c.name,
            "kind": c.kind,
            "enabled": c.enabled,
            "events": c.events,
            "filters": c.filters,
            "total_failures": stats.failed,
            "consecutive_failures": stats.consecutive_failures,
            "delivered": stats.succeeded,
            "pending": stats.pending,
            "last_status": stats.last_status,
        }));
    }
    Ok(Json(json!({"plugins": plugins})))
}

async fn test_plugin(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !state.dispatcher.plugins().any(|p| p.config.name == name) {
        return Err(ApiError::not_found(format!("plugin instance `{name}`")));
    }
    let outcome = state
        .dispatcher
        .test(Destination::Plugin(name), None)
        .await?;
    Ok(Json(outcome_json(&outcome)))
}

async fn queue_depth(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let depth = state.dispatcher.store().queue_depth(now_millis()).await?;
    Ok(Json(json!(depth)))
}

async fn list_sources(State(state): State<AppState>) -> Json<Value> {
    let sources: Vec<Value> = state
        .sources
        .iter()
        .map(|s| {
            json!({
                "name": s.config.name,
                "type": s.config.source_type,
                "path": s.path(),
                "match_user": s.config.match_user,
                "match_server": s.config.match_server,
            })
        })
        .collect();
    Json(json!({"sources": sources}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceClock {
    seconds: i64,
}

/// Moves the rules clock forward; only when Herald was started with
/// `HERALD_TEST_CLOCK` (for end-to-end tests of time windows).
async fn advance_clock(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let clock = state.dispatcher.clock();
    if !clock.is_controllable() {
        return Err(ApiError::not_found("route"));
    }
    let input: AdvanceClock = parse_json(&body?)?;
    if input.seconds < 0 {
        return Err(ApiError::invalid("seconds", "the clock only moves forward"));
    }
    clock.advance(input.seconds);
    state.dispatcher.wake();
    Ok(Json(json!({"now": clock.now().to_rfc3339()})))
}
