//! Event patterns: which events a destination receives.
//!
//! Three forms: an exact name (`playback.started`), a prefix wildcard over
//! whole segments (`playback.*`, which matches `playback.started` but not
//! `playbacks.x`), and `*` for everything.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::event::{validate_name, EventKind};

/// One parsed event pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventPattern {
    /// `*`: every event.
    Any,
    /// `resource.*`: every event whose name starts with `resource.`.
    /// Holds the prefix including its trailing dot.
    Prefix(String),
    /// An exact event name.
    Exact(String),
}

impl EventPattern {
    /// Parses a pattern, with an error that says what is wrong.
    pub fn parse(pattern: &str) -> Result<EventPattern> {
        let invalid = |reason: String| Error::InvalidPattern {
            pattern: pattern.to_owned(),
            reason,
        };
        if pattern == "*" {
            return Ok(EventPattern::Any);
        }
        if pattern.is_empty() {
            return Err(invalid("it is empty".into()));
        }
        if let Some(prefix) = pattern.strip_suffix(".*") {
            if prefix.contains('*') {
                return Err(invalid(
                    "`*` may only stand alone or as the last segment".into(),
                ));
            }
            // `playback.*` → the prefix must itself be well-formed segments.
            validate_name(&format!("{prefix}.x")).map_err(|_| {
                invalid("the part before `.*` is not a valid event name prefix".into())
            })?;
            return Ok(EventPattern::Prefix(format!("{prefix}.")));
        }
        if pattern.contains('*') {
            return Err(invalid(
                "`*` may only stand alone or as the last segment (`playback.*`)".into(),
            ));
        }
        match validate_name(pattern) {
            Ok(()) => Ok(EventPattern::Exact(pattern.to_owned())),
            Err(Error::InvalidEventName { reason, .. }) if !pattern.contains('.') => {
                Err(invalid(format!("{reason}; did you mean `{pattern}.*`?")))
            }
            Err(Error::InvalidEventName { reason, .. }) => Err(invalid(reason.into())),
            Err(e) => Err(invalid(e.to_string())),
        }
    }

    /// Whether `kind` matches this pattern.
    pub fn matches(&self, kind: &EventKind) -> bool {
        match self {
            EventPattern::Any => true,
            EventPattern::Prefix(prefix) => kind.as_str().starts_with(prefix.as_str()),
            EventPattern::Exact(name) => kind.as_str() == name,
        }
    }
}

impl fmt::Display for EventPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventPattern::Any => f.write_str("*"),
            EventPattern::Prefix(prefix) => write!(f, "{prefix}*"),
            EventPattern::Exact(name) => f.write_str(name),
        }
    }
}

impl Serialize for EventPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EventPattern::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A non-empty list of patterns; an event matches if any pattern does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EventPatterns(Vec<EventPattern>);

impl EventPatterns {
    /// Builds a list, refusing an empty one (a destination that receives
    /// nothing is always a mistake).
    pub fn new(patterns: Vec<EventPattern>) -> Result<EventPatterns> {
        if patterns.is_empty() {
            return Err(Error::InvalidPattern {
                pattern: String::new(),
                reason: "at least one event pattern is required (use \"*\" for every event)".into(),
            });
        }
        Ok(EventPatterns(patterns))
    }

    /// Parses every pattern of `texts`.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<EventPatterns> {
        let patterns = texts
            .iter()
            .map(|t| EventPattern::parse(t.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        EventPatterns::new(patterns)
    }

    /// `*`.
    pub fn any() -> EventPatterns {
        EventPatterns(vec![EventPattern::Any])
    }

    /// Whether any pattern matches `kind`.
    pub fn matches(&self, kind: &EventKind) -> bool {
        self.0.iter().any(|p| p.matches(kind))
    }

    /// The patterns.
    pub fn as_slice(&self) -> &[EventPattern] {
        &self.0
    }
}

impl<'de> Deserialize<'de> for EventPatterns {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let patterns = Vec::<EventPattern>::deserialize(deserializer)?;
        EventPatterns::new(patterns).map_err(serde::de::Error::custom)
    }
}
