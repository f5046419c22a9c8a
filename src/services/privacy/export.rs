//! The personal-data export (GDPR Art. 20): one JSON document with a versioned JSON Schema,
//! and the same data as CSV (one `section,item,field,value` row per value).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::PersonalData;
use crate::{domain::privacy::EXPORT_SCHEMA_VERSION, services::csv_export::CsvTable};

/// The JSON Schema (draft 2020-12) of export version [`EXPORT_SCHEMA_VERSION`], served at
/// `/privacy/export-schema/v1.json`.
pub const EXPORT_SCHEMA: &str = include_str!("../../../schemas/privacy-export.v1.schema.json");

/// The export document. Field names and meanings are a public contract: change them only
/// with a new `schema_version` and schema file.
#[derive(Debug, Clone, Serialize)]
pub struct ExportDocument {
    /// Where the schema of this document is published.
    #[serde(rename = "$schema")]
    pub schema: String,
    /// The version of the document's layout.
    pub schema_version: u32,
    /// When it was made.
    pub generated_at: DateTime<Utc>,
    /// The organisation that holds the data.
    pub controller: String,
    /// The profile.
    pub subscriber: ExportSubscriber,
    /// Subscriptions with their list and legal basis.
    pub subscriptions: Vec<ExportSubscription>,
    /// The consent ledger, oldest first.
    pub consent_events: Vec<ExportEvent>,
    /// Messages sent or queued, oldest first.
    pub messages: Vec<ExportMessage>,
    /// A new address waiting for confirmation.
    pub pending_address_change: Option<ExportAddressChange>,
    /// Data-subject requests and how they were answered.
    pub privacy_requests: Vec<ExportRequest>,
    /// Part numbers of the products the person uses as a customer.
    pub products: Vec<String>,
}

/// The profile.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSubscriber {
    pub id: String,
    /// Address.
    pub email: String,
    /// Name (may be empty).
    pub name: String,
    /// Language.
    pub locale: String,
    /// `active`, `blocked` or `restricted`.
    pub status: String,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// The organisation's attributes of the person.
    pub attributes: serde_json::Value,
}

/// A list as named in the export.
#[derive(Debug, Clone, Serialize)]
pub struct ExportList {
    pub slug: String,
    pub name: String,
    /// `newsletter`, `tech_news` or `product_notices`.
    pub kind: String,
    /// `consent` or `legitimate_interest`.
    pub legal_basis: String,
}

/// One subscription.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSubscription {
    pub list: ExportList,
    /// `pending`, `confirmed` or `unsubscribed`.
    pub status: String,
    /// How it came about (`form`, `api`, `import`, …).
    pub source: String,
    /// Last request.
    pub requested_at: Option<DateTime<Utc>>,
    /// Confirmation.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Leaving.
    pub unsubscribed_at: Option<DateTime<Utc>>,
}

