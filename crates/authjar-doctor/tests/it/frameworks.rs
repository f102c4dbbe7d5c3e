//! Deployments shaped like the defaults of Django, Laravel Sanctum (SPA),
//! Express (express-session + a CSRF middleware), Rails with Devise and
//! Spring Security: each correct one has no finding that makes the verdict
//! "not ok" (exit 0), each with one real mistake has exactly that finding.
//! Also the deployments the doctor once misjudged: a same-origin API under
//! `/api/v1` with no refresh endpoint and an HTML catch-all, the same with
//! a catch-all answering `200 {}` to any POST, and sibling subdomains whose
//! logout takes a POST from anywhere.

use authjar_doctor::report::{self, not_checked_items};
use authjar_doctor::{Diagnosis, Observations, Step, TargetInput};
use authjar_policy::Severity;

use crate::fixture::{assert_ids, doctor, dump};
use crate::shapes::{
    describe, serve, Binding, CatchAll, CorsStyle, LogoutStyle, Refusal, Shape, TokenOut,
};

/// Django with DRF's session authentication: one origin, the `csrftoken`
/// cookie (double submit) read back in `X-CSRFToken`, a strict Origin
/// check, HTML 403 refusals, 403 for the anonymous me.
pub fn django() -> Shape {
    Shape {
        api: "https://hub.test",
        apps: vec!["https://hub.test".into()],
        login: "/api/auth/login/",
        login_field: Some("username"),
        me: "/api/auth/user/",
        me_anonymous: 403,
        csrf: Some("/api/auth/csrf/"),
        token_out: TokenOut::Cookie {
            template: "csrftoken={v}; Max-Age=31449600; Path=/; SameSite=Lax; Secure",
            encode: false,
        },
        token_in: "X-CSRFToken",
        binding: Binding::DoubleSubmit,
        origin_check: true,
        trusted: Vec::new(),
        refusal: Refusal::Html(403),
        session_cookie: "sessionid={v}; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure",
        anonymous_session: false,
        logout: ("POST", "/api/auth/logout/"),
        logout_style: LogoutStyle::Delete,
        refresh: None,
        exempt: Vec::new(),
        cors: CorsStyle::Echo,
        catch_all: CatchAll::NotFound,
        echo: false,
        extra_login_cookies: Vec::new(),
        login_extra_json: None,
    }
}

/// Laravel Sanctum in SPA mode: app and API on sibling subdomains, the
/// URL-encoded `XSRF-TOKEN` cookie for the whole domain read back in
/// `X-XSRF-TOKEN` and checked against the session, 419 refusals, no Origin
/// check (the token alone), a fresh anonymous session after logout.
pub fn laravel() -> Shape {
    Shape {
        api: "https://api.hub.test",
        apps: vec!["https://app.hub.test".into()],
        login: "/login",
        login_field: Some("email"),
        me: "/api/user",
        me_anonymous: 401,
        csrf: Some("/sanctum/csrf-cookie"),
        token_out: TokenOut::Cookie {
            template: "XSRF-TOKEN={v}; Max-Age=7200; Domain=hub.test; Path=/; Secure; SameSite=Lax",
            encode: true,
        },
        token_in: "X-XSRF-TOKEN",
        binding: Binding::Session,
        origin_check: false,
        trusted: Vec::new(),
        refusal: Refusal::Json(419),
        session_cookie: "laravel_session={v}; Max-Age=7200; Domain=hub.test; Path=/; Secure; HttpOnly; SameSite=Lax",
        anonymous_session: true,
        logout: ("POST", "/logout"),
        logout_style: LogoutStyle::Anonymous,
        refresh: None,
        exempt: Vec::new(),
        cors: CorsStyle::Echo,
        catch_all: CatchAll::NotFound,
        echo: false,
        extra_login_cookies: Vec::new(),
        login_extra_json: None,
    }
}

