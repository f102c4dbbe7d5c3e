//! Where the CSRF token is: the source `--csrf-from` names, or the shapes
//! frameworks use, looked for in this order: a JSON key of the answer (at
//! any depth; a bare `token` only on the CSRF path's answer, Spring's
//! shape, since elsewhere it is more often a bearer token), a response
//! header (Rails apps), then a readable cookie named like a CSRF token
//! (Django's `csrftoken`, Laravel's URL-encoded `XSRF-TOKEN`).

use super::jar::RawJar;
use super::request::Sent;
use super::Probe;
use crate::observe::{TOKEN_HEADERS, TOKEN_KEYS};
use crate::target::CsrfFrom;

/// A token found, and the cookie it lives in when it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub(super) value: String,
    pub(super) cookie: Option<String>,
}

/// How deep in a JSON answer a token key is looked for.
const MAX_DEPTH: usize = 3;

fn json_key(v: &serde_json::Value, keys: &[&str], depth: usize) -> Option<String> {
    let map = v.as_object()?;
    if let Some(t) = keys
        .iter()
        .find_map(|k| map.get(*k)?.as_str().filter(|s| !s.is_empty()))
    {
        return Some(t.to_owned());
    }
    if depth >= MAX_DEPTH {
        return None;
    }
    map.values().find_map(|c| json_key(c, keys, depth + 1))
}

impl Probe<'_> {
    /// The token `sent` hands out. `cookie`: the cookie a token found
    /// before lives in (re-read from `jar`, frameworks rotate it), or
    /// `Some(None)` to look for any CSRF-named cookie; `None`: no cookie.
    pub(super) fn token_in(
        &self,
        sent: &Sent,
        jar: &RawJar,
        csrf_path: bool,
        cookie: Option<Option<&str>>,
    ) -> Option<Found> {
        let plain = |value: String| Found {
            value,
            cookie: None,
        };
        match &self.target.csrf_from {
            Some(CsrfFrom::Json(k)) => sent
                .json()
                .and_then(|v| json_key(&v, &[k.as_str()], 0))
                .map(plain),
            Some(CsrfFrom::Header(h)) => sent.header(h).map(|t| plain(t.to_owned())),
            Some(CsrfFrom::Cookie(n)) => jar.decoded(n).map(|value| Found {
                value,
                cookie: Some(n.clone()),
            }),
            None => {
                let mut keys = TOKEN_KEYS.to_vec();
                if csrf_path {
                    keys.push("token");
                }
                let json = sent.json().and_then(|v| json_key(&v, &keys, 0));
                let header = || {
                    TOKEN_HEADERS
                        .iter()
                        .copied()
                        .chain([self.target.csrf_header.as_str()])
                        .find_map(|h| sent.header(h))
                        .map(str::to_owned)
                };
                let from_cookie = || match cookie? {
                    Some(name) => jar.decoded(name).map(|value| Found {
                        value,
                        cookie: Some(name.to_owned()),
                    }),
                    None => jar.csrf_token().map(|(name, value)| Found {
                        value,
                        cookie: Some(name),
                    }),
                };
                json.or_else(header).map(plain).or_else(from_cookie)
            }
        }
    }
}
