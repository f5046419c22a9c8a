//! Queries on `segments`, and the one place a segment's filter becomes SQL: every condition
//! is a fixed fragment with bound values (keys, texts and numbers are parameters, never
//! spliced), evaluated per person (`p`, a row of `subscribers`), and never NULL, so that
//! `NOT` means what [`Filter::matches`] means.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, Statement, Value,
};

use super::{StoreError, corrupt, entities::segments as table};
use crate::domain::{
    CampaignId, Filter, ListId, SegmentId, SubscriberId,
    segment::{AttributeTest, Bound, Scalar},
};

/// A saved segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Its id.
    pub id: SegmentId,
    /// Its unique name.
    pub name: String,
    /// Who it selects.
    pub filter: Filter,
    /// When it was saved first.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}

fn filter_text(filter: &Filter) -> String {
    filter
        .to_json(&|l: &ListId| l.to_string().into())
        .to_string()
}

fn read(m: table::Model) -> Result<Segment, StoreError> {
    let json: serde_json::Value = serde_json::from_str(&m.filter).map_err(corrupt)?;
    let filter = Filter::parse(&json)
        .map_err(corrupt)?
        .resolve(&mut |l, _| uuid::Uuid::parse_str(&l).map(ListId::from_uuid))
        .map_err(corrupt)?;
    Ok(Segment {
        id: SegmentId::from_uuid(m.id),
        name: m.name,
        filter,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Stores a new segment.
///
/// # Errors
/// `Conflict` when the name is taken, or a database failure.
pub async fn insert(conn: &impl ConnectionTrait, s: &Segment) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        id: Set(s.id.as_uuid()),
        name: Set(s.name.clone()),
        filter: Set(filter_text(&s.filter)),
        created_at: Set(s.created_at),
        updated_at: Set(s.updated_at),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Replaces a segment's name and filter.
///
/// # Errors
/// `NotFound`, `Conflict` when the name is taken, or a database failure.
pub async fn update(conn: &impl ConnectionTrait, s: &Segment) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        id: Set(s.id.as_uuid()),
        name: Set(s.name.clone()),
        filter: Set(filter_text(&s.filter)),
        updated_at: Set(s.updated_at),
        ..Default::default()
    };
    table::Entity::update(row).exec(conn).await.map_err(|e| {
        if matches!(e, sea_orm::DbErr::RecordNotUpdated) {
            StoreError::NotFound
        } else {
            e.into()
        }
    })?;
    Ok(())
}

/// Deletes a segment; `NotFound` if there is none.
///
/// # Errors
/// `NotFound`, or a database failure.
pub async fn delete(conn: &impl ConnectionTrait, id: SegmentId) -> Result<(), StoreError> {
    let result = table::Entity::delete_by_id(id.as_uuid()).exec(conn).await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// One segment.
///
/// # Errors
/// `NotFound`, a stored filter that no longer reads, or a database failure.
pub async fn find(conn: &impl ConnectionTrait, id: SegmentId) -> Result<Segment, StoreError> {
    table::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
        .and_then(read)
}

/// Every segment, by name.
///
/// # Errors
/// A stored filter that no longer reads, or a database failure.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Segment>, StoreError> {
    table::Entity::find()
        .order_by_asc(table::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(read)
        .collect()
}

/// Whether some segment other than `except` is named `name`.
///
/// # Errors
/// Database failure.
pub async fn name_taken(
    conn: &impl ConnectionTrait,
    name: &str,
    except: Option<SegmentId>,
) -> Result<bool, StoreError> {
    let mut query = table::Entity::find().filter(table::Column::Name.eq(name));
    if let Some(id) = except {
        query = query.filter(table::Column::Id.ne(id.as_uuid()));
    }
    Ok(query.one(conn).await?.is_some())
}

/// A filter as an SQL condition on `p` (a `subscribers` row), with `?` for each bound value.
#[derive(Debug, Clone, Default)]
pub struct Condition {
    /// The condition; `?` marks each value, in order.
    pub sql: String,
    /// The bound values.
    pub values: Vec<Value>,
    /// Whether subscription and delivery conditions test membership of a set built once
    /// per statement, rather than probe each person's rows.
    sets: bool,
}

impl Condition {
    /// The condition `filter` describes, for `backend`'s JSON functions, probing each
    /// person's subscriptions and deliveries: for statements that read a few people (a
    /// fan-out chunk, a page of members).
    pub fn of(filter: &Filter, backend: DbBackend) -> Self {
        let mut out = Self::default();
        out.push(filter, backend == DbBackend::Postgres);
        out
    }

    /// The same condition for a statement that reads everyone (a count): subscription and
    /// delivery conditions become membership of a set the database builds once (SQLite an
    /// ephemeral index, PostgreSQL a hashed semi-join), where a probe per person was up to
    /// six times slower at 1,000,000 (BENCHMARKS.md). Inside a chunk the set would be built
    /// again for every chunk, so fan-out keeps [`Condition::of`]. The sets hold no NULL, so
    /// the `IN` is never NULL.
    pub fn for_everyone(filter: &Filter, backend: DbBackend) -> Self {
        let mut out = Self {
            sets: true,
            ..Self::default()
        };
        out.push(filter, backend == DbBackend::Postgres);
        out
    }

    fn bind(&mut self, value: impl Into<Value>) -> &'static str {
        self.values.push(value.into());
        "?"
    }

    fn push(&mut self, filter: &Filter, pg: bool) {
        match filter {
            Filter::All(parts) | Filter::Any(parts) => {
                let joiner = if matches!(filter, Filter::All(_)) {
                    " AND "
                } else {
                    " OR "
                };
                self.sql.push('(');
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        self.sql.push_str(joiner);
                    }
                    self.push(part, pg);
                }
                self.sql.push(')');
            }
            Filter::Not(part) => {
                self.sql.push_str("(NOT ");
                self.push(part, pg);
                self.sql.push(')');
            }
            Filter::Attribute { key, test } => self.push_attribute(key, test, pg),
            Filter::Locale(l) => {
                let mark = self.bind(l.as_str());
                self.sql.push_str(&format!("(p.locale = {mark})"));
            }
            Filter::List(l) => self.push_subscription(Some(*l), None),
            Filter::SubscribedBefore { at, list } => {
                self.push_subscription(*list, Some(("<", *at)));
            }
            Filter::SubscribedAfter { at, list } => {
                self.push_subscription(*list, Some((">=", *at)));
            }
            Filter::Received(c) => self.push_received(*c),
        }
    }

    /// A subscription condition: a probe of the person's subscriptions, or (`sets`) the
    /// membership of the set of subscribers it holds.
    fn push_subscription(&mut self, list: Option<ListId>, when: Option<(&str, DateTime<Utc>)>) {
        self.sql.push_str(if self.sets {
            "(p.id IN (SELECT s.subscriber_id FROM subscriptions s WHERE s.status = 'confirmed'"
        } else {
            "(EXISTS (SELECT 1 FROM subscriptions s WHERE s.subscriber_id = p.id \
             AND s.status = 'confirmed'"
        });
        if let Some(list) = list {
            let mark = self.bind(list.as_uuid());
            self.sql.push_str(&format!(" AND s.list_id = {mark}"));
        }
        if let Some((op, at)) = when {
            let mark = self.bind(at);
            self.sql
                .push_str(&format!(" AND s.confirmed_at {op} {mark}"));
        }
        self.sql.push_str("))");
    }

    /// Having been sent the campaign: a probe of the person's delivery, or (`sets`) the
    /// membership of the campaign's set of recipients.
    fn push_received(&mut self, campaign: CampaignId) {
        let mark = self.bind(campaign.as_uuid());
        let sql = if self.sets {
            format!(
                "(p.id IN (SELECT d.subscriber_id FROM deliveries d WHERE d.campaign_id = {mark} \
                 AND d.sent_at IS NOT NULL))"
            )
        } else {
            format!(
                "(EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = {mark} \
                 AND d.subscriber_id = p.id AND d.sent_at IS NOT NULL))"
            )
        };
        self.sql.push_str(&sql);
    }

    /// An attribute test as a `CASE` that is true or false, never NULL, and never casts a
    /// value of another type (PostgreSQL does not promise the order of `AND`'s operands).
    fn push_attribute(&mut self, key: &str, test: &AttributeTest, pg: bool) {
        // The JSON type names each database gives a value, and the expressions that read it.
        let (kind, text, number) = if pg {
            (
                "json_typeof(p.attributes -> CAST(? AS text))",
                "(p.attributes ->> CAST(? AS text))",
                "CAST(p.attributes ->> CAST(? AS text) AS double precision)",
            )
        } else {
            (
                "json_type(p.attributes, ?)",
                "json_extract(p.attributes, ?)",
                "json_extract(p.attributes, ?)",
            )
        };
        let path = if pg {
            key.to_owned()
        } else {
            format!("$.{key}")
        };
        let (text_type, bool_test, number_test) = if pg {
            ("'string'", "'boolean'", "= 'number'")
        } else {
            ("'text'", "IN ('true', 'false')", "IN ('integer', 'real')")
        };
        let when = |this: &mut Self, type_test: &str, then: &str, values: Vec<Value>| {
            this.values.push(path.clone().into());
            this.values.extend(values);
            this.sql.push_str(&format!(
                "(CASE WHEN {kind} {type_test} THEN {then} ELSE {} END)",
                false_sql(pg)
            ));
        };
        let negate = matches!(test, AttributeTest::Ne(_));
        if negate {
            self.sql.push_str("(NOT ");
        }
        match test {
            AttributeTest::Exists => {
                self.values.push(path.clone().into());
                self.sql.push_str(&format!("({kind} IS NOT NULL)"));
            }
            AttributeTest::Eq(s) | AttributeTest::Ne(s) => match s {
                Scalar::Text(t) => when(
                    self,
                    &format!("= {text_type}"),
                    &format!("{text} = ?"),
                    vec![path.clone().into(), t.clone().into()],
                ),
                Scalar::Number(n) => when(
                    self,
                    number_test,
                    &format!("{number} = ?"),
                    vec![path.clone().into(), (*n).into()],
                ),
                Scalar::Bool(b) => {
                    // SQLite names the type of a boolean `true` or `false`; PostgreSQL says
                    // `boolean` and gives its text.
                    if pg {
                        when(
                            self,
                            &format!("= {bool_test}"),
                            &format!("{text} = ?"),
                            vec![path.clone().into(), b.to_string().into()],
                        );
                    } else {
                        self.values.push(path.clone().into());
                        self.values.push(b.to_string().into());
                        self.sql.push_str(&format!("(COALESCE({kind} = ?, 0))"));
                    }
                }
            },
            AttributeTest::Contains(t) => {
                let find = if pg { "strpos" } else { "instr" };
                when(
                    self,
                    &format!("= {text_type}"),
                    &format!("{find}({text}, ?) > 0"),
                    vec![path.clone().into(), t.clone().into()],
                );
            }
            AttributeTest::Gt(b) | AttributeTest::Lt(b) => {
                let op = if matches!(test, AttributeTest::Gt(_)) {
                    ">"
                } else {
                    "<"
                };
                match b {
                    Bound::Number(n) => when(
                        self,
                        number_test,
                        &format!("{number} {op} ?"),
                        vec![path.clone().into(), (*n).into()],
                    ),
                    Bound::Date(d) => {
                        // Dates are text `dddd-dd-dd`, which sorts as the dates do byte by
                        // byte; PostgreSQL's `C` collation compares bytes.
                        let shaped = if pg {
                            format!("{text} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$'")
                        } else {
                            format!("{text} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'")
                        };
                        let compare = if pg {
                            format!("{text} COLLATE \"C\" {op} ?")
                        } else {
                            format!("{text} {op} ?")
                        };
                        when(
                            self,
                            &format!("= {text_type}"),
                            &format!("({shaped} AND {compare})"),
                            vec![path.clone().into(), path.clone().into(), d.clone().into()],
                        );
                    }
                }
            }
        }
        if negate {
            self.sql.push(')');
        }
    }

    /// The condition with `$1`, `$2`, … (from `$first`) for PostgreSQL, `?` for SQLite.
    pub fn numbered(&self, backend: DbBackend, first: usize) -> String {
        if backend != DbBackend::Postgres {
            return self.sql.clone();
        }
        let mut out = String::with_capacity(self.sql.len() + 16);
        let mut n = first;
        for c in self.sql.chars() {
            if c == '?' {
                out.push_str(&format!("${n}"));
                n += 1;
            } else {
                out.push(c);
            }
        }
        out
    }
}

