//! System e-mail templates: built-in defaults from `emails/`, overridden file by file by the
//! operator's `mail.templates_dir`; all compiled and test-rendered at start. Overrides saved
//! in the admin UI (kept in the database by `delivery::templates`) are applied on top while
//! running, and a render reads whichever set is current.

use std::{
    path::Path,
    sync::{Arc, PoisonError, RwLock},
};

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::domain::{CampaignLayout, Locale};

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
    "en/campaign_letter.txt",
    "en/campaign_letter.html",
    "de/campaign_letter.txt",
    "de/campaign_letter.html",
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
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct MailContext {
    pub list_name: String,
    /// The operator's organisation.
    pub organisation: String,
    /// The sender's postal address and imprint, shown in every footer (may be empty).
    pub postal_address: String,
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
    /// No template file has this path.
    #[error("there is no e-mail template {0:?}")]
    UnknownFile(String),
}

impl TemplateError {
    /// The line of the template the error is on, when the engine knows it.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::Template(e) => e.line(),
            Self::Read { .. } | Self::UnknownFile(_) => None,
        }
    }

    /// What is wrong, without the file name and line.
    pub fn reason(&self) -> String {
        match self {
            Self::Template(e) => match e.detail() {
                Some(detail) => format!("{}: {detail}", e.kind()),
                None => e.kind().to_string(),
            },
            Self::Read { source, .. } => source.to_string(),
            Self::UnknownFile(path) => format!("there is no e-mail template {path:?}"),
        }
    }
}

/// The names of the files every language folder holds: those of the built-in `en/`.
pub fn file_names() -> impl Iterator<Item = &'static str> {
    DEFAULTS
        .iter()
        .filter_map(|(path, _)| path.strip_prefix("en/"))
}

/// The template files a language folder (`<mail.templates_dir>/fr`) lacks, by name.
pub fn missing_files(folder: &Path) -> Vec<&'static str> {
    file_names()
        .filter(|name| !folder.join(name).is_file())
        .collect()
}

/// Where a template file belongs: its language, the message (`welcome`) and the part
/// (`subject.txt`, `txt`, `html`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateFile {
    /// The language folder.
    pub locale: Locale,
    /// The message, e.g. `welcome`.
    pub message: &'static str,
    /// The part: `subject.txt`, `txt` or `html`.
    pub part: &'static str,
}

impl TemplateFile {
    /// Every template file Bulletin uses, in a stable order: each registered language's
    /// files in the order of `file_names`.
    pub fn all() -> Vec<TemplateFile> {
        Locale::all()
            .into_iter()
            .flat_map(|locale| file_names().filter_map(move |name| Self::named(locale, name)))
            .collect()
    }

    /// The file at `path` (`en/welcome.html`), if Bulletin uses one.
    pub fn find(path: &str) -> Option<TemplateFile> {
        let (locale, file) = path.split_once('/')?;
        let locale = Locale::parse(locale).ok()?;
        let name = file_names().find(|name| *name == file)?;
        Self::named(locale, name)
    }

    /// The file `name` (`welcome.html`, one of `file_names`) of `locale`.
    fn named(locale: Locale, name: &'static str) -> Option<TemplateFile> {
        let part = PARTS.into_iter().find(|part| {
            name.strip_suffix(part)
                .is_some_and(|stem| stem.ends_with('.') && !stem[..stem.len() - 1].contains('.'))
        })?;
        let message = &name[..name.len() - part.len() - 1];
        Some(TemplateFile {
            locale,
            message,
            part,
        })
    }

    /// The path below `emails/` or `mail.templates_dir`, e.g. `en/welcome.html`.
    pub fn path(&self) -> String {
        format!("{}/{}.{}", self.locale.as_str(), self.message, self.part)
    }
}

/// Compiled system templates: the built-in set, and the operator's overrides on top.
#[derive(Debug)]
pub struct Templates {
    /// Sources of the built-in set by path: the operator's file in `mail.templates_dir`,
    /// else the default compiled into the binary (English and German only).
    builtin: Vec<(String, String)>,
    /// The languages loaded: those registered when `load` ran.
    locales: Vec<Locale>,
    current: RwLock<Arc<Compiled>>,
}

