//! `authjar doctor`: probe a live deployment, check what was observed,
//! print the report. Exit codes (docs/doctor.md): 0 healthy, 1 problems found
//! (a deployment that blocks the probe included), 2 bad arguments or an API
//! that cannot be reached at all.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use authjar_doctor::report::{self, JsonReport};
use authjar_doctor::{
    check, probe, Credentials, Diagnosis, ProbeError, ProbeOptions, Resolution, Target, TargetInput,
};
use authjar_policy::findings::ids;
use authjar_policy::report::Style;

/// Exit code: healthy.
const EXIT_OK: u8 = 0;
/// Exit code: an error or warning finding.
const EXIT_FINDINGS: u8 = 1;
/// Exit code: bad arguments, or nothing answers at the API's address.
const EXIT_UNUSABLE: u8 = 2;

/// Read when `--email` is given without `--password`, so the password stays
/// out of the process list and shell history.
const PASSWORD_ENV: &str = "AUTHJAR_DOCTOR_PASSWORD";

/// `authjar doctor`'s arguments.
#[derive(clap::Args)]
pub struct DoctorArgs {
    /// The API's URL as browsers reach it (e.g. https://api.example.com; a path prefix is allowed).
    #[arg(long, value_name = "URL")]
    api: String,
    /// An origin whose pages call the API (repeatable; default: the API's own origin).
    #[arg(long = "app", value_name = "ORIGIN")]
    apps: Vec<String>,
    /// A test account to log in with (e-mail or user name).
    #[arg(long, value_name = "E")]
    email: Option<String>,
    /// The test account's password (or set AUTHJAR_DOCTOR_PASSWORD).
    #[arg(long, value_name = "P", requires = "email")]
    password: Option<String>,
    /// Use this session instead of logging in: a `Cookie` header value.
    #[arg(long, value_name = "HEADER", conflicts_with_all = ["email", "password"])]
    cookie: Option<String>,
    /// PEM certificates to trust besides the public roots (a local CA).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// The login endpoint (default /auth/login).
    #[arg(long, value_name = "P")]
    login_path: Option<String>,
    /// The "current user" endpoint (default /auth/me).
    #[arg(long, value_name = "P")]
    me_path: Option<String>,
    /// Where a CSRF token is handed out (default /auth/csrf).
    #[arg(long, value_name = "P")]
    csrf_path: Option<String>,
    /// The session refresh endpoint (default /auth/refresh).
    #[arg(long, value_name = "P")]
    refresh_path: Option<String>,
    /// The logout endpoint (default /auth/logout).
    #[arg(long, value_name = "P")]
    logout_path: Option<String>,
    /// The OAuth provider list (default /auth/providers).
    #[arg(long, value_name = "P")]
    providers_path: Option<String>,
    /// The login body, a JSON template with {email} and {password}.
    #[arg(long, value_name = "TEMPLATE")]
    login_body: Option<String>,
    /// The CSRF header name (default X-CSRF-Token).
    #[arg(long, value_name = "NAME")]
    csrf_header: Option<String>,
    /// A safe endpoint to check does not change state when GET (repeatable).
    #[arg(long = "get-path", value_name = "P")]
    get_paths: Vec<String>,
    /// Connect to HOST:PORT at ADDR instead (curl's --resolve; repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// One JSON document on stdout instead of the report.
    #[arg(long)]
    json: bool,
}

/// Runs `authjar doctor`.
pub fn run(args: DoctorArgs) -> ExitCode {
    let json = args.json;
    let (target, options) = match inputs(args) {
        Ok(v) => v,
        Err(message) => return bad_arguments(&message),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return bad_arguments(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(probe(&target, &options)) {
        Ok(obs) => {
            let found = check(&obs, obs.observed_at);
            if json {
                let doc = JsonReport::new(&obs, &found);
                println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            } else {
                print!("{}", report::text(&obs, &found, obs.observed_at, style()));
            }
            ExitCode::from(if report::ok(&found) {
                EXIT_OK
            } else {
                EXIT_FINDINGS
            })
        }
        Err(e @ ProbeError::Unreachable { .. }) => unreachable(&e, &target, json),
        Err(e) => bad_arguments(&e.to_string()),
    }
}

fn style() -> Style {
    Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn credentials(
    email: Option<String>,
    password: Option<String>,
    cookie: Option<String>,
) -> Result<Option<Credentials>, String> {
    if let Some(c) = cookie {
        return Ok(Some(Credentials::Cookie(c.into())));
    }
    let Some(email) = email else {
        return Ok(None);
    };
    let password = password
        .or_else(|| std::env::var(PASSWORD_ENV).ok())
        .ok_or_else(|| {
            format!("--email needs --password (or {PASSWORD_ENV} in the environment)")
        })?;
    Ok(Some(Credentials::Login {
        email,
        password: password.into(),
    }))
}

fn options(ca_file: Option<PathBuf>, resolve: &[String]) -> Result<ProbeOptions, String> {
    let extra_roots_pem = match ca_file {
        Some(p) => Some(std::fs::read(&p).map_err(|e| format!("--ca-file {}: {e}", p.display()))?),
        None => None,
    };
    let resolve = resolve
        .iter()
        .map(|r| Resolution::parse(r).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ProbeOptions {
        extra_roots_pem,
        resolve,
        ..ProbeOptions::default()
    })
}

fn inputs(a: DoctorArgs) -> Result<(Target, ProbeOptions), String> {
    let options = options(a.ca_file, &a.resolve)?;
    let input = TargetInput {
        api: a.api,
        apps: a.apps,
        credentials: credentials(a.email, a.password, a.cookie)?,
        login_path: a.login_path,
        me_path: a.me_path,
        csrf_path: a.csrf_path,
        refresh_path: a.refresh_path,
        logout_path: a.logout_path,
        providers_path: a.providers_path,
        login_body: a.login_body,
        csrf_header: a.csrf_header,
        get_paths: a.get_paths,
    };
    let target = Target::parse(input).map_err(|e| e.to_string())?;
    Ok((target, options))
}

fn bad_arguments(message: &str) -> ExitCode {
    eprintln!("authjar doctor: {message}");
    ExitCode::from(EXIT_UNUSABLE)
}

fn unreachable(e: &ProbeError, target: &Target, json: bool) -> ExitCode {
    let d = Diagnosis::new(ids::API_UNREACHABLE, e.to_string());
    if json {
        let found = [d];
        let api = target.api.to_string();
        let apps: Vec<String> = target.apps.iter().map(ToString::to_string).collect();
        let doc = JsonReport {
            ok: false,
            findings: &found,
            api: &api,
            apps: &apps,
        };
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        eprintln!(
            "authjar doctor: {}\n  fix: {}",
            d.finding.detail, d.finding.fix
        );
    }
    ExitCode::from(EXIT_UNUSABLE)
}
