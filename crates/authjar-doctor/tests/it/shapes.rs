//! Small cookie-auth servers shaped like other frameworks' defaults (not
//! authjar's): their paths, login bodies, where the CSRF token comes from
//! and goes, whether it is bound to the session or a double-submit cookie,
//! their refusal statuses (Laravel's 419, Rails' 422, an HTML 403), how
//! logout clears the session, and what unknown paths answer. `frameworks.rs`
//! builds Django, Laravel Sanctum, Express, Rails/Devise and Spring
//! Security from it, each correct and with one real mistake. Served on
//! 127.0.0.1:0 under fake names reached through `--resolve` mappings.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use authjar_doctor::TargetInput;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;

use crate::certs::{leaf, Validity};
use crate::fixture::{Running, EMAIL, PASSWORD};

/// The test account's user name, for shapes that log in by name.
pub const USERNAME: &str = "tabby";

/// Where the server hands out the CSRF token.
#[derive(Clone, Debug)]
pub enum TokenOut {
    /// A key of the CSRF path's JSON answer.
    Json(&'static str),
    /// A readable cookie, set on every answer with a session (Laravel,
    /// Django, Spring's cookie repository). `encode`: URL-encoded, with
    /// `==` padding, as Laravel writes it.
    Cookie {
        template: &'static str,
        encode: bool,
    },
    /// A response header on every answer with a session (Rails apps).
    Header(&'static str),
}

/// What the token is checked against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Binding {
    /// A secret stored in the server-side session.
    Session,
    /// The CSRF cookie's value (double submit, not bound to the session).
    DoubleSubmit,
}

/// How a refusal looks.
#[derive(Clone, Copy, Debug)]
pub enum Refusal {
    /// A JSON body with the status.
    Json(u16),
    /// An HTML error page with the status.
    Html(u16),
}

/// What logout does to the session cookie.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LogoutStyle {
    /// Ends the session and deletes the cookie.
    Delete,
    /// Ends the session and replaces it with a fresh anonymous one.
    Anonymous,
    /// Ends nothing and clears nothing (a logout that only answers).
    Nothing,
}

/// What paths no route matches answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CatchAll {
    /// 404.
    NotFound,
    /// The app's HTML page, to every method (a single-page app's fallback).
    Html,
    /// The HTML page to GET, `200 {}` to any POST.
    JsonEmpty,
}

/// How CORS is answered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CorsStyle {
    /// Echo an allowed origin with credentials and `Vary: Origin`.
    Echo,
    /// Echo any origin with credentials (the `origin: true` mistake).
    Reflect,
}

/// A deployment of one framework's shape.
#[derive(Clone, Debug)]
pub struct Shape {
    /// `https://hub.test`, `https://api.hub.test` or `http://localhost` (a port is added).
    pub api: &'static str,
    pub apps: Vec<String>,
    pub login: &'static str,
    /// The login body's shape: `Some(field)` is `{field: name, password}`;
    /// `None` is Devise's `{"user":{"email","password"}}`.
    pub login_field: Option<&'static str>,
    pub me: &'static str,
    /// The status of the me path without a session (DRF answers 403).
    pub me_anonymous: u16,
    pub csrf: Option<&'static str>,
    pub token_out: TokenOut,
    /// The request header the token is read from.
    pub token_in: &'static str,
    pub binding: Binding,
    /// Refuse unsafe requests whose `Origin` is not allowed.
    pub origin_check: bool,
    /// Origins trusted besides the apps, `*.` wildcards allowed (Django's
    /// `CSRF_TRUSTED_ORIGINS`).
    pub trusted: Vec<&'static str>,
    pub refusal: Refusal,
    /// `Set-Cookie` template of the session cookie; `{v}` is the value.
    pub session_cookie: &'static str,
    /// A session (and its cookie) from the first answer, before login.
    pub anonymous_session: bool,
    pub logout: (&'static str, &'static str),
    pub logout_style: LogoutStyle,
    pub refresh: Option<&'static str>,
    /// Paths exempt from the CSRF check (a mistake).
    pub exempt: Vec<&'static str>,
    pub cors: CorsStyle,
    pub catch_all: CatchAll,
    /// Error bodies repeat what they were sent: the password, the
    /// `Cookie` header (a leaky API).
    pub echo: bool,
    /// Extra `Set-Cookie` lines on the login answer, sent as they are.
    pub extra_login_cookies: Vec<String>,
    /// JSON merged into the login answer.
    pub login_extra_json: Option<serde_json::Value>,
}

impl Shape {
    fn https(&self) -> bool {
        self.api.starts_with("https://")
    }

