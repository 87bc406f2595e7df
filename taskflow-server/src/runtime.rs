//! What both example servers share: configuration, logging (and error tracking with the
//! `sentry` feature), the store, binding, shutdown signals and exit codes; an example only
//! names its adapter's service.
//!
//! On SIGINT or SIGTERM the server stops accepting, drains the requests in flight (at most
//! `TASKFLOW_DRAIN_TIMEOUT_SECS`), closes the storage connections and exits 0.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

use taskflow_http::{App, Stores};

use crate::config::{Config, Profile};
use crate::serve::{ApiBody, ApiService};

/// Logs with tracing to stdout: human-readable in development (coloured only on a terminal:
/// a file or a log collector gets no escape codes), JSON lines in production; the level from
/// `RUST_LOG` (default `info`).
///
/// Lines are written by a thread of their own ([`crate::log_writer`]), in batches: one
/// `write` for the lines of about 20 ms, so that a request does not wait on standard output,
/// and only the first line of a batch wakes that thread. None is dropped: past 8 MiB waiting,
/// a request waits for room as it would for a direct write. Keep the returned guard until the
/// process ends: dropping it writes out what is still waiting (giving up after 5 s on an
/// output that takes nothing); lines after that are written directly.
#[must_use = "dropping the guard stops the log writer: keep it until the process ends"]
pub fn init_tracing(profile: Profile) -> LogGuard {
    use std::io::IsTerminal as _;
    let ansi = std::io::stdout().is_terminal();
    let (writer, guard) = crate::log_writer::batched(std::io::stdout(), "taskflow-log");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    // A second initialisation (tests embedding the server) keeps the first subscriber.
    let _ = match profile {
        Profile::Production => builder.json().try_init(),
        Profile::Development => builder.try_init(),
    };
    LogGuard(guard)
}

/// Keeps the log writer of [`init_tracing`] running; dropping it writes out the queued lines.
#[derive(Debug)]
pub struct LogGuard(
    #[allow(dead_code, reason = "held for its Drop")] crate::log_writer::BatchGuard,
);

/// The application for `config`: the embedded in-memory store unless a MongoDB URI is set.
///
/// # Errors
/// A message for the operator when the store or the keys cannot be set up.
pub async fn build_app(config: &Config) -> Result<App, String> {
    let stores = stores(config).await?;
    config.app(stores).map_err(|e| e.to_string())
}

#[cfg_attr(not(feature = "mongo"), allow(clippy::unused_async))]
async fn stores(config: &Config) -> Result<Stores, String> {
    match &config.mongodb_uri {
        None => Ok(Stores::memory()),
        #[cfg(feature = "mongo")]
        Some(uri) => {
            use secrecy::ExposeSecret as _;
            let mongo = taskflow_mongo::MongoConfig::new(uri.expose_secret())
                .with_database(config.mongodb_db.clone());
            let store = taskflow_mongo::MongoStore::connect(mongo)
                .await
                .map_err(|e| format!("MongoDB: {e}"))?;
            Ok(Stores::single(store))
        }
        #[cfg(not(feature = "mongo"))]
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

/// The future that tells a server to shut down.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Runs an example server: reads the configuration (exit code 2 with one line on error), sets
/// up logging, then serves the adapter's `service` over the app with [`run_until`] until
/// SIGINT or SIGTERM arrives.
pub async fn run<F, S, B>(adapter: &str, service: F) -> ExitCode
where
    F: FnOnce(App) -> S,
    S: ApiService<B>,
    B: ApiBody,
{
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("taskflow: {e}");
            return ExitCode::from(2);
        }
    };
    let _logs = init_tracing(config.profile);
    // Held until the server stops: dropping it flushes the events still queued.
    #[cfg(feature = "sentry")]
    let _error_tracking =
        crate::error_tracking::init(config.sentry_dsn.as_ref(), config.profile.as_str());
    run_until(adapter, &config, service, shutdown_signal()).await
}

/// Sets up the store for `config` (exit code 2 when it cannot be), binds (exit code 1), logs
/// where it listens, then serves the adapter's `service` on the connection server
/// ([`serve`](crate::serve())) with [`serve_then_close`] until `shutdown` resolves.
pub async fn run_until<F, S, B>(
    adapter: &str,
    config: &Config,
    service: F,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> ExitCode
where
    F: FnOnce(App) -> S,
    S: ApiService<B>,
    B: ApiBody,
{
    let app = match build_app(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("taskflow: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(config.bind).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("taskflow: cannot listen on {}: {e}", config.bind);
            return ExitCode::from(1);
        }
    };
    let address = listener.local_addr().unwrap_or(config.bind);
    let scheme = if config.transport.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(%address, profile = ?config.profile, "TaskFlow ({adapter}) listening on {scheme}://{address}");
    let serve = |app: App, listener, shutdown| async move {
        let service = service(app.clone());
        crate::serve(app, listener, service, shutdown).await;
        Ok::<(), Infallible>(())
    };
    serve_then_close(app, listener, serve, shutdown).await
}

/// Serves `app` with `serve` until `shutdown` resolves and the requests in flight are
/// drained, then closes the storage: exit code 0, or 1 when serving failed.
pub async fn serve_then_close<F, Fut, E>(
    app: App,
    listener: tokio::net::TcpListener,
    serve: F,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> ExitCode
where
    F: FnOnce(App, tokio::net::TcpListener, Shutdown) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let result = serve(app.clone(), listener, Box::pin(shutdown)).await;
    // After the drain: no request can use the storage any more.
    app.close().await;
    match result {
        Ok(()) => {
            tracing::info!("drained and storage closed; exiting");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("taskflow: server error: {e}");
            ExitCode::from(1)
        }
    }
}
