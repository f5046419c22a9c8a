//! The public newsletter archive: sent campaigns marked `archive`, per public list, rendered
//! with placeholders instead of any personal value. Read-only and without login; it never
//! shows a draft, a campaign of a private list or anything of a recipient.

use chrono::{DateTime, Utc};

use crate::{
    config::join_url,
    context::Context,
    domain::{Attributes, Campaign, CampaignId, CampaignStatus, Locale, MailingList},
    mail::{
        Personalisation, TemplateError,
        campaign::{
            CampaignVars, ListVars, SubscriberVars, attribute_values, render_public,
            render_public_subject,
        },
    },
    store::{self, StoreError},
};

/// The most issues the archive page lists per list (the newest).
pub const PAGE_ISSUES: u64 = 200;

/// The most entries of a list's Atom feed (the newest).
pub const FEED_ENTRIES: u64 = 50;

/// Why an archive page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// No such list or issue in the archive (unknown, not archived, not sent, or not on a
    /// public list: the same answer, so that nothing can be probed).
    #[error("not in the archive")]
    NotFound,
    /// A stored template no longer renders (it compiled when it was saved).
    #[error("the campaign does not render: {0}")]
    Template(String),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TemplateError> for ArchiveError {
    fn from(e: TemplateError) -> Self {
        Self::Template(e.to_string())
    }
}

/// A public list and the issues of it in the archive.
#[derive(Debug, Clone)]
pub struct ArchiveShelf {
    /// The list.
    pub list: MailingList,
    /// Its archived issues, the one sent last first.
    pub issues: Vec<ArchiveIssue>,
}

/// One issue as a list of issues names it.
#[derive(Debug, Clone)]
pub struct ArchiveIssue {
    /// The campaign.
    pub id: CampaignId,
    /// When it was sent (its send began).
    pub sent_at: DateTime<Utc>,
    /// The subject in the reader's language, with placeholders.
    pub subject: String,
}

/// One issue as its page (or a feed entry) shows it.
#[derive(Debug, Clone)]
pub struct IssuePage {
    /// The issue.
    pub issue: ArchiveIssue,
    /// The body as HTML, with placeholders; made by `markdown_to_public_html`, so raw HTML
    /// of the body is text in it.
    pub html: String,
    /// The language it is shown in.
    pub locale: Locale,
    /// Every language it can be read in; empty when it has no translation.
    pub languages: Vec<Locale>,
    /// The public lists it went to (for the subscribe link).
    pub lists: Vec<MailingList>,
}

/// The lists whose issues the archive shows: public, consent-based (marketing) and not
/// archived, the ones the signup page offers; by name.
async fn public_lists(ctx: &Context) -> Result<Vec<MailingList>, StoreError> {
    let mut lists: Vec<MailingList> = store::lists::all(&ctx.db)
        .await?
        .into_iter()
        .filter(MailingList::is_open_for_signup)
        .collect();
    lists.sort_by(|a, b| a.def.name.cmp(&b.def.name));
    Ok(lists)
}

/// Every public list with its archived issues (at most `PAGE_ISSUES` each, the newest),
/// subjects in `locale` where a translation exists. Lists without issues are left out.
///
/// # Errors
/// A store failure.
pub async fn shelves(ctx: &Context, locale: Locale) -> Result<Vec<ArchiveShelf>, ArchiveError> {
    let mut shelves = Vec::new();
    for list in public_lists(ctx).await? {
        let campaigns = store::campaigns::archived(&ctx.db, list.id, Some(PAGE_ISSUES)).await?;
        if campaigns.is_empty() {
            continue;
        }
        let issues = campaigns
            .iter()
            .filter_map(|c| rendered(c, issue(c, &placeholders(ctx, &list, c, locale), locale)))
            .collect();
        shelves.push(ArchiveShelf { list, issues });
    }
    Ok(shelves)
}

/// The public list `slug` and its newest `FEED_ENTRIES` issues, each rendered in `locale`
/// where a translation exists.
///
/// # Errors
/// `NotFound` for a list that is not public, or a store failure.
pub async fn feed(
    ctx: &Context,
    slug: &str,
    locale: Locale,
) -> Result<(MailingList, Vec<IssuePage>), ArchiveError> {
    let lists = public_lists(ctx).await?;
    let list = lists
        .iter()
        .find(|l| l.def.slug.as_str() == slug)
        .ok_or(ArchiveError::NotFound)?;
    let campaigns = store::campaigns::archived(&ctx.db, list.id, Some(FEED_ENTRIES)).await?;
    let pages = campaigns
        .iter()
        .filter_map(|c| rendered(c, page(ctx, c, &lists, locale)))
        .collect();
    Ok((list.clone(), pages))
}

