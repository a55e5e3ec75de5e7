//! The [`NotificationPlugin`] trait and the values it exchanges with the host.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::event::{Event, EventKind};

/// Largest response body kept from a service, for classification and the
/// delivery log.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A notification service, formatted purely and delivered by the host.
///
/// Implementors write [`kind`](Self::kind) and [`format`](Self::format); the
/// default [`deliver`](Self::deliver) sends an HTTP [`Message`] with the
/// host's client and asks [`classify`](Self::classify) what the answer means,
/// so most HTTP services only override `classify` to read their own
/// rate-limit answers. Services that are not HTTP (MQTT, a local program)
/// override `deliver`.
///
/// The host decides *whether* an event goes to an instance (its `events`
/// patterns and filters), persists the delivery, and decides *when* to retry;
/// the plugin judges *whether* a failure is worth retrying.
///
/// # Example
///
/// ```
/// use herald_core::{
///     async_trait, Body, Event, HttpRequest, HttpResponse, Message, NotificationPlugin,
///     Result, Verdict,
/// };
///
/// /// Posts `{"text": "<event name>"}` to a chat webhook.
/// struct Chat {
///     url: String,
/// }
///
/// #[async_trait]
/// impl NotificationPlugin for Chat {
///     fn kind(&self) -> &'static str {
///         "chat"
///     }
///
///     fn format(&self, event: &Event) -> Result<Message> {
///         Ok(Message::Http(HttpRequest::post_json(
///             &self.url,
///             serde_json::json!({ "text": event.event.as_str() }),
///         )))
///     }
///
///     // Optional: this service answers 400 for messages it will never take.
///     fn classify(&self, response: &HttpResponse) -> Verdict {
///         match response.status {
///             400 => Verdict::Reject,
///             _ => herald_core::plugin::default_classify(response),
///         }
///     }
/// }
///
/// let chat = Chat { url: "http://127.0.0.1:9/hook".into() };
/// let event = Event::new(herald_core::EventKind::parse("app.deployed")?, Default::default());
/// let Message::Http(request) = chat.format(&event)? else { unreachable!() };
/// assert_eq!(request.body, Body::Json(serde_json::json!({"text": "app.deployed"})));
/// # Ok::<(), herald_core::Error>(())
/// ```
#[async_trait::async_trait]
pub trait NotificationPlugin: Send + Sync + 'static {
    /// The registered kind, e.g. `discord`.
    fn kind(&self) -> &'static str;

    /// Whether this plugin can say anything useful about events of `kind`.
    /// Defaults to every kind; the instance's `events` patterns apply on top.
    fn handles(&self, _kind: &EventKind) -> bool {
        true
    }

    /// Turns an event into exactly what will be sent. Pure: no I/O, no
    /// clock, no randomness, so it can be golden-tested.
    fn format(&self, event: &Event) -> Result<Message>;

    /// Sends a formatted message and reports the outcome. The default sends
    /// [`Message::Http`] with the host's client and [`classify`](Self::classify)s
    /// the answer; other message types need their own implementation.
    async fn deliver(&self, message: &Message, ctx: &DeliveryContext) -> DeliveryReport {
        match message {
            Message::Http(request) => deliver_http(self, request, ctx).await,
            other => DeliveryReport::reject(format!(
                "plugin `{}` cannot deliver a {} message",
                self.kind(),
                other.type_name()
            )),
        }
    }

    /// What an HTTP answer means for this service. Defaults to
    /// [`default_classify`].
    fn classify(&self, response: &HttpResponse) -> Verdict {
        default_classify(response)
    }

    /// The service's own words for a failed answer (e.g. ntfy's
    /// `unauthorized (40101)`), used as the report's error instead of the bare
    /// `HTTP <status>`. Defaults to none.
    fn describe_failure(&self, _response: &HttpResponse) -> Option<String> {
        None
    }
}

