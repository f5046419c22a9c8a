//! Mail: operator-editable templates, message building (List-Unsubscribe, Message-ID) and
//! the transport (SMTP pool or `.eml` files). It renders and sends; it decides nothing.

pub mod campaign;
pub mod dkim;
mod fold;
pub mod links;
pub mod message;
pub mod notice;
pub mod providers;
pub mod reports;
pub mod templates;
pub mod transactional;
pub mod transport;

pub use campaign::{CampaignTemplate, Personalisation, RenderedCampaign};
pub use links::Links;
pub use message::{KindHeaders, OutgoingMail, UNSUBSCRIBE_PREFIX, build_message, mailbox};
pub use notice::NoticeMailContext;
pub use templates::{
    MailContext, RenderedMail, SystemTemplate, TemplateError, TemplateFile, Templates,
};
pub use transport::{SendError, Transport};
