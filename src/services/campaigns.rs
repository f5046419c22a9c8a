//! Campaign use cases: create (templates checked now, never mid-send), preview, test send,
//! schedule, pause, resume, cancel, and the moves the scheduler and worker make: start due
//! campaigns, fan out, and mark finished ones sent.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::domain::Bounce;
use lettre::message::Mailbox;

use super::audit::{self, Change};
use super::{
    paging::Page,
    rate_limit::{Limit, Scope},
};
use crate::{
    context::Context,
    domain::{
        Action, Actor, Campaign, CampaignId, CampaignLayout, CampaignStateError, CampaignStatus,
        CampaignText, DeliveryStatus, EmailAddress, Forbidden, LegalBasis, ListSlug, Locale,
        MailingList, NewCampaign, SegmentId, SubscriberStatus,
    },
    mail::{CampaignTemplate, RenderedMail},
    store::{self, StoreError},
};

/// Why a campaign action was refused.
#[derive(Debug, thiserror::Error)]
pub enum CampaignsError {
    /// Too many test messages from this actor; try again in `retry_after_secs`.
    #[error("too many test messages; try again later")]
    RateLimited {
        /// Seconds until the window ends.
        retry_after_secs: u64,
    },
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// A field breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// A target list does not exist.
    #[error("there is no list {0:?}")]
    UnknownList(String),
    /// The segment does not exist.
    #[error("segment: there is no such segment")]
    UnknownSegment,
    /// The From address is at a domain Bulletin does not send for.
    #[error("{0}")]
    FromNotAllowed(String),
    /// A target list rests on legitimate interest: marketing needs consent.
    #[error("{0}")]
    WrongLegalBasis(String),
    /// The campaign sent messages and stays on record.
    #[error("{0}")]
    HasSent(String),
    /// The subject or body template does not compile or uses an unknown variable.
    #[error("{0}")]
    Template(String),
    /// No such campaign.
    #[error("campaign not found")]
    NotFound,
    /// The state machine refuses the move.
    #[error(transparent)]
    State(#[from] CampaignStateError),
    /// Another instance moved the campaign first; retry.
    #[error("the campaign changed meanwhile; try again")]
    Raced,
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CampaignsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

/// A campaign as the API receives it.
#[derive(Debug, Clone)]
pub struct CampaignDraft {
    /// Internal name.
    pub name: String,
    /// Subject template.
    pub subject: String,
    /// Markdown body template.
    pub body_markdown: String,
    /// Target list slugs.
    pub lists: Vec<ListSlug>,
    /// From header, if not the default.
    pub from: Option<String>,
    /// Where replies go, if not where the lists' go. Any domain: a reply may go to a
    /// helpdesk that Bulletin does not send for.
    pub reply_to: Option<EmailAddress>,
    /// How the mail looks around the text.
    pub layout: CampaignLayout,
    /// Subject and body in other languages.
    pub translations: BTreeMap<Locale, CampaignText>,
    /// Only the lists' members this segment selects.
    pub segment: Option<SegmentId>,
    /// Whether, once sent, it is published in the public archive.
    pub archive: bool,
}

/// Creates a draft after checking every field and compiling both templates.
///
/// # Errors
/// `Forbidden`, `Invalid`, `UnknownList`, `Template`, or a store failure.
pub async fn create(
    ctx: &Context,
    actor: &Actor,
    draft: CampaignDraft,
) -> Result<Campaign, CampaignsError> {
    actor.authorize(Action::ManageCampaigns)?;
    let found = target_lists(ctx, &draft.lists).await?;
    check_from(ctx, draft.from.as_deref())?;
    check_segment(ctx, draft.segment).await?;
    let def = NewCampaign {
        name: draft.name.trim().to_owned(),
        subject: draft.subject,
        body_markdown: draft.body_markdown,
        lists: found.iter().map(|l| l.id).collect(),
        from: draft.from,
        reply_to: draft.reply_to,
        layout: draft.layout,
        translations: draft.translations,
        segment: draft.segment,
        archive: draft.archive,
    };
    def.validate()
        .map_err(|e| CampaignsError::Invalid(e.to_string()))?;
    compile_all(&def)?;
    let now = ctx.clock.now();
    let campaign = Campaign {
        id: CampaignId::new(),
        def,
        status: CampaignStatus::Draft,
        send_at: None,
        paused_reason: None,
        started_at: None,
        fanned_out_at: None,
        finished_at: None,
        created_at: now,
    };
    let txn = store::begin_write(&ctx.writer).await?;
    store::campaigns::insert(&txn, &campaign, now).await?;
    let change = Change::of("campaign.create", campaign.id).detail(campaign.def.name.clone());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(campaign)
}

/// The lists a campaign may target, by slug: each must exist, be open and rest on consent
/// (a campaign is marketing; legitimate-interest lists carry only the notices of their kind).
async fn target_lists(
    ctx: &Context,
    slugs: &[ListSlug],
) -> Result<Vec<MailingList>, CampaignsError> {
    let found = store::lists::find_by_slugs(&ctx.db, slugs).await?;
    if let Some(missing) = slugs
        .iter()
        .find(|s| !found.iter().any(|l| &l.def.slug == *s))
    {
        return Err(CampaignsError::UnknownList(missing.as_str().to_owned()));
    }
    if let Some(archived) = found.iter().find(|l| l.archived_at.is_some()) {
        return Err(CampaignsError::Invalid(format!(
            "lists: {} is archived",
            archived.def.slug.as_str()
        )));
    }
    if let Some(list) = found
        .iter()
        .find(|l| l.def.legal_basis != LegalBasis::Consent)
    {
        return Err(CampaignsError::WrongLegalBasis(format!(
            "lists: {} rests on legitimate interest; a campaign may go only to lists people \
             consented to (send product notices as notices)",
            list.def.slug.as_str()
        )));
    }
    Ok(found)
}

/// A campaign's own From must be at a domain Bulletin sends for.
fn check_from(ctx: &Context, from: Option<&str>) -> Result<(), CampaignsError> {
    let Some(from) = from else {
        return Ok(());
    };
    let mailbox = from
        .parse::<Mailbox>()
        .map_err(|e| CampaignsError::Invalid(format!("from: {e}")))?;
    let domain = mailbox.email.domain().to_ascii_lowercase();
    let allowed = &ctx.settings.mail.allowed_from_domains;
    if !allowed.contains(&domain) {
        return Err(CampaignsError::FromNotAllowed(format!(
            "from: {domain} is not a domain Bulletin sends for ({}; mail.allowed_from_domains)",
            allowed.join(", ")
        )));
    }
    Ok(())
}

/// What a PATCH changes; `None`: leave as it is. `from` and `reply_to` may be cleared.
#[derive(Debug, Clone, Default)]
#[expect(missing_docs, reason = "the fields are the campaign's, by name")]
pub struct CampaignPatch {
    pub name: Option<String>,
    pub subject: Option<String>,
    pub body_markdown: Option<String>,
    pub lists: Option<Vec<ListSlug>>,
    pub from: Option<Option<String>>,
    pub reply_to: Option<Option<EmailAddress>>,
    pub layout: Option<CampaignLayout>,
    /// Replaces every translation (`{}` removes them all).
    pub translations: Option<BTreeMap<Locale, CampaignText>>,
    /// Sets or clears the segment.
    pub segment: Option<Option<SegmentId>>,
    pub archive: Option<bool>,
}

/// Changes a draft, or a scheduled campaign, which returns to draft (it is reviewed and
/// scheduled again). Every field is checked as on create; all or nothing.
///
/// # Errors
/// `Forbidden`, `NotFound`, `State` (sending, paused, sent, cancelled), `Invalid`,
/// `UnknownList`, `WrongLegalBasis`, `FromNotAllowed`, `Template`, `Raced`, or a store
/// failure.
pub async fn update(
    ctx: &Context,
    actor: &Actor,
    id: CampaignId,
    patch: CampaignPatch,
) -> Result<Campaign, CampaignsError> {
    actor.authorize(Action::ManageCampaigns)?;
    refuse_notice(ctx, id, "changed").await?;
    if let Some(archive) = patch.archive_alone() {
        return set_archive(ctx, actor, id, archive).await;
    }
    let mut campaign = store::campaigns::find(&ctx.db, id).await?;
    let before = campaign.status;
    campaign.status = campaign.status.edit()?;
    if before == CampaignStatus::Scheduled {
        campaign.send_at = None;
    }
    let def = &mut campaign.def;
    if let Some(name) = patch.name {
        def.name = name.trim().to_owned();
    }
    if let Some(subject) = patch.subject {
        def.subject = subject;
    }
    if let Some(body) = patch.body_markdown {
        def.body_markdown = body;
    }
    if let Some(slugs) = &patch.lists {
        def.lists = target_lists(ctx, slugs)
            .await?
            .iter()
            .map(|l| l.id)
            .collect();
    }
    if let Some(from) = patch.from {
        check_from(ctx, from.as_deref())?;
        def.from = from;
    }
    if let Some(reply_to) = patch.reply_to {
        def.reply_to = reply_to;
    }
    if let Some(layout) = patch.layout {
        def.layout = layout;
    }
    if let Some(translations) = patch.translations {
        def.translations = translations;
    }
    if let Some(segment) = patch.segment {
        check_segment(ctx, segment).await?;
        def.segment = segment;
    }
    if let Some(archive) = patch.archive {
        def.archive = archive;
    }
    def.validate()
        .map_err(|e| CampaignsError::Invalid(e.to_string()))?;
    compile_all(def)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    if !store::campaigns::update_content(&txn, &campaign, before, now).await? {
        return Err(CampaignsError::Raced);
    }
    let change = Change::of("campaign.update", id).detail(campaign.def.name.clone());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(campaign)
}

impl CampaignPatch {
    /// The archive flag, when it is all the patch changes.
    fn archive_alone(&self) -> Option<bool> {
        let Self {
            name: None,
            subject: None,
            body_markdown: None,
            lists: None,
            from: None,
            reply_to: None,
            layout: None,
            translations: None,
            segment: None,
            archive,
        } = self
        else {
            return None;
        };
        *archive
    }
}

/// Publishes campaign `id` in the public archive, or takes it off, in any state: the flag
/// changes no message, so a sent issue may be taken off (or put back) and a scheduled one
/// stays scheduled.
async fn set_archive(
    ctx: &Context,
    actor: &Actor,
    id: CampaignId,
    archive: bool,
) -> Result<Campaign, CampaignsError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let mut campaign = store::campaigns::find(&txn, id).await?;
    if campaign.def.archive != archive {
        store::campaigns::set_archive(&txn, id, archive, now).await?;
        campaign.def.archive = archive;
        let detail = if archive { "published" } else { "withdrawn" };
        let change = Change::of("campaign.archive", id).detail(detail.to_owned());
        audit::append(&txn, actor, change, now).await?;
    }
    store::commit(txn).await?;
    Ok(campaign)
}

/// Why people left by a campaign's link: how many gave each reason, and the newest comments.
#[derive(Debug, Clone, Default)]
pub struct LeavingReasons {
    /// People per reason, every reason given at least once.
    pub counts: Vec<(crate::domain::UnsubscribeReason, u64)>,
    /// The newest comments (reason, text, when), at most `LEAVING_COMMENTS`.
    pub comments: Vec<(
        crate::domain::UnsubscribeReason,
        String,
        chrono::DateTime<chrono::Utc>,
    )>,
}

/// The most comments a campaign's page shows.
pub const LEAVING_COMMENTS: u64 = 20;

/// The reasons people gave when they left by campaign `id`'s unsubscribe link.
///
/// # Errors
/// Store failure.
pub async fn leaving_reasons(ctx: &Context, id: CampaignId) -> Result<LeavingReasons, StoreError> {
    Ok(LeavingReasons {
        counts: store::unsubscribe_reasons::counts(&ctx.db, id).await?,
        comments: store::unsubscribe_reasons::comments(&ctx.db, id, LEAVING_COMMENTS).await?,
    })
}

/// Refuses a segment that does not exist.
async fn check_segment(ctx: &Context, segment: Option<SegmentId>) -> Result<(), CampaignsError> {
    match segment {
        Some(id) => match store::segments::find(&ctx.db, id).await {
            Ok(_) => Ok(()),
            Err(StoreError::NotFound) => Err(CampaignsError::UnknownSegment),
            Err(e) => Err(e.into()),
        },
        None => Ok(()),
    }
}

/// Compiles the default subject and body and every translation's, so that an error in any
/// language is found when the campaign is saved; a translation's is named after it
/// (`translations.de.body:2: …`).
fn compile_all(def: &NewCampaign) -> Result<(), CampaignsError> {
    CampaignTemplate::compile(&def.subject, &def.body_markdown)
        .map_err(|e| CampaignsError::Template(e.to_string()))?;
    for (locale, t) in &def.translations {
        CampaignTemplate::compile(&t.subject, &t.body_markdown)
            .map_err(|e| CampaignsError::Template(format!("translations.{locale}.{e}")))?;
    }
    Ok(())
}

/// A new draft with the content and targets of campaign `id`, named "… (copy)".
///
/// # Errors
/// `Forbidden`, `NotFound`, the refusals of `create` (a target list archived since), or a
/// store failure.
pub async fn duplicate(
    ctx: &Context,
    actor: &Actor,
    id: CampaignId,
) -> Result<Campaign, CampaignsError> {
    actor.authorize(Action::ManageCampaigns)?;
    refuse_notice(ctx, id, "copied").await?;
    let source = store::campaigns::find(&ctx.db, id).await?;
    let lists = store::lists::all(&ctx.db).await?;
    let slugs = source
        .def
        .lists
        .iter()
        .filter_map(|l| lists.iter().find(|found| found.id == *l))
        .map(|l| l.def.slug.clone())
        .collect();
    let name: String = format!("{} (copy)", source.def.name)
        .chars()
        .take(200)
        .collect();
    let draft = CampaignDraft {
        name,
        subject: source.def.subject,
        body_markdown: source.def.body_markdown,
        lists: slugs,
        from: source.def.from,
        reply_to: source.def.reply_to,
        layout: source.def.layout,
        translations: source.def.translations,
        segment: source.def.segment,
        archive: source.def.archive,
    };
    create(ctx, actor, draft).await
}

/// Deletes a draft, or a cancelled campaign that sent nothing, with its queued rows.
///
/// # Errors
/// `Forbidden`, `NotFound`, `State` (not a draft or cancelled), `HasSent`, `Raced`, or a
/// store failure.
pub async fn delete(ctx: &Context, actor: &Actor, id: CampaignId) -> Result<(), CampaignsError> {
    actor.authorize(Action::ManageCampaigns)?;
    refuse_notice(ctx, id, "deleted").await?;
    let campaign = store::campaigns::find(&ctx.db, id).await?;
    campaign.status.delete()?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let sent = store::campaigns::sent_count(&txn, id).await?;
    if sent > 0 {
        return Err(CampaignsError::HasSent(format!(
            "the campaign sent {sent} messages and stays on record"
        )));
    }
    if !store::campaigns::delete(&txn, id, campaign.status).await? {
        return Err(CampaignsError::Raced);
    }
    let change = Change::of("campaign.delete", id).detail(campaign.def.name);
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// A notice's campaign changes only through its notice.
async fn refuse_notice(ctx: &Context, id: CampaignId, what: &str) -> Result<(), CampaignsError> {
    match super::notices::is_notice_campaign(ctx, id).await? {
        true => Err(CampaignsError::Invalid(format!(
            "this campaign carries a product notice and is {what} with its notice"
        ))),
        false => Ok(()),
    }
}

/// Who a campaign would reach if it were sent now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    /// People, each once.
    pub total: u64,
    /// People per target list (someone on two lists counts in both).
    pub by_list: Vec<(ListSlug, u64)>,
    /// The segment's name, when one narrows the lists' members.
    pub segment: Option<String>,
}

/// The audience of campaign `id` now: confirmed subscribers of its lists who are active and
/// not suppressed (the worker checks each again before sending).
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn audience(ctx: &Context, id: CampaignId) -> Result<Audience, CampaignsError> {
    let campaign = store::campaigns::find(&ctx.db, id).await?;
    let segment = match campaign.def.segment {
        Some(id) => Some(store::segments::find(&ctx.db, id).await?),
        None => None,
    };
    let filter = segment.as_ref().map(|s| &s.filter);
    let (total, counts) = store::campaigns::audience(&ctx.db, &campaign.def.lists, filter).await?;
    let lists = store::lists::all(&ctx.db).await?;
    let by_list = campaign
        .def
        .lists
        .iter()
        .filter_map(|id| lists.iter().find(|l| l.id == *id))
        .map(|l| {
            let n = counts
                .iter()
                .find(|(list, _)| *list == l.id)
                .map_or(0, |(_, n)| *n);
            (l.def.slug.clone(), n)
        })
        .collect();
    Ok(Audience {
        total,
        by_list,
        segment: segment.map(|s| s.name),
    })
}

/// Delivery figures of a campaign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CampaignCounts {
    /// Rows written by the fan-out.
    pub total: u64,
    /// Waiting for a first attempt.
    pub queued: u64,
    /// Claimed by a worker right now.
    pub sending: u64,
    /// Accepted by the relay.
    pub sent: u64,
    /// Waiting for a retry.
    pub deferred: u64,
    /// Given up.
    pub failed: u64,
    /// Not sent: the recipient was no longer eligible.
    pub suppressed: u64,
    /// Of the failed: refused for the address (hard or soft bounces).
    pub bounced: u64,
    /// Of the failed: refused by policy (`5.7.x` and the like), nothing about the address.
    pub blocked: u64,
    /// Recipients who reported it as spam.
    pub complaints: u64,
    /// People who left a list by the unsubscribe link in this campaign's e-mails.
    pub unsubscribed: u64,
}

