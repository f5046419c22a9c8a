//! Set-based queries of bulk imports: look a whole batch of addresses up at once and write it
//! with one multi-row statement per table, plus the per-import scratch table that spots
//! repeated addresses.
//!
//! Each statement takes the batch as one JSON array parameter that the database unpacks
//! (`jsonb_each` on SQLite, `jsonb_array_elements` on PostgreSQL) instead of tens of
//! thousands of bind parameters: binding values one by one made an import twice as slow (see
//! BENCHMARKS.md). Values are written exactly as sqlx binds them (UUIDs as 16-byte blobs and
//! times as RFC 3339 text on SQLite), so every other query reads them alike. The column lists
//! here must follow the entities: a new column of these tables needs a line here too.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, Value,
    sea_query::Expr,
};
use serde::{Serialize, Serializer, ser::SerializeSeq};
use uuid::{Uuid, fmt::Simple};

use super::{StoreError, corrupt, entities::subscriptions};
use crate::domain::{
    ConsentEvent, ListId, Subscriber, SubscriberId, SubscriberStatus, Subscription, SubscriptionId,
    SubscriptionStatus,
};

/// Rows per statement: bounds the size of one JSON parameter (about 300 bytes a row).
const ROWS_PER_STATEMENT: usize = 5000;

/// How a JSON array element becomes a column value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A UUID as 32 hex digits.
    Uuid,
    /// Text, or `null`.
    Text,
    /// A time as RFC 3339 text.
    Time,
    /// An integer.
    Int,
    /// JSON text for a `json` column.
    Json,
}

/// One value of a row to write, of the column's `Kind`.
#[derive(Debug, Clone, PartialEq)]
enum Cell<'a> {
    Null,
    Text(&'a str),
    Uuid(Uuid),
    Time(DateTime<Utc>),
    Int(i64),
}

impl Cell<'_> {
    fn text(value: Option<&str>) -> Cell<'_> {
        value.map_or(Cell::Null, Cell::Text)
    }

    fn time<'a>(value: Option<DateTime<Utc>>) -> Cell<'a> {
        value.map_or(Cell::Null, Cell::Time)
    }

    /// The cell as a bound parameter: the same text (or integer) as in the JSON array.
    fn value(&self) -> Value {
        match self {
            Cell::Null => Value::String(None),
            Cell::Text(text) => (*text).into(),
            Cell::Uuid(uuid) => uuid.simple().to_string().into(),
            Cell::Time(time) => time_text(*time).into(),
            Cell::Int(int) => (*int).into(),
        }
    }
}

impl Serialize for Cell<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => serializer.serialize_none(),
            Cell::Text(text) => serializer.serialize_str(text),
            Cell::Uuid(uuid) => {
                serializer.serialize_str(uuid.simple().encode_lower(&mut Uuid::encode_buffer()))
            }
            Cell::Time(time) => serializer.serialize_str(&time_text(*time)),
            Cell::Int(int) => serializer.serialize_i64(*int),
        }
    }
}

/// The rows of a chunk as the JSON array parameter: each row an array of its cells in the
/// columns that are not the same in every row.
struct Varying<'r, 'a, const N: usize> {
    rows: &'r [[Cell<'a>; N]],
    same: &'r [bool; N],
}

impl<const N: usize> Serialize for Varying<'_, '_, N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut rows = serializer.serialize_seq(Some(self.rows.len()))?;
        for row in self.rows {
            rows.serialize_element(&VaryingRow {
                row,
                same: self.same,
            })?;
        }
        rows.end()
    }
}

struct VaryingRow<'r, 'a, const N: usize> {
    row: &'r [Cell<'a>; N],
    same: &'r [bool; N],
}

impl<const N: usize> Serialize for VaryingRow<'_, '_, N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut cells = serializer.serialize_seq(None)?;
        for (cell, same) in self.row.iter().zip(self.same) {
            if !same {
                cells.serialize_element(cell)?;
            }
        }
        cells.end()
    }
}

