//! Body decoding: JSON, url-encoded forms and multipart forms, all in memory.
//!
//! Multipart bodies are read with `multer` (the parser axum uses), driven over
//! the in-memory body with a local executor: the stream is always ready, so
//! nothing waits and no runtime is needed.

use std::convert::Infallible;

use serde_json::{Map, Value};

use super::{SourceError, SourceType};

/// The form fields that may hold the JSON, by preference.
fn form_fields(source: SourceType) -> &'static [&'static str] {
    match source {
        SourceType::Plex => &["payload"],
        SourceType::Emby => &["data"],
        SourceType::Jellyfin | SourceType::Tautulli | SourceType::Herald => &["payload", "data"],
    }
}

/// The media type of a `Content-Type` header, lower-cased, without parameters.
fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Decodes `body` into the JSON object the source sent.
pub(crate) fn decode(
    source: SourceType,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Map<String, Value>, SourceError> {
    let fields = form_fields(source);
    let text = match content_type.map(media_type).as_deref() {
        // A JSON body sent with a form content type (a misconfigured
        // sender): read it as JSON rather than fail on the form.
        Some("multipart/form-data" | "application/x-www-form-urlencoded")
            if looks_like_json(body) =>
        {
            body.to_vec()
        }
        Some("multipart/form-data") => {
            // `unwrap_or_default` never hits: the arm matched a `Some`.
            multipart_field(source, content_type.unwrap_or_default(), body, fields)?
        }
        Some("application/x-www-form-urlencoded") => form_field(source, body, fields)?,
        None if looks_like_form(body, fields) => form_field(source, body, fields)?,
        _ => body.to_vec(),
    };
    json_object(source, &text)
}

/// A body sent without a content type that is a url-encoded form with one of
/// the expected fields (some Emby set-ups omit the header).
fn looks_like_form(body: &[u8], fields: &[&str]) -> bool {
    let body = strip_bom(body);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{') | Some(b'[')) {
        return false;
    }
    fields.iter().any(|f| {
        body.split(|&b| b == b'&')
            .any(|pair| pair.starts_with(f.as_bytes()) && pair.get(f.len()) == Some(&b'='))
    })
}

fn looks_like_json(body: &[u8]) -> bool {
    strip_bom(body)
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

fn json_object(source: SourceType, text: &[u8]) -> Result<Map<String, Value>, SourceError> {
    let text = strip_bom(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(SourceError::malformed(source, "the body is empty"));
    }
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(SourceError::malformed(
            source,
            format!("expected a JSON object, got {}", kind_of(&other)),
        )),
        Err(e) => Err(SourceError::malformed(source, format!("invalid JSON: {e}"))),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn missing_field(source: SourceType, what: &str, fields: &[&str], seen: &[String]) -> SourceError {
    let wanted = fields
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(" or ");
    let seen = if seen.is_empty() {
        "none".to_owned()
    } else {
        seen.join(", ")
    };
    SourceError::malformed(
        source,
        format!("the {what} has no {wanted} field with the JSON (fields: {seen})"),
    )
}

fn form_field(source: SourceType, body: &[u8], fields: &[&str]) -> Result<Vec<u8>, SourceError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|e| SourceError::malformed(source, format!("invalid url-encoded form: {e}")))?;
    for field in fields {
        if let Some((_, value)) = pairs.iter().find(|(k, _)| k == field) {
            return Ok(value.clone().into_bytes());
        }
    }
    let seen: Vec<String> = pairs.into_iter().map(|(k, _)| k).collect();
    Err(missing_field(source, "form", fields, &seen))
}

fn multipart_field(
    source: SourceType,
    content_type: &str,
    body: &[u8],
    fields: &[&str],
) -> Result<Vec<u8>, SourceError> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| SourceError::malformed(source, format!("multipart: {e}")))?;
    let stream = futures::stream::once(std::future::ready(Ok::<_, Infallible>(body.to_vec())));
    let mut multipart = multer::Multipart::new(stream, boundary);
    futures::executor::block_on(async move {
        let mut found: Vec<(usize, Vec<u8>)> = Vec::new();
        let mut seen = Vec::new();
        loop {
            let field = multipart
                .next_field()
                .await
                .map_err(|e| SourceError::malformed(source, format!("multipart: {e}")))?;
            let Some(field) = field else { break };
            let name = field.name().unwrap_or_default().to_owned();
            match fields.iter().position(|f| *f == name) {
                Some(rank) if !found.iter().any(|(r, _)| *r == rank) => {
                    let bytes = field
                        .bytes()
                        .await
                        .map_err(|e| SourceError::malformed(source, format!("multipart: {e}")))?;
                    found.push((rank, bytes.to_vec()));
                }
                // Other parts (Plex's `thumb` JPEG) are skipped unread.
                _ => seen.push(name),
            }
        }
        found.sort_by_key(|(rank, _)| *rank);
        match found.into_iter().next() {
            Some((_, bytes)) => Ok(bytes),
            None => Err(missing_field(source, "multipart body", fields, &seen)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_compared_without_parameters() {
        assert_eq!(
            media_type("Multipart/Form-Data; boundary=x"),
            "multipart/form-data"
        );
        assert_eq!(media_type("application/json"), "application/json");
    }

    #[test]
    fn a_bare_form_is_recognised_without_content_type() {
        assert!(looks_like_form(b"data=%7B%7D", &["data"]));
        assert!(!looks_like_form(b"{\"data=\":1}", &["data"]));
        assert!(!looks_like_form(b"database=1", &["data"]));
    }
}
