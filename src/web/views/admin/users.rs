//! The admin page of users and API tokens: each user with forms to change the role and to
//! disable or enable them, the form that adds a user, and the tokens with Revoke. Render only.

use maud::{Markup, html};

use super::{Ctx, csrf_field, field, layout, select, t, tf, tl};
use crate::{domain::User, store::api_tokens::TokenListing};

/// The roles a user can have, as form values and their explanation.
fn roles() -> [(&'static str, &'static str); 3] {
    [
        ("viewer", t("Viewer (reads only)")),
        ("marketer", t("Marketer (lists, subscribers, campaigns)")),
        ("admin", t("Admin (everything)")),
    ]
}

/// The errors of the add-a-user form, at their fields.
#[derive(Debug, Default, Clone)]
pub struct UserErrors {
    /// At the address.
    pub email: Option<String>,
    /// At the role.
    pub role: Option<String>,
    /// At the initial password.
    pub password: Option<String>,
}

/// What `/admin/users` shows.
#[derive(Debug, Clone)]
pub struct UsersView {
    /// Every user.
    pub users: Vec<User>,
    /// The API tokens not revoked.
    pub tokens: Vec<TokenListing>,
    /// Why the last change was refused, shown above everything.
    pub problem: Option<String>,
    /// The address typed into the add-a-user form.
    pub email: String,
    /// The role chosen in the add-a-user form.
    pub role: String,
    /// The add-a-user form's errors.
    pub errors: UserErrors,
}

/// `/admin/users`: users, the add-a-user form and the API tokens.
pub fn users_page(ctx: &Ctx, v: &UsersView) -> Markup {
    let errors = &v.errors;
    layout(
        ctx,
        t("Users"),
        html! {
            @if let Some(problem) = &v.problem { p.error role="alert" { (problem) } }
            p.muted { (t("A role change takes effect at once. A disabled user cannot log in, their sessions end, and their API tokens are refused until they are enabled again. No API token does more than its owner's current role allows.")) }
            table {
                tr { th { (t("E-mail")) } th { (t("Role")) } th { (t("Status")) } th {} }
                @for u in &v.users { (user_row(ctx, u)) }
            }
            div.card {
                h2 { (t("Add a user")) }
                form method="post" action="/admin/users" {
                    (csrf_field(&ctx.csrf))
                    (field("email", t("E-mail address"), "email", &v.email, errors.email.as_ref()))
                    (select("role", t("Role"), &roles(), &v.role, errors.role.as_ref()))
                    (field("password", t("Initial password (at least 12 characters)"), "password", "", errors.password.as_ref()))
                    p { button type="submit" { (t("Add user")) } }
                }
            }
            h2 { (t("API tokens")) }
            p.muted { (t("Create tokens with")) " " code { "bulletin token create --name N --role R [--user E]" } "." }
            table {
                tr { th { (t("Name")) } th { (t("Role")) } th { (t("Owner")) } th { (t("Created")) } th { (t("Last used")) } th {} }
                @for token in &v.tokens { (token_row(ctx, token)) }
            }
        },
    )
}

/// One user's row: their role with a form to change it, and a button to disable or enable.
fn user_row(ctx: &Ctx, u: &User) -> Markup {
    let csrf = &ctx.csrf;
    html! {
        tr {
            td { (u.email.as_str()) }
            td {
                form.inline method="post" action={ "/admin/users/" (u.id) "/role" } {
                    (csrf_field(csrf))
                    select name="role" aria-label=(tf("Role of {email}", &[("email", &u.email.as_str())])) {
                        @for (value, _) in roles() {
                            option value=(value) selected[value == u.role.as_str()] { (tl(value)) }
                        }
                    }
                    " "
                    button type="submit" { (t("Change role")) }
                }
            }
            td {
                @match u.disabled_at {
                    Some(at) => { (tf("disabled since {time}", &[("time", &ctx.time(at))])) }
                    None => { (t("active")) }
                }
                @if u.two_factor { ", " (t("one-time codes")) }
            }
            td {
                @if u.is_active() {
                    form.inline method="post" action={ "/admin/users/" (u.id) "/disable" } {
                        (csrf_field(csrf))
                        button.danger type="submit" { (t("Disable")) }
                    }
                } @else {
                    form.inline method="post" action={ "/admin/users/" (u.id) "/enable" } {
                        (csrf_field(csrf))
                        button type="submit" { (t("Enable")) }
                    }
                }
                @if u.two_factor {
                    " "
                    form.inline method="post" action={ "/admin/users/" (u.id) "/two-factor/remove" } {
                        (csrf_field(csrf))
                        button.danger type="submit" title=(t("For a lost phone: the user logs in with the password alone, or sets codes up again if they must")) { (t("Remove one-time codes")) }
                    }
                }
            }
        }
    }
}

/// One API token's row, with the role it acts as and a button to revoke it.
fn token_row(ctx: &Ctx, listing: &TokenListing) -> Markup {
    let csrf = &ctx.csrf;
    let token = &listing.token;
    html! {
        tr {
            td { (token.name) }
            td {
                (tl(token.role.as_str()))
                @match listing.effective_role {
                    Some(r) if r != token.role => { " " (tf("(acts as {role}, its owner's role)", &[("role", &tl(r.as_str()))])) }
                    Some(_) => {}
                    None => { " " (t("(refused: its owner is disabled)")) }
                }
            }
            td { (listing.owner_email.as_deref().unwrap_or("—")) }
            td { (ctx.time(listing.created_at)) }
            td { (listing.last_used_at.map(|d| ctx.time(d)).unwrap_or_default()) }
            td {
                form.inline method="post" action={ "/admin/tokens/" (token.id) "/revoke" } {
                    (csrf_field(csrf))
                    button.danger type="submit" { (t("Revoke")) }
                }
            }
        }
    }
}