impl CampaignCounts {
    /// Rows that are not final yet.
    pub fn open(&self) -> u64 {
        self.queued + self.sending + self.deferred
    }
}

/// A campaign with its figures.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct CampaignOverview {
    pub campaign: Campaign,
    /// Its delivery figures.
    pub counts: CampaignCounts,
    /// Messages accepted per second since it started.
    pub rate_per_sec: Option<f64>,
    /// Seconds until the open rows are done at that rate.
    pub eta_secs: Option<u64>,
    /// When the figures were read.
    pub as_of: DateTime<Utc>,
}

/// A campaign and its figures.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn overview(ctx: &Context, id: CampaignId) -> Result<CampaignOverview, CampaignsError> {
    let campaign = store::campaigns::find(&ctx.db, id).await?;
    let counts = counts(ctx, id).await?;
    let elapsed = campaign
        .started_at
        .map(|t| (campaign.finished_at.unwrap_or_else(|| ctx.clock.now()) - t).num_milliseconds());
    let rate_per_sec = elapsed
        .filter(|ms| *ms > 0)
        .map(|ms| counts.sent as f64 * 1000.0 / ms as f64);
    let eta_secs = rate_per_sec
        .filter(|r| *r > 0.0)
        .map(|r| (counts.open() as f64 / r).ceil() as u64);
    Ok(CampaignOverview {
        campaign,
        counts,
        rate_per_sec,
        eta_secs,
        as_of: ctx.clock.now(),
    })
}

