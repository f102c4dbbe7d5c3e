//! The offline audit of a deployment: the source post's pre-deploy
//! checklist, automated. Pure: the caller passes `now` (only used to judge
//! derived cookies through the browser model).

use url::Url;

use crate::browser::{BrowserProfile, Jar, RequestContext, StoreOutcome, UnixTime};
use crate::cookie_policy::{CookieKind, CookiePolicy, Lifetimes, MAX_COOKIE_LIFETIME};
use crate::deployment::{Deployment, Environment};
use crate::findings::{ids, Finding};
use crate::origin::{Scheme, WebOrigin};
use crate::site::{is_public_suffix, private_hosting_suffix, Relation};

/// Every finding about a deployment, errors first.
pub fn audit(d: &Deployment, lifetimes: &Lifetimes, now: UnixTime) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(wildcards(d));
    out.extend(cookie_domain(d));
    out.extend(production(d));
    let flagged = origin_findings(d, &mut out);
    out.extend(lifetime(lifetimes));
    if d.api().scheme() == Scheme::Http
        && !d.api().is_loopback()
        && d.environment == Environment::Development
    {
        out.push(Finding::new(
            ids::HTTP_FAKE_DOMAIN,
            format!("public_url is {}", d.public_url),
        ));
    }
    if out.iter().all(|f| !f.id.starts_with("cookie-domain")) {
        let policy = CookiePolicy::derive(d, lifetimes);
        for app in d.app_origins.iter().filter(|o| !flagged.contains(o)) {
            out.extend(simulate_login(d, &policy, app, now));
        }
    }
    out.sort_by_key(|f| f.severity);
    out
}

fn wildcards(d: &Deployment) -> impl Iterator<Item = Finding> + '_ {
    d.wildcard_origins.iter().map(|w| {
        Finding::new(
            ids::WILDCARD_ORIGIN_WITH_CREDENTIALS,
            format!("app_origins contains `{w}`"),
        )
    })
}

fn cookie_domain(d: &Deployment) -> Option<Finding> {
    let cd = d.cookie_domain.as_ref()?;
    let name = cd.as_str();
    let detail = format!("cookie_domain = \"{name}\"");
    if name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok()
    {
        return Some(Finding::new(ids::COOKIE_DOMAIN_LOCALHOST, detail));
    }
    if is_public_suffix(name) {
        return Some(Finding::new(ids::COOKIE_DOMAIN_PUBLIC_SUFFIX, detail));
    }
    if !d.host_in_cookie_domain(d.api().host()) {
        return Some(Finding::new(
            ids::COOKIE_DOMAIN_MISMATCH,
            format!("{detail}, API host {}", d.api().host()),
        ));
    }
    None
}

fn production(d: &Deployment) -> Vec<Finding> {
    let mut out = Vec::new();
    if d.environment != Environment::Production {
        return out;
    }
    if d.api().scheme() == Scheme::Http {
        out.push(Finding::new(
            ids::HTTP_PUBLIC_URL_IN_PRODUCTION,
            format!("public_url is {}", d.public_url),
        ));
    }
    if d.api().is_loopback() {
        out.push(Finding::new(
            ids::LOCALHOST_PUBLIC_URL_IN_PRODUCTION,
            format!("public_url is {}", d.public_url),
        ));
    }
    for o in d.app_origins.iter().filter(|o| o.is_loopback()) {
        out.push(Finding::new(
            ids::LOCALHOST_ORIGIN_IN_PRODUCTION,
            format!("app_origins contains {o}"),
        ));
    }
    out
}

/// Findings about each app origin's relation to the API. Returns the origins
/// already explained, so the login simulation does not report them twice.
fn origin_findings<'a>(d: &'a Deployment, out: &mut Vec<Finding>) -> Vec<&'a WebOrigin> {
    let mut flagged = Vec::new();
    for (app, relation) in d.relations() {
        if d.environment == Environment::Production && app.is_loopback() {
            // Already reported as localhost-origin-in-production.
            flagged.push(app);
            continue;
        }
        if let Some(f) = origin_finding(d, app, relation) {
            out.push(f);
            flagged.push(app);
        }
    }
    if let Some(f) = hosting_suffix(d) {
        out.push(f);
    }
    flagged
}

