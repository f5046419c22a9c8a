//! The public URLs that e-mails link to; their paths are part of the public contract.

use url::Url;

use crate::{config::join_url, signing::SignedToken};

/// Builds absolute link URLs below `http.public_url`.
#[derive(Debug, Clone)]
pub struct Links {
    base: Url,
}

impl Links {
    /// Links below `base`.
    pub fn new(base: Url) -> Self {
        Self { base }
    }

    /// The double-opt-in confirmation page.
    pub fn confirm(&self, token: &SignedToken) -> Url {
        join_url(&self.base, &format!("confirm/{token}"))
    }

    /// The unsubscribe page and RFC 8058 one-click endpoint.
    pub fn unsubscribe(&self, token: &SignedToken) -> Url {
        join_url(&self.base, &format!("unsubscribe/{token}"))
    }

    /// The preferences page.
    pub fn preferences(&self, token: &SignedToken) -> Url {
        join_url(&self.base, &format!("preferences/{token}"))
    }

    /// A person's own data page (short-lived).
    pub fn privacy(&self, token: &SignedToken) -> Url {
        join_url(&self.base, &format!("privacy/{token}"))
    }

    /// The page that confirms (or refuses) a new address.
    pub fn address_change(&self, token: &SignedToken) -> Url {
        join_url(&self.base, &format!("privacy/address/{token}"))
    }

    /// The objection page of a notice and its RFC 8058 one-click endpoint.
    pub fn object(&self, token: &SignedToken) -> Url {
        join_url(&self.base, &format!("object/{token}"))
    }

    /// The acknowledgement page of a notice.
    pub fn acknowledge(&self, token: &SignedToken) -> Url {
        join_url(&self.base, &format!("acknowledge/{token}"))
    }

    /// A notice's archive page; `token` when the archive is not public.
    pub fn archive(&self, notice: &str, token: Option<&SignedToken>) -> Url {
        let mut url = join_url(&self.base, &format!("notices/{notice}"));
        if let Some(token) = token {
            url.query_pairs_mut().append_pair("key", token.as_str());
        }
        url
    }
}
