//! Reading an import file as a stream of CSV rows: a leading UTF-8 BOM is dropped, the header
//! names the columns, and no row may grow past `MAX_ROW_BYTES`, so memory stays flat however
//! large (or broken) the file is.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
};

use csv_async::{AsyncReader, AsyncReaderBuilder, ByteRecord, ErrorKind};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

use super::ImportError;
use crate::domain::{AttributeKind, attributes::valid_key};

/// The longest row accepted; more means a broken file (typically an unclosed quote).
const MAX_ROW_BYTES: u64 = 1 << 20;
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where each known column is; `email` is required, the others optional.
#[derive(Debug, Clone, Default)]
struct Columns {
    email: usize,
    name: Option<usize>,
    locale: Option<usize>,
    consent_at: Option<usize>,
    consent_source: Option<usize>,
    consent_text: Option<usize>,
    /// The `attr.KEY[:type]` columns.
    attributes: Vec<AttributeColumn>,
}

/// A column `attr.KEY` or `attr.KEY:type` (`text`, `number`, `boolean`, `date`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AttributeColumn {
    index: usize,
    /// The attribute's key.
    pub key: String,
    /// How its cells are read.
    pub kind: AttributeKind,
}

/// One data row: its line (the header is line 1) and the values of the known columns.
#[derive(Debug, Clone)]
pub(super) struct RawRow<'a> {
    /// Line the row starts on.
    pub line: u64,
    /// The `email` value as given.
    pub email: &'a str,
    /// The `name` value, if the column exists.
    pub name: Option<&'a str>,
    /// The `locale` value, if the column exists.
    pub locale: Option<&'a str>,
    /// The `consent_at` value, if the column exists.
    pub consent_at: Option<&'a str>,
    /// The `consent_source` value, if the column exists.
    pub consent_source: Option<&'a str>,
    /// The `consent_text` value, if the column exists.
    pub consent_text: Option<&'a str>,
    /// Each attribute column with its cell.
    pub attributes: Vec<(&'a AttributeColumn, &'a str)>,
}

/// The rows of a CSV file, read one at a time from any byte stream.
pub(super) struct CsvRows<R> {
    reader: AsyncReader<RowLimit<tokio::io::Chain<io::Cursor<Vec<u8>>, R>>>,
    columns: Columns,
    record: ByteRecord,
    row_start: Arc<AtomicU64>,
}

impl<R: AsyncRead + Unpin + Send> CsvRows<R> {
    /// Reads and checks the header row.
    ///
    /// # Errors
    /// An empty file, a header that is not UTF-8 CSV, a repeated column or no `email` column.
    pub(super) async fn open(source: R) -> Result<Self, ImportError> {
        let row_start = Arc::new(AtomicU64::new(0));
        let limited = RowLimit {
            inner: without_bom(source).await.map_err(ImportError::Read)?,
            read: 0,
            row_start: Arc::clone(&row_start),
        };
        let mut reader = AsyncReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .create_reader(limited);
        let header = reader
            .byte_headers()
            .await
            .map_err(|e| syntax_error(e, 1))?;
        let columns = columns_of(header)?;
        row_start.store(reader.position().byte(), Ordering::Relaxed);
        Ok(Self {
            reader,
            columns,
            record: ByteRecord::new(),
            row_start,
        })
    }

    /// The next data row, or `None` at the end of the file.
    ///
    /// # Errors
    /// A syntax error (with its line), text that is not UTF-8, or a failing stream.
    pub(super) async fn next(&mut self) -> Result<Option<RawRow<'_>>, ImportError> {
        let line = self.reader.position().line();
        let more = self
            .reader
            .read_byte_record(&mut self.record)
            .await
            .map_err(|e| syntax_error(e, line))?;
        self.row_start
            .store(self.reader.position().byte(), Ordering::Relaxed);
        if !more {
            return Ok(None);
        }
        let line = self.record.position().map_or(line, |p| p.line());
        let field = |index: Option<usize>| -> Result<Option<&str>, ImportError> {
            index
                .and_then(|i| self.record.get(i))
                .map(|bytes| {
                    std::str::from_utf8(bytes).map_err(|_| ImportError::Malformed {
                        line,
                        reason: "the row is not UTF-8 text".into(),
                    })
                })
                .transpose()
        };
        let c = &self.columns;
        let mut attributes = Vec::with_capacity(c.attributes.len());
        for column in &c.attributes {
            attributes.push((column, field(Some(column.index))?.unwrap_or_default()));
        }
        Ok(Some(RawRow {
            line,
            email: field(Some(c.email))?.unwrap_or_default(),
            name: field(c.name)?,
            locale: field(c.locale)?,
            consent_at: field(c.consent_at)?,
            consent_source: field(c.consent_source)?,
            consent_text: field(c.consent_text)?,
            attributes,
        }))
    }
}

