//! E-mail addresses: parsed once, normalised, valid by construction. One
//! person, one address: `Victim@X.test`, `victim@x.test`, `victim@ｘ.test`
//! (fullwidth) and `VICTIM@X.TEST` are one account.
//!
//! - The whole address is NFKC-normalised (compatibility forms such as
//!   fullwidth letters become their plain forms).
//! - The domain goes through IDNA (UTS #46, the `idna` crate) to its ASCII
//!   form: lower-cased, punycode for international names.
//! - The local part must then be ASCII, and is lower-cased. Mailbox names
//!   in other scripts are refused rather than compared: letters of
//!   different scripts that look alike (Cyrillic `і` and Latin `i`) would
//!   otherwise be two accounts a person cannot tell apart. Nearly every
//!   provider and mail server still works this way.

use std::fmt;

use unicode_normalization::UnicodeNormalization as _;

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
    /// The part before `@` has characters outside ASCII.
    #[error("the part before @ must use ASCII letters, digits and . _ % + - (addresses in other scripts are not accepted)")]
    NonAsciiLocalPart,
}

/// Characters that never appear in an address authjar accepts.
fn bad(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '<' | '>' | ',' | ';' | '"' | '(' | ')' | '\\' | '[' | ']'
        )
}

impl Email {
    /// Parses and normalises (see the module documentation).
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let s: String = input.trim().nfkc().collect();
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Shape)?;
        if local.is_empty() || local.len() > 64 || local.chars().any(bad) || local.contains('@') {
            return Err(EmailError::Shape);
        }
        if !local.is_ascii() {
            return Err(EmailError::NonAsciiLocalPart);
        }
        if domain.chars().any(|c| bad(c) || c == '@') {
            return Err(EmailError::Shape);
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| EmailError::Shape)?;
        let labels_ok = domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(EmailError::Shape);
        }
        let address = format!("{}@{domain}", local.to_ascii_lowercase());
        if address.len() > 254 {
            return Err(EmailError::TooLong);
        }
        Ok(Email(address))
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
    fn one_person_one_address_across_case_width_and_idna() {
        let canonical = Email::parse("victim@x.test").unwrap();
        for same in [
            "Victim@x.test",
            "VICTIM@X.TEST",
            "  victim@x.test ",
            "victim@ｘ.test",
            "ｖｉｃｔｉｍ@x.test",
            "victim@X.Test",
        ] {
            assert_eq!(Email::parse(same).unwrap(), canonical, "{same}");
        }
        assert_eq!(
            Email::parse("cat@bücher.example").unwrap().as_str(),
            "cat@xn--bcher-kva.example"
        );
        assert_eq!(
            Email::parse("cat@xn--bcher-kva.example").unwrap().as_str(),
            "cat@xn--bcher-kva.example",
            "the canonical form parses to itself"
        );
    }

    #[test]
    fn look_alike_local_parts_are_refused() {
        for confusable in ["vіctim@x.test", "viсtim@x.test", "猫@x.test"] {
            assert_eq!(
                Email::parse(confusable),
                Err(EmailError::NonAsciiLocalPart),
                "{confusable}"
            );
        }
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
            "a@b-.com",
            "a@[1.2.3.4]",
            "a\n@b.com",
            "a@b_c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Email::parse(&format!("{}@b.com", "a".repeat(250))),
            Err(EmailError::TooLong)
        );
    }
}