/// What a delivery's `bounce` column holds after a complaint about it.
pub const COMPLAINT: &str = "complaint";

async fn counts(ctx: &Context, id: CampaignId) -> Result<CampaignCounts, StoreError> {
    Ok(counts_of(ctx, &[id]).await?.remove(&id).unwrap_or_default())
}

/// The delivery figures of each of `ids` (every id present), in two grouped queries
/// whatever their number.
///
/// # Errors
/// Store failure.
pub async fn counts_of(
    ctx: &Context,
    ids: &[CampaignId],
) -> Result<HashMap<CampaignId, CampaignCounts>, StoreError> {
    let mut all: HashMap<CampaignId, CampaignCounts> = ids
        .iter()
        .map(|id| (*id, CampaignCounts::default()))
        .collect();
    for (id, status, came_back, n) in store::deliveries::counts_of_campaigns(&ctx.db, ids).await? {
        let c = all.entry(id).or_default();
        c.total += n;
        match status {
            DeliveryStatus::Queued => c.queued += n,
            DeliveryStatus::Sending => c.sending += n,
            DeliveryStatus::Sent => c.sent += n,
            DeliveryStatus::Deferred => c.deferred += n,
            DeliveryStatus::Failed => c.failed += n,
            DeliveryStatus::Suppressed => c.suppressed += n,
        }
        let Some(came_back) = came_back else { continue };
        match Bounce::parse(&came_back) {
            Ok(Bounce::Hard | Bounce::Soft) => c.bounced += n,
            Ok(Bounce::Blocked) => c.blocked += n,
            Err(_) if came_back == COMPLAINT => c.complaints += n,
            Err(_) => {}
        }
    }
    for (id, n) in store::overview::unsubscribed_by_campaigns(&ctx.db, ids).await? {
        all.entry(id).or_default().unsubscribed = n;
    }
    Ok(all)
}

