//! System e-mail templates: built-in defaults from `emails/`, overridden file by file by the
//! operator's `mail.templates_dir`; all compiled and test-rendered at start.

use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::domain::Locale;

/// Which system message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTemplate {
    /// The double-opt-in confirmation request.
    Confirmation,
    /// The welcome message.
    Welcome,
    /// The link to a person's own data page (`confirm_url`, `expires_in_minutes`).
    PrivacyLink,
    /// The confirmation of a new address, sent to it (`confirm_url`, `expires_in_days`).
    AddressChange,
}

impl SystemTemplate {
    const ALL: [SystemTemplate; 4] = [
        SystemTemplate::Confirmation,
        SystemTemplate::Welcome,
        SystemTemplate::PrivacyLink,
        SystemTemplate::AddressChange,
    ];

    fn stem(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::Welcome => "welcome",
            Self::PrivacyLink => "privacy_link",
            Self::AddressChange => "address_change",
        }
    }
}

/// The three parts of every template, by file suffix.
const PARTS: [&str; 3] = ["subject.txt", "txt", "html"];

macro_rules! embedded {
    ($($path:literal),+ $(,)?) => {
        &[$(($path, include_str!(concat!("../../emails/", $path)))),+]
    };
}

/// The templates compiled into the binary, by path below `emails/`.
const DEFAULTS: &[(&str, &str)] = embedded!(
    "en/confirmation.subject.txt",
    "en/confirmation.txt",
    "en/confirmation.html",
    "en/welcome.subject.txt",
    "en/welcome.txt",
    "en/welcome.html",
    "de/confirmation.subject.txt",
    "de/confirmation.txt",
    "de/confirmation.html",
    "de/welcome.subject.txt",
    "de/welcome.txt",
    "de/welcome.html",
    "en/campaign.txt",
    "en/campaign.html",
    "de/campaign.txt",
    "de/campaign.html",
    "en/privacy_link.subject.txt",
    "en/privacy_link.txt",
    "en/privacy_link.html",
    "de/privacy_link.subject.txt",
    "de/privacy_link.txt",
    "de/privacy_link.html",
    "en/address_change.subject.txt",
    "en/address_change.txt",
    "en/address_change.html",
    "de/address_change.subject.txt",
    "de/address_change.txt",
    "de/address_change.html",
    "en/notice.subject.txt",
    "en/notice.txt",
    "en/notice.html",
    "de/notice.subject.txt",
    "de/notice.txt",
    "de/notice.html",
);

/// The variables every system template gets. Only operator-controlled text and links:
/// nothing a subscriber typed (their name is a known spam-relay vector).
#[derive(Debug, Clone, Serialize)]
pub struct MailContext {
    /// The list's name.
    pub list_name: String,
    /// The operator's organisation.
    pub organisation: String,
    /// One-click unsubscribe / cancel link.
    pub unsubscribe_url: String,
    /// Preferences page link.
    pub preferences_url: String,
    /// Privacy notice link.
    pub privacy_url: String,
    /// Confirmation link (confirmation only; empty otherwise).
    pub confirm_url: String,
    /// Confirmation link lifetime in days, as text.
    pub expires_in_days: String,
    /// Privacy link lifetime in minutes, as text (privacy link only; empty otherwise).
    pub expires_in_minutes: String,
    /// Operator's welcome paragraph (welcome only; may be empty).
    pub welcome_message: String,
}

/// A rendered message, ready to be built into MIME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    /// One-line subject.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// A template that cannot be read, compiled or rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The operator's file could not be read.
    #[error("e-mail template {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Syntax or rendering error, with template name and line.
    #[error("template {0}")]
    Template(#[from] minijinja::Error),
}

/// Compiled system templates.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

/// Fuel for one render: bounds loops in operator templates.
const FUEL: u64 = 50_000;

