//! Test helpers: the corpus location and small builders.

use std::path::PathBuf;
use std::time::Duration;

use authjar_policy::{AppOriginEntry, CookieDomain, Deployment, Environment, Lifetimes, PublicUrl};

/// A file of the workspace's `tests/corpus/` (sources and licences in its
/// `SOURCE.md`). Fails loudly when missing: a corpus test never passes
/// without its corpus.
pub fn corpus(file: &str) -> String {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus")).join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("corpus file {} is required: {e}", path.display()))
}

/// 2026-01-01T00:00:00Z.
pub const NOW: i64 = 1_767_225_600;

pub fn lifetimes() -> Lifetimes {
    Lifetimes {
        access: Duration::from_secs(1800),
        refresh: Duration::from_secs(30 * 86_400),
    }
}

/// A deployment with the environment inferred as `authjar` does.
pub fn deployment(public_url: &str, apps: &[&str], cookie_domain: Option<&str>) -> Deployment {
    let public_url = PublicUrl::parse(public_url).unwrap();
    let env = Environment::infer(&public_url);
    deployment_in(public_url, apps, cookie_domain, env)
}

pub fn deployment_in(
    public_url: PublicUrl,
    apps: &[&str],
    cookie_domain: Option<&str>,
    env: Environment,
) -> Deployment {
    let apps = apps
        .iter()
        .map(|a| AppOriginEntry::parse(a).unwrap())
        .collect();
    let cd = cookie_domain.map(|c| CookieDomain::parse(c).unwrap());
    Deployment::new(public_url, apps, cd, env)
}
