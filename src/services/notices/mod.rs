//! Product notices (PCN, PDN, Tech News) to customers on the basis of legitimate interest:
//! create (typed fields checked, numbered, revisions), show the resolved audience, and send
//! through the delivery engine. A notice is a campaign: its outbox rows are written here for
//! the customers of the affected products, and the worker sends, retries and records them.
//! Objection, acknowledgement and the archive live in the submodules.

pub mod acknowledgements;
pub mod archive;
pub mod objection;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};

use super::audit::{self, Change};
use crate::services::paging::Page;
use crate::{
    context::Context,
    domain::{
        Action, Actor, Campaign, CampaignId, CampaignStatus, Decision, Forbidden, MailingList,
        MessageKind, NewCampaign, Notice, NoticeError, NoticeFields, NoticeId, NoticeKind,
        NoticeNumber, NoticeRecipient, NoticeRecipientId, NoticeTranslations, SubscriberId,
        SubscriptionId, SubscriptionStatus, may_send, notice::next_revision,
    },
    store::{self, StoreError, notices::MailingPurpose},
};

/// Why a notice action was refused.
#[derive(Debug, thiserror::Error)]
pub enum NoticesError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// A field breaks a rule (also the 90-day rule and a deadline in the past).
    #[error(transparent)]
    Invalid(#[from] NoticeError),
    /// Affected part numbers that name no product.
    #[error("unknown part numbers: {}", .0.join(", "))]
    UnknownParts(Vec<String>),
    /// The number is taken (a revision names the notice it supersedes instead).
    #[error("notice number {0:?} is taken; to revise it, send \"supersedes\"")]
    DuplicateNumber(String),
    /// The notice kind may not be marked service-critical.
    #[error("{0} notices may not be marked service-critical (notices.service_critical_kinds)")]
    NotServiceCritical(NoticeKind),
    /// Nobody would receive the notice.
    #[error(
        "no customer would receive this notice: nobody uses the affected products, or all who do objected or cannot be mailed"
    )]
    NoAudience,
    /// The notice was sent already (or is no longer a draft).
    #[error("the notice is {0}, not a draft")]
    NotDraft(CampaignStatus),
    /// A later revision supersedes this draft, so it stays (delete that one first).
    #[error("revision {0} supersedes this draft; delete that revision first")]
    HasRevision(u32),
    /// No such notice.
    #[error("notice not found")]
    NotFound,
    /// Another request changed the notice meanwhile; retry.
    #[error("the notice changed meanwhile; try again")]
    Raced,
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for NoticesError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

/// A notice as the API receives it.
#[derive(Debug, Clone)]
pub struct NoticeDraft {
    /// What it announces.
    pub kind: NoticeKind,
    /// Its number; `None`: numbered automatically (`PCN-2026-0001`).
    pub number: Option<NoticeNumber>,
    /// The revision it supersedes (the new one takes its number).
    pub supersedes: Option<NoticeId>,
    /// The typed fields (their `translations` are replaced by the draft's own).
    pub fields: NoticeFields,
    /// The texts in other languages; `None`: a revision keeps those of the revision it
    /// supersedes, a new notice has none.
    pub translations: Option<NoticeTranslations>,
    /// Publish despite the 90-day warning (recorded).
    pub force: bool,
}

/// A notice with where its campaign stands.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct NoticeOverview {
    pub notice: Notice,
    /// Its campaign's status.
    pub status: CampaignStatus,
    /// The revision that superseded it, if any.
    pub superseded_by: Option<u32>,
}