/// The first rows of a file as an import would read them: the header's columns (and which of
/// them the import uses), and the values of the first rows, for a person to check the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The columns of the header, in order (at most `PREVIEW_COLUMNS`).
    pub columns: Vec<PreviewColumn>,
    /// The first data rows.
    pub rows: Vec<PreviewRow>,
    /// Whether the file goes on after these rows.
    pub more: bool,
    /// The error that refuses the whole file, met within the previewed rows.
    pub problem: Option<String>,
}

/// One column of a previewed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewColumn {
    /// Its name in the header.
    pub name: String,
    /// What the import reads it as (`email`, `name`, …), or `None` when it is ignored.
    pub used_as: Option<&'static str>,
}

/// One previewed data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRow {
    /// The line it starts on (the header is line 1).
    pub line: u64,
    /// Its values, one per previewed column (cut to `PREVIEW_CHARS` characters).
    pub values: Vec<String>,
}

/// Columns shown at most.
const PREVIEW_COLUMNS: usize = 30;
/// Characters shown of one value at most.
const PREVIEW_CHARS: usize = 200;

/// Reads the header and up to `max_rows` data rows of `source`.
///
/// # Errors
/// The header errors of an import (empty file, not UTF-8 CSV, a repeated or missing `email`
/// column) or a failing stream. A broken row is not an error here: it ends the preview with
/// its `problem`.
pub(super) async fn preview<R: AsyncRead + Unpin + Send>(
    source: R,
    max_rows: usize,
) -> Result<Preview, ImportError> {
    let limited = RowLimit {
        inner: without_bom(source).await.map_err(ImportError::Read)?,
        read: 0,
        row_start: Arc::new(AtomicU64::new(0)),
    };
    let mut reader = AsyncReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .create_reader(limited);
    let header = reader
        .byte_headers()
        .await
        .map_err(|e| syntax_error(e, 1))?
        .clone();
    let known = columns_of(&header)?;
    let role = |i: usize| -> Option<&'static str> {
        let c = &known;
        if c.attributes.iter().any(|a| a.index == i) {
            return Some("attribute");
        }
        [
            (Some(c.email), "email"),
            (c.name, "name"),
            (c.locale, "locale"),
            (c.consent_at, "consent_at"),
            (c.consent_source, "consent_source"),
            (c.consent_text, "consent_text"),
        ]
        .into_iter()
        .find(|(at, _)| *at == Some(i))
        .map(|(_, role)| role)
    };
    let columns = header
        .iter()
        .take(PREVIEW_COLUMNS)
        .enumerate()
        .map(|(i, raw)| PreviewColumn {
            name: shown(raw),
            used_as: role(i),
        })
        .collect();
    let mut preview = Preview {
        columns,
        rows: Vec::new(),
        more: false,
        problem: None,
    };
    let mut record = ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record).await {
            Ok(false) => break,
            Ok(true) if preview.rows.len() >= max_rows => {
                preview.more = true;
                break;
            }
            Ok(true) => preview.rows.push(PreviewRow {
                line: record.position().map_or(line, |p| p.line()),
                values: record.iter().take(PREVIEW_COLUMNS).map(shown).collect(),
            }),
            Err(e) => {
                preview.problem = Some(syntax_error(e, line).to_string());
                break;
            }
        }
    }
    Ok(preview)
}

/// A value for display: lossy UTF-8, cut to `PREVIEW_CHARS` characters.
fn shown(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .chars()
        .take(PREVIEW_CHARS)
        .collect()
}

