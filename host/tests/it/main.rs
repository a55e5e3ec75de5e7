//! Integration tests of herald-host's library (one binary).
#![allow(clippy::unwrap_used, clippy::result_large_err, missing_docs)]

mod config;
mod store;