/// Creates a draft notice after checking every field; the affected parts must be known.
///
/// # Errors
/// `Invalid`, `UnknownParts`, `DuplicateNumber`, `NotServiceCritical`, `NotFound` (the
/// superseded notice), or a store failure.
pub async fn create(
    ctx: &Context,
    actor: &Actor,
    draft: NoticeDraft,
) -> Result<NoticeOverview, NoticesError> {
    actor.authorize(Action::ManageNotices)?;
    let now = ctx.clock.now();
    let forced = draft.force;
    let mut fields = draft.fields.clone();
    fields.translations = translations_of(ctx, &draft).await?;
    let fields = checked(ctx, draft.kind, fields, draft.force, now).await?;
    let (number, revision, supersedes) = numbering(ctx, &draft, now).await?;
    let lists = lists_of_kind(ctx, draft.kind).await?;
    let campaign = notice_campaign(&number, revision, &fields.title, &lists, now, "");
    let notice = Notice {
        id: NoticeId::new(),
        campaign_id: campaign.id,
        kind: draft.kind,
        number,
        revision,
        fields,
        supersedes,
        published_at: None,
        created_at: now,
    };
    let txn = store::begin_write(&ctx.writer).await?;
    store::campaigns::insert(&txn, &campaign, now).await?;
    match store::notices::insert(&txn, &notice).await {
        Err(StoreError::Conflict(_)) => {
            return Err(NoticesError::DuplicateNumber(notice.number.to_string()));
        }
        other => other?,
    }
    store::notices::insert_mailing(&txn, campaign.id, notice.id, MailingPurpose::Notice, now)
        .await?;
    let detail = audit_detail(&notice, forced);
    audit::append(
        &txn,
        actor,
        Change::of("notice.create", notice.id).detail(detail),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(NoticeOverview {
        notice,
        status: CampaignStatus::Draft,
        superseded_by: None,
    })
}

/// The translations a new notice gets: the draft's, else (a revision) those of the revision
/// it supersedes.
async fn translations_of(
    ctx: &Context,
    draft: &NoticeDraft,
) -> Result<NoticeTranslations, NoticesError> {
    match (&draft.translations, draft.supersedes) {
        (Some(given), _) => Ok(given.clone()),
        (None, Some(old)) => Ok(store::notices::find(&ctx.db, old)
            .await?
            .fields
            .translations),
        (None, None) => Ok(NoticeTranslations::default()),
    }
}

/// The fields of a notice of `kind` after every check of `create`; the warnings `force`
/// overrides are recorded afresh.
async fn checked(
    ctx: &Context,
    kind: NoticeKind,
    mut fields: NoticeFields,
    force: bool,
    now: DateTime<Utc>,
) -> Result<NoticeFields, NoticesError> {
    fields.overridden_warnings.clear();
    fields.check(kind, now, ctx.settings.notices.min_pcn_notice_days, force)?;
    if fields.service_critical.is_some()
        && !ctx.settings.notices.service_critical_kinds.contains(&kind)
    {
        return Err(NoticesError::NotServiceCritical(kind));
    }
    known_parts(ctx, &fields).await?;
    Ok(fields)
}

/// The audit detail of a notice: its number, and the warnings `force` overrode.
fn audit_detail(notice: &Notice, forced: bool) -> String {
    let warnings = notice.fields.overridden_warnings.join("; ");
    match (forced, warnings.is_empty()) {
        (true, false) => format!("{} forced: {warnings}", notice.number.as_str()),
        _ => notice.number.as_str().to_owned(),
    }
}

/// Replaces the fields of a draft notice, checked as on `create` (all or nothing); its kind,
/// number and revision stay.
///
/// # Errors
/// `Forbidden`, `NotFound`, `NotDraft` (sent), the refusals of `create`, `Raced`, or a store
/// failure.
pub async fn update(
    ctx: &Context,
    actor: &Actor,
    id: NoticeId,
    fields: NoticeFields,
    force: bool,
) -> Result<NoticeOverview, NoticesError> {
    actor.authorize(Action::ManageNotices)?;
    let now = ctx.clock.now();
    let mut notice = store::notices::find(&ctx.db, id).await?;
    let mut campaign = store::campaigns::find(&ctx.db, notice.campaign_id).await?;
    if campaign.status != CampaignStatus::Draft {
        return Err(NoticesError::NotDraft(campaign.status));
    }
    notice.fields = checked(ctx, notice.kind, fields, force, now).await?;
    let lists = lists_of_kind(ctx, notice.kind).await?;
    let shape = notice_campaign(
        &notice.number,
        notice.revision,
        &notice.fields.title,
        &lists,
        now,
        "",
    );
    campaign.def.name = shape.def.name;
    let txn = store::begin_write(&ctx.writer).await?;
    if !store::campaigns::update_content(&txn, &campaign, CampaignStatus::Draft, now).await? {
        return Err(NoticesError::Raced);
    }
    store::notices::update_fields(&txn, &notice).await?;
    let change = Change::of("notice.update", id).detail(audit_detail(&notice, force));
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    get(ctx, id).await
}

/// Deletes a notice that was never sent, with its campaign and that campaign's rows.
///
/// # Errors
/// `Forbidden`, `NotFound`, `NotDraft` (sent), `HasRevision` (a later revision supersedes
/// it), `Raced`, or a store failure.
pub async fn delete(ctx: &Context, actor: &Actor, id: NoticeId) -> Result<(), NoticesError> {
    actor.authorize(Action::ManageNotices)?;
    let now = ctx.clock.now();
    let notice = store::notices::find(&ctx.db, id).await?;
    let campaign = store::campaigns::find(&ctx.db, notice.campaign_id).await?;
    if campaign.status != CampaignStatus::Draft {
        return Err(NoticesError::NotDraft(campaign.status));
    }
    if let Some(later) = store::notices::revisions(&ctx.db, &notice.number)
        .await?
        .into_iter()
        .find(|n| n.supersedes == Some(id))
    {
        return Err(NoticesError::HasRevision(later.revision));
    }
    let txn = store::begin_write(&ctx.writer).await?;
    store::notices::delete(&txn, id).await?;
    if !store::campaigns::delete(&txn, campaign.id, CampaignStatus::Draft).await? {
        return Err(NoticesError::Raced);
    }
    let change = Change::of("notice.delete", id).detail(format!(
        "{} rev {}: {}",
        notice.number.as_str(),
        notice.revision,
        notice.fields.title
    ));
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(())
}

async fn known_parts(ctx: &Context, fields: &NoticeFields) -> Result<(), NoticesError> {
    let found = store::products::find_by_parts(&ctx.db, &fields.affected_parts).await?;
    let unknown: Vec<String> = fields
        .affected_parts
        .iter()
        .filter(|p| !found.iter().any(|f| &f.part_number == *p))
        .map(|p| p.as_str().to_owned())
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(NoticesError::UnknownParts(unknown))
    }
}

