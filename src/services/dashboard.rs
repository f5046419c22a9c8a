//! The admin dashboard's figures: subscriptions per list and state, growth over the last
//! days, and recent campaigns with their delivery figures.

use chrono::{Duration, NaiveDate};

use crate::{
    context::Context,
    domain::{MailingList, SubscriptionStatus},
    services::campaigns::{self, CampaignOverview, CampaignsError},
    store::{self, StoreError},
};

/// Subscriptions of one list per state.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ListCounts {
    pub list: MailingList,
    pub pending: u64,
    pub confirmed: u64,
    pub unsubscribed: u64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Per list.
    pub lists: Vec<ListCounts>,
    /// Subscribers in total at the end of each of the last days, oldest first.
    pub growth: Vec<(NaiveDate, u64)>,
    /// The newest campaigns with their figures.
    pub campaigns: Vec<CampaignOverview>,
}

/// The dashboard over `days` days and the `recent` newest campaigns.
///
/// # Errors
/// Store failure.
pub async fn dashboard(ctx: &Context, days: u32, recent: usize) -> Result<Dashboard, StoreError> {
    let counts = store::overview::subscription_counts(&ctx.db).await?;
    let lists = store::lists::all(&ctx.db)
        .await?
        .into_iter()
        .map(|list| {
            let of = |s: SubscriptionStatus| {
                counts
                    .iter()
                    .filter(|(l, st, _)| *l == list.id && *st == s)
                    .map(|(_, _, n)| n)
                    .sum()
            };
            ListCounts {
                pending: of(SubscriptionStatus::Pending),
                confirmed: of(SubscriptionStatus::Confirmed),
                unsubscribed: of(SubscriptionStatus::Unsubscribed),
                list,
            }
        })
        .collect();
    let today = ctx.clock.now().date_naive();
    let first = today - Duration::days(i64::from(days.saturating_sub(1)));
    let since = first.and_time(chrono::NaiveTime::MIN).and_utc();
    let (before, per_day) = store::overview::subscribers_per_day(&ctx.db, since).await?;
    let growth = cumulative(first, today, before, &per_day);
    let mut overviews = Vec::new();
    for campaign in campaigns::all(ctx).await?.into_iter().take(recent) {
        match campaigns::overview(ctx, campaign.id).await {
            Ok(o) => overviews.push(o),
            Err(CampaignsError::Store(e)) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(Dashboard {
        lists,
        growth,
        campaigns: overviews,
    })
}

/// The running total at the end of each day from `first` to `last`.
fn cumulative(
    first: NaiveDate,
    last: NaiveDate,
    before: u64,
    per_day: &[(NaiveDate, u64)],
) -> Vec<(NaiveDate, u64)> {
    let mut total = before;
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|day| {
            total += per_day
                .iter()
                .filter(|(d, _)| *d == day)
                .map(|(_, n)| n)
                .sum::<u64>();
            (day, total)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_a_running_total_with_every_day_present() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
        let growth = cumulative(d(1), d(4), 10, &[(d(2), 3), (d(4), 1)]);
        assert_eq!(growth, vec![(d(1), 10), (d(2), 13), (d(3), 13), (d(4), 14)]);
    }
}