/// One ledger entry.
#[derive(Debug, Clone, Serialize)]
pub struct ExportEvent {
    /// The list's slug, for list entries.
    pub list: Option<String>,
    /// What happened.
    pub action: String,
    /// The legal basis in force.
    pub legal_basis: String,
    /// SHA-256 of the consent text shown.
    pub consent_text_hash: Option<String>,
    /// The client network.
    pub ip_anon: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// Who acted.
    pub actor: String,
    /// Through what.
    pub source: String,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Evidence brought along (an import's proof, the fields corrected).
    pub evidence: Option<serde_json::Value>,
}

/// One message.
#[derive(Debug, Clone, Serialize)]
pub struct ExportMessage {
    /// `confirmation`, `welcome`, `campaign`, `privacy_link`, `address_change`.
    pub kind: String,
    /// The campaign's name, for campaigns.
    pub campaign: Option<String>,
    /// `queued`, `sending`, `sent`, `deferred`, `failed`, `suppressed`.
    pub status: String,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
}

/// A pending address change.
#[derive(Debug, Clone, Serialize)]
pub struct ExportAddressChange {
    /// The new address.
    pub new_email: String,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// When its link expires.
    pub expires_at: DateTime<Utc>,
}

/// One data-subject request.
#[derive(Debug, Clone, Serialize)]
pub struct ExportRequest {
    /// Which right.
    pub kind: String,
    /// How it arrived.
    pub channel: String,
    /// `open`, `completed` or `rejected`.
    pub status: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Its deadline.
    pub due_at: DateTime<Utc>,
    /// When it was answered.
    pub closed_at: Option<DateTime<Utc>>,
}

impl ExportDocument {
    /// The export of `data`, made at `now`; `schema_url` is where the schema is published.
    pub fn new(
        data: &PersonalData,
        controller: &str,
        schema_url: String,
        now: DateTime<Utc>,
    ) -> Self {
        let s = &data.subscriber;
        Self {
            schema: schema_url,
            schema_version: EXPORT_SCHEMA_VERSION,
            generated_at: now,
            controller: controller.to_owned(),
            subscriber: ExportSubscriber {
                id: s.id.to_string(),
                email: s.email.as_str().to_owned(),
                name: s.name.as_str().to_owned(),
                locale: s.locale.as_str().to_owned(),
                status: s.status.as_str().to_owned(),
                created_at: s.created_at,
                attributes: s.attributes.to_json(),
            },
            subscriptions: data
                .subscriptions
                .iter()
                .map(|(sub, list)| ExportSubscription {
                    list: ExportList {
                        slug: list.def.slug.as_str().to_owned(),
                        name: list.def.name.clone(),
                        kind: list.def.kind.as_str().to_owned(),
                        legal_basis: list.def.legal_basis.as_str().to_owned(),
                    },
                    status: sub.status.as_str().to_owned(),
                    source: sub.source.clone(),
                    requested_at: sub.requested_at,
                    confirmed_at: sub.confirmed_at,
                    unsubscribed_at: sub.unsubscribed_at,
                })
                .collect(),
            consent_events: data
                .events
                .iter()
                .map(|e| ExportEvent {
                    list: e
                        .list_id
                        .and_then(|id| data.list(id))
                        .map(|l| l.def.slug.as_str().to_owned()),
                    action: e.action.as_str().to_owned(),
                    legal_basis: e.legal_basis.as_str().to_owned(),
                    consent_text_hash: e.consent_text_hash.clone(),
                    ip_anon: e.ip_anon.clone(),
                    user_agent: e.user_agent.clone(),
                    actor: e.actor.clone(),
                    source: e.source.clone(),
                    occurred_at: e.occurred_at,
                    evidence: e.evidence.clone(),
                })
                .collect(),
            messages: data
                .messages
                .iter()
                .map(|m| ExportMessage {
                    kind: m.kind.as_str().to_owned(),
                    campaign: m.campaign.clone(),
                    status: m.status.as_str().to_owned(),
                    queued_at: m.queued_at,
                })
                .collect(),
            pending_address_change: data.address_change.as_ref().map(|c| ExportAddressChange {
                new_email: c.new_email.as_str().to_owned(),
                requested_at: c.created_at,
                expires_at: c.expires_at,
            }),
            privacy_requests: data
                .requests
                .iter()
                .map(|r| ExportRequest {
                    kind: r.kind.as_str().to_owned(),
                    channel: r.channel.as_str().to_owned(),
                    status: r.status.as_str().to_owned(),
                    received_at: r.received_at,
                    due_at: r.due_at,
                    closed_at: r.closed_at,
                })
                .collect(),
            products: data
                .products
                .iter()
                .map(|p| p.part_number.as_str().to_owned())
                .collect(),
        }
    }
}

/// The export as CSV: header `section,item,field,value`, then one row per value of the JSON
/// document (`item` numbers the entries of a section from 1), written by [`CsvTable`]
/// (RFC 4180 quoting, CRLF lines, formulas defused).
pub fn export_csv(document: &ExportDocument) -> String {
    let mut table = CsvTable::new(["section", "item", "field", "value"]);
    let Ok(serde_json::Value::Object(root)) = serde_json::to_value(document) else {
        return table.into_string();
    };
    for (section, value) in &root {
        match value {
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    flatten(&mut table, section, &(i + 1).to_string(), "", item);
                }
            }
            serde_json::Value::Object(_) => flatten(&mut table, section, "", "", value),
            scalar => row(&mut table, "document", "", section, scalar),
        }
    }
    table.into_string()
}

fn flatten(
    table: &mut CsvTable<4>,
    section: &str,
    item: &str,
    prefix: &str,
    value: &serde_json::Value,
) {
    match value {
        serde_json::Value::Object(fields) => {
            for (key, inner) in fields {
                let name = match prefix {
                    "" => key.clone(),
                    p => format!("{p}.{key}"),
                };
                flatten(table, section, item, &name, inner);
            }
        }
        other => row(table, section, item, prefix, other),
    }
}

fn row(table: &mut CsvTable<4>, section: &str, item: &str, field: &str, value: &serde_json::Value) {
    let text = match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    table.row([section, item, field, text.as_str()]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_values_become_dotted_fields() {
        let mut table = CsvTable::new(["section", "item", "field", "value"]);
        let value =
            serde_json::json!({"list": {"slug": "weekly"}, "status": "confirmed", "at": null});
        flatten(&mut table, "subscriptions", "1", "", &value);
        let out = table.into_string();
        assert!(
            out.contains("subscriptions,1,list.slug,weekly\r\n"),
            "{out}"
        );
        assert!(out.contains("subscriptions,1,status,confirmed\r\n"));
        assert!(out.contains("subscriptions,1,at,\r\n"));
    }

    #[test]
    fn the_schema_is_json_of_this_version() {
        let schema: serde_json::Value = serde_json::from_str(EXPORT_SCHEMA).unwrap();
        assert_eq!(
            schema["properties"]["schema_version"]["const"],
            EXPORT_SCHEMA_VERSION
        );
    }
}