    fn host(&self) -> String {
        url::Url::parse(self.api)
            .unwrap()
            .host_str()
            .unwrap()
            .to_owned()
    }
}

#[derive(Clone, Debug, Default)]
struct SessionData {
    user: Option<String>,
    token: String,
}

struct Server {
    shape: Shape,
    own_origin: String,
    sessions: Mutex<HashMap<String, SessionData>>,
    counter: AtomicU64,
    /// Every cookie value and token this server handed out.
    issued: Mutex<Vec<String>>,
}

/// A running shape, and every secret it handed out.
pub struct RunningShape {
    pub running: Running,
    issued: Arc<Server>,
}

impl RunningShape {
    /// Every cookie value and token handed out so far.
    pub fn secrets(&self) -> Vec<String> {
        self.issued.issued.lock().unwrap().clone()
    }
}

/// Starts the shape on 127.0.0.1:0 (https with the test CA for https names).
pub async fn serve(shape: Shape) -> RunningShape {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let host = shape.host();
    let api = if shape.https() {
        shape.api.to_owned()
    } else {
        format!("http://{host}:{}", addr.port())
    };
    let server = Arc::new(Server {
        own_origin: api.clone(),
        shape: shape.clone(),
        sessions: Mutex::new(HashMap::new()),
        counter: AtomicU64::new(1),
        issued: Mutex::new(Vec::new()),
    });
    let router = Router::new().fallback(handle).with_state(server.clone());
    let mut resolve = Vec::new();
    if shape.https() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (cert, key) = leaf(std::slice::from_ref(&host), Validity::Long);
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
        resolve.push(authjar_doctor::Resolution {
            host: host.clone(),
            port: 443,
            addr,
        });
        let twin = redirect_twin(host.clone()).await;
        resolve.push(authjar_doctor::Resolution {
            host,
            port: 80,
            addr: twin,
        });
    } else {
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        resolve.push(authjar_doctor::Resolution {
            host,
            port: addr.port(),
            addr,
        });
    }
    RunningShape {
        running: Running {
            api,
            apps: shape.apps.clone(),
            resolve,
            ca_pem: shape.https().then(|| crate::certs::ca().pem().into_bytes()),
        },
        issued: server,
    }
}

