//! Queries on `products`, `customers` and `customer_products`: the targeting base of notices.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::OnConflict,
};

use super::{
    StoreError, corrupt,
    entities::{customer_products, customers, products as table},
};
use crate::domain::{PartNumber, Product, ProductId, SubscriberId};

impl TryFrom<table::Model> for Product {
    type Error = StoreError;

    fn try_from(m: table::Model) -> Result<Self, StoreError> {
        Ok(Product {
            id: ProductId::from_uuid(m.id),
            part_number: PartNumber::parse(&m.part_number).map_err(corrupt)?,
            name: m.name,
            product_line: m.product_line,
        })
    }
}

/// Stores a new product.
///
/// # Errors
/// `Conflict` when the part number is taken.
pub async fn insert(
    conn: &impl ConnectionTrait,
    p: &Product,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        id: Set(p.id.as_uuid()),
        part_number: Set(p.part_number.as_str().to_owned()),
        name: Set(p.name.clone()),
        product_line: Set(p.product_line.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    table::Entity::insert(row)
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Every product, by part number.
///
/// # Errors
/// Database failure.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<Product>, StoreError> {
    table::Entity::find()
        .order_by_asc(table::Column::PartNumber)
        .all(conn)
        .await?
        .into_iter()
        .map(Product::try_from)
        .collect()
}

/// Up to `limit` products whose part number sorts after `after`, by part number.
///
/// # Errors
/// Database failure.
pub async fn page(
    conn: &impl ConnectionTrait,
    after: Option<&PartNumber>,
    limit: u64,
) -> Result<Vec<Product>, StoreError> {
    let mut query = table::Entity::find();
    if let Some(after) = after {
        query = query.filter(table::Column::PartNumber.gt(after.as_str()));
    }
    query
        .order_by_asc(table::Column::PartNumber)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(Product::try_from)
        .collect()
}

/// The products with these part numbers (unknown ones are simply absent).
///
/// # Errors
/// Database failure.
pub async fn find_by_parts(
    conn: &impl ConnectionTrait,
    parts: &[PartNumber],
) -> Result<Vec<Product>, StoreError> {
    let mut found = Vec::new();
    for chunk in parts.chunks(500) {
        let rows = table::Entity::find()
            .filter(table::Column::PartNumber.is_in(chunk.iter().map(PartNumber::as_str)))
            .order_by_asc(table::Column::PartNumber)
            .all(conn)
            .await?;
        for row in rows {
            found.push(Product::try_from(row)?);
        }
    }
    Ok(found)
}

/// The products of one product line.
///
/// # Errors
/// Database failure.
pub async fn of_line(conn: &impl ConnectionTrait, line: &str) -> Result<Vec<Product>, StoreError> {
    table::Entity::find()
        .filter(table::Column::ProductLine.eq(line))
        .order_by_asc(table::Column::PartNumber)
        .all(conn)
        .await?
        .into_iter()
        .map(Product::try_from)
        .collect()
}

/// A customer's own data besides the subscriber record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct CustomerRecord {
    pub subscriber_id: SubscriberId,
    /// Company, if given.
    pub company: Option<String>,
    /// Where the customer relation came from (`order:12345`, `crm`, …).
    pub source: String,
    /// When the customer was first added.
    pub created_at: DateTime<Utc>,
}

/// The customer record of a subscriber, if they are a customer.
///
/// # Errors
/// Database failure.
pub async fn find_customer(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
) -> Result<Option<CustomerRecord>, StoreError> {
    Ok(customers::Entity::find_by_id(id.as_uuid())
        .one(conn)
        .await?
        .map(|m| CustomerRecord {
            subscriber_id: SubscriberId::from_uuid(m.subscriber_id),
            company: m.company,
            source: m.source,
            created_at: m.created_at,
        }))
}

