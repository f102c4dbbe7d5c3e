//! The HTTP handlers of the auth API (docs/http-api.md), and the few helpers they
//! share: who sent the request (`client.rs`), the response bodies
//! (`bodies.rs`), and the session cookies (`session_cookies.rs`).

pub mod account;
mod bodies;
mod client;
pub mod client_files;
pub mod csrf;
pub mod debug;
pub mod lifecycle;
pub mod meta;
pub mod oauth;
pub mod session;
mod session_cookies;
pub mod verify;

pub use bodies::{AuthBody, SessionBody, UserBody};
pub use client::Client;
pub(crate) use session_cookies::append_cookie;
pub use session_cookies::{clear_session_cookies, set_session_cookies};
