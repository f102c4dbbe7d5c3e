//! Closed-loop load for the argon2-bound and database-bound endpoints.
//!
//! - `loadgen hash-time N`: seconds per argon2id hash (OWASP parameters), one thread.
//! - `loadgen hash-rate WORKERS SECONDS`: argon2id hashes per second with
//!   WORKERS threads of the server's hasher all busy (whether hashes side by
//!   side are slower than one alone: cache and memory bandwidth are shared).
//! - `loadgen login BASE CONCURRENCY SECONDS`: logins per second of one account.
//! - `loadgen refresh BASE CONCURRENCY SECONDS`: refresh rotations per second,
//!   each worker rotating its own session's token (true rotations, never replays).

use std::time::{Duration, Instant};

use authjar_core::password::{BoundedHasher, HashParams, Password};

const EMAIL: &str = "bench@authjar.test";
const PASSWORD: &str = "benchmark password";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap_or_default()
}

/// A pre-session cookie and its CSRF token (login is CSRF-protected too).
async fn pre_session(c: &reqwest::Client, base: &str) -> Option<(String, String)> {
    let r = c.get(format!("{base}/auth/csrf")).send().await.ok()?;
    let cookie = cookie_header(r.headers());
    let body: serde_json::Value = r.json().await.ok()?;
    Some((cookie, body["csrf_token"].as_str()?.to_owned()))
}

/// Logs in; returns the session cookies and the session's CSRF token.
async fn login(
    c: &reqwest::Client,
    base: &str,
    pre: &(String, String),
) -> Option<(String, String)> {
    let r = c
        .post(format!("{base}/auth/login"))
        .header("cookie", &pre.0)
        .header("x-csrf-token", &pre.1)
        .json(&serde_json::json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .ok()?;
    if !r.status().is_success() {
        return None;
    }
    let cookies = cookie_header(r.headers());
    let body: serde_json::Value = r.json().await.ok()?;
    Some((cookies, body["csrf_token"].as_str()?.to_owned()))
}

fn cookie_header(h: &reqwest::header::HeaderMap) -> String {
    h.get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn run(kind: &str, base: String, concurrency: usize, secs: u64) -> (u64, u64) {
    let c = client();
    let Some(pre) = pre_session(&c, &base).await else {
        return (0, 1);
    };
    let _ = c
        .post(format!("{base}/auth/register"))
        .header("cookie", &pre.0)
        .header("x-csrf-token", &pre.1)
        .json(&serde_json::json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await;
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (c, base, kind, pre) = (c.clone(), base.clone(), kind.to_owned(), pre.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0u64, 0u64);
            let (mut cookies, token) = login(&c, &base, &pre).await.unwrap_or_default();
            while Instant::now() < deadline {
                let good = if kind == "login" {
                    login(&c, &base, &pre).await.is_some()
                } else {
                    let r = c
                        .post(format!("{base}/auth/refresh"))
                        .header("cookie", &cookies)
                        .header("x-csrf-token", &token)
                        .json(&serde_json::json!({}))
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => {
                            cookies = cookie_header(r.headers());
                            true
                        }
                        _ => false,
                    }
                };
                if good {
                    ok += 1
                } else {
                    failed += 1
                }
            }
            (ok, failed)
        }));
    }
    let mut total = (0, 0);
    for t in tasks {
        if let Ok((o, f)) = t.await {
            total.0 += o;
            total.1 += f;
        }
    }
    total
}

