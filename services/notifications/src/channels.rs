//! The ways messages leave: one trait, [`Sender`], and e-mail over SMTP (`lettre`, plain,
//! STARTTLS or TLS) or into a directory of `.eml` files (the zero-setup default, where a
//! developer reads what would have been sent).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::domain::Message;

/// Why a provider did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// It may take it later (unreachable, overloaded, rate-limited, a 4xx SMTP answer).
    #[error("{0}")]
    Retry(String),
    /// It never will (a refused address, an invalid number): a dead letter at once.
    #[error("{0}")]
    Permanent(String),
}

/// A provider of one channel.
#[async_trait::async_trait]
pub trait Sender: Send + Sync {
    /// Hands `message` over; answers the provider's id for it.
    async fn send(&self, message: &Message) -> Result<String, SendError>;
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (a relay on the same host, a test server).
    None,
    /// Upgraded with STARTTLS, which the server must offer.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// Where e-mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailTransport {
    Smtp {
        host: String,
        port: u16,
        security: SmtpSecurity,
        username: Option<String>,
        password: Option<String>,
        timeout: Duration,
    },
    /// One `<id>.eml` file per message in a directory.
    Files(PathBuf),
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// E-mail: multipart text + HTML, `Message-ID` made from the message's id (so a message
/// sent twice is recognisably the same one).
pub struct EmailSender {
    from: Mailbox,
    reply_to: Option<Mailbox>,
    transport: Transport,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl EmailSender {
    pub fn new(
        transport: &EmailTransport,
        from: &str,
        reply_to: Option<&str>,
    ) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("notifications.email.from `{from}`: {e}"))?;
        let reply_to = reply_to
            .map(|r| {
                r.parse::<Mailbox>()
                    .map_err(|e| format!("notifications.email.reply_to `{r}`: {e}"))
            })
            .transpose()?;
        let transport = match transport {
            EmailTransport::Files(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("notifications mail directory {}: {e}", dir.display()))?;
                Transport::Files(AsyncFileTransport::new(dir))
            }
            EmailTransport::Smtp {
                host,
                port,
                security,
                username,
                password,
                timeout,
            } => {
                let mut b = match security {
                    SmtpSecurity::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    }
                    SmtpSecurity::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                            .map_err(|e| format!("notifications.email.smtp_host: {e}"))?
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .map_err(|e| format!("notifications.email.smtp_host: {e}"))?,
                };
                b = b.port(*port).timeout(Some(*timeout));
                if let Some(user) = username {
                    b = b.credentials(Credentials::new(
                        user.clone(),
                        password.clone().unwrap_or_default(),
                    ));
                }
                Transport::Smtp(b.build())
            }
        };
        Ok(Self {
            from,
            reply_to,
            transport,
        })
    }

    fn build(&self, m: &Message) -> Result<lettre::Message, SendError> {
        let to: Mailbox = m
            .recipient
            .parse()
            .map_err(|e| SendError::Permanent(format!("not an e-mail address: {e}")))?;
        let domain = self.from.email.domain();
        let mut b = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .message_id(Some(format!("<{}@{domain}>", m.id)))
            .date(m.created_at.into());
        if let Some(r) = &self.reply_to {
            b = b.reply_to(r.clone());
        }
        let (Some(text), Some(html)) = (&m.body_text, &m.body_html) else {
            return Err(SendError::Permanent(
                "the message's body was erased before it was sent".into(),
            ));
        };
        b.multipart(MultiPart::alternative_plain_html(
            text.clone(),
            html.clone(),
        ))
        .map_err(|e| SendError::Permanent(format!("the message cannot be built: {e}")))
    }
}

#[async_trait::async_trait]
impl Sender for EmailSender {
    async fn send(&self, message: &Message) -> Result<String, SendError> {
        let email = self.build(message)?;
        match &self.transport {
            Transport::Smtp(smtp) => match smtp.send(email).await {
                Ok(answer) => Ok(answer
                    .message()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .chars()
                    .take(200)
                    .collect()),
                // A 5xx answer is the server's final word; anything else may pass later.
                Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                Err(e) => Err(SendError::Retry(e.to_string())),
            },
            Transport::Files(files) => files
                .send(email)
                .await
                .map(|id| format!("{id}.eml"))
                .map_err(|e| SendError::Retry(e.to_string())),
        }
    }
}
