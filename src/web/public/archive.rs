//! The public newsletter archive: `/archive` (the issues of each public list), an issue's page
//! (`/archive/{id}`) and a list's Atom feed (`/archive/{slug}.atom`). No login, nothing
//! personal, GET only.

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    config::join_url,
    domain::{CampaignId, Locale, MailingList},
    services::archive::{self, ArchiveError, IssuePage},
    web::AppState,
    web::{
        error::{PageError, PageErrorKind},
        extract::request_locale,
        views::archive::{
            FeedEntryView, FeedView, IssueLinkView, IssueView, ShelfView, archive_page, atom_feed,
            issue_page,
        },
    },
};

/// An issue's page may show the images of the newsletter, which live on other sites; nothing
/// else is loaded from anywhere but here.
const ISSUE_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

#[derive(Debug, Default, Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// The reader's language: `?lang=` if it names one Bulletin speaks, else the browser's
/// `Accept-Language`, else English.
fn reader_locale(raw: Option<&str>, headers: &HeaderMap) -> Locale {
    serde_html_form::from_str::<LangQuery>(raw.unwrap_or(""))
        .ok()
        .and_then(|q| q.lang)
        .and_then(|tag| Locale::from_tag(&tag))
        .unwrap_or_else(|| request_locale(headers))
}

fn page_error(locale: Locale, e: ArchiveError) -> PageError {
    match e {
        ArchiveError::NotFound => PageError::new(locale, PageErrorKind::NotFound),
        e @ ArchiveError::Template(_) => PageError::internal(locale, &e),
        ArchiveError::Store(e) => PageError::internal(locale, &e),
    }
}

/// The address of `path` under the public URL.
fn url(state: &AppState, path: &str) -> String {
    join_url(&state.ctx.settings.http.public_url, path).to_string()
}

fn subscribe_url(state: &AppState, list: &MailingList) -> String {
    let mut url = join_url(&state.ctx.settings.http.public_url, "subscribe");
    url.query_pairs_mut()
        .append_pair("list", list.def.slug.as_str());
    url.to_string()
}

fn feed_url(state: &AppState, list: &MailingList) -> String {
    url(state, &format!("archive/{}.atom", list.def.slug.as_str()))
}

/// `GET /archive`: each public list with its published issues, the newest first.
pub(super) async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let locale = reader_locale(raw.as_deref(), &headers);
    let shelves = archive::shelves(&state.ctx, locale)
        .await
        .map_err(|e| page_error(locale, e))?;
    let views: Vec<ShelfView> = shelves
        .iter()
        .map(|s| ShelfView {
            name: s.list.def.name.clone(),
            description: s.list.def.description.clone(),
            feed_url: feed_url(&state, &s.list),
            subscribe_url: subscribe_url(&state, &s.list),
            issues: s
                .issues
                .iter()
                .map(|i| IssueLinkView {
                    href: url(&state, &format!("archive/{}", i.id)),
                    date: i.sent_at.format("%Y-%m-%d").to_string(),
                    subject: i.subject.clone(),
                })
                .collect(),
        })
        .collect();
    Ok(archive_page(locale, &views).into_response())
}

/// `GET /archive/{id}` (an issue's page) or `GET /archive/{slug}.atom` (a list's feed); an
/// issue that is unknown, not published, not sent or on no public list is the same 404.
pub(super) async fn item(
    State(state): State<AppState>,
    Path(item): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let locale = reader_locale(raw.as_deref(), &headers);
    if let Some(slug) = item.strip_suffix(".atom") {
        return feed(&state, slug, locale).await;
    }
    let id: CampaignId = item
        .parse()
        .map(CampaignId::from_uuid)
        .map_err(|_| PageError::new(locale, PageErrorKind::NotFound))?;
    let page = archive::issue_page(&state.ctx, id, locale)
        .await
        .map_err(|e| page_error(locale, e))?;
    let view = issue_view(&state, &page);
    let mut response = issue_page(page.locale, &view).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ISSUE_CSP),
    );
    Ok(response)
}

fn issue_view(state: &AppState, page: &IssuePage) -> IssueView {
    let here = url(state, &format!("archive/{}", page.issue.id));
    IssueView {
        subject: page.issue.subject.clone(),
        date: page.issue.sent_at.format("%Y-%m-%d").to_string(),
        html: page.html.clone(),
        languages: page
            .languages
            .iter()
            .filter(|l| **l != page.locale)
            .map(|l| (language_name(*l), format!("{here}?lang={}", l.as_str())))
            .collect(),
        subscribe: page
            .lists
            .iter()
            .map(|l| (l.def.name.clone(), subscribe_url(state, l)))
            .collect(),
        archive_url: url(state, "archive"),
        feeds: page
            .lists
            .iter()
            .map(|l| (l.def.name.clone(), feed_url(state, l)))
            .collect(),
    }
}

/// A language by its own name (an operator's language by its code).
fn language_name(locale: Locale) -> &'static str {
    crate::web::views::admin::auth::language_name(locale)
}

/// The Atom feed of public list `slug`: its newest issues, each rendered in full.
async fn feed(state: &AppState, slug: &str, locale: Locale) -> Result<Response, PageError> {
    let (list, pages) = archive::feed(&state.ctx, slug, locale)
        .await
        .map_err(|e| page_error(locale, e))?;
    let organisation = &state.ctx.settings.mail.organisation;
    let view = FeedView {
        self_url: feed_url(state, &list),
        archive_url: url(state, "archive"),
        title: format!("{organisation}: {}", list.def.name),
        author: organisation.clone(),
        lang: locale.as_str(),
        entries: pages
            .iter()
            .map(|p| FeedEntryView {
                id: format!("urn:uuid:{}", p.issue.id),
                title: p.issue.subject.clone(),
                href: url(state, &format!("archive/{}", p.issue.id)),
                updated: p.issue.sent_at.to_rfc3339(),
                html: p.html.clone(),
            })
            .collect(),
    };
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        atom_feed(&view),
    )
        .into_response())
}
