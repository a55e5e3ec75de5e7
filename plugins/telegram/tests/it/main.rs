//! Integration tests of herald-telegram (one binary, several modules).
#![allow(clippy::unwrap_used, missing_docs)]

mod deliver;
mod golden;
mod props;
mod registry;
mod service;
mod support;
