//! `AddressHasher`: a keyed hash of a normalised address, so that suppressions and
//! pseudonymised ledger entries can recognise an address without storing it.

use super::SigningKey;
use crate::domain::EmailAddress;

/// Domain separation: these hashes can never collide with link-token MACs.
const DOMAIN: &[u8] = b"bulletin-address-hash:";

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
