//! Customers: a subscriber with a company and the products they use, added by an ERP or CRM
//! (one by API, many by CSV). Adding a customer enrols them, on the basis of legitimate
//! interest (GDPR Art. 6(1)(f)), into the `tech_news` and `product_notices` lists, with an
//! `enrolled` ledger event naming the source and the operator's assessment. Nobody who
//! objected, and no suppressed address (bounced, erased), is ever enrolled again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::audit::{self, Change};
use super::paging::Page;
use crate::{
    context::Context,
    domain::{
        Action, Actor, ConsentAction, ConsentEvent, ConsentEventId, EmailAddress, Forbidden,
        LegalBasis, ListKind, Locale, MailingList, PartNumber, Product, Subscriber, SubscriberId,
        SubscriberName, SubscriberStatus, Subscription, SubscriptionId, SubscriptionStatus,
    },
    store::{self, StoreError},
};

/// A customer as an ERP or CRM sends it.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct NewCustomer {
    /// The address.
    pub email: EmailAddress,
    /// The name (kept only for a new subscriber).
    pub name: SubscriberName,
    pub company: Option<String>,
    /// The language (kept only for a new subscriber).
    pub locale: Locale,
    /// The products they use.
    pub products: Vec<PartNumber>,
    /// Where the relation comes from (`order:12345`).
    pub source: String,
}

/// Why a customer was not added; nothing is kept then.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// A field breaks a rule.
    #[error("{0}")]
    Invalid(String),
    /// Part numbers that name no product.
    #[error("unknown part numbers: {}", .0.join(", "))]
    UnknownParts(Vec<String>),
    /// The address may not be processed: `suppressed`, `blocked`, `restricted`, `erased`.
    #[error("the address may not be enrolled: {0}")]
    Refused(&'static str),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What adding a customer did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CustomerOutcome {
    /// The subscriber id.
    pub id: SubscriberId,
    /// Whether the subscriber record was created now.
    pub created: bool,
    /// Every product the customer uses now, by part number.
    pub products: Vec<String>,
    /// Lists the customer was enrolled in now.
    pub enrolled: Vec<String>,
    /// Lists the customer is already enrolled in.
    pub unchanged: Vec<String>,
    /// Lists the customer objected to (never enrolled again).
    pub objected: Vec<String>,
}

/// Adds or updates one customer and enrols them, in one transaction.
///
/// # Errors
/// A bad field, unknown part numbers, a refused address, or a store failure.
pub async fn add(
    ctx: &Context,
    actor: &Actor,
    new: NewCustomer,
) -> Result<CustomerOutcome, CustomerError> {
    actor.authorize(Action::ManageNotices)?;
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let lists = enrolment_lists(&txn).await?;
    let outcome = add_in(&txn, ctx, &new, &lists, &actor.name(), now).await?;
    let detail = format!(
        "products {}; enrolled {}",
        outcome.products.join(","),
        outcome.enrolled.join(",")
    );
    audit::append(
        &txn,
        actor,
        Change::of("customer.add", outcome.id).detail(detail),
        now,
    )
    .await?;
    store::commit(txn).await?;
    Ok(outcome)
}

/// The legitimate-interest lists a customer is enrolled in.
pub(crate) async fn enrolment_lists(
    conn: &impl store::Connection,
) -> Result<Vec<MailingList>, StoreError> {
    Ok(store::lists::all(conn)
        .await?
        .into_iter()
        .filter(is_enrolment_list)
        .collect())
}

fn is_enrolment_list(l: &MailingList) -> bool {
    l.def.legal_basis == LegalBasis::LegitimateInterest
        && matches!(l.def.kind, ListKind::TechNews | ListKind::ProductNotices)
}

/// Checks the fields that are not parsed at the edge.
fn check(new: &NewCustomer) -> Result<(), CustomerError> {
    if new.products.is_empty() {
        return Err(CustomerError::Invalid(
            "products must name at least one part number".into(),
        ));
    }
    let source = new.source.trim();
    if source.is_empty() || source.chars().count() > 200 {
        return Err(CustomerError::Invalid(
            "source must be 1 to 200 characters (e.g. order:12345)".into(),
        ));
    }
    if new
        .company
        .as_ref()
        .is_some_and(|c| c.trim().is_empty() || c.chars().count() > 200)
    {
        return Err(CustomerError::Invalid(
            "company must be 1 to 200 characters".into(),
        ));
    }
    Ok(())
}

