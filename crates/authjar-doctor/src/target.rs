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
    /// An endpoint option is not `[METHOD:]PATH` with an unsafe method.
    #[error("{option} {value}: expected [METHOD:]PATH with METHOD one of POST, PUT, PATCH, DELETE, e.g. DELETE:/users/sign_out")]
    Endpoint {
        /// The option's name.
        option: &'static str,
        /// The value given.
        value: String,
    },
    /// `--csrf-from` is not `json:KEY`, `cookie:NAME` or `header:NAME`.
    #[error("--csrf-from {0}: expected json:KEY, cookie:NAME or header:NAME")]
    CsrfFrom(String),
}

/// An unsafe endpoint: its method and its path on the API URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsafeEndpoint {
    /// Upper-case method: POST, PUT, PATCH or DELETE.
    pub method: String,
    /// Absolute path on the API URL.
    pub path: String,
}

impl UnsafeEndpoint {
    /// A POST to `path`.
    pub fn post(path: &str) -> UnsafeEndpoint {
        UnsafeEndpoint {
            method: "POST".into(),
            path: path.to_owned(),
        }
    }

    /// Parses `[METHOD:]PATH` (POST when no method is given).
    pub fn parse(option: &'static str, value: &str) -> Result<UnsafeEndpoint, TargetError> {
        let (method, path) = match value.split_once(':') {
            Some((m, p)) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_alphabetic()) => {
                (m.to_ascii_uppercase(), p)
            }
            _ => ("POST".to_owned(), value),
        };
        if !["POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
            return Err(TargetError::Endpoint {
                option,
                value: value.to_owned(),
            });
        }
        validate_path(option, path)?;
        Ok(UnsafeEndpoint {
            method,
            path: path.to_owned(),
        })
    }
}

impl std::fmt::Display for UnsafeEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Where the endpoints are, as absolute paths on the API URL. An endpoint
/// that is `None` does not exist on this API and is never probed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiPaths {
    /// The login endpoint (POST, JSON).
    pub login: String,
    /// The "who am I" endpoint (GET).
    pub me: String,
    /// Where a CSRF token is handed out (GET).
    #[serde(default)]
    pub csrf: Option<String>,
    /// The session refresh endpoint.
    #[serde(default)]
    pub refresh: Option<UnsafeEndpoint>,
    /// The logout endpoint.
    #[serde(default)]
    pub logout: Option<UnsafeEndpoint>,
    /// The OAuth provider list (GET, `{"providers":[{"id","name","start_url"}]}`).
    #[serde(default)]
    pub providers: Option<String>,
    /// Further unsafe endpoints (`--unsafe-path`), probed for CSRF.
    #[serde(default)]
    pub unsafe_paths: Vec<UnsafeEndpoint>,
}

impl ApiPaths {
    /// authjar's own paths (docs/http-api.md).
    pub fn authjar() -> ApiPaths {
        ApiPaths {
            login: "/auth/login".into(),
            me: "/auth/me".into(),
            csrf: Some("/auth/csrf".into()),
            refresh: Some(UnsafeEndpoint::post("/auth/refresh")),
            logout: Some(UnsafeEndpoint::post("/auth/logout")),
            providers: Some("/auth/providers".into()),
            unsafe_paths: Vec::new(),
        }
    }

    /// The login as an unsafe endpoint.
    pub fn login_endpoint(&self) -> UnsafeEndpoint {
        UnsafeEndpoint::post(&self.login)
    }

    /// Every unsafe endpoint besides login, in the order the probe attacks
    /// them: refresh, the `--unsafe-path`s, then logout (it ends the session).
    pub fn unsafe_endpoints(&self) -> Vec<UnsafeEndpoint> {
        let mut out: Vec<UnsafeEndpoint> = Vec::new();
        let login = self.login_endpoint();
        for e in self
            .refresh
            .iter()
            .chain(&self.unsafe_paths)
            .chain(&self.logout)
        {
            if !out.contains(e) && *e != login {
                out.push(e.clone());
            }
        }
        out
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

/// Where the CSRF token comes from (`--csrf-from`); without it the probe
/// looks in JSON bodies, then response headers, then readable cookies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum CsrfFrom {
    /// A key of the JSON body (found at any depth).
    Json(String),
    /// A cookie (its value percent-decoded, as Laravel writes it).
    Cookie(String),
    /// A response header (name lower-case).
    Header(String),
}

impl CsrfFrom {
    /// Parses `json:KEY`, `cookie:NAME` or `header:NAME`.
    pub fn parse(value: &str) -> Result<CsrfFrom, TargetError> {
        let bad = || TargetError::CsrfFrom(value.to_owned());
        let (kind, name) = value.split_once(':').ok_or_else(bad)?;
        if name.is_empty() {
            return Err(bad());
        }
        match kind {
            "json" => Ok(CsrfFrom::Json(name.to_owned())),
            "cookie" => Ok(CsrfFrom::Cookie(name.to_owned())),
            "header" => reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map(|h| CsrfFrom::Header(h.as_str().to_owned()))
                .map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
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
    /// Path options. When none is given the API is taken for authjar and
    /// gets authjar's paths; once any is given, the API's shape is what the
    /// options describe, and an endpoint not given does not exist (login
    /// and me keep authjar's paths: the probe cannot do without them).
    /// `none` says an endpoint does not exist.
    pub login_path: Option<String>,
    /// `--me-path`.
    pub me_path: Option<String>,
    /// `--csrf-path`.
    pub csrf_path: Option<String>,
    /// `--refresh-path`, `[METHOD:]PATH` or `none`.
    pub refresh_path: Option<String>,
    /// `--logout-path`, `[METHOD:]PATH` or `none`.
    pub logout_path: Option<String>,
    /// `--providers-path`.
    pub providers_path: Option<String>,
    /// `--login-body`.
    pub login_body: Option<String>,
    /// `--csrf-header`.
    pub csrf_header: Option<String>,
    /// `--get-path`: safe endpoints the user names, checked not to change state.
    pub get_paths: Vec<String>,
    /// `--unsafe-path METHOD:PATH`: further unsafe endpoints probed for CSRF.
    pub unsafe_paths: Vec<String>,
    /// `--csrf-from`.
    pub csrf_from: Option<String>,
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
    /// Where the CSRF token comes from; `None`: discovered.
    pub csrf_from: Option<CsrfFrom>,
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
        let paths = paths(&input)?;
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
            csrf_from: input
                .csrf_from
                .as_deref()
                .map(CsrfFrom::parse)
                .transpose()?,
        })
    }

