//! `authjar serve` as a user runs it: no configuration at all, a banner a
//! newcomer can read, clean shutdown on SIGTERM, refusal in production.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::helpers::authjar;

/// How long `authjar serve` may take to print what a test waits for.
const OUTPUT_TIMEOUT: Duration = Duration::from_secs(60);

/// A child's stdout, read line by line on a thread that keeps draining it
/// (so the server never blocks on a full pipe), handed over with a timeout.
pub struct ChildLines(mpsc::Receiver<String>);

impl ChildLines {
    pub fn new(stdout: ChildStdout) -> ChildLines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Once the test stops listening, the line is dropped: still drained.
                let _ = tx.send(line);
            }
        });
        ChildLines(rx)
    }

    /// Everything printed up to and including the first line `done` accepts.
    /// Fails, and kills `child`, if it exits first or takes longer than
    /// [`OUTPUT_TIMEOUT`].
    pub fn until(&self, child: &mut Child, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + OUTPUT_TIMEOUT;
        let mut text = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.0.recv_timeout(left) {
                Ok(line) => {
                    text.push_str(&line);
                    text.push('\n');
                    if done(&line) {
                        return text;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("authjar serve exited before printing what the test waits for:\n{text}")
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "authjar serve did not print what the test waits for within {}s:\n{text}",
                        OUTPUT_TIMEOUT.as_secs()
                    )
                }
            }
        }
    }
}

/// Starts `authjar serve` in `dir` and returns the child, the banner and the bound address.
pub fn start(dir: &Path, env: &[(&str, &str)]) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authjar"))
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("AUTHJAR_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = ChildLines::new(child.stdout.take().unwrap());
    let banner = lines.until(&mut child, |line| {
        line.starts_with("No problems") || line.starts_with("Problems")
    });
    let addr = banner
        .lines()
        .next()
        .unwrap()
        .rsplit("://")
        .next()
        .unwrap()
        .trim()
        .to_owned();
    (child, banner, addr)
}

/// `GET /auth/csrf` before login: the cookies it set (`name=value; …`,
/// the pre-session cookie) and its CSRF token.
pub async fn pre_session(client: &reqwest::Client, base: &str) -> (String, String) {
    let r = client
        .get(format!("{base}/auth/csrf"))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let token = r.json::<serde_json::Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    (cookie, token)
}

/// Sends SIGTERM and returns the exit code; fails (killing the child) if it
/// has not exited within [`OUTPUT_TIMEOUT`].
pub fn terminate(child: &mut Child) -> Option<i32> {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + OUTPUT_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "authjar serve did not exit within {}s of SIGTERM",
                OUTPUT_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn serve_with_no_configuration_works_and_shuts_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, banner, addr) = start(dir.path(), &[]);
    for needle in [
        "listening on http://127.0.0.1:",
        "http://localhost:3000",
        "ports",
        "access_token",
        "HttpOnly: page scripts cannot read it",
        "No problems found",
    ] {
        assert!(
            banner.contains(needle),
            "banner lacks {needle:?}:\n{banner}"
        );
    }
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let client = reqwest::Client::new();
    let (pre_session, token) = pre_session(&client, &format!("http://{addr}")).await;
    let r = client
        .post(format!("http://{addr}/auth/register"))
        .header("cookie", pre_session)
        .header("x-csrf-token", token)
        .json(&serde_json::json!({"email": "new@b.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        201,
        "argon2id with OWASP parameters in the real binary"
    );
    assert_eq!(terminate(&mut child), Some(0), "SIGTERM drains and exits 0");
    assert!(dir.path().join("authjar.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("authjar.secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(banner.contains("created a development secret"));
}

#[test]
fn production_with_an_error_finding_refuses_to_start_and_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = authjar(
        dir.path(),
        &["serve"],
        &[
            ("AUTHJAR_LISTEN", "127.0.0.1:0"),
            ("AUTHJAR_PUBLIC_URL", "https://api.cat-therapist-hub.com"),
            ("AUTHJAR_APP_ORIGINS", "http://localhost:3000"),
            ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("refusing to start in production"), "{err}");
    assert!(
        err.contains("localhost-origin-in-production") && err.contains("fix:"),
        "{err}"
    );
    assert!(
        !err.contains("0123456789abcdef"),
        "the secret is never printed"
    );
}

#[test]
fn production_without_a_secret_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = authjar(
        dir.path(),
        &["serve"],
        &[
            ("AUTHJAR_LISTEN", "127.0.0.1:0"),
            ("AUTHJAR_PUBLIC_URL", "https://api.hub.test"),
            ("AUTHJAR_APP_ORIGINS", "https://app.hub.test"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("secret-missing-in-production"));
}

#[test]
fn production_that_requires_verified_email_refuses_to_start_without_smtp() {
    let dir = tempfile::tempdir().unwrap();
    let production = [
        ("AUTHJAR_LISTEN", "127.0.0.1:0"),
        ("AUTHJAR_PUBLIC_URL", "https://api.hub.test"),
        ("AUTHJAR_APP_ORIGINS", "https://app.hub.test"),
        ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
    ];
    let out = authjar(dir.path(), &["serve"], &production);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("email.smtp_url") && err.contains("require_verified_email"),
        "{err}"
    );
}

#[test]
fn a_bad_configuration_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = authjar(dir.path(), &["serve"], &[("AUTHJAR_LISTEN", "nowhere")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("`listen`"));
}

/// Everything the server logs at debug level during a login, a refresh and
/// a refused request: no password, token or cookie value appears, and the
/// refusal is one line with its code and request id.
#[tokio::test]
async fn logs_never_carry_secrets_and_refusals_are_logged_once_with_the_request_id() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_authjar"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("AUTHJAR_LISTEN", "127.0.0.1:0")
        .env("AUTHJAR_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = ChildLines::new(child.stdout.take().unwrap());
    let first = lines.until(&mut child, |_| true);
    let addr = first.rsplit("://").next().unwrap().trim().to_owned();
    let mut err = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let (pre_cookie, pre_token) = pre_session(&client, &base).await;
    let password = "a-very-secret-password";
    let r = client
        .post(format!("{base}/auth/register"))
        .header("cookie", &pre_cookie)
        .header("x-csrf-token", &pre_token)
        .json(&serde_json::json!({"email": "logs@b.com", "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let session_token = r.json::<serde_json::Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let jar = cookies.join("; ");
    let refreshed = client
        .post(format!("{base}/auth/refresh"))
        .header("cookie", &jar)
        .header("x-csrf-token", &session_token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let refused = client
        .post(format!("{base}/auth/logout"))
        .header("cookie", &jar)
        .header("origin", "https://evil.test")
        .header("x-request-id", "req-for-the-log-test")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert_eq!(terminate(&mut child), Some(0));
    let logs = logs.join().unwrap();
    assert!(
        logs.contains("DEBUG") || logs.contains("INFO"),
        "debug logging was on:\n{logs}"
    );
    let values: Vec<&str> = cookies
        .iter()
        .map(|c| c.split_once('=').unwrap().1)
        .filter(|v| !v.is_empty())
        .collect();
    for secret in [
        password,
        pre_token.as_str(),
        session_token.as_str(),
        pre_cookie.split_once('=').unwrap().1,
    ]
    .iter()
    .chain(values.iter())
    {
        assert!(!logs.contains(secret), "a secret value appears in the logs");
    }
    let refusals: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("request refused"))
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(
        refusals[0].contains("origin_not_allowed") && refusals[0].contains("req-for-the-log-test"),
        "{}",
        refusals[0]
    );
}
