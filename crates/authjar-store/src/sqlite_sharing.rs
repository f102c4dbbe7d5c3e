//! Whether a SQLite file is, or may be, used by more than one authjar
//! instance. SQLite is the store for one instance: revoked sessions and
//! rate-limit budgets live in each process, so a second instance on the
//! same file would not see the first one's logouts.
//!
//! Two signs are detectable: another process holding the file's instance
//! lock (an exclusive `flock` on `<file>.instance`, held while the store is
//! open), and a file on a network filesystem (where several machines may
//! open it, and where SQLite's own locking is unreliable).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Filesystem types (as `/proc/mounts` names them) shared over a network.
const NETWORK_FILESYSTEMS: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "9p",
    "fuse.sshfs",
    "glusterfs",
    "ceph",
    "afs",
    "lustre",
];

/// The instance lock and what it found.
#[derive(Debug)]
pub(crate) struct InstanceLock {
    /// Held (locked) while this store is open; `None` when another process holds it.
    _file: Option<File>,
    /// Why the file may be shared, in plain words; empty when it is not.
    pub(crate) warnings: Vec<String>,
}

/// Takes the instance lock of the SQLite file at `db` and looks at where it lives.
pub(crate) fn claim(db: &Path) -> InstanceLock {
    let mut warnings = Vec::new();
    let lock_path = PathBuf::from(format!("{}.instance", db.display()));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .ok();
    let held = file.filter(|f| match f.try_lock() {
        Ok(()) => true,
        Err(std::fs::TryLockError::WouldBlock) => {
            warnings.push(format!(
                "another authjar process is using the SQLite file {}: each instance keeps its own revoked sessions and rate limits, so a logout on one is not seen by the other; use PostgreSQL (database_url = postgres://…) for several instances",
                db.display()
            ));
            false
        }
        Err(_) => false,
    });
    if let Some(fs) = network_filesystem(db) {
        warnings.push(format!(
            "the SQLite file {} is on a network filesystem ({fs}): several machines may open it, which SQLite does not support; use PostgreSQL for several instances",
            db.display()
        ));
    }
    InstanceLock {
        _file: held,
        warnings,
    }
}

/// The network filesystem type `path` is on, from `/proc/mounts` (Linux);
/// `None` elsewhere or on a local disk.
fn network_filesystem(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    mount_type(&mounts, &path).filter(|fs| NETWORK_FILESYSTEMS.contains(&fs.as_str()))
}

/// The filesystem type of the longest mount point that contains `path`.
fn mount_type(mounts: &str, path: &Path) -> Option<String> {
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, point, fs) = (fields.next()?, fields.next()?, fields.next()?);
            // Spaces and tabs in mount points are written as octal escapes.
            let point = point.replace("\\040", " ").replace("\\011", "\t");
            path.starts_with(&point)
                .then(|| (point.len(), fs.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, fs)| fs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &str = "/dev/vda1 / ext4 rw 0 0\n\
        server:/export /srv/shared nfs4 rw 0 0\n\
        /dev/vdb /srv/shared/local\\040disk ext4 rw 0 0\n";

    #[test]
    fn the_longest_mount_point_decides() {
        let t = |p: &str| mount_type(MOUNTS, Path::new(p));
        assert_eq!(t("/home/a/authjar.db").as_deref(), Some("ext4"));
        assert_eq!(t("/srv/shared/authjar.db").as_deref(), Some("nfs4"));
        assert_eq!(
            t("/srv/shared/local disk/authjar.db").as_deref(),
            Some("ext4")
        );
        assert_eq!(
            t("/srv/sharedness/authjar.db").as_deref(),
            Some("ext4"),
            "whole components only"
        );
    }

    #[test]
    fn a_second_claim_on_one_file_warns_and_the_first_release_frees_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("authjar.db");
        let first = claim(&db);
        assert!(first.warnings.is_empty(), "{:?}", first.warnings);
        let second = claim(&db);
        assert_eq!(second.warnings.len(), 1);
        assert!(second.warnings[0].contains("another authjar process"));
        drop((first, second));
        assert!(claim(&db).warnings.is_empty());
    }
}
