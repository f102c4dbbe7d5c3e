//! Keeping secrets out of observations and reports: cookie values become
//! runs of `*` of the same length (the size checks still work), the
//! `Cookie`, CSRF and `Authorization` request headers are replaced, and JSON
//! bodies lose every value under a key that names a token, secret, password
//! or code.

/// Placeholder for a value that is never shown.
pub const REDACTED: &str = "<redacted>";

/// Longest body kept in an observation.
const MAX_BODY: usize = 4096;

/// The attributes RFC 6265bis defines (and `Priority`): their values are
/// kept; anything else in a `Set-Cookie` line is treated as a secret.
const ATTRIBUTES: [&str; 9] = [
    "expires",
    "max-age",
    "domain",
    "path",
    "secure",
    "httponly",
    "samesite",
    "partitioned",
    "priority",
];

/// Splits on `sep` outside double quotes.
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// `name=value` with the value masked (a part without `=` is all value).
fn mask_pair(part: &str) -> String {
    match part.split_once('=') {
        Some((name, value)) => format!("{name}={}", mask(value)),
        None => mask(part),
    }
}

/// One `;`-separated attribute: kept when it is a known attribute, every
/// `name=value` folded into it after a comma (`Path=/, b=SECRET`: two
/// cookies joined into one line) masked.
fn attribute(segment: &str) -> String {
    let parts = split_unquoted(segment, ',');
    let mut out = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let name = part
            .split('=')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let known = i == 0 && ATTRIBUTES.contains(&name.as_str());
        // An Expires date's own comma is followed by a part without `=`.
        let date_part = i > 0 && !part.contains('=');
        out.push(if known || date_part {
            (*part).to_owned()
        } else {
            mask_pair(part)
        });
    }
    out.join(",")
}

/// A `Set-Cookie` line, parsed whole, with every value replaced by `*`s of
/// the same length: the cookie's own (quoted or not), and those of any
/// cookie folded into the line after a comma. Attribute values are kept.
pub fn set_cookie_line(line: &str) -> String {
    let segments = split_unquoted(line, ';');
    let mut out = Vec::with_capacity(segments.len());
    for (i, seg) in segments.iter().enumerate() {
        out.push(if i == 0 {
            split_unquoted(seg, ',')
                .iter()
                .map(|p| mask_pair(p))
                .collect::<Vec<_>>()
                .join(",")
        } else {
            attribute(seg)
        });
    }
    out.join(";")
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
        "session",
        "cookie",
        "credential",
        "jwt",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Everything under a secret key goes, whatever its shape (a nested
/// object under `"session"` included); other strings lose token-like runs.
fn redact_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if secret_key(k) {
                    *val = serde_json::Value::String(REDACTED.into());
                } else {
                    redact_json(val);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::String(s) => *s = token_runs(s),
        _ => {}
    }
}

/// Shortest run of token characters (letters, digits, `-_.+/=%`) with both
/// letters and digits that is taken for a secret the probe never saw.
const TOKEN_RUN: usize = 20;

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.+/=%".contains(c)
}

