//! Where messages go: an SMTP relay over reused connections, or `.eml` files in a directory.
//! An enum, not a trait: these are the two transports, and tests use a real SMTP listener.
//!
//! SMTP connections are Bulletin's own (lettre's protocol client over a socket we open), so
//! that Nagle's algorithm is off: the message and its final `.` line are two writes, which
//! with Nagle on meets the relay's delayed ACK and stalls every message by ~40 ms. A
//! connection that failed is dropped, so the next transaction starts on a fresh one (after a
//! 4xx, some relays keep a broken state on the old connection).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use lettre::{
    AsyncFileTransport, AsyncTransport, Message, Tokio1Executor,
    transport::smtp::{
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, TlsParameters},
        extension::{ClientId, Extension},
    },
};
use secrecy::ExposeSecret;
use url::Url;

use crate::config::MailTransportSettings;

/// The configured transport.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP relay.
    Smtp(Arc<SmtpRelay>),
    /// One `.eml` file per message.
    File(AsyncFileTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Smtp(_) => "Transport::Smtp",
            Self::File(_) => "Transport::File",
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
    /// The relay says the recipient does not exist or cannot receive mail (550, 551, 553):
    /// a hard bounce.
    #[error("recipient refused: {0}")]
    RecipientRefused(String),
}

/// The transport cannot be set up from the configuration.
#[derive(Debug, thiserror::Error)]
#[error("mail.{key}: {message}")]
pub struct TransportError {
    key: &'static str,
    message: String,
}

/// How the connection to the relay is secured.
#[derive(Clone)]
enum Security {
    /// `smtp://`: plain, for a relay on the same host or network.
    Plain,
    /// `smtp+starttls://`: STARTTLS is required.
    StartTls(TlsParameters),
    /// `smtps://`: TLS from the first byte.
    Implicit(TlsParameters),
}

/// An SMTP relay and the idle connections kept for reuse.
pub struct SmtpRelay {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    timeout: Duration,
    hello: ClientId,
    max_idle: usize,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    /// Whether the relay offered 8BITMIME when last connected to (false until then).
    eight_bit: AtomicBool,
}

/// An idle connection older than this is not reused (relays close idle sessions).
const MAX_IDLE_AGE: Duration = Duration::from_secs(30);

impl Transport {
    /// Sets up the configured transport (creating the outbox directory if needed).
    ///
    /// # Errors
    /// A bad SMTP URL or an outbox directory that cannot be created.
    pub fn from_settings(settings: &MailTransportSettings) -> Result<Self, TransportError> {
        match settings {
            MailTransportSettings::File { outbox_dir } => {
                std::fs::create_dir_all(outbox_dir).map_err(|e| TransportError {
                    key: "outbox_dir",
                    message: format!("{}: {e}", outbox_dir.display()),
                })?;
                Ok(Self::File(AsyncFileTransport::new(outbox_dir)))
            }
            MailTransportSettings::Smtp {
                url,
                pool_max,
                timeout,
            } => {
                let relay = SmtpRelay::from_url(url.expose_secret(), *pool_max, *timeout).map_err(
                    |message| TransportError {
                        key: "smtp_url",
                        message,
                    },
                )?;
                Ok(Self::Smtp(Arc::new(relay)))
            }
        }
    }

    /// Whether messages may carry 8bit bodies: the relay offered 8BITMIME (RFC 6152); files
    /// take anything.
    pub fn accepts_8bit(&self) -> bool {
        match self {
            Self::Smtp(relay) => relay.eight_bit.load(Ordering::Relaxed),
            Self::File(_) => true,
        }
    }

    /// Hands one message to the relay or writes it to a file.
    ///
    /// # Errors
    /// `Transient`, `Permanent` or `RecipientRefused`, by the SMTP reply.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Self::Smtp(relay) => relay.send(&message).await,
            Self::File(file) => file
                .send(message)
                .await
                .map(drop)
                .map_err(|e| SendError::Transient(e.to_string())),
        }
    }
}

