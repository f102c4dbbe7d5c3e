//! Integration tests of the `authjar` binary: real processes, real files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod check;
mod dev_certs;
mod doctor;
mod helpers;
mod instances;
mod serve;
