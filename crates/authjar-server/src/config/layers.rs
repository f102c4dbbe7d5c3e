//! Collecting raw settings from every source, in precedence order: built-in
//! defaults < `authjar.toml` < `.env` < `.env.<environment>` < process
//! environment. Each value remembers where it came from, so an error can say
//! "`access_ttl` in .env.production".

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::schema::{self, Key};

/// Where a raw value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A TOML file.
    File(PathBuf),
    /// A dotenv file.
    DotEnv(PathBuf),
    /// A process environment variable.
    Env(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::DotEnv(p) => write!(f, "{}", p.display()),
            Source::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

/// A value before typing: TOML keeps its types, environment values are strings.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// From a TOML file.
    Toml(toml::Value),
    /// From a dotenv file or the environment.
    Text(String),
}

/// One raw setting.
#[derive(Debug, Clone, PartialEq)]
pub struct Raw {
    /// The value.
    pub value: RawValue,
    /// Where it came from.
    pub source: Source,
}

/// The merged raw settings: dotted key → the value of highest precedence.
#[derive(Debug, Default)]
pub struct Layers {
    values: BTreeMap<String, Raw>,
    /// The sources that contributed, lowest precedence first.
    pub loaded: Vec<Source>,
    /// Process-environment variables named `AUTHJAR_*` that are no key and
    /// no near miss of one: ignored, with a warning.
    pub ignored_variables: Vec<String>,
}

impl Layers {
    /// The raw value of a key.
    pub fn get(&self, key: &str) -> Option<&Raw> {
        self.values.get(key)
    }

    /// All keys under `prefix.` (for `oauth.<provider>.*`).
    pub fn keys_under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values
            .keys()
            .map(String::as_str)
            .filter(move |k| k.starts_with(prefix))
    }

    fn set(&mut self, key: String, raw: Raw) {
        self.values.insert(key, raw);
    }

    /// Merges a TOML file.
    pub fn add_toml_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::File {
                path: path.to_owned(),
                reason: e.message().to_owned(),
            })?;
        let source = Source::File(path.to_owned());
        self.add_table("", &table, &source)?;
        self.loaded.push(source);
        Ok(())
    }

    fn add_table(
        &mut self,
        prefix: &str,
        table: &toml::Table,
        source: &Source,
    ) -> Result<(), ConfigError> {
        for (k, v) in table {
            let key = format!("{prefix}{k}");
            match (v, schema::lookup(&key)) {
                (toml::Value::Table(t), None) if schema::is_section(&key) => {
                    self.add_table(&format!("{key}."), t, source)?;
                }
                (_, Some(_)) => self.set(
                    key,
                    Raw {
                        value: RawValue::Toml(v.clone()),
                        source: source.clone(),
                    },
                ),
                (_, None) => {
                    return Err(ConfigError::UnknownKey {
                        key,
                        origin: source.to_string(),
                    })
                }
            }
        }
        Ok(())
    }

    /// Merges `KEY=value` pairs from a dotenv file or the process environment.
    /// Only `AUTHJAR_*`, `ENVIRONMENT` and `BASE_URL` are read. An unknown
    /// `AUTHJAR_*` name in a file is an error; in the process environment it
    /// is an error when it is a near miss of a key (a typo must not be
    /// silently ignored) and otherwise ignored with a warning.
    pub fn add_vars(
        &mut self,
        vars: &[(String, String)],
        source: impl Fn(&str) -> Source,
    ) -> Result<(), ConfigError> {
        // Plain aliases first so that the AUTHJAR_ spelling wins within one layer.
        let mut ordered: Vec<&(String, String)> = vars.iter().collect();
        ordered.sort_by_key(|(name, _)| name.starts_with("AUTHJAR_"));
        for (name, value) in ordered {
            let Some(key) = env_key(name) else { continue };
            if schema::lookup(&key).is_none() {
                // A file is authjar's own: every name in it must be a key. The
                // process environment is shared with everything else a deploy
                // sets (`AUTHJAR_BIN`…): only a near miss of a key is refused.
                if !matches!(source(name), Source::Env(_)) {
                    return Err(ConfigError::UnknownKey {
                        key: name.clone(),
                        origin: source(name).to_string(),
                    });
                }
                if let Some(suggestion) = schema::near_miss(name) {
                    return Err(ConfigError::MisspelledVariable {
                        name: name.clone(),
                        suggestion,
                    });
                }
                if !self.ignored_variables.contains(name) {
                    self.ignored_variables.push(name.clone());
                }
                continue;
            }
            self.set(
                key,
                Raw {
                    value: RawValue::Text(value.clone()),
                    source: source(name),
                },
            );
        }
        Ok(())
    }

    /// Merges a dotenv file if it exists.
    pub fn add_dotenv(&mut self, path: &Path) -> Result<(), ConfigError> {
        if !path.is_file() {
            return Ok(());
        }
        let iter = dotenvy::from_path_iter(path).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let mut vars = Vec::new();
        for item in iter {
            let pair = item.map_err(|e| ConfigError::File {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            vars.push(pair);
        }
        let p = path.to_owned();
        self.add_vars(&vars, |_| Source::DotEnv(p.clone()))?;
        self.loaded.push(Source::DotEnv(path.to_owned()));
        Ok(())
    }

    /// The value of a key as plain text, for the few decisions taken before
    /// typing (which `.env.<environment>` to read).
    pub fn text(&self, key: &str) -> Option<String> {
        match &self.get(key)?.value {
            RawValue::Text(s) => Some(s.clone()),
            RawValue::Toml(toml::Value::String(s)) => Some(s.clone()),
            RawValue::Toml(_) => None,
        }
    }
}

/// `AUTHJAR_RATE_LIMIT__ENABLED` → `rate_limit.enabled`; `ENVIRONMENT` →
/// `environment`; `BASE_URL` → `base_url` (the fallback for `public_url`).
fn env_key(name: &str) -> Option<String> {
    match name {
        "ENVIRONMENT" => return Some("environment".into()),
        "BASE_URL" => return Some(Key::BASE_URL.into()),
        _ => {}
    }
    let rest = name.strip_prefix("AUTHJAR_")?;
    Some(rest.to_ascii_lowercase().replace("__", "."))
}
