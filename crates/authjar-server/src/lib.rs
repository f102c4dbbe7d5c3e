//! `authjar-server`: the authjar service — its configuration, the HTTP
//! application (`fn app(state) -> Router`), the start-up banner, TLS and
//! serving, and the local-HTTPS helper behind `authjar dev certs`.

pub mod app;
pub mod banner;
pub mod config;
pub mod dev_certs;
pub mod mail;
pub mod secret_file;
pub mod serve;
pub mod state;

pub use app::{app, app_with};
pub use state::{build_state, Runtime};
