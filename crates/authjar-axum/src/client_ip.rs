//! The client's address: the TCP peer, unless the peer is a trusted proxy,
//! in which case `X-Forwarded-For` is read right to left, skipping trusted
//! proxies (ASVS 4.1.3: forwarding headers are believed only from them).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Resolves the client address.
pub fn client_ip(
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer?.ip();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_peers() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy = Some("10.0.0.2:4000".parse().unwrap());
        let stranger = Some("203.0.113.9:4000".parse().unwrap());
        let h = headers("198.51.100.7, 10.0.0.3");
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(
            client_ip(stranger, &h, &trusted),
            Some("203.0.113.9".parse().unwrap())
        );
        // A malformed header falls back to the peer rather than trusting part of it.
        assert_eq!(
            client_ip(proxy, &headers("evil, 1.2.3.4"), &trusted),
            Some("10.0.0.2".parse().unwrap())
        );
    }
}
