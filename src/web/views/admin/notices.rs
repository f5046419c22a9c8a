//! The admin pages of product notices: the list, the form that creates or changes a draft,
//! the question before a draft is deleted, and one notice's page with its audience (a draft)
//! or its acknowledgements. Render only.

use chrono::NaiveDate;
use maud::{Markup, html};

use super::{Ctx, Errors, csrf_field, field, layout, select, status};
use crate::{
    domain::{Action, ChangeCategory, Locale, NoticeId, PartNumber},
    services::notices::{Audience, NoticeOverview, acknowledgements::AckReport},
};

/// `/admin/notices`: a page of notices, newest first.
pub fn notices_page(ctx: &Ctx, all: &[NoticeOverview], next: Option<NoticeId>) -> Markup {
    layout(
        ctx,
        "Notices",
        html! {
            p {
                @if ctx.may(Action::ManageNotices) { a.button href="/admin/notices/new" { "New notice" } " " }
                a href="/admin/customers" { "Customers" }
            }
            table {
                tr { th { "Number" } th.num { "Rev." } th { "Kind" } th { "Title" } th { "Status" } th { "Created" } }
                @for o in all {
                    tr {
                        td { a href={ "/admin/notices/" (o.notice.id) } { (o.notice.number.as_str()) } }
                        td.num { (o.notice.revision) } td { (o.notice.kind.as_str()) }
                        td { (o.notice.fields.title) } td { (status(o.status.as_str())) }
                        td { (ctx.time(o.notice.created_at)) }
                    }
                }
            }
            @if let Some(next) = next {
                p.pager { a href={ "/admin/notices?before=" (next) } { "Older →" } }
            }
            @if all.is_empty() { p.muted { "No notices yet." } }
        },
    )
}

/// The values typed into the new-notice form.
#[derive(Debug, Default, Clone, Copy)]
#[expect(
    missing_docs,
    reason = "each field holds the form field of its name, as typed"
)]
pub struct NoticeFormView<'a> {
    pub kind: &'a str,
    pub number: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub affected_parts: &'a str,
    pub change_category: &'a str,
    pub description_before: &'a str,
    pub description_after: &'a str,
    pub reason: &'a str,
    pub impact_form: &'a str,
    pub impact_fit: &'a str,
    pub impact_function: &'a str,
    pub impact_quality: &'a str,
    pub impact_reliability: &'a str,
    pub qualification_summary: &'a str,
    pub sample_availability_date: &'a str,
    pub effective_date: &'a str,
    pub ack_deadline: &'a str,
    pub last_time_buy_date: &'a str,
    pub last_time_ship_date: &'a str,
    pub replacement_parts: &'a str,
    pub service_critical: &'a str,
    pub force: &'a str,
}

const KINDS: [(&str, &str); 3] = [
    ("pcn", "PCN: product change notice"),
    ("pdn", "PDN: discontinuation notice"),
    ("tech_news", "Tech News"),
];
/// The change categories as the form offers them: the key, and its label.
fn categories() -> Vec<(&'static str, &'static str)> {
    let labelled = ChangeCategory::ALL.map(|c| (c.as_str(), c.label(Locale::En)));
    std::iter::once(("", "(PCN only)"))
        .chain(labelled)
        .collect()
}

fn area(name: &str, label: &str, value: &str, error: Option<&String>) -> Markup {
    html! {
        label for=(name) { (label) }
        textarea.short id=(name) name=(name) aria-invalid=[error.map(|_| "true")] { (value) }
        @if let Some(e) = error { p.field-error { (e) } }
    }
}

/// Which draft the notice form changes: `None` for a new one, else its id and its number
/// and revision (which stay, as does its kind).
pub type Editing<'a> = Option<(NoticeId, &'a str)>;

