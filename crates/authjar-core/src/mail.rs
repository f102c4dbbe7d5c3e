//! E-mail: what authjar sends (verification and password-reset links), the
//! [`Mailer`] seam its transports implement (SMTP and the development log in
//! `authjar-server`), and [`MailQueue`], which takes sending off the request
//! path: a bounded queue, retries with backoff, failures logged with the
//! request id and never shown to the caller.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, Semaphore};

use crate::email::Email;

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// Recipient.
    pub to: Email,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
    /// The request that caused it, for logs.
    pub request_id: String,
}

/// A transport failed to send.
#[derive(Debug, Clone, thiserror::Error)]
#[error("mail not sent: {0}")]
pub struct MailError(pub String);

/// Delivers one message now.
///
/// ```
/// use authjar_core::{Letter, MailError, Mailer};
/// struct Nowhere;
/// #[async_trait::async_trait]
/// impl Mailer for Nowhere {
///     async fn send(&self, _: &Letter) -> Result<(), MailError> { Ok(()) }
/// }
/// ```
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends `letter`.
    async fn send(&self, letter: &Letter) -> Result<(), MailError>;
}

/// How many messages may wait; beyond that new ones are dropped and logged.
pub const QUEUE_CAPACITY: usize = 1024;
/// Messages being sent (or retried) at once.
pub const CONCURRENT_SENDS: usize = 4;
/// Attempts per message: the first and four retries after 1, 2, 4 and 8 s.
pub const ATTEMPTS: u32 = 5;

/// The queue in front of a [`Mailer`]; cheap to clone.
#[derive(Clone)]
pub struct MailQueue {
    tx: mpsc::Sender<Letter>,
}

impl MailQueue {
    /// Starts the worker (on the current tokio runtime) that drains the queue into `mailer`.
    pub fn start(mailer: Arc<dyn Mailer>) -> MailQueue {
        Self::start_with(mailer, Duration::from_secs(1))
    }

    /// As [`MailQueue::start`], with the first retry after `backoff` (doubling after each).
    pub fn start_with(mailer: Arc<dyn Mailer>, backoff: Duration) -> MailQueue {
        let (tx, mut rx) = mpsc::channel::<Letter>(QUEUE_CAPACITY);
        let slots = Arc::new(Semaphore::new(CONCURRENT_SENDS));
        tokio::spawn(async move {
            while let Some(letter) = rx.recv().await {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let mailer = mailer.clone();
                tokio::spawn(async move {
                    deliver(mailer.as_ref(), &letter, backoff).await;
                    drop(slot);
                });
            }
        });
        MailQueue { tx }
    }

    /// Queues `letter`; never waits. A full queue drops it, logged.
    pub fn enqueue(&self, letter: Letter) {
        if let Err(e) = self.tx.try_send(letter) {
            let request_id = match &e {
                mpsc::error::TrySendError::Full(l) | mpsc::error::TrySendError::Closed(l) => {
                    l.request_id.clone()
                }
            };
            tracing::error!(request_id, "mail queue full or closed: message dropped");
        }
    }
}

async fn deliver(mailer: &dyn Mailer, letter: &Letter, backoff: Duration) {
    let mut wait = backoff;
    for attempt in 1..=ATTEMPTS {
        match mailer.send(letter).await {
            Ok(()) => return,
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(request_id = %letter.request_id, attempt, error = %e, "sending mail failed; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => {
                tracing::error!(request_id = %letter.request_id, attempts = ATTEMPTS, error = %e, "sending mail failed; giving up");
            }
        }
    }
}

/// The messages authjar writes: short, plain text and HTML, naming the app
/// and the action, with links built from the app's own URL.
#[derive(Debug, Clone)]
pub struct Messages {
    /// The app's name in subjects and greetings.
    pub app_name: String,
    /// Where links point: an app URL; the token goes in the fragment
    /// (`#verify_email=…`), which the browser never sends to a server.
    pub link_base: String,
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Messages {
    /// The link for `action` with `token`.
    pub fn link(&self, action: &str, token: &str) -> String {
        let base = self.link_base.split('#').next().unwrap_or_default();
        format!("{base}#{action}={token}")
    }

    fn letter(
        &self,
        to: &Email,
        subject: String,
        lines: [&str; 2],
        link: String,
        request_id: &str,
    ) -> Letter {
        let [intro, outro] = lines;
        let text = format!("{intro}\n\n{link}\n\n{outro}\n");
        let html = format!(
            "<p>{}</p>\n<p><a href=\"{}\">{}</a></p>\n<p>{}</p>\n",
            escape_html(intro),
            escape_html(&link),
            escape_html(&link),
            escape_html(outro)
        );
        Letter {
            to: to.clone(),
            subject,
            text,
            html,
            request_id: request_id.to_owned(),
        }
    }

    /// "Confirm your e-mail".
    pub fn verify_email(&self, to: &Email, token: &str, hours: i64, request_id: &str) -> Letter {
        let app = &self.app_name;
        self.letter(
            to,
            format!("Confirm your e-mail for {app}"),
            [
                &format!("Open this link to confirm that {to} is your address on {app}:"),
                &format!("The link works once, for {hours} hours. If you did not sign up for {app}, ignore this message."),
            ],
            self.link("verify_email", token),
            request_id,
        )
    }

    /// "Reset your password".
    pub fn reset_password(
        &self,
        to: &Email,
        token: &str,
        minutes: i64,
        request_id: &str,
    ) -> Letter {
        let app = &self.app_name;
        self.letter(
            to,
            format!("Reset your password for {app}"),
            [
                &format!("Open this link to choose a new password for {to} on {app}:"),
                &format!("The link works once, for {minutes} minutes, and logs out every other session. If you did not ask for it, ignore this message: your password stays as it is."),
            ],
            self.link("reset_password", token),
            request_id,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Flaky {
        fail_first: u32,
        calls: AtomicU32,
        sent: tokio::sync::mpsc::UnboundedSender<Letter>,
    }

    #[async_trait]
    impl Mailer for Flaky {
        async fn send(&self, letter: &Letter) -> Result<(), MailError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.fail_first {
                return Err(MailError("connection refused".into()));
            }
            let _ = self.sent.send(letter.clone());
            Ok(())
        }
    }

    fn messages() -> Messages {
        Messages {
            app_name: "Cat Hub".into(),
            link_base: "https://app.example.com/account".into(),
        }
    }

    #[tokio::test]
    async fn a_failed_send_is_retried_off_the_request_path() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mailer = Arc::new(Flaky {
            fail_first: 2,
            calls: AtomicU32::new(0),
            sent: tx,
        });
        let queue = MailQueue::start_with(mailer.clone(), Duration::from_millis(1));
        let to = Email::parse("a@b.com").unwrap();
        queue.enqueue(messages().verify_email(&to, "tok", 24, "req-1"));
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.to, to);
        assert_eq!(mailer.calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn messages_name_the_app_and_link_to_it_with_the_token_in_the_fragment() {
        let to = Email::parse("a@b.com").unwrap();
        let l = messages().reset_password(&to, "T0K", 30, "r");
        assert!(l.subject.contains("Cat Hub") && l.subject.contains("Reset"));
        assert!(l
            .text
            .contains("https://app.example.com/account#reset_password=T0K"));
        assert!(l
            .html
            .contains("href=\"https://app.example.com/account#reset_password=T0K\""));
        let hostile = Messages {
            app_name: "<b>x</b>".into(),
            ..messages()
        };
        assert!(!hostile.verify_email(&to, "t", 24, "r").html.contains("<b>"));
    }
}