/// A campaign in a listing, with its delivery figures.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct CampaignFigures {
    pub campaign: Campaign,
    pub counts: CampaignCounts,
}

/// A page of campaigns older than `before`, newest first, each with its figures: a fixed
/// number of queries per page, not one per campaign.
///
/// # Errors
/// Store failure.
pub async fn page_with_counts(
    ctx: &Context,
    before: Option<CampaignId>,
    limit: u64,
) -> Result<Page<CampaignFigures, CampaignId>, StoreError> {
    let Page { items, next } = page(ctx, before, limit).await?;
    let ids: Vec<CampaignId> = items.iter().map(|c| c.id).collect();
    let mut counts = counts_of(ctx, &ids).await?;
    let items = items
        .into_iter()
        .map(|campaign| CampaignFigures {
            counts: counts.remove(&campaign.id).unwrap_or_default(),
            campaign,
        })
        .collect();
    Ok(Page { items, next })
}

/// A campaign's sends and unsubscribes over time, in equal buckets from its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignTimeline {
    /// The start of the first bucket (the campaign's start).
    pub start: chrono::DateTime<chrono::Utc>,
    /// The width of a bucket.
    pub bucket_secs: i64,
    /// Messages accepted by the relay, per bucket.
    pub sent: Vec<u64>,
    /// Unsubscribes by the campaign's links, per bucket.
    pub unsubscribed: Vec<u64>,
}

