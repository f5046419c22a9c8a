//! Rendering of notice messages (and reminders to acknowledge them): the notice's typed
//! fields in the recipient's language, the recipient's acknowledgement link, the archive
//! link, and the right to object with its link, which is also the `List-Unsubscribe` URL
//! (RFC 8058 one-click objects to that kind of notice). Eligibility stays with `compose`.

use std::collections::HashMap;

use url::Url;

use crate::{
    context::Context,
    domain::{
        Locale, Notice, NoticeFields, NoticeRecipient, Subscriber, SubscriberId, Subscription,
    },
    mail::{NoticeMailContext, RenderedMail},
    signing::Purpose,
    store::{self, StoreError, notices::MailingPurpose},
};

/// A notice mailing with what every recipient's message needs, loaded once per campaign
/// (its recipients are all written before its campaign starts sending).
#[derive(Debug)]
pub struct NoticeMail {
    /// The campaign that carries this mailing.
    campaign: crate::domain::CampaignId,
    notice: Notice,
    /// The notice's fields in each language (its translation, else the default text).
    localised: HashMap<Locale, NoticeFields>,
    purpose: MailingPurpose,
    recipients: HashMap<SubscriberId, NoticeRecipient>,
    supersedes_revision: u32,
}

/// The notice mailing a campaign carries, if it carries one.
///
/// # Errors
/// Store failure.
pub async fn load(
    ctx: &Context,
    campaign: crate::domain::CampaignId,
) -> Result<Option<NoticeMail>, StoreError> {
    let Some((id, purpose)) = store::notices::mailing_of(&ctx.db, campaign).await? else {
        return Ok(None);
    };
    let notice = store::notices::find(&ctx.db, id).await?;
    let supersedes_revision = match notice.supersedes {
        Some(old) => store::notices::find(&ctx.db, old).await?.revision,
        None => 0,
    };
    let recipients = store::notices::recipients_of(&ctx.db, id)
        .await?
        .into_iter()
        .map(|r| (r.subscriber_id, r))
        .collect();
    let localised = Locale::all()
        .into_iter()
        .map(|l| (l, notice.fields.localised(l)))
        .collect();
    Ok(Some(NoticeMail {
        campaign,
        notice,
        localised,
        purpose,
        recipients,
        supersedes_revision,
    }))
}

/// Renders one recipient's message; returns it with the objection URL for the
/// `List-Unsubscribe` header.
///
/// # Errors
/// A recipient row that is missing, or a template error, as text.
pub fn render(
    ctx: &Context,
    mail: &NoticeMail,
    subscriber: &Subscriber,
    subscription: &Subscription,
) -> Result<(RenderedMail, Url), String> {
    let recipient = mail
        .recipients
        .get(&subscriber.id)
        .ok_or("no recipient row for this notice")?;
    // The mailing rides in the signed link, so an objection can be counted against the notice.
    let object_url = ctx.links.object(&ctx.keyring.sign_with_context(
        Purpose::Object,
        subscription.id.as_uuid(),
        mail.campaign.as_uuid(),
        None,
    ));
    let n = &mail.notice;
    let f = mail.localised.get(&subscriber.locale).unwrap_or(&n.fields);
    let ack_url = match (f.ack_deadline, recipient.ack_status) {
        (Some(_), Some(_)) => ctx
            .links
            .acknowledge(
                &ctx.keyring
                    .sign(Purpose::Acknowledge, recipient.id.as_uuid(), None),
            )
            .to_string(),
        _ => String::new(),
    };
    let archive_token = (!ctx.settings.notices.public_archive)
        .then(|| ctx.keyring.sign(Purpose::Archive, n.id.as_uuid(), None));
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let join = |parts: &[crate::domain::PartNumber]| {
        parts
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let vars = NoticeMailContext {
        organisation: ctx.settings.mail.organisation.clone(),
        postal_address: ctx.settings.mail.postal_address.clone(),
        kind: n.kind.as_str().to_owned(),
        number: n.number.to_string(),
        revision: n.revision,
        supersedes_revision: mail.supersedes_revision,
        reminder: mail.purpose == MailingPurpose::Reminder,
        title: f.title.clone(),
        summary: f.summary.clone(),
        affected_parts: join(&f.affected_parts),
        change_category: f
            .change_category
            .map(|c| c.label(subscriber.locale).to_owned())
            .unwrap_or_default(),
        description_before: f.description_before.clone(),
        description_after: f.description_after.clone(),
        reason: f.reason.clone(),
        impact_form: f.impact.form.clone(),
        impact_fit: f.impact.fit.clone(),
        impact_function: f.impact.function.clone(),
        impact_quality: f.impact.quality.clone(),
        impact_reliability: f.impact.reliability.clone(),
        qualification_summary: f.qualification_summary.clone(),
        sample_availability_date: date(f.sample_availability_date),
        effective_date: date(f.effective_date),
        last_time_buy_date: date(f.last_time_buy_date),
        last_time_ship_date: date(f.last_time_ship_date),
        replacement_parts: join(&f.replacement_parts),
        ack_deadline: f
            .ack_deadline
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        ack_url,
        service_critical: f.service_critical.clone().unwrap_or_default(),
        first_notice: recipient.first_notice && mail.purpose == MailingPurpose::Notice,
        object_url: object_url.to_string(),
        archive_url: archive_url(ctx, n, archive_token.as_ref(), subscriber.locale),
        privacy_url: ctx.settings.privacy_notice_url.to_string(),
    };
    let rendered = ctx
        .templates
        .render_notice(subscriber.locale, &vars)
        .map_err(|e| e.to_string())?;
    Ok((rendered, object_url))
}

/// The notice's archive page in the recipient's language (`?lang=`, unless the default).
fn archive_url(
    ctx: &Context,
    notice: &Notice,
    key: Option<&crate::signing::SignedToken>,
    locale: Locale,
) -> String {
    let mut url = ctx.links.archive(&notice.id.to_string(), key);
    if locale != Locale::default() {
        url.query_pairs_mut().append_pair("lang", locale.as_str());
    }
    url.to_string()
}
