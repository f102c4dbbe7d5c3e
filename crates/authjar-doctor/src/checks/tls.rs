//! The post's "HTTPS certificate installed and working": the certificate
//! verifies for the host and is not about to expire, plain http redirects
//! to https, and HSTS is sent.

use authjar_policy::findings::ids;

use super::{header_line, outcome};
use crate::diagnosis::Diagnosis;
use crate::observe::{Observations, Step, TlsObservation};

/// Warn when the certificate has fewer days than this left.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// TLS, redirect and HSTS findings.
pub fn check(obs: &Observations, now: i64) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    if let Some(t) = &obs.tls {
        out.extend(certificate(t, now));
    }
    out.extend(http_twin(obs));
    out.extend(hsts(obs));
    out
}

fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| unix.to_string())
}

fn describe_leaf(t: &TlsObservation) -> String {
    let names = if t.names.is_empty() {
        "(no names)".to_owned()
    } else {
        t.names.join(", ")
    };
    let issuer = t.issuer.as_deref().unwrap_or("(unknown issuer)");
    let until = t.not_after.map(date).unwrap_or_else(|| "(unknown)".into());
    format!("certificate for {names}, issued by {issuer}, valid until {until}")
}

fn certificate(t: &TlsObservation, now: i64) -> Option<Diagnosis> {
    let at = format!("{}:{}", t.host, t.port);
    if let Some(e) = &t.handshake_error {
        return Some(Diagnosis::new(
            ids::TLS_CERTIFICATE_INVALID,
            format!("the TLS handshake with {at} failed: {e}"),
        ));
    }
    if let Some(e) = &t.verification_error {
        let d = Diagnosis::new(ids::TLS_CERTIFICATE_INVALID, format!("{at}: {e}"))
            .evidence(describe_leaf(t));
        return Some(if e.contains("UnknownIssuer") {
            d.fix("Serve a chain that ends at a CA browsers trust; if it is your own local CA (e.g. `authjar dev certs`), pass it with --ca-file and trust it in the browser.")
        } else {
            d
        });
    }
    let left = t.not_after? - now;
    (left < EXPIRY_WARNING_DAYS * 86_400).then(|| {
        Diagnosis::new(
            ids::TLS_EXPIRING_SOON,
            format!("{at}: {} day(s) left", left.max(0) / 86_400),
        )
        .evidence(describe_leaf(t))
    })
}

fn http_twin(obs: &Observations) -> Option<Diagnosis> {
    let e = obs.steps(|s| *s == Step::HttpTwin).next()?;
    let r = e.response.as_ref()?;
    let to_https = r
        .header("location")
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"));
    if r.is_redirect() && to_https {
        return None;
    }
    Some(
        Diagnosis::new(
            ids::HTTP_NOT_REDIRECTED,
            format!(
                "{} answers {} instead of redirecting to https",
                e.request.url, r.status
            ),
        )
        .evidence(outcome(e))
        .evidence(header_line(e, "location")),
    )
}

fn hsts(obs: &Observations) -> Option<Diagnosis> {
    let mut https = obs.exchanges.iter().filter(|e| {
        e.request.url.starts_with("https://") && e.response.is_some() && e.step != Step::HttpTwin
    });
    let first = https.clone().next()?;
    // A browser remembers HSTS from any response of the host.
    if https.any(|e| hsts_max_age(e).is_some_and(|m| m > 0)) {
        return None;
    }
    Some(
        Diagnosis::new(ids::HSTS_MISSING, format!("on {}", first.describe()))
            .evidence(header_line(first, "strict-transport-security")),
    )
}

fn hsts_max_age(e: &crate::observe::Exchange) -> Option<u64> {
    let value = e.response.as_ref()?.header("strict-transport-security")?;
    value
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("max-age"))
        .and_then(|(_, v)| v.trim().trim_matches('"').parse::<u64>().ok())
}
