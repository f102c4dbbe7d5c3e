//! The login, refresh and logout flow: a CSRF token, the login from each app
//! (and once without the token, which must be refused), the session
//! exercised from the first app, and every session logged out.

use authjar_policy::WebOrigin;
use reqwest::Method;
use secrecy::ExposeSecret;

use super::jar::RawJar;
use super::request::{Mode, Req, Sent};
use super::{body_token, Probe};
use crate::observe::Step;
use crate::target::{ApiPaths, Credentials};

/// A logged-in test session.
pub(super) struct Session {
    pub(super) app: WebOrigin,
    pub(super) jar: RawJar,
    pub(super) token: Option<String>,
}

impl Session {
    /// A successful answer's cookies and CSRF token, kept for the next request.
    pub(super) fn absorb(&mut self, sent: &Sent, now: i64) {
        if sent.ok() {
            self.jar.absorb(&sent.headers, now);
            if let Some(t) = sent.json().as_ref().and_then(body_token) {
                self.token = Some(t);
            }
        }
    }
}

impl Probe<'_> {
    /// Log in from each app (or use `--cookie`), exercise the first session, log out.
    pub(super) async fn sessions(&mut self) {
        let mut sessions = match &self.target.credentials {
            None => return,
            Some(Credentials::Cookie(c)) => vec![Session {
                app: self.first_app(),
                jar: RawJar::from_header(c.expose_secret()),
                token: None,
            }],
            Some(Credentials::Login { email, password }) => {
                let (email, password) = (email.clone(), password.expose_secret().to_owned());
                self.log_in_from_each_app(&email, &password).await
            }
        };
        if let Some(first) = sessions.first_mut() {
            self.exercise(first).await;
        }
        for s in &mut sessions {
            self.logout(s).await;
        }
    }

    /// A login from each app with its own jar; the first app also tries
    /// once without the CSRF token.
    async fn log_in_from_each_app(&mut self, email: &str, password: &str) -> Vec<Session> {
        let mut sessions = Vec::new();
        for (i, app) in self.target.apps.clone().iter().enumerate() {
            let mut jar = RawJar::default();
            let token = self.csrf_token(Step::CsrfToken, app, &mut jar).await;
            if i == 0 {
                self.login_without_token(app, &jar, email, password).await;
            }
            if let Some(s) = self.login(app, jar, token, email, password).await {
                sessions.push(s);
            }
        }
        sessions
    }

    /// GET the CSRF path for `app` with `jar`; the token from the body or a cookie.
    async fn csrf_token(
        &mut self,
        step: Step,
        app: &WebOrigin,
        jar: &mut RawJar,
    ) -> Option<String> {
        let url = self.url(&self.target.paths.csrf);
        let req = Req::new(step, app, Method::GET, url, Mode::Fetch).cookies(jar);
        let sent = self.send(req).await?;
        jar.absorb(&sent.headers, self.now);
        sent.json()
            .as_ref()
            .and_then(body_token)
            .or_else(|| jar.csrf_token())
    }

    fn login_request(&self, step: Step, app: &WebOrigin, email: &str, password: &str) -> Req {
        let url = self.url(&self.target.paths.login);
        let body = self.target.login_body.render(email, password);
        let recorded = self.target.login_body.redacted(email);
        Req::new(step, app, Method::POST, url, Mode::Fetch).json(body, recorded)
    }

    /// The login a page would send, minus the CSRF header: it must be refused.
    async fn login_without_token(
        &mut self,
        app: &WebOrigin,
        jar: &RawJar,
        email: &str,
        password: &str,
    ) {
        let req = self.login_request(Step::LoginWithoutToken, app, email, password);
        self.send(req.cookies(jar)).await;
    }

    /// The login as the app's page makes it, then whether the session is recognised.
    async fn login(
        &mut self,
        app: &WebOrigin,
        mut jar: RawJar,
        token: Option<String>,
        email: &str,
        password: &str,
    ) -> Option<Session> {
        let req = self.login_request(Step::Login, app, email, password);
        let sent = self.send(req.cookies(&jar).csrf(token.as_deref())).await?;
        if !sent.ok() {
            return None;
        }
        jar.absorb(&sent.headers, self.now);
        let token = sent.json().as_ref().and_then(body_token);
        let url = self.url(&self.target.paths.me);
        let req = Req::new(Step::Me, app, Method::GET, url, Mode::Fetch).cookies(&jar);
        self.send(req).await;
        Some(Session {
            app: app.clone(),
            jar,
            token,
        })
    }

    /// A CSRF token for `s` when it has none yet.
    pub(super) async fn ensure_token(&mut self, s: &mut Session) {
        if s.token.is_none() {
            let app = s.app.clone();
            s.token = self
                .csrf_token(Step::SessionCsrfToken, &app, &mut s.jar)
                .await;
        }
    }

    /// Refresh, the CSRF refusals, and GETs that must not change state.
    async fn exercise(&mut self, s: &mut Session) {
        self.ensure_token(s).await;
        let paths = self.target.paths.clone();
        let refresh = self.post_with_token(Step::Refresh, s, &paths.refresh).await;
        let refresh_exists = refresh
            .as_ref()
            .is_some_and(|r| r.status != 404 && r.status != 405);
        if refresh.as_ref().is_some_and(Sent::ok) {
            self.me(Step::MeAfterRefresh, s).await;
        }
        let unsafe_path = if refresh_exists {
            &paths.refresh
        } else {
            &paths.logout
        };
        self.csrf_refusals(s, unsafe_path).await;
        for path in self.unsafe_get_paths(&paths) {
            self.unsafe_get(s, &path).await;
        }
    }

    /// Logout, refresh, and every `--get-path`, once each.
    fn unsafe_get_paths(&self, paths: &ApiPaths) -> Vec<String> {
        let mut gets = vec![paths.logout.clone(), paths.refresh.clone()];
        for p in &self.target.get_paths {
            if !gets.contains(p) {
                gets.push(p.clone());
            }
        }
        gets
    }

    /// An unsafe JSON call with the session and its CSRF token, as the app's page makes it.
    async fn post_with_token(&mut self, step: Step, s: &mut Session, path: &str) -> Option<Sent> {
        let url = self.url(path);
        let req = Req::new(step, &s.app, Method::POST, url, Mode::Fetch)
            .cookies(&s.jar)
            .csrf(s.token.as_deref())
            .json("{}".into(), "{}".into());
        let sent = self.send(req).await?;
        s.absorb(&sent, self.now);
        Some(sent)
    }

    /// GET the me path with the session.
    pub(super) async fn me(&mut self, step: Step, s: &Session) {
        let url = self.url(&self.target.paths.me);
        let req = Req::new(step, &s.app, Method::GET, url, Mode::Fetch).cookies(&s.jar);
        self.send(req).await;
    }

    async fn logout(&mut self, s: &mut Session) {
        self.ensure_token(s).await;
        let path = self.target.paths.logout.clone();
        self.post_with_token(Step::Logout, s, &path).await;
    }
}
