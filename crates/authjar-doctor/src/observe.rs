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

/// JSON keys under which frameworks hand out a CSRF token: authjar's,
/// Laravel's `_token`, Rails' `authenticity_token`, Django's
/// `csrfmiddlewaretoken`, Express' `csrfToken`/`_csrf`.
pub const TOKEN_KEYS: [&str; 11] = [
    "csrf_token",
    "csrfToken",
    "csrf",
    "xsrf_token",
    "xsrfToken",
    "_csrf",
    "_token",
    "authenticity_token",
    "csrfmiddlewaretoken",
    "csrf-token",
    "XSRF-TOKEN",
];

/// Response headers that carry a CSRF token (Rails apps and others).
pub const TOKEN_HEADERS: [&str; 5] = [
    "x-csrf-token",
    "x-xsrf-token",
    "csrf-token",
    "x-csrftoken",
    "xsrf-token",
];

/// True for a cookie named like a CSRF token (`csrftoken`, `XSRF-TOKEN`, …).
pub fn csrf_named(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("csrf") || n.contains("xsrf")
}

/// Who sends an unsafe request the probe makes to test CSRF protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attack {
    /// The app's own origin, without the token: what the token alone stops.
    NoToken,
    /// A page on another site, without the token.
    CrossSite,
    /// A page on a sibling subdomain (same site: `SameSite=Lax` cookies go
    /// along), without the token.
    SameSite,
    /// Another site's page with a valid token (it cannot read one: a
    /// defence-in-depth probe of the Origin check).
    ForeignWithToken,
    /// A sibling subdomain that planted a CSRF cookie of its choosing and
    /// sends the same value as the token (double submit without binding).
    Planted,
}

impl Attack {
    /// Whether an attacker's page can send this request.
    pub fn by_attacker(self) -> bool {
        matches!(self, Attack::CrossSite | Attack::SameSite | Attack::Planted)
    }

    /// How the request was made, for a report.
    pub fn describe(self) -> &'static str {
        match self {
            Attack::NoToken => "from the app's origin without the token",
            Attack::CrossSite => "from another site without the token",
            Attack::SameSite => "from a sibling subdomain without the token",
            Attack::ForeignWithToken => "from another site with a valid token",
            Attack::Planted => {
                "from a sibling subdomain with a CSRF cookie it planted and the same value as the token"
            }
        }
    }
}

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
    /// POST login, as the app's page does it.
    Login,
    /// Log in again after a probe ended the session.
    Relogin,
    /// GET the me path with the session cookies.
    Me,
    /// POST refresh, as the app's page does it.
    Refresh,
    /// GET the me path after the refresh.
    MeAfterRefresh,
    /// An unsafe request (login, refresh, logout, an `--unsafe-path`) made
    /// the way `attack` says, with the session's cookies.
    Attack {
        /// Upper-case method.
        method: String,
        /// The path.
        path: String,
        /// Who sends it, and how.
        attack: Attack,
    },
    /// GET the me path right after an [`Step::Attack`], with the cookies the
    /// browser then holds (for a login: the ones its answer set).
    MeAfterAttack {
        /// The path attacked.
        path: String,
        /// Who sent it.
        attack: Attack,
        /// Names of the session's cookies (CSRF cookies aside) the answer
        /// replaced with another value or deleted.
        #[serde(default)]
        changed: Vec<String>,
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
    /// The logout, as the app's page makes it.
    Logout,
    /// GET the me path with the cookies a browser keeps after the logout.
    MeAfterLogout {
        /// Session cookies (CSRF cookies aside) that still hold the value
        /// the login or a refresh gave them.
        #[serde(default)]
        kept: Vec<String>,
    },
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

    /// An HTML page (a framework's error page, an app's catch-all), not an API answer.
    pub fn is_html(&self) -> bool {
        let typed = self
            .header("content-type")
            .is_some_and(|t| t.to_ascii_lowercase().starts_with("text/html"));
        let looks = self
            .body
            .as_deref()
            .is_some_and(|b| b.trim_start().starts_with('<'));
        typed || looks
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
