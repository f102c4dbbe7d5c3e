//! Files that hold secrets: the SQLite database (password hashes) and the
//! secret file are created readable by their owner only, and one that others
//! can read is refused in production and reported in development.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use authjar_core::{ManualClock, OsRandom};
use authjar_server::config::{Config, LoadOptions};
use authjar_server::{build_state, Runtime};

use crate::helpers::{T0, TEST_HASH};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn load(dir: &Path, env: &[(&str, &str)]) -> Result<Config, String> {
    Config::load(&LoadOptions {
        dir: dir.to_owned(),
        config_file: None,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
    .map_err(|e| e.to_string())
}

fn runtime() -> Runtime {
    Runtime {
        clock: Arc::new(ManualClock::new(T0)),
        random: Arc::new(OsRandom),
        hash_params: TEST_HASH,
        mailer: None,
    }
}

#[tokio::test]
async fn the_database_and_the_development_secret_are_created_0600() {
    let dir = tempfile::tempdir().unwrap();
    let config = load(dir.path(), &[]).unwrap();
    let (_, notes) = build_state(&config, runtime()).await.unwrap();
    assert_eq!(mode(&dir.path().join("authjar.db")), 0o600);
    assert_eq!(mode(&dir.path().join("authjar.secret")), 0o600);
    assert!(
        notes.loose_permissions.is_empty(),
        "{:?}",
        notes.loose_permissions
    );
}

#[tokio::test]
async fn development_reports_a_secret_or_database_that_others_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("authjar.secret");
    std::fs::write(&secret, "0123456789abcdef0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = load(dir.path(), &[]).unwrap();
    let (_, notes) = build_state(&config, runtime()).await.unwrap();
    assert_eq!(
        notes.loose_permissions.len(),
        1,
        "{:?}",
        notes.loose_permissions
    );
    assert!(notes.loose_permissions[0].contains("chmod 600"));
    assert!(!notes.loose_permissions[0].contains("0123456789abcdef"));

    let other = tempfile::tempdir().unwrap();
    let file = other.path().join("s.txt");
    std::fs::write(&file, "0123456789abcdef0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let config = load(other.path(), &[("AUTHJAR_SECRET_FILE", "s.txt")]).unwrap();
    let (_, notes) = build_state(&config, runtime()).await.unwrap();
    assert_eq!(
        notes.loose_permissions.len(),
        1,
        "{:?}",
        notes.loose_permissions
    );
}

#[test]
fn production_refuses_a_secret_file_that_others_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.txt");
    std::fs::write(&file, "0123456789abcdef0123456789abcdef\n").unwrap();
    let production = [
        ("AUTHJAR_PUBLIC_URL", "https://api.hub.test"),
        ("AUTHJAR_APP_ORIGINS", "https://app.hub.test"),
        ("AUTHJAR_SECRET_FILE", "s.txt"),
    ];
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = load(dir.path(), &production).unwrap_err();
    assert!(e.contains("secret_file") && e.contains("chmod 600"), "{e}");
    assert!(!e.contains("0123456789abcdef"), "{e}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(load(dir.path(), &production).is_ok());
}
