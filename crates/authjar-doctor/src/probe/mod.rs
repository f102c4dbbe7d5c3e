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

pub mod client;
mod jar;
mod tls;

use authjar_policy::{Relation, WebOrigin};
use reqwest::header::HeaderMap;
use reqwest::Method;
use secrecy::ExposeSecret;
use url::Url;

pub use client::{ProbeOptions, Resolution};

use crate::observe::{Exchange, Observations, RecordedRequest, RecordedResponse, Step, TOKEN_KEYS};
use crate::redact;
use crate::target::{CredentialMode, Credentials, Target};
use client::{describe_error, Clients};
use jar::RawJar;

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

/// How a request presents itself, which decides its browser headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `fetch(url, {credentials: 'include'})` from a page.
    Fetch,
    /// A CORS preflight the browser sends before an unsafe JSON fetch.
    Preflight,
    /// A top-level navigation (a link, a redirect).
    Navigate,
}

/// One request to make.
struct Req {
    step: Step,
    app: Option<WebOrigin>,
    method: Method,
    url: String,
    mode: Mode,
    origin: Option<String>,
    cookies: Option<String>,
    csrf: Option<String>,
    /// (sent, recorded).
    body: Option<(String, String)>,
}

impl Req {
    fn new(step: Step, app: &WebOrigin, method: Method, url: String, mode: Mode) -> Req {
        Req {
            step,
            app: Some(app.clone()),
            method,
            url,
            mode,
            origin: None,
            cookies: None,
            csrf: None,
            body: None,
        }
    }

    fn origin(mut self, origin: &str) -> Req {
        self.origin = Some(origin.to_owned());
        self
    }

    fn cookies(mut self, jar: &RawJar) -> Req {
        self.cookies = jar.header();
        self
    }

    fn csrf(mut self, token: Option<&str>) -> Req {
        self.csrf = token.map(str::to_owned);
        self
    }

    fn json(mut self, sent: String, recorded: String) -> Req {
        self.body = Some((sent, recorded));
        self
    }
}

/// What came back, with the secrets still in (never recorded as such).
struct Sent {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Sent {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// A logged-in test session.
struct Session {
    app: WebOrigin,
    jar: RawJar,
    token: Option<String>,
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

    /// For an https API on port 443: the same host over plain http.
    async fn http_twin(&mut self) {
        let api = self.api().clone();
        if api.scheme() != authjar_policy::Scheme::Https || api.port() != 443 {
            return;
        }
        let url = format!("http://{}{}/", api.host(), self.target.api.base_path());
        let req = Req::new(Step::HttpTwin, &api, Method::GET, url, Mode::Navigate);
        self.send(req).await;
    }

    /// Each cross-origin app: an anonymous GET and the preflights of its unsafe calls.
    async fn cors(&mut self) {
        let apps = self.target.apps.clone();
        for (i, app) in apps.iter().enumerate() {
            if app == self.api() {
                continue;
            }
            if i > 0 {
                let url = self.url(&self.target.paths.me);
                let req = Req::new(Step::MeAnonymous, app, Method::GET, url, Mode::Fetch);
                self.send(req.origin(&app.to_string())).await;
            }
            let p = &self.target.paths;
            for path in [p.login.clone(), p.refresh.clone(), p.logout.clone()] {
                let step = Step::Preflight { path: path.clone() };
                let req = Req::new(step, app, Method::OPTIONS, self.url(&path), Mode::Preflight);
                self.send(req.origin(&app.to_string())).await;
            }
        }
    }

    /// Origins that are not apps: a preflight and GETs, none must be echoed.
    async fn foreign(&mut self) {
        let app = self.first_app();
        let login = self.url(&self.target.paths.login);
        let step = Step::ForeignPreflight {
            origin: FOREIGN_ORIGIN.into(),
        };
        let req = Req::new(step, &app, Method::OPTIONS, login, Mode::Preflight);
        self.send(req.origin(FOREIGN_ORIGIN)).await;
        let suffixed = format!(
            "{}://{}.doctor-foreign-origin.example",
            app.scheme().as_str(),
            app.host()
        );
        for origin in [FOREIGN_ORIGIN.to_owned(), "null".to_owned(), suffixed] {
            let step = Step::ForeignOrigin {
                origin: origin.clone(),
            };
            let url = self.url(&self.target.paths.me);
            let req = Req::new(step, &app, Method::GET, url, Mode::Fetch);
            self.send(req.origin(&origin)).await;
        }
    }

