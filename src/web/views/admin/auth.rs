//! The admin pages around a session: log in, the one-time set-up of the first admin, and
//! the user's own account with the password form. Render only; the handlers set cookies.

use maud::{Markup, html};

use super::{Ctx, bare_layout, csrf_field, field, layout};

/// `/admin/login`: the form, with `error` above it after a failed attempt; `token` is the
/// form's double-submit CSRF token.
pub fn login_page(token: &str, email: &str, error: Option<&str>) -> Markup {
    bare_layout(
        "Log in",
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/admin/login" {
                (csrf_field(token))
                (field("email", "E-mail address", "email", email, None))
                (field("password", "Password", "password", "", None))
                p { button type="submit" { "Log in" } }
            }
        },
    )
}

/// `/admin/setup/{secret}`: the form that creates the first admin, errors at their fields.
pub fn setup_page(
    token: &str,
    secret: &str,
    email: &str,
    email_error: Option<&String>,
    password_error: Option<&String>,
) -> Markup {
    bare_layout(
        "Create the first admin",
        html! {
            p.muted { "This one-time link creates the first administrator of this Bulletin." }
            form method="post" action={ "/admin/setup/" (secret) } {
                (csrf_field(token))
                (field("email", "E-mail address", "email", email, email_error))
                (field("password", "Password (at least 12 characters)", "password", "", password_error))
                p { button type="submit" { "Create admin and log in" } }
            }
        },
    )
}

/// The answer to a set-up link that is unknown or used.
pub fn setup_closed_page() -> Markup {
    bare_layout(
        "Link not valid",
        html! { p { "This set-up link is not valid (any more). " a href="/admin/login" { "Log in" } } },
    )
}

/// `/admin/account`: who is logged in, and the password form with its errors in place.
pub fn account_page(
    ctx: &Ctx,
    current_error: Option<&String>,
    new_error: Option<&String>,
) -> Markup {
    layout(
        ctx,
        "Your account",
        html! {
            div.card {
                p { "Logged in as " strong { (ctx.email) } " with the role " (ctx.role) "." }
                h2 { "Change password" }
                p.muted { "Changing the password ends all your sessions, this one too." }
                form method="post" action="/admin/account" {
                    (csrf_field(&ctx.csrf))
                    (field("current", "Current password", "password", "", current_error))
                    (field("new", "New password (at least 12 characters)", "password", "", new_error))
                    p { button type="submit" { "Change password" } }
                }
            }
        },
    )
}
