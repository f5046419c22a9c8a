//! Campaigns: what a marketer sends to lists, and the state machine of a send
//! (draft → scheduled → sending ⇄ paused → sent, or cancelled).

use chrono::{DateTime, Utc};

use super::{CampaignId, EmailAddress, ListId};

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CampaignStatus {
    /// Being written.
    Draft,
    /// Waiting for its send time.
    Scheduled,
    /// Being delivered.
    Sending,
    /// Stopped by a person or by repeated connection failures; resume continues.
    Paused,
    /// Every recipient's message is final.
    Sent,
    /// Stopped for good.
    Cancelled,
}

super::text_enum!(CampaignStatus, "status", {
    Draft => "draft",
    Scheduled => "scheduled",
    Sending => "sending",
    Paused => "paused",
    Sent => "sent",
    Cancelled => "cancelled",
});

/// How a campaign's mail looks around its text; each is a template pair per language
/// (`campaign.html`/`.txt`, `campaign_letter.html`/`.txt`) that the operator may edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CampaignLayout {
    /// A newsletter: the text in a bordered column on a grey background.
    #[default]
    Standard,
    /// A letter: the text alone on white, as a person would write it.
    Letter,
}

super::text_enum!(CampaignLayout, "layout", {
    Standard => "standard",
    Letter => "letter",
});

impl CampaignLayout {
    /// Every layout, in the order a form offers them.
    pub const ALL: [CampaignLayout; 2] = [CampaignLayout::Standard, CampaignLayout::Letter];

    /// The name of its template files, without language folder and part: `campaign_letter`.
    pub fn template(self) -> &'static str {
        match self {
            Self::Standard => "campaign",
            Self::Letter => "campaign_letter",
        }
    }
}

/// Why a campaign cannot make a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} campaign cannot be {action}")]
pub struct CampaignStateError {
    /// The current status.
    pub from: CampaignStatus,
    /// The refused move, as a past participle (`scheduled`, `paused`, …).
    pub action: &'static str,
}

impl CampaignStatus {
    fn refuse(self, action: &'static str) -> CampaignStateError {
        CampaignStateError { from: self, action }
    }

    /// Schedule (or reschedule) for a time.
    ///
    /// # Errors
    /// Anything but a draft or a scheduled campaign.
    pub fn schedule(self) -> Result<Self, CampaignStateError> {
        match self {
            Self::Draft | Self::Scheduled => Ok(Self::Scheduled),
            Self::Sending | Self::Paused | Self::Sent | Self::Cancelled => {
                Err(self.refuse("scheduled"))
            }
        }
    }

    /// Its time has come.
    ///
    /// # Errors
    /// Anything but a scheduled campaign.
    pub fn start(self) -> Result<Self, CampaignStateError> {
        match self {
            Self::Scheduled => Ok(Self::Sending),
            Self::Draft | Self::Sending | Self::Paused | Self::Sent | Self::Cancelled => {
                Err(self.refuse("started"))
            }
        }
    }

    /// Stop sending for now; repeating is harmless.
    ///
    /// # Errors
    /// A draft, sent or cancelled campaign.
    pub fn pause(self) -> Result<Self, CampaignStateError> {
        match self {
            Self::Scheduled | Self::Sending | Self::Paused => Ok(Self::Paused),
            Self::Draft | Self::Sent | Self::Cancelled => Err(self.refuse("paused")),
        }
    }

    /// Continue after a pause: back to sending if it had started, else to scheduled.
    ///
    /// # Errors
    /// Anything but a paused campaign.
    pub fn resume(self, had_started: bool) -> Result<Self, CampaignStateError> {
        match (self, had_started) {
            (Self::Paused, true) => Ok(Self::Sending),
            (Self::Paused, false) => Ok(Self::Scheduled),
            (Self::Draft | Self::Scheduled | Self::Sending | Self::Sent | Self::Cancelled, _) => {
                Err(self.refuse("resumed"))
            }
        }
    }

    /// Stop for good; repeating is harmless.
    ///
    /// # Errors
    /// A sent campaign.
    pub fn cancel(self) -> Result<Self, CampaignStateError> {
        match self {
            Self::Draft | Self::Scheduled | Self::Sending | Self::Paused | Self::Cancelled => {
                Ok(Self::Cancelled)
            }
            Self::Sent => Err(self.refuse("cancelled")),
        }
    }

    /// Whether the content may still be changed.
    pub fn is_editable(self) -> bool {
        self == Self::Draft
    }

    /// Change the content: a draft stays one, a scheduled campaign returns to draft (it is
    /// reviewed and scheduled again).
    ///
    /// # Errors
    /// A campaign that is sending, paused, sent or cancelled.
    pub fn edit(self) -> Result<Self, CampaignStateError> {
        match self {
            Self::Draft | Self::Scheduled => Ok(Self::Draft),
            Self::Sending | Self::Paused | Self::Sent | Self::Cancelled => {
                Err(self.refuse("edited"))
            }
        }
    }

    /// Delete it (only if it sent nothing, which the caller checks).
    ///
    /// # Errors
    /// Anything but a draft or a cancelled campaign.
    pub fn delete(self) -> Result<(), CampaignStateError> {
        match self {
            Self::Draft | Self::Cancelled => Ok(()),
            Self::Scheduled | Self::Sending | Self::Paused | Self::Sent => {
                Err(self.refuse("deleted"))
            }
        }
    }
}