/// Multi-row inserts made ready to run: building them costs CPU that can overlap the
/// database's work on the statements before.
#[derive(Debug, Default)]
pub struct Prepared(Vec<Statement>);

impl Prepared {
    /// Runs the statements in order.
    ///
    /// # Errors
    /// `Conflict` when a unique or foreign key refuses a row, or database failure.
    pub async fn run(self, conn: &impl ConnectionTrait) -> Result<(), StoreError> {
        for statement in self.0 {
            conn.execute_raw(statement).await?;
        }
        Ok(())
    }
}

/// The statements that write `rows` into `table`, one `INSERT … SELECT` per chunk. A column
/// whose value is the same in every row of the chunk (the list, the time of the import, …)
/// is one bound parameter; the other columns come from the one JSON array parameter, which
/// carries only them: unpacking fewer values is most of what makes an import fast (see
/// BENCHMARKS.md).
fn prepare_rows<const N: usize>(
    backend: DbBackend,
    table: &str,
    columns: &[(&str, Kind); N],
    tail: &str,
    rows: &[[Cell<'_>; N]],
) -> Result<Prepared, StoreError> {
    let names: Vec<String> = columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    let mut statements = Vec::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let Some(first) = chunk.first() else {
            continue;
        };
        let same: [bool; N] = std::array::from_fn(|c| chunk.iter().all(|row| row[c] == first[c]));
        let mut values = Vec::new();
        let mut selected = Vec::with_capacity(N);
        for (c, (_, kind)) in columns.iter().enumerate() {
            if same[c] {
                values.push(first[c].value());
                selected.push(parameter(backend, values.len(), *kind));
            } else {
                let varying = same[..c].iter().filter(|s| !**s).count();
                selected.push(element(backend, varying, *kind));
            }
        }
        let json = serde_json::to_string(&Varying {
            rows: chunk,
            same: &same,
        })
        .map_err(corrupt)?;
        values.push(json.into());
        let sql = format!(
            "INSERT INTO \"{table}\" ({}) SELECT {} FROM {} {tail}",
            names.join(", "),
            selected.join(", "),
            json_rows(backend, values.len()),
        );
        statements.push(Statement::from_sql_and_values(backend, sql, values));
    }
    Ok(Prepared(statements))
}

/// Bound parameter `n` (1-based; SQLite numbers them by position), as a value of `kind`.
fn parameter(backend: DbBackend, n: usize, kind: Kind) -> String {
    if backend == DbBackend::Postgres {
        let cast = match kind {
            Kind::Uuid => "uuid",
            Kind::Text => "text",
            Kind::Time => "timestamptz",
            Kind::Int => "bigint",
            Kind::Json => "json",
        };
        format!("${n}::{cast}")
    } else if kind == Kind::Uuid {
        "unhex(?)".to_owned()
    } else {
        "?".to_owned()
    }
}

/// The rows of JSON parameter `n` (1-based), each row named `r`.
fn json_rows(backend: DbBackend, n: usize) -> String {
    if backend == DbBackend::Postgres {
        format!("jsonb_array_elements(${n}::jsonb) AS r")
    } else {
        // jsonb_each hands each row over as a JSONB blob, so reading its elements does not
        // parse the row's text again for every column.
        "jsonb_each(?) AS r WHERE true".to_owned()
    }
}

/// Element `i` of row `r`, as a value of `kind`.
fn element(backend: DbBackend, i: usize, kind: Kind) -> String {
    if backend == DbBackend::Postgres {
        match kind {
            Kind::Uuid => format!("(r->>{i})::uuid"),
            Kind::Text => format!("r->>{i}"),
            Kind::Time => format!("(r->>{i})::timestamptz"),
            Kind::Int => format!("(r->>{i})::bigint"),
            Kind::Json => format!("(r->>{i})::json"),
        }
    } else {
        match kind {
            Kind::Uuid => format!("unhex(r.value->>{i})"),
            Kind::Text | Kind::Time | Kind::Int | Kind::Json => format!("r.value->>{i}"),
        }
    }
}

/// `SELECT columns FROM table WHERE [filter AND] key = v` for each value `v` of the JSON
/// array in the last parameter: one index look-up per value. `filter` uses the parameter
/// before it, if any. On PostgreSQL a `LATERAL` sub-select makes the look-ups explicit:
/// inside a long import the planner's statistics still describe the tables as they were
/// before it, and it would otherwise pick scans that grow with the table. The filter is
/// written `(…) IS TRUE`, which no index serves, so that the key's index does: with fresh
/// statistics that still held the list empty, PostgreSQL looked each row up through the list's
/// index and walked everything imported into it so far (an import of 250,000 rows into a new
/// list beside 1,000,000 others did not end in five minutes).
fn lookup_sql(
    backend: DbBackend,
    columns: &str,
    table: &str,
    filter: &str,
    key: (&str, Kind),
) -> String {
    let (key, kind) = key;
    if backend == DbBackend::Postgres {
        let (filter, n) = if filter.is_empty() {
            (String::new(), 1)
        } else {
            (format!("({}) IS TRUE AND", filter.replace('?', "$1")), 2)
        };
        let cast = match kind {
            Kind::Uuid => "::uuid",
            Kind::Int => "::bigint",
            Kind::Text | Kind::Time | Kind::Json => "",
        };
        format!(
            "SELECT t.* FROM jsonb_array_elements_text(${n}::jsonb) AS k(v), LATERAL \
             (SELECT {columns} FROM {table} WHERE {filter} {key} = k.v{cast} LIMIT 1) AS t"
        )
    } else {
        let filter = if filter.is_empty() {
            String::new()
        } else {
            format!("{filter} AND")
        };
        let value = if kind == Kind::Uuid {
            "unhex(value)"
        } else {
            "value"
        };
        format!(
            "SELECT {columns} FROM {table} WHERE {filter} {key} IN \
             (SELECT {value} FROM json_each(?))"
        )
    }
}

/// Runs a query whose parameters are `values`, the last one the JSON array `keys`.
async fn query_json<T: Serialize>(
    conn: &impl ConnectionTrait,
    sql: &str,
    mut values: Vec<Value>,
    keys: &[T],
) -> Result<Vec<sea_orm::QueryResult>, StoreError> {
    values.push(serde_json::to_string(keys).map_err(corrupt)?.into());
    let statement = Statement::from_sql_and_values(conn.get_database_backend(), sql, values);
    Ok(conn.query_all_raw(statement).await?)
}

/// A time as sqlx writes it to SQLite (and PostgreSQL reads it).
fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The rows among `keys` that `key` of `table` holds, as `key → value` (both text), many per
/// statement.
///
/// # Errors
/// Database failure.
pub(super) async fn held_text_pairs(
    conn: &impl ConnectionTrait,
    table: &str,
    (key, value): (&str, &str),
    keys: &[&str],
) -> Result<HashMap<String, String>, StoreError> {
    let sql = lookup_sql(
        conn.get_database_backend(),
        &format!("{key}, {value}"),
        table,
        "",
        (key, Kind::Text),
    );
    let mut found = HashMap::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        for row in query_json(conn, &sql, Vec::new(), chunk).await? {
            found.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        }
    }
    Ok(found)
}

