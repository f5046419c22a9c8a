//! Use cases of API tokens: issue, list and revoke them, and authenticate a bearer token.

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::audit::{self, Change};
use super::paging::Page;
use crate::{
    context::Context,
    domain::{Action, Actor, ApiTokenId, Forbidden, Role, UserId},
    store::{self, StoreError, api_tokens::ApiToken},
};

/// Why a token was not issued.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// The owner named does not exist.
    #[error("there is no such user")]
    UnknownOwner,
    /// The owner is disabled.
    #[error("the user is disabled")]
    OwnerDisabled,
    /// The token would have more rights than its owner.
    #[error("a token of a {owner} cannot have the role {role}")]
    AboveOwner {
        /// The role asked for.
        role: Role,
        /// The owner's role.
        owner: Role,
    },
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Prefix of every token, so that leaked tokens are recognisable by secret scanners.
const PREFIX: &str = "blt_";

/// Creates a token and returns it with its secret, which is shown once and stored only
/// hashed. A token with an owner may not have more rights than the owner.
///
/// # Errors
/// `Forbidden`, `UnknownOwner`, `OwnerDisabled`, `AboveOwner`, or a store failure.
pub async fn issue(
    ctx: &Context,
    actor: &Actor,
    name: &str,
    role: Role,
    user_id: Option<UserId>,
) -> Result<(ApiToken, String), TokenError> {
    actor.authorize(Action::ManageAccess)?;
    if let Some(owner) = user_id {
        let owner = match store::users::find(&ctx.db, owner).await {
            Ok((owner, _)) => owner,
            Err(StoreError::NotFound) => return Err(TokenError::UnknownOwner),
            Err(e) => return Err(e.into()),
        };
        if !owner.is_active() {
            return Err(TokenError::OwnerDisabled);
        }
        if role.at_most(owner.role) != role {
            return Err(TokenError::AboveOwner {
                role,
                owner: owner.role,
            });
        }
    }
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", hex::encode(bytes));
    let token = ApiToken {
        id: ApiTokenId::new(),
        name: name.to_owned(),
        role,
        user_id,
    };
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    store::api_tokens::insert(&txn, &token, &hash(&secret), now).await?;
    let owner = token
        .user_id
        .map_or_else(|| "without owner".to_owned(), |u| format!("of user {u}"));
    let detail = format!("{:?} as {}, {owner}", token.name, token.role);
    audit::append(
        &txn,
        actor,
        Change::of("token.create", token.id).detail(detail),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok((token, secret))
}

/// The token a bearer secret belongs to, if it is valid and unrevoked and its owner (if any)
/// is active; its role is capped by the owner's current role.
///
/// # Errors
/// Store failure.
pub async fn authenticate(ctx: &Context, secret: &str) -> Result<Option<ApiToken>, StoreError> {
    if !secret.starts_with(PREFIX) || secret.len() > 100 {
        return Ok(None);
    }
    // Looked up by a SHA-256 of a 256-bit random secret: the lookup reveals nothing usable
    // by timing, and a database leak does not reveal usable tokens.
    store::api_tokens::find_active(&ctx.db, &hash(secret), ctx.clock.now()).await
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Every unrevoked token, newest first (never their secrets).
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn active(
    ctx: &Context,
    actor: &Actor,
) -> Result<Vec<store::api_tokens::TokenListing>, TokenError> {
    actor.authorize(Action::ManageAccess)?;
    Ok(store::api_tokens::active(&ctx.db).await?)
}

/// Revokes a token at once.
///
/// # Errors
/// `Forbidden`; `Store(NotFound)` for an unknown or revoked token; store failure.
pub async fn revoke(ctx: &Context, actor: &Actor, id: ApiTokenId) -> Result<(), TokenError> {
    actor.authorize(Action::ManageAccess)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    store::api_tokens::revoke(&txn, id, now).await?;
    audit::append(&txn, actor, Change::of("token.revoke", id), now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// A page of unrevoked tokens older than `before`, newest first, and the next cursor.
///
/// # Errors
/// Store failure.
pub async fn page(
    ctx: &Context,
    actor: &Actor,
    before: Option<ApiTokenId>,
    limit: u64,
) -> Result<Page<store::api_tokens::TokenListing, ApiTokenId>, TokenError> {
    use super::paging;
    actor.authorize(Action::ManageAccess)?;
    let found = store::api_tokens::active_page(&ctx.db, before, paging::fetch_size(limit)).await?;
    Ok(Page::cut(found, limit, |t| t.token.id))
}
