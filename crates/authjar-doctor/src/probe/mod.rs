//! The probe: the only part of the doctor that does IO. It talks to the
//! deployment the way each app's page would (credentialed fetches with the
//! app's `Origin`, preflights, top-level navigations), plus a few requests
//! no page of the app would make (a foreign origin, no CSRF token, a GET to
//! an unsafe endpoint), and records every request and response as
//! [`Observations`]. It decides nothing: the checks do.
//!
//! It calls no endpoint the options do not name (or, for an API described
//! by no path option, authjar's own), touches only the test session, and
//! logs in again when one of its CSRF probes ended that session.
//!
//! The steps, by concern: the CORS and foreign-origin probes (`cors.rs`),
//! the login, refresh and logout flow (`session.rs`), the CSRF probes of
//! every unsafe endpoint and the unsafe GETs (`csrf.rs`), where the CSRF
//! token is found (`token.rs`), the OAuth providers (`oauth.rs`); how one
//! request is sent as a browser would and recorded is `request.rs`. Every
//! secret seen on the way is scrubbed from the observations at the end.

pub mod client;
mod cors;
mod csrf;
mod jar;
mod oauth;
mod request;
mod session;
mod tls;
mod token;

use authjar_policy::WebOrigin;
use reqwest::Method;

pub use client::{ProbeOptions, Resolution};

use crate::observe::{Observations, Step};
use crate::redact::Secrets;
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
    /// Credentials would travel in clear to a host that is not this machine.
    #[error("{api} is plain http on a host that is not loopback: the password or session cookie would travel in clear. Audit the https URL, or pass --insecure-http if this network is yours")]
    PlainHttpCredentials {
        /// The API URL.
        api: String,
    },
}

struct Probe<'a> {
    target: &'a Target,
    options: &'a ProbeOptions,
    clients: Clients,
    now: i64,
    observations: Observations,
    last_error: Option<String>,
    /// Every secret seen, scrubbed from the observations at the end.
    secrets: Secrets,
    /// `https://evil.<registrable domain>`: a sibling subdomain of the API.
    sibling: Option<String>,
}

/// Runs the whole probe against `target`.
pub async fn probe(target: &Target, options: &ProbeOptions) -> Result<Observations, ProbeError> {
    // reqwest and the TLS inspection name their provider; this covers any other rustls user.
    let _ = rustls::crypto::ring::default_provider().install_default();
    refuse_plain_http_credentials(target, options)?;
    let mut p = Probe::new(target, options)?;
    p.tls().await?;
    let reachable = p.reachable().await;
    if reachable.as_ref().is_ok_and(|r| *r) {
        p.http_twin().await;
        p.cors().await;
        p.foreign().await;
        p.dev_origins().await;
        p.sessions().await;
        p.providers().await;
    }
    let secrets = p.secrets.clone();
    reachable.map_err(|e| match e {
        ProbeError::Unreachable { url, reason } => ProbeError::Unreachable {
            url,
            reason: secrets.scrub(&reason),
        },
        e => e,
    })?;
    p.scrub();
    Ok(p.observations)
}

/// Credentials go over plain http only to loopback (the host itself, or a
/// `--resolve` mapping to a loopback address), or with `--insecure-http`.
fn refuse_plain_http_credentials(
    target: &Target,
    options: &ProbeOptions,
) -> Result<(), ProbeError> {
    let api = target.api.origin();
    if target.credentials.is_none()
        || api.scheme() != authjar_policy::Scheme::Http
        || api.is_loopback()
        || options.insecure_http
    {
        return Ok(());
    }
    let host = api.host().to_string();
    if options
        .mapped(&host, api.port())
        .is_some_and(|a| a.ip().is_loopback())
    {
        return Ok(());
    }
    Err(ProbeError::PlainHttpCredentials {
        api: target.api.to_string(),
    })
}

/// `https://evil.<registrable domain>` of the API: a page there is same-site
/// with the API (its `SameSite=Lax` cookies go along) and can plant cookies
/// for the whole domain. `None` on loopback or an address.
fn sibling_of(target: &Target) -> Option<String> {
    let api = target.api.origin();
    if api.is_loopback() {
        return None;
    }
    let domain = authjar_policy::site::registrable_domain(api.host())?;
    Some(format!("{}://evil.{domain}", api.scheme().as_str()))
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
        let mut secrets = Secrets::default();
        match &target.credentials {
            Some(Credentials::Login { password, .. }) => {
                secrets.password(secrecy::ExposeSecret::expose_secret(password));
            }
            Some(Credentials::Cookie(c)) => {
                secrets.add_cookie_header(secrecy::ExposeSecret::expose_secret(c));
            }
            None => {}
        }
        Ok(Probe {
            target,
            options,
            clients: Clients::new(options)?,
            now,
            observations,
            last_error: None,
            secrets,
            sibling: sibling_of(target),
        })
    }

    /// Removes every secret seen from every string recorded.
    fn scrub(&mut self) {
        let s = &self.secrets;
        for e in &mut self.observations.exchanges {
            s.scrub_in_place(&mut e.request.url);
            for (_, v) in &mut e.request.headers {
                s.scrub_in_place(v);
            }
            if let Some(b) = &mut e.request.body {
                s.scrub_in_place(b);
            }
            if let Some(r) = &mut e.response {
                for (_, v) in &mut r.headers {
                    s.scrub_in_place(v);
                }
                if let Some(b) = &mut r.body {
                    s.scrub_in_place(b);
                }
            }
            if let Some(err) = &mut e.error {
                s.scrub_in_place(err);
            }
        }
        if let Some(t) = &mut self.observations.tls {
            for v in [&mut t.handshake_error, &mut t.verification_error]
                .into_iter()
                .flatten()
            {
                s.scrub_in_place(v);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::TargetInput;

    fn target(api: &str) -> Target {
        Target::parse(TargetInput {
            api: api.into(),
            credentials: Some(Credentials::Login {
                email: "a@b.c".into(),
                password: "pw".to_owned().into(),
            }),
            ..TargetInput::default()
        })
        .unwrap()
    }

    #[test]
    fn credentials_go_over_plain_http_only_to_loopback_or_when_told() {
        let refuse = |api: &str, o: &ProbeOptions| refuse_plain_http_credentials(&target(api), o);
        let mut o = ProbeOptions::default();
        assert!(matches!(
            refuse("http://api.example.com", &o),
            Err(ProbeError::PlainHttpCredentials { .. })
        ));
        assert!(refuse("https://api.example.com", &o).is_ok());
        assert!(refuse("http://localhost:8000", &o).is_ok());
        assert!(refuse("http://127.0.0.1:8000", &o).is_ok());
        o.resolve = vec![Resolution::parse("api.example.com:80:127.0.0.1:9").unwrap()];
        assert!(refuse("http://api.example.com", &o).is_ok());
        o.resolve = vec![Resolution::parse("api.example.com:80:192.0.2.1:80").unwrap()];
        assert!(refuse("http://api.example.com", &o).is_err());
        o.insecure_http = true;
        assert!(refuse("http://api.example.com", &o).is_ok());
    }
}
