//! The probe: the only part of the doctor that does IO. It talks to the
//! deployment the way each app's page would (credentialed fetches with the
//! app's `Origin`, preflights, top-level navigations), plus a few requests
//! no page of the app would make (a foreign origin, no CSRF token, a GET to
//! an unsafe endpoint), and records every request and response as
//! [`Observations`]. It decides nothing: the checks do.
//!
//! It never calls destructive endpoints beyond the test session's own
//! refresh and logout, and GETs only the paths the user names with
//! `--get-path` besides logout and refresh.
//!
//! The steps, by concern: the CORS and foreign-origin probes (`cors.rs`),
//! the login, refresh and logout flow (`session.rs`), the CSRF refusals and
//! unsafe GETs (`csrf.rs`), the OAuth providers (`oauth.rs`); how one
//! request is sent as a browser would and recorded is `request.rs`.

pub mod client;
mod cors;
mod csrf;
mod jar;
mod oauth;
mod request;
mod session;
mod tls;

use authjar_policy::WebOrigin;
use reqwest::Method;

pub use client::{ProbeOptions, Resolution};

use crate::observe::{Observations, Step, TOKEN_KEYS};
use crate::target::{CredentialMode, Credentials, Target};
use client::Clients;
use request::{Mode, Req};

/// An origin that is never an app: the API must not echo it.
pub const FOREIGN_ORIGIN: &str = "https://doctor-foreign-origin.example";

/// Development origins a production API must not allow.
pub const DEV_ORIGINS: [&str; 3] = [
    "http://localhost:3000",
    "http://127.0.0.1:3000",
    "http://localhost:5173",
];

/// Why the probe could not run (the CLI exits 2).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Nothing answers at the API's address.
    #[error("{url} cannot be reached: {reason}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// The failure.
        reason: String,
    },
    /// `--ca-file` holds no usable certificate.
    #[error("--ca-file: {0}")]
    CaFile(String),
    /// A `--resolve` entry is malformed.
    #[error("--resolve {0}: expected HOST:PORT:ADDR, e.g. api.example.com:443:127.0.0.1:8443")]
    Resolve(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
}

struct Probe<'a> {
    target: &'a Target,
    options: &'a ProbeOptions,
    clients: Clients,
    now: i64,
    observations: Observations,
    last_error: Option<String>,
}

/// Runs the whole probe against `target`.
pub async fn probe(target: &Target, options: &ProbeOptions) -> Result<Observations, ProbeError> {
    // reqwest and the TLS inspection name their provider; this covers any other rustls user.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut p = Probe::new(target, options)?;
    p.tls().await?;
    if !p.reachable().await? {
        return Ok(p.observations);
    }
    p.http_twin().await;
    p.cors().await;
    p.foreign().await;
    p.dev_origins().await;
    p.sessions().await;
    p.providers().await;
    Ok(p.observations)
}

/// The doctor's one clock. The doctor may not depend on `authjar-core` (see
/// ARCHITECTURE.md), so it cannot use `SystemClock`; this is the only place
/// it reads the wall time, and the checks take `now` as a parameter.
#[allow(clippy::disallowed_methods)]
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A CSRF token in a JSON body, under the names frameworks use.
fn body_token(body: &serde_json::Value) -> Option<String> {
    TOKEN_KEYS
        .iter()
        .find_map(|k| body.get(k)?.as_str().map(str::to_owned))
}

impl<'a> Probe<'a> {
    fn new(target: &'a Target, options: &'a ProbeOptions) -> Result<Probe<'a>, ProbeError> {
        let now = unix_now();
        let observations = Observations {
            api: target.api.to_string(),
            apps: target.apps.iter().map(ToString::to_string).collect(),
            paths: target.paths.clone(),
            csrf_header: target.csrf_header.clone(),
            credentials: target
                .credentials
                .as_ref()
                .map_or(CredentialMode::None, Credentials::mode),
            observed_at: now,
            tls: None,
            exchanges: Vec::new(),
        };
        Ok(Probe {
            target,
            options,
            clients: Clients::new(options)?,
            now,
            observations,
            last_error: None,
        })
    }

    fn api(&self) -> &WebOrigin {
        self.target.api.origin()
    }

    fn first_app(&self) -> WebOrigin {
        self.target
            .apps
            .first()
            .cloned()
            .unwrap_or_else(|| self.api().clone())
    }

    fn url(&self, path: &str) -> String {
        self.target.url(path)
    }

    /// For an https API: a handshake of our own, to read the certificate.
    async fn tls(&mut self) -> Result<(), ProbeError> {
        if self.api().scheme() != authjar_policy::Scheme::Https {
            return Ok(());
        }
        let roots = tls::root_store(self.options.extra_roots_pem.as_deref())?;
        let host = self.api().host().to_string();
        let obs = tls::inspect(&host, self.api().port(), roots, self.options).await;
        self.observations.tls = Some(obs);
        Ok(())
    }

    /// The first request. `Ok(false)`: the API answers TLS with a
    /// certificate a browser refuses, so nothing more can be probed.
    async fn reachable(&mut self) -> Result<bool, ProbeError> {
        let app = self.first_app();
        let url = self.url(&self.target.paths.me);
        let req = Req::new(
            Step::MeAnonymous,
            &app,
            Method::GET,
            url.clone(),
            Mode::Fetch,
        );
        if self.send(req).await.is_some() {
            return Ok(true);
        }
        let tls_refused = self
            .observations
            .tls
            .as_ref()
            .is_some_and(|t| t.handshake_error.is_none() && t.verification_error.is_some());
        if tls_refused {
            return Ok(false);
        }
        Err(ProbeError::Unreachable {
            url,
            reason: self.last_error.clone().unwrap_or_default(),
        })
    }
}
