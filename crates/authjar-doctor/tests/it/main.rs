//! Integration tests of `authjar-doctor`: fixture deployments on loopback
//! (HTTP, and HTTPS with a test CA) reproducing each mistake, a non-authjar
//! API audited through the path options, and the checks run on recorded
//! observations without a network.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod certs;
mod docs;
mod fixture;
mod frameworks;
mod mistakes;
mod other_api;
mod recorded;
mod secrets;
mod shapes;
