//! The development secret: generated once, kept in a file readable only by
//! its owner (mode 0600), reused on every start so sessions survive restarts.

use std::io::Write as _;
use std::path::Path;

use authjar_core::random::{self, Random};
use secrecy::SecretString;

/// Reads the secret file, or creates it with a fresh 256-bit secret.
/// Returns the secret and whether it was created now.
pub fn load_or_create(path: &Path, rng: &dyn Random) -> std::io::Result<(SecretString, bool)> {
    match std::fs::read_to_string(path) {
        Ok(s) if s.trim().len() >= crate::config::MIN_SECRET_LEN => {
            return Ok((SecretString::from(s.trim().to_owned()), false))
        }
        Ok(_) => {
            return Err(std::io::Error::other(format!(
                "{} holds fewer than 32 characters; delete it to generate a new one",
                path.display()
            )))
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    let secret = random::token::<32>(rng);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok((SecretString::from(secret), true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn creates_once_with_owner_only_permissions_and_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("authjar.secret");
        let (a, created) = load_or_create(&p, &authjar_core::OsRandom).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let (b, created) = load_or_create(&p, &authjar_core::OsRandom).unwrap();
        assert!(!created);
        assert_eq!(a.expose_secret(), b.expose_secret());
    }
}