/// Bucket widths a timeline may use: a minute up to a day.
const BUCKET_SECS: [i64; 7] = [60, 300, 900, 3600, 6 * 3600, 86_400, 7 * 86_400];
/// At most this many buckets: wider buckets beyond.
const MAX_BUCKETS: i64 = 60;

/// Sends and unsubscribes of a started campaign from its start until now (`None` before it
/// started), in at most 60 buckets of a minute, 5 or 15 minutes, an hour, 6 hours, a day or
/// a week.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn timeline(
    ctx: &Context,
    id: CampaignId,
) -> Result<Option<CampaignTimeline>, CampaignsError> {
    let campaign = store::campaigns::find(&ctx.db, id).await?;
    let Some(start) = campaign.started_at else {
        return Ok(None);
    };
    let span = (ctx.clock.now() - start).num_seconds().max(1);
    let bucket_secs = BUCKET_SECS
        .into_iter()
        .find(|b| span / b < MAX_BUCKETS)
        .unwrap_or(BUCKET_SECS[BUCKET_SECS.len() - 1]);
    let buckets = usize::try_from(span / bucket_secs + 1)
        .unwrap_or(1)
        .min(200);
    let mut series = [vec![0; buckets], vec![0; buckets]];
    for (kind, out) in [
        store::overview::TimelineSeries::Sent,
        store::overview::TimelineSeries::Unsubscribed,
    ]
    .into_iter()
    .zip(series.iter_mut())
    {
        let found =
            store::overview::campaign_timeline(&ctx.db, id, kind, start, bucket_secs).await?;
        for (bucket, n) in found {
            // Rows after "now" (a clock moved back) go in the last bucket.
            let i = usize::try_from(bucket)
                .unwrap_or(usize::MAX)
                .min(buckets - 1);
            out[i] += n;
        }
    }
    let [sent, unsubscribed] = series;
    Ok(Some(CampaignTimeline {
        start,
        bucket_secs,
        sent,
        unsubscribed,
    }))
}

/// One campaign.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn find(ctx: &Context, id: CampaignId) -> Result<Campaign, CampaignsError> {
    Ok(store::campaigns::find(&ctx.db, id).await?)
}