/// Number, revision and superseded notice of a draft.
async fn numbering(
    ctx: &Context,
    draft: &NoticeDraft,
    now: DateTime<Utc>,
) -> Result<(NoticeNumber, u32, Option<NoticeId>), NoticesError> {
    if let Some(old) = draft.supersedes {
        let old = store::notices::find(&ctx.db, old).await?;
        if old.kind != draft.kind {
            return Err(NoticeError::Field(format!(
                "a revision keeps the kind of {} ({})",
                old.number, old.kind
            ))
            .into());
        }
        if draft.number.as_ref().is_some_and(|n| n != &old.number) {
            return Err(NoticeError::Field("a revision keeps its number".into()).into());
        }
        let latest = store::notices::revisions(&ctx.db, &old.number)
            .await?
            .last()
            .map_or(old.revision, |n| n.revision);
        let revision = next_revision(latest, old.revision)?;
        return Ok((old.number, revision, Some(old.id)));
    }
    if let Some(number) = &draft.number {
        if !store::notices::revisions(&ctx.db, number).await?.is_empty() {
            return Err(NoticesError::DuplicateNumber(number.to_string()));
        }
        return Ok((number.clone(), 1, None));
    }
    let prefix = format!("{}-{}-", draft.kind.number_prefix(), now.year());
    let mut sequence = store::notices::count_numbers_like(&ctx.db, &prefix).await? + 1;
    loop {
        let number = NoticeNumber::automatic(
            draft.kind,
            now.year(),
            u32::try_from(sequence).unwrap_or(u32::MAX),
        );
        if store::notices::revisions(&ctx.db, &number)
            .await?
            .is_empty()
        {
            return Ok((number, 1, None));
        }
        sequence += 1;
    }
}

