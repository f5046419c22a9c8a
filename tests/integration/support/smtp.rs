//! A real SMTP listener on loopback that records every message, with fault injection.
//!
//! The harness starts one [`TestSmtp`] per test on `127.0.0.1:0`; the application
//! under test sends to [`TestSmtp::url`] with lettre's pooled `AsyncSmtpTransport`
//! (plain SMTP, no TLS, no auth). Every connection gets its own task, so a pool of
//! concurrent connections and a client that keeps one connection open across many
//! messages both work.
//!
//! Supported commands: `EHLO`, `HELO`, `MAIL FROM`, `RCPT TO`, `DATA`, `RSET`,
//! `NOOP`, `QUIT`. Anything else gets `502`; commands out of order get `503`.
//! On any I/O error the connection simply ends (the test notices the missing mail).

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mail_parser::{HeaderName, Message, MessageParser, MimeHeaders, PartType};
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// Largest message accepted (advertised with the `SIZE` extension).
const MAX_MESSAGE_SIZE: usize = 10_485_760;
/// Longest line read in one go; longer lines are read in pieces.
const MAX_LINE: u64 = 64 * 1024;

const GREETING: &str = "220 test-smtp ESMTP\r\n";
const EHLO_REPLY: &str =
    "250-test-smtp\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n";
const REFUSED: &str = "421 4.3.2 test-smtp refusing connections\r\n";
const BAD_SEQUENCE: &str = "503 5.5.1 Bad sequence of commands\r\n";

/// One message accepted by the server.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    /// The reverse path from `MAIL FROM:<...>` (empty for the null sender `<>`).
    pub mail_from: String,
    /// Every accepted `RCPT TO:<...>` address, in order.
    pub rcpt_to: Vec<String>,
    /// The raw message as sent after `DATA` (CRLF line endings, dot-unstuffed,
    /// without the terminating `.` line).
    pub data: String,
}

impl ReceivedMail {
    fn parsed(&self) -> Message<'_> {
        MessageParser::default()
            .parse(self.data.as_bytes())
            .unwrap_or_else(|| {
                panic!(
                    "test-smtp: received data is not a parsable message:\n{}",
                    self.data
                )
            })
    }

    /// The unfolded, RFC 2047-decoded value of the first header called `name`
    /// (case-insensitive), with surrounding whitespace trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        // Parse every header as unstructured text, whatever its name, so that the
        // value keeps its shape (addresses, ids, URLs in <...>) but is unfolded and
        // has its encoded words decoded. A non-empty header map makes the parser
        // use the default function for all other headers.
        let parser = MessageParser::new()
            .header_text(HeaderName::Subject)
            .default_header_text();
        let message = parser.parse_headers(self.data.as_bytes())?;
        message
            .headers()
            .iter()
            .find(|h| h.name().eq_ignore_ascii_case(name))
            .map(|h| h.value().as_text().unwrap_or_default().trim().to_owned())
    }

    /// The decoded `Subject` (empty when there is none).
    pub fn subject(&self) -> String {
        self.header("Subject").unwrap_or_default()
    }

    /// The decoded `text/plain` body (empty when the message has none).
    pub fn text_body(&self) -> String {
        self.body_of_kind(false)
    }

    /// The decoded `text/html` body (empty when the message has none).
    pub fn html_body(&self) -> String {
        self.body_of_kind(true)
    }

    fn body_of_kind(&self, html: bool) -> String {
        let message = self.parsed();
        let wanted = |part: &&mail_parser::MessagePart<'_>| {
            let attachment = part
                .content_disposition()
                .is_some_and(|d| d.is_attachment());
            let kind_ok = match &part.body {
                PartType::Html(_) => html,
                // `Text` is any text/*: keep text/plain (or no subtype) only.
                PartType::Text(_) => {
                    !html
                        && part.content_type().is_none_or(|ct| {
                            ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain"))
                        })
                }
                _ => false,
            };
            kind_ok && !attachment
        };
        let inline = if html {
            message.html_bodies().find(wanted)
        } else {
            message.text_bodies().find(wanted)
        };
        inline
            .or_else(|| message.parts.iter().find(wanted))
            .and_then(|part| part.text_contents())
            .unwrap_or_default()
            .to_owned()
    }

    /// Every `http://` or `https://` URL in the text body, in order. A URL ends at
    /// whitespace, `>`, `)` or `"`.
    pub fn links(&self) -> Vec<String> {
        extract_links(&self.text_body())
    }
}

fn extract_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    loop {
        let next = [rest.find("http://"), rest.find("https://")]
            .into_iter()
            .flatten()
            .min();
        let Some(start) = next else { break };
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '>' | ')' | '"'))
            .unwrap_or(candidate.len());
        links.push(candidate[..end].to_owned());
        rest = &candidate[end..];
    }
    links
}