/// SQLite's single-writer wall for refresh: the rotation's compare-and-swap
/// `UPDATE` alone, in a loop, on a database opened like authjar's (WAL,
/// `synchronous = NORMAL`, checkpoints every 8,000 pages, a pool of 4), one
/// session per worker. Returns the updates done in `secs`.
async fn sqlite_wall(dir: &str, concurrency: usize, secs: u64) -> Result<u64, sqlx::Error> {
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    let options = SqliteConnectOptions::new()
        .filename(std::path::Path::new(dir).join("wall.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(15))
        .pragma("wal_autocheckpoint", "8000");
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS sessions (id INTEGER PRIMARY KEY, refresh_hash BLOB NOT NULL UNIQUE, previous_hash BLOB)")
        .execute(&pool)
        .await?;
    for i in 0..concurrency as i64 {
        sqlx::query("INSERT OR REPLACE INTO sessions (id, refresh_hash) VALUES (?, ?)")
            .bind(i)
            .bind(hash_of(i, 0).to_vec())
            .execute(&pool)
            .await?;
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for i in 0..concurrency as i64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut n: u64 = 0;
            while Instant::now() < deadline {
                let done = sqlx::query(
                    "UPDATE sessions SET refresh_hash = ?, previous_hash = refresh_hash WHERE id = ? AND refresh_hash = ?",
                )
                .bind(hash_of(i, n + 1).to_vec())
                .bind(i)
                .bind(hash_of(i, n).to_vec())
                .execute(&pool)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(sqlx::Error::RowNotFound);
                }
                n += 1;
            }
            Ok::<u64, sqlx::Error>(n)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t
            .await
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))??;
    }
    Ok(total)
}

/// Hashes per second with `workers` hashing threads kept busy for `secs`.
async fn hash_rate(workers: usize, secs: u64) -> Option<f64> {
    let pw = Password::parse(PASSWORD.to_owned()).ok()?;
    let hasher = match BoundedHasher::new(HashParams::OWASP, workers, [0; 16]) {
        Ok(h) => std::sync::Arc::new(h),
        Err(e) => {
            eprintln!("loadgen: {e}");
            return None;
        }
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (hasher, pw) = (hasher.clone(), pw.clone());
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    hasher.hash(pw.clone(), [w as u8; 16]).await.ok()?;
                    n += 1;
                }
                Some(n)
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.ok()??;
    }
    Some(total as f64 / start.elapsed().as_secs_f64())
}

/// A distinct 32-byte value for worker `i`'s `n`th token.
fn hash_of(i: i64, n: u64) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&i.to_le_bytes());
    h[8..16].copy_from_slice(&n.to_le_bytes());
    h
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("hash-time") => {
            // The server's own path: one hashing worker reusing its memory.
            let n: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20);
            let Ok(pw) = Password::parse(PASSWORD.to_owned()) else {
                return;
            };
            let hasher = match BoundedHasher::new(HashParams::OWASP, 1, [0; 16]) {
                Ok(h) => h,
                Err(e) => {
                    eprintln!("loadgen: {e}");
                    return;
                }
            };
            let _ = hasher.hash(pw.clone(), [1; 16]).await;
            let start = Instant::now();
            for i in 0..n {
                if let Err(e) = std::hint::black_box(hasher.hash(pw.clone(), [i as u8; 16]).await) {
                    eprintln!("loadgen: {e}");
                    return;
                }
            }
            println!("{:.6}", start.elapsed().as_secs_f64() / f64::from(n));
        }
        Some("hash-rate") => {
            let workers: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2);
            let secs: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(5);
            match hash_rate(workers, secs).await {
                Some(rate) => println!("{rate:.2}"),
                None => std::process::exit(1),
            }
        }
        Some(kind @ ("login" | "refresh")) => {
            let base = args.get(2).cloned().unwrap_or_default();
            let conc: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(8);
            let secs: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10);
            let (ok, failed) = run(kind, base, conc, secs).await;
            println!("{:.1} {failed}", ok as f64 / secs as f64);
        }
        Some("sqlite-wall") => {
            let dir = args.get(2).cloned().unwrap_or_else(|| ".".into());
            let conc: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(16);
            let secs: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10);
            match sqlite_wall(&dir, conc, secs).await {
                Ok(n) => println!("{:.1}", n as f64 / secs as f64),
                Err(e) => {
                    eprintln!("loadgen: {e}");
                    std::process::exit(1);
                }
            }
        }
        _ => {
            eprintln!(
                "usage: loadgen hash-time N | loadgen hash-rate WORKERS SECONDS | loadgen (login|refresh) BASE CONCURRENCY SECONDS | loadgen sqlite-wall DIR CONCURRENCY SECONDS"
            );
            std::process::exit(2);
        }
    }
}
