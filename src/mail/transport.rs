//! Where messages go: an SMTP relay over reused connections, or `.eml` files in a directory.
//! An enum, not a trait: these are the two transports, and tests use a real SMTP listener.
//!
//! SMTP connections are Bulletin's own client's ([`bulletin_smtp`]): pipelined transactions,
//! TCP_NODELAY, and a connection that failed is dropped, so the next transaction starts on a
//! fresh one (after a 4xx, some relays keep a broken state on the old connection).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use crate::domain::{
    Bounce, EnhancedStatus,
    bounce::{self},
};
use bulletin_smtp::{
    Connection, Envelope, Security, SessionSettings, SmtpError, Stage, TlsSettings,
};
use lettre::{
    AsyncFileTransport, AsyncTransport, Message, Tokio1Executor,
    transport::smtp::extension::ClientId,
};
use secrecy::ExposeSecret;
use url::Url;

use super::dkim::DkimSigner;
use crate::config::{DkimSettings, MailTransportSettings};

/// The configured transport.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP relay.
    Smtp(Arc<SmtpRelay>),
    /// One `.eml` file per message, signed as it would be sent.
    File(AsyncFileTransport<Tokio1Executor>, Option<Arc<DkimSigner>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Smtp(_) => "Transport::Smtp",
            Self::File(..) => "Transport::File",
        })
    }
}

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: 4xx reply, connection or I/O error.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Not worth retrying: 5xx reply for this message.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// The relay refused the recipient or the message (5xx to `RCPT` or `DATA`), and what
    /// that says about the address (RFC 3463).
    #[error("refused ({bounce}): {error}")]
    Bounced {
        /// Hard, soft or blocked.
        bounce: Bounce,
        /// The reply.
        error: String,
    },
}

/// The transport cannot be set up from the configuration.
#[derive(Debug, thiserror::Error)]
#[error("mail.{key}: {message}")]
pub struct TransportError {
    key: &'static str,
    message: String,
}

/// An SMTP relay and the idle connections kept for reuse.
pub struct SmtpRelay {
    session: SessionSettings,
    max_idle: usize,
    idle: Mutex<Vec<(Connection, Instant)>>,
    /// Whether the relay offered 8BITMIME when last connected to (false until then).
    eight_bit: AtomicBool,
    /// Signs each message before it leaves, when Bulletin signs.
    dkim: Option<Arc<DkimSigner>>,
}

/// `bytes` with a DKIM signature in front when there is a signer. A message that cannot be
/// signed (none of Bulletin's) goes out unsigned, with an error in the log.
fn signed(dkim: Option<&DkimSigner>, bytes: Vec<u8>) -> Vec<u8> {
    let Some(signer) = dkim else {
        return bytes;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    match signer.sign(&bytes, now) {
        Ok(header) => {
            let mut out = Vec::with_capacity(header.len() + bytes.len());
            out.extend_from_slice(header.as_bytes());
            out.extend_from_slice(&bytes);
            out
        }
        Err(error) => {
            tracing::error!(%error, "a message could not be DKIM-signed and goes out unsigned");
            bytes
        }
    }
}

/// An idle connection older than this is not reused (relays close idle sessions).
const MAX_IDLE_AGE: Duration = Duration::from_secs(30);

impl Transport {
    /// Sets up the configured transport (creating the outbox directory if needed).
    ///
    /// # Errors
    /// A bad SMTP URL or an outbox directory that cannot be created.
    pub fn from_settings(
        settings: &MailTransportSettings,
        helo_name: &str,
        dkim: Option<&DkimSettings>,
    ) -> Result<Self, TransportError> {
        let signer = match dkim {
            Some(d) => Some(Arc::new(
                DkimSigner::from_pem(&d.domain, &d.selector, d.key_pem.expose_secret().as_bytes())
                    .map_err(|message| TransportError {
                        key: "dkim.key_file",
                        message,
                    })?,
            )),
            None => None,
        };
        match settings {
            MailTransportSettings::File { outbox_dir } => {
                std::fs::create_dir_all(outbox_dir).map_err(|e| TransportError {
                    key: "outbox_dir",
                    message: format!("{}: {e}", outbox_dir.display()),
                })?;
                Ok(Self::File(AsyncFileTransport::new(outbox_dir), signer))
            }
            MailTransportSettings::Smtp {
                url,
                pool_max,
                timeout,
            } => {
                let mut relay = SmtpRelay::from_url(url.expose_secret(), *pool_max, *timeout)
                    .map_err(|message| TransportError {
                        key: "smtp_url",
                        message,
                    })?;
                relay.dkim = signer;
                helo_name.clone_into(&mut relay.session.hello);
                Ok(Self::Smtp(Arc::new(relay)))
            }
        }
    }

    /// Whether messages may carry 8bit bodies: the relay offered 8BITMIME (RFC 6152); files
    /// take anything.
    pub fn accepts_8bit(&self) -> bool {
        match self {
            Self::Smtp(relay) => relay.eight_bit.load(Ordering::Relaxed),
            Self::File(..) => true,
        }
    }

    /// Hands one message to the relay or writes it to a file.
    ///
    /// # Errors
    /// `Transient`, `Permanent` or `RecipientRefused`, by the SMTP reply.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Self::Smtp(relay) => relay.send(&message).await,
            Self::File(file, dkim) => {
                let bytes = signed(dkim.as_deref(), message.formatted());
                file.send_raw(message.envelope(), &bytes)
                    .await
                    .map(drop)
                    .map_err(|e| SendError::Transient(e.to_string()))
            }
        }
    }
}

