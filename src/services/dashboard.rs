//! The admin dashboard's figures: the headline (people, growth over 30 days, the rates of
//! the last sent campaigns), subscriptions per list and state, growth over the last days, and
//! recent campaigns with their delivery figures. A fixed number of queries, however large.

use chrono::{Duration, NaiveDate};

use crate::{
    context::Context,
    domain::{CampaignStatus, MailingList, SubscriptionStatus},
    services::campaigns::{self, CampaignFigures},
    store::{self, StoreError},
};

/// The days the headline's growth looks back.
pub const GROWTH_WINDOW_DAYS: i64 = 30;
/// The sent campaigns whose rates the headline shows, at most.
pub const RATED_CAMPAIGNS: u64 = 5;

/// What the dashboard leads with.
#[derive(Debug, Clone, Default)]
pub struct Headline {
    /// People who receive campaigns: active, with at least one confirmed subscription.
    pub people: u64,
    /// People whose first subscription was confirmed (imported, enrolled) in the last 30 days.
    pub joined: u64,
    /// People who left in the last 30 days and receive nothing now.
    pub left: u64,
    /// `joined - left` against the people 30 days ago (`people - joined + left`), in per cent
    /// (`None` when there were none).
    pub growth_percent: Option<f64>,
    /// The last sent campaigns (newest first) with their figures.
    pub campaigns: Vec<CampaignFigures>,
    /// Over those campaigns: messages delivered (accepted by the relay).
    pub delivered: u64,
    /// Unsubscribes, bounces and complaints over those campaigns, each in per cent of
    /// `delivered` (`None` when nothing was delivered).
    pub unsubscribe_percent: Option<f64>,
    #[expect(missing_docs, reason = "as above")]
    pub bounce_percent: Option<f64>,
    #[expect(missing_docs, reason = "as above")]
    pub complaint_percent: Option<f64>,
}

impl Headline {
    /// `joined - left`.
    pub fn net(&self) -> i64 {
        i64::try_from(self.joined).unwrap_or(i64::MAX)
            - i64::try_from(self.left).unwrap_or(i64::MAX)
    }
}

/// `part` in per cent of `whole`; `None` when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// The headline: five queries, whatever the number of people and campaigns.
///
/// # Errors
/// Store failure.
pub async fn headline(ctx: &Context) -> Result<Headline, StoreError> {
    let people = store::overview::active_people(&ctx.db).await?;
    let since = ctx.clock.now() - Duration::days(GROWTH_WINDOW_DAYS);
    let (joined, left) = store::overview::people_joined_and_left_since(&ctx.db, since).await?;
    let net = i128::from(joined) - i128::from(left);
    let before = u64::try_from(i128::from(people) - net).unwrap_or(0);
    let growth_percent = (before > 0).then(|| net as f64 * 100.0 / before as f64);
    let sent = store::campaigns::newest_in(&ctx.db, CampaignStatus::Sent, RATED_CAMPAIGNS).await?;
    let ids: Vec<_> = sent.iter().map(|c| c.id).collect();
    let mut counts = campaigns::counts_of(ctx, &ids).await?;
    let campaigns: Vec<CampaignFigures> = sent
        .into_iter()
        .map(|campaign| CampaignFigures {
            counts: counts.remove(&campaign.id).unwrap_or_default(),
            campaign,
        })
        .collect();
    let sum = |f: fn(&CampaignFigures) -> u64| campaigns.iter().map(f).sum::<u64>();
    let delivered = sum(|c| c.counts.sent);
    Ok(Headline {
        people,
        joined,
        left,
        growth_percent,
        delivered,
        unsubscribe_percent: percent(sum(|c| c.counts.unsubscribed), delivered),
        bounce_percent: percent(sum(|c| c.counts.bounced), delivered),
        complaint_percent: percent(sum(|c| c.counts.complaints), delivered),
        campaigns,
    })
}

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
    /// What it leads with.
    pub headline: Headline,
    /// Per list.
    pub lists: Vec<ListCounts>,
    /// Subscribers in total at the end of each of the last days, oldest first.
    pub growth: Vec<(NaiveDate, u64)>,
    /// The newest campaigns with their figures.
    pub campaigns: Vec<CampaignFigures>,
}

/// The dashboard over `days` days and the `recent` newest campaigns.
///
/// # Errors
/// Store failure.
pub async fn dashboard(ctx: &Context, days: u32, recent: u64) -> Result<Dashboard, StoreError> {
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
    let headline = headline(ctx).await?;
    let recent = campaigns::page_with_counts(ctx, None, recent).await?.items;
    Ok(Dashboard {
        headline,
        lists,
        growth,
        campaigns: recent,
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
