//! Every cookie the login (and the CSRF and refresh calls around it) sets,
//! judged the way browsers will treat it for each app: stored or not (with
//! the RFC 6265bis reason), sent on the app's credentialed fetch, cleared by
//! logout; the same flow in Safari and Firefox, where the answer differs,
//! is a warning. The judging is the policy crate's (`judge_set_cookie` and
//! the `Jar` model); this module only feeds it what the probe saw.

use authjar_policy::browser::set_cookie::parse_set_cookie;
use authjar_policy::browser::{
    BrowserProfile, Jar, Rejection, RequestContext, StoreOutcome, StoredCookie, UnixTime, Withheld,
};
use authjar_policy::findings::ids;
use authjar_policy::judge::{judge_set_cookie, CookieSighting};
use authjar_policy::{Relation, Severity, WebOrigin};
use url::Url;

use super::topology::explains_cross_site;
use crate::diagnosis::Diagnosis;
use crate::observe::{Exchange, Observations, Step};
use crate::redact::display_set_cookie;
use crate::target::CredentialMode;

/// One `Set-Cookie` line the probe saw on the app's behalf.
struct Sighting<'a> {
    line: &'a str,
    url: Url,
    method: &'a str,
    exchange: &'a Exchange,
    /// Set by the login (or refresh): a session cookie, not a pre-login helper.
    session: bool,
}

impl Sighting<'_> {
    fn name(&self) -> String {
        parse_set_cookie(self.line)
            .map(|c| c.name)
            .unwrap_or_default()
    }

    fn context(&self, app: &WebOrigin) -> RequestContext {
        RequestContext::fetch(app, self.url.clone(), self.method)
    }

    fn evidence(&self) -> String {
        format!(
            "{}: {}",
            self.exchange.describe_outcome(),
            display_set_cookie(self.line)
        )
    }
}

/// The lines of the CSRF call before login, the login and the refresh, in order.
fn sightings<'a>(obs: &'a Observations, app: &WebOrigin) -> Vec<Sighting<'a>> {
    let mut out = Vec::new();
    for (step, session) in [
        (Step::CsrfToken, false),
        (Step::Login, true),
        (Step::Refresh, true),
    ] {
        let Some(e) = obs.find(&step, app) else {
            continue;
        };
        let (Some(r), Some(url)) = (e.response.as_ref(), e.url()) else {
            continue;
        };
        if !r.is_success() {
            continue;
        }
        for line in r.set_cookies() {
            out.push(Sighting {
                line,
                url: url.clone(),
                method: e.request.method.as_str(),
                exchange: e,
                session,
            });
        }
    }
    out
}

/// Every cookie finding for every app.
pub fn check(obs: &Observations, now: UnixTime) -> Vec<Diagnosis> {
    let Some(api) = obs.api_origin() else {
        return Vec::new();
    };
    obs.app_origins()
        .iter()
        .flat_map(|app| for_app(obs, app, &api, now))
        .collect()
}

fn login_succeeded<'a>(obs: &'a Observations, app: &WebOrigin) -> Option<&'a Exchange> {
    obs.find(&Step::Login, app)
        .filter(|e| e.response.as_ref().is_some_and(|r| r.is_success()))
}

fn for_app(obs: &Observations, app: &WebOrigin, api: &WebOrigin, now: UnixTime) -> Vec<Diagnosis> {
    let explained = explains_cross_site(app, api);
    let Some(login) = login_succeeded(obs, app) else {
        return unprobed_cross_site(obs, app, api, explained);
    };
    let seen = sightings(obs, app);
    let mut out = Vec::new();
    if login
        .response
        .as_ref()
        .is_some_and(|r| r.set_cookies().is_empty())
    {
        out.push(
            Diagnosis::new(ids::LOGIN_SETS_NO_COOKIES, format!("login from {app}"))
                .evidence(login.describe_outcome()),
        );
    }
    out.extend(judged(obs, app, &seen, now, explained));
    let chromium = simulate(BrowserProfile::CHROMIUM, app, &seen, now);
    out.extend(not_sent(obs, app, &chromium, &seen, now, explained));
    for profile in [BrowserProfile::SAFARI, BrowserProfile::FIREFOX] {
        out.extend(other_browser(
            profile, app, &seen, &chromium, now, explained,
        ));
    }
    out.extend(logout(obs, app));
    out
}

