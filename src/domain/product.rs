//! Products and part numbers: what customers use, and so the targeting base of notices.

use super::ProductId;

/// A part number as the supplier writes it (`LM317-T`, `ABC/123.4`): 1 to 100 characters,
/// letters, digits and `-_./+#`, case kept, surrounding space trimmed.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct PartNumber(String);

impl TryFrom<String> for PartNumber {
    type Error = ProductError;

    fn try_from(raw: String) -> Result<Self, ProductError> {
        Self::parse(&raw)
    }
}

impl From<PartNumber> for String {
    fn from(p: PartNumber) -> String {
        p.0
    }
}

/// Why a product was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    /// The part number breaks the rule.
    #[error("part number {0:?} must be 1 to 100 letters, digits or -_./+#")]
    BadPartNumber(String),
    /// The name or product line is empty or too long.
    #[error("{0} must be 1 to {1} characters")]
    BadText(&'static str, usize),
}

impl PartNumber {
    /// Parses a part number.
    ///
    /// # Errors
    /// Empty, too long, or a character outside the allowed set.
    pub fn parse(raw: &str) -> Result<Self, ProductError> {
        let trimmed = raw.trim();
        let ok = !trimmed.is_empty()
            && trimmed.chars().count() <= 100
            && trimmed
                .chars()
                .all(|c| c.is_alphanumeric() || "-_./+#".contains(c));
        if ok {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(ProductError::BadPartNumber(raw.chars().take(120).collect()))
        }
    }

    /// The part number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PartNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A product.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Product {
    pub id: ProductId,
    /// Its part number (unique).
    pub part_number: PartNumber,
    /// Its display name.
    pub name: String,
    /// The product line it belongs to (one Atom feed per line).
    pub product_line: String,
}

impl Product {
    /// Checks the name and product line.
    ///
    /// # Errors
    /// An empty or over-long name or product line.
    pub fn validate(&self) -> Result<(), ProductError> {
        let name = self.name.trim().chars().count();
        if name == 0 || name > 200 {
            return Err(ProductError::BadText("name", 200));
        }
        if !is_product_line(&self.product_line) {
            return Err(ProductError::BadText(
                "product_line (lower-case letters, digits and -)",
                100,
            ));
        }
        Ok(())
    }
}

/// Whether `line` is a usable product-line key: it appears in feed URLs, so lower-case
/// letters, digits and `-`, 1 to 100 characters.
pub fn is_product_line(line: &str) -> bool {
    !line.is_empty()
        && line.len() <= 100
        && line
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_numbers_are_trimmed_and_checked() {
        assert_eq!(PartNumber::parse(" LM317-T ").unwrap().as_str(), "LM317-T");
        assert!(PartNumber::parse("AB/12.3+#_x").is_ok());
        assert!(PartNumber::parse("").is_err());
        assert!(PartNumber::parse("A B").is_err());
        assert!(PartNumber::parse("<script>").is_err());
        assert!(PartNumber::parse(&"x".repeat(101)).is_err());
    }

    #[test]
    fn product_lines_are_url_safe_keys() {
        assert!(is_product_line("power-ics"));
        assert!(!is_product_line("Power ICs"));
        assert!(!is_product_line(""));
    }
}
