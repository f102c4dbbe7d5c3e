//! `AuthUser` and `MaybeUser`: who is calling, from the access-token cookie
//! (or an `Authorization: Bearer` header for non-browser clients), verified
//! without a database lookup. Install [`AuthLayer`] to use them.

use std::sync::Arc;

use authjar_core::{AccessClaims, AuthService};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::cookies::{CookieValue, RequestCookies};
use crate::error::ApiError;

/// Verifies access tokens for the extractors.
///
/// [`AuthService`] is the real one (signature, issuer, expiry and this
/// instance's revoked sessions). Another implementation can stand in for it,
/// e.g. to test an application's handlers without logging in:
///
/// ```
/// use std::sync::Arc;
///
/// use authjar_axum::{AuthLayer, AuthUser, AuthVerifier, VerifyAccess};
/// use authjar_core::AccessClaims;
/// use axum::body::Body;
/// use axum::http::{Request, StatusCode};
/// use axum::routing::get;
/// use axum::Router;
/// use tower::ServiceExt as _;
///
/// /// Knows one token, for one user.
/// struct OneTestUser;
///
/// impl VerifyAccess for OneTestUser {
///     fn verify(&self, token: &str) -> Option<AccessClaims> {
///         (token == "test-token").then(|| AccessClaims {
///             sub: "7f9c24e8-3b12-4fef-91e0-3d1a4a8f6c11".into(),
///             sid: "0b6d0c2a-8f0e-4c7a-9a57-6a1d5c3e2f10".into(),
///             email: "ada@example.com".into(),
///             iat: 0,
///             exp: i64::MAX,
///             iss: "https://api.example".into(),
///         })
///     }
/// }
///
/// async fn whoami(user: AuthUser) -> String {
///     user.email
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let verifier = AuthVerifier::new(Arc::new(OneTestUser), "access_token");
/// let app = Router::new()
///     .route("/whoami", get(whoami))
///     .layer(AuthLayer::new(verifier));
/// let request = |cookie: &str| {
///     Request::get("/whoami")
///         .header("cookie", cookie)
///         .body(Body::empty())
///         .unwrap()
/// };
/// let ok = app.clone().oneshot(request("access_token=test-token")).await.unwrap();
/// assert_eq!(ok.status(), StatusCode::OK);
/// let other = app.clone().oneshot(request("access_token=other")).await.unwrap();
/// assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
/// // Two access cookies fail closed, even when one of them is valid.
/// let tossed = app
///     .oneshot(request("access_token=test-token; access_token=other"))
///     .await
///     .unwrap();
/// assert_eq!(tossed.status(), StatusCode::UNAUTHORIZED);
/// # }
/// ```
pub trait VerifyAccess: Send + Sync + 'static {
    /// The claims of a valid token.
    fn verify(&self, token: &str) -> Option<AccessClaims>;
}

impl VerifyAccess for AuthService {
    fn verify(&self, token: &str) -> Option<AccessClaims> {
        self.verify_access(token).ok()
    }
}

/// What [`AuthLayer`] puts into each request: a verifier and the access-cookie name.
#[derive(Clone)]
pub struct AuthVerifier {
    verifier: Arc<dyn VerifyAccess>,
    access_cookie: Arc<str>,
}

impl AuthVerifier {
    /// A verifier reading the cookie named `access_cookie`.
    pub fn new(verifier: Arc<dyn VerifyAccess>, access_cookie: &str) -> AuthVerifier {
        AuthVerifier {
            verifier,
            access_cookie: access_cookie.into(),
        }
    }

    /// The caller's claims, or `None`: no token, a bad token, or a duplicate cookie.
    pub fn claims(&self, parts: &Parts) -> Result<Option<AccessClaims>, ApiError> {
        let token = match bearer(parts) {
            Some(t) => Some(t),
            None => {
                let cookies = RequestCookies::parse(&parts.headers).map_err(|e| match e {
                    crate::cookies::CookieError::TooLarge => ApiError::cookie_header_too_large(),
                    crate::cookies::CookieError::Duplicate(_) => ApiError::unauthenticated(),
                })?;
                match cookies.token(&self.access_cookie) {
                    CookieValue::Token(t) => Some(t),
                    CookieValue::Absent => None,
                    // Fail closed: not anonymous, but a bad credential.
                    CookieValue::Malformed | CookieValue::Duplicated => {
                        return Err(ApiError::unauthenticated())
                    }
                }
            }
        };
        Ok(token.and_then(|t| self.verifier.verify(t)))
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    v.strip_prefix("Bearer ").map(str::trim)
}

/// The tower layer that makes [`AuthUser`] and [`MaybeUser`] work.
///
/// ```
/// use std::sync::Arc;
/// use authjar_axum::{AuthLayer, AuthUser, AuthVerifier, VerifyAccess};
/// use axum::{routing::get, Router};
///
/// struct NoOne;
/// impl VerifyAccess for NoOne {
///     fn verify(&self, _: &str) -> Option<authjar_core::AccessClaims> { None }
/// }
///
/// async fn bookings(user: AuthUser) -> String { format!("bookings of {}", user.user_id) }
///
/// let verifier = AuthVerifier::new(Arc::new(NoOne), "access_token");
/// let app: Router = Router::new().route("/api/bookings", get(bookings)).layer(AuthLayer::new(verifier));
/// ```
#[derive(Clone)]
pub struct AuthLayer {
    verifier: AuthVerifier,
}

impl AuthLayer {
    /// A layer using `verifier`.
    pub fn new(verifier: AuthVerifier) -> AuthLayer {
        AuthLayer { verifier }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = tower_http::add_extension::AddExtension<S, AuthVerifier>;
    fn layer(&self, inner: S) -> Self::Service {
        tower_http::add_extension::AddExtension::new(inner, self.verifier.clone())
    }
}

/// An authenticated caller. Rejects with 401 `unauthenticated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    /// User id.
    pub user_id: Uuid,
    /// Session id.
    pub session_id: Uuid,
    /// E-mail.
    pub email: String,
    /// The verified claims.
    pub claims: AccessClaims,
}

impl AuthUser {
    fn from_claims(claims: AccessClaims) -> Option<AuthUser> {
        Some(AuthUser {
            user_id: Uuid::parse_str(&claims.sub).ok()?,
            session_id: Uuid::parse_str(&claims.sid).ok()?,
            email: claims.email.clone(),
            claims,
        })
    }
}

fn verifier(parts: &Parts) -> Result<&AuthVerifier, ApiError> {
    parts
        .extensions
        .get::<AuthVerifier>()
        .ok_or_else(ApiError::auth_layer_missing)
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let claims = verifier(parts)?.claims(parts)?;
        claims
            .and_then(AuthUser::from_claims)
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// The caller if authenticated, `None` otherwise (never rejects a request
/// for lacking a session; a malformed or duplicated cookie still gives 401).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let claims = verifier(parts)?.claims(parts)?;
        Ok(MaybeUser(claims.and_then(AuthUser::from_claims)))
    }
}
