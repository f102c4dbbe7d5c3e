//! Passwords: the length policy (checked before any hashing), argon2id with
//! at least OWASP's parameters, and a hasher that runs on a fixed set of
//! worker threads off the async runtime, so a login storm queues instead of
//! exhausting memory (each hash holds 19 MiB).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{mpsc, oneshot};

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

    fn argon2_params(self) -> Params {
        Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .unwrap_or_default()
    }
}

/// Runs argon2 in `memory`, resized to what `params` needs and kept for the
/// next call: each hashing thread reuses one 19 MiB buffer instead of
/// allocating (and fragmenting the heap with) a new one per login.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    pwd: &[u8],
    salt: &[u8],
    out: &mut [u8],
    memory: &mut Vec<Block>,
) -> bool {
    let need = params.block_count();
    if memory.len() != need {
        *memory = vec![Block::default(); need];
    }
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(pwd, salt, out, memory.as_mut_slice())
        .is_ok()
}

fn hash_with(
    params: HashParams,
    password: &Password,
    salt: [u8; 16],
    memory: &mut Vec<Block>,
) -> String {
    let p = params.argon2_params();
    let mut out = [0u8; 32];
    // Encoding 16 bytes cannot fail (the limit is 64); an empty hash never verifies.
    let (Ok(salt_b64), Ok(params_str)) =
        (SaltString::encode_b64(&salt), ParamsString::try_from(&p))
    else {
        return String::new();
    };
    if !argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        p,
        password.bytes(),
        &salt,
        &mut out,
        memory,
    ) {
        return String::new();
    }
    let Ok(output) = Output::new(&out) else {
        return String::new();
    };
    format!("$argon2id$v=19${params_str}${}${output}", salt_b64.as_str())
}

fn verify_with(password: &Password, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or(Version::V0x13);
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if !argon2_into(
        algorithm,
        version,
        params,
        password.bytes(),
        salt,
        &mut out,
        memory,
    ) {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|o| o == expected)
}

/// Hashes a password into a PHC string with the given 16-byte salt.
pub fn hash_password(params: HashParams, password: &Password, salt: [u8; 16]) -> String {
    hash_with(params, password, salt, &mut Vec::new())
}

/// Verifies a password against a PHC string; a malformed hash never verifies.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    verify_with(password, phc, &mut Vec::new())
}

enum Job {
    Hash(Password, [u8; 16], oneshot::Sender<String>),
    Verify(Password, String, oneshot::Sender<bool>),
}

/// Hashing and verification on a fixed set of worker threads (one per core
/// by default), each reusing its argon2 memory. Requests beyond the workers
/// wait in a queue, so a login storm costs time, not memory.
#[derive(Clone)]
pub struct BoundedHasher {
    params: HashParams,
    jobs: mpsc::Sender<Job>,
    dummy: Arc<str>,
    verifications: Arc<AtomicU64>,
}

impl BoundedHasher {
    /// A hasher with `workers` threads. `dummy_salt` seeds the dummy hash
    /// that unknown e-mails are checked against.
    pub fn new(params: HashParams, workers: usize, dummy_salt: [u8; 16]) -> BoundedHasher {
        let dummy_pw = Password(SecretString::from("authjar-dummy-password".to_owned()));
        let (jobs, rx) = mpsc::channel::<Job>(4096);
        let rx = Arc::new(Mutex::new(rx));
        let verifications = Arc::new(AtomicU64::new(0));
        for i in 0..workers.max(1) {
            let (rx, params, counter) = (rx.clone(), params, verifications.clone());
            let _ = std::thread::Builder::new()
                .name(format!("authjar-argon2-{i}"))
                .spawn(move || worker(&rx, params, &counter));
        }
        BoundedHasher {
            params,
            jobs,
            dummy: hash_password(params, &dummy_pw, dummy_salt).into(),
            verifications,
        }
    }

    /// Hashes `password` with `salt`.
    pub async fn hash(&self, password: Password, salt: [u8; 16]) -> String {
        let (tx, rx) = oneshot::channel();
        if self.jobs.send(Job::Hash(password, salt, tx)).await.is_err() {
            return String::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Verifies `password` against `phc`, or against the dummy hash when
    /// there is no account, so both cost the same.
    pub async fn verify(&self, password: Password, phc: Option<String>) -> bool {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy.to_string());
        let (tx, rx) = oneshot::channel();
        if self
            .jobs
            .send(Job::Verify(password, phc, tx))
            .await
            .is_err()
        {
            return false;
        }
        rx.await.unwrap_or(false) && known
    }

    /// How many verifications have run to completion (known and unknown accounts alike).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// The parameters new hashes use.
    pub fn params(&self) -> HashParams {
        self.params
    }
}

fn worker(rx: &Mutex<mpsc::Receiver<Job>>, params: HashParams, verifications: &AtomicU64) {
    let mut memory = Vec::new();
    loop {
        let job = match rx.lock() {
            Ok(mut guard) => guard.blocking_recv(),
            Err(_) => None,
        };
        match job {
            Some(Job::Hash(pw, salt, reply)) => {
                let _ = reply.send(hash_with(params, &pw, salt, &mut memory));
            }
            Some(Job::Verify(pw, phc, reply)) => {
                let ok = verify_with(&pw, &phc, &mut memory);
                verifications.fetch_add(1, Ordering::Relaxed);
                let _ = reply.send(ok);
            }
            None => return,
        }
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
        // Interoperable: the argon2 crate's own verifier accepts the PHC string.
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(argon2::PasswordVerifier::verify_password(
            &Argon2::default(),
            b"correct horse",
            &parsed
        )
        .is_ok());
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
