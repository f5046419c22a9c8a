//! Lists: the table of lists and the form that creates one (the same service as
//! `POST /api/v1/lists`).

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    domain::{
        Action, EmailAddress, LegalBasis, ListId, ListKind, ListSlug, ListVisibility, MailingList,
        NewList, OptIn,
    },
    services::lists::{self, ListEdit, ListsError},
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            Errors,
            lists::{EmbedView, ListFormView, list_page, lists_page},
            te, tf,
        },
    },
};

#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct ListForm {
    #[serde(default)]
    slug: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    legal_basis: String,
    #[serde(default)]
    opt_in: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    consent_text: String,
    #[serde(default)]
    reply_to: String,
}

impl ListForm {
    /// The values as the page shows them.
    fn view(&self) -> ListFormView<'_> {
        ListFormView {
            slug: &self.slug,
            name: &self.name,
            description: &self.description,
            kind: &self.kind,
            legal_basis: &self.legal_basis,
            opt_in: &self.opt_in,
            visibility: &self.visibility,
            consent_text: &self.consent_text,
            reply_to: &self.reply_to,
        }
    }
}

/// The lists page with the new-list form as typed.
fn page(
    session: &AdminSession,
    lists: &[MailingList],
    form: &ListForm,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let markup = lists_page(&session.ctx(), lists, &form.view(), errors);
    (status, markup).into_response()
}

/// `GET /admin/lists`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let all = lists::all(&state.ctx).await?;
    let form = ListForm {
        kind: "newsletter".to_owned(),
        legal_basis: "consent".to_owned(),
        opt_in: "double".to_owned(),
        visibility: "public".to_owned(),
        ..ListForm::default()
    };
    Ok(page(&session, &all, &form, &Errors::new(), StatusCode::OK))
}

/// Parses the form into a list definition, or the errors per field.
fn parse(form: &ListForm) -> Result<NewList, Errors> {
    let mut errors = Errors::new();
    let mut check = |name: &'static str, r: Result<(), String>| {
        if let Err(e) = r {
            errors.insert(name, e);
        }
    };
    let slug = ListSlug::parse(form.slug.trim()).map_err(|e| te(&e));
    check("slug", slug.as_ref().map(|_| ()).map_err(Clone::clone));
    let kind = ListKind::parse(&form.kind);
    check("kind", kind.as_ref().map(|_| ()).map_err(Clone::clone));
    let legal_basis = LegalBasis::parse(&form.legal_basis);
    check(
        "legal_basis",
        legal_basis.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let opt_in = OptIn::parse(&form.opt_in);
    check("opt_in", opt_in.as_ref().map(|_| ()).map_err(Clone::clone));
    let visibility = ListVisibility::parse(&form.visibility);
    check(
        "visibility",
        visibility.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let reply_to = reply_to(&form.reply_to);
    check(
        "reply_to",
        reply_to.as_ref().map(|_| ()).map_err(Clone::clone),
    );
    let (Ok(slug), Ok(kind), Ok(legal_basis), Ok(opt_in), Ok(visibility), Ok(reply_to)) =
        (slug, kind, legal_basis, opt_in, visibility, reply_to)
    else {
        return Err(errors);
    };
    let text = form.consent_text.trim();
    Ok(NewList {
        slug,
        name: form.name.trim().to_owned(),
        description: form.description.trim().to_owned(),
        kind,
        legal_basis,
        opt_in,
        visibility,
        consent_text: (!text.is_empty()).then(|| text.to_owned()),
        welcome_message: None,
        reply_to,
    })
}

/// The reply-to field: empty is none, else an address at any domain.
fn reply_to(raw: &str) -> Result<Option<EmailAddress>, String> {
    match raw.trim() {
        "" => Ok(None),
        raw => EmailAddress::parse(raw).map(Some).map_err(|e| te(&e)),
    }
}

/// The field a rule of the list definition is about.
fn field_of(e: &crate::domain::ListError) -> &'static str {
    use crate::domain::ListError;
    match e {
        ListError::ConsentNeedsDoubleOptIn => "opt_in",
        ListError::BadName => "name",
        ListError::TooLong(field) => match *field {
            "description" => "description",
            _ => "consent_text",
        },
    }
}