impl SmtpRelay {
    /// `smtp://` plain, `smtp+starttls://` (required STARTTLS), `smtps://` (implicit TLS);
    /// `user:password@` in the URL become credentials.
    fn from_url(raw: &str, pool_max: u32, timeout: Duration) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("the URL has no host")?.to_owned();
        let tls = || TlsParameters::new(host.clone()).map_err(|e| e.to_string());
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
            Credentials::new(
                decode(url.username()),
                url.password().map(decode).unwrap_or_default(),
            )
        });
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            security,
            credentials,
            timeout,
            hello: ClientId::default(),
            max_idle: usize::try_from(pool_max).unwrap_or(usize::MAX),
            idle: Mutex::new(Vec::new()),
            eight_bit: AtomicBool::new(false),
        })
    }

    async fn send(&self, message: &Message) -> Result<(), SendError> {
        let envelope = message.envelope();
        let bytes = message.formatted();
        if let Some(mut conn) = self.checkout() {
            match self.transact(&mut conn, envelope, &bytes).await {
                Ok(()) => {
                    self.checkin(conn);
                    return Ok(());
                }
                // No reply at all on a reused connection: the relay closed it while it was
                // idle. Try once on a new one.
                Err(RelayError::Smtp(e)) if e.status().is_none() && !e.is_client() => {
                    tracing::debug!(error = %e, "idle SMTP connection was closed; reconnecting");
                }
                Err(e) => return Err(e.classify()),
            }
        }
        let mut conn = self.connect().await.map_err(|e| e.classify())?;
        self.transact(&mut conn, envelope, &bytes)
            .await
            .map_err(|e| e.classify())?;
        self.checkin(conn);
        Ok(())
    }

    async fn transact(
        &self,
        conn: &mut AsyncSmtpConnection,
        envelope: &lettre::address::Envelope,
        bytes: &[u8],
    ) -> Result<(), RelayError> {
        match tokio::time::timeout(self.timeout * 4, conn.send(envelope, bytes)).await {
            Ok(result) => result.map(drop).map_err(RelayError::Smtp),
            Err(_) => Err(RelayError::Io(timed_out())),
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, RelayError> {
        let mut conn = match &self.security {
            Security::Implicit(tls) => {
                AsyncSmtpConnection::connect_tokio1(
                    (self.host.as_str(), self.port),
                    Some(self.timeout),
                    &self.hello,
                    Some(tls.clone()),
                    None,
                )
                .await?
            }
            Security::Plain | Security::StartTls(_) => {
                let connecting = tokio::net::TcpStream::connect((self.host.as_str(), self.port));
                let tcp = match tokio::time::timeout(self.timeout, connecting).await {
                    Ok(Ok(tcp)) => tcp,
                    Ok(Err(e)) => return Err(RelayError::Io(e)),
                    Err(_) => return Err(RelayError::Io(timed_out())),
                };
                tcp.set_nodelay(true).map_err(RelayError::Io)?;
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?
            }
        };
        if let Security::StartTls(tls) = &self.security {
            conn.starttls(tls.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        let eight_bit = conn.server_info().supports_feature(Extension::EightBitMime);
        self.eight_bit.store(eight_bit, Ordering::Relaxed);
        Ok(conn)
    }

    fn checkout(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some((conn, since)) = idle.pop() {
            if since.elapsed() < MAX_IDLE_AGE && !conn.has_broken() {
                return Some(conn);
            }
        }
        None
    }

    fn checkin(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
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

fn timed_out() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the SMTP relay did not answer in time",
    )
}

/// What went wrong talking to the relay.
#[derive(Debug)]
enum RelayError {
    /// The protocol client's error (replies, TLS, network).
    Smtp(lettre::transport::smtp::Error),
    /// Connecting or a timeout.
    Io(std::io::Error),
}

impl From<lettre::transport::smtp::Error> for RelayError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        Self::Smtp(e)
    }
}

impl RelayError {
    /// 550, 551 and 553 refuse the recipient (a hard bounce); other 5xx are permanent; the
    /// rest (4xx, connection and I/O errors) are worth retrying.
    fn classify(&self) -> SendError {
        let Self::Smtp(e) = self else {
            return SendError::Transient(self.to_string());
        };
        let code = e.status().map(|c| c.to_string());
        if matches!(code.as_deref(), Some("550" | "551" | "553")) {
            SendError::RecipientRefused(e.to_string())
        } else if e.is_permanent() {
            SendError::Permanent(e.to_string())
        } else {
            SendError::Transient(e.to_string())
        }
    }
}

impl std::fmt::Display for RelayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(e) => e.fmt(f),
            Self::Io(e) => write!(f, "connection error: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(relay.port, 587);
        assert!(relay.credentials.is_some());
    }
}
