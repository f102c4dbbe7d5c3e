//! Integration tests of `authjar-server`: configuration, and the running
//! application on `127.0.0.1:0` with a fresh SQLite file per test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod api;
mod config;
mod cookie_corpus;
mod csrf;
mod debug_page;
mod docs;
mod fault;
mod files;
mod helpers;
mod instances;
mod oauth;
mod refresh;
