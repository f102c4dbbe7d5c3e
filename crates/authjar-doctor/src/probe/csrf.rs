//! The CSRF probes on a live session: an unsafe call without the token, one
//! with it from a foreign origin, and unsafe endpoints reached by a GET from
//! another site. Each must be refused, and the session must survive.

use reqwest::Method;

use super::request::{Mode, Req};
use super::session::Session;
use super::{Probe, FOREIGN_ORIGIN};
use crate::observe::Step;

impl Probe<'_> {
    /// An unsafe call without the token, then one with it from a foreign origin.
    pub(super) async fn csrf_refusals(&mut self, s: &mut Session, path: &str) {
        let step = Step::WithoutToken { path: path.into() };
        self.post_without_token(step, s, path).await;
        self.ensure_token(s).await;
        let step = Step::ForeignOriginWithToken {
            path: path.into(),
            origin: FOREIGN_ORIGIN.into(),
        };
        let url = self.url(path);
        let req = Req::new(step, &s.app, Method::POST, url, Mode::Fetch)
            .cookies(&s.jar)
            .csrf(s.token.as_deref())
            .origin(FOREIGN_ORIGIN)
            .json("{}".into(), "{}".into());
        if let Some(sent) = self.send(req).await {
            if sent.ok() {
                s.jar.absorb(&sent.headers, self.now);
            }
        }
    }

    /// An unsafe JSON call with the session's cookies but no CSRF header.
    async fn post_without_token(&mut self, step: Step, s: &mut Session, path: &str) {
        let url = self.url(path);
        let req = Req::new(step, &s.app, Method::POST, url, Mode::Fetch)
            .cookies(&s.jar)
            .json("{}".into(), "{}".into());
        if let Some(sent) = self.send(req).await {
            s.absorb(&sent, self.now);
        }
    }

    /// A link to `path` clicked on another site, then whether the session survived.
    pub(super) async fn unsafe_get(&mut self, s: &mut Session, path: &str) {
        let step = Step::UnsafeGet { path: path.into() };
        let req = Req::new(step, &s.app, Method::GET, self.url(path), Mode::Navigate)
            .cookies(&s.jar)
            .origin(FOREIGN_ORIGIN);
        if let Some(sent) = self.send(req).await {
            s.jar.absorb(&sent.headers, self.now);
        }
        self.me(Step::MeAfterGet { path: path.into() }, s).await;
    }
}
