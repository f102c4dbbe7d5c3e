//! Display names: shown to the user and, in an app, to other users, so they
//! must not carry characters that change how the text around them renders.
//! Refused: control characters (Unicode Cc), bidirectional controls
//! (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069: "Trojan Source",
//! they reorder what follows them), zero-width and invisible formatting
//! characters (U+200B–U+200D, U+2060–U+2064, U+FEFF, U+00AD), line and
//! paragraph separators (U+2028, U+2029), and noncharacters.

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// A display name that breaks the rules above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a name has at most 100 characters and no control, bidirectional or invisible characters")]
pub struct InvalidName;

/// True for the characters a display name must not contain.
pub fn is_forbidden_in_name(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{00AD}' | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{FDD0}'..='\u{FDEF}'
            | '\u{E0000}'..='\u{E007F}')
        || (c as u32) & 0xFFFE == 0xFFFE
}

/// The trimmed name, `None` when empty.
pub fn parse_display_name(raw: &str) -> Result<Option<String>, InvalidName> {
    let name = raw.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(is_forbidden_in_name) {
        return Err(InvalidName);
    }
    Ok(Some(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_in_any_script_pass_and_rendering_tricks_do_not() {
        for ok in ["Cat Lover", "Zoë", "猫好き", "محمد", "  padded  "] {
            assert!(parse_display_name(ok).unwrap().is_some(), "{ok}");
        }
        assert_eq!(parse_display_name("   ").unwrap(), None);
        for bad in [
            "admin\u{202E}gnp.exe",
            "a\u{2066}b\u{2069}",
            "a\u{200B}b",
            "line\nbreak",
            "tab\there",
            "nul\0",
            "a\u{2028}b",
            "bom\u{FEFF}",
            "tag\u{E0041}",
            "x\u{061C}y",
        ] {
            assert_eq!(parse_display_name(bad), Err(InvalidName), "{bad:?}");
        }
        assert_eq!(parse_display_name(&"a".repeat(101)), Err(InvalidName));
        assert!(parse_display_name(&"a".repeat(100)).is_ok());
    }
}
