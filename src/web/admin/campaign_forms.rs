//! A campaign's content and the way to its send: compose and edit (every field's problem at
//! once, beside its field), the preview of what is typed without saving, the review before
//! sending, and the questions before cancel and delete. The same services as the API.

use axum::{
    Extension,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    AdminError, AdminSession,
    campaigns::{refusal, reworded, sandboxed},
};
use crate::{
    domain::{
        Action, Campaign, CampaignId, CampaignLayout, CampaignText, EmailAddress, ListSlug, Locale,
        MailingList, SegmentId,
    },
    services::{
        campaigns::{self, CampaignDraft, CampaignPatch, CampaignsError},
        lists, segments,
    },
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            self as view, Errors,
            campaign_forms::{
                ComposeFormView, ConfirmView, ReviewView, compose_page, confirm_page,
                nothing_to_preview, refused_page, review_page, version_fields,
            },
            t, tf, tl,
        },
    },
};

#[derive(Debug, Default, Deserialize)]
pub(super) struct CampaignForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body_markdown: String,
    #[serde(default)]
    list: Vec<String>,
    #[serde(default)]
    from: String,
    #[serde(default)]
    reply_to: String,
    /// Empty: `standard` for a new campaign, unchanged for an edited one.
    #[serde(default)]
    layout: String,
    /// The versions' fields, `subject_LANG` and `body_LANG` for each registered language
    /// (optional), among whatever else the form sent.
    #[serde(flatten)]
    versions: BTreeMap<String, String>,
    /// The segment's id (empty: every member of the lists).
    #[serde(default)]
    segment: String,
    /// The "Publish in the public archive" box: present (any value) when ticked.
    #[serde(default)]
    archive: Option<String>,
}

impl CampaignForm {
    /// The form of a stored campaign, its lists by slug.
    fn of(c: &Campaign, all: &[MailingList]) -> Self {
        let mut versions = BTreeMap::new();
        for (locale, text) in &c.def.translations {
            let (subject, body) = version_fields(*locale);
            versions.insert(subject.to_owned(), text.subject.clone());
            versions.insert(body.to_owned(), text.body_markdown.clone());
        }
        Self {
            name: c.def.name.clone(),
            subject: c.def.subject.clone(),
            body_markdown: c.def.body_markdown.clone(),
            list: all
                .iter()
                .filter(|l| c.def.lists.contains(&l.id))
                .map(|l| l.def.slug.as_str().to_owned())
                .collect(),
            from: c.def.from.clone().unwrap_or_default(),
            reply_to: c
                .def
                .reply_to
                .as_ref()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default(),
            layout: c.def.layout.as_str().to_owned(),
            versions,
            segment: c.def.segment.map(|s| s.to_string()).unwrap_or_default(),
            archive: c.def.archive.then(|| "yes".to_owned()),
        }
    }

    /// The subject and body typed for `locale`'s version (empty when not sent).
    fn version(&self, locale: Locale) -> (&str, &str) {
        let (subject, body) = version_fields(locale);
        let typed = |field: &str| self.versions.get(field).map_or("", String::as_str);
        (typed(subject), typed(body))
    }

    /// The draft the form describes, and the problems of the fields it could not read.
    fn read(&self) -> (CampaignDraft, Errors) {
        let mut errors = Errors::new();
        let mut lists = Vec::new();
        for raw in &self.list {
            match ListSlug::parse(raw) {
                Ok(slug) => lists.push(slug),
                Err(_) => {
                    errors.insert("list", tf("There is no list “{slug}”.", &[("slug", raw)]));
                }
            }
        }
        let reply_to = match self.reply_to.trim() {
            "" => None,
            raw => EmailAddress::parse(raw).map_or_else(
                |_| {
                    let text = t(
                        "Write one e-mail address, such as help@example.com, or leave this empty.",
                    );
                    errors.insert("reply_to", text.to_owned());
                    None
                },
                Some,
            ),
        };
        let layout = match self.layout.trim() {
            "" => CampaignLayout::default(),
            raw => CampaignLayout::parse(raw).unwrap_or_else(|_| {
                let text = view::t("Choose a layout from the list.");
                errors.insert("layout", text.to_owned());
                CampaignLayout::default()
            }),
        };
        let from = Some(self.from.trim())
            .filter(|f| !f.is_empty())
            .map(str::to_owned);
        let draft = CampaignDraft {
            name: self.name.clone(),
            subject: self.subject.clone(),
            body_markdown: self.body_markdown.clone(),
            lists,
            from,
            reply_to,
            layout,
            translations: self.translations(&mut errors),
            segment: match self.segment.trim() {
                "" => None,
                raw => uuid::Uuid::parse_str(raw)
                    .map(SegmentId::from_uuid)
                    .map_or_else(
                        |_| {
                            errors
                                .insert("segment", t("Choose a segment from the list.").to_owned());
                            None
                        },
                        Some,
                    ),
            },
            archive: self.archive.is_some(),
        };
        (draft, errors)
    }
}