/// One compiled set, with the override revision it reflects (`None`: none applied yet).
#[derive(Debug)]
struct Compiled {
    env: Environment<'static>,
    revision: Option<i64>,
    /// The languages it has templates for: those registered when it was loaded.
    locales: Vec<Locale>,
}

/// Fuel for one render: bounds loops in operator templates.
const FUEL: u64 = 50_000;

fn environment() -> Environment<'static> {
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
    env
}

impl Templates {
    /// Loads the defaults, replaces each one the operator copied into `dir`, reads every
    /// file of each language registered beyond English and German from `dir/<code>/`, and
    /// checks every template by rendering it with sample values.
    ///
    /// # Errors
    /// An unreadable override or missing file of a registered language, a syntax error or
    /// an unknown variable.
    pub fn load(dir: &Path) -> Result<Self, TemplateError> {
        let locales = Locale::all();
        let mut builtin: Vec<(String, String)> = Vec::new();
        for locale in &locales {
            for name in file_names() {
                let path = format!("{}/{name}", locale.as_str());
                let on_disk = dir.join(&path);
                let source = match std::fs::read_to_string(&on_disk) {
                    Ok(text) => text,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        Self::fallback(&builtin, &path, name)
                    }
                    Err(source) => {
                        return Err(TemplateError::Read {
                            path: on_disk.display().to_string(),
                            source,
                        });
                    }
                };
                builtin.push((path, source));
            }
        }
        let compiled = Self::compile(&builtin, &locales, &[])?;
        compiled.check()?;
        Ok(Self {
            builtin,
            locales,
            current: RwLock::new(Arc::new(compiled)),
        })
    }

    /// The source of a file the operator did not provide: the compiled-in default, or for a
    /// registered language the English one loaded before it. Start-up refuses a language
    /// folder lacking a file, so only a language registered for another templates folder of
    /// the same process (as in tests) reads English here.
    fn fallback(loaded: &[(String, String)], path: &str, name: &str) -> String {
        let english = format!("en/{name}");
        DEFAULTS
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, source)| (*source).to_owned())
            .or_else(|| {
                loaded
                    .iter()
                    .find(|(p, _)| *p == english)
                    .map(|(_, source)| source.clone())
            })
            .unwrap_or_default()
    }

    fn compile(
        builtin: &[(String, String)],
        locales: &[Locale],
        overrides: &[(&str, &str)],
    ) -> Result<Compiled, TemplateError> {
        let mut env = environment();
        for (path, source) in builtin {
            env.add_template_owned(path.clone(), source.clone())?;
        }
        for (path, source) in overrides {
            let file = TemplateFile::find(path)
                .filter(|f| locales.contains(&f.locale))
                .ok_or_else(|| TemplateError::UnknownFile((*path).to_owned()))?;
            env.add_template_owned(file.path(), (*source).to_owned())?;
        }
        Ok(Compiled {
            env,
            revision: None,
            locales: locales.to_vec(),
        })
    }

    fn snapshot(&self) -> Arc<Compiled> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The built-in source of a template file (the operator's copy in `mail.templates_dir`
    /// or the default), if Bulletin uses the file.
    pub fn builtin(&self, path: &str) -> Option<&str> {
        self.builtin
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, source)| source.as_str())
    }

    /// The override revision the current set reflects (`None`: not yet read).
    pub fn revision(&self) -> Option<i64> {
        self.snapshot().revision
    }

    /// Checks a new source for one file: it must compile, and every message must render with
    /// sample values (so an unknown filter or variable is found now, not mid-send).
    ///
    /// # Errors
    /// The problem, with its line when the engine knows it.
    pub fn validate(&self, path: &str, source: &str) -> Result<(), TemplateError> {
        Self::compile(&self.builtin, &self.locales, &[(path, source)])?.check()
    }

    /// Replaces the overrides with `overrides` (path, source) as of `revision`. An override
    /// that no longer compiles or renders (say, after an upgrade) is left out, so the
    /// built-in is sent instead; those are returned with their errors.
    pub fn apply(&self, revision: i64, overrides: &[(String, String)]) -> Vec<(String, String)> {
        let mut good: Vec<(&str, &str)> = Vec::with_capacity(overrides.len());
        let mut broken = Vec::new();
        for (path, source) in overrides {
            match self.validate(path, source) {
                Ok(()) => good.push((path, source)),
                Err(e) => broken.push((path.clone(), e.to_string())),
            }
        }
        match Self::compile(&self.builtin, &self.locales, &good) {
            Ok(mut compiled) => {
                compiled.revision = Some(revision);
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(compiled);
            }
            Err(e) => broken.push((String::new(), e.to_string())),
        }
        broken
    }

    /// Renders the message `file` belongs to with sample values, with `draft` in place of the
    /// file's current source when given.
    ///
    /// # Errors
    /// The draft does not compile or render.
    pub fn preview(
        &self,
        file: &TemplateFile,
        draft: Option<&str>,
    ) -> Result<RenderedMail, TemplateError> {
        let current = self.snapshot();
        let draft_env;
        let compiled = match draft {
            Some(source) => {
                self.validate(&file.path(), source)?;
                let mut env = current.env.clone();
                env.add_template_owned(file.path(), source.to_owned())?;
                draft_env = Compiled {
                    env,
                    revision: None,
                    locales: self.locales.clone(),
                };
                &draft_env
            }
            None => current.as_ref(),
        };
        compiled.sample(file.locale, file.message)
    }

    /// A campaign's body for one recipient inside the layout of their language.
    ///
    /// # Errors
    /// A template error.
    pub fn render_campaign(
        &self,
        template: &super::CampaignTemplate,
        vars: &super::Personalisation,
        (locale, layout): (Locale, CampaignLayout),
        ctx: &MailContext,
    ) -> Result<RenderedMail, TemplateError> {
        let body = template.render(vars)?;
        let (text, html) =
            self.render_layout((locale, layout), &body.subject, &body.text, &body.html, ctx)?;
        Ok(RenderedMail {
            subject: body.subject,
            text,
            html,
        })
    }

    /// Wraps a rendered campaign body in its layout (`campaign.txt` and `campaign.html`, or
    /// `campaign_letter.*`): footer with unsubscribe, preferences and privacy links.
    ///
    /// # Errors
    /// A rendering error (cannot happen for templates that passed `load`, barring fuel).
    pub fn render_layout(
        &self,
        look: (Locale, CampaignLayout),
        subject: &str,
        content_text: &str,
        content_html: &str,
        ctx: &MailContext,
    ) -> Result<(String, String), TemplateError> {
        self.snapshot()
            .render_layout(look, subject, content_text, content_html, ctx)
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
        self.snapshot().render(locale, template, ctx)
    }

    /// Renders the subject, text and HTML of a product notice (`notice.*`).
    ///
    /// # Errors
    /// A rendering error (cannot happen for templates that passed `load`, barring fuel).
    pub fn render_notice(
        &self,
        locale: Locale,
        ctx: &super::NoticeMailContext,
    ) -> Result<RenderedMail, TemplateError> {
        self.snapshot().render_notice(locale, ctx)
    }
}