/// `text` with every token-like run (a session id, a JWT, a CSRF token in
/// an HTML form) replaced: error pages and messages may hold secrets the
/// probe never saw as such.
pub fn token_runs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let letters = run.chars().any(|c| c.is_ascii_alphabetic());
        let digits = run.chars().any(|c| c.is_ascii_digit());
        if run.len() >= TOKEN_RUN && letters && digits {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A response body as recorded: JSON with secret values replaced, anything
/// else cut to its start; token-like runs go in both.
pub fn body(text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(text) {
        redact_json(&mut v);
        let s = v.to_string();
        return Some(truncate(&s, MAX_BODY));
    }
    Some(token_runs(&truncate(text, 512)))
}

/// The secrets one probe run has seen (the password, every cookie value,
/// every token), removed from everything it records wherever they appear:
/// an API that echoes the password in an error message, or the `Cookie`
/// header in a body, must not get them into the report.
#[derive(Debug, Default, Clone)]
pub struct Secrets {
    values: Vec<String>,
}

/// Values shorter than this are not scrubbed as substrings (a cookie
/// `lang=en` is no secret, and `en` is in every word); the password is,
/// whatever its length.
const MIN_SECRET: usize = 6;

impl Secrets {
    /// Adds the password: scrubbed whatever its length.
    pub fn password(&mut self, password: &str) {
        self.push(password.to_owned());
        self.push(json_escaped(password));
    }

    /// Adds a cookie value or token seen on the wire, and its
    /// percent-decoded and -encoded forms.
    pub fn add(&mut self, value: &str) {
        let value = value.trim().trim_matches('"');
        if value.len() < MIN_SECRET {
            return;
        }
        self.push(value.to_owned());
        let decoded = percent_encoding::percent_decode_str(value)
            .decode_utf8_lossy()
            .into_owned();
        let encoded =
            percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        for v in [decoded, encoded] {
            if v.len() >= MIN_SECRET {
                self.push(v);
            }
        }
    }

    /// The values of a `Cookie` header.
    pub fn add_cookie_header(&mut self, header: &str) {
        for pair in header.split(';') {
            if let Some((_, v)) = pair.split_once('=') {
                self.add(v);
            }
        }
    }

    /// The values of a `Set-Cookie` line (folded ones included).
    pub fn add_set_cookie(&mut self, line: &str) {
        for (i, seg) in split_unquoted(line, ';').iter().enumerate() {
            for (j, part) in split_unquoted(seg, ',').iter().enumerate() {
                let name = part
                    .split('=')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                if i > 0 && j == 0 && ATTRIBUTES.contains(&name.as_str()) {
                    continue;
                }
                if let Some((_, v)) = part.split_once('=') {
                    self.add(v);
                }
            }
        }
    }

    fn push(&mut self, v: String) {
        if !v.is_empty() && !self.values.contains(&v) {
            self.values.push(v);
            // Longest first, so a secret containing another goes whole.
            self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// `text` with every known secret replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut s = text.to_owned();
        for v in &self.values {
            if s.contains(v.as_str()) {
                s = s.replace(v.as_str(), REDACTED);
            }
        }
        s
    }

    /// Scrubs a string in place.
    pub fn scrub_in_place(&self, text: &mut String) {
        if self.values.iter().any(|v| text.contains(v.as_str())) {
            *text = self.scrub(text);
        }
    }
}

/// The inside of a JSON string literal holding `s` (how a password sits in
/// an echoed JSON body).
fn json_escaped(s: &str) -> String {
    let quoted = serde_json::Value::String(s.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
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
    fn whole_set_cookie_lines_are_redacted_folded_and_quoted_ones_too() {
        assert_eq!(
            set_cookie_line("a=1; Path=/, b=SECRET; HttpOnly"),
            "a=*; Path=/, b=******; HttpOnly"
        );
        assert_eq!(set_cookie_line(r#"a="x;y=z"; Secure"#), "a=*******; Secure");
        assert_eq!(
            set_cookie_line("a=1, b=SECRET; Expires=Wed, 21 Oct 2037 07:28:00 GMT"),
            "a=*, b=******; Expires=Wed, 21 Oct 2037 07:28:00 GMT"
        );
        assert_eq!(
            set_cookie_line("a=1; Foo=SECRET; Max-Age=60"),
            "a=*; Foo=******; Max-Age=60"
        );
        let mut s = Secrets::default();
        s.add_set_cookie("a=1; Path=/, b=SECRET1; HttpOnly");
        assert_eq!(
            s.scrub("echo SECRET1 and Path=/"),
            "echo <redacted> and Path=/"
        );
    }

    #[test]
    fn every_known_secret_goes_wherever_it_appears() {
        let mut s = Secrets::default();
        s.password("Hunter2");
        s.add("abc%3Ddef123");
        s.add("en");
        let text = r#"{"error":"wrong password Hunter2 for abc=def123 (en)"}"#;
        assert_eq!(
            s.scrub(text),
            r#"{"error":"wrong password <redacted> for <redacted> (en)"}"#
        );
    }

    #[test]
    fn json_bodies_lose_tokens_and_keep_the_rest() {
        let b = body(
            r#"{"csrf_token":"s3cret","user":{"email":"a@b.c"},"providers":[{"id":"github"}]}"#,
        )
        .unwrap();
        assert!(!b.contains("s3cret"), "{b}");
        assert!(b.contains("a@b.c") && b.contains("github"), "{b}");
        let b = body(
            r#"{"session":{"id":"x1","user":"u"},"note":"sid 8f14e45fceea167a5a36dedd4bea2543"}"#,
        )
        .unwrap();
        assert!(!b.contains("x1") && !b.contains("8f14e45f"), "{b}");
        let html =
            body("<input name=\"csrfmiddlewaretoken\" value=\"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5\">")
                .unwrap();
        assert!(!html.contains("Zm9vYmFy"), "{html}");
    }
}
