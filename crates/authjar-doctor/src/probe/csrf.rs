//! The CSRF probes. Every unsafe endpoint the probe knows (login, refresh,
//! each `--unsafe-path`, logout last) is called with the session's cookies
//! the ways an attacker's page could, and once from the app without the
//! token; after each, the me path shows whether it took effect, and a
//! session a probe ended is replaced by a new login so the next probes
//! still have one. Unsafe endpoints reached by a GET from another site
//! come first.

use authjar_policy::WebOrigin;
use reqwest::Method;

use super::jar::RawJar;
use super::request::{Mode, Req, Sent};
use super::session::Session;
use super::{Probe, FOREIGN_ORIGIN};
use crate::observe::{csrf_named, Attack, Step};
use crate::target::UnsafeEndpoint;

/// The value a sibling subdomain plants as the CSRF cookie and sends as
/// the token: 32 letters and digits, a length every framework's token
/// format accepts.
const PLANTED: &str = "Doctor0Planted1Token2abcdefghijk";

/// One probe's request: who sends it, the cookies, the token.
struct Shot {
    origin: String,
    jar: RawJar,
    token: Option<String>,
}

impl Probe<'_> {
    /// The probes that apply: no sibling on loopback, no planted cookie
    /// when the token does not live in one.
    fn attack_kinds(&self, token_cookie: bool) -> Vec<Attack> {
        let mut v = vec![Attack::NoToken, Attack::CrossSite];
        if self.sibling.is_some() {
            v.push(Attack::SameSite);
        }
        v.push(Attack::ForeignWithToken);
        if self.sibling.is_some() && token_cookie {
            v.push(Attack::Planted);
        }
        v
    }

    fn shot(
        &self,
        attack: Attack,
        app: &WebOrigin,
        jar: &RawJar,
        token: Option<&str>,
        token_cookie: Option<&str>,
    ) -> Shot {
        let sibling = self
            .sibling
            .clone()
            .unwrap_or_else(|| FOREIGN_ORIGIN.into());
        let (origin, token) = match attack {
            Attack::NoToken => (app.to_string(), None),
            Attack::CrossSite => (FOREIGN_ORIGIN.to_owned(), None),
            Attack::SameSite => (sibling, None),
            Attack::ForeignWithToken => (FOREIGN_ORIGIN.to_owned(), token.map(str::to_owned)),
            Attack::Planted => (sibling, Some(PLANTED.to_owned())),
        };
        let mut jar = jar.clone();
        if let (Attack::Planted, Some(name)) = (attack, token_cookie) {
            jar.set(name, PLANTED);
        }
        Shot { origin, jar, token }
    }

    /// The login probed for CSRF: each probe on a fresh pre-login jar; the
    /// me path with the cookies its answer set shows whether it logged in.
    pub(super) async fn login_attacks(&mut self, app: &WebOrigin) {
        let probe = self.pre_login(app).await;
        let kinds = self.attack_kinds(probe.token_cookie.is_some());
        let path = self.target.paths.login.clone();
        for (i, attack) in kinds.into_iter().enumerate() {
            let s = if i == 0 {
                None
            } else {
                Some(self.pre_login(app).await)
            };
            let s = s.as_ref().unwrap_or(&probe);
            let shot = self.shot(
                attack,
                app,
                &s.jar,
                s.token.as_deref(),
                s.token_cookie.as_deref(),
            );
            let step = Step::Attack {
                method: "POST".into(),
                path: path.clone(),
                attack,
            };
            let Some(req) = self.login_request(step, app) else {
                return;
            };
            let req = req
                .origin(&shot.origin)
                .cookies(&shot.jar)
                .csrf(shot.token.as_deref());
            let mut jar = shot.jar.clone();
            if let Some(sent) = self.send(req).await {
                jar.absorb(&sent.headers, self.now);
            }
            self.me_with(
                app,
                &jar,
                Step::MeAfterAttack {
                    path: path.clone(),
                    attack,
                    changed: Vec::new(),
                },
            )
            .await;
        }
    }

    async fn me_with(&mut self, app: &WebOrigin, jar: &RawJar, step: Step) -> Option<Sent> {
        let url = self.url(&self.target.paths.me);
        let req = Req::new(step, app, Method::GET, url, Mode::Fetch).cookies(jar);
        self.send(req).await
    }

    /// Each probe of `endpoint` with the session; `false` when the session
    /// was lost and no new one could be had.
    pub(super) async fn attacks(&mut self, s: &mut Session, endpoint: &UnsafeEndpoint) -> bool {
        self.ensure_token(s).await;
        let method = Method::from_bytes(endpoint.method.as_bytes()).unwrap_or(Method::POST);
        let url = self.url(&endpoint.path);
        for attack in self.attack_kinds(s.token_cookie.is_some()) {
            let shot = self.shot(
                attack,
                &s.app,
                &s.jar,
                s.token.as_deref(),
                s.token_cookie.as_deref(),
            );
            let step = Step::Attack {
                method: endpoint.method.clone(),
                path: endpoint.path.clone(),
                attack,
            };
            let req = Req::new(step, &s.app, method.clone(), url.clone(), Mode::Fetch)
                .origin(&shot.origin)
                .cookies(&shot.jar)
                .csrf(shot.token.as_deref())
                .json("{}".into(), "{}".into());
            let before = s.jar.clone();
            let mut changed = Vec::new();
            if let Some(sent) = self.send(req).await {
                // What the victim's browser now holds, as after any answer.
                s.jar.absorb(&sent.headers, self.now);
                if (200..400).contains(&sent.status) {
                    self.absorb(s, &sent, &url, &endpoint.method);
                    self.credential(s, &sent);
                }
                changed = before
                    .pairs()
                    .iter()
                    .filter(|(n, v)| !csrf_named(n) && s.jar.get(n) != Some(v.as_str()))
                    .map(|(n, _)| n.clone())
                    .collect();
                if let Some(t) = s.token_cookie.as_deref().and_then(|n| s.jar.decoded(n)) {
                    s.token = Some(t);
                }
            }
            let step = Step::MeAfterAttack {
                path: endpoint.path.clone(),
                attack,
                changed,
            };
            let app = s.app.clone();
            let jar = s.jar.clone();
            let alive = self.me_with(&app, &jar, step).await.is_some_and(|m| m.ok());
            if !alive && s.recognised && !self.relogin(s).await {
                return false;
            }
            self.ensure_token(s).await;
        }
        true
    }

    /// A link to `path` clicked on another site, then whether the session
    /// survived; `false` when it did not and no new one could be had.
    pub(super) async fn unsafe_get(&mut self, s: &mut Session, path: &str) -> bool {
        let step = Step::UnsafeGet { path: path.into() };
        let req = Req::new(step, &s.app, Method::GET, self.url(path), Mode::Navigate)
            .cookies(&s.jar)
            .origin(FOREIGN_ORIGIN);
        if let Some(sent) = self.send(req).await {
            s.jar.absorb(&sent.headers, self.now);
        }
        let alive = self
            .me(Step::MeAfterGet { path: path.into() }, s)
            .await
            .is_some_and(|m| m.ok());
        alive || !s.recognised || self.relogin(s).await
    }
}