fn sample_context() -> MailContext {
    MailContext {
        list_name: "Sample".into(),
        organisation: "Sample Org".into(),
        postal_address: "Sample Org, 1 Main Street, 12345 Sample Town".into(),
        unsubscribe_url: "https://example.com/u".into(),
        preferences_url: "https://example.com/p".into(),
        privacy_url: "https://example.com/privacy".into(),
        confirm_url: "https://example.com/c".into(),
        expires_in_days: "7".into(),
        expires_in_minutes: "60".into(),
        welcome_message: "Hello".into(),
    }
}

impl Compiled {
    fn check(&self) -> Result<(), TemplateError> {
        let sample = sample_context();
        for &locale in &self.locales {
            for template in SystemTemplate::ALL {
                self.render(locale, template, &sample)?;
            }
            for layout in CampaignLayout::ALL {
                self.render_layout((locale, layout), "Subject", "Text", "<p>HTML</p>", &sample)?;
            }
            self.render_notice(locale, &super::NoticeMailContext::sample())?;
            self.render_notice(locale, &super::NoticeMailContext::default())?;
        }
        Ok(())
    }

    /// `locale` if this set has its templates, else English: a language registered after
    /// the set was loaded (only possible in tests, which register while servers run).
    fn loaded(&self, locale: Locale) -> Locale {
        match self.locales.contains(&locale) {
            true => locale,
            false => Locale::En,
        }
    }