/// Without a login there are no cookies to judge; say what the topology implies.
fn unprobed_cross_site(
    obs: &Observations,
    app: &WebOrigin,
    api: &WebOrigin,
    explained: bool,
) -> Vec<Diagnosis> {
    let cross = Relation::between(app, api) == Relation::CrossSite;
    if !cross || explained || obs.credentials != CredentialMode::None {
        return Vec::new();
    }
    vec![Diagnosis::new(
        ids::CROSS_SITE_THIRD_PARTY_COOKIES,
        format!("page {app} calling API {api}: only Partitioned (CHIPS) cookies set by the app's own fetch can work, and Safari may still drop them"),
    )]
}

/// The policy crate's judge on each line; helper cookies are not held to session-cookie lifetimes.
fn judged(
    obs: &Observations,
    app: &WebOrigin,
    seen: &[Sighting<'_>],
    now: UnixTime,
    explained: bool,
) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    for s in seen {
        let sighting = CookieSighting {
            header: s.line,
            response_url: &s.url,
            app,
            production: obs.production(),
        };
        for f in judge_set_cookie(&sighting, now) {
            let lifetime = f.id == ids::SESSION_ONLY_COOKIE || f.id == ids::LIFETIME_OVER_400_DAYS;
            if (lifetime && (!s.session || crate::observe::csrf_named(&s.name())))
                || (explained && f.id == ids::CROSS_SITE_THIRD_PARTY_COOKIES)
            {
                continue;
            }
            out.push(Diagnosis::of(f).evidence(s.evidence()));
        }
    }
    out
}

