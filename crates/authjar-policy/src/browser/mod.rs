//! A model of how a browser stores and sends cookies: RFC 6265bis (§5.6
//! parsing, §5.7 storage, §5.8.3 retrieval) plus what browsers add on top —
//! third-party-cookie blocking, CHIPS partitions, Chromium's Lax-by-default.
//!
//! It models Chromium's default profile and Firefox ESR's default settings
//! as measured in docs/browser-facts.md (Chromium: third-party cookies
//! blocked, CHIPS allowed, `http://localhost` secure; Firefox: Total Cookie
//! Protection, no Lax-by-default, scheme-blind SameSite), and states where
//! Safari differs, from its vendor's documentation, as another [`BrowserProfile`].
//! Time is a parameter: the model never reads a clock.

pub mod date;
mod jar;
mod request;
pub mod set_cookie;

pub use date::UnixTime;
pub use jar::{Jar, Rejection, SendDecision, StoreOutcome, StoredCookie, Withheld};
pub use request::{Credentials, Navigation, RequestContext};

/// What a browser does with cookies in a third-party (cross-site) context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThirdPartyCookies {
    /// Refused, except `Partitioned` ones where CHIPS is supported
    /// (Chromium 156's default as measured; Safari).
    Blocked,
    /// Stored and sent like first-party ones (Chrome's historical default).
    Allowed,
    /// Stored, but in a jar keyed to the top-level site (Firefox's Total
    /// Cookie Protection, measured: docs/browser-facts.md Firefox cases F4, F5).
    PartitionedByDefault,
}

/// The browser behaviour the model follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserProfile {
    /// A short name for reports.
    pub name: &'static str,
    /// Third-party cookie behaviour.
    pub third_party: ThirdPartyCookies,
    /// `Partitioned` cookies are honoured in third-party contexts.
    pub supports_chips: bool,
    /// `http://localhost` and `http://127.0.0.1` count as secure for `Secure` cookies.
    pub loopback_http_is_secure: bool,
    /// A cookie without `SameSite` is treated as `Lax` (with the two-minute
    /// "Lax-allowing-unsafe" exception for top-level POSTs, §5.6.7.2).
    pub lax_by_default: bool,
    /// `SameSite` and third-party decisions compare schemes too (schemeful
    /// same-site): `http://x.test` and `https://api.x.test` are then cross-site.
    pub schemeful_same_site: bool,
    /// A `__Host-` cookie needs an explicit `Path=/` attribute (RFC 6265bis
    /// §5.7 step 21); without it, a missing `Path` defaulting to `/` is enough.
    pub host_prefix_needs_path_attribute: bool,
}

impl BrowserProfile {
    /// Chromium's default profile as measured (docs/browser-facts.md).
    pub const CHROMIUM: BrowserProfile = BrowserProfile {
        name: "Chromium (default profile)",
        third_party: ThirdPartyCookies::Blocked,
        supports_chips: true,
        loopback_http_is_secure: true,
        lax_by_default: true,
        schemeful_same_site: true,
        host_prefix_needs_path_attribute: true,
    };

    /// Chromium with third-party cookies allowed (measured as the "allow-3pc" variant).
    pub const CHROMIUM_THIRD_PARTY_ALLOWED: BrowserProfile = BrowserProfile {
        name: "Chromium (third-party cookies allowed)",
        third_party: ThirdPartyCookies::Allowed,
        ..BrowserProfile::CHROMIUM
    };

    /// Safari, from its vendor's documentation and reported behaviour: blocks
    /// third-party cookies, is modelled without CHIPS (its support is recent
    /// and partial, so authjar does not count on it), and drops `Secure`
    /// cookies on `http://localhost` (keycloak#33557). Not measured here.
    pub const SAFARI: BrowserProfile = BrowserProfile {
        name: "Safari",
        third_party: ThirdPartyCookies::Blocked,
        supports_chips: false,
        loopback_http_is_secure: false,
        lax_by_default: false,
        schemeful_same_site: true,
        host_prefix_needs_path_attribute: true,
    };

    /// Firefox ESR's default settings as measured (docs/browser-facts.md,
    /// "Firefox, measured"; e2e/tests/cookie-facts.test.js): every
    /// third-party cookie is kept in a per-top-level-site jar (Total Cookie
    /// Protection, F4, F5), `Partitioned` is honoured (F5), no
    /// Lax-by-default (F4, F5), `http://localhost` is secure (F8), `SameSite`
    /// ignores the scheme (F3), and `__Host-` does not need a `Path`
    /// attribute (F2).
    pub const FIREFOX: BrowserProfile = BrowserProfile {
        name: "Firefox",
        third_party: ThirdPartyCookies::PartitionedByDefault,
        supports_chips: true,
        loopback_http_is_secure: true,
        lax_by_default: false,
        schemeful_same_site: false,
        host_prefix_needs_path_attribute: false,
    };
}
