//! A model of how a browser stores and sends cookies: RFC 6265bis (§5.6
//! parsing, §5.7 storage, §5.8.3 retrieval) plus what browsers add on top —
//! third-party-cookie blocking, CHIPS partitions, Chromium's Lax-by-default.
//!
//! It models Chromium's default profile as measured in docs/browser-facts.md
//! (third-party cookies blocked, CHIPS allowed, `http://localhost` secure),
//! and states where Safari and Firefox differ as other [`BrowserProfile`]s.
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
    /// Stored, but in a jar keyed to the top-level site (Firefox's Total Cookie Protection).
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
}

impl BrowserProfile {
    /// Chromium's default profile as measured (docs/browser-facts.md).
    pub const CHROMIUM: BrowserProfile = BrowserProfile {
        name: "Chromium (default profile)",
        third_party: ThirdPartyCookies::Blocked,
        supports_chips: true,
        loopback_http_is_secure: true,
        lax_by_default: true,
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
    };

    /// Firefox, from its vendor's documentation: every third-party cookie is
    /// kept in a per-top-level-site jar; no Lax-by-default. Not measured here.
    pub const FIREFOX: BrowserProfile = BrowserProfile {
        name: "Firefox",
        third_party: ThirdPartyCookies::PartitionedByDefault,
        supports_chips: true,
        loopback_http_is_secure: true,
        lax_by_default: false,
    };
}
