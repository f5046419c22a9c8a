//! Customers: the list (by address prefix, 50 a page by keyset) and the form that adds one
//! and enrols them on the basis of legitimate interest (the same service as
//! `POST /api/v1/customers`).

use axum::{
    Extension,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::services::paging::Page;
use crate::{
    domain::{
        Action, EmailAddress, Locale, PartNumber, ProductError, SubscriberId, SubscriberName,
    },
    services::customers::{self, CustomerError, NewCustomer},
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            Errors,
            customers::{CustomerFormView, CustomersView, customers_page},
            te, tf, tl,
        },
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

impl CustomerForm {
    /// The values as the page shows them.
    fn view(&self) -> CustomerFormView<'_> {
        CustomerFormView {
            email: &self.email,
            name: &self.name,
            company: &self.company,
            locale: &self.locale,
            products: &self.products,
            source: &self.source,
        }
    }
}

/// The customers page of the query `q`, with the add-a-customer form as typed.
async fn page(
    state: &AppState,
    session: &AdminSession,
    q: &ListQuery,
    form: &CustomerForm,
    errors: &Errors,
    code: StatusCode,
) -> Result<Response, AdminError> {
    let before = q.before.map(SubscriberId::from_uuid);
    let Page {
        items: found,
        next: next_cursor,
    } = customers::page(&state.ctx, Some(q.q.as_str()), before, PAGE).await?;
    let v = CustomersView {
        query: &q.q,
        found: &found,
        next_cursor,
        form: form.view(),
        errors,
    };
    Ok((code, customers_page(&session.ctx(), &v)).into_response())
}

/// `GET /admin/customers`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AdminError> {
    let form = CustomerForm::default();
    page(&state, &session, &q, &form, &Errors::new(), StatusCode::OK).await
}

fn new_customer(f: &CustomerForm) -> Result<NewCustomer, Errors> {
    let mut errors = Errors::new();
    let email = EmailAddress::parse(&f.email)
        .map_err(|e| errors.insert("email", te(&e)))
        .ok();
    let name = SubscriberName::parse(&f.name)
        .map_err(|e| errors.insert("name", te(&e)))
        .ok();
    let mut products = Vec::new();
    for p in f.products.split([',', ' ', ';']).filter(|p| !p.is_empty()) {
        match PartNumber::parse(p) {
            Ok(part) => products.push(part),
            Err(e) => {
                errors.insert("products", format!("{p:?}: {}", product_error(&e)));
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

/// Why a part number was refused, in the page's language.
fn product_error(e: &ProductError) -> String {
    match e {
        ProductError::BadPartNumber(raw) => tf(
            "part number {part} must be 1 to 100 letters, digits or -_./+#",
            &[("part", &format!("{raw:?}"))],
        ),
        e => te(e),
    }
}

/// A refusal of the service in the page's language.
fn refusal(e: &CustomerError) -> String {
    match e {
        CustomerError::UnknownParts(parts) => tf(
            "unknown part numbers: {parts}",
            &[("parts", &parts.join(", "))],
        ),
        CustomerError::Refused(why) => tf(
            "the address may not be enrolled: {why}",
            &[("why", &tl(why))],
        ),
        e => te(e),
    }
}

/// The form field a refusal of the service is about.
fn field_of(e: &CustomerError) -> &'static str {
    match e {
        CustomerError::UnknownParts(_) => "products",
        CustomerError::Refused(_) => "email",
        _ if e.to_string().contains("source") => "source",
        _ if e.to_string().contains("company") => "company",
        _ => "email",
    }
}

/// `POST /admin/customers`: adds (or updates) a customer and enrols them.
pub(super) async fn add(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<CustomerForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageNotices)?;
    let (q, refused) = (ListQuery::default(), StatusCode::UNPROCESSABLE_ENTITY);
    let new = match new_customer(&form) {
        Ok(n) => n,
        Err(errors) => return page(&state, &session, &q, &form, &errors, refused).await,
    };
    let errors = match customers::add(&state.ctx, &session.actor(), new).await {
        Ok(_) => return Ok(Redirect::to("/admin/customers").into_response()),
        Err(e @ (CustomerError::Forbidden(_) | CustomerError::Store(_))) => return Err(e.into()),
        Err(e) => Errors::from([(field_of(&e), refusal(&e))]),
    };
    page(&state, &session, &q, &form, &errors, refused).await
}

impl From<CustomerError> for AdminError {
    fn from(e: CustomerError) -> Self {
        match e {
            CustomerError::Forbidden(_) => Self::Forbidden,
            CustomerError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
}