/// Plain http on the API's name: a redirect to https.
async fn redirect_twin(host: String) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().fallback(move |uri: Uri| async move {
        let to = format!("https://{host}{}", uri.path());
        (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response()
    });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// The doctor's options for a shape: its paths, login body, CSRF header.
pub fn describe(shape: &Shape, t: &mut TargetInput) {
    t.login_path = Some(shape.login.into());
    t.me_path = Some(shape.me.into());
    t.csrf_path = shape.csrf.map(Into::into);
    t.refresh_path = shape.refresh.map(Into::into);
    t.logout_path = Some(format!("{}:{}", shape.logout.0, shape.logout.1));
    t.login_body = Some(match shape.login_field {
        Some(f) => format!(r#"{{"{f}":"{{email}}","password":"{{password}}"}}"#),
        None => r#"{"user":{"email":"{email}","password":"{password}"}}"#.into(),
    });
    t.csrf_header = Some(shape.token_in.into());
    if shape.login_field == Some("username") {
        t.credentials = Some(authjar_doctor::Credentials::Login {
            email: USERNAME.into(),
            password: PASSWORD.to_owned().into(),
        });
    }
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

/// The deletion of a cookie: empty value, its attributes, Max-Age=0.
fn deletion(template: &str) -> String {
    let attrs: Vec<&str> = template
        .split(';')
        .skip(1)
        .map(str::trim)
        .filter(|a| !a.to_ascii_lowercase().starts_with("max-age"))
        .collect();
    format!("{}=; {}; Max-Age=0", name_of(template), attrs.join("; "))
}

const PAGE: &str =
    "<!doctype html><html><head><title>Hub</title></head><body><div id=app></div></body></html>";

/// One answer being built.
struct Answer {
    status: StatusCode,
    body: Body,
    cookies: Vec<String>,
    headers: Vec<(&'static str, String)>,
}

enum Body {
    Json(serde_json::Value),
    Html(String),
    Empty,
}

impl Answer {
    fn json(status: u16, v: serde_json::Value) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            body: Body::Json(v),
            cookies: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn html(status: u16, page: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            body: Body::Html(page.to_owned()),
            cookies: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn empty(status: u16) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            body: Body::Empty,
            cookies: Vec::new(),
            headers: Vec::new(),
        }
    }

    fn into_response(self) -> Response {
        let mut res = match self.body {
            Body::Json(v) => (self.status, axum::Json(v)).into_response(),
            Body::Html(p) => (
                self.status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                p,
            )
                .into_response(),
            Body::Empty => self.status.into_response(),
        };
        for c in self.cookies {
            res.headers_mut()
                .append(header::SET_COOKIE, HeaderValue::from_str(&c).unwrap());
        }
        for (k, v) in self.headers {
            res.headers_mut()
                .insert(k, HeaderValue::from_str(&v).unwrap());
        }
        res
    }
}

/// One request, as the handlers see it.
struct Request<'a> {
    method: Method,
    path: String,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    /// The session id, once loaded or created.
    sid: Option<String>,
}

async fn handle(
    State(s): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = header_str(&headers, "origin").map(str::to_owned);
    let mut req = Request {
        method,
        path: uri.path().to_owned(),
        headers: &headers,
        body: &body,
        sid: None,
    };
    let mut answer = s.route(&mut req);
    s.decorate(&req, origin.as_deref(), &mut answer);
    answer.into_response()
}

impl Server {
    fn new_id(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        // Unguessable without reading the clock: std's per-process random hash keys.
        let a = RandomState::new().hash_one(n);
        let b = RandomState::new().hash_one(a);
        let id = format!("{a:016x}{b:016x}");
        self.issued.lock().unwrap().push(id.clone());
        id
    }

    fn allowed(&self, origin: &str) -> bool {
        origin == self.own_origin || self.shape.apps.iter().any(|a| a == origin)
    }

    fn trusted(&self, origin: &str) -> bool {
        self.allowed(origin)
            || self.shape.trusted.iter().any(|t| match t.split_once("*.") {
                Some((scheme, domain)) => origin
                    .strip_prefix(scheme)
                    .is_some_and(|rest| rest.ends_with(&format!(".{domain}"))),
                None => origin == *t,
            })
    }

    fn session_name(&self) -> &str {
        name_of(self.shape.session_cookie)
    }

    /// Loads the request's session, creating an anonymous one when the shape does.
    fn load(&self, r: &mut Request<'_>, create: bool, a: &mut Vec<String>) {
        let known = cookie(r.headers, self.session_name())
            .filter(|sid| self.sessions.lock().unwrap().contains_key(*sid))
            .map(str::to_owned);
        if known.is_some() {
            r.sid = known;
            return;
        }
        if create || self.shape.anonymous_session {
            let sid = self.start_session(None, a);
            r.sid = Some(sid);
        }
    }

    fn start_session(&self, user: Option<String>, cookies: &mut Vec<String>) -> String {
        let sid = self.new_id();
        let token = self.new_id();
        self.sessions
            .lock()
            .unwrap()
            .insert(sid.clone(), SessionData { user, token });
        cookies.push(self.shape.session_cookie.replace("{v}", &sid));
        sid
    }

    fn session(&self, r: &Request<'_>) -> Option<SessionData> {
        self.sessions.lock().unwrap().get(r.sid.as_ref()?).cloned()
    }

    fn csrf_cookie_name(&self) -> Option<&'static str> {
        match &self.shape.token_out {
            TokenOut::Cookie { template, .. } => Some(name_of(template)),
            _ => None,
        }
    }

    fn refuse(&self, r: &Request<'_>, why: &str) -> Answer {
        let echo = if self.shape.echo {
            format!(
                "{why}: refused {} with cookies {}",
                String::from_utf8_lossy(r.body),
                header_str(r.headers, "cookie").unwrap_or("")
            )
        } else {
            why.to_owned()
        };
        match self.shape.refusal {
            Refusal::Json(status) => Answer::json(
                status,
                serde_json::json!({"error": echo, "message": "CSRF token mismatch.", "status": status}),
            ),
            Refusal::Html(status) => Answer::html(
                status,
                &format!("<!doctype html><html><body><h1>Forbidden ({status})</h1><p>{echo}</p></body></html>"),
            ),
        }
    }

    /// The framework's CSRF check; `Err` is its refusal.
    fn guard(&self, r: &Request<'_>) -> Result<(), Answer> {
        if self.shape.exempt.contains(&r.path.as_str()) {
            return Ok(());
        }
        let origin = header_str(r.headers, "origin");
        if self.shape.origin_check && origin.is_some_and(|o| !self.trusted(o)) {
            return Err(self.refuse(r, "origin checking failed"));
        }
        let Some(sent) = header_str(r.headers, self.shape.token_in) else {
            return Err(self.refuse(r, "csrf token missing"));
        };
        let expected = match self.shape.binding {
            Binding::Session => self.token_for(r),
            Binding::DoubleSubmit => self
                .csrf_cookie_name()
                .and_then(|n| cookie(r.headers, n))
                .map(|v| self.decode(v)),
        };
        match expected {
            Some(e) if !e.is_empty() && e == sent => Ok(()),
            _ => Err(self.refuse(r, "csrf token mismatch")),
        }
    }

    /// The token as the cookie carries it (Laravel: URL-encoded, padded).
    fn encode(&self, token: &str) -> String {
        match &self.shape.token_out {
            TokenOut::Cookie { encode: true, .. } => format!("{token}%3D%3D"),
            _ => token.to_owned(),
        }
    }

    /// The token as the header carries it, from the cookie's value.
    fn decode(&self, value: &str) -> String {
        value.replace("%3D", "=")
    }

    /// The token the client must send: what the session holds (Laravel's
    /// cookie adds its padding, the header sends it decoded).
    fn token_for(&self, r: &Request<'_>) -> Option<String> {
        let t = self.session(r)?.token;
        Some(match &self.shape.token_out {
            TokenOut::Cookie { encode: true, .. } => format!("{t}=="),
            _ => t,
        })
    }

    fn route(&self, r: &mut Request<'_>) -> Answer {
        let mut cookies = Vec::new();
        let sh = &self.shape;
        if r.method == Method::OPTIONS && r.headers.contains_key("access-control-request-method") {
            return Answer::empty(204);
        }
        let logout = (
            Method::from_bytes(sh.logout.0.as_bytes()).unwrap(),
            sh.logout.1,
        );
        let mut a = if r.method == Method::GET && Some(r.path.as_str()) == sh.csrf {
            self.load(r, true, &mut cookies);
            self.csrf(r)
        } else if r.method == Method::POST && r.path == sh.login {
            self.load(r, false, &mut cookies);
            match self.guard(r) {
                Ok(()) => self.login(r, &mut cookies),
                Err(a) => a,
            }
        } else if r.method == Method::GET && r.path == sh.me {
            self.load(r, false, &mut cookies);
            self.me(r)
        } else if r.method == logout.0 && r.path == logout.1 {
            self.load(r, false, &mut cookies);
            match self.guard(r) {
                Ok(()) => self.logout(r, &mut cookies),
                Err(a) => a,
            }
        } else if r.method == Method::POST && Some(r.path.as_str()) == sh.refresh {
            self.load(r, false, &mut cookies);
            match self.guard(r) {
                Ok(()) => self.refresh(r, &mut cookies),
                Err(a) => a,
            }
        } else {
            self.catch_all(r)
        };
        cookies.append(&mut a.cookies);
        a.cookies = cookies;
        a
    }

    fn csrf(&self, r: &Request<'_>) -> Answer {
        match &self.shape.token_out {
            TokenOut::Json(key) => {
                let token = self.token_for(r).unwrap_or_default();
                let mut v = serde_json::json!({ *key: token });
                if *key == "token" {
                    // Spring's CsrfToken.
                    v["headerName"] = self.shape.token_in.into();
                    v["parameterName"] = "_csrf".into();
                }
                Answer::json(200, v)
            }
            TokenOut::Cookie { .. } => {
                Answer::json(200, serde_json::json!({"detail": "CSRF cookie set"}))
            }
            TokenOut::Header(_) => Answer::empty(204),
        }
    }

    fn login_user(&self, r: &Request<'_>) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(r.body).ok()?;
        let (user, pass) = match self.shape.login_field {
            Some(f) => (v[f].as_str()?, v["password"].as_str()?),
            None => (
                v["user"]["email"].as_str()?,
                v["user"]["password"].as_str()?,
            ),
        };
        let expected = if self.shape.login_field == Some("username") {
            USERNAME
        } else {
            EMAIL
        };
        (user == expected && pass == PASSWORD).then(|| user.to_owned())
    }

    fn login(&self, r: &mut Request<'_>, cookies: &mut Vec<String>) -> Answer {
        let Some(user) = self.login_user(r) else {
            let msg = if self.shape.echo {
                format!(
                    "wrong password {} for this account",
                    String::from_utf8_lossy(r.body)
                )
            } else {
                "invalid_credentials".into()
            };
            return Answer::json(401, serde_json::json!({"error": msg}));
        };
        if let Some(old) = r.sid.take() {
            self.sessions.lock().unwrap().remove(&old);
        }
        cookies.retain(|c| !c.starts_with(&format!("{}=", self.session_name())));
        let sid = self.start_session(Some(user.clone()), cookies);
        r.sid = Some(sid.clone());
        let mut body = serde_json::json!({"user": {"name": user}});
        if let Some(extra) = &self.shape.login_extra_json {
            let filled = extra.to_string().replace("{sid}", &sid);
            let extra: serde_json::Value = serde_json::from_str(&filled).unwrap();
            if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
                b.extend(e.clone());
            }
        }
        let mut a = Answer::json(200, body);
        for line in &self.shape.extra_login_cookies {
            a.cookies.push(line.clone());
        }
        a
    }

    fn me(&self, r: &Request<'_>) -> Answer {
        match self.session(r).and_then(|s| s.user) {
            Some(user) => Answer::json(200, serde_json::json!({"user": {"name": user}})),
            None => Answer::json(
                self.shape.me_anonymous,
                serde_json::json!({"error": "unauthenticated", "detail": "Authentication credentials were not provided."}),
            ),
        }
    }

    fn logout(&self, r: &mut Request<'_>, cookies: &mut Vec<String>) -> Answer {
        let style = self.shape.logout_style;
        if style == LogoutStyle::Nothing {
            return Answer::empty(204);
        }
        if let Some(sid) = r.sid.take() {
            self.sessions.lock().unwrap().remove(&sid);
        }
        cookies.retain(|c| !c.starts_with(&format!("{}=", self.session_name())));
        match style {
            LogoutStyle::Delete => cookies.push(deletion(self.shape.session_cookie)),
            _ => r.sid = Some(self.start_session(None, cookies)),
        }
        Answer::empty(204)
    }

    fn refresh(&self, r: &mut Request<'_>, cookies: &mut Vec<String>) -> Answer {
        let Some(user) = self.session(r).and_then(|s| s.user) else {
            return Answer::json(401, serde_json::json!({"error": "unauthenticated"}));
        };
        if let Some(sid) = r.sid.take() {
            self.sessions.lock().unwrap().remove(&sid);
        }
        r.sid = Some(self.start_session(Some(user), cookies));
        Answer::json(200, serde_json::json!({"ok": true}))
    }

    fn catch_all(&self, r: &Request<'_>) -> Answer {
        match (self.shape.catch_all, r.method == Method::GET) {
            (CatchAll::NotFound, _) => Answer::json(404, serde_json::json!({"error": "not_found"})),
            (CatchAll::Html, _) | (CatchAll::JsonEmpty, true) => Answer::html(200, PAGE),
            (CatchAll::JsonEmpty, false) => Answer::json(200, serde_json::json!({})),
        }
    }

    /// CORS, HSTS, and the token where the shape hands it out on every answer.
    fn decorate(&self, r: &Request<'_>, origin: Option<&str>, a: &mut Answer) {
        if self.shape.https() {
            a.headers
                .push(("strict-transport-security", "max-age=31536000".into()));
        }
        if let Some(token) = self.token_for(r) {
            match &self.shape.token_out {
                TokenOut::Cookie { template, .. } => {
                    let raw = self.session(r).map(|s| s.token).unwrap_or_default();
                    let value = match self.shape.binding {
                        // Django and Spring's cookie repository: the cookie
                        // is the token, kept until the login rotates it.
                        Binding::DoubleSubmit => match cookie(r.headers, name_of(template)) {
                            Some(v) if r.path != self.shape.login => v.to_owned(),
                            _ => raw,
                        },
                        Binding::Session => self.encode(&raw),
                    };
                    a.cookies.push(template.replace("{v}", &value));
                }
                TokenOut::Header(name) => a.headers.push((name, token)),
                TokenOut::Json(_) => {}
            }
        }
        if a.status == StatusCode::NO_CONTENT
            && r.method == Method::OPTIONS
            && r.headers.contains_key("access-control-request-method")
        {
            let Some(o) = origin.filter(|o| self.cors_allows(o)) else {
                return;
            };
            a.headers.push((
                "access-control-allow-methods",
                "GET, POST, PUT, PATCH, DELETE".into(),
            ));
            let wanted = header_str(r.headers, "access-control-request-headers").unwrap_or("");
            a.headers
                .push(("access-control-allow-headers", wanted.to_owned()));
            self.cors_headers(o, a);
            return;
        }
        if let Some(o) = origin.filter(|o| self.cors_allows(o)) {
            self.cors_headers(o, a);
        }
    }

    fn cors_allows(&self, origin: &str) -> bool {
        self.shape.cors == CorsStyle::Reflect || self.allowed(origin)
    }

    fn cors_headers(&self, origin: &str, a: &mut Answer) {
        a.headers
            .push(("access-control-allow-origin", origin.to_owned()));
        a.headers
            .push(("access-control-allow-credentials", "true".into()));
        a.headers.push(("vary", "Origin".into()));
    }
}
