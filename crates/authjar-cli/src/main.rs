//! The `authjar` binary. Each subcommand parses its arguments, calls one
//! library function, prints, and exits with the code README.md documents.

mod check;
mod dev;
mod doctor;
mod serve;

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
    /// Run the server.
    ///
    /// With no configuration at all: 127.0.0.1:8000, SQLite in ./authjar.db,
    /// a frontend on http://localhost:3000. Exit codes: 0 after a clean
    /// shutdown (SIGINT/SIGTERM drain in-flight requests), 1 when it cannot
    /// start or refuses to (production with an error finding), 2 for a
    /// configuration it cannot use.
    Serve {
        /// A TOML configuration file (default: ./authjar.toml if present).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Do not apply database migrations at start (run `authjar migrate` in the deploy instead).
        #[arg(long)]
        no_migrate: bool,
    },
    /// Apply the database migrations this binary has, and exit.
    ///
    /// Safe while other instances start (PostgreSQL: under an advisory lock);
    /// refuses a database whose schema is newer than this binary. Exit codes:
    /// 0 migrated, 1 the database refused or cannot be reached, 2 a
    /// configuration it cannot use.
    Migrate {
        /// A TOML configuration file (default: ./authjar.toml if present).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Development helpers.
    Dev {
        #[command(subcommand)]
        command: DevCommand,
    },
    /// Probe a live deployment (authjar or any cookie-auth API) the way a
    /// browser on each app will meet it, and explain what is wrong.
    ///
    /// Exit codes: 0 healthy, 1 problems found (including a deployment that
    /// blocks the probe), 2 bad arguments or an API that cannot be reached.
    Doctor(Box<doctor::DoctorArgs>),
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

#[derive(Subcommand)]
enum DevCommand {
    /// Make a local CA (once, reused afterwards) and a certificate for DOMAINs.
    Certs {
        /// The names the certificate covers (e.g. app.hub.test api.hub.test).
        #[arg(required = true, value_name = "DOMAIN")]
        domains: Vec<String>,
        /// Where to write the CA, certificate and key.
        #[arg(long, value_name = "DIR", default_value = "certs")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config, json } => check::run(config, json),
        Command::Serve { config, no_migrate } => serve::run(config, !no_migrate),
        Command::Migrate { config } => serve::migrate(config),
        Command::Doctor(args) => doctor::run(*args),
        Command::Dev {
            command: DevCommand::Certs { domains, out },
        } => dev::certs(&domains, &out),
    }
}
