//! CSRF token checking (`authjar_core::CsrfTokens::check`) with keys derived
//! from a fixed secret and a previous (rotated-out) secret.
//!
//! Input: the first byte picks the request's binding (none, session A or
//! pre-session B), the rest is the presented token. Properties: `Ok` only
//! for a token byte-equal to one minted for that binding (under the current
//! or the previous key); `OtherSession` only for a genuine token (one of the
//! minted ones); and every minted token passes for its own binding.
#![no_main]

use std::sync::OnceLock;

use authjar_core::{Binding, CsrfError, CsrfTokens, KeyRing};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use uuid::Uuid;

const CURRENT: &str = "fuzz current secret, at least 32 characters";
const PREVIOUS: &str = "fuzz previous secret, at least 32 characters";
/// The nonce `mint` is given (random in the server): seeds hold the tokens it yields.
const NONCE: [u8; 16] = *b"authjar-fuzz-nce";

struct Fixture {
    tokens: CsrfTokens,
    bindings: [Binding; 2],
    /// Genuine tokens per binding: current key, then previous key.
    minted: [[String; 2]; 2],
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let current = SecretString::from(CURRENT.to_owned());
        let previous = SecretString::from(PREVIOUS.to_owned());
        let ring = KeyRing::derive(&current, std::slice::from_ref(&previous)).expect("keys derive");
        let old_ring = KeyRing::derive(&previous, &[]).expect("keys derive");
        let tokens = CsrfTokens::new(ring.csrf.clone());
        let old = CsrfTokens::new(old_ring.csrf.clone());
        let bindings = [
            Binding::Session(Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef)),
            Binding::PreSession("fuzz-pre-session-id".to_owned()),
        ];
        let minted = [0, 1].map(|i| {
            [
                tokens.mint(&bindings[i], NONCE),
                old.mint(&bindings[i], NONCE),
            ]
        });
        Fixture {
            tokens,
            bindings,
            minted,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Ok(token) = std::str::from_utf8(rest) else {
        return;
    };
    let which = match sel % 3 {
        0 => None,
        1 => Some(0),
        _ => Some(1),
    };
    let binding = which.map(|i| &f.bindings[i]);
    let genuine_for = |i: usize| f.minted[i].iter().any(|m| m == token);
    match f.tokens.check(token, binding) {
        Ok(()) => {
            let i = which.expect("Ok without a binding");
            assert!(genuine_for(i), "forged token accepted: {token:?}");
        }
        Err(CsrfError::OtherSession) => {
            assert!(
                genuine_for(0) || genuine_for(1),
                "forged token judged genuine: {token:?}"
            );
            assert!(
                which.is_none_or(|i| !genuine_for(i)),
                "own token refused as OtherSession"
            );
        }
        Err(CsrfError::Invalid) => {
            assert!(
                !genuine_for(0) && !genuine_for(1),
                "minted token judged invalid: {token:?}"
            );
        }
    }
});
