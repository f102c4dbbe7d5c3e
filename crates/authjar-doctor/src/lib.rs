//! `authjar-doctor`: audits a live cookie-auth deployment the way a browser
//! will meet it, for authjar or any other API.
//!
//! Three stages, kept apart so the judgement is testable without a network:
//! - [`probe`] (the only IO): talks to the API as each app's page would and
//!   records every request and response as [`Observations`];
//! - [`check`] (pure): turns observations into [`Diagnosis`]es, using the
//!   policy crate's browser model and judge, so the doctor and the server
//!   that sets the cookies cannot disagree about browsers;
//! - [`report`]: the human checklist and the `--json` document.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use authjar_doctor::{check, probe, ProbeOptions, Target, TargetInput};
//!
//! let target = Target::parse(TargetInput {
//!     api: "https://api.example.com".into(),
//!     apps: vec!["https://app.example.com".into()],
//!     ..TargetInput::default()
//! })?;
//! let observations = probe(&target, &ProbeOptions::default()).await?;
//! for d in check(&observations, observations.observed_at) {
//!     println!("{}", d.finding);
//! }
//! # Ok(()) }
//! ```

pub mod checks;
pub mod diagnosis;
pub mod observe;
pub mod probe;
pub mod redact;
pub mod report;
pub mod target;

pub use checks::check;
pub use diagnosis::Diagnosis;
pub use observe::{Exchange, Observations, Step};
pub use probe::{probe, ProbeError, ProbeOptions, Resolution};
pub use target::{ApiPaths, Credentials, Target, TargetError, TargetInput};
