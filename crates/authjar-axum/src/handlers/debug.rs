//! `GET /auth/debug`: a page a developer opens in the browser that fails to
//! log in. It shows what this browser sent (which authjar cookies arrived,
//! by name only; `Origin`, `Sec-Fetch-Site`, and the origin of the page that
//! linked here), the topology as authjar sees it, the cookies the policy
//! sets, signs of third-party cookie blocking, and what is wrong with the
//! fix, as findings of the policy crate (the ids of `authjar check` and
//! `authjar doctor`).
//!
//! Nothing secret is shown: no cookie value, no token, no secret, no user
//! data. Off in production unless `debug_page = true`.

use authjar_policy::report;
use authjar_policy::{
    audit, ids, AppOriginEntry, CookieKind, CookiePolicy, CookieSpec, Deployment, Finding,
    Lifetimes, Relation, Severity, WebOrigin,
};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::time::Duration;

use crate::cookies::RequestCookies;
use crate::error::ApiError;
use crate::extract::MaybeUser;
use crate::state::AuthState;

/// The diagnostics page (HTML). `from` names the page that sent the browser
/// here (the client's `debugUrl` sets it); otherwise the `Referer`'s origin
/// is used.
#[utoipa::path(get, path = "/auth/debug", tag = "meta",
    params(("from" = Option<String>, Query, description = "the origin of the app page that linked here")),
    responses((status = 200, description = "HTML: what this browser sent, the topology, the expected cookies, and each problem with its finding id and fix"),
              (status = 404, body = crate::error::ErrorBody, description = "debug_page_disabled: production without debug_page = true")))]
pub async fn debug_page(
    State(state): State<AuthState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    user: Result<MaybeUser, ApiError>,
) -> Response {
    if !state.debug_page {
        return ApiError::debug_page_disabled().into_response();
    }
    let session = match user {
        Ok(MaybeUser(Some(_))) => SessionState::Valid,
        Ok(MaybeUser(None)) => SessionState::None,
        Err(_) => SessionState::Refused,
    };
    let seen = Seen::of(&headers, query.as_deref(), session);
    let lifetimes = Lifetimes {
        access: max_age(state.cookie(CookieKind::Access)),
        refresh: max_age(state.cookie(CookieKind::Refresh)),
    };
    let diagnosis = diagnose(
        &state.deployment,
        &state.cookies,
        &lifetimes,
        state.service.now(),
        &seen,
    );
    let html = render(&state.deployment, &state.cookies, &seen, &diagnosis);
    let mut res = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn max_age(spec: Option<&CookieSpec>) -> Duration {
    Duration::from_secs(spec.map_or(0, |s| s.max_age_secs))
}

/// Whether the request carried a session authjar accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// A valid access token arrived.
    Valid,
    /// No valid access token (absent or expired).
    None,
    /// A malformed or duplicated auth cookie (refused).
    Refused,
}

/// How the page that sent the browser here is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// `?from=` (the client's link).
    FromParameter,
    /// The `Referer` header's origin.
    Referer,
    /// The `Origin` header.
    Origin,
}

/// What this request tells about the browser, values never included.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Names of the cookies that arrived (the caller keeps only authjar's).
    pub cookie_names: Vec<String>,
    /// How many cookies arrived in all.
    pub cookie_count: usize,
    /// `Origin`.
    pub origin: Option<String>,
    /// `Sec-Fetch-Site`.
    pub fetch_site: Option<String>,
    /// `Sec-Fetch-Mode`.
    pub fetch_mode: Option<String>,
    /// The origin of `Referer` (never its path or query).
    pub referer_origin: Option<String>,
    /// The page that sent the browser here, and how it is known.
    pub page: Option<(WebOrigin, Provenance)>,
    /// `?from=` that is not an origin.
    pub bad_from: bool,
    /// The session.
    pub session: SessionState,
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect())
}

