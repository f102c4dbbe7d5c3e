//! One request as a browser would send it from an app's page (its
//! `Sec-Fetch-*`, `Origin`, cookies and CSRF header), sent, and recorded
//! redacted in the observations.

use authjar_policy::{Relation, WebOrigin};
use reqwest::header::HeaderMap;
use reqwest::Method;
use url::Url;

use super::client::describe_error;
use super::jar::RawJar;
use super::Probe;
use crate::observe::{Exchange, RecordedRequest, RecordedResponse, Step};
use crate::redact;

/// How a request presents itself, which decides its browser headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// `fetch(url, {credentials: 'include'})` from a page.
    Fetch,
    /// A CORS preflight the browser sends before an unsafe JSON fetch.
    Preflight,
    /// A top-level navigation (a link, a redirect).
    Navigate,
}

/// One request to make.
pub(super) struct Req {
    step: Step,
    app: Option<WebOrigin>,
    method: Method,
    url: String,
    mode: Mode,
    origin: Option<String>,
    cookies: Option<String>,
    csrf: Option<String>,
    /// (sent, recorded).
    body: Option<(String, String)>,
    /// The method a preflight asks for.
    preflight_method: String,
}

impl Req {
    pub(super) fn new(step: Step, app: &WebOrigin, method: Method, url: String, mode: Mode) -> Req {
        Req {
            step,
            app: Some(app.clone()),
            method,
            url,
            mode,
            origin: None,
            cookies: None,
            csrf: None,
            body: None,
            preflight_method: "POST".into(),
        }
    }

    pub(super) fn preflight_for(mut self, method: &str) -> Req {
        self.preflight_method = method.to_owned();
        self
    }

    pub(super) fn origin(mut self, origin: &str) -> Req {
        self.origin = Some(origin.to_owned());
        self
    }

    pub(super) fn cookies(mut self, jar: &RawJar) -> Req {
        self.cookies = jar.header();
        self
    }

    pub(super) fn csrf(mut self, token: Option<&str>) -> Req {
        self.csrf = token.map(str::to_owned);
        self
    }

    pub(super) fn json(mut self, sent: String, recorded: String) -> Req {
        self.body = Some((sent, recorded));
        self
    }
}

/// What came back, with the secrets still in (never recorded as such).
pub(super) struct Sent {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    body: String,
}

impl Sent {
    pub(super) fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub(super) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// A response header's value, if it is text.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

impl Probe<'_> {
    /// The `Sec-Fetch-Site` a browser sends for a request from `from`.
    fn fetch_site(&self, from: Option<&str>) -> &'static str {
        let Some(origin) = from.and_then(|o| WebOrigin::parse(o).ok()) else {
            return "cross-site";
        };
        match Relation::between(&origin, self.api()) {
            Relation::SameOrigin => "same-origin",
            Relation::SameHost | Relation::SameSite => "same-site",
            Relation::CrossSite => "cross-site",
        }
    }

    /// The headers a browser would send for `r`.
    fn headers(&self, r: &Req) -> Vec<(String, String)> {
        let mut h = self.fetch_metadata(r);
        let mut add = |k: &str, v: &str| h.push((k.to_owned(), v.to_owned()));
        if r.mode == Mode::Preflight {
            let mut wanted = ["content-type", self.target.csrf_header.as_str()];
            wanted.sort_unstable();
            add("access-control-request-method", &r.preflight_method);
            add("access-control-request-headers", &wanted.join(","));
        }
        if let Some(c) = &r.cookies {
            add("cookie", c);
        }
        if let Some(t) = &r.csrf {
            add(&self.target.csrf_header, t);
        }
        if r.body.is_some() {
            add("content-type", "application/json");
        }
        h
    }

    /// `Sec-Fetch-*` and `Origin`, as the browser sets them for the mode.
    fn fetch_metadata(&self, r: &Req) -> Vec<(String, String)> {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        if r.mode == Mode::Navigate {
            return vec![
                pair("sec-fetch-mode", "navigate"),
                pair("sec-fetch-dest", "document"),
                pair(
                    "sec-fetch-site",
                    r.origin
                        .as_deref()
                        .map_or("none", |o| self.fetch_site(Some(o))),
                ),
            ];
        }
        let from = r.origin.clone().or(r.app.as_ref().map(ToString::to_string));
        let mut h = vec![
            pair("sec-fetch-mode", "cors"),
            pair("sec-fetch-dest", "empty"),
            pair("sec-fetch-site", self.fetch_site(from.as_deref())),
        ];
        // Browsers send Origin on cross-origin requests and on every non-GET one.
        let cross_origin = from.as_deref() != Some(self.api().to_string().as_str());
        if let Some(o) = from.filter(|_| cross_origin || r.method != Method::GET) {
            h.push(pair("origin", &o));
        }
        h
    }

    /// Sends `r`, records it, and hands back the live response.
    pub(super) async fn send(&mut self, r: Req) -> Option<Sent> {
        let headers = self.headers(&r);
        for (k, v) in &headers {
            if k == "cookie" {
                self.secrets.add_cookie_header(v);
            } else if *k == self.target.csrf_header {
                self.secrets.add(v);
            }
        }
        let request = self.record_request(&r, &headers);
        let outcome = self.execute(&r, &headers).await;
        if let Ok(sent) = &outcome {
            for line in sent.headers.get_all(reqwest::header::SET_COOKIE) {
                self.secrets
                    .add_set_cookie(&String::from_utf8_lossy(line.as_bytes()));
            }
        }
        let (response, error) = match &outcome {
            Ok(sent) => (Some(record(sent)), None),
            Err(e) => (None, Some(e.clone())),
        };
        self.observations.exchanges.push(Exchange {
            step: r.step,
            app: r.app.as_ref().map(ToString::to_string),
            request,
            response,
            error,
        });
        match outcome {
            Ok(sent) => Some(sent),
            Err(e) => {
                self.last_error = Some(e);
                None
            }
        }
    }

    /// `r` as recorded: secret header values masked, the body as given for the record.
    fn record_request(&self, r: &Req, headers: &[(String, String)]) -> RecordedRequest {
        let csrf = &self.target.csrf_header;
        RecordedRequest {
            method: r.method.to_string(),
            url: r.url.clone(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.clone(), redact::request_header(k, v, csrf)))
                .collect(),
            body: r.body.as_ref().map(|(_, rec)| rec.clone()),
        }
    }

    async fn execute(&mut self, r: &Req, headers: &[(String, String)]) -> Result<Sent, String> {
        let url = Url::parse(&r.url).map_err(|e| e.to_string())?;
        let port = url.port_or_known_default().unwrap_or(443);
        let client = self.clients.for_port(port).map_err(|e| e.to_string())?;
        let mut rb = client.request(r.method.clone(), url);
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if let Some((body, _)) = &r.body {
            rb = rb.body(body.clone());
        }
        let res = rb.send().await.map_err(|e| describe_error(&e))?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap_or_default();
        Ok(Sent {
            status,
            headers,
            body,
        })
    }
}

/// A response as recorded: `Set-Cookie` values masked, bodies redacted.
fn record(sent: &Sent) -> RecordedResponse {
    let headers = sent
        .headers
        .iter()
        .map(|(k, v)| {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            let value = if k == reqwest::header::SET_COOKIE {
                redact::set_cookie_line(&value)
            } else {
                value
            };
            (k.as_str().to_owned(), value)
        })
        .collect();
    RecordedResponse {
        status: sent.status,
        headers,
        body: redact::body(&sent.body),
    }
}