/// The legitimate-interest lists that carry notices of `kind`.
async fn lists_of_kind(ctx: &Context, kind: NoticeKind) -> Result<Vec<MailingList>, StoreError> {
    Ok(super::customers::enrolment_lists(&ctx.db)
        .await?
        .into_iter()
        .filter(|l| l.def.kind == kind.list_kind())
        .collect())
}

/// The campaign that carries a notice (or a reminder, with `suffix`). Its subject and body
/// are placeholders for the campaign views: the message is rendered from the notice's
/// fields (`delivery::notices`), and the number allows no template syntax.
fn notice_campaign(
    number: &NoticeNumber,
    revision: u32,
    title: &str,
    lists: &[MailingList],
    now: DateTime<Utc>,
    suffix: &str,
) -> Campaign {
    let label = format!("{number} rev {revision}{suffix}");
    let name: String = format!("{label}: {title}").chars().take(200).collect();
    Campaign {
        id: CampaignId::new(),
        def: NewCampaign {
            name,
            subject: label.clone(),
            body_markdown: format!("Product notice {label}, rendered from its fields."),
            lists: lists.iter().map(|l| l.id).collect(),
            from: None,
            // Replies to a notice go where its list's go.
            reply_to: None,
            layout: crate::domain::CampaignLayout::Standard,
            translations: std::collections::BTreeMap::new(),
            segment: None,
            // A notice has an archive of its own (`/notices`).
            archive: false,
        },
        status: CampaignStatus::Draft,
        send_at: None,
        paused_reason: None,
        started_at: None,
        fanned_out_at: None,
        finished_at: None,
        created_at: now,
    }
}

/// A notice with its campaign's status.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn get(ctx: &Context, id: NoticeId) -> Result<NoticeOverview, NoticesError> {
    let notice = store::notices::find(&ctx.db, id).await?;
    overview(ctx, notice).await
}

async fn overview(ctx: &Context, notice: Notice) -> Result<NoticeOverview, NoticesError> {
    let status = store::campaigns::find(&ctx.db, notice.campaign_id)
        .await?
        .status;
    let superseded_by = store::notices::revisions(&ctx.db, &notice.number)
        .await?
        .into_iter()
        .find(|n| n.supersedes == Some(notice.id))
        .map(|n| n.revision);
    Ok(NoticeOverview {
        notice,
        status,
        superseded_by,
    })
}

/// How many people objected by the links of this notice's e-mails.
///
/// # Errors
/// Store failure.
pub async fn objections(ctx: &Context, id: NoticeId) -> Result<u64, NoticesError> {
    Ok(store::notices::objections(&ctx.db, id).await?)
}

/// Every notice, newest first.
///
/// # Errors
/// Store failure.
pub async fn all(ctx: &Context) -> Result<Vec<NoticeOverview>, NoticesError> {
    let mut out = Vec::new();
    for notice in store::notices::all(&ctx.db).await? {
        out.push(overview(ctx, notice).await?);
    }
    Ok(out)
}

/// A page of notices older than the notice `before`, newest first, and the next cursor.
///
/// # Errors
/// `NotFound` for an unknown cursor, or a store failure.
pub async fn page(
    ctx: &Context,
    before: Option<NoticeId>,
    limit: u64,
) -> Result<Page<NoticeOverview, NoticeId>, NoticesError> {
    use super::paging;
    let found = store::notices::page(&ctx.db, before, paging::fetch_size(limit)).await?;
    let Page { items, next } = Page::cut(found, limit, |n| n.id);
    let mut out = Vec::with_capacity(items.len());
    for notice in items {
        out.push(overview(ctx, notice).await?);
    }
    Ok(Page { items: out, next })
}

