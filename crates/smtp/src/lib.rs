//! Bulletin's SMTP client (RFC 5321) for the relay: plain, STARTTLS or implicit TLS, AUTH
//! PLAIN or LOGIN, 8BITMIME and SMTPUTF8 (RFC 6152, 6531), and PIPELINING (RFC 2920).
//!
//! The caller builds the message (Bulletin uses lettre); this client only carries it, because
//! lettre's client sends each command and waits for its reply (four round trips per message)
//! and dot-stuffs the message one byte at a time. Here a transaction is two writes and two
//! waits: `MAIL`, `RCPT` and `DATA` together, then the dot-stuffed message with its final `.`
//! line. Without PIPELINING on offer the commands go one by one.
//!
//! A connection on which anything failed is not used again: after a 4xx some relays keep a
//! broken state, so the next transaction starts on a fresh connection. Keeping idle
//! connections is the caller's: [`Connection::is_usable`] says whether one may be kept, and
//! [`Connection::closed_while_idle`] whether a failed message may be retried on a new one.

use std::{fmt, io, sync::Arc, time::Duration};

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_rustls::{TlsConnector, client::TlsStream, rustls};
use tokio_util::either::Either;

/// Longest reply accepted (all lines of it).
const MAX_REPLY: usize = 64 * 1024;

/// A reply of the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text of all lines, one per line.
    pub text: String,
}

impl Reply {
    fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// Which command a negative reply answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Greeting, EHLO, STARTTLS or AUTH.
    Session,
    /// `MAIL FROM`.
    Mail,
    /// `RCPT TO`.
    Rcpt,
    /// `DATA` or the message itself.
    Data,
}

/// What went wrong in a session.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The relay answered with a 4xx or 5xx.
    #[error("{reply} (after {stage:?})")]
    Rejected {
        /// The command it answered.
        stage: Stage,
        /// The reply.
        reply: Reply,
    },
    /// Connection, TLS or timeout.
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
    /// The relay said something that is not SMTP, or lacks what the settings require.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The message cannot go to this relay as it is (a non-ASCII address without SMTPUTF8).
    #[error("{0}")]
    Unsendable(String),
}

/// How a session is secured.
#[derive(Clone)]
pub enum Security {
    /// No TLS.
    Plain,
    /// STARTTLS, required.
    StartTls(TlsSettings),
    /// TLS from the first byte.
    Implicit(TlsSettings),
}

/// The TLS client settings and the name the certificate must carry.
#[derive(Clone)]
pub struct TlsSettings {
    connector: TlsConnector,
    name: rustls::pki_types::ServerName<'static>,
}

impl TlsSettings {
    /// Verifies the relay's certificate for `host` against the Web PKI roots.
    ///
    /// # Errors
    /// A host that is not a valid server name.
    pub fn new(host: &str) -> Result<Self, String> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Self::with_roots(host, roots)
    }

    /// Verifies the relay's certificate for `host` against the given roots.
    fn with_roots(host: &str, roots: rustls::RootCertStore) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| format!("{host:?} is not a valid TLS server name: {e}"))?;
        Ok(Self {
            connector: TlsConnector::from(Arc::new(config)),
            name,
        })
    }
}

/// How to reach and greet the relay.
#[derive(Clone)]
pub struct SessionSettings {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS.
    pub security: Security,
    /// User and password for AUTH.
    pub credentials: Option<(String, String)>,
    /// The name sent with EHLO.
    pub hello: String,
    /// Longest wait for connecting and for each reply.
    pub timeout: Duration,
}

/// What the relay offered in its EHLO reply.
#[derive(Debug, Default, Clone, Copy)]
pub struct Features {
    /// RFC 2920.
    pub pipelining: bool,
    /// RFC 6152.
    pub eight_bit_mime: bool,
    /// RFC 6531.
    pub smtp_utf8: bool,
    starttls: bool,
    auth_plain: bool,
    auth_login: bool,
}

