//! Web origins and hosts as a browser sees them: scheme, host and port, plus
//! the loopback and secure-context rules that decide which cookies can work.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use url::Url;

/// The two schemes a browser can send cookies over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Plain `http`.
    Http,
    /// `https`.
    Https,
}

impl Scheme {
    /// The scheme's name as it appears in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A canonical host: a lower-case ASCII domain name (IDNs as A-labels) or an IP address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Host {
    /// A domain name, lower-case, ASCII.
    Domain(String),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
}

impl Host {
    /// Converts the `url` crate's host, which is already canonical (lower-case, punycode).
    pub fn from_url_host(host: url::Host<&str>) -> Host {
        match host {
            url::Host::Domain(d) => Host::Domain(d.to_ascii_lowercase()),
            url::Host::Ipv4(ip) => Host::Ipv4(ip),
            url::Host::Ipv6(ip) => Host::Ipv6(ip),
        }
    }

    /// True for `localhost`, `*.localhost`, `127.0.0.0/8` and `::1`: the hosts
    /// browsers treat as loopback (and Chromium as secure contexts over http).
    pub fn is_loopback(&self) -> bool {
        match self {
            Host::Domain(d) => d == "localhost" || d.ends_with(".localhost"),
            Host::Ipv4(ip) => ip.is_loopback(),
            Host::Ipv6(ip) => ip.is_loopback(),
        }
    }

    /// True for a loopback IP address (`127.0.0.1`, `::1`), as opposed to the name `localhost`.
    pub fn is_loopback_ip(&self) -> bool {
        matches!(self, Host::Ipv4(_) | Host::Ipv6(_)) && self.is_loopback()
    }

    /// The domain name, if this host is one.
    pub fn domain(&self) -> Option<&str> {
        match self {
            Host::Domain(d) => Some(d),
            _ => None,
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(ip) => write!(f, "{ip}"),
            Host::Ipv6(ip) => write!(f, "[{ip}]"),
        }
    }
}

/// Why a string is not a usable web origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// Not a URL at all.
    #[error("not a URL ({0}); expected scheme://host[:port]")]
    Unparsable(String),
    /// A scheme other than http or https.
    #[error("scheme `{0}` is not http or https")]
    Scheme(String),
    /// No host.
    #[error("has no host")]
    NoHost,
    /// Userinfo, a path, a query or a fragment where only an origin may stand.
    #[error("an origin is only scheme://host[:port]; remove the {0}")]
    NotAnOrigin(&'static str),
}

/// A tuple origin (scheme, host, port) as in the `Origin` request header.
///
/// The port is always explicit here; [`fmt::Display`] omits it when it is
/// the scheme's default, which is how browsers serialise `Origin`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WebOrigin {
    scheme: Scheme,
    host: Host,
    port: u16,
}

impl WebOrigin {
    /// Parses an origin as written in configuration: `scheme://host[:port]`.
    /// One trailing `/` is tolerated (browsers never send it, people often
    /// write it); anything else after the authority is an error.
    pub fn parse(input: &str) -> Result<WebOrigin, OriginError> {
        let url = Url::parse(input.trim()).map_err(|e| OriginError::Unparsable(e.to_string()))?;
        if url.path() != "/" && !url.path().is_empty() {
            return Err(OriginError::NotAnOrigin("path"));
        }
        if url.query().is_some() {
            return Err(OriginError::NotAnOrigin("query"));
        }
        if url.fragment().is_some() {
            return Err(OriginError::NotAnOrigin("fragment"));
        }
        WebOrigin::of_url(&url)
    }

    /// The origin of a URL. Userinfo is refused: it never belongs in an origin
    /// and is a classic way to disguise a host (`https://good.com@evil.com`).
    pub fn of_url(url: &Url) -> Result<WebOrigin, OriginError> {
        let scheme = match url.scheme() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => return Err(OriginError::Scheme(other.to_owned())),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OriginError::NotAnOrigin("userinfo"));
        }
        let host = url
            .host()
            .map(Host::from_url_host)
            .ok_or(OriginError::NoHost)?;
        let port = url.port().unwrap_or(scheme.default_port());
        Ok(WebOrigin { scheme, host, port })
    }

    /// Builds an origin from parts.
    pub fn new(scheme: Scheme, host: Host, port: u16) -> WebOrigin {
        WebOrigin { scheme, host, port }
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// True when the host is a loopback name or address.
    pub fn is_loopback(&self) -> bool {
        self.host.is_loopback()
    }

    /// W3C Secure Contexts' "potentially trustworthy": https, or a loopback
    /// host over http. Chromium and Firefox treat the latter as secure for
    /// cookies too; Safari does not (see [`crate::browser::BrowserProfile`]).
    pub fn is_potentially_trustworthy(&self) -> bool {
        self.scheme == Scheme::Https || self.is_loopback()
    }
}

impl fmt::Display for WebOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_serialises_like_the_origin_header() {
        let o = WebOrigin::parse("HTTPS://App.Example.COM:443/").unwrap();
        assert_eq!(o.to_string(), "https://app.example.com");
        let o = WebOrigin::parse("http://localhost:3000").unwrap();
        assert_eq!(o.to_string(), "http://localhost:3000");
        let o = WebOrigin::parse("http://[::1]:8000").unwrap();
        assert_eq!(o.to_string(), "http://[::1]:8000");
    }

    #[test]
    fn origin_refuses_paths_queries_userinfo_and_other_schemes() {
        assert!(matches!(
            WebOrigin::parse("https://a.com/app"),
            Err(OriginError::NotAnOrigin("path"))
        ));
        assert!(matches!(
            WebOrigin::parse("https://a.com?x"),
            Err(OriginError::NotAnOrigin("query"))
        ));
        assert!(matches!(
            WebOrigin::parse("https://u@a.com"),
            Err(OriginError::NotAnOrigin("userinfo"))
        ));
        assert!(matches!(
            WebOrigin::parse("ftp://a.com"),
            Err(OriginError::Scheme(_))
        ));
        assert!(WebOrigin::parse("a.com").is_err());
        assert!(WebOrigin::parse("null").is_err());
    }

    #[test]
    fn loopback_hosts_are_potentially_trustworthy_over_http() {
        for o in [
            "http://localhost:3000",
            "http://127.0.0.1",
            "http://[::1]",
            "http://a.localhost",
        ] {
            assert!(
                WebOrigin::parse(o).unwrap().is_potentially_trustworthy(),
                "{o}"
            );
        }
        assert!(!WebOrigin::parse("http://local.example.com")
            .unwrap()
            .is_potentially_trustworthy());
    }
}
