//! Wiring: from a loaded config to a running server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use herald_core::Registry;
use tokio::net::TcpListener;

use crate::config::LoadedConfig;
use crate::dispatch::{DispatchSettings, Dispatcher, HttpClients, PluginInstance};
use crate::error::{Error, Result};
use crate::server::{self, AppState};
use crate::store::{SqliteStore, Store};
use crate::tokens::{self, TokenOrigin};
use crate::webhooks;

/// A token generated on this start, to show the operator once.
#[derive(Debug, Clone)]
pub struct GeneratedToken {
    /// `admin` or `ingest`.
    pub name: &'static str,
    /// The token.
    pub token: String,
}

/// Collects the linked plugin kinds; fails on a duplicate kind.
pub fn registry() -> Result<Registry> {
    Ok(Registry::from_inventory()?)
}

/// Builds every configured plugin instance (disabled ones too, so their
/// settings are checked); errors name the instance and key.
pub fn build_plugins(loaded: &LoadedConfig, registry: &Registry) -> Result<Vec<PluginInstance>> {
    let mut instances = Vec::new();
    let templates_dir = loaded.templates_dir();
    for (i, config) in loaded.config.plugins.iter().enumerate() {
        let mut config = config.clone();
        config.templates_dir = templates_dir.clone();
        let plugin = registry.build(&config).map_err(|e| Error::Config {
            key: format!("plugins[{i}]"),
            file: loaded.file.clone(),
            message: e.to_string(),
        })?;
        instances.push(PluginInstance { config, plugin });
    }
    Ok(instances)
}

/// Runs Herald until SIGINT/SIGTERM. `on_tokens` is called once with the
/// tokens generated on this start.
pub async fn serve(
    loaded: LoadedConfig,
    listen_override: Option<String>,
    on_tokens: impl FnOnce(&[GeneratedToken]),
) -> Result<()> {
    let config = &loaded.config;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        Error::io(
            format!("creating the data directory {}", config.data_dir.display()),
            e,
        )
    })?;
    let (admin_token, admin_origin) = tokens::resolve(
        config.server.admin_token.as_deref(),
        &config.data_dir,
        "admin_token",
    )?;
    let (ingest_token, ingest_origin) = tokens::resolve(
        config.server.ingest_token.as_deref(),
        &config.data_dir,
        "ingest_token",
    )?;
    let mut generated = Vec::new();
    if admin_origin == TokenOrigin::Generated {
        generated.push(GeneratedToken {
            name: "admin",
            token: admin_token.clone(),
        });
    }
    if ingest_origin == TokenOrigin::Generated {
        generated.push(GeneratedToken {
            name: "ingest",
            token: ingest_token.clone(),
        });
    }
    on_tokens(&generated);

    let registry = Arc::new(registry()?);
    tracing::info!(kinds = ?registry.kinds(), "plugin kinds registered");
    let plugins = build_plugins(&loaded, &registry)?;

    // Before the store: a bad CA bundle or proxy leaves nothing behind.
    let http = HttpClients::from_config(&config.webhooks)?;
    let db_path = config.data_dir.join("herald.db");
    let sqlite = Arc::new(SqliteStore::open(&db_path, config.store.durability)?);
    let store: Arc<dyn Store> = sqlite.clone();
    let settings = DispatchSettings::from_config(&config.webhooks)?;
    let declared = webhooks::from_config(&config.webhooks.endpoints, settings.policy).await?;
    store.sync_config_webhooks(declared).await?;
    let timeout = settings.timeout;
    let clock = Arc::new(crate::clock::Clock::from_env().map_err(|e| Error::config("", e))?);
    if clock.is_controllable() {
        tracing::warn!(now = %clock.now(), "test clock enabled: rule times can be moved with POST /api/v1/admin/test/clock");
    }
    let dispatcher = Dispatcher::new(store, http, settings, plugins, clock).await?;
    let poller = tokio::spawn(dispatcher.clone().run_poller());
    let releaser = tokio::spawn(dispatcher.clone().run_releaser());

    let listen = listen_override.unwrap_or_else(|| config.server.listen.clone());
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|e| Error::io(format!("binding {listen}"), e))?;
    let addr: SocketAddr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the bound address", e))?;
    tracing::info!("listening on {addr}");

    let state = AppState {
        dispatcher: dispatcher.clone(),
        admin_token: admin_token.into(),
        ingest_token: ingest_token.into(),
        metrics_token: config.server.metrics_token.as_deref().map(Into::into),
        registry,
        sources: Arc::new(crate::sources::Sources::new(&config.sources)),
        stats: sqlite,
        sessions: Default::default(),
    };
    let app = server::router(state, config.server.max_body_bytes);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| Error::io("serving HTTP", e))?;
    tracing::info!("shutting down: finishing in-flight deliveries");
    dispatcher.shutdown(timeout + Duration::from_secs(5)).await;
    poller.abort();
    releaser.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
