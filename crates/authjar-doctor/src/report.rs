//! The doctor's report: the post's checklist in its order with ✓/✗/⚠, each
//! problem with its evidence and fix, the cookies as each browser will hold
//! them, and the `--json` document of docs/doctor.md. Marks, colours and the
//! summary line are the policy crate's (`authjar_policy::report`), so
//! `authjar check` and the doctor read alike.

use std::fmt::Write as _;

use authjar_policy::checklist::{ChecklistItem, CHECKLIST};
use authjar_policy::findings::ids;
use authjar_policy::report::{summary, Style};
use authjar_policy::{Finding, Relation, Severity};
use serde::Serialize;

use crate::checks::{cookie_rows, BrowserVerdict};
use crate::diagnosis::Diagnosis;
use crate::observe::{Observations, Step};
use crate::target::CredentialMode;

/// Every finding id the doctor can report (the docs have a section for each).
pub const DOCTOR_IDS: &[&str] = &[
    ids::API_UNREACHABLE,
    ids::LOGIN_FAILED,
    ids::SESSION_NOT_RECOGNISED,
    ids::REFRESH_FAILED,
    ids::LOGOUT_LEAVES_COOKIES,
    ids::PROBE_WITHOUT_CREDENTIALS,
    ids::COOKIE_DOMAIN_LOCALHOST,
    ids::COOKIE_DOMAIN_PUBLIC_SUFFIX,
    ids::COOKIE_DOMAIN_MISMATCH,
    ids::SECURE_COOKIE_OVER_HTTP,
    ids::HOST_PREFIX_INVALID,
    ids::SECURE_PREFIX_INVALID,
    ids::SAMESITE_NONE_WITHOUT_SECURE,
    ids::CROSS_SITE_THIRD_PARTY_COOKIES,
    ids::LOCALHOST_VS_127_MIXED,
    ids::PSL_HOSTING_DOMAIN,
    ids::INSECURE_APP_ORIGIN,
    ids::LOCALHOST_ORIGIN_IN_PRODUCTION,
    ids::CORS_WILDCARD_WITH_CREDENTIALS,
    ids::CORS_TRAILING_SLASH_ORIGIN,
    ids::CORS_ORIGIN_NOT_ECHOED,
    ids::CORS_CREDENTIALS_NOT_ALLOWED,
    ids::CORS_PREFLIGHT_REFUSED,
    ids::CORS_CSRF_HEADER_NOT_ALLOWED,
    ids::CORS_CONTENT_TYPE_NOT_ALLOWED,
    ids::CORS_MISSING_VARY_ORIGIN,
    ids::CORS_MISSING_ON_ERROR_RESPONSES,
    ids::CORS_FOREIGN_ORIGIN_ECHOED,
    ids::OAUTH_REDIRECT_URI_LOCALHOST,
    ids::OAUTH_REDIRECT_URI_HTTP,
    ids::OAUTH_REDIRECT_URI_MISMATCH,
    ids::OAUTH_START_FAILED,
    ids::OAUTH_STATE_COOKIE_NOT_SENT,
    ids::COOKIE_NOT_STORED,
    ids::COOKIE_NOT_SENT,
    ids::COOKIE_TOO_LARGE,
    ids::LOGIN_SETS_NO_COOKIES,
    ids::CSRF_NOT_ENFORCED,
    ids::CSRF_FOREIGN_ORIGIN_ACCEPTED,
    ids::CSRF_TOKEN_UNREADABLE,
    ids::GET_CHANGES_STATE,
    ids::TLS_CERTIFICATE_INVALID,
    ids::TLS_EXPIRING_SOON,
    ids::HTTP_NOT_REDIRECTED,
    ids::HSTS_MISSING,
    ids::SESSION_ONLY_COOKIE,
    ids::LIFETIME_OVER_400_DAYS,
    ids::HTTP_FAKE_DOMAIN,
];

/// Before the post's list: whether the probe could do what the app's page does.
const PROBE_ITEM: ChecklistItem = ChecklistItem {
    title: "a browser on the app can log in, stay logged in, refresh and log out",
    ids: &[
        ids::API_UNREACHABLE,
        ids::LOGIN_FAILED,
        ids::SESSION_NOT_RECOGNISED,
        ids::REFRESH_FAILED,
        ids::LOGOUT_LEAVES_COOKIES,
        ids::PROBE_WITHOUT_CREDENTIALS,
    ],
};