/// A campaign as the marketer writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    /// Internal name.
    pub name: String,
    /// Subject template.
    pub subject: String,
    /// Markdown body template.
    pub body_markdown: String,
    /// Target lists.
    pub lists: Vec<ListId>,
    /// From header, if not the configured default.
    pub from: Option<String>,
    /// Where replies go (`Reply-To`); `None`: where the list's go.
    pub reply_to: Option<EmailAddress>,
    /// How the mail looks around the text.
    pub layout: CampaignLayout,
    /// Subject and body in other languages; a recipient whose language has none gets the
    /// default (`subject`, `body_markdown`).
    pub translations: std::collections::BTreeMap<super::Locale, CampaignText>,
    /// Narrows the lists' members to the people this segment selects; `None`: all of them.
    pub segment: Option<super::SegmentId>,
    /// Whether, once sent, it is published in the public archive (`/archive`) of its public
    /// lists, with placeholders for every personal value.
    pub archive: bool,
}

/// A campaign's subject and body in one language.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CampaignText {
    /// Subject template.
    pub subject: String,
    /// Markdown body template.
    pub body_markdown: String,
}

impl NewCampaign {
    /// The subject and body a recipient in `locale` gets: its translation, else the default.
    pub fn text_for(&self, locale: super::Locale) -> (&str, &str) {
        match self.translations.get(&locale) {
            Some(t) => (&t.subject, &t.body_markdown),
            None => (&self.subject, &self.body_markdown),
        }
    }
}

/// Why a campaign definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    /// A field is empty or too long.
    #[error("{0}")]
    Field(&'static str),
    /// A translation's field is empty or too long.
    #[error("translations.{locale}.{problem}")]
    Translation {
        /// Which translation.
        locale: super::Locale,
        /// What is wrong (`subject must be …`).
        problem: &'static str,
    },
}

/// The problem of a subject and body, if any: the same rules for the default and each
/// translation.
fn text_problem(subject: &str, body_markdown: &str) -> Option<&'static str> {
    let chars = subject.trim().chars().count();
    if chars == 0 || chars > 300 || subject.contains(['\r', '\n']) {
        return Some("subject must be one line of 1 to 300 characters");
    }
    if body_markdown.trim().is_empty() || body_markdown.len() > MAX_BODY_BYTES {
        return Some("body_markdown must be 1 byte to 1 MB");
    }
    None
}

/// Largest Markdown body accepted.
pub const MAX_BODY_BYTES: usize = 1_000_000;

impl NewCampaign {
    /// Checks lengths and that there is a target.
    ///
    /// # Errors
    /// The first field that breaks a rule.
    pub fn validate(&self) -> Result<(), CampaignError> {
        let name = self.name.trim().chars().count();
        if name == 0 || name > 200 {
            return Err(CampaignError::Field("name must be 1 to 200 characters"));
        }
        let subject = self.subject.trim().chars().count();
        if subject == 0 || subject > 300 || self.subject.contains(['\r', '\n']) {
            return Err(CampaignError::Field(
                "subject must be one line of 1 to 300 characters",
            ));
        }
        if self.body_markdown.trim().is_empty() || self.body_markdown.len() > MAX_BODY_BYTES {
            return Err(CampaignError::Field("body_markdown must be 1 byte to 1 MB"));
        }
        if self.lists.is_empty() {
            return Err(CampaignError::Field("lists must name at least one list"));
        }
        for (locale, t) in &self.translations {
            if let Some(problem) = text_problem(&t.subject, &t.body_markdown) {
                return Err(CampaignError::Translation {
                    locale: *locale,
                    problem,
                });
            }
        }
        Ok(())
    }
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct Campaign {
    pub id: CampaignId,
    /// Its content and targets.
    pub def: NewCampaign,
    /// Where it stands.
    pub status: CampaignStatus,
    /// When it is (or was) to be sent.
    pub send_at: Option<DateTime<Utc>>,
    /// Why it is paused, if it is.
    pub paused_reason: Option<String>,
    /// When sending began.
    pub started_at: Option<DateTime<Utc>>,
    /// When the fan-out had written every recipient's row.
    pub fanned_out_at: Option<DateTime<Utc>>,
    /// When the last row became final.
    pub finished_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::CampaignStatus::*;

    #[test]
    fn every_move_from_every_state_is_defined() {
        assert_eq!(Draft.schedule(), Ok(Scheduled));
        assert_eq!(Scheduled.schedule(), Ok(Scheduled));
        assert!(Sending.schedule().is_err());
        assert_eq!(Scheduled.start(), Ok(Sending));
        assert!(Draft.start().is_err());
        assert_eq!(Sending.pause(), Ok(Paused));
        assert_eq!(Paused.pause(), Ok(Paused));
        assert!(Sent.pause().is_err());
        assert_eq!(Paused.resume(true), Ok(Sending));
        assert_eq!(Paused.resume(false), Ok(Scheduled));
        assert!(Sending.resume(true).is_err());
        assert_eq!(Sending.cancel(), Ok(Cancelled));
        assert_eq!(Cancelled.cancel(), Ok(Cancelled));
        assert!(Sent.cancel().is_err());
        assert_eq!(
            Sent.pause().unwrap_err().to_string(),
            "a sent campaign cannot be paused"
        );
    }
}