    /// A production API must not allow development origins.
    async fn dev_origins(&mut self) {
        let production = self.observations.production();
        if !production {
            return;
        }
        let app = self.first_app();
        for origin in DEV_ORIGINS {
            let step = Step::DevOrigin {
                origin: origin.into(),
            };
            let url = self.url(&self.target.paths.me);
            let req = Req::new(step, &app, Method::GET, url, Mode::Fetch);
            self.send(req.origin(origin)).await;
        }
    }

    /// Log in from each app (or use `--cookie`), exercise the first session, log out.
    async fn sessions(&mut self) {
        let mut sessions = Vec::new();
        match &self.target.credentials {
            None => return,
            Some(Credentials::Cookie(c)) => sessions.push(Session {
                app: self.first_app(),
                jar: RawJar::from_header(c.expose_secret()),
                token: None,
            }),
            Some(Credentials::Login { email, password }) => {
                let (email, password) = (email.clone(), password.expose_secret().to_owned());
                for (i, app) in self.target.apps.clone().iter().enumerate() {
                    let mut jar = RawJar::default();
                    let token = self.csrf_token(Step::CsrfToken, app, &mut jar).await;
                    if i == 0 {
                        self.login_without_token(app, &jar, &email, &password).await;
                    }
                    if let Some(s) = self.login(app, jar, token, &email, &password).await {
                        sessions.push(s);
                    }
                }
            }
        }
        if let Some(first) = sessions.first_mut() {
            self.exercise(first).await;
        }
        for s in &mut sessions {
            self.logout(s).await;
        }
    }

    /// GET the CSRF path for `app` with `jar`; the token from the body or a cookie.
    async fn csrf_token(
        &mut self,
        step: Step,
        app: &WebOrigin,
        jar: &mut RawJar,
    ) -> Option<String> {
        let url = self.url(&self.target.paths.csrf);
        let req = Req::new(step, app, Method::GET, url, Mode::Fetch).cookies(jar);
        let sent = self.send(req).await?;
        jar.absorb(&sent.headers, self.now);
        sent.json()
            .as_ref()
            .and_then(body_token)
            .or_else(|| jar.csrf_token())
    }

    fn login_request(&self, step: Step, app: &WebOrigin, email: &str, password: &str) -> Req {
        let url = self.url(&self.target.paths.login);
        let body = self.target.login_body.render(email, password);
        let recorded = self.target.login_body.redacted(email);
        Req::new(step, app, Method::POST, url, Mode::Fetch).json(body, recorded)
    }

    /// The login a page would send, minus the CSRF header: it must be refused.
    async fn login_without_token(
        &mut self,
        app: &WebOrigin,
        jar: &RawJar,
        email: &str,
        password: &str,
    ) {
        let req = self.login_request(Step::LoginWithoutToken, app, email, password);
        self.send(req.cookies(jar)).await;
    }

    /// The login as the app's page makes it, then whether the session is recognised.
    async fn login(
        &mut self,
        app: &WebOrigin,
        mut jar: RawJar,
        token: Option<String>,
        email: &str,
        password: &str,
    ) -> Option<Session> {
        let req = self.login_request(Step::Login, app, email, password);
        let sent = self.send(req.cookies(&jar).csrf(token.as_deref())).await?;
        if !sent.ok() {
            return None;
        }
        jar.absorb(&sent.headers, self.now);
        let token = sent.json().as_ref().and_then(body_token);
        let url = self.url(&self.target.paths.me);
        let req = Req::new(Step::Me, app, Method::GET, url, Mode::Fetch).cookies(&jar);
        self.send(req).await;
        Some(Session {
            app: app.clone(),
            jar,
            token,
        })
    }

    /// An unsafe JSON call with the session, as the app's page makes it.
    async fn post(
        &mut self,
        step: Step,
        s: &mut Session,
        path: &str,
        origin: Option<&str>,
    ) -> Option<Sent> {
        let url = self.url(path);
        let mut req = Req::new(step, &s.app, Method::POST, url, Mode::Fetch)
            .cookies(&s.jar)
            .json("{}".into(), "{}".into());
        if let Some(o) = origin {
            req = req.origin(o);
        }
        let sent = self.send(req).await?;
        if sent.ok() {
            s.jar.absorb(&sent.headers, self.now);
            if let Some(t) = sent.json().as_ref().and_then(body_token) {
                s.token = Some(t);
            }
        }
        Some(sent)
    }

    async fn ensure_token(&mut self, s: &mut Session) {
        if s.token.is_none() {
            let app = s.app.clone();
            s.token = self
                .csrf_token(Step::SessionCsrfToken, &app, &mut s.jar)
                .await;
        }
    }

