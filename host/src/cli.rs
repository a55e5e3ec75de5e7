//! The `herald` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Print each configured source's ingest URL, to paste into the media
    /// server's webhook settings.
    Sources {
        /// Config file (TOML or YAML); default `config/herald.toml` if present.
        #[arg(long, short, env = "HERALD_CONFIG")]
        config: Option<PathBuf>,
        /// How the media server reaches Herald, e.g. `http://192.168.1.10:8787`
        /// (default: `http://` and `server.listen`).
        #[arg(long)]
        base_url: Option<String>,
    },
}

/// Parses the arguments and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn execute(cli: Cli) -> crate::Result<()> {
    let mut out = std::io::stdout();
    match cli.command {
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
        Command::Sources { config, base_url } => {
            let loaded = config::load(config.as_deref())?;
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
    }
}
