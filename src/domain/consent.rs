//! Consent ledger vocabulary: actions, legal bases and the consent text shown.

use sha2::{Digest, Sha256};

/// The GDPR legal basis of processing for a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegalBasis {
    /// Art. 6(1)(a): the person consented (newsletters).
    Consent,
    /// Art. 6(1)(f): legitimate interest (notices to existing customers).
    LegitimateInterest,
}

super::text_enum!(LegalBasis, "legal_basis", {
    Consent => "consent",
    LegitimateInterest => "legitimate_interest",
});

/// What happened, as recorded in the append-only consent ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentAction {
    /// A subscription was requested (signup form), awaiting confirmation.
    Requested,
    /// The address owner confirmed the subscription (double opt-in).
    Confirmed,
    /// The person withdrew consent or cancelled a pending request.
    Unsubscribed,
    /// The person objected to legitimate-interest mail (Art. 21).
    Objected,
    /// A customer was enrolled on the basis of legitimate interest.
    Enrolled,
    /// A subscription was imported with external proof of consent.
    Imported,
    /// Personal data was corrected (Art. 16).
    Rectified,
    /// The person was shown their data (Art. 15).
    Accessed,
    /// Personal data was exported (Art. 15/20).
    Exported,
    /// Processing was restricted (Art. 18).
    Restricted,
    /// A restriction of processing was lifted (Art. 18(3)).
    RestrictionLifted,
    /// The operator blocked the person: nothing is sent, nothing is added.
    Blocked,
    /// The operator lifted a block.
    Unblocked,
    /// Personal data was erased (Art. 17).
    Erased,
    /// A record was deleted by the retention policy (Art. 5(1)(e)).
    Purged,
}

super::text_enum!(ConsentAction, "action", {
    Requested => "requested",
    Confirmed => "confirmed",
    Unsubscribed => "unsubscribed",
    Objected => "objected",
    Enrolled => "enrolled",
    Imported => "imported",
    Rectified => "rectified",
    Accessed => "accessed",
    Exported => "exported",
    Restricted => "restricted",
    RestrictionLifted => "restriction_lifted",
    Blocked => "blocked",
    Unblocked => "unblocked",
    Erased => "erased",
    Purged => "purged",
});

/// The exact consent text a person was shown, identified by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentText {
    body: String,
    hash: String,
}

impl ConsentText {
    /// Wraps a text and computes its hash.
    pub fn new(body: impl Into<String>) -> Self {
        let body = body.into();
        let hash = hex::encode(Sha256::digest(body.as_bytes()));
        Self { body, hash }
    }

    /// The text itself.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Lower-case hex SHA-256 of the text: what the ledger stores.
    pub fn hash(&self) -> &str {
        &self.hash
    }
}

/// One entry of the append-only consent ledger.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ConsentEvent {
    pub id: super::ConsentEventId,
    /// Whose consent.
    pub subscriber_id: super::SubscriberId,
    /// For which list, if list-specific.
    pub list_id: Option<super::ListId>,
    /// What happened.
    pub action: ConsentAction,
    /// The legal basis in force.
    pub legal_basis: LegalBasis,
    /// SHA-256 of the consent text shown, if one was.
    pub consent_text_hash: Option<String>,
    /// The client network (IPv4 /24, IPv6 /48), never the full address.
    pub ip_anon: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
    /// Who acted: `subscriber`, `api:<token name>`, `system`, …
    pub actor: String,
    /// Through what: `form`, `email_link`, `one_click`, `mailto`, `preferences`, `api`, …
    pub source: String,
    /// When.
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// The original evidence of consent brought along (e.g. `consent_at` and
    /// `consent_source` of an import row), as a JSON object.
    pub evidence: Option<serde_json::Value>,
    /// After erasure: the keyed hash of the person's address, so their consent history can
    /// still be shown for that address without keeping it.
    pub subject_hash: Option<String>,
    /// The campaign whose unsubscribe link the person left by, if they did.
    pub campaign_id: Option<super::CampaignId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_text_hash_is_sha256_hex() {
        let t = ConsentText::new("abc");
        assert_eq!(
            t.hash(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn actions_round_trip_through_text() {
        for a in [
            ConsentAction::Requested,
            ConsentAction::Erased,
            ConsentAction::Purged,
        ] {
            assert_eq!(ConsentAction::parse(a.as_str()), Ok(a));
        }
        assert!(ConsentAction::parse("nope").is_err());
    }
}
