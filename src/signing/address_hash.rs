//! `AddressHasher`: a keyed hash of a normalised address, so that suppressions and
//! pseudonymised ledger entries can recognise an address without storing it.

use super::SigningKey;
use crate::domain::EmailAddress;

/// Domain separation: these hashes can never collide with link-token MACs.
const DOMAIN: &[u8] = b"bulletin-address-hash:";

/// Domain separation of the delivery references.
const REF_DOMAIN: &[u8] = b"bulletin-delivery-ref:";

/// Domain separation of the unsubscribe references.
const UNSUBSCRIBE_DOMAIN: &[u8] = b"bulletin-unsubscribe-ref:";

/// Domain separation of the rate-limit keys.
const LIMIT_DOMAIN: &[u8] = b"bulletin-rate-limit:";

/// HMAC-SHA-256 of addresses under a key that must never change (changing it forgets every
/// suppression).
#[derive(Clone, Debug)]
pub struct AddressHasher {
    key: SigningKey,
}

impl AddressHasher {
    /// A hasher with this key.
    pub fn new(key: SigningKey) -> Self {
        Self { key }
    }

    /// Lower-case hex of the keyed hash of `email`.
    pub fn hash(&self, email: &EmailAddress) -> String {
        let mut payload = Vec::with_capacity(DOMAIN.len() + email.as_str().len());
        payload.extend_from_slice(DOMAIN);
        payload.extend_from_slice(email.as_str().as_bytes());
        hex::encode(self.key.tag(&payload))
    }

    /// The signed reference of a delivery, `<32 hex id>-<16 hex tag>`: what the envelope
    /// sender (VERP) and `X-Bulletin-Ref` carry, so that a bounce or complaint names its
    /// delivery and nobody can name another. Short enough for an address's local part.
    pub fn delivery_ref(&self, id: uuid::Uuid) -> String {
        self.reference(REF_DOMAIN, id)
    }

    /// The delivery a reference names, if its tag is right (compared in constant time).
    pub fn check_delivery_ref(&self, reference: &str) -> Option<uuid::Uuid> {
        self.check_reference(REF_DOMAIN, reference)
    }

    /// The signed reference of a delivery's `mailto:` unsubscribe address (RFC 2369), shaped
    /// like [`Self::delivery_ref`] but under its own tag, so that a bounce reference never
    /// unsubscribes anyone.
    pub fn unsubscribe_ref(&self, id: uuid::Uuid) -> String {
        self.reference(UNSUBSCRIBE_DOMAIN, id)
    }

    /// The delivery an unsubscribe reference names, if its tag is right.
    pub fn check_unsubscribe_ref(&self, reference: &str) -> Option<uuid::Uuid> {
        self.check_reference(UNSUBSCRIBE_DOMAIN, reference)
    }

    fn reference(&self, domain: &[u8], id: uuid::Uuid) -> String {
        let id = id.simple().to_string();
        format!("{id}-{}", self.ref_tag(domain, &id))
    }

    /// Lower-case input too: mail systems may change the case of a local part.
    fn check_reference(&self, domain: &[u8], reference: &str) -> Option<uuid::Uuid> {
        use subtle::ConstantTimeEq;
        let (id, tag) = reference.trim().split_once('-')?;
        if id.len() != 32 || tag.len() != 16 {
            return None;
        }
        let id = id.to_ascii_lowercase();
        let expected = self.ref_tag(domain, &id);
        if !bool::from(
            expected
                .as_bytes()
                .ct_eq(tag.to_ascii_lowercase().as_bytes()),
        ) {
            return None;
        }
        uuid::Uuid::parse_str(&id).ok()
    }

    fn ref_tag(&self, domain: &[u8], id: &str) -> String {
        let payload = [domain, id.as_bytes()].concat();
        hex::encode(&self.key.tag(&payload)[..8])
    }

    /// Hex of the keyed hash of what a rate limit counts (a network, an address, an account),
    /// so that the limits table never holds the text itself.
    pub fn hash_limit_key(&self, scope: &str, key: &str) -> String {
        let payload = [LIMIT_DOMAIN, scope.as_bytes(), b"\0", key.as_bytes()].concat();
        hex::encode(&self.key.tag(&payload)[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_reference_checks_only_with_its_own_tag_and_key() {
        let a = AddressHasher::new(SigningKey::generate());
        let b = AddressHasher::new(SigningKey::generate());
        let id = uuid::Uuid::now_v7();
        let reference = a.delivery_ref(id);
        assert_eq!(reference.len(), 49);
        assert_eq!(a.check_delivery_ref(&reference), Some(id));
        assert_eq!(a.check_delivery_ref(&reference.to_uppercase()), Some(id));
        assert_eq!(b.check_delivery_ref(&reference), None);
        let other = a.delivery_ref(uuid::Uuid::now_v7());
        let forged = format!("{}-{}", &other[..32], &reference[33..]);
        assert_eq!(a.check_delivery_ref(&forged), None);
        for junk in ["", "-", "x-y", &reference[..48]] {
            assert_eq!(a.check_delivery_ref(junk), None);
        }
    }

    #[test]
    fn an_unsubscribe_reference_is_never_a_delivery_reference() {
        let a = AddressHasher::new(SigningKey::generate());
        let id = uuid::Uuid::now_v7();
        let unsubscribe = a.unsubscribe_ref(id);
        assert_eq!(unsubscribe.len(), 49);
        assert_eq!(a.check_unsubscribe_ref(&unsubscribe), Some(id));
        assert_eq!(
            a.check_unsubscribe_ref(&unsubscribe.to_uppercase()),
            Some(id)
        );
        assert_eq!(a.check_delivery_ref(&unsubscribe), None);
        assert_eq!(a.check_unsubscribe_ref(&a.delivery_ref(id)), None);
    }

    #[test]
    fn the_same_address_hashes_the_same_and_keys_differ() {
        let a = AddressHasher::new(SigningKey::generate());
        let b = AddressHasher::new(SigningKey::generate());
        let jane = EmailAddress::parse("Jane@Example.com").unwrap();
        let same = EmailAddress::parse("jane@example.com").unwrap();
        assert_eq!(a.hash(&jane), a.hash(&same));
        assert_eq!(a.hash(&jane).len(), 64);
        assert_ne!(a.hash(&jane), b.hash(&jane));
        assert!(!a.hash(&jane).contains("jane"));
    }
}
