//! The admin pages of campaigns: the list, one campaign's page with its figures, chart,
//! moves and preview frame, and the preview itself (the composer and the review are in
//! `campaign_forms`). Render only.

use maud::{Markup, html};

use super::campaign_forms::{around, audience_card, moves};
use super::dashboard::decimal;
use super::{
    CampaignChart, Ctx, campaign_chart, i18n::number, layout, refreshing_layout, status, t, tf, tl,
    tn,
};
use crate::{
    domain::{Action, CampaignId, CampaignStatus, UnsubscribeReason},
    services::campaigns::{
        Audience, CampaignCounts, CampaignFigures, CampaignOverview, CampaignTimeline,
        LeavingReasons,
    },
};

/// `/admin/campaigns`: a page of campaigns with their status and figures, `next` the cursor
/// of the older ones.
pub fn campaigns_page(ctx: &Ctx, rows: &[CampaignFigures], next: Option<CampaignId>) -> Markup {
    layout(
        ctx,
        t("Campaigns"),
        html! {
            @if ctx.may(Action::ManageCampaigns) { p { a.button href="/admin/campaigns/new" { (t("New campaign")) } } }
            table.campaigns {
                tr {
                    th { (t("Name")) } th { (t("Status")) } th { (t("Send at")) }
                    th.num { (t("Sent")) } th.num { (t("Bounced")) } th.num { (t("Complaints")) } th.num { (t("Unsubscribes")) }
                }
                @for r in rows {
                    @let (c, n) = (&r.campaign, &r.counts);
                    tr {
                        td { a href={ "/admin/campaigns/" (c.id) } { (c.def.name) } br; span.muted { (c.def.subject) } }
                        td { (status(c.status.as_str())) }
                        td { (c.send_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                        td.num.sent { (number(n.sent)) } td.num.bounced { (number(n.bounced)) }
                        td.num.complaints { (number(n.complaints)) } td.num.unsubscribes { (number(n.unsubscribed)) }
                    }
                }
            }
            @if rows.is_empty() { p.muted { (t("No campaigns yet.")) } }
            @if let Some(next) = next { p.pager { a.button rel="next" href={ "/admin/campaigns?before=" (next) } { (t("Older →")) } } }
        },
    )
}

/// What `/admin/campaigns/{id}` shows.
#[derive(Debug, Clone)]
pub struct CampaignView {
    /// The campaign and its figures.
    pub overview: CampaignOverview,
    /// Its sends and unsubscribes over time, once it started.
    pub timeline: Option<CampaignTimeline>,
    /// Why the last move was refused, shown above everything.
    pub error: Option<String>,
    /// Who it would reach now, before it has delivery figures (a draft or a scheduled one).
    pub audience: Option<Audience>,
    /// Whether it carries a product notice (its content and send go through the notice).
    pub is_notice: bool,
    /// Whether the page reloads itself while the campaign moves (`?watch=1`, chosen by the
    /// user: a page that reloads unasked breaks WCAG 2.2.1).
    pub watch: bool,
    /// Why people left by its link.
    pub leaving: LeavingReasons,
}

/// `/admin/campaigns/{id}`: figures, progress, chart, the moves and the preview frame.
pub fn campaign_page(ctx: &Ctx, v: &CampaignView) -> Markup {
    let c = &v.overview.campaign;
    let n = &v.overview.counts;
    let done = n.sent + n.failed + n.suppressed;
    let action = |verb: &str| format!("/admin/campaigns/{}/{verb}", c.id);
    let moving = is_moving(&v.overview);
    let shell = |title: &str, body| {
        if moving && v.watch {
            refreshing_layout(ctx, title, REFRESH_SECS, body)
        } else {
            layout(ctx, title, body)
        }
    };
    let here = format!("/admin/campaigns/{}", c.id);
    shell(
        &c.def.name,
        html! {
            @if let Some(e) = &v.error { p.error role="alert" { (e) } }
            div.card {
                p { (t("Status:")) " " (status(c.status.as_str()))
                    @if let Some(at) = c.send_at { " · " (tf("send at {time}", &[("time", &ctx.time(at))])) }
                    @if let Some(r) = &c.paused_reason { " · " (tf("paused: {reason}", &[("reason", &tl(r))])) } }
                @if let Some(r) = &c.def.reply_to {
                    p { (around(t("Replies go to {address}"), "address", html! { code { (r.as_str()) } })) }
                }
                @if !v.is_notice {
                    p #archive { (t("Public archive:")) " " (super::campaign_forms::archive_words(c.def.archive))
                        @if c.def.archive && c.status == CampaignStatus::Sent {
                            " · " a href={ "/archive/" (c.id) } { (t("See it in the archive")) }
                        } }
                }
                @if n.total > 0 {
                    progress max=(n.total) value=(done) {
                        (tf("{done} of {total}", &[("done", &number(done)), ("total", &number(n.total))]))
                    }
                }
                @if c.status == CampaignStatus::Sending {
                    p.pace { (pace(v.overview.rate_per_sec, v.overview.eta_secs)) }
                }
                @if moving {
                    p.watch {
                        @if v.watch {
                            (tf("This page reloads every {n} seconds.", &[("n", &REFRESH_SECS)])) " "
                            a href=(here) { (t("Stop reloading")) }
                        } @else {
                            a href={ (here) "?watch=1" } { (t("Watch it live")) }
                            " " (tf("(the page reloads every {n} seconds)", &[("n", &REFRESH_SECS)]))
                        }
                    }
                }
                @if let Some(a) = v.audience.as_ref().filter(|_| n.total == 0) {
                    (audience_card(a))
                } @else {
                table.figures {
                    tr {
                        th.num { (t("Recipients")) } th.num { (t("Sent")) } th.num { (t("Queued")) } th.num { (t("Deferred")) }
                        th.num { (t("Failed")) } th.num { (t("Suppressed")) } th.num { (t("Unsubscribed because of it")) }
                    }
                    tr {
                        td.num { (number(n.total)) } td.num #sent { (number(n.sent)) } td.num { (number(n.queued + n.sending)) }
                        td.num { (number(n.deferred)) } td.num { (number(n.failed)) } td.num { (number(n.suppressed)) }
                        td.num #unsubscribed { (number(n.unsubscribed)) }
                    }
                }
                }
            }
            @if let Some(timeline) = &v.timeline {
                div.card {
                    h2 { (t("Over time")) }
                    (campaign_chart(&chart(ctx, n, timeline)))
                    p.muted { (tf("Blue: messages sent per {bucket}; red: people who left by this campaign's unsubscribe link, on their own scale. A pause shows as a gap; unsubscribes that follow the sends closely are a reaction to the content.", &[("bucket", &bucket_label(timeline.bucket_secs))])) }
                }
            }
            @if !v.leaving.counts.is_empty() { (leaving_card(ctx, &v.leaving)) }
            (moves(ctx, c, n, v.is_notice))
            h2 { (t("Preview")) }
            p.muted { (t("Subject:")) " " (c.def.subject) }
            @if !c.def.translations.is_empty() {
                p.languages {
                    (t("Preview in:")) " "
                    a href=(action("preview")) target="campaign-preview" { (t("the default text")) }
                    @for locale in c.def.translations.keys() {
                        " · " a href={ (action("preview")) "?locale=" (locale.as_str()) } target="campaign-preview" { (super::auth::language_name(*locale)) }
                    }
                }
            }
            iframe.preview sandbox="" name="campaign-preview" src=(action("preview")) title=(t("Preview of the e-mail")) {}
        },
    )
}

/// The reasons people gave when they left by the campaign's link, and their comments.
fn leaving_card(ctx: &Ctx, l: &LeavingReasons) -> Markup {
    html! {
        div.card #leaving {
            h2 { (t("Why people left")) }
            p.muted { (t("Reasons given on the unsubscribe page (optional, so fewer than all who left). They are kept without the person.")) }
            table.figures {
                tr { th { (t("Reason")) } th.num { (t("People")) } }
                @for (reason, n) in &l.counts {
                    tr { td { (reason_words(*reason)) } td.num data-reason=(reason.as_str()) { (number(*n)) } }
                }
            }
            @if !l.comments.is_empty() {
                h3 { (t("What they wrote")) }
                ul.comments {
                    @for (reason, text, at) in &l.comments {
                        li { q { (text) } " " span.muted { "(" (reason_words(*reason)) ", " (ctx.time(*at)) ")" } }
                    }
                }
            }
        }
    }
}

