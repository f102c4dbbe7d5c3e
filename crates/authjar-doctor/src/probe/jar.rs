//! The probe's own cookie jar: deliberately not a browser. It keeps every
//! cookie the API sets, by name, whatever its attributes, so the probe can
//! exercise the API even where a browser would refuse a cookie; what a
//! browser would do is the checks' business (the policy crate's model).

use authjar_policy::browser::set_cookie::parse_set_cookie;
use reqwest::header::{HeaderMap, SET_COOKIE};

use crate::observe::csrf_named;

/// Cookies by name, in the order first set.
#[derive(Debug, Clone, Default)]
pub struct RawJar {
    cookies: Vec<(String, String)>,
}

impl RawJar {
    /// A jar holding the pairs of a `Cookie` header.
    pub fn from_header(header: &str) -> RawJar {
        let cookies = header
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        RawJar { cookies }
    }

    /// Applies a response's `Set-Cookie` headers; an expired one deletes.
    pub fn absorb(&mut self, headers: &HeaderMap, now: i64) {
        for line in headers.get_all(SET_COOKIE).iter() {
            let Ok(line) = line.to_str() else { continue };
            let (pair, attributes) = line.split_once(';').unwrap_or((line, ""));
            let (name, value) = pair.split_once('=').unwrap_or(("", pair));
            let (name, value) = (name.trim(), value.trim());
            // The attributes as a browser reads them; the pair is kept whatever its size.
            let Ok(attrs) = parse_set_cookie(&format!("x=x;{attributes}")) else {
                continue;
            };
            self.cookies.retain(|(n, _)| n != name);
            let expired = attrs.max_age.is_some_and(|m| m <= 0)
                || (attrs.max_age.is_none() && attrs.expires.is_some_and(|e| e <= now));
            if !expired {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    /// The `Cookie` header, if any cookie is held.
    pub fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        Some(pairs.join("; "))
    }

    /// A cookie that looks like it carries a CSRF token (`csrf`/`xsrf` in its
    /// name): its name, and its value percent-decoded as frameworks write it.
    pub fn csrf_token(&self) -> Option<(String, String)> {
        let (name, _) = self.cookies.iter().find(|(n, _)| csrf_named(n))?;
        Some((name.clone(), self.decoded(name)?))
    }

    /// A cookie's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A cookie's value, percent-decoded.
    pub fn decoded(&self, name: &str) -> Option<String> {
        self.get(name).map(|v| {
            percent_encoding::percent_decode_str(v.trim_matches('"'))
                .decode_utf8_lossy()
                .into_owned()
        })
    }

    /// Sets a cookie as another page of the site could (a planted value).
    pub fn set(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    /// The cookies held, by name.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.cookies
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn the_raw_jar_keeps_what_browsers_refuse_and_deletes_expired_cookies() {
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("s=1; Secure; Domain=localhost"),
        );
        h.append(SET_COOKIE, HeaderValue::from_static("XSRF-TOKEN=a%3Db"));
        let mut jar = RawJar::default();
        jar.absorb(&h, 0);
        assert_eq!(jar.header().as_deref(), Some("s=1; XSRF-TOKEN=a%3Db"));
        assert_eq!(
            jar.csrf_token(),
            Some(("XSRF-TOKEN".to_owned(), "a=b".to_owned()))
        );
        let mut h = HeaderMap::new();
        h.append(SET_COOKIE, HeaderValue::from_static("s=; Max-Age=0"));
        jar.absorb(&h, 0);
        assert_eq!(jar.header().as_deref(), Some("XSRF-TOKEN=a%3Db"));
    }
}
