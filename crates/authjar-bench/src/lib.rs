//! Benchmark tools used by `scripts/bench` (see BENCHMARKS.md):
//! `bare-verify`, an axum server whose one handler verifies authjar's EdDSA
//! access token from a cookie (the practical ceiling for `/auth/verify`), and
//! `loadgen`, a closed-loop load generator for login and refresh plus a
//! single-hash argon2id timer.