fn origin_finding(d: &Deployment, app: &WebOrigin, relation: Relation) -> Option<Finding> {
    let api = d.api();
    if relation != Relation::CrossSite {
        return None;
    }
    let pair = format!("page {app} calling API {api}");
    if app.is_loopback() && api.is_loopback() && app.host() != api.host() {
        return Some(Finding::new(ids::LOCALHOST_VS_127_MIXED, pair).with_fix(format!(
            "Use the same host name on both sides: open the app at {}://{}:{} (the API's host), or set public_url to {}://{}:{}.",
            app.scheme().as_str(), api.host(), app.port(), api.scheme().as_str(), app.host(), api.port()
        )));
    }
    if api.scheme() == Scheme::Https && app.scheme() == Scheme::Http && !app.is_loopback() {
        return Some(Finding::new(ids::INSECURE_APP_ORIGIN, pair));
    }
    if api.scheme() == Scheme::Http {
        return Some(Finding::new(
            ids::SAMESITE_NONE_WITHOUT_SECURE,
            format!(
            "{pair}: cross-site cookies need SameSite=None, which needs Secure, which needs https"
        ),
        ));
    }
    Some(Finding::new(ids::CROSS_SITE_THIRD_PARTY_COOKIES, format!(
        "{pair}: authjar sets Partitioned (CHIPS) cookies through the app's own fetch; Chromium and Firefox keep them, Safari may not"
    )))
}

/// Two hosts under one hosting provider's suffix look like siblings but are separate sites.
fn hosting_suffix(d: &Deployment) -> Option<Finding> {
    let api_suffix = private_hosting_suffix(d.api().host());
    let hosts: Vec<String> = std::iter::once(d.api())
        .chain(d.app_origins.iter())
        .filter(|o| private_hosting_suffix(o.host()).is_some())
        .map(|o| o.host().to_string())
        .collect();
    let shared = d.app_origins.iter().any(|o| {
        o.host() != d.api().host()
            && private_hosting_suffix(o.host()) == api_suffix
            && api_suffix.is_some()
    });
    if !shared {
        return None;
    }
    let suffix = api_suffix.unwrap_or_default();
    Some(Finding::new(
        ids::PSL_HOSTING_DOMAIN,
        format!(
            "{} share {suffix}, which is on the Public Suffix List: each subdomain is its own site",
            hosts.join(", ")
        ),
    ))
}

fn lifetime(l: &Lifetimes) -> Option<Finding> {
    (l.refresh > MAX_COOKIE_LIFETIME).then(|| {
        Finding::new(
            ids::LIFETIME_OVER_400_DAYS,
            format!(
                "refresh_ttl is {} days; the cookie is capped at 400 days",
                l.refresh.as_secs() / 86_400
            ),
        )
    })
}

/// Runs a login, a protected call and a refresh from `app` through the
/// browser model with authjar's derived cookies; any cookie the browser
/// would refuse or withhold becomes a finding.
fn simulate_login(
    d: &Deployment,
    policy: &CookiePolicy,
    app: &WebOrigin,
    now: UnixTime,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let (Ok(login), Ok(me), Ok(refresh)) = (
        Url::parse(&d.public_url.join("/auth/login")),
        Url::parse(&d.public_url.join("/auth/me")),
        Url::parse(&d.public_url.join("/auth/refresh")),
    ) else {
        return out;
    };
    let mut jar = Jar::new(BrowserProfile::CHROMIUM);
    let ctx = RequestContext::fetch(app, login, "POST");
    let session = [CookieKind::Access, CookieKind::Refresh, CookieKind::Csrf];
    for spec in policy.iter().filter(|s| session.contains(&s.kind)) {
        if let StoreOutcome::Rejected(r) = jar.store(&spec.set_cookie("v"), &ctx, now) {
            out.push(Finding::new(
                ids::COOKIE_NOT_STORED,
                format!(
                    "{} from {app}: {} ({})",
                    spec.name,
                    r.explain(),
                    r.section()
                ),
            ));
        }
    }
    for (url, kind) in [(me, CookieKind::Access), (refresh, CookieKind::Refresh)] {
        let Some(spec) = policy.get(kind) else {
            continue;
        };
        let sent = jar.sent(&RequestContext::fetch(app, url.clone(), "GET"), now);
        let stored = jar.cookies().iter().any(|c| c.name == spec.name);
        if stored && !sent.iter().any(|c| c.name == spec.name) {
            out.push(Finding::new(
                ids::COOKIE_NOT_SENT,
                format!("{} on {app}'s fetch of {url}", spec.name),
            ));
        }
    }
    out
}