/// One customer the notice would reach.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct AudienceMember {
    /// The customer.
    pub subscriber_id: SubscriberId,
    /// Their address.
    pub email: String,
    pub company: Option<String>,
    /// The affected parts they use.
    pub parts: Vec<String>,
    /// The subscription the notice goes through.
    pub subscription_id: SubscriptionId,
}

/// Who a notice reaches, and how many users of the affected parts it does not, by reason.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    /// The recipients, in id order.
    pub recipients: Vec<AudienceMember>,
    /// Users of the parts who objected to this kind of notice.
    pub objected: u64,
    /// Users who may not be mailed (suppressed, blocked, restricted) or were never enrolled.
    pub not_mailable: u64,
}

/// Resolves the audience of a notice: every customer using an affected part, through a
/// confirmed subscription to a list of the notice's kind, for whom `may_send` says yes.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn audience(ctx: &Context, id: NoticeId) -> Result<Audience, NoticesError> {
    let notice = store::notices::find(&ctx.db, id).await?;
    resolve(ctx, &notice).await
}

async fn resolve(ctx: &Context, notice: &Notice) -> Result<Audience, NoticesError> {
    let products = store::products::find_by_parts(&ctx.db, &notice.fields.affected_parts).await?;
    let ids: Vec<_> = products.iter().map(|p| p.id).collect();
    let customers = store::products::customers_using(&ctx.db, &ids).await?;
    let lists = lists_of_kind(ctx, notice.kind).await?;
    let people = store::subscribers::find_many(&ctx.db, &customers).await?;
    let hashes: HashMap<_, _> = people
        .iter()
        .map(|p| (p.id, ctx.address_hasher.hash(&p.email)))
        .collect();
    let wanted: Vec<String> = hashes.values().cloned().collect();
    let suppressed = store::suppressions::among(&ctx.db, &wanted).await?;
    let mut audience = Audience::default();
    for person in people {
        let subs = store::subscriptions::of_subscriber(&ctx.db, person.id).await?;
        let relevant: Vec<_> = subs
            .iter()
            .filter(|s| lists.iter().any(|l| l.id == s.list_id))
            .collect();
        let Some(sub) = relevant
            .iter()
            .find(|s| s.status == SubscriptionStatus::Confirmed)
        else {
            if relevant
                .iter()
                .any(|s| s.status == SubscriptionStatus::Unsubscribed)
            {
                audience.objected += 1;
            } else {
                audience.not_mailable += 1;
            }
            continue;
        };
        let suppression = hashes
            .get(&person.id)
            .and_then(|h| suppressed.get(h))
            .copied();
        let decision = may_send(
            MessageKind::Campaign,
            crate::domain::LegalBasis::LegitimateInterest,
            sub.status,
            person.status,
            suppression,
        );
        if decision != Decision::Send {
            audience.not_mailable += 1;
            continue;
        }
        let used = store::products::products_of(&ctx.db, person.id).await?;
        let parts = used
            .iter()
            .filter(|p| notice.fields.affected_parts.contains(&p.part_number))
            .map(|p| p.part_number.as_str().to_owned())
            .collect();
        let company = store::products::find_customer(&ctx.db, person.id)
            .await?
            .and_then(|c| c.company);
        audience.recipients.push(AudienceMember {
            subscriber_id: person.id,
            email: person.email.as_str().to_owned(),
            company,
            parts,
            subscription_id: sub.id,
        });
    }
    Ok(audience)
}

