//! Findings: what is wrong (or worth knowing) about a deployment, each with a
//! stable kebab-case id, a severity, and a fix. The catalog below is the one
//! place their titles and fixes are written; `authjar check`, the start-up
//! banner and `authjar doctor` all report through it.

use std::fmt;

/// How bad a finding is: `error` breaks login or opens a hole in a mainstream
/// browser, `warning` degrades it, `info` is advice (docs/doctor.md, "Findings").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks login or opens a hole in a mainstream browser.
    Error,
    /// Degrades it (works in Chromium but not Safari, dies with the browser, …).
    Warning,
    /// Advice.
    Info,
}

impl Severity {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One finding, ready to print or serialise.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Stable kebab-case id.
    pub id: &'static str,
    /// Severity.
    pub severity: Severity,
    /// One line saying what is wrong.
    pub title: &'static str,
    /// The specifics: which origin, which cookie, which value.
    pub detail: String,
    /// What to change.
    pub fix: String,
}

impl Finding {
    /// A finding of catalog entry `id` (use the [`ids`] constants) with the
    /// given specifics; title, severity and fix come from the catalog.
    pub fn new(id: &'static str, detail: impl Into<String>) -> Finding {
        let entry = entry(id);
        Finding {
            id: entry.id,
            severity: entry.severity,
            title: entry.title,
            detail: detail.into(),
            fix: entry.fix.to_owned(),
        }
    }

    /// The same finding with a fix written for this case.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = fix.into();
        self
    }

    /// The same finding at another severity (e.g. advice in development, error in production).
    pub fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}: {} — {} Fix: {}",
            self.severity.as_str(),
            self.id,
            self.title,
            self.detail,
            self.fix
        )
    }
}

/// One catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Stable id.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Title.
    pub title: &'static str,
    /// The general fix.
    pub fix: &'static str,
}

fn entry(id: &str) -> &'static CatalogEntry {
    CATALOG.iter().find(|e| e.id == id).unwrap_or(&UNKNOWN)
}

const UNKNOWN: CatalogEntry = CatalogEntry {
    id: "unknown-finding",
    severity: Severity::Error,
    title: "an internal finding id is missing from the catalog",
    fix: "report this as a bug in authjar",
};