impl Seen {
    /// Reads the request.
    pub fn of(headers: &HeaderMap, query: Option<&str>, session: SessionState) -> Seen {
        let (cookie_names, cookie_count) = match RequestCookies::parse(headers) {
            Ok(c) => {
                let names: Vec<String> = c
                    .names()
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .collect();
                let count = names.len();
                (names, count)
            }
            Err(_) => (Vec::new(), 0),
        };
        let origin = header_str(headers, header::ORIGIN);
        let referer_origin = header_str(headers, header::REFERER)
            .and_then(|r| url::Url::parse(&r).ok())
            .and_then(|u| WebOrigin::of_url(&u).ok())
            .map(|o| o.to_string());
        let from = query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "from")
                .map(|(_, v)| v.into_owned())
        });
        let from_origin = from.as_deref().and_then(|f| WebOrigin::parse(f).ok());
        let page = from_origin
            .map(|o| (o, Provenance::FromParameter))
            .or_else(|| {
                referer_origin
                    .as_deref()
                    .and_then(|r| WebOrigin::parse(r).ok())
                    .map(|o| (o, Provenance::Referer))
            })
            .or_else(|| {
                origin
                    .as_deref()
                    .and_then(|r| WebOrigin::parse(r).ok())
                    .map(|o| (o, Provenance::Origin))
            });
        Seen {
            cookie_names,
            cookie_count,
            origin,
            fetch_site: header_str(headers, header::HeaderName::from_static("sec-fetch-site")),
            fetch_mode: header_str(headers, header::HeaderName::from_static("sec-fetch-mode")),
            referer_origin,
            bad_from: from.is_some()
                && page.as_ref().map(|p| p.1) != Some(Provenance::FromParameter),
            page,
            session,
        }
    }

    fn arrived(&self, name: &str) -> usize {
        self.cookie_names.iter().filter(|n| *n == name).count()
    }
}

/// What is wrong, and what the browser shows.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    /// The deployment's own findings (as `authjar check` reports them) and
    /// those about the page that sent the browser here, errors first.
    pub findings: Vec<Finding>,
    /// Plain-words notes about this browser's cookies (third-party blocking signs and the like).
    pub signs: Vec<String>,
    /// The page's relation to the API, when the page is known.
    pub relation: Option<Relation>,
    /// The page is an allowed app origin (or the API's own).
    pub page_allowed: Option<bool>,
}

/// Judges what the browser sent against the deployment. Pure.
pub fn diagnose(
    d: &Deployment,
    policy: &CookiePolicy,
    lifetimes: &Lifetimes,
    now: i64,
    seen: &Seen,
) -> Diagnosis {
    let mut findings = audit(d, lifetimes, now);
    let mut signs = Vec::new();
    let page = seen.page.as_ref().map(|(o, _)| o);
    let page_allowed = page.map(|p| p == d.api() || d.app_origins.contains(p));
    if let (Some(p), Some(false)) = (page, page_allowed) {
        findings.extend(page_findings(d, lifetimes, now, p));
    }
    let relation = page.map(|p| Relation::between(p, d.api()));
    let session_names: Vec<&CookieSpec> = [CookieKind::Access, CookieKind::Refresh]
        .into_iter()
        .filter_map(|k| policy.get(k))
        .collect();
    let arrived = |k: CookieKind| policy.get(k).is_some_and(|c| seen.arrived(&c.name) > 0);
    for c in &session_names {
        if seen.arrived(&c.name) > 1 {
            signs.push(format!(
                "`{}` arrived more than once: another cookie with the same name but another Domain or Path (set by a sibling subdomain, or an older configuration) shadows it, and authjar refuses both. Clear this site's cookies.",
                c.name
            ));
        }
    }
    match seen.session {
        SessionState::Valid => signs.push(
            "This browser is logged in here: a valid access token arrived.".to_owned(),
        ),
        SessionState::Refused => signs.push(
            "An auth cookie arrived malformed or twice, so authjar treats the request as logged out."
                .to_owned(),
        ),
        SessionState::None if arrived(CookieKind::Refresh) => signs.push(
            "No valid access token, but the refresh cookie arrived: the access token expired; the client refreshes on its next call.".to_owned(),
        ),
        SessionState::None => signs.push(
            "No session cookie arrived: this browser is logged out here (or never kept the login; see below).".to_owned(),
        ),
    }
    if relation == Some(Relation::CrossSite) && page_allowed == Some(true) {
        signs.push(
            "Your app is on another site than authjar, so its session cookies are third-party cookies, kept Partitioned (CHIPS) under the app's site. Opened at the top level, this page cannot see them: their absence here is expected. If the app's own calls still answer 401 right after a login, this browser blocks third-party cookies even when partitioned (Safari; Firefox in strict mode; Chrome with \"Block third-party cookies\"): serve authjar under the app's site instead.".to_owned(),
        );
    }
    if seen.fetch_site.as_deref() == Some("cross-site")
        && relation.is_some_and(Relation::is_same_site)
    {
        signs.push(
            "The browser marked this visit cross-site although the page you came from is on authjar's site: a redirect through another site, or the page is not where you think.".to_owned(),
        );
    }
    if seen.page.is_none() {
        signs.push(
            "Opened directly (no link, no Referer): open this page from a link on your app (the client's `debugUrl`), or add `?from=<your app's origin>`, to check that page too.".to_owned(),
        );
    }
    if seen.bad_from {
        signs.push("`from` is not an origin (scheme://host[:port]); it was ignored.".to_owned());
    }
    findings.sort_by_key(|f| f.severity);
    Diagnosis {
        findings,
        signs,
        relation,
        page_allowed,
    }
}

