//! `authjar serve`.

use std::path::PathBuf;
use std::process::ExitCode;

use authjar_server::config::{Config, LoadOptions};
use authjar_server::serve::{init_logging, run as serve};
use authjar_server::Runtime;

/// Loads the configuration and serves until a shutdown signal.
pub fn run(config_file: Option<PathBuf>) -> ExitCode {
    let config = match Config::load(&LoadOptions::from_process(config_file)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("authjar: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("authjar: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(config, Runtime::production())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authjar: {e}");
            ExitCode::from(1)
        }
    }
}