impl Features {
    fn parse(reply: &Reply) -> Self {
        let mut features = Self::default();
        // The first line is the relay's name; the others are keywords with parameters.
        for line in reply.text.split('\n').skip(1) {
            let mut words = line.split_ascii_whitespace();
            let Some(keyword) = words.next() else {
                continue;
            };
            match keyword.to_ascii_uppercase().as_str() {
                "PIPELINING" => features.pipelining = true,
                "8BITMIME" => features.eight_bit_mime = true,
                "SMTPUTF8" => features.smtp_utf8 = true,
                "STARTTLS" => features.starttls = true,
                "AUTH" => {
                    for mechanism in words {
                        match mechanism.to_ascii_uppercase().as_str() {
                            "PLAIN" => features.auth_plain = true,
                            "LOGIN" => features.auth_login = true,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        features
    }
}

/// A plain or TLS session; `Either` reads and writes whichever it holds.
type Stream = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// The sender and recipients of one transaction.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// Reverse path (empty for the null sender).
    pub from: &'a str,
    /// Forward paths.
    pub to: &'a [&'a str],
}

/// An open, greeted (and if configured, secured and authenticated) session.
pub struct Connection {
    stream: Stream,
    features: Features,
    timeout: Duration,
    /// Bytes read but not yet parsed.
    pending: Vec<u8>,
    /// The next write, reused between transactions.
    out: Vec<u8>,
    /// Set once anything failed: the connection must not be reused.
    broken: bool,
    /// Replies read since the current transaction began.
    replies_in_transaction: usize,
}

impl Connection {
    /// Connects, reads the greeting, says EHLO, and does STARTTLS and AUTH as configured.
    ///
    /// # Errors
    /// Connection, TLS, a refusal, or a relay that lacks STARTTLS or the AUTH mechanism.
    pub async fn open(settings: &SessionSettings) -> Result<Self, SmtpError> {
        let connecting = TcpStream::connect((settings.host.as_str(), settings.port));
        let tcp = tokio::time::timeout(settings.timeout, connecting)
            .await
            .map_err(|_| timed_out())??;
        // The message and its end can be two segments; with Nagle's algorithm the second
        // would wait for the relay's delayed ACK.
        tcp.set_nodelay(true)?;
        let stream = match &settings.security {
            Security::Implicit(tls) => {
                Either::Right(Box::new(handshake(tls, tcp, settings).await?))
            }
            Security::Plain | Security::StartTls(_) => Either::Left(tcp),
        };
        let mut conn = Self::new(stream, settings.timeout);
        conn.positive_reply(Stage::Session).await?;
        conn.ehlo(&settings.hello).await?;
        if let Security::StartTls(tls) = &settings.security {
            if !conn.features.starttls {
                return Err(SmtpError::Protocol(
                    "the relay does not offer STARTTLS, which the URL requires".into(),
                ));
            }
            conn.command("STARTTLS\r\n", Stage::Session).await?;
            let Either::Left(tcp) = conn.stream else {
                return Err(SmtpError::Protocol("STARTTLS on a TLS session".into()));
            };
            let tls = handshake(tls, tcp, settings).await?;
            conn = Self::new(Either::Right(Box::new(tls)), settings.timeout);
            conn.ehlo(&settings.hello).await?;
        }
        if let Some((user, password)) = &settings.credentials {
            conn.authenticate(user, password).await?;
        }
        Ok(conn)
    }

    fn new(stream: Stream, timeout: Duration) -> Self {
        Self {
            stream,
            features: Features::default(),
            timeout,
            pending: Vec::with_capacity(1024),
            out: Vec::with_capacity(8 * 1024),
            broken: false,
            replies_in_transaction: 0,
        }
    }

    /// What the relay offered.
    pub fn features(&self) -> Features {
        self.features
    }

    /// Whether the connection may carry another transaction.
    pub fn is_usable(&self) -> bool {
        !self.broken
    }

    /// Sends one message (`message` in wire form, CRLF line ends, not yet dot-stuffed).
    ///
    /// # Errors
    /// The first negative reply with the command it answered, or a connection error. Either
    /// way the connection is marked unusable. It is also unusable when this future is dropped
    /// before it finishes (a caller's timeout): the relay's late replies would otherwise be
    /// read as the next transaction's.
    pub async fn send(&mut self, envelope: Envelope<'_>, message: &[u8]) -> Result<(), SmtpError> {
        self.broken = true;
        let result = self.transact(envelope, message).await;
        self.broken = result.is_err();
        result
    }

    /// Whether `error`, from the last transaction, came before the relay took anything of it:
    /// it had closed the connection while it was idle (no reply at all, or its `421` closing
    /// notice as the answer to `MAIL FROM`), so the message can safely be retried on a new one.
    pub fn closed_while_idle(&self, error: &SmtpError) -> bool {
        match error {
            SmtpError::Io(e) => {
                self.replies_in_transaction == 0
                    && matches!(
                        e.kind(),
                        io::ErrorKind::UnexpectedEof
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::BrokenPipe
                            | io::ErrorKind::ConnectionAborted
                    )
            }
            SmtpError::Rejected { stage, reply } => {
                self.replies_in_transaction == 1 && *stage == Stage::Mail && reply.code == 421
            }
            SmtpError::Protocol(_) | SmtpError::Unsendable(_) => false,
        }
    }

    /// Ends the session politely, without waiting long for the answer.
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            self.stream.write_all(b"QUIT\r\n").await?;
            self.read_reply().await
        })
        .await;
    }