impl CampaignForm {
    /// The versions typed in other languages: both fields or neither (a half-filled one is a
    /// problem at its empty field).
    fn translations(&self, errors: &mut Errors) -> BTreeMap<Locale, CampaignText> {
        let mut out = BTreeMap::new();
        for locale in Locale::all() {
            let (subject, body) = self.version(locale);
            let (field_subject, field_body) = version_fields(locale);
            match (subject.trim().is_empty(), body.trim().is_empty()) {
                (true, true) => {}
                (false, false) => {
                    out.insert(
                        locale,
                        CampaignText {
                            subject: subject.to_owned(),
                            body_markdown: body.to_owned(),
                        },
                    );
                }
                (true, false) => {
                    errors.insert(
                        field_subject,
                        view::t("Write a subject for this version, or empty its text.").to_owned(),
                    );
                }
                (false, true) => {
                    errors.insert(
                        field_body,
                        view::t("Write the text of this version, or empty its subject.").to_owned(),
                    );
                }
            }
        }
        out
    }
}

/// The draft of `form` and every problem of its fields, by the form's field names.
async fn checked(
    state: &AppState,
    form: &CampaignForm,
) -> Result<(CampaignDraft, Errors), AdminError> {
    let (draft, mut errors) = form.read();
    for (field, problem) in campaigns::problems(&state.ctx, &draft).await? {
        let field = if field == "lists" { "list" } else { field };
        errors.entry(field).or_insert_with(|| reworded(&problem));
    }
    Ok((draft, errors))
}

/// The composer with the form as typed.
async fn compose(
    state: &AppState,
    session: &AdminSession,
    form: &CampaignForm,
    errors: &Errors,
    editing: Option<CampaignId>,
) -> Result<Response, AdminError> {
    let all = lists::all(&state.ctx).await?;
    let segments: Vec<(String, String)> = segments::all(&state.ctx, &session.actor())
        .await?
        .into_iter()
        .map(|s| (s.id.to_string(), s.name))
        .collect();
    let versions: Vec<(Locale, &str, &str)> = Locale::all()
        .into_iter()
        .map(|l| {
            let (subject, body) = form.version(l);
            (l, subject, body)
        })
        .collect();
    let values = ComposeFormView {
        segment: &form.segment,
        segments: &segments,
        name: &form.name,
        subject: &form.subject,
        body_markdown: &form.body_markdown,
        lists: &form.list,
        from: &form.from,
        reply_to: &form.reply_to,
        layout: &form.layout,
        versions: &versions,
        archive: form.archive.is_some(),
    };
    let code = match errors.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let from = &state.ctx.settings.mail.from;
    let page = compose_page(&session.ctx(), &all, &values, errors, editing, from);
    Ok((code, page).into_response())
}

/// A refusal of the service as the composer's errors; `Err` for what no field is about.
fn field_errors(e: CampaignsError) -> Result<Errors, CampaignsError> {
    let field = match &e {
        CampaignsError::Invalid(text) | CampaignsError::Template(text)
            if text.starts_with("translations.") =>
        {
            translation_field(text)
        }
        CampaignsError::UnknownList(_) | CampaignsError::WrongLegalBasis(_) => "list",
        CampaignsError::FromNotAllowed(_) => "from",
        CampaignsError::UnknownSegment => "segment",
        CampaignsError::Template(_) => "body_markdown",
        CampaignsError::Invalid(text) if text.starts_with("lists:") => "list",
        CampaignsError::Invalid(text) if text.starts_with("from:") => "from",
        CampaignsError::Invalid(text) if text.starts_with("subject") => "subject",
        CampaignsError::Invalid(text) if text.starts_with("name") => "name",
        CampaignsError::Invalid(_) => "body_markdown",
        _ => return Err(e),
    };
    Ok(Errors::from([(field, refusal(&e))]))
}

/// The composer's field a service problem `translations.de.subject …` is about.
fn translation_field(text: &str) -> &'static str {
    let rest = text.trim_start_matches("translations.");
    let (tag, part) = rest.split_once('.').unwrap_or((rest, ""));
    let locale = Locale::parse(tag).unwrap_or_default();
    let (subject, body) = version_fields(locale);
    if part.starts_with("subject") {
        subject
    } else {
        body
    }
}

/// `GET /admin/campaigns/new`.
pub(super) async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let form = CampaignForm::default();
    compose(&state, &session, &form, &Errors::new(), None).await
}

