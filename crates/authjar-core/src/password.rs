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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Parallelism.
    pub parallelism: u32,
}

/// argon2id parameters argon2 refuses (e.g. less memory than 8 KiB per lane,
/// no iterations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid argon2id parameters {params:?}: {cause}")]
pub struct InvalidHashParams {
    /// The parameters.
    pub params: HashParams,
    /// argon2's reason.
    pub cause: argon2::Error,
}

impl HashParams {
    /// OWASP Password Storage Cheat Sheet's argon2id minimum.
    pub const OWASP: HashParams = HashParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Checks the parameters against argon2's limits ([`BoundedHasher::new`]
    /// does, so hashing never fails on its parameters).
    pub fn validate(self) -> Result<(), InvalidHashParams> {
        self.argon2_params().map(|_| ())
    }

    fn argon2_params(self) -> Result<Params, InvalidHashParams> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32)).map_err(|cause| {
            InvalidHashParams {
                params: self,
                cause,
            }
        })
    }
}

/// Why a password could not be hashed: a server fault, never the caller's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// argon2 refused the parameters ([`hash_password`] only: a
    /// [`BoundedHasher`] checks them once, when it is built).
    #[error(transparent)]
    InvalidParams(#[from] InvalidHashParams),
    /// argon2 failed.
    #[error("argon2id failed: {0}")]
    Argon2(argon2::Error),
    /// The salt, parameters or output could not be encoded as a PHC string.
    #[error("encoding the PHC string: {0}")]
    Encoding(argon2::password_hash::Error),
    /// The hashing threads have stopped (or one panicked on this job).
    #[error("the password-hashing workers have stopped")]
    WorkersGone,
}

/// Why a [`BoundedHasher`] cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum HasherError {
    /// The parameters are out of argon2's range.
    #[error(transparent)]
    InvalidParams(#[from] InvalidHashParams),
    /// A hashing thread could not be started.
    #[error("starting a password-hashing thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// The dummy hash (for unknown accounts) could not be computed.
    #[error("computing the dummy hash: {0}")]
    Dummy(#[source] HashError),
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
) -> Result<(), argon2::Error> {
    let need = params.block_count();
    if memory.len() != need {
        *memory = vec![Block::default(); need];
    }
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        pwd,
        salt,
        out,
        memory.as_mut_slice(),
    )
}

/// Hashes with parameters already checked by [`HashParams::validate`].
fn hash_with(
    params: &Params,
    password: &Password,
    salt: [u8; 16],
    memory: &mut Vec<Block>,
) -> Result<String, HashError> {
    let mut out = [0u8; 32];
    let salt_b64 = SaltString::encode_b64(&salt).map_err(HashError::Encoding)?;
    let params_str = ParamsString::try_from(params).map_err(HashError::Encoding)?;
    argon2_into(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.bytes(),
        &salt,
        &mut out,
        memory,
    )
    .map_err(HashError::Argon2)?;
    let output = Output::new(&out).map_err(HashError::Encoding)?;
    Ok(format!(
        "$argon2id$v=19${params_str}${}${output}",
        salt_b64.as_str()
    ))
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
    if argon2_into(
        algorithm,
        version,
        params,
        password.bytes(),
        salt,
        &mut out,
        memory,
    )
    .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|o| o == expected)
}

/// Hashes a password into a PHC string with the given 16-byte salt.
pub fn hash_password(
    params: HashParams,
    password: &Password,
    salt: [u8; 16],
) -> Result<String, HashError> {
    hash_with(&params.argon2_params()?, password, salt, &mut Vec::new())
}

/// Verifies a password against a PHC string; a malformed hash never verifies.
pub fn verify_password(password: &Password, phc: &str) -> bool {
    verify_with(password, phc, &mut Vec::new())
}

enum Job {
    Hash(
        Password,
        [u8; 16],
        oneshot::Sender<Result<String, HashError>>,
    ),
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
    /// that unknown e-mails are checked against. The parameters are checked
    /// here, once: hashing never fails on them afterwards.
    pub fn new(
        params: HashParams,
        workers: usize,
        dummy_salt: [u8; 16],
    ) -> Result<BoundedHasher, HasherError> {
        let argon2_params = params.argon2_params()?;
        let dummy_pw = Password(SecretString::from("authjar-dummy-password".to_owned()));
        let dummy = hash_with(&argon2_params, &dummy_pw, dummy_salt, &mut Vec::new())
            .map_err(HasherError::Dummy)?;
        let (jobs, rx) = mpsc::channel::<Job>(4096);
        let rx = Arc::new(Mutex::new(rx));
        let verifications = Arc::new(AtomicU64::new(0));
        for i in 0..workers.max(1) {
            let (rx, p, counter) = (rx.clone(), argon2_params.clone(), verifications.clone());
            std::thread::Builder::new()
                .name(format!("authjar-argon2-{i}"))
                .spawn(move || worker(&rx, &p, &counter))
                .map_err(HasherError::Spawn)?;
        }
        Ok(BoundedHasher {
            params,
            jobs,
            dummy: dummy.into(),
            verifications,
        })
    }

