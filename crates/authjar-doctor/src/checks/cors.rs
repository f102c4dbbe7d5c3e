//! "CORS configured with actual production domains", as the browser checks
//! it (docs/browser-facts.md fact 14): for each cross-origin app, every response
//! carries the exact origin and `Access-Control-Allow-Credentials: true`
//! (no `*`, no trailing slash), `Vary: Origin` where the header is echoed,
//! preflights succeed and allow `Content-Type` and the CSRF header; and no
//! foreign, `null` or development origin is echoed.

use authjar_policy::findings::ids;
use authjar_policy::WebOrigin;

use super::{header_line, outcome};
use crate::diagnosis::Diagnosis;
use crate::observe::{Exchange, Observations, RecordedResponse, Step};

/// Most evidence lines kept per diagnosis.
const MAX_EVIDENCE: usize = 3;

/// Every CORS finding.
pub fn check(obs: &Observations) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let Some(api) = obs.api_origin() else {
        return out;
    };
    for app in obs.app_origins().iter().filter(|a| **a != api) {
        out.extend(for_app(obs, app));
    }
    out.extend(foreign(obs));
    out.extend(dev_origins(obs));
    out
}

/// One problem on one response.
struct Problem<'a> {
    id: &'static str,
    exchange: &'a Exchange,
    header: &'static str,
}

fn acao(r: &RecordedResponse) -> Option<&str> {
    r.header("access-control-allow-origin")
}

fn for_app(obs: &Observations, app: &WebOrigin) -> Vec<Diagnosis> {
    let origin = app.to_string();
    let seen: Vec<&Exchange> = obs
        .exchanges
        .iter()
        .filter(|e| e.app.as_deref() == Some(origin.as_str()))
        .filter(|e| e.request_header("origin") == Some(origin.as_str()))
        .filter(|e| e.response.is_some())
        .collect();
    let readable_success = seen.iter().any(|e| {
        e.response
            .as_ref()
            .is_some_and(|r| r.is_success() && acao(r) == Some(origin.as_str()))
    });
    let static_header = obs
        .steps(|s| matches!(s, Step::ForeignOrigin { .. }))
        .filter_map(|e| e.response.as_ref())
        .any(|r| acao(r) == Some(origin.as_str()));
    let ctx = AppContext {
        origin: &origin,
        csrf_header: &obs.csrf_header,
        readable_success,
        static_header,
    };
    let mut problems = Vec::new();
    for e in &seen {
        ctx.problems(e, &mut problems);
    }
    group(app, &seen, problems)
}

struct AppContext<'a> {
    origin: &'a str,
    csrf_header: &'a str,
    /// Some successful response was readable: missing headers elsewhere are the error path's.
    readable_success: bool,
    /// The API sends this origin to foreign origins too: a static header needs no `Vary`.
    static_header: bool,
}

impl AppContext<'_> {
    fn problems<'e>(&self, e: &'e Exchange, out: &mut Vec<Problem<'e>>) {
        let Some(r) = e.response.as_ref() else { return };
        let found = if e.request.method != "OPTIONS" {
            self.cors_headers(r)
        } else if r.is_success() {
            let mut v = self.allowed_request_headers(r);
            v.extend(self.cors_headers(r));
            v
        } else {
            vec![(ids::CORS_PREFLIGHT_REFUSED, "")]
        };
        out.extend(found.into_iter().map(|(id, header)| Problem {
            id,
            exchange: e,
            header,
        }));
    }

    /// A preflight must allow the CSRF header and `Content-Type`.
    fn allowed_request_headers(&self, r: &RecordedResponse) -> Vec<(&'static str, &'static str)> {
        let allowed = allowed_headers(r);
        let mut out = Vec::new();
        let header = "access-control-allow-headers";
        if !allowed.iter().any(|h| h == self.csrf_header) {
            out.push((ids::CORS_CSRF_HEADER_NOT_ALLOWED, header));
        }
        if !allowed.iter().any(|h| h == "content-type") {
            out.push((ids::CORS_CONTENT_TYPE_NOT_ALLOWED, header));
        }
        out
    }

    /// The exact origin, credentials and `Vary: Origin`.
    fn cors_headers(&self, r: &RecordedResponse) -> Vec<(&'static str, &'static str)> {
        let origin_header = "access-control-allow-origin";
        let Some(value) = acao(r) else {
            let id = if r.status >= 400 && self.readable_success {
                ids::CORS_MISSING_ON_ERROR_RESPONSES
            } else {
                ids::CORS_ORIGIN_NOT_ECHOED
            };
            return vec![(id, origin_header)];
        };
        let mut out = Vec::new();
        if let Some(id) = self.origin_problem(value) {
            out.push((id, origin_header));
        } else if !self.static_header && !varies_on_origin(r) {
            out.push((ids::CORS_MISSING_VARY_ORIGIN, "vary"));
        }
        if r.header("access-control-allow-credentials") != Some("true") {
            out.push((
                ids::CORS_CREDENTIALS_NOT_ALLOWED,
                "access-control-allow-credentials",
            ));
        }
        out
    }

    fn origin_problem(&self, value: &str) -> Option<&'static str> {
        let value = value.trim();
        if value == "*" {
            return Some(ids::CORS_WILDCARD_WITH_CREDENTIALS);
        }
        if value.len() > 1 && value.ends_with('/') && value.trim_end_matches('/') == self.origin {
            return Some(ids::CORS_TRAILING_SLASH_ORIGIN);
        }
        (value != self.origin).then_some(ids::CORS_ORIGIN_NOT_ECHOED)
    }
}

