//! Lists: the table of lists and the form that creates one (the same service as
//! `POST /api/v1/lists`).

use std::collections::HashMap;

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    domain::{
        Action, LegalBasis, ListId, ListKind, ListSlug, ListVisibility, MailingList, NewList, OptIn,
    },
    services::lists::{self, ListEdit, ListsError},
    store::StoreError,
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{self as view, csrf_field, field, select},
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
}

type Errors = HashMap<&'static str, String>;

fn page(
    session: &AdminSession,
    lists: &[MailingList],
    form: &ListForm,
    errors: &Errors,
    status: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let e = |k: &str| errors.get(k);
    let markup = view::layout(
        &ctx,
        "Lists",
        html! {
            table {
                tr { th { "Name" } th { "Slug" } th { "Kind" } th { "Legal basis" } th { "Visibility" } th { "Signup page" } }
                @for l in lists {
                    tr {
                        td { a href={ "/admin/lists/" (l.id) } { (l.def.name) }
                            @if l.archived_at.is_some() { " " (view::status("archived")) } }
                        td { code { (l.def.slug.as_str()) } }
                        td { (l.def.kind) } td { (l.def.legal_basis) } td { (l.def.visibility) }
                        td { @if l.is_open_for_signup() { a href={ "/subscribe?list=" (l.def.slug.as_str()) } { "open" } } }
                    }
                }
            }
            @if lists.is_empty() { p.muted { "No lists yet." } }
            @if ctx.may(Action::ManageLists) {
                div.card {
                    h2 { "New list" }
                    @if !errors.is_empty() { p.error role="alert" { "Please correct the fields marked below." } }
                    form method="post" action="/admin/lists" {
                        (csrf_field(&ctx.csrf))
                        (field("name", "Name", "text", &form.name, e("name")))
                        (field("slug", "Slug (a-z, 0-9, -)", "text", &form.slug, e("slug")))
                        (field("description", "Description", "text", &form.description, e("description")))
                        (select("kind", "Kind", &[("newsletter", "Newsletter"), ("tech_news", "Tech News"), ("product_notices", "Product notices")], &form.kind, e("kind")))
                        (select("legal_basis", "Legal basis", &[("consent", "Consent (Art. 6(1)(a))"), ("legitimate_interest", "Legitimate interest (Art. 6(1)(f))")], &form.legal_basis, e("legal_basis")))
                        (select("opt_in", "Opt-in", &[("double", "Double opt-in"), ("none", "None")], &form.opt_in, e("opt_in")))
                        (select("visibility", "Visibility", &[("public", "Public signup page"), ("private", "Private")], &form.visibility, e("visibility")))
                        label for="consent_text" { "Consent text (empty: the default wording)" }
                        textarea id="consent_text" name="consent_text" aria-invalid=[e("consent_text").map(|_| "true")] { (form.consent_text) }
                        @if let Some(err) = e("consent_text") { p.field-error { (err) } }
                        p { button type="submit" { "Create list" } }
                    }
                }
            }
        },
    );
    (status, markup).into_response()
}

/// `GET /admin/lists`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    match lists::all(&state.ctx).await {
        Ok(all) => {
            let form = ListForm {
                kind: "newsletter".to_owned(),
                legal_basis: "consent".to_owned(),
                opt_in: "double".to_owned(),
                visibility: "public".to_owned(),
                ..ListForm::default()
            };
            page(&session, &all, &form, &Errors::new(), StatusCode::OK)
        }
        Err(e) => view::internal(&e),
    }
}

