//! Herald's own JSON: an [`IncomingEvent`] (aliases resolved, any kind,
//! custom kinds included). Nothing is ignored: an invalid event is an error.
//! No `data.raw` is added, since the body already *is* the event. The
//! [`Origin`](super::Origin) is read from `data.user_id`, `data.user_name`,
//! `data.server_id` and `data.server_name`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::normalize::{event_id, text};
use super::{Origin, Parsed, SourceError, SourceType};
use crate::event::IncomingEvent;

pub(crate) fn parse(
    payload: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Parsed, SourceError> {
    let mut incoming: IncomingEvent = serde_json::from_value(Value::Object(payload))
        .map_err(|e| SourceError::malformed(SourceType::Herald, e.to_string()))?;
    // Fill what `normalize` would otherwise take from the clock.
    incoming.id.get_or_insert_with(|| event_id(now));
    incoming.timestamp.get_or_insert(now);
    let event = incoming.normalize().map_err(|e| SourceError::Invalid {
        source_type: SourceType::Herald,
        message: e.to_string(),
    })?;
    let d = |key: &str| text(event.data.get(key));
    let origin = Origin {
        user_id: d("user_id"),
        user_name: d("user_name"),
        server_id: d("server_id"),
        server_name: d("server_name"),
    };
    Ok(Parsed::Event { event, origin })
}
