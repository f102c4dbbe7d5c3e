//! Spawning the app for a test and speaking to it like a browser would,
//! with cookies handled by hand so every attribute can be asserted.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use authjar_axum::AuthState;
use authjar_core::{HashParams, Letter, MailError, Mailer, ManualClock, OsRandom};
use authjar_server::config::{Config, LoadOptions};
use authjar_server::{app, build_state, Runtime};
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, Response, StatusCode};

/// 2026-01-01T00:00:00Z.
pub const T0: i64 = 1_767_225_600;

/// Cheap argon2id for speed; the OWASP parameters are asserted in authjar-core.
pub const TEST_HASH: HashParams = HashParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

pub struct TestApp {
    pub addr: SocketAddr,
    /// `public_url`'s path prefix ("" at the root).
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub state: AuthState,
    pub client: reqwest::Client,
    /// What the app sent by e-mail.
    pub outbox: Outbox,
    /// Keeps the database directory alive for the test's duration.
    pub _dir: Option<tempfile::TempDir>,
}

/// The app on a fresh SQLite file, configured by `env` like `authjar serve` would be.
pub async fn spawn(env: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut app = spawn_in(dir.path(), env).await;
    app._dir = Some(dir);
    app
}

/// The app on the database (and secret file) in `dir`, which outlives it:
/// a second call on the same `dir` is the same deployment restarted.
pub async fn spawn_in(dir: &std::path::Path, env: &[(&str, &str)]) -> TestApp {
    let mut vars: Vec<(String, String)> = vec![
        ("AUTHJAR_RATE_LIMIT__ENABLED".into(), "false".into()),
        // Most tests log in right after registering; the e-mail tests turn it on.
        ("AUTHJAR_REQUIRE_VERIFIED_EMAIL".into(), "false".into()),
    ];
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::load(&LoadOptions {
        dir: dir.to_owned(),
        config_file: None,
        env: vars,
    })
    .unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let outbox = Outbox::default();
    let rt = Runtime {
        clock: clock.clone(),
        random: Arc::new(OsRandom),
        hash_params: TEST_HASH,
        mailer: Some(Arc::new(outbox.clone())),
    };
    let (state, _) = build_state(&config, rt).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let make = app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, make).await.unwrap() });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        addr,
        base: config.public_url.base_path().to_owned(),
        clock,
        state,
        client,
        outbox,
        _dir: None,
    }
}

/// The test's mail transport: what authjar sent, in order. (The browser
/// tests send through a real SMTP server instead.)
#[derive(Clone, Default)]
pub struct Outbox(Arc<std::sync::Mutex<Vec<Letter>>>);

#[async_trait::async_trait]
impl Mailer for Outbox {
    async fn send(&self, letter: &Letter) -> Result<(), MailError> {
        self.0.lock().unwrap().push(letter.clone());
        Ok(())
    }
}