    /// The message `message` in `locale` with sample values.
    fn sample(&self, locale: Locale, message: &str) -> Result<RenderedMail, TemplateError> {
        let ctx = sample_context();
        if let Some(template) = SystemTemplate::ALL
            .into_iter()
            .find(|t| t.stem() == message)
        {
            return self.render(locale, template, &ctx);
        }
        if let Some(layout) = CampaignLayout::ALL
            .into_iter()
            .find(|l| l.template() == message)
        {
            let subject = "Sample campaign";
            let (text, html) = self.render_layout(
                (locale, layout),
                subject,
                "The campaign's text goes here.",
                "<p>The campaign's text goes here.</p>",
                &ctx,
            )?;
            return Ok(RenderedMail {
                subject: subject.to_owned(),
                text,
                html,
            });
        }
        match message {
            "notice" => self.render_notice(locale, &super::NoticeMailContext::sample()),
            other => Err(TemplateError::UnknownFile(other.to_owned())),
        }
    }

    fn render_layout(
        &self,
        (locale, layout): (Locale, CampaignLayout),
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
                postal_address => &ctx.postal_address,
                unsubscribe_url => &ctx.unsubscribe_url,
                preferences_url => &ctx.preferences_url,
                privacy_url => &ctx.privacy_url,
            }
        };
        let locale = self.loaded(locale);
        let name = |part: &str| format!("{}/{}.{part}", locale.as_str(), layout.template());
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

    fn render(
        &self,
        locale: Locale,
        template: SystemTemplate,
        ctx: &MailContext,
    ) -> Result<RenderedMail, TemplateError> {
        self.render_parts(locale, template.stem(), minijinja::value::Serde(ctx))
    }

    fn render_notice(
        &self,
        locale: Locale,
        ctx: &super::NoticeMailContext,
    ) -> Result<RenderedMail, TemplateError> {
        self.render_parts(locale, "notice", minijinja::value::Serde(ctx))
    }

    fn render_parts<T: Serialize>(
        &self,
        locale: Locale,
        stem: &str,
        ctx: minijinja::value::Serde<T>,
    ) -> Result<RenderedMail, TemplateError> {
        let locale = self.loaded(locale);
        let [subject, text, html] = PARTS.map(|part| format!("{}/{stem}.{part}", locale.as_str()));
        let value = minijinja::Value::from(ctx);
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
            postal_address: String::new(),
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
        for locale in Locale::all() {
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
        for locale in Locale::all() {
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

    #[test]
    fn overrides_apply_on_top_and_a_broken_one_falls_back_to_the_built_in() {
        let t = Templates::load(Path::new("/nonexistent")).unwrap();
        assert_eq!(t.revision(), None);
        let err = t
            .validate("en/welcome.txt", "a\n{{ list_name ")
            .unwrap_err();
        assert_eq!(err.line(), Some(2));
        assert!(err.reason().contains("syntax error"), "{}", err.reason());
        let overrides = vec![
            (
                "en/welcome.subject.txt".to_owned(),
                "Hey {{ organisation }}".to_owned(),
            ),
            ("en/welcome.txt".to_owned(), "{{ nope }}".to_owned()),
        ];
        let broken = t.apply(7, &overrides);
        assert_eq!(broken.len(), 1);
        assert_eq!(broken[0].0, "en/welcome.txt");
        assert_eq!(t.revision(), Some(7));
        let m = t
            .render(Locale::En, SystemTemplate::Welcome, &ctx())
            .unwrap();
        assert_eq!(m.subject, "Hey ACME");
        assert!(
            m.text.contains("https://x.test/unsubscribe/T?a=1&b=2"),
            "built-in text"
        );
        t.apply(8, &[]);
        let m = t
            .render(Locale::En, SystemTemplate::Welcome, &ctx())
            .unwrap();
        assert_ne!(m.subject, "Hey ACME");
        let file = TemplateFile::find("de/campaign.html").unwrap();
        assert_eq!(
            (file.locale, file.message, file.part),
            (Locale::De, "campaign", "html")
        );
        assert!(TemplateFile::find("en/../etc/passwd").is_none());
        assert_eq!(
            TemplateFile::find("en/welcome.subject.txt").map(|f| f.part),
            Some("subject.txt")
        );
    }
}
