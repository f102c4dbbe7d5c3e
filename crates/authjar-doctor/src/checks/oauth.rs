//! "OAuth redirect URLs point to production" and "cookies persisting through
//! the redirect": for each provider the API lists, the `redirect_uri` its
//! start URL sends to the provider is https, not `localhost`, and on the
//! API (or an app); and the state cookie set on the start comes back on the
//! provider's top-level redirect to the callback (docs/browser-facts.md fact 12).

use authjar_policy::browser::set_cookie::parse_set_cookie;
use authjar_policy::browser::{BrowserProfile, Jar, RequestContext, StoreOutcome, UnixTime};
use authjar_policy::findings::ids;
use authjar_policy::{Scheme, WebOrigin};
use url::Url;

use super::{cookies::withheld_reason, header_line, outcome, with_evidence};
use crate::diagnosis::Diagnosis;
use crate::observe::{Exchange, Observations, Step};
use crate::redact::display_set_cookie;

/// Every OAuth finding.
pub fn check(obs: &Observations, now: UnixTime) -> Vec<Diagnosis> {
    obs.steps(|s| matches!(s, Step::OauthStart { .. }))
        .flat_map(|e| provider(obs, e, now))
        .collect()
}

fn provider_id(e: &Exchange) -> &str {
    match &e.step {
        Step::OauthStart { provider } => provider,
        _ => "",
    }
}

fn provider(obs: &Observations, e: &Exchange, now: UnixTime) -> Vec<Diagnosis> {
    let id = provider_id(e);
    let Some(r) = e.response.as_ref() else {
        return vec![start_failed(e, format!("{id}: the start URL failed"))];
    };
    let location = r
        .header("location")
        .and_then(|l| e.url()?.join(l).ok())
        .filter(|_| r.is_redirect());
    let Some(location) = location else {
        return vec![start_failed(
            e,
            format!(
                "{id}: the start URL answered {} without a redirect",
                r.status
            ),
        )];
    };
    let Some(redirect_uri) = location
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
    else {
        return Vec::new();
    };
    if let Some(d) = redirect_uri_problem(obs, id, &redirect_uri) {
        return vec![d.evidence(outcome(e)).evidence(header_line(e, "location"))];
    }
    let Ok(callback) = Url::parse(&redirect_uri) else {
        return Vec::new();
    };
    state_cookie(e, &location, &callback, now)
}

fn start_failed(e: &Exchange, detail: String) -> Diagnosis {
    with_evidence(Diagnosis::new(ids::OAUTH_START_FAILED, detail), e)
}

/// localhost beats http beats "elsewhere": report the one that explains it.
fn redirect_uri_problem(obs: &Observations, id: &str, redirect_uri: &str) -> Option<Diagnosis> {
    let detail = |what: &str| format!("{id}: redirect_uri={redirect_uri} {what}");
    let Some(origin) = Url::parse(redirect_uri)
        .ok()
        .and_then(|u| WebOrigin::of_url(&u).ok())
    else {
        return Some(Diagnosis::new(
            ids::OAUTH_REDIRECT_URI_MISMATCH,
            detail("is not an absolute http(s) URL"),
        ));
    };
    let production = obs.production();
    if production && origin.is_loopback() {
        return Some(Diagnosis::new(
            ids::OAUTH_REDIRECT_URI_LOCALHOST,
            detail("points at this machine, not the production API"),
        ));
    }
    if production && origin.scheme() == Scheme::Http {
        return Some(Diagnosis::new(
            ids::OAUTH_REDIRECT_URI_HTTP,
            detail("is plain http"),
        ));
    }
    let api = obs.api_url()?;
    let on_api = origin == *api.origin()
        && Url::parse(redirect_uri).is_ok_and(|u| u.path().starts_with(api.base_path()));
    if on_api || obs.app_origins().contains(&origin) {
        return None;
    }
    Some(Diagnosis::new(
        ids::OAUTH_REDIRECT_URI_MISMATCH,
        detail(&format!("is not under the API URL {api}")),
    ))
}

/// The cookies the start sets must ride the provider's redirect back.
fn state_cookie(e: &Exchange, location: &Url, callback: &Url, now: UnixTime) -> Vec<Diagnosis> {
    let (Some(r), Some(start), Some(app)) = (
        e.response.as_ref(),
        e.url(),
        e.app.as_deref().and_then(|a| WebOrigin::parse(a).ok()),
    ) else {
        return Vec::new();
    };
    let provider = WebOrigin::of_url(location).ok();
    let (Some(start_ctx), Some(back)) = (
        RequestContext::navigate(start, Some(&app), "GET"),
        RequestContext::navigate(callback.clone(), provider.as_ref(), "GET"),
    ) else {
        return Vec::new();
    };
    let mut jar = Jar::new(BrowserProfile::CHROMIUM);
    r.set_cookies()
        .into_iter()
        .filter_map(|line| {
            let why = lost_on_the_way_back(&mut jar, line, &start_ctx, &back, now)?;
            let name = parse_set_cookie(line).map(|c| c.name).unwrap_or_default();
            Some(
                Diagnosis::new(
                    ids::OAUTH_STATE_COOKIE_NOT_SENT,
                    format!("{}: {name} is {why}", provider_id(e)),
                )
                .evidence(format!("{}: {}", outcome(e), display_set_cookie(line))),
            )
        })
        .collect()
}

/// Why the cookie `line` set on the start would be missing at the callback.
fn lost_on_the_way_back(
    jar: &mut Jar,
    line: &str,
    start: &RequestContext,
    back: &RequestContext,
    now: UnixTime,
) -> Option<String> {
    let name = parse_set_cookie(line).map(|c| c.name).unwrap_or_default();
    match jar.store(line, start, now) {
        StoreOutcome::Rejected(r) => Some(format!("refused: {} ({})", r.explain(), r.section())),
        StoreOutcome::Deleted { .. } => None,
        StoreOutcome::Stored(_) => jar
            .decide(back, now)
            .into_iter()
            .find(|d| d.cookie.name == name)
            .and_then(|d| d.withheld)
            .map(|w| format!("withheld from the callback: {}", withheld_reason(w))),
    }
}
