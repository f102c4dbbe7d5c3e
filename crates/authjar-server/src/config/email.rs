//! E-mail delivery and links (`email.*`).

use authjar_policy::{AppOriginEntry, PublicUrl};
use secrecy::SecretString;

use super::values::Reader;
use super::ConfigError;

/// E-mail delivery (`email.*`).
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// `smtp://` (STARTTLS required), `smtps://` (implicit TLS) or
    /// `smtp+plain://` (loopback only, no TLS) with optional
    /// `user:password@`; `None`: messages go to the log (development).
    pub smtp_url: Option<SecretString>,
    /// `From:`.
    pub from: String,
    /// Links in messages open this app URL (the token in the fragment).
    pub link_base: url::Url,
    /// The app's name in messages.
    pub app_name: String,
}

impl EmailSettings {
    /// Where mail goes, in words (never the SMTP password).
    pub fn delivery(&self) -> String {
        match &self.smtp_url {
            None => "printed to the log (development; set email.smtp_url to send)".into(),
            Some(u) => match url::Url::parse(secrecy::ExposeSecret::expose_secret(u)) {
                Ok(u) => format!(
                    "SMTP {}://{}{} from {}",
                    u.scheme(),
                    u.host_str().unwrap_or_default(),
                    u.port().map(|p| format!(":{p}")).unwrap_or_default(),
                    self.from
                ),
                Err(_) => "SMTP".into(),
            },
        }
    }

    /// True when the links open one of the app origins (else the person lands somewhere unexpected).
    pub fn link_base_is_app_origin(&self, app_origins: &[AppOriginEntry]) -> bool {
        let base = self.link_base.origin().ascii_serialization();
        app_origins
            .iter()
            .any(|e| matches!(e, AppOriginEntry::Exact(o) if o.to_string() == base))
    }

    /// The e-mail lines of the banner and `authjar check`: `(label, text)`.
    pub fn summary(
        &self,
        require_verified: bool,
        app_origins: &[AppOriginEntry],
    ) -> Vec<(&'static str, String)> {
        let mut lines = vec![
            ("e-mail:", self.delivery()),
            ("mail links:", format!("open {}", self.link_base)),
            (
                "verification:",
                if require_verified {
                    "required before login (require_verified_email)".to_owned()
                } else {
                    "sent, not required before login".to_owned()
                },
            ),
        ];
        if !self.link_base_is_app_origin(app_origins) {
            lines.push((
                "warning:",
                format!(
                    "email.link_base {} is not one of app_origins: links in e-mails will open another site",
                    self.link_base
                ),
            ));
        }
        lines
    }
}

pub(super) fn email(
    r: &Reader<'_>,
    public_url: &PublicUrl,
    app_origins: &[AppOriginEntry],
) -> Result<EmailSettings, ConfigError> {
    let smtp_url = match r.string("email.smtp_url")? {
        None => None,
        Some(u) => {
            let ok = url::Url::parse(&u).ok().filter(|p| {
                matches!(p.scheme(), "smtp" | "smtps" | "smtp+plain") && p.host_str().is_some()
            });
            if ok.is_none() {
                return Err(r.invalid(
                    "email.smtp_url",
                    r.raw("email.smtp_url"),
                    "smtps://user:password@host:465 (implicit TLS), smtp://user:password@host:587 (STARTTLS) or smtp+plain://127.0.0.1:1025 (no TLS, for a local test server)",
                ));
            }
            Some(SecretString::from(u))
        }
    };
    let first_app = app_origins.iter().find_map(|e| match e {
        AppOriginEntry::Exact(o) => Some(format!("{o}/")),
        AppOriginEntry::Wildcard(_) => None,
    });
    let link_base = match r.string("email.link_base")? {
        Some(v) => url::Url::parse(&v)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                r.invalid(
                    "email.link_base",
                    r.raw("email.link_base"),
                    "an http(s) URL of your app, e.g. https://app.example.com/account",
                )
            })?,
        None => url::Url::parse(&first_app.unwrap_or_else(|| public_url.to_string()))
            .map_err(|e| ConfigError::Inconsistent(format!("email.link_base: {e}")))?,
    };
    let host = link_base.host_str().unwrap_or("authjar").to_owned();
    let api_host = url::Url::parse(&public_url.to_string())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into());
    Ok(EmailSettings {
        smtp_url,
        from: r
            .string("email.from")?
            .unwrap_or_else(|| format!("no-reply@{api_host}")),
        app_name: r.string("email.app_name")?.unwrap_or(host),
        link_base,
    })
}
