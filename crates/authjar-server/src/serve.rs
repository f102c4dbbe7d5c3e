//! Running the service: refuse an unsafe production configuration, build
//! the state, print the banner, serve HTTP or HTTPS, and drain in-flight
//! requests on SIGINT/SIGTERM.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use authjar_policy::report::Style;
use authjar_policy::{Environment, Finding, Severity};
use axum::extract::connect_info::IntoMakeServiceWithConnectInfo;
use axum_server::tls_rustls::RustlsConfig;

use crate::app::app_with;
use crate::banner::banner;
use crate::config::Config;
use crate::state::{build_state, Runtime, StartError};

/// Why `authjar serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Production with error-severity findings.
    #[error("refusing to start in production: {}", describe(.0))]
    Refused(Vec<Finding>),
    /// State could not be built.
    #[error(transparent)]
    Start(#[from] StartError),
    /// Binding or TLS setup failed.
    #[error("{0}")]
    Io(String),
}

fn describe(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "\n  ✗ {}: {} ({})\n    fix: {}",
                f.id, f.title, f.detail, f.fix
            )
        })
        .collect()
}

/// Sets up `tracing`: JSON lines in production, readable lines in development.
pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(config.log.as_deref().unwrap_or("info"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.environment == Environment::Production {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when the future is first polled: it is called before the
/// banner says authjar is up, so a signal sent right after that drains
/// in-flight requests instead of killing the process.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (term, int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! { _ = wait(term) => {}, _ = wait(int) => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: draining in-flight requests");
    }
}

/// Serves `/metrics` alone on the private `metrics_listen` socket, in the background.
async fn serve_metrics(addr: SocketAddr, state: authjar_axum::AuthState) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ServeError::Io(format!("cannot listen on {addr} (metrics_listen): {e}")))?;
    let router = authjar_axum::metrics_router(state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

/// Serves until SIGINT or SIGTERM.
pub async fn run(config: Config, rt: Runtime) -> Result<(), ServeError> {
    run_with(config, rt, axum::Router::new()).await
}

/// Serves authjar together with an application's own routes (see [`crate::app::app_with`]).
pub async fn run_with(config: Config, rt: Runtime, extra: axum::Router) -> Result<(), ServeError> {
    let findings = config.findings(rt.clock.now());
    refuse_in_production(&config, &findings)?;
    let (state, notes) = build_state(&config, rt).await?;
    if let Some(addr) = config.metrics_listen {
        serve_metrics(addr, state.clone()).await?;
    }
    let make = app_with(state, extra).into_make_service_with_connect_info::<SocketAddr>();
    let style = terminal_style();
    let (listener, bound) = bind(&config).await?;
    let shutdown = shutdown_signal();
    let Some(tls) = &config.tls else {
        println!("{}", banner(&bound, "http", &findings, &notes, style));
        return serve_plain(listener, make, shutdown).await;
    };
    let tls_config = load_tls(&tls.cert, &tls.key).await?;
    println!("{}", banner(&bound, "https", &findings, &notes, style));
    serve_tls(listener, make, tls_config, shutdown).await
}

/// What `app_with` serves, with each connection's peer address.
type MakeService = IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr>;

/// In production, error-severity findings stop the start.
fn refuse_in_production(config: &Config, findings: &[Finding]) -> Result<(), ServeError> {
    let errors: Vec<Finding> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .cloned()
        .collect();
    if config.environment == Environment::Production && !errors.is_empty() {
        return Err(ServeError::Refused(errors));
    }
    Ok(())
}

/// Colours on a terminal, unless `NO_COLOR` is set.
fn terminal_style() -> Style {
    Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Listens on `listen`; the configuration as bound (port 0 resolved), for the banner.
async fn bind(config: &Config) -> Result<(tokio::net::TcpListener, Config), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Io(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Io(e.to_string()))?;
    let bound = Config {
        listen: addr,
        ..config.clone()
    };
    Ok((listener, bound))
}

/// Plain HTTP until SIGINT or SIGTERM.
async fn serve_plain(
    listener: tokio::net::TcpListener,
    make: MakeService,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    axum::serve(listener, make)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| ServeError::Io(e.to_string()))
}

/// The certificate chain and key, with ring as rustls' provider.
async fn load_tls(cert: &Path, key: &Path) -> Result<RustlsConfig, ServeError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        ServeError::Io(format!(
            "tls_cert {} / tls_key {}: {e}",
            cert.display(),
            key.display()
        ))
    })
}

/// HTTPS until SIGINT or SIGTERM, then up to 30 seconds to drain.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    make: MakeService,
    tls_config: RustlsConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        h.graceful_shutdown(Some(Duration::from_secs(30)));
    });
    let std_listener = listener
        .into_std()
        .map_err(|e| ServeError::Io(e.to_string()))?;
    axum_server::from_tcp_rustls(std_listener, tls_config)
        .handle(handle)
        .serve(make)
        .await
        .map_err(|e| ServeError::Io(e.to_string()))
}
