//! Product notices (PCN, PDN, Tech News): the list, the form that creates or changes a draft
//! (field errors in place; the PCN 90-day rule overridden only by an explicit, recorded
//! `force`), deleting a draft (asked first), the audience preview, sending, and the acknowledgement report with its CSV. The same
//! services as `/api/v1/notices`.

use axum::{
    Extension,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::services::paging::Page;
use crate::{
    domain::{
        Action, CampaignStatus, ChangeCategory, Locale, NoticeError, NoticeFields, NoticeId,
        NoticeKind, NoticeNumber, NoticeText, NoticeTranslations, PartNumber, ProductError,
        notice::Impact,
    },
    services::notices::{self, NoticeDraft, NoticesError, acknowledgements},
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            Errors,
            notices::{
                Editing, NoticeFormView, NoticeView, delete_page, notice_form_page, notice_page,
                notices_page, revision_label, version_fields,
            },
            t, te, tf, tl,
        },
    },
};

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
) -> Result<Response, AdminError> {
    let before = q.before.map(NoticeId::from_uuid);
    let Page { items: all, next } = notices::page(&state.ctx, before, PAGE).await?;
    Ok(notices_page(&session.ctx(), &all, next).into_response())
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
    /// The German version's texts (optional; title and summary, or nothing).
    #[serde(default)]
    title_de: String,
    #[serde(default)]
    summary_de: String,
    #[serde(default)]
    description_before_de: String,
    #[serde(default)]
    description_after_de: String,
    #[serde(default)]
    reason_de: String,
    #[serde(default)]
    qualification_summary_de: String,
}

