//! The `authjar` binary. Each subcommand parses its arguments, calls one
//! library function, prints, and exits with the code CONTRACT.md documents.

mod check;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Cookie authentication that works on localhost and in production alike.
#[derive(Parser)]
#[command(name = "authjar", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Audit the configuration offline: the pre-deploy checklist.
    ///
    /// Exit codes: 0 all good, 1 a problem that breaks or degrades login in a
    /// browser, 2 a configuration authjar cannot use.
    Check {
        /// A TOML configuration file (default: ./authjar.toml if present).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// One JSON document on stdout instead of the report.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config, json } => check::run(config, json),
    }
}
