//! The browser model's `Set-Cookie` parser (RFC 6265bis §5.6,
//! `authjar_policy::browser::set_cookie::parse_set_cookie`).
//!
//! Properties of a parsed cookie: name and value hold no CR, LF, NUL or
//! `;`, the name no `=`, both are substrings of the line and carry no
//! leading/trailing SP or HTAB, they are not both empty and fit in 4096
//! bytes; a `Path` starts with `/`; an `Expires` is a valid cookie date.
#![no_main]

use authjar_policy::browser::set_cookie::{parse_set_cookie, MAX_NAME_VALUE_BYTES};
use libfuzzer_sys::fuzz_target;

const MIN_COOKIE_DATE: i64 = -11_644_473_600; // 1601-01-01T00:00:00Z
const MAX_COOKIE_DATE: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

fn clean(s: &str, what: &str, line: &str) {
    assert!(
        !s.contains(['\r', '\n', '\0', ';']),
        "{what} {s:?} holds CR, LF, NUL or ';' (line {line:?})"
    );
    assert!(
        line.contains(s),
        "{what} {s:?} is not a substring of {line:?}"
    );
    assert_eq!(
        s,
        s.trim_matches([' ', '\t']),
        "{what} {s:?} is not trimmed"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(c) = parse_set_cookie(line) else {
        return;
    };
    clean(&c.name, "name", line);
    clean(&c.value, "value", line);
    assert!(!c.name.contains('='), "name {:?} holds '='", c.name);
    assert!(
        !(c.name.is_empty() && c.value.is_empty()),
        "empty cookie accepted"
    );
    assert!(c.name.len() + c.value.len() <= MAX_NAME_VALUE_BYTES);
    if let Some(p) = &c.path {
        assert!(p.starts_with('/'), "path {p:?}");
        assert!(c.path_attribute_present);
        assert!(!p.contains(';'));
    }
    if let Some(d) = &c.domain {
        assert!(d.is_ascii() && !d.contains(';'), "domain {d:?}");
        assert_eq!(*d, d.to_ascii_lowercase(), "domain not lower-cased");
    }
    if let Some(t) = c.expires {
        assert!(
            (MIN_COOKIE_DATE..=MAX_COOKIE_DATE).contains(&t),
            "expires {t} out of range"
        );
    }
});
