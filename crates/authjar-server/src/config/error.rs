//! Configuration errors: each names the key, the value (hidden for secrets),
//! where it came from, and what would be accepted.

use std::path::PathBuf;

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read or parsed.
    #[error("cannot read {}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A key authjar does not know (a typo must not pass silently).
    #[error("unknown setting `{key}` in {origin}; see the configuration table in the README for the accepted keys")]
    UnknownKey {
        /// The key or variable name.
        key: String,
        /// Where it was found.
        origin: String,
    },
    /// An `AUTHJAR_*` environment variable one or two edits away from a
    /// real key: a typo, refused with the likely intended name.
    #[error("unknown setting `{name}` in the environment; did you mean `{suggestion}`?")]
    MisspelledVariable {
        /// The variable as set.
        name: String,
        /// The known variable it is closest to.
        suggestion: String,
    },
    /// A value that does not parse.
    #[error("invalid `{key}` = {value} (from {origin}): expected {expected}")]
    Invalid {
        /// The dotted key.
        key: String,
        /// The value as written, quoted, or `(hidden)` for secrets.
        value: String,
        /// Where it came from.
        origin: String,
        /// What would be accepted.
        expected: String,
    },
    /// Two settings that only make sense together, or a missing one.
    #[error("{0}")]
    Inconsistent(String),
}
