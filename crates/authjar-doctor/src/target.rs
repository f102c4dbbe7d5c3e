//! What the doctor audits: the API, the app origins whose pages call it,
//! how to log in (test credentials or a `Cookie` header), and where the
//! endpoints are for an API that is not authjar. Parsed once; a `Target`
//! that exists is usable.

use authjar_policy::{PublicUrl, WebOrigin};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Why the inputs cannot describe a target (the CLI exits 2).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// `--api` is not an http(s) URL.
    #[error("--api {value}: {reason}")]
    Api {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An `--app` is not an origin.
    #[error("--app {value}: {reason}")]
    App {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A path option does not start with `/`.
    #[error("{option} {value}: a path on --api must start with `/`")]
    Path {
        /// The option's name.
        option: &'static str,
        /// The value given.
        value: String,
    },
    /// `--login-body` is not a JSON template with `{email}` and `{password}`.
    #[error("--login-body: {0}")]
    LoginBody(String),
    /// `--csrf-header` is not a header name.
    #[error("--csrf-header {0}: not an HTTP header name")]
    CsrfHeader(String),
}

/// Where the endpoints are, as absolute paths on the API URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiPaths {
    /// The login endpoint (POST, JSON).
    pub login: String,
    /// The "who am I" endpoint (GET).
    pub me: String,
    /// Where a CSRF token is handed out (GET).
    pub csrf: String,
    /// The session refresh endpoint (POST).
    pub refresh: String,
    /// The logout endpoint (POST).
    pub logout: String,
    /// The OAuth provider list (GET, `{"providers":[{"id","name","start_url"}]}`).
    pub providers: String,
}

impl ApiPaths {
    /// authjar's own paths (docs/http-api.md).
    pub fn authjar() -> ApiPaths {
        ApiPaths {
            login: "/auth/login".into(),
            me: "/auth/me".into(),
            csrf: "/auth/csrf".into(),
            refresh: "/auth/refresh".into(),
            logout: "/auth/logout".into(),
            providers: "/auth/providers".into(),
        }
    }

    fn validate(&self) -> Result<(), TargetError> {
        let all = [
            ("--login-path", &self.login),
            ("--me-path", &self.me),
            ("--csrf-path", &self.csrf),
            ("--refresh-path", &self.refresh),
            ("--logout-path", &self.logout),
            ("--providers-path", &self.providers),
        ];
        for (option, value) in all {
            validate_path(option, value)?;
        }
        Ok(())
    }
}

fn validate_path(option: &'static str, value: &str) -> Result<(), TargetError> {
    if value.starts_with('/') && !value.starts_with("//") {
        return Ok(());
    }
    Err(TargetError::Path {
        option,
        value: value.to_owned(),
    })
}

/// The login request body: a JSON template with `{email}` and `{password}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginBody(String);

impl LoginBody {
    /// authjar's body.
    pub const AUTHJAR: &'static str = r#"{"email":"{email}","password":"{password}"}"#;

    /// Checks that the template names the password and is JSON once filled in.
    pub fn parse(template: &str) -> Result<LoginBody, TargetError> {
        if !template.contains("{password}") {
            return Err(TargetError::LoginBody(
                "the template must contain {password} (and usually {email})".into(),
            ));
        }
        let body = LoginBody(template.to_owned());
        serde_json::from_str::<serde_json::Value>(&body.render("a@b.c", "p\"w"))
            .map_err(|e| TargetError::LoginBody(format!("not JSON once filled in: {e}")))?;
        Ok(body)
    }

    /// The body with the values JSON-escaped into the template's strings.
    pub fn render(&self, email: &str, password: &str) -> String {
        self.0
            .replace("{email}", &json_escape(email))
            .replace("{password}", &json_escape(password))
    }

    /// The body as recorded: the password never leaves the probe.
    pub fn redacted(&self, email: &str) -> String {
        self.render(email, "<redacted>")
    }
}

/// The inside of a JSON string literal holding `s`.
fn json_escape(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// How the probe gets a session.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Log in with a test account.
    Login {
        /// The account's e-mail (or user name).
        email: String,
        /// Its password.
        password: SecretString,
    },
    /// Use an existing session: a `Cookie` header value.
    Cookie(SecretString),
}

impl Credentials {
    /// The mode, without the secrets, for the observations.
    pub fn mode(&self) -> CredentialMode {
        match self {
            Credentials::Login { .. } => CredentialMode::Login,
            Credentials::Cookie(_) => CredentialMode::Cookie,
        }
    }

    /// The cookie header of [`Credentials::Cookie`].
    pub fn cookie_header(&self) -> Option<&str> {
        match self {
            Credentials::Cookie(c) => Some(c.expose_secret()),
            Credentials::Login { .. } => None,
        }
    }
}

/// How the probe got its session, recorded in the observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialMode {
    /// No credentials: only what an anonymous browser sees.
    None,
    /// Test credentials.
    Login,
    /// A given `Cookie` header.
    Cookie,
}

