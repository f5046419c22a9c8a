//! Adding a subscriber (the rules of one import row, as `POST /api/v1/subscribers`) and
//! correcting a subscriber's name and language (as the person's own data page does).

use std::collections::HashMap;

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::AdminSession;
use crate::{
    domain::{Action, EmailAddress, ListSlug, Locale, MailingList, SubscriberId, SubscriberName},
    services::{
        imports::{self, AddSubscriberError, NewSubscriber},
        lists,
        privacy::{self, Party, PrivacyError},
    },
    store::StoreError,
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{self as view, csrf_field, field, select},
    },
};

type Errors = HashMap<&'static str, String>;

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

fn add_page(
    session: &AdminSession,
    all: &[MailingList],
    form: &AddForm,
    errors: &Errors,
    code: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let e = |k: &str| errors.get(k);
    let options: Vec<(&str, &str)> = all
        .iter()
        .filter(|l| l.archived_at.is_none())
        .map(|l| (l.def.slug.as_str(), l.def.name.as_str()))
        .collect();
    let markup = view::layout(
        &ctx,
        "Add a subscriber",
        html! {
            @if let Some(err) = e("form") { p.error role="alert" { (err) } }
            form.card method="post" action="/admin/subscribers/new" {
                (csrf_field(&ctx.csrf))
                (field("email", "E-mail address", "email", &form.email, e("email")))
                (field("name", "Name (optional)", "text", &form.name, e("name")))
                (select("locale", "Language", &[("en", "English"), ("de", "German")], &form.locale, None))
                (select("list", "List", &options, &form.list, e("list")))
                p.muted { "For a consent list, the evidence is required (GDPR Art. 7(1)): when and where the person agreed, and to what wording. No confirmation e-mail is sent." }
                (field("consent_at", "Consented at (RFC 3339 or 2025-05-01 08:30:00 UTC)", "text", &form.consent_at, e("consent")))
                (field("consent_source", "Where", "text", &form.consent_source, None))
                (field("consent_text", "The wording they agreed to", "text", &form.consent_text, None))
                p { button type="submit" { "Add subscriber" } }
            }
        },
    );
    (code, markup).into_response()
}

/// `GET /admin/subscribers/new`.
pub(super) async fn add_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    if session
        .actor()
        .authorize(Action::ManageSubscribers)
        .is_err()
    {
        return view::forbidden(&session.ctx());
    }
    match lists::all(&state.ctx).await {
        Ok(all) => add_page(
            &session,
            &all,
            &AddForm {
                locale: "en".into(),
                ..AddForm::default()
            },
            &Errors::new(),
            StatusCode::OK,
        ),
        Err(e) => view::internal(&e),
    }
}

fn some(raw: &str) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `POST /admin/subscribers/new`.
pub(super) async fn add(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<AddForm>,
) -> Response {
    let all = match lists::all(&state.ctx).await {
        Ok(a) => a,
        Err(e) => return view::internal(&e),
    };
    let mut errors = Errors::new();
    let email = EmailAddress::parse(&form.email).map_err(|e| errors.insert("email", e.to_string()));
    let name = SubscriberName::parse(&form.name).map_err(|e| errors.insert("name", e.to_string()));
    let list = ListSlug::parse(&form.list).map_err(|e| errors.insert("list", e.to_string()));
    let (Ok(email), Ok(name), Ok(list)) = (email, name, list) else {
        return add_page(
            &session,
            &all,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
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
    match imports::add_subscriber(&state.ctx, &session.actor(), new).await {
        Ok((found, _)) => {
            let id = found.subscriber.id;
            Redirect::to(&format!("/admin/subscribers/{id}")).into_response()
        }
        Err(AddSubscriberError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(AddSubscriberError::Store(e)) => view::internal(&e),
        Err(e @ AddSubscriberError::Invalid { .. }) => {
            errors.insert("consent", e.to_string());
            add_page(
                &session,
                &all,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => {
            errors.insert("form", e.to_string());
            add_page(
                &session,
                &all,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct EditForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    locale: String,
}

fn edit_page(
    session: &AdminSession,
    id: SubscriberId,
    form: &EditForm,
    error: Option<&String>,
    code: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let markup = view::layout(
        &ctx,
        "Correct a subscriber",
        html! {
            form.card method="post" action={ "/admin/subscribers/" (id) "/edit" } {
                (csrf_field(&ctx.csrf))
                (field("name", "Name", "text", &form.name, error))
                (select("locale", "Language", &[("en", "English"), ("de", "German")], &form.locale, None))
                p { button type="submit" { "Save" } " " a href={ "/admin/subscribers/" (id) } { "Back" } }
            }
        },
    );
    (code, markup).into_response()
}

/// `GET /admin/subscribers/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    if session
        .actor()
        .authorize(Action::ManageSubscribers)
        .is_err()
    {
        return view::forbidden(&session.ctx());
    }
    let id = SubscriberId::from_uuid(id);
    match crate::services::subscribers::detail(&state.ctx, id).await {
        Ok(d) => {
            let form = EditForm {
                name: d.subscriber.name.as_str().to_owned(),
                locale: d.subscriber.locale.as_str().to_owned(),
            };
            edit_page(&session, id, &form, None, StatusCode::OK)
        }
        Err(StoreError::NotFound) => view::not_found(&session.ctx()),
        Err(e) => view::internal(&e),
    }
}

/// `POST /admin/subscribers/{id}/edit`: Art. 16 rectification, recorded in the ledger.
pub(super) async fn edit(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    PageForm(form): PageForm<EditForm>,
) -> Response {
    let id = SubscriberId::from_uuid(id);
    let name = match SubscriberName::parse(&form.name) {
        Ok(n) => n,
        Err(e) => {
            return edit_page(
                &session,
                id,
                &form,
                Some(&e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let locale = Locale::from_tag(&form.locale).unwrap_or_default();
    let actor = Party::operator(&session.actor(), None);
    match privacy::correct(&state.ctx, id, &name, locale, &actor).await {
        Ok(_) => Redirect::to(&format!("/admin/subscribers/{id}")).into_response(),
        Err(PrivacyError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(PrivacyError::NotFound) => view::not_found(&session.ctx()),
        Err(e) => view::internal(&e),
    }
}
