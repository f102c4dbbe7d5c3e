//! Nothing secret reaches the observations, the report or `--json`: not
//! the password an API echoes in an error, not the `Cookie` header a
//! refusal repeats, not a value folded into a `Set-Cookie` line after a
//! comma or quoted around a `;`, not a session id nested in a JSON answer.

use authjar_doctor::report::{self, JsonReport};
use authjar_policy::report::Style;

use crate::fixture::{doctor, PASSWORD};
use crate::frameworks::express;
use crate::shapes::{describe, serve, Shape};

const FOLDED: &str = "FoldedSecret4f1c2e9a";
const QUOTED: &str = "QuotedSecret9b7d;x=1";

fn leaky() -> Shape {
    Shape {
        echo: true,
        extra_login_cookies: vec![
            format!("theme=dark; Path=/; Max-Age=3600, remember={FOLDED}; HttpOnly; Max-Age=3600"),
            format!("prefs=\"{QUOTED}\"; Path=/; Max-Age=3600"),
        ],
        login_extra_json: Some(serde_json::json!({
            "session": {"id": "{sid}", "user": "tabby"},
            "note": "your session is {sid}",
        })),
        ..express()
    }
}

/// The observations, the human report and the `--json` document, as text.
fn everything(obs: &authjar_doctor::Observations, f: &[authjar_doctor::Diagnosis]) -> String {
    let doc = serde_json::to_string(&JsonReport::new(obs, f)).unwrap();
    format!(
        "{}\n{}\n{doc}",
        serde_json::to_string(obs).unwrap(),
        report::text(obs, f, obs.observed_at, Style { color: false })
    )
}

fn assert_clean(all: &str, secrets: &[String], password: &str) {
    assert!(!all.contains(password), "the password is printed");
    for s in secrets {
        assert!(!all.contains(s.as_str()), "{s} is printed");
    }
    for s in [FOLDED, "QuotedSecret9b7d"] {
        assert!(!all.contains(s), "{s} is printed");
    }
}

#[tokio::test]
async fn secrets_an_api_echoes_or_folds_never_reach_the_report() {
    let shape = leaky();
    let served = serve(shape.clone()).await;
    let (obs, f) = doctor(&served.running, |t| describe(&shape, t)).await;
    let all = everything(&obs, &f);
    // The refusals did echo the cookies and the login body: the doctor saw them.
    let echoed = obs.exchanges.iter().any(|e| {
        e.response
            .as_ref()
            .and_then(|r| r.body.as_deref())
            .is_some_and(|b| b.contains("refused") && b.contains("<redacted>"))
    });
    assert!(
        echoed,
        "no refusal echoed anything: the test proves nothing"
    );
    assert!(
        all.contains("remember=") && all.contains("prefs="),
        "cookie names are kept"
    );
    let secrets = served.secrets();
    assert!(!secrets.is_empty());
    assert_clean(&all, &secrets, PASSWORD);
}

#[tokio::test]
async fn a_password_echoed_in_a_login_error_is_redacted() {
    let shape = leaky();
    let served = serve(shape.clone()).await;
    let wrong = "Hunter2-not-the-password";
    let (obs, f) = doctor(&served.running, |t| {
        describe(&shape, t);
        t.credentials = Some(authjar_doctor::Credentials::Login {
            email: crate::shapes::USERNAME.into(),
            password: wrong.to_owned().into(),
        });
    })
    .await;
    let login = f
        .iter()
        .find(|d| d.id() == "login-failed")
        .expect("login-failed");
    assert!(
        login.evidence.iter().any(|e| e.contains("wrong password")),
        "the API's error is still shown: {login:?}"
    );
    assert_clean(&everything(&obs, &f), &served.secrets(), wrong);
}