/// The raw inputs, as the command line gives them.
#[derive(Debug, Clone, Default)]
pub struct TargetInput {
    /// `--api`.
    pub api: String,
    /// `--app`, repeatable.
    pub apps: Vec<String>,
    /// `--email` and `--password`, or `--cookie`.
    pub credentials: Option<Credentials>,
    /// Path overrides; `None` keeps authjar's.
    pub login_path: Option<String>,
    /// `--me-path`.
    pub me_path: Option<String>,
    /// `--csrf-path`.
    pub csrf_path: Option<String>,
    /// `--refresh-path`.
    pub refresh_path: Option<String>,
    /// `--logout-path`.
    pub logout_path: Option<String>,
    /// `--providers-path`.
    pub providers_path: Option<String>,
    /// `--login-body`.
    pub login_body: Option<String>,
    /// `--csrf-header`.
    pub csrf_header: Option<String>,
    /// `--get-path`: safe endpoints the user names, checked not to change state.
    pub get_paths: Vec<String>,
}

/// A validated target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The API's URL: origin and optional path prefix (like authjar's `public_url`).
    pub api: PublicUrl,
    /// The app origins (the API's own origin when none were given).
    pub apps: Vec<WebOrigin>,
    /// How to get a session, if at all.
    pub credentials: Option<Credentials>,
    /// Endpoint paths.
    pub paths: ApiPaths,
    /// The login body template.
    pub login_body: LoginBody,
    /// The CSRF header name, lower-case.
    pub csrf_header: String,
    /// Extra GET endpoints checked not to change state.
    pub get_paths: Vec<String>,
}

impl Target {
    /// Validates the inputs.
    pub fn parse(input: TargetInput) -> Result<Target, TargetError> {
        let api = PublicUrl::parse(&input.api).map_err(|e| TargetError::Api {
            value: input.api.clone(),
            reason: e.to_string(),
        })?;
        let mut apps = Vec::new();
        for a in &input.apps {
            let o = WebOrigin::parse(a).map_err(|e| TargetError::App {
                value: a.clone(),
                reason: e.to_string(),
            })?;
            if !apps.contains(&o) {
                apps.push(o);
            }
        }
        if apps.is_empty() {
            apps.push(api.origin().clone());
        }
        let paths = paths(&input);
        paths.validate()?;
        for p in &input.get_paths {
            validate_path("--get-path", p)?;
        }
        Ok(Target {
            api,
            apps,
            credentials: input.credentials,
            paths,
            login_body: LoginBody::parse(
                input.login_body.as_deref().unwrap_or(LoginBody::AUTHJAR),
            )?,
            csrf_header: csrf_header(input.csrf_header.as_deref())?,
            get_paths: input.get_paths,
        })
    }

    /// The absolute URL of a path on the API.
    pub fn url(&self, path: &str) -> String {
        self.api.join(path)
    }
}

fn paths(input: &TargetInput) -> ApiPaths {
    let d = ApiPaths::authjar();
    let pick = |o: &Option<String>, default: String| o.clone().unwrap_or(default);
    ApiPaths {
        login: pick(&input.login_path, d.login),
        me: pick(&input.me_path, d.me),
        csrf: pick(&input.csrf_path, d.csrf),
        refresh: pick(&input.refresh_path, d.refresh),
        logout: pick(&input.logout_path, d.logout),
        providers: pick(&input.providers_path, d.providers),
    }
}

fn csrf_header(name: Option<&str>) -> Result<String, TargetError> {
    let name = name.unwrap_or("X-CSRF-Token");
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map(|h| h.as_str().to_owned())
        .map_err(|_| TargetError::CsrfHeader(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_body_escapes_values_and_refuses_templates_without_a_password() {
        let b = LoginBody::parse(r#"{"username":"{email}","password":"{password}"}"#).unwrap();
        assert_eq!(
            b.render("a\"b", "c\\d"),
            r#"{"username":"a\"b","password":"c\\d"}"#
        );
        assert!(!b.redacted("a").contains("c\\d"));
        assert!(LoginBody::parse(r#"{"email":"{email}"}"#).is_err());
        assert!(LoginBody::parse(r#"{"password":{password}}"#).is_err());
    }

    #[test]
    fn a_target_defaults_to_authjar_paths_and_the_api_origin_as_app() {
        let t = Target::parse(TargetInput {
            api: "https://example.com/api/".into(),
            ..TargetInput::default()
        })
        .unwrap();
        assert_eq!(t.url(&t.paths.login), "https://example.com/api/auth/login");
        assert_eq!(t.apps[0].to_string(), "https://example.com");
        assert_eq!(t.csrf_header, "x-csrf-token");
        let bad = Target::parse(TargetInput {
            api: "https://example.com".into(),
            me_path: Some("me".into()),
            ..TargetInput::default()
        });
        assert!(matches!(bad, Err(TargetError::Path { .. })));
    }
}