/// `/admin/notices/new` (or `/admin/notices/{id}/edit`): the form that creates (or changes)
/// a draft, with its errors in place.
pub fn notice_form_page(
    ctx: &Ctx,
    f: &NoticeFormView,
    errors: &Errors,
    editing: Editing,
) -> Markup {
    let e = |k: &str| errors.get(k);
    let (title, action) = match editing {
        Some((id, label)) => (format!("Edit {label}"), format!("/admin/notices/{id}/edit")),
        None => ("New notice".to_owned(), "/admin/notices".to_owned()),
    };
    layout(
        ctx,
        &title,
        html! {
            @if !errors.is_empty() { p.error role="alert" { "Please correct the fields marked below. Nothing was saved." } }
            form.card method="post" action=(action) {
                (csrf_field(&ctx.csrf))
                @if editing.is_some() {
                    p { "Kind: " (KINDS.iter().find(|(k, _)| *k == f.kind).map_or(f.kind, |(_, l)| *l)) ". The kind and the number stay; to change them, delete this draft and create another." }
                } @else {
                    (select("kind", "Kind", &KINDS, f.kind, e("kind")))
                    (field("number", "Number (empty: the next PCN-YYYY-NNNN)", "text", f.number, e("number")))
                }
                (field("title", "Title", "text", f.title, e("title")))
                (area("summary", "Summary (the body of Tech News)", f.summary, e("summary")))
                (field("affected_parts", "Affected part numbers (separated by commas or spaces)", "text", f.affected_parts, e("affected_parts")))
                h2 { "Change (PCN)" }
                (select("change_category", "Change category", &categories(), f.change_category, e("change_category")))
                (area("description_before", "Before", f.description_before, e("description_before")))
                (area("description_after", "After", f.description_after, e("description_after")))
                (area("reason", "Reason (PCN and PDN)", f.reason, e("reason")))
                label { "Impact" }
                @for (name, label, value) in [("impact_form", "form", f.impact_form), ("impact_fit", "fit", f.impact_fit), ("impact_function", "function", f.impact_function), ("impact_quality", "quality", f.impact_quality), ("impact_reliability", "reliability", f.impact_reliability)] {
                    (field(name, label, "text", value, None))
                }
                @if let Some(err) = e("impact") { p.field-error { (err) } }
                (area("qualification_summary", "Qualification summary", f.qualification_summary, e("qualification_summary")))
                (field("sample_availability_date", "Samples available (YYYY-MM-DD)", "date", f.sample_availability_date, e("sample_availability_date")))
                (field("effective_date", "Effective date (YYYY-MM-DD; PCN and PDN)", "date", f.effective_date, e("effective_date")))
                label.check {
                    input type="checkbox" name="force" value="yes" checked[f.force == "yes"];
                    " Publish even though the effective date is less than the notice period away (recorded with the notice)"
                }
                (field("ack_deadline", &format!("Acknowledge by ({}; PCN; empty: no acknowledgement asked)", ctx.zone_name()), "datetime-local", f.ack_deadline, e("ack_deadline")))
                h2 { "Discontinuation (PDN)" }
                (field("last_time_buy_date", "Last-time buy (YYYY-MM-DD)", "date", f.last_time_buy_date, e("last_time_buy_date")))
                (field("last_time_ship_date", "Last-time ship (YYYY-MM-DD)", "date", f.last_time_ship_date, e("last_time_ship_date")))
                (field("replacement_parts", "Replacement part numbers", "text", f.replacement_parts, e("replacement_parts")))
                h2 { "Marking" }
                (field("service_critical", "Service-critical because (empty: not service-critical)", "text", f.service_critical, e("service_critical")))
                p {
                    button type="submit" { "Save draft" }
                    @if let Some((id, _)) = editing { " " a href={ "/admin/notices/" (id) } { "Cancel" } }
                }
            }
        },
    )
}

/// `/admin/notices/{id}/delete`: asks before a draft is deleted (a GET changes nothing).
pub fn delete_page(ctx: &Ctx, o: &NoticeOverview) -> Markup {
    let n = &o.notice;
    layout(
        ctx,
        &format!("Delete {} rev. {}", n.number.as_str(), n.revision),
        html! {
            div.card {
                p { strong { (n.fields.title) } }
                p { "This draft was never sent. Deleting it removes it for good; the audit log keeps its number and title." }
                form method="post" action={ "/admin/notices/" (n.id) "/delete" } {
                    (csrf_field(&ctx.csrf))
                    button.danger type="submit" { "Delete the draft" }
                    " " a href={ "/admin/notices/" (n.id) } { "Back" }
                }
            }
        },
    )
}

/// What `/admin/notices/{id}` shows.
#[derive(Debug, Clone)]
pub struct NoticeView {
    /// The notice and its status.
    pub overview: NoticeOverview,
    /// Who would receive it now (a draft).
    pub audience: Option<Audience>,
    /// The acknowledgements (a sent notice that asks for them).
    pub report: Option<AckReport>,
    /// How many objected by its links (a sent notice).
    pub objections: Option<u64>,
    /// Why the last move was refused, shown above everything.
    pub error: Option<String>,
}

