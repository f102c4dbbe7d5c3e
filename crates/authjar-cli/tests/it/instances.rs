//! Two `authjar serve` processes on one PostgreSQL, one of them killed with
//! SIGKILL in the middle of a refresh storm: every rotation it acknowledged
//! (answered 200) was committed, so the token it handed out works on the
//! survivor.

use std::time::Duration;

use authjar_testdb::PgDatabase;
use serde_json::json;

use crate::serve::{pre_session, start, terminate};

/// One browser's session: its cookies by name and its CSRF token.
struct Chain {
    access: String,
    refresh: String,
    csrf: String,
}

fn cookie(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

async fn register(client: &reqwest::Client, base: &str, email: &str) -> Chain {
    let (pre_cookie, token) = pre_session(client, base).await;
    let r = client
        .post(format!("{base}/auth/register"))
        .header("cookie", pre_cookie)
        .header("x-csrf-token", token)
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "register {email}");
    let (access, refresh) = (
        cookie(r.headers(), "access_token").unwrap(),
        cookie(r.headers(), "refresh_token").unwrap(),
    );
    let body: serde_json::Value = r.json().await.unwrap();
    Chain {
        access,
        refresh,
        csrf: body["csrf_token"].as_str().unwrap().to_owned(),
    }
}

/// `POST /auth/refresh`: `Ok(Some(new refresh token))` on a rotation,
/// `Ok(None)` on a 200 without one (the grace window), `Err` otherwise.
async fn refresh(
    client: &reqwest::Client,
    base: &str,
    chain: &Chain,
) -> Result<(Option<String>, String), String> {
    let r = client
        .post(format!("{base}/auth/refresh"))
        .header(
            "cookie",
            format!(
                "access_token={}; refresh_token={}",
                chain.access, chain.refresh
            ),
        )
        .header("x-csrf-token", &chain.csrf)
        .json(&json!({}))
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    if r.status() != 200 {
        return Err(format!("status {}", r.status()));
    }
    let access = cookie(r.headers(), "access_token").ok_or("no access token")?;
    Ok((cookie(r.headers(), "refresh_token"), access))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_loses_no_rotation_it_acknowledged() {
    let db = PgDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AUTHJAR_DATABASE_URL", db.url.as_str()),
        (
            "AUTHJAR_SECRET",
            "0123456789abcdef0123456789abcdef-kill-nine",
        ),
        ("AUTHJAR_RATE_LIMIT__ENABLED", "false"),
        ("AUTHJAR_REQUIRE_VERIFIED_EMAIL", "false"),
        ("AUTHJAR_REFRESH_REUSE_GRACE", "5m"),
    ];
    let (mut a, _, a_addr) = start(dir.path(), &env);
    let (mut b, _, b_addr) = start(dir.path(), &env);
    let (a_url, b_url) = (format!("http://{a_addr}"), format!("http://{b_addr}"));
    let client = reqwest::Client::new();
    let mut chains = Vec::new();
    for i in 0..8 {
        chains.push(register(&client, &b_url, &format!("storm{i}@cats.test")).await);
    }

    // Each chain refreshes in a loop, alternating instances, and keeps the
    // last token an instance acknowledged; a chain stops at its first
    // request that got no answer (the killed instance).
    let storm: Vec<_> = chains
        .into_iter()
        .enumerate()
        .map(|(i, mut chain)| {
            let (client, a_url, b_url) = (client.clone(), a_url.clone(), b_url.clone());
            tokio::spawn(async move {
                let mut acknowledged_on_a = 0;
                for n in 0.. {
                    let on_a = (n + i) % 2 == 0;
                    let base = if on_a { &a_url } else { &b_url };
                    match refresh(&client, base, &chain).await {
                        Ok((Some(next), access)) => {
                            chain.refresh = next;
                            chain.access = access;
                            acknowledged_on_a += usize::from(on_a);
                        }
                        Ok((None, _)) => panic!("a chain of one client never replays"),
                        Err(e) if on_a => {
                            let _ = e;
                            break;
                        }
                        Err(e) => panic!("the surviving instance refused: {e}"),
                    }
                }
                (chain, acknowledged_on_a)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.kill().unwrap(); // SIGKILL: no shutdown, no flush, mid-request.
    a.wait().unwrap();

    let mut acknowledged = 0;
    for task in storm {
        let (chain, on_a) = task.await.unwrap();
        acknowledged += on_a;
        // The last token acknowledged works on the survivor: a rotation,
        // or (when the killed instance committed one more rotation it never
        // answered) the grace window's answer for the token just replaced.
        let (_, access) = refresh(&client, &b_url, &chain)
            .await
            .unwrap_or_else(|e| panic!("an acknowledged refresh token was lost: {e}"));
        let me = client
            .get(format!("{b_url}/auth/me"))
            .header("cookie", format!("access_token={access}"))
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200, "the session still works");
    }
    assert!(
        acknowledged > 8,
        "the killed instance served the storm before it died ({acknowledged} rotations)"
    );
    assert_eq!(terminate(&mut b), Some(0));
    db.drop().await;
}

#[test]
fn a_second_instance_on_one_sqlite_file_is_warned_about_in_the_banner() {
    let dir = tempfile::tempdir().unwrap();
    let (mut first, banner, _) = start(dir.path(), &[]);
    assert!(
        banner.contains("SQLite file") && banner.contains("one instance"),
        "the banner says which store and what it shares: {banner}"
    );
    assert!(!banner.contains("another authjar process"), "{banner}");
    let (mut second, banner, _) = start(dir.path(), &[]);
    assert!(
        banner.contains("another authjar process is using the SQLite file"),
        "{banner}"
    );
    assert!(banner.contains("use PostgreSQL"), "{banner}");
    assert_eq!(terminate(&mut second), Some(0));
    assert_eq!(terminate(&mut first), Some(0));
}