    /// Refresh, the CSRF refusals, and GETs that must not change state.
    async fn exercise(&mut self, s: &mut Session) {
        self.ensure_token(s).await;
        let paths = self.target.paths.clone();
        let refresh = self.post_with_token(Step::Refresh, s, &paths.refresh).await;
        let refresh_exists = refresh
            .as_ref()
            .is_some_and(|r| r.status != 404 && r.status != 405);
        if refresh.as_ref().is_some_and(Sent::ok) {
            self.me(Step::MeAfterRefresh, s).await;
        }
        let unsafe_path = if refresh_exists {
            &paths.refresh
        } else {
            &paths.logout
        };
        self.csrf_refusals(s, unsafe_path).await;
        let mut gets = vec![paths.logout.clone(), paths.refresh.clone()];
        for p in &self.target.get_paths {
            if !gets.contains(p) {
                gets.push(p.clone());
            }
        }
        for path in gets {
            self.unsafe_get(s, &path).await;
        }
    }

    async fn post_with_token(&mut self, step: Step, s: &mut Session, path: &str) -> Option<Sent> {
        let url = self.url(path);
        let req = Req::new(step, &s.app, Method::POST, url, Mode::Fetch)
            .cookies(&s.jar)
            .csrf(s.token.as_deref())
            .json("{}".into(), "{}".into());
        let sent = self.send(req).await?;
        if sent.ok() {
            s.jar.absorb(&sent.headers, self.now);
            if let Some(t) = sent.json().as_ref().and_then(body_token) {
                s.token = Some(t);
            }
        }
        Some(sent)
    }

    async fn me(&mut self, step: Step, s: &Session) {
        let url = self.url(&self.target.paths.me);
        let req = Req::new(step, &s.app, Method::GET, url, Mode::Fetch).cookies(&s.jar);
        self.send(req).await;
    }

    /// An unsafe call without the token, then one with it from a foreign origin.
    async fn csrf_refusals(&mut self, s: &mut Session, path: &str) {
        let step = Step::WithoutToken { path: path.into() };
        self.post(step, s, path, None).await;
        self.ensure_token(s).await;
        let step = Step::ForeignOriginWithToken {
            path: path.into(),
            origin: FOREIGN_ORIGIN.into(),
        };
        let url = self.url(path);
        let req = Req::new(step, &s.app, Method::POST, url, Mode::Fetch)
            .cookies(&s.jar)
            .csrf(s.token.as_deref())
            .origin(FOREIGN_ORIGIN)
            .json("{}".into(), "{}".into());
        if let Some(sent) = self.send(req).await {
            if sent.ok() {
                s.jar.absorb(&sent.headers, self.now);
            }
        }
    }

    /// A link to `path` clicked on another site, then whether the session survived.
    async fn unsafe_get(&mut self, s: &mut Session, path: &str) {
        let step = Step::UnsafeGet { path: path.into() };
        let req = Req::new(step, &s.app, Method::GET, self.url(path), Mode::Navigate)
            .cookies(&s.jar)
            .origin(FOREIGN_ORIGIN);
        if let Some(sent) = self.send(req).await {
            s.jar.absorb(&sent.headers, self.now);
        }
        self.me(Step::MeAfterGet { path: path.into() }, s).await;
    }

    async fn logout(&mut self, s: &mut Session) {
        self.ensure_token(s).await;
        let path = self.target.paths.logout.clone();
        self.post_with_token(Step::Logout, s, &path).await;
    }

    /// The provider list and each provider's start redirect.
    async fn providers(&mut self) {
        let app = self.first_app();
        let url = self.url(&self.target.paths.providers);
        let req = Req::new(Step::Providers, &app, Method::GET, url.clone(), Mode::Fetch);
        let Some(sent) = self.send(req).await else {
            return;
        };
        let Some(list) = sent.json().filter(|_| sent.ok()) else {
            return;
        };
        let Ok(base) = Url::parse(&url) else { return };
        let providers = list["providers"].as_array().cloned().unwrap_or_default();
        for p in providers.iter().take(10) {
            let (Some(id), Some(start)) = (p["id"].as_str(), p["start_url"].as_str()) else {
                continue;
            };
            let Ok(start) = base.join(start) else {
                continue;
            };
            let step = Step::OauthStart {
                provider: id.to_owned(),
            };
            let req = Req::new(step, &app, Method::GET, start.to_string(), Mode::Navigate);
            self.send(req.origin(&app.to_string())).await;
        }
    }

