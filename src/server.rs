//! What both example servers share: configuration, logging, the store, shutdown signals.

use taskflow_http::config::{Config, Profile};
use taskflow_http::{App, Stores};

/// Logs with tracing: human-readable in development, JSON lines in production; the level
/// from `RUST_LOG` (default `info`).
pub fn init_tracing(profile: Profile) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // A second initialisation (tests embedding the server) keeps the first subscriber.
    let _ = match profile {
        Profile::Production => builder.json().try_init(),
        Profile::Development => builder.try_init(),
    };
}

/// The application for `config`: the embedded in-memory store unless a MongoDB URI is set.
///
/// # Errors
/// A message for the operator when the store or the keys cannot be set up.
pub async fn build_app(config: &Config) -> Result<App, String> {
    let stores = stores(config).await?;
    App::from_config(config, stores).map_err(|e| e.to_string())
}

#[allow(clippy::unused_async)] // awaits the MongoDB connection when that store is compiled in
async fn stores(config: &Config) -> Result<Stores, String> {
    match &config.mongodb_uri {
        None => Ok(Stores::memory()),
        Some(_) => Err("TASKFLOW_MONGODB_URI is set but this build has no MongoDB support".into()),
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
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
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining");
}