/// The products named, or the part numbers that name none.
async fn products_named(
    conn: &impl store::Connection,
    parts: &[PartNumber],
) -> Result<Vec<Product>, CustomerError> {
    let found = store::products::find_by_parts(conn, parts).await?;
    let unknown: Vec<String> = parts
        .iter()
        .filter(|p| !found.iter().any(|f| &f.part_number == *p))
        .map(|p| p.as_str().to_owned())
        .collect();
    if !unknown.is_empty() {
        return Err(CustomerError::UnknownParts(unknown));
    }
    Ok(found)
}

/// Adds one customer inside the caller's transaction.
pub(crate) async fn add_in(
    conn: &impl store::Connection,
    ctx: &Context,
    new: &NewCustomer,
    lists: &[MailingList],
    actor: &str,
    now: DateTime<Utc>,
) -> Result<CustomerOutcome, CustomerError> {
    check(new)?;
    let products = products_named(conn, &new.products).await?;
    // An erased or bounced address stays unmailed and unrecorded: keyed hash only.
    if store::suppressions::contains(conn, &ctx.address_hasher.hash(&new.email)).await? {
        return Err(CustomerError::Refused("suppressed"));
    }
    let (subscriber, created) = match store::subscribers::find_by_email(conn, &new.email).await? {
        Some(existing) => (existing, false),
        None => {
            let fresh = Subscriber {
                id: SubscriberId::new(),
                email: new.email.clone(),
                name: new.name.clone(),
                locale: new.locale,
                status: SubscriberStatus::Active,
                created_at: now,
                attributes: Default::default(),
            };
            store::subscribers::insert(conn, &fresh, now).await?;
            (fresh, true)
        }
    };
    match subscriber.status {
        SubscriberStatus::Active => {}
        SubscriberStatus::Blocked => return Err(CustomerError::Refused("blocked")),
        SubscriberStatus::Restricted => return Err(CustomerError::Refused("restricted")),
        SubscriberStatus::Erased => return Err(CustomerError::Refused("erased")),
    }
    let source = new.source.trim();
    store::products::put_customer(conn, subscriber.id, new.company.as_deref(), source, now).await?;
    let ids: Vec<_> = products.iter().map(|p| p.id).collect();
    store::products::add_customer_products(conn, subscriber.id, &ids, source, now).await?;
    let mut outcome = CustomerOutcome {
        id: subscriber.id,
        created,
        products: store::products::products_of(conn, subscriber.id)
            .await?
            .into_iter()
            .map(|p| p.part_number.as_str().to_owned())
            .collect(),
        enrolled: Vec::new(),
        unchanged: Vec::new(),
        objected: Vec::new(),
    };
    let enrolment = Enrolment {
        ctx,
        subscriber: subscriber.id,
        source,
        actor,
        parts: &outcome.products.clone(),
        now,
    };
    enrol(conn, &enrolment, lists, &mut outcome).await?;
    Ok(outcome)
}

struct Enrolment<'a> {
    ctx: &'a Context,
    subscriber: SubscriberId,
    source: &'a str,
    actor: &'a str,
    parts: &'a [String],
    now: DateTime<Utc>,
}

/// Enrols into every list the person has not objected to. An objection to one list of a
/// kind counts for every list of that kind, so a new list never brings an objector back.
async fn enrol(
    conn: &impl store::Connection,
    e: &Enrolment<'_>,
    lists: &[MailingList],
    outcome: &mut CustomerOutcome,
) -> Result<(), StoreError> {
    let existing: HashMap<_, _> = store::subscriptions::of_subscriber(conn, e.subscriber)
        .await?
        .into_iter()
        .map(|s| (s.list_id, s))
        .collect();
    let objected_kinds: Vec<ListKind> = lists
        .iter()
        .filter(|l| {
            existing
                .get(&l.id)
                .is_some_and(|s| s.status == SubscriptionStatus::Unsubscribed)
        })
        .map(|l| l.def.kind)
        .collect();
    for list in lists {
        let slug = list.def.slug.as_str().to_owned();
        match existing.get(&list.id).map(|s| s.status) {
            Some(SubscriptionStatus::Confirmed) => outcome.unchanged.push(slug),
            Some(SubscriptionStatus::Unsubscribed) => outcome.objected.push(slug),
            _ if objected_kinds.contains(&list.def.kind) => outcome.objected.push(slug),
            Some(SubscriptionStatus::Pending) | None => {
                enrol_one(conn, e, list, existing.get(&list.id)).await?;
                outcome.enrolled.push(slug);
            }
        }
    }
    Ok(())
}

