//! The development secret: generated once, kept in a file readable only by
//! its owner (mode 0600), reused on every start so sessions survive restarts.

use std::io::Write as _;
use std::path::Path;

use authjar_core::random::{self, Random};
use secrecy::SecretString;

/// True when a file's mode lets its group or anyone else read or write it.
/// Secrets and the database (password hashes) must be readable by their
/// owner only.
pub fn open_to_others(path: &Path) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(false)
    }
}

/// The warning for a file holding secrets that others can read.
pub fn loose_permissions_warning(path: &Path) -> String {
    format!(
        "{} can be read by other users; run `chmod 600 {}`",
        path.display(),
        path.display()
    )
}

/// Creates `path` empty with mode 0600 if it does not exist, so the SQLite
/// database (it holds password hashes) and its `-wal`/`-shm` files, which
/// SQLite creates with the database file's mode, are readable by their owner only.
pub fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

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

    #[cfg(unix)]
    #[test]
    fn files_open_to_others_are_told_apart_and_new_ones_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        create_private(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(!open_to_others(&p).unwrap());
        for mode in [0o644, 0o640, 0o606, 0o666] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            assert!(open_to_others(&p).unwrap(), "{mode:o}");
        }
        create_private(&p).unwrap();
        assert!(
            open_to_others(&p).unwrap(),
            "an existing file is left alone"
        );
    }

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