/// A stored subscriber, as far as an import needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct KnownSubscriber {
    pub id: SubscriberId,
    /// Its normalised address.
    pub email: String,
    /// Whether it may be processed.
    pub status: SubscriberStatus,
    /// Its attributes.
    pub attributes: crate::domain::Attributes,
}

/// The subscribers with these addresses (normalised), in no particular order.
///
/// # Errors
/// Database failure, or a stored status that is not valid.
pub async fn subscribers_by_email(
    conn: &impl ConnectionTrait,
    emails: &[&str],
) -> Result<Vec<KnownSubscriber>, StoreError> {
    let sql = lookup_sql(
        conn.get_database_backend(),
        "id, email, status, attributes",
        "subscribers",
        "",
        ("email", Kind::Text),
    );
    let mut found = Vec::new();
    for chunk in emails.chunks(ROWS_PER_STATEMENT) {
        for row in query_json(conn, &sql, Vec::new(), chunk).await? {
            let status: String = row.try_get_by_index(2)?;
            found.push(KnownSubscriber {
                id: SubscriberId::from_uuid(row.try_get_by_index(0)?),
                email: row.try_get_by_index(1)?,
                status: SubscriberStatus::parse(&status).map_err(corrupt)?,
                attributes: crate::domain::Attributes::from_json(
                    &row.try_get_by_index::<serde_json::Value>(3)?,
                )
                .map_err(corrupt)?,
            });
        }
    }
    Ok(found)
}