/// `/admin/notices/{id}`: the notice, its audience (a draft) and its acknowledgements.
pub fn notice_page(ctx: &Ctx, v: &NoticeView) -> Markup {
    let n = &v.overview.notice;
    layout(
        ctx,
        &format!("{} rev. {}", n.number.as_str(), n.revision),
        html! {
            @if let Some(e) = &v.error { p.error role="alert" { (e) } }
            (details(ctx, &v.overview))
            @if let Some(count) = v.objections {
                p { strong #objections { (count) } " objected by this notice's links (they receive no more " (n.kind.as_str()) " notices, or no product mailings at all)" }
            }
            @if let Some(a) = &v.audience {
                div.card {
                    h2 { "Audience now" }
                    p { strong #audience { (a.recipients.len()) } " recipients · " (a.objected) " objected · " (a.not_mailable) " cannot be mailed" }
                    table {
                        tr { th { "Address" } th { "Company" } th { "Parts" } }
                        @for m in a.recipients.iter().take(100) {
                            tr { td { (m.email) } td { (m.company.as_deref().unwrap_or("")) } td { (m.parts.join(", ")) } }
                        }
                    }
                    @if a.recipients.len() > 100 { p.muted { "The first 100 of " (a.recipients.len()) "." } }
                    @if ctx.may(Action::ManageNotices) {
                        p {
                            a.button href={ "/admin/notices/" (n.id) "/edit" } { "Edit" } " "
                            a href={ "/admin/notices/" (n.id) "/delete" } { "Delete" }
                        }
                        form method="post" action={ "/admin/notices/" (n.id) "/send" } {
                            (csrf_field(&ctx.csrf))
                            p { button type="submit" { "Send now to " (a.recipients.len()) " recipients" } }
                        }
                    }
                }
            }
            @if let Some(r) = &v.report {
                div.card {
                    h2 { "Acknowledgements (deadline " (ctx.time(r.deadline)) ")" }
                    p {
                        @for (s, count) in &r.counts { (status(s)) " " (count) " · " }
                        strong #outstanding { (r.outstanding) } " outstanding · "
                        a href={ "/admin/notices/" (n.id) "/acknowledgements.csv" } { "Download CSV" }
                    }
                    table {
                        tr { th { "Address" } th { "Company" } th { "Answer" } th { "Comment" } th { "When" } th.num { "Reminders" } }
                        @for row in &r.recipients {
                            tr {
                                td { (row.email) } td { (row.company.as_deref().unwrap_or("")) }
                                td { (status(row.status.as_str())) } td { (row.comment.as_deref().unwrap_or("")) }
                                td { (row.answered_at.map(|t| ctx.time(t)).unwrap_or_default()) }
                                td.num { (row.reminders_sent) }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn details(ctx: &Ctx, o: &NoticeOverview) -> Markup {
    let n = &o.notice;
    let f = &n.fields;
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    html! {
        div.card {
            p { (status(o.status.as_str())) " " (n.kind.as_str()) " · " (f.title)
                @if let Some(t) = n.published_at { " · sent " (ctx.time(t)) } }
            @if !f.overridden_warnings.is_empty() {
                p.error { "Published with force despite: " (f.overridden_warnings.join("; ")) }
            }
            @if let Some(reason) = &f.service_critical { p { "Service-critical: " (reason) } }
            table {
                tr { th { "Affected parts" } td { (f.affected_parts.iter().map(PartNumber::as_str).collect::<Vec<_>>().join(", ")) } }
                @if !f.summary.is_empty() { tr { th { "Summary" } td { (f.summary) } } }
                @if let Some(c) = f.change_category { tr { th { "Change" } td { (c.label(Locale::En)) ": " (f.description_before) " → " (f.description_after) } } }
                @if !f.reason.is_empty() { tr { th { "Reason" } td { (f.reason) } } }
                @if f.effective_date.is_some() { tr { th { "Effective" } td { (date(f.effective_date)) } } }
                @if f.last_time_buy_date.is_some() { tr { th { "Last-time buy / ship" } td { (date(f.last_time_buy_date)) " / " (date(f.last_time_ship_date)) } } }
                @if let Some(d) = f.ack_deadline { tr { th { "Acknowledge by" } td { (ctx.time(d)) } } }
            }
        }
    }
}
