//! `authjar doctor` as a user runs it: against authjar itself (in process,
//! on 127.0.0.1:0) in every topology of the end-to-end suite, where it must
//! find no error; exit codes and the `--json` shape; the human report's
//! order, marks and redaction. Fake names reach loopback through
//! `--resolve`; https uses `authjar dev certs` and `--ca-file`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use authjar_core::{HashParams, OsRandom, SystemClock};
use authjar_server::config::{Config, LoadOptions};
use authjar_server::{app, build_state, Runtime};
use axum_server::tls_rustls::RustlsConfig;

use crate::helpers::distinct_ids;

const EMAIL: &str = "doctor-test@hub.test";
const PASSWORD: &str = "correct horse battery staple";
const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// Where authjar runs and how browsers see it.
struct Topology {
    /// `public_url`; `{port}` becomes the bound port.
    public_url: &'static str,
    /// `app_origins`.
    apps: &'static str,
    /// The https host name, if served over TLS.
    tls_host: Option<&'static str>,
}

const DEVELOPMENT: Topology = Topology {
    public_url: "http://localhost:{port}",
    apps: "http://localhost:3000",
    tls_host: None,
};
const SAME_ORIGIN: Topology = Topology {
    public_url: "https://hub.test",
    apps: "https://hub.test",
    tls_host: Some("hub.test"),
};
const SIBLING_SUBDOMAINS: Topology = Topology {
    public_url: "https://api.hub.test",
    apps: "https://app.hub.test",
    tls_host: Some("api.hub.test"),
};
const UNRELATED_SITES: Topology = Topology {
    public_url: "https://hub-api.test",
    apps: "https://hub.test",
    tls_host: Some("hub-api.test"),
};

/// authjar running in this process, and what the doctor needs to reach it.
struct Authjar {
    api: String,
    addr: SocketAddr,
    ca_file: Option<PathBuf>,
    /// Where `--resolve` sends the API's port 80: held for as long as the
    /// server runs, so no other process takes it.
    closed: (tokio::net::TcpSocket, SocketAddr),
    _dir: tempfile::TempDir,
}

impl Authjar {
    /// `--resolve` entries mapping the API's name to the listener (and its
    /// port 80 to a closed port, so nothing leaves loopback).
    fn resolve_args(&self) -> Vec<String> {
        let url = url_host_port(&self.api);
        let mut v = vec![
            "--resolve".into(),
            format!("{}:{}:{}", url.0, url.1, self.addr),
        ];
        if self.ca_file.is_some() {
            v.extend([
                "--resolve".into(),
                format!("{}:80:{}", url.0, self.closed.1),
            ]);
        }
        v
    }
}

fn url_host_port(u: &str) -> (String, u16) {
    let (scheme, rest) = u.split_once("://").unwrap();
    let authority = rest.split('/').next().unwrap();
    match authority.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().unwrap()),
        None => (
            authority.to_owned(),
            if scheme == "https" { 443 } else { 80 },
        ),
    }
}

/// A loopback port that refuses connections: the socket is bound (so no
/// other process can take the port while it is held) but never listens.
fn closed_port() -> (tokio::net::TcpSocket, SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    (socket, addr)
}

