//! Where an unsafe request comes from (OWASP CSRF Prevention Cheat Sheet,
//! "Verifying Origin With Standard Headers", and Fetch Metadata): the exact
//! `Origin` against the allowlist, then `Sec-Fetch-Site`, then a `Referer`
//! fallback. A request with none of them is a non-browser client (curl, a
//! server): allowed past this check, and still required to carry a valid
//! CSRF token — browsers send `Origin` on every unsafe request, so an
//! attacker's page cannot strip it.

use axum::http::{header, HeaderMap};

/// The exact origins allowed to make credentialed requests: `app_origins`
/// plus the server's own origin, serialised as browsers send `Origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// The allowlist (duplicates removed, order kept).
    pub fn new(origins: impl IntoIterator<Item = String>) -> AllowedOrigins {
        let mut v: Vec<String> = Vec::new();
        for o in origins {
            if !v.contains(&o) {
                v.push(o);
            }
        }
        AllowedOrigins(v)
    }

    /// Byte-exact membership: no case folding, no trailing-slash or port normalisation.
    pub fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }

    /// The list, for messages.
    pub fn list(&self) -> &[String] {
        &self.0
    }
}

/// Why a request's provenance is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginRefusal {
    /// `Origin` (or the `Referer`'s origin) is not on the list; the value seen.
    NotAllowed(String),
    /// No `Origin`, and `Sec-Fetch-Site` says the browser sent it cross-site or same-site.
    CrossSite,
}

/// The single `Origin` header value, if the request has exactly one.
pub fn single_origin(headers: &HeaderMap) -> Result<Option<&str>, OriginRefusal> {
    let mut all = headers.get_all(header::ORIGIN).iter();
    let first = all.next();
    if all.next().is_some() {
        return Err(OriginRefusal::NotAllowed("(several Origin headers)".into()));
    }
    match first {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| OriginRefusal::NotAllowed("(non-ASCII Origin)".into())),
    }
}

/// The decision procedure for unsafe methods.
pub fn check_origin(headers: &HeaderMap, allowed: &AllowedOrigins) -> Result<(), OriginRefusal> {
    if let Some(origin) = single_origin(headers)? {
        return if allowed.contains(origin) {
            Ok(())
        } else {
            Err(OriginRefusal::NotAllowed(origin.to_owned()))
        };
    }
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return Err(OriginRefusal::CrossSite);
    }
    let Some(referer) = headers.get(header::REFERER) else {
        return Ok(());
    };
    let origin = referer
        .to_str()
        .ok()
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.username().is_empty()
                && u.password().is_none()
        })
        .map(|u| u.origin().ascii_serialization());
    match origin {
        Some(o) if allowed.contains(&o) => Ok(()),
        Some(o) => Err(OriginRefusal::NotAllowed(o)),
        None => Err(OriginRefusal::NotAllowed("(unusable Referer)".into())),
    }
}

/// True for the content types a cross-site page can send without a CORS
/// preflight (a form or a "simple" fetch), or no content type at all.
pub fn is_simple_or_missing(headers: &HeaderMap) -> bool {
    let Some(v) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    let media = v
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        media.as_str(),
        "text/plain" | "application/x-www-form-urlencoded" | "multipart/form-data" | ""
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    fn allowed() -> AllowedOrigins {
        AllowedOrigins::new([
            "https://app.example.com".to_owned(),
            "https://api.example.com".to_owned(),
        ])
    }

    #[test]
    fn origin_must_match_exactly() {
        assert_eq!(
            check_origin(&h(&[("origin", "https://app.example.com")]), &allowed()),
            Ok(())
        );
        for bad in [
            "https://app.example.com/",
            "https://APP.EXAMPLE.COM",
            "https://app.example.com:443",
            "null",
            "https://app.example.com.evil.com",
        ] {
            assert!(
                check_origin(&h(&[("origin", bad)]), &allowed()).is_err(),
                "{bad}"
            );
        }
        let two = h(&[
            ("origin", "https://app.example.com"),
            ("origin", "https://evil.com"),
        ]);
        assert!(check_origin(&two, &allowed()).is_err());
    }

    #[test]
    fn without_origin_fetch_metadata_then_referer_decide_and_nothing_means_non_browser() {
        assert_eq!(
            check_origin(&h(&[("sec-fetch-site", "cross-site")]), &allowed()),
            Err(OriginRefusal::CrossSite)
        );
        assert!(check_origin(
            &h(&[("referer", "https://evil.com/https://app.example.com/")]),
            &allowed()
        )
        .is_err());
        assert!(check_origin(&h(&[("referer", "about:blank")]), &allowed()).is_err());
        assert_eq!(
            check_origin(
                &h(&[("referer", "https://app.example.com/page?x")]),
                &allowed()
            ),
            Ok(())
        );
        assert_eq!(
            check_origin(&HeaderMap::new(), &allowed()),
            Ok(()),
            "documented: non-browser clients pass this check"
        );
    }

    #[test]
    fn simple_content_types() {
        assert!(is_simple_or_missing(&HeaderMap::new()));
        assert!(is_simple_or_missing(&h(&[(
            "content-type",
            "Text/Plain;charset=UTF-8"
        )])));
        assert!(!is_simple_or_missing(&h(&[(
            "content-type",
            "application/xml"
        )])));
    }
}
