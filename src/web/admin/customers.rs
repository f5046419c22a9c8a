//! Customers: the list (by address prefix, 50 a page by keyset) and the form that adds one
//! and enrols them on the basis of legitimate interest (the same service as
//! `POST /api/v1/customers`).

use std::collections::HashMap;

use axum::{
    Extension,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::AdminSession;
use crate::{
    domain::{Action, EmailAddress, Locale, PartNumber, SubscriberId, SubscriberName},
    services::customers::{self, CustomerError, NewCustomer},
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{self as view, csrf_field, field, select},
    },
};

const PAGE: u64 = 50;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    #[serde(default)]
    q: String,
    before: Option<uuid::Uuid>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CustomerForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    products: String,
    #[serde(default)]
    source: String,
}

type Errors = HashMap<&'static str, String>;

async fn page(
    state: &AppState,
    session: &AdminSession,
    q: &ListQuery,
    form: &CustomerForm,
    errors: &Errors,
    code: StatusCode,
) -> Response {
    let (found, next) = match customers::page(
        &state.ctx,
        Some(q.q.as_str()),
        q.before.map(SubscriberId::from_uuid),
        PAGE,
    )
    .await
    {
        Ok(f) => f,
        Err(e) => return view::internal(&e),
    };
    let ctx = session.ctx();
    let e = |k: &str| errors.get(k);
    let markup = view::layout(
        &ctx,
        "Customers",
        html! {
            form.filters method="get" action="/admin/customers" {
                div { label for="q" { "Address starts with" } input #q type="search" name="q" value=(q.q); }
                div { button type="submit" { "Search" } }
            }
            table {
                tr { th { "Address" } th { "Company" } th { "Products" } th { "Source" } }
                @for c in &found {
                    tr {
                        td { a href={ "/admin/subscribers/" (c.id) } { (c.email) } }
                        td { (c.company.as_deref().unwrap_or("")) } td { (c.products.join(", ")) } td { (c.source) }
                    }
                }
            }
            @if found.is_empty() { p.muted { "No customers found." } }
            @if let Some(last) = next {
                p.pager { a href={ "/admin/customers?q=" (q.q) "&before=" (last) } { "Older →" } }
            }
            @if ctx.may(Action::ManageNotices) {
                h2 { "Add a customer" }
                @if !errors.is_empty() { p.error role="alert" { "Please correct the fields marked below. Nothing was saved." } }
                form.card method="post" action="/admin/customers" {
                    (csrf_field(&ctx.csrf))
                    (field("email", "E-mail", "email", &form.email, e("email")))
                    (field("name", "Name", "text", &form.name, e("name")))
                    (field("company", "Company", "text", &form.company, e("company")))
                    (select("locale", "Language", &[("en", "English"), ("de", "Deutsch")], &form.locale, None))
                    (field("products", "Part numbers they use (separated by commas or spaces)", "text", &form.products, e("products")))
                    (field("source", "Source of the customer relation (e.g. order:12345)", "text", &form.source, e("source")))
                    p { button type="submit" { "Add and enrol" } }
                }
            }
        },
    );
    (code, markup).into_response()
}

/// `GET /admin/customers`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<ListQuery>,
) -> Response {
    page(
        &state,
        &session,
        &q,
        &CustomerForm::default(),
        &Errors::new(),
        StatusCode::OK,
    )
    .await
}

fn new_customer(f: &CustomerForm) -> Result<NewCustomer, Errors> {
    let mut errors = Errors::new();
    let email = EmailAddress::parse(&f.email)
        .map_err(|e| errors.insert("email", e.to_string()))
        .ok();
    let name = SubscriberName::parse(&f.name)
        .map_err(|e| errors.insert("name", e.to_string()))
        .ok();
    let mut products = Vec::new();
    for p in f.products.split([',', ' ', ';']).filter(|p| !p.is_empty()) {
        match PartNumber::parse(p) {
            Ok(part) => products.push(part),
            Err(e) => {
                errors.insert("products", format!("{p:?}: {e}"));
            }
        }
    }
    let source = match f.source.trim() {
        "" => "admin".to_owned(),
        s => s.to_owned(),
    };
    match (email, name, errors.is_empty()) {
        (Some(email), Some(name), true) => Ok(NewCustomer {
            email,
            name,
            company: Some(f.company.trim().to_owned()).filter(|c| !c.is_empty()),
            locale: Locale::from_tag(&f.locale).unwrap_or_default(),
            products,
            source,
        }),
        _ => Err(errors),
    }
}

/// `POST /admin/customers`: adds (or updates) a customer and enrols them.
pub(super) async fn add(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<CustomerForm>,
) -> Response {
    if let Err(e) = session.authorize(Action::ManageNotices) {
        return e.into_response();
    }
    let q = ListQuery::default();
    let new = match new_customer(&form) {
        Ok(n) => n,
        Err(errors) => {
            return page(
                &state,
                &session,
                &q,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match customers::add(&state.ctx, &session.actor(), new).await {
        Ok(_) => Redirect::to("/admin/customers").into_response(),
        Err(CustomerError::Forbidden(_)) => view::forbidden(&session.ctx()),
        Err(CustomerError::Store(e)) => view::internal(&e),
        Err(e) => {
            let key = match e {
                CustomerError::UnknownParts(_) => "products",
                CustomerError::Refused(_) => "email",
                _ if e.to_string().contains("source") => "source",
                _ if e.to_string().contains("company") => "company",
                _ => "email",
            };
            let mut errors = Errors::new();
            errors.insert(key, e.to_string());
            page(
                &state,
                &session,
                &q,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