/// Creates the customer record, or updates company (when given) and source.
///
/// # Errors
/// Database failure.
pub async fn put_customer(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    company: Option<&str>,
    source: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = customers::ActiveModel {
        subscriber_id: Set(id.as_uuid()),
        company: Set(company.map(str::to_owned)),
        source: Set(source.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let mut update = vec![customers::Column::Source, customers::Column::UpdatedAt];
    if company.is_some() {
        update.push(customers::Column::Company);
    }
    customers::Entity::insert(row)
        .on_conflict(
            OnConflict::column(customers::Column::SubscriberId)
                .update_columns(update)
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Records that a customer uses these products; known pairs stay as they are.
///
/// # Errors
/// Database failure.
pub async fn add_customer_products(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
    products: &[ProductId],
    source: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if products.is_empty() {
        return Ok(());
    }
    let rows = products.iter().map(|p| customer_products::ActiveModel {
        subscriber_id: Set(id.as_uuid()),
        product_id: Set(p.as_uuid()),
        source: Set(source.to_owned()),
        created_at: Set(now),
    });
    customer_products::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                customer_products::Column::SubscriberId,
                customer_products::Column::ProductId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The products a customer uses, by part number.
///
/// # Errors
/// Database failure.
pub async fn products_of(
    conn: &impl ConnectionTrait,
    id: SubscriberId,
) -> Result<Vec<Product>, StoreError> {
    let ids: Vec<uuid::Uuid> = customer_products::Entity::find()
        .select_only()
        .column(customer_products::Column::ProductId)
        .filter(customer_products::Column::SubscriberId.eq(id.as_uuid()))
        .into_tuple()
        .all(conn)
        .await?;
    table::Entity::find()
        .filter(table::Column::Id.is_in(ids))
        .order_by_asc(table::Column::PartNumber)
        .all(conn)
        .await?
        .into_iter()
        .map(Product::try_from)
        .collect()
}

/// The customers who use at least one of `products`, in id order.
///
/// # Errors
/// Database failure.
pub async fn customers_using(
    conn: &impl ConnectionTrait,
    products: &[ProductId],
) -> Result<Vec<SubscriberId>, StoreError> {
    let mut found = HashSet::new();
    for chunk in products.chunks(500) {
        let ids: Vec<uuid::Uuid> = customer_products::Entity::find()
            .select_only()
            .column(customer_products::Column::SubscriberId)
            .filter(
                customer_products::Column::ProductId.is_in(chunk.iter().map(ProductId::as_uuid)),
            )
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(ids);
    }
    let mut ids: Vec<SubscriberId> = found.into_iter().map(SubscriberId::from_uuid).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// One customer as the admin list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct CustomerRow {
    /// The subscriber.
    pub id: SubscriberId,
    pub company: Option<String>,
    /// Where the relation comes from.
    pub source: String,
}

/// A page of customers, newest first, after the keyset cursor `before`; with an address
/// prefix (lower case), only those whose address starts with it.
///
/// # Errors
/// Database failure.
pub async fn customers_page(
    conn: &impl ConnectionTrait,
    prefix: Option<&str>,
    before: Option<SubscriberId>,
    limit: u64,
) -> Result<Vec<CustomerRow>, StoreError> {
    use super::entities::subscribers;
    use sea_orm::{
        ExprTrait,
        sea_query::{Expr, Query},
    };
    let mut query = customers::Entity::find();
    if let Some(prefix) = prefix.filter(|p| !p.is_empty()) {
        let mut sub = Query::select();
        sub.column(subscribers::Column::Id)
            .from(subscribers::Entity)
            .and_where(Expr::col(subscribers::Column::Email).gte(prefix))
            .and_where(Expr::col(subscribers::Column::Email).lt(format!("{prefix}\u{10FFFF}")));
        query = query.filter(customers::Column::SubscriberId.in_subquery(sub));
    }
    if let Some(before) = before {
        query = query.filter(customers::Column::SubscriberId.lt(before.as_uuid()));
    }
    Ok(query
        .order_by_desc(customers::Column::SubscriberId)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| CustomerRow {
            id: SubscriberId::from_uuid(m.subscriber_id),
            company: m.company,
            source: m.source,
        })
        .collect())
}
