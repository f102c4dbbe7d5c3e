//! The request a cookie decision is about: its URL, the page that made it,
//! the top-level site it happens under, its method and credentials mode.

use url::Url;

use crate::origin::WebOrigin;
use crate::site::Site;

/// Whether the request loads a top-level document or something inside a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Navigation {
    /// The address bar, a link click, a form submission, a redirect of those.
    TopLevel,
    /// `fetch`, XHR, `<img>`, iframes: anything inside the top-level page.
    Subresource,
}

/// The Fetch standard's credentials mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// No cookies sent or stored.
    Omit,
    /// Cookies only when the request is same-origin with the page (fetch's default).
    SameOrigin,
    /// Cookies always (`credentials: 'include'`; navigations and `<img>` behave so).
    Include,
}

/// One HTTP request as the browser sees it; also the context in which the
/// response's `Set-Cookie` headers are judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The request URL.
    pub url: Url,
    /// The origin of the top-level document ("site for cookies", §5.2).
    /// For a top-level navigation it is the target's own origin.
    pub top_level: WebOrigin,
    /// The origin that started the request, if a page did.
    pub initiator: Option<WebOrigin>,
    /// Top-level navigation or subresource.
    pub navigation: Navigation,
    /// Upper-case HTTP method.
    pub method: String,
    /// Credentials mode.
    pub credentials: Credentials,
}

impl RequestContext {
    /// A `fetch(url, {method, credentials: 'include'})` from a page on `page`.
    pub fn fetch(page: &WebOrigin, url: Url, method: &str) -> RequestContext {
        RequestContext {
            url,
            top_level: page.clone(),
            initiator: Some(page.clone()),
            navigation: Navigation::Subresource,
            method: method.to_ascii_uppercase(),
            credentials: Credentials::Include,
        }
    }

    /// A top-level navigation to `url`, started by a page on `initiator`
    /// (a link, a redirect, a form) or by the user (`None`).
    pub fn navigate(
        url: Url,
        initiator: Option<&WebOrigin>,
        method: &str,
    ) -> Option<RequestContext> {
        let top_level = WebOrigin::of_url(&url).ok()?;
        Some(RequestContext {
            url,
            top_level,
            initiator: initiator.cloned(),
            navigation: Navigation::TopLevel,
            method: method.to_ascii_uppercase(),
            credentials: Credentials::Include,
        })
    }

    /// With another credentials mode.
    pub fn with_credentials(mut self, credentials: Credentials) -> RequestContext {
        self.credentials = credentials;
        self
    }

    /// The request URL's origin, if it is http(s).
    pub fn origin(&self) -> Option<WebOrigin> {
        WebOrigin::of_url(&self.url).ok()
    }

    /// §5.2: same-site with the top-level site and with the initiator
    /// (schemeful: the scheme counts).
    pub fn is_same_site(&self) -> bool {
        self.is_same_site_by(true)
    }

    /// Same-site as [`RequestContext::is_same_site`], comparing schemes only
    /// when `schemeful` (Firefox compares registrable domains alone:
    /// docs/browser-facts.md Firefox case F3).
    pub fn is_same_site_by(&self, schemeful: bool) -> bool {
        let Some(target) = self.origin() else {
            return false;
        };
        same_site(&target, &self.top_level, schemeful)
            && self
                .initiator
                .as_ref()
                .is_none_or(|i| same_site(i, &target, schemeful))
    }

    /// A third-party context: a subresource of a page on another (schemeful) site.
    pub fn is_third_party(&self) -> bool {
        self.is_third_party_by(true)
    }

    /// A third-party context, comparing schemes only when `schemeful`.
    pub fn is_third_party_by(&self, schemeful: bool) -> bool {
        let Some(target) = self.origin() else {
            return true;
        };
        !same_site(&target, &self.top_level, schemeful)
    }

    /// Whether cookies take part at all, given the credentials mode.
    pub fn credentials_allow_cookies(&self) -> bool {
        match self.credentials {
            Credentials::Omit => false,
            Credentials::Include => true,
            Credentials::SameOrigin => self
                .initiator
                .as_ref()
                .is_none_or(|i| Some(i) == self.origin().as_ref()),
        }
    }

    /// GET, HEAD, OPTIONS and TRACE are "safe" (§5.8.3 Lax rule).
    pub fn is_safe_method(&self) -> bool {
        matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE")
    }
}

/// Whether two origins are the same site, with or without their schemes.
fn same_site(a: &WebOrigin, b: &WebOrigin, schemeful: bool) -> bool {
    let (a, b) = (Site::of(a), Site::of(b));
    if schemeful {
        a == b
    } else {
        a.domain() == b.domain()
    }
}
