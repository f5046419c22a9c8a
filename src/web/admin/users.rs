//! Users and API tokens (admins only): the users with their roles, a form to add one, and
//! the API tokens with a button to revoke each.

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use maud::html;
use serde::Deserialize;

use super::{AdminSession, audited};
use crate::{
    domain::{ApiTokenId, EmailAddress, Password, Role},
    services::{
        api_tokens,
        users::{self, UsersError},
    },
    startup::AppState,
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

async fn page(
    state: &AppState,
    session: &AdminSession,
    form: &UserForm,
    errors: &UserErrors,
    status: StatusCode,
) -> Response {
    let ctx = session.ctx();
    if !ctx.role.is_admin() {
        return view::forbidden(&ctx);
    }
    let (all, tokens) = match (users::all(state).await, api_tokens::active(state).await) {
        (Ok(u), Ok(t)) => (u, t),
        (Err(e), _) | (_, Err(e)) => return view::internal(&e),
    };
    let markup = view::layout(
        &ctx,
        "Users",
        html! {
            table {
                tr { th { "E-mail" } th { "Role" } }
                @for u in &all { tr { td { (u.email.as_str()) } td { (u.role) } } }
            }
            div.card {
                h2 { "Add a user" }
                form method="post" action="/admin/users" {
                    (csrf_field(&ctx.csrf))
                    (field("email", "E-mail address", "email", &form.email, errors.email.as_ref()))
                    (select("role", "Role", &[("viewer", "Viewer (reads only)"), ("marketer", "Marketer (lists, subscribers, campaigns)"), ("admin", "Admin (everything)")], &form.role, errors.role.as_ref()))
                    (field("password", "Initial password (at least 12 characters)", "password", "", errors.password.as_ref()))
                    p { button type="submit" { "Add user" } }
                }
            }
            h2 { "API tokens" }
            p.muted { "Create tokens with " code { "bulletin token create --name N --role R [--user E]" } "." }
            table {
                tr { th { "Name" } th { "Role" } th { "Created" } th { "Last used" } th {} }
                @for t in &tokens {
                    tr {
                        td { (t.token.name) } td { (t.token.role) }
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
    if !session.user.role.is_admin() {
        return view::forbidden(&session.ctx());
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
    match users::create(&state, email, role, &password).await {
        Ok(user) => {
            audited(
                &state,
                &session,
                "user.create",
                Some(user.id.to_string()),
                Some(format!("{} as {}", user.email.as_str(), user.role)),
            )
            .await;
            Redirect::to("/admin/users").into_response()
        }
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
        Err(e) => view::internal(&e),
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Response {
    if !session.user.role.is_admin() {
        return view::forbidden(&session.ctx());
    }
    match api_tokens::revoke(&state, ApiTokenId::from_uuid(id)).await {
        Ok(()) => {
            audited(&state, &session, "token.revoke", Some(id.to_string()), None).await;
            Redirect::to("/admin/users").into_response()
        }
        Err(crate::store::StoreError::NotFound) => view::not_found(&session.ctx()),
        Err(e) => view::internal(&e),
    }
}