/// Express with express-session and a CSRF middleware in development: the
/// API on `localhost`, the app on `localhost:3000`, the token from
/// `GET /api/csrf-token` as `{"csrfToken"}` into `CSRF-Token`, bound to the
/// session, an HTML 403 from the default error handler.
pub fn express() -> Shape {
    Shape {
        api: "http://localhost",
        apps: vec!["http://localhost:3000".into()],
        login: "/api/login",
        login_field: Some("username"),
        me: "/api/me",
        me_anonymous: 401,
        csrf: Some("/api/csrf-token"),
        token_out: TokenOut::Json("csrfToken"),
        token_in: "CSRF-Token",
        binding: Binding::Session,
        origin_check: false,
        trusted: Vec::new(),
        refusal: Refusal::Html(403),
        session_cookie: "connect.sid={v}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax",
        anonymous_session: false,
        logout: ("POST", "/api/logout"),
        logout_style: LogoutStyle::Delete,
        refresh: None,
        exempt: Vec::new(),
        cors: CorsStyle::Echo,
        catch_all: CatchAll::NotFound,
        echo: false,
        extra_login_cookies: Vec::new(),
        login_extra_json: None,
    }
}

/// Rails with Devise: one origin, the session cookie from the first
/// answer, the token in an `X-CSRF-Token` response header, Rails' Origin
/// check, HTML 422 refusals, `DELETE /users/sign_out` resetting the session.
pub fn rails() -> Shape {
    Shape {
        api: "https://hub.test",
        apps: vec!["https://hub.test".into()],
        login: "/users/sign_in",
        login_field: None,
        me: "/users/me",
        me_anonymous: 401,
        csrf: Some("/users/csrf"),
        token_out: TokenOut::Header("x-csrf-token"),
        token_in: "X-CSRF-Token",
        binding: Binding::Session,
        origin_check: true,
        trusted: Vec::new(),
        refusal: Refusal::Html(422),
        session_cookie: "_hub_session={v}; path=/; max-age=1209600; secure; HttpOnly; SameSite=Lax",
        anonymous_session: true,
        logout: ("DELETE", "/users/sign_out"),
        logout_style: LogoutStyle::Anonymous,
        refresh: None,
        exempt: Vec::new(),
        cors: CorsStyle::Echo,
        catch_all: CatchAll::Html,
        echo: false,
        extra_login_cookies: Vec::new(),
        login_extra_json: None,
    }
}

/// Spring Security: app and API on sibling subdomains, the session's token
/// from `GET /csrf` as `{"token","headerName","parameterName"}`, JSON 403
/// refusals, no Origin check, the JSESSIONID deleted on logout.
pub fn spring() -> Shape {
    Shape {
        api: "https://api.hub.test",
        apps: vec!["https://app.hub.test".into()],
        login: "/api/login",
        login_field: Some("username"),
        me: "/api/me",
        me_anonymous: 401,
        csrf: Some("/csrf"),
        token_out: TokenOut::Json("token"),
        token_in: "X-CSRF-TOKEN",
        binding: Binding::Session,
        origin_check: false,
        trusted: Vec::new(),
        refusal: Refusal::Json(403),
        session_cookie: "JSESSIONID={v}; Path=/; Max-Age=1800; Secure; HttpOnly; SameSite=Lax",
        anonymous_session: false,
        logout: ("POST", "/logout"),
        logout_style: LogoutStyle::Delete,
        refresh: None,
        exempt: Vec::new(),
        cors: CorsStyle::Echo,
        catch_all: CatchAll::NotFound,
        echo: false,
        extra_login_cookies: Vec::new(),
        login_extra_json: None,
    }
}

/// The same-origin deployment of the false alarm: the API under `/api/v1`,
/// `{"username","password"}`, `X-XSRF-Token`, one session cookie, no
/// refresh endpoint, the app's HTML page for every unknown path.
pub fn api_v1() -> Shape {
    Shape {
        api: "https://hub.test",
        apps: vec!["https://hub.test".into()],
        login: "/api/v1/session",
        login_field: Some("username"),
        me: "/api/v1/whoami",
        me_anonymous: 401,
        csrf: Some("/api/v1/csrf"),
        token_out: TokenOut::Json("csrf_token"),
        token_in: "X-XSRF-Token",
        binding: Binding::Session,
        origin_check: true,
        trusted: Vec::new(),
        refusal: Refusal::Json(403),
        session_cookie: "hub_session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=86400",
        anonymous_session: false,
        logout: ("POST", "/api/v1/logout"),
        logout_style: LogoutStyle::Delete,
        refresh: None,
        exempt: Vec::new(),
        cors: CorsStyle::Echo,
        catch_all: CatchAll::Html,
        echo: false,
        extra_login_cookies: Vec::new(),
        login_extra_json: None,
    }
}

