//! Integration tests of herald-core (one binary, several modules).
#![allow(clippy::unwrap_used, missing_docs)]

mod event;
mod filter;
mod pattern;
mod registry;
mod rules;
mod signing;
mod sources;
