//! PostgreSQL going away under load, and coming back: authjar answers 503
//! `unavailable` (no panic, no detail), `/healthz` names the database, and
//! everything works again without a restart, including revocations made
//! elsewhere while this instance was cut off.
//!
//! The outage is made by a TCP relay of the test's own between authjar and
//! the real PostgreSQL (the server on `AUTHJAR_TEST_POSTGRES` is shared by
//! every test, so it cannot be stopped): cutting it resets every open
//! connection and refuses new ones, which is what a stopped server looks
//! like from authjar's side.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{spawn_in, Jar, TestApp};
use crate::instances::{PgDatabase, SECRET};

/// A TCP relay that can be cut (every connection reset, new ones refused)
/// and restored on the same port.
struct FaultRelay {
    addr: SocketAddr,
    upstream: SocketAddr,
    acceptor: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl FaultRelay {
    async fn start(upstream: SocketAddr) -> FaultRelay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = FaultRelay {
            addr: listener.local_addr().unwrap(),
            upstream,
            acceptor: Mutex::new(None),
            connections: Arc::default(),
        };
        relay.accept_on(listener);
        relay
    }

    fn accept_on(&self, listener: TcpListener) {
        let (upstream, connections) = (self.upstream, self.connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections.lock().unwrap().push(conn);
            }
        });
        *self.acceptor.lock().unwrap() = Some(task);
    }

    /// The database "stops": open connections die, new ones are refused.
    fn cut(&self) {
        if let Some(a) = self.acceptor.lock().unwrap().take() {
            a.abort();
        }
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    /// The database is back, on the same address.
    async fn restore(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.accept_on(listener);
    }
}

/// The `host:port` of a PostgreSQL URL and the address it names.
fn server_of(url: &str) -> (String, SocketAddr) {
    let parsed = url::Url::parse(url).unwrap();
    let host = parsed.host_str().unwrap().to_owned();
    let port = parsed.port().unwrap_or(5432);
    let addr = format!("{host}:{port}");
    let resolved = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .unwrap()
        .next()
        .unwrap();
    (addr, resolved)
}

async fn health(app: &TestApp) -> (StatusCode, serde_json::Value) {
    let r = app
        .call(Method::GET, "/healthz", &Jar::default(), None)
        .await;
    (r.status, r.body)
}

/// Polls `probe` until it holds, failing after `limit`.
async fn eventually<F, Fut>(limit: Duration, what: &str, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !probe().await {
        assert!(
            started.elapsed() < limit,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What one request of the load saw.
#[derive(Debug)]
struct Seen {
    what: &'static str,
    status: StatusCode,
    body: String,
}

/// Requests in a loop until `stop`: `/auth/me` with the session, and logins
/// with a wrong password (database and hashing, no state change).
fn load(
    app: &TestApp,
    jar: &Jar,
    login_jar: &Jar,
    login_token: &str,
    stop: Arc<AtomicBool>,
) -> Vec<JoinHandle<Vec<Seen>>> {
    (0..6)
        .map(|i| {
            let client = reqwest::Client::new();
            let me = app.url("/auth/me");
            let login = app.url("/auth/login");
            let cookie = jar.header();
            let (login_cookie, token) = (login_jar.header(), login_token.to_owned());
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let (what, req) = if i % 3 == 0 {
                        (
                            "login",
                            client
                                .post(&login)
                                .header("cookie", &login_cookie)
                                .header("x-csrf-token", &token)
                                .json(&json!({"email": "fault@cats.test", "password": "not the password"})),
                        )
                    } else {
                        ("me", client.get(&me).header("cookie", &cookie))
                    };
                    let res = req
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("{what}: the connection failed (a panic?): {e}"));
                    let status = res.status();
                    let body = res.text().await.unwrap();
                    seen.push(Seen { what, status, body });
                }
                seen
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load_answers_503_and_recovers_without_a_restart() {
    let db = PgDatabase::create().await;
    let (direct, upstream) = server_of(&db.url);
    let relay = FaultRelay::start(upstream).await;
    let relayed = db.url.replacen(&direct, &relay.addr.to_string(), 1);
    let (da, dbb) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = spawn_in(
        da.path(),
        &[
            ("AUTHJAR_DATABASE_URL", relayed.as_str()),
            ("AUTHJAR_DATABASE__ACQUIRE_TIMEOUT", "500ms"),
            SECRET,
        ],
    )
    .await;
    let b = spawn_in(
        dbb.path(),
        &[("AUTHJAR_DATABASE_URL", db.url.as_str()), SECRET],
    )
    .await;
    let jar = a.register("fault@cats.test").await;
    let revoked_meanwhile = b.register("meanwhile@cats.test").await;
    eventually(
        Duration::from_secs(10),
        "A's revocation feed is current",
        || async {
            health(&a).await
                == (
                    StatusCode::OK,
                    json!({"status": "ok", "database": "ok", "revocations": "current"}),
                )
        },
    )
    .await;

    let mut login_jar = Jar::default();
    let login_token = a.csrf(&mut login_jar).await;
    let stop = Arc::new(AtomicBool::new(false));
    let workers = load(&a, &jar, &login_jar, &login_token, stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    relay.cut();

    eventually(Duration::from_secs(10), "a 503 from /auth/me", || async {
        a.call(Method::GET, "/auth/me", &jar, None).await.status == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    let (status, body) = health(&a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(
        body["database"], "down",
        "healthz names the dependency: {body}"
    );
    assert_eq!(
        a.call(Method::GET, "/auth/verify", &jar, None).await.status,
        StatusCode::OK,
        "forward-auth needs no database"
    );
    // A session revoked on another instance while A is cut off: its
    // notification never reaches A, the reload after reconnecting must.
    let r = b
        .call(
            Method::POST,
            "/auth/logout",
            &revoked_meanwhile,
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    relay.restore().await;
    eventually(
        Duration::from_secs(20),
        "/auth/me answers 200 again",
        || async { a.call(Method::GET, "/auth/me", &jar, None).await.status == StatusCode::OK },
    )
    .await;
    eventually(Duration::from_secs(20), "healthz is ok again", || async {
        health(&a).await.0 == StatusCode::OK
    })
    .await;
    assert_eq!(
        a.call(Method::GET, "/auth/verify", &revoked_meanwhile, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "the revocation made during the outage reached A after it reconnected"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);

    let mut seen = Vec::new();
    for w in workers {
        seen.extend(w.await.expect("a load task panicked"));
    }
    let unavailable = seen
        .iter()
        .filter(|s| s.status == StatusCode::SERVICE_UNAVAILABLE)
        .count();
    assert!(unavailable > 0, "the load saw the outage");
    for s in &seen {
        match (s.what, s.status) {
            ("me", StatusCode::OK) | ("login", StatusCode::UNAUTHORIZED) => {}
            (_, StatusCode::SERVICE_UNAVAILABLE) => {
                let body: serde_json::Value = serde_json::from_str(&s.body).unwrap();
                assert_eq!(
                    body,
                    json!({"error": "unavailable", "message": "the server cannot reach its database"}),
                    "a 503 says nothing of the cause"
                );
            }
            _ => panic!(
                "{} answered {} during the outage: {}",
                s.what, s.status, s.body
            ),
        }
    }
    let after = seen
        .iter()
        .rev()
        .take(6)
        .filter(|s| s.status.is_success() || s.status == StatusCode::UNAUTHORIZED)
        .count();
    assert!(after > 0, "the load succeeds again at the end");
    drop((a, b));
    db.drop().await;
}
