//! What a generic webhook sends: the body (the event JSON, or a rendered
//! body template) and the signed headers. Pure, so it is tested exactly.

use handlebars::Handlebars;
use herald_core::signing::{self, StandardSecret};
use herald_core::{Body, HttpRequest};

use crate::error::{Error, Result};
use crate::store::{SignatureScheme, Webhook};

/// `User-Agent` of every request Herald sends.
pub const USER_AGENT: &str = concat!("Herald/", env!("CARGO_PKG_VERSION"));

/// The signed request for `webhook`, carrying `body` for event `event_id`,
/// signed at `timestamp` (unix seconds).
pub fn signed_request(
    webhook: &Webhook,
    event_id: &str,
    body: String,
    timestamp: i64,
) -> Result<HttpRequest> {
    let mut request = HttpRequest {
        method: "POST".into(),
        url: webhook.url.clone(),
        headers: vec![("User-Agent".into(), USER_AGENT.into())],
        body: Body::Empty,
    };
    match webhook.signature {
        SignatureScheme::Phlix => {
            let secret = webhook.secret.as_bytes();
            request.headers.extend([
                (
                    signing::SIGNATURE_HEADER.into(),
                    signing::sign(secret, body.as_bytes()),
                ),
                (
                    signing::SIGNATURE_V2_HEADER.into(),
                    signing::sign_v2(secret, timestamp, body.as_bytes()),
                ),
                (signing::WEBHOOK_ID_HEADER.into(), event_id.to_owned()),
                (
                    signing::WEBHOOK_TIMESTAMP_HEADER.into(),
                    timestamp.to_string(),
                ),
            ]);
        }
        SignatureScheme::Standard => {
            let secret = StandardSecret::parse(&webhook.secret)?;
            request.headers.extend([
                (signing::STANDARD_ID_HEADER.into(), event_id.to_owned()),
                (
                    signing::STANDARD_TIMESTAMP_HEADER.into(),
                    timestamp.to_string(),
                ),
                (
                    signing::STANDARD_SIGNATURE_HEADER.into(),
                    secret.sign(event_id, timestamp, body.as_bytes()),
                ),
            ]);
        }
    }
    request.body = Body::Text {
        content_type: "application/json".into(),
        text: body,
    };
    Ok(request)
}

/// A handlebars registry for body templates: `{{…}}` output is escaped for
/// the inside of a JSON string, and `{{json value}}` writes any value as JSON.
pub fn template_engine() -> Handlebars<'static> {
    let mut engine = Handlebars::new();
    engine.register_escape_fn(|text| {
        let quoted = serde_json::to_string(text).unwrap_or_default();
        quoted[1..quoted.len().saturating_sub(1)].to_owned()
    });
    engine.register_helper(
        "json",
        Box::new(
            |h: &handlebars::Helper<'_>,
             _: &Handlebars<'_>,
             _: &handlebars::Context,
             _: &mut handlebars::RenderContext<'_, '_>,
             out: &mut dyn handlebars::Output|
             -> handlebars::HelperResult {
                let value = h.param(0).map(|p| p.value().clone()).unwrap_or_default();
                out.write(&serde_json::to_string(&value).unwrap_or_default())?;
                Ok(())
            },
        ),
    );
    engine
}

/// Renders a body template for an event (as JSON) and checks the result is
/// JSON, since it is sent as `application/json`.
pub fn render_body(
    engine: &Handlebars<'_>,
    template: &str,
    event: &serde_json::Value,
) -> Result<String> {
    let rendered = engine
        .render_template(template, event)
        .map_err(|e| Error::invalid("body_template", e.to_string()))?;
    serde_json::from_str::<serde_json::Value>(&rendered).map_err(|e| {
        Error::invalid(
            "body_template",
            format!("the rendered body is not JSON: {e}"),
        )
    })?;
    Ok(rendered)
}

/// Checks that a body template compiles and renders JSON for a sample event.
pub fn check_body_template(template: &str) -> Result<()> {
    let sample = serde_json::json!({
        "id": "evt_sample",
        "event": "playback.started",
        "timestamp": "2026-01-31T12:00:00Z",
        "data": {"user_id": "u1", "media_item_id": "m1", "title": "Sample \"quoted\" title"}
    });
    render_body(&template_engine(), template, &sample).map(|_| ())
}
