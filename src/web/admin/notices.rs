//! Product notices (PCN, PDN, Tech News): the list, the form that creates a draft (field
//! errors in place; the PCN 90-day rule overridden only by an explicit, recorded `force`),
//! the audience preview, sending, and the acknowledgement report with its CSV. The same
//! services as `/api/v1/notices`.

use std::collections::HashMap;

use axum::{
    Extension,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::AdminSession;
use crate::{
    domain::{
        Action, ChangeCategory, NoticeError, NoticeFields, NoticeId, NoticeKind, NoticeNumber,
        PartNumber, notice::Impact,
    },
    services::notices::{self, NoticeDraft, NoticeOverview, NoticesError, acknowledgements},
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{self as view, csrf_field, field, select, status},
    },
};

type Errors = HashMap<&'static str, String>;

/// Notices per page of the index.
const PAGE: u64 = 50;

#[derive(Debug, Default, Deserialize)]
pub(super) struct IndexQuery {
    before: Option<uuid::Uuid>,
}

/// `GET /admin/notices[?before=ID]`: a page of notices, newest first.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<IndexQuery>,
) -> Response {
    let ctx = session.ctx();
    let (all, next) = match notices::page(&state.ctx, q.before.map(NoticeId::from_uuid), PAGE).await
    {
        Ok(page) => page,
        Err(NoticesError::NotFound) => return view::not_found(&ctx),
        Err(e) => return view::internal(&e),
    };
    view::layout(
        &ctx,
        "Notices",
        html! {
            p {
                @if ctx.may(Action::ManageNotices) { a.button href="/admin/notices/new" { "New notice" } " " }
                a href="/admin/customers" { "Customers" }
            }
            table {
                tr { th { "Number" } th.num { "Rev." } th { "Kind" } th { "Title" } th { "Status" } th { "Created" } }
                @for o in &all {
                    tr {
                        td { a href={ "/admin/notices/" (o.notice.id) } { (o.notice.number.as_str()) } }
                        td.num { (o.notice.revision) } td { (o.notice.kind.as_str()) }
                        td { (o.notice.fields.title) } td { (status(o.status.as_str())) }
                        td { (o.notice.created_at.format("%Y-%m-%d %H:%M")) }
                    }
                }
            }
            @if let Some(next) = next {
                p.pager { a href={ "/admin/notices?before=" (next) } { "Older →" } }
            }
            @if all.is_empty() { p.muted { "No notices yet." } }
        },
    )
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NoticeForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    affected_parts: String,
    #[serde(default)]
    change_category: String,
    #[serde(default)]
    description_before: String,
    #[serde(default)]
    description_after: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    impact_form: String,
    #[serde(default)]
    impact_fit: String,
    #[serde(default)]
    impact_function: String,
    #[serde(default)]
    impact_quality: String,
    #[serde(default)]
    impact_reliability: String,
    #[serde(default)]
    qualification_summary: String,
    #[serde(default)]
    sample_availability_date: String,
    #[serde(default)]
    effective_date: String,
    #[serde(default)]
    ack_deadline: String,
    #[serde(default)]
    last_time_buy_date: String,
    #[serde(default)]
    last_time_ship_date: String,
    #[serde(default)]
    replacement_parts: String,
    #[serde(default)]
    service_critical: String,
    #[serde(default)]
    force: String,
}

const KINDS: [(&str, &str); 3] = [
    ("pcn", "PCN: product change notice"),
    ("pdn", "PDN: discontinuation notice"),
    ("tech_news", "Tech News"),
];
const CATEGORIES: [(&str, &str); 9] = [
    ("", "(PCN only)"),
    ("material", "material"),
    ("site", "site"),
    ("design", "design"),
    ("datasheet", "datasheet"),
    ("packing", "packing"),
    ("firmware", "firmware"),
    ("process", "process"),
    ("other", "other"),
];

fn area(name: &str, label: &str, value: &str, error: Option<&String>) -> Markup {
    html! {
        label for=(name) { (label) }
        textarea.short id=(name) name=(name) aria-invalid=[error.map(|_| "true")] { (value) }
        @if let Some(e) = error { p.field-error { (e) } }
    }
}

