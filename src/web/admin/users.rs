//! Users and API tokens (admins only): the users with their roles, forms to change a role
//! and to disable or enable a user, a form to add one, and the API tokens with a button to
//! revoke each.

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{AdminError, AdminSession};
use crate::{
    domain::{Action, ApiTokenId, EmailAddress, Password, Role, User, UserId},
    services::{
        api_tokens::{self, TokenError},
        users::{self, AccessChange, UsersError},
    },
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{self as view, csrf_field, field, select},
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

#[derive(Debug, Default)]
struct UserErrors {
    email: Option<String>,
    role: Option<String>,
    password: Option<String>,
}

const ROLES: [(&str, &str); 3] = [
    ("viewer", "Viewer (reads only)"),
    ("marketer", "Marketer (lists, subscribers, campaigns)"),
    ("admin", "Admin (everything)"),
];

/// One user's row: their role with a form to change it, and a button to disable or enable.
fn user_row(u: &User, csrf: &str) -> maud::Markup {
    html! {
        tr {
            td { (u.email.as_str()) }
            td {
                form.inline method="post" action={ "/admin/users/" (u.id) "/role" } {
                    (csrf_field(csrf))
                    select name="role" aria-label={ "Role of " (u.email.as_str()) } {
                        @for (value, _) in ROLES {
                            option value=(value) selected[value == u.role.as_str()] { (value) }
                        }
                    }
                    " "
                    button type="submit" { "Change role" }
                }
            }
            td {
                @match u.disabled_at {
                    Some(at) => { "disabled since " (at.format("%Y-%m-%d %H:%M")) }
                    None => { "active" }
                }
            }
            td {
                @if u.is_active() {
                    form.inline method="post" action={ "/admin/users/" (u.id) "/disable" } {
                        (csrf_field(csrf))
                        button.danger type="submit" { "Disable" }
                    }
                } @else {
                    form.inline method="post" action={ "/admin/users/" (u.id) "/enable" } {
                        (csrf_field(csrf))
                        button type="submit" { "Enable" }
                    }
                }
            }
        }
    }
}

async fn page(
    state: &AppState,
    session: &AdminSession,
    form: &UserForm,
    errors: &UserErrors,
    status: StatusCode,
) -> Response {
    page_with_problem(state, session, form, errors, None, status).await
}

async fn page_with_problem(
    state: &AppState,
    session: &AdminSession,
    form: &UserForm,
    errors: &UserErrors,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let ctx = session.ctx();
    let actor = session.actor();
    let all = match users::all(&state.ctx, &actor).await {
        Ok(all) => all,
        Err(e) => return AdminError::from(e).into_response(),
    };
    let tokens = match api_tokens::active(&state.ctx, &actor).await {
        Ok(tokens) => tokens,
        Err(e) => return AdminError::from(e).into_response(),
    };
    let markup = view::layout(
        &ctx,
        "Users",
        html! {
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            p.muted { "A role change takes effect at once. A disabled user cannot log in, their sessions end, and their API tokens are refused until they are enabled again. No API token does more than its owner's current role allows." }
            table {
                tr { th { "E-mail" } th { "Role" } th { "Status" } th {} }
                @for u in &all { (user_row(u, &ctx.csrf)) }
            }
            div.card {
                h2 { "Add a user" }
                form method="post" action="/admin/users" {
                    (csrf_field(&ctx.csrf))
                    (field("email", "E-mail address", "email", &form.email, errors.email.as_ref()))
                    (select("role", "Role", &ROLES, &form.role, errors.role.as_ref()))
                    (field("password", "Initial password (at least 12 characters)", "password", "", errors.password.as_ref()))
                    p { button type="submit" { "Add user" } }
                }
            }
            h2 { "API tokens" }
            p.muted { "Create tokens with " code { "bulletin token create --name N --role R [--user E]" } "." }
            table {
                tr { th { "Name" } th { "Role" } th { "Owner" } th { "Created" } th { "Last used" } th {} }
                @for t in &tokens {
                    tr {
                        td { (t.token.name) }
                        td {
                            (t.token.role)
                            @match t.effective_role {
                                Some(r) if r != t.token.role => { " (acts as " (r) ", its owner's role)" }
                                Some(_) => {}
                                None => { " (refused: its owner is disabled)" }
                            }
                        }
                        td { (t.owner_email.as_deref().unwrap_or("—")) }
                        td { (t.created_at.format("%Y-%m-%d %H:%M")) }
                        td { (t.last_used_at.map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                        td {
                            form.inline method="post" action={ "/admin/tokens/" (t.token.id) "/revoke" } {
                                (csrf_field(&ctx.csrf))
                                button.danger type="submit" { "Revoke" }
                            }
                        }
                    }
                }
            }
        },
    );
    (status, markup).into_response()
}

/// `GET /admin/users`.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Response {
    let form = UserForm {
        role: "marketer".to_owned(),
        ..UserForm::default()
    };
    page(
        &state,
        &session,
        &form,
        &UserErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/users`: adds a user.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<UserForm>,
) -> Response {
    if let Err(e) = session.actor().authorize(Action::ManageAccess) {
        return AdminError::from(e).into_response();
    }
    let email = EmailAddress::parse(&form.email).map_err(|e| e.to_string());
    let role = Role::parse(&form.role);
    let password = Password::parse(&form.password).map_err(|e| e.to_string());
    let (email, role, password) = match (email, role, password) {
        (Ok(e), Ok(r), Ok(p)) => (e, r, p),
        (e, r, p) => {
            let errors = UserErrors {
                email: e.err(),
                role: r.err(),
                password: p.err(),
            };
            return page(
                &state,
                &session,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match users::create(&state.ctx, &session.actor(), email, role, &password).await {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(e @ UsersError::EmailTaken) => {
            let errors = UserErrors {
                email: Some(e.to_string()),
                ..UserErrors::default()
            };
            page(
                &state,
                &session,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => AdminError::from(e).into_response(),
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
) -> Response {
    let Ok(role) = Role::parse(&form.role) else {
        let problem = format!("{:?} is not a role.", form.role);
        return problem_page(&state, &session, &problem, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    change_access(state, session, id, AccessChange::role(role)).await
}

/// `POST /admin/users/{id}/disable`: the user can no longer log in; sessions end.
pub(super) async fn disable(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    change_access(state, session, id, AccessChange::disabled(true)).await
}

/// `POST /admin/users/{id}/enable`: the user may log in again.
pub(super) async fn enable(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    change_access(state, session, id, AccessChange::disabled(false)).await
}

async fn problem_page(
    state: &AppState,
    session: &AdminSession,
    problem: &str,
    status: StatusCode,
) -> Response {
    let form = UserForm {
        role: "marketer".to_owned(),
        ..UserForm::default()
    };
    let errors = UserErrors::default();
    page_with_problem(state, session, &form, &errors, Some(problem), status).await
}

async fn change_access(
    state: AppState,
    session: AdminSession,
    id: uuid::Uuid,
    change: AccessChange,
) -> Response {
    let id = UserId::from_uuid(id);
    match users::change_access(&state.ctx, &session.actor(), id, change).await {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(e @ UsersError::LastAdmin) => {
            problem_page(&state, &session, &e.to_string(), StatusCode::CONFLICT).await
        }
        Err(e) => AdminError::from(e).into_response(),
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

impl From<UsersError> for AdminError {
    fn from(e: UsersError) -> Self {
        match e {
            UsersError::Forbidden(_) | UsersError::NotAllowed => Self::Forbidden,
            UsersError::UnknownUser => Self::NotFound,
            UsersError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
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
