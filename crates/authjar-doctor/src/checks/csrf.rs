//! "CSRF protection implemented and tested", judged by what an attacker's
//! page can do. Every unsafe endpoint was called from another site and
//! from a sibling subdomain without the token, and with a CSRF cookie
//! planted by the sibling (double submit); an answer counts as the API
//! accepting it only when it is evidently the endpoint's answer and had an
//! effect (a login that opened the me path, a session ended, session
//! cookies replaced or deleted; for an `--unsafe-path`, any non-HTML
//! success). What the token alone or the Origin check alone stops is a
//! defence-in-depth note, not a hole. Also: a GET does not change state
//! (docs/browser-facts.md fact 13: a link carries Lax cookies), and the app
//! can actually get hold of the token (fact 8: a host-only cookie of the
//! API is invisible to a sibling host's JavaScript).

use authjar_policy::browser::set_cookie::parse_set_cookie;
use authjar_policy::browser::{BrowserProfile, Jar, RequestContext, UnixTime};
use authjar_policy::findings::ids;
use authjar_policy::{Severity, WebOrigin};
use url::Url;

use super::outcome;
use crate::diagnosis::Diagnosis;
use crate::observe::{Attack, Exchange, Observations, Step, TOKEN_HEADERS, TOKEN_KEYS};

/// Every CSRF finding.
pub fn check(obs: &Observations, now: UnixTime) -> Vec<Diagnosis> {
    let mut out = attacks(obs);
    out.extend(get_changes_state(obs));
    for app in obs.app_origins() {
        out.extend(token_unreadable(obs, &app, now));
    }
    out
}

/// What one CSRF probe showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A 4xx (other than 404/405) or 5xx: refused, whatever the framework's status.
    Refused,
    /// Accepted, with the effect that shows it.
    Accepted(String),
    /// A success without any effect the probe can see: not the endpoint acting.
    NoEffect,
    /// Not the endpoint's answer (none, 404/405, an HTML page): why.
    Unjudged(String),
}

/// One probe and its verdict.
pub struct Judged<'a> {
    /// The request.
    pub exchange: &'a Exchange,
    /// Who sent it.
    pub attack: Attack,
    /// `METHOD path`.
    pub endpoint: String,
    /// The verdict.
    pub verdict: Verdict,
}

/// A response that deletes a cookie (empty value or `Max-Age<=0`): its name.
fn deleted_cookies(e: &Exchange) -> Vec<String> {
    e.response
        .as_ref()
        .map(|r| {
            r.set_cookies()
                .into_iter()
                .filter_map(|l| parse_set_cookie(l).ok())
                .filter(|c| c.max_age.is_some_and(|m| m <= 0) || c.value.is_empty())
                .map(|c| c.name)
                .filter(|n| !crate::observe::csrf_named(n))
                .collect()
        })
        .unwrap_or_default()
}

fn verdict(
    obs: &Observations,
    e: &Exchange,
    me: Option<&Exchange>,
    session_worked: bool,
) -> Verdict {
    let Step::Attack { method, path, .. } = &e.step else {
        return Verdict::Unjudged(String::new());
    };
    let Some(r) = e.response.as_ref() else {
        return Verdict::Unjudged(format!(
            "{method} {path} failed: {}",
            e.error.as_deref().unwrap_or("no answer")
        ));
    };
    if matches!(r.status, 404 | 405) {
        return Verdict::Unjudged(format!(
            "{method} {path} answered {}: no such endpoint",
            r.status
        ));
    }
    if r.status >= 400 {
        return Verdict::Refused;
    }
    if r.is_html() {
        return Verdict::Unjudged(format!(
            "{method} {path} answered {} with an HTML page, not the API's answer",
            r.status
        ));
    }
    let me_status = me.and_then(|m| m.response.as_ref()).map(|m| m.status);
    let me_ok = me_status.is_some_and(|s| (200..300).contains(&s));
    let changed: Vec<String> = match me.map(|m| &m.step) {
        Some(Step::MeAfterAttack { changed, .. }) => changed.clone(),
        _ => Vec::new(),
    };
    let p = &obs.paths;
    if method == "POST" && *path == p.login {
        return if me_ok {
            Verdict::Accepted(
                "it logged in: the me path then answered with the cookies it set".into(),
            )
        } else {
            Verdict::NoEffect
        };
    }
    let known = [&p.refresh, &p.logout].iter().any(|e| {
        e.as_ref()
            .is_some_and(|e| e.method == *method && e.path == *path)
    });
    if !known {
        return Verdict::Accepted(format!(
            "answered {} (an unsafe endpoint named with --unsafe-path)",
            r.status
        ));
    }
    if session_worked && !me_ok {
        let status = me_status.map_or("no answer".to_owned(), |s| s.to_string());
        return Verdict::Accepted(format!(
            "it ended the session: the me path then answered {status}"
        ));
    }
    let mut touched = changed;
    for d in deleted_cookies(e) {
        if !touched.contains(&d) {
            touched.push(d);
        }
    }
    if touched.is_empty() {
        Verdict::NoEffect
    } else {
        Verdict::Accepted(format!(
            "it replaced or deleted the session's cookies: {}",
            touched.join(", ")
        ))
    }
}

