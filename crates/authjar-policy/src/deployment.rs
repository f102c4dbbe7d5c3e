//! A deployment as the browser meets it: where the API is (`public_url`),
//! which frontends call it (`app_origins`), and the few settings that change
//! cookie scope. Every cookie decision is derived from this, never from an
//! environment switch.

use std::fmt;

use url::Url;

use crate::origin::{Host, OriginError, Scheme, WebOrigin};
use crate::site::Relation;

/// The URL browsers use to reach authjar. Parsed once; valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    origin: WebOrigin,
    /// Path prefix without a trailing `/` ("" when authjar is at the root).
    base_path: String,
}

/// Why a `public_url` is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    /// Not an http(s) URL with a host.
    #[error("{0}")]
    Origin(#[from] OriginError),
    /// A query or fragment, which no base URL can carry.
    #[error("a public URL has no query or fragment")]
    QueryOrFragment,
}

impl PublicUrl {
    /// Parses `scheme://host[:port][/prefix]`.
    pub fn parse(input: &str) -> Result<PublicUrl, PublicUrlError> {
        let url = Url::parse(input.trim())
            .map_err(|e| PublicUrlError::Origin(OriginError::Unparsable(e.to_string())))?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(PublicUrlError::QueryOrFragment);
        }
        let origin = WebOrigin::of_url(&url)?;
        let base_path = url.path().trim_end_matches('/').to_owned();
        Ok(PublicUrl { origin, base_path })
    }

    /// The API's origin.
    pub fn origin(&self) -> &WebOrigin {
        &self.origin
    }

    /// The path prefix authjar is mounted under ("" at the root).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// An absolute URL for an authjar path such as `/auth/oauth/github/callback`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}{}", self.origin, self.base_path, path)
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.origin, self.base_path)
    }
}

/// Development or production. An assertion about the deployment (production
/// refuses insecure settings), never what picks cookie attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine.
    Development,
    /// Real users.
    Production,
}

impl Environment {
    /// The inference docs/configuration.md documents for `environment`:
    /// production when `public_url` is https on a non-loopback host, else
    /// development.
    pub fn infer(public_url: &PublicUrl) -> Environment {
        let o = public_url.origin();
        if o.scheme() == Scheme::Https && !o.is_loopback() {
            Environment::Production
        } else {
            Environment::Development
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
        }
    }
}

/// The `Domain` attribute value a deployment asks for (`cookie_domain`):
/// lower-case, without the leading dot browsers ignore anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieDomain(String);

impl CookieDomain {
    /// Normalises a configured value. Any non-empty ASCII name is accepted
    /// here; whether it can work is for the findings to say (so that
    /// `localhost` is explained rather than refused without a reason).
    pub fn parse(input: &str) -> Result<CookieDomain, &'static str> {
        let d = input.trim().trim_start_matches('.').to_ascii_lowercase();
        if d.is_empty() {
            return Err("an empty cookie domain; leave the key unset instead");
        }
        if !d.is_ascii() || d.contains(['/', ':', ' ', ';', ',']) {
            return Err("a bare host name such as example.com (ASCII, no scheme, port or path)");
        }
        Ok(CookieDomain(d))
    }

    /// The normalised domain.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One entry of `app_origins`: an exact origin, or a wildcard pattern that
/// authjar refuses to honour (it is reported, never matched).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppOriginEntry {
    /// An exact origin.
    Exact(WebOrigin),
    /// `*` or `https://*.example.com`: not matched, reported as
    /// `wildcard-origin-with-credentials`.
    Wildcard(String),
}

impl AppOriginEntry {
    /// Parses one entry.
    pub fn parse(input: &str) -> Result<AppOriginEntry, OriginError> {
        let t = input.trim();
        if t.contains('*') {
            return Ok(AppOriginEntry::Wildcard(t.to_owned()));
        }
        WebOrigin::parse(t).map(AppOriginEntry::Exact)
    }
}