fn false_sql(pg: bool) -> &'static str {
    if pg { "FALSE" } else { "0" }
}

/// People who may receive mail now (active, no suppression) and match `filter`: the
/// audience a segment stands for before lists narrow it.
const MAILABLE: &str = "p.status = 'active' \
    AND NOT EXISTS (SELECT 1 FROM suppressions x WHERE x.subscriber_id = p.id)";

/// How many people who may receive mail now match `filter`.
///
/// # Errors
/// Database failure.
pub async fn count(conn: &impl ConnectionTrait, filter: &Filter) -> Result<u64, StoreError> {
    let backend = conn.get_database_backend();
    let condition = Condition::for_everyone(filter, backend);
    let sql = format!(
        "SELECT COUNT(*) AS n FROM subscribers p WHERE {MAILABLE} AND {}",
        condition.numbered(backend, 1)
    );
    let n = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            condition.values,
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    u64::try_from(n).map_err(corrupt)
}

/// Up to `limit` people who may receive mail now and match `filter`, in id order after
/// `after`: for showing who a segment holds, and for checking the query against the plain
/// evaluation.
///
/// # Errors
/// Database failure.
pub async fn members(
    conn: &impl ConnectionTrait,
    filter: &Filter,
    after: Option<SubscriberId>,
    limit: u64,
) -> Result<Vec<SubscriberId>, StoreError> {
    let backend = conn.get_database_backend();
    let mut condition = Condition::of(filter, backend);
    let mut sql = format!("SELECT p.id AS id FROM subscribers p WHERE {MAILABLE} AND ");
    sql.push_str(&condition.numbered(backend, 1));
    let next = condition.values.len() + 1;
    let mark = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    if let Some(after) = after {
        sql.push_str(&format!(" AND p.id > {}", mark(next)));
        condition.values.push(after.as_uuid().into());
    }
    let limit_mark = mark(condition.values.len() + 1);
    condition
        .values
        .push(i64::try_from(limit).unwrap_or(i64::MAX).into());
    sql.push_str(&format!(" ORDER BY p.id LIMIT {limit_mark}"));
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            condition.values,
        ))
        .await?;
    rows.into_iter()
        .map(|row| Ok(SubscriberId::from_uuid(row.try_get("", "id")?)))
        .collect()
}

/// Whether a campaign exists, for refusing a filter that names an unknown one.
///
/// # Errors
/// Database failure.
pub async fn campaign_exists(
    conn: &impl ConnectionTrait,
    id: CampaignId,
) -> Result<bool, StoreError> {
    Ok(super::entities::campaigns::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .is_some())
}