/// Finds the known columns by name (trimmed, any case); other columns are ignored.
fn columns_of(header: &ByteRecord) -> Result<Columns, ImportError> {
    let bad = |reason: String| ImportError::Malformed { line: 1, reason };
    if header.is_empty() {
        return Err(bad(
            "the file is empty; its first line must name the columns".into(),
        ));
    }
    let mut columns = Columns::default();
    let mut email = None;
    for (index, raw) in header.iter().enumerate() {
        let name = std::str::from_utf8(raw)
            .map_err(|_| bad("the header is not UTF-8 text".into()))?
            .trim()
            .to_ascii_lowercase();
        if let Some(spec) = name.strip_prefix("attr.") {
            let column = attribute_column(index, spec).map_err(&bad)?;
            if columns.attributes.iter().any(|a| a.key == column.key) {
                return Err(bad(format!("the column attr.{} appears twice", column.key)));
            }
            columns.attributes.push(column);
            continue;
        }
        let slot = match name.as_str() {
            "email" => &mut email,
            "name" => &mut columns.name,
            "locale" => &mut columns.locale,
            "consent_at" => &mut columns.consent_at,
            "consent_source" => &mut columns.consent_source,
            "consent_text" => &mut columns.consent_text,
            _ => continue,
        };
        if slot.replace(index).is_some() {
            return Err(bad(format!("the column {name} appears twice")));
        }
    }
    columns.email = email.ok_or(ImportError::MissingEmailColumn)?;
    Ok(columns)
}

/// The attribute column named `attr.{spec}`: `KEY` or `KEY:type`.
fn attribute_column(index: usize, spec: &str) -> Result<AttributeColumn, String> {
    let (key, kind) = match spec.split_once(':') {
        Some((key, kind)) => (key, kind),
        None => (spec, "text"),
    };
    if !valid_key(key) {
        return Err(format!(
            "the column attr.{spec}: an attribute's key is 1 to 40 of a-z, 0-9 and _"
        ));
    }
    let kind = AttributeKind::parse(kind).map_err(|_| {
        format!("the column attr.{spec}: the type is text, number, boolean or date")
    })?;
    Ok(AttributeColumn {
        index,
        key: key.to_owned(),
        kind,
    })
}

/// Turns a CSV error into the import's error, with the line of the row it happened in.
fn syntax_error(err: csv_async::Error, line: u64) -> ImportError {
    let line = err.position().map_or(line, |p| p.line());
    let message = err.to_string();
    match err.into_kind() {
        ErrorKind::Io(e) if e.kind() == io::ErrorKind::InvalidData => ImportError::Malformed {
            line,
            reason: e.to_string(),
        },
        ErrorKind::Io(e) => ImportError::Read(e),
        ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => ImportError::Malformed {
            line,
            reason: format!("the row has {len} fields, but the header has {expected_len}"),
        },
        _ => ImportError::Malformed {
            line,
            reason: message,
        },
    }
}

/// The stream without a leading UTF-8 byte-order mark (Excel writes one).
async fn without_bom<R: AsyncRead + Unpin>(
    mut source: R,
) -> io::Result<tokio::io::Chain<io::Cursor<Vec<u8>>, R>> {
    let mut head = Vec::with_capacity(BOM.len());
    let mut byte = [0_u8; 3];
    while head.len() < BOM.len() {
        let n = source.read(&mut byte[..BOM.len() - head.len()]).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&byte[..n]);
    }
    if head == BOM {
        head.clear();
    }
    Ok(io::Cursor::new(head).chain(source))
}

/// Fails the stream when one row grows past `MAX_ROW_BYTES` (counted from where the row
/// started, plus the CSV reader's read-ahead buffer).
struct RowLimit<R> {
    inner: R,
    read: u64,
    row_start: Arc<AtomicU64>,
}

impl<R: AsyncRead + Unpin> AsyncRead for RowLimit<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        // The reader's position excludes the stripped BOM, so allow for it and the buffer.
        let slack = 64 * 1024 + BOM.len() as u64;
        if this.read > this.row_start.load(Ordering::Relaxed) + MAX_ROW_BYTES + slack {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a row is longer than 1 MiB (is a quote left open?)",
            )));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.read += (buf.filled().len() - before) as u64;
        result
    }
}
