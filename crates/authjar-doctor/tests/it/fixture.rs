//! A small cookie-auth API whose every setting can be wrong on purpose:
//! CORS mode, allowed headers, CSRF enforcement, cookie templates, where
//! the CSRF token travels, OAuth redirect URIs, HSTS, the plain-http twin.
//! `Spec::sibling()` and friends are correct deployments; each test bends
//! one setting and expects exactly one finding. Served on 127.0.0.1:0 under
//! fake names that the doctor reaches through `--resolve` mappings.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use authjar_doctor::{
    check, probe, Credentials, Diagnosis, Observations, ProbeOptions, Resolution, Target,
    TargetInput,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;

use crate::certs::{leaf, Validity};

pub const EMAIL: &str = "tabby@cat-therapist-hub.test";
pub const PASSWORD: &str = "correct horse battery staple";

/// How the fixture answers CORS.
#[derive(Clone, Debug)]
pub enum Cors {
    /// Echo an allowed origin (the right way).
    Echo,
    /// `Access-Control-Allow-Origin: *`.
    Star,
    /// One configured value for everyone.
    Static(String),
    /// Echo any origin at all.
    Reflect,
}

/// What a plain-http request to the API's host gets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HttpTwin {
    /// 301 to https.
    Redirect,
    /// The API itself, over http.
    Serve,
}

#[derive(Clone, Debug)]
pub struct Paths {
    pub login: String,
    pub me: String,
    pub csrf: String,
    pub refresh: String,
    pub logout: String,
    pub providers: String,
}

impl Paths {
    pub fn authjar() -> Paths {
        Paths {
            login: "/auth/login".into(),
            me: "/auth/me".into(),
            csrf: "/auth/csrf".into(),
            refresh: "/auth/refresh".into(),
            logout: "/auth/logout".into(),
            providers: "/auth/providers".into(),
        }
    }
}

/// Everything about the fixture deployment.
#[derive(Clone, Debug)]
pub struct Spec {
    /// `https://api.hub.test` (fake name), or `http://localhost` (a port is added).
    pub api: String,
    /// The app origins: allowed by CORS and the origin check, and passed to the doctor.
    pub apps: Vec<String>,
    pub cors: Cors,
    pub vary: bool,
    pub allow_headers: String,
    /// Check the CSRF token on unsafe requests.
    pub check_token: bool,
    /// Check the Origin on unsafe requests.
    pub check_origin: bool,
    /// `Set-Cookie` templates; `{v}` is the value.
    pub session_cookie: String,
    pub pre_session_cookie: String,
    /// A readable cookie carrying the CSRF token.
    pub csrf_cookie: Option<String>,
    /// The token in JSON bodies too.
    pub token_in_body: bool,
    pub csrf_header: String,
    /// The login body's field names.
    pub login_fields: (String, String),
    pub paths: Paths,
    /// OAuth providers: (id, redirect_uri); `{api}` is the API's origin.
    pub providers: Vec<(String, String)>,
    pub oauth_cookie: Option<String>,
    pub hsts: bool,
    pub http_twin: HttpTwin,
    /// GET on the logout path logs out (the classic mistake).
    pub get_logout: bool,
    /// A removal cookie that does not match the session cookie.
    pub logout_removal: Option<String>,
    /// Bytes added to session ids (a too-large cookie).
    pub session_padding: usize,
    pub validity: Validity,
}

impl Spec {
    /// Sibling subdomains over https, done right.
    pub fn sibling() -> Spec {
        Spec {
            api: "https://api.hub.test".into(),
            apps: vec!["https://app.hub.test".into()],
            cors: Cors::Echo,
            vary: true,
            allow_headers: "Content-Type, X-CSRF-Token".into(),
            check_token: true,
            check_origin: true,
            session_cookie:
                "__Host-session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=3600".into(),
            pre_session_cookie:
                "__Host-pre_session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=86400"
                    .into(),
            csrf_cookie: None,
            token_in_body: true,
            csrf_header: "x-csrf-token".into(),
            login_fields: ("email".into(), "password".into()),
            paths: Paths::authjar(),
            providers: vec![("github".into(), "{api}/auth/oauth/github/callback".into())],
            oauth_cookie: Some(
                "__Host-oauth_tx={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=600".into(),
            ),
            hsts: true,
            http_twin: HttpTwin::Redirect,
            get_logout: false,
            logout_removal: None,
            session_padding: 0,
            validity: Validity::Long,
        }
    }

