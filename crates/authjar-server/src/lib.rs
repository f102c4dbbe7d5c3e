//! `authjar-server`: the authjar service — its configuration, the HTTP
//! application (`fn app(state) -> Router`), TLS and serving.

pub mod config;
