//! End-to-end tests: the real `herald` binary, real sockets, a real SQLite
//! file. One test binary, several modules.
#![allow(clippy::unwrap_used, missing_docs)]

mod basics;
mod cli;
mod exec;
mod ingest;
mod metrics;
mod mqtt;
mod plugins;
mod rules;
mod tls;
mod ui;
mod webhooks;