impl NoticeForm {
    /// The form filled with a stored notice's values, times in the user's zone `zone`.
    fn of(n: &crate::domain::Notice, zone: chrono_tz::Tz) -> Self {
        let f = &n.fields;
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let parts = |p: &[PartNumber]| {
            p.iter()
                .map(PartNumber::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        };
        Self {
            kind: n.kind.as_str().to_owned(),
            number: n.number.as_str().to_owned(),
            title: f.title.clone(),
            summary: f.summary.clone(),
            affected_parts: parts(&f.affected_parts),
            change_category: f
                .change_category
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            description_before: f.description_before.clone(),
            description_after: f.description_after.clone(),
            reason: f.reason.clone(),
            impact_form: f.impact.form.clone(),
            impact_fit: f.impact.fit.clone(),
            impact_function: f.impact.function.clone(),
            impact_quality: f.impact.quality.clone(),
            impact_reliability: f.impact.reliability.clone(),
            qualification_summary: f.qualification_summary.clone(),
            sample_availability_date: date(f.sample_availability_date),
            effective_date: date(f.effective_date),
            ack_deadline: f
                .ack_deadline
                .map(|t| t.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default(),
            last_time_buy_date: date(f.last_time_buy_date),
            last_time_ship_date: date(f.last_time_ship_date),
            replacement_parts: parts(&f.replacement_parts),
            service_critical: f.service_critical.clone().unwrap_or_default(),
            force: match f.overridden_warnings.is_empty() {
                true => String::new(),
                false => "yes".to_owned(),
            },
            ..Self::default()
        }
        .with_versions(&f.translations)
    }

    /// The form with the stored translations in their languages' sections.
    fn with_versions(mut self, translations: &NoticeTranslations) -> Self {
        for (locale, t) in translations.iter() {
            let texts = [
                &t.title,
                &t.summary,
                &t.description_before,
                &t.description_after,
                &t.reason,
                &t.qualification_summary,
            ];
            for (slot, text) in self.version_mut(locale).into_iter().zip(texts) {
                if let Some(slot) = slot {
                    slot.clone_from(text);
                }
            }
        }
        self
    }

    /// The texts typed for `locale`'s version, in the order of `version_fields`; the
    /// default language (English) and an operator's language (no fields) have none.
    fn version(&self, locale: Locale) -> Option<[&str; 6]> {
        match locale {
            Locale::De => Some([
                &self.title_de,
                &self.summary_de,
                &self.description_before_de,
                &self.description_after_de,
                &self.reason_de,
                &self.qualification_summary_de,
            ]),
            _ => None,
        }
    }

    /// `version`, to fill in.
    fn version_mut(&mut self, locale: Locale) -> [Option<&mut String>; 6] {
        match locale {
            Locale::De => [
                Some(&mut self.title_de),
                Some(&mut self.summary_de),
                Some(&mut self.description_before_de),
                Some(&mut self.description_after_de),
                Some(&mut self.reason_de),
                Some(&mut self.qualification_summary_de),
            ],
            _ => Default::default(),
        }
    }

    /// The versions typed in other languages: none, or one with at least a title and a
    /// summary (a half-filled one is a problem at its empty field).
    fn translations(&self, errors: &mut Errors) -> NoticeTranslations {
        let mut out = NoticeTranslations::default();
        for locale in Locale::all() {
            let Some(texts) = self.version(locale) else {
                continue;
            };
            if texts.iter().all(|t| t.trim().is_empty()) {
                continue;
            }
            let names = version_fields(locale);
            if texts[0].trim().is_empty() {
                let said = t("Write a title for this version, or empty all its fields.");
                errors.insert(names[0], said.to_owned());
            }
            if texts[1].trim().is_empty() {
                let said = t("Write a summary for this version, or empty all its fields.");
                errors.insert(names[1], said.to_owned());
            }
            let [title, summary, before, after, reason, qualification] = texts.map(text);
            let version = NoticeText {
                title,
                summary,
                description_before: before,
                description_after: after,
                reason,
                qualification_summary: qualification,
            };
            out.set(locale, Some(version));
        }
        out
    }

    /// The values as the page shows them.
    fn view(&self) -> NoticeFormView<'_> {
        NoticeFormView {
            kind: &self.kind,
            number: &self.number,
            title: &self.title,
            summary: &self.summary,
            affected_parts: &self.affected_parts,
            change_category: &self.change_category,
            description_before: &self.description_before,
            description_after: &self.description_after,
            reason: &self.reason,
            impact_form: &self.impact_form,
            impact_fit: &self.impact_fit,
            impact_function: &self.impact_function,
            impact_quality: &self.impact_quality,
            impact_reliability: &self.impact_reliability,
            qualification_summary: &self.qualification_summary,
            sample_availability_date: &self.sample_availability_date,
            effective_date: &self.effective_date,
            ack_deadline: &self.ack_deadline,
            last_time_buy_date: &self.last_time_buy_date,
            last_time_ship_date: &self.last_time_ship_date,
            replacement_parts: &self.replacement_parts,
            service_critical: &self.service_critical,
            force: &self.force,
            versions: Locale::all()
                .into_iter()
                .filter_map(|l| self.version(l).map(|texts| (l, texts)))
                .collect(),
        }
    }
}

/// The notice form (new, or changing a draft) as typed.
fn form_page(
    session: &AdminSession,
    f: &NoticeForm,
    errors: &Errors,
    code: StatusCode,
    editing: Editing,
) -> Response {
    let page = notice_form_page(&session.ctx(), &f.view(), errors, editing);
    (code, page).into_response()
}

/// `GET /admin/notices/new`.
pub(super) async fn new_form(Extension(session): Extension<AdminSession>) -> Response {
    form_page(
        &session,
        &NoticeForm::default(),
        &Errors::new(),
        StatusCode::OK,
        None,
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
            Err(ProductError::BadPartNumber(raw)) => {
                let said = tf(
                    "part number {part} must be 1 to 100 letters, digits or -_./+#",
                    &[("part", &format!("{raw:?}"))],
                );
                errors.insert(key, format!("{p:?}: {said}"));
            }
            Err(e) => {
                errors.insert(key, format!("{p:?}: {}", te(&e)));
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
        .map_err(|_| {
            let said = tf(
                "{value} is not a date (YYYY-MM-DD)",
                &[("value", &format!("{raw:?}"))],
            );
            errors.insert(key, said)
        })
        .ok()
}

fn text(raw: &str) -> String {
    raw.replace("\r\n", "\n").trim().to_owned()
}

/// The draft the form describes (times typed in the user's zone `zone`), or the fields it
/// could not read.
fn draft_of(f: &NoticeForm, zone: chrono_tz::Tz) -> Result<NoticeDraft, Errors> {
    let mut errors = Errors::new();
    let kind = NoticeKind::parse(&f.kind)
        .map_err(|e| errors.insert("kind", te(&e)))
        .ok();
    let number = match f.number.trim() {
        "" => None,
        n => NoticeNumber::parse(n)
            .map_err(|e| errors.insert("number", te(&e)))
            .ok(),
    };
    let change_category = match f.change_category.as_str() {
        "" => None,
        c => ChangeCategory::parse(c)
            .map_err(|e| errors.insert("change_category", te(&e)))
            .ok(),
    };
    let ack_deadline = match f.ack_deadline.trim() {
        "" => None,
        raw => ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
            .iter()
            .find_map(|fmt| NaiveDateTime::parse_from_str(raw, fmt).ok())
            .or_else(|| {
                let said = tf(
                    "{value} is not a date and time",
                    &[("value", &format!("{raw:?}"))],
                );
                errors.insert("ack_deadline", said);
                None
            })
            .and_then(|t| {
                let at = zone.from_local_datetime(&t).earliest();
                if at.is_none() {
                    let skipped = tf(
                        "{time} does not exist in {zone} (the clocks skip it)",
                        &[("time", &raw), ("zone", &zone.name())],
                    );
                    errors.insert("ack_deadline", skipped);
                }
                at.map(|t| t.with_timezone(&Utc))
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
        translations: f.translations(&mut errors),
    };
    let translations = fields.translations.clone();
    match (kind, errors.is_empty()) {
        (Some(kind), true) => Ok(NoticeDraft {
            kind,
            number,
            supersedes: None,
            fields,
            translations: Some(translations),
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
        NoticesError::Invalid(NoticeError::Field(text)) if text.starts_with("translations.") => {
            version_field(text)
        }
        other => {
            let text = other.to_string();
            KEYS.into_iter()
                .find(|k| text.starts_with(k))
                .map_or("title", |k| if k == "texts" { "summary" } else { k })
        }
    }
}

/// The form field a problem `translations.de.summary …` is about.
fn version_field(text: &str) -> &'static str {
    let rest = text.trim_start_matches("translations.");
    let (tag, part) = rest.split_once('.').unwrap_or((rest, ""));
    let locale = Locale::parse(tag).unwrap_or_default();
    let names = version_fields(locale);
    [
        "title",
        "summary",
        "description_before",
        "description_after",
        "reason",
        "qualification_summary",
    ]
    .iter()
    .zip(names)
    .find(|(field, _)| part.starts_with(*field))
    .map_or(names[0], |(_, name)| name)
}

/// What a refusal of the service says, in the page's language.
fn said(e: &NoticesError) -> String {
    match e {
        NoticesError::Invalid(NoticeError::Field(text)) => tl(text).to_owned(),
        NoticesError::Invalid(NoticeError::ShortNotice { days, min_days }) => tf(
            "the effective date is {days} days after publication; a PCN needs at least {min_days} \
             (set \"force\": true to publish it anyway, which is recorded)",
            &[("days", days), ("min_days", min_days)],
        ),
        NoticesError::Invalid(NoticeError::NotLatest { latest }) => tf(
            "only the latest revision ({latest}) can be revised",
            &[("latest", latest)],
        ),
        NoticesError::UnknownParts(parts) => tf(
            "unknown part numbers: {parts}",
            &[("parts", &parts.join(", "))],
        ),
        NoticesError::DuplicateNumber(number) => tf(
            "notice number {number} is taken; to revise it, send \"supersedes\"",
            &[("number", &format!("{number:?}"))],
        ),
        NoticesError::NotServiceCritical(kind) => tf(
            "{kind} notices may not be marked service-critical (notices.service_critical_kinds)",
            &[("kind", &tl(kind.as_str()))],
        ),
        NoticesError::NotDraft(status) => tf(
            "the notice is {status}, not a draft",
            &[("status", &tl(status.as_str()))],
        ),
        NoticesError::HasRevision(revision) => tf(
            "revision {revision} supersedes this draft; delete that revision first",
            &[("revision", revision)],
        ),
        other => te(other),
    }
}

/// `POST /admin/notices`: saves a draft, or shows the form again with the errors in place.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<NoticeForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageNotices)?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let draft = match draft_of(&form, session.user.time_zone) {
        Ok(d) => d,
        Err(errors) => return Ok(form_page(&session, &form, &errors, refused, None)),
    };
    let errors = match notices::create(&state.ctx, &session.actor(), draft).await {
        Ok(o) => {
            return Ok(Redirect::to(&format!("/admin/notices/{}", o.notice.id)).into_response());
        }
        Err(e @ (NoticesError::Forbidden(_) | NoticesError::Store(_))) => return Err(e.into()),
        Err(e) => Errors::from([(field_of(&e), said(&e))]),
    };
    Ok(form_page(&session, &form, &errors, refused, None))
}

/// The draft of a path, or the notice's page saying why it can no longer change.
async fn draft_or_refusal(
    state: &AppState,
    session: &AdminSession,
    id: &str,
) -> Result<Result<notices::NoticeOverview, Response>, AdminError> {
    let o = notices::get(&state.ctx, notice_id(id)?).await?;
    if o.status == CampaignStatus::Draft {
        return Ok(Ok(o));
    }
    let why = said(&NoticesError::NotDraft(o.status));
    Ok(Err(show_with(
        state,
        session,
        id,
        Some(why),
        StatusCode::CONFLICT,
    )
    .await?))
}

/// `GET /admin/notices/{id}/edit`: the form filled with the draft.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageNotices)?;
    let o = match draft_or_refusal(&state, &session, &id).await? {
        Ok(o) => o,
        Err(refused) => return Ok(refused),
    };
    let label = revision_label(o.notice.number.as_str(), o.notice.revision);
    let editing = Some((o.notice.id, label.as_str()));
    let form = NoticeForm::of(&o.notice, session.user.time_zone);
    Ok(form_page(
        &session,
        &form,
        &Errors::new(),
        StatusCode::OK,
        editing,
    ))
}

/// `POST /admin/notices/{id}/edit`: changes the draft (all or nothing), or shows the form
/// again with the errors in place.
pub(super) async fn edit(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    PageForm(mut form): PageForm<NoticeForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageNotices)?;
    let o = match draft_or_refusal(&state, &session, &id).await? {
        Ok(o) => o,
        Err(refused) => return Ok(refused),
    };
    form.kind = o.notice.kind.as_str().to_owned();
    form.number = o.notice.number.as_str().to_owned();
    let label = revision_label(o.notice.number.as_str(), o.notice.revision);
    let editing = Some((o.notice.id, label.as_str()));
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let mut draft = match draft_of(&form, session.user.time_zone) {
        Ok(d) => d,
        Err(errors) => return Ok(form_page(&session, &form, &errors, refused, editing)),
    };
    // The form has no fields for an operator's language: keep the API's versions in it.
    for (locale, text) in o.notice.fields.translations.iter() {
        if !locale.is_built_in() {
            draft.fields.translations.set(locale, Some(text.clone()));
        }
    }
    let errors = match notices::update(
        &state.ctx,
        &session.actor(),
        o.notice.id,
        draft.fields,
        draft.force,
    )
    .await
    {
        Ok(_) => {
            let to = format!("/admin/notices/{id}");
            return Ok(super::redirect_with(
                &state,
                &session,
                &to,
                t("The draft is saved."),
            ));
        }
        Err(e @ (NoticesError::Forbidden(_) | NoticesError::Store(_))) => return Err(e.into()),
        Err(e) => Errors::from([(field_of(&e), said(&e))]),
    };
    Ok(form_page(&session, &form, &errors, refused, editing))
}

/// `GET /admin/notices/{id}/delete`: asks first (a GET changes nothing).
pub(super) async fn confirm_delete(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageNotices)?;
    match draft_or_refusal(&state, &session, &id).await? {
        Ok(o) => Ok(delete_page(&session.ctx(), &o).into_response()),
        Err(refused) => Ok(refused),
    }
}

/// `POST /admin/notices/{id}/delete`: deletes a draft; back to the list with a message.
pub(super) async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    let notice = notice_id(&id)?;
    let o = notices::get(&state.ctx, notice).await?;
    match notices::delete(&state.ctx, &session.actor(), notice).await {
        Ok(()) => {
            let done = tf(
                "The draft {notice} is deleted.",
                &[(
                    "notice",
                    &revision_label(o.notice.number.as_str(), o.notice.revision),
                )],
            );
            Ok(super::redirect_with(
                &state,
                &session,
                "/admin/notices",
                &done,
            ))
        }
        Err(e @ (NoticesError::Forbidden(_) | NoticesError::NotFound | NoticesError::Store(_))) => {
            Err(e.into())
        }
        Err(e) => show_with(&state, &session, &id, Some(said(&e)), StatusCode::CONFLICT).await,
    }
}

