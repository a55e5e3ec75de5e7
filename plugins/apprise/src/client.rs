//! Reading the Apprise API server's answers.
//!
//! | status | meaning | verdict |
//! | --- | --- | --- |
//! | 200 | every notification was sent | delivered |
//! | 204 | nothing to notify: the key has no configuration, or no URL has the tag | delivered, with a warning |
//! | 424 | some or all notifications failed downstream | retry |
//! | 400 | bad request (no body, unknown type or format, no valid URL) | reject |
//! | 431 | request too large | reject |
//! | 429, 5xx | busy or broken | retry |
//!
//! Why 204 counts as delivered: the server accepted the request and decided,
//! by its own configuration, that no service should hear of it. Retrying
//! cannot change that, and rejecting would flag (and could auto-disable) an
//! instance that works as configured, e.g. with a tag that currently matches
//! no URL. The report keeps the status 204 and a note for the delivery log,
//! and a warning is logged, so a mistyped key or tag is still visible.

use herald_core::plugin::{default_classify, deliver_http};
use herald_core::{
    DeliveryContext, DeliveryReport, HttpRequest, HttpResponse, NotificationPlugin, Verdict,
};

/// The note kept with a 204 answer.
pub const NOTHING_TO_NOTIFY: &str =
    "Apprise had nothing to notify (no configuration for the key, or no URL with the tag)";

/// What an Apprise API answer means.
pub fn classify(response: &HttpResponse) -> Verdict {
    match response.status {
        424 => Verdict::Retry {
            after: response.retry_after_header(),
        },
        400 | 431 => Verdict::Reject,
        _ => default_classify(response),
    }
}

/// `HTTP 424: <the server's message>`; the message is the JSON `error`
/// field or the start of the text body.
pub fn error_text(response: &HttpResponse) -> String {
    let message = response
        .json()
        .and_then(|j| j.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| {
            let text = response.text();
            herald_core::template::truncate(text.trim(), 200)
        });
    if message.is_empty() {
        format!("HTTP {}", response.status)
    } else {
        format!("HTTP {}: {message}", response.status)
    }
}

/// Sends the request and reports the outcome.
pub async fn deliver(
    plugin: &impl NotificationPlugin,
    request: &HttpRequest,
    ctx: &DeliveryContext,
) -> DeliveryReport {
    let mut report = deliver_http(plugin, request, ctx).await;
    if report.status_code == Some(204) {
        tracing::warn!("{NOTHING_TO_NOTIFY}");
        report.response_body = Some(NOTHING_TO_NOTIFY.to_owned());
    }
    report
}