    /// Hashes `password` with `salt`; an error only when the workers are gone.
    pub async fn hash(&self, password: Password, salt: [u8; 16]) -> Result<String, HashError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Hash(password, salt, tx))
            .await
            .map_err(|_| HashError::WorkersGone)?;
        rx.await.map_err(|_| HashError::WorkersGone)?
    }

    /// Verifies `password` against `phc`, or against the dummy hash when
    /// there is no account, so both cost the same. `Ok(false)` for a wrong
    /// password or a malformed hash; an error when the workers are gone
    /// (a server fault, not a wrong password).
    pub async fn verify(&self, password: Password, phc: Option<String>) -> Result<bool, HashError> {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy.to_string());
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Verify(password, phc, tx))
            .await
            .map_err(|_| HashError::WorkersGone)?;
        let ok = rx.await.map_err(|_| HashError::WorkersGone)?;
        Ok(ok && known)
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

/// Hashing threads yield the CPU to the request threads: during a login
/// storm every core is hashing, and a session check must not wait behind a
/// 20 ms hash for its turn. On Linux they run under `SCHED_IDLE`: a request
/// thread that wakes preempts a hashing thread at once (under a lower nice
/// value alone the scheduler lets the running hash finish its time slice
/// first, milliseconds that showed as the session check's p99). It costs
/// logins nothing when the machine is otherwise idle; when session checks
/// keep every core busy, logins wait (a hash still gets a small share,
/// never none). Elsewhere, or where the policy is refused, the lowest
/// normal priority. Lowering needs no privilege.
fn lower_priority() {
    use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};
    #[cfg(target_os = "linux")]
    {
        use thread_priority::unix::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            ThreadSchedulePolicy,
        };
        let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
        match set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, idle) {
            Ok(()) => return,
            Err(e) => tracing::debug!(error = ?e, "SCHED_IDLE refused; lowering the nice value"),
        }
    }
    // 0..=99 with 50 the default; 0 is nice 19, the lowest normal priority.
    let lower = ThreadPriorityValue::try_from(0u8).map(ThreadPriority::Crossplatform);
    if let Err(e) = lower
        .map_err(|e| format!("{e:?}"))
        .and_then(|p| set_current_thread_priority(p).map_err(|e| format!("{e:?}")))
    {
        tracing::debug!(error = %e, "the hashing thread keeps the default priority");
    }
}

fn worker(rx: &Mutex<mpsc::Receiver<Job>>, params: &Params, verifications: &AtomicU64) {
    lower_priority();
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

    /// The nice values of this process's threads whose name starts with
    /// `prefix` (the kernel keeps 15 characters of a name), from /proc.
    #[cfg(target_os = "linux")]
    /// Field `n` (1-based, as in proc(5)) of /proc/self/task/*/stat of the
    /// threads whose name starts with `prefix`.
    fn stat_field_of_threads(prefix: &str, n: usize) -> Vec<i64> {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|t| {
                let dir = t.ok()?.path();
                let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
                if !comm.trim().starts_with(prefix) {
                    return None;
                }
                let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
                // Fields after the parenthesised name start at field 3.
                let after = &stat[stat.rfind(')')? + 2..];
                after.split(' ').nth(n - 3)?.parse().ok()
            })
            .collect()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_run_at_a_lower_priority_than_requests() {
        let h = BoundedHasher::new(FAST, 1, [7; 16]).unwrap();
        h.hash(Password::parse("correct horse".into()).unwrap(), [1; 16])
            .await
            .unwrap();
        // Field 41 of /proc/…/stat is the scheduling policy: 5 is SCHED_IDLE.
        let policy = stat_field_of_threads("authjar-argon2", 41);
        assert!(!policy.is_empty(), "the hashing thread is found");
        assert!(policy.iter().all(|p| *p == 5), "policies {policy:?}");
        let own = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let own_policy = own[own.rfind(')').unwrap() + 2..].split(' ').nth(41 - 3);
        assert_eq!(
            own_policy,
            Some("0"),
            "the caller's thread stays SCHED_OTHER"
        );
    }

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
        let phc = hash_password(HashParams::OWASP, &pw, [7; 16]).unwrap();
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
        let h = BoundedHasher::new(FAST, 1, [1; 16]).unwrap();
        let pw = Password::parse("authjar-dummy-password".into()).unwrap();
        assert!(
            !h.verify(pw.clone(), None).await.unwrap(),
            "the dummy password must not log in"
        );
        let phc = h.hash(pw.clone(), [2; 16]).await.unwrap();
        assert!(h.verify(pw, Some(phc)).await.unwrap());
    }

    #[test]
    fn invalid_params_are_refused_when_the_hasher_is_built() {
        let bad = HashParams {
            memory_kib: 1,
            iterations: 0,
            parallelism: 1,
        };
        assert!(bad.validate().is_err());
        assert!(FAST.validate().is_ok() && HashParams::OWASP.validate().is_ok());
        assert!(matches!(
            BoundedHasher::new(bad, 1, [1; 16]),
            Err(HasherError::InvalidParams(e)) if e.params == bad
        ));
        let pw = Password::parse("correct horse".into()).unwrap();
        assert!(matches!(
            hash_password(bad, &pw, [7; 16]),
            Err(HashError::InvalidParams(_))
        ));
    }

    #[tokio::test]
    async fn a_stopped_pool_is_an_error_not_an_empty_hash_or_a_wrong_password() {
        let (jobs, rx) = mpsc::channel::<Job>(1);
        drop(rx);
        let h = BoundedHasher {
            params: FAST,
            jobs,
            dummy: "".into(),
            verifications: Arc::default(),
        };
        let pw = Password::parse("correct horse".into()).unwrap();
        assert_eq!(
            h.hash(pw.clone(), [2; 16]).await,
            Err(HashError::WorkersGone)
        );
        assert_eq!(h.verify(pw, None).await, Err(HashError::WorkersGone));
    }
}
