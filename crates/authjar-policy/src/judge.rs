//! Judging one `Set-Cookie` header the way a browser will treat it for a
//! given app: stored or not (and why), sent on the app's credentialed
//! fetch, lifetime and size. Used by `authjar check` on authjar's own
//! cookies and by `authjar doctor` on any API's.

use url::Url;

use crate::browser::set_cookie::{parse_set_cookie, ParseRejection, SameSiteAttr};
use crate::browser::{BrowserProfile, Jar, Rejection, RequestContext, StoreOutcome, UnixTime};
use crate::findings::{ids, Finding, Severity};
use crate::origin::WebOrigin;

/// Where a `Set-Cookie` was seen.
#[derive(Debug, Clone)]
pub struct CookieSighting<'a> {
    /// The header value.
    pub header: &'a str,
    /// The URL of the response that carried it.
    pub response_url: &'a Url,
    /// The page whose credentialed fetch got the response.
    pub app: &'a WebOrigin,
    /// Whether the deployment is production.
    pub production: bool,
}

/// Everything a browser would object to in one `Set-Cookie` header.
pub fn judge_set_cookie(s: &CookieSighting<'_>, now: UnixTime) -> Vec<Finding> {
    let parsed = match parse_set_cookie(s.header) {
        Ok(p) => p,
        Err(r) => return vec![parse_finding(s.header, r)],
    };
    let name = if parsed.name.is_empty() {
        "(nameless)"
    } else {
        parsed.name.as_str()
    };
    let mut out = Vec::new();
    if let Some(d) = parsed.domain.as_deref() {
        if is_loopback_name(d) {
            let f = Finding::new(ids::COOKIE_DOMAIN_LOCALHOST, format!("{name}: Domain={d}"));
            out.push(if s.production {
                f
            } else {
                f.with_severity(Severity::Warning)
            });
        }
    }
    let lifetime = parsed.max_age.or(parsed.expires.map(|e| e - now));
    match lifetime {
        None => out.push(Finding::new(
            ids::SESSION_ONLY_COOKIE,
            format!("{name} has neither Max-Age nor Expires"),
        )),
        Some(secs) if secs > 400 * 86_400 => out.push(Finding::new(
            ids::LIFETIME_OVER_400_DAYS,
            format!("{name} asks for {} days", secs / 86_400),
        )),
        Some(_) => {}
    }
    let ctx = RequestContext::fetch(s.app, s.response_url.clone(), "POST");
    let mut jar = Jar::new(BrowserProfile::CHROMIUM);
    match jar.store(s.header, &ctx, now) {
        StoreOutcome::Rejected(r) => {
            let f = rejection_finding(name, &r, s);
            if !out.iter().any(|o| o.id == f.id) {
                out.push(f);
            }
        }
        StoreOutcome::Stored(_) | StoreOutcome::Deleted { .. } => {
            if parsed.same_site == SameSiteAttr::None && !parsed.partitioned {
                out.extend(third_party_warning(name, s));
            }
        }
    }
    out
}

/// The finding for a line the browser's parser drops.
fn parse_finding(header: &str, r: ParseRejection) -> Finding {
    if r == ParseRejection::TooLarge {
        return Finding::new(
            ids::COOKIE_TOO_LARGE,
            format!("the Set-Cookie line is {} bytes", header.len()),
        );
    }
    let r = Rejection::Parse(r);
    Finding::new(
        ids::COOKIE_NOT_STORED,
        format!("{} ({})", r.explain(), r.section()),
    )
}

fn is_loopback_name(d: &str) -> bool {
    d == "localhost"
        || d.ends_with(".localhost")
        || d.starts_with("127.")
        || d == "::1"
        || d == "[::1]"
}

fn rejection_finding(name: &str, r: &Rejection, s: &CookieSighting<'_>) -> Finding {
    let detail = format!("{name}: {} ({}); from {}", r.explain(), r.section(), s.app);
    match r {
        Rejection::SecureOverInsecure => Finding::new(ids::SECURE_COOKIE_OVER_HTTP, detail),
        Rejection::SameSiteNoneInsecure => Finding::new(ids::SAMESITE_NONE_WITHOUT_SECURE, detail),
        Rejection::HostPrefixInvalid => Finding::new(ids::HOST_PREFIX_INVALID, detail),
        Rejection::SecurePrefixInvalid => Finding::new(ids::SECURE_PREFIX_INVALID, detail),
        Rejection::DomainIsPublicSuffix(d) | Rejection::DomainMismatch(d)
            if is_loopback_name(d) =>
        {
            Finding::new(ids::COOKIE_DOMAIN_LOCALHOST, detail)
        }
        Rejection::DomainIsPublicSuffix(_) => {
            Finding::new(ids::COOKIE_DOMAIN_PUBLIC_SUFFIX, detail)
        }
        Rejection::DomainMismatch(_) => Finding::new(ids::COOKIE_DOMAIN_MISMATCH, detail),
        Rejection::ThirdPartyBlocked | Rejection::SameSiteFromCrossSite => {
            Finding::new(ids::CROSS_SITE_THIRD_PARTY_COOKIES, detail).with_severity(Severity::Error)
        }
        _ => Finding::new(ids::COOKIE_NOT_STORED, detail),
    }
}

/// A SameSite=None cookie that is not partitioned works cross-site only
/// where third-party cookies are allowed, and, for now, in Firefox, which
/// keeps it in the app's partition (docs/browser-facts.md Firefox case F5).
fn third_party_warning(name: &str, s: &CookieSighting<'_>) -> Option<Finding> {
    let api = WebOrigin::of_url(s.response_url).ok()?;
    if crate::site::Relation::between(s.app, &api).is_same_site() {
        return None;
    }
    Some(Finding::new(
        ids::CROSS_SITE_THIRD_PARTY_COOKIES,
        format!("{name} is SameSite=None without Partitioned: Chromium (third-party cookies blocked, its default) and Safari drop it; only Firefox keeps it, in the app's partition, for now"),
    ))
}
