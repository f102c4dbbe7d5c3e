//! `return_to`: oauth2-proxy's 559-line open-redirect list (all refused),
//! positive controls, and properties of whatever is accepted.

use authjar_policy::return_to::validate_return_to;
use authjar_policy::{Environment, WebOrigin};
use proptest::prelude::*;
use url::Url;

use crate::helpers::corpus;

fn whitelisted() -> Vec<WebOrigin> {
    vec![WebOrigin::parse("https://www.whitelisteddomain.tld").unwrap()]
}

#[test]
fn every_line_of_oauth2_proxys_open_redirect_list_is_refused() {
    let text = corpus("oauth2-proxy-openredirects.txt");
    let lines: Vec<&str> = text.split('\n').collect();
    let lines = if lines.last() == Some(&"") {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };
    assert_eq!(lines.len(), 559);
    let mut accepted = Vec::new();
    for line in lines {
        // Decode each line once, as a query-string value would be.
        let decoded = percent_encoding::percent_decode_str(line)
            .decode_utf8_lossy()
            .into_owned();
        if let Ok(url) = validate_return_to(Some(&decoded), &whitelisted(), Environment::Production)
        {
            accepted.push(format!("{line:?} -> {url}"));
        }
    }
    assert!(
        accepted.is_empty(),
        "{} accepted:\n{}",
        accepted.len(),
        accepted.join("\n")
    );
}

#[test]
fn positive_controls_are_accepted() {
    for (raw, want) in [
        ("/", "https://www.whitelisteddomain.tld/"),
        (
            "/account/settings?tab=1",
            "https://www.whitelisteddomain.tld/account/settings?tab=1",
        ),
        (
            "https://www.whitelisteddomain.tld/x#y",
            "https://www.whitelisteddomain.tld/x#y",
        ),
        (
            "https://www.whitelisteddomain.tld:443/x",
            "https://www.whitelisteddomain.tld/x",
        ),
    ] {
        assert_eq!(
            validate_return_to(Some(raw), &whitelisted(), Environment::Production)
                .unwrap()
                .as_str(),
            want
        );
    }
}

fn tricky() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "/",
        "//",
        "\\",
        "@",
        "%2f",
        "%5C",
        "%09",
        "%0a",
        ".",
        "..",
        "?",
        "#",
        ":",
        "https:",
        "http:",
        "javascript:",
        "www.whitelisteddomain.tld",
        "evil.com",
        "%2e",
        "\u{3002}",
        " ",
        "\t",
        "a",
        "1",
    ]);
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

proptest! {
    /// Whatever is accepted is an absolute https URL on the allowed origin,
    /// and parsing the emitted string again gives the same URL (no second reading).
    #[test]
    fn whatever_is_accepted_stays_on_the_allowed_origin(raw in tricky()) {
        if let Ok(url) = validate_return_to(Some(&raw), &whitelisted(), Environment::Production) {
            let again = Url::parse(url.as_str()).unwrap();
            prop_assert_eq!(&again, &url);
            prop_assert_eq!(again.origin().ascii_serialization(), "https://www.whitelisteddomain.tld");
            let via_browser = Url::parse("https://auth.example.com/cb").unwrap().join(url.as_str()).unwrap();
            prop_assert_eq!(via_browser.origin().ascii_serialization(), "https://www.whitelisteddomain.tld");
        }
    }

    /// Printable paths without the refused shapes are accepted.
    #[test]
    fn plain_paths_are_accepted(path in "/[a-z0-9_-]{1,12}(/[a-z0-9_-]{1,12}){0,3}") {
        let url = validate_return_to(Some(&path), &whitelisted(), Environment::Production).unwrap();
        prop_assert_eq!(url.path(), path.as_str());
    }
}

/// Found by `cargo fuzz` (target `return_to`): a scheme without its slashes
/// (`http:localhost:3000/://`) made the `//` inside the path look like the
/// one after the scheme, so a path holding `//` was accepted, and its
/// serialisation was then refused when validated again.
#[test]
fn a_scheme_without_its_slashes_cannot_hide_a_double_slash() {
    let apps = [WebOrigin::parse("http://localhost:3000").unwrap()];
    for raw in ["http:localhost:3000/://", "http:localhost:3000//evil.com"] {
        assert!(
            validate_return_to(Some(raw), &apps, Environment::Development).is_err(),
            "{raw}"
        );
    }
    assert!(
        validate_return_to(
            Some("https:www.whitelisteddomain.tld/a//b"),
            &whitelisted(),
            Environment::Production
        )
        .is_err(),
        "on an allowed origin too"
    );
    assert!(
        validate_return_to(
            Some("https:www.whitelisteddomain.tld/ok"),
            &whitelisted(),
            Environment::Production
        )
        .is_err(),
        "an absolute return_to is written scheme://"
    );
}

/// Found by `cargo fuzz` (target `return_to`): a path within the length
/// limit whose percent-encoded serialisation is over it was accepted at the
/// start and refused at the callback.
#[test]
fn the_length_limit_holds_for_what_is_emitted() {
    let raw = format!("/{}", "`".repeat(675));
    assert!(raw.len() <= 2048);
    assert!(validate_return_to(Some(&raw), &whitelisted(), Environment::Production).is_err());
    let fits = format!("/{}", "`".repeat(600));
    let url = validate_return_to(Some(&fits), &whitelisted(), Environment::Production).unwrap();
    assert_eq!(
        validate_return_to(Some(url.as_str()), &whitelisted(), Environment::Production)
            .unwrap()
            .as_str(),
        url.as_str(),
        "what is accepted validates again to itself"
    );
}
