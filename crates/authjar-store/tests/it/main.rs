//! Integration tests of `authjar-store`: the conformance suite every
//! `Store` backend must pass, run against each backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;