/// `POST /admin/lists`: creates a list; errors are shown at their fields, typed values kept.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<ListForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageLists)?;
    let errors = match parse(&form) {
        Ok(def) => match lists::create(&state.ctx, &session.actor(), def).await {
            Ok(_) => return Ok(Redirect::to("/admin/lists").into_response()),
            Err(ListsError::Invalid(rule)) => Errors::from([(field_of(&rule), te(&rule))]),
            Err(ListsError::SlugTaken(slug)) => {
                let taken = tf(
                    "a list with slug {slug} already exists",
                    &[("slug", &format!("{slug:?}"))],
                );
                Errors::from([("slug", taken)])
            }
            Err(e) => return Err(e.into()),
        },
        Err(errors) => errors,
    };
    let all = lists::all(&state.ctx).await?;
    let code = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(page(&session, &all, &form, &errors, code))
}

/// One list's page with the edit form as typed, and the signup form to embed elsewhere.
fn edit_page(
    state: &AppState,
    session: &AdminSession,
    list: &MailingList,
    form: &ListForm,
    errors: &Errors,
    code: StatusCode,
) -> Response {
    let settings = &state.ctx.settings;
    let embed = EmbedView {
        subscribe_url: crate::config::join_url(&settings.http.public_url, "subscribe").to_string(),
        privacy_url: settings.privacy_notice_url.to_string(),
    };
    let markup = list_page(&session.ctx(), list, &form.view(), errors, &embed);
    (code, markup).into_response()
}

fn form_of(list: &MailingList) -> ListForm {
    ListForm {
        name: list.def.name.clone(),
        description: list.def.description.clone(),
        visibility: list.def.visibility.as_str().to_owned(),
        consent_text: list.def.consent_text.clone().unwrap_or_default(),
        reply_to: list
            .def
            .reply_to
            .as_ref()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        ..ListForm::default()
    }
}

/// `GET /admin/lists/{id}`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    let list = lists::find(&state.ctx, ListId::from_uuid(id)).await?;
    let form = form_of(&list);
    Ok(edit_page(
        &state,
        &session,
        &list,
        &form,
        &Errors::new(),
        StatusCode::OK,
    ))
}

/// `POST /admin/lists/{id}`: saves name, description, visibility, consent text and reply-to.
pub(super) async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    PageForm(form): PageForm<ListForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageLists)?;
    let id = ListId::from_uuid(id);
    let list = lists::find(&state.ctx, id).await?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let (visibility, reply_to) = match (
        ListVisibility::parse(&form.visibility),
        reply_to(&form.reply_to),
    ) {
        (Ok(visibility), Ok(reply_to)) => (visibility, reply_to),
        (visibility, reply_to) => {
            let errors = [
                ("visibility", visibility.err()),
                ("reply_to", reply_to.err()),
            ]
            .into_iter()
            .filter_map(|(field, e)| Some((field, e?)))
            .collect();
            return Ok(edit_page(&state, &session, &list, &form, &errors, refused));
        }
    };
    let text = form.consent_text.trim();
    let edit = ListEdit {
        name: form.name.trim().to_owned(),
        description: form.description.trim().to_owned(),
        visibility,
        consent_text: (!text.is_empty()).then(|| text.to_owned()),
        reply_to,
    };
    match lists::update(&state.ctx, &session.actor(), id, edit).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/lists/{id}")).into_response()),
        Err(ListsError::Invalid(rule)) => {
            let errors = Errors::from([(field_of(&rule), te(&rule))]);
            Ok(edit_page(&state, &session, &list, &form, &errors, refused))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ArchiveForm {
    #[serde(default)]
    archived: String,
}

/// `POST /admin/lists/{id}/archive` with `archived=yes|no`.
pub(super) async fn archive(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    PageForm(form): PageForm<ArchiveForm>,
) -> Result<Response, AdminError> {
    let archived = form.archived == "yes";
    lists::set_archived(
        &state.ctx,
        &session.actor(),
        ListId::from_uuid(id),
        archived,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/lists/{id}")).into_response())
}

impl From<ListsError> for AdminError {
    fn from(e: ListsError) -> Self {
        match e {
            ListsError::Forbidden(e) => e.into(),
            ListsError::Store(e) => e.into(),
            e @ (ListsError::Invalid(_) | ListsError::SlugTaken(_)) => AdminError::internal(&e),
        }
    }
}
