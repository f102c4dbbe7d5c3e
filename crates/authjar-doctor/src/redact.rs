//! Keeping secrets out of observations and reports: cookie values become
//! runs of `*` of the same length (the size checks still work), the
//! `Cookie`, CSRF and `Authorization` request headers are replaced, and JSON
//! bodies lose every value under a key that names a token, secret, password
//! or code.

/// Placeholder for a value that is never shown.
pub const REDACTED: &str = "<redacted>";

/// Longest body kept in an observation.
const MAX_BODY: usize = 4096;

/// A `Set-Cookie` line with its value replaced by `*`s of the same length.
pub fn set_cookie_line(line: &str) -> String {
    let (pair, rest) = match line.find(';') {
        Some(i) => line.split_at(i),
        None => (line, ""),
    };
    let masked = match pair.split_once('=') {
        Some((name, value)) => format!("{name}={}", mask(value)),
        None => mask(pair),
    };
    masked + rest
}

fn mask(value: &str) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return value.to_owned();
    }
    "*".repeat(trimmed.len())
}

/// A recorded `Set-Cookie` line for a report: `name=<redacted>; attributes`.
pub fn display_set_cookie(recorded: &str) -> String {
    let (pair, rest) = match recorded.find(';') {
        Some(i) => recorded.split_at(i),
        None => (recorded, ""),
    };
    let shown = match pair.split_once('=') {
        Some((name, v)) if v.trim().is_empty() => format!("{name}={v}"),
        Some((name, v)) => format!("{name}=<{} bytes>", v.trim().len()),
        None => format!("<{} bytes>", pair.trim().len()),
    };
    format!("set-cookie: {shown}{rest}")
}

/// A `Cookie` header with every value hidden: `a=<redacted>; b=<redacted>`.
pub fn cookie_header(value: &str) -> String {
    value
        .split(';')
        .map(|p| match p.trim().split_once('=') {
            Some((n, _)) => format!("{n}={REDACTED}"),
            None => REDACTED.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A request header as recorded.
pub fn request_header(name: &str, value: &str, csrf_header: &str) -> String {
    match name {
        "cookie" => cookie_header(value),
        "authorization" => REDACTED.to_owned(),
        n if n == csrf_header => REDACTED.to_owned(),
        _ => value.to_owned(),
    }
}

/// True for JSON keys whose values are secrets.
fn secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "token",
        "csrf",
        "xsrf",
        "secret",
        "password",
        "code",
        "session_id",
        "jwt",
    ]
    .iter()
    .any(|s| k.contains(s))
}

fn redact_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if secret_key(k) && !val.is_object() && !val.is_array() {
                    *val = serde_json::Value::String(REDACTED.into());
                } else {
                    redact_json(val);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// A response body as recorded: JSON with secret values replaced, anything
/// else cut to its start.
pub fn body(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(text) {
        redact_json(&mut v);
        let s = v.to_string();
        return Some(truncate(&s, MAX_BODY));
    }
    Some(truncate(text, 512))
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_are_masked_keeping_their_length_and_attributes() {
        assert_eq!(
            set_cookie_line("sid=abc123; HttpOnly; Path=/"),
            "sid=******; HttpOnly; Path=/"
        );
        assert_eq!(set_cookie_line("sid=; Max-Age=0"), "sid=; Max-Age=0");
        assert_eq!(
            display_set_cookie("sid=******; HttpOnly"),
            "set-cookie: sid=<6 bytes>; HttpOnly"
        );
        assert_eq!(cookie_header("a=1; b=2"), "a=<redacted>; b=<redacted>");
    }

    #[test]
    fn json_bodies_lose_tokens_and_keep_the_rest() {
        let b = body(
            r#"{"csrf_token":"s3cret","user":{"email":"a@b.c"},"providers":[{"id":"github"}]}"#,
        )
        .unwrap();
        assert!(!b.contains("s3cret"), "{b}");
        assert!(b.contains("a@b.c") && b.contains("github"), "{b}");
    }
}
