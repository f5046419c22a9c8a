//! Users and API tokens (admins only): the users with their roles, forms to change a role
//! and to disable or enable a user, a form to add one, and the API tokens with a button to
//! revoke each.

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    domain::{Action, ApiTokenId, EmailAddress, Password, Role, UserId},
    services::{
        api_tokens::{self, TokenError},
        users::{self, AccessChange, UsersError},
    },
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            te, tf,
            users::{UserErrors, UsersView, users_page},
        },
    },
};

#[derive(Debug, Default, Deserialize)]
pub(super) struct UserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

impl UserForm {
    /// The empty form: a new user is a marketer unless chosen otherwise.
    fn blank() -> Self {
        Self {
            role: "marketer".to_owned(),
            ..Self::default()
        }
    }
}

/// The users page with the form as typed, its errors, and a refusal to explain, if any.
async fn page(
    state: &AppState,
    session: &AdminSession,
    form: &UserForm,
    errors: UserErrors,
    problem: Option<String>,
    status: StatusCode,
) -> Result<Response, AdminError> {
    let actor = session.actor();
    let v = UsersView {
        users: users::all(&state.ctx, &actor).await?,
        tokens: api_tokens::active(&state.ctx, &actor).await?,
        problem,
        email: form.email.clone(),
        role: form.role.clone(),
        errors,
    };
    Ok((status, users_page(&session.ctx(), &v)).into_response())
}

/// `GET /admin/users`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let form = UserForm::blank();
    page(
        &state,
        &session,
        &form,
        UserErrors::default(),
        None,
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/users`: adds a user.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<UserForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageAccess)?;
    let email = EmailAddress::parse(&form.email).map_err(|e| te(&e));
    let role = Role::parse(&form.role);
    let password = Password::parse(&form.password).map_err(|e| te(&e));
    let (email, role, password) = match (email, role, password) {
        (Ok(e), Ok(r), Ok(p)) => (e, r, p),
        (e, r, p) => {
            let errors = UserErrors {
                email: e.err(),
                role: r.err(),
                password: p.err(),
            };
            let code = StatusCode::UNPROCESSABLE_ENTITY;
            return page(&state, &session, &form, errors, None, code).await;
        }
    };
    match users::create(&state.ctx, &session.actor(), email, role, &password).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e @ UsersError::EmailTaken) => {
            let errors = UserErrors {
                email: Some(te(&e)),
                ..UserErrors::default()
            };
            let code = StatusCode::UNPROCESSABLE_ENTITY;
            page(&state, &session, &form, errors, None, code).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /admin/users/{id}/role`: changes a user's role.
pub(super) async fn set_role(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    PageForm(form): PageForm<RoleForm>,
) -> Result<Response, AdminError> {
    let Ok(role) = Role::parse(&form.role) else {
        let problem = tf(
            "{role} is not a role.",
            &[("role", &format!("{:?}", form.role))],
        );
        return problem_page(&state, &session, problem, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    change_access(state, session, id, AccessChange::role(role)).await
}

/// `POST /admin/users/{id}/disable`: the user can no longer log in; sessions end.
pub(super) async fn disable(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    change_access(state, session, id, AccessChange::disabled(true)).await
}

/// `POST /admin/users/{id}/enable`: the user may log in again.
pub(super) async fn enable(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    change_access(state, session, id, AccessChange::disabled(false)).await
}

/// The users page with a blank form and `problem` above it.
async fn problem_page(
    state: &AppState,
    session: &AdminSession,
    problem: String,
    status: StatusCode,
) -> Result<Response, AdminError> {
    let form = UserForm::blank();
    let errors = UserErrors::default();
    page(state, session, &form, errors, Some(problem), status).await
}

async fn change_access(
    state: AppState,
    session: AdminSession,
    id: uuid::Uuid,
    change: AccessChange,
) -> Result<Response, AdminError> {
    let id = UserId::from_uuid(id);
    match users::change_access(&state.ctx, &session.actor(), id, change).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e @ UsersError::LastAdmin) => {
            problem_page(&state, &session, te(&e), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    api_tokens::revoke(&state.ctx, &session.actor(), ApiTokenId::from_uuid(id)).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

impl From<TokenError> for AdminError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Forbidden(_) => Self::Forbidden,
            TokenError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
}
