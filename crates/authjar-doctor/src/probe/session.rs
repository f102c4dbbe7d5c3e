//! The login, refresh and logout flow: a CSRF token, the login from each
//! app (the first app's login endpoint probed for CSRF first, on jars of
//! its own), the session exercised from the first app, and every session
//! logged out, then whether the cookies a browser keeps still open the me
//! endpoint.

use authjar_policy::browser::{BrowserProfile, Jar, RequestContext};
use authjar_policy::WebOrigin;
use reqwest::Method;
use secrecy::ExposeSecret;
use url::Url;

use super::jar::RawJar;
use super::request::{Mode, Req, Sent};
use super::token::Found;
use super::Probe;
use crate::observe::{csrf_named, Step};
use crate::target::{Credentials, UnsafeEndpoint};

/// A logged-in test session.
pub(super) struct Session {
    pub(super) app: WebOrigin,
    /// What the probe sends: every cookie by name.
    pub(super) jar: RawJar,
    /// What Chromium would hold, for the logout's verdict.
    browser: Jar,
    pub(super) token: Option<String>,
    /// The cookie the token lives in, when it does.
    pub(super) token_cookie: Option<String>,
    /// Session cookies as the login (or a refresh) set them: the credential.
    credential: Vec<(String, String)>,
    /// The me path answered 2xx with this session: losing it means something.
    pub(super) recognised: bool,
}

impl Session {
    fn new(app: WebOrigin, jar: RawJar) -> Session {
        Session {
            app,
            jar,
            browser: Jar::new(BrowserProfile::CHROMIUM),
            token: None,
            token_cookie: None,
            credential: Vec::new(),
            recognised: false,
        }
    }

    fn take_token(&mut self, found: Option<Found>) {
        if let Some(f) = found {
            self.token = Some(f.value);
            self.token_cookie = f.cookie;
        }
    }
}

/// The `Set-Cookie` lines of an answer, as text.
fn set_cookie_lines(sent: &Sent) -> Vec<String> {
    sent.headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}

