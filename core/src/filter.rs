//! Payload filters: a destination only receives events whose data matches.
//!
//! A filter maps a dotted path into the event's `data` (`media_type`,
//! `user.name`) to one accepted value or a list of accepted values. Every key
//! must match; a missing field never matches. This is the filter users of
//! jellyfin-plugin-webhook know ("only movies and episodes", "only this
//! user"), kept deliberately simple; richer conditions build on it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::event::Event;

/// `data` path → accepted scalar values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<String, Value>", into = "BTreeMap<String, Value>")]
pub struct PayloadFilter {
    rules: BTreeMap<String, Vec<Value>>,
}

impl PayloadFilter {
    /// A filter that accepts everything.
    pub fn accept_all() -> PayloadFilter {
        PayloadFilter::default()
    }

    /// Whether the filter has no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `event` passes every rule.
    pub fn matches(&self, event: &Event) -> bool {
        self.rules.iter().all(|(path, accepted)| {
            lookup(&event.data, path).is_some_and(|found| accepted.iter().any(|a| a == found))
        })
    }
}

fn lookup<'a>(data: &'a serde_json::Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut segments = path.split('.');
    let mut current = data.get(segments.next()?)?;
    for segment in segments {
        current = current.as_object()?.get(segment)?;
    }
    Some(current)
}

impl TryFrom<BTreeMap<String, Value>> for PayloadFilter {
    type Error = Error;

    fn try_from(raw: BTreeMap<String, Value>) -> Result<PayloadFilter> {
        let mut rules = BTreeMap::new();
        for (key, value) in raw {
            let invalid = |reason: &str| Error::InvalidFilter {
                key: key.clone(),
                reason: reason.to_owned(),
            };
            let path = key.strip_prefix("data.").unwrap_or(&key);
            if path.is_empty() || path.split('.').any(str::is_empty) {
                return Err(invalid("the key must be a dotted path into the event data"));
            }
            let accepted = match value {
                Value::Array(values) if values.is_empty() => {
                    return Err(invalid("the list of accepted values is empty"))
                }
                Value::Array(values) => values,
                other => vec![other],
            };
            if accepted.iter().any(|v| v.is_object() || v.is_array()) {
                return Err(invalid(
                    "accepted values must be strings, numbers, booleans or null",
                ));
            }
            rules.insert(path.to_owned(), accepted);
        }
        Ok(PayloadFilter { rules })
    }
}

impl From<PayloadFilter> for BTreeMap<String, Value> {
    fn from(filter: PayloadFilter) -> BTreeMap<String, Value> {
        filter
            .rules
            .into_iter()
            .map(|(k, mut v)| {
                let value = if v.len() == 1 {
                    v.remove(0)
                } else {
                    Value::Array(v)
                };
                (k, value)
            })
            .collect()
    }
}
