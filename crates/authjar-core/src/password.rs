//! Passwords: the length policy (checked before any hashing), argon2id with
//! at least OWASP's parameters, and a hasher that runs on the blocking pool
//! with a bounded number in flight, so a login storm queues instead of
//! exhausting memory (each hash holds 19 MiB).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// Shortest accepted password, in characters.
pub const MIN_LEN: usize = 8;
/// Longest accepted password, in characters (bounds hashing work).
pub const MAX_LEN: usize = 128;

/// A password that meets the policy. Never printed.
#[derive(Clone)]
pub struct Password(SecretString);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_LEN`] characters.
    #[error("a password has at least 8 characters")]
    TooShort,
    /// More than [`MAX_LEN`] characters.
    #[error("a password has at most 128 characters")]
    TooLong,
}

impl Password {
    /// Checks the length policy.
    pub fn parse(input: String) -> Result<Password, PasswordError> {
        let n = input.chars().count();
        if n < MIN_LEN {
            return Err(PasswordError::TooShort);
        }
        if n > MAX_LEN {
            return Err(PasswordError::TooLong);
        }
        Ok(Password(SecretString::from(input)))
    }

    fn bytes(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }
}

/// argon2id parameters: OWASP's minimum (m = 19 MiB, t = 2, p = 1).
#[derive(Debug, Clone, Copy)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Parallelism.
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP Password Storage Cheat Sheet's argon2id minimum.
    pub const OWASP: HashParams = HashParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    fn argon2(self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .unwrap_or_else(|_| Params::default());
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// Hashes a password into a PHC string with the given 16-byte salt.
pub fn hash_password(params: HashParams, password: &Password, salt: [u8; 16]) -> String {
    // Encoding 16 bytes cannot fail (the limit is 64); an empty hash never verifies.
    let Ok(salt) = SaltString::encode_b64(&salt) else {
        return String::new();
    };
    params
        .argon2()
        .hash_password(password.bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Verifies a password against a PHC string; a malformed hash never verifies.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.bytes(), &parsed)
        .is_ok()
}

/// Hashing and verification on tokio's blocking pool, at most `permits` at once.
#[derive(Clone)]
pub struct BoundedHasher {
    params: HashParams,
    permits: Arc<Semaphore>,
    dummy: Arc<str>,
    verifications: Arc<AtomicU64>,
}

impl BoundedHasher {
    /// A hasher allowing `concurrency` hashes in flight. `dummy_salt` seeds
    /// the dummy hash that unknown e-mails are checked against.
    pub fn new(params: HashParams, concurrency: usize, dummy_salt: [u8; 16]) -> BoundedHasher {
        let dummy_pw = Password(SecretString::from("authjar-dummy-password".to_owned()));
        BoundedHasher {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: hash_password(params, &dummy_pw, dummy_salt).into(),
            verifications: Arc::default(),
        }
    }

    /// Hashes `password` with `salt`.
    pub async fn hash(&self, password: Password, salt: [u8; 16]) -> String {
        let params = self.params;
        self.run(move || hash_password(params, &password, salt))
            .await
            .unwrap_or_default()
    }

    /// Verifies `password` against `phc`, or against the dummy hash when
    /// there is no account, so both cost the same.
    pub async fn verify(&self, password: Password, phc: Option<String>) -> bool {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy.to_string());
        let counter = self.verifications.clone();
        let ok = self
            .run(move || {
                let ok = verify_password(&password, &phc);
                counter.fetch_add(1, Ordering::Relaxed);
                ok
            })
            .await
            .unwrap_or(false);
        ok && known
    }

    /// How many verifications have run to completion (known and unknown accounts alike).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let _permit = self.permits.acquire().await.ok()?;
        tokio::task::spawn_blocking(f).await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: HashParams = HashParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn policy_counts_characters_not_bytes() {
        assert_eq!(
            Password::parse("1234567".into()).unwrap_err(),
            PasswordError::TooShort
        );
        assert!(Password::parse("ééééééé€".into()).is_ok());
        assert_eq!(
            Password::parse("x".repeat(129)).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn owasp_params_produce_an_argon2id_hash_that_verifies() {
        let pw = Password::parse("correct horse".into()).unwrap();
        let phc = hash_password(HashParams::OWASP, &pw, [7; 16]);
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(&pw, &phc));
        assert!(!verify_password(
            &Password::parse("wrong horse".into()).unwrap(),
            &phc
        ));
        assert!(!verify_password(&pw, "not a hash"));
    }

    #[tokio::test]
    async fn unknown_accounts_are_checked_against_the_dummy_and_never_pass() {
        let h = BoundedHasher::new(FAST, 1, [1; 16]);
        let pw = Password::parse("authjar-dummy-password".into()).unwrap();
        assert!(
            !h.verify(pw.clone(), None).await,
            "the dummy password must not log in"
        );
        let phc = h.hash(pw.clone(), [2; 16]).await;
        assert!(h.verify(pw, Some(phc)).await);
    }
}