impl Outbox {
    /// Every letter sent to `to` so far.
    pub fn to(&self, to: &str) -> Vec<Letter> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.to.as_str() == to)
            .cloned()
            .collect()
    }

    /// The `n`th letter to `to`, once the queue delivered it (fails after 10 s).
    pub async fn nth(&self, to: &str, n: usize) -> Letter {
        for _ in 0..1000 {
            if let Some(l) = self.to(to).get(n) {
                return l.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("no letter #{n} to {to}: {:?}", self.to(to));
    }

    /// The token of `action` (`verify_email`, `reset_password`) in the `n`th letter to `to`.
    pub async fn token(&self, to: &str, n: usize, action: &str) -> String {
        let letter = self.nth(to, n).await;
        let marker = format!("#{action}=");
        let start = letter
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("{action} link in {:?}", letter.text))
            + marker.len();
        letter.text[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }

    /// Lets the queue and background tasks run, then the number of letters to `to`.
    pub async fn settled_count(&self, to: &str) -> usize {
        for _ in 0..20 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        self.to(to).len()
    }
}

/// A browser-like cookie jar keyed by name (the tests use one host).
#[derive(Debug, Default, Clone)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Applies a response's Set-Cookie headers: Max-Age=0 deletes.
    pub fn absorb(&mut self, headers: &HeaderMap) {
        for (name, value, line) in set_cookies(headers) {
            if line.contains("Max-Age=0") {
                self.0.remove(&name);
            } else {
                self.0.insert(name, value);
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// (name, value, whole line) of each Set-Cookie header.
pub fn set_cookies(headers: &HeaderMap) -> Vec<(String, String, String)> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| {
            let line = v.to_str().unwrap().to_owned();
            let pair = line.split(';').next().unwrap();
            let (n, val) = pair.split_once('=').unwrap();
            (n.to_owned(), val.to_owned(), line)
        })
        .collect()
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

impl Reply {
    pub async fn of(res: Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

impl TestApp {
    /// `POST /auth/verify-email/confirm` with `token`, without a session.
    pub async fn confirm_email(&self, token: &str) -> Reply {
        self.call(
            Method::POST,
            "/auth/verify-email/confirm",
            &Jar::default(),
            Some(serde_json::json!({"token": token})),
        )
        .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A CSRF token for the jar's cookies from `GET /auth/csrf`; `jar`
    /// gains the pre-session cookie when the server sets one.
    pub async fn csrf(&self, jar: &mut Jar) -> String {
        let path = format!("{}/auth/csrf", self.base);
        let r = self.call(Method::GET, &path, jar, None).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        jar.absorb(&r.headers);
        r.body["csrf_token"].as_str().unwrap().to_owned()
    }

    /// A request with the jar's cookies, as the browser client sends it:
    /// unsafe methods carry a fresh CSRF token and `Content-Type: application/json`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        jar: &Jar,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        let mut cookies = jar.clone();
        let token = if unsafe_method {
            Some(Box::pin(self.csrf(&mut cookies)).await)
        } else {
            None
        };
        let mut req = self.client.request(method, self.url(path));
        if !cookies.0.is_empty() {
            req = req.header("cookie", cookies.header());
        }
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        match body {
            Some(b) => req = req.json(&b),
            None if unsafe_method => {
                req = req.header("content-type", "application/json").body("{}")
            }
            None => {}
        }
        Reply::of(req.send().await.unwrap()).await
    }

    /// Registers and returns the jar holding the session cookies.
    pub async fn register(&self, email: &str) -> Jar {
        let mut jar = Jar::default();
        let r = self
            .call(
                Method::POST,
                "/auth/register",
                &jar,
                Some(serde_json::json!({"email": email, "password": "correct horse"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        jar.absorb(&r.headers);
        jar
    }

    pub async fn login(&self, email: &str, password: &str) -> (Reply, Jar) {
        let mut jar = Jar::default();
        let r = self
            .call(
                Method::POST,
                "/auth/login",
                &jar,
                Some(serde_json::json!({"email": email, "password": password})),
            )
            .await;
        jar.absorb(&r.headers);
        (r, jar)
    }

    pub async fn session_count(&self, email: &str) -> usize {
        let e = authjar_core::Email::parse(email).unwrap();
        let user = self
            .state
            .service
            .store()
            .user_by_email(&e)
            .await
            .unwrap()
            .unwrap();
        self.state
            .service
            .store()
            .active_sessions(user.user.id, self.clock_now())
            .await
            .unwrap()
            .len()
    }

    pub fn clock_now(&self) -> i64 {
        use authjar_core::Clock;
        self.clock.now()
    }
}

/// A file of the workspace's `tests/corpus/` (sources and licences in its
/// `SOURCE.md`). Fails loudly when missing: a corpus test never passes
/// without its corpus.
pub fn corpus(file: &str) -> Vec<u8> {
    let p =
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus")).join(file);
    std::fs::read(&p).unwrap_or_else(|e| panic!("corpus file {} is required: {e}", p.display()))
}