/// The post's "CSRF protection implemented and tested".
const CSRF_ITEM: ChecklistItem = ChecklistItem {
    title: "CSRF protection is enforced: unsafe calls need the token and an allowed Origin, GETs change nothing",
    ids: &[
        ids::CSRF_NOT_ENFORCED,
        ids::CSRF_FOREIGN_ORIGIN_ACCEPTED,
        ids::CSRF_TOKEN_UNREADABLE,
        ids::GET_CHANGES_STATE,
    ],
};

/// The post's "HTTPS certificate installed and working".
const HTTPS_ITEM: ChecklistItem = ChecklistItem {
    title: "the HTTPS certificate is valid and not about to expire; http redirects to https",
    ids: &[
        ids::TLS_CERTIFICATE_INVALID,
        ids::TLS_EXPIRING_SOON,
        ids::HTTP_NOT_REDIRECTED,
        ids::HSTS_MISSING,
    ],
};

/// The doctor's checklist: the policy crate's items it can check, in the
/// post's order, with CSRF and HTTPS after "credentials: 'include'".
pub fn checklist() -> Vec<ChecklistItem> {
    let mut out = vec![PROBE_ITEM];
    let mut inserted = false;
    for item in CHECKLIST {
        if !item.ids.iter().any(|id| DOCTOR_IDS.contains(id)) {
            continue;
        }
        out.push(*item);
        if item.ids.contains(&ids::COOKIE_NOT_SENT) {
            out.extend([CSRF_ITEM, HTTPS_ITEM]);
            inserted = true;
        }
    }
    if !inserted {
        out.extend([CSRF_ITEM, HTTPS_ITEM]);
    }
    out
}

/// True when nothing is an error or a warning (the `ok` of docs/doctor.md's `--json`).
pub fn ok(diagnoses: &[Diagnosis]) -> bool {
    diagnoses
        .iter()
        .all(|d| d.finding.severity == Severity::Info)
}

/// A checklist item the run could not check, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotChecked {
    /// The item's title.
    pub item: &'static str,
    /// Why it was not (or not wholly) checked.
    pub why: String,
}

/// The `--json` document.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    /// No error or warning.
    pub ok: bool,
    /// Every finding, errors first, each with its evidence.
    pub findings: &'a [Diagnosis],
    /// Checklist items without a finding that the run could not check (a
    /// ✓ there would claim what the probe never saw), or checked only in part.
    pub not_checked: Vec<NotChecked>,
    /// The API audited.
    pub api: &'a str,
    /// The app origins.
    pub apps: &'a [String],
}

impl<'a> JsonReport<'a> {
    /// The document for one run.
    pub fn new(obs: &'a Observations, diagnoses: &'a [Diagnosis]) -> JsonReport<'a> {
        JsonReport {
            ok: ok(diagnoses),
            findings: diagnoses,
            not_checked: not_checked_items(obs, diagnoses),
            api: &obs.api,
            apps: &obs.apps,
        }
    }
}

/// Every item without a finding that was not checked (or only in part), and why.
pub fn not_checked_items(obs: &Observations, diagnoses: &[Diagnosis]) -> Vec<NotChecked> {
    let mut out = Vec::new();
    for item in checklist() {
        let found = diagnoses.iter().any(|d| item.ids.contains(&d.id()));
        if let Some(why) = not_checked(&item, obs).filter(|_| !found) {
            out.push(NotChecked {
                item: item.title,
                why,
            });
        }
        for why in partly_checked(&item, obs) {
            out.push(NotChecked {
                item: item.title,
                why,
            });
        }
    }
    out
}

/// The human report.
pub fn text(obs: &Observations, diagnoses: &[Diagnosis], now: i64, style: Style) -> String {
    let findings: Vec<Finding> = diagnoses.iter().map(|d| d.finding.clone()).collect();
    format!(
        "authjar doctor\n{}\n{}Checklist\n{}\n{}",
        overview(obs),
        cookies(obs, now),
        checklist_text(obs, diagnoses, style),
        summary(&findings)
    )
}