/// A deployment's topology and cookie-scope settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Where browsers reach authjar.
    pub public_url: PublicUrl,
    /// Exact frontend origins.
    pub app_origins: Vec<WebOrigin>,
    /// Wildcard entries found in the configuration (never honoured).
    pub wildcard_origins: Vec<String>,
    /// `Domain` for the session cookies, set on purpose to share them across subdomains.
    pub cookie_domain: Option<CookieDomain>,
    /// Development or production.
    pub environment: Environment,
}

impl Deployment {
    /// A deployment from its parts; wildcard entries are kept aside for the findings.
    pub fn new(
        public_url: PublicUrl,
        entries: Vec<AppOriginEntry>,
        cookie_domain: Option<CookieDomain>,
        environment: Environment,
    ) -> Deployment {
        let mut app_origins = Vec::new();
        let mut wildcard_origins = Vec::new();
        for e in entries {
            match e {
                AppOriginEntry::Exact(o) if !app_origins.contains(&o) => app_origins.push(o),
                AppOriginEntry::Exact(_) => {}
                AppOriginEntry::Wildcard(w) => wildcard_origins.push(w),
            }
        }
        Deployment {
            public_url,
            app_origins,
            wildcard_origins,
            cookie_domain,
            environment,
        }
    }

    /// The API's origin.
    pub fn api(&self) -> &WebOrigin {
        self.public_url.origin()
    }

    /// How each app origin relates to the API.
    pub fn relations(&self) -> impl Iterator<Item = (&WebOrigin, Relation)> {
        self.app_origins
            .iter()
            .map(|o| (o, Relation::between(o, self.api())))
    }

    /// True when any app origin is cross-site to the API.
    pub fn has_cross_site_app(&self) -> bool {
        self.relations().any(|(_, r)| r == Relation::CrossSite)
    }

    /// True when the API is served over https.
    pub fn is_https(&self) -> bool {
        self.api().scheme() == Scheme::Https
    }

    /// True when every origin allowed to call the API (the API itself included) is on `host`.
    pub fn all_apps_on_api_host(&self) -> bool {
        self.app_origins
            .iter()
            .all(|o| o.host() == self.api().host())
    }

    /// True when `host` is the API host or lies under the configured cookie domain.
    pub fn host_in_cookie_domain(&self, host: &Host) -> bool {
        let (Some(d), Some(name)) = (&self.cookie_domain, host.domain()) else {
            return false;
        };
        name == d.as_str() || name.ends_with(&format!(".{}", d.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_keeps_a_path_prefix_and_joins_paths() {
        let p = PublicUrl::parse("https://example.com/api/").unwrap();
        assert_eq!(p.base_path(), "/api");
        assert_eq!(
            p.join("/auth/refresh"),
            "https://example.com/api/auth/refresh"
        );
        let p = PublicUrl::parse("http://localhost:8000").unwrap();
        assert_eq!(
            p.join("/auth/oauth/github/callback"),
            "http://localhost:8000/auth/oauth/github/callback"
        );
        assert!(PublicUrl::parse("https://example.com/?x=1").is_err());
        assert!(PublicUrl::parse("localhost:8000").is_err());
    }

    #[test]
    fn environment_is_inferred_from_the_public_url() {
        let e = |u: &str| Environment::infer(&PublicUrl::parse(u).unwrap());
        assert_eq!(e("http://localhost:8000"), Environment::Development);
        assert_eq!(e("https://localhost:8443"), Environment::Development);
        assert_eq!(e("http://api.example.com"), Environment::Development);
        assert_eq!(e("https://api.example.com"), Environment::Production);
    }

    #[test]
    fn wildcards_are_kept_aside_and_duplicates_dropped() {
        let entries = ["https://a.com", "https://a.com/", "*", "https://*.a.com"]
            .iter()
            .map(|s| AppOriginEntry::parse(s).unwrap())
            .collect();
        let d = Deployment::new(
            PublicUrl::parse("https://api.a.com").unwrap(),
            entries,
            None,
            Environment::Production,
        );
        assert_eq!(d.app_origins.len(), 1);
        assert_eq!(d.wildcard_origins, vec!["*", "https://*.a.com"]);
    }
}
