//! The start-up banner: where authjar listens, how the browser will see each
//! frontend, the exact cookies it will set, and every warning — written for
//! someone who has never heard of SameSite.

use std::fmt::Write as _;

use authjar_policy::report::{self, Style};
use authjar_policy::{CookiePolicy, Finding, Relation, Severity};

use crate::config::Config;
use crate::state::StartNotes;

fn plain_words(rel: Relation) -> &'static str {
    match rel {
        Relation::SameOrigin => "the page and authjar share one origin: cookies just work",
        Relation::SameHost => "same host name, other port: the browser shares cookies across ports, so login sticks",
        Relation::SameSite => "sibling hosts of one domain: the browser treats them as one site, so login sticks with fetch(..., {credentials: 'include'})",
        Relation::CrossSite => "different sites: browsers treat authjar's cookies as third-party cookies here (see the warnings)",
    }
}

/// The banner text.
pub fn banner(
    config: &Config,
    scheme: &str,
    findings: &[Finding],
    notes: &StartNotes,
    style: Style,
) -> String {
    let d = config.deployment();
    let policy = CookiePolicy::derive(&d, &config.lifetimes());
    let mut s = String::new();
    let _ = writeln!(
        s,
        "authjar {} listening on {scheme}://{}",
        env!("CARGO_PKG_VERSION"),
        config.listen
    );
    let _ = writeln!(
        s,
        "  public URL:  {} ({})",
        config.public_url,
        config.environment.as_str()
    );
    let _ = writeln!(s, "  database:    {}", config.database.describe());
    for line in config
        .email
        .summary(config.require_verified_email, &config.app_origins)
    {
        let _ = writeln!(s, "  {:<12} {}", line.0, line.1);
    }
    if let Some(p) = &notes.created_secret_file {
        let _ = writeln!(s, "  {} created a development secret in {p} (mode 0600); set AUTHJAR_SECRET in production", style.mark(Some(Severity::Warning)));
    }
    for v in &config.ignored_variables {
        let _ = writeln!(
            s,
            "  {} ignored {v}: no authjar setting has that name",
            style.mark(Some(Severity::Warning))
        );
    }
    for w in notes.loose_permissions.iter().chain(&notes.shared_sqlite) {
        let _ = writeln!(s, "  {} {w}", style.mark(Some(Severity::Warning)));
    }
    s.push_str("\nFrontends allowed to log in (app_origins)\n");
    for (o, rel) in d.relations() {
        let _ = writeln!(s, "  {o}\n      {}", plain_words(rel));
    }
    s.push_str("\nCookies authjar sets (DevTools → Application → Cookies will show these)\n");
    s.push_str(&report::cookie_table(&d, &policy));
    s.push_str("  HttpOnly: page scripts cannot read it. Secure: sent over https only. SameSite=Lax: not sent on\n");
    s.push_str("  other sites' background requests. Partitioned: kept per top-level site (works when third-party cookies are blocked).\n");
    let notable: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    if notable.is_empty() {
        s.push_str("\nNo problems found with this topology.\n");
    } else {
        s.push_str("\nProblems\n");
        for f in notable {
            s.push_str(&report::finding_block(f, style));
        }
    }
    s
}
