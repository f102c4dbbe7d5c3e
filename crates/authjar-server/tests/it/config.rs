//! Configuration: defaults, precedence of every layer, `.env` loading,
//! unknown keys, and one test per kind of bad value (the message names the
//! key, the value and what is accepted; secrets stay hidden).

use std::path::Path;
use std::time::Duration;

use authjar_policy::Environment;
use authjar_server::config::{Config, ConfigError, DatabaseUrl, LoadOptions, SecretSetting};

fn load(dir: &Path, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::load(&LoadOptions {
        dir: dir.to_owned(),
        config_file: None,
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    })
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn no_configuration_at_all_gives_the_documented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let c = load(dir.path(), &[("HOME", "/root"), ("PATH", "/bin")]).unwrap();
    assert_eq!(c.public_url.to_string(), "http://localhost:8000");
    assert_eq!(
        c.deployment().app_origins[0].to_string(),
        "http://localhost:3000"
    );
    assert_eq!(c.environment, Environment::Development);
    assert!(c.environment_inferred);
    assert_eq!(c.listen.to_string(), "127.0.0.1:8000");
    assert!(matches!(&c.database, DatabaseUrl::Sqlite(p) if p == &dir.path().join("authjar.db")));
    assert!(
        matches!(&c.secret, SecretSetting::DevelopmentFile(p) if p == &dir.path().join("authjar.secret"))
    );
    assert_eq!(
        (c.access_ttl, c.refresh_ttl),
        (Duration::from_secs(1800), Duration::from_secs(30 * 86_400))
    );
    assert_eq!(c.refresh_reuse_grace, Duration::from_secs(10));
    let r = c.rate_limit;
    assert_eq!(
        (
            r.enabled,
            r.login_per_account,
            r.login_failures_per_account,
            r.per_client,
            r.refresh_per_client
        ),
        (true, 10, 100, 60, 120)
    );
    assert!(c.sources.is_empty());
}

#[test]
fn each_layer_overrides_the_one_below() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "authjar.toml", "access_ttl = \"10m\"\n");
    write(d, ".env", "AUTHJAR_ACCESS_TTL=20m\n");
    write(d, ".env.development", "AUTHJAR_ACCESS_TTL=25m\n");
    let ttl = |env: &[(&str, &str)]| load(d, env).unwrap().access_ttl.as_secs() / 60;
    assert_eq!(
        ttl(&[("AUTHJAR_ACCESS_TTL", "40m")]),
        40,
        "process environment wins"
    );
    assert_eq!(ttl(&[]), 25, ".env.<environment> beats .env");
    std::fs::remove_file(d.join(".env.development")).unwrap();
    assert_eq!(ttl(&[]), 20, ".env beats authjar.toml");
    std::fs::remove_file(d.join(".env")).unwrap();
    assert_eq!(ttl(&[]), 10, "authjar.toml beats the default");
}

#[test]
fn the_environment_picks_which_dotenv_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, ".env.production", "AUTHJAR_SECRET=0123456789abcdef0123456789abcdef\nAUTHJAR_APP_ORIGINS=https://app.hub.test\n");
    write(
        d,
        ".env.development",
        "AUTHJAR_APP_ORIGINS=http://localhost:5173\n",
    );
    let prod = load(
        d,
        &[
            ("ENVIRONMENT", "production"),
            ("BASE_URL", "https://api.hub.test"),
        ],
    )
    .unwrap();
    assert_eq!(prod.environment, Environment::Production);
    assert!(!prod.environment_inferred);
    assert_eq!(
        prod.deployment().app_origins[0].to_string(),
        "https://app.hub.test"
    );
    assert!(matches!(prod.secret, SecretSetting::Configured(_)));
    // Inferred from an https public_url set in .env.
    write(d, ".env", "AUTHJAR_PUBLIC_URL=https://api.hub.test\n");
    let inferred = load(d, &[]).unwrap();
    assert_eq!(inferred.environment, Environment::Production);
    assert_eq!(
        inferred.deployment().app_origins[0].to_string(),
        "https://app.hub.test"
    );
    std::fs::remove_file(d.join(".env")).unwrap();
    let dev = load(d, &[]).unwrap();
    assert_eq!(
        dev.deployment().app_origins[0].to_string(),
        "http://localhost:5173"
    );
}

