//! The JSON bodies the handlers answer with: users, sessions, auth results.

use authjar_core::{clock::rfc3339, Session, User};
use serde::Serialize;

/// `user` in every response (docs/http-api.md).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserBody {
    /// Id (UUID).
    pub id: String,
    /// E-mail.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// Whether the person proved they own the e-mail.
    pub email_verified: bool,
}

impl From<&User> for UserBody {
    fn from(u: &User) -> Self {
        UserBody {
            id: u.id.to_string(),
            email: u.email.to_string(),
            name: u.name.clone(),
            created_at: rfc3339(u.created_at),
            email_verified: u.email_verified(),
        }
    }
}

/// A session as listed to its owner.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionBody {
    /// Id (UUID).
    pub id: String,
    /// Login time.
    pub created_at: String,
    /// Last refresh.
    pub last_seen_at: String,
    /// When the refresh token stops working.
    pub expires_at: String,
    /// `User-Agent` at login.
    pub user_agent: Option<String>,
    /// Client address at login.
    pub ip: Option<String>,
    /// True for the session making this request.
    pub current: bool,
}

impl SessionBody {
    /// The body of `s`, marking it current when it is `current`.
    pub fn of(s: &Session, current: uuid::Uuid) -> SessionBody {
        SessionBody {
            id: s.id.to_string(),
            created_at: rfc3339(s.created_at),
            last_seen_at: rfc3339(s.last_seen_at),
            expires_at: rfc3339(s.expires_at),
            user_agent: s.user_agent.clone(),
            ip: s.ip.clone(),
            current: s.id == current,
        }
    }
}

/// Body of register, login, refresh.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthBody {
    /// The user.
    pub user: UserBody,
    /// The CSRF token for this session: send it in `X-CSRF-Token`.
    pub csrf_token: String,
}
