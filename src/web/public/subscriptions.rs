//! The subscriber journey's pages: signup, confirm, unsubscribe (RFC 8058), preferences.
//! A GET only shows; a POST acts.

use axum::{
    extract::{Path, RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use maud::Markup;
use serde::Deserialize;

use crate::{
    config::join_url,
    domain::{
        EmailAddress, ListRef, ListSlug, Locale, MailingList, SubscriberId, SubscriberName,
        SubscriptionId,
    },
    services::{
        lists::{self, SignupListsError},
        subscriptions::{self, LinkActionError, Signup, SubscribeError},
    },
    signing::{Purpose, TokenError},
    store::StoreError,
    web::AppState,
    web::{
        error::{PageError, PageErrorKind},
        extract::{Client, ConfirmLink, PageForm, PreferencesLink, UnsubscribeLink, Verified},
        views::{self, PreferenceView, PreferencesView, SignupListView, SignupView, Text, text},
    },
};

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    list: Vec<String>,
}

/// `GET /subscribe?list=SLUG[&list=…]`: the signup form.
pub(super) async fn signup_form(
    State(state): State<AppState>,
    Client(client): Client,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let locale = client.locale;
    let query: ListQuery = serde_html_form::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| PageError::new(locale, PageErrorKind::BadRequest(e.to_string())))?;
    if query.list.is_empty() {
        return Ok(axum::response::Redirect::to("/").into_response());
    }
    let lists = signup_lists(&state, &query.list, locale).await?;
    Ok(views::signup_page(locale, &signup_view(&state, &lists, locale)).into_response())
}

async fn signup_lists(
    state: &AppState,
    raw: &[String],
    locale: Locale,
) -> Result<Vec<MailingList>, PageError> {
    let slugs: Vec<ListRef> = raw
        .iter()
        .map(|s| ListSlug::parse(s).map(ListRef::from))
        .collect::<Result<_, _>>()
        .map_err(|_| PageError::new(locale, PageErrorKind::NotFound))?;
    lists::for_signup(&state.ctx, &slugs)
        .await
        .map_err(|e| match e {
            SignupListsError::NoList | SignupListsError::Unknown(_) => {
                PageError::new(locale, PageErrorKind::NotFound)
            }
            SignupListsError::Store(e) => PageError::internal(locale, &e),
        })
}

fn signup_view(state: &AppState, lists: &[MailingList], locale: Locale) -> SignupView {
    SignupView {
        action: join_url(&state.ctx.settings.http.public_url, "subscribe").to_string(),
        lists: list_views(lists, locale, &[]),
        privacy_url: state.ctx.settings.privacy_notice_url.to_string(),
        ..SignupView::default()
    }
}

/// The signup form's lists, each with its consent text in `locale`.
fn list_views(lists: &[MailingList], locale: Locale, checked: &[String]) -> Vec<SignupListView> {
    lists
        .iter()
        .map(|l| SignupListView {
            slug: l.def.slug.as_str().to_owned(),
            name: l.def.name.clone(),
            description: l.def.description.clone(),
            consent_text: l.consent_text(locale).body().to_owned(),
            checked: checked.iter().any(|c| c == l.def.slug.as_str()),
        })
        .collect()
}

#[derive(Debug, Deserialize)]
pub(super) struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    list: Vec<String>,
    /// The slug of each list consented to (one box per list); `yes` (the single box of
    /// older forms) consents to every list the form names.
    #[serde(default)]
    consent: Vec<String>,
}

impl SignupForm {
    /// The lists of `lists` the person consented to, each by its own box.
    fn consented<'a>(&self, lists: &'a [MailingList]) -> Vec<&'a MailingList> {
        let all = self.consent.iter().any(|c| c == "yes");
        lists
            .iter()
            .filter(|l| all || self.consent.iter().any(|c| c == l.def.slug.as_str()))
            .collect()
    }
}

