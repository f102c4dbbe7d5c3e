//! Access-token verification (`authjar_core::AccessTokens::verify`) with keys
//! derived from a fixed secret and a previous (rotated-out) secret.
//!
//! Property: `verify` is `Ok` only for a token byte-equal to one this
//! deployment issued (by the current key, or by the previous key before
//! rotation), and then it yields exactly the claims issued.
#![no_main]

use std::sync::OnceLock;

use authjar_core::{AccessClaims, AccessTokens, KeyRing};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

const CURRENT: &str = "fuzz current secret, at least 32 characters";
const PREVIOUS: &str = "fuzz previous secret, at least 32 characters";
const ISSUER: &str = "https://api.example.com";
const ISSUED_AT: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const NOW: i64 = ISSUED_AT + 60;

struct Fixture {
    tokens: AccessTokens,
    issued: Vec<(String, AccessClaims)>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let current = SecretString::from(CURRENT.to_owned());
        let previous = SecretString::from(PREVIOUS.to_owned());
        let ring = KeyRing::derive(&current, std::slice::from_ref(&previous)).expect("keys derive");
        let tokens = AccessTokens::new(&ring, ISSUER.to_owned(), 1800).expect("keys load");
        let old_ring = KeyRing::derive(&previous, &[]).expect("keys derive");
        let old = AccessTokens::new(&old_ring, ISSUER.to_owned(), 1800).expect("keys load");
        let mut issued = Vec::new();
        for (t, sub, sid, email) in [
            (&tokens, "user-1", "session-1", "tom@cat-therapist-hub.test"),
            (&tokens, "user-2", "session-2", "a@b.com"),
            (&old, "user-1", "session-0", "tom@cat-therapist-hub.test"),
        ] {
            let jwt = t.issue(sub, sid, email, ISSUED_AT).expect("a token signs");
            let claims = tokens.verify(&jwt, NOW).expect("an issued token verifies");
            issued.push((jwt, claims));
        }
        Fixture { tokens, issued }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(claims) = f.tokens.verify(token, NOW) {
        let Some((_, want)) = f.issued.iter().find(|(jwt, _)| jwt == token) else {
            panic!("a token this deployment never issued verifies: {token:?} -> {claims:?}");
        };
        assert_eq!(&claims, want);
    }
});
