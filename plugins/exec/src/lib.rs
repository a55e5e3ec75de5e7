//! # herald-exec
//!
//! Runs a local program for each event (`kind = "exec"`): the event JSON on
//! stdin, its main fields in `HERALD_…` environment variables, and the exit
//! code as the verdict — `0` delivered, one of `retry_exit_codes` (default
//! `75`, `EX_TEMPFAIL`) retried, anything else a permanent failure. The
//! start of stdout and stderr goes to the delivery log.
//!
//! The key design decision: no shell unless asked for (`shell = true`), and
//! nothing of the event on the command line either way, so a title such as
//! `$(rm -rf ~)` is only ever data. The program runs in its own process
//! group, which is killed as a whole when it overruns its timeout, so a
//! script that started children leaves nothing behind.
#![deny(missing_docs)]

pub mod config;
pub mod payload;
pub mod runner;

use herald_core::template::{Markup, Templates};
use herald_core::{
    async_trait, DeliveryContext, DeliveryReport, Event, Message, NotificationPlugin, PluginConfig,
    PluginRegistration, Result,
};

pub use config::ExecSettings;

/// One configured program.
pub struct Exec {
    settings: ExecSettings,
    templates: Templates,
}

impl std::fmt::Debug for Exec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exec")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Exec {
    /// Builds an instance from its config entry (errors name the instance
    /// and the key).
    pub fn new(config: &PluginConfig) -> Result<Exec> {
        let settings = ExecSettings::from_config(config)?;
        let templates = Templates::new(config, payload::TEMPLATES, Markup::Plain)?;
        Ok(Exec {
            settings,
            templates,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &ExecSettings {
        &self.settings
    }

    /// The `HERALD_…` variables the program gets for `event`.
    pub fn environment(&self, event: &Event) -> Result<Vec<(String, String)>> {
        let text = self.templates.render(event)?;
        Ok(payload::environment(event, &text))
    }
}

#[async_trait]
impl NotificationPlugin for Exec {
    fn kind(&self) -> &'static str {
        "exec"
    }

    fn format(&self, event: &Event) -> Result<Message> {
        Ok(payload::message(&self.settings, event))
    }

    async fn deliver(&self, message: &Message, ctx: &DeliveryContext) -> DeliveryReport {
        let Message::Publish(publish) = message else {
            return DeliveryReport::reject("the exec plugin runs programs; it cannot send HTTP");
        };
        // The payload is the event JSON that `format` wrote.
        let event: Event = match serde_json::from_str(&publish.payload) {
            Ok(event) => event,
            Err(e) => return DeliveryReport::reject(format!("unreadable event: {e}")),
        };
        let vars = match self.environment(&event) {
            Ok(vars) => vars,
            Err(e) => return DeliveryReport::reject(format!("formatting failed: {e}")),
        };
        let timeout = self.settings.timeout.unwrap_or(ctx.timeout);
        match runner::run(&self.settings, publish.payload.as_bytes(), &vars, timeout).await {
            Ok(outcome) => report(&self.settings, &outcome, timeout),
            Err(e) => {
                let error = format!("cannot run `{}`: {e}", self.settings.command);
                match e.kind() {
                    // Will not fix itself: a configuration error.
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                        DeliveryReport::reject(error)
                    }
                    _ => DeliveryReport::retry(error, None),
                }
            }
        }
    }
}

/// The delivery report of a finished (or killed) run.
pub fn report(
    settings: &ExecSettings,
    outcome: &runner::RunOutcome,
    timeout: std::time::Duration,
) -> DeliveryReport {
    let mut report = match outcome.status {
        None => DeliveryReport::retry(
            format!("timed out after {timeout:?}; the process group was killed"),
            None,
        ),
        Some(status) => match status.code() {
            Some(0) => DeliveryReport::delivered(),
            Some(code) if settings.retry_exit_codes.contains(&code) => {
                DeliveryReport::retry(format!("exit code {code} (retryable)"), None)
            }
            Some(code) => DeliveryReport::reject(format!("exit code {code}")),
            None => DeliveryReport::retry(killed_by(status), None),
        },
    };
    report.response_body = output_excerpt(outcome);
    report
}

#[cfg(unix)]
fn killed_by(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(signal) => format!("killed by signal {signal}"),
        None => "ended without an exit code".into(),
    }
}

#[cfg(not(unix))]
fn killed_by(_status: std::process::ExitStatus) -> String {
    "ended without an exit code".into()
}

/// `stdout:\n…\nstderr:\n…`, each part only when the program wrote to it.
fn output_excerpt(outcome: &runner::RunOutcome) -> Option<String> {
    let mut parts = Vec::new();
    if outcome.stdout.total > 0 {
        parts.push(format!("stdout:\n{}", outcome.stdout.text()));
    }
    if outcome.stderr.total > 0 {
        parts.push(format!("stderr:\n{}", outcome.stderr.text()));
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

fn build(config: &PluginConfig) -> Result<Box<dyn NotificationPlugin>> {
    Ok(Box::new(Exec::new(config)?))
}

herald_core::register_plugin! {
    PluginRegistration {
        kind: "exec",
        summary: "Run a local program (event JSON on stdin, HERALD_* variables)",
        secret_keys: &["env"],
        build,
    }
}
