//! The admin pages around a session: log in, the one-time set-up of the first admin, and
//! the user's own account with the password form. Render only; the handlers set cookies.

use maud::{Markup, html};

use super::{Ctx, Errors, bare_layout, csrf_field, field, i18n, layout, select, t, tf, tl};
use crate::domain::Locale;

/// `/admin/login`: the form, with `error` above it after a failed attempt; `token` is the
/// form's double-submit CSRF token.
pub fn login_page(token: &str, email: &str, error: Option<&str>) -> Markup {
    bare_layout(
        t("Log in"),
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/admin/login" {
                (csrf_field(token))
                (field("email", t("E-mail address"), "email", email, None))
                (field("password", t("Password"), "password", "", None))
                p { button type="submit" { (t("Log in")) } }
            }
            p { a href="/admin/password-reset" { (t("Forgot your password?")) } }
        },
    )
}

/// The second step of a login with one-time codes: the code form, carrying the ticket the
/// right password earned.
pub fn code_page(token: &str, ticket: &str, error: Option<&str>) -> Markup {
    bare_layout(
        t("One-time code"),
        html! {
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/admin/login/code" {
                (csrf_field(token))
                input type="hidden" name="ticket" value=(ticket);
                p {
                    label for="code" { (t("The six-digit code from your authenticator app")) }
                    input #code name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required autofocus;
                }
                p { button type="submit" { (t("Log in")) } }
            }
            p.muted { (t("Lost your phone? An admin can remove your one-time codes on the users page.")) }
        },
    )
}

/// `/admin/password-reset`: the form that asks for a link, or after it, the same answer
/// whatever the address.
pub fn reset_request_page(token: &str, sent: bool, error: Option<&str>) -> Markup {
    bare_layout(
        t("Reset your password"),
        html! {
            @if sent {
                p role="status" { (t("If a user has this address, a link to set a new password is on its way. It works for 30 minutes.")) }
            }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/admin/password-reset" {
                (csrf_field(token))
                (field("email", t("E-mail address"), "email", "", None))
                p { button type="submit" { (t("Send a link")) } }
            }
            p { a href="/admin/login" { (t("Back to log in")) } }
        },
    )
}

/// The new-password form of a reset link.
pub fn reset_form_page(token: &str, email: &str, error: Option<&String>) -> Markup {
    bare_layout(
        t("Set a new password"),
        html! {
            p { (tf("For {email}. Every session of this user ends.", &[("email", &email)])) }
            form method="post" {
                (csrf_field(token))
                (field("new", t("New password (at least 12 characters)"), "password", "", error))
                p { button type="submit" { (t("Set password")) } }
            }
        },
    )
}

/// A reset link that is forged, expired or used.
pub fn reset_invalid_page() -> Markup {
    bare_layout(
        t("Link not valid"),
        html! {
            p { (t("This link is not valid (any more): links work for 30 minutes, and once.")) " " a href="/admin/password-reset" { (t("Ask for a new one")) } }
        },
    )
}

