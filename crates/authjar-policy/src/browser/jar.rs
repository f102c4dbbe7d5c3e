//! The cookie jar: storage (RFC 6265bis §5.7) and retrieval (§5.8.3), with
//! the browser profile's third-party and partitioning rules layered on top.

use url::Url;

use super::set_cookie::{parse_set_cookie, ParseRejection, ParsedSetCookie, SameSiteAttr};
use super::{BrowserProfile, RequestContext, ThirdPartyCookies, UnixTime};
use crate::origin::{Host, Scheme, WebOrigin};
use crate::site::{is_public_suffix, Site};

const MAX_LIFETIME_SECS: i64 = 400 * 24 * 3600;
const LAX_ALLOWING_UNSAFE_SECS: i64 = 120;

/// A cookie in the jar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Host (host-only) or domain the cookie belongs to.
    pub domain: String,
    /// No `Domain` attribute took effect.
    pub host_only: bool,
    /// Path.
    pub path: String,
    /// `Secure`.
    pub secure: bool,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `SameSite` as parsed.
    pub same_site: SameSiteAttr,
    /// The top-level site whose partition holds the cookie, if partitioned.
    pub partition: Option<Site>,
    /// Expiry as Unix time; `None` for a session cookie (gone when the browser closes).
    pub expires: Option<UnixTime>,
    /// When the cookie was first created (kept across replacement).
    pub created: UnixTime,
    order: u64,
}

/// Why the browser ignored a `Set-Cookie` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Dropped by the parser.
    Parse(ParseRejection),
    /// The request's credentials mode excludes cookies.
    CredentialsOmitted,
    /// `Domain` is a public suffix other than the host itself.
    DomainIsPublicSuffix(String),
    /// `Domain` does not domain-match the request host (or the host is an IP).
    DomainMismatch(String),
    /// `Secure` cookie from a non-secure URL.
    SecureOverInsecure,
    /// A non-secure origin tried to overlay an existing `Secure` cookie.
    OverlaysSecureCookie,
    /// A Lax, Strict or default cookie set by a cross-site subresource.
    SameSiteFromCrossSite,
    /// `SameSite=None` without `Secure`.
    SameSiteNoneInsecure,
    /// `__Secure-` without `Secure`.
    SecurePrefixInvalid,
    /// `__Host-` without `Secure`, with `Domain`, or without `Path=/`.
    HostPrefixInvalid,
    /// A nameless cookie whose value starts like a prefixed name.
    NamelessPrefixed,
    /// `Partitioned` without `Secure`.
    PartitionedInsecure,
    /// A third-party cookie in a browser that blocks them.
    ThirdPartyBlocked,
}

