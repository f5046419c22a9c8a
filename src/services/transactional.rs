//! Transactional mail: the operator's templates, and the messages integrators ask for
//! (`POST /api/v1/transactional`). A message is rendered when asked for, so a template or
//! data problem is the caller's 422 and never a failure mid-send; it then goes through the
//! outbox like every other e-mail, with its retries, and is re-checked just before sending.
//! It belongs to no list: no consent is asked, no unsubscribe is offered, but a suppressed,
//! blocked, restricted or erased person is not mailed (409 `not_mailable`), and each message
//! is on the person's data page.

use chrono::{DateTime, Utc};

use super::audit::{self, Change};
use crate::{
    context::Context,
    domain::{
        Action, Actor, Decision, DeliveryId, EmailAddress, Forbidden, Locale, MessageKind,
        Subscriber, SubscriberId, SubscriberName, SubscriberStatus, TransactionalMessage,
        TransactionalTemplate, TransactionalTemplateId, may_send_requested,
        transactional::parse_name,
    },
    mail::{CampaignTemplate, transactional::render},
    store::{
        self, StoreError,
        deliveries::{NewDelivery, Progress},
    },
};

/// The longest subject a template may have, in characters.
pub const MAX_SUBJECT_CHARS: usize = 500;
/// The longest body a template may have, in bytes.
pub const MAX_BODY_BYTES: usize = 200_000;
/// The largest `data` a message may carry, as JSON bytes.
pub const MAX_DATA_BYTES: usize = 64 * 1024;

/// Why a transactional request was refused.
#[derive(Debug, thiserror::Error)]
pub enum TransactionalError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// A field breaks a rule; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// Another template has this name.
    #[error("a template named {0:?} exists already")]
    NameTaken(String),
    /// No such template or message.
    #[error("not found")]
    NotFound,
    /// The person may not be mailed: suppressed, blocked, restricted or erased.
    #[error("{0}")]
    NotMailable(&'static str),
    /// Store failure.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TransactionalError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound,
            other => Self::Store(other),
        }
    }
}

/// A template as written: its subject and Markdown body.
#[derive(Debug, Clone)]
pub struct TemplateText {
    /// One line, with variables.
    pub subject: String,
    /// Markdown, with variables.
    pub body_markdown: String,
}

impl TemplateText {
    /// Checks the lengths and compiles the template (syntax, variables other than `data.*`).
    fn check(&self) -> Result<CampaignTemplate, TransactionalError> {
        if self.subject.trim().is_empty() || self.subject.chars().count() > MAX_SUBJECT_CHARS {
            return Err(TransactionalError::Invalid(format!(
                "subject: 1 to {MAX_SUBJECT_CHARS} characters"
            )));
        }
        if self.body_markdown.trim().is_empty() || self.body_markdown.len() > MAX_BODY_BYTES {
            return Err(TransactionalError::Invalid(format!(
                "body_markdown: 1 to {MAX_BODY_BYTES} bytes"
            )));
        }
        CampaignTemplate::compile_transactional(&self.subject, &self.body_markdown)
            .map_err(|e| TransactionalError::Invalid(e.to_string()))
    }
}

/// Saves a new template.
///
/// # Errors
/// `Forbidden`, `Invalid` (name, lengths, a template error), `NameTaken`, or a store failure.
pub async fn create_template(
    ctx: &Context,
    actor: &Actor,
    name: &str,
    text: TemplateText,
) -> Result<TransactionalTemplate, TransactionalError> {
    actor.authorize(Action::ManageTemplates)?;
    let name = parse_name(name).map_err(|e| TransactionalError::Invalid(format!("name: {e}")))?;
    text.check()?;
    let now = ctx.clock.now();
    let template = TransactionalTemplate {
        id: TransactionalTemplateId::new(),
        name,
        subject: text.subject,
        body_markdown: text.body_markdown,
        created_at: now,
        updated_at: now,
    };
    let txn = store::begin_write(&ctx.writer).await?;
    if store::transactional::find_template(&txn, &template.name)
        .await
        .is_ok()
    {
        return Err(TransactionalError::NameTaken(template.name));
    }
    store::transactional::insert_template(&txn, &template).await?;
    let change = Change::of("transactional_template.create", template.id).detail(&template.name);
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(template)
}

/// Changes a template's subject, body or both (`None`: as it is). Messages already asked for
/// keep the text they were rendered with.
///
/// # Errors
/// `Forbidden`, `NotFound`, `Invalid`, or a store failure.
pub async fn update_template(
    ctx: &Context,
    actor: &Actor,
    name_or_id: &str,
    subject: Option<String>,
    body_markdown: Option<String>,
) -> Result<TransactionalTemplate, TransactionalError> {
    actor.authorize(Action::ManageTemplates)?;
    let txn = store::begin_write(&ctx.writer).await?;
    let mut template = store::transactional::find_template(&txn, name_or_id).await?;
    let text = TemplateText {
        subject: subject.unwrap_or(template.subject),
        body_markdown: body_markdown.unwrap_or(template.body_markdown),
    };
    text.check()?;
    let now = ctx.clock.now();
    template.subject = text.subject;
    template.body_markdown = text.body_markdown;
    template.updated_at = now;
    store::transactional::update_template(&txn, &template).await?;
    let change = Change::of("transactional_template.update", template.id).detail(&template.name);
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(template)
}

