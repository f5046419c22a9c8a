//! Use cases of products: create one, list them.

use super::audit::{self, Change};
use super::paging::Page;
use crate::{
    context::Context,
    domain::{Action, Actor, PartNumber, Product, ProductError, ProductId},
    store::{self, StoreError},
};

/// Why a product could not be created.
#[derive(Debug, thiserror::Error)]
pub enum ProductsError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] crate::domain::Forbidden),
    /// A field breaks a rule.
    #[error(transparent)]
    Invalid(#[from] ProductError),
    /// The part number is taken.
    #[error("a product with part number {0:?} already exists")]
    Duplicate(String),
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

/// Creates a product.
///
/// # Errors
/// A rule violation, a taken part number, or a store failure.
pub async fn create(
    ctx: &Context,
    actor: &Actor,
    part_number: PartNumber,
    name: &str,
    product_line: &str,
) -> Result<Product, ProductsError> {
    actor.authorize(Action::ManageNotices)?;
    let product = Product {
        id: ProductId::new(),
        part_number,
        name: name.trim().to_owned(),
        product_line: product_line.trim().to_owned(),
    };
    product.validate()?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer)
        .await
        .map_err(ProductsError::Store)?;
    match store::products::insert(&txn, &product, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ProductsError::Duplicate(
                product.part_number.as_str().to_owned(),
            ));
        }
        Err(e) => return Err(ProductsError::Store(e)),
    }
    let change = Change::of("product.create", product.id).detail(product.part_number.as_str());
    audit::append(&txn, actor, change, now)
        .await
        .map_err(ProductsError::Store)?;
    store::commit(txn).await.map_err(ProductsError::Store)?;
    Ok(product)
}

/// Every product.
///
/// # Errors
/// Store failure.
pub async fn all(ctx: &Context) -> Result<Vec<Product>, StoreError> {
    store::products::all(&ctx.db).await
}

/// A page of products whose part number sorts after `after`, and the next cursor.
///
/// # Errors
/// Store failure.
pub async fn page(
    ctx: &Context,
    after: Option<&PartNumber>,
    limit: u64,
) -> Result<Page<Product, PartNumber>, StoreError> {
    use super::paging;
    let found = store::products::page(&ctx.db, after, paging::fetch_size(limit)).await?;
    Ok(Page::cut(found, limit, |p| p.part_number.clone()))
}
