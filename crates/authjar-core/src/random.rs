//! Randomness, injected: the operating system's CSPRNG in production, a
//! seeded generator in tests that need reproducible values.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;

/// A source of cryptographically secure random bytes.
pub trait Random: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        rand::rngs::OsRng.fill_bytes(buf);
    }
}

/// `N` random bytes.
pub fn bytes<const N: usize>(r: &dyn Random) -> [u8; N] {
    let mut b = [0u8; N];
    r.fill(&mut b);
    b
}

/// `N` random bytes as unpadded base64url (cookie- and URL-safe).
pub fn token<const N: usize>(r: &dyn Random) -> String {
    URL_SAFE_NO_PAD.encode(bytes::<N>(r))
}

/// A random (version 4) UUID.
pub fn uuid(r: &dyn Random) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(bytes::<16>(r)).into_uuid()
}