#[test]
fn base_url_and_environment_from_the_post_are_read_but_authjar_keys_win() {
    let dir = tempfile::tempdir().unwrap();
    let c = load(dir.path(), &[("BASE_URL", "https://api.cat.test")]).unwrap();
    assert_eq!(c.public_url.to_string(), "https://api.cat.test");
    let c = load(
        dir.path(),
        &[
            ("BASE_URL", "https://api.cat.test"),
            ("AUTHJAR_PUBLIC_URL", "https://auth.cat.test"),
        ],
    )
    .unwrap();
    assert_eq!(c.public_url.to_string(), "https://auth.cat.test");
    let c = load(
        dir.path(),
        &[
            ("ENVIRONMENT", "production"),
            ("AUTHJAR_ENVIRONMENT", "development"),
        ],
    )
    .unwrap();
    assert_eq!(c.environment, Environment::Development);
}

#[test]
fn nested_keys_come_from_toml_tables_and_double_underscore_variables() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "authjar.toml", "[rate_limit]\nenabled = false\n\n[oauth.github]\nclient_id = \"gh-id\"\nclient_secret = \"gh-secret\"\n");
    let c = load(
        dir.path(),
        &[
            ("AUTHJAR_RATE_LIMIT__PER_CLIENT", "5"),
            ("AUTHJAR_OAUTH__GOOGLE__CLIENT_ID", "g-id"),
        ],
    )
    .unwrap();
    assert!(!c.rate_limit.enabled);
    assert_eq!(c.rate_limit.per_client, 5);
    let ids: Vec<&str> = c.oauth.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["github", "google"]);
    assert_eq!(c.oauth[0].client_id, "gh-id");
}

#[test]
fn unknown_keys_are_errors_that_name_the_key_and_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "authjar.toml", "acess_ttl = \"10m\"\n");
    let e = load(dir.path(), &[]).unwrap_err().to_string();
    assert!(e.contains("acess_ttl") && e.contains("authjar.toml"), "{e}");
    write(dir.path(), "authjar.toml", "[rate_limit]\nbogus = 1\n");
    let e = load(dir.path(), &[]).unwrap_err().to_string();
    assert!(e.contains("rate_limit.bogus"), "{e}");
    write(
        dir.path(),
        "authjar.toml",
        "[oauth.github]\nclient_idd = \"x\"\n",
    );
    assert!(load(dir.path(), &[])
        .unwrap_err()
        .to_string()
        .contains("oauth.github.client_idd"));
    std::fs::remove_file(dir.path().join("authjar.toml")).unwrap();
    let e = load(dir.path(), &[("AUTHJAR_ACESS_TTL", "1m")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AUTHJAR_ACESS_TTL") && e.contains("did you mean `AUTHJAR_ACCESS_TTL`"),
        "{e}"
    );
    write(dir.path(), ".env", "AUTHJAR_BIN=/usr/local/bin/authjar\n");
    let e = load(dir.path(), &[]).unwrap_err().to_string();
    assert!(
        e.contains("AUTHJAR_BIN") && e.contains(".env"),
        "an unknown name in authjar's own file is still an error: {e}"
    );
    std::fs::remove_file(dir.path().join(".env")).unwrap();
    // A deploy script's own AUTHJAR_* variable does not stop the server.
    let c = load(dir.path(), &[("AUTHJAR_BIN", "/usr/local/bin/authjar")]).unwrap();
    assert_eq!(c.ignored_variables, ["AUTHJAR_BIN"]);
    // Unrelated variables are none of authjar's business.
    assert!(load(dir.path(), &[("DATABASE_URL", "x"), ("ACCESS_TTL", "y")]).is_ok());
}

