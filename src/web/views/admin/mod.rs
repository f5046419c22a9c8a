//! The admin UI's pages: here the shell and shared pieces (layout with navigation, form
//! fields with their errors in place, the CSRF field, the server-drawn charts, the error
//! pages); one module per admin area beside it. Render only: no I/O, no HTTP decisions.

pub mod auth;
pub mod campaign_forms;
pub mod campaigns;
pub mod customers;
pub mod dashboard;
pub mod hooks;
pub mod i18n;
pub mod imports;
pub mod lists;
pub mod notices;
pub mod retention;
pub mod segments;
pub mod subscribers;
pub mod suppressions;
pub mod templates;
pub mod transactional;
pub mod users;

use std::collections::HashMap;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, NaiveDate, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::domain::{Action, MailingList, Role};
pub use i18n::{t, te, tf, tl, tn};

/// Who is looking at a page, and the CSRF token their forms carry.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The user's address.
    pub email: String,
    /// The user's role.
    pub role: Role,
    /// The session's CSRF token.
    pub csrf: String,
    /// What the last action did, shown once at the top of the page.
    pub flash: Option<String>,
    /// The path of the page, to mark its place in the navigation.
    pub path: String,
    /// The user's time zone: every time on a page is shown in it.
    pub time_zone: chrono_tz::Tz,
}

impl Ctx {
    /// `t` in the user's time zone, with the zone's abbreviation: `2026-12-03 10:00 CET`.
    pub fn time(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.time_zone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// `t` to the second in the user's time zone: `2026-12-03 10:00:05 CET`.
    pub fn time_secs(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.time_zone)
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }

    /// `t` as the value of a `datetime-local` input in the user's time zone.
    pub fn datetime_local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.time_zone)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// The user's time zone by its IANA name, for labels ("Send at (Europe/Berlin)").
    pub fn zone_name(&self) -> &'static str {
        self.time_zone.name()
    }

    /// Whether the user may do `action`: the permission table the services check, so a page
    /// offers only the controls that work.
    pub fn may(&self, action: Action) -> bool {
        crate::domain::may(self.role, action)
    }
}