    async fn transact(&mut self, envelope: Envelope<'_>, message: &[u8]) -> Result<(), SmtpError> {
        self.replies_in_transaction = 0;
        let mut parameters = String::new();
        if !message.is_ascii() {
            if !self.features.eight_bit_mime {
                return Err(SmtpError::Unsendable(
                    "the message is not 7-bit and the relay does not offer 8BITMIME".into(),
                ));
            }
            parameters.push_str(" BODY=8BITMIME");
        }
        let non_ascii_address =
            !envelope.from.is_ascii() || envelope.to.iter().any(|a| !a.is_ascii());
        if non_ascii_address {
            if !self.features.smtp_utf8 {
                return Err(SmtpError::Unsendable(
                    "the address is not ASCII and the relay does not offer SMTPUTF8".into(),
                ));
            }
            parameters.push_str(" SMTPUTF8");
        }
        self.out.clear();
        let commands = std::iter::once((
            format!("MAIL FROM:<{}>{parameters}\r\n", envelope.from),
            Stage::Mail,
        ))
        .chain(
            envelope
                .to
                .iter()
                .map(|to| (format!("RCPT TO:<{to}>\r\n"), Stage::Rcpt)),
        )
        .chain(std::iter::once(("DATA\r\n".to_owned(), Stage::Data)));
        if self.features.pipelining {
            let stages: Vec<Stage> = commands
                .map(|(command, stage)| {
                    self.out.extend_from_slice(command.as_bytes());
                    stage
                })
                .collect();
            self.flush_out().await?;
            // Every reply is read, in order; the first negative one is the verdict.
            let mut first_failure = None;
            for stage in stages {
                let reply = self.read_reply().await?;
                if !reply.is_positive() && first_failure.is_none() {
                    first_failure = Some(SmtpError::Rejected { stage, reply });
                }
            }
            if let Some(failure) = first_failure {
                return Err(failure);
            }
        } else {
            for (command, stage) in commands {
                self.command(&command, stage).await?;
            }
        }
        dot_stuff(message, &mut self.out);
        self.flush_out().await?;
        self.positive_reply(Stage::Data).await.map(drop)
    }

    async fn ehlo(&mut self, hello: &str) -> Result<(), SmtpError> {
        let reply = self
            .command(&format!("EHLO {hello}\r\n"), Stage::Session)
            .await?;
        self.features = Features::parse(&reply);
        Ok(())
    }

    async fn authenticate(&mut self, user: &str, password: &str) -> Result<(), SmtpError> {
        if self.features.auth_plain {
            let token = BASE64.encode(format!("\0{user}\0{password}"));
            self.command(&format!("AUTH PLAIN {token}\r\n"), Stage::Session)
                .await?;
        } else if self.features.auth_login {
            self.command("AUTH LOGIN\r\n", Stage::Session).await?;
            self.command(&format!("{}\r\n", BASE64.encode(user)), Stage::Session)
                .await?;
            self.command(&format!("{}\r\n", BASE64.encode(password)), Stage::Session)
                .await?;
        } else {
            return Err(SmtpError::Protocol(
                "the relay offers neither AUTH PLAIN nor AUTH LOGIN".into(),
            ));
        }
        Ok(())
    }

