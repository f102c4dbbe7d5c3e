//! E-mail addresses: parsed once, normalised (trimmed, domain lower-cased),
//! valid by construction.

use std::fmt;

/// A normalised e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why an e-mail address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Not `local@domain`.
    #[error("an e-mail address looks like name@example.com")]
    Shape,
    /// Longer than RFC 5321 allows.
    #[error("an e-mail address has at most 254 characters")]
    TooLong,
}

impl Email {
    /// Parses and normalises: trims surrounding whitespace, lower-cases the
    /// domain (the local part is case-sensitive in principle and kept).
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let s = input.trim();
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Shape)?;
        let bad = |c: char| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        };
        if local.is_empty() || local.len() > 64 || local.chars().any(bad) || local.contains('@') {
            return Err(EmailError::Shape);
        }
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-'));
        if !domain.contains('.')
            || !labels_ok
            || domain
                .chars()
                .any(|c| bad(c) || matches!(c, '[' | ']' | '@'))
        {
            return Err(EmailError::Shape);
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_domain_and_whitespace_only() {
        assert_eq!(
            Email::parse("  Cat@Example.COM ").unwrap().as_str(),
            "Cat@example.com"
        );
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in [
            "",
            "a",
            "a@",
            "@b.com",
            "a@b",
            "a b@c.com",
            "a@b..com",
            "a@-b.com",
            "a@[1.2.3.4]",
            "a\n@b.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Email::parse(&format!("{}@b.com", "a".repeat(250))),
            Err(EmailError::TooLong)
        );
    }
}