fn form_page(
    session: &AdminSession,
    f: &NoticeForm,
    errors: &Errors,
    code: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let e = |k: &str| errors.get(k);
    let markup = view::layout(
        &ctx,
        "New notice",
        html! {
            @if !errors.is_empty() { p.error role="alert" { "Please correct the fields marked below. Nothing was saved." } }
            form.card method="post" action="/admin/notices" {
                (csrf_field(&ctx.csrf))
                (select("kind", "Kind", &KINDS, &f.kind, e("kind")))
                (field("number", "Number (empty: the next PCN-YYYY-NNNN)", "text", &f.number, e("number")))
                (field("title", "Title", "text", &f.title, e("title")))
                (area("summary", "Summary (the body of Tech News)", &f.summary, e("summary")))
                (field("affected_parts", "Affected part numbers (separated by commas or spaces)", "text", &f.affected_parts, e("affected_parts")))
                h2 { "Change (PCN)" }
                (select("change_category", "Change category", &CATEGORIES, &f.change_category, e("change_category")))
                (area("description_before", "Before", &f.description_before, e("description_before")))
                (area("description_after", "After", &f.description_after, e("description_after")))
                (area("reason", "Reason (PCN and PDN)", &f.reason, e("reason")))
                label { "Impact" }
                @for (name, label, value) in [("impact_form", "form", &f.impact_form), ("impact_fit", "fit", &f.impact_fit), ("impact_function", "function", &f.impact_function), ("impact_quality", "quality", &f.impact_quality), ("impact_reliability", "reliability", &f.impact_reliability)] {
                    (field(name, label, "text", value, None))
                }
                @if let Some(err) = e("impact") { p.field-error { (err) } }
                (area("qualification_summary", "Qualification summary", &f.qualification_summary, e("qualification_summary")))
                (field("sample_availability_date", "Samples available (YYYY-MM-DD)", "date", &f.sample_availability_date, e("sample_availability_date")))
                (field("effective_date", "Effective date (YYYY-MM-DD; PCN and PDN)", "date", &f.effective_date, e("effective_date")))
                label.check {
                    input type="checkbox" name="force" value="yes" checked[f.force == "yes"];
                    " Publish even though the effective date is less than the notice period away (recorded with the notice)"
                }
                (field("ack_deadline", "Acknowledge by (UTC; PCN; empty: no acknowledgement asked)", "datetime-local", &f.ack_deadline, e("ack_deadline")))
                h2 { "Discontinuation (PDN)" }
                (field("last_time_buy_date", "Last-time buy (YYYY-MM-DD)", "date", &f.last_time_buy_date, e("last_time_buy_date")))
                (field("last_time_ship_date", "Last-time ship (YYYY-MM-DD)", "date", &f.last_time_ship_date, e("last_time_ship_date")))
                (field("replacement_parts", "Replacement part numbers", "text", &f.replacement_parts, e("replacement_parts")))
                h2 { "Marking" }
                (field("service_critical", "Service-critical because (empty: not service-critical)", "text", &f.service_critical, e("service_critical")))
                p { button type="submit" { "Save draft" } }
            }
        },
    );
    (code, markup).into_response()
}

/// `GET /admin/notices/new`.
pub(super) async fn new_form(Extension(session): Extension<AdminSession>) -> Response {
    form_page(
        &session,
        &NoticeForm::default(),
        &Errors::new(),
        StatusCode::OK,
    )
}

fn parts(raw: &str, key: &'static str, errors: &mut Errors) -> Vec<PartNumber> {
    let mut out = Vec::new();
    for p in raw
        .split([',', ' ', '\n', '\r', '\t', ';'])
        .filter(|p| !p.is_empty())
    {
        match PartNumber::parse(p) {
            Ok(part) => out.push(part),
            Err(e) => {
                errors.insert(key, format!("{p:?}: {e}"));
            }
        }
    }
    out
}

fn date(raw: &str, key: &'static str, errors: &mut Errors) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| errors.insert(key, format!("{raw:?} is not a date (YYYY-MM-DD)")))
        .ok()
}

fn text(raw: &str) -> String {
    raw.replace("\r\n", "\n").trim().to_owned()
}