/// Every CSRF probe, judged.
pub fn judged(obs: &Observations) -> Vec<Judged<'_>> {
    let session_worked = obs
        .steps(|s| matches!(s, Step::Me | Step::Relogin))
        .any(|e| e.response.as_ref().is_some_and(|r| r.is_success()));
    let ex = &obs.exchanges;
    let mut out = Vec::new();
    for (i, e) in ex.iter().enumerate() {
        let Step::Attack {
            method,
            path,
            attack,
        } = &e.step
        else {
            continue;
        };
        let me = ex[i + 1..].iter().find(|m| {
            matches!(&m.step, Step::MeAfterAttack { path: p, attack: a, .. } if p == path && a == attack)
        });
        out.push(Judged {
            exchange: e,
            attack: *attack,
            endpoint: format!("{method} {path}"),
            verdict: verdict(obs, e, me, session_worked),
        });
    }
    out
}

/// Whether the CSRF probes ran, and the endpoints they could not judge.
pub fn coverage(obs: &Observations) -> (bool, Vec<String>) {
    let all = judged(obs);
    let checked = all
        .iter()
        .any(|j| !matches!(j.verdict, Verdict::Unjudged(_)));
    let mut notes: Vec<String> = Vec::new();
    let mut endpoints: Vec<&str> = all.iter().map(|j| j.endpoint.as_str()).collect();
    endpoints.dedup();
    for ep in endpoints {
        let mine: Vec<&Judged<'_>> = all.iter().filter(|j| j.endpoint == ep).collect();
        if mine
            .iter()
            .all(|j| matches!(j.verdict, Verdict::Unjudged(_)))
        {
            if let Some(Verdict::Unjudged(why)) = mine.first().map(|j| &j.verdict) {
                if !notes.contains(why) {
                    notes.push(why.clone());
                }
            }
        }
    }
    (checked, notes)
}

fn evidence(obs: &Observations, j: &Judged<'_>, effect: &str) -> String {
    let e = j.exchange;
    let origin = e.request_header("origin").unwrap_or("(none)");
    let token = if e.request_header(&obs.csrf_header).is_some() {
        match j.attack {
            Attack::Planted => format!("{} = the planted cookie's value", obs.csrf_header),
            _ => format!("a valid {}", obs.csrf_header),
        }
    } else {
        format!("no {} header", obs.csrf_header)
    };
    format!("{} (origin: {origin}, {token}): {effect}", outcome(e))
}

