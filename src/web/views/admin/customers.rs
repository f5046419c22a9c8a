//! The admin page of customers: the list by address prefix, a page at a time, and the form
//! that adds one with its errors in place. Render only.

use maud::{Markup, html};

use super::{Ctx, Errors, csrf_field, field, layout, select, t};
use crate::{
    domain::{Action, SubscriberId},
    services::customers::CustomerListing,
};

/// The values typed into the add-a-customer form.
#[derive(Debug, Default, Clone, Copy)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct CustomerFormView<'a> {
    /// The address.
    pub email: &'a str,
    pub name: &'a str,
    pub company: &'a str,
    /// The language tag.
    pub locale: &'a str,
    /// The part numbers, as typed.
    pub products: &'a str,
    /// The source of the customer relation.
    pub source: &'a str,
}

/// What `/admin/customers` shows.
#[derive(Debug, Clone, Copy)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct CustomersView<'a> {
    /// The address prefix searched for.
    pub query: &'a str,
    /// A page of customers.
    pub found: &'a [CustomerListing],
    /// The cursor of the next page.
    pub next_cursor: Option<SubscriberId>,
    /// The add-a-customer form as typed.
    pub form: CustomerFormView<'a>,
    pub errors: &'a Errors,
}

/// `/admin/customers`: the search, a page of customers, and the add-a-customer form.
pub fn customers_page(ctx: &Ctx, v: &CustomersView) -> Markup {
    let e = |k: &str| v.errors.get(k);
    let form = &v.form;
    layout(
        ctx,
        t("Customers"),
        html! {
            form.filters method="get" action="/admin/customers" {
                div { label for="q" { (t("Address starts with")) } input #q type="search" name="q" value=(v.query); }
                div { button type="submit" { (t("Search")) } }
            }
            table {
                tr { th { (t("Address")) } th { (t("Company")) } th { (t("Products")) } th { (t("Source")) } }
                @for c in v.found {
                    tr {
                        td { a href={ "/admin/subscribers/" (c.id) } { (c.email) } }
                        td { (c.company.as_deref().unwrap_or("")) } td { (c.products.join(", ")) } td { (c.source) }
                    }
                }
            }
            @if v.found.is_empty() { p.muted { (t("No customers found.")) } }
            @if let Some(last) = v.next_cursor {
                p.pager { a href={ "/admin/customers?q=" (v.query) "&before=" (last) } { (t("Older →")) } }
            }
            @if ctx.may(Action::ManageNotices) {
                h2 { (t("Add a customer")) }
                @if !v.errors.is_empty() { p.error role="alert" { (t("Please correct the fields marked below. Nothing was saved.")) } }
                form.card method="post" action="/admin/customers" {
                    (csrf_field(&ctx.csrf))
                    (field("email", t("E-mail"), "email", form.email, e("email")))
                    (field("name", t("Name"), "text", form.name, e("name")))
                    (field("company", t("Company"), "text", form.company, e("company")))
                    (select("locale", t("Language"), &[("en", "English"), ("de", "Deutsch")], form.locale, None))
                    (field("products", t("Part numbers they use (separated by commas or spaces)"), "text", form.products, e("products")))
                    (field("source", t("Source of the customer relation (e.g. order:12345)"), "text", form.source, e("source")))
                    p { button type="submit" { (t("Add and enrol")) } }
                }
            }
        },
    )
}