/// A stored subscription, as far as an import needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct KnownSubscription {
    pub id: SubscriptionId,
    /// Where it stands.
    pub status: SubscriptionStatus,
}

/// The subscriptions of these subscribers to one list, by subscriber.
///
/// # Errors
/// Database failure, or a stored status that is not valid.
pub async fn subscriptions_to_list(
    conn: &impl ConnectionTrait,
    list: ListId,
    subscribers: &[SubscriberId],
) -> Result<HashMap<SubscriberId, KnownSubscription>, StoreError> {
    let sql = lookup_sql(
        conn.get_database_backend(),
        "subscriber_id, id, status",
        "subscriptions",
        "list_id = ?",
        ("subscriber_id", Kind::Uuid),
    );
    let mut found = HashMap::new();
    for chunk in subscribers.chunks(ROWS_PER_STATEMENT) {
        let ids: Vec<Simple> = chunk.iter().map(|s| s.as_uuid().simple()).collect();
        for row in query_json(conn, &sql, vec![list.as_uuid().into()], &ids).await? {
            let status: String = row.try_get_by_index(2)?;
            found.insert(
                SubscriberId::from_uuid(row.try_get_by_index(0)?),
                KnownSubscription {
                    id: SubscriptionId::from_uuid(row.try_get_by_index::<Uuid>(1)?),
                    status: SubscriptionStatus::parse(&status).map_err(corrupt)?,
                },
            );
        }
    }
    Ok(found)
}

/// The statements that store new subscribers, many per statement. Running them fails with
/// `Conflict` when an address is taken (a concurrent signup).
///
/// # Errors
/// A value that cannot be written.
pub fn prepare_subscribers(
    backend: DbBackend,
    rows: &[Subscriber],
    now: DateTime<Utc>,
) -> Result<Prepared, StoreError> {
    use Kind::{Json, Text, Time, Uuid};
    let columns = [
        ("id", Uuid),
        ("email", Text),
        ("name", Text),
        ("locale", Text),
        ("status", Text),
        ("attributes", Json),
        ("created_at", Time),
        ("updated_at", Time),
        ("last_activity_at", Time),
    ];
    let attributes: Vec<String> = rows
        .iter()
        .map(|s| s.attributes.to_json().to_string())
        .collect();
    let rows: Vec<_> = rows
        .iter()
        .zip(&attributes)
        .map(|(s, attributes)| {
            [
                Cell::Uuid(s.id.as_uuid()),
                Cell::Text(s.email.as_str()),
                Cell::Text(s.name.as_str()),
                Cell::Text(s.locale.as_str()),
                Cell::Text(s.status.as_str()),
                Cell::Text(attributes),
                Cell::Time(s.created_at),
                Cell::Time(now),
                Cell::Time(now),
            ]
        })
        .collect();
    prepare_rows(backend, "subscribers", &columns, "", &rows)
}

