//! `authjar check`: load the configuration, audit it, print the report.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use authjar_core::{Clock, SystemClock};
use authjar_policy::report::{self, Style};
use authjar_policy::{CookiePolicy, Finding, Severity};
use authjar_server::config::{Config, LoadOptions};
use serde::Serialize;

/// Exit code: nothing wrong.
pub const EXIT_OK: u8 = 0;
/// Exit code: an error or warning finding.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: the configuration cannot be used.
pub const EXIT_UNUSABLE: u8 = 2;

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    environment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    public_url: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    app_origins: Vec<JsonOrigin>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cookies: Option<&'a CookiePolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<JsonEmail>,
}

#[derive(Serialize)]
struct JsonEmail {
    delivery: String,
    link_base: String,
    link_base_is_app_origin: bool,
    require_verified_email: bool,
}

#[derive(Serialize)]
struct JsonOrigin {
    origin: String,
    relation: authjar_policy::Relation,
}

fn style() -> Style {
    Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

/// Runs `authjar check`.
pub fn run(config_file: Option<PathBuf>, json: bool) -> ExitCode {
    let config = match Config::load(&LoadOptions::from_process(config_file)) {
        Ok(c) => c,
        Err(e) => return unusable(&e.to_string(), json),
    };
    let findings = config.findings(SystemClock.now());
    let ok = findings.iter().all(|f| f.severity == Severity::Info);
    let deployment = config.deployment();
    let policy = CookiePolicy::derive(&deployment, &config.lifetimes());
    if json {
        let doc = JsonReport {
            ok,
            findings: &findings,
            environment: Some(config.environment.as_str()),
            public_url: Some(config.public_url.to_string()),
            app_origins: deployment
                .relations()
                .map(|(o, relation)| JsonOrigin {
                    origin: o.to_string(),
                    relation,
                })
                .collect(),
            cookies: Some(&policy),
            email: Some(JsonEmail {
                delivery: config.email.delivery(),
                link_base: config.email.link_base.to_string(),
                link_base_is_app_origin: config.email.link_base_is_app_origin(&config.app_origins),
                require_verified_email: config.require_verified_email,
            }),
        };
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
    } else {
        print!("{}", human(&config, &findings, &policy));
    }
    ExitCode::from(if ok { EXIT_OK } else { EXIT_FINDINGS })
}

fn human(config: &Config, findings: &[Finding], policy: &CookiePolicy) -> String {
    let style = style();
    let d = config.deployment();
    let sources = if config.sources.is_empty() {
        "built-in defaults only".to_owned()
    } else {
        let names: Vec<String> = config.sources.iter().map(ToString::to_string).collect();
        format!("defaults < {}", names.join(" < "))
    };
    let env_note = if config.environment_inferred {
        " (inferred from public_url)"
    } else {
        ""
    };
    let email: String = config
        .email
        .summary(config.require_verified_email, &config.app_origins)
        .iter()
        .map(|(label, text)| format!("  {label:<14} {text}\n"))
        .collect();
    format!(
        "authjar check\n  configuration: {sources}\n  environment:   {}{env_note}\n  database:      {}\n{email}\n\
         Topology\n{}\nCookies authjar will set (DevTools → Application → Cookies should show exactly these)\n{}\n\
         Pre-deploy checklist\n{}\n{}",
        config.environment.as_str(),
        config.database.describe(),
        indent(&report::topology(&d)),
        report::cookie_table(&d, policy),
        report::checklist(findings, style),
        report::summary(findings),
    )
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

fn unusable(message: &str, json: bool) -> ExitCode {
    if json {
        let f = serde_json::json!({
            "ok": false,
            "findings": [{
                "id": "config-invalid",
                "severity": "error",
                "title": "the configuration cannot be used",
                "detail": message,
                "fix": "correct the setting named in the detail",
            }],
        });
        println!("{f}");
    } else {
        eprintln!("authjar: configuration error: {message}");
    }
    ExitCode::from(EXIT_UNUSABLE)
}
