//! Every line of `tests/corpus/cookie-headers.txt`, sent as raw bytes to
//! `/auth/me` and `/auth/refresh`, gets the outcome `cookie-headers.jsonl`
//! expects; never a 5xx. The corpus's names are mapped to authjar's
//! (`__Host-access` → `__Host-access_token`, case variants kept as variants).

use std::collections::HashMap;

use reqwest::Method;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{corpus, spawn, Jar};

#[derive(Deserialize)]
struct Expectation {
    line_no: usize,
    expect: String,
    category: String,
}

/// The corpus escape convention: `\xNN` is a raw byte, `\\` a backslash.
fn unescape(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < line.len() {
        match (line[i], line.get(i + 1)) {
            (b'\\', Some(b'\\')) => {
                out.push(b'\\');
                i += 2;
            }
            (b'\\', Some(b'x')) => {
                out.push(
                    u8::from_str_radix(std::str::from_utf8(&line[i + 2..i + 4]).unwrap(), 16)
                        .unwrap(),
                );
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Appends `_token` (or `_TOKEN`) to each corpus cookie name `access`, `refresh`, `csrf` after a `-`.
fn map_names(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len() + 32);
    let mut i = 0;
    while i < line.len() {
        let mut matched = false;
        if i > 0 && line[i - 1] == b'-' {
            for word in ["access", "refresh", "csrf"] {
                let end = i + word.len();
                if end <= line.len()
                    && line[i..end].eq_ignore_ascii_case(word.as_bytes())
                    && !line.get(end).is_some_and(|b| b.is_ascii_alphanumeric())
                {
                    out.extend_from_slice(&line[i..end]);
                    let upper = line[i..end].iter().all(u8::is_ascii_uppercase);
                    out.extend_from_slice(if upper { b"_TOKEN" } else { b"_token" });
                    i = end;
                    matched = true;
                    break;
                }
            }
        }
        if !matched {
            out.push(line[i]);
            i += 1;
        }
    }
    out
}

fn replace(hay: &[u8], needle: &str, with: &str) -> Vec<u8> {
    let n = needle.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(n) {
            out.extend_from_slice(with.as_bytes());
            i += n.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Sends one request with the exact Cookie bytes over a raw connection; returns status and Set-Cookie lines.
async fn raw(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    cookie: &[u8],
    csrf: &str,
) -> (u16, Vec<String>) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = if method == "POST" { "{}" } else { "" };
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").into_bytes();
    if method == "POST" {
        req.extend_from_slice(
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\nX-CSRF-Token: {csrf}\r\n",
                body.len()
            )
            .as_bytes(),
        );
    }
    req.extend_from_slice(b"Cookie: ");
    req.extend_from_slice(cookie);
    req.extend_from_slice(b"\r\n\r\n");
    req.extend_from_slice(body.as_bytes());
    s.write_all(&req).await.unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp).await;
    let text = String::from_utf8_lossy(&resp);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let cookies = text
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .map(|l| l[11..].trim().to_owned())
        .collect();
    (status, cookies)
}

fn has_control_byte(b: &[u8]) -> bool {
    b.iter().any(|c| (*c < 0x20 && *c != b'\t') || *c == 0x7f)
}

#[tokio::test]
async fn every_cookie_header_line_gets_its_expected_outcome_and_never_a_5xx() {
    let app = spawn(&[
        ("AUTHJAR_PUBLIC_URL", "https://api.example.com"),
        ("AUTHJAR_APP_ORIGINS", "https://app.example.com"),
        ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
    ])
    .await;
    let jar = app.register("corpus@b.com").await;
    let access_name = app
        .state
        .cookie(authjar_policy::CookieKind::Access)
        .unwrap()
        .name
        .clone();
    let refresh_name = app
        .state
        .cookie(authjar_policy::CookieKind::Refresh)
        .unwrap()
        .name
        .clone();
    assert_eq!(
        (access_name.as_str(), refresh_name.as_str()),
        ("__Host-access_token", "__Host-refresh_token")
    );
    let valid_access = jar.get(&access_name).unwrap().to_owned();
    let expectations: HashMap<usize, Expectation> =
        String::from_utf8(corpus("cookie-headers.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Expectation>(l).unwrap())
            .map(|e| (e.line_no, e))
            .collect();
    let text = corpus("cookie-headers.txt");
    let lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), 60);
    let mut failures = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let exp = &expectations[&(i + 1)];
        let mut bytes = map_names(&unescape(line));
        bytes = replace(&bytes, "{VALID_ACCESS}", &valid_access);
        for (path, method) in [("/auth/me", "GET"), ("/auth/refresh", "POST")] {
            // A fresh refresh token per attempt, so one line's rotation cannot affect the next.
            let (login, fresh) = app.login("corpus@b.com", "correct horse").await;
            let csrf = login.body["csrf_token"].as_str().unwrap();
            let b = replace(&bytes, "{VALID_REFRESH}", fresh.get(&refresh_name).unwrap());
            let b = replace(&b, "{VALID_CSRF}", csrf);
            let (status, set) = raw(app.addr, method, path, &b, csrf).await;
            let new_cookies = set.iter().any(|c| !c.contains("Max-Age=0"));
            let ok = match exp.expect.as_str() {
                // Fails closed: 401/403 (or the HTTP layer's 400 for bytes HTTP forbids), no new session cookies.
                "reject" => {
                    (matches!(status, 401 | 403) || (status == 400 && has_control_byte(&b)))
                        && !new_cookies
                }
                "ignore" => matches!(status, 200 | 401 | 403),
                "400" => status == 400 || status == 401,
                "431" => status == 431,
                other => panic!("unknown expectation {other}"),
            };
            if !ok || status >= 500 || status == 0 {
                failures.push(format!(
                    "line {} ({}, expect {}): {method} {path} -> {status} {set:?}",
                    i + 1,
                    exp.category,
                    exp.expect
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The server is still healthy after the whole corpus.
    assert_eq!(
        app.call(Method::GET, "/healthz", &Jar::default(), None)
            .await
            .status,
        reqwest::StatusCode::OK
    );
}
