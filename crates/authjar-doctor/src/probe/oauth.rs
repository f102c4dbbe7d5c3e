//! The OAuth probes: the provider list, and each provider's start redirect
//! as a "Log in with …" link on the first app would follow it.

use reqwest::Method;
use url::Url;

use super::request::{Mode, Req};
use super::Probe;
use crate::observe::Step;

/// At most this many providers' start redirects are followed.
const MAX_PROVIDERS: usize = 10;

impl Probe<'_> {
    /// The provider list and each provider's start redirect.
    pub(super) async fn providers(&mut self) {
        let app = self.first_app();
        let Some(path) = self.target.paths.providers.clone() else {
            return;
        };
        let url = self.url(&path);
        let req = Req::new(Step::Providers, &app, Method::GET, url.clone(), Mode::Fetch);
        let Some(sent) = self.send(req).await else {
            return;
        };
        let Some(list) = sent.json().filter(|_| sent.ok()) else {
            return;
        };
        let Ok(base) = Url::parse(&url) else { return };
        for (id, start) in start_urls(&list, &base) {
            let step = Step::OauthStart { provider: id };
            let req = Req::new(step, &app, Method::GET, start.to_string(), Mode::Navigate);
            self.send(req.origin(&app.to_string())).await;
        }
    }
}

/// Each listed provider's id and start URL (resolved against `base`); the
/// first [`MAX_PROVIDERS`] entries only, skipping malformed ones.
fn start_urls(list: &serde_json::Value, base: &Url) -> Vec<(String, Url)> {
    let providers = list["providers"].as_array().cloned().unwrap_or_default();
    providers
        .iter()
        .take(MAX_PROVIDERS)
        .filter_map(|p| {
            let (id, start) = (p["id"].as_str()?, p["start_url"].as_str()?);
            Some((id.to_owned(), base.join(start).ok()?))
        })
        .collect()
}
