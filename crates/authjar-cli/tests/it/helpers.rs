//! What several test modules need: running the binary, and reading the
//! finding ids of a `--json` document.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `authjar ARGS` in `dir` with exactly `env` (nothing inherited) and waits for it.
pub fn authjar(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_authjar"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// The finding ids of a `--json` document, sorted, one per finding.
pub fn ids(doc: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// The distinct finding ids of a `--json` document, sorted (the doctor
/// reports a finding once per app or exchange that shows it).
pub fn distinct_ids(doc: &serde_json::Value) -> Vec<String> {
    let mut v = ids(doc);
    v.dedup();
    v
}