    /// The `Sec-Fetch-Site` a browser sends for a request from `from`.
    fn fetch_site(&self, from: Option<&str>) -> &'static str {
        let Some(origin) = from.and_then(|o| WebOrigin::parse(o).ok()) else {
            return "cross-site";
        };
        match Relation::between(&origin, self.api()) {
            Relation::SameOrigin => "same-origin",
            Relation::SameHost | Relation::SameSite => "same-site",
            Relation::CrossSite => "cross-site",
        }
    }

    /// The headers a browser would send for `r`.
    fn headers(&self, r: &Req) -> Vec<(String, String)> {
        let mut h = self.fetch_metadata(r);
        let mut add = |k: &str, v: &str| h.push((k.to_owned(), v.to_owned()));
        if r.mode == Mode::Preflight {
            let mut wanted = ["content-type", self.target.csrf_header.as_str()];
            wanted.sort_unstable();
            add("access-control-request-method", "POST");
            add("access-control-request-headers", &wanted.join(","));
        }
        if let Some(c) = &r.cookies {
            add("cookie", c);
        }
        if let Some(t) = &r.csrf {
            add(&self.target.csrf_header, t);
        }
        if r.body.is_some() {
            add("content-type", "application/json");
        }
        h
    }

    /// `Sec-Fetch-*` and `Origin`, as the browser sets them for the mode.
    fn fetch_metadata(&self, r: &Req) -> Vec<(String, String)> {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        if r.mode == Mode::Navigate {
            return vec![
                pair("sec-fetch-mode", "navigate"),
                pair("sec-fetch-dest", "document"),
                pair(
                    "sec-fetch-site",
                    r.origin
                        .as_deref()
                        .map_or("none", |o| self.fetch_site(Some(o))),
                ),
            ];
        }
        let from = r.origin.clone().or(r.app.as_ref().map(ToString::to_string));
        let mut h = vec![
            pair("sec-fetch-mode", "cors"),
            pair("sec-fetch-dest", "empty"),
            pair("sec-fetch-site", self.fetch_site(from.as_deref())),
        ];
        // Browsers send Origin on cross-origin requests and on every non-GET one.
        let cross_origin = from.as_deref() != Some(self.api().to_string().as_str());
        if let Some(o) = from.filter(|_| cross_origin || r.method != Method::GET) {
            h.push(pair("origin", &o));
        }
        h
    }

    /// Sends `r`, records it, and hands back the live response.
    async fn send(&mut self, r: Req) -> Option<Sent> {
        let headers = self.headers(&r);
        let csrf = self.target.csrf_header.clone();
        let request = RecordedRequest {
            method: r.method.to_string(),
            url: r.url.clone(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), redact::request_header(k, v, &csrf)))
                .collect(),
            body: r.body.as_ref().map(|(_, rec)| rec.clone()),
        };
        let outcome = self.execute(&r, &headers).await;
        let (response, error) = match &outcome {
            Ok(sent) => (Some(record(sent)), None),
            Err(e) => (None, Some(e.clone())),
        };
        self.observations.exchanges.push(Exchange {
            step: r.step,
            app: r.app.as_ref().map(ToString::to_string),
            request,
            response,
            error,
        });
        match outcome {
            Ok(sent) => Some(sent),
            Err(e) => {
                self.last_error = Some(e);
                None
            }
        }
    }

    async fn execute(&mut self, r: &Req, headers: &[(String, String)]) -> Result<Sent, String> {
        let url = Url::parse(&r.url).map_err(|e| e.to_string())?;
        let port = url.port_or_known_default().unwrap_or(443);
        let client = self.clients.for_port(port).map_err(|e| e.to_string())?;
        let mut rb = client.request(r.method.clone(), url);
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if let Some((body, _)) = &r.body {
            rb = rb.body(body.clone());
        }
        let res = rb.send().await.map_err(|e| describe_error(&e))?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap_or_default();
        Ok(Sent {
            status,
            headers,
            body,
        })
    }
}

/// A response as recorded: `Set-Cookie` values masked, bodies redacted.
fn record(sent: &Sent) -> RecordedResponse {
    let headers = sent
        .headers
        .iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            let value = if k == reqwest::header::SET_COOKIE {
                redact::set_cookie_line(&value)
            } else {
                value
            };
            (k.as_str().to_owned(), value)
        })
        .collect();
    RecordedResponse {
        status: sent.status,
        headers,
        body: redact::body(&sent.body),
    }
}
