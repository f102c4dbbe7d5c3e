//! Integration tests of `authjar-server`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config;
