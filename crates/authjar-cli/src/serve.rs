//! `authjar serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use authjar_server::config::{Config, LoadOptions};
use authjar_server::serve::{init_logging, run as serve};
use authjar_server::Runtime;

fn load(config_file: Option<PathBuf>) -> Result<Config, ExitCode> {
    Config::load(&LoadOptions::from_process(config_file)).map_err(|e| {
        eprintln!("authjar: configuration error: {e}");
        ExitCode::from(2)
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("authjar: cannot start the async runtime: {e}");
            ExitCode::from(1)
        })
}

/// `authjar migrate`: applies the migrations and exits.
pub fn migrate(config_file: Option<PathBuf>) -> ExitCode {
    let config = match load(config_file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(authjar_server::state::migrate(&config)) {
        Ok(db) => {
            println!("authjar: {db} is up to date");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("authjar: {e}");
            ExitCode::from(1)
        }
    }
}

/// Loads the configuration and serves until a shutdown signal.
pub fn run(config_file: Option<PathBuf>, migrate_on_start: bool) -> ExitCode {
    let mut config = match load(config_file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    config.migrate_on_start = migrate_on_start;
    init_logging(&config);
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(serve(config, Runtime::production())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authjar: {e}");
            ExitCode::from(1)
        }
    }
}