    /// Writes one command and reads its reply, which must be positive.
    async fn command(&mut self, command: &str, stage: Stage) -> Result<Reply, SmtpError> {
        self.out.clear();
        self.out.extend_from_slice(command.as_bytes());
        self.flush_out().await?;
        self.positive_reply(stage).await
    }

    /// Reads one reply, which must be positive.
    async fn positive_reply(&mut self, stage: Stage) -> Result<Reply, SmtpError> {
        let reply = self.read_reply().await?;
        if reply.is_positive() {
            Ok(reply)
        } else {
            Err(SmtpError::Rejected { stage, reply })
        }
    }

    async fn flush_out(&mut self) -> Result<(), SmtpError> {
        let write = async {
            self.stream.write_all(&self.out).await?;
            self.stream.flush().await
        };
        tokio::time::timeout(self.timeout, write)
            .await
            .map_err(|_| timed_out())??;
        Ok(())
    }

    /// Reads one (possibly multi-line) reply.
    async fn read_reply(&mut self) -> Result<Reply, SmtpError> {
        loop {
            if let Some((reply, used)) = parse_reply(&self.pending)? {
                self.pending.drain(..used);
                self.replies_in_transaction += 1;
                return Ok(reply);
            }
            if self.pending.len() > MAX_REPLY {
                return Err(SmtpError::Protocol("reply too long".into()));
            }
            let read = tokio::time::timeout(self.timeout, self.stream.read_buf(&mut self.pending))
                .await
                .map_err(|_| timed_out())??;
            if read == 0 {
                return Err(SmtpError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the relay closed the connection",
                )));
            }
        }
    }
}

async fn handshake(
    tls: &TlsSettings,
    tcp: TcpStream,
    settings: &SessionSettings,
) -> Result<TlsStream<TcpStream>, SmtpError> {
    let connecting = tls.connector.connect(tls.name.clone(), tcp);
    Ok(tokio::time::timeout(settings.timeout, connecting)
        .await
        .map_err(|_| timed_out())??)
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "the SMTP relay did not answer in time",
    )
}

/// A complete reply at the start of `buf` and the bytes it took, or `None` if more must be
/// read.
///
/// # Errors
/// A line that is not `ddd-text` or `ddd text`.
fn parse_reply(buf: &[u8]) -> Result<Option<(Reply, usize)>, SmtpError> {
    let mut text = String::new();
    let mut start = 0;
    while let Some(end) = buf[start..].iter().position(|&b| b == b'\n') {
        let line = &buf[start..start + end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        start += end + 1;
        let malformed = || {
            SmtpError::Protocol(format!(
                "not an SMTP reply: {:?}",
                String::from_utf8_lossy(line)
            ))
        };
        let code = line
            .get(..3)
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| (200..600).contains(c))
            .ok_or_else(malformed)?;
        let last = match line.get(3) {
            None | Some(b' ') => true,
            Some(b'-') => false,
            Some(_) => return Err(malformed()),
        };
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&String::from_utf8_lossy(line.get(4..).unwrap_or_default()));
        if last {
            return Ok(Some((Reply { code, text }, start)));
        }
    }
    Ok(None)
}

/// Appends `message` with every line that starts with `.` given another `.` (RFC 5321
/// 4.5.2), then the end-of-data line.
fn dot_stuff(message: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.reserve(message.len() + message.len() / 64 + 5);
    let mut line_start = 0;
    for newline in memchr::memchr_iter(b'\n', message) {
        // Only CRLF ends a line; a bare LF does not start a new one.
        if newline > 0 && message[newline - 1] == b'\r' {
            push_line(&message[line_start..=newline], out);
            line_start = newline + 1;
        }
    }
    push_line(&message[line_start..], out);
    if !out.ends_with(b"\r\n") && !out.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
}

