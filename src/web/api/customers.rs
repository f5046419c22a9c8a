//! `/api/v1/products` and `/api/v1/customers`: products, and customers with the products
//! they use (one by JSON, many by CSV), enrolled on the basis of legitimate interest.

use axum::{Json, body::Bytes, extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};

use crate::{
    domain::{EmailAddress, Locale, PartNumber, Product, SubscriberName},
    services::{
        customers::{
            self, CustomerError, CustomerImportError, CustomerImportReport, CustomerOutcome,
            NewCustomer,
        },
        products::{self, ProductsError},
    },
    startup::AppState,
    web::{
        error::ApiError,
        extract::{ApiCaller, ApiJson},
    },
};

impl From<ProductsError> for ApiError {
    fn from(e: ProductsError) -> Self {
        match e {
            ProductsError::Invalid(e) => ApiError::invalid(e.to_string()),
            e @ ProductsError::Duplicate(_) => {
                ApiError::new(StatusCode::CONFLICT, "duplicate_part_number", e.to_string())
            }
            ProductsError::Store(e) => e.into(),
        }
    }
}

impl From<CustomerError> for ApiError {
    fn from(e: CustomerError) -> Self {
        match e {
            CustomerError::Invalid(m) => ApiError::invalid(m),
            e @ CustomerError::UnknownParts(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_part",
                e.to_string(),
            ),
            e @ CustomerError::Refused(code) => {
                ApiError::new(StatusCode::CONFLICT, code, e.to_string())
            }
            CustomerError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateProductRequest {
    part_number: String,
    name: String,
    product_line: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ProductResponse {
    id: String,
    part_number: String,
    name: String,
    product_line: String,
}

impl From<Product> for ProductResponse {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.to_string(),
            part_number: p.part_number.to_string(),
            name: p.name,
            product_line: p.product_line,
        }
    }
}

/// `POST /api/v1/products` → 201 with the product; 409 for a taken part number.
pub(super) async fn create_product(
    State(state): State<AppState>,
    _caller: ApiCaller,
    ApiJson(req): ApiJson<CreateProductRequest>,
) -> Result<(StatusCode, Json<ProductResponse>), ApiError> {
    let part = PartNumber::parse(&req.part_number).map_err(|e| ApiError::invalid(e.to_string()))?;
    let product = products::create(&state, part, &req.name, &req.product_line).await?;
    Ok((StatusCode::CREATED, Json(product.into())))
}

#[derive(Debug, Serialize)]
pub(super) struct ProductsResponse {
    products: Vec<ProductResponse>,
}

/// `GET /api/v1/products` → every product.
pub(super) async fn products(
    State(state): State<AppState>,
    _caller: ApiCaller,
) -> Result<Json<ProductsResponse>, ApiError> {
    let all = products::all(&state).await?;
    Ok(Json(ProductsResponse {
        products: all.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateCustomerRequest {
    email: String,
    #[serde(default)]
    name: String,
    company: Option<String>,
    locale: Option<String>,
    products: Vec<String>,
    source: String,
}

/// `POST /api/v1/customers` → 201 (new subscriber) or 200 with what was enrolled.
pub(super) async fn create_customer(
    State(state): State<AppState>,
    ApiCaller(token): ApiCaller,
    ApiJson(req): ApiJson<CreateCustomerRequest>,
) -> Result<(StatusCode, Json<CustomerOutcome>), ApiError> {
    let new = NewCustomer {
        email: EmailAddress::parse(&req.email).map_err(|e| ApiError::invalid(e.to_string()))?,
        name: SubscriberName::parse(&req.name).map_err(|e| ApiError::invalid(e.to_string()))?,
        company: req.company,
        locale: req
            .locale
            .as_deref()
            .and_then(Locale::from_tag)
            .unwrap_or_default(),
        products: req
            .products
            .iter()
            .map(|p| PartNumber::parse(p))
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::invalid(e.to_string()))?,
        source: req.source,
    };
    let outcome = customers::add(&state, new, &format!("api:{}", token.name)).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome)))
}

/// `POST /api/v1/customers/import` (CSV body) → the report; a bad file is 422, nothing kept.
pub(super) async fn import_customers(
    State(state): State<AppState>,
    ApiCaller(token): ApiCaller,
    body: Bytes,
) -> Result<Json<CustomerImportReport>, ApiError> {
    match customers::import_csv(&state, &body, &format!("api:{}", token.name)).await {
        Ok(report) => Ok(Json(report)),
        Err(e @ CustomerImportError::BadFile(_)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_csv",
            e.to_string(),
        )),
        Err(CustomerImportError::Store(e)) => Err(e.into()),
    }
}
