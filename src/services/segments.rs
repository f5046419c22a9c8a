//! Segments: save, change and delete named filters over people, and count whom a filter
//! selects. Lists are named by slug or id and kept by id; a campaign named in a filter must
//! exist. Reading needs `Read`; changing, `ManageCampaigns` (segments exist to aim
//! campaigns).

use serde_json::Value;

use super::audit::{self, Change};
use crate::{
    context::Context,
    domain::{
        Action, Actor, CampaignStatus, Filter, FilterError, Forbidden, ListId, SegmentId, segment,
    },
    store::{self, StoreError, segments::Segment},
};

/// Why a segment request was refused.
#[derive(Debug, thiserror::Error)]
pub enum SegmentsError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The name or a part of the filter breaks a rule (the error names the part).
    #[error(transparent)]
    Invalid(#[from] FilterError),
    /// Another segment has this name.
    #[error("name: another segment is called {0:?}")]
    NameTaken(String),
    /// An unsent campaign uses the segment.
    #[error("the campaign {0:?} uses this segment; change the campaign first")]
    InUse(String),
    /// No such segment.
    #[error("segment not found")]
    NotFound,
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for SegmentsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

/// Every segment, by name.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn all(ctx: &Context, actor: &Actor) -> Result<Vec<Segment>, SegmentsError> {
    actor.authorize(Action::Read)?;
    Ok(store::segments::all(&ctx.db).await?)
}

/// One segment.
///
/// # Errors
/// `Forbidden`, `NotFound`, or a store failure.
pub async fn find(ctx: &Context, actor: &Actor, id: SegmentId) -> Result<Segment, SegmentsError> {
    actor.authorize(Action::Read)?;
    Ok(store::segments::find(&ctx.db, id).await?)
}

/// Reads a filter from JSON and resolves its lists (slug or id) and campaigns, naming the
/// part that is refused.
///
/// # Errors
/// `Invalid` naming the part, or a store failure.
pub async fn parse_filter(ctx: &Context, raw: &Value) -> Result<Filter, SegmentsError> {
    let parsed = Filter::parse(raw)?;
    let lists = store::lists::all(&ctx.db).await?;
    let filter = parsed.resolve(&mut |name: String, path: &str| {
        lists
            .iter()
            .find(|l| l.def.slug.as_str() == name || l.id.to_string() == name)
            .map(|l| l.id)
            .ok_or_else(|| FilterError {
                path: path.to_owned(),
                problem: format!("there is no list {name:?}"),
            })
    })?;
    for (path, campaign) in filter.campaigns() {
        if !store::segments::campaign_exists(&ctx.db, campaign).await? {
            return Err(FilterError {
                path,
                problem: format!("there is no campaign {campaign}"),
            }
            .into());
        }
    }
    Ok(filter)
}

/// The filter as JSON with its lists by slug, as the API and the admin UI show it.
///
/// # Errors
/// A store failure.
pub async fn filter_json(ctx: &Context, filter: &Filter) -> Result<Value, SegmentsError> {
    let lists = store::lists::all(&ctx.db).await?;
    Ok(filter.to_json(&|id: &ListId| {
        lists
            .iter()
            .find(|l| l.id == *id)
            .map_or_else(|| id.to_string(), |l| l.def.slug.as_str().to_owned())
            .into()
    }))
}

/// Saves a new segment.
///
/// # Errors
/// `Forbidden`, `Invalid` (name or filter, naming the part), `NameTaken`, or a store failure.
pub async fn create(
    ctx: &Context,
    actor: &Actor,
    name: &str,
    filter: &Value,
) -> Result<Segment, SegmentsError> {
    actor.authorize(Action::ManageCampaigns)?;
    let name = segment::parse_name(name)?;
    let filter = parse_filter(ctx, filter).await?;
    let now = ctx.clock.now();
    let saved = Segment {
        id: SegmentId::new(),
        name,
        filter,
        created_at: now,
        updated_at: now,
    };
    let txn = store::begin_write(&ctx.writer).await?;
    if store::segments::name_taken(&txn, &saved.name, None).await? {
        return Err(SegmentsError::NameTaken(saved.name));
    }
    store::segments::insert(&txn, &saved).await?;
    let change = Change::of("segment.create", saved.id).detail(saved.name.clone());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(saved)
}

/// Changes a segment's name, filter or both (`None`: leave as it is). Campaigns that use it
/// and have not started get the new filter.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid`, `NameTaken`, or a store failure.
pub async fn update(
    ctx: &Context,
    actor: &Actor,
    id: SegmentId,
    name: Option<&str>,
    filter: Option<&Value>,
) -> Result<Segment, SegmentsError> {
    actor.authorize(Action::ManageCampaigns)?;
    let mut saved = store::segments::find(&ctx.db, id).await?;
    if let Some(name) = name {
        saved.name = segment::parse_name(name)?;
    }
    if let Some(filter) = filter {
        saved.filter = parse_filter(ctx, filter).await?;
    }
    let now = ctx.clock.now();
    saved.updated_at = now;
    let txn = store::begin_write(&ctx.writer).await?;
    if store::segments::name_taken(&txn, &saved.name, Some(id)).await? {
        return Err(SegmentsError::NameTaken(saved.name));
    }
    store::segments::update(&txn, &saved).await?;
    let change = Change::of("segment.update", id).detail(saved.name.clone());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(saved)
}

/// Deletes a segment no unsent campaign uses (a sent one keeps the id of the segment that
/// aimed it).
///
/// # Errors
/// `Forbidden`, `NotFound`, `InUse`, or a store failure.
pub async fn delete(ctx: &Context, actor: &Actor, id: SegmentId) -> Result<(), SegmentsError> {
    actor.authorize(Action::ManageCampaigns)?;
    let saved = store::segments::find(&ctx.db, id).await?;
    let txn = store::begin_write(&ctx.writer).await?;
    let unsent = [
        CampaignStatus::Draft,
        CampaignStatus::Scheduled,
        CampaignStatus::Sending,
        CampaignStatus::Paused,
    ];
    if let Some(name) = store::campaigns::name_using_segment(&txn, id, &unsent).await? {
        return Err(SegmentsError::InUse(name));
    }
    store::segments::delete(&txn, id).await?;
    let now = ctx.clock.now();
    let change = Change::of("segment.delete", id).detail(saved.name);
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// How many people who may be mailed now (active, not suppressed) the filter selects.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn count(ctx: &Context, actor: &Actor, filter: &Filter) -> Result<u64, SegmentsError> {
    actor.authorize(Action::Read)?;
    Ok(store::segments::count(&ctx.db, filter).await?)
}
