//! Where to send the browser after an OAuth login (`return_to`), validated
//! so authjar is never an open redirector (OWASP Unvalidated Redirects and
//! Forwards Cheat Sheet, RFC 9700 §4.11.1). One pure function: an absolute URL whose origin is exactly an
//! app origin, or a path resolved against the first app origin; anything
//! the WHATWG parser could read differently from us is refused, and only the
//! re-serialised URL is ever emitted.

use url::Url;

use crate::deployment::Environment;
use crate::origin::{Scheme, WebOrigin};

/// Longest accepted `return_to`.
pub const MAX_LEN: usize = 2048;

/// Why a `return_to` is refused (all map to 400 `invalid_return_to`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReturnToError {
    /// Over [`MAX_LEN`] bytes.
    #[error("too long")]
    TooLong,
    /// A control, space, non-ASCII character or a backslash.
    #[error("contains a character a browser could read differently (control, space, non-ASCII or backslash)")]
    Character,
    /// `//`, `/./` or `/../` after the origin, or a relative value starting `//`.
    #[error("contains `//`, `/./` or `/../`")]
    DotOrDoubleSlash,
    /// `%2F`, `%5C` or `%00`–`%1F` in the path.
    #[error("contains an encoded slash, backslash or control character in the path")]
    EncodedSeparator,
    /// Not parseable as an absolute URL (or the relative form did not resolve).
    #[error("not a URL")]
    Unparsable,
    /// Userinfo (`user@`) in the URL.
    #[error("contains userinfo")]
    Userinfo,
    /// Not https (http only for loopback in development).
    #[error("scheme not allowed")]
    Scheme,
    /// The origin is not exactly one of the app origins.
    #[error("not an allowed app origin")]
    Origin,
    /// No app origin is configured to resolve a path against.
    #[error("no app origin configured")]
    NoAppOrigin,
}

/// Validates `raw` (already decoded once) against `apps`; `None` means
/// "absent": the first app origin. Returns the re-serialised URL to redirect to.
pub fn validate_return_to(
    raw: Option<&str>,
    apps: &[WebOrigin],
    env: Environment,
) -> Result<Url, ReturnToError> {
    let first = apps.first().ok_or(ReturnToError::NoAppOrigin)?;
    let Some(raw) = raw else {
        return Url::parse(&format!("{first}/")).map_err(|_| ReturnToError::Unparsable);
    };
    if raw.len() > MAX_LEN {
        return Err(ReturnToError::TooLong);
    }
    if raw
        .bytes()
        .any(|b| !(0x21..=0x7e).contains(&b) || b == b'\\')
    {
        return Err(ReturnToError::Character);
    }
    let (candidate, rest) = if raw.starts_with('/') {
        if raw.starts_with("//") {
            return Err(ReturnToError::DotOrDoubleSlash);
        }
        (format!("{first}{raw}"), raw)
    } else {
        (
            raw.to_owned(),
            after_origin(raw).ok_or(ReturnToError::Unparsable)?,
        )
    };
    check_rest(rest)?;
    let url = Url::parse(&candidate).map_err(|_| ReturnToError::Unparsable)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ReturnToError::Userinfo);
    }
    let origin = WebOrigin::of_url(&url).map_err(|_| ReturnToError::Scheme)?;
    let scheme_ok = origin.scheme() == Scheme::Https
        || (origin.is_loopback() && env == Environment::Development);
    if !scheme_ok {
        return Err(ReturnToError::Scheme);
    }
    if !apps.contains(&origin) {
        return Err(ReturnToError::Origin);
    }
    // What is emitted is the serialisation: it must pass the same checks as
    // what was written (validation is idempotent), its length included
    // (percent-encoding can make it longer than the input).
    if url.as_str().len() > MAX_LEN {
        return Err(ReturnToError::TooLong);
    }
    check_rest(after_origin(url.as_str()).ok_or(ReturnToError::Unparsable)?)?;
    Ok(url)
}

/// The part of an absolute URL after `scheme://authority`, as written; `None`
/// unless the URL starts with `scheme://` (`http:host/…` without the slashes
/// is a URL browsers read as `http://host/…`, so the `//` a later part holds
/// must not be taken for the one after the scheme).
fn after_origin(raw: &str) -> Option<&str> {
    let (scheme, after) = raw.split_once(':')?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let after_scheme = after.strip_prefix("//").filter(|_| scheme_ok)?;
    let end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    if after_scheme[..end].contains('@') {
        // Userinfo: refused later with its own reason, but never read past it here.
        return Some("");
    }
    Some(&after_scheme[end..])
}

