//! Whether the probe could do what the app's page does: log in, be
//! recognised, refresh ("auth works, then stops"). A deployment that blocks
//! the probe is a problem found, with the status and error code as evidence.

use authjar_policy::findings::ids;
use authjar_policy::WebOrigin;

use super::with_evidence;
use crate::diagnosis::Diagnosis;
use crate::observe::{Exchange, Observations, Step};
use crate::target::CredentialMode;

/// Login, session and refresh findings.
pub fn check(obs: &Observations) -> Vec<Diagnosis> {
    if obs.credentials == CredentialMode::None {
        return vec![Diagnosis::new(
            ids::PROBE_WITHOUT_CREDENTIALS,
            "only what an anonymous browser sees was checked",
        )];
    }
    let mut out = Vec::new();
    for app in obs.app_origins() {
        out.extend(login(obs, &app));
        out.extend(me(obs, &app));
        out.extend(refresh(obs, &app));
    }
    out
}

fn login_fix(status: Option<u16>) -> Option<&'static str> {
    Some(match status? {
        401 => "The deployment refused the test credentials: check --email/--password (and --login-body for another body shape).",
        403 | 419 => "The deployment's CSRF or origin check refused the login a browser on the app would send: check that the app's origin is allowed and that --csrf-path/--csrf-header (and --csrf-from) name where the token comes from and goes.",
        404 | 405 => "No login endpoint there: pass --login-path (and --login-body) for this API.",
        415 | 400 | 422 => "The login body is not what the API expects: pass --login-body with its JSON shape, e.g. '{\"username\":\"{email}\",\"password\":\"{password}\"}'.",
        429 => "The deployment rate-limited the probe: wait and run the doctor again.",
        _ => return None,
    })
}

/// A refusal that may be the CSRF check's of a request the probe had to
/// send without a token, because it found none: the probe's limit, not the
/// deployment's mistake ("not checked" in the report).
pub fn tokenless_refusal(obs: &Observations, e: &Exchange) -> bool {
    e.request_header(&obs.csrf_header).is_none()
        && e.response
            .as_ref()
            .is_some_and(|r| matches!(r.status, 400 | 403 | 419 | 422))
}

fn login(obs: &Observations, app: &WebOrigin) -> Option<Diagnosis> {
    if obs.credentials != CredentialMode::Login {
        return None;
    }
    let e = obs.find(&Step::Login, app)?;
    let status = e.response.as_ref().map(|r| r.status);
    if status.is_some_and(|s| (200..300).contains(&s)) || tokenless_refusal(obs, e) {
        return None;
    }
    let d = Diagnosis::new(
        ids::LOGIN_FAILED,
        format!("login from {app} did not succeed"),
    );
    let d = match login_fix(status) {
        Some(fix) => d.fix(fix),
        None => d,
    };
    Some(with_evidence(d, e))
}

fn me(obs: &Observations, app: &WebOrigin) -> Option<Diagnosis> {
    let e = obs.find(&Step::Me, app)?;
    if e.response.as_ref().is_some_and(|r| r.is_success()) {
        return None;
    }
    let how = match obs.credentials {
        CredentialMode::Cookie => "the --cookie session",
        _ => "the session from a successful login",
    };
    let d = Diagnosis::new(
        ids::SESSION_NOT_RECOGNISED,
        format!("{how} is not accepted by {}", e.request.url),
    );
    Some(with_evidence(d, e))
}

fn refresh(obs: &Observations, app: &WebOrigin) -> Option<Diagnosis> {
    let e = obs.find(&Step::Refresh, app)?;
    let status = e.response.as_ref().map(|r| r.status);
    if matches!(status, Some(404 | 405)) || tokenless_refusal(obs, e) {
        return None;
    }
    if !status.is_some_and(|s| (200..300).contains(&s)) {
        let d = Diagnosis::new(
            ids::REFRESH_FAILED,
            format!("refresh from {app} with the session's cookies and CSRF token failed"),
        );
        return Some(with_evidence(d, e));
    }
    let after = obs.find(&Step::MeAfterRefresh, app)?;
    if after.response.as_ref().is_some_and(|r| r.is_success()) {
        return None;
    }
    let d = Diagnosis::new(
        ids::REFRESH_FAILED,
        format!("after a successful refresh from {app}, the session is no longer recognised"),
    );
    Some(with_evidence(d, after))
}
