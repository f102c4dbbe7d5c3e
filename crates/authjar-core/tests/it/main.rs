//! `AuthService`'s rules, tested directly: an in-memory store, the manual
//! clock, and a mail transport that keeps what was sent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod service;