fn check_rest(rest: &str) -> Result<(), ReturnToError> {
    let dots = rest.contains("//")
        || rest.contains("/./")
        || rest.contains("/../")
        || rest.ends_with("/.")
        || rest.ends_with("/..");
    if dots {
        return Err(ReturnToError::DotOrDoubleSlash);
    }
    let path = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    if has_encoded_separator(path) {
        return Err(ReturnToError::EncodedSeparator);
    }
    Ok(())
}

fn has_encoded_separator(path: &str) -> bool {
    let b = path.as_bytes();
    b.windows(3).any(|w| {
        w[0] == b'%'
            && match (w[1].to_ascii_lowercase(), w[2].to_ascii_lowercase()) {
                (b'2', b'f') | (b'5', b'c') => true,
                (b'0' | b'1', c) => c.is_ascii_hexdigit(),
                _ => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps() -> Vec<WebOrigin> {
        vec![
            WebOrigin::parse("https://app.example.com").unwrap(),
            WebOrigin::parse("https://admin.example.com:8443").unwrap(),
        ]
    }

    fn ok(raw: &str) -> String {
        validate_return_to(Some(raw), &apps(), Environment::Production)
            .unwrap()
            .to_string()
    }

    fn err(raw: &str) -> ReturnToError {
        validate_return_to(Some(raw), &apps(), Environment::Production).unwrap_err()
    }

    #[test]
    fn allowed_urls_and_paths_are_accepted_and_reserialised() {
        assert_eq!(
            ok("/bookings?tab=past#top"),
            "https://app.example.com/bookings?tab=past#top"
        );
        assert_eq!(ok("https://app.example.com/x"), "https://app.example.com/x");
        assert_eq!(ok("https://APP.example.com"), "https://app.example.com/");
        assert_eq!(
            ok("https://admin.example.com:8443/a/b"),
            "https://admin.example.com:8443/a/b"
        );
        assert_eq!(ok("/a%20b"), "https://app.example.com/a%20b");
        assert_eq!(
            validate_return_to(None, &apps(), Environment::Production)
                .unwrap()
                .as_str(),
            "https://app.example.com/"
        );
    }

    #[test]
    fn each_hostile_shape_is_refused_with_its_reason() {
        let table: &[(&str, ReturnToError)] = &[
            ("//evil.com", ReturnToError::DotOrDoubleSlash),
            ("/\\evil.com", ReturnToError::Character),
            ("/\tevil.com", ReturnToError::Character),
            ("/caf\u{e9}", ReturnToError::Character),
            ("https://app.example.com@evil.com/", ReturnToError::Userinfo),
            ("https://app.example.com.evil.com/", ReturnToError::Origin),
            ("http://app.example.com/", ReturnToError::Scheme),
            ("javascript:alert(1)", ReturnToError::Unparsable),
            (
                "https://app.example.com//evil.com",
                ReturnToError::DotOrDoubleSlash,
            ),
            ("/a/../../evil", ReturnToError::DotOrDoubleSlash),
            ("/a?next=//evil.com", ReturnToError::DotOrDoubleSlash),
            ("/%2F%2Fevil.com", ReturnToError::EncodedSeparator),
            ("/%5cevil.com", ReturnToError::EncodedSeparator),
            ("/%09/evil.com", ReturnToError::EncodedSeparator),
            ("https://app.example.com:444/", ReturnToError::Origin),
            ("evil.com", ReturnToError::Unparsable),
        ];
        for (raw, reason) in table {
            assert_eq!(err(raw), *reason, "{raw}");
        }
    }

    #[test]
    fn http_loopback_apps_are_allowed_in_development_only() {
        let dev = vec![WebOrigin::parse("http://localhost:3000").unwrap()];
        let url = validate_return_to(Some("/x"), &dev, Environment::Development).unwrap();
        assert_eq!(url.as_str(), "http://localhost:3000/x");
        assert_eq!(
            validate_return_to(Some("/x"), &dev, Environment::Production),
            Err(ReturnToError::Scheme)
        );
    }
}
