//! What a segment costs at scale: imports N subscribers with attributes (`attr.plan`,
//! `attr.seats:number`, `attr.company`, `attr.renews:date`) into a fresh database, a quarter
//! of them onto a second list, fans out one campaign to everyone and marks half of it sent;
//! then times the segment count (the query behind `GET /api/v1/segments/{id}/count` and the
//! admin form's "Count") for filters of each kind, and the fan-out of a campaign narrowed by
//! a segment against the same fan-out without one. Prints the query plan of one count
//! (`--plans`: of each). `--keep` stops after the counts and keeps the SQLite database, for
//! timing the same counts through `bulletin serve` (BENCHMARKS.md).
//!
//! ```sh
//! cargo run --release --example bench_segments -- --rows 1000000
//! eval "$(.ci/postgres.sh start)"
//! BULLETIN_BENCH_DATABASE_URL=$BULLETIN_TEST_DATABASE_URL \
//!   cargo run --release --example bench_segments -- --rows 1000000
//! .ci/postgres.sh stop
//! ```

#[path = "../benches/support.rs"]
mod support;

use std::{io::Write, path::Path, time::Instant};

use bulletin::{
    clock::Clock,
    delivery,
    domain::{Actor, CampaignId, CampaignLayout, ListSlug},
    services::{self, campaigns::CampaignDraft},
    startup, store,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use support::{arg, consent_list, fresh_database, offline_settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: u64 = arg("--rows")?.unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let (url, backend) = fresh_database(dir.path()).await?;
    let settings = offline_settings(dir.path(), url)?;
    let ctx = startup::build_context(settings, Clock::System).await?;
    let actor = Actor::Cli;

    let started = Instant::now();
    for (slug, every) in [("weekly", 1), ("news", 4)] {
        let slug = ListSlug::parse(slug).map_err(anyhow::Error::msg)?;
        services::lists::create(&ctx, &actor, consent_list(slug.clone())).await?;
        let file = dir.path().join(format!("{}.csv", slug.as_str()));
        write_csv(&file, rows, every)?;
        let source = tokio::fs::File::open(&file).await?;
        services::imports::import_csv(&ctx, &actor, &slug, source).await?;
    }
    store::settle_bulk_write(&ctx.bulk_db).await?;
    eprintln!("imported in {:.1} s", started.elapsed().as_secs_f64());

    // A sent campaign to everyone, half of it delivered, for the `received` condition.
    let (earlier, whole_fan_out) = campaign(&ctx, "Earlier issue", None).await?;
    mark_half_sent(&ctx, earlier).await?;
    store::settle_bulk_write(&ctx.db).await?;

    let filters = [
        (
            "attribute eq text",
            json!({"attribute": "plan", "op": "eq", "value": "pro"}),
        ),
        (
            "attribute gt number",
            json!({"attribute": "seats", "op": "gt", "value": 50}),
        ),
        (
            "attribute contains",
            json!({"attribute": "company", "op": "contains", "value": "Acme 1"}),
        ),
        (
            "attribute lt date",
            json!({"attribute": "renews", "op": "lt", "value": "2027-03-01"}),
        ),
        ("locale", json!({"locale": "de"})),
        ("list", json!({"list": "news"})),
        (
            "subscribed_after",
            json!({"subscribed_after": "2025-06-01"}),
        ),
        (
            "not received",
            json!({"not": {"received": earlier.to_string()}}),
        ),
        (
            "combined",
            json!({"all": [
                {"attribute": "plan", "op": "eq", "value": "pro"},
                {"any": [{"locale": "de"}, {"attribute": "seats", "op": "gt", "value": 10}]},
                {"not": {"received": earlier.to_string()}}
            ]}),
        ),
    ];
    let mut combined = None;
    for (what, raw) in &filters {
        let filter = services::segments::parse_filter(&ctx, raw).await?;
        let mut best = f64::MAX;
        let mut total = 0;
        for _ in 0..3 {
            let at = Instant::now();
            total = services::segments::count(&ctx, &actor, &filter).await?;
            best = best.min(at.elapsed().as_secs_f64());
        }
        println!(
            "backend={backend} rows={rows} count filter=\"{what}\" total={total} ms={:.0}",
            best * 1000.0
        );
        if std::env::args().any(|a| a == "--plans") {
            print_plan(&ctx, raw).await?;
        }
        if *what == "combined" {
            combined = Some(raw.clone());
        }
    }
    let combined = combined.unwrap_or(Value::Null);
    if std::env::args().any(|a| a == "--keep") {
        eprintln!("database kept in {}", dir.keep().display());
        return Ok(());
    }
    print_plan(&ctx, &combined).await?;

    let segment = services::segments::create(&ctx, &actor, "Bench", &combined).await?;
    let (_, narrowed) = campaign(&ctx, "Narrowed", Some(segment.id)).await?;
    println!(
        "backend={backend} rows={rows} fan_out_seconds_whole_list={whole_fan_out:.2} \
         fan_out_seconds_with_segment={narrowed:.2}"
    );
    Ok(())
}

/// `rows` subscribers with four attributes; every `every`-th one only (for a second list).
fn write_csv(path: &Path, rows: u64, every: u64) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "email,name,locale,consent_at,consent_source,consent_text,attr.plan,attr.seats:number,\
         attr.company,attr.renews:date"
    )?;
    let plans = ["free", "pro", "team", "enterprise"];
    for i in (0..rows).step_by(usize::try_from(every)?) {
        let locale = if i % 3 == 0 { "de" } else { "en" };
        let month = i % 12 + 1;
        let consent_month = i % 12 + 1;
        writeln!(
            out,
            "subscriber{i}@example.com,Subscriber {i},{locale},2025-{consent_month:02}-01T08:30:00Z,\
             shop checkout,\"Yes, send me the weekly newsletter.\",{},{},Acme {} GmbH,2027-{month:02}-15",
            plans[usize::try_from(i % 4)?],
            i % 100,
            i % 1000,
        )?;
    }
    out.flush()?;
    Ok(())
}