/// `POST /subscribe`: the same "check your inbox" page whether or not the address is known;
/// rate limited per client network (429, whatever the address).
pub(super) async fn subscribe(
    State(state): State<AppState>,
    Client(client): Client,
    PageForm(form): PageForm<SignupForm>,
) -> Result<Response, PageError> {
    let locale = client.locale;
    let lists = signup_lists(&state, &form.list, locale).await?;
    let signup = match parse_signup(&state, &form, &lists, locale) {
        Ok(signup) => signup,
        Err(view) => {
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                views::signup_page(locale, &view),
            )
                .into_response());
        }
    };
    match subscriptions::subscribe(&state.ctx, signup, &client).await {
        Ok(()) => {
            let t = text(locale);
            Ok(
                views::message_page(locale, t.check_inbox_title, t.check_inbox_body)
                    .into_response(),
            )
        }
        Err(SubscribeError::RateLimited { retry_after_secs }) => {
            let p = crate::web::views::text::privacy_text(locale);
            let page = views::message_page(locale, p.too_many_title, p.too_many_body);
            let header = [(
                axum::http::header::RETRY_AFTER,
                retry_after_secs.to_string(),
            )];
            Ok((StatusCode::TOO_MANY_REQUESTS, header, page).into_response())
        }
        Err(SubscribeError::Lists(_)) => Err(PageError::new(locale, PageErrorKind::NotFound)),
        Err(SubscribeError::ConsentMissing) => Err(PageError::new(
            locale,
            PageErrorKind::BadRequest(text(locale).consent_missing.into()),
        )),
        Err(SubscribeError::Store(e)) => Err(PageError::internal(locale, &e)),
        // The form names no consent text and acts for no operator.
        Err(e @ (SubscribeError::ConsentText | SubscribeError::Forbidden(_))) => {
            Err(PageError::internal(locale, &e))
        }
    }
}

/// Parses the form, or gives back the form view with field errors and the typed values.
fn parse_signup(
    state: &AppState,
    form: &SignupForm,
    lists: &[MailingList],
    locale: Locale,
) -> Result<Signup, Box<SignupView>> {
    let email = EmailAddress::parse(&form.email);
    let name = SubscriberName::parse(&form.name);
    // Only the lists whose own consent box is ticked are requested (GDPR Art. 7(2)).
    let consented = form.consented(lists);
    let consent = !consented.is_empty();
    if let (Ok(email), Ok(name), true) = (&email, &name, consent) {
        return Ok(Signup {
            email: email.clone(),
            name: name.clone(),
            lists: consented
                .iter()
                .map(|l| l.def.slug.clone().into())
                .collect(),
            consent,
        });
    }
    let t = text(locale);
    let missing = match lists.len() {
        1 => t.consent_missing,
        _ => t.consent_per_list,
    };
    Err(Box::new(SignupView {
        email: form.email.chars().take(254).collect(),
        name: form.name.chars().take(100).collect(),
        email_error: email.err().map(|e| e.to_string()),
        name_error: name.err().map(|e| e.to_string()),
        consent_error: (!consent).then(|| missing.to_owned()),
        lists: list_views(lists, locale, &form.consent),
        ..signup_view(state, lists, locale)
    }))
}

fn link_error(locale: Locale, e: LinkActionError) -> PageError {
    match e {
        LinkActionError::Gone => {
            PageError::new(locale, PageErrorKind::LinkInvalid(TokenError::BadSignature))
        }
        LinkActionError::Refused(_) => PageError::new(locale, PageErrorKind::NotFound),
        LinkActionError::Store(e) => PageError::internal(locale, &e),
    }
}

fn link_action(state: &AppState, path: &str) -> String {
    join_url(&state.ctx.settings.http.public_url, path).to_string()
}

/// `GET /confirm/{token}`: a page with a button; changes nothing (mail scanners follow links).
pub(super) async fn confirm_page(
    State(state): State<AppState>,
    link: Verified<ConfirmLink>,
) -> Result<Markup, PageError> {
    button_page_for(&state, &link, "confirm", |t| {
        [t.confirm_title, t.confirm_body, t.confirm_button]
    })
    .await
}

