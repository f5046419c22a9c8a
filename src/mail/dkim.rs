//! DKIM signatures (RFC 6376) with relaxed/relaxed canonicalisation, by RSA-SHA256 or
//! Ed25519-SHA256 (RFC 8463), made once per message just before it leaves.
//!
//! Written here rather than taken from a crate: the maintained DKIM crate (`mail-auth`)
//! needs a newer `mail-parser` and compiler than this project's, or, in its older releases,
//! an alpha DNS resolver it cannot do without; signing needs only canonicalisation, two
//! hashes and a signature, all of which `ring` (already here for TLS) provides. Verified in
//! the tests by an independent implementation (dkimpy).

use base64::Engine as _;
use ring::{
    digest::{SHA256, digest},
    rand::SystemRandom,
    signature::{Ed25519KeyPair, KeyPair, RSA_PKCS1_SHA256, RsaKeyPair},
};
use rustls_pki_types::{PrivateKeyDer, pem::PemObject};

/// The header fields signed where present: those RFC 8058 and the mailbox providers ask for.
pub const SIGNED_HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "reply-to",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "feedback-id",
];

/// A signing key.
enum Key {
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// Signs messages for one domain and selector.
pub struct DkimSigner {
    domain: String,
    selector: String,
    key: Key,
}

impl std::fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimSigner")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl DkimSigner {
    /// A signer from a PEM private key: PKCS#8 (`PRIVATE KEY`, RSA or Ed25519) or PKCS#1
    /// (`RSA PRIVATE KEY`). RSA keys must have at least 2048 bits.
    ///
    /// # Errors
    /// The PEM holds no usable key.
    pub fn from_pem(domain: &str, selector: &str, pem: &[u8]) -> Result<Self, String> {
        let der = PrivateKeyDer::from_pem_slice(pem)
            .map_err(|e| format!("no private key in PEM form: {e}"))?;
        let key = match &der {
            PrivateKeyDer::Pkcs8(p) => {
                match Ed25519KeyPair::from_pkcs8_maybe_unchecked(p.secret_pkcs8_der()) {
                    Ok(pair) => Key::Ed25519(pair),
                    Err(_) => Key::Rsa(
                        RsaKeyPair::from_pkcs8(p.secret_pkcs8_der())
                            .map_err(|e| format!("neither an Ed25519 nor a usable RSA key: {e}"))?,
                    ),
                }
            }
            PrivateKeyDer::Pkcs1(p) => Key::Rsa(
                RsaKeyPair::from_der(p.secret_pkcs1_der())
                    .map_err(|e| format!("not a usable RSA key: {e}"))?,
            ),
            _ => return Err("an unsupported key type (use RSA or Ed25519)".to_owned()),
        };
        if let Key::Rsa(pair) = &key
            && pair.public().modulus_len() < 256
        {
            return Err("an RSA key must have at least 2048 bits".to_owned());
        }
        Ok(Self {
            domain: domain.to_ascii_lowercase(),
            selector: selector.to_owned(),
            key,
        })
    }