/// A campaign to the `weekly` list (narrowed by `segment`), scheduled now and fanned out;
/// returns its id and the fan-out's seconds.
async fn campaign(
    ctx: &bulletin::context::Context,
    name: &str,
    segment: Option<bulletin::domain::SegmentId>,
) -> anyhow::Result<(CampaignId, f64)> {
    let draft = CampaignDraft {
        name: name.into(),
        subject: "News".into(),
        body_markdown: "Hello {{ subscriber.name }}".into(),
        lists: vec![ListSlug::parse("weekly").map_err(anyhow::Error::msg)?],
        from: None,
        reply_to: None,
        layout: CampaignLayout::Standard,
        translations: std::collections::BTreeMap::new(),
        segment,
        archive: false,
    };
    let campaign = services::campaigns::create(ctx, &Actor::Cli, draft).await?;
    services::campaigns::schedule(ctx, &Actor::Cli, campaign.id, None).await?;
    services::campaigns::start_due(ctx).await?;
    let at = Instant::now();
    let written = delivery::fan_out_all(ctx).await?;
    let seconds = at.elapsed().as_secs_f64();
    eprintln!("{name}: {written} rows written in {seconds:.2} s");
    Ok((campaign.id, seconds))
}

/// Marks every other row of `campaign` sent, as if the relay had accepted it.
async fn mark_half_sent(
    ctx: &bulletin::context::Context,
    campaign: CampaignId,
) -> anyhow::Result<()> {
    let backend = ctx.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE deliveries SET status = 'sent', sent_at = now() WHERE campaign_id = $1 \
             AND get_byte(uuid_send(subscriber_id), 15) % 2 = 1"
        }
        _ => {
            "UPDATE deliveries SET status = 'sent', sent_at = CURRENT_TIMESTAMP \
             WHERE campaign_id = ? AND unicode(substr(hex(subscriber_id), -1)) % 2 = 1"
        }
    };
    ctx.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [campaign.as_uuid().into()],
        ))
        .await?;
    Ok(())
}

/// The database's plan for counting `raw`'s filter.
async fn print_plan(ctx: &bulletin::context::Context, raw: &Value) -> anyhow::Result<()> {
    let filter = services::segments::parse_filter(ctx, raw).await?;
    let backend = ctx.db.get_database_backend();
    let condition = store::segments::Condition::for_everyone(&filter, backend);
    let (explain, column) = match backend {
        DbBackend::Postgres => ("EXPLAIN", "QUERY PLAN"),
        _ => ("EXPLAIN QUERY PLAN", "detail"),
    };
    let sql = format!(
        "{explain} SELECT COUNT(*) FROM subscribers p WHERE p.status = 'active' AND {}",
        condition.numbered(backend, 1)
    );
    let plan = ctx
        .db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            condition.values,
        ))
        .await?;
    println!("plan of the combined count:");
    for row in plan {
        println!("  {}", row.try_get::<String>("", column)?);
    }
    Ok(())
}
