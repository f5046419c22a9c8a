//! What a refusal says about an address, by its enhanced status code (RFC 3463): the same
//! rules for a reply during the SMTP transaction and for a later delivery status
//! notification.

use std::fmt;

/// An enhanced status code `class.subject.detail`, e.g. `5.1.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnhancedStatus {
    /// 2 (success), 4 (persistent transient) or 5 (permanent).
    pub class: u8,
    /// What the failure is about: 1 address, 2 mailbox, 3 mail system, 4 network and
    /// routing, 5 protocol, 6 content, 7 security or policy.
    pub subject: u16,
    /// The detail within the subject.
    pub detail: u16,
}

impl EnhancedStatus {
    /// Parses `class.subject.detail` (each part 1–3 digits; class 2, 4 or 5).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().splitn(3, '.');
        let number = |part: Option<&str>| -> Option<u16> {
            let part = part?;
            if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let class = u8::try_from(number(parts.next())?).ok()?;
        let subject = number(parts.next())?;
        let detail = number(parts.next())?;
        matches!(class, 2 | 4 | 5).then_some(Self {
            class,
            subject,
            detail,
        })
    }

    /// The code at the start of a reply's text ("5.1.1 <x>: User unknown"), if any.
    pub fn in_reply(text: &str) -> Option<Self> {
        Self::parse(text.split_whitespace().next()?)
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// What a refusal says about the address it was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bounce {
    /// The address does not exist or is disabled: never mail it again.
    Hard,
    /// Perhaps temporary (a full mailbox, a 4xx): suppressed only after several in a row.
    Soft,
    /// Policy, reputation, network or protocol: nothing about the address. Never
    /// suppresses; many in a row pause a campaign.
    Blocked,
}

super::text_enum!(Bounce, "bounce", {
    Hard => "hard",
    Soft => "soft",
    Blocked => "blocked",
});

/// Classifies a failure by its enhanced status code when there is one: `5.1.x` and `5.2.1`
/// hard, `4.x.x` and `5.2.2` soft, anything else blocked. Without one, a reply `code` of
/// 550, 551 or 553 to `RCPT` (`at_rcpt`) is hard, another 5xx blocked and a 4xx soft.
pub fn classify(code: Option<u16>, status: Option<EnhancedStatus>, at_rcpt: bool) -> Bounce {
    match status {
        Some(s) if s.class == 4 => Bounce::Soft,
        Some(EnhancedStatus {
            class: 5,
            subject: 1,
            ..
        }) => Bounce::Hard,
        Some(EnhancedStatus {
            class: 5,
            subject: 2,
            detail: 1,
        }) => Bounce::Hard,
        Some(EnhancedStatus {
            class: 5,
            subject: 2,
            detail: 2,
        }) => Bounce::Soft,
        Some(_) => Bounce::Blocked,
        None => match code {
            Some(550 | 551 | 553) if at_rcpt => Bounce::Hard,
            Some(400..=499) => Bounce::Soft,
            _ => Bounce::Blocked,
        },
    }
}

/// Whether a bounce suppresses its address: a hard one always, a soft one when it makes
/// `soft_limit` in a row (`soft_in_a_row` counts it), a blocked one never.
pub fn suppression_for(
    bounce: Bounce,
    soft_in_a_row: u32,
    soft_limit: u32,
) -> Option<super::SuppressionReason> {
    match bounce {
        Bounce::Hard => Some(super::SuppressionReason::HardBounce),
        Bounce::Soft if soft_in_a_row >= soft_limit => {
            Some(super::SuppressionReason::SoftBounceLimit)
        }
        Bounce::Soft | Bounce::Blocked => None,
    }
}

/// A campaign's rates that make it pause itself, and the least it must have delivered first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PauseRates {
    /// Complaints per delivered message (0.003: Gmail's and Yahoo's 0.3 %).
    pub complaint_rate: f64,
    /// Hard bounces per delivered message.
    pub bounce_rate: f64,
    /// Delivered messages before the rates count.
    pub min_delivered: u64,
}