/// The default HTTP delivery: sends `request`, [`classify`](NotificationPlugin::classify)s
/// the answer and, when it failed, takes the error text from
/// [`describe_failure`](NotificationPlugin::describe_failure). Plugins that
/// override `deliver` to post-process a report start from this.
pub async fn deliver_http<P: NotificationPlugin + ?Sized>(
    plugin: &P,
    request: &HttpRequest,
    ctx: &DeliveryContext,
) -> DeliveryReport {
    match send_http(ctx, request).await {
        Ok(response) => {
            let verdict = plugin.classify(&response);
            let mut report = DeliveryReport::from_response(verdict, &response);
            if !report.is_delivered() {
                if let Some(text) = plugin.describe_failure(&response) {
                    report.error = Some(text);
                }
            }
            report
        }
        Err(report) => report,
    }
}

/// The generic reading of an HTTP answer: 2xx delivered; 408, 425, 429 and
/// 5xx retried (honouring `Retry-After` in seconds); other answers rejected.
pub fn default_classify(response: &HttpResponse) -> Verdict {
    match response.status {
        200..=299 => Verdict::Delivered,
        408 | 425 | 429 | 500..=599 => Verdict::Retry {
            after: response.retry_after_header(),
        },
        _ => Verdict::Reject,
    }
}

/// What a plugin sends: exactly, so tests can compare it byte for byte.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// An HTTP request.
    Http(HttpRequest),
    /// A message-bus publish (MQTT and the like).
    Publish(Publish),
}

impl Message {
    fn type_name(&self) -> &'static str {
        match self {
            Message::Http(_) => "HTTP",
            Message::Publish(_) => "publish",
        }
    }
}