fn allowed_headers(r: &RecordedResponse) -> Vec<String> {
    r.headers_named("access-control-allow-headers")
        .flat_map(|v| v.split(','))
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

fn varies_on_origin(r: &RecordedResponse) -> bool {
    r.headers_named("vary")
        .flat_map(|v| v.split(','))
        .any(|v| v.trim().eq_ignore_ascii_case("origin") || v.trim() == "*")
}

/// One diagnosis per id: which of the app's requests showed it, and how.
fn group(app: &WebOrigin, seen: &[&Exchange], problems: Vec<Problem<'_>>) -> Vec<Diagnosis> {
    let mut order: Vec<&'static str> = Vec::new();
    for p in &problems {
        if !order.contains(&p.id) {
            order.push(p.id);
        }
    }
    order
        .into_iter()
        .map(|id| {
            let mine: Vec<&Problem<'_>> = problems.iter().filter(|p| p.id == id).collect();
            let requests: Vec<String> = mine.iter().map(|p| short(p.exchange)).collect();
            let mut d = Diagnosis::new(
                id,
                format!(
                    "for {app}: {} of {} responses ({})",
                    mine.len(),
                    seen.len(),
                    requests.join(", ")
                ),
            );
            for p in mine.iter().take(MAX_EVIDENCE) {
                d = d.evidence(evidence(p));
            }
            d
        })
        .collect()
}

/// "POST /auth/login" (path only, for a compact detail).
fn short(e: &Exchange) -> String {
    let path = e
        .url()
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|| e.request.url.clone());
    let what = if e.request.method == "OPTIONS" {
        "preflight"
    } else {
        e.request.method.as_str()
    };
    format!("{what} {path}")
}

fn evidence(p: &Problem<'_>) -> String {
    if p.header.is_empty() {
        return outcome(p.exchange);
    }
    format!(
        "{}: {}",
        outcome(p.exchange),
        header_line(p.exchange, p.header)
    )
}

/// An echoed foreign origin with credentials lets any such page read the user's data.
fn foreign(obs: &Observations) -> Vec<Diagnosis> {
    obs.steps(|s| {
        matches!(
            s,
            Step::ForeignOrigin { .. } | Step::ForeignPreflight { .. }
        )
    })
    .filter_map(|e| {
        let origin = e.request_header("origin")?;
        let r = e.response.as_ref()?;
        let echoed =
            acao(r) == Some(origin) && r.header("access-control-allow-credentials") == Some("true");
        echoed.then(|| {
            Diagnosis::new(
                ids::CORS_FOREIGN_ORIGIN_ECHOED,
                format!("the API allows Origin: {origin} with credentials"),
            )
            .evidence(format!(
                "{} with origin: {origin}: {}",
                outcome(e),
                header_line(e, "access-control-allow-origin")
            ))
        })
    })
    .collect()
}

/// A production API that still allows `localhost` pages.
fn dev_origins(obs: &Observations) -> Vec<Diagnosis> {
    obs.steps(|s| matches!(s, Step::DevOrigin { .. }))
        .filter_map(|e| {
            let origin = e.request_header("origin")?;
            (acao(e.response.as_ref()?) == Some(origin)).then(|| {
                Diagnosis::new(
                    ids::LOCALHOST_ORIGIN_IN_PRODUCTION,
                    format!("the production API allows Origin: {origin}"),
                )
                .evidence(format!(
                    "{} with origin: {origin}: {}",
                    outcome(e),
                    header_line(e, "access-control-allow-origin")
                ))
                .fix("Remove localhost and 127.0.0.1 origins from the production CORS allowlist; list the real https frontends.")
            })
        })
        .collect()
}
