//! Where the app and the API stand relative to each other: `localhost` vs
//! `127.0.0.1`, a plain-http app calling an https API, two hosts on one
//! hosting provider's public suffix, plain http on a real host name. These
//! come from the policy crate's offline audit, run on the topology the
//! probe was given, so `authjar check` and the doctor say the same thing.

use std::time::Duration;

use authjar_policy::findings::ids;
use authjar_policy::site::private_hosting_suffix;
use authjar_policy::{
    audit, AppOriginEntry, Deployment, Environment, Lifetimes, Relation, Scheme, WebOrigin,
};

use crate::diagnosis::Diagnosis;
use crate::observe::Observations;

/// The audit's findings that describe the topology itself.
const TOPOLOGY_IDS: [&str; 5] = [
    ids::LOCALHOST_VS_127_MIXED,
    ids::INSECURE_APP_ORIGIN,
    ids::PSL_HOSTING_DOMAIN,
    ids::HTTP_FAKE_DOMAIN,
    ids::SAMESITE_NONE_WITHOUT_SECURE,
];

/// The topology findings.
pub fn check(obs: &Observations, now: i64) -> Vec<Diagnosis> {
    let Some(public_url) = obs.api_url() else {
        return Vec::new();
    };
    let entries = obs
        .app_origins()
        .into_iter()
        .map(AppOriginEntry::Exact)
        .collect();
    let environment = Environment::infer(&public_url);
    let d = Deployment::new(public_url, entries, None, environment);
    let lifetimes = Lifetimes {
        access: Duration::from_secs(1800),
        refresh: Duration::from_secs(86_400),
    };
    audit(&d, &lifetimes, now)
        .into_iter()
        .filter(|f| TOPOLOGY_IDS.contains(&f.id))
        .map(Diagnosis::of)
        .collect()
}

/// True when the topology findings already explain why the API's cookies
/// are third-party for `app`, so the cookie checks need not repeat it.
pub fn explains_cross_site(app: &WebOrigin, api: &WebOrigin) -> bool {
    if Relation::between(app, api) != Relation::CrossSite {
        return false;
    }
    let suffix = private_hosting_suffix(api.host());
    (app.is_loopback() && api.is_loopback())
        || api.scheme() == Scheme::Http
        || app.scheme() == Scheme::Http
        || (suffix.is_some() && private_hosting_suffix(app.host()) == suffix)
}