impl Templates {
    /// Loads the defaults, replaces each one the operator copied into `dir`, and checks
    /// every template by rendering it with sample values.
    ///
    /// # Errors
    /// An unreadable override, a syntax error or an unknown variable.
    pub fn load(dir: &Path) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(html_attribute_formatter);
        for (path, default) in DEFAULTS {
            let file = dir.join(path);
            let source = match std::fs::read_to_string(&file) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (*default).to_owned(),
                Err(source) => {
                    return Err(TemplateError::Read {
                        path: file.display().to_string(),
                        source,
                    });
                }
            };
            env.add_template_owned(*path, source)?;
        }
        let templates = Self { env };
        templates.check()?;
        Ok(templates)
    }

    fn check(&self) -> Result<(), TemplateError> {
        let sample = MailContext {
            list_name: "Sample".into(),
            organisation: "Sample Org".into(),
            unsubscribe_url: "https://example.com/u".into(),
            preferences_url: "https://example.com/p".into(),
            privacy_url: "https://example.com/privacy".into(),
            confirm_url: "https://example.com/c".into(),
            expires_in_days: "7".into(),
            expires_in_minutes: "60".into(),
            welcome_message: "Hello".into(),
        };
        for locale in Locale::ALL {
            for template in SystemTemplate::ALL {
                self.render(locale, template, &sample)?;
            }
            self.render_layout(locale, "Subject", "Text", "<p>HTML</p>", &sample)?;
            self.render_notice(locale, &super::NoticeMailContext::sample())?;
            self.render_notice(locale, &super::NoticeMailContext::default())?;
        }
        Ok(())
    }

    /// Wraps a rendered campaign body in the campaign layout (`campaign.txt`, `campaign.html`):
    /// footer with unsubscribe, preferences and privacy links.
    ///
    /// # Errors
    /// A rendering error (cannot happen for templates that passed `load`, barring fuel).
    pub fn render_layout(
        &self,
        locale: Locale,
        subject: &str,
        content_text: &str,
        content_html: &str,
        ctx: &MailContext,
    ) -> Result<(String, String), TemplateError> {
        let context = |content: minijinja::Value| {
            minijinja::context! {
                subject => subject,
                content => content,
                list_name => &ctx.list_name,
                organisation => &ctx.organisation,
                unsubscribe_url => &ctx.unsubscribe_url,
                preferences_url => &ctx.preferences_url,
                privacy_url => &ctx.privacy_url,
            }
        };
        let name = |part: &str| format!("{}/campaign.{part}", locale.as_str());
        let text = self
            .env
            .get_template(&name("txt"))?
            .render(context(content_text.into()))?;
        // The body HTML was rendered by us from Markdown, with every variable escaped.
        let html_content = minijinja::Value::from_safe_string(content_html.to_owned());
        let html = self
            .env
            .get_template(&name("html"))?
            .render(context(html_content))?;
        Ok((text, html))
    }

    /// Renders the subject, text and HTML of a system message.
    ///
    /// # Errors
    /// A rendering error (cannot happen for templates that passed `load`, barring fuel).
    pub fn render(
        &self,
        locale: Locale,
        template: SystemTemplate,
        ctx: &MailContext,
    ) -> Result<RenderedMail, TemplateError> {
        let [subject, text, html] =
            PARTS.map(|part| format!("{}/{}.{part}", locale.as_str(), template.stem()));
        let value = minijinja::Value::from(minijinja::value::Serde(ctx));
        let render = |name: &str| -> Result<String, TemplateError> {
            Ok(self.env.get_template(name)?.render(value.clone())?)
        };
        let subject = render(&subject)?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(RenderedMail {
            subject,
            text: render(&text)?,
            html: render(&html)?,
        })
    }
}

impl Templates {
    /// Renders the subject, text and HTML of a product notice (`notice.*`).
    ///
    /// # Errors
    /// A rendering error (cannot happen for templates that passed `load`, barring fuel).
    pub fn render_notice(
        &self,
        locale: Locale,
        ctx: &super::NoticeMailContext,
    ) -> Result<RenderedMail, TemplateError> {
        let [subject, text, html] = PARTS.map(|part| format!("{}/notice.{part}", locale.as_str()));
        let value = minijinja::Value::from(minijinja::value::Serde(ctx));
        let render = |name: &str| -> Result<String, TemplateError> {
            Ok(self.env.get_template(name)?.render(value.clone())?)
        };
        let subject = render(&subject)?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(RenderedMail {
            subject,
            text: render(&text)?,
            html: render(&html)?,
        })
    }
}