    /// `rsa-sha256` or `ed25519-sha256`.
    pub fn algorithm(&self) -> &'static str {
        match self.key {
            Key::Rsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        }
    }

    /// The TXT record to publish at `SELECTOR._domainkey.DOMAIN`.
    pub fn dns_record(&self) -> (String, String) {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let value = match &self.key {
            Key::Rsa(pair) => format!(
                "v=DKIM1; k=rsa; p={}",
                b64(&rsa_spki(pair.public().as_ref()))
            ),
            Key::Ed25519(pair) => {
                format!("v=DKIM1; k=ed25519; p={}", b64(pair.public_key().as_ref()))
            }
        };
        (
            format!("{}._domainkey.{}", self.selector, self.domain),
            value,
        )
    }

    /// The `DKIM-Signature` field (with its CRLF) to put in front of `message`, signed at
    /// `timestamp` (seconds since the epoch).
    ///
    /// # Errors
    /// The message has no header/body separator, or the key failed to sign.
    pub fn sign(&self, message: &[u8], timestamp: i64) -> Result<String, String> {
        let (head, body) = split(message).ok_or("a message without a body separator")?;
        let fields = header_fields(head);
        let body_hash = digest(&SHA256, &relaxed_body(body));
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        // The last instance of each name is signed (RFC 6376 §5.4.2); one each is enough
        // for the fields Bulletin writes once.
        let mut names = Vec::new();
        let mut signed = Vec::new();
        for name in SIGNED_HEADERS {
            if let Some((original, value)) = fields
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                names.push(original.to_ascii_lowercase());
                signed.extend_from_slice(relaxed_header(name, value).as_bytes());
                signed.extend_from_slice(b"\r\n");
            }
        }
        let unsigned = format!(
            "v=1; a={}; c=relaxed/relaxed; d={}; s={}; t={timestamp}; h={}; bh={}; b=",
            self.algorithm(),
            self.domain,
            self.selector,
            names.join(":"),
            b64(body_hash.as_ref()),
        );
        // The verifier canonicalises the field as it arrives, folded, with the value of b=
        // left out: so it is folded first, and what is signed is that folded text.
        let mut field = fold(&format!("DKIM-Signature: {unsigned}"));
        let value = field.split_once(':').map_or("", |(_, v)| v);
        signed.extend_from_slice(relaxed_header("dkim-signature", value).as_bytes());
        let signature = match &self.key {
            Key::Rsa(pair) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), &signed, &mut out)
                    .map_err(|_| "the RSA key failed to sign")?;
                out
            }
            Key::Ed25519(pair) => {
                // RFC 8463: the Ed25519 signature is over the SHA-256 hash of the data.
                pair.sign(digest(&SHA256, &signed).as_ref())
                    .as_ref()
                    .to_vec()
            }
        };
        append_folded(&mut field, &b64(&signature));
        field.push_str("\r\n");
        Ok(field)
    }
}

/// The kinds of key `generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RSA, 2048 bits: what every verifier reads.
    Rsa,
    /// Ed25519 (RFC 8463): short, but not read by every verifier; publish it beside an RSA
    /// key, not instead.
    Ed25519,
}

/// A new private key, PEM (PKCS#8).
///
/// # Errors
/// The system's random source failed.
pub fn generate(algorithm: Algorithm) -> Result<String, String> {
    match algorithm {
        Algorithm::Rsa => {
            use rsa::pkcs8::EncodePrivateKey as _;
            let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048)
                .map_err(|e| format!("RSA key generation failed: {e}"))?;
            let pem = key
                .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                .map_err(|e| format!("RSA key encoding failed: {e}"))?;
            Ok(pem.as_str().to_owned())
        }
        Algorithm::Ed25519 => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                .map_err(|_| "the system's random source failed".to_owned())?;
            let b64 = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
            let lines: Vec<&str> = b64
                .as_bytes()
                .chunks(64)
                .filter_map(|c| std::str::from_utf8(c).ok())
                .collect();
            Ok(format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                lines.join("\n")
            ))
        }
    }
}

/// A TXT record value as a zone file writes it: quoted strings of at most 255 characters.
pub fn zone_strings(value: &str) -> String {
    value
        .as_bytes()
        .chunks(255)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The header block and the body (after the empty line).
fn split(message: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = message.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((&message[..at + 2], &message[at + 4..]))
}

/// Each field as (name, raw value with its folding), in order.
fn header_fields(head: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push_str("\r\n");
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.to_owned(), value.to_owned()));
        }
    }
    fields
}