/// `POST /admin/campaigns`: saves a draft through the same service as the API.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<CampaignForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let (draft, errors) = checked(&state, &form).await?;
    if !errors.is_empty() {
        return compose(&state, &session, &form, &errors, None).await;
    }
    let errors = match campaigns::create(&state.ctx, &session.actor(), draft).await {
        Ok(c) => {
            let to = format!("/admin/campaigns/{}", c.id);
            let said = t("The draft is saved. Review it before sending.");
            return Ok(super::redirect_with(&state, &session, &to, said));
        }
        Err(e) => field_errors(e)?,
    };
    compose(&state, &session, &form, &errors, None).await
}

/// `GET /admin/campaigns/{id}/edit`: the composer with the campaign in it, or why it can no
/// longer change (409).
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let campaign = campaigns::find(&state.ctx, CampaignId::from_uuid(id)).await?;
    if campaign.status.edit().is_err() || is_notice(&state, campaign.id).await? {
        return Ok(cannot_change(&session, &campaign));
    }
    let all = lists::all(&state.ctx).await?;
    let form = CampaignForm::of(&campaign, &all);
    compose(&state, &session, &form, &Errors::new(), Some(campaign.id)).await
}

/// `POST /admin/campaigns/{id}/edit`: saves the changes (a scheduled campaign returns to
/// draft).
pub(super) async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    PageForm(form): PageForm<CampaignForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let id = CampaignId::from_uuid(id);
    let (draft, errors) = checked(&state, &form).await?;
    if !errors.is_empty() {
        return compose(&state, &session, &form, &errors, Some(id)).await;
    }
    let patch = CampaignPatch {
        name: Some(draft.name),
        subject: Some(draft.subject),
        body_markdown: Some(draft.body_markdown),
        lists: Some(draft.lists),
        from: Some(draft.from),
        reply_to: Some(draft.reply_to),
        layout: (!form.layout.trim().is_empty()).then_some(draft.layout),
        translations: Some(draft.translations),
        segment: Some(draft.segment),
        archive: Some(draft.archive),
    };
    let errors = match campaigns::update(&state.ctx, &session.actor(), id, patch).await {
        Ok(c) => {
            let to = format!("/admin/campaigns/{}", c.id);
            let said =
                t("The changes are saved. The campaign is a draft: review it before sending.");
            return Ok(super::redirect_with(&state, &session, &to, said));
        }
        Err(CampaignsError::State(_) | CampaignsError::Raced) => {
            let campaign = campaigns::find(&state.ctx, id).await?;
            return Ok(cannot_change(&session, &campaign));
        }
        Err(e) => field_errors(e)?,
    };
    compose(&state, &session, &form, &errors, Some(id)).await
}

/// Whether the campaign is a product notice's mailing (changed and sent with its notice).
async fn is_notice(state: &AppState, id: CampaignId) -> Result<bool, AdminError> {
    Ok(crate::services::notices::is_notice_campaign(&state.ctx, id).await?)
}

/// 409: the campaign is past the point where its content may change, or a notice's.
fn cannot_change(session: &AdminSession, c: &Campaign) -> Response {
    let why = match c.status.edit() {
        Ok(_) => {
            t("This campaign carries a product notice: change and send it on its notice's page.")
                .to_owned()
        }
        Err(_) => tf(
            "This campaign is {status} and can no longer be changed.",
            &[("status", &tl(c.status.as_str()))],
        ),
    };
    let page = refused_page(&session.ctx(), c, &why, c.status.edit().is_err());
    (StatusCode::CONFLICT, page).into_response()
}

/// `GET /admin/campaigns/preview-draft`: the preview frame before anything is typed.
pub(super) async fn blank_preview() -> Response {
    sandboxed(nothing_to_preview())
}

/// `POST /admin/campaigns/preview-draft`: what is typed in the composer, rendered as a
/// sample recipient would get it, in the preview frame (`formtarget`); saves nothing.
pub(super) async fn preview_draft(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<LocaleQuery>,
    PageForm(form): PageForm<CampaignForm>,
) -> Result<Response, AdminError> {
    let (draft, _) = form.read();
    let locale = q.locale();
    let page = match campaigns::preview_draft(&state.ctx, &session.actor(), &draft, locale).await {
        Ok(m) => view::campaigns::preview_with_subject(&m.subject, &m.html),
        Err(e @ (CampaignsError::Forbidden(_) | CampaignsError::Store(_))) => {
            return Err(e.into());
        }
        Err(e) => view::preview_failed(&refusal(&e)),
    };
    Ok(sandboxed(page))
}

/// `?locale=de`: a preview in that language; anything else is English.
#[derive(Debug, Default, Deserialize)]
pub(super) struct LocaleQuery {
    #[serde(default)]
    locale: Option<String>,
}

impl LocaleQuery {
    /// The language asked for.
    pub(super) fn locale(&self) -> Locale {
        self.locale
            .as_deref()
            .and_then(|l| Locale::parse(l).ok())
            .unwrap_or_default()
    }
}