    /// Development on localhost, plain http, done right.
    pub fn localhost() -> Spec {
        Spec {
            api: "http://localhost".into(),
            apps: vec!["http://localhost:3000".into()],
            session_cookie: "session={v}; HttpOnly; SameSite=Lax; Path=/; Max-Age=3600".into(),
            pre_session_cookie: "pre_session={v}; HttpOnly; SameSite=Lax; Path=/; Max-Age=86400"
                .into(),
            providers: Vec::new(),
            oauth_cookie: None,
            hsts: false,
            ..Spec::sibling()
        }
    }

    fn https(&self) -> bool {
        self.api.starts_with("https://")
    }

    fn host(&self) -> String {
        url::Url::parse(&self.api)
            .unwrap()
            .host_str()
            .unwrap()
            .to_owned()
    }
}

/// A running fixture and what the doctor needs to reach it.
pub struct Running {
    pub api: String,
    pub apps: Vec<String>,
    pub resolve: Vec<Resolution>,
    pub ca_pem: Option<Vec<u8>>,
}

struct Fixture {
    spec: Spec,
    /// The API's own origin, always allowed.
    own_origin: String,
    sessions: Mutex<HashSet<String>>,
    counter: AtomicU64,
}

/// Starts the fixture (and its http twin for an https API).
pub async fn start(spec: Spec) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let api = if spec.https() {
        spec.api.clone()
    } else if spec.host() == "localhost" {
        format!("http://localhost:{}", addr.port())
    } else {
        spec.api.clone()
    };
    let own_origin = api.clone();
    let fixture = Arc::new(Fixture {
        spec: spec.clone(),
        own_origin,
        sessions: Mutex::new(HashSet::new()),
        counter: AtomicU64::new(1),
    });
    let router = Router::new().fallback(handle).with_state(fixture.clone());
    let host = spec.host();
    let mut resolve = Vec::new();
    if spec.https() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (cert, key) = leaf(std::slice::from_ref(&host), spec.validity);
        let config = RustlsConfig::from_pem(cert.into_bytes(), key.into_bytes())
            .await
            .unwrap();
        let std = listener.into_std().unwrap();
        tokio::spawn(async move {
            axum_server::from_tcp_rustls(std, config)
                .serve(router.into_make_service())
                .await
                .unwrap()
        });
        resolve.push(resolution(&host, 443, addr));
        let twin = twin(fixture).await;
        resolve.push(resolution(&host, 80, twin));
    } else {
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let port = if host == "localhost" { addr.port() } else { 80 };
        resolve.push(resolution(&host, port, addr));
    }
    Running {
        api,
        apps: spec.apps.clone(),
        resolve,
        ca_pem: spec.https().then(|| crate::certs::ca().pem().into_bytes()),
    }
}

fn resolution(host: &str, port: u16, addr: SocketAddr) -> Resolution {
    Resolution {
        host: host.to_owned(),
        port,
        addr,
    }
}

