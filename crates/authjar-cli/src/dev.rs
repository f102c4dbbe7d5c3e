//! `authjar dev certs`.

use std::path::Path;
use std::process::ExitCode;

use authjar_server::dev_certs;

/// Makes (or reuses) the local CA and issues a certificate for `domains`.
pub fn certs(domains: &[String], out: &Path) -> ExitCode {
    match dev_certs::make(domains, out) {
        Ok(c) => {
            print!("{}", dev_certs::instructions(&c));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("authjar dev certs: {e}");
            ExitCode::from(1)
        }
    }
}