impl SmtpRelay {
    /// `smtp://` plain, `smtp+starttls://` (required STARTTLS), `smtps://` (implicit TLS);
    /// `user:password@` in the URL become credentials.
    fn from_url(raw: &str, pool_max: u32, timeout: Duration) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("the URL has no host")?.to_owned();
        let tls = || TlsSettings::new(&host);
        let (security, default_port) = match url.scheme() {
            "smtp" => (Security::Plain, 25),
            "smtp+starttls" => (Security::StartTls(tls()?), 587),
            "smtps" => (Security::Implicit(tls()?), 465),
            other => return Err(format!("unsupported scheme {other:?}")),
        };
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let credentials = (!url.username().is_empty()).then(|| {
            (
                decode(url.username()),
                url.password().map(decode).unwrap_or_default(),
            )
        });
        Ok(Self {
            session: SessionSettings {
                port: url.port().unwrap_or(default_port),
                host,
                security,
                credentials,
                timeout,
                hello: ClientId::default().to_string(),
            },
            max_idle: usize::try_from(pool_max).unwrap_or(usize::MAX),
            idle: Mutex::new(Vec::new()),
            eight_bit: AtomicBool::new(false),
            dkim: None,
        })
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let envelope = message.envelope();
        let to: Vec<&str> = envelope.to().iter().map(AsRef::as_ref).collect();
        let from = envelope.from().map_or("", AsRef::as_ref);
        let envelope = Envelope { from, to: &to };
        let bytes = signed(self.dkim.as_deref(), message.formatted());
        if let Some(mut conn) = self.checkout() {
            match self.transact(&mut conn, envelope, &bytes).await {
                Ok(()) => {
                    self.checkin(conn);
                    return Ok(());
                }
                // No reply at all on a reused connection: the relay closed it while it was
                // idle. Try once on a new one.
                Err(e) if conn.closed_while_idle(&e) => {
                    tracing::debug!(error = %e, "idle SMTP connection was closed; reconnecting");
                }
                Err(e) => return Err(classify(&e)),
            }
        }
        let mut conn = self.connect().await.map_err(|e| classify(&e))?;
        let result = self.transact(&mut conn, envelope, &bytes).await;
        self.checkin(conn);
        result.map_err(|e| classify(&e))
    }

    async fn transact(
        &self,
        conn: &mut Connection,
        envelope: Envelope<'_>,
        bytes: &[u8],
    ) -> Result<(), SmtpError> {
        match tokio::time::timeout(self.session.timeout * 4, conn.send(envelope, bytes)).await {
            Ok(result) => result,
            Err(_) => Err(SmtpError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the SMTP relay did not answer in time",
            ))),
        }
    }

    async fn connect(&self) -> Result<Connection, SmtpError> {
        let conn = Connection::open(&self.session).await?;
        self.eight_bit
            .store(conn.features().eight_bit_mime, Ordering::Relaxed);
        Ok(conn)
    }

    fn checkout(&self) -> Option<Connection> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < MAX_IDLE_AGE && conn.is_usable() {
                return Some(conn);
            }
        }
        None
    }

    /// Keeps a usable connection for the next message; a failed one is dropped.
    fn checkin(&self, conn: Connection) {
        if !conn.is_usable() {
            return;
        }
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push((conn, Instant::now()));
        }
    }
}

