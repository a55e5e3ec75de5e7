//! herald-host (under construction).
