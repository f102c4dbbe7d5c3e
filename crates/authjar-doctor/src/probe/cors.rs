//! The CORS probes: the plain-http twin of an https API, each app's
//! preflights, and origins that must never be echoed (foreign ones, and
//! development ones on a production API).

use reqwest::Method;

use super::request::{Mode, Req};
use super::{Probe, DEV_ORIGINS, FOREIGN_ORIGIN};
use crate::observe::Step;

impl Probe<'_> {
    /// For an https API on port 443: the same host over plain http.
    pub(super) async fn http_twin(&mut self) {
        let api = self.api().clone();
        if api.scheme() != authjar_policy::Scheme::Https || api.port() != 443 {
            return;
        }
        let url = format!("http://{}{}/", api.host(), self.target.api.base_path());
        let req = Req::new(Step::HttpTwin, &api, Method::GET, url, Mode::Navigate);
        self.send(req).await;
    }

    /// Each cross-origin app: an anonymous GET and the preflights of its unsafe calls.
    pub(super) async fn cors(&mut self) {
        let apps = self.target.apps.clone();
        for (i, app) in apps.iter().enumerate() {
            if app == self.api() {
                continue;
            }
            if i > 0 {
                let url = self.url(&self.target.paths.me);
                let req = Req::new(Step::MeAnonymous, app, Method::GET, url, Mode::Fetch);
                self.send(req.origin(&app.to_string())).await;
            }
            let p = &self.target.paths;
            let mut endpoints = vec![p.login_endpoint()];
            endpoints.extend(p.unsafe_endpoints());
            for e in endpoints {
                let step = Step::Preflight {
                    path: e.path.clone(),
                };
                let req = Req::new(
                    step,
                    app,
                    Method::OPTIONS,
                    self.url(&e.path),
                    Mode::Preflight,
                )
                .preflight_for(&e.method);
                self.send(req.origin(&app.to_string())).await;
            }
        }
    }

    /// Origins that are not apps: a preflight and GETs, none must be echoed.
    pub(super) async fn foreign(&mut self) {
        let app = self.first_app();
        let login = self.url(&self.target.paths.login);
        let step = Step::ForeignPreflight {
            origin: FOREIGN_ORIGIN.into(),
        };
        let req = Req::new(step, &app, Method::OPTIONS, login, Mode::Preflight);
        self.send(req.origin(FOREIGN_ORIGIN)).await;
        let suffixed = format!(
            "{}://{}.doctor-foreign-origin.example",
            app.scheme().as_str(),
            app.host()
        );
        for origin in [FOREIGN_ORIGIN.to_owned(), "null".to_owned(), suffixed] {
            let step = Step::ForeignOrigin {
                origin: origin.clone(),
            };
            let url = self.url(&self.target.paths.me);
            let req = Req::new(step, &app, Method::GET, url, Mode::Fetch);
            self.send(req.origin(&origin)).await;
        }
    }

    /// A production API must not allow development origins.
    pub(super) async fn dev_origins(&mut self) {
        let production = self.observations.production();
        if !production {
            return;
        }
        let app = self.first_app();
        for origin in DEV_ORIGINS {
            let step = Step::DevOrigin {
                origin: origin.into(),
            };
            let url = self.url(&self.target.paths.me);
            let req = Req::new(step, &app, Method::GET, url, Mode::Fetch);
            self.send(req.origin(origin)).await;
        }
    }
}