/// The draft the form describes, or the fields it could not read.
fn draft_of(f: &NoticeForm) -> Result<NoticeDraft, Errors> {
    let mut errors = Errors::new();
    let kind = NoticeKind::parse(&f.kind)
        .map_err(|e| errors.insert("kind", e.to_string()))
        .ok();
    let number = match f.number.trim() {
        "" => None,
        n => NoticeNumber::parse(n)
            .map_err(|e| errors.insert("number", e.to_string()))
            .ok(),
    };
    let change_category = match f.change_category.as_str() {
        "" => None,
        c => ChangeCategory::parse(c)
            .map_err(|e| errors.insert("change_category", e.to_string()))
            .ok(),
    };
    let ack_deadline = match f.ack_deadline.trim() {
        "" => None,
        raw => ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|fmt| NaiveDateTime::parse_from_str(raw, fmt).ok())
            .map(|t| Utc.from_utc_datetime(&t))
            .or_else(|| {
                errors.insert("ack_deadline", format!("{raw:?} is not a date and time"));
                None
            }),
    };
    let fields = NoticeFields {
        title: text(&f.title),
        summary: text(&f.summary),
        affected_parts: parts(&f.affected_parts, "affected_parts", &mut errors),
        change_category,
        description_before: text(&f.description_before),
        description_after: text(&f.description_after),
        reason: text(&f.reason),
        impact: Impact {
            form: text(&f.impact_form),
            fit: text(&f.impact_fit),
            function: text(&f.impact_function),
            quality: text(&f.impact_quality),
            reliability: text(&f.impact_reliability),
        },
        qualification_summary: text(&f.qualification_summary),
        sample_availability_date: date(
            &f.sample_availability_date,
            "sample_availability_date",
            &mut errors,
        ),
        effective_date: date(&f.effective_date, "effective_date", &mut errors),
        ack_deadline,
        last_time_buy_date: date(&f.last_time_buy_date, "last_time_buy_date", &mut errors),
        last_time_ship_date: date(&f.last_time_ship_date, "last_time_ship_date", &mut errors),
        replacement_parts: parts(&f.replacement_parts, "replacement_parts", &mut errors),
        service_critical: Some(text(&f.service_critical)).filter(|s| !s.is_empty()),
        overridden_warnings: Vec::new(),
    };
    match (kind, errors.is_empty()) {
        (Some(kind), true) => Ok(NoticeDraft {
            kind,
            number,
            supersedes: None,
            fields,
            force: f.force == "yes",
        }),
        _ => Err(errors),
    }
}

/// The form field a refusal of the service is about.
fn field_of(e: &NoticesError) -> &'static str {
    const KEYS: [&str; 14] = [
        "title",
        "affected_parts",
        "change_category",
        "description_before",
        "description_after",
        "reason",
        "impact",
        "effective_date",
        "last_time_buy_date",
        "last_time_ship_date",
        "service_critical",
        "summary",
        "ack_deadline",
        "texts",
    ];
    match e {
        NoticesError::Invalid(NoticeError::ShortNotice { .. }) => "effective_date",
        NoticesError::Invalid(NoticeError::DeadlineInPast) => "ack_deadline",
        NoticesError::UnknownParts(_) => "affected_parts",
        NoticesError::DuplicateNumber(_) => "number",
        NoticesError::NotServiceCritical(_) => "service_critical",
        other => {
            let text = other.to_string();
            KEYS.into_iter()
                .find(|k| text.starts_with(k))
                .map_or("title", |k| if k == "texts" { "summary" } else { k })
        }
    }
}