/// The plain-http listener for an https fixture: a redirect, or the API itself.
async fn twin(fixture: Arc<Fixture>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = if fixture.spec.http_twin == HttpTwin::Redirect {
        let host = fixture.spec.host();
        Router::new().fallback(move |uri: Uri| async move {
            let to = format!("https://{host}{}", uri.path());
            (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response()
        })
    } else {
        Router::new().fallback(handle).with_state(fixture)
    };
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A loopback port that refuses connections: the socket is bound (so no
/// other process can take the port while it is held) but never listens.
pub fn closed_port() -> (tokio::net::TcpSocket, SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    (socket, addr)
}

/// The doctor against a running fixture, with test credentials.
pub async fn doctor(
    r: &Running,
    tweak: impl FnOnce(&mut TargetInput),
) -> (Observations, Vec<Diagnosis>) {
    let mut input = TargetInput {
        api: r.api.clone(),
        apps: r.apps.clone(),
        credentials: Some(Credentials::Login {
            email: EMAIL.into(),
            password: PASSWORD.to_owned().into(),
        }),
        ..TargetInput::default()
    };
    tweak(&mut input);
    let target = Target::parse(input).unwrap();
    let options = ProbeOptions {
        extra_roots_pem: r.ca_pem.clone(),
        resolve: r.resolve.clone(),
        system_dns: false,
        timeout: std::time::Duration::from_secs(5),
        insecure_http: false,
    };
    let obs = probe(&target, &options).await.unwrap();
    let found = check(&obs, obs.observed_at);
    (obs, found)
}

/// The sorted, distinct finding ids.
pub fn ids(found: &[Diagnosis]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = found.iter().map(Diagnosis::id).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Every finding in full, for a failure message.
pub fn dump(found: &[Diagnosis]) -> String {
    found
        .iter()
        .map(|d| format!("{}\n    evidence: {:?}", d.finding, d.evidence))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts the findings are exactly `expected` (as a set of ids).
pub fn assert_ids(found: &[Diagnosis], expected: &[&str]) {
    let mut want: Vec<&str> = expected.to_vec();
    want.sort_unstable();
    assert_eq!(ids(found), want, "\n{}", dump(found));
}

async fn handle(
    State(f): State<Arc<Fixture>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = header_str(&headers, "origin").map(str::to_owned);
    let mut res = f.route(&method, uri.path(), &headers, &body);
    f.decorate(origin.as_deref(), &mut res);
    res
}

fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn cookie<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

fn name_of(template: &str) -> &str {
    template.split('=').next().unwrap()
}

/// The removal of a cookie: empty value, its attributes, Max-Age=0.
fn removal(template: &str) -> String {
    let attrs: Vec<&str> = template
        .split(';')
        .skip(1)
        .map(str::trim)
        .filter(|a| {
            let a = a.to_ascii_lowercase();
            !a.starts_with("max-age") && !a.starts_with("expires")
        })
        .collect();
    format!("{}=; {}; Max-Age=0", name_of(template), attrs.join("; "))
}

fn json(status: StatusCode, v: serde_json::Value) -> Response {
    (status, axum::Json(v)).into_response()
}

fn error(status: StatusCode, code: &str) -> Response {
    json(status, serde_json::json!({"error": code, "message": code}))
}

fn set_cookie(res: &mut Response, line: String) {
    res.headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_str(&line).unwrap());
}

impl Fixture {
    fn allowed(&self, origin: &str) -> bool {
        origin == self.own_origin || self.spec.apps.iter().any(|a| a == origin)
    }

    fn new_id(&self) -> String {
        self.id("")
    }

    /// A session id, padded when the spec wants a too-large cookie.
    fn session_id(&self) -> String {
        self.id(&"x".repeat(self.spec.session_padding))
    }

    fn id(&self, padding: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        // Unguessable without reading the clock: std's per-process random hash keys.
        let salt = RandomState::new().hash_one(n);
        format!("{n:x}{salt:x}{padding}")
    }

    fn session<'a>(&self, h: &'a HeaderMap) -> Option<&'a str> {
        let sid = cookie(h, name_of(&self.spec.session_cookie))?;
        self.sessions.lock().unwrap().contains(sid).then_some(sid)
    }

    /// What the token must be for this request's cookies.
    fn expected_token(&self, h: &HeaderMap) -> Option<String> {
        let binding = self
            .session(h)
            .or_else(|| cookie(h, name_of(&self.spec.pre_session_cookie)))?;
        Some(format!("tok-{binding}"))
    }

    /// The CSRF checks; `Err` is the refusal's error code.
    fn guard(&self, h: &HeaderMap) -> Result<(), &'static str> {
        let origin = header_str(h, "origin");
        if self.spec.check_origin && origin.is_some_and(|o| !self.allowed(o)) {
            return Err("origin_not_allowed");
        }
        if !self.spec.check_token {
            return Ok(());
        }
        let sent = header_str(h, &self.spec.csrf_header);
        let sent = sent.map(percent_decode);
        match (sent, self.expected_token(h)) {
            (Some(s), Some(e)) if s == e => Ok(()),
            (None, _) => Err("csrf_token_missing"),
            _ => Err("csrf_token_invalid"),
        }
    }

    fn route(&self, method: &Method, path: &str, h: &HeaderMap, body: &Bytes) -> Response {
        let p = &self.spec.paths;
        if method == Method::OPTIONS && h.contains_key("access-control-request-method") {
            return self.preflight(h);
        }
        match *method {
            Method::GET if path == p.csrf => self.csrf(h),
            Method::POST if path == p.login => self.guarded(h, |f| f.login(body)),
            Method::GET if path == p.me => self.me(h),
            Method::POST if path == p.refresh => self.guarded(h, |f| f.refresh(h)),
            Method::POST if path == p.logout => self.guarded(h, |f| f.logout(h)),
            Method::GET if path == p.logout && self.spec.get_logout => self.logout(h),
            Method::GET if path == p.providers => self.providers(),
            Method::GET if path.starts_with("/oauth/start/") => self.oauth_start(path),
            _ if [&p.login, &p.refresh, &p.logout, &p.me, &p.csrf].contains(&&path.to_owned()) => {
                error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            _ => error(StatusCode::NOT_FOUND, "not_found"),
        }
    }

    fn guarded(&self, h: &HeaderMap, then: impl FnOnce(&Fixture) -> Response) -> Response {
        match self.guard(h) {
            Ok(()) => then(self),
            Err(code) => error(StatusCode::FORBIDDEN, code),
        }
    }

    fn preflight(&self, h: &HeaderMap) -> Response {
        let origin = header_str(h, "origin").unwrap_or("");
        let permitted = match self.spec.cors {
            Cors::Echo => self.allowed(origin),
            _ => true,
        };
        if !permitted {
            return error(StatusCode::FORBIDDEN, "origin_not_allowed");
        }
        let mut res = StatusCode::NO_CONTENT.into_response();
        let hs = res.headers_mut();
        hs.insert(
            "access-control-allow-methods",
            HeaderValue::from_static("GET, POST"),
        );
        hs.insert(
            "access-control-allow-headers",
            HeaderValue::from_str(&self.spec.allow_headers).unwrap(),
        );
        res
    }

    fn token_body(&self, binding: &str, mut v: serde_json::Value) -> serde_json::Value {
        if self.spec.token_in_body {
            v["csrf_token"] = serde_json::Value::String(format!("tok-{binding}"));
        }
        v
    }

    fn csrf_cookie(&self, res: &mut Response, binding: &str) {
        if let Some(t) = &self.spec.csrf_cookie {
            set_cookie(res, t.replace("{v}", &format!("tok-{binding}")));
        }
    }

    fn csrf(&self, h: &HeaderMap) -> Response {
        let (binding, fresh) = match self
            .session(h)
            .or_else(|| cookie(h, name_of(&self.spec.pre_session_cookie)))
        {
            Some(b) => (b.to_owned(), false),
            None => (self.new_id(), true),
        };
        let mut res = json(
            StatusCode::OK,
            self.token_body(&binding, serde_json::json!({})),
        );
        if fresh {
            set_cookie(
                &mut res,
                self.spec.pre_session_cookie.replace("{v}", &binding),
            );
        }
        self.csrf_cookie(&mut res, &binding);
        res
    }

    fn issue(&self, status: StatusCode) -> Response {
        let sid = self.session_id();
        self.sessions.lock().unwrap().insert(sid.clone());
        let body = self.token_body(&sid, serde_json::json!({"user": {"email": EMAIL}}));
        let mut res = json(status, body);
        set_cookie(&mut res, self.spec.session_cookie.replace("{v}", &sid));
        self.csrf_cookie(&mut res, &sid);
        res
    }

    fn login(&self, body: &Bytes) -> Response {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        let (user, pass) = &self.spec.login_fields;
        if v[user] != EMAIL || v[pass] != PASSWORD {
            return error(StatusCode::UNAUTHORIZED, "invalid_credentials");
        }
        self.issue(StatusCode::OK)
    }

    fn me(&self, h: &HeaderMap) -> Response {
        match self.session(h) {
            Some(_) => json(
                StatusCode::OK,
                serde_json::json!({"user": {"email": EMAIL}}),
            ),
            None => error(StatusCode::UNAUTHORIZED, "unauthenticated"),
        }
    }

    fn refresh(&self, h: &HeaderMap) -> Response {
        let Some(sid) = self.session(h).map(str::to_owned) else {
            return error(StatusCode::UNAUTHORIZED, "invalid_refresh");
        };
        self.sessions.lock().unwrap().remove(&sid);
        self.issue(StatusCode::OK)
    }

    fn logout(&self, h: &HeaderMap) -> Response {
        if let Some(sid) = self.session(h).map(str::to_owned) {
            self.sessions.lock().unwrap().remove(&sid);
        }
        let mut res = StatusCode::NO_CONTENT.into_response();
        let line = self
            .spec
            .logout_removal
            .clone()
            .unwrap_or_else(|| removal(&self.spec.session_cookie));
        set_cookie(&mut res, line);
        if let Some(t) = &self.spec.csrf_cookie {
            set_cookie(&mut res, removal(t));
        }
        res
    }

    fn providers(&self) -> Response {
        if self.spec.providers.is_empty() {
            return error(StatusCode::NOT_FOUND, "not_found");
        }
        let list: Vec<serde_json::Value> = self
            .spec
            .providers
            .iter()
            .map(|(id, _)| serde_json::json!({"id": id, "name": id, "start_url": format!("/oauth/start/{id}")}))
            .collect();
        json(StatusCode::OK, serde_json::json!({ "providers": list }))
    }

    fn oauth_start(&self, path: &str) -> Response {
        let id = path.trim_start_matches("/oauth/start/");
        let Some((_, redirect_uri)) = self.spec.providers.iter().find(|(p, _)| p == id) else {
            return error(StatusCode::NOT_FOUND, "unknown_provider");
        };
        let mut to = url::Url::parse("https://github.example/login/oauth/authorize").unwrap();
        to.query_pairs_mut()
            .append_pair("client_id", "doctor-test")
            .append_pair(
                "redirect_uri",
                &redirect_uri.replace("{api}", &self.own_origin),
            )
            .append_pair("state", "st4te");
        let mut res = (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response();
        if let Some(t) = &self.spec.oauth_cookie {
            set_cookie(&mut res, t.replace("{v}", "sealed-transaction"));
        }
        res
    }

    fn decorate(&self, origin: Option<&str>, res: &mut Response) {
        let hs = res.headers_mut();
        if self.spec.vary {
            hs.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if self.spec.hsts && self.spec.https() {
            hs.insert(
                "strict-transport-security",
                HeaderValue::from_static("max-age=31536000"),
            );
        }
        let Some(origin) = origin else { return };
        let value = match &self.spec.cors {
            Cors::Echo if self.allowed(origin) => origin.to_owned(),
            Cors::Echo => return,
            Cors::Star => "*".to_owned(),
            Cors::Static(v) => v.clone(),
            Cors::Reflect => origin.to_owned(),
        };
        hs.insert(
            "access-control-allow-origin",
            HeaderValue::from_str(&value).unwrap(),
        );
        hs.insert(
            "access-control-allow-credentials",
            HeaderValue::from_static("true"),
        );
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