/// A 5xx to `RCPT` or to the message is final for that message, and its enhanced status
/// code says what it means for the address (`bounce::classify`: `5.1.x` hard, `5.2.2` soft,
/// `5.7.x` and other policy refusals blocked; without a code 550/551/553 to `RCPT` hard). The
/// rest are worth retrying: 4xx, connection and I/O errors, and any refusal of the session or
/// the sender (a greeting 554, AUTH 535, STARTTLS required, a sender not allowed): those say
/// nothing about the message but about the relay or Bulletin's settings, so they defer and,
/// repeated, pause campaigns instead of failing every recipient.
fn classify(error: &SmtpError) -> SendError {
    match error {
        SmtpError::Rejected { stage, reply } => {
            if matches!(stage, Stage::Session | Stage::Mail) || reply.code < 500 {
                SendError::Transient(error.to_string())
            } else {
                let status = EnhancedStatus::in_reply(&reply.text);
                SendError::Bounced {
                    bounce: bounce::classify(Some(reply.code), status, *stage == Stage::Rcpt),
                    error: error.to_string(),
                }
            }
        }
        SmtpError::Unsendable(_) => SendError::Permanent(error.to_string()),
        SmtpError::Io(_) | SmtpError::Protocol(_) => SendError::Transient(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulletin_smtp::Reply;

    fn rejected(stage: Stage, code: u16) -> SendError {
        rejected_with(stage, code, "no")
    }

    fn rejected_with(stage: Stage, code: u16, text: &str) -> SendError {
        classify(&SmtpError::Rejected {
            stage,
            reply: Reply {
                code,
                text: text.into(),
            },
        })
    }

    fn bounce_of(error: SendError) -> Option<Bounce> {
        match error {
            SendError::Bounced { bounce, .. } => Some(bounce),
            _ => None,
        }
    }

    #[test]
    fn refusals_of_the_session_or_sender_are_retried_and_only_rcpt_550s_bounce() {
        assert!(matches!(
            rejected(Stage::Session, 535),
            SendError::Transient(_)
        ));
        assert!(matches!(
            rejected(Stage::Session, 554),
            SendError::Transient(_)
        ));
        assert!(matches!(
            rejected(Stage::Mail, 553),
            SendError::Transient(_)
        ));
        assert_eq!(bounce_of(rejected(Stage::Rcpt, 550)), Some(Bounce::Hard));
        assert_eq!(bounce_of(rejected(Stage::Rcpt, 554)), Some(Bounce::Blocked));
        let policy = rejected_with(Stage::Rcpt, 550, "5.7.1 Relaying denied");
        assert_eq!(
            bounce_of(policy),
            Some(Bounce::Blocked),
            "a policy refusal is no bounce"
        );
        let full = rejected_with(Stage::Rcpt, 552, "5.2.2 Mailbox full");
        assert_eq!(bounce_of(full), Some(Bounce::Soft));
        assert!(matches!(
            rejected(Stage::Rcpt, 450),
            SendError::Transient(_)
        ));
        assert_eq!(bounce_of(rejected(Stage::Data, 554)), Some(Bounce::Blocked));
        let unknown = rejected_with(Stage::Data, 550, "5.1.1 no such user");
        assert_eq!(bounce_of(unknown), Some(Bounce::Hard));
        assert!(matches!(
            rejected(Stage::Data, 451),
            SendError::Transient(_)
        ));
    }

    #[test]
    fn smtp_urls_of_every_scheme_are_accepted() {
        let t = Duration::from_secs(5);
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp+starttls://user:p%40ss@mail.example.com",
            "smtps://mail.example.com:465",
        ] {
            assert!(SmtpRelay::from_url(url, 2, t).is_ok(), "{url}");
        }
        assert!(SmtpRelay::from_url("imap://x", 2, t).is_err());
        let relay =
            SmtpRelay::from_url("smtp+starttls://a%40b:p%40ss@mail.example.com", 2, t).unwrap();
        assert_eq!(relay.session.port, 587);
        assert!(relay.session.credentials.is_some());
    }
}
