//! Each campaign's outbox rows counted per status and bounce (issue 19), kept by triggers on
//! `deliveries` in the transaction of every change, so that a campaign's figures are one
//! indexed read; the rows already there are counted here.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The counts of the rows there before the triggers.
const BACKFILL: &str = "INSERT INTO campaign_delivery_counts \
     (campaign_id, status, bounce, slot, n) \
     SELECT campaign_id, status, COALESCE(bounce, ''), 0, COUNT(*) FROM deliveries \
     WHERE campaign_id IS NOT NULL GROUP BY campaign_id, status, COALESCE(bounce, '')";

/// SQLite: a trigger per row; the key of a row that leaves a count always has a row already.
const SQLITE_UP: [&str; 3] = [
    "CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries \
     WHEN NEW.campaign_id IS NOT NULL BEGIN \
     INSERT INTO campaign_delivery_counts (campaign_id, status, bounce, slot, n) \
     VALUES (NEW.campaign_id, NEW.status, COALESCE(NEW.bounce, ''), 0, 1) \
     ON CONFLICT (campaign_id, status, bounce, slot) DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER deliveries_count_update AFTER UPDATE OF campaign_id, status, bounce \
     ON deliveries WHEN OLD.campaign_id IS NOT NEW.campaign_id OR OLD.status IS NOT NEW.status \
     OR OLD.bounce IS NOT NEW.bounce BEGIN \
     UPDATE campaign_delivery_counts SET n = n - 1 WHERE campaign_id = OLD.campaign_id \
     AND status = OLD.status AND bounce = COALESCE(OLD.bounce, '') AND slot = 0; \
     INSERT INTO campaign_delivery_counts (campaign_id, status, bounce, slot, n) \
     SELECT NEW.campaign_id, NEW.status, COALESCE(NEW.bounce, ''), 0, 1 \
     WHERE NEW.campaign_id IS NOT NULL \
     ON CONFLICT (campaign_id, status, bounce, slot) DO UPDATE SET n = n + 1; END",
    "CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries \
     WHEN OLD.campaign_id IS NOT NULL BEGIN \
     UPDATE campaign_delivery_counts SET n = n - 1 WHERE campaign_id = OLD.campaign_id \
     AND status = OLD.status AND bounce = COALESCE(OLD.bounce, '') AND slot = 0; END",
];

const SQLITE_DOWN: [&str; 3] = [
    "DROP TRIGGER IF EXISTS deliveries_count_insert",
    "DROP TRIGGER IF EXISTS deliveries_count_update",
    "DROP TRIGGER IF EXISTS deliveries_count_delete",
];

// A count is the sum of its `slot`s. On PostgreSQL each statement adds to the slot of its own
// server process (`pg_backend_pid()`), which no concurrent transaction writes: workers
// recording outcomes side by side never wait on one shared count row, nor deadlock over two
// of them locked in different orders. The triggers run once per statement over its changed
// rows (transition tables): one write per count, not one per row. SQLite (one writer) keeps
// slot 0. Each branch of the function reads only the transition tables its trigger has
// (plpgsql plans a statement when it first runs it).

/// PostgreSQL: the one function of the three statement triggers.
const POSTGRES_FUNCTION: &str = r#"
CREATE FUNCTION count_campaign_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_delivery_counts AS c (campaign_id, status, bounce, slot, n)
        SELECT campaign_id, status, COALESCE(bounce, ''), pg_backend_pid(), COUNT(*)
        FROM new_rows WHERE campaign_id IS NOT NULL GROUP BY 1, 2, 3
        ON CONFLICT (campaign_id, status, bounce, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO campaign_delivery_counts AS c (campaign_id, status, bounce, slot, n)
        SELECT campaign_id, status, COALESCE(bounce, ''), pg_backend_pid(), -COUNT(*)
        FROM old_rows WHERE campaign_id IS NOT NULL GROUP BY 1, 2, 3
        ON CONFLICT (campaign_id, status, bounce, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE
        INSERT INTO campaign_delivery_counts AS c (campaign_id, status, bounce, slot, n)
        SELECT campaign_id, status, bounce, pg_backend_pid(), SUM(n) FROM (
            SELECT campaign_id, status, COALESCE(bounce, '') AS bounce, -1 AS n
            FROM old_rows WHERE campaign_id IS NOT NULL
            UNION ALL
            SELECT campaign_id, status, COALESCE(bounce, '') AS bounce, 1 AS n
            FROM new_rows WHERE campaign_id IS NOT NULL
        ) AS changed GROUP BY 1, 2, 3 HAVING SUM(n) <> 0
        ON CONFLICT (campaign_id, status, bounce, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$"#;

const POSTGRES_UP: [&str; 3] = [
    "CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries \
     REFERENCING NEW TABLE AS new_rows \
     FOR EACH STATEMENT EXECUTE FUNCTION count_campaign_deliveries()",
    // A trigger with transition tables takes no column list: it runs for every UPDATE, and
    // an update that moves no row between counts writes nothing.
    "CREATE TRIGGER deliveries_count_update AFTER UPDATE ON deliveries \
     REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows \
     FOR EACH STATEMENT EXECUTE FUNCTION count_campaign_deliveries()",
    "CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries \
     REFERENCING OLD TABLE AS old_rows \
     FOR EACH STATEMENT EXECUTE FUNCTION count_campaign_deliveries()",
];

const POSTGRES_DOWN: [&str; 4] = [
    "DROP TRIGGER IF EXISTS deliveries_count_insert ON deliveries",
    "DROP TRIGGER IF EXISTS deliveries_count_update ON deliveries",
    "DROP TRIGGER IF EXISTS deliveries_count_delete ON deliveries",
    "DROP FUNCTION IF EXISTS count_campaign_deliveries()",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on both backends: on PostgreSQL `CREATE TRIGGER` locks `deliveries`
    /// against writes until the commit, so the backfill and the triggers count every row once.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CampaignDeliveryCounts::Table)
                    .col(uuid(CampaignDeliveryCounts::CampaignId))
                    .col(string_len(CampaignDeliveryCounts::Status, 16))
                    .col(string_len(CampaignDeliveryCounts::Bounce, 16).default(""))
                    .col(integer(CampaignDeliveryCounts::Slot).default(0))
                    .col(big_integer(CampaignDeliveryCounts::N))
                    .primary_key(
                        Index::create()
                            .col(CampaignDeliveryCounts::CampaignId)
                            .col(CampaignDeliveryCounts::Status)
                            .col(CampaignDeliveryCounts::Bounce)
                            .col(CampaignDeliveryCounts::Slot),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let triggers: Vec<&str> = match manager.get_database_backend() {
            DbBackend::Postgres => std::iter::once(POSTGRES_FUNCTION)
                .chain(POSTGRES_UP)
                .collect(),
            _ => SQLITE_UP.to_vec(),
        };
        for sql in triggers {
            db.execute_unprepared(sql).await?;
        }
        db.execute_unprepared(BACKFILL).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let down: &[&str] = match manager.get_database_backend() {
            DbBackend::Postgres => &POSTGRES_DOWN,
            _ => &SQLITE_DOWN,
        };
        for sql in down {
            manager.get_connection().execute_unprepared(sql).await?;
        }
        manager
            .drop_table(
                Table::drop()
                    .table(CampaignDeliveryCounts::Table)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CampaignDeliveryCounts {
    Table,
    CampaignId,
    Status,
    Bounce,
    Slot,
    N,
}
