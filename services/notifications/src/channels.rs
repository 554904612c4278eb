//! The ways messages leave: one trait, [`Sender`]; e-mail over SMTP (`lettre`, plain,
//! STARTTLS or TLS) or into a directory of `.eml` files (the zero-setup default, where a
//! developer reads what would have been sent); SMS through Twilio's Messages API; push
//! through Expo's push API (which relays to APNs and FCM).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Attachment as Part, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::domain::{Attachment, Message};

/// Why a provider did not take a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// It may take it later (unreachable, overloaded, rate-limited, a 4xx SMTP answer).
    #[error("{0}")]
    Retry(String),
    /// It never will (a refused address, an invalid number): a dead letter at once.
    #[error("{0}")]
    Permanent(String),
    /// The recipient no longer exists (an uninstalled app's push token): a dead letter,
    /// and the recipient is forgotten.
    #[error("{0}")]
    Gone(String),
}

/// A provider of one channel.
#[async_trait::async_trait]
pub trait Sender: Send + Sync {
    /// Hands `message` over, with `attachments` where the channel carries files (e-mail);
    /// answers the provider's id for it.
    async fn send(
        &self,
        message: &Message,
        attachments: &[Attachment],
    ) -> Result<String, SendError>;
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

    fn build(&self, m: &Message, attachments: &[Attachment]) -> Result<lettre::Message, SendError> {
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
        if let Some(url) = &m.unsubscribe_url {
            // RFC 8058: mail clients offer a button that POSTs
            // `List-Unsubscribe=One-Click` to the URL, no page to visit.
            b = b
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost);
        }
        let (Some(text), Some(html)) = (&m.body_text, &m.body_html) else {
            return Err(SendError::Permanent(
                "the message's body was erased before it was sent".into(),
            ));
        };
        let mut body = MultiPart::alternative_plain_html(text.clone(), html.clone());
        if !attachments.is_empty() {
            body =
                attachments
                    .iter()
                    .try_fold(MultiPart::mixed().multipart(body), |mixed, a| {
                        let content_type = a.content_type.parse().map_err(|e| {
                            SendError::Permanent(format!("attachment {}: {e}", a.filename))
                        })?;
                        Ok(mixed.singlepart(
                            Part::new(a.filename.clone()).body(a.content.clone(), content_type),
                        ))
                    })?;
        }
        b.multipart(body)
            .map_err(|e| SendError::Permanent(format!("the message cannot be built: {e}")))
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

#[async_trait::async_trait]
impl Sender for EmailSender {
    async fn send(
        &self,
        message: &Message,
        attachments: &[Attachment],
    ) -> Result<String, SendError> {
        let email = self.build(message, attachments)?;
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

/// An HTTP client for a provider's API: its own timeout, no redirects (a provider's API
/// does not redirect; following one would send credentials elsewhere).
fn provider_client(timeout: Duration, user_agent: &str) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent)
        .build()
        .map_err(|e| format!("the HTTP client: {e}"))
}

/// What a provider's answer says about an attempt, by HTTP status: overloaded,
/// rate-limited, or down is worth another try; a refused credential too (staff fix the
/// settings and the messages go); any other 4xx is the message's fault.
fn classify(status: reqwest::StatusCode, detail: String) -> SendError {
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
        || status == reqwest::StatusCode::UNAUTHORIZED
        || status == reqwest::StatusCode::FORBIDDEN
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        SendError::Retry(detail)
    } else {
        SendError::Permanent(detail)
    }
}

fn transport_error(e: &reqwest::Error) -> SendError {
    SendError::Retry(format!("the provider could not be reached: {e}"))
}

/// Twilio's Programmable Messaging: `POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json`
/// with `To`, `From` (or `MessagingServiceSid`) and `Body`, HTTP Basic with the account
/// SID and auth token; `201` answers the message's `sid`, an error answers
/// `{code, message, more_info, status}` (21211: not a valid number, 20429: too many
/// requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioSettings {
    /// `https://api.twilio.com`, or a stand-in.
    pub api_base: String,
    pub account_sid: String,
    pub auth_token: String,
    /// A number of the account (`+1…`), or a Messaging Service (`MG…`).
    pub from: String,
    pub timeout: Duration,
}

