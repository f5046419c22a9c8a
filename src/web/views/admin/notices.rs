//! The admin pages of product notices: the list, the form that creates or changes a draft,
//! the question before a draft is deleted, and one notice's page with its audience (a draft)
//! or its acknowledgements. Render only.

use chrono::NaiveDate;
use maud::{Markup, html};

use super::{Ctx, Errors, csrf_field, field, i18n, layout, select, status, t, tf};
use crate::{
    domain::{Action, ChangeCategory, Locale, NoticeId, NoticeKind, PartNumber},
    services::notices::{Audience, NoticeOverview, acknowledgements::AckReport},
};

/// `/admin/notices`: a page of notices, newest first.
pub fn notices_page(ctx: &Ctx, all: &[NoticeOverview], next: Option<NoticeId>) -> Markup {
    layout(
        ctx,
        t("Notices"),
        html! {
            p {
                @if ctx.may(Action::ManageNotices) { a.button href="/admin/notices/new" { (t("New notice")) } " " }
                a href="/admin/customers" { (t("Customers")) }
            }
            table {
                tr { th { (t("Number")) } th.num { (t("Rev.")) } th { (t("Kind")) } th { (t("Title")) } th { (t("Status")) } th { (t("Created")) } }
                @for o in all {
                    tr {
                        td { a href={ "/admin/notices/" (o.notice.id) } { (o.notice.number.as_str()) } }
                        td.num { (o.notice.revision) } td { (kind_label(o.notice.kind)) }
                        td { (o.notice.fields.title) } td { (status(o.status.as_str())) }
                        td { (ctx.time(o.notice.created_at)) }
                    }
                }
            }
            @if let Some(next) = next {
                p.pager { a href={ "/admin/notices?before=" (next) } { (t("Older →")) } }
            }
            @if all.is_empty() { p.muted { (t("No notices yet.")) } }
        },
    )
}

/// The values typed into the new-notice form.
#[derive(Debug, Default, Clone)]
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
    /// The versions in languages other than the default: (language, the texts in the order
    /// of `version_fields`), empty texts when there is none.
    pub versions: Vec<(Locale, [&'a str; 6])>,
}

/// The form's field names of `locale`'s version: title, summary, before, after, reason and
/// qualification summary. The default language's, and an operator's language's (which has
/// no fields of its own), are the notice's own fields.
pub fn version_fields(locale: Locale) -> [&'static str; 6] {
    match locale {
        Locale::De => [
            "title_de",
            "summary_de",
            "description_before_de",
            "description_after_de",
            "reason_de",
            "qualification_summary_de",
        ],
        _ => [
            "title",
            "summary",
            "description_before",
            "description_after",
            "reason",
            "qualification_summary",
        ],
    }
}

/// The section of the notice form with `locale`'s version, folded while it is empty and
/// error-free.
fn version_section(locale: Locale, texts: &[&str; 6], errors: &Errors) -> Markup {
    let names = version_fields(locale);
    let open = texts.iter().any(|t| !t.is_empty()) || names.iter().any(|n| errors.contains_key(n));
    let labels = [
        t("Title"),
        t("Summary"),
        t("Before"),
        t("After"),
        t("Reason"),
        t("Qualification summary"),
    ];
    let language = super::auth::language_name(locale);
    html! {
        details.version open[open] {
            summary { (tf("Version in {language} (optional)", &[("language", &language)])) }
            p.muted { (t("Title and summary are required; an empty other field shows the English text.")) }
            @for ((name, label), value) in names.iter().zip(labels).zip(texts) {
                @if *name == names[0] {
                    (field(name, label, "text", value, errors.get(name)))
                } @else {
                    (area(name, label, value, errors.get(name)))
                }
            }
        }
    }
}

/// The kinds as the form offers them: the key, and its label.
fn kinds() -> [(&'static str, &'static str); 3] {
    [
        ("pcn", t("PCN: product change notice")),
        ("pdn", t("PDN: discontinuation notice")),
        ("tech_news", t("Tech News")),
    ]
}

/// The change categories as the form offers them: the key, and its label.
fn categories() -> Vec<(&'static str, &'static str)> {
    let locale = i18n::locale();
    let labelled = ChangeCategory::ALL.map(|c| (c.as_str(), c.label(locale)));
    std::iter::once(("", t("(PCN only)")))
        .chain(labelled)
        .collect()
}

/// A notice's kind as pages name it: its key in English (`pcn`), else its abbreviation or
/// name (the key is a list's name, too, so it takes no translation of its own).
fn kind_label(kind: NoticeKind) -> &'static str {
    match (i18n::locale(), kind) {
        (Locale::En, kind) => kind.as_str(),
        (_, NoticeKind::Pcn) => "PCN",
        (_, NoticeKind::Pdn) => "PDN",
        (_, NoticeKind::TechNews) => t("Tech News"),
    }
}

