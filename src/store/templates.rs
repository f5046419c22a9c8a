//! Queries on `template_overrides` and `template_revision`: the operator's edited e-mail
//! templates, and the counter every save and revert bumps so other instances notice.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter,
    QueryOrder, sea_query::Expr, sea_query::OnConflict,
};

use super::{
    StoreError,
    entities::{template_overrides as table, template_revision as revision_table},
};

/// One stored override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateOverride {
    /// Path below `emails/`, e.g. `en/welcome.html`.
    pub path: String,
    /// The template source.
    pub source: String,
    /// When it was saved.
    pub updated_at: DateTime<Utc>,
    /// Who saved it (`user:EMAIL`, `api:NAME`).
    pub updated_by: String,
}

impl From<table::Model> for TemplateOverride {
    fn from(m: table::Model) -> Self {
        Self {
            path: m.path,
            source: m.source,
            updated_at: m.updated_at,
            updated_by: m.updated_by,
        }
    }
}

/// The current revision of the overrides (0 before the first save).
///
/// # Errors
/// Database failure.
pub async fn revision(conn: &impl ConnectionTrait) -> Result<i64, StoreError> {
    Ok(revision_table::Entity::find_by_id(1)
        .one(conn)
        .await?
        .map_or(0, |row| row.revision))
}

/// Every override, by path.
///
/// # Errors
/// Database failure.
pub async fn all(conn: &impl ConnectionTrait) -> Result<Vec<TemplateOverride>, StoreError> {
    Ok(table::Entity::find()
        .order_by_asc(table::Column::Path)
        .all(conn)
        .await?
        .into_iter()
        .map(TemplateOverride::from)
        .collect())
}

/// Stores (or replaces) an override and bumps the revision.
///
/// # Errors
/// Database failure.
pub async fn put(conn: &impl ConnectionTrait, o: &TemplateOverride) -> Result<(), StoreError> {
    let row = table::ActiveModel {
        path: Set(o.path.clone()),
        source: Set(o.source.clone()),
        updated_at: Set(o.updated_at),
        updated_by: Set(o.updated_by.clone()),
    };
    table::Entity::insert(row)
        .on_conflict(
            OnConflict::column(table::Column::Path)
                .update_columns([
                    table::Column::Source,
                    table::Column::UpdatedAt,
                    table::Column::UpdatedBy,
                ])
                .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    bump(conn).await
}

/// Deletes the override of `path`; whether there was one. Bumps the revision when there was.
///
/// # Errors
/// Database failure.
pub async fn delete(conn: &impl ConnectionTrait, path: &str) -> Result<bool, StoreError> {
    let gone = table::Entity::delete_many()
        .filter(table::Column::Path.eq(path))
        .exec(conn)
        .await?
        .rows_affected;
    if gone > 0 {
        bump(conn).await?;
    }
    Ok(gone > 0)
}

async fn bump(conn: &impl ConnectionTrait) -> Result<(), StoreError> {
    revision_table::Entity::update_many()
        .col_expr(
            revision_table::Column::Revision,
            Expr::col(revision_table::Column::Revision).add(1),
        )
        .filter(revision_table::Column::Id.eq(1))
        .exec(conn)
        .await?;
    Ok(())
}