fn overview(obs: &Observations) -> String {
    let mut s = String::new();
    let env = if obs.production() {
        "production: https on a public host"
    } else {
        "development"
    };
    let _ = writeln!(s, "  API    {} ({env})", obs.api);
    let api = obs.api_origin();
    for app in obs.app_origins() {
        let rel = api
            .as_ref()
            .map(|a| Relation::between(&app, a).describe())
            .unwrap_or("");
        let _ = writeln!(s, "  app    {app}  {rel}");
    }
    if let Some(t) = &obs.tls {
        let until = t
            .not_after
            .and_then(|n| time::OffsetDateTime::from_unix_timestamp(n).ok())
            .map(|d| d.date().to_string())
            .unwrap_or_else(|| "(unknown)".into());
        let verdict = match (&t.handshake_error, &t.verification_error) {
            (Some(e), _) | (None, Some(e)) => format!("refused: {e}"),
            (None, None) => format!("valid for {}, until {until}", t.host),
        };
        let _ = writeln!(s, "  TLS    {verdict}");
    }
    let how = match obs.credentials {
        CredentialMode::None => "no credentials",
        CredentialMode::Login => "with the test credentials",
        CredentialMode::Cookie => "with the given cookie",
    };
    let _ = writeln!(s, "  probe  {} requests, {how}", obs.exchanges.len());
    s
}

fn yes(b: bool, what: &str) -> String {
    format!("{}{what}", if b { "" } else { "not " })
}

fn verdict_text(v: &BrowserVerdict) -> String {
    match &v.stored {
        Err(why) => format!("refused: {why}"),
        Ok(()) => format!(
            "stored, {}, {}, {}",
            yes(v.on_fetch, "sent on fetch"),
            yes(v.on_navigation, "sent on navigation"),
            yes(v.readable, "readable by JavaScript")
        ),
    }
}

/// "Chromium, Firefox: stored, …" — browsers that agree share a line.
fn verdict_lines(verdicts: &[BrowserVerdict]) -> Vec<String> {
    let mut groups: Vec<(Vec<&str>, String)> = Vec::new();
    for v in verdicts {
        let text = verdict_text(v);
        match groups.iter_mut().find(|(_, t)| *t == text) {
            Some((names, _)) => names.push(v.browser),
            None => groups.push((vec![v.browser], text)),
        }
    }
    groups
        .into_iter()
        .map(|(names, text)| format!("{}: {text}", names.join(", ")))
        .collect()
}

fn cookies(obs: &Observations, now: i64) -> String {
    let rows = cookie_rows(obs, now);
    if rows.is_empty() {
        return String::new();
    }
    let mut s = String::from("Cookies the login sets (values redacted)\n");
    let mut app = String::new();
    for r in rows {
        if r.app != app {
            let _ = writeln!(s, "  from {}:", r.app);
            app.clone_from(&r.app);
        }
        let _ = writeln!(s, "    {}", r.line);
        for line in verdict_lines(&r.browsers) {
            let _ = writeln!(s, "      {line}");
        }
    }
    s.push('\n');
    s
}

fn logged_in(obs: &Observations) -> bool {
    obs.steps(|s| *s == Step::Login)
        .any(|e| e.response.as_ref().is_some_and(|r| r.is_success()))
}

/// The session worked: a login, or the `--cookie` session, opened the me path.
fn session_works(obs: &Observations) -> bool {
    obs.steps(|s| *s == Step::Me)
        .any(|e| e.response.as_ref().is_some_and(|r| r.is_success()))
}

/// The certificate was refused, so the probe stopped after its handshake.
fn tls_refused(obs: &Observations) -> bool {
    obs.tls
        .as_ref()
        .is_some_and(|t| t.handshake_error.is_some() || t.verification_error.is_some())
        && obs.exchanges.iter().all(|e| e.response.is_none())
}

/// Why the session could not be had, for items that need one.
fn no_session(obs: &Observations) -> String {
    match obs.credentials {
        CredentialMode::None => "no test credentials".into(),
        CredentialMode::Cookie => "the --cookie session was not recognised".into(),
        CredentialMode::Login => {
            let tokenless = obs
                .steps(|s| *s == Step::Login)
                .next()
                .is_some_and(|e| crate::checks::tokenless_refusal(obs, e));
            if logged_in(obs) {
                "the session the login created was not recognised by the me path".into()
            } else if tokenless {
                format!(
                    "the login needs a CSRF token the probe did not find (it sent no {}); name its source with --csrf-from json:KEY, cookie:NAME or header:NAME",
                    obs.csrf_header
                )
            } else {
                "no login succeeded".into()
            }
        }
    }
}