/// The issue's command line for [`api_v1`], exactly.
fn api_v1_options(t: &mut TargetInput) {
    t.csrf_path = Some("/api/v1/csrf".into());
    t.login_path = Some("/api/v1/session".into());
    t.me_path = Some("/api/v1/whoami".into());
    t.logout_path = Some("/api/v1/logout".into());
    t.login_body = Some(r#"{"username":"{email}","password":"{password}"}"#.into());
    t.csrf_header = Some("X-XSRF-Token".into());
    t.credentials = Some(authjar_doctor::Credentials::Login {
        email: crate::shapes::USERNAME.into(),
        password: crate::fixture::PASSWORD.to_owned().into(),
    });
}

/// One shape, what the doctor is told, what it must find.
struct ShapeCase {
    name: &'static str,
    shape: Shape,
    tweak: fn(&mut TargetInput),
    expect: &'static [&'static str],
    then: fn(&Observations, &[Diagnosis]),
}

impl ShapeCase {
    /// The shape described to the doctor with its paths and header.
    fn new(name: &'static str, shape: Shape, expect: &'static [&'static str]) -> ShapeCase {
        ShapeCase {
            name,
            shape,
            tweak: |_| {},
            expect,
            then: |_, _| {},
        }
    }

    fn tweak(self, tweak: fn(&mut TargetInput)) -> ShapeCase {
        ShapeCase { tweak, ..self }
    }

    fn then(self, then: fn(&Observations, &[Diagnosis])) -> ShapeCase {
        ShapeCase { then, ..self }
    }

    async fn run(self) {
        let shape = self.shape.clone();
        let served = serve(self.shape).await;
        let tweak = self.tweak;
        let (obs, f) = doctor(&served.running, |t| {
            describe(&shape, t);
            tweak(t);
        })
        .await;
        (self.then)(&obs, &f);
        assert_ids(&f, self.expect);
    }
}

/// Every case concurrently; a failure names its case.
async fn run_all(cases: Vec<ShapeCase>) {
    let handles: Vec<_> = cases
        .into_iter()
        .map(|c| (c.name, tokio::spawn(c.run())))
        .collect();
    let mut failures = Vec::new();
    for (name, handle) in handles {
        if let Err(e) = handle.await {
            let message = if e.is_panic() {
                let payload = e.into_panic();
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default()
            } else {
                e.to_string()
            };
            failures.push(format!("case `{name}` failed: {message}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// ok, and every finding is advice.
fn healthy(obs: &Observations, f: &[Diagnosis]) {
    assert!(report::ok(f), "{}", dump(f));
    assert!(
        f.iter().all(|d| d.finding.severity == Severity::Info),
        "{}",
        dump(f)
    );
    csrf_was_probed(obs, f);
}

/// The CSRF checklist item was checked, every unsafe endpoint attacked.
fn csrf_was_probed(obs: &Observations, f: &[Diagnosis]) {
    let missing: Vec<String> = not_checked_items(obs, f)
        .into_iter()
        .filter(|n| n.item.starts_with("CSRF") || n.item.starts_with("a browser on the app"))
        .filter(|n| {
            !n.why
                .starts_with("refresh: this API has no refresh endpoint")
        })
        .map(|n| format!("{}: {}", n.item, n.why))
        .collect();
    assert!(missing.is_empty(), "{missing:?}");
    for path in [&obs.paths.login]
        .into_iter()
        .chain(obs.paths.logout.iter().map(|l| &l.path))
    {
        assert!(
            obs.exchanges.iter().any(|e| matches!(
                &e.step,
                Step::Attack { path: p, attack: authjar_doctor::observe::Attack::CrossSite, .. } if p == path
            )),
            "{path} was not probed from another site"
        );
    }
}

/// Only the token stops a request with a valid token from another site: a note.
fn token_only(obs: &Observations, f: &[Diagnosis]) {
    healthy(obs, f);
    assert_eq!(f[0].finding.severity, Severity::Info, "{}", dump(f));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_framework_deployments_are_healthy() {
    run_all(vec![
        ShapeCase::new("django", django(), &[]).then(healthy),
        ShapeCase::new(
            "laravel_sanctum_spa",
            laravel(),
            &["csrf-foreign-origin-accepted"],
        )
        .then(token_only),
        ShapeCase::new(
            "express_session_csrf",
            express(),
            &["csrf-foreign-origin-accepted"],
        )
        .then(token_only),
        ShapeCase::new("rails_devise", rails(), &[]).then(healthy),
        ShapeCase::new(
            "spring_security",
            spring(),
            &["csrf-foreign-origin-accepted"],
        )
        .then(token_only),
        ShapeCase::new("same_origin_api_v1_with_an_html_catch_all", api_v1(), &[])
            .tweak(api_v1_options)
            .then(|obs, f| {
                healthy(obs, f);
                assert!(
                    !obs.exchanges
                        .iter()
                        .any(|e| e.request.url.contains("/auth/")),
                    "a path that was not given was probed"
                );
                let text = report::text(
                    obs,
                    f,
                    obs.observed_at,
                    authjar_policy::report::Style { color: false },
                );
                assert!(
                    text.contains("✓ a browser on the app can log in")
                        && text.contains("not checked: refresh: this API has no refresh endpoint"),
                    "{text}"
                );
            }),
        ShapeCase::new(
            "same_origin_api_v1_with_a_catch_all_answering_200_json_to_any_post",
            Shape {
                catch_all: CatchAll::JsonEmpty,
                ..api_v1()
            },
            &[],
        )
        .tweak(api_v1_options)
        .then(healthy),
        // Told of a refresh path the catch-all answers: an HTML page is not
        // the API accepting the call, and the report says what was not checked.
        ShapeCase::new(
            "a_refresh_path_the_html_catch_all_answers_is_not_checked",
            api_v1(),
            &[],
        )
        .tweak(|t| {
            api_v1_options(t);
            t.refresh_path = Some("/api/v1/refresh".into());
        })
        .then(|obs, f| {
            assert!(report::ok(f), "{}", dump(f));
            let notes: Vec<String> = not_checked_items(obs, f)
                .into_iter()
                .map(|n| n.why)
                .collect();
            assert!(
                notes
                    .iter()
                    .any(|n| n.contains("/api/v1/refresh") && n.contains("HTML")),
                "{notes:?}"
            );
        }),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_real_mistake_in_each_framework_is_found() {
    run_all(vec![
        // CSRF_TRUSTED_ORIGINS = ["https://*.hub.test"]: a sibling plants
        // `csrftoken` and sends the same value.
        ShapeCase::new(
            "django_trusting_every_subdomain_is_tossable",
            Shape {
                trusted: vec!["https://*.hub.test"],
                ..django()
            },
            &["csrf-not-enforced"],
        )
        .then(|_, f| {
            assert_eq!(f[0].finding.severity, Severity::Error);
            assert!(f[0].finding.detail.contains("planted"), "{}", dump(f));
            assert!(f[0].finding.fix.contains("tossable"), "{}", dump(f));
        }),
        // `$except = ['logout']` in VerifyCsrfToken.
        ShapeCase::new(
            "laravel_with_logout_exempt_from_csrf",
            Shape {
                exempt: vec!["/logout"],
                ..laravel()
            },
            &["csrf-not-enforced"],
        )
        .then(|_, f| {
            assert!(f[0].finding.detail.contains("POST /logout"), "{}", dump(f));
        }),
        // cors({ origin: true, credentials: true }).
        ShapeCase::new(
            "express_cors_reflecting_any_origin",
            Shape {
                cors: CorsStyle::Reflect,
                ..express()
            },
            &["cors-foreign-origin-echoed", "csrf-foreign-origin-accepted"],
        ),
        // skip_before_action :verify_authenticity_token in the sessions controller.
        ShapeCase::new(
            "rails_sessions_controller_skipping_forgery_protection",
            Shape {
                exempt: vec!["/users/sign_in", "/users/sign_out"],
                ..rails()
            },
            &["csrf-not-enforced"],
        )
        .then(|_, f| {
            let d = &f[0].finding.detail;
            assert!(
                d.contains("POST /users/sign_in") && d.contains("DELETE /users/sign_out"),
                "{}",
                dump(f)
            );
        }),
        // CookieCsrfTokenRepository.withHttpOnlyFalse() for the whole domain:
        // double submit, not bound to the session.
        ShapeCase::new(
            "spring_cookie_csrf_repository_is_tossable_from_a_sibling",
            Shape {
                token_out: TokenOut::Cookie {
                    template: "XSRF-TOKEN={v}; Path=/; Domain=hub.test; Secure; SameSite=Lax",
                    encode: false,
                },
                token_in: "X-XSRF-TOKEN",
                binding: Binding::DoubleSubmit,
                ..spring()
            },
            &["csrf-not-enforced"],
        )
        .then(|_, f| assert!(f[0].finding.detail.contains("planted"), "{}", dump(f))),
        // A logout that only answers: the cookies still open the me path.
        ShapeCase::new(
            "spring_logout_that_ends_nothing",
            Shape {
                logout_style: LogoutStyle::Nothing,
                ..spring()
            },
            &["csrf-foreign-origin-accepted", "logout-leaves-cookies"],
        )
        .then(|_, f| {
            let d = f
                .iter()
                .find(|d| d.id() == "logout-leaves-cookies")
                .unwrap();
            assert_eq!(d.finding.severity, Severity::Error, "{}", dump(f));
            assert!(
                d.finding.detail.contains("still open the me path"),
                "{}",
                dump(f)
            );
        }),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_the_probe_cannot_find_is_not_checked_until_csrf_from_names_it() {
    let hidden = Shape {
        token_out: TokenOut::Json("antiForgery"),
        ..api_v1()
    };
    run_all(vec![
        ShapeCase::new("a_token_under_an_unknown_key", hidden.clone(), &[]).then(|obs, f| {
            assert!(report::ok(f), "{}", dump(f));
            let notes = not_checked_items(obs, f);
            let login = notes
                .iter()
                .find(|n| n.item.starts_with("a browser on the app"))
                .expect("the login item is not checked");
            assert!(login.why.contains("--csrf-from"), "{}", login.why);
            assert!(
                notes.iter().any(|n| n.item.starts_with("CSRF")),
                "{notes:?}"
            );
        }),
        ShapeCase::new("the_same_token_named_with_csrf_from", hidden, &[])
            .tweak(|t| t.csrf_from = Some("json:antiForgery".into()))
            .then(healthy),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sibling_subdomains_logout_taking_a_post_from_anywhere_is_a_csrf_hole() {
    run_all(vec![ShapeCase::new(
        "sibling_logout_without_token_or_origin_check",
        Shape {
            api: "https://api.hub.test",
            apps: vec!["https://app.hub.test".into()],
            session_cookie:
                "hub_session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=86400",
            exempt: vec!["/api/v1/logout"],
            ..api_v1()
        },
        &["csrf-not-enforced"],
    )
    .tweak(api_v1_options)
    .then(|_, f| {
        let d = &f[0];
        assert_eq!(d.finding.severity, Severity::Error);
        assert!(
            d.finding
                .detail
                .contains("POST /api/v1/logout from a sibling subdomain"),
            "{}",
            dump(f)
        );
        assert!(
            d.evidence
                .iter()
                .any(|e| e.contains("origin: https://evil.hub.test")
                    && e.contains("→ 204")
                    && e.contains("ended the session")),
            "{}",
            dump(f)
        );
    })])
    .await;
}