impl Rejection {
    /// The section of RFC 6265bis (draft 22) or the other spec behind the rule.
    pub fn section(&self) -> &'static str {
        match self {
            Rejection::Parse(ParseRejection::ControlCharacter) => "RFC 6265bis §5.6 step 1",
            Rejection::Parse(ParseRejection::EmptyNameAndValue) => "RFC 6265bis §5.7 step 2",
            Rejection::Parse(ParseRejection::TooLarge) => "RFC 6265bis §5.6 step 5",
            Rejection::Parse(ParseRejection::NonAsciiDomain) => "RFC 6265bis §5.7 step 8",
            Rejection::CredentialsOmitted => "Fetch: credentials mode",
            Rejection::DomainIsPublicSuffix(_) => "RFC 6265bis §5.7 step 9",
            Rejection::DomainMismatch(_) => "RFC 6265bis §5.7 step 10",
            Rejection::SecureOverInsecure => "RFC 6265bis §5.7 step 13",
            Rejection::OverlaysSecureCookie => "RFC 6265bis §5.7 step 16",
            Rejection::SameSiteFromCrossSite => "RFC 6265bis §5.7 step 18",
            Rejection::SameSiteNoneInsecure => "RFC 6265bis §5.7 step 19",
            Rejection::SecurePrefixInvalid => "RFC 6265bis §5.7 step 20",
            Rejection::HostPrefixInvalid => "RFC 6265bis §5.7 step 21",
            Rejection::NamelessPrefixed => "RFC 6265bis §5.7 step 22",
            Rejection::PartitionedInsecure => {
                "CHIPS (draft-cutler-httpbis-partitioned-cookies §2.1)"
            }
            Rejection::ThirdPartyBlocked => "browser setting: third-party cookies blocked",
        }
    }

    /// One sentence for a report.
    pub fn explain(&self) -> String {
        match self {
            Rejection::Parse(p) => format!("the browser's parser drops the line ({p:?})"),
            Rejection::CredentialsOmitted => {
                "the request was made without credentials: 'include'".into()
            }
            Rejection::DomainIsPublicSuffix(d) => format!("Domain={d} is a public suffix"),
            Rejection::DomainMismatch(d) => {
                format!("Domain={d} does not match the response's host")
            }
            Rejection::SecureOverInsecure => {
                "a Secure cookie cannot be set over plain http (except on loopback in Chromium)"
                    .into()
            }
            Rejection::OverlaysSecureCookie => "plain http cannot overwrite a Secure cookie".into(),
            Rejection::SameSiteFromCrossSite => {
                "a cross-site request can only set SameSite=None cookies".into()
            }
            Rejection::SameSiteNoneInsecure => "SameSite=None requires Secure".into(),
            Rejection::SecurePrefixInvalid => "__Secure- cookies need Secure".into(),
            Rejection::HostPrefixInvalid => {
                "__Host- cookies need Secure, Path=/ and no Domain".into()
            }
            Rejection::NamelessPrefixed => "a nameless cookie may not look prefixed".into(),
            Rejection::PartitionedInsecure => "Partitioned requires Secure".into(),
            Rejection::ThirdPartyBlocked => {
                "third-party cookies are blocked and the cookie is not Partitioned".into()
            }
        }
    }
}

/// What storing one `Set-Cookie` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOutcome {
    /// The cookie is in the jar (new or replacing one with the same key).
    Stored(StoredCookie),
    /// The cookie was already expired: any cookie with its key was removed.
    Deleted {
        /// Whether a cookie was actually removed.
        removed: bool,
    },
    /// Ignored, with the reason.
    Rejected(Rejection),
}

/// Why a cookie in the jar was not sent on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withheld {
    /// Credentials mode excludes cookies.
    CredentialsOmitted,
    /// Expired.
    Expired,
    /// Host or domain does not match the URL.
    DomainMismatch,
    /// Path does not match the URL.
    PathMismatch,
    /// `Secure` cookie, non-secure URL.
    NotSecure,
    /// `SameSite=Strict` on a cross-site request.
    SameSiteStrict,
    /// `SameSite=Lax` (or default) on a cross-site subresource or unsafe navigation.
    SameSiteLax,
    /// Third-party context and third-party cookies are blocked.
    ThirdPartyBlocked,
    /// Partitioned under another top-level site.
    OtherPartition,
}

/// The decision for one cookie of the jar on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendDecision {
    /// The cookie.
    pub cookie: StoredCookie,
    /// `None` when sent, else why not.
    pub withheld: Option<Withheld>,
}

/// A browser's cookie jar under one [`BrowserProfile`].
#[derive(Debug, Clone)]
pub struct Jar {
    profile: BrowserProfile,
    cookies: Vec<StoredCookie>,
    next_order: u64,
}

impl Jar {
    /// An empty jar.
    pub fn new(profile: BrowserProfile) -> Jar {
        Jar {
            profile,
            cookies: Vec::new(),
            next_order: 0,
        }
    }

    /// Every cookie currently held (expired ones included until evicted by a store).
    pub fn cookies(&self) -> &[StoredCookie] {
        &self.cookies
    }

    /// Processes one `Set-Cookie` header received in response to `ctx` at `now`.
    pub fn store(&mut self, header: &str, ctx: &RequestContext, now: UnixTime) -> StoreOutcome {
        match self.build(header, ctx, now) {
            Ok(cookie) => self.insert(cookie, now),
            Err(r) => StoreOutcome::Rejected(r),
        }
    }