fn push_line(line: &[u8], out: &mut Vec<u8>) {
    if line.first() == Some(&b'.') {
        out.push(b'.');
    }
    out.extend_from_slice(line);
}

/// The README's example, compiled by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_single_and_multi_line() {
        assert!(parse_reply(b"250 OK").unwrap().is_none());
        let (reply, used) = parse_reply(b"250 2.0.0 OK\r\n354 go\r\n").unwrap().unwrap();
        assert_eq!(
            (reply.code, reply.text.as_str(), used),
            (250, "2.0.0 OK", 14)
        );
        let ehlo = b"250-relay\r\n250-PIPELINING\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n";
        let (reply, used) = parse_reply(ehlo).unwrap().unwrap();
        assert_eq!(used, ehlo.len());
        let f = Features::parse(&reply);
        assert!(f.pipelining && f.eight_bit_mime && f.auth_plain && f.auth_login);
        assert!(!f.starttls && !f.smtp_utf8);
        assert!(parse_reply(b"250-relay\r\n250-PIPE").unwrap().is_none());
        assert!(parse_reply(b"hello\r\n").is_err());
        assert!(parse_reply(b"250x\r\n").is_err());
    }

    fn unstuff(wire: &[u8]) -> Vec<u8> {
        let body = wire.strip_suffix(b".\r\n").unwrap();
        let mut out = Vec::new();
        let mut at_line_start = true;
        let mut i = 0;
        while i < body.len() {
            if at_line_start && body[i] == b'.' {
                i += 1;
            }
            at_line_start = body[i..].starts_with(b"\r\n");
            if at_line_start {
                out.extend_from_slice(b"\r\n");
                i += 2;
            } else {
                out.push(body[i]);
                i += 1;
            }
        }
        out
    }

    #[test]
    fn lines_starting_with_a_dot_get_another() {
        let mut out = Vec::new();
        dot_stuff(b".a\r\nb\r\n..c\r\nd.\r\n.", &mut out);
        assert_eq!(out, b"..a\r\nb\r\n...c\r\nd.\r\n..\r\n.\r\n");
        dot_stuff(b"x\n.y\r\n", &mut out);
        assert_eq!(out, b"x\n.y\r\n.\r\n", "a bare LF does not end a line");
        dot_stuff(b"", &mut out);
        assert_eq!(out, b".\r\n");
    }

    /// A relay on loopback that answers each line with `answer` (`None`: read the message
    /// up to its final dot, then answer `250`) and returns what it read.
    async fn relay(
        ehlo: &'static str,
        answer: fn(&str) -> Option<&'static str>,
    ) -> (SessionSettings, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let mut seen = String::new();
            converse(socket, true, ehlo, answer, &mut seen).await;
            seen
        });
        let settings = SessionSettings {
            host: "127.0.0.1".into(),
            port,
            security: Security::Plain,
            credentials: Some(("me".into(), "secret".into())),
            hello: "client.test".into(),
            timeout: Duration::from_secs(5),
        };
        (settings, server)
    }

    /// Plays the relay on `stream` until QUIT, end of stream or STARTTLS (then it gives the
    /// stream back for the handshake), writing every line it read into `seen`.
    async fn converse<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
        stream: S,
        greet: bool,
        ehlo: &str,
        answer: fn(&str) -> Option<&'static str>,
        seen: &mut String,
    ) -> Option<S> {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let mut io = BufReader::new(stream);
        if greet {
            io.write_all(b"220 relay\r\n").await.ok()?;
        }
        let mut in_data = false;
        let mut buf = String::new();
        loop {
            buf.clear();
            if io.read_line(&mut buf).await.ok()? == 0 {
                return None;
            }
            let line = buf.trim_end_matches(['\r', '\n']);
            seen.push_str(line);
            seen.push('\n');
            let reply = if in_data {
                if line != "." {
                    continue;
                }
                in_data = false;
                "250 queued"
            } else if line.starts_with("EHLO") {
                ehlo
            } else if line == "STARTTLS" {
                io.write_all(b"220 go ahead\r\n").await.ok()?;
                return Some(io.into_inner());
            } else if let Some(reply) = answer(line) {
                reply
            } else {
                in_data = true;
                "354 go"
            };
            io.write_all(format!("{reply}\r\n").as_bytes()).await.ok()?;
            if line == "QUIT" {
                return None;
            }
        }
    }

    #[tokio::test]
    async fn starttls_and_implicit_tls_carry_the_message_when_the_certificate_is_trusted() {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let cert = certified.cert.der().clone();
        let key =
            rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key.into())
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert).unwrap();
        let tls = TlsSettings::with_roots("localhost", roots).unwrap();
        for implicit in [false, true] {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let acceptor = acceptor.clone();
            let relay = tokio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                let mut seen = String::new();
                let tcp = if implicit {
                    tcp
                } else {
                    let ehlo = "250-relay\r\n250 STARTTLS";
                    converse(tcp, true, ehlo, ok_but_data, &mut seen)
                        .await
                        .unwrap()
                };
                seen.push_str("--- TLS ---\n");
                let secured = acceptor.accept(tcp).await.unwrap();
                let ehlo = "250-relay\r\n250 PIPELINING";
                converse(secured, implicit, ehlo, ok_but_data, &mut seen).await;
                seen
            });
            let settings = SessionSettings {
                host: "localhost".into(),
                port,
                security: if implicit {
                    Security::Implicit(tls.clone())
                } else {
                    Security::StartTls(tls.clone())
                },
                credentials: None,
                hello: "client.test".into(),
                timeout: Duration::from_secs(5),
            };
            let mut conn = Connection::open(&settings).await.unwrap();
            assert!(
                conn.features().pipelining,
                "features come from the EHLO after TLS"
            );
            let envelope = Envelope {
                from: "a@x.test",
                to: &["b@y.test"],
            };
            conn.send(envelope, MESSAGE).await.unwrap();
            conn.quit().await;
            let seen = relay.await.unwrap();
            let (before, after) = seen.split_once("--- TLS ---\n").unwrap();
            assert!(!before.contains("MAIL"), "{seen}");
            assert!(
                after.contains("MAIL FROM:<a@x.test>\nRCPT TO:<b@y.test>\nDATA\n"),
                "{seen}"
            );
            assert!(after.contains("..hidden"), "{seen}");
        }
    }

    #[tokio::test]
    async fn starttls_is_required_when_the_url_says_so() {
        let (mut settings, _server) = relay("250 relay", ok_but_data).await;
        settings.credentials = None;
        settings.security = Security::StartTls(TlsSettings::new("localhost").unwrap());
        let err = Connection::open(&settings).await.err().unwrap();
        assert!(err.to_string().contains("STARTTLS"), "{err}");
    }

    fn ok_but_data(line: &str) -> Option<&'static str> {
        (line != "DATA").then_some("250 ok")
    }

    const MESSAGE: &[u8] = b"Subject: x\r\n\r\n.hidden\r\nend\r\n";

    #[tokio::test]
    async fn one_transaction_without_pipelining_goes_command_by_command() {
        let (settings, server) = relay("250-relay\r\n250 AUTH PLAIN", ok_but_data).await;
        let mut conn = Connection::open(&settings).await.unwrap();
        assert!(!conn.features().pipelining);
        let envelope = Envelope {
            from: "a@x.test",
            to: &["b@y.test"],
        };
        conn.send(envelope, MESSAGE).await.unwrap();
        assert!(conn.is_usable());
        conn.quit().await;
        let seen = server.await.unwrap();
        assert_eq!(
            seen,
            "EHLO client.test\nAUTH PLAIN AG1lAHNlY3JldA==\nMAIL FROM:<a@x.test>\n\
             RCPT TO:<b@y.test>\nDATA\nSubject: x\n\n..hidden\nend\n.\nQUIT\n"
        );
    }

    #[tokio::test]
    async fn a_refused_recipient_in_a_pipelined_group_is_the_verdict() {
        fn refuse_rcpt(line: &str) -> Option<&'static str> {
            match line {
                l if l.starts_with("RCPT") => Some("550 5.1.1 no such user"),
                "DATA" => Some("554 no valid recipients"),
                _ => Some("250 ok"),
            }
        }
        let (settings, _server) = relay(
            "250-relay\r\n250-PIPELINING\r\n250 AUTH LOGIN PLAIN",
            refuse_rcpt,
        )
        .await;
        let mut conn = Connection::open(&settings).await.unwrap();
        assert!(conn.features().pipelining);
        let envelope = Envelope {
            from: "a@x.test",
            to: &["b@y.test"],
        };
        let err = conn.send(envelope, MESSAGE).await.unwrap_err();
        assert!(
            matches!(&err, SmtpError::Rejected { stage: Stage::Rcpt, reply } if reply.code == 550),
            "{err}"
        );
        assert!(!conn.is_usable(), "a failed connection is not reused");
    }

    #[tokio::test]
    async fn a_421_closing_notice_to_mail_from_counts_as_closed_while_idle() {
        fn closing(line: &str) -> Option<&'static str> {
            match line {
                l if l.starts_with("MAIL") => Some("421 4.4.2 idle too long, closing"),
                l if l.starts_with("AUTH") => Some("235 ok"),
                _ => Some("503 bad sequence"),
            }
        }
        let (settings, _server) = relay("250-relay\r\n250 AUTH PLAIN", closing).await;
        let mut conn = Connection::open(&settings).await.unwrap();
        let envelope = Envelope {
            from: "a@x.test",
            to: &["b@y.test"],
        };
        let err = conn.send(envelope, MESSAGE).await.unwrap_err();
        assert!(conn.closed_while_idle(&err), "{err}");
        let refused_rcpt = SmtpError::Rejected {
            stage: Stage::Rcpt,
            reply: Reply {
                code: 421,
                text: "closing".into(),
            },
        };
        assert!(
            !conn.closed_while_idle(&refused_rcpt),
            "only before the relay took anything"
        );
    }

    #[tokio::test]
    async fn a_transaction_cut_short_by_a_timeout_leaves_the_connection_unusable() {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let _server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let mut io = BufReader::new(socket);
            io.write_all(b"220 relay\r\n").await.unwrap();
            let mut line = String::new();
            io.read_line(&mut line).await.unwrap();
            io.write_all(b"250 relay\r\n").await.unwrap();
            // Then it reads the transaction and never answers it.
            while io.read_line(&mut line).await.is_ok_and(|n| n > 0) {}
        });
        let settings = SessionSettings {
            host: "127.0.0.1".into(),
            port,
            security: Security::Plain,
            credentials: None,
            hello: "client.test".into(),
            timeout: Duration::from_secs(5),
        };
        let mut conn = Connection::open(&settings).await.unwrap();
        let envelope = Envelope {
            from: "a@x.test",
            to: &["b@y.test"],
        };
        let cut = tokio::time::timeout(Duration::from_millis(100), conn.send(envelope, MESSAGE));
        assert!(cut.await.is_err(), "the relay never answers");
        assert!(
            !conn.is_usable(),
            "its late replies would belong to the next message"
        );
    }

    #[tokio::test]
    async fn a_relay_without_the_required_auth_is_refused() {
        let (mut settings, _server) = relay("250 relay", ok_but_data).await;
        settings.credentials = Some(("me".into(), "pw".into()));
        let err = Connection::open(&settings).await.err().unwrap();
        assert!(matches!(err, SmtpError::Protocol(_)), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn stuffing_is_undone_by_the_receiver(lines in proptest::collection::vec("[.a\\n]{0,6}", 0..8)) {
            let message = lines.join("\r\n") + "\r\n";
            let mut out = Vec::new();
            dot_stuff(message.as_bytes(), &mut out);
            // No line of the stuffed message is a lone dot before the end.
            let body = &out[..out.len() - 3];
            proptest::prop_assert!(!body.windows(5).any(|w| w == b"\r\n.\r\n"));
            proptest::prop_assert!(!body.starts_with(b".\r\n"));
            proptest::prop_assert_eq!(unstuff(&out), message.as_bytes());
        }
    }
}
