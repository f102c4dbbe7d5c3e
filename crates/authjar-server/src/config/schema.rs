//! The configuration schema: every key authjar accepts (docs/configuration.md), which
//! ones are secret, and which are sections of nested keys.

/// A known key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// Its dotted name (`rate_limit.enabled`; `oauth.*.client_id` for provider keys).
    pub name: &'static str,
    /// Its value must never be printed.
    pub secret: bool,
}

impl Key {
    /// The internal key `BASE_URL` lands on (read when `public_url` is unset).
    pub const BASE_URL: &'static str = "base_url";
}

const fn k(name: &'static str) -> Key {
    Key {
        name,
        secret: false,
    }
}

const fn secret(name: &'static str) -> Key {
    Key { name, secret: true }
}

/// Top-level and section keys.
pub const KEYS: &[Key] = &[
    k("public_url"),
    k(Key::BASE_URL),
    k("app_origins"),
    k("environment"),
    k("listen"),
    k("metrics_listen"),
    secret("metrics_token"),
    secret("database_url"),
    k("database.max_connections"),
    k("database.acquire_timeout"),
    secret("secret"),
    secret("previous_secrets"),
    k("secret_file"),
    k("access_ttl"),
    k("refresh_ttl"),
    k("cookie_domain"),
    k("trusted_proxies"),
    k("refresh_reuse_grace"),
    k("tls_cert"),
    k("tls_key"),
    k("log"),
    k("require_verified_email"),
    k("debug_page"),
    secret("email.smtp_url"),
    k("email.from"),
    k("email.link_base"),
    k("email.app_name"),
    k("rate_limit.enabled"),
    k("rate_limit.login_per_account"),
    k("rate_limit.login_failures_per_account"),
    k("rate_limit.per_client"),
    k("rate_limit.refresh_per_client"),
    k("rate_limit.mail_per_address"),
];

/// Keys of one OAuth provider (`oauth.<provider>.<field>`).
pub const PROVIDER_KEYS: &[Key] = &[
    k("client_id"),
    secret("client_secret"),
    k("issuer"),
    k("auth_url"),
    k("token_url"),
    k("userinfo_url"),
    k("tenant"),
    k("name"),
    k("scopes"),
];

/// The schema entry for a dotted key, if it is one authjar knows.
pub fn lookup(key: &str) -> Option<Key> {
    if let Some(k) = KEYS.iter().find(|k| k.name == key) {
        return Some(*k);
    }
    let (provider, field) = key.strip_prefix("oauth.")?.split_once('.')?;
    if !valid_provider_id(provider) {
        return None;
    }
    PROVIDER_KEYS.iter().find(|k| k.name == field).copied()
}

/// Tables that hold nested keys in `authjar.toml`.
pub fn is_section(key: &str) -> bool {
    key == "rate_limit"
        || key == "database"
        || key == "email"
        || key == "oauth"
        || key
            .strip_prefix("oauth.")
            .is_some_and(|p| !p.contains('.') && valid_provider_id(p))
}

/// Provider ids appear in URLs (`/auth/oauth/{provider}/start`): lower-case letters, digits, `-`.
pub fn valid_provider_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// True when the key's value must be hidden in messages.
pub fn is_secret(key: &str) -> bool {
    lookup(key).is_some_and(|k| k.secret)
}

/// The environment variable of a dotted key (`rate_limit.enabled` →
/// `AUTHJAR_RATE_LIMIT__ENABLED`).
pub fn env_name(key: &str) -> String {
    format!("AUTHJAR_{}", key.to_ascii_uppercase().replace('.', "__"))
}

/// The known variable an unknown `AUTHJAR_*` variable is at most two edits
/// (optimal string alignment: insertions, deletions, substitutions,
/// transpositions) away from, if any. Provider variables compare their
/// field part (`AUTHJAR_OAUTH__GITHUB__CLIENT_IDD` → `…__CLIENT_ID`).
pub fn near_miss(var: &str) -> Option<String> {
    let upper = var.to_ascii_uppercase();
    let mut candidates: Vec<String> = KEYS
        .iter()
        .filter(|k| k.name != Key::BASE_URL)
        .map(|k| env_name(k.name))
        .collect();
    if let Some(rest) = upper.strip_prefix("AUTHJAR_OAUTH__") {
        if let Some((provider, _)) = rest.split_once("__") {
            candidates.extend(
                PROVIDER_KEYS
                    .iter()
                    .map(|f| format!("AUTHJAR_OAUTH__{provider}__{}", f.name.to_ascii_uppercase())),
            );
        }
    }
    candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(&upper, &c), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_found_and_unrelated_names_are_not() {
        assert_eq!(
            near_miss("AUTHJAR_SECRETS").as_deref(),
            Some("AUTHJAR_SECRET")
        );
        assert_eq!(
            near_miss("AUTHJAR_ACESS_TTL").as_deref(),
            Some("AUTHJAR_ACCESS_TTL")
        );
        assert_eq!(
            near_miss("AUTHJAR_RATE_LIMIT_ENABLED").as_deref(),
            Some("AUTHJAR_RATE_LIMIT__ENABLED")
        );
        assert_eq!(
            near_miss("AUTHJAR_OAUTH__GITHUB__CLIENT_IDD").as_deref(),
            Some("AUTHJAR_OAUTH__GITHUB__CLIENT_ID")
        );
        for unrelated in [
            "AUTHJAR_BIN",
            "AUTHJAR_HOME",
            "AUTHJAR_VERSION",
            "AUTHJAR_DOCTOR_PASSWORD",
        ] {
            assert_eq!(near_miss(unrelated), None, "{unrelated}");
        }
    }
}
