//! `authjar dev certs`: a CA made once and reused, private keys 0600, and a
//! certificate a TLS client that trusts the CA accepts for real (no
//! "ignore certificate errors"), served by `authjar serve` itself.

use crate::helpers::authjar;
use crate::serve::{start, terminate};

fn certs(dir: &std::path::Path, names: &[&str]) -> String {
    let args: Vec<&str> = ["dev", "certs"]
        .iter()
        .chain(names)
        .chain(&["--out", "certs"])
        .copied()
        .collect();
    let out = authjar(dir, &args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn dev_certs_make_a_reusable_ca_and_a_certificate_authjar_serves_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let first = certs(dir.path(), &["api.hub.test", "app.hub.test"]);
    assert!(
        first.contains("(new)")
            && first.contains("certutil -d sql:$HOME/.pki/nssdb")
            && first.contains("certutil -d sql:PROFILE -A -t C,, -n authjar-dev-ca -i ")
            && first.contains("127.0.0.1  app.hub.test"),
        "{first}"
    );
    let ca_path = dir.path().join("certs/authjar-dev-ca.pem");
    let ca_before = std::fs::read(&ca_path).unwrap();
    let second = certs(dir.path(), &["api.hub.test"]);
    assert!(second.contains("(reused)"), "{second}");
    assert_eq!(
        std::fs::read(&ca_path).unwrap(),
        ca_before,
        "the CA is created once"
    );
    #[cfg(unix)]
    for key in ["certs/authjar-dev-ca-key.pem", "certs/api.hub.test-key.pem"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
    let (mut child, banner, addr) = start(
        dir.path(),
        &[
            ("AUTHJAR_PUBLIC_URL", "https://api.hub.test"),
            ("AUTHJAR_APP_ORIGINS", "https://app.hub.test"),
            ("AUTHJAR_SECRET", "0123456789abcdef0123456789abcdef"),
            ("AUTHJAR_EMAIL__SMTP_URL", "smtp+plain://127.0.0.1:2525"),
            ("AUTHJAR_TLS_CERT", "certs/api.hub.test.pem"),
            ("AUTHJAR_TLS_KEY", "certs/api.hub.test-key.pem"),
        ],
    );
    assert!(banner.contains("listening on https://"), "{banner}");
    let ca = reqwest::Certificate::from_pem(&ca_before).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .tls_built_in_root_certs(false)
        .resolve("api.hub.test", addr.parse().unwrap())
        .build()
        .unwrap();
    let port = addr.rsplit(':').next().unwrap();
    let r = client
        .get(format!("https://api.hub.test:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .resolve("api.hub.test", addr.parse().unwrap())
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("https://api.hub.test:{port}/healthz"))
            .send()
            .await
            .is_err(),
        "without the CA the certificate is refused"
    );
    assert_eq!(terminate(&mut child), Some(0));
}