/// Every campaign, newest first.
///
/// # Errors
/// Store failure.
pub async fn all(ctx: &Context) -> Result<Vec<Campaign>, StoreError> {
    store::campaigns::all(&ctx.db).await
}

/// A page of campaigns older than `before`, newest first, and the cursor of the next page.
///
/// # Errors
/// Store failure.
pub async fn page(
    ctx: &Context,
    before: Option<CampaignId>,
    limit: u64,
) -> Result<Page<Campaign, CampaignId>, StoreError> {
    let fetch = Some(super::paging::fetch_size(limit));
    let found = store::campaigns::page(&ctx.db, before, fetch).await?;
    Ok(Page::cut(found, limit, |c| c.id))
}

/// The message as a sample recipient would get it.
///
/// # Errors
/// `NotFound`, `Template`, or a store failure.
pub async fn preview(
    ctx: &Context,
    id: CampaignId,
    locale: Locale,
) -> Result<RenderedMail, CampaignsError> {
    let campaign = store::campaigns::find(&ctx.db, id).await?;
    ctx.refresh_templates().await?;
    crate::mail::campaign::preview_in(&ctx.templates, &ctx.settings, &campaign, locale)
        .map_err(|e| CampaignsError::Template(e.to_string()))
}

/// An unsaved draft as a sample recipient would get it (the composer's "Preview"), through
/// the same rendering as `preview`; stores nothing.
///
/// # Errors
/// `Forbidden`, `Invalid` (a body over 1 MB), `Template`, or a store failure.
pub async fn preview_draft(
    ctx: &Context,
    actor: &Actor,
    draft: &CampaignDraft,
    locale: Locale,
) -> Result<RenderedMail, CampaignsError> {
    actor.authorize(Action::ManageCampaigns)?;
    if draft.body_markdown.len() > crate::domain::campaign::MAX_BODY_BYTES {
        return Err(CampaignsError::Invalid(
            "the body is longer than 1 MB".into(),
        ));
    }
    let campaign = Campaign {
        id: CampaignId::new(),
        def: NewCampaign {
            name: draft.name.trim().to_owned(),
            subject: draft.subject.clone(),
            body_markdown: draft.body_markdown.clone(),
            lists: Vec::new(),
            from: draft.from.clone(),
            reply_to: draft.reply_to.clone(),
            layout: draft.layout,
            translations: draft.translations.clone(),
            segment: draft.segment,
            archive: draft.archive,
        },
        status: CampaignStatus::Draft,
        send_at: None,
        paused_reason: None,
        started_at: None,
        fanned_out_at: None,
        finished_at: None,
        created_at: ctx.clock.now(),
    };
    ctx.refresh_templates().await?;
    crate::mail::campaign::preview_in(&ctx.templates, &ctx.settings, &campaign, locale)
        .map_err(|e| CampaignsError::Template(e.to_string()))
}

