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

/// Read when neither `--email` nor `--cookie` is given: a session's
/// `Cookie` header, kept out of the process list like the password.
const COOKIE_ENV: &str = "AUTHJAR_DOCTOR_COOKIE";

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
    /// The test account's password. Prefer AUTHJAR_DOCTOR_PASSWORD in the
    /// environment: a command line is visible to every user in `ps`.
    #[arg(long, value_name = "P", requires = "email")]
    password: Option<String>,
    /// Use this session instead of logging in: a `Cookie` header value.
    /// Prefer AUTHJAR_DOCTOR_COOKIE in the environment (read when neither
    /// --email nor --cookie is given).
    #[arg(long, value_name = "HEADER", conflicts_with_all = ["email", "password"])]
    cookie: Option<String>,
    /// Send the password or cookie over plain http to a host that is not
    /// loopback (refused otherwise: it would travel in clear).
    #[arg(long)]
    insecure_http: bool,
    /// PEM certificates to trust besides the public roots (a local CA).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// The login endpoint, POST (default /auth/login). Once any path
    /// option is given, the API is taken to have only the endpoints given:
    /// refresh, logout, CSRF and provider paths not given do not exist and
    /// are never probed (login and me keep authjar's paths).
    #[arg(long, value_name = "P")]
    login_path: Option<String>,
    /// The "current user" endpoint, GET (default /auth/me).
    #[arg(long, value_name = "P")]
    me_path: Option<String>,
    /// Where a CSRF token is handed out, GET (default /auth/csrf; `none`: no such endpoint).
    #[arg(long, value_name = "P")]
    csrf_path: Option<String>,
    /// The session refresh endpoint, [METHOD:]PATH (default POST /auth/refresh
    /// when no path option is given; `none`: no refresh endpoint).
    #[arg(long, value_name = "[METHOD:]P")]
    refresh_path: Option<String>,
    /// The logout endpoint, [METHOD:]PATH, e.g. DELETE:/users/sign_out
    /// (default POST /auth/logout when no path option is given; `none`: none).
    #[arg(long, value_name = "[METHOD:]P")]
    logout_path: Option<String>,
    /// The OAuth provider list (default /auth/providers when no path option is given; `none`: none).
    #[arg(long, value_name = "P")]
    providers_path: Option<String>,
    /// Another unsafe endpoint to probe for CSRF, METHOD:PATH (repeatable).
    /// The probes may act on it as an attacker's request would: name an
    /// endpoint whose effect on the test account is harmless.
    #[arg(long = "unsafe-path", value_name = "METHOD:P")]
    unsafe_paths: Vec<String>,
    /// Where the CSRF token comes from: json:KEY (a key of the CSRF path's
    /// or login's JSON answer), cookie:NAME or header:NAME (default:
    /// discovered among the shapes frameworks use).
    #[arg(long, value_name = "SOURCE")]
    csrf_from: Option<String>,
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
        return Ok(std::env::var(COOKIE_ENV)
            .ok()
            .filter(|c| !c.trim().is_empty())
            .map(|c| Credentials::Cookie(c.into())));
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

fn options(
    ca_file: Option<PathBuf>,
    resolve: &[String],
    insecure_http: bool,
) -> Result<ProbeOptions, String> {
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
        insecure_http,
        ..ProbeOptions::default()
    })
}

fn inputs(a: DoctorArgs) -> Result<(Target, ProbeOptions), String> {
    let options = options(a.ca_file, &a.resolve, a.insecure_http)?;
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
        unsafe_paths: a.unsafe_paths,
        csrf_from: a.csrf_from,
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
            not_checked: Vec::new(),
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