/// A fault armed for the next `count` commands of one kind.
#[derive(Default)]
struct Fault {
    count: usize,
    reply: String,
}

impl Fault {
    /// Consumes one armed failure, returning the reply line (with CRLF) to send.
    fn take(&mut self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        self.count -= 1;
        Some(format!("{}\r\n", self.reply.trim_end()))
    }
}

#[derive(Default)]
struct State {
    messages: Vec<ReceivedMail>,
    fail_rcpt: Fault,
    fail_data: Fault,
    refuse: bool,
    /// The name each `EHLO` gave, in order.
    greetings: Vec<String>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    recorded: Notify,
    connections: AtomicUsize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the mail from the others.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A loopback SMTP server that records every accepted message.
///
/// Dropping it stops accepting and closes the connections it still has open.
pub struct TestSmtp {
    port: u16,
    shared: Arc<Shared>,
    accept_task: JoinHandle<()>,
}

impl Drop for TestSmtp {
    fn drop(&mut self) {
        self.accept_task.abort();
    }
}

impl TestSmtp {
    /// Binds `127.0.0.1:0` and starts accepting connections.
    pub async fn start() -> TestSmtp {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("test-smtp: bind 127.0.0.1:0");
        let port = listener.local_addr().expect("test-smtp: local_addr").port();
        let shared = Arc::new(Shared::default());
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        TestSmtp {
            port,
            shared,
            accept_task,
        }
    }

    /// `smtp://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every message recorded so far, in the order they were accepted.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.lock().messages.clone()
    }

    /// Returns every message recorded so far and forgets them.
    pub fn take_messages(&self) -> Vec<ReceivedMail> {
        std::mem::take(&mut self.shared.lock().messages)
    }

    /// Answers the next `count` `RCPT TO` commands with `reply`
    /// (e.g. `"451 4.3.0 Try again later"` or `"550 5.1.1 No such user"`).
    pub fn fail_next_rcpt(&self, count: usize, reply: &str) {
        self.shared.lock().fail_rcpt = Fault {
            count,
            reply: reply.to_owned(),
        };
    }

    /// Answers the next `count` messages (the reply after `DATA`'s final `.`) with
    /// `reply`; those messages are not recorded.
    pub fn fail_next_data(&self, count: usize, reply: &str) {
        self.shared.lock().fail_data = Fault {
            count,
            reply: reply.to_owned(),
        };
    }

    /// While on, new connections are greeted with `421` and closed, and open
    /// connections answer their next command with `421` and close (so a pooled
    /// client cannot keep sending over a connection it opened earlier).
    pub fn refuse_connections(&self, on: bool) {
        self.shared.lock().refuse = on;
    }

    /// Waits until at least `n` messages are recorded and returns all of them.
    ///
    /// # Panics
    /// When fewer than `n` messages arrived within `timeout`.
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before checking, so a message recorded in between
            // still wakes us.
            let notified = self.shared.recorded.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let have = {
                let state = self.shared.lock();
                if state.messages.len() >= n {
                    return state.messages.clone();
                }
                state.messages.len()
            };
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let have_now = self.shared.lock().messages.len().max(have);
                if have_now >= n {
                    return self.messages();
                }
                panic!(
                    "test-smtp: timed out after {timeout:?} waiting for {n} message(s); \
                     {have_now} received ({} connection(s) accepted)",
                    self.connections_accepted()
                );
            }
        }
    }

    /// How many TCP connections were accepted so far (refused ones included).
    pub fn connections_accepted(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The names clients gave in `EHLO`, in order.
    pub fn greetings(&self) -> Vec<String> {
        self.shared.lock().greetings.clone()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Connection tasks live in this set, so aborting the accept task also ends them.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    connections.spawn(handle_connection(stream, Arc::clone(&shared)));
                }
                // E.g. out of file descriptors: back off briefly and go on.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle_connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    // Any I/O error just ends the connection.
    let _ = serve(&mut reader, &mut write, &shared).await;
    let _ = write.shutdown().await;
}

/// An SMTP transaction in progress on one connection.
#[derive(Default)]
struct Session {
    greeted: bool,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

impl Session {
    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
    }
}

