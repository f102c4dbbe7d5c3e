//! Each mistake of the source post and of the peers' issues, reproduced by
//! a fixture deployment that is otherwise correct: the doctor must report
//! exactly that finding and nothing else. The correct deployments report
//! nothing at all.
//!
//! The cases are tables: every case runs on its own fixture, concurrently,
//! and a failing case is reported by its name with its own message.

use authjar_doctor::{Diagnosis, Observations, TargetInput};
use authjar_policy::Severity;

use crate::certs::Validity;
use crate::fixture::{assert_ids, closed_port, doctor, dump, start, Cors, HttpTwin, Spec};

/// One deployment, what the doctor is told about it, and what it must find.
struct Case {
    /// The case's name in failure messages.
    name: &'static str,
    /// The deployment the fixture serves.
    spec: Spec,
    /// Changes to what the doctor is told (by default: the fixture's apps
    /// and the test account).
    tweak: fn(&mut TargetInput),
    /// Whether the doctor trusts the fixture's test CA.
    trust_ca: bool,
    /// Exactly these finding ids.
    expect: &'static [&'static str],
    /// Further assertions on what was observed and found.
    then: fn(&Observations, &[Diagnosis]),
}

impl Case {
    fn new(name: &'static str, spec: Spec, expect: &'static [&'static str]) -> Case {
        Case {
            name,
            spec,
            tweak: |_| {},
            trust_ca: true,
            expect,
            then: |_, _| {},
        }
    }

    fn tweak(self, tweak: fn(&mut TargetInput)) -> Case {
        Case { tweak, ..self }
    }

    fn untrusted_ca(self) -> Case {
        Case {
            trust_ca: false,
            ..self
        }
    }

    fn then(self, then: fn(&Observations, &[Diagnosis])) -> Case {
        Case { then, ..self }
    }

    async fn run(self) {
        let mut running = start(self.spec).await;
        if !self.trust_ca {
            running.ca_pem = None;
        }
        let (obs, f) = doctor(&running, self.tweak).await;
        assert_ids(&f, self.expect);
        (self.then)(&obs, &f);
    }
}

/// The human report, without colour.
fn report_text(obs: &Observations, f: &[Diagnosis]) -> String {
    authjar_doctor::report::text(
        obs,
        f,
        obs.observed_at,
        authjar_policy::report::Style { color: false },
    )
}

/// Runs every case concurrently; fails naming each case that failed, with its message.
async fn run_all(cases: Vec<Case>) {
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
                    .unwrap_or_else(|| "a panic without a message".to_owned())
            } else {
                e.to_string()
            };
            failures.push(format!("case `{name}` failed: {message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_deployments_have_no_findings() {
    run_all(vec![
        Case::new(
            "a_correct_sibling_subdomain_deployment_has_no_findings",
            Spec::sibling(),
            &[],
        ),
        Case::new(
            "a_correct_localhost_development_setup_has_no_findings",
            Spec::localhost(),
            &[],
        ),
        // One fixed allowed origin for every request: the answer does not
        // depend on the Origin, so no `Vary: Origin` is needed.
        Case::new(
            "one_fixed_allowed_origin_needs_no_vary_origin",
            Spec {
                cors: Cors::Static("https://app.hub.test".into()),
                vary: false,
                ..Spec::sibling()
            },
            &[],
        ),
        Case::new(
            "a_correct_same_origin_deployment_has_no_findings",
            Spec {
                api: "https://hub.test".into(),
                apps: vec!["https://hub.test".into()],
                ..Spec::sibling()
            },
            &[],
        ),
    ])
    .await;
}

/// Cookie attributes, and sites and origins the cookies must cross.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_and_site_mistakes_are_each_reported_alone() {
    run_all(vec![
        Case::new(
            "domain_localhost_in_production_is_cookie_domain_localhost",
            Spec {
                session_cookie:
                    "session={v}; Domain=localhost; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=3600"
                        .into(),
                ..Spec::sibling()
            },
            &["cookie-domain-localhost"],
        )
        .then(|_, f| {
            assert_eq!(f[0].finding.severity, Severity::Error);
            assert!(
                f[0].evidence.iter().any(|e| e.contains("Domain=localhost")),
                "the evidence is the Set-Cookie line: {}",
                dump(f)
            );
        }),
        Case::new(
            "secure_cookies_over_plain_http_on_a_real_name_are_refused",
            Spec {
                api: "http://api.hub.test".into(),
                apps: vec!["http://app.hub.test".into()],
                session_cookie: "session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=3600"
                    .into(),
                pre_session_cookie:
                    "pre_session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=86400".into(),
                providers: Vec::new(),
                hsts: false,
                ..Spec::sibling()
            },
            &["secure-cookie-over-http"],
        ),
        Case::new(
            "samesite_none_without_secure_is_refused",
            Spec {
                session_cookie: "session={v}; HttpOnly; SameSite=None; Path=/; Max-Age=3600".into(),
                ..Spec::localhost()
            },
            &["samesite-none-without-secure"],
        ),
        Case::new(
            "session_only_cookies_die_with_the_browser",
            Spec {
                session_cookie: "__Host-session={v}; HttpOnly; Secure; SameSite=Lax; Path=/".into(),
                ..Spec::sibling()
            },
            &["session-only-cookie"],
        ),
        Case::new(
            "an_api_on_an_unrelated_site_with_the_posts_samesite_none_cookies",
            Spec {
                api: "https://hub-api.test".into(),
                apps: vec!["https://hub.test".into()],
                session_cookie:
                    "session={v}; HttpOnly; Secure; SameSite=None; Path=/; Max-Age=3600".into(),
                pre_session_cookie:
                    "pre_session={v}; HttpOnly; Secure; SameSite=None; Path=/; Max-Age=86400"
                        .into(),
                ..Spec::sibling()
            },
            &["cross-site-third-party-cookies"],
        )
        .then(|_, f| {
            assert!(
                f.iter().any(|d| d.finding.severity == Severity::Error),
                "{}",
                dump(f)
            );
        }),
        Case::new(
            "an_unrelated_site_with_partitioned_cookies_works_in_chromium_but_not_safari",
            Spec {
                api: "https://hub-api.test".into(),
                apps: vec!["https://hub.test".into()],
                session_cookie:
                    "__Host-session={v}; HttpOnly; Secure; SameSite=None; Partitioned; Path=/; Max-Age=3600"
                        .into(),
                pre_session_cookie:
                    "__Host-pre={v}; HttpOnly; Secure; SameSite=None; Partitioned; Path=/; Max-Age=86400"
                        .into(),
                ..Spec::sibling()
            },
            &["cross-site-third-party-cookies"],
        )
        .then(|_, f| {
            assert!(
                f.iter().all(|d| d.finding.severity == Severity::Warning)
                    && f.iter().any(|d| d.finding.detail.contains("Safari")),
                "{}",
                dump(f)
            );
        }),
        Case::new(
            "a_page_on_127_0_0_1_calling_an_api_on_localhost",
            Spec {
                apps: vec!["http://127.0.0.1:3000".into()],
                ..Spec::localhost()
            },
            &["localhost-vs-127-mixed"],
        ),
        Case::new(
            "an_app_and_api_on_a_hosting_providers_public_suffix",
            Spec {
                api: "https://cat-hub-api.vercel.app".into(),
                apps: vec!["https://cat-hub.vercel.app".into()],
                ..Spec::sibling()
            },
            &["psl-hosting-domain"],
        ),
        Case::new(
            "a_logout_that_clears_another_path_leaves_the_cookie",
            Spec {
                session_cookie:
                    "__Secure-session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=3600"
                        .into(),
                logout_removal: Some("__Secure-session=; Secure; Path=/auth; Max-Age=0".into()),
                ..Spec::sibling()
            },
            &["logout-leaves-cookies"],
        ),
        Case::new(
            "a_token_too_large_for_a_cookie",
            Spec {
                session_padding: 4100,
                ..Spec::sibling()
            },
            &["cookie-too-large"],
        ),
    ])
    .await;
}

/// CORS and CSRF protection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_and_csrf_mistakes_are_each_reported_alone() {
    run_all(vec![
        Case::new(
            "access_control_allow_origin_star_with_credentials",
            Spec {
                cors: Cors::Star,
                ..Spec::sibling()
            },
            &["cors-wildcard-with-credentials"],
        )
        .then(|_, f| {
            assert!(
                f[0].evidence
                    .iter()
                    .any(|e| e.contains("access-control-allow-origin: *")),
                "{}",
                dump(f)
            );
        }),
        Case::new(
            "a_trailing_slash_origin_never_matches",
            Spec {
                cors: Cors::Static("https://app.hub.test/".into()),
                ..Spec::sibling()
            },
            &["cors-trailing-slash-origin"],
        ),
        Case::new(
            "an_echoed_origin_without_vary_origin",
            Spec {
                vary: false,
                ..Spec::sibling()
            },
            &["cors-missing-vary-origin"],
        )
        .then(|_, f| assert_eq!(f[0].finding.severity, Severity::Warning)),
        Case::new(
            "cors_that_omits_the_csrf_header",
            Spec {
                allow_headers: "Content-Type".into(),
                ..Spec::sibling()
            },
            &["cors-csrf-header-not-allowed"],
        ),
        Case::new(
            "a_cors_config_that_reflects_any_origin",
            Spec {
                cors: Cors::Reflect,
                ..Spec::sibling()
            },
            &[
                "cors-foreign-origin-echoed",
                "localhost-origin-in-production",
            ],
        ),
        // The fixture allows localhost too; the doctor is told of the real app only.
        Case::new(
            "localhost_left_in_the_production_cors_allowlist",
            Spec {
                apps: vec![
                    "https://app.hub.test".into(),
                    "http://localhost:3000".into(),
                ],
                ..Spec::sibling()
            },
            &["localhost-origin-in-production"],
        )
        .tweak(|t| t.apps.truncate(1)),
        Case::new(
            "no_csrf_enforcement_at_all",
            Spec {
                check_token: false,
                check_origin: false,
                ..Spec::sibling()
            },
            &["csrf-not-enforced"],
        ),
        Case::new(
            "a_token_without_an_origin_check",
            Spec {
                check_origin: false,
                ..Spec::sibling()
            },
            &["csrf-foreign-origin-accepted"],
        ),
        Case::new(
            "the_posts_csrf_cookie_recipe_breaks_on_sibling_subdomains",
            Spec {
                token_in_body: false,
                csrf_cookie: Some(
                    "csrf_token={v}; Secure; SameSite=Lax; Path=/; Max-Age=3600".into(),
                ),
                ..Spec::sibling()
            },
            &["csrf-token-unreadable"],
        ),
        Case::new(
            "logout_by_get_changes_state",
            Spec {
                get_logout: true,
                ..Spec::sibling()
            },
            &["get-changes-state"],
        ),
    ])
    .await;
}