/// The admin stylesheet (served at `/admin/assets/admin.css`; no inline styles: the CSP
/// forbids them). The phone rules for the page's body come last, so they win over the rules
/// they adjust. On a phone a table too wide for the screen scrolls sideways, by itself if
/// it holds something to focus (a scroller must be reachable by keyboard), else with the
/// page's main part; its headings and status tags break only between words, long values
/// wrap. A one-row table of figures stands as a list of heading and value.
pub const STYLESHEET: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,sans-serif;color:#1d2330;background:#f4f6fa}
header.top{display:flex;gap:1rem;align-items:center;flex-wrap:wrap;background:#1f2a44;color:#fff;padding:.6rem 1.5rem}
header.top a{color:#dfe6f5;text-decoration:none}header.top a:hover{color:#fff}
header.top a[aria-current=page]{color:#fff;font-weight:600;border-bottom:2px solid #8fb0ff}
header.top .brand{font-weight:700;color:#fff;margin-right:.5rem}
header.top nav{display:flex;flex-wrap:wrap;gap:.4rem 1.1rem}
header.top details.narrow{display:none}header.top summary{cursor:pointer;color:#fff}
header.top form{margin-left:auto}header.top .who{font-size:.85rem;color:#aab6d0}
.skip{position:absolute;left:-999px;top:0;background:#fff;color:#1d2330;padding:.4rem .8rem;z-index:9}.skip:focus{left:.5rem}
@media (max-width:900px){header.top{padding:.6rem 1rem}header.top nav.wide{display:none}header.top details.narrow{display:block}
header.top details.narrow nav{flex-direction:column;padding:.5rem 0}header.top:has(details.narrow[open]) .brand{align-self:flex-start}}
main{max-width:1100px;margin:1.5rem auto;padding:0 1.5rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid #dde3ee;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:1rem}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e6eaf2;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;color:#5b6785;letter-spacing:.03em}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
label{display:block;font-weight:600;margin:.7rem 0 .2rem}
input[type=text],input[type=email],input[type=password],input[type=datetime-local],input[type=search],select,textarea{width:100%;padding:.45rem .55rem;border:1px solid #c5cedf;border-radius:6px;font:inherit;background:#fff}
textarea{min-height:14rem;font-family:ui-monospace,monospace}textarea.short{min-height:4rem}
input[aria-invalid=true],textarea[aria-invalid=true],select[aria-invalid=true]{border-color:#c0392b}
.field-error{color:#c0392b;margin:.2rem 0 0;font-size:.9rem}
.error{background:#fdecea;border:1px solid #f5c2bd;padding:.6rem .8rem;border-radius:6px}
.notice{background:#e8f5ec;border:1px solid #b9e0c4;padding:.6rem .8rem;border-radius:6px}
button,.button{display:inline-block;background:#2f5bd3;color:#fff;border:0;border-radius:6px;padding:.45rem .9rem;font:inherit;cursor:pointer;text-decoration:none}
button.secondary{background:#e8ecf5;color:#1d2330}button.danger{background:#c0392b}
button[hidden]{display:none}
form.inline{display:inline}
.filters{display:flex;gap:.6rem;align-items:end;flex-wrap:wrap}.filters label{margin:0 0 .2rem}
.filters>div{min-width:160px}
.status{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.8rem;background:#e8ecf5;white-space:nowrap;overflow-wrap:normal}
.status.confirmed,.status.sent,.status.active,.status.completed{background:#d7f0df}.status.pending,.status.scheduled,.status.sending,.status.open{background:#fff2cc}
.status.unsubscribed,.status.cancelled,.status.failed,.status.blocked,.status.erased,.status.overdue{background:#f8d9d6}
iframe.preview{width:100%;height:420px;border:1px solid #dde3ee;border-radius:6px;background:#fff}
.composer{display:block}.compose-preview iframe.preview{height:600px}
@media (min-width:1000px){.composer{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem;align-items:start}.compose-preview{position:sticky;top:1rem}.compose-preview iframe.preview{height:calc(100vh - 2rem);min-height:600px}}
fieldset{border:0;padding:0;margin:.7rem 0 0}legend{font-weight:600;padding:0}fieldset.invalid{border-left:3px solid #c0392b;padding-left:.6rem}
label.check{font-weight:400;margin:.2rem 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:.8rem 0 0}dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}
.moves .actions{display:flex;flex-wrap:wrap;gap:.4rem;align-items:center;margin-bottom:.5rem}a.button.secondary{background:#e8ecf5;color:#1d2330}
progress{width:100%;height:1rem}
div.scroll{overflow-x:auto}
div.chart{container-type:inline-size}svg.chart{display:block;width:100%;height:auto}svg.chart.narrow{display:none}
@container (max-width:599.98px){svg.chart.wide{display:none}svg.chart.narrow{display:block}}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;margin:.5rem 0 0;padding:0;font-size:.9rem}ul.legend svg.swatch{width:.75em;height:.75em;margin-right:.35em}
.muted{color:#5b6785}
.login{max-width:380px;margin:4rem auto}
.pager{margin-top:.8rem}
.headline{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:1rem;margin-bottom:1rem}
.headline .card{margin:0}.headline h2{margin:0;font-size:.85rem;text-transform:uppercase;color:#5b6785}
.figure{font-size:1.7rem;font-weight:700;margin:.2rem 0;font-variant-numeric:tabular-nums}.headline p.muted{margin:0;font-size:.85rem}
@media (max-width:900px){main{padding:0 .8rem;margin-top:1rem}
th,td{padding:.35rem .3rem}td{overflow-wrap:anywhere}td.num{overflow-wrap:normal;white-space:nowrap}th{letter-spacing:0;font-size:.75rem;text-transform:none;overflow-wrap:normal;hyphens:auto}
main{overflow-x:auto}table:has(a,button,input,select,textarea){display:block;overflow-x:auto}
table:has(a,button,input,select,textarea)>tbody{display:table;width:100%;border-collapse:collapse}
div.scroll>table{display:table;overflow:visible}div.scroll>table>tbody{display:table-row-group}
table.figures:has(th:nth-child(5)):not(:has(tr:nth-child(3))){display:grid;grid-template-columns:minmax(0,1fr) auto;grid-auto-flow:row dense}
table.figures:has(th:nth-child(5)):not(:has(tr:nth-child(3))) :is(tbody,tr){display:contents}
table.figures:has(th:nth-child(5)):not(:has(tr:nth-child(3))) th{grid-column:1;text-align:left}table.figures:has(th:nth-child(5)):not(:has(tr:nth-child(3))) td{grid-column:2}
.filters>div{min-width:0;flex:1 1 140px}iframe.preview{height:360px}}
"#;

/// A form's errors: the message to show at each field, by the field's name.
pub type Errors = HashMap<&'static str, String>;

/// The admin page shell: navigation, the user, and a logout button.
pub fn layout(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    page(ctx, title, None, body)
}

/// `layout` for a page that shows progress: the browser reloads it every `every_secs`
/// seconds (`<meta http-equiv="refresh">`, so no script is needed).
pub fn refreshing_layout(ctx: &Ctx, title: &str, every_secs: u32, body: Markup) -> Markup {
    page(ctx, title, Some(every_secs), body)
}

fn page(ctx: &Ctx, title: &str, refresh_secs: Option<u32>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(i18n::locale().as_str()) {
            head {
                meta charset="utf-8";
                @if let Some(secs) = refresh_secs { meta http-equiv="refresh" content=(secs); }
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · " (t("Bulletin admin")) }
                link rel="stylesheet" href="/admin/assets/admin.css";
            }
            body {
                a.skip href="#main" { (t("Skip to content")) }
                header.top {
                    a.brand href="/admin/" { "Bulletin" }
                    nav.wide aria-label=(t("Main")) { (nav_links(ctx)) }
                    details.narrow { summary { (t("Menu")) } nav aria-label=(t("Main")) { (nav_links(ctx)) } }
                    form.inline method="post" action="/admin/logout" {
                        span.who { a href="/admin/account" { (ctx.email) } " (" (tl(ctx.role.as_str())) ") " }
                        (csrf_field(&ctx.csrf))
                        button.secondary type="submit" { (t("Log out")) }
                    }
                }
                main #main {
                    @if let Some(message) = &ctx.flash { p.notice.flash role="status" { (message) } }
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The navigation's links, the current section marked (`aria-current`).
fn nav_links(ctx: &Ctx) -> Markup {
    let sections: [(&str, &str, bool); 17] = [
        ("/admin/", t("Dashboard"), true),
        ("/admin/lists", t("Lists"), true),
        ("/admin/subscribers", t("Subscribers"), true),
        (
            "/admin/import",
            t("Import"),
            ctx.may(Action::ManageSubscribers),
        ),
        ("/admin/campaigns", t("Campaigns"), true),
        ("/admin/segments", t("Segments"), true),
        ("/admin/notices", t("Notices"), true),
        ("/admin/customers", t("Customers"), true),
        ("/admin/templates", t("Templates"), true),
        ("/admin/jobs", t("Jobs"), true),
        ("/admin/retention", t("Retention"), true),
        ("/admin/suppressions", t("Suppressions"), true),
        (
            "/admin/privacy-requests",
            t("Requests"),
            ctx.may(Action::HandlePersonalData),
        ),
        ("/admin/audit", t("Audit"), ctx.may(Action::ReadAudit)),
        ("/admin/users", t("Users"), ctx.may(Action::ManageAccess)),
        (
            "/admin/webhooks",
            t("Webhooks"),
            ctx.may(Action::ManageAccess),
        ),
        ("/admin/account", t("Account"), false),
    ];
    let current = sections
        .iter()
        .filter(|(href, ..)| is_within(&ctx.path, href))
        .map(|(href, ..)| href.len())
        .max();
    html! {
        @for (href, name, shown) in sections {
            @if shown {
                @let here = is_within(&ctx.path, href) && Some(href.len()) == current;
                a href=(href) aria-current=[here.then_some("page")] { (name) }
            }
        }
    }
}

/// Whether `path` is the section `href` or a page under it.
fn is_within(path: &str, href: &str) -> bool {
    match href {
        "/admin/" => path == "/admin/" || path == "/admin",
        _ => {
            path == href
                || path
                    .strip_prefix(href)
                    .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('.'))
        }
    }
}

/// A page without navigation (login, set-up).
pub fn bare_layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(i18n::locale().as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · " (t("Bulletin admin")) }
                link rel="stylesheet" href="/admin/assets/admin.css";
            }
            body { main.login { div.card { h1 { (title) } (body) } } }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// The lists a form may choose, as (slug, name) options: the ones not archived.
pub fn open_list_options(lists: &[MailingList]) -> Vec<(&str, &str)> {
    lists
        .iter()
        .filter(|l| l.archived_at.is_none())
        .map(|l| (l.def.slug.as_str(), l.def.name.as_str()))
        .collect()
}

/// A labelled input with its error in place and the typed value kept.
pub fn field(name: &str, label: &str, kind: &str, value: &str, error: Option<&String>) -> Markup {
    html! {
        label for=(name) { (label) }
        input id=(name) name=(name) type=(kind) value=(value)
            aria-invalid=[error.map(|_| "true")];
        @if let Some(e) = error { p.field-error { (e) } }
    }
}

/// A labelled select with its error in place.
pub fn select(
    name: &str,
    label: &str,
    options: &[(&str, &str)],
    value: &str,
    error: Option<&String>,
) -> Markup {
    html! {
        label for=(name) { (label) }
        select id=(name) name=(name) aria-invalid=[error.map(|_| "true")] {
            @for (v, text) in options {
                option value=(v) selected[*v == value] { (text) }
            }
        }
        @if let Some(e) = error { p.field-error { (e) } }
    }
}

/// A status as a coloured tag.
pub fn status(text: &str) -> Markup {
    html! { span class={ "status " (text) } { (tl(text)) } }
}

/// How a chart is drawn: twice, wide and narrow, and the stylesheet shows the one that fits
/// its box (a container query), so its words stay legible (at least 10 px) on a phone and on
/// a desktop. The hidden one is `display:none`: it leaves the accessibility tree.
#[derive(Debug, Clone, Copy)]
struct ChartSize {
    /// The class the stylesheet picks it by.
    class: &'static str,
    /// The viewBox's width.
    width: f64,
    /// The size of its words, in viewBox units.
    font: f64,
}

/// Shown in a box at least 600 px wide: 14 units of 800 are at least 10.5 px.
const WIDE: ChartSize = ChartSize {
    class: "wide",
    width: 800.0,
    font: 14.0,
};

/// Shown in a narrower box (a phone, a dashboard column): 14 units of 360 are 11.7 px in the
/// 300 px a 390 px phone gives a card.
const NARROW: ChartSize = ChartSize {
    class: "narrow",
    width: 360.0,
    font: 14.0,
};

/// A line chart of a running total per day, drawn on the server as SVG.
pub fn growth_chart(points: &[(NaiveDate, u64)]) -> Markup {
    let first = points
        .first()
        .map(|(d, _)| d.to_string())
        .unwrap_or_default();
    let last = points
        .last()
        .map(|(d, _)| d.to_string())
        .unwrap_or_default();
    let summary = tf(
        "Subscribers from {first} to {last}: {from} to {to}",
        &[
            ("first", &first),
            ("last", &last),
            ("from", &i18n::number(points.first().map_or(0, |p| p.1))),
            ("to", &i18n::number(points.last().map_or(0, |p| p.1))),
        ],
    );
    html! {
        div.chart {
            (growth_svg(points, WIDE, &summary, &first, &last))
            (growth_svg(points, NARROW, &summary, &first, &last))
        }
    }
}

/// One drawing of `growth_chart`.
fn growth_svg(
    points: &[(NaiveDate, u64)],
    size: ChartSize,
    summary: &str,
    first: &str,
    last: &str,
) -> Markup {
    let (w, font) = (size.width, size.font);
    const H: f64 = 200.0;
    let pad = (font * 2.3).round();
    let max = points.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let min = points.iter().map(|(_, n)| *n).min().unwrap_or(0) as f64;
    let span = (max - min).max(1.0);
    let step = (w - 2.0 * pad) / (points.len().max(2) - 1) as f64;
    let coords: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, (_, n))| {
            let x = pad + step * i as f64;
            let y = H - pad - (*n as f64 - min) / span * (H - 2.0 * pad);
            (x, y)
        })
        .collect();
    let line = coords
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let area = format!(
        "{pad:.1},{:.1} {line} {:.1},{:.1}",
        H - pad,
        pad + step * (coords.len().max(1) - 1) as f64,
        H - pad
    );
    // SVG elements are not HTML void elements: each gets a closing tag (`{}`), or the
    // parser nests the next shape inside it and draws nothing.
    html! {
        svg class={ "chart " (size.class) } viewBox={ "0 0 " (w) " " (H) } role="img" aria-label=(summary) {
            title { (summary) }
            line x1=(pad) y1=(H - pad) x2=(w - pad) y2=(H - pad) stroke="#c5cedf" {}
            polygon points=(area) fill="#dce6fb" {}
            polyline points=(line) fill="none" stroke="#2f5bd3" stroke-width="2" {}
            text x=(pad) y=(H - (font * 0.6).round()) font-size=(font) fill="#5b6785" { (first) }
            text x=(w - pad) y=(H - (font * 0.6).round()) font-size=(font) fill="#5b6785" text-anchor="end" { (last) }
            text x=(pad) y=(pad - (font * 0.7).round()) font-size=(font) fill="#5b6785" { (t("max")) " " (i18n::number(max as u64)) }
        }
    }
}

/// What a campaign chart shows: the outcome of every recipient, and sends and unsubscribes
/// per time bucket from the campaign's start.
#[derive(Debug, Clone)]
pub struct CampaignChart {
    /// (label, count, colour) of each outcome, in order.
    pub outcomes: Vec<(&'static str, u64, &'static str)>,
    /// The start of the first bucket, as text.
    pub start: String,
    /// The width of one bucket, as text (`5 min`).
    pub bucket: String,
    /// Messages sent per bucket.
    pub sent: Vec<u64>,
    /// Unsubscribes by the campaign's link per bucket.
    pub unsubscribed: Vec<u64>,
}

/// A campaign's outcomes as one stacked bar, and its sends (blue bars) and unsubscribes (red
/// bars, on their own scale) over time, drawn on the server as SVG; the outcomes' legend is
/// a list below it, which wraps as the page does.
pub fn campaign_chart(c: &CampaignChart) -> Markup {
    let total: u64 = c.outcomes.iter().map(|(_, n, _)| n).sum();
    let unsubscribed: u64 = c.unsubscribed.iter().sum();
    let outcomes = c
        .outcomes
        .iter()
        .map(|(l, n, _)| format!("{} {}", tl(l), i18n::number(*n)))
        .collect::<Vec<_>>()
        .join(", ");
    let summary = tf(
        "{total} recipients: {outcomes}. {sent} sent and {unsubscribed} unsubscribed in buckets of {bucket} from {start}.",
        &[
            ("total", &i18n::number(total)),
            ("outcomes", &outcomes),
            ("sent", &i18n::number(c.sent.iter().sum::<u64>())),
            ("unsubscribed", &i18n::number(unsubscribed)),
            ("bucket", &c.bucket),
            ("start", &c.start),
        ],
    );
    // The list repeats what the image's label says: the screen reader hears it once.
    html! {
        div.chart {
            (campaign_svg(c, WIDE, &summary))
            (campaign_svg(c, NARROW, &summary))
            ul.legend aria-hidden="true" {
                @for (label, n, colour) in &c.outcomes {
                    li {
                        svg.swatch viewBox="0 0 10 10" { rect width="10" height="10" fill=(colour) {} }
                        (tl(label)) " " (i18n::number(*n))
                    }
                }
            }
        }
    }
}

/// One drawing of `campaign_chart`: the narrow one puts the two scales' names on lines of
/// their own.
fn campaign_svg(c: &CampaignChart, size: ChartSize, summary: &str) -> Markup {
    let (w, font) = (size.width, size.font);
    let narrow = w < WIDE.width;
    let pad = if narrow { 8.0 } else { 30.0 };
    let bar_y = (font * 1.7).round();
    const BAR_H: f64 = 22.0;
    let line = (font * 1.4).round();
    let scales = if narrow { 2.0 } else { 1.0 };
    let plot_top = bar_y + BAR_H + 14.0 + line * scales;
    const PLOT_H: f64 = 150.0;
    let h = plot_top + PLOT_H + line + 6.0;
    let total: u64 = c.outcomes.iter().map(|(_, n, _)| n).sum();
    let inner = w - 2.0 * pad;
    let mut x = pad;
    let mut segments = Vec::new();
    for (label, n, colour) in &c.outcomes {
        let w = if total == 0 {
            0.0
        } else {
            *n as f64 / total as f64 * inner
        };
        segments.push((x, w, *label, *n, *colour));
        x += w;
    }
    let buckets = c.sent.len().max(1);
    let slot = inner / buckets as f64;
    let max_sent = c.sent.iter().copied().max().unwrap_or(0).max(1) as f64;
    let max_unsub = c.unsubscribed.iter().copied().max().unwrap_or(0);
    let scale_unsub = max_unsub.max(1) as f64;
    let base = plot_top + PLOT_H;
    let sent_scale = tf(
        "sent per {bucket} (max {max})",
        &[("bucket", &c.bucket), ("max", &(max_sent as u64))],
    );
    let unsub_scale = tf(
        "unsubscribed per {bucket} (max {max})",
        &[("bucket", &c.bucket), ("max", &max_unsub)],
    );
    let (unsub_x, unsub_y, unsub_anchor) = if narrow {
        (pad, plot_top - 8.0, "start")
    } else {
        (w - pad, plot_top - 8.0, "end")
    };
    let sent_y = plot_top - 8.0 - line * (scales - 1.0);
    html! {
        svg class={ "chart " (size.class) } viewBox={ "0 0 " (w) " " (format!("{h:.0}")) } role="img" aria-label=(summary) {
            title { (summary) }
            text x=(pad) y=(bar_y - 8.0) font-size=(font) fill="#5b6785" { (tf("Outcome of {n} recipients", &[("n", &i18n::number(total))])) }
            rect x=(pad) y=(bar_y) width=(inner) height=(BAR_H) fill="#eef1f7" {}
            @for (x, w, label, n, colour) in &segments {
                @if *w > 0.0 {
                    rect x=(format!("{x:.1}")) y=(bar_y) width=(format!("{w:.1}")) height=(BAR_H) fill=(colour) { title { (tl(label)) ": " (n) } }
                }
            }
            text x=(pad) y=(format!("{sent_y:.1}")) font-size=(font) fill="#2f5bd3" { (sent_scale) }
            text x=(unsub_x) y=(format!("{unsub_y:.1}")) font-size=(font) fill="#c0392b" text-anchor=(unsub_anchor) { (unsub_scale) }
            line x1=(pad) y1=(base) x2=(w - pad) y2=(base) stroke="#c5cedf" {}
            @for (i, n) in c.sent.iter().enumerate() {
                @if *n > 0 {
                    @let h = *n as f64 / max_sent * PLOT_H;
                    rect x=(format!("{:.1}", pad + i as f64 * slot + slot * 0.1)) y=(format!("{:.1}", base - h)) width=(format!("{:.1}", slot * 0.8)) height=(format!("{h:.1}")) fill="#9db5ee" { title { (tf("{n} sent", &[("n", n)])) } }
                }
            }
            @for (i, n) in c.unsubscribed.iter().enumerate() {
                @if *n > 0 {
                    @let h = *n as f64 / scale_unsub * PLOT_H;
                    rect x=(format!("{:.1}", pad + i as f64 * slot + slot * 0.35)) y=(format!("{:.1}", base - h)) width=(format!("{:.1}", slot * 0.3)) height=(format!("{h:.1}")) fill="#c0392b" { title { (tf("{n} unsubscribed", &[("n", n)])) } }
                }
            }
            text x=(pad) y=(format!("{:.1}", h - 6.0)) font-size=(font) fill="#5b6785" { (c.start) }
            text x=(w - pad) y=(format!("{:.1}", h - 6.0)) font-size=(font) fill="#5b6785" text-anchor="end" { (t("now")) }
        }
    }
}

/// The text a preview frame shows when the template does not render: one whole document.
pub fn preview_failed(problem: &str) -> Markup {
    let said = html! { p { (t("The template does not render:")) " " (problem) } };
    preview_document(None, &said.into_string())
}

/// A preview frame's document: `html` (a rendered e-mail, or a fragment of one) as one whole
/// HTML document, with `header` (escaped by us) at the top of its body. A whole e-mail keeps
/// its own head and doctype, so it renders in standards mode as it would in a mail client.
pub fn preview_document(header: Option<Markup>, html: &str) -> Markup {
    let header = header.map(Markup::into_string).unwrap_or_default();
    let lower = html.to_ascii_lowercase();
    let body_open = lower
        .find("<body")
        .and_then(|at| lower[at..].find('>').map(|end| at + end + 1));
    // Rendered by our template engines from operator and marketer templates (and `header`
    // by maud); the sandboxing CSP the handler sets contains it.
    match body_open {
        Some(at) if lower.trim_start().starts_with("<!doctype html") => {
            PreEscaped(format!("{}{header}{}", &html[..at], &html[at..]))
        }
        _ => html! {
            (DOCTYPE)
            html lang=(i18n::locale().as_str()) {
                head { meta charset="utf-8"; title { (t("Preview")) } }
                body { (PreEscaped(header)) (PreEscaped(body_fragment(html, &lower))) }
            }
        },
    }
}

/// The content of `html` that may stand inside a `<body>`: a whole document without its own
/// doctype loses everything outside its body.
fn body_fragment<'a>(html: &'a str, lower: &str) -> &'a str {
    let start = lower
        .find("<body")
        .and_then(|at| lower[at..].find('>').map(|end| at + end + 1));
    let end = lower.rfind("</body>");
    match (start, end) {
        (Some(s), Some(e)) if s <= e => &html[s..e],
        (Some(s), None) => &html[s..],
        _ => html,
    }
}

/// 403 for a write the role may not make.
pub fn forbidden(ctx: &Ctx) -> Response {
    let page = layout(
        ctx,
        t("Not allowed"),
        html! { p.error { (tf("Your role ({role}) may not make this change.", &[("role", &tl(ctx.role.as_str()))])) } },
    );
    (StatusCode::FORBIDDEN, page).into_response()
}

/// 403 for a form without the right CSRF token (or without a session).
pub fn csrf_refused() -> Response {
    let page = bare_layout(
        t("Form expired"),
        html! {
            p.error { (t("This form was not accepted: it is missing its security token or belongs to another session.")) }
            p { a href="/admin/" { (t("Go back and try again")) } }
        },
    );
    (StatusCode::FORBIDDEN, page).into_response()
}

/// 404 inside the admin UI.
pub fn not_found(ctx: &Ctx) -> Response {
    let page = layout(
        ctx,
        t("Not found"),
        html! { p { (t("There is no such record.")) } },
    );
    (StatusCode::NOT_FOUND, page).into_response()
}

/// 500: logged once here, answered generically; a busy database is 503 (`busy`).
pub fn internal(err: &(dyn std::error::Error + 'static)) -> Response {
    if crate::services::database_busy(err) {
        tracing::warn!(error = %err, "the database was busy; answered 503");
        return busy();
    }
    tracing::error!(error = %err, "admin request failed");
    failed()
}

/// The page of a request the busy database could not serve: 503 with `Retry-After`.
pub fn busy() -> Response {
    let page = bare_layout(
        t("Busy right now"),
        html! { p { (t("The database is busy; nothing was changed. Please try again in a moment.")) } },
    );
    let retry = [(
        axum::http::header::RETRY_AFTER,
        crate::services::BUSY_RETRY_AFTER_SECS.to_string(),
    )];
    (StatusCode::SERVICE_UNAVAILABLE, retry, page).into_response()
}

/// 500 for a failure logged where it happened.
pub fn failed() -> Response {
    let page = bare_layout(
        t("Something went wrong"),
        html! { p { (t("The request failed. Please try again.")) } },
    );
    (StatusCode::INTERNAL_SERVER_ERROR, page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.to_ascii_lowercase().matches(needle).count()
    }

    #[test]
    fn a_preview_is_one_document_whatever_the_template_gives() {
        let header = || Some(html! { p { "Subject: <x>" } });
        let whole = "<!DOCTYPE html>\n<html lang=\"en\"><head><title>t</title></head><BODY class=\"m\"><p>Mail</p></body></html>";
        let page = preview_document(header(), whole).into_string();
        assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
        assert!(
            page.contains("<BODY class=\"m\"><p>Subject: &lt;x&gt;</p><p>Mail</p>"),
            "{page}"
        );
        let fragment = preview_document(header(), "<p>only this</p>").into_string();
        let no_doctype = preview_document(None, "<html><body><p>B</p></body></html>").into_string();
        for page in [&page, &fragment, &no_doctype] {
            assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
            assert_eq!(
                (count(page, "<html"), count(page, "<body")),
                (1, 1),
                "{page}"
            );
        }
        assert!(
            fragment.contains("<p>Subject: &lt;x&gt;</p><p>only this</p>"),
            "{fragment}"
        );
        assert!(no_doctype.contains("<body><p>B</p></body>"), "{no_doctype}");
        let failed = preview_failed("line 2: <oops>").into_string();
        assert!(failed.starts_with("<!DOCTYPE html>") && failed.contains("&lt;oops&gt;"));
    }
}