async fn serve<R, W>(reader: &mut R, write: &mut W, shared: &Shared) -> std::io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if shared.lock().refuse {
        write.write_all(REFUSED.as_bytes()).await?;
        return Ok(());
    }
    write.write_all(GREETING.as_bytes()).await?;

    let mut session = Session::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if read_line(reader, &mut line).await? == 0 {
            return Ok(()); // client closed the connection
        }
        if shared.lock().refuse {
            write.write_all(REFUSED.as_bytes()).await?;
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let command = text.trim_end_matches(['\r', '\n']);
        let (verb, args) = match command.split_once(' ') {
            Some((verb, args)) => (verb, args.trim()),
            None => (command, ""),
        };
        let verb = verb.to_ascii_uppercase();

        let reply: String = match verb.as_str() {
            "EHLO" => {
                session.reset();
                session.greeted = true;
                shared.lock().greetings.push(args.to_owned());
                EHLO_REPLY.to_owned()
            }
            "HELO" => {
                session.reset();
                session.greeted = true;
                "250 test-smtp\r\n".to_owned()
            }
            "MAIL" => {
                if !session.greeted || session.mail_from.is_some() {
                    BAD_SEQUENCE.to_owned()
                } else if let Some(address) = path_argument(args, "FROM:") {
                    session.mail_from = Some(address);
                    "250 2.1.0 OK\r\n".to_owned()
                } else {
                    "501 5.5.4 Syntax: MAIL FROM:<address>\r\n".to_owned()
                }
            }
            "RCPT" => {
                if session.mail_from.is_none() {
                    BAD_SEQUENCE.to_owned()
                } else if let Some(address) = path_argument(args, "TO:") {
                    let fault = shared.lock().fail_rcpt.take();
                    match fault {
                        Some(reply) => reply,
                        None => {
                            session.rcpt_to.push(address);
                            "250 2.1.5 OK\r\n".to_owned()
                        }
                    }
                } else {
                    "501 5.5.4 Syntax: RCPT TO:<address>\r\n".to_owned()
                }
            }
            "DATA" => {
                if session.mail_from.is_none() || session.rcpt_to.is_empty() {
                    BAD_SEQUENCE.to_owned()
                } else {
                    write
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let data = read_data(reader).await?;
                    let reply = match data {
                        None => "552 5.3.4 Message too big\r\n".to_owned(),
                        Some(data) => {
                            let mut state = shared.lock();
                            match state.fail_data.take() {
                                Some(reply) => reply,
                                None => {
                                    // Recorded before the 250 goes out, so a client
                                    // that saw the 250 always finds the message.
                                    state.messages.push(ReceivedMail {
                                        mail_from: session.mail_from.take().unwrap_or_default(),
                                        rcpt_to: std::mem::take(&mut session.rcpt_to),
                                        data,
                                    });
                                    drop(state);
                                    shared.recorded.notify_waiters();
                                    "250 2.0.0 OK: queued\r\n".to_owned()
                                }
                            }
                        }
                    };
                    session.reset();
                    reply
                }
            }
            "RSET" => {
                session.reset();
                "250 2.0.0 OK\r\n".to_owned()
            }
            "NOOP" => "250 2.0.0 OK\r\n".to_owned(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not recognized\r\n".to_owned(),
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

/// Reads one line (up to and including `\n`, or at most [`MAX_LINE`] bytes).
/// Returns 0 at end of stream.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    reader.take(MAX_LINE).read_until(b'\n', line).await
}

/// Reads the message after `354` up to the lone `.` line, undoing dot-stuffing.
/// Returns `None` when the message is larger than [`MAX_MESSAGE_SIZE`] (it is still
/// read to the end so the connection stays usable).
async fn read_data<R: AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<Option<String>> {
    let mut data = Vec::new();
    let mut too_big = false;
    let mut line = Vec::new();
    let mut at_line_start = true;
    loop {
        line.clear();
        if read_line(reader, &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let ends_line = line.ends_with(b"\n");
        if at_line_start && (line == b".\r\n" || line == b".\n") {
            break;
        }
        let content: &[u8] = if at_line_start && line.starts_with(b".") {
            &line[1..]
        } else {
            &line
        };
        if data.len() + content.len() > MAX_MESSAGE_SIZE {
            too_big = true;
        }
        if !too_big {
            data.extend_from_slice(content);
        }
        at_line_start = ends_line;
    }
    if too_big {
        return Ok(None);
    }
    Ok(Some(String::from_utf8(data).unwrap_or_else(|e| {
        String::from_utf8_lossy(e.as_bytes()).into_owned()
    })))
}

/// Parses `FROM:<address> PARAMS...` / `TO:<address> PARAMS...`, returning the
/// address between the angle brackets (or the bare token when there are none).
fn path_argument(args: &str, keyword: &str) -> Option<String> {
    let head = args.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = args[keyword.len()..].trim_start();
    if let Some(after) = rest.strip_prefix('<') {
        let end = after.find('>')?;
        Some(after[..end].to_owned())
    } else {
        let address = rest.split_whitespace().next()?;
        Some(address.to_owned())
    }
}
