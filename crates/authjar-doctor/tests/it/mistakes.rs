//! Each mistake of the source post and of the peers' issues, reproduced by
//! a fixture deployment that is otherwise correct: the doctor must report
//! exactly that finding and nothing else. The correct deployments report
//! nothing at all.

use authjar_policy::Severity;

use crate::certs::Validity;
use crate::fixture::{assert_ids, doctor, dump, start, Cors, HttpTwin, Spec};

async fn found(spec: Spec) -> Vec<authjar_doctor::Diagnosis> {
    let running = start(spec).await;
    doctor(&running, |_| {}).await.1
}

#[tokio::test]
async fn a_correct_sibling_subdomain_deployment_has_no_findings() {
    assert_ids(&found(Spec::sibling()).await, &[]);
}

#[tokio::test]
async fn a_correct_localhost_development_setup_has_no_findings() {
    assert_ids(&found(Spec::localhost()).await, &[]);
}

#[tokio::test]
async fn a_correct_same_origin_deployment_has_no_findings() {
    let spec = Spec {
        api: "https://hub.test".into(),
        apps: vec!["https://hub.test".into()],
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &[]);
}

#[tokio::test]
async fn domain_localhost_in_production_is_cookie_domain_localhost() {
    let spec = Spec {
        session_cookie:
            "session={v}; Domain=localhost; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=3600"
                .into(),
        ..Spec::sibling()
    };
    let f = found(spec).await;
    assert_ids(&f, &["cookie-domain-localhost"]);
    assert_eq!(f[0].finding.severity, Severity::Error);
    assert!(
        f[0].evidence.iter().any(|e| e.contains("Domain=localhost")),
        "the evidence is the Set-Cookie line: {}",
        dump(&f)
    );
}

#[tokio::test]
async fn secure_cookies_over_plain_http_on_a_real_name_are_refused() {
    let spec = Spec {
        api: "http://api.hub.test".into(),
        apps: vec!["http://app.hub.test".into()],
        session_cookie: "session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=3600".into(),
        pre_session_cookie:
            "pre_session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=86400".into(),
        providers: Vec::new(),
        hsts: false,
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["secure-cookie-over-http"]);
}

#[tokio::test]
async fn samesite_none_without_secure_is_refused() {
    let spec = Spec {
        session_cookie: "session={v}; HttpOnly; SameSite=None; Path=/; Max-Age=3600".into(),
        ..Spec::localhost()
    };
    assert_ids(&found(spec).await, &["samesite-none-without-secure"]);
}

#[tokio::test]
async fn access_control_allow_origin_star_with_credentials() {
    let spec = Spec {
        cors: Cors::Star,
        ..Spec::sibling()
    };
    let f = found(spec).await;
    assert_ids(&f, &["cors-wildcard-with-credentials"]);
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.contains("access-control-allow-origin: *")),
        "{}",
        dump(&f)
    );
}

#[tokio::test]
async fn a_trailing_slash_origin_never_matches() {
    let spec = Spec {
        cors: Cors::Static("https://app.hub.test/".into()),
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["cors-trailing-slash-origin"]);
}

#[tokio::test]
async fn an_echoed_origin_without_vary_origin() {
    let spec = Spec {
        vary: false,
        ..Spec::sibling()
    };
    let f = found(spec).await;
    assert_ids(&f, &["cors-missing-vary-origin"]);
    assert_eq!(f[0].finding.severity, Severity::Warning);
}

#[tokio::test]
async fn cors_that_omits_the_csrf_header() {
    let spec = Spec {
        allow_headers: "Content-Type".into(),
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["cors-csrf-header-not-allowed"]);
}

#[tokio::test]
async fn no_csrf_enforcement_at_all() {
    let spec = Spec {
        check_token: false,
        check_origin: false,
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["csrf-not-enforced"]);
}

#[tokio::test]
async fn a_token_without_an_origin_check() {
    let spec = Spec {
        check_origin: false,
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["csrf-foreign-origin-accepted"]);
}

#[tokio::test]
async fn session_only_cookies_die_with_the_browser() {
    let spec = Spec {
        session_cookie: "__Host-session={v}; HttpOnly; Secure; SameSite=Lax; Path=/".into(),
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["session-only-cookie"]);
}

#[tokio::test]
async fn an_oauth_redirect_uri_on_http_localhost_in_production() {
    let spec = Spec {
        providers: vec![(
            "linkedin".into(),
            "http://localhost:8000/auth/callback".into(),
        )],
        ..Spec::sibling()
    };
    let f = found(spec).await;
    assert_ids(&f, &["oauth-redirect-uri-localhost"]);
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.contains("location: https://github.example/")),
        "{}",
        dump(&f)
    );
}

#[tokio::test]
async fn an_api_on_an_unrelated_site_with_the_posts_samesite_none_cookies() {
    let spec = Spec {
        api: "https://hub-api.test".into(),
        apps: vec!["https://hub.test".into()],
        session_cookie: "session={v}; HttpOnly; Secure; SameSite=None; Path=/; Max-Age=3600".into(),
        pre_session_cookie:
            "pre_session={v}; HttpOnly; Secure; SameSite=None; Path=/; Max-Age=86400".into(),
        ..Spec::sibling()
    };
    let f = found(spec).await;
    assert_ids(&f, &["cross-site-third-party-cookies"]);
    assert!(
        f.iter().any(|d| d.finding.severity == Severity::Error),
        "{}",
        dump(&f)
    );
}

