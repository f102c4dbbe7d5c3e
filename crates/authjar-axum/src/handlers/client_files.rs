//! `GET /auth/client.js` and `GET /auth/client.d.ts`: the browser client and
//! its types. They are static files with no credentials in them, served to
//! any origin (`Access-Control-Allow-Origin: *`, set by the router's edge
//! layer, never with `Allow-Credentials`), so a page on an origin authjar
//! does not allow can still load the client and be told why its calls fail.
//!
//! The script carries this deployment's app origins (public already: every
//! `origin_not_allowed` answer lists them), written in where the source has
//! the [`APP_ORIGINS_MARKER`], so the client can name the mistake on its
//! first call instead of letting the browser's CORS error stand alone.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::state::AuthState;

/// The client's source, as shipped.
const CLIENT_JS: &str = include_str!("../../assets/client.js");

/// Where the served script gets the allowed app origins (a JSON array).
pub const APP_ORIGINS_MARKER: &str = "/*authjar:app-origins*/[]";

/// The browser client: a dependency-free ES module.
#[utoipa::path(get, path = "/auth/client.js", tag = "client", responses((status = 200, description = "JavaScript module, served to any origin (Access-Control-Allow-Origin: *)")))]
pub async fn client_js(State(state): State<AuthState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        state.client_script().clone(),
    )
        .into_response()
}

/// TypeScript declarations for the browser client.
#[utoipa::path(get, path = "/auth/client.d.ts", tag = "client", responses((status = 200, description = "TypeScript declarations, served to any origin (Access-Control-Allow-Origin: *)")))]
pub async fn client_dts() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../assets/client.d.ts"),
    )
        .into_response()
}

/// The client's source with the deployment's app origins written in (a
/// JSON array is a JavaScript array literal; origins are validated
/// `scheme://host[:port]`). Built once, when the state is.
pub(crate) fn script_for(deployment: &authjar_policy::Deployment) -> String {
    let origins: Vec<String> = deployment
        .app_origins
        .iter()
        .map(ToString::to_string)
        .collect();
    script_with(&origins)
}

fn script_with(app_origins: &[String]) -> String {
    let list = serde_json::to_string(app_origins).unwrap_or_else(|_| "[]".to_owned());
    CLIENT_JS.replacen(APP_ORIGINS_MARKER, &list, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_in_the_client_once_and_gets_the_origins() {
        assert_eq!(CLIENT_JS.matches(APP_ORIGINS_MARKER).count(), 1);
        let js = script_with(&["http://localhost:3000".to_owned()]);
        assert!(js.contains(r#"const APP_ORIGINS = ["http://localhost:3000"];"#));
        assert!(!js.contains(APP_ORIGINS_MARKER));
    }
}