pub struct SmsSender {
    http: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    from: String,
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSender")
            .field("url", &self.url)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct TwilioMessage {
    sid: String,
}

#[derive(serde::Deserialize)]
struct TwilioError {
    code: Option<i64>,
    message: Option<String>,
}

impl SmsSender {
    pub fn new(settings: &TwilioSettings) -> Result<Self, String> {
        Ok(Self {
            http: provider_client(settings.timeout, "Weft-Notifications")?,
            url: format!(
                "{}/2010-04-01/Accounts/{}/Messages.json",
                settings.api_base.trim_end_matches('/'),
                settings.account_sid
            ),
            account_sid: settings.account_sid.clone(),
            auth_token: settings.auth_token.clone(),
            from: settings.from.clone(),
        })
    }
}

#[async_trait::async_trait]
impl Sender for SmsSender {
    async fn send(&self, message: &Message, _: &[Attachment]) -> Result<String, SendError> {
        let Some(body) = &message.body_text else {
            return Err(SendError::Permanent(
                "the message's body was erased before it was sent".into(),
            ));
        };
        let from_key = if self.from.starts_with("MG") {
            "MessagingServiceSid"
        } else {
            "From"
        };
        let form = [
            ("To", message.recipient.as_str()),
            (from_key, self.from.as_str()),
            ("Body", body.as_str()),
        ];
        let answer = self
            .http
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let status = answer.status();
        let bytes = answer.bytes().await.map_err(|e| transport_error(&e))?;
        if status.is_success() {
            return serde_json::from_slice::<TwilioMessage>(&bytes)
                .map(|m| m.sid)
                // Taken, but its id unreadable: sending again would send twice.
                .or_else(|_| Ok(format!("twilio {status}")));
        }
        let detail = match serde_json::from_slice::<TwilioError>(&bytes) {
            Ok(TwilioError {
                code: Some(code),
                message,
            }) => format!(
                "Twilio {status}, error {code}: {}",
                message.unwrap_or_default()
            ),
            _ => format!("Twilio {status}: {}", String::from_utf8_lossy(&bytes)),
        };
        Err(classify(status, detail))
    }
}

/// Expo's push service: `POST {api_base}/--/api/v2/push/send` with a JSON array of
/// messages (`to` an `ExponentPushToken[…]`, `title`, `body`, `data`), optionally a bearer
/// access token; `200` answers a ticket per message, `{"status": "ok", "id": …}` or
/// `{"status": "error", "message", "details": {"error": "DeviceNotRegistered" | …}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpoSettings {
    /// `https://exp.host`, or a stand-in.
    pub api_base: String,
    /// Required when the project enforces push security.
    pub access_token: Option<String>,
    pub timeout: Duration,
}

pub struct PushSender {
    http: reqwest::Client,
    url: String,
    access_token: Option<String>,
}

impl std::fmt::Debug for PushSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSender")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct ExpoTickets {
    data: Vec<ExpoTicket>,
}

#[derive(serde::Deserialize)]
struct ExpoTicket {
    status: String,
    id: Option<String>,
    message: Option<String>,
    details: Option<ExpoDetails>,
}

#[derive(serde::Deserialize)]
struct ExpoDetails {
    error: Option<String>,
}

impl PushSender {
    pub fn new(settings: &ExpoSettings) -> Result<Self, String> {
        Ok(Self {
            http: provider_client(settings.timeout, "Weft-Notifications")?,
            url: format!(
                "{}/--/api/v2/push/send",
                settings.api_base.trim_end_matches('/')
            ),
            access_token: settings.access_token.clone(),
        })
    }
}

#[async_trait::async_trait]
impl Sender for PushSender {
    async fn send(&self, message: &Message, _: &[Attachment]) -> Result<String, SendError> {
        let Some(body) = &message.body_text else {
            return Err(SendError::Permanent(
                "the message's body was erased before it was sent".into(),
            ));
        };
        let payload = serde_json::json!([{
            "to": message.recipient,
            "title": message.subject,
            "body": body,
            "sound": "default",
            "data": { "notification_id": message.id, "kind": message.kind.as_str() },
        }]);
        let mut request = self.http.post(&self.url).json(&payload);
        if let Some(token) = &self.access_token {
            request = request.bearer_auth(token);
        }
        let answer = request.send().await.map_err(|e| transport_error(&e))?;
        let status = answer.status();
        let bytes = answer.bytes().await.map_err(|e| transport_error(&e))?;
        if !status.is_success() {
            return Err(classify(
                status,
                format!("Expo {status}: {}", String::from_utf8_lossy(&bytes)),
            ));
        }
        let ticket = serde_json::from_slice::<ExpoTickets>(&bytes)
            .ok()
            .and_then(|t| t.data.into_iter().next());
        let Some(ticket) = ticket else {
            // Taken, but its ticket unreadable: sending again could notify twice.
            return Ok(format!("expo {status}"));
        };
        if ticket.status == "ok" {
            return Ok(ticket.id.unwrap_or_else(|| format!("expo {status}")));
        }
        let code = ticket.details.and_then(|d| d.error).unwrap_or_default();
        let detail = format!("Expo {code}: {}", ticket.message.unwrap_or_default());
        Err(match code.as_str() {
            "DeviceNotRegistered" => SendError::Gone(detail),
            "MessageRateExceeded" => SendError::Retry(detail),
            _ => SendError::Permanent(detail),
        })
    }
}
