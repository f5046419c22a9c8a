//! The notice archive: one page per published notice (public, or by signed link only, as
//! `notices.archive` says), an Atom feed per product line, and a JSON record of every notice.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{NoticeOverview, NoticesError};
use crate::{
    context::Context,
    domain::{NoticeFields, NoticeId},
    store,
};

/// A notice as the API, the archive and the export show it.
#[derive(Debug, Clone, Serialize)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct NoticeRecord {
    pub id: String,
    /// The campaign that carries it.
    pub campaign_id: String,
    /// `pcn`, `pdn` or `tech_news`.
    pub kind: String,
    pub number: String,
    pub revision: u32,
    /// Its campaign's status (`draft`, `sending`, `sent`, …).
    pub status: String,
    /// The id of the revision it supersedes.
    pub supersedes: Option<String>,
    /// The revision that superseded it.
    pub superseded_by: Option<u32>,
    /// The product lines of its affected parts.
    pub product_lines: Vec<String>,
    /// When it was sent.
    pub published_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The typed fields.
    #[serde(flatten)]
    pub fields: NoticeFields,
}

/// The record of a notice.
///
/// # Errors
/// Store failure.
pub async fn record(ctx: &Context, o: &NoticeOverview) -> Result<NoticeRecord, NoticesError> {
    let n = &o.notice;
    let mut product_lines: Vec<String> =
        store::products::find_by_parts(&ctx.db, &n.fields.affected_parts)
            .await?
            .into_iter()
            .map(|p| p.product_line)
            .collect();
    product_lines.sort_unstable();
    product_lines.dedup();
    Ok(NoticeRecord {
        id: n.id.to_string(),
        campaign_id: n.campaign_id.to_string(),
        kind: n.kind.as_str().to_owned(),
        number: n.number.to_string(),
        revision: n.revision,
        status: o.status.as_str().to_owned(),
        supersedes: n.supersedes.map(|s| s.to_string()),
        superseded_by: o.superseded_by,
        product_lines,
        published_at: n.published_at,
        created_at: n.created_at,
        fields: n.fields.clone(),
    })
}

/// The record as the public sees it: without the operator's notes on overridden warnings.
fn for_the_public(mut record: NoticeRecord) -> NoticeRecord {
    record.fields.overridden_warnings.clear();
    record
}

/// Every notice, newest first, as records (the JSON export); only the published ones, as the
/// public sees them, with `published_only`.
///
/// # Errors
/// Store failure.
pub async fn export(
    ctx: &Context,
    published_only: bool,
) -> Result<Vec<NoticeRecord>, NoticesError> {
    let mut out = Vec::new();
    for o in super::all(ctx).await? {
        if published_only && o.notice.published_at.is_none() {
            continue;
        }
        let r = record(ctx, &o).await?;
        out.push(match published_only {
            true => for_the_public(r),
            false => r,
        });
    }
    Ok(out)
}

/// A published notice for its archive page.
///
/// # Errors
/// `NotFound` (also for a notice not published yet), or a store failure.
pub async fn entry(ctx: &Context, id: NoticeId) -> Result<NoticeRecord, NoticesError> {
    let o = super::get(ctx, id).await?;
    if o.notice.published_at.is_none() {
        return Err(NoticesError::NotFound);
    }
    Ok(for_the_public(record(ctx, &o).await?))
}

/// The published notices about a product line, newest first.
///
/// # Errors
/// `NotFound` for a product line without products, or a store failure.
pub async fn feed(ctx: &Context, line: &str) -> Result<Vec<NoticeRecord>, NoticesError> {
    if store::products::of_line(&ctx.db, line).await?.is_empty() {
        return Err(NoticesError::NotFound);
    }
    Ok(export(ctx, true)
        .await?
        .into_iter()
        .filter(|r| r.product_lines.iter().any(|l| l == line))
        .collect())
}