/// A reason for leaving in the page's language.
fn reason_words(reason: UnsubscribeReason) -> &'static str {
    match reason {
        UnsubscribeReason::TooMany => t("Too many e-mails"),
        UnsubscribeReason::NotRelevant => t("Not relevant to them"),
        UnsubscribeReason::NeverSignedUp => t("Did not remember signing up"),
        UnsubscribeReason::Other => t("Something else"),
    }
}

/// How often a campaign's page reloads itself while it sends.
const REFRESH_SECS: u32 = 5;

/// Whether the campaign is sending, or starts within ten minutes: its page then offers to
/// reload itself (and does after the user started or resumed it) until it is sent, paused or
/// cancelled.
fn is_moving(o: &CampaignOverview) -> bool {
    let c = &o.campaign;
    match c.status {
        CampaignStatus::Sending => true,
        CampaignStatus::Scheduled => c
            .send_at
            .is_none_or(|t| t - o.as_of <= chrono::Duration::minutes(10)),
        _ => false,
    }
}

/// The sending rate and the time left, in words: "12.5 messages/s · about 3 minutes left".
fn pace(rate_per_sec: Option<f64>, eta_secs: Option<u64>) -> String {
    let per_sec = |rate: String| tf("{rate} messages/s", &[("rate", &decimal(rate))]);
    let rate = match rate_per_sec {
        Some(r) if r >= 10.0 => per_sec(format!("{r:.0}")),
        Some(r) if r >= 1.0 => per_sec(format!("{r:.1}")),
        Some(r) if r > 0.0 => tf(
            "{rate} messages/min",
            &[("rate", &decimal(format!("{:.1}", r * 60.0)))],
        ),
        _ => return t("Starting: no message sent yet.").to_owned(),
    };
    match eta_secs {
        Some(secs) => format!("{rate} · {}", time_left(secs)),
        None => rate,
    }
}

