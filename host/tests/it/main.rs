//! Integration tests of herald-host's library (one binary).
#![allow(clippy::unwrap_used, missing_docs)]

mod config;
mod store;
