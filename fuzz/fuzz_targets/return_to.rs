//! Post-login redirect validation (`authjar_policy::return_to::validate_return_to`)
//! with app origins `https://app.example.com` and `http://localhost:3000`,
//! in both environments.
//!
//! Properties of an accepted value: its serialisation parses again as a URL
//! whose origin is one of the app origins (https only in production), with
//! no userinfo; validating the serialisation again accepts it and yields
//! the same string.
#![no_main]

use std::sync::OnceLock;

use authjar_policy::return_to::validate_return_to;
use authjar_policy::{Environment, Scheme, WebOrigin};
use libfuzzer_sys::fuzz_target;
use url::Url;

fn apps() -> &'static [WebOrigin] {
    static APPS: OnceLock<Vec<WebOrigin>> = OnceLock::new();
    APPS.get_or_init(|| {
        ["https://app.example.com", "http://localhost:3000"]
            .iter()
            .map(|o| WebOrigin::parse(o).expect("a valid origin"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    for env in [Environment::Development, Environment::Production] {
        let Ok(url) = validate_return_to(Some(raw), apps(), env) else {
            continue;
        };
        let s = url.as_str();
        let again =
            Url::parse(s).unwrap_or_else(|e| panic!("{raw:?} -> {s:?} does not parse: {e}"));
        assert_eq!(again.as_str(), s, "{raw:?}: serialisation is not stable");
        assert!(
            again.username().is_empty() && again.password().is_none(),
            "{raw:?} -> {s:?} has userinfo"
        );
        let origin = WebOrigin::of_url(&again)
            .unwrap_or_else(|e| panic!("{raw:?} -> {s:?} has no web origin: {e}"));
        assert!(
            apps().contains(&origin),
            "{raw:?} -> {s:?}: origin {origin} is not an app origin"
        );
        if env == Environment::Production {
            assert_eq!(
                origin.scheme(),
                Scheme::Https,
                "{raw:?} -> {s:?}: http accepted in production"
            );
        }
        assert!(
            !s.bytes().any(|b| !(0x21..=0x7e).contains(&b) || b == b'\\'),
            "{raw:?} -> {s:?} holds a control, space, non-ASCII or backslash"
        );
        match validate_return_to(Some(s), apps(), env) {
            Ok(u2) => assert_eq!(u2.as_str(), s, "{raw:?}: re-validation changed the URL"),
            Err(e) => panic!("{raw:?} -> {s:?} is refused when validated again: {e:?}"),
        }
    }
});