/// Deletes a template; the messages sent with it keep its name.
///
/// # Errors
/// `Forbidden`, `NotFound`, or a store failure.
pub async fn delete_template(
    ctx: &Context,
    actor: &Actor,
    name_or_id: &str,
) -> Result<(), TransactionalError> {
    actor.authorize(Action::ManageTemplates)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let template = store::transactional::find_template(&txn, name_or_id).await?;
    store::transactional::delete_template(&txn, template.id).await?;
    let change = Change::of("transactional_template.delete", template.id).detail(&template.name);
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(())
}

/// One template, by name or id.
///
/// # Errors
/// `Forbidden`, `NotFound`, or a store failure.
pub async fn template(
    ctx: &Context,
    actor: &Actor,
    name_or_id: &str,
) -> Result<TransactionalTemplate, TransactionalError> {
    actor.authorize(Action::Read)?;
    Ok(store::transactional::find_template(&ctx.db, name_or_id).await?)
}

/// Every template, by name.
///
/// # Errors
/// `Forbidden`, or a store failure.
pub async fn templates(
    ctx: &Context,
    actor: &Actor,
) -> Result<Vec<TransactionalTemplate>, TransactionalError> {
    actor.authorize(Action::Read)?;
    Ok(store::transactional::templates(&ctx.db).await?)
}

/// A message as asked for, with where its outbox row stands.
#[derive(Debug, Clone)]
pub struct MessageStatus {
    /// The message.
    pub message: TransactionalMessage,
    /// Where its outbox row stands (`None` once the row is gone).
    pub progress: Option<Progress>,
}

/// Renders `template` for the person at `to` with `data` and puts it in the outbox. A person
/// Bulletin does not know yet is recorded (no subscription, nothing else is sent to them),
/// so that the message is on their data page and erasure reaches it.
///
/// # Errors
/// `Forbidden`, `NotFound` (template), `Invalid` (data too large or not an object, a
/// variable the data lacks), `NotMailable`, or a store failure; nothing is stored then.
pub async fn send(
    ctx: &Context,
    actor: &Actor,
    template: &str,
    to: &EmailAddress,
    data: &serde_json::Value,
) -> Result<MessageStatus, TransactionalError> {
    actor.authorize(Action::SendTransactional)?;
    if !data.is_object() {
        return Err(TransactionalError::Invalid(
            "data: must be an object".into(),
        ));
    }
    if data.to_string().len() > MAX_DATA_BYTES {
        return Err(TransactionalError::Invalid(format!(
            "data: at most {MAX_DATA_BYTES} bytes"
        )));
    }
    let template = store::transactional::find_template(&ctx.db, template)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => TransactionalError::Invalid(format!(
                "template: there is no transactional template {template:?}"
            )),
            other => other.into(),
        })?;
    let compiled =
        CampaignTemplate::compile_transactional(&template.subject, &template.body_markdown)
            .map_err(|e| TransactionalError::Invalid(format!("template: {e}")))?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let suppressed = store::suppressions::find(&txn, &ctx.address_hasher.hash(to))
        .await?
        .is_some();
    let person = match store::subscribers::find_by_email_for_update(&txn, to).await? {
        Some(person) => person,
        None if suppressed => return Err(TransactionalError::NotMailable("address is suppressed")),
        None => new_person(&txn, to, now).await?,
    };
    if let Decision::Skip(reason) =
        may_send_requested(MessageKind::Transactional, person.status, suppressed)
    {
        return Err(TransactionalError::NotMailable(reason));
    }
    let rendered = render(&template.name, &compiled, &person, data, &ctx.settings)
        .map_err(|e| TransactionalError::Invalid(format!("data: {e}")))?;
    let message_id = format!(
        "transactional.{}@{}",
        uuid::Uuid::now_v7(),
        ctx.settings.mail.from_address.domain()
    );
    let delivery = NewDelivery {
        kind: MessageKind::Transactional,
        subscriber_id: person.id,
        subscription_id: None,
        message_id,
    };
    let id = store::deliveries::enqueue(&txn, &delivery, now).await?;
    let message = TransactionalMessage {
        id,
        template: template.name,
        subscriber_id: person.id,
        subject: rendered.subject,
        text_body: rendered.text,
        html_body: rendered.html,
        requested_by: actor.name(),
        created_at: now,
    };
    store::transactional::insert_message(&txn, &message).await?;
    let progress = store::deliveries::progress(&txn, id).await?;
    store::commit(txn).await?;
    ctx.outbox.notify_one();
    metrics::counter!("bulletin_transactional_requested_total").increment(1);
    Ok(MessageStatus { message, progress })
}

async fn new_person(
    conn: &impl store::Connection,
    to: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<Subscriber, StoreError> {
    let person = Subscriber {
        id: SubscriberId::new(),
        email: to.clone(),
        name: SubscriberName::default(),
        locale: Locale::default(),
        status: SubscriberStatus::Active,
        created_at: now,
        attributes: Default::default(),
    };
    store::subscribers::insert(conn, &person, now).await?;
    Ok(person)
}

/// A message and where it stands.
///
/// # Errors
/// `Forbidden`, `NotFound` (never asked for, or erased with the person), or a store failure.
pub async fn status(
    ctx: &Context,
    actor: &Actor,
    id: DeliveryId,
) -> Result<MessageStatus, TransactionalError> {
    actor.authorize(Action::Read)?;
    let message = store::transactional::find_message(&ctx.db, id)
        .await?
        .ok_or(TransactionalError::NotFound)?;
    let progress = store::deliveries::progress(&ctx.db, id).await?;
    Ok(MessageStatus { message, progress })
}
