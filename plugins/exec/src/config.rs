//! The `[[plugins]]` settings of an `exec` instance.
//!
//! ```toml
//! [[plugins]]
//! kind = "exec"
//! name = "notify-script"
//! command = "/usr/local/bin/on-media-event"   # a path, or a name looked up in PATH
//! args = ["--quiet"]
//! timeout = "10s"                              # default: webhooks.timeout
//! retry_exit_codes = [75]                      # EX_TEMPFAIL: try again later
//! env = { API_KEY = "${MY_API_KEY}" }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use herald_core::PluginConfig;
use serde::Deserialize;

/// `EX_TEMPFAIL` from `sysexits.h`: "try again later".
pub const EX_TEMPFAIL: i32 = 75;

/// Default cap on the stdout and stderr kept for the delivery log, each.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 4096;

/// Settings of one exec instance. Only `command` is required.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecSettings {
    /// The program: an absolute path, a path relative to `working_dir`, or
    /// a name looked up in `PATH`. With `shell = true`, a command line run
    /// by `/bin/sh -c`.
    pub command: String,
    /// Arguments, passed as they are (no shell, no globbing, no
    /// splitting). With `shell = true` they are the script's `$1`, `$2`, ….
    #[serde(default)]
    pub args: Vec<String>,
    /// Run `command` through `/bin/sh -c` (pipes, redirections). Off by
    /// default: nothing of the event ever reaches a shell command line
    /// either way, the event travels on stdin and in the environment.
    #[serde(default)]
    pub shell: bool,
    /// Longest run, e.g. `"10s"`; then the whole process group is killed and
    /// the attempt retried. Defaults to `webhooks.timeout`. Keep it below
    /// `2 × webhooks.timeout + 30 s` (the delivery lease).
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
    /// Exit codes that mean "try again later" (retried with the host's
    /// backoff). Any other non-zero code is a permanent failure.
    #[serde(default = "default_retry_exit_codes")]
    pub retry_exit_codes: Vec<i32>,
    /// Extra environment variables. Values are secrets (redacted by
    /// `herald check-config`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Pass Herald's own environment on (minus every `HERALD_…` variable,
    /// which may hold tokens). Off by default: the program gets only
    /// `PATH`, `HOME`, `LANG`, `LC_ALL`, `TZ`, `USER`, `LOGNAME`, `TMPDIR`,
    /// `env` and the `HERALD_…` event variables.
    #[serde(default)]
    pub inherit_env: bool,
    /// Working directory (default: Herald's).
    #[serde(default)]
    pub working_dir: Option<PathBuf>,
    /// How much of stdout and of stderr is kept in the delivery log, each.
    #[serde(default = "default_max_output_bytes")]
    pub max_output_bytes: usize,
}

fn default_retry_exit_codes() -> Vec<i32> {
    vec![EX_TEMPFAIL]
}

fn default_max_output_bytes() -> usize {
    DEFAULT_MAX_OUTPUT_BYTES
}

// Hand-written so that `env` values never reach a log line.
impl fmt::Debug for ExecSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecSettings")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("shell", &self.shell)
            .field("timeout", &self.timeout)
            .field("retry_exit_codes", &self.retry_exit_codes)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("inherit_env", &self.inherit_env)
            .field("working_dir", &self.working_dir)
            .field("max_output_bytes", &self.max_output_bytes)
            .finish()
    }
}

impl ExecSettings {
    /// Reads and checks the instance's settings; errors name the instance
    /// and the key.
    pub fn from_config(config: &PluginConfig) -> herald_core::Result<ExecSettings> {
        let settings: ExecSettings = config.settings()?;
        settings.validate(config)?;
        Ok(settings)
    }

    fn validate(&self, config: &PluginConfig) -> herald_core::Result<()> {
        let key_error = |key: &str, message: &str| config.error(format!("`{key}`: {message}"));
        if self.command.trim().is_empty() {
            return Err(key_error("command", "must not be empty"));
        }
        if self.command.contains('\0') || self.args.iter().any(|a| a.contains('\0')) {
            return Err(key_error("command", "must not contain a NUL byte"));
        }
        if self.timeout.is_some_and(|t| t.is_zero()) {
            return Err(key_error("timeout", "must be more than zero"));
        }
        if self.retry_exit_codes.contains(&0) {
            return Err(key_error("retry_exit_codes", "0 means success"));
        }
        for key in self.env.keys() {
            let valid = !key.is_empty()
                && !key.starts_with(|c: char| c.is_ascii_digit())
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err(key_error(
                    &format!("env.{key}"),
                    "variable names are letters, digits and `_`",
                ));
            }
            if key.starts_with("HERALD_") {
                return Err(key_error(
                    &format!("env.{key}"),
                    "`HERALD_…` names are set by Herald for the event",
                ));
            }
        }
        if self.max_output_bytes == 0 {
            return Err(key_error("max_output_bytes", "must be at least 1"));
        }
        Ok(())
    }
}
