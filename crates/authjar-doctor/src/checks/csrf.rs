//! "CSRF protection implemented and tested": an unsafe request without the
//! token is refused, one from a foreign `Origin` is refused, a GET does not
//! change state (docs/browser-facts.md fact 13: a link carries Lax cookies), and the
//! app can actually get hold of the token (fact 8: a host-only cookie of the
//! API is invisible to a sibling host's JavaScript).

use authjar_policy::browser::set_cookie::parse_set_cookie;
use authjar_policy::browser::{BrowserProfile, Jar, RequestContext, UnixTime};
use authjar_policy::findings::ids;
use authjar_policy::WebOrigin;
use url::Url;

use super::outcome;
use crate::diagnosis::Diagnosis;
use crate::observe::{Exchange, Observations, Step, TOKEN_KEYS};

/// Every CSRF finding.
pub fn check(obs: &Observations, now: UnixTime) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    match not_enforced(obs) {
        Some(d) => out.push(d),
        None => out.extend(foreign_origin_accepted(obs)),
    }
    out.extend(get_changes_state(obs));
    for app in obs.app_origins() {
        out.extend(token_unreadable(obs, &app, now));
    }
    out
}

fn accepted(e: &Exchange) -> bool {
    e.response.as_ref().is_some_and(|r| r.is_success())
}

fn not_enforced(obs: &Observations) -> Option<Diagnosis> {
    let hits: Vec<&Exchange> = obs
        .steps(|s| matches!(s, Step::LoginWithoutToken | Step::WithoutToken { .. }))
        .filter(|e| accepted(e))
        .collect();
    let first = hits.first()?;
    let calls: Vec<String> = hits.iter().map(|e| e.describe()).collect();
    let mut d = Diagnosis::new(
        ids::CSRF_NOT_ENFORCED,
        format!("accepted without {}: {}", obs.csrf_header, calls.join(", ")),
    );
    for e in &hits {
        d = d.evidence(format!(
            "{} (no {} header sent)",
            outcome(e),
            obs.csrf_header
        ));
    }
    if first.step == Step::LoginWithoutToken && hits.len() == 1 {
        d = d.fix("Check the CSRF token on login too (login CSRF logs the victim into the attacker's account): hand out a pre-session token from the CSRF path and require it.");
    }
    Some(d)
}

fn foreign_origin_accepted(obs: &Observations) -> Vec<Diagnosis> {
    obs.steps(|s| matches!(s, Step::ForeignOriginWithToken { .. }))
        .filter(|e| accepted(e))
        .map(|e| {
            let origin = e.request_header("origin").unwrap_or("(none)");
            Diagnosis::new(
                ids::CSRF_FOREIGN_ORIGIN_ACCEPTED,
                format!("{} from Origin: {origin} was accepted", e.describe()),
            )
            .evidence(format!("{} with origin: {origin}", outcome(e)))
        })
        .collect()
}

fn me_ok(e: &Exchange) -> bool {
    accepted(e)
}

/// True when a response deletes a cookie (empty value, `Max-Age<=0`).
fn deletes_cookie(e: &Exchange) -> Option<String> {
    let r = e.response.as_ref()?;
    r.set_cookies().into_iter().find_map(|l| {
        let c = parse_set_cookie(l).ok()?;
        let deleted = c.max_age.is_some_and(|m| m <= 0) || c.value.is_empty();
        deleted.then(|| crate::redact::display_set_cookie(l))
    })
}

/// A GET that clears cookies, or after which a working session stops working.
fn get_changes_state(obs: &Observations) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let mut session_ok: Option<bool> = None;
    let mut pending: Option<&Exchange> = None;
    for e in &obs.exchanges {
        match &e.step {
            Step::Me | Step::MeAfterRefresh => session_ok = Some(me_ok(e)),
            Step::UnsafeGet { .. } => pending = Some(e),
            Step::MeAfterGet { .. } => {
                let lost = (session_ok == Some(true) && !me_ok(e)).then_some(e);
                session_ok = Some(me_ok(e));
                let Some(get) = pending.take() else { continue };
                out.extend(changed(get, lost));
            }
            _ => {}
        }
    }
    out
}

/// `lost`: the me request after `get`, when the session worked before and not after.
fn changed(get: &Exchange, lost: Option<&Exchange>) -> Option<Diagnosis> {
    let r = get.response.as_ref()?;
    if r.status >= 400 {
        return None;
    }
    let cleared = deletes_cookie(get);
    if cleared.is_none() && lost.is_none() {
        return None;
    }
    let mut d = Diagnosis::new(
        ids::GET_CHANGES_STATE,
        format!(
            "{} (a top-level GET, as a link on another site makes it) changed the session",
            get.describe()
        ),
    )
    .evidence(outcome(get));
    if let Some(line) = cleared {
        d = d.evidence(line);
    }
    if let Some(me) = lost {
        d = d.evidence(format!("then {}", outcome(me)));
    }
    Some(d)
}

/// True when any response to the app carried the token in its JSON body.
fn token_in_body(obs: &Observations, app: &WebOrigin) -> bool {
    let app = app.to_string();
    obs.exchanges
        .iter()
        .filter(|e| e.app.as_deref() == Some(app.as_str()))
        .filter_map(|e| e.response.as_ref()?.json())
        .any(|v| TOKEN_KEYS.iter().any(|k| v.get(k).is_some()))
}

/// The first response to the app that sets a cookie named like a CSRF token.
fn csrf_cookie<'a>(obs: &'a Observations, app: &WebOrigin) -> Option<(&'a Exchange, &'a str)> {
    let steps = [
        Step::CsrfToken,
        Step::SessionCsrfToken,
        Step::Login,
        Step::Refresh,
    ];
    steps.iter().find_map(|s| {
        let e = obs.find(s, app)?;
        let line = e.response.as_ref()?.set_cookies().into_iter().find(|l| {
            parse_set_cookie(l).is_ok_and(|c| {
                let n = c.name.to_ascii_lowercase();
                n.contains("csrf") || n.contains("xsrf")
            })
        })?;
        Some((e, line))
    })
}

/// Whether `document.cookie` on the app's page shows the cookie `line` sets.
fn readable_by_app(app: &WebOrigin, e: &Exchange, line: &str, now: UnixTime) -> Option<bool> {
    let mut jar = Jar::new(BrowserProfile::CHROMIUM);
    jar.store(
        line,
        &RequestContext::fetch(app, e.url()?, &e.request.method),
        now,
    );
    let page = Url::parse(&format!("{app}/")).ok()?;
    let name = parse_set_cookie(line).ok()?.name;
    Some(
        jar.visible_to_script(&page, now)
            .iter()
            .any(|c| c.name == name),
    )
}

/// The token only in a cookie the app's page cannot read breaks every unsafe call.
fn token_unreadable(obs: &Observations, app: &WebOrigin, now: UnixTime) -> Option<Diagnosis> {
    if token_in_body(obs, app) {
        return None;
    }
    let (e, line) = csrf_cookie(obs, app)?;
    if readable_by_app(app, e, line, now)? {
        return None;
    }
    let name = parse_set_cookie(line).ok()?.name;
    Some(
        Diagnosis::new(
            ids::CSRF_TOKEN_UNREADABLE,
            format!("{name} is not visible to document.cookie on {app}, and no response body carries the token"),
        )
        .evidence(format!("{}: {}", outcome(e), crate::redact::display_set_cookie(line))),
    )
}
