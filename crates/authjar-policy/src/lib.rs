//! `authjar-policy`: what a good auth cookie is for a deployment topology,
//! and a browser model that judges any `Set-Cookie` the way Chromium does.
//!
//! Pure by design: no IO, no clock or randomness reads, no async, no web
//! framework. Time enters as a parameter ([`browser::UnixTime`]).
//!
//! ```
//! use authjar_policy::{AppOriginEntry, CookieKind, CookiePolicy, Deployment, Environment, Lifetimes, PublicUrl};
//! use std::time::Duration;
//!
//! let public_url = PublicUrl::parse("https://api.hub.test").unwrap();
//! let apps = vec![AppOriginEntry::parse("https://app.hub.test").unwrap()];
//! let d = Deployment::new(public_url, apps, None, Environment::Production);
//! let l = Lifetimes { access: Duration::from_secs(1800), refresh: Duration::from_secs(30 * 86400) };
//! let access = CookiePolicy::derive(&d, &l).get(CookieKind::Access).unwrap().clone();
//! assert_eq!(access.set_cookie("jwt"), "__Host-access_token=jwt; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=1800");
//! ```

pub mod audit;
pub mod browser;
pub mod checklist;
pub mod cookie_policy;
pub mod deployment;
pub mod findings;
pub mod judge;
pub mod origin;
pub mod report;
pub mod return_to;
pub mod site;

pub use audit::audit;
pub use cookie_policy::{CookieKind, CookiePolicy, CookieSpec, Lifetimes, SameSite};
pub use deployment::{AppOriginEntry, CookieDomain, Deployment, Environment, PublicUrl};
pub use findings::{ids, Finding, Severity, CATALOG};
pub use origin::{Host, Scheme, WebOrigin};
pub use site::{Relation, Site};