async fn spawn(t: &Topology) -> Authjar {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let api = t.public_url.replace("{port}", &addr.port().to_string());
    let mut env: Vec<(String, String)> = vec![
        ("AUTHJAR_RATE_LIMIT__ENABLED".into(), "false".into()),
        ("AUTHJAR_PUBLIC_URL".into(), api.clone()),
        ("AUTHJAR_APP_ORIGINS".into(), t.apps.into()),
        // The doctor registers and logs in straight away.
        ("AUTHJAR_REQUIRE_VERIFIED_EMAIL".into(), "false".into()),
    ];
    if t.tls_host.is_some() {
        env.push(("AUTHJAR_SECRET".into(), SECRET.into()));
        // An OpenID provider discovered on loopback: its start redirect is audited too.
        let issuer = oidc_issuer().await;
        env.push(("AUTHJAR_OAUTH__LOOPBACK__ISSUER".into(), issuer));
        env.push((
            "AUTHJAR_OAUTH__LOOPBACK__CLIENT_ID".into(),
            "doctor-test".into(),
        ));
        env.push((
            "AUTHJAR_OAUTH__LOOPBACK__CLIENT_SECRET".into(),
            "doctor-test-secret".into(),
        ));
    }
    let config = Config::load(&LoadOptions {
        dir: dir.path().to_owned(),
        config_file: None,
        env,
    })
    .unwrap();
    let rt = Runtime {
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        hash_params: HashParams {
            memory_kib: 256,
            iterations: 1,
            parallelism: 1,
        },
        mailer: None,
    };
    let (state, _) = build_state(&config, rt).await.unwrap();
    let make = app(state).into_make_service_with_connect_info::<SocketAddr>();
    let ca_file = match t.tls_host {
        None => {
            tokio::spawn(async move { axum::serve(listener, make).await.unwrap() });
            None
        }
        Some(host) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let certs =
                authjar_server::dev_certs::make(&[host.to_owned()], &dir.path().join("certs"))
                    .unwrap();
            let tls = RustlsConfig::from_pem_file(&certs.cert, &certs.key)
                .await
                .unwrap();
            let std = listener.into_std().unwrap();
            tokio::spawn(async move {
                axum_server::from_tcp_rustls(std, tls)
                    .serve(make)
                    .await
                    .unwrap()
            });
            Some(certs.ca_cert)
        }
    };
    let a = Authjar {
        api,
        addr,
        ca_file,
        closed: closed_port(),
        _dir: dir,
    };
    register(&a).await;
    a
}

