//! The cookies authjar sets, derived from a [`Deployment`]: one description
//! per cookie ([`CookieSpec`]) from which both the `Set-Cookie` header and its
//! removal are rendered, so Domain and Path can never drift apart.
//!
//! The rules follow the policy table of docs/browser-facts.md:
//! - plain http (development): host-only, HttpOnly, `SameSite=Lax`, no
//!   `Secure` and no prefix (Safari drops `Secure` on `http://localhost`);
//! - https: `Secure`, `__Host-` where the cookie is host-only with `Path=/`,
//!   `__Secure-` otherwise (RFC 6265bis §4.1.3);
//! - a cross-site app over https: `SameSite=None; Secure; Partitioned` (CHIPS),
//!   the only way the app's fetch can store them when third-party cookies are
//!   blocked (facts 9–10);
//! - the OAuth transaction cookie is always `SameSite=Lax`: it must ride the
//!   provider's top-level redirect back (fact 12).

use std::time::Duration;

use cookie::{Cookie, SameSite as CookieSameSite};

use crate::deployment::Deployment;

/// Browsers cap cookie lifetimes at 400 days (RFC 6265bis §5.5).
pub const MAX_COOKIE_LIFETIME: Duration = Duration::from_secs(400 * 24 * 3600);

/// The cookies authjar sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieKind {
    /// The short-lived access token (a JWT), sent to the API on every request.
    Access,
    /// The long-lived opaque refresh token, sent only to authjar's `/auth` routes.
    Refresh,
    /// The CSRF token, readable by the app's JavaScript where it can be.
    Csrf,
    /// A random id that binds a CSRF token before login (login CSRF).
    PreSession,
    /// The encrypted OAuth transaction (state, PKCE verifier, nonce, return_to).
    OauthTransaction,
}

impl CookieKind {
    /// Every kind, in the order the tables list them.
    pub const ALL: [CookieKind; 5] = [
        CookieKind::Access,
        CookieKind::Refresh,
        CookieKind::Csrf,
        CookieKind::PreSession,
        CookieKind::OauthTransaction,
    ];

    /// The cookie's name before any prefix (the source post's names where it has them).
    pub fn base_name(self) -> &'static str {
        match self {
            CookieKind::Access => "access_token",
            CookieKind::Refresh => "refresh_token",
            CookieKind::Csrf => "csrf_token",
            CookieKind::PreSession => "pre_session",
            CookieKind::OauthTransaction => "oauth_tx",
        }
    }
}

/// The `SameSite` attribute values authjar emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SameSite {
    /// Sent on same-site requests and top-level cross-site GET navigations.
    Lax,
    /// Sent on same-site requests only.
    Strict,
    /// Sent everywhere (requires `Secure`).
    None,
}

impl SameSite {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
            SameSite::None => "None",
        }
    }
}

/// Everything about one cookie except its value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CookieSpec {
    /// Which cookie this is.
    pub kind: CookieKind,
    /// The full name, prefix included.
    pub name: String,
    /// `Secure`.
    pub secure: bool,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `SameSite`.
    pub same_site: SameSite,
    /// `Path`.
    pub path: String,
    /// `Domain`, or `None` for a host-only cookie.
    pub domain: Option<String>,
    /// `Partitioned` (CHIPS).
    pub partitioned: bool,
    /// `Max-Age` in seconds.
    pub max_age_secs: u64,
}

impl CookieSpec {
    /// The `Set-Cookie` header value carrying `value`. The value must already
    /// be cookie-safe (authjar's values are base64url or JWTs).
    pub fn set_cookie(&self, value: &str) -> String {
        self.render(value, self.max_age_secs as i64)
    }

    /// The `Set-Cookie` header value that deletes this cookie: same name,
    /// Domain, Path, Secure, SameSite and Partitioned, empty value, `Max-Age=0`.
    pub fn removal(&self) -> String {
        self.render("", 0)
    }