/// `csrf-not-enforced` for what an attacker's page got accepted (an
/// error), or for a token that is not required where the Origin check
/// stopped the attacker (a note); `csrf-foreign-origin-accepted` (a note)
/// for a valid token accepted from another site.
fn attacks(obs: &Observations) -> Vec<Diagnosis> {
    let all = judged(obs);
    let accepted = |pred: &dyn Fn(Attack) -> bool| -> Vec<(&Judged<'_>, String)> {
        all.iter()
            .filter(|j| pred(j.attack))
            .filter_map(|j| match &j.verdict {
                Verdict::Accepted(effect) => Some((j, effect.clone())),
                _ => None,
            })
            .collect()
    };
    let holes = accepted(&|a: Attack| a.by_attacker());
    if !holes.is_empty() {
        let mut calls: Vec<String> = Vec::new();
        for (j, _) in &holes {
            let c = format!("{} {}", j.endpoint, j.attack.describe());
            if !calls.contains(&c) {
                calls.push(c);
            }
        }
        let mut d = Diagnosis::new(
            ids::CSRF_NOT_ENFORCED,
            format!(
                "an attacker's page gets these accepted: {}",
                calls.join("; ")
            ),
        );
        for (j, effect) in &holes {
            d = d.evidence(evidence(obs, j, effect));
        }
        let planted = holes.iter().any(|(j, _)| j.attack == Attack::Planted);
        let login_only = holes
            .iter()
            .all(|(j, _)| j.endpoint == format!("POST {}", obs.paths.login));
        if planted && holes.iter().all(|(j, _)| j.attack == Attack::Planted) {
            d = d.fix("The CSRF check compares the header with a cookie any sibling subdomain can overwrite (double submit without binding: the token is tossable). Bind the token to the session (store it server-side, or sign it with the session id), and refuse unsafe requests whose Origin is not an allowed origin.");
        } else if login_only {
            d = d.fix("Check the CSRF token on login too (login CSRF logs the victim into the attacker's account): hand out a pre-session token from the CSRF path and require it, and refuse logins whose Origin is not an allowed origin.");
        } else {
            let mut endpoints: Vec<&str> = holes.iter().map(|(j, _)| j.endpoint.as_str()).collect();
            endpoints.dedup();
            d = d.fix(format!(
                "Put {} behind the CSRF check like every unsafe endpoint (logout included: from a sibling subdomain a plain form logs the user out): refuse it with a 403 when the token is missing or wrong, or when the Origin is not an allowed origin; bind the token to the session.",
                endpoints.join(", ")
            ));
        }
        return vec![d];
    }
    let mut out = Vec::new();
    let tokenless = accepted(&|a: Attack| a == Attack::NoToken);
    if !tokenless.is_empty() {
        let calls: Vec<String> = tokenless.iter().map(|(j, _)| j.endpoint.clone()).collect();
        let mut d = Diagnosis::new(
            ids::CSRF_NOT_ENFORCED,
            format!(
                "{} accepted without {} from the app's origin; the Origin check alone refused every attacker's request",
                calls.join(", "),
                obs.csrf_header
            ),
        )
        .severity(Severity::Info)
        .fix("Nothing an attacker's page can send was accepted. For defence in depth, also require the CSRF token.");
        for (j, effect) in &tokenless {
            d = d.evidence(evidence(obs, j, effect));
        }
        out.push(d);
    }
    let foreign = accepted(&|a: Attack| a == Attack::ForeignWithToken);
    if let Some((first, _)) = foreign.first() {
        let origin = first.exchange.request_header("origin").unwrap_or("(none)");
        let calls: Vec<&str> = foreign.iter().map(|(j, _)| j.endpoint.as_str()).collect();
        let mut d = Diagnosis::new(
            ids::CSRF_FOREIGN_ORIGIN_ACCEPTED,
            format!(
                "{} from Origin: {origin} with a valid token accepted; only the token, which that origin cannot read, stopped the requests without it",
                calls.join(", ")
            ),
        )
        .severity(Severity::Info);
        for (j, effect) in &foreign {
            d = d.evidence(evidence(obs, j, effect));
        }
        out.push(d);
    }
    out
}

fn me_ok(e: &Exchange) -> bool {
    e.response.as_ref().is_some_and(|r| r.is_success())
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
            Step::Me | Step::MeAfterRefresh | Step::Relogin => session_ok = Some(me_ok(e)),
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

fn has_token_key(v: &serde_json::Value, depth: usize) -> bool {
    let Some(map) = v.as_object() else {
        return false;
    };
    TOKEN_KEYS.iter().any(|k| map.contains_key(*k))
        || (depth < 3 && map.values().any(|c| has_token_key(c, depth + 1)))
}

/// True when any response to the app carried the token where its script
/// can read it without a cookie: a JSON body (the CSRF path's `token`
/// included) or a response header.
fn token_in_body(obs: &Observations, app: &WebOrigin) -> bool {
    let app = app.to_string();
    obs.exchanges
        .iter()
        .filter(|e| e.app.as_deref() == Some(app.as_str()))
        .filter_map(|e| Some((e, e.response.as_ref()?)))
        .any(|(e, r)| {
            let csrf_path = matches!(e.step, Step::CsrfToken | Step::SessionCsrfToken);
            r.json()
                .is_some_and(|v| has_token_key(&v, 0) || (csrf_path && v.get("token").is_some()))
                || TOKEN_HEADERS
                    .iter()
                    .chain([&obs.csrf_header.as_str()])
                    .any(|h| r.header(h).is_some())
        })
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
        let line = e
            .response
            .as_ref()?
            .set_cookies()
            .into_iter()
            .find(|l| parse_set_cookie(l).is_ok_and(|c| crate::observe::csrf_named(&c.name)))?;
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