/// The page behind a link's GET: what the button will do to which list, and the button.
async fn button_page_for<P>(
    state: &AppState,
    link: &Verified<P>,
    path: &str,
    words: fn(&Text) -> [&'static str; 3],
) -> Result<Markup, PageError> {
    let summary = subscriptions::summary(&state.ctx, SubscriptionId::from_uuid(link.subject))
        .await
        .map_err(|e| link_error(link.locale, e))?;
    let [title, lead, button] = words(text(summary.locale));
    let action = link_action(state, &format!("{path}/{}", link.token));
    Ok(views::button_page(
        summary.locale,
        title,
        lead,
        &summary.list_names(),
        &action,
        button,
    ))
}

/// `POST /confirm/{token}`: confirms; a repeated confirmation shows the same page.
pub(super) async fn confirm(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<ConfirmLink>,
) -> Result<Markup, PageError> {
    let t = text(link.locale);
    match subscriptions::confirm(&state.ctx, SubscriptionId::from_uuid(link.subject), &client).await
    {
        Ok(summary) => {
            let t = text(summary.locale);
            Ok(views::outcome_page(
                summary.locale,
                t.confirmed_title,
                t.confirmed_body,
                &summary.list_names(),
            ))
        }
        Err(LinkActionError::Refused(_)) => Ok(views::message_page(
            link.locale,
            t.cancelled_title,
            t.cancelled_body,
        )),
        Err(e) => Err(link_error(link.locale, e)),
    }
}

/// `POST /confirm/{token}/resend`: a fresh confirmation link for a pending request, also
/// from an expired link; the same page whatever happened.
pub(super) async fn resend(
    State(state): State<AppState>,
    Client(client): Client,
    Path(token): Path<String>,
) -> Result<Markup, PageError> {
    let locale = client.locale;
    let subject = match state
        .ctx
        .keyring
        .verify(&token, Purpose::Confirm, state.ctx.clock.now())
    {
        Ok(subject) | Err(TokenError::Expired { subject }) => subject,
        Err(reason) => return Err(PageError::new(locale, PageErrorKind::LinkInvalid(reason))),
    };
    subscriptions::resend_confirmation(&state.ctx, SubscriptionId::from_uuid(subject), &client)
        .await
        .map_err(|e| link_error(locale, e))?;
    let t = text(locale);
    Ok(views::message_page(locale, t.resent_title, t.resent_body))
}

/// `GET /unsubscribe/{token}`: a page with a button; changes nothing.
pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    link: Verified<UnsubscribeLink>,
) -> Result<Markup, PageError> {
    let summary = subscriptions::summary(&state.ctx, SubscriptionId::from_uuid(link.subject))
        .await
        .map_err(|e| link_error(link.locale, e))?;
    let action = link_action(&state, &format!("unsubscribe/{}", link.token));
    Ok(views::unsubscribe_page(
        summary.locale,
        &summary.list_names(),
        &action,
    ))
}