/// An HTTP request to send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// `POST`, `PUT`, …
    pub method: String,
    /// Full URL. May hold a credential (Telegram's bot token): never log it.
    pub url: String,
    /// Extra headers in order (the content type comes from the body).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl HttpRequest {
    /// A `POST` with a JSON body.
    pub fn post_json(url: &str, body: serde_json::Value) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Body::Json(body),
        }
    }

    /// A `POST` with a form body.
    pub fn post_form(url: &str, fields: Vec<(String, String)>) -> HttpRequest {
        HttpRequest {
            method: "POST".into(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Body::Form(fields),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> HttpRequest {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// An HTTP request body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "content", rename_all = "snake_case")]
pub enum Body {
    /// No body.
    Empty,
    /// `application/json`, serialized compactly in key order.
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded`, fields in order.
    Form(Vec<(String, String)>),
    /// Any other content type.
    Text {
        /// The `Content-Type`.
        content_type: String,
        /// The body text.
        text: String,
    },
}

impl Body {
    /// The content type and the exact bytes on the wire.
    pub fn encode(&self) -> Result<(Option<&str>, Vec<u8>)> {
        Ok(match self {
            Body::Empty => (None, Vec::new()),
            Body::Json(value) => (
                Some("application/json"),
                serde_json::to_vec(value).map_err(|e| crate::Error::Format(e.to_string()))?,
            ),
            Body::Form(fields) => (
                Some("application/x-www-form-urlencoded"),
                form_urlencode(fields).into_bytes(),
            ),
            Body::Text { content_type, text } => {
                (Some(content_type.as_str()), text.as_bytes().to_vec())
            }
        })
    }
}

fn form_urlencode(fields: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, key);
        out.push('=');
        percent_encode_into(&mut out, value);
    }
    out
}

/// `application/x-www-form-urlencoded` byte encoding (WHATWG): unreserved
/// bytes as is, space as `+`, everything else `%XX`.
fn percent_encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

/// A publish to a message bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Publish {
    /// Topic.
    pub topic: String,
    /// Payload bytes (UTF-8 text in practice).
    pub payload: String,
    /// Quality of service, 0 to 2.
    pub qos: u8,
    /// Whether the broker keeps it as the topic's last value.
    pub retain: bool,
}

/// What the host lends a plugin for delivery.
#[derive(Clone, Debug)]
pub struct DeliveryContext {
    /// The shared HTTP client (timeouts, CA bundle, proxy and the
    /// destination guard already applied).
    pub http: reqwest::Client,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

/// An HTTP answer, as much as classification and the delivery log need.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Response headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body, at most [`MAX_RESPONSE_BYTES`].
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A header's value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Retry-After` as seconds (the HTTP-date form is treated as absent).
    pub fn retry_after_header(&self) -> Option<Duration> {
        let value = self.header("retry-after")?.trim();
        let secs: f64 = value.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
    }

    /// A delay in seconds (fractional allowed) at a JSON pointer of the body,
    /// e.g. `/retry_after` (Discord) or `/parameters/retry_after` (Telegram).
    pub fn retry_after_json(&self, pointer: &str) -> Option<Duration> {
        let secs = self.json()?.pointer(pointer)?.as_f64()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
    }

    /// The body parsed as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as (lossy) text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A plugin's judgement of one attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Done.
    Delivered,
    /// Worth trying again, after `after` if the service said so.
    Retry {
        /// The service's requested delay.
        after: Option<Duration>,
    },
    /// Will never succeed as is (bad token, message refused).
    Reject,
}

/// The outcome of one delivery attempt, as the host logs it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryReport {
    /// What to do next.
    pub verdict: Verdict,
    /// HTTP status, when there was an answer.
    pub status_code: Option<u16>,
    /// What went wrong, free of credentials.
    pub error: Option<String>,
    /// The start of the answer's body, for the delivery log.
    pub response_body: Option<String>,
}

impl DeliveryReport {
    /// Success without an HTTP answer (e.g. a broker acknowledgement).
    pub fn delivered() -> DeliveryReport {
        DeliveryReport {
            verdict: Verdict::Delivered,
            status_code: None,
            error: None,
            response_body: None,
        }
    }

    /// A retryable failure without an HTTP answer.
    pub fn retry(error: impl Into<String>, after: Option<Duration>) -> DeliveryReport {
        DeliveryReport {
            verdict: Verdict::Retry { after },
            status_code: None,
            error: Some(error.into()),
            response_body: None,
        }
    }

    /// A permanent failure without an HTTP answer.
    pub fn reject(error: impl Into<String>) -> DeliveryReport {
        DeliveryReport {
            verdict: Verdict::Reject,
            status_code: None,
            error: Some(error.into()),
            response_body: None,
        }
    }

    /// A report for an HTTP answer.
    pub fn from_response(verdict: Verdict, response: &HttpResponse) -> DeliveryReport {
        let error = match verdict {
            Verdict::Delivered => None,
            _ => Some(format!("HTTP {}", response.status)),
        };
        DeliveryReport {
            verdict,
            status_code: Some(response.status),
            error,
            response_body: (!response.body.is_empty()).then(|| response.text()),
        }
    }

    /// Whether the attempt succeeded.
    pub fn is_delivered(&self) -> bool {
        self.verdict == Verdict::Delivered
    }
}

/// Sends `request` with the context's client. A failure to get an answer is
/// returned as a retryable report whose error never includes the URL (it may
/// hold a token).
pub async fn send_http(
    ctx: &DeliveryContext,
    request: &HttpRequest,
) -> std::result::Result<HttpResponse, DeliveryReport> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| DeliveryReport::reject(format!("invalid method `{}`", request.method)))?;
    let (content_type, body) = request
        .body
        .encode()
        .map_err(|e| DeliveryReport::reject(e.to_string()))?;
    let mut builder = ctx
        .http
        .request(method, &request.url)
        .timeout(ctx.timeout)
        .body(body);
    if let Some(content_type) = content_type {
        builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let mut response = builder
        .send()
        .await
        .map_err(|e| DeliveryReport::retry(describe_reqwest_error(e), None))?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if room <= chunk.len() {
                    break;
                }
            }
            Ok(None) => break,
            // The status already arrived; a broken body does not change it.
            Err(_) => break,
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// A one-line description of a transport error, without the URL, walking
/// the source chain so "connection refused" and TLS causes are visible.
pub fn describe_reqwest_error(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_redirect() {
        "too many redirects"
    } else {
        "request failed"
    };
    let error = error.without_url();
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !causes.contains(&text) {
            causes.push(text);
        }
        source = cause.source();
    }
    if causes.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {}", causes.join(": "))
    }
}
