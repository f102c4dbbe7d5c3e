//! Plain-text rendering shared by `authjar check`, the start-up banner and
//! the doctor: the topology of each app origin, the derived cookie table
//! (what DevTools → Application → Cookies will show), and the checklist.
//! Pure string building; the caller decides about colour and where to print.

use std::fmt::Write as _;
use std::time::Duration;

use crate::checklist::CHECKLIST;
use crate::cookie_policy::{csrf_cookie_readable, CookieKind, CookiePolicy};
use crate::deployment::Deployment;
use crate::findings::{Finding, Severity};

/// Output styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// ANSI colours (only on a terminal).
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// The mark for a severity (✗ error, ⚠ warning, ℹ info) or a pass (✓).
    pub fn mark(self, severity: Option<Severity>) -> String {
        match severity {
            None => self.paint("32", "✓"),
            Some(Severity::Error) => self.paint("31", "✗"),
            Some(Severity::Warning) => self.paint("33", "⚠"),
            Some(Severity::Info) => self.paint("36", "ℹ"),
        }
    }
}

/// "App origins" section: each origin and how the browser relates it to the API.
pub fn topology(d: &Deployment) -> String {
    let mut s = format!("API (public_url)  {}\n", d.public_url);
    if d.app_origins.is_empty() {
        s.push_str("  no app origins: only pages on the API's own origin can log in\n");
    }
    let width = d
        .app_origins
        .iter()
        .map(|o| o.to_string().len())
        .max()
        .unwrap_or(0);
    for (o, rel) in d.relations() {
        let _ = writeln!(s, "  {:<width$}  {}", o.to_string(), rel.describe());
    }
    for w in &d.wildcard_origins {
        let _ = writeln!(
            s,
            "  {w:<width$}  ignored: wildcards are never honoured with credentials"
        );
    }
    s
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// The cookie table's columns.
const COOKIE_COLUMNS: [&str; 8] = [
    "name",
    "Secure",
    "HttpOnly",
    "SameSite",
    "Path",
    "Domain",
    "Partitioned",
    "Max-Age",
];

/// The cookie table, one row per cookie, every attribute a column.
pub fn cookie_table(d: &Deployment, policy: &CookiePolicy) -> String {
    let rows = cookie_rows(d, policy);
    let widths = column_widths(&rows);
    let mut s = table_line(&COOKIE_COLUMNS, widths);
    for r in &rows {
        s.push_str(&table_line(r, widths));
    }
    let _ = writeln!(
        s,
        "  CSRF token: {}; send it back in X-CSRF-Token.",
        csrf_token_note(d, policy)
    );
    s
}

/// Each cookie's attributes as the table's cells.
fn cookie_rows(d: &Deployment, policy: &CookiePolicy) -> Vec<[String; 8]> {
    policy
        .iter()
        .map(|c| {
            [
                c.name.clone(),
                yes_no(c.secure).into(),
                yes_no(c.http_only).into(),
                c.same_site.as_str().into(),
                c.path.clone(),
                c.domain
                    .clone()
                    .unwrap_or_else(|| format!("(host-only: {})", d.api().host())),
                yes_no(c.partitioned).into(),
                human(Duration::from_secs(c.max_age_secs)),
            ]
        })
        .collect()
}

/// Each column as wide as its header or its widest cell, in characters.
fn column_widths(rows: &[[String; 8]]) -> [usize; 8] {
    let mut widths = COOKIE_COLUMNS.map(str::len);
    for r in rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    widths
}

/// One line of the table: the cells padded to `widths`, indented by two.
fn table_line(cells: &[impl AsRef<str>], widths: [usize; 8]) -> String {
    let mut l = String::from(" ");
    for (c, w) in cells.iter().zip(widths) {
        let _ = write!(l, " {:<w$}", c.as_ref());
    }
    l.trim_end().to_owned() + "\n"
}

/// Where the app finds the CSRF token.
fn csrf_token_note(d: &Deployment, policy: &CookiePolicy) -> String {
    match policy.get(CookieKind::Csrf) {
        Some(c) if csrf_cookie_readable(d) => {
            format!("in response bodies and in the readable `{}` cookie", c.name)
        }
        _ => {
            "in response bodies only (the app's JavaScript cannot read a cookie of the API's host)"
                .to_owned()
        }
    }
}

/// The pre-deploy checklist: each item ✓ or marked by its worst finding,
/// followed by every finding's detail and fix.
pub fn checklist(findings: &[Finding], style: Style) -> String {
    let mut s = String::new();
    let mut shown = Vec::new();
    for item in CHECKLIST {
        let mine: Vec<&Finding> = findings
            .iter()
            .filter(|f| item.ids.contains(&f.id))
            .collect();
        let worst = mine.iter().map(|f| f.severity).min();
        let _ = writeln!(s, "  {} {}", style.mark(worst), item.title);
        for f in mine {
            shown.push(f.id);
            s.push_str(&finding_block(f, style));
        }
    }
    for f in findings.iter().filter(|f| !shown.contains(&f.id)) {
        let _ = writeln!(s, "  {} {}", style.mark(Some(f.severity)), f.title);
        s.push_str(&finding_block(f, style));
    }
    s
}

/// One finding's detail and fix, indented under its checklist line.
pub fn finding_block(f: &Finding, style: Style) -> String {
    format!(
        "      {} {}: {}\n        {}\n        fix: {}\n",
        style.mark(Some(f.severity)),
        f.id,
        f.title,
        f.detail,
        f.fix
    )
}

/// The closing line: counts and what they mean.
pub fn summary(findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (e, w) = (count(Severity::Error), count(Severity::Warning));
    let verdict = if e > 0 {
        "login will not work in a browser (or is unsafe) until the errors are fixed"
    } else if w > 0 {
        "login works in Chromium, but the warnings degrade it somewhere"
    } else {
        "all good"
    };
    format!("{e} error(s), {w} warning(s): {verdict}.\n")
}
