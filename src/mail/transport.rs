//! Where messages go: a pooled SMTP relay, or `.eml` files in a directory. An enum, not a
//! trait: these are the two transports, and tests use a real SMTP listener.

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    transport::smtp::{PoolConfig, authentication::Credentials},
};
use secrecy::ExposeSecret;
use url::Url;

use crate::config::MailTransportSettings;

/// The configured transport.
#[derive(Clone)]
pub enum Transport {
    /// An SMTP relay through a connection pool.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
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
                let smtp =
                    smtp_from_url(url.expose_secret(), *pool_max, *timeout).map_err(|message| {
                        TransportError {
                            key: "smtp_url",
                            message,
                        }
                    })?;
                Ok(Self::Smtp(smtp))
            }
        }
    }

    /// Hands one message to the relay or writes it to a file.
    ///
    /// # Errors
    /// `Transient` or `Permanent`, by the SMTP reply class.
    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Self::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|e| {
                let code = e.status().map(|c| c.to_string());
                if matches!(code.as_deref(), Some("550" | "551" | "553")) {
                    SendError::RecipientRefused(e.to_string())
                } else if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Transient(e.to_string())
                }
            }),
            Self::File(file) => file
                .send(message)
                .await
                .map(drop)
                .map_err(|e| SendError::Transient(e.to_string())),
        }
    }
}

/// `smtp://` plain (a local relay), `smtp+starttls://` (required STARTTLS), `smtps://`
/// (implicit TLS); `user:password@` in the URL become credentials.
fn smtp_from_url(
    raw: &str,
    pool_max: u32,
    timeout: std::time::Duration,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let url = Url::parse(raw).map_err(|e| e.to_string())?;
    let host = url.host_str().ok_or("the URL has no host")?.to_owned();
    let builder = match url.scheme() {
        "smtp" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
            .port(url.port().unwrap_or(25)),
        "smtp+starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
            .map_err(|e| e.to_string())?
            .port(url.port().unwrap_or(587)),
        "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
            .map_err(|e| e.to_string())?
            .port(url.port().unwrap_or(465)),
        other => return Err(format!("unsupported scheme {other:?}")),
    };
    let mut builder = builder
        .timeout(Some(timeout))
        .pool_config(PoolConfig::new().max_size(pool_max));
    if !url.username().is_empty() {
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let password = url.password().map(decode).unwrap_or_default();
        builder = builder.credentials(Credentials::new(decode(url.username()), password));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn smtp_urls_of_every_scheme_are_accepted() {
        let t = std::time::Duration::from_secs(5);
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp+starttls://user:p%40ss@mail.example.com",
            "smtps://mail.example.com:465",
        ] {
            assert!(smtp_from_url(url, 2, t).is_ok(), "{url}");
        }
        assert!(smtp_from_url("imap://x", 2, t).is_err());
    }
}