/// Parts of an item that ran but could not judge everything.
fn partly_checked(item: &ChecklistItem, obs: &Observations) -> Vec<String> {
    if item.ids.contains(&ids::REFRESH_FAILED) && session_works(obs) {
        let mut out = Vec::new();
        if obs.paths.refresh.is_none() {
            out.push("refresh: this API has no refresh endpoint (none was given)".to_owned());
        }
        if obs.paths.logout.is_none() {
            out.push("logout: this API has no logout endpoint (none was given)".to_owned());
        }
        return out;
    }
    if !item.ids.contains(&ids::CSRF_NOT_ENFORCED) {
        return Vec::new();
    }
    let (checked, notes) = crate::checks::csrf_coverage(obs);
    if checked {
        notes
    } else {
        Vec::new()
    }
}

/// Why an item could not be checked on this run, if it could not: a ✓
/// there would claim something the probe never saw.
fn not_checked(item: &ChecklistItem, obs: &Observations) -> Option<String> {
    let has = |id: &str| item.ids.contains(&id);
    if has(ids::TLS_CERTIFICATE_INVALID) && !obs.api.starts_with("https://") {
        return Some("the API is plain http".into());
    }
    if !has(ids::TLS_CERTIFICATE_INVALID) && tls_refused(obs) {
        return Some("the certificate was refused, so nothing else could be probed".into());
    }
    if has(ids::LOGIN_FAILED) && !session_works(obs) {
        return Some(no_session(obs));
    }
    if has(ids::OAUTH_START_FAILED)
        && obs
            .steps(|s| matches!(s, Step::OauthStart { .. }))
            .next()
            .is_none()
    {
        return Some(match &obs.paths.providers {
            Some(p) => format!("no OAuth provider listed at {p}"),
            None => "no provider list path was given (--providers-path)".into(),
        });
    }
    if has(ids::CSRF_NOT_ENFORCED) {
        if !session_works(obs) {
            return Some(no_session(obs));
        }
        let (checked, notes) = crate::checks::csrf_coverage(obs);
        if !checked {
            return Some(if notes.is_empty() {
                no_session(obs)
            } else {
                notes.join("; ")
            });
        }
    }
    let cookie_item = [
        ids::COOKIE_DOMAIN_LOCALHOST,
        ids::SECURE_COOKIE_OVER_HTTP,
        ids::COOKIE_NOT_STORED,
        ids::SESSION_ONLY_COOKIE,
    ]
    .iter()
    .any(|id| has(id));
    if cookie_item && !logged_in(obs) {
        return Some(if obs.credentials == CredentialMode::Login {
            no_session(obs)
        } else {
            "no login was observed".into()
        });
    }
    let loopback = obs.api_origin().is_some_and(|o| o.is_loopback());
    if has(ids::HTTP_FAKE_DOMAIN) && loopback {
        return Some("the API is on loopback".into());
    }
    None
}

/// Each item ✓ (or "not checked") or marked by its worst finding, then any
/// finding no item names.
fn checklist_text(obs: &Observations, diagnoses: &[Diagnosis], style: Style) -> String {
    let mut s = String::new();
    let items = checklist();
    for item in &items {
        let mine: Vec<&Diagnosis> = diagnoses
            .iter()
            .filter(|d| item.ids.contains(&d.id()))
            .collect();
        let worst = mine.iter().map(|d| d.finding.severity).min();
        match not_checked(item, obs).filter(|_| mine.is_empty()) {
            Some(why) => {
                let _ = writeln!(s, "  – {} (not checked: {why})", item.title);
            }
            None => {
                let _ = writeln!(s, "  {} {}", style.mark(worst), item.title);
                for why in partly_checked(item, obs) {
                    let _ = writeln!(s, "      – not checked: {why}");
                }
            }
        }
        for d in mine {
            s.push_str(&block(d, style));
        }
    }
    for d in diagnoses
        .iter()
        .filter(|d| !items.iter().any(|i| i.ids.contains(&d.id())))
    {
        let _ = writeln!(
            s,
            "  {} {}",
            style.mark(Some(d.finding.severity)),
            d.finding.title
        );
        s.push_str(&block(d, style));
    }
    s
}

/// One diagnosis: id and title, detail, evidence, fix.
fn block(d: &Diagnosis, style: Style) -> String {
    let f = &d.finding;
    let mut s = format!(
        "      {} {}: {}\n        {}\n",
        style.mark(Some(f.severity)),
        f.id,
        f.title,
        f.detail
    );
    for e in &d.evidence {
        let _ = writeln!(s, "        evidence: {e}");
    }
    let _ = writeln!(s, "        fix: {}", f.fix);
    s
}
