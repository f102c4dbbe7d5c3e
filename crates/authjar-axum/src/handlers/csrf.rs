//! `GET /auth/csrf` and the binding of CSRF tokens to the request's cookies.

use async_trait::async_trait;
use authjar_core::{random, AuthService, Binding};
use authjar_policy::CookieKind;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::append_cookie;
use crate::cookies::RequestCookies;
use crate::guard::BindingSource;
use crate::state::AuthState;

/// Resolves a request's CSRF binding from authjar's cookies: the access
/// token's session; when it has expired, the refresh token's session; before
/// login, the pre-session cookie.
pub struct SessionBindings {
    /// The auth service.
    pub service: AuthService,
    /// Access-cookie name.
    pub access: String,
    /// Refresh-cookie name.
    pub refresh: String,
    /// Pre-session-cookie name.
    pub pre_session: String,
}

fn token<'a>(cookies: &'a RequestCookies, name: &str) -> Option<&'a str> {
    cookies.token(name).as_token()
}

#[async_trait]
impl BindingSource for SessionBindings {
    async fn binding(&self, headers: &HeaderMap) -> Option<Binding> {
        let cookies = RequestCookies::parse(headers).ok()?;
        if let Some(claims) =
            token(&cookies, &self.access).and_then(|t| self.service.verify_access(t).ok())
        {
            return uuid::Uuid::parse_str(&claims.sid)
                .ok()
                .map(Binding::Session);
        }
        if let Some(t) = token(&cookies, &self.refresh) {
            if let Ok(Some(s)) = self.service.session_of_refresh(t).await {
                return Some(Binding::Session(s.id));
            }
        }
        token(&cookies, &self.pre_session).map(|p| Binding::PreSession(p.to_owned()))
    }
}

/// `GET /auth/csrf` body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CsrfBody {
    /// Send this in `X-CSRF-Token` on every unsafe request.
    pub csrf_token: String,
}

/// Mints a token for `binding`, sets the readable CSRF cookie where the app can read it.
pub fn issue_token(state: &AuthState, binding: &Binding, headers: &mut HeaderMap) -> String {
    let token = state
        .csrf
        .mint(binding, random::bytes::<16>(state.service.random()));
    if let Some(spec) = state.cookie(CookieKind::Csrf) {
        append_cookie(headers, &spec.set_cookie(&token));
    }
    token
}

/// A CSRF token for the current session, or before login for a pre-session
/// (created here, in an HttpOnly cookie). Works with an expired access token.
#[utoipa::path(get, path = "/auth/csrf", tag = "csrf",
    responses((status = 200, body = CsrfBody, description = "the token; before login also the pre-session cookie, and the readable csrf_token cookie where the app can read it")))]
pub async fn csrf(State(state): State<AuthState>, headers: HeaderMap) -> Response {
    let mut out = HeaderMap::new();
    let binding = match state.guard.bindings.binding(&headers).await {
        Some(b) => b,
        None => {
            let id = random::token::<16>(state.service.random());
            if let Some(spec) = state.cookie(CookieKind::PreSession) {
                append_cookie(&mut out, &spec.set_cookie(&id));
            }
            Binding::PreSession(id)
        }
    };
    let csrf_token = issue_token(&state, &binding, &mut out);
    (out, axum::Json(CsrfBody { csrf_token })).into_response()
}