/// `GET /admin/campaigns/{id}/review`: who it reaches, from whom, the preview, a test send
/// and the one confirmation that schedules it.
pub(super) async fn review(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    let id = CampaignId::from_uuid(id);
    review_with(&state, &session, id, None, "", StatusCode::OK).await
}

/// The review page, with `error` beside its form (`send_at` or `to`) after a refused try.
pub(super) async fn review_with(
    state: &AppState,
    session: &AdminSession,
    id: CampaignId,
    error: Option<(&'static str, String)>,
    send_at: &str,
    code: StatusCode,
) -> Result<Response, AdminError> {
    let campaign = campaigns::find(&state.ctx, id).await?;
    if campaign.status.schedule().is_err() || is_notice(state, id).await? {
        let why = match campaign.status.schedule() {
            Ok(_) => t("This campaign carries a product notice: send it on its notice's page.")
                .to_owned(),
            Err(_) => tf(
                "This campaign is {status}: there is nothing left to review or schedule.",
                &[("status", &tl(campaign.status.as_str()))],
            ),
        };
        let offer_copy = campaign.status.schedule().is_err();
        let page = refused_page(&session.ctx(), &campaign, &why, offer_copy);
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    let audience = campaigns::audience(&state.ctx, id).await?;
    let all = lists::all(&state.ctx).await?;
    let targets: Vec<&MailingList> = all
        .iter()
        .filter(|l| campaign.def.lists.contains(&l.id))
        .collect();
    let mail = &state.ctx.settings.mail;
    let from = campaign.def.from.as_deref().unwrap_or(&mail.from);
    let v = ReviewView {
        campaign: &campaign,
        audience: &audience,
        list_names: targets
            .iter()
            .map(|l| (l.def.slug.as_str().to_owned(), l.def.name.clone()))
            .collect(),
        from,
        reply_to: reply_to_words(&campaign, &targets, mail.reply_to.as_ref()),
        error,
        send_at,
    };
    Ok((code, review_page(&session.ctx(), &v)).into_response())
}

/// Where replies to the campaign go, in words: its own address wins over its lists', theirs
/// over `mail.reply_to`.
fn reply_to_words(
    c: &Campaign,
    targets: &[&MailingList],
    default: Option<&EmailAddress>,
) -> String {
    if let Some(own) = &c.def.reply_to {
        return own.as_str().to_owned();
    }
    let fallback = default.map_or_else(
        || t("the From address").to_owned(),
        |a| a.as_str().to_owned(),
    );
    let by_list: Vec<String> = targets
        .iter()
        .filter_map(|l| {
            l.def.reply_to.as_ref().map(|a| {
                tf(
                    "{address} for {list}",
                    &[("address", &a.as_str()), ("list", &l.def.name)],
                )
            })
        })
        .collect();
    match by_list.is_empty() {
        true => fallback,
        false => tf(
            "{lists}; else {fallback}",
            &[("lists", &by_list.join(", ")), ("fallback", &fallback)],
        ),
    }
}

/// What the question before `verb` says: title, text and the button's words.
fn question(verb: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match verb {
        "cancel" => Some((
            t("Cancel this campaign?"),
            t(
                "Messages not sent yet are never sent. This cannot be undone; a copy can be sent later.",
            ),
            t("Cancel the campaign"),
        )),
        "delete" => Some((
            t("Delete this campaign?"),
            t(
                "The campaign and its content are removed for good. The audit log keeps that you deleted it.",
            ),
            t("Delete the campaign"),
        )),
        _ => None,
    }
}

/// `GET /admin/campaigns/{id}/{cancel|delete}`: asks first (a GET changes nothing).
pub(super) async fn confirm(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path((id, verb)): Path<(uuid::Uuid, String)>,
) -> Result<Response, AdminError> {
    let (title, text, button) = question(&verb).ok_or(AdminError::NotFound)?;
    session.authorize(Action::ManageCampaigns)?;
    let campaign = campaigns::find(&state.ctx, CampaignId::from_uuid(id)).await?;
    let works = match verb.as_str() {
        "cancel" => campaign.status.cancel().is_ok(),
        _ => campaign.status.delete().is_ok(),
    };
    if !works {
        let status = tl(campaign.status.as_str());
        let why = match verb.as_str() {
            "cancel" => tf(
                "A {status} campaign cannot be cancelled.",
                &[("status", &status)],
            ),
            _ => tf(
                "A {status} campaign cannot be deleted.",
                &[("status", &status)],
            ),
        };
        let page = refused_page(&session.ctx(), &campaign, &why, true);
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    let v = ConfirmView {
        campaign: &campaign,
        verb: &verb,
        title,
        text,
        button,
    };
    Ok(confirm_page(&session.ctx(), &v).into_response())
}
