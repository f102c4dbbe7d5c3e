//! `authjar check`: exit codes, the human report and `--json`, on no
//! configuration, the post's production mistakes, and a correct
//! sibling-subdomain production configuration.

use std::process::Output;

use crate::helpers::{authjar, ids};

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn no_configuration_at_all_exits_0_with_a_readable_cookie_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = authjar(dir.path(), &["check"], &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("http://localhost:3000") && text.contains("same site"),
        "{text}"
    );
    for col in [
        "name",
        "Secure",
        "HttpOnly",
        "SameSite",
        "Path",
        "Domain",
        "Partitioned",
        "Max-Age",
    ] {
        assert!(text.contains(col), "column {col} missing:\n{text}");
    }
    assert!(
        text.contains("access_token  no     yes      Lax      /"),
        "{text}"
    );
    assert!(
        text.contains("✓ cookie Domain is only set on purpose"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
    assert!(
        !dir.path().join("authjar.db").exists(),
        "check never creates the database"
    );
}

#[test]
fn the_posts_production_mistakes_exit_1_with_the_right_finding_ids() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("authjar.toml"),
        "public_url = \"https://api.cat-therapist-hub.com\"\n\
         app_origins = [\"http://localhost:3000\", \"https://cat-therapist-hub.com\"]\n\
         cookie_domain = \"localhost\"\n\
         environment = \"production\"\n\
         secret = \"0123456789abcdef0123456789abcdef\"\n",
    )
    .unwrap();
    let out = authjar(dir.path(), &["check", "--json"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(
        ids(&doc),
        ["cookie-domain-localhost", "localhost-origin-in-production"]
    );
    let f = &doc["findings"][0];
    for field in ["id", "severity", "title", "detail", "fix"] {
        assert!(f[field].is_string(), "{field} missing in {f}");
    }
    // The human report says the same, with the fix.
    let text = String::from_utf8(authjar(dir.path(), &["check"], &[]).stdout).unwrap();
    assert!(
        text.contains("✗ cookie Domain is only set on purpose"),
        "{text}"
    );
    assert!(text.contains("fix: Remove the Domain attribute"), "{text}");
}

#[test]
fn environment_production_with_base_url_on_localhost_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let out = authjar(
        dir.path(),
        &["check", "--json"],
        &[
            ("ENVIRONMENT", "production"),
            ("BASE_URL", "http://localhost:8000"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        ids(&json(&out)),
        [
            "http-public-url-in-production",
            "localhost-origin-in-production",
            "localhost-public-url-in-production",
            "secret-missing-in-production"
        ]
    );
}

#[test]
fn a_correct_sibling_subdomain_production_config_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env.production"),
        "AUTHJAR_SECRET=0123456789abcdef0123456789abcdef\n",
    )
    .unwrap();
    let env = [
        ("AUTHJAR_PUBLIC_URL", "https://api.cat-therapist-hub.com"),
        ("AUTHJAR_APP_ORIGINS", "https://app.cat-therapist-hub.com"),
    ];
    let out = authjar(dir.path(), &["check", "--json"], &env);
    let doc = json(&out);
    assert_eq!(out.status.code(), Some(0), "{doc}");
    assert_eq!(doc["ok"], true);
    assert!(ids(&doc).is_empty());
    assert_eq!(doc["environment"], "production");
    assert_eq!(doc["app_origins"][0]["relation"], "same-site");
    let names: Vec<&str> = doc["cookies"]["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "__Host-access_token",
            "__Host-refresh_token",
            "__Host-pre_session",
            "__Host-oauth_tx"
        ]
    );
}

#[test]
fn unrelated_sites_exit_1_because_safari_may_drop_the_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("AUTHJAR_PUBLIC_URL", "https://hub-api.test"),
        ("AUTHJAR_APP_ORIGINS", "https://hub.test"),
        ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
    ];
    let out = authjar(dir.path(), &["check", "--json"], &env);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    assert_eq!(ids(&doc), ["cross-site-third-party-cookies"]);
    assert_eq!(doc["findings"][0]["severity"], "warning");
}

#[test]
fn an_unusable_configuration_exits_2_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = authjar(dir.path(), &["check"], &[("AUTHJAR_ACCESS_TTL", "soon")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("access_ttl") && err.contains("\"soon\""),
        "{err}"
    );
    let out = authjar(
        dir.path(),
        &["check", "--json"],
        &[("AUTHJAR_ACCESS_TTL", "soon")],
    );
    assert_eq!(out.status.code(), Some(2));
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["findings"][0]["id"], "config-invalid");
}

#[test]
fn the_localhost_127_mistake_is_named_with_its_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = authjar(
        dir.path(),
        &["check"],
        &[("AUTHJAR_APP_ORIGINS", "http://127.0.0.1:3000")],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("localhost-vs-127-mixed"), "{text}");
    assert!(
        text.contains("open the app at http://localhost:3000"),
        "{text}"
    );
}

#[test]
fn the_email_setup_is_shown_and_a_link_base_off_the_apps_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let out = authjar(dir.path(), &["check"], &[]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("printed to the log"), "{text}");
    assert!(text.contains("open http://localhost:3000/"), "{text}");
    let doc = json(&authjar(
        dir.path(),
        &["check", "--json"],
        &[
            ("AUTHJAR_PUBLIC_URL", "https://api.hub.test"),
            ("AUTHJAR_APP_ORIGINS", "https://app.hub.test"),
            ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
            (
                "AUTHJAR_EMAIL__SMTP_URL",
                "smtps://mailer:s3cret-password@smtp.hub.test:465",
            ),
            ("AUTHJAR_EMAIL__LINK_BASE", "https://elsewhere.test/account"),
        ],
    ));
    let email = &doc["email"];
    assert_eq!(
        email["require_verified_email"], true,
        "production requires it by default"
    );
    assert_eq!(email["link_base_is_app_origin"], false);
    let delivery = email["delivery"].as_str().unwrap();
    assert!(delivery.contains("smtps://smtp.hub.test:465"), "{delivery}");
    assert!(
        !doc.to_string().contains("s3cret-password"),
        "the SMTP password is never printed"
    );
}