/// `/admin/account/two-factor`: setting up one-time codes: the secret, its `otpauth://`
/// URI, and the form for a first code.
pub fn enrol_page(
    ctx: &Ctx,
    secret: &str,
    uri: &str,
    required: bool,
    error: Option<&String>,
) -> Markup {
    layout(
        ctx,
        t("Set up one-time codes"),
        html! {
            div.card {
                @if required {
                    p role="status" { (t("Admins must log in with a one-time code here. Set it up to go on.")) }
                }
                p { (t("Add this account to an authenticator app (any TOTP app: andOTP, Aegis, Google Authenticator, 1Password …) with the key below, then type the code it shows.")) }
                p { (t("Key:")) " " code { (secret) } }
                p.muted { (t("Or open this link on the phone:")) " " a href=(uri) { (t("otpauth link")) } }
                form method="post" action="/admin/account/two-factor" {
                    (csrf_field(&ctx.csrf))
                    (field("code", t("Code from the app"), "text", "", error))
                    p { button type="submit" { (t("Turn on one-time codes")) } }
                }
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
        t("Create the first admin"),
        html! {
            p.muted { (t("This one-time link creates the first administrator of this Bulletin.")) }
            form method="post" action={ "/admin/setup/" (secret) } {
                (csrf_field(token))
                (field("email", t("E-mail address"), "email", email, email_error))
                (field("password", t("Password (at least 12 characters)"), "password", "", password_error))
                p { button type="submit" { (t("Create admin and log in")) } }
            }
        },
    )
}

/// The answer to a set-up link that is unknown or used.
pub fn setup_closed_page() -> Markup {
    bare_layout(
        t("Link not valid"),
        html! { p { (t("This set-up link is not valid (any more).")) " " a href="/admin/login" { (t("Log in")) } } },
    )
}

/// `/admin/account`: who is logged in, and the password form with its errors in place.
pub fn account_page(ctx: &Ctx, errors: &Errors, two_factor: TwoFactorView<'_>) -> Markup {
    let zones: Vec<(&str, &str)> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| (z.name(), z.name()))
        .collect();
    // The admin UI speaks English and German only; an operator's language is for the public.
    let languages: Vec<(&str, &str)> = Locale::all()
        .iter()
        .filter(|l| l.is_built_in())
        .map(|l| (l.as_str(), language_name(*l)))
        .collect();
    layout(
        ctx,
        t("Your account"),
        html! {
            div.card {
                p { (tf("Logged in as {email} with the role {role}.", &[("email", &ctx.email), ("role", &tl(ctx.role.as_str()))])) }
                h2 { (t("Change password")) }
                p.muted { (t("Changing the password ends all your sessions, this one too.")) }
                form method="post" action="/admin/account" {
                    (csrf_field(&ctx.csrf))
                    (field("current", t("Current password"), "password", "", errors.get("current")))
                    (field("new", t("New password (at least 12 characters)"), "password", "", errors.get("new")))
                    p { button type="submit" { (t("Change password")) } }
                }
            }
            div.card {
                h2 { (t("Language")) }
                p.muted { (t("The language the admin pages speak to you. Mails to subscribers are in each subscriber's own language.")) }
                form method="post" action="/admin/account/language" {
                    (csrf_field(&ctx.csrf))
                    (select("locale", t("Your language"), &languages, i18n::locale().as_str(), errors.get("locale")))
                    p { button type="submit" { (t("Save language")) } }
                }
            }
            div.card {
                h2 { (t("Time zone")) }
                p.muted { (t("Times in the admin pages are shown, and schedules entered, in this zone; Bulletin stores them in UTC.")) }
                form method="post" action="/admin/account/time-zone" {
                    (csrf_field(&ctx.csrf))
                    (select("time_zone", t("Your time zone"), &zones, ctx.zone_name(), errors.get("time_zone")))
                    p { button type="submit" { (t("Save time zone")) } }
                }
            }
            div.card {
                h2 { (t("One-time codes")) }
                @if two_factor.on {
                    p { (t("Logging in asks for a code from your authenticator app after the password.")) }
                    @if !two_factor.required {
                        form method="post" action="/admin/account/two-factor/off" {
                            (csrf_field(&ctx.csrf))
                            (field("password", t("Password, to turn codes off"), "password", "", two_factor.error))
                            p { button.danger type="submit" { (t("Turn off one-time codes")) } }
                        }
                    }
                } @else {
                    p { (t("Logging in asks only for the password. A code from an authenticator app keeps a stolen password from being enough.")) }
                    p { a href="/admin/account/two-factor" { (t("Set up one-time codes")) } }
                }
            }
        },
    )
}

/// A language by its own name, as a language menu lists it; an operator's language by its
/// code.
pub fn language_name(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "English",
        Locale::De => "Deutsch",
        other => other.as_str(),
    }
}

/// The one-time-code part of the account page.
#[derive(Debug, Clone, Copy, Default)]
pub struct TwoFactorView<'a> {
    /// Whether the user has codes on.
    pub on: bool,
    /// Whether they must keep them (`admin.require_2fa`).
    pub required: bool,
    /// The error of the turn-off form.
    pub error: Option<&'a String>,
}
