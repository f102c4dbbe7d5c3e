//! The two ways authjar delivers mail: SMTP (`email.smtp_url`, through
//! lettre over rustls) and, in development with nothing configured, the
//! log, so `authjar serve` on a laptop works end to end with no setup.

use async_trait::async_trait;
use authjar_core::{Letter, MailError, Mailer};
use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret as _;

/// Prints every message (with its link) to the log, at `info`.
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, letter: &Letter) -> Result<(), MailError> {
        tracing::info!(
            to = %letter.to,
            subject = %letter.subject,
            request_id = %letter.request_id,
            body = %letter.text,
            "e-mail (development: printed, not sent; set email.smtp_url to send)"
        );
        Ok(())
    }
}

/// Sends through an SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why the SMTP settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSetupError {
    /// `email.smtp_url` or `email.from` is unusable.
    #[error("{0}")]
    Invalid(String),
}

impl SmtpMailer {
    /// A transport for `smtp_url`: `smtps://` implicit TLS (port 465 by
    /// default), `smtp://` STARTTLS required (587), `smtp+plain://` no TLS
    /// (loopback only; 25). `user:password@` authenticates.
    pub fn new(smtp_url: &secrecy::SecretString, from: &str) -> Result<SmtpMailer, SmtpSetupError> {
        let url = url::Url::parse(smtp_url.expose_secret())
            .map_err(|_| SmtpSetupError::Invalid("email.smtp_url is not a URL".into()))?;
        let host = url
            .host_str()
            .ok_or_else(|| SmtpSetupError::Invalid("email.smtp_url has no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls_error = |e: lettre::transport::smtp::Error| {
            SmtpSetupError::Invalid(format!("email.smtp_url: {e}"))
        };
        let mut builder = match url.scheme() {
            "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
                .map_err(tls_error)?
                .port(url.port().unwrap_or(465)),
            "smtp" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
                .map_err(tls_error)?
                .port(url.port().unwrap_or(587)),
            "smtp+plain" if is_loopback(&host) => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host).port(url.port().unwrap_or(25))
            }
            "smtp+plain" => {
                return Err(SmtpSetupError::Invalid(
                    "email.smtp_url: smtp+plain:// (no TLS) is only for a server on this machine; use smtps:// or smtp://".into(),
                ))
            }
            other => return Err(SmtpSetupError::Invalid(format!("email.smtp_url: unknown scheme {other}"))),
        };
        if !url.username().is_empty() {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            builder = builder.credentials(Credentials::new(
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            ));
        }
        let from: Mailbox = from.parse().map_err(|_| {
            SmtpSetupError::Invalid(format!("email.from is not an address: {from}"))
        })?;
        Ok(SmtpMailer {
            transport: builder.build(),
            from,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, letter: &Letter) -> Result<(), MailError> {
        let to: Mailbox = letter
            .to
            .as_str()
            .parse()
            .map_err(|e| MailError(format!("recipient: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&letter.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(letter.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(letter.html.clone()),
                    ),
            )
            .map_err(|e| MailError(format!("message: {e}")))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError(e.to_string()))
    }
}