/// The jar a browser of `profile` ends up with, and each line's outcome.
fn simulate(
    profile: BrowserProfile,
    app: &WebOrigin,
    seen: &[Sighting<'_>],
    now: UnixTime,
) -> (Jar, Vec<StoreOutcome>) {
    let mut jar = Jar::new(profile);
    let outcomes = seen
        .iter()
        .map(|s| jar.store(s.line, &s.context(app), now))
        .collect();
    (jar, outcomes)
}

fn session_names(seen: &[Sighting<'_>]) -> Vec<String> {
    seen.iter()
        .filter(|s| s.session)
        .map(Sighting::name)
        .collect()
}

/// Why a cookie is withheld, for a report.
pub fn withheld_reason(w: Withheld) -> &'static str {
    match w {
        Withheld::CredentialsOmitted => "the fetch does not use credentials: 'include'",
        Withheld::Expired => "it has expired",
        Withheld::DomainMismatch => "its Domain does not match the API host",
        Withheld::PathMismatch => "its Path does not cover the URL",
        Withheld::NotSecure => "it is Secure and the URL is not https",
        Withheld::SameSiteStrict => "SameSite=Strict withholds it from a cross-site request",
        Withheld::SameSiteLax => {
            "SameSite=Lax (or no SameSite) withholds it from a cross-site fetch"
        }
        Withheld::ThirdPartyBlocked => "third-party cookies are blocked and it is not Partitioned",
        Withheld::OtherPartition => "it is partitioned under another top-level site",
    }
}

fn cross_site_reason(w: Withheld) -> bool {
    matches!(
        w,
        Withheld::SameSiteLax | Withheld::SameSiteStrict | Withheld::ThirdPartyBlocked
    )
}

/// The first reason a stored cookie is withheld from the me or refresh
/// fetch whose path it covers (a cookie scoped to other paths is by design).
fn withheld_on_fetch(
    jar: &Jar,
    app: &WebOrigin,
    cookie: &StoredCookie,
    urls: &[(Url, &str)],
    now: UnixTime,
) -> Option<(Withheld, Url)> {
    for (url, method) in urls {
        let ctx = RequestContext::fetch(app, url.clone(), method);
        let d = jar.decide(&ctx, now).into_iter().find(|d| {
            d.cookie.name == cookie.name
                && d.cookie.path == cookie.path
                && d.cookie.domain == cookie.domain
        })?;
        match d.withheld {
            Some(Withheld::PathMismatch) => continue,
            Some(w) => return Some((w, url.clone())),
            None => return None,
        }
    }
    None
}

fn fetch_urls(obs: &Observations) -> Vec<(Url, &'static str)> {
    let mut v = vec![(obs.paths.me.as_str(), "GET")];
    if let Some(r) = &obs.paths.refresh {
        v.push((r.path.as_str(), "POST"));
    }
    v.into_iter()
        .filter_map(|(p, m)| Some((obs.url(p)?, m)))
        .collect()
}

fn not_sent(
    obs: &Observations,
    app: &WebOrigin,
    chromium: &(Jar, Vec<StoreOutcome>),
    seen: &[Sighting<'_>],
    now: UnixTime,
    explained: bool,
) -> Vec<Diagnosis> {
    let names = session_names(seen);
    let urls = fetch_urls(obs);
    let jar = &chromium.0;
    jar.cookies()
        .iter()
        .filter(|c| names.contains(&c.name))
        .filter_map(|c| {
            let (w, url) = withheld_on_fetch(jar, app, c, &urls, now)?;
            if explained && cross_site_reason(w) {
                return None;
            }
            Some(Diagnosis::new(
                ids::COOKIE_NOT_SENT,
                format!(
                    "{} on {app}'s credentialed fetch of {url}: {}",
                    c.name,
                    withheld_reason(w)
                ),
            ))
        })
        .collect()
}

/// The catalog id for a storage refusal (the judge's mapping, for other browsers).
fn rejection_id(r: &Rejection) -> &'static str {
    match r {
        Rejection::SecureOverInsecure => ids::SECURE_COOKIE_OVER_HTTP,
        Rejection::SameSiteNoneInsecure => ids::SAMESITE_NONE_WITHOUT_SECURE,
        Rejection::HostPrefixInvalid => ids::HOST_PREFIX_INVALID,
        Rejection::SecurePrefixInvalid => ids::SECURE_PREFIX_INVALID,
        Rejection::ThirdPartyBlocked | Rejection::SameSiteFromCrossSite => {
            ids::CROSS_SITE_THIRD_PARTY_COOKIES
        }
        Rejection::DomainIsPublicSuffix(_) => ids::COOKIE_DOMAIN_PUBLIC_SUFFIX,
        Rejection::DomainMismatch(_) => ids::COOKIE_DOMAIN_MISMATCH,
        _ => ids::COOKIE_NOT_STORED,
    }
}

/// Where Safari or Firefox refuses or withholds what Chromium keeps: login
/// works in Chromium but not there (a warning, docs/doctor.md "Findings").
fn other_browser(
    profile: BrowserProfile,
    app: &WebOrigin,
    seen: &[Sighting<'_>],
    chromium: &(Jar, Vec<StoreOutcome>),
    now: UnixTime,
    explained: bool,
) -> Vec<Diagnosis> {
    let (_, outcomes) = simulate(profile, app, seen, now);
    let mut out = Vec::new();
    for ((s, theirs), ours) in seen.iter().zip(&outcomes).zip(&chromium.1) {
        let (StoreOutcome::Rejected(r), StoreOutcome::Stored(_)) = (theirs, ours) else {
            continue;
        };
        let id = rejection_id(r);
        if explained && id == ids::CROSS_SITE_THIRD_PARTY_COOKIES {
            continue;
        }
        out.push(
            Diagnosis::new(
                id,
                format!(
                    "{}: {} refuses it ({}; {}) although Chromium keeps it, so login from {app} fails there",
                    s.name(),
                    profile.name,
                    r.explain(),
                    r.section()
                ),
            )
            .severity(Severity::Warning)
            .evidence(s.evidence()),
        );
    }
    out
}

/// Cookies left after logout, judged by what they can still do: an error
/// when the cookies a browser keeps still open the me path, a warning when
/// a session cookie still holds the very value the login (or a refresh)
/// gave it. A CSRF cookie that stays, or a session cookie replaced by a
/// fresh anonymous one, is how frameworks work and no finding.
fn logout(obs: &Observations, app: &WebOrigin) -> Vec<Diagnosis> {
    let Some(e) = obs.find(&Step::Logout, app) else {
        return Vec::new();
    };
    if let Some(r) = e.response.as_ref().filter(|r| r.status >= 400) {
        if crate::checks::tokenless_refusal(obs, e) {
            return Vec::new();
        }
        return vec![super::with_evidence(
            Diagnosis::new(
                ids::LOGOUT_LEAVES_COOKIES,
                format!(
                    "the logout {app}'s page sends, with its cookies and CSRF token, was refused ({}): the session stays",
                    r.status
                ),
            ),
            e,
        )
        .fix("Accept the logout the app sends (its cookies, its CSRF token, its Origin) and clear the session there.")];
    }
    let app_s = app.to_string();
    let Some(after) = obs
        .steps(|s| matches!(s, Step::MeAfterLogout { .. }))
        .find(|m| m.app.as_deref() == Some(app_s.as_str()))
    else {
        return Vec::new();
    };
    let Step::MeAfterLogout { kept } = &after.step else {
        return Vec::new();
    };
    let still_in = after.response.as_ref().is_some_and(|r| r.is_success());
    if still_in {
        let names = after
            .request_header("cookie")
            .map(|c| {
                c.split(';')
                    .filter_map(|p| p.trim().split_once('=').map(|(n, _)| n.to_owned()))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        return vec![Diagnosis::new(
            ids::LOGOUT_LEAVES_COOKIES,
            format!("after logout from {app} the cookies a browser keeps ({names}) still open the me path: the user is still logged in"),
        )
        .severity(Severity::Error)
        .evidence(e.describe_outcome())
        .evidence(format!("then {}", after.describe_outcome()))
        .fix("End the session on the server at logout and clear each cookie with exactly the attributes it was set with, an empty value and Max-Age=0.")];
    }
    kept.iter()
        .map(|name| {
            Diagnosis::new(
                ids::LOGOUT_LEAVES_COOKIES,
                format!("{name} still holds the session credential the login set after logout from {app}"),
            )
            .evidence(format!("{}: {}", e.describe_outcome(), removal_line(e, name)))
        })
        .collect()
}

/// The logout's `Set-Cookie` for `name`, or its absence.
fn removal_line(logout: &Exchange, name: &str) -> String {
    logout
        .response
        .as_ref()
        .and_then(|r| {
            r.set_cookies()
                .into_iter()
                .find(|l| parse_set_cookie(l).is_ok_and(|p| p.name == name))
        })
        .map(display_set_cookie)
        .unwrap_or_else(|| format!("(no set-cookie for {name} on logout)"))
}

/// What each browser does with one cookie the login set, for the report's table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserVerdict {
    /// The browser profile's name.
    pub browser: &'static str,
    /// `Err(reason)` when the browser refuses the cookie.
    pub stored: Result<(), String>,
    /// Sent on the app's credentialed fetch of the me path.
    pub on_fetch: bool,
    /// Sent on a top-level navigation from the app to the me path.
    pub on_navigation: bool,
    /// Readable by the app's JavaScript (`document.cookie`).
    pub readable: bool,
}

/// One cookie the login set, as DevTools would show it, per browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieRow {
    /// The app.
    pub app: String,
    /// The `Set-Cookie` line, value redacted.
    pub line: String,
    /// One verdict per browser.
    pub browsers: Vec<BrowserVerdict>,
}

/// The login's cookies for each app that logged in, through each browser.
pub fn cookie_rows(obs: &Observations, now: UnixTime) -> Vec<CookieRow> {
    let mut rows = Vec::new();
    let Some(me) = obs.url(&obs.paths.me) else {
        return rows;
    };
    for app in obs.app_origins() {
        let Some(login) = login_succeeded(obs, &app) else {
            continue;
        };
        let seen: Vec<Sighting<'_>> = sightings(obs, &app)
            .into_iter()
            .filter(|s| std::ptr::eq(s.exchange, login))
            .collect();
        let profiles = [
            BrowserProfile::CHROMIUM,
            BrowserProfile::SAFARI,
            BrowserProfile::FIREFOX,
        ];
        let sims: Vec<(Jar, Vec<StoreOutcome>)> = profiles
            .iter()
            .map(|p| simulate(*p, &app, &seen, now))
            .collect();
        for (i, s) in seen.iter().enumerate() {
            let browsers = profiles
                .iter()
                .zip(&sims)
                .map(|(p, sim)| verdict(p.name, sim, i, &s.name(), &app, &me, now))
                .collect();
            rows.push(CookieRow {
                app: app.to_string(),
                line: display_set_cookie(s.line),
                browsers,
            });
        }
    }
    rows
}

fn verdict(
    browser: &'static str,
    sim: &(Jar, Vec<StoreOutcome>),
    index: usize,
    name: &str,
    app: &WebOrigin,
    me: &Url,
    now: UnixTime,
) -> BrowserVerdict {
    let (jar, outcomes) = sim;
    let stored = match &outcomes[index] {
        StoreOutcome::Rejected(r) => Err(format!("{} ({})", r.explain(), r.section())),
        _ => Ok(()),
    };
    let sent = |ctx: Option<RequestContext>| {
        ctx.is_some_and(|c| jar.sent(&c, now).iter().any(|k| k.name == name))
    };
    let page = Url::parse(&format!("{app}/")).ok();
    BrowserVerdict {
        browser,
        on_fetch: stored.is_ok() && sent(Some(RequestContext::fetch(app, me.clone(), "GET"))),
        on_navigation: stored.is_ok()
            && sent(RequestContext::navigate(me.clone(), Some(app), "GET")),
        readable: stored.is_ok()
            && page.is_some_and(|p| {
                jar.visible_to_script(&p, now)
                    .iter()
                    .any(|k| k.name == name)
            }),
        stored,
    }
}
