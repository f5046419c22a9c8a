//! Acknowledgement of a PCN (J-STD-046): each recipient answers by a signed link (approve,
//! approve with conditions, reject with a comment) until the deadline; the `notices` job
//! reminds non-responders before it and records silence as acceptance after it. The report
//! shows who answered, how and when, and who is outstanding.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{NoticesError, notice_campaign};
use crate::{
    context::Context,
    domain::{
        AckAnswer, AckError, AckStatus, Locale, Notice, NoticeId, NoticeRecipient,
        NoticeRecipientId, notice::reminders_due,
    },
    services::csv_export::CsvTable,
    store::{self, StoreError, notices::MailingPurpose},
};

/// Why an acknowledgement could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum AckActionError {
    /// The recipient or notice no longer exists.
    #[error("the record behind the link no longer exists")]
    Gone,
    /// The notice asks for no acknowledgement.
    #[error("this notice asks for no acknowledgement")]
    NotAsked,
    /// The answer is refused (deadline passed, comment missing).
    #[error(transparent)]
    Refused(#[from] AckError),
    /// A concurrent answer won; retry.
    #[error("the answer changed meanwhile; try again")]
    Raced,
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AckActionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::Gone,
            other => Self::Store(other),
        }
    }
}

/// What the acknowledgement page shows.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct AckView {
    /// The recipient's language.
    pub locale: Locale,
    pub notice: Notice,
    /// The recipient's acknowledgement.
    pub status: AckStatus,
    pub comment: Option<String>,
    pub deadline: DateTime<Utc>,
    /// Whether an answer can still be given.
    pub open: bool,
}

async fn load(
    conn: &impl store::Connection,
    id: NoticeRecipientId,
) -> Result<(NoticeRecipient, Notice, Locale, DateTime<Utc>), AckActionError> {
    let recipient = store::notices::find_recipient(conn, id).await?;
    let notice = store::notices::find(conn, recipient.notice_id).await?;
    let locale = store::subscribers::find(conn, recipient.subscriber_id)
        .await?
        .locale;
    let Some(deadline) = notice.fields.ack_deadline else {
        return Err(AckActionError::NotAsked);
    };
    Ok((recipient, notice, locale, deadline))
}

fn view(
    r: &NoticeRecipient,
    notice: Notice,
    locale: Locale,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AckView {
    let status = r.ack_status.unwrap_or(AckStatus::Pending);
    AckView {
        locale,
        notice,
        status,
        comment: r.ack_comment.clone(),
        deadline,
        open: now <= deadline && status != AckStatus::AcceptedBySilence,
    }
}

/// What the acknowledgement link shows (reads only).
///
/// # Errors
/// `Gone`, `NotAsked`, or a store failure.
pub async fn page(ctx: &Context, id: NoticeRecipientId) -> Result<AckView, AckActionError> {
    let now = ctx.clock.now();
    let (r, notice, locale, deadline) = load(&ctx.db, id).await?;
    Ok(view(&r, notice, locale, deadline, now))
}

/// Records a recipient's answer (it may be changed until the deadline).
///
/// # Errors
/// `Gone`, `NotAsked`, `Refused` (deadline passed, comment missing), `Raced`, or a store
/// failure.
pub async fn answer(
    ctx: &Context,
    id: NoticeRecipientId,
    answer: AckAnswer,
    comment: &str,
) -> Result<AckView, AckActionError> {
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let (mut r, notice, locale, deadline) = load(&txn, id).await?;
    let before = r.ack_status;
    let comment: String = comment.trim().chars().take(2000).collect();
    r.ack_status = Some(
        before
            .unwrap_or(AckStatus::Pending)
            .answer(answer, &comment, deadline, now)?,
    );
    r.ack_comment = Some(comment).filter(|c| !c.is_empty());
    r.ack_at = Some(now);
    r.ack_source = Some("ack_page".into());
    if !store::notices::update_ack(&txn, &r, before).await? {
        return Err(AckActionError::Raced);
    }
    let event = crate::domain::NewEvent {
        event_type: crate::domain::EventType::NoticeAcknowledged,
        subscriber_id: Some(r.subscriber_id),
        data: serde_json::json!({
            "notice_id": notice.id,
            "recipient_id": r.id,
            "subscriber_id": r.subscriber_id,
            "status": r.ack_status.map(|s| s.as_str()),
        }),
    };
    store::events::append(&txn, &event, now).await?;
    store::commit(txn).await?;
    tracing::info!(notice.id = %notice.id, recipient.id = %r.id, "acknowledgement recorded");
    Ok(view(&r, notice, locale, deadline, now))
}

/// What one run of the `notices` job did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct AckJobReport {
    /// Reminders written to the outbox.
    pub reminders: u64,
    /// Silences recorded as acceptance.
    pub accepted_by_silence: u64,
}

/// Sends due reminders to non-responders and records silence as acceptance once a deadline
/// has passed. Idempotent: a reminder counts once per offset, a silence once.
///
/// # Errors
/// Store failure.
pub async fn run(ctx: &Context) -> Result<AckJobReport, NoticesError> {
    let now = ctx.clock.now();
    let mut report = AckJobReport::default();
    for notice in store::notices::all(&ctx.db).await? {
        let (Some(deadline), Some(_)) = (notice.fields.ack_deadline, notice.published_at) else {
            continue;
        };
        let recipients = store::notices::recipients_of(&ctx.db, notice.id).await?;
        if now > deadline {
            report.accepted_by_silence += lapse(ctx, &recipients, deadline, now).await?;
        } else {
            report.reminders += remind(ctx, &notice, &recipients, deadline, now).await?;
        }
    }
    if report.reminders > 0 {
        ctx.outbox.notify_one();
    }
    Ok(report)
}