/// Relaxed header canonicalisation (RFC 6376 §3.4.2), without the final CRLF.
fn relaxed_header(name: &str, value: &str) -> String {
    let unfolded = value.replace("\r\n", "");
    let mut out = String::with_capacity(name.len() + unfolded.len() + 1);
    out.push_str(&name.trim().to_ascii_lowercase());
    out.push(':');
    let mut space = false;
    for c in unfolded.trim_matches([' ', '\t']).chars() {
        if c == ' ' || c == '\t' {
            space = true;
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Relaxed body canonicalisation (RFC 6376 §3.4.4): runs of white space made one space,
/// white space at line ends and empty lines at the end removed; a non-empty body ends in
/// CRLF.
fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = body
        .split(|b| *b == b'\n')
        .map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let mut out = Vec::with_capacity(line.len());
            let mut space = false;
            for &b in line {
                if b == b' ' || b == b'\t' {
                    space = true;
                } else {
                    if space {
                        out.push(b' ');
                        space = false;
                    }
                    out.push(b);
                }
            }
            out
        })
        .collect();
    while lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    let mut out = Vec::with_capacity(body.len());
    for line in lines {
        out.extend_from_slice(&line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Folds a long field after its `; ` separators, lines of at most 78 characters where the
/// parts allow (a part longer than a line is cut only where it may take white space: the
/// base64 of bh=); no final CRLF.
fn fold(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + field.len() / 70 * 3);
    for (i, part) in field.split_inclusive("; ").enumerate() {
        if i > 0 && line_length(&out) + part.len() > 78 {
            out.push_str("\r\n\t");
        }
        if part.starts_with("bh=") {
            append_folded(&mut out, part);
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Appends `text` (base64, in which white space is ignored) to `field`, breaking lines at 78
/// characters.
fn append_folded(field: &mut String, text: &str) {
    let mut rest = text;
    while !rest.is_empty() {
        let room = 78usize.saturating_sub(line_length(field));
        if room == 0 {
            field.push_str("\r\n\t");
            continue;
        }
        // Base64 and tag text are ASCII, so any index is a character boundary.
        let (head, tail) = rest.split_at(room.min(rest.len()));
        field.push_str(head);
        rest = tail;
    }
}

/// The length of the last line of `text`.
fn line_length(text: &str) -> usize {
    text.rsplit("\r\n").next().map_or(0, str::len)
}

/// An RSA public key (PKCS#1 `RSAPublicKey`) wrapped as a SubjectPublicKeyInfo, the form
/// DNS records publish.
fn rsa_spki(rsa_public_key: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption, NULL }.
    const ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bit_string = vec![0x00];
    bit_string.extend_from_slice(rsa_public_key);
    let bits = der(0x03, &bit_string);
    der(0x30, &[ALGORITHM, &bits].concat())
}

/// One DER element: tag, length, contents.
fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(contents);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_publish() {
        for algorithm in [Algorithm::Ed25519, Algorithm::Rsa] {
            let pem = generate(algorithm).unwrap();
            let signer = DkimSigner::from_pem("example.com", "s1", pem.as_bytes()).unwrap();
            let (name, value) = signer.dns_record();
            assert_eq!(name, "s1._domainkey.example.com");
            assert!(value.starts_with("v=DKIM1; k="), "{value}");
            let field = signer
                .sign(b"From: a@example.com\r\nSubject: x\r\n\r\nHello\r\n", 1)
                .unwrap();
            assert!(field.starts_with("DKIM-Signature: v=1;"), "{field}");
            assert!(zone_strings(&value).split("\" \"").all(|s| s.len() <= 257));
        }
    }

    #[test]
    fn relaxed_canonicalisation_follows_rfc_6376() {
        // RFC 6376 §3.4.6, example: the relaxed forms of its two header fields and body.
        assert_eq!(relaxed_header("A", " X\r\n"), "a:X");
        assert_eq!(relaxed_header("B ", " Y\t\r\n\tZ  "), "b:Y Z");
        assert_eq!(relaxed_body(b" C \r\nD \t E\r\n\r\n\r\n"), b" C\r\nD E\r\n");
        assert_eq!(relaxed_body(b""), b"");
        assert_eq!(relaxed_body(b"\r\n\r\n"), b"");
        assert_eq!(relaxed_body(b"no newline"), b"no newline\r\n");
    }

    #[test]
    fn folded_lines_stay_short_and_unfold_to_the_original() {
        let long = format!(
            "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=bulletin; h=from:to:subject; bh={}; b=",
            "B".repeat(44)
        );
        let mut folded = fold(&long);
        append_folded(&mut folded, &"A".repeat(344));
        assert!(folded.split("\r\n").all(|l| l.len() <= 78), "{folded}");
        let unfolded = folded.replace("\r\n\t", "");
        assert_eq!(unfolded, format!("{long}{}", "A".repeat(344)));
    }
}