/// A field of a campaign (`name`, `subject`, `body_markdown`, `lists`, `from`) and what is
/// wrong with it, in words a marketer reads without the manual.
pub type FieldProblem = (&'static str, String);

/// Every problem of `draft` at once, by field, for a form that shows each beside its field;
/// empty when `create` (and `update`) would accept its content. The same rules as theirs.
///
/// # Errors
/// A store failure.
pub async fn problems(
    ctx: &Context,
    draft: &CampaignDraft,
) -> Result<Vec<FieldProblem>, CampaignsError> {
    let mut found = Vec::new();
    let name = draft.name.trim().chars().count();
    if name == 0 || name > 200 {
        found.push((
            "name",
            "Give the campaign a name of up to 200 characters.".into(),
        ));
    }
    let subject = draft.subject.trim().chars().count();
    if subject == 0 || subject > 300 || draft.subject.contains(['\r', '\n']) {
        found.push((
            "subject",
            "Write a subject of one line, up to 300 characters.".into(),
        ));
    }
    if draft.body_markdown.trim().is_empty() {
        found.push(("body_markdown", "Write the message.".into()));
    } else if draft.body_markdown.len() > crate::domain::campaign::MAX_BODY_BYTES {
        found.push(("body_markdown", "The message is longer than 1 MB.".into()));
    }
    if let Some(problem) = list_problem(ctx, &draft.lists).await? {
        found.push(("lists", problem));
    }
    if let Some(problem) = from_problem(ctx, draft.from.as_deref()) {
        found.push(("from", problem));
    }
    if !found
        .iter()
        .any(|(f, _)| *f == "subject" || *f == "body_markdown")
        && let Err(e) = CampaignTemplate::compile(&draft.subject, &draft.body_markdown)
    {
        found.push(template_problem(&e));
    }
    Ok(found)
}

/// What is wrong with a campaign's choice of lists, in plain words.
async fn list_problem(ctx: &Context, slugs: &[ListSlug]) -> Result<Option<String>, StoreError> {
    if slugs.is_empty() {
        return Ok(Some("Choose at least one list.".into()));
    }
    let found = store::lists::find_by_slugs(&ctx.db, slugs).await?;
    for slug in slugs {
        let Some(list) = found.iter().find(|l| &l.def.slug == slug) else {
            return Ok(Some(format!(
                "There is no list \u{201c}{}\u{201d}.",
                slug.as_str()
            )));
        };
        let name = &list.def.name;
        if list.archived_at.is_some() {
            return Ok(Some(format!(
                "The list \u{201c}{name}\u{201d} is archived and takes no campaigns."
            )));
        }
        if list.def.legal_basis != LegalBasis::Consent {
            return Ok(Some(format!(
                "The list \u{201c}{name}\u{201d} is for product notices to customers, who did \
                 not sign up for marketing: a campaign may go only to lists people asked for. \
                 Send product notices as notices."
            )));
        }
    }
    Ok(None)
}

/// What is wrong with a campaign's own From, in plain words.
fn from_problem(ctx: &Context, from: Option<&str>) -> Option<String> {
    let mailbox = from?.parse::<Mailbox>().ok();
    let Some(mailbox) = mailbox else {
        return Some(
            "Write the sender as an address (news@example.com) or as a name and address \
             (Example News <news@example.com>)."
                .into(),
        );
    };
    let domain = mailbox.email.domain().to_ascii_lowercase();
    let allowed = &ctx.settings.mail.allowed_from_domains;
    (!allowed.contains(&domain)).then(|| {
        format!(
            "Bulletin does not send from {domain}. Use an address at {}.",
            allowed.join(" or ")
        )
    })
}

/// The field a template error is in, and the error in plain words.
fn template_problem(e: &crate::mail::TemplateError) -> FieldProblem {
    let crate::mail::TemplateError::Template(e) = e else {
        return ("body_markdown", e.to_string());
    };
    let (field, part) = match e.name() {
        Some("subject") => ("subject", "The subject"),
        _ => ("body_markdown", "The message"),
    };
    let at = e
        .line()
        .map(|l| format!(" on line {l}"))
        .unwrap_or_default();
    let what = match (e.kind(), e.detail()) {
        (minijinja::ErrorKind::UndefinedError, _) => {
            "uses a variable that does not exist (see the list of variables)".to_owned()
        }
        (kind, Some(detail)) => format!("cannot be filled in ({kind}: {detail})"),
        (kind, None) => format!("cannot be filled in ({kind})"),
    };
    (field, format!("{part} {what}{at}."))
}

/// Checks a test send of the campaign to the given addresses and returns the campaign to
/// send, rendered with sample values, through `delivery::send_test` (an operator action that
/// answers with the relay's verdict, so it does not wait in the outbox).
///
/// # Errors
/// `NotFound`, `Invalid` (no or too many addresses), `Template`, or a store failure.
pub async fn test_send(
    ctx: &Context,
    actor: &Actor,
    id: CampaignId,
    to: &[EmailAddress],
) -> Result<Campaign, CampaignsError> {
    actor.authorize(Action::ManageCampaigns)?;
    if to.is_empty() || to.len() > 10 {
        return Err(CampaignsError::Invalid(
            "emails must name 1 to 10 addresses".into(),
        ));
    }
    for address in to {
        refuse_unmailable(ctx, address).await?;
    }
    preview(ctx, id, Locale::En).await?;
    let (key, now) = (actor.name(), ctx.clock.now());
    let limit = Limit::of(Scope::TestSends, &ctx.settings);
    for _ in to {
        if let Err(refused) = limit.hit(ctx, &ctx.db, &key, now).await? {
            return Err(CampaignsError::RateLimited {
                retry_after_secs: refused.retry_after_secs,
            });
        }
    }
    let change = Change::of("campaign.test", id).detail(format!("{} addresses", to.len()));
    audit::record(ctx, actor, change).await?;
    Ok(store::campaigns::find(&ctx.db, id).await?)
}

/// A test goes only where a campaign may go: not to a suppressed address (a bounce, a
/// complaint, an erased person) nor to a blocked or restricted person.
async fn refuse_unmailable(ctx: &Context, address: &EmailAddress) -> Result<(), CampaignsError> {
    let hash = ctx.address_hasher.hash(address);
    let suppressed = store::suppressions::contains(&ctx.db, &hash).await?;
    let held_back = store::subscribers::find_by_email(&ctx.db, address)
        .await?
        .is_some_and(|s| s.status != SubscriberStatus::Active);
    match suppressed || held_back {
        true => Err(CampaignsError::Invalid(format!(
            "{}: this address may not be mailed (suppressed, blocked or restricted)",
            address.as_str()
        ))),
        false => Ok(()),
    }
}

/// Schedules a draft (or reschedules a scheduled campaign) for `send_at`, or now.
///
/// # Errors
/// `NotFound`, `Invalid` (a time in the past), `State`, `Raced`, or a store failure.
pub async fn schedule(
    ctx: &Context,
    actor: &Actor,
    id: CampaignId,
    send_at: Option<DateTime<Utc>>,
) -> Result<Campaign, CampaignsError> {
    actor.authorize(Action::ManageCampaigns)?;
    let now = ctx.clock.now();
    if super::notices::is_notice_campaign(ctx, id).await? {
        return Err(CampaignsError::Invalid(
            "this campaign carries a product notice: send it with POST /api/v1/notices/{id}/send"
                .into(),
        ));
    }
    if send_at.is_some_and(|t| t < now - chrono::Duration::seconds(60)) {
        return Err(CampaignsError::Invalid("send_at lies in the past".into()));
    }
    transition(ctx, actor, id, "campaign.schedule", |c| {
        c.status = c.status.schedule()?;
        c.send_at = Some(send_at.unwrap_or(now));
        Ok(())
    })
    .await
}

/// Pauses a scheduled or sending campaign; the reason is shown with its status.
///
/// # Errors
/// `NotFound`, `State`, `Raced`, or a store failure.
pub async fn pause(
    ctx: &Context,
    actor: &Actor,
    id: CampaignId,
    reason: &str,
) -> Result<Campaign, CampaignsError> {
    transition(ctx, actor, id, "campaign.pause", |c| {
        c.status = c.status.pause()?;
        c.paused_reason = Some(reason.to_owned());
        Ok(())
    })
    .await
}

/// Resumes a paused campaign where it stopped; its deferred messages are due at once.
///
/// # Errors
/// `NotFound`, `State`, `Raced`, or a store failure.
pub async fn resume(
    ctx: &Context,
    actor: &Actor,
    id: CampaignId,
) -> Result<Campaign, CampaignsError> {
    let campaign = transition(ctx, actor, id, "campaign.resume", |c| {
        c.status = c.status.resume(c.started_at.is_some())?;
        c.paused_reason = None;
        Ok(())
    })
    .await?;
    let due = store::deliveries::retry_deferred_now(&ctx.db, id, ctx.clock.now()).await?;
    if due > 0 {
        tracing::info!(campaign.id = %id, due, "deferred messages of a resumed campaign are due now");
    }
    ctx.outbox.notify_one();
    Ok(campaign)
}

/// Cancels a campaign for good; queued messages are never sent.
///
/// # Errors
/// `NotFound`, `State`, `Raced`, or a store failure.
pub async fn cancel(
    ctx: &Context,
    actor: &Actor,
    id: CampaignId,
) -> Result<Campaign, CampaignsError> {
    transition(ctx, actor, id, "campaign.cancel", |c| {
        c.status = c.status.cancel()?;
        c.finished_at.get_or_insert(ctx.clock.now());
        Ok(())
    })
    .await
}

/// Moves a campaign by `change` and records `action` of `actor`, in one transaction.
async fn transition(
    ctx: &Context,
    actor: &Actor,
    id: CampaignId,
    action: &'static str,
    change: impl FnOnce(&mut Campaign) -> Result<(), CampaignStateError>,
) -> Result<Campaign, CampaignsError> {
    actor.authorize(Action::ManageCampaigns)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let mut campaign = store::campaigns::find(&txn, id).await?;
    let before = campaign.status;
    change(&mut campaign)?;
    if !store::campaigns::update_state(&txn, &campaign, before, now).await? {
        return Err(CampaignsError::Raced);
    }
    audit::append(&txn, actor, Change::of(action, id), now).await?;
    store::commit(txn).await?;
    Ok(campaign)
}

/// Starts every scheduled campaign whose time has come (the fan-out follows in
/// `delivery::fan_out`). Returns how many were started.
///
/// # Errors
/// Store failure.
pub async fn start_due(ctx: &Context) -> Result<usize, StoreError> {
    let now = ctx.clock.now();
    let mut started = 0;
    for id in store::campaigns::ids_in(&ctx.db, CampaignStatus::Scheduled, Some(now)).await? {
        let mut campaign = store::campaigns::find(&ctx.db, id).await?;
        let Ok(next) = campaign.status.start() else {
            continue;
        };
        campaign.status = next;
        campaign.started_at = Some(now);
        if store::campaigns::update_state(&ctx.db, &campaign, CampaignStatus::Scheduled, now)
            .await?
        {
            tracing::info!(campaign.id = %id, "campaign started");
            started += 1;
        }
    }
    Ok(started)
}

/// On boot: pauses scheduled campaigns whose send time passed more than the grace ago, so a
/// person decides whether a late send still makes sense. Returns how many were paused.
///
/// # Errors
/// Store failure.
pub async fn hold_missed(ctx: &Context) -> Result<usize, StoreError> {
    let now = ctx.clock.now();
    let cutoff = now - ctx.settings.scheduler.missed_start_grace;
    let mut held = 0;
    for id in store::campaigns::ids_in(&ctx.db, CampaignStatus::Scheduled, Some(cutoff)).await? {
        let reason = "its send time passed while Bulletin was not running; resume to send it now";
        match pause(ctx, &Actor::System, id, reason).await {
            Ok(_) => held += 1,
            Err(CampaignsError::Store(e)) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(held)
}