/// Sends a draft notice now: checks its dates again against today, resolves the audience,
/// records each recipient (and whether this is the first notice they get), writes their
/// outbox rows and starts its campaign, in one transaction.
///
/// # Errors
/// `NotDraft`, `Invalid` (the 90-day rule or the deadline no longer hold), `NoAudience`,
/// `Raced`, `NotFound`, or a store failure. Nothing is sent then.
pub async fn send(
    ctx: &Context,
    actor: &Actor,
    id: NoticeId,
) -> Result<NoticeOverview, NoticesError> {
    actor.authorize(Action::ManageNotices)?;
    let now = ctx.clock.now();
    let mut notice = store::notices::find(&ctx.db, id).await?;
    let mut campaign = store::campaigns::find(&ctx.db, notice.campaign_id).await?;
    if campaign.status != CampaignStatus::Draft {
        return Err(NoticesError::NotDraft(campaign.status));
    }
    let forced = !notice.fields.overridden_warnings.is_empty();
    notice.fields.check(
        notice.kind,
        now,
        ctx.settings.notices.min_pcn_notice_days,
        forced,
    )?;
    let audience = resolve(ctx, &notice).await?;
    if audience.recipients.is_empty() {
        return Err(NoticesError::NoAudience);
    }
    let ids: Vec<_> = audience
        .recipients
        .iter()
        .map(|m| m.subscriber_id)
        .collect();
    let txn = store::begin_write(&ctx.writer).await?;
    let before = store::notices::previously_notified(&txn, &ids).await?;
    let ack = notice
        .asks_acknowledgement()
        .then_some(crate::domain::AckStatus::Pending);
    let recipients: Vec<NoticeRecipient> = audience
        .recipients
        .iter()
        .map(|m| NoticeRecipient {
            id: NoticeRecipientId::new(),
            notice_id: notice.id,
            subscriber_id: m.subscriber_id,
            subscription_id: m.subscription_id,
            first_notice: !before.contains(&m.subscriber_id),
            ack_status: ack,
            ack_comment: None,
            ack_at: None,
            ack_source: None,
            reminders_sent: 0,
            created_at: now,
        })
        .collect();
    store::notices::insert_recipients(&txn, &recipients).await?;
    let to: Vec<_> = recipients
        .iter()
        .map(|r| (r.subscriber_id, r.subscription_id))
        .collect();
    start_mailing(ctx, &txn, &mut campaign, &to, now).await?;
    store::notices::set_published(&txn, notice.id, now).await?;
    let change = Change::of("notice.send", notice.id).detail(notice.number.as_str());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    ctx.outbox.notify_one();
    tracing::info!(notice.id = %notice.id, recipients = to.len(), "notice sent");
    get(ctx, id).await
}

/// Writes the outbox rows of a notice mailing and moves its campaign from draft to sending
/// with the fan-out already complete (the generic fan-out targets whole lists).
async fn start_mailing(
    ctx: &Context,
    txn: &impl store::Connection,
    campaign: &mut Campaign,
    to: &[(SubscriberId, SubscriptionId)],
    now: DateTime<Utc>,
) -> Result<(), NoticesError> {
    let domain = ctx.settings.mail.from_address.domain();
    store::notices::enqueue_mailing(txn, campaign.id, to, domain, now).await?;
    let before = campaign.status;
    campaign.status = CampaignStatus::Sending;
    campaign.send_at = Some(now);
    campaign.started_at = Some(now);
    campaign.fanned_out_at = Some(now);
    if !store::campaigns::update_state(txn, campaign, before, now).await? {
        return Err(NoticesError::Raced);
    }
    Ok(())
}

/// Whether a campaign carries a notice or a reminder (such campaigns are sent with
/// `send`, never scheduled as campaigns).
///
/// # Errors
/// Store failure.
pub async fn is_notice_campaign(ctx: &Context, id: CampaignId) -> Result<bool, StoreError> {
    Ok(store::notices::mailing_of(&ctx.db, id).await?.is_some())
}