/// Findings about a page whose origin is not allowed: the CORS refusal, and
/// what `authjar check` would say had the page been added (e.g.
/// `localhost-vs-127-mixed`).
fn page_findings(
    d: &Deployment,
    lifetimes: &Lifetimes,
    now: i64,
    page: &WebOrigin,
) -> Vec<Finding> {
    let allowed: Vec<String> = d.app_origins.iter().map(ToString::to_string).collect();
    let twin = d.app_origins.iter().find(|o| {
        o.scheme() == page.scheme()
            && o.port() == page.port()
            && o.is_loopback()
            && page.is_loopback()
    });
    let fix = match twin {
        Some(t) => format!("Open the app at {t}, not {page}: the browser treats them as different sites. Or add {page} to app_origins (AUTHJAR_APP_ORIGINS) and restart authjar."),
        None => format!("Open the app at an allowed origin, or add {page} to app_origins (AUTHJAR_APP_ORIGINS) and restart authjar."),
    };
    let mut out = vec![Finding::new(
        ids::CORS_ORIGIN_NOT_ECHOED,
        format!(
            "the page at {page} is not an allowed app origin (allowed: {}); the browser refuses every call it makes to authjar",
            if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }
        ),
    )
    .with_fix(fix)];
    let mut entries: Vec<AppOriginEntry> = d
        .app_origins
        .iter()
        .cloned()
        .map(AppOriginEntry::Exact)
        .collect();
    entries.push(AppOriginEntry::Exact(page.clone()));
    let with_page = Deployment::new(
        d.public_url.clone(),
        entries,
        d.cookie_domain.clone(),
        d.environment,
    );
    let needle = page.to_string();
    out.extend(
        audit(&with_page, lifetimes, now)
            .into_iter()
            .filter(|f| f.detail.contains(&needle)),
    );
    out
}