/// Escapes strings in HTML templates like the default formatter, except that `/` stays as
/// it is: links then read normally in the source, which some mail clients and link scanners
/// need. Values are always quoted in attributes, so `& < > " '` suffice.
fn html_attribute_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if matches!(state.auto_escape(), AutoEscape::Html)
        && !value.is_safe()
        && let Some(text) = value.as_str()
    {
        let mut escaped = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => escaped.push_str("&amp;"),
                '<' => escaped.push_str("&lt;"),
                '>' => escaped.push_str("&gt;"),
                '"' => escaped.push_str("&quot;"),
                '\'' => escaped.push_str("&#x27;"),
                other => escaped.push(other),
            }
        }
        return out.write_str(&escaped).map_err(minijinja::Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> MailContext {
        MailContext {
            list_name: "Weekly <News>".into(),
            organisation: "ACME".into(),
            unsubscribe_url: "https://x.test/unsubscribe/T?a=1&b=2".into(),
            preferences_url: "https://x.test/preferences/P".into(),
            privacy_url: "https://x.test/privacy".into(),
            confirm_url: "https://x.test/confirm/C".into(),
            expires_in_days: "7".into(),
            expires_in_minutes: "60".into(),
            welcome_message: "<script>alert(1)</script>".into(),
        }
    }

    #[test]
    fn built_in_templates_render_in_every_language() {
        let t = Templates::load(Path::new("/nonexistent")).unwrap();
        for locale in Locale::ALL {
            let m = t
                .render(locale, SystemTemplate::Confirmation, &ctx())
                .unwrap();
            assert!(!m.subject.contains('\n'));
            assert!(m.text.contains("https://x.test/confirm/C"));
            assert!(m.text.contains("https://x.test/unsubscribe/T?a=1&b=2"));
            assert!(m.html.contains("https://x.test/unsubscribe/T?a=1&amp;b=2"));
            let w = t.render(locale, SystemTemplate::Welcome, &ctx()).unwrap();
            assert!(
                !w.html.contains("<script>"),
                "operator text is escaped in HTML"
            );
            assert!(w.html.contains("&lt;script&gt;"));
            assert!(
                m.html.contains("href=\"https://x.test/confirm/C\""),
                "links stay readable"
            );
        }
    }

    #[test]
    fn privacy_and_address_change_mails_carry_their_link_in_every_language() {
        let t = Templates::load(Path::new("/nonexistent")).unwrap();
        for locale in Locale::ALL {
            for template in [SystemTemplate::PrivacyLink, SystemTemplate::AddressChange] {
                let m = t.render(locale, template, &ctx()).unwrap();
                assert!(!m.subject.contains('\n') && m.subject.contains("ACME"));
                assert!(m.text.contains("https://x.test/confirm/C"), "{template:?}");
                assert!(m.html.contains("href=\"https://x.test/confirm/C\""));
            }
            let privacy = t
                .render(locale, SystemTemplate::PrivacyLink, &ctx())
                .unwrap();
            assert!(privacy.text.contains("60"));
            let change = t
                .render(locale, SystemTemplate::AddressChange, &ctx())
                .unwrap();
            assert!(
                !change.text.contains("https://x.test/preferences/P"),
                "a new address may belong to someone else: no link into the old one's data"
            );
        }
    }

    #[test]
    fn an_operator_override_replaces_one_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("en")).unwrap();
        std::fs::write(
            dir.path().join("en/welcome.subject.txt"),
            "Hi from {{ organisation }}",
        )
        .unwrap();
        let t = Templates::load(dir.path()).unwrap();
        assert_eq!(
            t.render(Locale::En, SystemTemplate::Welcome, &ctx())
                .unwrap()
                .subject,
            "Hi from ACME"
        );
    }

    #[test]
    fn a_broken_override_stops_the_load_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("de")).unwrap();
        std::fs::write(dir.path().join("de/confirmation.txt"), "{{ confirm_url ").unwrap();
        let err = Templates::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("de/confirmation.txt"), "{err}");
        std::fs::write(
            dir.path().join("de/confirmation.txt"),
            "{{ no_such_variable }}",
        )
        .unwrap();
        assert!(Templates::load(dir.path()).is_err());
    }
}