impl Probe<'_> {
    /// Keeps a successful answer's cookies (in both jars) and token.
    pub(super) fn absorb(&self, s: &mut Session, sent: &Sent, url: &str, method: &str) {
        if !(200..400).contains(&sent.status) {
            return;
        }
        s.jar.absorb(&sent.headers, self.now);
        if let Ok(u) = Url::parse(url) {
            let ctx = RequestContext::fetch(&s.app, u, method);
            for line in set_cookie_lines(sent) {
                s.browser.store(&line, &ctx, self.now);
            }
        }
        let cookie = s.token_cookie.clone();
        let found = self.token_in(sent, &s.jar, false, cookie.as_deref().map(Some));
        s.take_token(found);
    }

    /// Remembers the session cookies `sent` sets as the credential.
    pub(super) fn credential(&self, s: &mut Session, sent: &Sent) {
        s.jar.absorb(&sent.headers, self.now);
        for line in set_cookie_lines(sent) {
            let pair = line.split(';').next().unwrap_or("");
            let Some((name, _)) = pair.split_once('=') else {
                continue;
            };
            let name = name.trim();
            if csrf_named(name) {
                continue;
            }
            if let Some(v) = s.jar.get(name) {
                s.credential.retain(|(n, _)| n != name);
                s.credential.push((name.to_owned(), v.to_owned()));
            }
        }
    }

    /// Log in from each app (or use `--cookie`), exercise the first session, log out.
    pub(super) async fn sessions(&mut self) {
        let mut sessions = match &self.target.credentials {
            None => return,
            Some(Credentials::Cookie(c)) => {
                let mut s = Session::new(self.first_app(), RawJar::from_header(c.expose_secret()));
                s.credential = s.jar.pairs().to_vec();
                s.recognised = self.me(Step::Me, &s).await.is_some_and(|m| m.ok());
                vec![s]
            }
            Some(Credentials::Login { .. }) => self.log_in_from_each_app().await,
        };
        if let Some(first) = sessions.first_mut() {
            self.exercise(first).await;
        }
        for s in &mut sessions {
            self.logout(s).await;
        }
    }

    fn login_credentials(&self) -> Option<(String, String)> {
        match &self.target.credentials {
            Some(Credentials::Login { email, password }) => {
                Some((email.clone(), password.expose_secret().to_owned()))
            }
            _ => None,
        }
    }

    /// A login from each app with its own jar; the first app's login is
    /// first probed for CSRF, each probe on a fresh jar.
    async fn log_in_from_each_app(&mut self) -> Vec<Session> {
        let mut sessions = Vec::new();
        for (i, app) in self.target.apps.clone().iter().enumerate() {
            if i == 0 {
                self.login_attacks(app).await;
            }
            if let Some(s) = self.fresh_login(Step::Login, app).await {
                sessions.push(s);
            }
        }
        sessions
    }

    /// A jar and token as the app's page holds them before login.
    pub(super) async fn pre_login(&mut self, app: &WebOrigin) -> Session {
        let mut s = Session::new(app.clone(), RawJar::default());
        self.fetch_token(Step::CsrfToken, &mut s).await;
        s
    }

    /// GET the CSRF path with the session's jar; keeps its cookies and token.
    async fn fetch_token(&mut self, step: Step, s: &mut Session) {
        let Some(path) = self.target.paths.csrf.clone() else {
            return;
        };
        let url = self.url(&path);
        let req = Req::new(step, &s.app, Method::GET, url.clone(), Mode::Fetch).cookies(&s.jar);
        let Some(sent) = self.send(req).await else {
            return;
        };
        s.jar.absorb(&sent.headers, self.now);
        if let Ok(u) = Url::parse(&url) {
            let ctx = RequestContext::fetch(&s.app, u, "GET");
            for line in set_cookie_lines(&sent) {
                s.browser.store(&line, &ctx, self.now);
            }
        }
        let found = self.token_in(&sent, &s.jar, true, Some(None));
        s.take_token(found);
    }

    /// The login request a page would send (the CSRF header is the caller's).
    pub(super) fn login_request(&self, step: Step, app: &WebOrigin) -> Option<Req> {
        let (email, password) = self.login_credentials()?;
        let url = self.url(&self.target.paths.login);
        let body = self.target.login_body.render(&email, &password);
        let recorded = self.target.login_body.redacted(&email);
        Some(Req::new(step, app, Method::POST, url, Mode::Fetch).json(body, recorded))
    }

    /// A token, then the login as the app's page makes it, then whether the
    /// session is recognised (for `Step::Login`).
    pub(super) async fn fresh_login(&mut self, step: Step, app: &WebOrigin) -> Option<Session> {
        let mut s = self.pre_login(app).await;
        let req = self.login_request(step.clone(), app)?;
        let url = self.url(&self.target.paths.login);
        let sent = self
            .send(req.cookies(&s.jar).csrf(s.token.as_deref()))
            .await?;
        if !sent.ok() {
            return None;
        }
        // A token from the CSRF path is usually replaced at login (Spring,
        // Express): unless the answer or a cookie carries the new one, fetch it again.
        if s.token_cookie.is_none() {
            s.token = None;
        }
        self.absorb(&mut s, &sent, &url, "POST");
        self.credential(&mut s, &sent);
        if step == Step::Login {
            s.recognised = self.me(Step::Me, &s).await.is_some_and(|m| m.ok());
        } else {
            s.recognised = true;
        }
        Some(s)
    }

    /// A CSRF token for `s` when it has none yet.
    pub(super) async fn ensure_token(&mut self, s: &mut Session) {
        if s.token.is_none() {
            self.fetch_token(Step::SessionCsrfToken, s).await;
        }
    }

    /// After a probe ended the session: a new one (with test credentials).
    pub(super) async fn relogin(&mut self, s: &mut Session) -> bool {
        let app = s.app.clone();
        match self.fresh_login(Step::Relogin, &app).await {
            Some(new) => {
                *s = new;
                true
            }
            None => false,
        }
    }

    /// Refresh, the unsafe GETs, then the CSRF probes of every unsafe endpoint.
    async fn exercise(&mut self, s: &mut Session) {
        self.ensure_token(s).await;
        if let Some(refresh) = self.target.paths.refresh.clone() {
            let sent = self.call_with_token(Step::Refresh, s, &refresh).await;
            if let Some(sent) = &sent {
                if sent.ok() {
                    self.credential(s, sent);
                    self.me(Step::MeAfterRefresh, s).await;
                }
            }
        }
        for path in self.unsafe_get_paths() {
            if !self.unsafe_get(s, &path).await {
                return;
            }
        }
        for endpoint in self.target.paths.unsafe_endpoints() {
            if !self.attacks(s, &endpoint).await {
                return;
            }
        }
    }

    /// Logout, refresh, and every `--get-path`, once each.
    fn unsafe_get_paths(&self) -> Vec<String> {
        let p = &self.target.paths;
        let mut gets: Vec<String> = p
            .logout
            .iter()
            .chain(&p.refresh)
            .map(|e| e.path.clone())
            .collect();
        for g in &self.target.get_paths {
            if !gets.contains(g) {
                gets.push(g.clone());
            }
        }
        gets.dedup();
        gets
    }

    /// An unsafe JSON call with the session and its CSRF token, as the app's page makes it.
    async fn call_with_token(
        &mut self,
        step: Step,
        s: &mut Session,
        endpoint: &UnsafeEndpoint,
    ) -> Option<Sent> {
        let url = self.url(&endpoint.path);
        let method = Method::from_bytes(endpoint.method.as_bytes()).unwrap_or(Method::POST);
        let req = Req::new(step, &s.app, method, url.clone(), Mode::Fetch)
            .cookies(&s.jar)
            .csrf(s.token.as_deref())
            .json("{}".into(), "{}".into());
        let sent = self.send(req).await?;
        self.absorb(s, &sent, &url, &endpoint.method);
        Some(sent)
    }

    /// GET the me path with the session.
    pub(super) async fn me(&mut self, step: Step, s: &Session) -> Option<Sent> {
        let url = self.url(&self.target.paths.me);
        let req = Req::new(step, &s.app, Method::GET, url, Mode::Fetch).cookies(&s.jar);
        self.send(req).await
    }

    /// The logout, then the me path with the cookies Chromium would keep.
    async fn logout(&mut self, s: &mut Session) {
        let Some(logout) = self.target.paths.logout.clone() else {
            return;
        };
        self.ensure_token(s).await;
        let Some(sent) = self.call_with_token(Step::Logout, s, &logout).await else {
            return;
        };
        if !(200..400).contains(&sent.status) {
            return;
        }
        let Ok(me) = Url::parse(&self.url(&self.target.paths.me)) else {
            return;
        };
        // With --cookie there is no browser jar to model: the raw one stands in.
        let left: Vec<(String, String)> = if s.browser.cookies().is_empty() {
            s.jar.pairs().to_vec()
        } else {
            s.browser
                .sent(&RequestContext::fetch(&s.app, me.clone(), "GET"), self.now)
                .into_iter()
                .map(|c| (c.name, c.value))
                .collect()
        };
        let kept = s
            .credential
            .iter()
            .filter(|c| left.contains(c))
            .map(|(n, _)| n.clone())
            .collect();
        let header: Vec<String> = left.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let jar = RawJar::from_header(&header.join("; "));
        let req = Req::new(
            Step::MeAfterLogout { kept },
            &s.app,
            Method::GET,
            me.to_string(),
            Mode::Fetch,
        )
        .cookies(&jar);
        self.send(req).await;
    }
}
