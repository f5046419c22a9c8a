//! Use cases of lists: create, list, and look up the lists a signup form names.

use super::audit::{self, Change};
use super::paging::Page;
use crate::{
    context::Context,
    domain::{
        Action, Actor, Forbidden, ListError, ListId, ListRef, ListSlug, MailingList, NewList,
    },
    store::{self, StoreError},
};

/// Why a list could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum ListsError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The definition breaks a rule.
    #[error(transparent)]
    Invalid(#[from] ListError),
    /// Another list has this slug.
    #[error("a list with slug {0:?} already exists")]
    SlugTaken(String),
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ListsError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// Creates a list.
///
/// # Errors
/// `Forbidden`, a rule violation, a taken slug, or a store failure.
pub async fn create(ctx: &Context, actor: &Actor, def: NewList) -> Result<MailingList, ListsError> {
    actor.authorize(Action::ManageLists)?;
    def.validate()?;
    let list = MailingList {
        id: ListId::new(),
        def,
        archived_at: None,
    };
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    match store::lists::insert(&txn, &list, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ListsError::SlugTaken(list.def.slug.as_str().to_owned()));
        }
        Err(e) => return Err(e.into()),
    }
    let change = Change::of("list.create", list.id).detail(list.def.slug.as_str());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(list)
}

/// What an operator may change on a list after creating it.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ListEdit {
    /// Display name.
    pub name: String,
    pub description: String,
    /// Whether the public signup page offers it.
    pub visibility: crate::domain::ListVisibility,
    /// The consent text (`None`: the default wording). A change is a new version: the ledger
    /// keeps the hash, and `consent_texts` the text, of the version each person saw.
    pub consent_text: Option<String>,
    /// Where replies to the list's mail go (`None`: `mail.reply_to`, if set).
    pub reply_to: Option<crate::domain::EmailAddress>,
}

/// One list.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn find(ctx: &Context, id: ListId) -> Result<MailingList, StoreError> {
    store::lists::find(&ctx.db, id).await
}

/// Changes the editable fields of a list, checked by the same rules as at creation.
///
/// # Errors
/// `Forbidden`; `Invalid` for a broken rule; `Store(NotFound)` for an unknown list; store
/// failure.
pub async fn update(
    ctx: &Context,
    actor: &Actor,
    id: ListId,
    edit: ListEdit,
) -> Result<MailingList, ListsError> {
    let patch = ListPatch {
        name: Some(edit.name),
        description: Some(edit.description),
        visibility: Some(edit.visibility),
        consent_text: Some(edit.consent_text),
        reply_to: Some(edit.reply_to),
    };
    patch_list(ctx, actor, id, patch).await
}

/// What a partial change of a list names: `None` leaves a field as it is; for the consent
/// text and reply-to address, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ListPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub visibility: Option<crate::domain::ListVisibility>,
    pub consent_text: Option<Option<String>>,
    pub reply_to: Option<Option<crate::domain::EmailAddress>>,
}

/// Changes the fields `patch` names and keeps the others, checked as at creation; an
/// unchanged consent text is no new version.
///
/// # Errors
/// `Forbidden`, `Invalid`, `Store(NotFound)`, or a store failure.
pub async fn patch_list(
    ctx: &Context,
    actor: &Actor,
    id: ListId,
    patch: ListPatch,
) -> Result<MailingList, ListsError> {
    actor.authorize(Action::ManageLists)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let mut list = store::lists::find(&txn, id).await?;
    let def = &mut list.def;
    if let Some(name) = patch.name {
        def.name = name;
    }
    if let Some(description) = patch.description {
        def.description = description;
    }
    if let Some(visibility) = patch.visibility {
        def.visibility = visibility;
    }
    if let Some(consent_text) = patch.consent_text {
        def.consent_text = consent_text;
    }
    if let Some(reply_to) = patch.reply_to {
        def.reply_to = reply_to;
    }
    def.validate()?;
    store::lists::update(&txn, &list, now).await?;
    let change = Change::of("list.update", list.id).detail(list.def.slug.as_str());
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(list)
}

/// Archives a list (no signups, no new campaigns; subscriptions and history stay) or
/// brings it back.
///
/// # Errors
/// `Forbidden`, `Store(NotFound)`, or a store failure.
pub async fn set_archived(
    ctx: &Context,
    actor: &Actor,
    id: ListId,
    archived: bool,
) -> Result<MailingList, ListsError> {
    actor.authorize(Action::ManageLists)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let mut list = store::lists::find(&txn, id).await?;
    list.archived_at = match archived {
        true => Some(list.archived_at.unwrap_or(now)),
        false => None,
    };
    store::lists::update(&txn, &list, now).await?;
    let action = match archived {
        true => "list.archive",
        false => "list.unarchive",
    };
    audit::append(
        &txn,
        actor,
        Change::of(action, list.id).detail(list.def.slug.as_str()),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(list)
}

/// A page of lists after the slug `after`, by slug, and the cursor of the next page.
///
/// # Errors
/// Store failure.
pub async fn page(
    ctx: &Context,
    after: Option<&ListSlug>,
    limit: u64,
) -> Result<Page<MailingList, ListSlug>, StoreError> {
    let found = store::lists::page(&ctx.db, after, super::paging::fetch_size(limit)).await?;
    Ok(Page::cut(found, limit, |l| l.def.slug.clone()))
}

/// Every list.
///
/// # Errors
/// Store failure.
pub async fn all(ctx: &Context) -> Result<Vec<MailingList>, StoreError> {
    store::lists::all(&ctx.db).await
}

/// Why a signup form's lists are not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum SignupListsError {
    /// The form named no list.
    #[error("no list was chosen")]
    NoList,
    /// A slug names no list open for signup (unknown and private lists look the same).
    #[error("there is no list {0:?} to sign up for")]
    Unknown(String),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The lists a signup names (by slug or id), each one public and consent-based.
///
/// # Errors
/// No list, an unknown or closed list, or a store failure.
pub async fn for_signup(
    ctx: &Context,
    refs: &[ListRef],
) -> Result<Vec<MailingList>, SignupListsError> {
    if refs.is_empty() {
        return Err(SignupListsError::NoList);
    }
    let found = store::lists::find_by_refs(&ctx.db, refs).await?;
    for wanted in refs {
        if !found
            .iter()
            .any(|l| wanted.names(l.id, &l.def.slug) && l.is_open_for_signup())
        {
            return Err(SignupListsError::Unknown(wanted.as_str().to_owned()));
        }
    }
    Ok(found)
}

/// The list `wanted` names, by slug or id.
///
/// # Errors
/// `NotFound`, or a store failure.
pub async fn named(ctx: &Context, wanted: &ListRef) -> Result<MailingList, StoreError> {
    store::lists::find_by_refs(&ctx.db, std::slice::from_ref(wanted))
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
}