async fn enrol_one(
    conn: &impl store::Connection,
    e: &Enrolment<'_>,
    list: &MailingList,
    existing: Option<&Subscription>,
) -> Result<(), StoreError> {
    let mut sub = existing.cloned().unwrap_or_else(|| Subscription {
        id: SubscriptionId::new(),
        subscriber_id: e.subscriber,
        list_id: list.id,
        status: SubscriptionStatus::Confirmed,
        source: e.source.to_owned(),
        requested_at: None,
        confirmed_at: Some(e.now),
        unsubscribed_at: None,
        confirmations_sent: 0,
        last_confirmation_at: None,
    });
    if existing.is_some() {
        sub.status = SubscriptionStatus::Confirmed;
        sub.confirmed_at = Some(e.now);
        store::subscriptions::update(conn, &sub, e.now).await?;
    } else {
        store::subscriptions::insert(conn, &sub, e.now).await?;
    }
    // GDPR Art. 6(1)(f) and Recital 47: the ledger names the basis, where the customer
    // relation comes from, and the assessment that weighed it.
    let event = ConsentEvent {
        id: ConsentEventId::new(),
        subscriber_id: e.subscriber,
        list_id: Some(list.id),
        action: ConsentAction::Enrolled,
        legal_basis: LegalBasis::LegitimateInterest,
        consent_text_hash: None,
        ip_anon: None,
        user_agent: None,
        actor: e.actor.to_owned(),
        source: e.source.to_owned(),
        occurred_at: e.now,
        evidence: Some(json!({
            "customer_source": e.source,
            "lia_reference": e.ctx.settings.notices.lia_reference,
            "products": e.parts,
        })),
        subject_hash: None,
        campaign_id: None,
    };
    store::consent_events::append(conn, &event).await
}

/// One row of a customer import that was not taken.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CustomerRowProblem {
    /// Its line (the header is line 1).
    pub line: u64,
    /// The address as given.
    pub email: String,
    /// A stable code: `invalid_email`, `invalid_name`, `invalid_field`, `unknown_part`,
    /// `suppressed`, `blocked`, `restricted`, `erased`.
    pub code: &'static str,
    /// A readable reason.
    pub error: String,
}

/// What a customer import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CustomerImportReport {
    /// Data rows read.
    pub rows: u64,
    /// Rows taken (customer added or updated).
    pub imported: u64,
    /// Rows skipped; each is listed in `errors`.
    pub skipped: u64,
    /// Enrolments made, over all rows.
    pub enrolled: u64,
    /// Why rows were skipped, in line order.
    pub errors: Vec<CustomerRowProblem>,
}

/// Why a customer file was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum CustomerImportError {
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// Not a CSV file with an `email` and a `products` column.
    #[error("{0}")]
    BadFile(String),
    /// Store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Imports customers from CSV (`email`, `products` — part numbers separated by `;` — and
/// optionally `name`, `company`, `locale`, `source`) in one transaction. Bad rows, unknown
/// part numbers among them, are reported and skipped; the rest are added as by [`add`].
///
/// # Errors
/// A file that is not such a CSV file, or a store failure: nothing is kept then.
pub async fn import_csv(
    ctx: &Context,
    actor: &Actor,
    body: &[u8],
) -> Result<CustomerImportReport, CustomerImportError> {
    actor.authorize(Action::ManageNotices)?;
    let actor_name = actor.name();
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut reader = csv_async::AsyncReaderBuilder::new()
        .flexible(false)
        .create_reader(body);
    let header = reader
        .headers()
        .await
        .map_err(|e| CustomerImportError::BadFile(format!("line 1: {e}")))?
        .clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(email_col), Some(products_col)) = (column("email"), column("products")) else {
        return Err(CustomerImportError::BadFile(
            "line 1: the header must name an email and a products column".into(),
        ));
    };
    let cols = [
        column("name"),
        column("company"),
        column("locale"),
        column("source"),
    ];
    let mut records = Vec::new();
    let mut stream = reader.records();
    while let Some(record) = futures_util::StreamExt::next(&mut stream).await {
        let line = u64::try_from(records.len())
            .unwrap_or(u64::MAX)
            .saturating_add(2);
        records
            .push(record.map_err(|e| CustomerImportError::BadFile(format!("line {line}: {e}")))?);
    }
    let now = ctx.clock.now();
    let txn = store::begin_write(&ctx.writer).await?;
    let lists = enrolment_lists(&txn).await?;
    let mut report = CustomerImportReport::default();
    for (index, record) in records.iter().enumerate() {
        let line = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(2);
        report.rows += 1;
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let email = field(Some(email_col)).to_owned();
        let row = RawRow {
            email: &email,
            products: field(Some(products_col)),
            name: field(cols[0]),
            company: field(cols[1]),
            locale: field(cols[2]),
            source: field(cols[3]),
        };
        let result = match parse_row(&row) {
            Ok(new) => add_in(&txn, ctx, &new, &lists, &actor_name, now).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(outcome) => {
                report.imported += 1;
                report.enrolled += outcome.enrolled.len() as u64;
            }
            Err(CustomerError::Store(e)) => return Err(e.into()),
            Err(e) => {
                report.skipped += 1;
                report.errors.push(CustomerRowProblem {
                    line,
                    email,
                    code: row_code(&e),
                    error: e.to_string(),
                });
            }
        }
    }
    let detail = format!(
        "{} rows, {} imported, {} skipped",
        report.rows, report.imported, report.skipped
    );
    let change = Change {
        action: "customers.import",
        target: None,
        detail: Some(detail),
    };
    audit::append(&txn, actor, change, now).await?;
    store::commit(txn).await?;
    Ok(report)
}