/// Parses the form into a list definition, or the errors per field.
fn parse(form: &ListForm) -> Result<NewList, Errors> {
    let mut errors = Errors::new();
    let mut check = |name: &'static str, r: Result<(), String>| {
        if let Err(e) = r {
            errors.insert(name, e);
        }
    };
    let slug = ListSlug::parse(form.slug.trim()).map_err(|e| e.to_string());
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
    let (Ok(slug), Ok(kind), Ok(legal_basis), Ok(opt_in), Ok(visibility)) =
        (slug, kind, legal_basis, opt_in, visibility)
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
    })
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
) -> Response {
    if let Err(e) = session.authorize(Action::ManageLists) {
        return e.into_response();
    }
    let result = match parse(&form) {
        Ok(def) => lists::create(&state.ctx, &session.actor(), def)
            .await
            .map_err(|e| {
                let mut errors = Errors::new();
                match &e {
                    ListsError::Invalid(rule) => errors.insert(field_of(rule), e.to_string()),
                    ListsError::SlugTaken(_) => errors.insert("slug", e.to_string()),
                    ListsError::Forbidden(_) | ListsError::Store(_) => None,
                };
                (errors, Some(e))
            }),
        Err(errors) => Err((errors, None)),
    };
    match result {
        Ok(_) => Redirect::to("/admin/lists").into_response(),
        Err((errors, Some(e))) if errors.is_empty() => AdminError::from(e).into_response(),
        Err((errors, _)) => match lists::all(&state.ctx).await {
            Ok(all) => page(
                &session,
                &all,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(e) => view::internal(&e),
        },
    }
}

fn edit_page(
    session: &AdminSession,
    list: &MailingList,
    form: &ListForm,
    errors: &Errors,
    code: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let e = |k: &str| errors.get(k);
    let d = &list.def;
    let markup = view::layout(
        &ctx,
        &d.name,
        html! {
            div.card {
                p { "Slug " code { (d.slug.as_str()) } " · " (d.kind) " · " (d.legal_basis) " · opt-in " (d.opt_in)
                    @if let Some(t) = list.archived_at { " · archived " (t.format("%Y-%m-%d")) } }
                p { a href={ "/admin/subscribers?list=" (list.id) } { "Subscribers of this list" } }
            }
            @if ctx.may(Action::ManageLists) {
                form.card method="post" action={ "/admin/lists/" (list.id) } {
                    @if !errors.is_empty() { p.error role="alert" { "Please correct the fields marked below." } }
                    (csrf_field(&ctx.csrf))
                    (field("name", "Name", "text", &form.name, e("name")))
                    (field("description", "Description", "text", &form.description, e("description")))
                    (select("visibility", "Visibility", &[("public", "Public signup page"), ("private", "Private")], &form.visibility, e("visibility")))
                    label for="consent_text" { "Consent text (empty: the default wording)" }
                    p.muted { "A change is a new version: the ledger keeps which version each person saw." }
                    textarea id="consent_text" name="consent_text" aria-invalid=[e("consent_text").map(|_| "true")] { (form.consent_text) }
                    @if let Some(err) = e("consent_text") { p.field-error { (err) } }
                    p { button type="submit" { "Save" } }
                }
                form.card method="post" action={ "/admin/lists/" (list.id) "/archive" } {
                    (csrf_field(&ctx.csrf))
                    @if list.archived_at.is_some() {
                        input type="hidden" name="archived" value="no";
                        button.secondary type="submit" { "Bring back from the archive" }
                    } @else {
                        p.muted { "An archived list takes no signups and no new campaigns; its subscribers and history stay." }
                        input type="hidden" name="archived" value="yes";
                        button.danger type="submit" { "Archive" }
                    }
                }
            }
        },
    );
    (code, markup).into_response()
}

fn form_of(list: &MailingList) -> ListForm {
    ListForm {
        name: list.def.name.clone(),
        description: list.def.description.clone(),
        visibility: list.def.visibility.as_str().to_owned(),
        consent_text: list.def.consent_text.clone().unwrap_or_default(),
        ..ListForm::default()
    }
}

/// `GET /admin/lists/{id}`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    match lists::find(&state.ctx, ListId::from_uuid(id)).await {
        Ok(list) => edit_page(
            &session,
            &list,
            &form_of(&list),
            &Errors::new(),
            StatusCode::OK,
        ),
        Err(StoreError::NotFound) => view::not_found(&session.ctx()),
        Err(e) => view::internal(&e),
    }
}

/// `POST /admin/lists/{id}`: saves name, description, visibility and consent text.
pub(super) async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    PageForm(form): PageForm<ListForm>,
) -> Response {
    if let Err(e) = session.authorize(Action::ManageLists) {
        return e.into_response();
    }
    let id = ListId::from_uuid(id);
    let list = match lists::find(&state.ctx, id).await {
        Ok(l) => l,
        Err(StoreError::NotFound) => return view::not_found(&session.ctx()),
        Err(e) => return view::internal(&e),
    };
    let mut errors = Errors::new();
    let Ok(visibility) =
        ListVisibility::parse(&form.visibility).map_err(|e| errors.insert("visibility", e))
    else {
        return edit_page(
            &session,
            &list,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let text = form.consent_text.trim();
    let edit = ListEdit {
        name: form.name.trim().to_owned(),
        description: form.description.trim().to_owned(),
        visibility,
        consent_text: (!text.is_empty()).then(|| text.to_owned()),
    };
    match lists::update(&state.ctx, &session.actor(), id, edit).await {
        Ok(_) => Redirect::to(&format!("/admin/lists/{id}")).into_response(),
        Err(ListsError::Invalid(rule)) => {
            errors.insert(field_of(&rule), rule.to_string());
            edit_page(
                &session,
                &list,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => AdminError::from(e).into_response(),
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
