//! Integration tests of `authjar-policy`: corpus suites, topology tables,
//! measured browser facts and properties.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod browser_facts;
mod dates;
mod firefox_facts;
mod helpers;
mod http_state;
mod judge;
mod properties;
mod return_to;
mod topologies;