#[test]
fn every_kind_of_bad_value_names_the_key_the_value_and_what_is_accepted() {
    let cases: &[(&str, &str, &str)] = &[
        ("AUTHJAR_ACCESS_TTL", "thirty", "a duration such as 30m"),
        ("AUTHJAR_ACCESS_TTL", "0s", "between 1s and"),
        ("AUTHJAR_REFRESH_REUSE_GRACE", "1h", "between 0s and 5m"),
        ("AUTHJAR_LISTEN", "localhost", "a socket address"),
        (
            "AUTHJAR_PUBLIC_URL",
            "localhost:8000",
            "absolute http(s) URL",
        ),
        (
            "AUTHJAR_PUBLIC_URL",
            "https://api.x.com/?a=b",
            "no query or fragment",
        ),
        (
            "AUTHJAR_APP_ORIGINS",
            "https://a.com/app",
            "remove the path",
        ),
        (
            "AUTHJAR_APP_ORIGINS",
            "https://ok.com, ftp://b.com",
            "scheme `ftp`",
        ),
        ("AUTHJAR_ENVIRONMENT", "prod", "production or development"),
        ("AUTHJAR_RATE_LIMIT__ENABLED", "maybe", "true or false"),
        ("AUTHJAR_RATE_LIMIT__PER_CLIENT", "0", "at least 1"),
        ("AUTHJAR_TRUSTED_PROXIES", "10.0.0.0/33", "CIDR"),
        ("AUTHJAR_DATABASE_URL", "mysql://db/x", "sqlite://PATH"),
        ("AUTHJAR_COOKIE_DOMAIN", "https://x.com", "bare host name"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (var, value, accepted) in cases {
        let e = load(dir.path(), &[(var, value)]).unwrap_err().to_string();
        let key = var
            .trim_start_matches("AUTHJAR_")
            .to_ascii_lowercase()
            .replace("__", ".");
        assert!(
            e.contains(&format!("`{key}`")),
            "{var}: key missing in: {e}"
        );
        assert!(
            e.contains(&format!("{value:?}")) || *var == "AUTHJAR_DATABASE_URL",
            "{var}: value missing in: {e}"
        );
        assert!(e.contains(accepted), "{var}: expected `{accepted}` in: {e}");
        assert!(e.contains(var), "{var}: source missing in: {e}");
    }
}

#[test]
fn secrets_never_appear_in_error_messages() {
    let dir = tempfile::tempdir().unwrap();
    let e = load(dir.path(), &[("AUTHJAR_SECRET", "hunter2-too-short")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("at least 32 characters") && e.contains("(hidden)"),
        "{e}"
    );
    assert!(!e.contains("hunter2"), "{e}");
    let e = load(
        dir.path(),
        &[("AUTHJAR_DATABASE_URL", "mysql://root:p4ssw0rd@db/x")],
    )
    .unwrap_err()
    .to_string();
    assert!(!e.contains("p4ssw0rd"), "{e}");
}

#[test]
fn toml_values_of_the_wrong_type_say_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "authjar.toml", "access_ttl = 1800\n");
    let e = load(dir.path(), &[]).unwrap_err().to_string();
    assert!(
        e.contains("`access_ttl` = 1800") && e.contains("quoted string"),
        "{e}"
    );
    write(
        dir.path(),
        "authjar.toml",
        "app_origins = [\"https://a.com\", 3]\n",
    );
    assert!(load(dir.path(), &[])
        .unwrap_err()
        .to_string()
        .contains("a list of strings"));
    write(dir.path(), "authjar.toml", "app_origins = [\"https://a.com\", \"https://b.com\"]\n[rate_limit]\nenabled = true\nper_client = 30\n");
    let c = load(dir.path(), &[]).unwrap();
    assert_eq!(c.deployment().app_origins.len(), 2);
    assert_eq!(c.rate_limit.per_client, 30);
}

#[test]
fn settings_that_go_together_are_checked_together() {
    let dir = tempfile::tempdir().unwrap();
    let e = load(dir.path(), &[("AUTHJAR_TLS_CERT", "cert.pem")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("tls_cert and tls_key"), "{e}");
    let e = load(
        dir.path(),
        &[("AUTHJAR_ACCESS_TTL", "2h"), ("AUTHJAR_REFRESH_TTL", "1h")],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("refresh_ttl") && e.contains("access_ttl"), "{e}");
    let e = load(dir.path(), &[("AUTHJAR_OAUTH__GITHUB__CLIENT_SECRET", "s")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("oauth.github.client_id"), "{e}");
}

#[test]
fn secret_file_is_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "secret.txt",
        "0123456789abcdef0123456789abcdef\n",
    );
    let c = load(dir.path(), &[("AUTHJAR_SECRET_FILE", "secret.txt")]).unwrap();
    assert!(matches!(c.secret, SecretSetting::Configured(_)));
    let e = load(dir.path(), &[("AUTHJAR_SECRET_FILE", "missing.txt")])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`secret_file`") && e.contains("readable file"),
        "{e}"
    );
}

#[test]
fn production_without_a_secret_is_a_finding() {
    let dir = tempfile::tempdir().unwrap();
    let c = load(
        dir.path(),
        &[
            ("AUTHJAR_PUBLIC_URL", "https://api.hub.test"),
            ("AUTHJAR_APP_ORIGINS", "https://app.hub.test"),
        ],
    )
    .unwrap();
    assert!(matches!(c.secret, SecretSetting::Missing));
    let ids: Vec<&str> = c.findings(0).iter().map(|f| f.id).collect();
    assert_eq!(ids, ["secret-missing-in-production"]);
}

#[test]
fn a_malformed_dotenv_file_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".env", "AUTHJAR_ACCESS_TTL='unterminated\n");
    let e = load(dir.path(), &[]).unwrap_err().to_string();
    assert!(e.contains(".env"), "{e}");
}

#[test]
fn an_explicit_config_file_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let e = Config::load(&LoadOptions {
        dir: dir.path().to_owned(),
        config_file: Some("nope.toml".into()),
        env: vec![],
    })
    .unwrap_err()
    .to_string();
    assert!(e.contains("nope.toml"), "{e}");
}
