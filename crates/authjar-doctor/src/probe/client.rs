//! The probe's HTTP clients: reqwest over rustls, no automatic redirects,
//! no cookie store, no proxies, extra root certificates from `--ca-file`,
//! and `--resolve HOST:PORT:ADDR` mappings (curl's), so a deployment can be
//! audited under its real names on this machine.
//!
//! reqwest's DNS overrides know no ports, so there is one client per port:
//! `api.example.com:443` and `api.example.com:80` can go to different
//! local listeners.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::ProbeError;

/// One `--resolve` mapping: connections to `host:port` go to `addr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// Host name, lower-case.
    pub host: String,
    /// Port in the URL (the scheme's default when the URL names none).
    pub port: u16,
    /// Where to connect instead.
    pub addr: SocketAddr,
}

impl Resolution {
    /// Parses curl's `HOST:PORT:ADDR` (`ADDR` may be `IP` or `IP:PORT`, IPv6 in brackets).
    pub fn parse(s: &str) -> Result<Resolution, ProbeError> {
        let bad = || ProbeError::Resolve(s.to_owned());
        let (host, rest) = s.split_once(':').ok_or_else(bad)?;
        let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
        let port: u16 = port.parse().map_err(|_| bad())?;
        let addr = addr
            .parse::<SocketAddr>()
            .or_else(|_| {
                addr.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .map(|ip| SocketAddr::new(ip, port))
            })
            .map_err(|_| bad())?;
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Resolution {
            host: host.to_ascii_lowercase(),
            port,
            addr,
        })
    }
}

/// How the probe reaches the deployment.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// PEM certificates trusted in addition to the public roots (`--ca-file`).
    pub extra_roots_pem: Option<Vec<u8>>,
    /// `--resolve` mappings.
    pub resolve: Vec<Resolution>,
    /// Look up names that are not mapped in the system resolver. Tests turn
    /// it off so that nothing but mapped loopback addresses is ever contacted.
    pub system_dns: bool,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Send credentials over plain http to a host that is not loopback
    /// (`--insecure-http`): refused otherwise, the password would travel in clear.
    pub insecure_http: bool,
}

impl Default for ProbeOptions {
    fn default() -> ProbeOptions {
        ProbeOptions {
            extra_roots_pem: None,
            resolve: Vec::new(),
            system_dns: true,
            timeout: Duration::from_secs(10),
            insecure_http: false,
        }
    }
}

impl ProbeOptions {
    /// The mapped address of `host:port`, if any.
    pub fn mapped(&self, host: &str, port: u16) -> Option<SocketAddr> {
        self.resolve
            .iter()
            .find(|r| r.host.eq_ignore_ascii_case(host) && r.port == port)
            .map(|r| r.addr)
    }
}

/// Answers from the mappings of one port, then (if allowed) the system.
struct MapResolver {
    map: HashMap<String, SocketAddr>,
    system_dns: bool,
}

impl Resolve for MapResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let mapped = self.map.get(&host).copied();
        let system = self.system_dns;
        Box::pin(async move {
            if let Some(addr) = mapped {
                return Ok(Box::new(std::iter::once(addr)) as Addrs);
            }
            if !system {
                return Err(format!("{host} is not mapped with --resolve").into());
            }
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// One reqwest client per port, built on first use.
pub struct Clients {
    options: ProbeOptions,
    roots: Vec<reqwest::Certificate>,
    by_port: HashMap<u16, reqwest::Client>,
}

impl Clients {
    /// Checks the extra roots once.
    pub fn new(options: &ProbeOptions) -> Result<Clients, ProbeError> {
        let roots = match &options.extra_roots_pem {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ProbeError::CaFile(e.to_string()))?,
            None => Vec::new(),
        };
        Ok(Clients {
            options: options.clone(),
            roots,
            by_port: HashMap::new(),
        })
    }

    /// The client for URLs on `port`.
    pub fn for_port(&mut self, port: u16) -> Result<reqwest::Client, ProbeError> {
        if let Some(c) = self.by_port.get(&port) {
            return Ok(c.clone());
        }
        let c = self.build(port)?;
        self.by_port.insert(port, c.clone());
        Ok(c)
    }

    fn build(&self, port: u16) -> Result<reqwest::Client, ProbeError> {
        let map = self
            .options
            .resolve
            .iter()
            .filter(|r| r.port == port)
            .map(|r| (r.host.clone(), r.addr))
            .collect();
        let resolver = MapResolver {
            map,
            system_dns: self.options.system_dns,
        };
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.options.timeout)
            .connect_timeout(self.options.timeout)
            .user_agent(concat!("authjar-doctor/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(resolver));
        for c in &self.roots {
            b = b.add_root_certificate(c.clone());
        }
        b.build().map_err(|e| ProbeError::Client(e.to_string()))
    }
}

/// A short description of a reqwest failure, with its causes.
pub fn describe_error(e: &reqwest::Error) -> String {
    let mut s = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_entries_parse_like_curl() {
        let r = Resolution::parse("API.hub.test:443:127.0.0.1:8443").unwrap();
        assert_eq!(
            (r.host.as_str(), r.port, r.addr.to_string().as_str()),
            ("api.hub.test", 443, "127.0.0.1:8443")
        );
        let r = Resolution::parse("hub.test:80:127.0.0.1").unwrap();
        assert_eq!(r.addr.to_string(), "127.0.0.1:80");
        let r = Resolution::parse("hub.test:443:[::1]:9000").unwrap();
        assert_eq!(r.addr.to_string(), "[::1]:9000");
        assert!(Resolution::parse("hub.test:443").is_err());
        assert!(Resolution::parse("hub.test:x:127.0.0.1").is_err());
    }
}
