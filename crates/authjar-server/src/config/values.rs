//! Typed reading of raw settings. Every failure names the key, the value as
//! written (hidden for secrets), its source, and what would be accepted.

use std::time::Duration;

use super::error::ConfigError;
use super::layers::{Layers, Raw, RawValue};
use super::schema::is_secret;

/// Reads typed values out of merged [`Layers`].
pub struct Reader<'a> {
    layers: &'a Layers,
}

impl<'a> Reader<'a> {
    /// A reader over merged layers.
    pub fn new(layers: &'a Layers) -> Reader<'a> {
        Reader { layers }
    }

    /// The error for `key`'s raw value.
    pub fn invalid(&self, key: &str, raw: &Raw, expected: impl Into<String>) -> ConfigError {
        let value = if is_secret(key) {
            "(hidden)".to_owned()
        } else {
            match &raw.value {
                RawValue::Text(s) => format!("{s:?}"),
                RawValue::Toml(v) => v.to_string(),
            }
        };
        ConfigError::Invalid {
            key: key.to_owned(),
            value,
            origin: raw.source.to_string(),
            expected: expected.into(),
        }
    }

    /// A string setting; a TOML value of another type is an error.
    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        self.text_expecting(key, "a string")
    }

    fn text_expecting(&self, key: &str, expected: &str) -> Result<Option<String>, ConfigError> {
        let Some(raw) = self.layers.get(key) else {
            return Ok(None);
        };
        match &raw.value {
            RawValue::Text(s) => Ok(Some(s.trim().to_owned())),
            RawValue::Toml(toml::Value::String(s)) => Ok(Some(s.trim().to_owned())),
            RawValue::Toml(_) => {
                Err(self.invalid(key, raw, format!("{expected}, written as a quoted string")))
            }
        }
    }

    /// A string setting run through `parse`; `expected` describes what parses.
    pub fn parsed<T>(
        &self,
        key: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(text) = self.text_expecting(key, expected)? else {
            return Ok(None);
        };
        match parse(&text) {
            Some(v) => Ok(Some(v)),
            None => Err(self.invalid(key, self.raw(key), expected)),
        }
    }

    /// A boolean: TOML `true`/`false`, or the text `true`, `false`, `1`, `0`, `yes`, `no`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        let Some(raw) = self.layers.get(key) else {
            return Ok(None);
        };
        let parsed = match &raw.value {
            RawValue::Toml(toml::Value::Boolean(b)) => Some(*b),
            RawValue::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => None,
            },
            RawValue::Toml(_) => None,
        };
        parsed
            .map(Some)
            .ok_or_else(|| self.invalid(key, raw, "true or false"))
    }

    /// A positive count (per minute limits).
    pub fn count(&self, key: &str) -> Result<Option<u32>, ConfigError> {
        let Some(raw) = self.layers.get(key) else {
            return Ok(None);
        };
        let parsed = match &raw.value {
            RawValue::Toml(toml::Value::Integer(i)) => u32::try_from(*i).ok(),
            RawValue::Text(s) => s.trim().parse().ok(),
            RawValue::Toml(_) => None,
        };
        match parsed {
            Some(n) if n > 0 => Ok(Some(n)),
            _ => Err(self.invalid(key, raw, "a whole number of at least 1")),
        }
    }

    /// A humantime duration such as `30m`, `1h 30m` or `10s`, within `range`.
    pub fn duration(
        &self,
        key: &str,
        min: Duration,
        max: Duration,
    ) -> Result<Option<Duration>, ConfigError> {
        let expected = format!(
            "a duration such as 30m, 12h or 30d, between {} and {}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        );
        self.parsed(key, &expected, |s| {
            humantime::parse_duration(s)
                .ok()
                .filter(|d| *d >= min && *d <= max)
        })
    }

    /// A list: a TOML array of strings, or comma-separated text.
    pub fn list(&self, key: &str) -> Result<Option<Vec<String>>, ConfigError> {
        let Some(raw) = self.layers.get(key) else {
            return Ok(None);
        };
        let items = match &raw.value {
            RawValue::Text(s) | RawValue::Toml(toml::Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect(),
            RawValue::Toml(toml::Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(|s| s.trim().to_owned()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.invalid(key, raw, "a list of strings"))?,
            RawValue::Toml(_) => {
                return Err(self.invalid(key, raw, "a list of strings or a comma-separated string"))
            }
        };
        Ok(Some(items))
    }

    /// The raw value of a key known to be present.
    pub fn raw(&self, key: &str) -> &Raw {
        self.layers.get(key).unwrap_or(&MISSING)
    }
}

static MISSING: Raw = Raw {
    value: RawValue::Text(String::new()),
    source: super::layers::Source::Env(String::new()),
};