/// `POST /admin/notices`: saves a draft, or shows the form again with the errors in place.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<NoticeForm>,
) -> Response {
    if let Err(e) = session.authorize(Action::ManageNotices) {
        return e.into_response();
    }
    let draft = match draft_of(&form) {
        Ok(d) => d,
        Err(errors) => {
            return form_page(&session, &form, &errors, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match notices::create(&state.ctx, &session.actor(), draft).await {
        Ok(o) => Redirect::to(&format!("/admin/notices/{}", o.notice.id)).into_response(),
        Err(NoticesError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(e @ NoticesError::Store(_)) => view::internal(&e),
        Err(e) => {
            let mut errors = Errors::new();
            errors.insert(field_of(&e), e.to_string());
            form_page(&session, &form, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

fn notice_id(raw: &str) -> Option<NoticeId> {
    raw.parse().ok().map(NoticeId::from_uuid)
}

/// `GET /admin/notices/{id}`: the notice, its audience (draft) and acknowledgements.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Response {
    show_with(&state, &session, &id, None, StatusCode::OK).await
}

async fn show_with(
    state: &AppState,
    session: &AdminSession,
    id: &str,
    error: Option<String>,
    code: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let Some(id) = notice_id(id) else {
        return view::not_found(&ctx);
    };
    let o = match notices::get(&state.ctx, id).await {
        Ok(o) => o,
        Err(NoticesError::NotFound) => return view::not_found(&ctx),
        Err(e) => return view::internal(&e),
    };
    let draft = o.status == crate::domain::CampaignStatus::Draft;
    let audience = match draft {
        true => match notices::audience(&state.ctx, id).await {
            Ok(a) => Some(a),
            Err(e) => return view::internal(&e),
        },
        false => None,
    };
    let report = match o.notice.asks_acknowledgement() && !draft {
        true => match acknowledgements::report(&state.ctx, id).await {
            Ok(r) => Some(r),
            Err(e) => return view::internal(&e),
        },
        false => None,
    };
    let objections = match draft {
        true => None,
        false => match notices::objections(&state.ctx, id).await {
            Ok(n) => Some(n),
            Err(e) => return view::internal(&e),
        },
    };
    let n = &o.notice;
    let markup = view::layout(
        &ctx,
        &format!("{} rev. {}", n.number.as_str(), n.revision),
        html! {
            @if let Some(e) = &error { p.error role="alert" { (e) } }
            (details(&o))
            @if let Some(count) = objections {
                p { strong #objections { (count) } " objected by this notice's links (they receive no more " (n.kind.as_str()) " notices, or no product mailings at all)" }
            }
            @if let Some(a) = &audience {
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
                        form method="post" action={ "/admin/notices/" (n.id) "/send" } {
                            (csrf_field(&ctx.csrf))
                            p { button type="submit" { "Send now to " (a.recipients.len()) " recipients" } }
                        }
                    }
                }
            }
            @if let Some(r) = &report {
                div.card {
                    h2 { "Acknowledgements (deadline " (r.deadline.format("%Y-%m-%d %H:%M UTC")) ")" }
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
                                td { (row.answered_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                                td.num { (row.reminders_sent) }
                            }
                        }
                    }
                }
            }
        },
    );
    (code, markup).into_response()
}

fn details(o: &NoticeOverview) -> Markup {
    let n = &o.notice;
    let f = &n.fields;
    let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    html! {
        div.card {
            p { (status(o.status.as_str())) " " (n.kind.as_str()) " · " (f.title)
                @if let Some(t) = n.published_at { " · sent " (t.format("%Y-%m-%d %H:%M UTC")) } }
            @if !f.overridden_warnings.is_empty() {
                p.error { "Published with force despite: " (f.overridden_warnings.join("; ")) }
            }
            @if let Some(reason) = &f.service_critical { p { "Service-critical: " (reason) } }
            table {
                tr { th { "Affected parts" } td { (f.affected_parts.iter().map(PartNumber::as_str).collect::<Vec<_>>().join(", ")) } }
                @if !f.summary.is_empty() { tr { th { "Summary" } td { (f.summary) } } }
                @if let Some(c) = f.change_category { tr { th { "Change" } td { (c.as_str()) ": " (f.description_before) " → " (f.description_after) } } }
                @if !f.reason.is_empty() { tr { th { "Reason" } td { (f.reason) } } }
                @if f.effective_date.is_some() { tr { th { "Effective" } td { (date(f.effective_date)) } } }
                @if f.last_time_buy_date.is_some() { tr { th { "Last-time buy / ship" } td { (date(f.last_time_buy_date)) " / " (date(f.last_time_ship_date)) } } }
                @if let Some(d) = f.ack_deadline { tr { th { "Acknowledge by" } td { (d.format("%Y-%m-%d %H:%M UTC")) } } }
            }
        }
    }
}

/// `POST /admin/notices/{id}/send`.
pub(super) async fn send(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Response {
    let Some(notice) = notice_id(&id) else {
        return view::not_found(&session.ctx());
    };
    match notices::send(&state.ctx, &session.actor(), notice).await {
        Ok(_) => Redirect::to(&format!("/admin/notices/{id}")).into_response(),
        Err(NoticesError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(NoticesError::NotFound) => view::not_found(&session.ctx()),
        Err(e @ NoticesError::Store(_)) => view::internal(&e),
        Err(e) => {
            show_with(
                &state,
                &session,
                &id,
                Some(e.to_string()),
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

/// `GET /admin/notices/{id}/acknowledgements.csv`.
pub(super) async fn acknowledgements_csv(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Response {
    let Some(notice) = notice_id(&id) else {
        return view::not_found(&session.ctx());
    };
    match acknowledgements::report(&state.ctx, notice).await {
        Ok(report) => {
            let name = format!(
                "attachment; filename=\"{}-rev{}-acknowledgements.csv\"",
                report.number, report.revision
            );
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, name),
                ],
                acknowledgements::report_csv(&report),
            )
                .into_response()
        }
        Err(NoticesError::Store(e)) => view::internal(&e),
        Err(_) => view::not_found(&session.ctx()),
    }
}