/// The rendering of `campaign`, or `None` (logged) when its stored template no longer renders:
/// one broken issue leaves the others listed.
fn rendered<T>(campaign: &Campaign, result: Result<T, ArchiveError>) -> Option<T> {
    result
        .inspect_err(|e| {
            tracing::warn!(
                campaign.id = %campaign.id,
                error = %e,
                "an archived campaign does not render; left out"
            );
        })
        .ok()
}

/// The page of issue `id` in `locale` (its translation, else its default text).
///
/// # Errors
/// `NotFound` unless it is sent, marked for the archive and on a public list; a store
/// failure, or a template that no longer renders.
pub async fn issue_page(
    ctx: &Context,
    id: CampaignId,
    locale: Locale,
) -> Result<IssuePage, ArchiveError> {
    let campaign = match store::campaigns::find(&ctx.db, id).await {
        Ok(c) => c,
        Err(StoreError::NotFound) => return Err(ArchiveError::NotFound),
        Err(e) => return Err(e.into()),
    };
    if !campaign.def.archive || campaign.status != CampaignStatus::Sent {
        return Err(ArchiveError::NotFound);
    }
    page(ctx, &campaign, &public_lists(ctx).await?, locale)
}

/// The page of `campaign` among the `public` lists; `NotFound` if it is on none of them.
fn page(
    ctx: &Context,
    campaign: &Campaign,
    public: &[MailingList],
    locale: Locale,
) -> Result<IssuePage, ArchiveError> {
    let lists: Vec<MailingList> = public
        .iter()
        .filter(|l| campaign.def.lists.contains(&l.id))
        .cloned()
        .collect();
    let first = lists.first().ok_or(ArchiveError::NotFound)?;
    let vars = placeholders(ctx, first, campaign, locale);
    let (subject, body) = campaign.def.text_for(locale);
    let rendered = render_public(subject, body, &vars)?;
    let languages = match campaign.def.translations.is_empty() {
        true => Vec::new(),
        false => Locale::all(),
    };
    Ok(IssuePage {
        issue: ArchiveIssue {
            id: campaign.id,
            sent_at: sent_at(campaign),
            subject: rendered.subject,
        },
        html: rendered.html,
        locale,
        languages,
        lists,
    })
}

/// `campaign` as a list of issues names it.
fn issue(
    campaign: &Campaign,
    vars: &Personalisation,
    locale: Locale,
) -> Result<ArchiveIssue, ArchiveError> {
    let (subject, _) = campaign.def.text_for(locale);
    Ok(ArchiveIssue {
        id: campaign.id,
        sent_at: sent_at(campaign),
        subject: render_public_subject(subject, vars)?,
    })
}

/// When a sent campaign went out: when its send began (a sent campaign always has it; the
/// other times are stand-ins for rows written before they were kept).
fn sent_at(campaign: &Campaign) -> DateTime<Utc> {
    campaign
        .started_at
        .or(campaign.finished_at)
        .unwrap_or(campaign.created_at)
}

/// The template values of a public page: no person's value, but words that stand for one
/// ("Reader", "your e-mail address"), no attributes, and the list's signup page for every
/// personal link (unsubscribe, preferences). The campaign's name stays: every recipient got it.
fn placeholders(
    ctx: &Context,
    list: &MailingList,
    campaign: &Campaign,
    locale: Locale,
) -> Personalisation {
    let (name, email) = match locale {
        Locale::De => ("Leserin/Leser", "Ihre E-Mail-Adresse"),
        _ => ("Reader", "your e-mail address"),
    };
    let mut signup = join_url(&ctx.settings.http.public_url, "subscribe");
    signup
        .query_pairs_mut()
        .append_pair("list", list.def.slug.as_str());
    Personalisation {
        subscriber: SubscriberVars {
            name: name.to_owned(),
            email: email.to_owned(),
            locale: locale.as_str().to_owned(),
            attributes: attribute_values(&Attributes::default()),
        },
        list: ListVars {
            name: list.def.name.clone(),
            slug: list.def.slug.as_str().to_owned(),
        },
        campaign: CampaignVars {
            name: campaign.def.name.clone(),
        },
        unsubscribe_url: signup.to_string(),
        preferences_url: signup.to_string(),
        organisation: ctx.settings.mail.organisation.clone(),
        data: minijinja::Value::UNDEFINED,
    }
}
