//! The `herald` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config;

/// Herald: notifications for your media server.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about, long_about = None)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon.
    Serve {
        /// Config file (TOML or YAML); default `config/herald.toml` if present.
        #[arg(long, short, env = "HERALD_CONFIG")]
        config: Option<PathBuf>,
        /// Listen address, overriding `server.listen` (port 0 picks a free port).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Check the config and print it with every secret redacted.
    CheckConfig {
        /// Config file (TOML or YAML); default `config/herald.toml` if present.
        #[arg(long, short, env = "HERALD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// List the registered plugin kinds.
    Plugins,
    /// Post an event to a running Herald (`POST /api/v1/events`).
    Emit(EmitArgs),
    /// Check the signature of a received webhook body.
    Verify(VerifyArgs),
    /// Look at the webhooks of a running Herald.
    Webhooks {
        /// What to do.
        #[command(subcommand)]
        command: WebhooksCommand,
    },
    /// Print each configured source's ingest URL, to paste into the media
    /// server's webhook settings.
    Sources {
        /// Where the config is, and (with `--running`) how to reach Herald.
        #[command(flatten)]
        remote: AdminRemote,
        /// How the media server reaches Herald, e.g. `http://192.168.1.10:8787`
        /// (default: `http://` and `server.listen`).
        #[arg(long)]
        base_url: Option<String>,
        /// Ask the running Herald (`GET /api/v1/admin/sources`) instead of
        /// reading the config file.
        #[arg(long)]
        running: bool,
    },
}

/// `herald webhooks …`
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// List them (`GET /api/v1/admin/webhooks`), read-only.
    List {
        /// How to reach Herald and who you are.
        #[command(flatten)]
        remote: AdminRemote,
        /// Print the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// `herald emit`
#[derive(Debug, Args)]
pub struct EmitArgs {
    /// The event name, e.g. `playback.started` or `app.deployed`.
    pub event: String,
    /// The event's `data`: a JSON object, `@FILE` to read it from a file, or
    /// `-` for standard input.
    #[arg(long, default_value = "{}")]
    pub data: String,
    /// Herald's base URL [default: `http://` and `server.listen` of the
    /// config].
    #[arg(long, env = "HERALD_URL")]
    pub url: Option<String>,
    /// The ingest token [default: `server.ingest_token` of the config, else
    /// `<data_dir>/ingest_token`].
    #[arg(long, env = "HERALD_INGEST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Config file, for the defaults of `--url` and `--token`.
    #[arg(long, short, env = "HERALD_CONFIG")]
    pub config: Option<PathBuf>,
}

/// How an admin command reaches a running Herald.
#[derive(Debug, Args)]
pub struct AdminRemote {
    /// Herald's base URL [default: `http://` and `server.listen` of the
    /// config].
    #[arg(long, env = "HERALD_URL")]
    pub url: Option<String>,
    /// The admin token [default: `server.admin_token` of the config, else
    /// `<data_dir>/admin_token`].
    #[arg(long, env = "HERALD_ADMIN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Config file, for the defaults of `--url` and `--token`.
    #[arg(long, short, env = "HERALD_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `herald verify`
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("signatures").required(true).multiple(true))]
pub struct VerifyArgs {
    /// The webhook's signing secret.
    #[arg(long)]
    pub secret: String,
    /// The `X-Phlix-Signature` header (`sha256=…`).
    #[arg(long, group = "signatures")]
    pub signature: Option<String>,
    /// The `X-Phlix-Signature-V2` header (`t=…,v1=…`).
    #[arg(long = "signature-v2", group = "signatures")]
    pub signature_v2: Option<String>,
    /// Largest accepted distance of the V2 timestamp from now, in seconds.
    #[arg(long, default_value_t = herald_core::signing::DEFAULT_TOLERANCE_SECS)]
    pub tolerance: i64,
    /// The body exactly as received (`-` for standard input).
    pub file: PathBuf,
}

/// Parses the arguments and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Emit(args) => remote::emit(args),
        Command::Verify(args) => verify(args),
        Command::Webhooks {
            command: WebhooksCommand::List { remote, json },
        } => remote::list_webhooks(remote, json),
        Command::Sources {
            remote,
            base_url,
            running: true,
        } => remote::list_sources(remote, base_url),
        command => execute(command).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command) -> crate::Result<()> {
    let mut out = std::io::stdout();
    match command {
        Command::Serve { config, listen } => {
            let loaded = config::load(config.as_deref())?;
            crate::logging::init(&loaded.config.log);
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| crate::Error::io("starting the runtime", e))?;
            runtime.block_on(crate::app::serve(loaded, listen, |generated| {
                for token in generated {
                    // Shown once, on the terminal, never in the log.
                    let _ = writeln!(
                        std::io::stdout(),
                        "generated {} token (stored in the data directory, shown once): {}",
                        token.name,
                        token.token
                    );
                }
            }))
        }
        Command::CheckConfig { config } => {
            let loaded = config::load(config.as_deref())?;
            let registry = crate::app::registry()?;
            crate::app::build_plugins(&loaded, &registry)?;
            let redacted = config::redacted(&loaded.config, &registry);
            let text = serde_json::to_string_pretty(&redacted).unwrap_or_default();
            let source = loaded
                .file
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "built-in defaults".into());
            let _ = writeln!(out, "# config OK ({source}); secrets redacted\n{text}");
            Ok(())
        }
        Command::Sources {
            remote, base_url, ..
        } => {
            let loaded = config::load(remote.config.as_deref())?;
            let base =
                base_url.unwrap_or_else(|| format!("http://{}", loaded.config.server.listen));
            let base = base.trim_end_matches('/');
            if loaded.config.sources.is_empty() {
                let _ = writeln!(out, "no [[sources]] configured");
            }
            for source in &loaded.config.sources {
                let _ = writeln!(
                    out,
                    "{:<16} {:<9} {base}/api/v1/ingest/{}",
                    source.name,
                    source.source_type.as_str(),
                    source.token
                );
            }
            Ok(())
        }
        Command::Plugins => {
            let registry = crate::app::registry()?;
            for registration in registry.registrations() {
                let _ = writeln!(out, "{:<12} {}", registration.kind, registration.summary);
            }
            Ok(())
        }
        Command::Emit(_) | Command::Verify(_) | Command::Webhooks { .. } => {
            unreachable!("handled by run")
        }
    }
}