/// The RFC 8058 one-click field (URL-encoded or multipart), or the page's button with the
/// optional reason and comment.
#[derive(Debug, Deserialize)]
pub(super) struct OneClickForm {
    #[serde(default, rename = "List-Unsubscribe")]
    one_click: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /unsubscribe/{token}`: the page's button and the RFC 8058 one-click POST
/// (`List-Unsubscribe=One-Click`, URL-encoded or multipart, no cookies, no redirect).
/// Idempotent.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<UnsubscribeLink>,
    PageForm(form): PageForm<OneClickForm>,
) -> Result<Markup, PageError> {
    let one_click = form.one_click.as_deref() == Some("One-Click");
    let source = if one_click {
        "one_click"
    } else {
        "unsubscribe_page"
    };
    let feedback = subscriptions::Feedback::of(form.reason.as_deref(), form.comment.as_deref());
    let summary = subscriptions::unsubscribe(
        &state.ctx,
        SubscriptionId::from_uuid(link.subject),
        &client,
        (source, feedback.as_ref()),
        link.context.map(crate::domain::CampaignId::from_uuid),
    )
    .await
    .map_err(|e| link_error(link.locale, e))?;
    let t = text(summary.locale);
    Ok(views::outcome_page(
        summary.locale,
        t.unsubscribed_title,
        t.unsubscribed_body,
        &summary.list_names(),
    ))
}

/// `GET /preferences/{token}`: the person's subscriptions, with forms to leave them and to
/// ask for the lists they are not on.
pub(super) async fn preferences_page(
    State(state): State<AppState>,
    link: Verified<PreferencesLink>,
) -> Result<Markup, PageError> {
    let prefs = subscriptions::preferences(&state.ctx, SubscriberId::from_uuid(link.subject))
        .await
        .map_err(|e| link_error(link.locale, e))?;
    let locale = prefs.locale;
    Ok(views::preferences_page(
        locale,
        &preferences_view(&state, &link.token, prefs, &[], None),
    ))
}

/// The preferences page's view; `checked` keeps the boxes ticked after a refusal.
fn preferences_view(
    state: &AppState,
    token: &str,
    prefs: subscriptions::Preferences,
    checked: &[String],
    add_error: Option<String>,
) -> PreferencesView {
    PreferencesView {
        action: link_action(state, &format!("preferences/{token}")),
        add_action: link_action(state, &format!("preferences/{token}/add")),
        offered: list_views(&prefs.offered, prefs.locale, checked),
        items: preference_views(prefs.items),
        add_error,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct AddForm {
    /// The slug of each list whose consent box is ticked.
    #[serde(default)]
    list: Vec<String>,
}

/// `POST /preferences/{token}/add`: asks to join the ticked lists by double opt-in (a
/// confirmation e-mail, as from the signup form), then says to check the inbox.
pub(super) async fn add(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<PreferencesLink>,
    PageForm(form): PageForm<AddForm>,
) -> Result<Response, PageError> {
    let subscriber = SubscriberId::from_uuid(link.subject);
    let prefs = subscriptions::preferences(&state.ctx, subscriber)
        .await
        .map_err(|e| link_error(link.locale, e))?;
    let locale = prefs.locale;
    let chosen: Vec<ListRef> = prefs
        .offered
        .iter()
        .filter(|l| form.list.iter().any(|s| s == l.def.slug.as_str()))
        .map(|l| l.def.slug.clone().into())
        .collect();
    if chosen.is_empty() {
        let error = Some(text(locale).add_none_chosen.to_owned());
        let v = preferences_view(&state, &link.token, prefs, &form.list, error);
        let page = views::preferences_page(locale, &v);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    match subscriptions::request_more(&state.ctx, subscriber, chosen, &client).await {
        Ok(()) => {
            let t = text(locale);
            Ok(
                views::message_page(locale, t.check_inbox_title, t.check_inbox_body)
                    .into_response(),
            )
        }
        Err(e) => Err(subscribe_error(locale, e)),
    }
}

/// The page of a refused signup that is not a field error.
fn subscribe_error(locale: Locale, e: SubscribeError) -> PageError {
    match e {
        SubscribeError::RateLimited { .. } => PageError::new(locale, PageErrorKind::Busy),
        SubscribeError::Lists(_) => PageError::new(locale, PageErrorKind::NotFound),
        SubscribeError::ConsentMissing => PageError::new(
            locale,
            PageErrorKind::BadRequest(text(locale).consent_missing.into()),
        ),
        SubscribeError::Store(StoreError::NotFound) => {
            PageError::new(locale, PageErrorKind::LinkInvalid(TokenError::BadSignature))
        }
        SubscribeError::Store(e) => PageError::internal(locale, &e),
        e @ (SubscribeError::ConsentText | SubscribeError::Forbidden(_)) => {
            PageError::internal(locale, &e)
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct LeaveForm {
    #[serde(default)]
    subscription: Vec<String>,
    #[serde(default)]
    all: Option<String>,
    /// RFC 8058 one-click, when this page is the `List-Unsubscribe` URL of a message that
    /// belongs to no list (the privacy link): it leaves every newsletter.
    #[serde(default, rename = "List-Unsubscribe")]
    one_click: Option<String>,
}

/// `POST /preferences/{token}`: leaves the chosen subscriptions (`subscription`, repeatable)
/// or all of them (`all=yes`); the RFC 8058 one-click leaves the newsletters only.
pub(super) async fn leave(
    State(state): State<AppState>,
    Client(client): Client,
    link: Verified<PreferencesLink>,
    PageForm(form): PageForm<LeaveForm>,
) -> Result<Markup, PageError> {
    let subscriber = SubscriberId::from_uuid(link.subject);
    let chosen: Vec<SubscriptionId> = form
        .subscription
        .iter()
        .filter_map(|id| id.parse().ok().map(SubscriptionId::from_uuid))
        .collect();
    let only = (form.all.as_deref() != Some("yes")).then_some(chosen.as_slice());
    let prefs = if form.one_click.as_deref() == Some("One-Click") {
        subscriptions::leave_newsletters(&state.ctx, subscriber, &client).await
    } else {
        subscriptions::leave_lists(&state.ctx, subscriber, only, &client).await
    }
    .map_err(|e| link_error(link.locale, e))?;
    let locale = prefs.locale;
    Ok(views::preferences_page(
        locale,
        &preferences_view(&state, &link.token, prefs, &[], None),
    ))
}

fn preference_views(prefs: Vec<subscriptions::Preference>) -> Vec<PreferenceView> {
    prefs
        .into_iter()
        .map(|p| PreferenceView {
            id: p.subscription_id.to_string(),
            list_name: p.list.def.name,
            status: p.status,
        })
        .collect()
}