    fn render(&self, value: &str, max_age: i64) -> String {
        let same_site = match self.same_site {
            SameSite::Lax => CookieSameSite::Lax,
            SameSite::Strict => CookieSameSite::Strict,
            SameSite::None => CookieSameSite::None,
        };
        let mut c = Cookie::build((self.name.clone(), value.to_owned()))
            .path(self.path.clone())
            .secure(self.secure)
            .http_only(self.http_only)
            .same_site(same_site)
            .partitioned(self.partitioned)
            .max_age(cookie::time::Duration::seconds(max_age))
            .build();
        if let Some(d) = &self.domain {
            c.set_domain(d.clone());
        }
        c.to_string()
    }
}

/// Lifetimes of the cookies, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetimes {
    /// Access-token lifetime (`access_ttl`).
    pub access: Duration,
    /// Refresh-token lifetime (`refresh_ttl`).
    pub refresh: Duration,
}

impl Lifetimes {
    /// The pre-session cookie lives a day: long enough for a login page left open.
    pub const PRE_SESSION: Duration = Duration::from_secs(24 * 3600);
    /// The OAuth transaction lives ten minutes (RFC 9700 keeps it short).
    pub const OAUTH_TRANSACTION: Duration = Duration::from_secs(600);
}

/// The derived cookie set of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CookiePolicy {
    cookies: Vec<CookieSpec>,
}

impl CookiePolicy {
    /// Derives every cookie from the topology. The readable CSRF cookie is
    /// only part of the set where the app's JavaScript can read it.
    pub fn derive(deployment: &Deployment, lifetimes: &Lifetimes) -> CookiePolicy {
        let cookies = CookieKind::ALL
            .into_iter()
            .filter(|k| *k != CookieKind::Csrf || csrf_cookie_readable(deployment))
            .map(|k| spec_for(deployment, lifetimes, k))
            .collect();
        CookiePolicy { cookies }
    }

    /// The cookie of one kind, if the deployment sets it.
    pub fn get(&self, kind: CookieKind) -> Option<&CookieSpec> {
        self.cookies.iter().find(|c| c.kind == kind)
    }

    /// All derived cookies.
    pub fn iter(&self) -> impl Iterator<Item = &CookieSpec> {
        self.cookies.iter()
    }
}

/// Where the app's JavaScript can read a cookie the API sets: every app is on
/// the API's own host (same origin, or localhost on another port), or a
/// `cookie_domain` covering the apps was set on purpose (docs/browser-facts.md fact 8).
pub fn csrf_cookie_readable(d: &Deployment) -> bool {
    if d.has_cross_site_app() {
        return false;
    }
    d.all_apps_on_api_host()
        || d.app_origins
            .iter()
            .all(|o| d.host_in_cookie_domain(o.host()))
}

fn spec_for(d: &Deployment, lifetimes: &Lifetimes, kind: CookieKind) -> CookieSpec {
    let secure = d.is_https();
    let partitioned = secure && d.has_cross_site_app() && kind != CookieKind::OauthTransaction;
    // Every cookie has `Path=/`, the refresh cookie too: on https that makes
    // each host-only cookie a `__Host-` cookie, which a sibling subdomain
    // cannot overwrite with `Domain=` (cookie tossing), and it lets an unsafe
    // request to the app's own API resolve its CSRF binding through the
    // refresh cookie once the access cookie has expired.
    let path = "/".to_owned();
    let shares_domain = matches!(
        kind,
        CookieKind::Access | CookieKind::Refresh | CookieKind::Csrf
    );
    let domain = d
        .cookie_domain
        .as_ref()
        .filter(|_| shares_domain)
        .map(|c| c.as_str().to_owned());
    let prefix = match (secure, domain.is_none() && path == "/") {
        (false, _) => "",
        (true, true) => "__Host-",
        (true, false) => "__Secure-",
    };
    let max_age = match kind {
        CookieKind::Access => lifetimes.access,
        CookieKind::Refresh | CookieKind::Csrf => lifetimes.refresh,
        CookieKind::PreSession => Lifetimes::PRE_SESSION,
        CookieKind::OauthTransaction => Lifetimes::OAUTH_TRANSACTION,
    };
    CookieSpec {
        kind,
        name: format!("{prefix}{}", kind.base_name()),
        secure,
        http_only: kind != CookieKind::Csrf,
        same_site: if partitioned {
            SameSite::None
        } else {
            SameSite::Lax
        },
        path,
        domain,
        partitioned,
        max_age_secs: max_age.min(MAX_COOKIE_LIFETIME).as_secs(),
    }
}