macro_rules! catalog {
    ($($konst:ident = $id:literal, $sev:ident, $title:literal, $fix:literal;)*) => {
        /// Finding ids as constants, so code cannot misspell them.
        pub mod ids {
            $(#[doc = $title] pub const $konst: &str = $id;)*
        }
        /// Every finding authjar can report.
        pub const CATALOG: &[CatalogEntry] = &[
            $(CatalogEntry { id: $id, severity: Severity::$sev, title: $title, fix: $fix },)*
        ];
    };
}

catalog! {
    COOKIE_DOMAIN_LOCALHOST = "cookie-domain-localhost", Error,
        "a cookie Domain names localhost or a loopback address",
        "Remove the Domain attribute (unset cookie_domain). Cookies ignore ports, so a host-only cookie from localhost:8000 already reaches a page on localhost:3000; in production Domain=localhost makes the browser drop the cookie.";
    COOKIE_DOMAIN_PUBLIC_SUFFIX = "cookie-domain-public-suffix", Error,
        "the cookie Domain is a public suffix, which browsers refuse",
        "Unset cookie_domain, or set it to your own registrable domain (example.com, not com, co.uk or vercel.app).";
    COOKIE_DOMAIN_MISMATCH = "cookie-domain-mismatch", Error,
        "the cookie Domain does not cover the API's host, so the browser refuses the cookie",
        "Set cookie_domain to the API host's parent domain (api.example.com -> example.com), or unset it.";
    SAMESITE_NONE_WITHOUT_SECURE = "samesite-none-without-secure", Error,
        "SameSite=None without Secure is refused by every current browser",
        "Serve the API over https so cookies can be Secure; for a cross-site app on plain http there is no working cookie setting.";
    SECURE_COOKIE_OVER_HTTP = "secure-cookie-over-http", Error,
        "a Secure cookie is set over plain http on a non-loopback host, so it is refused",
        "Serve the API over https (locally: `authjar dev certs` and tls_cert/tls_key), or use http://localhost in development.";
    CROSS_SITE_THIRD_PARTY_COOKIES = "cross-site-third-party-cookies", Warning,
        "the app and the API are different sites, so the API's cookies are third-party cookies",
        "Best: serve the API under the app's origin through a reverse proxy (https://app.example.com/auth), or put both on one registrable domain (app.example.com + api.example.com). authjar makes the cross-site case work in Chromium and Firefox with Partitioned (CHIPS) cookies, but Safari may still drop them.";
    LOCALHOST_VS_127_MIXED = "localhost-vs-127-mixed", Error,
        "localhost and 127.0.0.1 are different sites: the browser will not keep the login",
        "Use the same host name on both sides: open the app at http://localhost:<port> and keep public_url on http://localhost, or use 127.0.0.1 for both.";
    PSL_HOSTING_DOMAIN = "psl-hosting-domain", Warning,
        "the hosts sit on a hosting provider's public suffix, where every subdomain is its own site",
        "Use a custom domain for both (app.example.com + api.example.com), or serve the API under the app's origin through the provider's rewrites/proxy.";
    WILDCARD_ORIGIN_WITH_CREDENTIALS = "wildcard-origin-with-credentials", Error,
        "a wildcard origin cannot be used with credentials, and authjar never honours it",
        "List every frontend origin exactly (scheme://host[:port]) in app_origins.";
    HTTP_PUBLIC_URL_IN_PRODUCTION = "http-public-url-in-production", Error,
        "production with a plain-http public_url: cookies cannot be Secure and tokens travel in clear",
        "Set public_url to the https URL browsers use (terminate TLS in authjar with tls_cert/tls_key or in your proxy).";
    LOCALHOST_PUBLIC_URL_IN_PRODUCTION = "localhost-public-url-in-production", Error,
        "production with public_url on localhost: OAuth redirect URIs and cookies point at the developer's machine",
        "Set public_url (or BASE_URL) to the API's real https URL.";
    LOCALHOST_ORIGIN_IN_PRODUCTION = "localhost-origin-in-production", Error,
        "production allows a localhost app origin (a development leftover in CORS)",
        "Remove localhost and 127.0.0.1 origins from app_origins in production; list the real https frontends.";
    INSECURE_APP_ORIGIN = "insecure-app-origin", Error,
        "an https API with a plain-http app origin: Chromium treats http and https as different sites and refuses the login cookies (Firefox's SameSite ignores the scheme), and the page is not secure",
        "Serve the app over https and list its https origin.";
    HTTP_FAKE_DOMAIN = "http-fake-domain", Info,
        "plain http on a non-loopback host name: cookies cannot be Secure here, unlike production",
        "To test production cookie attributes locally, serve https: `authjar dev certs app.example.test api.example.test` and set tls_cert/tls_key.";
    COOKIE_TOO_LARGE = "cookie-too-large", Error,
        "a cookie's name and value exceed 4096 bytes, so browsers drop it",
        "Keep tokens small: fewer JWT claims, or an opaque session id instead of a self-contained token.";
    LIFETIME_OVER_400_DAYS = "lifetime-over-400-days", Warning,
        "a cookie lifetime over 400 days is cut to 400 days by browsers",
        "Set refresh_ttl (or the cookie's Max-Age) to 400 days or less.";
    HOST_PREFIX_INVALID = "host-prefix-invalid", Error,
        "a __Host- cookie without Secure, with a Domain, or without Path=/ is refused",
        "Give __Host- cookies Secure and Path=/ and no Domain, or use the __Secure- prefix.";
    SECURE_PREFIX_INVALID = "secure-prefix-invalid", Error,
        "a __Secure- cookie without Secure is refused",
        "Add Secure (which needs https).";
    SESSION_ONLY_COOKIE = "session-only-cookie", Warning,
        "a session cookie (no Max-Age or Expires) dies when the browser closes: \"auth works, then stops\"",
        "Give the cookie a Max-Age matching the token's lifetime.";
    COOKIE_NOT_STORED = "cookie-not-stored", Error,
        "the browser would refuse a cookie the login sets",
        "See the detail for the rule that refuses it and change that attribute.";
    COOKIE_NOT_SENT = "cookie-not-sent", Error,
        "a cookie the browser stored would not be sent where it is needed",
        "See the detail for the rule that withholds it.";
    SECRET_MISSING_IN_PRODUCTION = "secret-missing-in-production", Error,
        "production without a configured secret: tokens and CSRF keys would change on every host and restart",
        "Set secret (at least 32 characters) or secret_file, the same on every instance.";
    SECRET_FILE_GENERATED = "secret-file-generated", Info,
        "development secret: generated once and kept in a file next to the database",
        "Fine for development; in production set secret or secret_file.";
    API_UNREACHABLE = "api-unreachable", Error,
        "the API cannot be reached at all",
        "Check the --api URL, that the server is running and listening on that address, and any firewall; for a name that only exists on this machine, pass --resolve HOST:PORT:ADDR.";
    TLS_CERTIFICATE_INVALID = "tls-certificate-invalid", Error,
        "the API's TLS certificate is not valid for its host, so browsers refuse the connection",
        "Install a certificate issued for the API's host name by a CA browsers trust (e.g. Let's Encrypt), with the full chain; for a local CA, pass it with --ca-file (and trust it in the browser).";
    TLS_EXPIRING_SOON = "tls-expiring-soon", Warning,
        "the API's TLS certificate expires within 14 days",
        "Renew the certificate now and make renewal automatic (certbot, Caddy or your load balancer's managed certificates).";
    HTTP_NOT_REDIRECTED = "http-not-redirected", Warning,
        "the API also answers over plain http instead of redirecting to https",
        "Answer every http:// request with a 301/308 redirect to the same https:// URL (and send HSTS on https).";
    HSTS_MISSING = "hsts-missing", Info,
        "the API sends no Strict-Transport-Security header",
        "Send `Strict-Transport-Security: max-age=31536000` (add includeSubDomains when every subdomain is https) from the API or its proxy.";
    CORS_WILDCARD_WITH_CREDENTIALS = "cors-wildcard-with-credentials", Error,
        "the API answers `Access-Control-Allow-Origin: *`, which browsers refuse for credentialed requests",
        "Echo the exact allowed origin (e.g. `Access-Control-Allow-Origin: https://app.example.com`) with `Access-Control-Allow-Credentials: true` and `Vary: Origin`; never `*` with cookies.";
    CORS_TRAILING_SLASH_ORIGIN = "cors-trailing-slash-origin", Error,
        "`Access-Control-Allow-Origin` carries a trailing slash, so it never equals the page's origin",
        "Write origins as scheme://host[:port] with no trailing slash in the CORS configuration; browsers compare the header byte for byte with the page's origin.";
    CORS_ORIGIN_NOT_ECHOED = "cors-origin-not-echoed", Error,
        "the API does not allow the app's origin: the page cannot read the response",
        "Add the app's exact origin (scheme://host[:port], as the browser's Origin header shows it) to the API's CORS allowlist and echo it in Access-Control-Allow-Origin.";
    CORS_CREDENTIALS_NOT_ALLOWED = "cors-credentials-not-allowed", Error,
        "the response lacks `Access-Control-Allow-Credentials: true`, so a fetch with credentials: 'include' fails",
        "Send `Access-Control-Allow-Credentials: true` (lower-case true) with the exact origin on every response to an allowed origin, preflights included; and call fetch with credentials: 'include'.";
    CORS_PREFLIGHT_REFUSED = "cors-preflight-refused", Error,
        "the CORS preflight for an unsafe call is refused, so the browser never sends the call",
        "Answer OPTIONS preflights from allowed origins with a 2xx (204) status and the CORS headers, before any authentication or CSRF check (preflights carry no cookies).";
    CORS_CSRF_HEADER_NOT_ALLOWED = "cors-csrf-header-not-allowed", Error,
        "the preflight does not allow the CSRF header, so every unsafe call from the app fails",
        "List the CSRF header in Access-Control-Allow-Headers (e.g. `Access-Control-Allow-Headers: Content-Type, X-CSRF-Token`).";
    CORS_CONTENT_TYPE_NOT_ALLOWED = "cors-content-type-not-allowed", Error,
        "the preflight does not allow Content-Type, so JSON calls from the app fail",
        "List Content-Type in Access-Control-Allow-Headers (`application/json` is not a CORS-safelisted type).";
    CORS_MISSING_VARY_ORIGIN = "cors-missing-vary-origin", Warning,
        "a response that echoes the Origin lacks `Vary: Origin`, so caches can serve one origin's answer to another",
        "Add `Vary: Origin` to every response whose CORS headers depend on the request's Origin.";
    CORS_MISSING_ON_ERROR_RESPONSES = "cors-missing-on-error-responses", Warning,
        "error responses lack the CORS headers, so the page sees a network error instead of the 401 it could act on",
        "Add the CORS headers to every response to an allowed origin, errors included, so the app can read a 401 and refresh.";
    CORS_FOREIGN_ORIGIN_ECHOED = "cors-foreign-origin-echoed", Error,
        "the API echoes an origin that is not an app, with credentials: any site can read the user's data",
        "Compare the Origin with an exact allowlist; never reflect the request's Origin, `null`, or anything matched by prefix, suffix or regular expression.";
    CSRF_NOT_ENFORCED = "csrf-not-enforced", Error,
        "an unsafe request without the CSRF token was accepted",
        "Refuse every unsafe request (POST, PUT, PATCH, DELETE) whose CSRF header is missing or wrong with a 403, login included; check the Origin header against the allowlist too.";
    CSRF_FOREIGN_ORIGIN_ACCEPTED = "csrf-foreign-origin-accepted", Warning,
        "an unsafe request from a foreign Origin was accepted (the token alone stood between it and the session)",
        "Refuse unsafe requests whose Origin (or, without it, Sec-Fetch-Site/Referer) is not an allowed origin, before looking at the token.";
    CSRF_TOKEN_UNREADABLE = "csrf-token-unreadable", Error,
        "the CSRF token is only in a cookie the app's JavaScript cannot read",
        "Return the CSRF token in the response body (of GET on the CSRF path, login and refresh) and have the app keep it in memory; a host-only cookie of the API is invisible to a page on another host.";
    GET_CHANGES_STATE = "get-changes-state", Error,
        "a GET changed state: a link or <img> on any site can trigger it with the user's cookies",
        "Accept only POST (or another unsafe method, CSRF-checked) for anything that changes state, logout included; GET handlers must be read-only.";
    OAUTH_REDIRECT_URI_LOCALHOST = "oauth-redirect-uri-localhost", Error,
        "an OAuth redirect_uri points at localhost in production",
        "Derive the redirect URI from the public URL (BASE_URL/public_url + the callback path), never hard-code http://localhost; register the production URI with the provider.";
    OAUTH_REDIRECT_URI_HTTP = "oauth-redirect-uri-http", Error,
        "an OAuth redirect_uri is plain http in production",
        "Use the https public URL for the redirect URI and register exactly that (scheme included) with the provider.";
    OAUTH_REDIRECT_URI_MISMATCH = "oauth-redirect-uri-mismatch", Error,
        "an OAuth redirect_uri is on neither the API nor an app origin",
        "Build the redirect URI from the public URL the browser uses (scheme, host and port exactly), and register that URI with the provider.";
    OAUTH_START_FAILED = "oauth-start-failed", Error,
        "a provider's start URL does not redirect to the provider",
        "Check the provider's configuration (client id, endpoints or issuer); the start URL must answer 302 with the provider's authorization URL.";
    OAUTH_STATE_COOKIE_NOT_SENT = "oauth-state-cookie-not-sent", Error,
        "the OAuth state cookie would not come back on the provider's redirect to the callback",
        "Make the OAuth transaction cookie SameSite=Lax (not Strict), host-only, Path covering the callback, and not Partitioned.";
    LOGIN_FAILED = "login-failed", Error,
        "the probe could not log in as the app's page would",
        "See the detail: check the test credentials, --login-path, --login-body, --csrf-path and --csrf-header; a 403 means the deployment's CSRF or origin checks refuse what a browser on the app would send.";
    LOGIN_SETS_NO_COOKIES = "login-sets-no-cookies", Error,
        "the login response sets no cookie at all",
        "Set the session cookie on the login response; if the application does, a proxy or CDN in front of the API is stripping Set-Cookie.";
    SESSION_NOT_RECOGNISED = "session-not-recognised", Error,
        "right after a successful login, the API does not recognise the session cookies",
        "Check that the me endpoint reads the cookie the login sets (name, and Path covering it), and that every instance shares the signing secret.";
    REFRESH_FAILED = "refresh-failed", Error,
        "refreshing the session fails: login works, then stops when the access token expires",
        "Check that the refresh cookie's Path covers the refresh endpoint and that the CSRF token from the CSRF path or the login response is accepted by refresh.";
    LOGOUT_LEAVES_COOKIES = "logout-leaves-cookies", Warning,
        "logout leaves a cookie the login set in the browser",
        "Clear each cookie with the same Name, Domain and Path (and Secure/Partitioned) it was set with, an empty value and Max-Age=0.";
    PROBE_WITHOUT_CREDENTIALS = "probe-without-credentials", Info,
        "no test credentials: cookies, CSRF, refresh and logout were not checked",
        "Pass --email and --password of a test account (or --cookie with a session), so the doctor can log in as the app would.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for e in CATALOG {
            assert!(seen.insert(e.id), "duplicate id {}", e.id);
            assert!(
                e.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                e.id
            );
            assert!(!e.fix.is_empty() && !e.title.is_empty());
        }
    }

    #[test]
    fn a_finding_takes_its_title_and_fix_from_the_catalog() {
        let f = Finding::new(ids::LOCALHOST_VS_127_MIXED, "page http://127.0.0.1:3000");
        assert_eq!(f.severity, Severity::Error);
        assert!(f.fix.contains("same host name"));
    }
}
