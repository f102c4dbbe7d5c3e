//! "Site" as browsers define it (RFC 6265bis §5.2, HTML's "same site"): the
//! scheme plus the registrable domain from the Public Suffix List. Ports never
//! count; schemes do (schemeful same-site).

use std::fmt;

use crate::origin::{Host, Scheme, WebOrigin};

/// The registrable domain ("eTLD+1") of a host name, from the Public Suffix
/// List. `None` for IP addresses and for names that are themselves a public
/// suffix (`github.io`, `co.uk`, a bare `localhost` or `test`).
pub fn registrable_domain(host: &Host) -> Option<String> {
    let name = host.domain()?;
    psl::domain_str(name).map(str::to_owned)
}

/// True when `name` is itself a public suffix: the PSL lists it, or it is a
/// single label (the PSL's implicit `*` rule, which is why `Domain=test` is refused).
pub fn is_public_suffix(name: &str) -> bool {
    let name = name.trim_end_matches('.');
    psl::suffix_str(name).is_some_and(|s| s.eq_ignore_ascii_case(name))
}

/// The hosting-provider suffix (`vercel.app`, `fly.dev`, `github.io`, …) a
/// host sits under: the PSL's private section, where every customer
/// subdomain is its own site.
pub fn private_hosting_suffix(host: &Host) -> Option<String> {
    let name = host.domain()?;
    let suffix = psl::suffix(name.as_bytes())?;
    if suffix.typ() != Some(psl::Type::Private) {
        return None;
    }
    std::str::from_utf8(suffix.trim().as_bytes())
        .ok()
        .map(str::to_owned)
}

/// A schemeful site: what "same-site" compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    scheme: Scheme,
    /// Registrable domain, or the whole host when it has none (IPs, `localhost`).
    domain: String,
}

impl Site {
    /// The site of an origin.
    pub fn of(origin: &WebOrigin) -> Site {
        let domain = registrable_domain(origin.host()).unwrap_or_else(|| origin.host().to_string());
        Site {
            scheme: origin.scheme(),
            domain,
        }
    }

    /// The registrable domain (or host) part.
    pub fn domain(&self) -> &str {
        &self.domain
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.domain)
    }
}

/// How a page's origin relates to the API's origin, which decides how the
/// browser treats the API's cookies on the page's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// Same scheme, host and port: first-party, nothing cross-origin at all.
    SameOrigin,
    /// Same host, different port (development on localhost): same-site,
    /// since ports do not isolate cookies.
    SameHost,
    /// Different hosts under one registrable domain (`app.x.com` → `api.x.com`).
    SameSite,
    /// Different sites: the API's cookies are third-party cookies.
    CrossSite,
}

impl Relation {
    /// How `page` relates to `api`.
    pub fn between(page: &WebOrigin, api: &WebOrigin) -> Relation {
        if page == api {
            Relation::SameOrigin
        } else if Site::of(page) != Site::of(api) {
            Relation::CrossSite
        } else if page.host() == api.host() {
            Relation::SameHost
        } else {
            Relation::SameSite
        }
    }

    /// True for every relation the browser treats as first-party.
    pub fn is_same_site(self) -> bool {
        self != Relation::CrossSite
    }

    /// A short phrase for humans.
    pub fn describe(self) -> &'static str {
        match self {
            Relation::SameOrigin => "same origin",
            Relation::SameHost => {
                "same site (same host, ports differ; ports do not isolate cookies)"
            }
            Relation::SameSite => "same site (sibling hosts under one registrable domain)",
            Relation::CrossSite => "cross-site (the API's cookies are third-party cookies here)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(page: &str, api: &str) -> Relation {
        Relation::between(
            &WebOrigin::parse(page).unwrap(),
            &WebOrigin::parse(api).unwrap(),
        )
    }

    #[test]
    fn relations_follow_the_measured_browser_facts() {
        assert_eq!(
            rel("http://localhost:3000", "http://localhost:8000"),
            Relation::SameHost
        );
        assert_eq!(
            rel("http://127.0.0.1:3000", "http://localhost:8000"),
            Relation::CrossSite
        );
        assert_eq!(
            rel("https://hub.test", "https://hub.test"),
            Relation::SameOrigin
        );
        assert_eq!(
            rel("https://app.hub.test", "https://api.hub.test"),
            Relation::SameSite
        );
        assert_eq!(
            rel("https://hub.test", "https://hub-api.test"),
            Relation::CrossSite
        );
        assert_eq!(
            rel("https://a.vercel.app", "https://b.vercel.app"),
            Relation::CrossSite
        );
        assert_eq!(
            rel("https://a.example.co.uk", "https://b.example.co.uk"),
            Relation::SameSite
        );
        // Schemeful same-site: http and https of one domain are different sites.
        assert_eq!(
            rel("http://app.hub.test", "https://api.hub.test"),
            Relation::CrossSite
        );
    }

    #[test]
    fn public_suffixes_include_single_labels_and_hosting_domains() {
        for s in [
            "test",
            "localhost",
            "com",
            "co.uk",
            "github.io",
            "vercel.app",
        ] {
            assert!(is_public_suffix(s), "{s}");
        }
        for s in ["hub.test", "example.com", "a.github.io"] {
            assert!(!is_public_suffix(s), "{s}");
        }
    }

    #[test]
    fn hosting_suffixes_come_from_the_private_section() {
        let h = Host::Domain("myapp.vercel.app".into());
        assert_eq!(private_hosting_suffix(&h).as_deref(), Some("vercel.app"));
        let h = Host::Domain("api.fly.dev".into());
        assert_eq!(private_hosting_suffix(&h).as_deref(), Some("fly.dev"));
        assert_eq!(
            private_hosting_suffix(&Host::Domain("api.example.com".into())),
            None
        );
    }
}
