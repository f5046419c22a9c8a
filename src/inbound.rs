//! The built-in SMTP receiver for the bounce domain (`inbound.bind`, off by default): an MTA
//! hands over the mail it receives for `mail.bounce_domain`, and each message is acted on
//! (`services::inbound`) before it is accepted. It takes recipients at the bounce domain only
//! (it is never a relay), bounds message size, line length, time and connections, and answers
//! 451 when the database cannot take the message, so the MTA keeps it.
//!
//! Written here rather than taken from a crate: the maintained Rust SMTP servers are
//! synchronous (one thread per connection) or bring a mail store; this needs the few
//! commands an MTA uses to hand mail over, on the server's own runtime.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::{Semaphore, watch},
};

use crate::{context::Context, services::inbound};

/// How long the receiver waits for a command or a line of a message.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest command line (RFC 5321 §4.5.3.1.4: 512 octets), with room to spare.
const MAX_COMMAND: usize = 2048;
/// The longest line of a message (RFC 5321 §4.5.3.1.6: 1,000 octets), with room to spare.
const MAX_LINE: usize = 8192;
/// Recipients per message at most.
const MAX_RECIPIENTS: usize = 20;

/// The receiver's limits.
#[derive(Debug, Clone)]
pub struct ReceiverLimits {
    /// Largest message accepted (552 beyond).
    pub max_message_bytes: usize,
    /// Connections at once (421 beyond).
    pub max_connections: usize,
    /// The bounce domain: the only one recipients may be at.
    pub domain: String,
}

/// Serves `listener` until `stopped` turns true.
///
/// # Errors
/// The listener fails.
pub async fn serve(
    listener: TcpListener,
    ctx: Context,
    limits: ReceiverLimits,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let limits = Arc::new(limits);
    loop {
        let (stream, peer) = tokio::select! {
            _ = stopped.wait_for(|s| *s) => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "the bounce receiver could not accept a connection");
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let (ctx, limits) = (ctx.clone(), limits.clone());
        tokio::spawn(async move {
            if let Err(e) = session(stream, &ctx, &limits).await {
                tracing::debug!(%peer, error = %e, "a bounce receiver session ended early");
            }
            drop(slot);
        });
    }
}

async fn refuse(mut stream: TcpStream) {
    let _ = stream
        .write_all(b"421 4.3.2 Too many connections, try again later\r\n")
        .await;
}

/// One SMTP session: `HELO`/`EHLO`, `MAIL`, `RCPT` (the bounce domain only), `DATA`, `RSET`,
/// `NOOP`, `QUIT`.
async fn session(stream: TcpStream, ctx: &Context, limits: &ReceiverLimits) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write
        .write_all(format!("220 {} Bulletin bounce receiver\r\n", limits.domain).as_bytes())
        .await?;
    let mut sender = false;
    let mut recipients: Vec<String> = Vec::new();
    loop {
        let Some(line) = read_line(&mut reader, MAX_COMMAND).await? else {
            return Ok(());
        };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        let verb = line
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" => format!(
                "250-{}\r\n250-SIZE {}\r\n250 8BITMIME",
                limits.domain, limits.max_message_bytes
            ),
            "HELO" => format!("250 {}", limits.domain),
            "MAIL" => {
                sender = true;
                recipients.clear();
                "250 2.1.0 OK".into()
            }
            "RCPT" if !sender => "503 5.5.1 MAIL first".into(),
            "RCPT" => rcpt(line, limits, &mut recipients),
            "DATA" if recipients.is_empty() => "503 5.5.1 RCPT first".into(),
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let reply = data(&mut reader, ctx, limits, &recipients).await?;
                sender = false;
                recipients.clear();
                reply
            }
            "RSET" => {
                sender = false;
                recipients.clear();
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not implemented".into(),
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

/// `RCPT TO:<address>`: taken only at the bounce domain.
fn rcpt(line: &str, limits: &ReceiverLimits, recipients: &mut Vec<String>) -> String {
    let address = line
        .split_once(':')
        .map(|(_, rest)| rest.trim())
        .and_then(|rest| rest.strip_prefix('<'))
        .and_then(|rest| rest.split_once('>'))
        .map(|(address, _)| address.trim().to_owned())
        .unwrap_or_default();
    let at_domain = address
        .rsplit_once('@')
        .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(&limits.domain));
    if !at_domain {
        return "550 5.7.1 Relaying denied: only mail for the bounce domain is taken here".into();
    }
    if recipients.len() >= MAX_RECIPIENTS {
        return "452 4.5.3 Too many recipients".into();
    }
    recipients.push(address);
    "250 2.1.5 OK".into()
}

/// Reads the message up to `<CRLF>.<CRLF>` and acts on it for each recipient; the reply
/// comes only once that is stored.
async fn data<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    ctx: &Context,
    limits: &ReceiverLimits,
    recipients: &[String],
) -> std::io::Result<String> {
    let mut message = Vec::new();
    let mut too_big = false;
    loop {
        let Some(line) = read_line(reader, MAX_LINE).await? else {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        };
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        if message.len() + line.len() > limits.max_message_bytes {
            too_big = true;
            continue;
        }
        message.extend_from_slice(line);
    }
    if too_big {
        return Ok("552 5.3.4 Message too big".into());
    }
    for recipient in recipients {
        match inbound::handle(ctx, &message, Some(recipient)).await {
            Ok(handled) => tracing::info!(?handled, "a message for the bounce domain was read"),
            Err(e) => {
                tracing::warn!(error = %e, "a message for the bounce domain could not be stored");
                return Ok("451 4.3.0 Try again later".into());
            }
        }
    }
    Ok("250 2.0.0 OK".into())
}

/// One line (with its line end) of at most `max` bytes, within the command timeout; `None`
/// at the end of the stream. A longer line is an error that ends the session.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    max: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let read = async {
        loop {
            let buf = reader.fill_buf().await?;
            if buf.is_empty() {
                return Ok::<_, std::io::Error>(!line.is_empty());
            }
            let (chunk, done) = match buf.iter().position(|b| *b == b'\n') {
                Some(end) => (&buf[..=end], true),
                None => (buf, false),
            };
            if line.len() + chunk.len() > max {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "line too long",
                ));
            }
            line.extend_from_slice(chunk);
            let used = chunk.len();
            reader.consume(used);
            if done {
                return Ok(true);
            }
        }
    };
    match tokio::time::timeout(COMMAND_TIMEOUT, read).await {
        Ok(Ok(true)) => Ok(Some(line)),
        Ok(Ok(false)) => Ok(None),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

/// The address the receiver is bound to, for the banner.
pub fn describe(addr: SocketAddr, domain: &str) -> String {
    format!("bounces for {domain} on smtp://{addr}")
}
