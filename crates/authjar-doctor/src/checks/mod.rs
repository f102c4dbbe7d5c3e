//! The checks: pure functions from [`Observations`] (and `now`) to
//! diagnoses. No IO, no clock: everything they know, the probe recorded.
//! Each module owns one part of the post's checklist; browser behaviour
//! comes from the policy crate's model and judge, never re-derived here.

mod cookies;
mod cors;
mod csrf;
mod oauth;
mod session;
mod tls;
mod topology;

use authjar_policy::findings::ids;

pub use cookies::{cookie_rows, BrowserVerdict, CookieRow};
pub use csrf::{coverage as csrf_coverage, judged as csrf_probes, Judged, Verdict};
pub use session::tokenless_refusal;

use crate::diagnosis::{tidy, Diagnosis};
use crate::observe::{Exchange, Observations};

/// Every diagnosis the observations support, errors first.
pub fn check(obs: &Observations, now: i64) -> Vec<Diagnosis> {
    let mut all = Vec::new();
    all.extend(session::check(obs));
    all.extend(tls::check(obs, now));
    all.extend(topology::check(obs, now));
    all.extend(cors::check(obs));
    all.extend(cookies::check(obs, now));
    all.extend(csrf::check(obs, now));
    all.extend(oauth::check(obs, now));
    suppress_explained(tidy(all))
}

/// One finding already explains another: a refused Secure cookie on a
/// plain-http host name says everything `http-fake-domain` would.
fn suppress_explained(mut all: Vec<Diagnosis>) -> Vec<Diagnosis> {
    if all.iter().any(|d| d.id() == ids::SECURE_COOKIE_OVER_HTTP) {
        all.retain(|d| d.id() != ids::HTTP_FAKE_DOMAIN);
    }
    all
}

/// "GET https://api.example.com/auth/me → 401".
pub(crate) fn outcome(e: &Exchange) -> String {
    e.describe_outcome()
}

/// The `error` code of a JSON error body, as evidence.
fn error_code(e: &Exchange) -> Option<String> {
    let v = e.response.as_ref()?.json()?;
    let code = v.get("error")?.as_str()?.to_owned();
    Some(format!("error code: {code}"))
}

/// The outcome of `e`, and the API's error code when it sent one.
pub(crate) fn with_evidence(d: Diagnosis, e: &Exchange) -> Diagnosis {
    let d = d.evidence(outcome(e));
    match error_code(e) {
        Some(c) => d.evidence(c),
        None => d,
    }
}

/// A response header as the evidence line `name: value`, or its absence.
pub(crate) fn header_line(e: &Exchange, name: &str) -> String {
    match e.response.as_ref().and_then(|r| r.header(name)) {
        Some(v) => format!("{name}: {v}"),
        None => format!("(no {name} header)"),
    }
}
