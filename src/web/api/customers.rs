//! `/api/v1/products` and `/api/v1/customers`: products, and customers with the products
//! they use (one by JSON, many by CSV), enrolled on the basis of legitimate interest, and
//! the customer list with an address-prefix search.

use axum::{
    Json,
    body::Bytes,
    extract::{RawQuery, State},
    http::StatusCode,
};
use serde::{Deserialize, Serialize};

use super::PageQuery;
use crate::services::paging::Page;
use crate::{
    domain::{EmailAddress, Locale, PartNumber, Product, SubscriberId, SubscriberName},
    services::{
        customers::{
            self, CustomerError, CustomerImportError, CustomerImportReport, CustomerListing,
            CustomerOutcome, NewCustomer,
        },
        products::{self, ProductsError},
    },
    web::AppState,
    web::{
        error::{ApiError, ApiErrors},
        extract::{ApiCaller, ApiJson},
    },
};

impl From<ProductsError> for ApiError {
    fn from(e: ProductsError) -> Self {
        match e {
            ProductsError::Forbidden(e) => e.into(),
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
            CustomerError::Forbidden(e) => e.into(),
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateProductRequest {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[A-Za-z0-9_./+#-]+$",
        example = "BLT-100"
    )]
    part_number: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "\\S",
        example = "Bulletin board"
    )]
    name: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[a-z0-9-]+$",
        example = "boards"
    )]
    product_line: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
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

#[utoipa::path(post, path = "/api/v1/products", tag = "customers", security(("bearer" = [])), request_body = CreateProductRequest, responses((status = 201, body = ProductResponse), ApiErrors))]
/// `POST /api/v1/products` → 201 with the product; 409 for a taken part number.
pub(super) async fn create_product(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(req): ApiJson<CreateProductRequest>,
) -> Result<(StatusCode, Json<ProductResponse>), ApiError> {
    let part = PartNumber::parse(&req.part_number).map_err(|e| ApiError::invalid(e.to_string()))?;
    let product = products::create(
        &state.ctx,
        &caller.actor(),
        part,
        &req.name,
        &req.product_line,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(product.into())))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ProductsResponse {
    products: Vec<ProductResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/products", tag = "customers", security(("bearer" = [])), params(("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = ProductsResponse), ApiErrors))]
/// `GET /api/v1/products[?cursor=C][&limit=N]` → products by part number, a page at a time.
pub(super) async fn products(
    State(state): State<AppState>,
    _caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<ProductsResponse>, ApiError> {
    let page = PageQuery::parse(raw.as_deref())?;
    let after = page.cursor(|c| PartNumber::parse(c).ok())?;
    let Page { items: found, next } =
        products::page(&state.ctx, after.as_ref(), page.limit()).await?;
    Ok(Json(ProductsResponse {
        products: found.into_iter().map(Into::into).collect(),
        next_cursor: next.map(|p| p.to_string()),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateCustomerRequest {
    #[schema(format = Email, max_length = 254, example = "ada@example.com")]
    email: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    name: String,
    company: Option<String>,
    locale: Option<String>,
    #[schema(min_items = 1, example = json!(["BLT-100"]))]
    products: Vec<String>,
    #[schema(example = "fair")]
    source: String,
}

#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])), request_body = CreateCustomerRequest, responses((status = 201, description = "a new subscriber, enrolled", body = Object), (status = 200, description = "a known subscriber; what was enrolled", body = Object), ApiErrors))]
/// `POST /api/v1/customers` → 201 (new subscriber) or 200 with what was enrolled.
pub(super) async fn create_customer(
    State(state): State<AppState>,
    caller: ApiCaller,
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
    let outcome = customers::add(&state.ctx, &caller.actor(), new).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome)))
}

#[utoipa::path(post, path = "/api/v1/customers/import", tag = "customers", security(("bearer" = [])), request_body(content = String, content_type = "text/csv", description = "UTF-8 CSV with a header row: `email`, `products` (part numbers separated by `;`), optionally `name`, `company`, `locale`, `source`", example = json!("email,products,name\nada@example.com,BLT-100,Ada\n")), responses((status = 200, description = "the import report", body = Object), ApiErrors))]
/// `POST /api/v1/customers/import` (CSV body) → the report; a bad file is 422, nothing kept.
pub(super) async fn import_customers(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<CustomerImportReport>, ApiError> {
    let body = body.map_err(|e| {
        let code = match e.status() {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "malformed_body",
        };
        ApiError::new(e.status(), code, e.body_text())
    })?;
    match customers::import_csv(&state.ctx, &caller.actor(), &body).await {
        Ok(report) => Ok(Json(report)),
        Err(e @ CustomerImportError::BadFile(_)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_csv",
            e.to_string(),
        )),
        Err(CustomerImportError::Forbidden(e)) => Err(e.into()),
        Err(CustomerImportError::Store(e)) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomersQuery {
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<super::PageLimit>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CustomerResponse {
    /// The subscriber id.
    id: String,
    email: String,
    company: Option<String>,
    /// Where the customer relation comes from.
    source: String,
    /// The part numbers they use.
    products: Vec<String>,
}

impl From<CustomerListing> for CustomerResponse {
    fn from(c: CustomerListing) -> Self {
        Self {
            id: c.id.to_string(),
            email: c.email,
            company: c.company,
            source: c.source,
            products: c.products,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct CustomersResponse {
    customers: Vec<CustomerResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", security(("bearer" = [])), params(("q" = Option<String>, Query, description = "an address prefix"), ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"), ("limit" = Option<u64>, Query, description = "1 to 1000, default 100")), responses((status = 200, body = CustomersResponse), ApiErrors))]
/// `GET /api/v1/customers[?q=PREFIX][&cursor=C][&limit=N]` → customers with their products,
/// newest first, a page at a time.
pub(super) async fn customers(
    State(state): State<AppState>,
    _caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<CustomersResponse>, ApiError> {
    let q: CustomersQuery = super::query(raw.as_deref())?;
    let before = super::cursor(q.cursor.as_deref(), |c| {
        c.parse().ok().map(SubscriberId::from_uuid)
    })?;
    let limit = super::page_limit(q.limit);
    let Page { items: found, next } =
        customers::page(&state.ctx, q.q.as_deref(), before, limit).await?;
    Ok(Json(CustomersResponse {
        customers: found.into_iter().map(CustomerResponse::from).collect(),
        next_cursor: next.map(|id| id.to_string()),
    }))
}