/// The statements that store new subscriptions, many per statement. Running them fails with
/// `Conflict` when a subscriber already has one for the list.
///
/// # Errors
/// A value that cannot be written.
pub fn prepare_subscriptions(
    backend: DbBackend,
    rows: &[Subscription],
    now: DateTime<Utc>,
) -> Result<Prepared, StoreError> {
    use Kind::{Int, Text, Time, Uuid};
    let columns = [
        ("id", Uuid),
        ("subscriber_id", Uuid),
        ("list_id", Uuid),
        ("status", Text),
        ("source", Text),
        ("requested_at", Time),
        ("confirmed_at", Time),
        ("unsubscribed_at", Time),
        ("confirmations_sent", Int),
        ("last_confirmation_at", Time),
        ("created_at", Time),
        ("updated_at", Time),
    ];
    let rows: Vec<_> = rows
        .iter()
        .map(|s| {
            [
                Cell::Uuid(s.id.as_uuid()),
                Cell::Uuid(s.subscriber_id.as_uuid()),
                Cell::Uuid(s.list_id.as_uuid()),
                Cell::Text(s.status.as_str()),
                Cell::Text(s.source.as_str()),
                Cell::time(s.requested_at),
                Cell::time(s.confirmed_at),
                Cell::time(s.unsubscribed_at),
                Cell::Int(i64::from(s.confirmations_sent)),
                Cell::time(s.last_confirmation_at),
                Cell::Time(now),
                Cell::Time(now),
            ]
        })
        .collect();
    prepare_rows(backend, "subscriptions", &columns, "", &rows)
}