async fn lapse(
    ctx: &Context,
    recipients: &[NoticeRecipient],
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, NoticesError> {
    let mut lapsed = 0;
    for r in recipients {
        let Some(next) = r.ack_status.and_then(|s| s.lapse(deadline, now)) else {
            continue;
        };
        let mut changed = r.clone();
        changed.ack_status = Some(next);
        changed.ack_at = Some(deadline);
        changed.ack_source = Some("deadline".into());
        if store::notices::update_ack(&ctx.db, &changed, r.ack_status).await? {
            lapsed += 1;
        }
    }
    Ok(lapsed)
}

async fn remind(
    ctx: &Context,
    notice: &Notice,
    recipients: &[NoticeRecipient],
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, NoticesError> {
    let due = reminders_due(deadline, &ctx.settings.notices.reminder_days_before, now);
    let to_remind: Vec<&NoticeRecipient> = recipients
        .iter()
        .filter(|r| r.ack_status.is_some_and(AckStatus::is_outstanding) && r.reminders_sent < due)
        .collect();
    if to_remind.is_empty() {
        return Ok(0);
    }
    let suffix = format!(" reminder {due}");
    let mut campaign = notice_campaign(
        &notice.number,
        notice.revision,
        &notice.fields.title,
        &[],
        now,
        &suffix,
    );
    let txn = store::begin_write(&ctx.writer).await?;
    store::campaigns::insert(&txn, &campaign, now).await?;
    store::notices::insert_mailing(&txn, campaign.id, notice.id, MailingPurpose::Reminder, now)
        .await?;
    let mut to = Vec::with_capacity(to_remind.len());
    for r in &to_remind {
        let mut changed = (*r).clone();
        changed.reminders_sent = due;
        // Only while still outstanding: an answer given meanwhile wins.
        if store::notices::update_ack(&txn, &changed, r.ack_status).await? {
            to.push((r.subscriber_id, r.subscription_id));
        }
    }
    super::start_mailing(ctx, &txn, &mut campaign, &to, now).await?;
    store::commit(txn).await?;
    Ok(to.len() as u64)
}

/// One line of the acknowledgement report.
#[derive(Debug, Clone, Serialize)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct AckRow {
    /// The recipient.
    pub subscriber_id: String,
    /// Their address.
    pub email: String,
    pub company: Option<String>,
    /// Where their acknowledgement stands.
    pub status: AckStatus,
    /// Conditions or reasons.
    pub comment: Option<String>,
    /// When answered (or when silence became acceptance).
    pub answered_at: Option<DateTime<Utc>>,
    pub reminders_sent: u32,
}

/// The acknowledgement report of a notice.
#[derive(Debug, Clone, Serialize)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct AckReport {
    /// The notice number.
    pub number: String,
    pub revision: u32,
    pub deadline: DateTime<Utc>,
    /// Counts per status.
    pub counts: std::collections::BTreeMap<&'static str, u64>,
    /// Recipients who have not answered yet.
    pub outstanding: u64,
    /// One line per recipient.
    pub recipients: Vec<AckRow>,
}

/// Who acknowledged, how and when, and who is outstanding.
///
/// # Errors
/// `NotFound`, `Invalid` when the notice asks for no acknowledgement, or a store failure.
pub async fn report(ctx: &Context, id: NoticeId) -> Result<AckReport, NoticesError> {
    let notice = store::notices::find(&ctx.db, id).await?;
    let Some(deadline) = notice.fields.ack_deadline else {
        return Err(crate::domain::NoticeError::Field(
            "this notice asks for no acknowledgement".into(),
        )
        .into());
    };
    let recipients = store::notices::recipients_of(&ctx.db, id).await?;
    let ids: Vec<_> = recipients.iter().map(|r| r.subscriber_id).collect();
    let people = store::subscribers::find_many(&ctx.db, &ids).await?;
    let mut rows = Vec::with_capacity(recipients.len());
    let mut counts = std::collections::BTreeMap::new();
    for r in recipients {
        let status = r.ack_status.unwrap_or(AckStatus::Pending);
        *counts.entry(status.as_str()).or_insert(0) += 1;
        let email = people
            .iter()
            .find(|p| p.id == r.subscriber_id)
            .map(|p| p.email.as_str().to_owned())
            .unwrap_or_default();
        let company = store::products::find_customer(&ctx.db, r.subscriber_id)
            .await?
            .and_then(|c| c.company);
        rows.push(AckRow {
            subscriber_id: r.subscriber_id.to_string(),
            email,
            company,
            status,
            comment: r.ack_comment,
            answered_at: r.ack_at,
            reminders_sent: r.reminders_sent,
        });
    }
    Ok(AckReport {
        number: notice.number.to_string(),
        revision: notice.revision,
        deadline,
        outstanding: counts.get("pending").copied().unwrap_or(0),
        counts,
        recipients: rows,
    })
}

/// The report as CSV: one line per recipient.
pub fn report_csv(report: &AckReport) -> String {
    let mut table = CsvTable::new([
        "number",
        "revision",
        "subscriber_id",
        "email",
        "company",
        "status",
        "comment",
        "answered_at",
        "reminders_sent",
    ]);
    for r in &report.recipients {
        table.row([
            report.number.clone(),
            report.revision.to_string(),
            r.subscriber_id.clone(),
            r.email.clone(),
            r.company.clone().unwrap_or_default(),
            r.status.as_str().to_owned(),
            r.comment.clone().unwrap_or_default(),
            r.answered_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            r.reminders_sent.to_string(),
        ]);
    }
    table.into_string()
}