#[tokio::test]
async fn an_unrelated_site_with_partitioned_cookies_works_in_chromium_but_not_safari() {
    let spec = Spec {
        api: "https://hub-api.test".into(),
        apps: vec!["https://hub.test".into()],
        session_cookie:
            "__Host-session={v}; HttpOnly; Secure; SameSite=None; Partitioned; Path=/; Max-Age=3600"
                .into(),
        pre_session_cookie:
            "__Host-pre={v}; HttpOnly; Secure; SameSite=None; Partitioned; Path=/; Max-Age=86400"
                .into(),
        ..Spec::sibling()
    };
    let f = found(spec).await;
    assert_ids(&f, &["cross-site-third-party-cookies"]);
    assert!(
        f.iter().all(|d| d.finding.severity == Severity::Warning)
            && f.iter().any(|d| d.finding.detail.contains("Safari")),
        "{}",
        dump(&f)
    );
}

#[tokio::test]
async fn a_page_on_127_0_0_1_calling_an_api_on_localhost() {
    let spec = Spec {
        apps: vec!["http://127.0.0.1:3000".into()],
        ..Spec::localhost()
    };
    assert_ids(&found(spec).await, &["localhost-vs-127-mixed"]);
}

#[tokio::test]
async fn an_app_and_api_on_a_hosting_providers_public_suffix() {
    let spec = Spec {
        api: "https://cat-hub-api.vercel.app".into(),
        apps: vec!["https://cat-hub.vercel.app".into()],
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["psl-hosting-domain"]);
}

#[tokio::test]
async fn a_cors_config_that_reflects_any_origin() {
    let spec = Spec {
        cors: Cors::Reflect,
        ..Spec::sibling()
    };
    assert_ids(
        &found(spec).await,
        &[
            "cors-foreign-origin-echoed",
            "localhost-origin-in-production",
        ],
    );
}

#[tokio::test]
async fn localhost_left_in_the_production_cors_allowlist() {
    let mut spec = Spec::sibling();
    let running = start(Spec {
        apps: vec![
            "https://app.hub.test".into(),
            "http://localhost:3000".into(),
        ],
        ..spec.clone()
    })
    .await;
    spec.apps.truncate(1);
    let (_, f) = doctor(&running, |t| t.apps = spec.apps.clone()).await;
    assert_ids(&f, &["localhost-origin-in-production"]);
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_blocks_everything() {
    let mut running = start(Spec::sibling()).await;
    running.ca_pem = None;
    let (obs, f) = doctor(&running, |_| {}).await;
    assert_ids(&f, &["tls-certificate-invalid"]);
    assert_eq!(obs.exchanges.len(), 1, "nothing more can be probed");
}

#[tokio::test]
async fn a_certificate_expiring_in_five_days() {
    let spec = Spec {
        validity: Validity::Days(5),
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["tls-expiring-soon"]);
}

#[tokio::test]
async fn the_api_answering_over_plain_http() {
    let spec = Spec {
        http_twin: HttpTwin::Serve,
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["http-not-redirected"]);
}

#[tokio::test]
async fn no_strict_transport_security_is_advice() {
    let spec = Spec {
        hsts: false,
        ..Spec::sibling()
    };
    let f = found(spec).await;
    assert_ids(&f, &["hsts-missing"]);
    assert!(authjar_doctor::report::ok(&f), "info only: {}", dump(&f));
}

#[tokio::test]
async fn logout_by_get_changes_state() {
    let spec = Spec {
        get_logout: true,
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["get-changes-state"]);
}

#[tokio::test]
async fn the_posts_csrf_cookie_recipe_breaks_on_sibling_subdomains() {
    let spec = Spec {
        token_in_body: false,
        csrf_cookie: Some("csrf_token={v}; Secure; SameSite=Lax; Path=/; Max-Age=3600".into()),
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["csrf-token-unreadable"]);
}

#[tokio::test]
async fn a_strict_oauth_state_cookie_does_not_survive_the_provider_redirect() {
    let spec = Spec {
        oauth_cookie: Some(
            "__Host-oauth_tx={v}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=600".into(),
        ),
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["oauth-state-cookie-not-sent"]);
}

#[tokio::test]
async fn a_logout_that_clears_another_path_leaves_the_cookie() {
    let spec = Spec {
        session_cookie:
            "__Secure-session={v}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=3600".into(),
        logout_removal: Some("__Secure-session=; Secure; Path=/auth; Max-Age=0".into()),
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["logout-leaves-cookies"]);
}

#[tokio::test]
async fn a_token_too_large_for_a_cookie() {
    let spec = Spec {
        session_padding: 4100,
        ..Spec::sibling()
    };
    assert_ids(&found(spec).await, &["cookie-too-large"]);
}

#[tokio::test]
async fn wrong_test_credentials_are_a_blocked_probe() {
    let running = start(Spec::sibling()).await;
    let (_, f) = doctor(&running, |t| {
        t.credentials = Some(authjar_doctor::Credentials::Login {
            email: crate::fixture::EMAIL.into(),
            password: "wrong".to_owned().into(),
        })
    })
    .await;
    assert_ids(&f, &["login-failed"]);
    assert!(
        f[0].evidence
            .iter()
            .any(|e| e.contains("invalid_credentials")),
        "{}",
        dump(&f)
    );
}

#[tokio::test]
async fn without_credentials_only_advice_is_given() {
    let running = start(Spec::sibling()).await;
    let (_, f) = doctor(&running, |t| t.credentials = None).await;
    assert_ids(&f, &["probe-without-credentials"]);
    assert!(authjar_doctor::report::ok(&f));
}

#[tokio::test]
async fn an_api_nobody_listens_on_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let target = authjar_doctor::Target::parse(authjar_doctor::TargetInput {
        api: format!("http://127.0.0.1:{port}"),
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