    fn build(
        &self,
        header: &str,
        ctx: &RequestContext,
        now: UnixTime,
    ) -> Result<StoredCookie, Rejection> {
        let parsed = parse_set_cookie(header).map_err(Rejection::Parse)?;
        if !ctx.credentials_allow_cookies() {
            return Err(Rejection::CredentialsOmitted);
        }
        let origin = ctx
            .origin()
            .ok_or(Rejection::DomainMismatch(String::new()))?;
        let (domain, host_only) = cookie_domain(&parsed, origin.host())?;
        let secure_request = self.is_secure(&origin);
        if parsed.secure && !secure_request {
            return Err(Rejection::SecureOverInsecure);
        }
        let path = parsed
            .path
            .clone()
            .unwrap_or_else(|| default_path(&ctx.url));
        if !parsed.secure && !secure_request && self.overlays_secure(&parsed.name, &domain, &path) {
            return Err(Rejection::OverlaysSecureCookie);
        }
        let same_site = self.effective_same_site(parsed.same_site);
        if same_site != SameSiteAttr::None
            && !self.same_site(ctx)
            && ctx.navigation != super::Navigation::TopLevel
        {
            return Err(Rejection::SameSiteFromCrossSite);
        }
        if parsed.same_site == SameSiteAttr::None && !parsed.secure {
            return Err(Rejection::SameSiteNoneInsecure);
        }
        check_prefixes(
            &parsed,
            host_only,
            &path,
            self.profile.host_prefix_needs_path_attribute,
        )?;
        if parsed.partitioned && !parsed.secure {
            return Err(Rejection::PartitionedInsecure);
        }
        let partition = self.partition_for(&parsed, ctx)?;
        Ok(StoredCookie {
            expires: expiry(&parsed, now),
            name: parsed.name,
            value: parsed.value,
            domain,
            host_only,
            path,
            secure: parsed.secure,
            http_only: parsed.http_only,
            same_site: parsed.same_site,
            partition,
            created: now,
            order: 0,
        })
    }

    /// Which partition a new cookie goes to, or the third-party refusal.
    fn partition_for(
        &self,
        c: &ParsedSetCookie,
        ctx: &RequestContext,
    ) -> Result<Option<Site>, Rejection> {
        let top = Site::of(&ctx.top_level);
        if !self.third_party(ctx) {
            return Ok((c.partitioned && self.profile.supports_chips).then_some(top));
        }
        match self.profile.third_party {
            ThirdPartyCookies::Allowed => {
                Ok((c.partitioned && self.profile.supports_chips).then_some(top))
            }
            ThirdPartyCookies::PartitionedByDefault => Ok(Some(top)),
            ThirdPartyCookies::Blocked if c.partitioned && self.profile.supports_chips => {
                Ok(Some(top))
            }
            ThirdPartyCookies::Blocked => Err(Rejection::ThirdPartyBlocked),
        }
    }

    fn insert(&mut self, mut cookie: StoredCookie, now: UnixTime) -> StoreOutcome {
        let existing = self.cookies.iter().position(|c| same_key(c, &cookie));
        if cookie.expires.is_some_and(|e| e <= now) {
            let removed = existing.map(|i| self.cookies.remove(i)).is_some();
            return StoreOutcome::Deleted { removed };
        }
        match existing {
            Some(i) => {
                cookie.created = self.cookies[i].created;
                cookie.order = self.cookies[i].order;
                self.cookies[i] = cookie.clone();
            }
            None => {
                cookie.order = self.next_order;
                self.next_order += 1;
                self.cookies.push(cookie.clone());
            }
        }
        StoreOutcome::Stored(cookie)
    }

    /// Decides, for every cookie in the jar, whether it goes on `ctx`'s request.
    /// Sent cookies come first, in `Cookie` header order (§5.8.3: longer paths
    /// first, then earlier creation).
    pub fn decide(&self, ctx: &RequestContext, now: UnixTime) -> Vec<SendDecision> {
        let mut out: Vec<SendDecision> = self
            .cookies
            .iter()
            .map(|c| SendDecision {
                cookie: c.clone(),
                withheld: self.withheld(c, ctx, now),
            })
            .collect();
        out.sort_by(|a, b| {
            (
                a.withheld.is_some(),
                std::cmp::Reverse(a.cookie.path.len()),
                a.cookie.created,
                a.cookie.order,
            )
                .cmp(&(
                    b.withheld.is_some(),
                    std::cmp::Reverse(b.cookie.path.len()),
                    b.cookie.created,
                    b.cookie.order,
                ))
        });
        out
    }