/// Escapes text for HTML element content and quoted attribute values.
/// Hand-written: five characters (OWASP's rule for these two contexts),
/// which no dependency of this crate provides.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The page.
fn render(d: &Deployment, policy: &CookiePolicy, seen: &Seen, dx: &Diagnosis) -> String {
    let mut s = String::with_capacity(8 * 1024);
    s.push_str(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>authjar: diagnostics</title><style>",
        "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#222}",
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}",
        "pre{background:#f6f6f6;padding:.6rem;overflow:auto}.error{color:#a11}.warning{color:#955200}.info{color:#246}",
        ".ok{color:#161}li{margin:.3rem 0}code{background:#f1f1f1;padding:0 .2rem}",
        "</style></head><body><h1>authjar: what this browser sees</h1>",
    ));
    let problems = dx
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let _ = write!(
        s,
        "<p id=\"verdict\" class=\"{}\">{}</p>",
        if problems > 0 { "error" } else { "ok" },
        match problems {
            0 => "No problem found that would stop this browser from logging in.".to_owned(),
            1 => "One problem stops this browser from logging in:".to_owned(),
            n => format!("{n} problems stop this browser from logging in:"),
        }
    );
    s.push_str("<h2>What is wrong, and the fix</h2><ul id=\"findings\">");
    if dx.findings.is_empty() {
        s.push_str("<li class=\"ok\">Nothing.</li>");
    }
    for f in &dx.findings {
        let _ = write!(
            s,
            "<li class=\"finding {sev}\" data-finding=\"{id}\"><strong>[{sev}] {id}</strong>: {title}<br>{detail}<br><em>Fix:</em> {fix}</li>",
            sev = f.severity.as_str(),
            id = esc(f.id),
            title = esc(f.title),
            detail = esc(&f.detail),
            fix = esc(&f.fix),
        );
    }
    s.push_str("</ul><h2>This browser</h2><ul id=\"signs\">");
    for n in &dx.signs {
        let _ = write!(s, "<li>{}</li>", esc(n));
    }
    s.push_str("</ul><h2>Where you came from</h2><table id=\"request\">");
    let page = match &seen.page {
        Some((o, how)) => format!(
            "{o} ({}){}",
            match how {
                Provenance::FromParameter => "the link's from=",
                Provenance::Referer => "Referer",
                Provenance::Origin => "Origin",
            },
            match (dx.page_allowed, dx.relation) {
                (Some(true), Some(r)) => format!(": an allowed app origin, {}", r.describe()),
                (Some(false), _) => ": NOT an allowed app origin".to_owned(),
                _ => String::new(),
            }
        ),
        None => "unknown (opened directly)".to_owned(),
    };
    let none = || "(none)".to_owned();
    for (k, v) in [
        ("page", page),
        ("Origin", seen.origin.clone().unwrap_or_else(none)),
        (
            "Sec-Fetch-Site",
            seen.fetch_site.clone().unwrap_or_else(none),
        ),
        (
            "Sec-Fetch-Mode",
            seen.fetch_mode.clone().unwrap_or_else(none),
        ),
        (
            "Referer (origin only)",
            seen.referer_origin.clone().unwrap_or_else(none),
        ),
    ] {
        let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    }
    s.push_str("</table><h2>authjar's cookies</h2><p>What the policy sets (DevTools → Application → Cookies should show the same), and whether each arrived with this request. Names only: values are never shown.</p>");
    s.push_str("<table id=\"cookies\"><tr><th>name</th><th>Secure</th><th>HttpOnly</th><th>SameSite</th><th>Path</th><th>Domain</th><th>Partitioned</th><th>arrived here</th></tr>");
    for c in policy.iter() {
        let n = seen.arrived(&c.name);
        let _ = write!(
            s,
            "<tr data-cookie=\"{name}\" data-arrived=\"{n}\"><td><code>{name}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            yes_no(c.secure),
            yes_no(c.http_only),
            c.same_site.as_str(),
            esc(&c.path),
            esc(c.domain.as_deref().unwrap_or("(host-only)")),
            yes_no(c.partitioned),
            match n {
                0 => "no".to_owned(),
                1 => "yes".to_owned(),
                n => format!("{n} times (shadowed)"),
            },
            name = esc(&c.name),
        );
    }
    let ours = policy.iter().map(|c| seen.arrived(&c.name)).sum::<usize>();
    let _ = write!(
        s,
        "</table><p>{} other cookie(s) arrived (not authjar's; not listed).</p>",
        seen.cookie_count.saturating_sub(ours)
    );
    let _ = write!(
        s,
        "<h2>The topology as authjar sees it</h2><p>environment: {}</p><pre id=\"topology\">{}</pre><pre>{}</pre>",
        d.environment.as_str(),
        esc(&report::topology(d)),
        esc(&report::cookie_table(d, policy)),
    );
    s.push_str("<p>The same findings, ids and fixes as <code>authjar check</code> and <code>authjar doctor</code> (docs/doctor.md).</p></body></html>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use authjar_policy::{Environment, PublicUrl};

    fn dev() -> (Deployment, CookiePolicy, Lifetimes) {
        let d = Deployment::new(
            PublicUrl::parse("http://localhost:8000").unwrap(),
            vec![AppOriginEntry::parse("http://localhost:3000").unwrap()],
            None,
            Environment::Development,
        );
        let l = Lifetimes {
            access: Duration::from_secs(1800),
            refresh: Duration::from_secs(86400),
        };
        let p = CookiePolicy::derive(&d, &l);
        (d, p, l)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_page_on_127_is_told_to_use_localhost() {
        let (d, p, l) = dev();
        let seen = Seen::of(
            &headers(&[("referer", "http://127.0.0.1:3000/bookings?x=1")]),
            None,
            SessionState::None,
        );
        assert_eq!(
            seen.referer_origin.as_deref(),
            Some("http://127.0.0.1:3000")
        );
        let dx = diagnose(&d, &p, &l, 1_700_000_000, &seen);
        let ids: Vec<&str> = dx.findings.iter().map(|f| f.id).collect();
        assert!(ids.contains(&"cors-origin-not-echoed"), "{ids:?}");
        assert!(ids.contains(&"localhost-vs-127-mixed"), "{ids:?}");
        let html = render(&d, &p, &seen, &dx);
        assert!(html.contains("Open the app at http://localhost:3000, not http://127.0.0.1:3000"));
        assert!(!html.contains("x=1"), "only the Referer's origin is shown");
    }

    #[test]
    fn an_allowed_page_with_a_session_has_no_problem_and_no_values_are_shown() {
        let (d, p, l) = dev();
        let seen = Seen::of(
            &headers(&[
                (
                    "cookie",
                    "access_token=SECRETVALUE; refresh_token=OTHERSECRET; theme=dark",
                ),
                ("referer", "http://localhost:3000/"),
            ]),
            None,
            SessionState::Valid,
        );
        let dx = diagnose(&d, &p, &l, 1_700_000_000, &seen);
        assert!(dx.findings.iter().all(|f| f.severity != Severity::Error));
        let html = render(&d, &p, &seen, &dx);
        assert!(!html.contains("SECRETVALUE") && !html.contains("OTHERSECRET"));
        assert!(html.contains("data-cookie=\"access_token\" data-arrived=\"1\""));
        assert!(html.contains("1 other cookie(s)"));
        assert!(
            !html.contains("theme"),
            "other cookies' names are not listed"
        );
    }

    #[test]
    fn from_is_escaped_or_ignored() {
        let (d, p, l) = dev();
        let seen = Seen::of(
            &HeaderMap::new(),
            Some("from=%3Cscript%3Ealert(1)%3C/script%3E"),
            SessionState::None,
        );
        assert!(seen.bad_from && seen.page.is_none());
        let html = render(&d, &p, &seen, &diagnose(&d, &p, &l, 0, &seen));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn a_cross_site_app_is_told_why_its_cookies_are_not_seen_here() {
        let d = Deployment::new(
            PublicUrl::parse("https://hub-api.test").unwrap(),
            vec![AppOriginEntry::parse("https://hub.test").unwrap()],
            None,
            Environment::Production,
        );
        let l = Lifetimes {
            access: Duration::from_secs(1800),
            refresh: Duration::from_secs(86400),
        };
        let p = CookiePolicy::derive(&d, &l);
        let seen = Seen::of(
            &headers(&[
                ("referer", "https://hub.test/"),
                ("sec-fetch-site", "cross-site"),
            ]),
            None,
            SessionState::None,
        );
        let dx = diagnose(&d, &p, &l, 1_700_000_000, &seen);
        assert_eq!(dx.relation, Some(Relation::CrossSite));
        assert!(
            dx.signs
                .iter()
                .any(|s| s.contains("Partitioned (CHIPS)")
                    && s.contains("blocks third-party cookies"))
        );
        let ids: Vec<&str> = dx.findings.iter().map(|f| f.id).collect();
        assert!(ids.contains(&"cross-site-third-party-cookies"), "{ids:?}");
        assert!(
            !ids.contains(&"cors-origin-not-echoed"),
            "the app is allowed"
        );
    }

    #[test]
    fn a_duplicated_session_cookie_is_named() {
        let (d, p, l) = dev();
        let seen = Seen::of(
            &headers(&[("cookie", "access_token=a; access_token=b")]),
            Some("from=http%3A%2F%2Flocalhost%3A3000"),
            SessionState::Refused,
        );
        let dx = diagnose(&d, &p, &l, 0, &seen);
        assert!(dx
            .signs
            .iter()
            .any(|s| s.contains("arrived more than once")));
        assert_eq!(dx.page_allowed, Some(true));
    }
}