/// The labels of the five impact fields. In English each is one word ("form", "fit" …)
/// that elsewhere means something else, so the other languages look them up by keys of
/// their own.
fn impact_labels() -> [&'static str; 5] {
    match i18n::locale() {
        Locale::De => [
            t("Impact: form"),
            t("Impact: fit"),
            t("Impact: function"),
            t("Impact: quality"),
            t("Impact: reliability"),
        ],
        _ => ["form", "fit", "function", "quality", "reliability"],
    }
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
        Some((id, label)) => (
            tf("Edit {notice}", &[("notice", &label)]),
            format!("/admin/notices/{id}/edit"),
        ),
        None => (t("New notice").to_owned(), "/admin/notices".to_owned()),
    };
    let kinds = kinds();
    layout(
        ctx,
        &title,
        html! {
            @if !errors.is_empty() { p.error role="alert" { (t("Please correct the fields marked below. Nothing was saved.")) } }
            form.card method="post" action=(action) {
                (csrf_field(&ctx.csrf))
                @if editing.is_some() {
                    p { (tf("Kind: {kind}. The kind and the number stay; to change them, delete this draft and create another.", &[("kind", &kinds.iter().find(|(k, _)| *k == f.kind).map_or(f.kind, |(_, l)| *l))])) }
                } @else {
                    (select("kind", t("Kind"), &kinds, f.kind, e("kind")))
                    (field("number", t("Number (empty: the next PCN-YYYY-NNNN)"), "text", f.number, e("number")))
                }
                (field("title", t("Title"), "text", f.title, e("title")))
                (area("summary", t("Summary (the body of Tech News)"), f.summary, e("summary")))
                (field("affected_parts", t("Affected part numbers (separated by commas or spaces)"), "text", f.affected_parts, e("affected_parts")))
                h2 { (t("Change (PCN)")) }
                (select("change_category", t("Change category"), &categories(), f.change_category, e("change_category")))
                (area("description_before", t("Before"), f.description_before, e("description_before")))
                (area("description_after", t("After"), f.description_after, e("description_after")))
                (area("reason", t("Reason (PCN and PDN)"), f.reason, e("reason")))
                label { (t("Impact")) }
                @for ((name, value), label) in [("impact_form", f.impact_form), ("impact_fit", f.impact_fit), ("impact_function", f.impact_function), ("impact_quality", f.impact_quality), ("impact_reliability", f.impact_reliability)].into_iter().zip(impact_labels()) {
                    (field(name, label, "text", value, None))
                }
                @if let Some(err) = e("impact") { p.field-error { (err) } }
                (area("qualification_summary", t("Qualification summary"), f.qualification_summary, e("qualification_summary")))
                (field("sample_availability_date", t("Samples available (YYYY-MM-DD)"), "date", f.sample_availability_date, e("sample_availability_date")))
                (field("effective_date", t("Effective date (YYYY-MM-DD; PCN and PDN)"), "date", f.effective_date, e("effective_date")))
                label.check {
                    input type="checkbox" name="force" value="yes" checked[f.force == "yes"];
                    " " (t("Publish even though the effective date is less than the notice period away (recorded with the notice)"))
                }
                (field("ack_deadline", &tf("Acknowledge by ({zone}; PCN; empty: no acknowledgement asked)", &[("zone", &ctx.zone_name())]), "datetime-local", f.ack_deadline, e("ack_deadline")))
                h2 { (t("Discontinuation (PDN)")) }
                (field("last_time_buy_date", t("Last-time buy (YYYY-MM-DD)"), "date", f.last_time_buy_date, e("last_time_buy_date")))
                (field("last_time_ship_date", t("Last-time ship (YYYY-MM-DD)"), "date", f.last_time_ship_date, e("last_time_ship_date")))
                (field("replacement_parts", t("Replacement part numbers"), "text", f.replacement_parts, e("replacement_parts")))
                h2 { (t("Marking")) }
                (field("service_critical", t("Service-critical because (empty: not service-critical)"), "text", f.service_critical, e("service_critical")))
                @if !f.versions.is_empty() {
                    h2 { (t("Other languages")) }
                    p.muted { (t("Everyone gets the English text above, unless their language has a version of its own below.")) }
                    @for (locale, texts) in &f.versions { (version_section(*locale, texts, errors)) }
                }
                p {
                    button type="submit" { (t("Save draft")) }
                    @if let Some((id, _)) = editing { " " a href={ "/admin/notices/" (id) } { (t("Cancel")) } }
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
        &tf(
            "Delete {number} rev. {revision}",
            &[("number", &n.number.as_str()), ("revision", &n.revision)],
        ),
        html! {
            div.card {
                p { strong { (n.fields.title) } }
                p { (t("This draft was never sent. Deleting it removes it for good; the audit log keeps its number and title.")) }
                form method="post" action={ "/admin/notices/" (n.id) "/delete" } {
                    (csrf_field(&ctx.csrf))
                    button.danger type="submit" { (t("Delete the draft")) }
                    " " a href={ "/admin/notices/" (n.id) } { (t("Back")) }
                }
            }
        },
    )
}

/// A notice's number and revision as pages name it: `PCN-2026-0001 rev. 2`.
pub fn revision_label(number: &str, revision: u32) -> String {
    tf(
        "{number} rev. {revision}",
        &[("number", &number), ("revision", &revision)],
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
        &revision_label(n.number.as_str(), n.revision),
        html! {
            @if let Some(e) = &v.error { p.error role="alert" { (e) } }
            (details(ctx, &v.overview))
            @if let Some(count) = v.objections {
                p { strong #objections { (count) } " " (tf("objected by this notice's links (they receive no more {kind} notices, or no product mailings at all)", &[("kind", &kind_label(n.kind))])) }
            }
            @if let Some(a) = &v.audience {
                div.card {
                    h2 { (t("Audience now")) }
                    p { strong #audience { (a.recipients.len()) } " " (tf("recipients · {objected} objected · {not_mailable} cannot be mailed", &[("objected", &a.objected), ("not_mailable", &a.not_mailable)])) }
                    table {
                        tr { th { (t("Address")) } th { (t("Company")) } th { (t("Parts")) } }
                        @for m in a.recipients.iter().take(100) {
                            tr { td { (m.email) } td { (m.company.as_deref().unwrap_or("")) } td { (m.parts.join(", ")) } }
                        }
                    }
                    @if a.recipients.len() > 100 { p.muted { (tf("The first 100 of {n}.", &[("n", &a.recipients.len())])) } }
                    @if ctx.may(Action::ManageNotices) {
                        p {
                            a.button href={ "/admin/notices/" (n.id) "/edit" } { (t("Edit")) } " "
                            a href={ "/admin/notices/" (n.id) "/delete" } { (t("Delete")) }
                        }
                        form method="post" action={ "/admin/notices/" (n.id) "/send" } {
                            (csrf_field(&ctx.csrf))
                            p { button type="submit" { (tf("Send now to {n} recipients", &[("n", &a.recipients.len())])) } }
                        }
                    }
                }
            }
            @if let Some(r) = &v.report {
                div.card {
                    h2 { (tf("Acknowledgements (deadline {deadline})", &[("deadline", &ctx.time(r.deadline))])) }
                    p {
                        @for (s, count) in &r.counts { (status(s)) " " (count) " · " }
                        strong #outstanding { (r.outstanding) } " " (t("outstanding")) " · "
                        a href={ "/admin/notices/" (n.id) "/acknowledgements.csv" } { (t("Download CSV")) }
                    }
                    table {
                        tr { th { (t("Address")) } th { (t("Company")) } th { (t("Answer")) } th { (t("Comment")) } th { (t("When")) } th.num { (t("Reminders")) } }
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
            p { (status(o.status.as_str())) " " (kind_label(n.kind)) " · " (f.title)
                @if let Some(at) = n.published_at { " · " (tf("sent {time}", &[("time", &ctx.time(at))])) } }
            @if !f.overridden_warnings.is_empty() {
                p.error { (tf("Published with force despite: {warnings}", &[("warnings", &f.overridden_warnings.join("; "))])) }
            }
            @if let Some(reason) = &f.service_critical { p { (tf("Service-critical: {reason}", &[("reason", reason)])) } }
            table {
                tr { th { (t("Affected parts")) } td { (f.affected_parts.iter().map(PartNumber::as_str).collect::<Vec<_>>().join(", ")) } }
                @if !f.summary.is_empty() { tr { th { (t("Summary")) } td { (f.summary) } } }
                @if let Some(c) = f.change_category { tr { th { (t("Change")) } td { (c.label(i18n::locale())) ": " (f.description_before) " → " (f.description_after) } } }
                @if !f.reason.is_empty() { tr { th { (t("Reason")) } td { (f.reason) } } }
                @if f.effective_date.is_some() { tr { th { (t("Effective")) } td { (date(f.effective_date)) } } }
                @if f.last_time_buy_date.is_some() { tr { th { (t("Last-time buy / ship")) } td { (date(f.last_time_buy_date)) " / " (date(f.last_time_ship_date)) } } }
                @if let Some(d) = f.ack_deadline { tr { th { (t("Acknowledge by")) } td { (ctx.time(d)) } } }
                tr { th { (t("Languages")) } td #languages { (f.languages().into_iter().map(super::auth::language_name).collect::<Vec<_>>().join(", ")) } }
            }
            @for (locale, text) in f.translations.iter() {
                details.version {
                    summary { (tf("Version in {language}", &[("language", &super::auth::language_name(locale))])) }
                    table {
                        tr { th { (t("Title")) } td { (text.title) } }
                        tr { th { (t("Summary")) } td { (text.summary) } }
                        @for (label, value) in [(t("Before"), &text.description_before), (t("After"), &text.description_after), (t("Reason"), &text.reason), (t("Qualification summary"), &text.qualification_summary)] {
                            @if !value.is_empty() { tr { th { (label) } td { (value) } } }
                        }
                    }
                }
            }
        }
    }
}