/// OAuth, TLS and HTTPS, and what the doctor can do with the credentials it has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_tls_and_probe_mistakes_are_each_reported_alone() {
    run_all(vec![
        Case::new(
            "an_oauth_redirect_uri_on_http_localhost_in_production",
            Spec {
                providers: vec![(
                    "linkedin".into(),
                    "http://localhost:8000/auth/callback".into(),
                )],
                ..Spec::sibling()
            },
            &["oauth-redirect-uri-localhost"],
        )
        .then(|_, f| {
            assert!(
                f[0].evidence
                    .iter()
                    .any(|e| e.contains("location: https://github.example/")),
                "{}",
                dump(f)
            );
        }),
        Case::new(
            "a_strict_oauth_state_cookie_does_not_survive_the_provider_redirect",
            Spec {
                oauth_cookie: Some(
                    "__Host-oauth_tx={v}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=600"
                        .into(),
                ),
                ..Spec::sibling()
            },
            &["oauth-state-cookie-not-sent"],
        ),
        Case::new(
            "a_certificate_from_an_unknown_ca_blocks_everything",
            Spec::sibling(),
            &["tls-certificate-invalid"],
        )
        .untrusted_ca()
        .then(|obs, f| {
            assert_eq!(obs.exchanges.len(), 1, "nothing more can be probed");
            let text = report_text(obs, f);
            assert!(
                text.contains("– a browser on the app can log in")
                    && text.contains("not checked: the certificate was refused")
                    && !text.contains("✓"),
                "{text}"
            );
        }),
        Case::new(
            "a_certificate_expiring_in_five_days",
            Spec {
                validity: Validity::Days(5),
                ..Spec::sibling()
            },
            &["tls-expiring-soon"],
        ),
        Case::new(
            "the_api_answering_over_plain_http",
            Spec {
                http_twin: HttpTwin::Serve,
                ..Spec::sibling()
            },
            &["http-not-redirected"],
        ),
        Case::new(
            "no_strict_transport_security_is_advice",
            Spec {
                hsts: false,
                ..Spec::sibling()
            },
            &["hsts-missing"],
        )
        .then(|_, f| assert!(authjar_doctor::report::ok(f), "info only: {}", dump(f))),
        Case::new(
            "wrong_test_credentials_are_a_blocked_probe",
            Spec::sibling(),
            &["login-failed"],
        )
        .tweak(|t| {
            t.credentials = Some(authjar_doctor::Credentials::Login {
                email: crate::fixture::EMAIL.into(),
                password: "wrong".to_owned().into(),
            })
        })
        .then(|obs, f| {
            assert!(
                f[0].evidence
                    .iter()
                    .any(|e| e.contains("invalid_credentials")),
                "{}",
                dump(f)
            );
            let text = report_text(obs, f);
            assert!(
                text.contains("– CSRF protection is enforced")
                    && text.contains("(not checked: no login succeeded)")
                    && !text.contains("✓ CSRF"),
                "{text}"
            );
        }),
        Case::new(
            "without_credentials_only_advice_is_given",
            Spec::sibling(),
            &["probe-without-credentials"],
        )
        .tweak(|t| t.credentials = None)
        .then(|_, f| assert!(authjar_doctor::report::ok(f))),
    ])
    .await;
}

#[tokio::test]
async fn an_api_nobody_listens_on_is_unreachable() {
    // Bound but never listening: connections are refused, and no other
    // process can take the port while the test runs.
    let (_closed, addr) = closed_port();
    let target = authjar_doctor::Target::parse(authjar_doctor::TargetInput {
        api: format!("http://{addr}"),
        ..Default::default()
    })
    .unwrap();
    let options = authjar_doctor::ProbeOptions {
        system_dns: false,
        ..Default::default()
    };
    let e = authjar_doctor::probe(&target, &options).await.unwrap_err();
    assert!(
        matches!(e, authjar_doctor::ProbeError::Unreachable { .. }),
        "{e}"
    );
}
