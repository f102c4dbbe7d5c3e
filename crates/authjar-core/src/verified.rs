//! The verified-token cache: each access token's Ed25519 signature is
//! checked once per process, not on every request.
//!
//! Why it can never accept a token the full check would refuse:
//! - it is keyed by the **whole token string**, compared for equality, so a
//!   token that differs in any byte (a forged signature, other claims under
//!   the same header) misses it and takes the full check;
//! - only tokens that passed the full check (signature, algorithm, issuer,
//!   key id, expiry) are ever inserted, or tokens this process has just
//!   signed with its current key over the claims it put in, which is what
//!   that check would find (a test holds issued tokens byte for byte to
//!   jsonwebtoken's encoding and to a full check in another instance);
//! - what can change after that is checked on every hit: expiry against the
//!   injected clock, and that the signing key is still in the key set (the
//!   revoked-session set is checked by the caller for hits and misses alike).
//!
//! Memory is bounded by weight, not count: each entry weighs its token and
//! claims' bytes plus a fixed overhead, [`CAPACITY_BYTES`] in all; the
//! least useful entries are evicted (quick_cache's CLOCK-Pro policy).

use std::sync::Arc;

use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::tokens::AccessClaims;

/// The most memory the cache holds: 16 MiB, about 20,000 tokens of
/// typical size (a token is ~350 bytes, its claims ~250).
pub(crate) const CAPACITY_BYTES: u64 = 16 * 1024 * 1024;

/// Bytes an entry costs beyond its strings (allocations, the map's slot).
const OVERHEAD_BYTES: u64 = 160;

/// A token that passed the full check, with the key that signed it.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) kid: String,
    pub(crate) claims: AccessClaims,
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<Box<str>, Arc<Verified>> for ByBytes {
    fn weight(&self, token: &Box<str>, v: &Arc<Verified>) -> u64 {
        let c = &v.claims;
        (token.len() + v.kid.len() + c.sub.len() + c.sid.len() + c.email.len() + c.iss.len()) as u64
            + OVERHEAD_BYTES
    }
}

/// Verified tokens by their exact text.
pub(crate) struct VerifiedTokens {
    cache: Cache<Box<str>, Arc<Verified>, ByBytes>,
}

impl VerifiedTokens {
    pub(crate) fn new() -> VerifiedTokens {
        VerifiedTokens::with_capacity(CAPACITY_BYTES)
    }

    pub(crate) fn with_capacity(bytes: u64) -> VerifiedTokens {
        let estimated_items = (bytes / 800).max(16) as usize;
        VerifiedTokens {
            cache: Cache::with_weighter(estimated_items, bytes, ByBytes),
        }
    }

    /// The earlier full check of exactly this token, if it is remembered.
    pub(crate) fn get(&self, token: &str) -> Option<Arc<Verified>> {
        self.cache.get(token)
    }

    /// Remembers a token that just passed the full check.
    pub(crate) fn insert(&self, token: &str, verified: Verified) {
        self.cache.insert(token.into(), Arc::new(verified));
    }

    /// The entries' total weight (for tests of the bound).
    #[cfg(test)]
    pub(crate) fn weight(&self) -> u64 {
        self.cache.weight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verified(i: usize) -> Verified {
        Verified {
            kid: "k1".into(),
            claims: AccessClaims {
                sub: format!("user-{i}"),
                sid: format!("session-{i}"),
                email: format!("cat{i}@example.com"),
                iat: 0,
                exp: 900,
                iss: "https://hub.test".into(),
            },
        }
    }

    #[test]
    fn memory_stays_within_the_bound_however_many_tokens_arrive() {
        let cache = VerifiedTokens::with_capacity(64 * 1024);
        for i in 0..10_000 {
            cache.insert(&format!("token-{i}-{}", "x".repeat(300)), verified(i));
        }
        assert!(cache.weight() <= 64 * 1024, "{}", cache.weight());
        assert!(cache.weight() > 32 * 1024, "it is used, not emptied");
    }

    #[test]
    fn only_the_exact_token_text_hits() {
        let cache = VerifiedTokens::new();
        cache.insert("aaa.bbb.ccc", verified(1));
        assert!(cache.get("aaa.bbb.ccc").is_some());
        assert!(cache.get("aaa.bbb.ccd").is_none());
        assert!(cache.get("aaa.bbb.cc").is_none());
        assert!(cache.get("aaa.bbb.ccc ").is_none());
    }
}
