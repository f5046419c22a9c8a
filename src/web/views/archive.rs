//! Pages of the public newsletter archive: the list of issues per public list, an issue's
//! page, and the Atom feed of a list. Nothing personal is shown: the services render every
//! issue with placeholders.

use maud::{Markup, PreEscaped, html};

use super::{archive_text, layout_with};
use crate::domain::Locale;

/// One public list on the archive page.
#[derive(Debug, Clone)]
pub struct ShelfView {
    /// The list's name.
    pub name: String,
    /// The list's description (may be empty).
    pub description: String,
    /// Its Atom feed.
    pub feed_url: String,
    /// Its signup page.
    pub subscribe_url: String,
    /// Its issues, the newest first.
    pub issues: Vec<IssueLinkView>,
}

/// One issue in a list of issues.
#[derive(Debug, Clone)]
pub struct IssueLinkView {
    /// Its page.
    pub href: String,
    /// When it was sent, `YYYY-MM-DD`.
    pub date: String,
    /// Its subject, with placeholders.
    pub subject: String,
}

/// `/archive`: each public list with its issues, feed and signup link.
pub fn archive_page(locale: Locale, shelves: &[ShelfView]) -> Markup {
    let a = archive_text(locale);
    let head = html! {
        @for s in shelves {
            link rel="alternate" type="application/atom+xml" title=(s.name) href=(s.feed_url);
        }
    };
    layout_with(
        locale,
        a.title,
        head,
        html! {
            p { (a.lead) }
            @if shelves.is_empty() { p { (a.empty) } }
            @for s in shelves {
                section.list {
                    h2 { (s.name) }
                    @if !s.description.is_empty() { p { (s.description) } }
                    ul.issues aria-label=(a.issues_of.replace("{list}", &s.name)) {
                        @for i in &s.issues {
                            li { time datetime=(i.date) { (i.date) } " " a href=(i.href) { (i.subject) } }
                        }
                    }
                    p {
                        a href=(s.subscribe_url) { (a.subscribe_to.replace("{list}", &s.name)) }
                        " · " a href=(s.feed_url) type="application/atom+xml" { (a.feed) }
                    }
                }
            }
        },
    )
}

/// What an issue's page shows.
#[derive(Debug, Clone)]
pub struct IssueView {
    /// The subject, with placeholders.
    pub subject: String,
    /// When it was sent, `YYYY-MM-DD`.
    pub date: String,
    /// The body as HTML that the services rendered (`markdown_to_public_html`: raw HTML of
    /// the campaign is text in it).
    pub html: String,
    /// Links to the issue in other languages: (language's own name, address).
    pub languages: Vec<(&'static str, String)>,
    /// Signup links of its public lists: (list name, address).
    pub subscribe: Vec<(String, String)>,
    /// The archive page.
    pub archive_url: String,
    /// The feeds of its public lists: (list name, address).
    pub feeds: Vec<(String, String)>,
}

/// `/archive/{id}`: one issue in the reader's language.
pub fn issue_page(locale: Locale, v: &IssueView) -> Markup {
    let a = archive_text(locale);
    let head = html! {
        @for (name, href) in &v.feeds {
            link rel="alternate" type="application/atom+xml" title=(name) href=(href);
        }
    };
    layout_with(
        locale,
        &v.subject,
        head,
        html! {
            p.hint { (a.sent_on) " " time datetime=(v.date) { (v.date) } }
            @if !v.languages.is_empty() {
                nav.languages aria-label=(a.read_in) {
                    (a.read_in) " "
                    @for (i, (name, href)) in v.languages.iter().enumerate() {
                        @if i > 0 { " · " }
                        a href=(href) { (name) }
                    }
                }
            }
            // The services rendered this HTML from the campaign's Markdown, raw HTML as text.
            article.issue { (PreEscaped(&v.html)) }
            p.hint { (a.placeholders) }
            @for (name, href) in &v.subscribe {
                p { a href=(href) { (a.subscribe_to.replace("{list}", name)) } }
            }
            p { a href=(v.archive_url) { (a.all_issues) } }
        },
    )
}

/// One entry of a list's Atom feed.
#[derive(Debug, Clone)]
pub struct FeedEntryView {
    /// `urn:uuid:…` of the campaign.
    pub id: String,
    /// The subject, with placeholders.
    pub title: String,
    /// The issue's page.
    pub href: String,
    /// When it was sent (RFC 3339).
    pub updated: String,
    /// The body as HTML, with placeholders.
    pub html: String,
}

/// What a list's Atom feed (RFC 4287) says about itself.
#[derive(Debug, Clone)]
pub struct FeedView {
    /// The feed's own address (also its id).
    pub self_url: String,
    /// The archive page.
    pub archive_url: String,
    /// The feed's title.
    pub title: String,
    /// Who publishes it.
    pub author: String,
    /// The language of its entries.
    pub lang: &'static str,
    /// The entries, the newest first.
    pub entries: Vec<FeedEntryView>,
}

/// The Atom feed of a list's archive; each entry's content is its HTML, escaped as
/// `type="html"` asks.
pub fn atom_feed(v: &FeedView) -> String {
    let updated = v
        .entries
        .first()
        .map_or("1970-01-01T00:00:00Z", |e| e.updated.as_str());
    let markup = html! {
        feed xmlns="http://www.w3.org/2005/Atom" xml:lang=(v.lang) {
            id { (v.self_url) }
            title { (v.title) }
            updated { (updated) }
            link rel="self" type="application/atom+xml" href=(v.self_url) {}
            link rel="alternate" type="text/html" href=(v.archive_url) {}
            author { name { (v.author) } }
            @for e in &v.entries {
                entry {
                    id { (e.id) }
                    title { (e.title) }
                    link rel="alternate" type="text/html" href=(e.href) {}
                    updated { (e.updated) }
                    published { (e.updated) }
                    content type="html" { (e.html) }
                }
            }
        }
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n{}",
        markup.into_string()
    )
}