/// Confirms these subscriptions if they are still pending; the caller appends the events.
///
/// # Errors
/// Database failure.
pub async fn confirm_pending(
    conn: &impl ConnectionTrait,
    ids: &[SubscriptionId],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        subscriptions::Entity::update_many()
            .col_expr(
                subscriptions::Column::Status,
                Expr::value(SubscriptionStatus::Confirmed.as_str()),
            )
            .col_expr(subscriptions::Column::ConfirmedAt, Expr::value(now))
            .col_expr(subscriptions::Column::UpdatedAt, Expr::value(now))
            .filter(subscriptions::Column::Id.is_in(chunk.iter().map(|s| s.as_uuid())))
            .filter(subscriptions::Column::Status.eq(SubscriptionStatus::Pending.as_str()))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// The statements that append ledger events, many per statement. Events are never updated.
///
/// # Errors
/// A value that cannot be written.
pub fn prepare_events(backend: DbBackend, rows: &[ConsentEvent]) -> Result<Prepared, StoreError> {
    use Kind::{Text, Time, Uuid};
    let columns = [
        ("id", Uuid),
        ("subscriber_id", Uuid),
        ("list_id", Uuid),
        ("action", Text),
        ("legal_basis", Text),
        ("consent_text_hash", Text),
        ("ip_anon", Text),
        ("user_agent", Text),
        ("actor", Text),
        ("source", Text),
        ("occurred_at", Time),
        ("evidence", Text),
        ("subject_hash", Text),
    ];
    let evidence: Vec<Option<String>> = rows
        .iter()
        .map(|e| e.evidence.as_ref().map(ToString::to_string))
        .collect();
    let rows: Vec<_> = rows
        .iter()
        .zip(&evidence)
        .map(|(e, evidence)| {
            [
                Cell::Uuid(e.id.as_uuid()),
                Cell::Uuid(e.subscriber_id.as_uuid()),
                e.list_id.map_or(Cell::Null, |l| Cell::Uuid(l.as_uuid())),
                Cell::Text(e.action.as_str()),
                Cell::Text(e.legal_basis.as_str()),
                Cell::text(e.consent_text_hash.as_deref()),
                Cell::text(e.ip_anon.as_deref()),
                Cell::text(e.user_agent.as_deref()),
                Cell::Text(e.actor.as_str()),
                Cell::Text(e.source.as_str()),
                Cell::Time(e.occurred_at),
                Cell::text(evidence.as_deref()),
                Cell::text(e.subject_hash.as_deref()),
            ]
        })
        .collect();
    prepare_rows(backend, "consent_events", &columns, "", &rows)
}

const SEEN_COLUMNS: [(&str, Kind); 3] = [
    ("hash_key", Kind::Int),
    ("hash_check", Kind::Int),
    ("line", Kind::Int),
];

/// An address hash (64 hex digits) as two 64-bit integers: the first keys the scratch table
/// (an integer key is far cheaper than text), the second tells the rare collision apart.
fn seen_key(hash: &str) -> Result<(i64, i64), StoreError> {
    let half = |range: std::ops::Range<usize>| {
        hash.get(range)
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .map(|v| i64::from_ne_bytes(v.to_ne_bytes()))
            .ok_or_else(|| StoreError::Corrupt("an address hash is not hex".into()))
    };
    Ok((half(0..16)?, half(16..32)?))
}

/// Creates the import's scratch table of address hashes already met, with their line. It is
/// temporary (this connection only) and, being made inside the import's transaction, gone
/// with a rollback; `close_seen` drops it before the commit.
///
/// # Errors
/// Database failure.
pub async fn open_seen(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    conn.execute_unprepared(
        "CREATE TEMPORARY TABLE import_seen \
         (hash_key BIGINT PRIMARY KEY, hash_check BIGINT NOT NULL, line BIGINT NOT NULL)",
    )
    .await?;
    Ok(())
}

/// SQLite's page cache during an import, per schema (the database and the scratch table):
/// 16 MiB, not 64 as before, so that an import keeps the server within its memory budget.
const IMPORT_CACHE_KIB: u32 = 16_384;
/// SQLite's default page cache (2 MiB).
const DEFAULT_CACHE_KIB: u32 = 2_000;

/// Lets SQLite keep up to 64 MiB of pages of each schema in memory during an import, so that a
/// large transaction does not spill pages to disk and read them back; bounded whatever the
/// file's size. A no-op on PostgreSQL.
///
/// # Errors
/// Database failure.
pub async fn widen_cache(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    set_cache(conn, IMPORT_CACHE_KIB).await
}

/// Gives SQLite's page cache back its default size (after `widen_cache`). A failed import
/// skips this, and its pooled connection keeps the wider (still bounded) cache.
///
/// # Errors
/// Database failure.
pub async fn narrow_cache(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    set_cache(conn, DEFAULT_CACHE_KIB).await
}

async fn set_cache(conn: &impl ConnectionTrait, kib: u32) -> Result<(), StoreError> {
    if conn.get_database_backend() == DbBackend::Sqlite {
        for schema in ["main", "temp"] {
            conn.execute_unprepared(&format!("PRAGMA {schema}.cache_size = -{kib}"))
                .await?;
        }
    }
    Ok(())
}

/// Drops the scratch table of `open_seen`.
///
/// # Errors
/// Database failure.
pub async fn close_seen(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    conn.execute_unprepared("DROP TABLE import_seen").await?;
    Ok(())
}

/// The hashes among `hashes` already met in this import, with the line they were met on.
///
/// # Errors
/// Database failure, or a hash that is not hex.
pub async fn seen_lines(
    conn: &impl ConnectionTrait,
    hashes: &[&str],
) -> Result<HashMap<String, u64>, StoreError> {
    let mut wanted = HashMap::with_capacity(hashes.len());
    for hash in hashes {
        wanted.insert(seen_key(hash)?, *hash);
    }
    let keys: Vec<i64> = wanted.keys().map(|(key, _)| *key).collect();
    let sql = lookup_sql(
        conn.get_database_backend(),
        "hash_key, hash_check, line",
        "import_seen",
        "",
        ("hash_key", Kind::Int),
    );
    let mut found = HashMap::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        for row in query_json(conn, &sql, Vec::new(), chunk).await? {
            let key: (i64, i64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
            let line: i64 = row.try_get_by_index(2)?;
            if let Some(hash) = wanted.get(&key) {
                found.insert((*hash).to_owned(), u64::try_from(line).map_err(corrupt)?);
            }
        }
    }
    Ok(found)
}

/// Records hashes as met on their lines (each hash once, not yet recorded; a hash whose key
/// collides with an earlier one is not recorded).
///
/// # Errors
/// Database failure, or a hash that is not hex.
pub async fn mark_seen(
    conn: &impl ConnectionTrait,
    rows: &[(&str, u64)],
) -> Result<(), StoreError> {
    let rows = rows
        .iter()
        .map(|(hash, line)| {
            let (key, check) = seen_key(hash)?;
            Ok([
                Cell::Int(key),
                Cell::Int(check),
                Cell::Int(i64::try_from(*line).map_err(corrupt)?),
            ])
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    prepare_rows(
        conn.get_database_backend(),
        "import_seen",
        &SEEN_COLUMNS,
        "ON CONFLICT DO NOTHING",
        &rows,
    )?
    .run(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [(&str, Kind); 5] = [
        ("id", Kind::Uuid),
        ("label", Kind::Text),
        ("note", Kind::Text),
        ("n", Kind::Int),
        ("at", Kind::Time),
    ];

    type Stored = (Uuid, String, Option<String>, i64, String);

    async fn scratch() -> sea_orm::DatabaseConnection {
        let db = crate::store::connect("sqlite::memory:", 1).await.unwrap();
        db.execute_unprepared(
            "CREATE TABLE t (id BLOB NOT NULL, label TEXT NOT NULL, note TEXT, n INTEGER NOT \
             NULL, at TEXT NOT NULL)",
        )
        .await
        .unwrap();
        db
    }

    async fn stored(db: &sea_orm::DatabaseConnection) -> Vec<Stored> {
        let statement = Statement::from_string(
            DbBackend::Sqlite,
            "SELECT id, label, note, n, at FROM t ORDER BY rowid",
        );
        db.query_all_raw(statement)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.try_get_by_index(0).unwrap(),
                    r.try_get_by_index(1).unwrap(),
                    r.try_get_by_index(2).unwrap(),
                    r.try_get_by_index(3).unwrap(),
                    r.try_get_by_index(4).unwrap(),
                )
            })
            .collect()
    }

    #[tokio::test]
    async fn shared_and_varying_columns_are_written_alike() {
        let db = scratch().await;
        let now = Utc::now();
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        // `label` and `n` vary, `note` is null in every row, `at` is the same time; the
        // single-row chunk makes every column one bound parameter.
        let notes = [None, None, None, Some("it's \"quoted\", ünïcode")];
        let labels = ["a", "b", "a", "solo"];
        let rows: Vec<[Cell<'_>; 5]> = (0..4)
            .map(|i| {
                [
                    Cell::Uuid(ids[i]),
                    Cell::Text(labels[i]),
                    Cell::text(notes[i]),
                    Cell::Int(i as i64 - 1),
                    Cell::Time(now),
                ]
            })
            .collect();
        let first = prepare_rows(DbBackend::Sqlite, "t", &COLUMNS, "", &rows[..3]).unwrap();
        let sql = first.0[0].sql.clone();
        first.run(&db).await.unwrap();
        prepare_rows(DbBackend::Sqlite, "t", &COLUMNS, "", &rows[3..])
            .unwrap()
            .run(&db)
            .await
            .unwrap();
        // Only id, label and n travel in the JSON array.
        assert!(
            sql.contains("r.value->>2") && !sql.contains("r.value->>3"),
            "{sql}"
        );
        let expected: Vec<Stored> = (0..4)
            .map(|i| {
                (
                    ids[i],
                    labels[i].to_owned(),
                    notes[i].map(str::to_owned),
                    i as i64 - 1,
                    time_text(now),
                )
            })
            .collect();
        assert_eq!(stored(&db).await, expected);
    }

    #[test]
    fn nothing_to_write_prepares_no_statement() {
        let rows: Vec<[Cell<'_>; 5]> = Vec::new();
        let prepared = prepare_rows(DbBackend::Sqlite, "t", &COLUMNS, "", &rows).unwrap();
        assert!(prepared.0.is_empty());
    }
}
