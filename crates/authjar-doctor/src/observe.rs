//! Observations: everything the probe sent and received, as plain,
//! serialisable data. The checks read only these, so they can be tested
//! from recorded or hand-written observations without a network. Secrets
//! never get here: cookie values, tokens and passwords are redacted at
//! record time (`redact.rs`), keeping only what the checks need (names,
//! attributes, lengths).

use authjar_policy::{PublicUrl, WebOrigin};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::target::{ApiPaths, CredentialMode};

/// JSON keys under which APIs hand out a CSRF token.
pub const TOKEN_KEYS: [&str; 6] = [
    "csrf_token",
    "csrfToken",
    "csrf",
    "xsrf_token",
    "xsrfToken",
    "_csrf",
];

/// Why the probe made a request: the checks find their evidence by step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Step {
    /// GET the me path without cookies, from the app: the 401 must be readable.
    MeAnonymous,
    /// A CORS preflight from the app for an unsafe call to `path`.
    Preflight {
        /// The path the preflight is for.
        path: String,
    },
    /// A request from an origin that is not an app: it must not be echoed.
    ForeignOrigin {
        /// The `Origin` sent.
        origin: String,
    },
    /// A preflight from a foreign origin.
    ForeignPreflight {
        /// The `Origin` sent.
        origin: String,
    },
    /// A request from a development origin to a production API.
    DevOrigin {
        /// The `Origin` sent.
        origin: String,
    },
    /// GET the CSRF path before login.
    CsrfToken,
    /// GET the CSRF path with the session, for a token bound to it.
    SessionCsrfToken,
    /// POST login without the CSRF header.
    LoginWithoutToken,
    /// POST login, as the app's page does it.
    Login,
    /// GET the me path with the session cookies.
    Me,
    /// POST refresh, as the app's page does it.
    Refresh,
    /// GET the me path after the refresh.
    MeAfterRefresh,
    /// An unsafe request without the CSRF header.
    WithoutToken {
        /// Its path.
        path: String,
    },
    /// An unsafe request with a valid token but a foreign `Origin`.
    ForeignOriginWithToken {
        /// Its path.
        path: String,
        /// The `Origin` sent.
        origin: String,
    },
    /// A GET to an endpoint that must not change state (a link click from another site).
    UnsafeGet {
        /// The path.
        path: String,
    },
    /// GET the me path right after an [`Step::UnsafeGet`].
    MeAfterGet {
        /// The path of the GET before.
        path: String,
    },
    /// POST logout.
    Logout,
    /// The API's URL over plain http.
    HttpTwin,
    /// GET the OAuth provider list.
    Providers,
    /// GET a provider's start URL, as a top-level navigation.
    OauthStart {
        /// The provider id.
        provider: String,
    },
}

/// One request as sent (secrets redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Upper-case method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header lines, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// One response as received (secrets redacted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// Status code.
    pub status: u16,
    /// Header lines in order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body (JSON with secrets redacted, or the start of a text body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl RecordedResponse {
    /// The first value of a header (name lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Set-Cookie` lines (values redacted).
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers_named("set-cookie").collect()
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// 3xx.
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status)
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.body.as_deref()?).ok()
    }
}

/// One request and what came back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// Why it was made.
    pub step: Step,
    /// The app whose page the request stands for, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// The request.
    pub request: RecordedRequest,
    /// The response, unless the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<RecordedResponse>,
    /// Why the request failed (connect, TLS, timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Exchange {
    /// The request URL, parsed.
    pub fn url(&self) -> Option<Url> {
        Url::parse(&self.request.url).ok()
    }

    /// A request header's value (name lower-case).
    pub fn request_header(&self, name: &str) -> Option<&str> {
        self.request
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// "POST https://api.example.com/auth/login".
    pub fn describe(&self) -> String {
        format!("{} {}", self.request.method, self.request.url)
    }

    /// "POST https://api.example.com/auth/login → 200" (or the failure).
    pub fn describe_outcome(&self) -> String {
        match (&self.response, &self.error) {
            (Some(r), _) => format!("{} → {}", self.describe(), r.status),
            (None, Some(e)) => format!("{} → failed: {e}", self.describe()),
            (None, None) => self.describe(),
        }
    }
}

/// The TLS handshake with the API, as a browser would check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsObservation {
    /// Host name checked.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Why the handshake did not complete (connect or protocol failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_error: Option<String>,
    /// Why the certificate is not valid for the host (`None`: valid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_error: Option<String>,
    /// The leaf's notAfter, Unix time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<i64>,
    /// The leaf's subject alternative names.
    #[serde(default)]
    pub names: Vec<String>,
    /// The leaf's issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// Everything one doctor run observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observations {
    /// The API URL audited.
    pub api: String,
    /// The app origins.
    pub apps: Vec<String>,
    /// The endpoint paths used.
    pub paths: ApiPaths,
    /// The CSRF header name, lower-case.
    pub csrf_header: String,
    /// How the probe got a session.
    pub credentials: CredentialMode,
    /// When the probe ran (Unix time).
    pub observed_at: i64,
    /// The TLS handshake, for an https API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsObservation>,
    /// Every request and response, in order.
    pub exchanges: Vec<Exchange>,
}

impl Observations {
    /// The API URL, parsed (`None` only for hand-written observations gone wrong).
    pub fn api_url(&self) -> Option<PublicUrl> {
        PublicUrl::parse(&self.api).ok()
    }

    /// The API's origin.
    pub fn api_origin(&self) -> Option<WebOrigin> {
        self.api_url().map(|u| u.origin().clone())
    }

    /// The app origins, parsed.
    pub fn app_origins(&self) -> Vec<WebOrigin> {
        self.apps
            .iter()
            .filter_map(|a| WebOrigin::parse(a).ok())
            .collect()
    }

    /// docs/configuration.md's inference: an https API on a non-loopback host is production.
    pub fn production(&self) -> bool {
        self.api_url().is_some_and(|u| {
            authjar_policy::Environment::infer(&u) == authjar_policy::Environment::Production
        })
    }

    /// Exchanges whose step satisfies `pred`.
    pub fn steps<'a>(
        &'a self,
        pred: impl Fn(&Step) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Exchange> + 'a {
        self.exchanges.iter().filter(move |e| pred(&e.step))
    }

    /// The first exchange of `step` for `app`.
    pub fn find(&self, step: &Step, app: &WebOrigin) -> Option<&Exchange> {
        let app = app.to_string();
        self.exchanges
            .iter()
            .find(|e| &e.step == step && e.app.as_deref() == Some(app.as_str()))
    }

    /// The absolute URL of an API path.
    pub fn url(&self, path: &str) -> Option<Url> {
        Url::parse(&self.api_url()?.join(path)).ok()
    }
}
