//! The admin pages of lists: the table of lists with the form that creates one, and one
//! list's page with its edit and archive forms. Render only.

use maud::{Markup, html};

use super::{Ctx, Errors, csrf_field, field, layout, select, status, t, tf, tl};
use crate::domain::{Action, Locale, MailingList, OptIn};

/// The values typed into a list form (the edit form uses a part of them).
#[derive(Debug, Default, Clone, Copy)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ListFormView<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    /// The kind, as its form value.
    pub kind: &'a str,
    /// The legal basis, as its form value.
    pub legal_basis: &'a str,
    /// The opt-in, as its form value.
    pub opt_in: &'a str,
    /// The visibility, as its form value.
    pub visibility: &'a str,
    /// The consent text (empty: the default wording).
    pub consent_text: &'a str,
    /// Where replies go (empty: `mail.reply_to`, if set).
    pub reply_to: &'a str,
}

/// The label of the reply-to field.
fn reply_to_label() -> &'static str {
    t("Replies go to (any address, e.g. a helpdesk; empty: mail.reply_to)")
}

fn visibilities() -> [(&'static str, &'static str); 2] {
    [
        ("public", t("Public signup page")),
        ("private", t("Private")),
    ]
}

/// A list's opt-in as the list's page says it.
fn opt_in_label(opt_in: OptIn) -> &'static str {
    match opt_in {
        OptIn::Double => t("opt-in double"),
        OptIn::None => t("opt-in none"),
    }
}

/// `/admin/lists`: every list, and the form that creates one with its errors in place.
pub fn lists_page(
    ctx: &Ctx,
    lists: &[MailingList],
    form: &ListFormView,
    errors: &Errors,
) -> Markup {
    let e = |k: &str| errors.get(k);
    layout(
        ctx,
        t("Lists"),
        html! {
            table {
                tr { th { (t("Name")) } th { (t("Slug")) } th { (t("Kind")) } th { (t("Legal basis")) } th { (t("Visibility")) } th { (t("Signup page")) } }
                @for l in lists {
                    tr {
                        td { a href={ "/admin/lists/" (l.id) } { (l.def.name) }
                            @if l.archived_at.is_some() { " " (status("archived")) } }
                        td { code { (l.def.slug.as_str()) } }
                        td { (tl(l.def.kind.as_str())) } td { (tl(l.def.legal_basis.as_str())) } td { (tl(l.def.visibility.as_str())) }
                        td { @if l.is_open_for_signup() { a href={ "/subscribe?list=" (l.def.slug.as_str()) } { (t("open")) } } }
                    }
                }
            }
            @if lists.is_empty() { p.muted { (t("No lists yet.")) } }
            @if ctx.may(Action::ManageLists) {
                div.card {
                    h2 { (t("New list")) }
                    @if !errors.is_empty() { p.error role="alert" { (t("Please correct the fields marked below.")) } }
                    form method="post" action="/admin/lists" {
                        (csrf_field(&ctx.csrf))
                        (field("name", t("Name"), "text", form.name, e("name")))
                        (field("slug", t("Slug (a-z, 0-9, -)"), "text", form.slug, e("slug")))
                        (field("description", t("Description"), "text", form.description, e("description")))
                        (select("kind", t("Kind"), &[("newsletter", t("Newsletter")), ("tech_news", t("Tech News")), ("product_notices", t("Product notices"))], form.kind, e("kind")))
                        (select("legal_basis", t("Legal basis"), &[("consent", t("Consent (Art. 6(1)(a))")), ("legitimate_interest", t("Legitimate interest (Art. 6(1)(f))"))], form.legal_basis, e("legal_basis")))
                        (select("opt_in", t("Opt-in"), &[("double", t("Double opt-in")), ("none", t("None"))], form.opt_in, e("opt_in")))
                        (select("visibility", t("Visibility"), &visibilities(), form.visibility, e("visibility")))
                        (field("reply_to", reply_to_label(), "email", form.reply_to, e("reply_to")))
                        label for="consent_text" { (t("Consent text (empty: the default wording)")) }
                        textarea id="consent_text" name="consent_text" aria-invalid=[e("consent_text").map(|_| "true")] { (form.consent_text) }
                        @if let Some(err) = e("consent_text") { p.field-error { (err) } }
                        p { button type="submit" { (t("Create list")) } }
                    }
                }
            }
        },
    )
}

/// Where an embedded signup form posts and links.
#[derive(Debug, Clone)]
pub struct EmbedView {
    /// The public `/subscribe` URL.
    pub subscribe_url: String,
    /// The privacy notice.
    pub privacy_url: String,
}