/// `secs` as "about 3 minutes left".
fn time_left(secs: u64) -> String {
    match secs {
        0 => t("almost done").to_owned(),
        1..60 => t("less than a minute left").to_owned(),
        60..5400 => tn(
            "about {n} minute left",
            "about {n} minutes left",
            secs.div_ceil(60),
        ),
        5400..172_800 => tn(
            "about {n} hour left",
            "about {n} hours left",
            (secs + 1800) / 3600,
        ),
        _ => tn(
            "about {n} day left",
            "about {n} days left",
            (secs + 43_200) / 86_400,
        ),
    }
}

fn bucket_label(secs: i64) -> String {
    match secs {
        604_800 => t("week").to_owned(),
        86_400 => t("day").to_owned(),
        3600 => t("hour").to_owned(),
        s if s % 3600 == 0 => tf("{n} hours", &[("n", &(s / 3600))]),
        s => tf("{n} min", &[("n", &(s / 60))]),
    }
}

fn chart(ctx: &Ctx, n: &CampaignCounts, t: &CampaignTimeline) -> CampaignChart {
    CampaignChart {
        outcomes: vec![
            ("sent", n.sent, "#3aa76d"),
            ("waiting", n.queued + n.sending + n.deferred, "#f2c14e"),
            ("failed", n.failed, "#c0392b"),
            ("suppressed", n.suppressed, "#9aa5bd"),
        ],
        start: ctx.time(t.start),
        bucket: bucket_label(t.bucket_secs),
        sent: t.sent.clone(),
        unsubscribed: t.unsubscribed.clone(),
    }
}

/// The preview frame's document: the campaign's HTML as a sample recipient would get it,
/// one whole HTML document.
pub fn preview(html: &str) -> Markup {
    super::preview_document(None, html)
}

/// The preview of an unsaved draft: its subject (escaped) at the top of its HTML.
pub fn preview_with_subject(subject: &str, html: &str) -> Markup {
    let header = html! { p { strong { (t("Subject:")) " " } (subject) } hr; };
    super::preview_document(Some(header), html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_as_words() {
        assert_eq!(time_left(0), "almost done");
        assert_eq!(time_left(42), "less than a minute left");
        assert_eq!(time_left(150), "about 3 minutes left");
        assert_eq!(time_left(60), "about 1 minute left");
        assert_eq!(time_left(2 * 3600 + 100), "about 2 hours left");
        assert_eq!(time_left(3 * 86_400), "about 3 days left");
    }

    #[test]
    fn pace_names_the_rate_and_the_time_left() {
        assert_eq!(
            pace(Some(12.34), Some(150)),
            "12 messages/s · about 3 minutes left"
        );
        assert_eq!(pace(Some(2.5), None), "2.5 messages/s");
        assert_eq!(
            pace(Some(0.05), Some(20)),
            "3.0 messages/min · less than a minute left"
        );
        assert_eq!(pace(None, None), "Starting: no message sent yet.");
    }
}
