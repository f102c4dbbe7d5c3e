//! The http-state cookie-date examples against RFC 6265bis §5.6.1.

use authjar_policy::browser::date::{format_imf_fixdate, parse_cookie_date};
use serde::Deserialize;

use crate::helpers::corpus;

#[derive(Deserialize)]
struct DateCase {
    test: String,
    expected: Option<String>,
}

fn check(file: &str) -> usize {
    let text = corpus(file);
    // The BSD file starts with a licence comment; the JSON follows it.
    let json = &text[text.find('[').unwrap()..];
    let cases: Vec<DateCase> = serde_json::from_str(json).unwrap();
    let mut failures = Vec::new();
    for c in &cases {
        let got = parse_cookie_date(&c.test).map(format_imf_fixdate);
        if got != c.expected {
            failures.push(format!(
                "{:?}: expected {:?}, got {:?}",
                c.test, c.expected, got
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{file}: {} failures\n{}",
        failures.len(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn cookie_dates_parse_like_the_examples() {
    assert!(check("http-state/dates-examples.json") > 10);
}

#[test]
fn cookie_dates_parse_like_the_bsd_examples() {
    assert!(check("http-state/dates-bsd-examples.json") > 10);
}
