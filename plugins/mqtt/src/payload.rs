//! Pure formatting: an event becomes exactly the [`Publish`] that is sent.
//!
//! The topic comes from a `{placeholder}` template (see
//! [`TopicTemplate`]); the payload is the event's JSON, byte for byte
//! [`Event::to_json_bytes`], so subscribers get what a webhook would — or,
//! for an event the instance has a `templates` override for, that rendered
//! handlebars template (plain text, nothing escaped).

use herald_core::{Event, Publish};
use serde_json::Value;

/// The longest value substituted for one placeholder, in bytes; longer
/// values are cut at a character boundary so a topic stays readable.
pub const MAX_TOPIC_VALUE_BYTES: usize = 128;

/// MQTT's limit on a topic name, in bytes (a 16-bit length prefix).
pub const MAX_TOPIC_BYTES: usize = 65_535;

/// What replaces a placeholder whose value the event does not have.
pub const MISSING_VALUE: &str = "unknown";

/// A parsed topic template such as `herald/events/{event}`.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicTemplate {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Literal(String),
    Placeholder(String),
}

impl TopicTemplate {
    /// Parses and checks a template. The error says what is wrong (the
    /// caller names the key).
    pub fn parse(template: &str) -> Result<TopicTemplate, String> {
        if template.is_empty() {
            return Err("must not be empty".into());
        }
        if template.contains(['+', '#']) {
            return Err(
                "must not contain the wildcards `+` or `#` (publish topics are literal)".into(),
            );
        }
        if template.contains('\0') {
            return Err("must not contain NUL".into());
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find(['{', '}']) {
            if rest.as_bytes()[open] == b'}' {
                return Err(format!("unmatched `}}` in `{template}`"));
            }
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in `{template}`"))?;
            let name = &after[..close];
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(format!(
                    "invalid placeholder `{{{name}}}` (expected `{{event}}`, `{{source}}` or a data key such as `{{user_id}}`)"
                ));
            }
            parts.push(Part::Placeholder(name.to_owned()));
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(TopicTemplate { parts })
    }

    /// The topic for `event`.
    pub fn render(&self, event: &Event) -> String {
        let mut topic = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => topic.push_str(text),
                Part::Placeholder(name) => push_value(&mut topic, &placeholder_value(name, event)),
            }
        }
        topic
    }
}

/// The raw value of a placeholder: the event's own fields first, then its
/// `data`.
fn placeholder_value(name: &str, event: &Event) -> String {
    let value = match name {
        "event" => Some(event.event.as_str().to_owned()),
        "id" => Some(event.id.clone()),
        "source" => event.source.clone(),
        key => match event.data.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        },
    };
    value
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| MISSING_VALUE.to_owned())
}

/// Appends a value as one topic level's worth of text: separators and
/// wildcards become `_`, control characters are dropped, and it is cut to
/// [`MAX_TOPIC_VALUE_BYTES`] at a character boundary.
fn push_value(topic: &mut String, value: &str) {
    let start = topic.len();
    for c in value.chars() {
        let c = match c {
            '/' | '+' | '#' => '_',
            c if c.is_control() => continue,
            c => c,
        };
        if topic.len() - start + c.len_utf8() > MAX_TOPIC_VALUE_BYTES {
            break;
        }
        topic.push(c);
    }
}

/// How an instance turns events into publishes.
#[derive(Clone, Debug)]
pub struct Formatter {
    /// Payload templates from the instance's `templates`: an event with an
    /// override (or a `default` override) publishes the rendered text; every
    /// other event publishes its JSON.
    pub templates: Option<std::sync::Arc<herald_core::template::Templates>>,
    /// The topic template.
    pub topic: TopicTemplate,
    /// QoS of event publishes.
    pub qos: u8,
    /// Retain flag of event publishes.
    pub retain: bool,
}

impl Formatter {
    /// The publish for `event`: the rendered topic and the event JSON.
    pub fn format(&self, event: &Event) -> herald_core::Result<Publish> {
        let topic = self.topic.render(event);
        if topic.len() > MAX_TOPIC_BYTES {
            return Err(herald_core::Error::Format(format!(
                "topic of {} bytes is longer than MQTT's {MAX_TOPIC_BYTES}",
                topic.len()
            )));
        }
        let templated = self.templates.as_ref().filter(|t| {
            matches!(
                t.source_for(event.event.as_str()),
                herald_core::template::TemplateSource::Override(_)
            )
        });
        let payload = match templated {
            Some(templates) => templates.render(event)?,
            None => String::from_utf8(event.to_json_bytes())
                .map_err(|e| herald_core::Error::Format(e.to_string()))?,
        };
        Ok(Publish {
            topic,
            payload,
            qos: self.qos,
            retain: self.retain,
        })
    }
}

/// The retained status publish of the instance's status topic.
pub fn status(topic: &str, online: bool) -> Publish {
    Publish {
        topic: topic.to_owned(),
        payload: if online { "online" } else { "offline" }.to_owned(),
        qos: 1,
        retain: true,
    }
}