    /// The cookies sent on `ctx`'s request, in header order.
    pub fn sent(&self, ctx: &RequestContext, now: UnixTime) -> Vec<StoredCookie> {
        self.decide(ctx, now)
            .into_iter()
            .filter(|d| d.withheld.is_none())
            .map(|d| d.cookie)
            .collect()
    }

    /// What `document.cookie` shows on a page at `page_url`: the non-HttpOnly
    /// cookies a first-party GET to the page would carry.
    pub fn visible_to_script(&self, page_url: &Url, now: UnixTime) -> Vec<StoredCookie> {
        let Some(ctx) = RequestContext::navigate(page_url.clone(), None, "GET") else {
            return Vec::new();
        };
        self.sent(&ctx, now)
            .into_iter()
            .filter(|c| !c.http_only)
            .collect()
    }

    fn withheld(&self, c: &StoredCookie, ctx: &RequestContext, now: UnixTime) -> Option<Withheld> {
        if !ctx.credentials_allow_cookies() {
            return Some(Withheld::CredentialsOmitted);
        }
        if c.expires.is_some_and(|e| e <= now) {
            return Some(Withheld::Expired);
        }
        let origin = ctx.origin()?;
        if !host_matches(c, origin.host()) {
            return Some(Withheld::DomainMismatch);
        }
        if !path_matches(&c.path, ctx.url.path()) {
            return Some(Withheld::PathMismatch);
        }
        if c.secure && !self.is_secure(&origin) {
            return Some(Withheld::NotSecure);
        }
        if let Some(w) = self.partition_withheld(c, ctx) {
            return Some(w);
        }
        self.same_site_withheld(c, ctx, now)
    }

    fn partition_withheld(&self, c: &StoredCookie, ctx: &RequestContext) -> Option<Withheld> {
        let top = Site::of(&ctx.top_level);
        match &c.partition {
            Some(p) if *p != top => Some(Withheld::OtherPartition),
            Some(_) => None,
            None if self.third_party(ctx)
                && self.profile.third_party != ThirdPartyCookies::Allowed =>
            {
                Some(Withheld::ThirdPartyBlocked)
            }
            None => None,
        }
    }

    fn same_site_withheld(
        &self,
        c: &StoredCookie,
        ctx: &RequestContext,
        now: UnixTime,
    ) -> Option<Withheld> {
        if self.same_site(ctx) {
            return None;
        }
        let top_level = ctx.navigation == super::Navigation::TopLevel;
        match self.effective_same_site(c.same_site) {
            SameSiteAttr::None => None,
            SameSiteAttr::Strict => Some(Withheld::SameSiteStrict),
            SameSiteAttr::Lax if top_level && ctx.is_safe_method() => None,
            SameSiteAttr::Default if top_level && ctx.is_safe_method() => None,
            // §5.6.7.2 "Lax-allowing-unsafe": Chromium sends a fresh default cookie on a top-level POST.
            SameSiteAttr::Default if top_level && now - c.created <= LAX_ALLOWING_UNSAFE_SECS => {
                None
            }
            SameSiteAttr::Lax | SameSiteAttr::Default => Some(Withheld::SameSiteLax),
        }
    }

    /// A missing SameSite is Lax in Chromium and None in browsers without Lax-by-default.
    fn effective_same_site(&self, s: SameSiteAttr) -> SameSiteAttr {
        match s {
            SameSiteAttr::Default if !self.profile.lax_by_default => SameSiteAttr::None,
            other => other,
        }
    }

    /// Same-site as this browser judges it (schemeful or not).
    fn same_site(&self, ctx: &RequestContext) -> bool {
        ctx.is_same_site_by(self.profile.schemeful_same_site)
    }

    /// A third-party context as this browser judges it (schemeful or not).
    fn third_party(&self, ctx: &RequestContext) -> bool {
        ctx.is_third_party_by(self.profile.schemeful_same_site)
    }