/// A discovery document (and an empty key set) on 127.0.0.1: enough for
/// authjar's start endpoint, which never contacts the provider otherwise.
async fn oidc_issuer() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let doc = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    });
    let router = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || async move { axum::Json(doc) }),
        )
        .route(
            "/jwks",
            axum::routing::get(|| async { axum::Json(serde_json::json!({"keys": []})) }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    issuer
}

/// A logged-in session's `Cookie` header, the way a non-browser client gets one.
/// A client that reaches `a` by its name (and trusts its CA).
fn client_for(a: &Authjar) -> reqwest::Client {
    let (host, _) = url_host_port(&a.api);
    let mut b = reqwest::Client::builder().resolve(&host, a.addr);
    if let Some(ca) = &a.ca_file {
        let pem = std::fs::read(ca).unwrap();
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
    }
    b.build().unwrap()
}

/// `POST /auth/{path}` with the test account's credentials, the way a
/// non-browser client can: a pre-session token first.
async fn account_request(a: &Authjar, path: &str) -> reqwest::Response {
    let client = client_for(a);
    let (cookie, token) = crate::serve::pre_session(&client, &a.api).await;
    client
        .post(format!("{}/auth/{path}", a.api))
        .header("cookie", cookie)
        .header("x-csrf-token", token)
        .json(&serde_json::json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
}

/// Logs the test account in; the session cookies as a `Cookie` header.
async fn session_cookie(a: &Authjar) -> String {
    let res = account_request(a, "login").await;
    assert_eq!(res.status(), 200);
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .filter(|p| !p.ends_with('='))
        .collect();
    cookies.join("; ")
}

/// Creates the test account.
async fn register(a: &Authjar) {
    let res = account_request(a, "register").await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\n{}", self.stdout, self.stderr))
    }
}

/// Runs `authjar doctor ARGS` with the password in the environment.
async fn doctor(args: &[String]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_authjar"))
        .arg("doctor")
        .args(args)
        .env_clear()
        .env("AUTHJAR_DOCTOR_PASSWORD", PASSWORD)
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The arguments to audit `a` from `apps` with the test account.
fn audit_args(a: &Authjar, apps: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = vec!["--api".into(), a.api.clone()];
    for app in apps.split(',') {
        v.extend(["--app".into(), app.into()]);
    }
    v.extend(["--email".into(), EMAIL.into()]);
    if let Some(ca) = &a.ca_file {
        v.extend(["--ca-file".into(), ca.display().to_string()]);
    }
    v.extend(a.resolve_args());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

/// The doctor against authjar in `t`: no error, and only the expected advice or warnings.
async fn audit_authjar(t: &Topology, allowed: &[&str]) -> Run {
    let a = spawn(t).await;
    let run = doctor(&audit_args(&a, t.apps, &["--json"])).await;
    let doc = run.json();
    let errors: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .collect();
    assert!(errors.is_empty(), "{}", run.stdout);
    for id in distinct_ids(&doc) {
        assert!(
            allowed.contains(&id.as_str()),
            "unexpected {id}:\n{}",
            run.stdout
        );
    }
    assert!(
        run.code == Some(0) || run.code == Some(1),
        "{}{}",
        run.stdout,
        run.stderr
    );
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authjar_in_development_passes_the_doctor() {
    let run = audit_authjar(&DEVELOPMENT, &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(run.json()["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authjar_on_one_origin_behind_https_passes_the_doctor() {
    let run = audit_authjar(&SAME_ORIGIN, &["hsts-missing"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authjar_on_sibling_subdomains_passes_the_doctor() {
    let run = audit_authjar(&SIBLING_SUBDOMAINS, &["hsts-missing"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authjar_oauth_start_passes_the_redirect_uri_and_state_cookie_checks() {
    let a = spawn(&SIBLING_SUBDOMAINS).await;
    let run = doctor(&audit_args(&a, SIBLING_SUBDOMAINS.apps, &[])).await;
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("✓ OAuth redirect URLs derive from public_url and point at production"),
        "the provider's start was audited, not skipped:\n{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authjar_across_unrelated_sites_has_only_the_safari_warning() {
    let run = audit_authjar(
        &UNRELATED_SITES,
        &["hsts-missing", "cross-site-third-party-cookies"],
    )
    .await;
    let doc = run.json();
    let cross: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "cross-site-third-party-cookies")
        .collect();
    assert!(
        !cross.is_empty() && cross.iter().all(|f| f["severity"] == "warning"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, Some(1), "a warning makes ok false");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_document_has_the_contract_shape_and_a_blocked_probe_exits_1() {
    let a = spawn(&DEVELOPMENT).await;
    let mut args = audit_args(&a, DEVELOPMENT.apps, &["--json"]);
    args.extend(["--password".into(), "not the password".into()]);
    let run = doctor(&args).await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(distinct_ids(&doc), vec!["login-failed"], "{}", run.stdout);
    let f = &doc["findings"][0];
    for key in ["id", "severity", "title", "detail", "fix"] {
        assert!(f[key].is_string(), "{key} missing: {f}");
    }
    assert_eq!(f["severity"], "error");
    assert!(!run.stdout.contains("not the password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_human_report_follows_the_checklist_with_evidence_and_no_secret() {
    let a = spawn(&DEVELOPMENT).await;
    let run = doctor(&audit_args(
        &a,
        "http://localhost:3000,http://localhost:5173",
        &[],
    ))
    .await;
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    let order = [
        "a browser on the app can log in",
        "cookie Domain is only set on purpose",
        "CORS allows the real frontend origins exactly",
        "the browser stores and sends every session cookie",
        "CSRF protection is enforced",
        "the HTTPS certificate is valid",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|t| out.find(t).unwrap_or_else(|| panic!("{t} missing:\n{out}")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");
    assert!(
        out.contains("✗ CORS allows the real frontend origins exactly"),
        "{out}"
    );
    assert!(
        out.contains("✓ cookie Domain is only set on purpose"),
        "{out}"
    );
    assert!(out.contains("cors-origin-not-echoed"), "{out}");
    assert!(
        out.contains("evidence: GET http://localhost:") && out.contains("fix: "),
        "{out}"
    );
    assert!(
        out.contains("set-cookie: access_token=<"),
        "cookie names, not values: {out}"
    );
    assert!(!out.contains('\x1b'), "no colour when not on a terminal");
    assert!(!out.contains(PASSWORD) && !out.contains("eyJ"), "{out}");
}

#[tokio::test]
async fn an_api_nobody_answers_exits_2_with_api_unreachable() {
    let (_closed, addr) = closed_port();
    let run = doctor(&["--api".into(), format!("http://{addr}"), "--json".into()]).await;
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["ok"], false);
    assert_eq!(distinct_ids(&doc), vec!["api-unreachable"]);
}

#[tokio::test]
async fn bad_arguments_exit_2() {
    let cases: &[&[&str]] = &[
        &["--api", "not a url"],
        &[
            "--api",
            "http://127.0.0.1:9",
            "--app",
            "https://a.test/path",
        ],
        &["--api", "http://127.0.0.1:9", "--login-path", "auth/login"],
        &[
            "--api",
            "http://127.0.0.1:9",
            "--login-body",
            "{\"email\":\"{email}\"}",
        ],
        &["--api", "http://127.0.0.1:9", "--resolve", "api.test:443"],
        &[
            "--api",
            "http://127.0.0.1:9",
            "--ca-file",
            "/nonexistent/ca.pem",
        ],
        &["--api", "http://127.0.0.1:9", "--password", "p"],
        &["--api", "http://127.0.0.1:9", "--unsafe-path", "GET:/x"],
        &[
            "--api",
            "http://127.0.0.1:9",
            "--logout-path",
            "/x",
            "--csrf-from",
            "body:x",
        ],
    ];
    for args in cases {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let run = doctor(&args).await;
        assert_eq!(run.code, Some(2), "{args:?}: {}{}", run.stdout, run.stderr);
    }
    // --email without any password source.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_authjar"))
        .args(["doctor", "--api", "http://127.0.0.1:9", "--email", "a@b.c"])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AUTHJAR_DOCTOR_PASSWORD"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_comes_from_the_environment_and_is_never_printed() {
    let a = spawn(&DEVELOPMENT).await;
    let cookie = session_cookie(&a).await;
    let mut args = vec!["--api".to_owned(), a.api.clone(), "--app".into()];
    args.push(DEVELOPMENT.apps.into());
    args.extend(a.resolve_args());
    args.push("--json".into());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_authjar"))
        .arg("doctor")
        .args(&args)
        .env_clear()
        .env("AUTHJAR_DOCTOR_COOKIE", &cookie)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ids = distinct_ids(&doc);
    assert!(
        !ids.iter()
            .any(|i| i == "probe-without-credentials" || i == "session-not-recognised"),
        "the environment's session was used: {stdout}"
    );
    for pair in cookie.split("; ") {
        let value = pair.split_once('=').unwrap().1;
        assert!(
            !stdout.contains(value),
            "a cookie value is printed: {stdout}"
        );
    }
}

#[tokio::test]
async fn credentials_are_not_sent_over_plain_http_to_another_host() {
    let run = doctor(&[
        "--api".into(),
        "http://api.hub.example".into(),
        "--email".into(),
        EMAIL.into(),
    ])
    .await;
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("plain http") && run.stderr.contains("--insecure-http"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(PASSWORD));
    // Mapped to this machine, the name is loopback: the probe goes ahead
    // (and finds nothing listening there).
    let (_closed, addr) = closed_port();
    let run = doctor(&[
        "--api".into(),
        "http://api.hub.example".into(),
        "--email".into(),
        EMAIL.into(),
        "--resolve".into(),
        format!("api.hub.example:80:{addr}"),
    ])
    .await;
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("--insecure-http"), "{}", run.stderr);
}
