//! The user agent's `Set-Cookie` parser, RFC 6265bis §5.6.
//!
//! Written by hand on purpose: the `cookie` crate parses the strict server
//! grammar of §4.1 (and is what authjar uses to *emit* cookies), while a
//! browser applies the lenient algorithm of §5.6 — a value without `=`
//! becomes a nameless cookie, unknown attributes are skipped, an over-long
//! attribute is ignored, the last `Domain`/`Path` wins. Judging what a
//! browser will do needs the browser's algorithm.

use super::date::{parse_cookie_date, UnixTime};

/// Longest name plus value a browser keeps (§5.6 step 5).
pub const MAX_NAME_VALUE_BYTES: usize = 4096;
/// Longest attribute value a browser honours (§5.6, attribute step 6).
pub const MAX_ATTRIBUTE_VALUE_BYTES: usize = 1024;

/// The `SameSite` attribute as parsed (§5.6.7): unknown values become `Default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SameSiteAttr {
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=None`.
    None,
    /// No attribute or an unknown value: treated as Lax (Chromium "Lax by default").
    Default,
}

/// A `Set-Cookie` header after §5.6 parsing, before any storage decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSetCookie {
    /// Cookie name (may be empty: `Set-Cookie: token` is a nameless cookie).
    pub name: String,
    /// Cookie value, double quotes included.
    pub value: String,
    /// Last valid `Expires`, as Unix time.
    pub expires: Option<UnixTime>,
    /// Last valid `Max-Age`, in seconds (may be zero or negative).
    pub max_age: Option<i64>,
    /// Last `Domain`, leading dot removed, lower-cased; `None` if absent.
    pub domain: Option<String>,
    /// Last `Path` that starts with `/`, if any.
    pub path: Option<String>,
    /// True when a `Path` attribute was present at all (needed for `__Host-`).
    pub path_attribute_present: bool,
    /// `Secure`.
    pub secure: bool,
    /// `HttpOnly`.
    pub http_only: bool,
    /// `SameSite`.
    pub same_site: SameSiteAttr,
    /// `Partitioned` (CHIPS).
    pub partitioned: bool,
}

/// Why a whole `Set-Cookie` line is ignored at parse time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseRejection {
    /// A control character other than HTAB (§5.6 step 1).
    ControlCharacter,
    /// Name and value both empty (§5.7 step 2).
    EmptyNameAndValue,
    /// Name plus value longer than 4096 bytes (§5.6 step 5).
    TooLarge,
    /// A `Domain` attribute with a non-ASCII value (§5.7 step 8).
    NonAsciiDomain,
}

fn is_forbidden_ctl(c: char) -> bool {
    matches!(c, '\x00'..='\x08' | '\x0A'..='\x1F' | '\x7F')
}

fn trim_wsp(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Parses one `Set-Cookie` header value as a browser would.
pub fn parse_set_cookie(line: &str) -> Result<ParsedSetCookie, ParseRejection> {
    if line.chars().any(is_forbidden_ctl) {
        return Err(ParseRejection::ControlCharacter);
    }
    let (pair, attributes) = line.split_once(';').unwrap_or((line, ""));
    let (name, value) = match pair.split_once('=') {
        Some((n, v)) => (trim_wsp(n), trim_wsp(v)),
        None => ("", trim_wsp(pair)),
    };
    if name.is_empty() && value.is_empty() {
        return Err(ParseRejection::EmptyNameAndValue);
    }
    if name.len() + value.len() > MAX_NAME_VALUE_BYTES {
        return Err(ParseRejection::TooLarge);
    }
    let mut cookie = ParsedSetCookie {
        name: name.to_owned(),
        value: value.to_owned(),
        expires: None,
        max_age: None,
        domain: None,
        path: None,
        path_attribute_present: false,
        secure: false,
        http_only: false,
        same_site: SameSiteAttr::Default,
        partitioned: false,
    };
    for av in attributes.split(';') {
        let (k, v) = av.split_once('=').unwrap_or((av, ""));
        let (k, v) = (trim_wsp(k), trim_wsp(v));
        if v.len() > MAX_ATTRIBUTE_VALUE_BYTES {
            continue;
        }
        apply_attribute(&mut cookie, k, v)?;
    }
    Ok(cookie)
}

fn apply_attribute(c: &mut ParsedSetCookie, name: &str, value: &str) -> Result<(), ParseRejection> {
    match name.to_ascii_lowercase().as_str() {
        "expires" => {
            if let Some(t) = parse_cookie_date(value) {
                c.expires = Some(t);
            }
        }
        "max-age" => {
            if let Some(secs) = parse_max_age(value) {
                c.max_age = Some(secs);
            }
        }
        "domain" if !value.is_empty() => {
            if !value.is_ascii() {
                return Err(ParseRejection::NonAsciiDomain);
            }
            let v = value.strip_prefix('.').unwrap_or(value);
            c.domain = Some(v.to_ascii_lowercase());
        }
        "path" => {
            c.path_attribute_present = true;
            c.path = value.starts_with('/').then(|| value.to_owned());
        }
        "secure" => c.secure = true,
        "httponly" => c.http_only = true,
        "samesite" => {
            c.same_site = match value.to_ascii_lowercase().as_str() {
                "none" => SameSiteAttr::None,
                "strict" => SameSiteAttr::Strict,
                "lax" => SameSiteAttr::Lax,
                _ => SameSiteAttr::Default,
            }
        }
        "partitioned" => c.partitioned = true,
        _ => {}
    }
    Ok(())
}

/// §5.6.2: a leading `-` or digit, then digits only; otherwise ignored.
fn parse_max_age(value: &str) -> Option<i64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Saturate rather than overflow on absurd values; both ends mean "now" or "max".
    let n: i64 = digits.parse().unwrap_or(i64::MAX);
    Some(if value.starts_with('-') { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_without_equals_is_a_nameless_cookie() {
        let c = parse_set_cookie("token").unwrap();
        assert_eq!((c.name.as_str(), c.value.as_str()), ("", "token"));
    }

    #[test]
    fn the_last_domain_and_path_win_and_the_leading_dot_goes() {
        let c = parse_set_cookie("a=b; Domain=x.com; domain=.Y.com; path=/a; Path=/b").unwrap();
        assert_eq!(c.domain.as_deref(), Some("y.com"));
        assert_eq!(c.path.as_deref(), Some("/b"));
    }

    #[test]
    fn control_characters_and_oversized_cookies_are_ignored() {
        assert_eq!(
            parse_set_cookie("a=b\x01c"),
            Err(ParseRejection::ControlCharacter)
        );
        let big = format!("a={}", "x".repeat(4096));
        assert_eq!(parse_set_cookie(&big), Err(ParseRejection::TooLarge));
        assert!(parse_set_cookie(&format!("a={}", "x".repeat(4095))).is_ok());
    }

    #[test]
    fn unknown_samesite_values_are_default_and_bad_max_age_ignored() {
        let c = parse_set_cookie("a=b; SameSite=Bogus; Max-Age=12x").unwrap();
        assert_eq!(c.same_site, SameSiteAttr::Default);
        assert_eq!(c.max_age, None);
        assert_eq!(
            parse_set_cookie("a=b; Max-Age=-5").unwrap().max_age,
            Some(-5)
        );
    }
}