/// Why a campaign should pause itself, if its complaint or hard-bounce rate is too high.
pub fn pause_for_rates(
    delivered: u64,
    complaints: u64,
    bounced: u64,
    rates: PauseRates,
) -> Option<String> {
    if delivered < rates.min_delivered || delivered == 0 {
        return None;
    }
    let per = |n: u64| n as f64 / delivered as f64;
    if per(complaints) > rates.complaint_rate {
        return Some(format!(
            "paused: {complaints} complaints in {delivered} delivered ({:.2} %, above {:.2} %)",
            per(complaints) * 100.0,
            rates.complaint_rate * 100.0
        ));
    }
    if per(bounced) > rates.bounce_rate {
        return Some(format!(
            "paused: {bounced} hard bounces in {delivered} delivered ({:.2} %, above {:.2} %)",
            per(bounced) * 100.0,
            rates.bounce_rate * 100.0
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str, at_rcpt: bool) -> Bounce {
        classify(Some(code), EnhancedStatus::in_reply(text), at_rcpt)
    }

    #[test]
    fn the_enhanced_code_decides_and_a_policy_refusal_never_bounces() {
        assert_eq!(reply(550, "5.1.1 <a@b>: User unknown", true), Bounce::Hard);
        assert_eq!(
            reply(550, "5.1.10 RESOLVER.ADR.RecipientNotFound", true),
            Bounce::Hard
        );
        assert_eq!(reply(550, "5.2.1 Mailbox disabled", false), Bounce::Hard);
        assert_eq!(reply(552, "5.2.2 Mailbox full", true), Bounce::Soft);
        assert_eq!(reply(450, "4.2.0 Greylisted", true), Bounce::Soft);
        assert_eq!(reply(550, "5.7.1 Relaying denied", true), Bounce::Blocked);
        assert_eq!(
            reply(554, "5.7.1 Message rejected as spam", false),
            Bounce::Blocked
        );
        assert_eq!(
            reply(550, "5.4.1 Recipient address rejected: Access denied", true),
            Bounce::Blocked
        );
        assert_eq!(reply(552, "5.3.4 Message too big", false), Bounce::Blocked);
    }

    #[test]
    fn without_an_enhanced_code_only_550_551_553_to_rcpt_are_hard() {
        assert_eq!(reply(550, "No such user here", true), Bounce::Hard);
        assert_eq!(reply(553, "mailbox name not allowed", true), Bounce::Hard);
        assert_eq!(reply(550, "rejected", false), Bounce::Blocked);
        assert_eq!(reply(554, "Transaction failed", true), Bounce::Blocked);
        assert_eq!(reply(421, "try later", true), Bounce::Soft);
    }

    #[test]
    fn malformed_codes_are_not_codes() {
        for text in [
            "5.1", "5.1.1.1x", "3.1.1", "5..1", "a.b.c", "5.1234.1", "", "-5.1.1",
        ] {
            assert_eq!(EnhancedStatus::parse(text), None, "{text}");
        }
        assert_eq!(
            EnhancedStatus::parse("5.1.1").map(|s| s.to_string()),
            Some("5.1.1".to_owned())
        );
    }

    #[test]
    fn rates_pause_only_after_enough_deliveries_and_above_the_threshold() {
        let rates = PauseRates {
            complaint_rate: 0.003,
            bounce_rate: 0.05,
            min_delivered: 500,
        };
        assert_eq!(pause_for_rates(499, 100, 100, rates), None, "too few yet");
        assert_eq!(
            pause_for_rates(1000, 3, 50, rates),
            None,
            "at the thresholds"
        );
        assert!(
            pause_for_rates(1000, 4, 0, rates)
                .unwrap()
                .contains("complaints")
        );
        assert!(
            pause_for_rates(1000, 0, 51, rates)
                .unwrap()
                .contains("hard bounces")
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_not_without_panic(text in "\\PC{0,40}") {
            let _ = EnhancedStatus::in_reply(&text);
        }
    }
}
