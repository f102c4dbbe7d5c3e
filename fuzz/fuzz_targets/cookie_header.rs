//! `Cookie` request header parsing (`authjar_axum::cookies::RequestCookies`).
//!
//! The input is split on `\n` into several `Cookie` header lines (each must
//! be a valid `HeaderValue`). Properties, checked against a reference split
//! of the same bytes: a lookup finds exactly the pairs whose OWS-trimmed
//! name is byte-identical to the looked-up name (0 → absent, 1 → its value,
//! more → `Duplicate`), a returned value is a substring of the input, and a
//! `token` is only ever `[A-Za-z0-9_.-]{1,4096}`, `Duplicated` exactly when
//! the name appears more than once (fail closed) and `Absent` only when it
//! does not appear.
#![no_main]

use authjar_axum::cookies::{CookieError, CookieValue, RequestCookies, MAX_COOKIE_HEADER_BYTES};
use http::{header, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fn trim_ows(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t'))
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !matches!(c, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    &b[start..end]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// The names authjar looks up, and near misses of them.
const AUTH_NAMES: &[&str] = &[
    "__Host-access_token",
    "__host-access_token",
    "access_token",
    "__Secure-refresh_token",
    "refresh_token",
    "__Host-csrf_token",
    "csrf_token",
    "__Host-authjar_oauth",
    "authjar_oauth",
    "\u{2000}__Host-access_token",
    "__Host-access_token ",
    "a",
    "",
];

fuzz_target!(|data: &[u8]| {
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let mut headers = HeaderMap::new();
    for l in &lines {
        let Ok(v) = HeaderValue::from_bytes(l) else {
            return;
        };
        headers.append(header::COOKIE, v);
    }
    let total: usize = lines.iter().map(|l| l.len() + 2).sum();
    let cookies = match RequestCookies::parse(&headers) {
        Ok(c) => {
            assert!(
                total <= MAX_COOKIE_HEADER_BYTES,
                "oversized header accepted"
            );
            c
        }
        Err(CookieError::TooLarge) => {
            assert!(total > MAX_COOKIE_HEADER_BYTES, "TooLarge below the limit");
            return;
        }
        Err(e) => panic!("parse returned {e:?}"),
    };

    // Reference model: every `name=value` piece of every line.
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
    for l in &lines {
        for piece in l.split(|b| *b == b';') {
            if let Some(eq) = piece.iter().position(|b| *b == b'=') {
                let name = trim_ows(&piece[..eq]);
                if !name.is_empty() {
                    pairs.push((name, trim_ows(&piece[eq + 1..])));
                }
            }
        }
    }

    let mut names: Vec<&str> = AUTH_NAMES.to_vec();
    names.extend(
        pairs
            .iter()
            .filter_map(|(n, _)| std::str::from_utf8(n).ok()),
    );
    // Near misses of the names present: case-flipped.
    let flipped: Vec<String> = pairs
        .iter()
        .filter_map(|(n, _)| std::str::from_utf8(n).ok())
        .map(|n| {
            n.chars()
                .map(|c| {
                    if c.is_ascii_lowercase() {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        })
        .collect();
    names.extend(flipped.iter().map(String::as_str));
    // Each distinct name once: inputs repeat names a lot, and each lookup is linear.
    names.sort_unstable();
    names.dedup();

    for name in names {
        let matching: Vec<&[u8]> = pairs
            .iter()
            .filter(|(n, _)| *n == name.as_bytes())
            .map(|(_, v)| *v)
            .collect();
        match cookies.get(name) {
            Ok(None) => assert!(matching.is_empty(), "{name:?} present but not found"),
            Ok(Some(v)) => {
                assert_eq!(
                    matching.len(),
                    1,
                    "{name:?}: found once but {} pairs match",
                    matching.len()
                );
                assert_eq!(v, matching[0], "{name:?}: value of another pair");
                assert!(
                    contains(data, v),
                    "{name:?}: value is not a substring of the input"
                );
            }
            Err(CookieError::Duplicate(n)) => {
                assert_eq!(n, name, "Duplicate names another cookie");
                assert!(
                    matching.len() >= 2,
                    "{name:?}: Duplicate with {} match(es)",
                    matching.len()
                );
            }
            Err(e) => panic!("get({name:?}) returned {e:?}"),
        }
        match cookies.token(name) {
            CookieValue::Token(t) => {
                assert_eq!(
                    matching.len(),
                    1,
                    "{name:?}: a token from {} pairs",
                    matching.len()
                );
                assert!(!t.is_empty() && t.len() <= 4096, "token length {}", t.len());
                assert!(
                    t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')),
                    "token {t:?} has a character outside [A-Za-z0-9_.-]"
                );
                assert!(contains(data, t.as_bytes()));
            }
            CookieValue::Malformed => {
                assert_eq!(
                    matching.len(),
                    1,
                    "{name:?}: Malformed with {} pairs",
                    matching.len()
                );
            }
            CookieValue::Duplicated => {
                assert!(
                    matching.len() >= 2,
                    "{name:?}: Duplicated with {} pair(s)",
                    matching.len()
                );
            }
            CookieValue::Absent => assert!(matching.is_empty(), "{name:?}: present but Absent"),
        }
    }
});