    fn is_secure(&self, origin: &WebOrigin) -> bool {
        origin.scheme() == Scheme::Https
            || (origin.is_loopback() && self.profile.loopback_http_is_secure)
    }

    /// §5.7 step 16: an existing Secure cookie with this name whose domain
    /// domain-matches the new one (or vice versa) and whose path the new path matches.
    fn overlays_secure(&self, name: &str, domain: &str, path: &str) -> bool {
        self.cookies.iter().any(|c| {
            c.secure
                && c.name == name
                && (domain_matches(&c.domain, domain) || domain_matches(domain, &c.domain))
                && path_matches(&c.path, path)
        })
    }
}

fn same_key(a: &StoredCookie, b: &StoredCookie) -> bool {
    a.name == b.name
        && a.domain == b.domain
        && a.host_only == b.host_only
        && a.path == b.path
        && a.partition == b.partition
}

/// §5.7 steps 8-10: the cookie's domain and host-only flag.
fn cookie_domain(c: &ParsedSetCookie, host: &Host) -> Result<(String, bool), Rejection> {
    let host_str = match host {
        Host::Domain(d) => d.clone(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    };
    let Some(domain) = c.domain.as_deref() else {
        return Ok((host_str, true));
    };
    if is_public_suffix(domain) && host.domain().is_some() {
        return if domain == host_str {
            Ok((host_str, true))
        } else {
            Err(Rejection::DomainIsPublicSuffix(domain.to_owned()))
        };
    }
    // §5.1.3: the suffix rule applies to host names only; an IP must be identical.
    let ok = match host {
        Host::Domain(_) => domain_matches(&host_str, domain),
        _ => host_str == domain,
    };
    if !ok {
        return Err(Rejection::DomainMismatch(domain.to_owned()));
    }
    Ok((domain.to_owned(), host.domain().is_none()))
}

/// §5.1.3 domain-match of a host name against a cookie domain.
fn domain_matches(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

fn host_matches(c: &StoredCookie, host: &Host) -> bool {
    let h = match host {
        Host::Domain(d) => d.clone(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    };
    if c.host_only {
        h == c.domain
    } else {
        domain_matches(&h, &c.domain)
    }
}

/// §5.1.4 path-match.
fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/')
                || request_path.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

/// §5.1.4 default-path: the request path up to, not including, its last `/`.
fn default_path(url: &Url) -> String {
    let p = url.path();
    match p.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(i) => p[..i].to_owned(),
    }
}

/// §5.7 steps 20-22: cookie name prefixes, matched case-insensitively.
/// `needs_path_attribute`: `__Host-` wants an explicit `Path=/`; otherwise
/// (Firefox, docs/browser-facts.md Firefox case F2) the effective path must be `/`.
fn check_prefixes(
    c: &ParsedSetCookie,
    host_only: bool,
    path: &str,
    needs_path_attribute: bool,
) -> Result<(), Rejection> {
    let lower = c.name.to_ascii_lowercase();
    if lower.starts_with("__secure-") && !c.secure {
        return Err(Rejection::SecurePrefixInvalid);
    }
    let path_ok = if needs_path_attribute {
        c.path_attribute_present && c.path.as_deref() == Some("/")
    } else {
        path == "/"
    };
    let host_ok = c.secure && host_only && path_ok;
    if lower.starts_with("__host-") && !host_ok {
        return Err(Rejection::HostPrefixInvalid);
    }
    let value = c.value.to_ascii_lowercase();
    if c.name.is_empty() && (value.starts_with("__secure-") || value.starts_with("__host-")) {
        return Err(Rejection::NamelessPrefixed);
    }
    Ok(())
}

/// §5.7 step 6 with the §5.5 cap of 400 days; `Max-Age` wins over `Expires`.
fn expiry(c: &ParsedSetCookie, now: UnixTime) -> Option<UnixTime> {
    let cap = now + MAX_LIFETIME_SECS;
    if let Some(secs) = c.max_age {
        return Some(if secs <= 0 {
            i64::MIN
        } else {
            now.saturating_add(secs).min(cap)
        });
    }
    c.expires.map(|e| e.min(cap))
}
