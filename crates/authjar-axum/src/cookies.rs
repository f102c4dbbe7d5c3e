//! Reading the `Cookie` request header the robust way (RFC 6265bis §4.2, §5.4):
//! bytes, not `&str`; only SP and HTAB trimmed; names compared byte-exactly;
//! no percent-decoding, no unquoting, no legacy syntax; nameless pairs
//! ignored; several `Cookie` lines joined; a size limit before parsing; and
//! any auth cookie present twice fails closed.
//!
//! Written by hand on purpose: the `cookie` crate's `split_parse` trims
//! Unicode whitespace from names (`"\u{2000}__Host-x"` becomes `__Host-x`),
//! which re-opens the cookie-prefix bypass.

use axum::http::{header, HeaderMap};

/// Largest total `Cookie` header accepted (8 KiB is typical, 16 KiB leaves room).
pub const MAX_COOKIE_HEADER_BYTES: usize = 16 * 1024;

/// Why the cookies of a request cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CookieError {
    /// The `Cookie` header lines exceed [`MAX_COOKIE_HEADER_BYTES`].
    TooLarge,
    /// An auth cookie appears more than once (possible cookie tossing).
    Duplicate(String),
}

/// What a request carries under one auth cookie's name ([`RequestCookies::token`]).
///
/// Only [`Token`](CookieValue::Token) is a credential. A duplicated auth
/// cookie fails closed: it is never resolved by "first wins" or "last wins"
/// (a sibling subdomain or a man-in-the-middle on plain HTTP can toss in a
/// second cookie of the same name, and browsers disagree on the order), so
/// extractors answer 401 for it, as for a malformed one, instead of treating
/// the request as anonymous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieValue<'a> {
    /// No cookie of that name.
    Absent,
    /// Exactly one cookie of that name, shaped like a token authjar issues:
    /// only `[A-Za-z0-9_.-]`, 1 to 4096 bytes.
    Token(&'a str),
    /// Exactly one cookie of that name, not shaped like any token authjar
    /// issues (quotes, `%`, `=`, non-ASCII, controls, empty, too long).
    Malformed,
    /// More than one cookie of that name (possible cookie tossing).
    Duplicated,
}

impl<'a> CookieValue<'a> {
    /// The token, when there is exactly one well-formed value.
    pub fn as_token(&self) -> Option<&'a str> {
        match *self {
            CookieValue::Token(t) => Some(t),
            _ => None,
        }
    }
}

/// The name/value pairs of a request's `Cookie` header lines, borrowed
/// from the headers (nothing is copied: this runs on every request).
#[derive(Debug, Default)]
pub struct RequestCookies<'h> {
    pairs: Vec<(&'h [u8], &'h [u8])>,
}

fn trim_ows(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

impl<'h> RequestCookies<'h> {
    /// Parses every `Cookie` header line.
    pub fn parse(headers: &'h HeaderMap) -> Result<RequestCookies<'h>, CookieError> {
        let lines = headers.get_all(header::COOKIE);
        if lines.iter().map(|l| l.len() + 2).sum::<usize>() > MAX_COOKIE_HEADER_BYTES {
            return Err(CookieError::TooLarge);
        }
        let mut pairs = Vec::new();
        for piece in lines
            .iter()
            .flat_map(|l| l.as_bytes().split(|b| *b == b';'))
        {
            let Some(eq) = piece.iter().position(|b| *b == b'=') else {
                continue;
            };
            let name = trim_ows(&piece[..eq]);
            if name.is_empty() {
                continue;
            }
            pairs.push((name, trim_ows(&piece[eq + 1..])));
        }
        Ok(RequestCookies { pairs })
    }

    /// Every cookie name, in order, duplicates included (never the values).
    pub fn names(&self) -> impl Iterator<Item = &'h [u8]> + '_ {
        self.pairs.iter().map(|(n, _)| *n)
    }

    /// The value of the cookie named exactly `name`: `Ok(None)` when absent,
    /// an error when present more than once.
    pub fn get(&self, name: &str) -> Result<Option<&'h [u8]>, CookieError> {
        let mut found = self.pairs.iter().filter(|(n, _)| *n == name.as_bytes());
        let first = found.next();
        if found.next().is_some() {
            return Err(CookieError::Duplicate(name.to_owned()));
        }
        Ok(first.map(|(_, v)| *v))
    }

    /// The cookie named exactly `name` read as an authjar token; see
    /// [`CookieValue`] for what each answer means (a duplicate fails closed).
    pub fn token(&self, name: &str) -> CookieValue<'h> {
        let v = match self.get(name) {
            Ok(None) => return CookieValue::Absent,
            Ok(Some(v)) => v,
            Err(_) => return CookieValue::Duplicated,
        };
        let shaped = !v.is_empty()
            && v.len() <= 4096
            && v.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        match std::str::from_utf8(v) {
            Ok(t) if shaped => CookieValue::Token(t),
            _ => CookieValue::Malformed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// Headers with one `Cookie` line per entry of `lines`.
    fn headers(lines: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append(header::COOKIE, HeaderValue::from_bytes(l).unwrap());
        }
        h
    }

    #[test]
    fn names_are_byte_exact_and_only_ows_is_trimmed() {
        let h = headers(&["\u{2000}__Host-a=evil; __host-a=evil2;  __Host-a\t= good ".as_bytes()]);
        let c = RequestCookies::parse(&h).unwrap();
        assert_eq!(c.get("__Host-a").unwrap(), Some(&b"good"[..]));
        assert_eq!(c.get("__HOST-A").unwrap(), None);
    }

    #[test]
    fn duplicates_fail_closed_even_across_header_lines() {
        let h = headers(&[b"a=1", b"b=2; a=3"]);
        let c = RequestCookies::parse(&h).unwrap();
        assert_eq!(c.get("a"), Err(CookieError::Duplicate("a".into())));
        assert_eq!(c.token("a"), CookieValue::Duplicated);
        assert_eq!(c.token("a").as_token(), None);
        assert_eq!(c.get("b").unwrap(), Some(&b"2"[..]));
        assert_eq!(c.token("b"), CookieValue::Token("2"));
        assert_eq!(c.token("c"), CookieValue::Absent);
    }

    #[test]
    fn nameless_pairs_are_ignored_and_values_are_not_decoded() {
        let h = headers(&[b"=a=evil; a; x=\"q\"; y=%41"]);
        let c = RequestCookies::parse(&h).unwrap();
        assert_eq!(c.get("a").unwrap(), None);
        assert_eq!(c.token("x"), CookieValue::Malformed);
        assert_eq!(c.token("y"), CookieValue::Malformed);
        assert_eq!(c.token("y").as_token(), None);
    }

    #[test]
    fn oversized_headers_are_refused_before_parsing() {
        let big = vec![b'a'; MAX_COOKIE_HEADER_BYTES + 1];
        let h = headers(&[&big]);
        assert_eq!(
            RequestCookies::parse(&h).unwrap_err(),
            CookieError::TooLarge
        );
    }
}
