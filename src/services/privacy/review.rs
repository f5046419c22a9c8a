//! The retention review listing: who the inactivity rule of `[retention]` reaches within a
//! horizon, when, and what it will do (flag or erase). Reads only; the purge acts.

use chrono::{DateTime, Duration, Utc};

use super::PrivacyError;
use crate::services::paging::Page;
use crate::{
    context::Context,
    domain::{
        SubscriberId,
        retention::{self, RetentionCutoffs, ReviewAction},
    },
    store,
};

/// Subscribers read per page.
const PAGE: u64 = 500;

/// One person the inactivity rule reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    /// Who (never the address).
    pub subscriber_id: SubscriberId,
    /// Their last sign of life.
    pub last_seen_at: DateTime<Utc>,
    /// When the rule reaches them (in the past: overdue, acted on at the next purge).
    pub review_due_at: DateTime<Utc>,
    /// When they were flagged, if they are.
    pub flagged_at: Option<DateTime<Utc>>,
    /// What the rule does.
    pub action: ReviewAction,
}

/// Everyone the inactivity rule reaches before `now + within`, the earliest first.
///
/// # Errors
/// Store failure.
pub async fn retention_review(
    ctx: &Context,
    actor: &crate::domain::Actor,
    within: Duration,
) -> Result<Vec<ReviewItem>, PrivacyError> {
    actor.authorize(crate::domain::Action::Read)?;
    let mut items = scan(ctx, within, None, None).await?;
    items.sort_by_key(|i| (i.review_due_at, i.subscriber_id));
    Ok(items)
}

/// A page of the review after the subscriber `after`, by subscriber id (keyset), and the
/// cursor of the next page.
///
/// # Errors
/// Store failure.
pub async fn retention_review_page(
    ctx: &Context,
    actor: &crate::domain::Actor,
    within: Duration,
    after: Option<SubscriberId>,
    limit: u64,
) -> Result<Page<ReviewItem, SubscriberId>, PrivacyError> {
    use crate::services::paging;
    actor.authorize(crate::domain::Action::Read)?;
    let want = usize::try_from(paging::fetch_size(limit)).unwrap_or(usize::MAX);
    let found = scan(ctx, within, after, Some(want)).await?;
    Ok(Page::cut(found, limit, |i| i.subscriber_id))
}

/// The people the rule reaches before `now + within`, by subscriber id after `after`, at
/// most `want` of them.
async fn scan(
    ctx: &Context,
    within: Duration,
    mut after: Option<SubscriberId>,
    want: Option<usize>,
) -> Result<Vec<ReviewItem>, PrivacyError> {
    let policy = ctx.settings.retention.policy;
    let horizon = ctx.clock.now() + within;
    // No record is older than the epoch; a far earlier bound overflows PostgreSQL.
    let never = DateTime::<Utc>::UNIX_EPOCH;
    let cutoffs = RetentionCutoffs {
        pending_before: never,
        lapsed_before: never,
        review_before: horizon - policy.review_after,
        flagged_are_due: true,
    };
    let mut items = Vec::new();
    loop {
        let page = store::retention::due_page(&ctx.db, &cutoffs, after, PAGE).await?;
        for subject in &page {
            let (review_due_at, action) = retention::review(subject, &policy);
            if review_due_at <= horizon {
                items.push(ReviewItem {
                    subscriber_id: subject.id,
                    last_seen_at: retention::last_seen_at(subject),
                    review_due_at,
                    flagged_at: subject.review_flagged_at,
                    action,
                });
                if want.is_some_and(|w| items.len() >= w) {
                    return Ok(items);
                }
            }
        }
        match page.last() {
            Some(last) if page.len() as u64 == PAGE => after = Some(last.id),
            _ => return Ok(items),
        }
    }
}
