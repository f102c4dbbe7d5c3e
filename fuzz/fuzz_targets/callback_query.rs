//! Query strings an attacker controls (`authjar_axum::query`): the OAuth
//! callback's `CallbackQuery::parse` and `single_param`.
//!
//! Input: `NAME\0QUERY` (without a NUL byte: the whole input is the query
//! and NAME is `return_to`). Properties: `parse` agrees with `single_param`
//! for each of its four parameters; `single_param` is `Ok(Some)` exactly
//! when the name occurs once and `Err` when more than once; every returned
//! value, form-urlencoded again and parsed again, round-trips.
#![no_main]

use authjar_axum::query::{single_param, CallbackQuery, RepeatedParam};
use libfuzzer_sys::fuzz_target;

fn round_trips(name: &str, value: &str) {
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(name, value)
        .finish();
    assert_eq!(
        single_param(Some(&encoded), name),
        Ok(Some(value.to_owned())),
        "{name:?}={value:?} encoded as {encoded:?} does not round-trip"
    );
    // The same pair among others still reads back.
    let with_others = format!("x=1&{encoded}&y=%2F");
    if name != "x" && name != "y" {
        assert_eq!(
            single_param(Some(&with_others), name),
            Ok(Some(value.to_owned()))
        );
    }
}

fn check_param(query: Option<&str>, name: &str) -> Result<Option<String>, RepeatedParam> {
    let got = single_param(query, name);
    let occurrences = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == name)
        .count();
    match &got {
        Ok(None) => assert_eq!(occurrences, 0, "{name:?} absent but occurs"),
        Ok(Some(v)) => {
            assert_eq!(
                occurrences, 1,
                "{name:?} read once but occurs {occurrences} times"
            );
            round_trips(name, v);
        }
        Err(RepeatedParam) => assert!(
            occurrences >= 2,
            "{name:?} repeated but occurs {occurrences} times"
        ),
    }
    got
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (name, query) = input.split_once('\0').unwrap_or(("return_to", input));
    for q in [Some(query), None] {
        let _ = check_param(q, name);
        let fields = [
            check_param(q, "state"),
            check_param(q, "code"),
            check_param(q, "iss"),
            check_param(q, "error"),
        ];
        match CallbackQuery::parse(q) {
            Ok(cb) => {
                let [s, c, i, e] = fields.map(|f| f.expect("parse is Ok, so is each field"));
                assert_eq!((cb.state, cb.code, cb.iss, cb.error), (s, c, i, e));
            }
            Err(RepeatedParam) => assert!(
                fields.iter().any(Result::is_err),
                "parse refused, no field repeated"
            ),
        }
    }
});
