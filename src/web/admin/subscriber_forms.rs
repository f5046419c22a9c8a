//! Adding a subscriber (the rules of one import row, as `POST /api/v1/subscribers`) and
//! correcting a subscriber's name and language (as the person's own data page does).

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    domain::{Action, EmailAddress, ListSlug, Locale, MailingList, SubscriberId, SubscriberName},
    services::{
        imports::{self, AddSubscriberError, NewSubscriber},
        lists,
        privacy::{self, Party},
        subscribers,
    },
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            Errors,
            imports::reason,
            subscribers::{AddFormView, add_page, edit_page},
            te,
        },
    },
};

#[derive(Debug, Default, Deserialize)]
pub(super) struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    consent_at: String,
    #[serde(default)]
    consent_source: String,
    #[serde(default)]
    consent_text: String,
}

/// The add-a-subscriber page with the form as typed.
fn add_form_page(
    session: &AdminSession,
    all: &[MailingList],
    form: &AddForm,
    errors: &Errors,
    code: StatusCode,
) -> Response {
    let values = AddFormView {
        email: &form.email,
        name: &form.name,
        locale: &form.locale,
        list: &form.list,
        consent_at: &form.consent_at,
        consent_source: &form.consent_source,
        consent_text: &form.consent_text,
    };
    (code, add_page(&session.ctx(), all, &values, errors)).into_response()
}

/// `GET /admin/subscribers/new`.
pub(super) async fn add_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageSubscribers)?;
    let all = lists::all(&state.ctx).await?;
    let form = AddForm {
        locale: "en".into(),
        ..AddForm::default()
    };
    Ok(add_form_page(
        &session,
        &all,
        &form,
        &Errors::new(),
        StatusCode::OK,
    ))
}

fn some(raw: &str) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `POST /admin/subscribers/new`.
pub(super) async fn add(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<AddForm>,
) -> Result<Response, AdminError> {
    let all = lists::all(&state.ctx).await?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let mut errors = Errors::new();
    let email = EmailAddress::parse(&form.email).map_err(|e| errors.insert("email", te(&e)));
    let name = SubscriberName::parse(&form.name).map_err(|e| errors.insert("name", te(&e)));
    let list = ListSlug::parse(&form.list).map_err(|e| errors.insert("list", te(&e)));
    let (Ok(email), Ok(name), Ok(list)) = (email, name, list) else {
        return Ok(add_form_page(&session, &all, &form, &errors, refused));
    };
    let new = NewSubscriber {
        email,
        name,
        locale: Locale::from_tag(&form.locale).unwrap_or_default(),
        lists: vec![list],
        consent_at: some(&form.consent_at),
        consent_source: some(&form.consent_source),
        consent_text: some(&form.consent_text),
    };
    let errors = match imports::add_subscriber(&state.ctx, &session.actor(), new).await {
        Ok((found, _)) => {
            let id = found.subscriber.id;
            return Ok(Redirect::to(&format!("/admin/subscribers/{id}")).into_response());
        }
        Err(e @ (AddSubscriberError::Forbidden(_) | AddSubscriberError::Store(_))) => {
            return Err(e.into());
        }
        Err(e @ AddSubscriberError::Invalid { .. }) => {
            Errors::from([("consent", reason(&e.to_string()))])
        }
        Err(e) => Errors::from([("form", reason(&e.to_string()))]),
    };
    Ok(add_form_page(&session, &all, &form, &errors, refused))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct EditForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    locale: String,
}

/// `GET /admin/subscribers/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageSubscribers)?;
    let id = SubscriberId::from_uuid(id);
    let s = subscribers::detail(&state.ctx, id).await?.subscriber;
    let page = edit_page(&session.ctx(), id, s.name.as_str(), s.locale.as_str(), None);
    Ok(page.into_response())
}

/// `POST /admin/subscribers/{id}/edit`: Art. 16 rectification, recorded in the ledger.
pub(super) async fn edit(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    PageForm(form): PageForm<EditForm>,
) -> Result<Response, AdminError> {
    let id = SubscriberId::from_uuid(id);
    let name = match SubscriberName::parse(&form.name) {
        Ok(n) => n,
        Err(e) => {
            let error = te(&e);
            let page = edit_page(&session.ctx(), id, &form.name, &form.locale, Some(&error));
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let locale = Locale::from_tag(&form.locale).unwrap_or_default();
    let actor = Party::operator(&session.actor(), None);
    privacy::correct(&state.ctx, id, &name, locale, &actor).await?;
    Ok(Redirect::to(&format!("/admin/subscribers/{id}")).into_response())
}

impl From<AddSubscriberError> for AdminError {
    fn from(e: AddSubscriberError) -> Self {
        match e {
            AddSubscriberError::Forbidden(_) => Self::Forbidden,
            AddSubscriberError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
}
