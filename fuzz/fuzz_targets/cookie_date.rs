//! The cookie-date algorithm (RFC 6265bis §5.6.1,
//! `authjar_policy::browser::date::parse_cookie_date`).
//!
//! Properties: a parsed date lies in 1601-01-01T00:00:00Z ..=
//! 9999-12-31T23:59:59Z (year >= 1601, at most four year digits, day,
//! hour, minute and second in range), and its IMF-fixdate rendering parses
//! back to the same instant and renders identically.
#![no_main]

use authjar_policy::browser::date::{format_imf_fixdate, parse_cookie_date};
use libfuzzer_sys::fuzz_target;

const MIN_COOKIE_DATE: i64 = -11_644_473_600; // 1601-01-01T00:00:00Z
const MAX_COOKIE_DATE: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Some(t) = parse_cookie_date(s) else {
        return;
    };
    assert!(
        (MIN_COOKIE_DATE..=MAX_COOKIE_DATE).contains(&t),
        "{s:?} parsed to {t}, outside year 1601..=9999"
    );
    let imf = format_imf_fixdate(t);
    let year: i64 = imf[12..16]
        .parse()
        .unwrap_or_else(|_| panic!("{imf:?} has no 4-digit year"));
    assert!(year >= 1601, "{s:?} -> {imf}");
    assert_eq!(
        parse_cookie_date(&imf),
        Some(t),
        "{s:?} -> {t} -> {imf:?} does not round-trip"
    );
    assert_eq!(format_imf_fixdate(t), imf);
});