/// The signup form of one list, as HTML to paste into another site: it posts to the public
/// `/subscribe` (which takes cross-site posts; double opt-in and the per-network limits are
/// its protection), with the list's consent text beside its own box. Plain markup, no
/// script or style, so it fits any site's CSP that allows `form-action` to Bulletin.
pub fn embed_snippet(list: &MailingList, locale: Locale, e: &EmbedView) -> String {
    let slug = list.def.slug.as_str();
    let (email, name, subscribe, privacy) = match locale {
        Locale::De => (
            "E-Mail-Adresse",
            "Name (freiwillig)",
            "Anmelden",
            "Datenschutzhinweise",
        ),
        _ => (
            "E-mail address",
            "Name (optional)",
            "Subscribe",
            "Privacy notice",
        ),
    };
    let consent = list.consent_text(locale);
    let form = html! {
        form method="post" action=(e.subscribe_url) accept-charset="utf-8" {
            "\n  " input type="hidden" name="list" value=(slug);
            "\n  " label { (email) " " input type="email" name="email" required maxlength="254" autocomplete="email"; }
            "\n  " label { (name) " " input type="text" name="name" maxlength="100" autocomplete="name"; }
            "\n  " label { input type="checkbox" name="consent" value=(slug) required; " " (consent.body()) }
            "\n  " a href=(e.privacy_url) { (privacy) }
            "\n  " button type="submit" { (subscribe) }
            "\n"
        }
    };
    form.into_string()
}

/// `/admin/lists/{id}`: the list, the form that edits it with its errors in place, the
/// archive button, and (for a list open for signup) its signup form to embed elsewhere.
pub fn list_page(
    ctx: &Ctx,
    list: &MailingList,
    form: &ListFormView,
    errors: &Errors,
    embed: &EmbedView,
) -> Markup {
    let e = |k: &str| errors.get(k);
    let d = &list.def;
    layout(
        ctx,
        &d.name,
        html! {
            div.card {
                p { (t("Slug")) " " code { (d.slug.as_str()) } " · " (tl(d.kind.as_str())) " · " (tl(d.legal_basis.as_str())) " · " (opt_in_label(d.opt_in))
                    @if let Some(at) = list.archived_at { " · " (tf("archived {date}", &[("date", &at.format("%Y-%m-%d"))])) } }
                p { a href={ "/admin/subscribers?list=" (list.id) } { (t("Subscribers of this list")) } }
            }
            @if ctx.may(Action::ManageLists) {
                form.card method="post" action={ "/admin/lists/" (list.id) } {
                    @if !errors.is_empty() { p.error role="alert" { (t("Please correct the fields marked below.")) } }
                    (csrf_field(&ctx.csrf))
                    (field("name", t("Name"), "text", form.name, e("name")))
                    (field("description", t("Description"), "text", form.description, e("description")))
                    (select("visibility", t("Visibility"), &visibilities(), form.visibility, e("visibility")))
                    (field("reply_to", reply_to_label(), "email", form.reply_to, e("reply_to")))
                    label for="consent_text" { (t("Consent text (empty: the default wording)")) }
                    p.muted { (t("A change is a new version: the ledger keeps which version each person saw.")) }
                    textarea id="consent_text" name="consent_text" aria-invalid=[e("consent_text").map(|_| "true")] { (form.consent_text) }
                    @if let Some(err) = e("consent_text") { p.field-error { (err) } }
                    p { button type="submit" { (t("Save")) } }
                }
                form.card method="post" action={ "/admin/lists/" (list.id) "/archive" } {
                    (csrf_field(&ctx.csrf))
                    @if list.archived_at.is_some() {
                        input type="hidden" name="archived" value="no";
                        button.secondary type="submit" { (t("Bring back from the archive")) }
                    } @else {
                        p.muted { (t("An archived list takes no signups and no new campaigns; its subscribers and history stay.")) }
                        input type="hidden" name="archived" value="yes";
                        button.danger type="submit" { (t("Archive")) }
                    }
                }
            }
            @if list.is_open_for_signup() {
                div.card #embed {
                    h2 { (t("Signup form for your site")) }
                    p { (t("Copy this HTML into a page of your site. It posts to Bulletin's public signup, which sends the confirmation e-mail (double opt-in) and records the consent text shown. No token or script is needed; your site's Content-Security-Policy must allow")) " " code { "form-action " (embed.subscribe_url) } "." }
                    @for locale in [Locale::En, Locale::De] {
                        label for={ "embed-" (locale.as_str()) } { "HTML (" (locale.as_str()) ")" }
                        textarea.code id={ "embed-" (locale.as_str()) } readonly rows="9" { (embed_snippet(list, locale, embed)) }
                    }
                }
            }
        },
    )
}
