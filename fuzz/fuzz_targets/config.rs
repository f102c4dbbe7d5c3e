//! The configuration loader of authjar-server (`Config::load`), fed the
//! input as `authjar.toml`.
//!
//! Only file paths are public (`LoadOptions { dir, .. }`), so the input is
//! written to one reused file on tmpfs: `/dev/shm/authjar-fuzz-config-<pid>/authjar.toml`.
//! Before it, one line chosen by the input's length plants a marker secret
//! (`secret`, `previous_secrets`, `database_url` or an OAuth `client_secret`,
//! valid or not). Properties: no panic; an error's message never contains
//! the marker (when the input does not hold it itself).
//!
//! `secret_file` makes the loader read a file: inputs naming any file but
//! the two in the fuzz directory (`authjar.toml`, `secret.txt`) are skipped,
//! so that `/dev/zero` or `/dev/stdin` cannot hang the run.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use authjar_server::config::{Config, LoadOptions};
use libfuzzer_sys::fuzz_target;

/// What no message may contain.
const MARK: &str = "Mk7rS3cretQz";

fn headers() -> [String; 9] {
    let long = format!("{MARK}-0123456789abcdef0123456789abcdef");
    let short = format!("{MARK}-short");
    [
        format!("secret = \"{long}\"\n"),
        format!("secret = \"{short}\"\n"),
        format!("previous_secrets = [\"{long}\", \"{short}\"]\n"),
        format!("previous_secrets = \"{long},{long}x\"\n"),
        format!("database_url = \"postgres://authjar:{long}@db.example.com/authjar\"\n"),
        format!("database_url = \"mysql://authjar:{long}@db.example.com/authjar\"\n"),
        format!("oauth.github.client_id = \"id\"\noauth.github.client_secret = \"{long}\"\n"),
        format!("secret = [\"{long}\"]\n"),
        String::new(),
    ]
}

fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = PathBuf::from(format!(
            "/dev/shm/authjar-fuzz-config-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&d).expect("create the fuzz directory on /dev/shm");
        std::fs::write(
            d.join("secret.txt"),
            "a file secret of at least thirty-two characters\n",
        )
        .expect("write secret.txt");
        d
    })
}

/// The loader would read only files of the fuzz directory.
fn secret_file_is_safe(text: &str, dir: &Path) -> bool {
    let Ok(table) = text.parse::<toml::Table>() else {
        return true;
    };
    let Some(toml::Value::String(s)) = table.get("secret_file") else {
        return true;
    };
    let p = dir.join(s.trim());
    p.parent() == Some(dir)
        && matches!(
            p.file_name().and_then(|n| n.to_str()),
            Some("authjar.toml" | "secret.txt")
        )
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let headers = headers();
    let header = &headers[data.len() % headers.len()];
    let text = format!("{header}{input}");
    let dir = dir();
    if !secret_file_is_safe(&text, dir) {
        return;
    }
    std::fs::write(dir.join("authjar.toml"), &text).expect("write authjar.toml");
    let opts = LoadOptions {
        dir: dir.to_owned(),
        config_file: None,
        env: Vec::new(),
    };
    if let Err(e) = Config::load(&opts) {
        let message = e.to_string();
        let debug = format!("{e:?}");
        if !input.contains(MARK) {
            assert!(
                !message.contains(MARK),
                "a secret in the message: {message}"
            );
            assert!(!debug.contains(MARK), "a secret in the Debug form: {debug}");
        }
    }
});