struct RawRow<'a> {
    email: &'a str,
    products: &'a str,
    name: &'a str,
    company: &'a str,
    locale: &'a str,
    source: &'a str,
}

fn parse_row(row: &RawRow<'_>) -> Result<NewCustomer, CustomerError> {
    let fields = [
        row.email,
        row.products,
        row.name,
        row.company,
        row.locale,
        row.source,
    ];
    // Control characters break the notice feeds' XML and fool the eye; NUL breaks
    // PostgreSQL's text columns.
    let control = fields
        .iter()
        .flat_map(|f| f.chars())
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
    match control {
        Some('\0') => {
            return Err(CustomerError::Invalid(
                "the row contains a NUL character".to_owned(),
            ));
        }
        Some(c) => {
            return Err(CustomerError::Invalid(format!(
                "the row contains a control character (U+{:04X})",
                u32::from(c)
            )));
        }
        None => {}
    }
    let email =
        EmailAddress::parse(row.email).map_err(|e| CustomerError::Invalid(e.to_string()))?;
    let name =
        SubscriberName::parse(row.name).map_err(|e| CustomerError::Invalid(e.to_string()))?;
    let products = row
        .products
        .split([';', '|'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(PartNumber::parse)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CustomerError::Invalid(e.to_string()))?;
    Ok(NewCustomer {
        email,
        name,
        company: Some(row.company.to_owned()).filter(|c| !c.is_empty()),
        locale: Locale::from_tag(row.locale).unwrap_or_default(),
        products,
        source: if row.source.is_empty() {
            "import".to_owned()
        } else {
            row.source.to_owned()
        },
    })
}

fn row_code(e: &CustomerError) -> &'static str {
    match e {
        CustomerError::Invalid(_) => "invalid_field",
        CustomerError::UnknownParts(_) => "unknown_part",
        CustomerError::Refused(code) => code,
        CustomerError::Forbidden(_) => "forbidden",
        CustomerError::Store(_) => "internal",
    }
}

/// One customer on the admin list.
#[derive(Debug, Clone)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct CustomerListing {
    /// The subscriber.
    pub id: SubscriberId,
    /// Their address.
    pub email: String,
    pub company: Option<String>,
    /// Where the relation comes from.
    pub source: String,
    /// The part numbers they use.
    pub products: Vec<String>,
}

/// A page of customers older than `before`, newest first, optionally by address prefix,
/// and the cursor of the next page.
///
/// # Errors
/// Store failure.
pub async fn page(
    ctx: &Context,
    prefix: Option<&str>,
    before: Option<SubscriberId>,
    limit: u64,
) -> Result<Page<CustomerListing, SubscriberId>, StoreError> {
    use super::paging;
    let prefix = prefix.map(|p| p.trim().to_lowercase());
    let found = store::products::customers_page(
        &ctx.db,
        prefix.as_deref(),
        before,
        paging::fetch_size(limit),
    )
    .await?;
    let Page { items: rows, next } = Page::cut(found, limit, |r| r.id);
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    let people = store::subscribers::find_many(&ctx.db, &ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let products = store::products::products_of(&ctx.db, row.id).await?;
        out.push(CustomerListing {
            id: row.id,
            email: people
                .iter()
                .find(|p| p.id == row.id)
                .map(|p| p.email.as_str().to_owned())
                .unwrap_or_default(),
            company: row.company,
            source: row.source,
            products: products
                .into_iter()
                .map(|p| p.part_number.to_string())
                .collect(),
        });
    }
    Ok(Page { items: out, next })
}
