//! The cat-therapist hub: the source post's marketplace, as a demo of
//! authjar used as a library. One process serves authjar's `/auth` API and
//! the bookings API (`/api`, behind `AuthUser` and the CSRF guard) on
//! `listen`, configured exactly like `authjar serve` (AUTHJAR_* variables,
//! authjar.toml), and — with `--app-listen` — the app's pages on a second
//! address (HTTPS too when `tls_cert`/`tls_key` are set).

mod bookings;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use authjar_policy::{AppOriginEntry, WebOrigin};
use authjar_server::config::{Config, LoadOptions};
use authjar_server::serve::{init_logging, run_with};
use authjar_server::Runtime;
use axum::routing::get;
use axum::{Json, Router};
use clap::Parser;
use tower_http::services::ServeDir;

/// The demo's command line.
#[derive(Parser)]
#[command(name = "cat-therapist-hub", about = "authjar's demo marketplace")]
struct Args {
    /// Also serve the app's pages on this address (the app origin).
    #[arg(long, value_name = "ADDR")]
    app_listen: Option<SocketAddr>,
    /// The pages' directory.
    #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/web"))]
    web: PathBuf,
    /// A TOML configuration file, as for `authjar serve`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// The app's pages, plus `/config.json` telling them where the API is.
fn pages(web: PathBuf, api: String) -> Router {
    Router::new()
        .route(
            "/config.json",
            get(move || async move { Json(serde_json::json!({ "api": api })) }),
        )
        .fallback_service(ServeDir::new(web))
}

async fn serve_pages(addr: SocketAddr, router: Router, config: &Config) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("app pages on {addr}: {e}"))?;
    let Some(tls) = &config.tls else {
        tokio::spawn(async move { axum::serve(listener, router).await });
        return Ok(());
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
        .await
        .map_err(|e| e.to_string())?;
    let std_listener = listener.into_std().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        axum_server::from_tcp_rustls(std_listener, tls)
            .serve(router.into_make_service())
            .await
    });
    Ok(())
}

/// The line that tells where to open the app: the allowed app origin this
/// address serves (`http://localhost:3000` for `127.0.0.1:3000`: the
/// browser treats `localhost` and `127.0.0.1` as different sites, and only
/// the allowed one can log in), else the address itself with a warning.
fn pages_line(scheme: &str, addr: SocketAddr, app_origins: &[AppOriginEntry]) -> String {
    let exact: Vec<&WebOrigin> = app_origins
        .iter()
        .filter_map(|e| match e {
            AppOriginEntry::Exact(o) => Some(o),
            AppOriginEntry::Wildcard(_) => None,
        })
        .collect();
    let served = exact.iter().find(|o| {
        o.scheme().as_str() == scheme
            && o.port() == addr.port()
            && o.is_loopback()
            && (addr.ip().is_loopback() || addr.ip().is_unspecified())
    });
    if let Some(o) = served {
        return format!("app pages on {o}");
    }
    let listed: Vec<String> = exact.iter().map(ToString::to_string).collect();
    format!(
        "app pages on {scheme}://{addr} (listening address; the allowed app origins are [{}]: open the one that points here)",
        listed.join(", ")
    )
}

async fn run(args: Args, config: Config) -> Result<(), String> {
    if let Some(addr) = args.app_listen {
        let api = config.public_url.to_string();
        serve_pages(addr, pages(args.web, api), &config).await?;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        println!("{}", pages_line(scheme, addr, &config.app_origins));
    }
    run_with(config, Runtime::production(), bookings::router())
        .await
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load(&LoadOptions::from_process(args.config.clone())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cat-therapist-hub: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let Ok(rt) = tokio::runtime::Runtime::new() else {
        eprintln!("cat-therapist-hub: cannot start the async runtime");
        return ExitCode::from(1);
    };
    match rt.block_on(run(args, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cat-therapist-hub: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(list: &[&str]) -> Vec<AppOriginEntry> {
        list.iter()
            .map(|o| AppOriginEntry::parse(o).unwrap())
            .collect()
    }

    #[test]
    fn the_printed_address_is_the_allowed_origin_not_the_socket() {
        let addr: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(
            pages_line("http", addr, &origins(&["http://localhost:3000"])),
            "app pages on http://localhost:3000"
        );
        let line = pages_line(
            "https",
            "127.0.0.1:9443".parse().unwrap(),
            &origins(&["https://app.hub.test"]),
        );
        assert!(
            line.contains("https://127.0.0.1:9443") && line.contains("[https://app.hub.test]"),
            "{line}"
        );
    }
}
