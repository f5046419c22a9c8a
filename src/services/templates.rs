//! E-mail template overrides: list the templates in use, read one, save an override after
//! checking it, revert to the built-in, and preview with sample values. Overrides live in
//! the database, so every instance uses them and they survive deploys.

use super::audit::{self, Change};
use crate::{
    context::Context,
    domain::{Action, Actor},
    mail::{RenderedMail, TemplateError, TemplateFile},
    store::{self, StoreError, templates::TemplateOverride},
};

/// The longest template source accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 60_000;

/// Why a template request was refused.
#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] crate::domain::Forbidden),
    /// No template file has this path.
    #[error("there is no such e-mail template")]
    NotFound,
    /// The source does not compile or render; `line` when the engine knows it.
    #[error("{}", match line { Some(l) => format!("line {l}: {reason}"), None => reason.clone() })]
    Invalid {
        /// The line of the problem.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
    /// Anything else.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TemplateError> for TemplatesError {
    fn from(e: TemplateError) -> Self {
        match e {
            TemplateError::UnknownFile(_) => Self::NotFound,
            e => Self::Invalid {
                line: e.line(),
                reason: e.reason(),
            },
        }
    }
}

/// One template file as the operator sees it.
#[derive(Debug, Clone)]
pub struct TemplateInfo {
    /// Which file.
    pub file: TemplateFile,
    /// The source in use (the override, else the built-in).
    pub source: String,
    /// The built-in source.
    pub builtin: String,
    /// The override, if one is saved.
    pub saved: Option<TemplateOverride>,
}

/// Every template file with its override, if any.
///
/// # Errors
/// Store failure.
pub async fn all(ctx: &Context) -> Result<Vec<TemplateInfo>, StoreError> {
    let overrides = store::templates::all(&ctx.db).await?;
    Ok(TemplateFile::all()
        .into_iter()
        .map(|file| info(ctx, file, &overrides))
        .collect())
}

fn info(ctx: &Context, file: TemplateFile, overrides: &[TemplateOverride]) -> TemplateInfo {
    let builtin = ctx
        .templates
        .builtin(&file.path())
        .unwrap_or_default()
        .to_owned();
    let saved = overrides.iter().find(|o| o.path == file.path()).cloned();
    TemplateInfo {
        file,
        source: saved
            .as_ref()
            .map_or_else(|| builtin.clone(), |o| o.source.clone()),
        builtin,
        saved,
    }
}

/// One template file by its path (`en/welcome.html`).
///
/// # Errors
/// `NotFound` for a path Bulletin does not use; store failure.
pub async fn get(ctx: &Context, path: &str) -> Result<TemplateInfo, TemplatesError> {
    let file = TemplateFile::find(path).ok_or(TemplatesError::NotFound)?;
    let overrides = store::templates::all(&ctx.db).await?;
    Ok(info(ctx, file, &overrides))
}

/// Saves `source` as the override of `path` after checking that it compiles and that every
/// message renders with sample values; this instance uses it at once, others at their next
/// outbox batch.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid` (nothing is stored), store failure.
pub async fn save(
    ctx: &Context,
    actor: &Actor,
    path: &str,
    source: &str,
) -> Result<TemplateInfo, TemplatesError> {
    actor.authorize(Action::ManageTemplates)?;
    let file = TemplateFile::find(path).ok_or(TemplatesError::NotFound)?;
    if source.len() > MAX_SOURCE_BYTES {
        return Err(TemplatesError::Invalid {
            line: None,
            reason: format!("the template is longer than {MAX_SOURCE_BYTES} bytes"),
        });
    }
    ctx.templates.validate(&file.path(), source)?;
    let saved = TemplateOverride {
        path: file.path(),
        source: source.to_owned(),
        updated_at: ctx.clock.now(),
        updated_by: actor.name(),
    };
    let txn = store::begin_write(&ctx.writer).await?;
    store::templates::put(&txn, &saved).await?;
    audit::append(
        &txn,
        actor,
        Change::of("template.save", file.path()),
        saved.updated_at,
    )
    .await?;
    store::commit(txn).await?;
    ctx.refresh_templates().await?;
    get(ctx, path).await
}

/// Removes the override of `path`, so the built-in is used again; whether there was one.
///
/// # Errors
/// `Forbidden`; `NotFound` for a path Bulletin does not use; store failure.
pub async fn revert(ctx: &Context, actor: &Actor, path: &str) -> Result<bool, TemplatesError> {
    actor.authorize(Action::ManageTemplates)?;
    let file = TemplateFile::find(path).ok_or(TemplatesError::NotFound)?;
    let txn = store::begin_write(&ctx.writer).await?;
    let removed = store::templates::delete(&txn, &file.path()).await?;
    if removed {
        let change = Change::of("template.revert", file.path());
        audit::append(&txn, actor, change, ctx.clock.now()).await?;
    }
    store::commit(txn).await?;
    ctx.refresh_templates().await?;
    Ok(removed)
}

/// The message `path` belongs to, rendered with sample values; with `draft` in place of the
/// file's current source when given.
///
/// # Errors
/// `Forbidden` (a draft is part of editing), `NotFound`, `Invalid` for a broken draft, store
/// failure.
pub async fn preview(
    ctx: &Context,
    actor: &Actor,
    path: &str,
    draft: Option<&str>,
) -> Result<RenderedMail, TemplatesError> {
    let needs = match draft {
        Some(_) => Action::ManageTemplates,
        None => Action::Read,
    };
    actor.authorize(needs)?;
    let file = TemplateFile::find(path).ok_or(TemplatesError::NotFound)?;
    if draft.is_some_and(|d| d.len() > MAX_SOURCE_BYTES) {
        return Err(TemplatesError::Invalid {
            line: None,
            reason: format!("the template is longer than {MAX_SOURCE_BYTES} bytes"),
        });
    }
    ctx.refresh_templates().await?;
    Ok(ctx.templates.preview(&file, draft)?)
}