/// The notice of a path; a malformed id names no notice.
fn notice_id(raw: &str) -> Result<NoticeId, AdminError> {
    raw.parse()
        .map(NoticeId::from_uuid)
        .map_err(|_| AdminError::NotFound)
}

/// `GET /admin/notices/{id}`: the notice, its audience (draft) and acknowledgements.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    show_with(&state, &session, &id, None, StatusCode::OK).await
}

/// The notice's page, with `error` above it when sending was refused.
async fn show_with(
    state: &AppState,
    session: &AdminSession,
    id: &str,
    error: Option<String>,
    code: StatusCode,
) -> Result<Response, AdminError> {
    let id = notice_id(id)?;
    let overview = notices::get(&state.ctx, id).await?;
    let draft = overview.status == CampaignStatus::Draft;
    let audience = match draft {
        true => Some(notices::audience(&state.ctx, id).await?),
        false => None,
    };
    let report = match overview.notice.asks_acknowledgement() && !draft {
        true => Some(acknowledgements::report(&state.ctx, id).await?),
        false => None,
    };
    let objections = match draft {
        true => None,
        false => Some(notices::objections(&state.ctx, id).await?),
    };
    let v = NoticeView {
        overview,
        audience,
        report,
        objections,
        error,
    };
    Ok((code, notice_page(&session.ctx(), &v)).into_response())
}