    /// The absolute URL of a path on the API.
    pub fn url(&self, path: &str) -> String {
        self.api.join(path)
    }
}

/// True when an option says the endpoint does not exist.
fn is_none(value: &str) -> bool {
    value.eq_ignore_ascii_case("none")
}

fn paths(input: &TargetInput) -> Result<ApiPaths, TargetError> {
    let d = ApiPaths::authjar();
    let described = [
        &input.login_path,
        &input.me_path,
        &input.csrf_path,
        &input.refresh_path,
        &input.logout_path,
        &input.providers_path,
    ]
    .iter()
    .any(|o| o.is_some());
    let path = |option: &'static str, given: &Option<String>, default: String| {
        let p = given.clone().unwrap_or(default);
        validate_path(option, &p).map(|()| p)
    };
    let optional =
        |option: &'static str, given: &Option<String>, default: Option<String>| match given {
            Some(v) if is_none(v) => Ok(None),
            Some(v) => validate_path(option, v).map(|()| Some(v.clone())),
            None if described => Ok(None),
            None => Ok(default),
        };
    let endpoint = |option: &'static str,
                    given: &Option<String>,
                    default: Option<UnsafeEndpoint>| match given {
        Some(v) if is_none(v) => Ok(None),
        Some(v) => UnsafeEndpoint::parse(option, v).map(Some),
        None if described => Ok(None),
        None => Ok(default),
    };
    Ok(ApiPaths {
        login: path("--login-path", &input.login_path, d.login)?,
        me: path("--me-path", &input.me_path, d.me)?,
        csrf: optional("--csrf-path", &input.csrf_path, d.csrf)?,
        refresh: endpoint("--refresh-path", &input.refresh_path, d.refresh)?,
        logout: endpoint("--logout-path", &input.logout_path, d.logout)?,
        providers: optional("--providers-path", &input.providers_path, d.providers)?,
        unsafe_paths: input
            .unsafe_paths
            .iter()
            .map(|v| UnsafeEndpoint::parse("--unsafe-path", v))
            .collect::<Result<_, _>>()?,
    })
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

    #[test]
    fn a_described_api_has_only_the_endpoints_given() {
        let t = Target::parse(TargetInput {
            api: "https://hub.test".into(),
            login_path: Some("/api/v1/session".into()),
            logout_path: Some("DELETE:/users/sign_out".into()),
            unsafe_paths: vec!["PUT:/api/v1/profile".into(), "/api/v1/bookings".into()],
            ..TargetInput::default()
        })
        .unwrap();
        assert_eq!(t.paths.refresh, None);
        assert_eq!(t.paths.csrf, None);
        assert_eq!(t.paths.providers, None);
        assert_eq!(t.paths.me, "/auth/me");
        let all: Vec<String> = t
            .paths
            .unsafe_endpoints()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            all,
            [
                "PUT /api/v1/profile",
                "POST /api/v1/bookings",
                "DELETE /users/sign_out"
            ]
        );
        let none = Target::parse(TargetInput {
            api: "https://hub.test".into(),
            refresh_path: Some("none".into()),
            ..TargetInput::default()
        })
        .unwrap();
        assert_eq!(none.paths.refresh, None);
        for bad in ["GET:/x", "x", "POST:x"] {
            let r = Target::parse(TargetInput {
                api: "https://hub.test".into(),
                unsafe_paths: vec![bad.into()],
                ..TargetInput::default()
            });
            assert!(r.is_err(), "{bad}");
        }
        assert_eq!(
            CsrfFrom::parse("cookie:XSRF-TOKEN").unwrap(),
            CsrfFrom::Cookie("XSRF-TOKEN".into())
        );
        assert!(CsrfFrom::parse("body:x").is_err());
        assert!(CsrfFrom::parse("json:").is_err());
    }
}