/// Reads a file, or standard input for `-`.
fn read_input(path: &std::path::Path) -> Result<Vec<u8>, String> {
    if path.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut body)
            .map_err(|e| format!("reading standard input: {e}"))?;
        Ok(body)
    } else {
        std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))
    }
}

/// `herald verify`: every signature given must match.
fn verify(args: VerifyArgs) -> Result<(), String> {
    use herald_core::signing::{self, VerifyError, SIGNATURE_HEADER, SIGNATURE_V2_HEADER};
    let body = read_input(&args.file)?;
    let secret = args.secret.as_bytes();
    let mut out = std::io::stdout();
    let mut failures = Vec::new();
    if let Some(header) = &args.signature {
        if signing::verify(secret, &body, header) {
            let _ = writeln!(out, "{SIGNATURE_HEADER}: valid");
        } else {
            failures.push(format!("{SIGNATURE_HEADER}: does not match the body"));
        }
    }
    if let Some(header) = &args.signature_v2 {
        let now = chrono::Utc::now().timestamp();
        match signing::verify_v2(secret, &body, header, now, args.tolerance) {
            Ok(()) => {
                let _ = writeln!(out, "{SIGNATURE_V2_HEADER}: valid");
            }
            Err(VerifyError::Malformed) => failures.push(format!(
                "{SIGNATURE_V2_HEADER}: not `t=<unix seconds>,v1=<hex>`"
            )),
            Err(VerifyError::Expired) => failures.push(format!(
                "{SIGNATURE_V2_HEADER}: the timestamp is more than {} s away from now \
                 (a replay, or a wrong clock)",
                args.tolerance
            )),
            Err(VerifyError::Mismatch) => {
                failures.push(format!("{SIGNATURE_V2_HEADER}: does not match the body"))
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// The commands that talk to a running Herald over HTTP.
mod remote {
    use std::io::Write;
    use std::path::{Path, PathBuf};

    use serde_json::Value;

    use super::{read_input, AdminRemote, EmitArgs};
    use crate::config::{self, LoadedConfig};

    /// `herald emit`.
    pub(super) fn emit(args: EmitArgs) -> Result<(), String> {
        let data: Value = match args.data.as_str() {
            "-" => parse_data(&read_input(Path::new("-"))?)?,
            text => match text.strip_prefix('@') {
                Some(path) => parse_data(&read_input(Path::new(path))?)?,
                None => parse_data(text.as_bytes())?,
            },
        };
        let mut lazy = LazyConfig::new(args.config);
        let base = base_url(args.url, &mut lazy)?;
        let token = token(args.token, &mut lazy, "ingest_token", |c| {
            c.server.ingest_token.clone()
        })?;
        let body = serde_json::json!({"event": args.event, "data": data});
        let answer = send(|client| {
            client
                .post(format!("{base}/api/v1/events"))
                .bearer_auth(&token)
                .json(&body)
        })?;
        let _ = writeln!(std::io::stdout(), "{answer}");
        Ok(())
    }

    /// `herald webhooks list`.
    pub(super) fn list_webhooks(remote: AdminRemote, json: bool) -> Result<(), String> {
        let mut lazy = LazyConfig::new(remote.config);
        let base = base_url(remote.url, &mut lazy)?;
        let token = token(remote.token, &mut lazy, "admin_token", |c| {
            c.server.admin_token.clone()
        })?;
        let answer = send(|client| {
            client
                .get(format!("{base}/api/v1/admin/webhooks"))
                .bearer_auth(&token)
        })?;
        let mut out = std::io::stdout();
        if json {
            let text = serde_json::to_string_pretty(&answer).unwrap_or_default();
            let _ = writeln!(out, "{text}");
            return Ok(());
        }
        let webhooks = answer["webhooks"]
            .as_array()
            .ok_or("the answer has no `webhooks` list")?;
        let _ = write!(out, "{}", table(webhooks));
        Ok(())
    }

    /// `herald sources --running`.
    pub(super) fn list_sources(
        remote: AdminRemote,
        base_url: Option<String>,
    ) -> Result<(), String> {
        let mut lazy = LazyConfig::new(remote.config);
        let base = self::base_url(remote.url, &mut lazy)?;
        let token = token(remote.token, &mut lazy, "admin_token", |c| {
            c.server.admin_token.clone()
        })?;
        let answer = send(|client| {
            client
                .get(format!("{base}/api/v1/admin/sources"))
                .bearer_auth(&token)
        })?;
        let sources = answer["sources"]
            .as_array()
            .ok_or("the answer has no `sources` list")?;
        let public = base_url.unwrap_or(base);
        let public = public.trim_end_matches('/');
        let mut out = std::io::stdout();
        if sources.is_empty() {
            let _ = writeln!(out, "no [[sources]] configured");
        }
        for source in sources {
            let _ = writeln!(
                out,
                "{:<16} {:<9} {public}{}",
                source["name"].as_str().unwrap_or(""),
                source["type"].as_str().unwrap_or(""),
                source["path"].as_str().unwrap_or("")
            );
        }
        Ok(())
    }

    fn parse_data(bytes: &[u8]) -> Result<Value, String> {
        let data: Value =
            serde_json::from_slice(bytes).map_err(|e| format!("--data is not JSON: {e}"))?;
        if !data.is_object() {
            return Err("--data must be a JSON object".into());
        }
        Ok(data)
    }

    /// The config, loaded only when a default is needed from it.
    struct LazyConfig {
        path: Option<PathBuf>,
        loaded: Option<LoadedConfig>,
    }

    impl LazyConfig {
        fn new(path: Option<PathBuf>) -> LazyConfig {
            LazyConfig { path, loaded: None }
        }

        fn get(&mut self) -> Result<&LoadedConfig, String> {
            if self.loaded.is_none() {
                // `HERALD_URL` and `HERALD_*_TOKEN` are not config keys; the
                // config's environment layer ignores them (config::load).
                let loaded = config::load(self.path.as_deref()).map_err(|e| e.to_string())?;
                self.loaded = Some(loaded);
            }
            self.loaded
                .as_ref()
                .ok_or_else(|| "the config could not be loaded".into())
        }
    }

    /// `--url`/`HERALD_URL`, else `server.listen` (a wildcard address is
    /// reached on loopback).
    fn base_url(url: Option<String>, lazy: &mut LazyConfig) -> Result<String, String> {
        if let Some(url) = url.filter(|u| !u.trim().is_empty()) {
            return Ok(url.trim().trim_end_matches('/').to_owned());
        }
        let listen = &lazy.get()?.config.server.listen;
        let addr = match listen.parse::<std::net::SocketAddr>() {
            Ok(addr) if addr.ip().is_unspecified() => {
                let loopback: std::net::IpAddr = if addr.is_ipv4() {
                    std::net::Ipv4Addr::LOCALHOST.into()
                } else {
                    std::net::Ipv6Addr::LOCALHOST.into()
                };
                std::net::SocketAddr::new(loopback, addr.port()).to_string()
            }
            _ => listen.clone(),
        };
        Ok(format!("http://{addr}"))
    }

    /// `--token`/its variable, else the config's, else the token file that
    /// `herald serve` generated in the data directory.
    fn token(
        token: Option<String>,
        lazy: &mut LazyConfig,
        file: &str,
        configured: impl Fn(&config::Config) -> Option<String>,
    ) -> Result<String, String> {
        if let Some(token) = token.filter(|t| !t.trim().is_empty()) {
            return Ok(token.trim().to_owned());
        }
        let loaded = lazy.get()?;
        if let Some(token) = configured(&loaded.config).filter(|t| !t.is_empty()) {
            return Ok(token);
        }
        let path = loaded.config.data_dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) if !text.trim().is_empty() => Ok(text.trim().to_owned()),
            _ => Err(format!(
                "no token: pass --token, set HERALD_{}, or run where {} exists",
                file.to_uppercase(),
                path.display()
            )),
        }
    }

    /// Sends one request and returns the JSON answer; any non-2xx answer is
    /// an error quoting it.
    fn send(
        build: impl FnOnce(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Value, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the runtime: {e}"))?;
        runtime.block_on(async move {
            let client = reqwest::Client::builder()
                .user_agent(crate::webhook::USER_AGENT)
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .map_err(|e| e.to_string())?;
            let response = build(&client)
                .send()
                .await
                .map_err(|e| format!("cannot reach Herald: {}", describe(e)))?;
            let status = response.status();
            let text = response.text().await.map_err(describe)?;
            if !status.is_success() {
                let message = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v["message"].as_str().map(str::to_owned))
                    .unwrap_or(text);
                return Err(format!("Herald answered {status}: {message}"));
            }
            serde_json::from_str(&text).map_err(|e| format!("the answer is not JSON: {e}"))
        })
    }

    fn describe(error: reqwest::Error) -> String {
        herald_core::plugin::describe_reqwest_error(error)
    }

    /// The webhooks as an aligned table.
    fn table(webhooks: &[Value]) -> String {
        let text = |v: &Value| match v {
            Value::Null => "-".to_owned(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut rows = vec![[
            "ID", "NAME", "ACTIVE", "ORIGIN", "FAILURES", "LAST", "EVENTS", "URL",
        ]
        .map(String::from)];
        for w in webhooks {
            let events = w["events"]
                .as_array()
                .map(|e| e.iter().map(text).collect::<Vec<_>>().join(","))
                .unwrap_or_else(|| text(&w["events"]));
            let last = match (&w["last_status"], &w["last_status_code"]) {
                (Value::Null, _) => "-".to_owned(),
                (status, Value::Null) => text(status),
                (status, code) => format!("{} ({})", text(status), text(code)),
            };
            rows.push([
                text(&w["id"]),
                text(&w["name"]),
                if w["active"] == Value::Bool(true) {
                    "yes"
                } else {
                    "no"
                }
                .to_owned(),
                text(&w["origin"]),
                format!(
                    "{}/{}",
                    text(&w["consecutive_failures"]),
                    text(&w["total_failures"])
                ),
                last,
                events,
                text(&w["url"]),
            ]);
        }
        let mut widths = [0usize; 8];
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in &rows {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<width$}  "));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if webhooks.is_empty() {
            out.push_str("(no webhooks)\n");
        }
        out
    }
}