/// `POST /admin/notices/{id}/send`.
pub(super) async fn send(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    let notice = notice_id(&id)?;
    match notices::send(&state.ctx, &session.actor(), notice).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/notices/{id}")).into_response()),
        Err(e @ (NoticesError::Forbidden(_) | NoticesError::NotFound | NoticesError::Store(_))) => {
            Err(e.into())
        }
        Err(e) => show_with(&state, &session, &id, Some(said(&e)), StatusCode::CONFLICT).await,
    }
}

/// `GET /admin/notices/{id}/acknowledgements.csv`.
pub(super) async fn acknowledgements_csv(
    State(state): State<AppState>,
    Extension(_session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    let notice = notice_id(&id)?;
    let report = match acknowledgements::report(&state.ctx, notice).await {
        Ok(r) => r,
        Err(e @ NoticesError::Store(_)) => return Err(e.into()),
        // Also a notice that asks for no acknowledgement has no report to download.
        Err(_) => return Err(AdminError::NotFound),
    };
    let name = format!(
        "attachment; filename=\"{}-rev{}-acknowledgements.csv\"",
        report.number, report.revision
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        acknowledgements::report_csv(&report),
    )
        .into_response())
}

impl From<NoticesError> for AdminError {
    fn from(e: NoticesError) -> Self {
        match e {
            NoticesError::Forbidden(_) => Self::Forbidden,
            NoticesError::NotFound => Self::NotFound,
            NoticesError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
}
