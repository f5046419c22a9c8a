//! Campaign templates: the marketer's subject and Markdown body, compiled once in a sandboxed
//! minijinja environment (no files, no environment, strict variables, bounded by fuel) and
//! rendered per recipient; Markdown becomes HTML with every variable escaped.
//!
//! A template without logic (only text and `{{ variable }}`s, the usual newsletter) is also
//! split once into static parts and variables, with its Markdown converted once per campaign;
//! each recipient then costs a few string copies. It is used only if it renders exactly as
//! the template engine does for the sample recipients; personal values are then inserted as
//! text, never read as Markdown.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::{MailContext, RenderedMail, TemplateError, Templates};
use crate::{
    config::{Settings, join_url},
    domain::{Campaign, Locale},
};

/// The campaign as a sample recipient would get it, for previews and test sends (its links
/// point to sample pages).
///
/// # Errors
/// A template error.
pub fn preview(
    templates: &Templates,
    settings: &Settings,
    campaign: &Campaign,
) -> Result<RenderedMail, TemplateError> {
    preview_in(templates, settings, campaign, Locale::En)
}

/// `preview` as a recipient in `locale` would get it: that language's translation and
/// layout, or the default text in that language's layout.
///
/// # Errors
/// A template error.
pub fn preview_in(
    templates: &Templates,
    settings: &Settings,
    campaign: &Campaign,
    locale: Locale,
) -> Result<RenderedMail, TemplateError> {
    let (subject, body) = campaign.def.text_for(locale);
    let template = CampaignTemplate::compile(subject, body)?;
    let ctx = sample_context(settings);
    let mut vars = Personalisation::sample(&campaign.def.name);
    vars.unsubscribe_url = ctx.unsubscribe_url.clone();
    vars.preferences_url = ctx.preferences_url.clone();
    vars.organisation = ctx.organisation.clone();
    vars.subscriber.locale = locale.as_str().to_owned();
    templates.render_campaign(&template, &vars, (locale, campaign.def.layout), &ctx)
}

fn sample_context(settings: &Settings) -> MailContext {
    let base = &settings.http.public_url;
    MailContext {
        list_name: "Sample list".into(),
        organisation: settings.mail.organisation.clone(),
        postal_address: settings.mail.postal_address.clone(),
        unsubscribe_url: join_url(base, "unsubscribe/sample").to_string(),
        preferences_url: join_url(base, "preferences/sample").to_string(),
        privacy_url: settings.privacy_notice_url.to_string(),
        confirm_url: String::new(),
        expires_in_days: String::new(),
        expires_in_minutes: String::new(),
        welcome_message: String::new(),
    }
}

/// Fuel for one render: bounds loops in marketer templates.
const FUEL: u64 = 100_000;

/// The variables a campaign template may use.
#[derive(Debug, Clone, Serialize)]
pub struct Personalisation {
    /// `subscriber.name`, `subscriber.email`, `subscriber.locale`.
    pub subscriber: SubscriberVars,
    /// `list.name`, `list.slug`: the list the recipient was reached through.
    pub list: ListVars,
    /// `campaign.name`.
    pub campaign: CampaignVars,
    /// The recipient's one-click unsubscribe link.
    pub unsubscribe_url: String,
    /// The recipient's preferences link.
    pub preferences_url: String,
    /// The operator's organisation.
    pub organisation: String,
    /// `data.*`: what an integrator passed with a transactional message; absent (an unknown
    /// variable) in campaigns.
    #[serde(skip_serializing_if = "minijinja::Value::is_undefined")]
    pub data: minijinja::Value,
}

/// `data` while a transactional template is checked: any key, at any depth, reads as empty
/// text, so a template is checked for its syntax and its other variables without knowing
/// what its callers will pass.
#[derive(Debug)]
struct AnyData;

impl minijinja::value::Object for AnyData {
    fn get_value(self: &std::sync::Arc<Self>, _key: &minijinja::Value) -> Option<minijinja::Value> {
        Some(minijinja::Value::from_object(AnyData))
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Empty
    }

    fn render(self: &std::sync::Arc<Self>, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Ok(())
    }
}

/// `subscriber.*`
#[derive(Debug, Clone, Serialize)]
pub struct SubscriberVars {
    /// Name as given (may be empty).
    pub name: String,
    /// Address.
    pub email: String,
    /// Language code.
    pub locale: String,
    /// `subscriber.attributes.KEY`: the person's attributes; one they lack is empty text.
    pub attributes: minijinja::Value,
}

/// `subscriber.attributes` in a template. People differ in the attributes they have, so one
/// a person lacks reads as empty text (`{% if subscriber.attributes.company %}` works), while
/// a misspelt variable anywhere else is still an error when the campaign is saved.
#[derive(Debug)]
struct AttributeValues(serde_json::Map<String, serde_json::Value>);

impl minijinja::value::Object for AttributeValues {
    fn get_value(self: &std::sync::Arc<Self>, key: &minijinja::Value) -> Option<minijinja::Value> {
        let key = key.as_str()?;
        Some(self.0.get(key).map_or_else(
            || minijinja::Value::from(""),
            |v| minijinja::Value::from(minijinja::value::Serde(v)),
        ))
    }

    fn enumerate(self: &std::sync::Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(
            self.0
                .keys()
                .map(|k| minijinja::Value::from(k.as_str()))
                .collect(),
        )
    }
}

/// The template value of a person's attributes.
pub fn attribute_values(attributes: &crate::domain::Attributes) -> minijinja::Value {
    let map = attributes
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    minijinja::Value::from_object(AttributeValues(map))
}

/// `list.*`
#[derive(Debug, Clone, Serialize)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub struct ListVars {
    /// Display name.
    pub name: String,
    pub slug: String,
}

/// `campaign.*`
#[derive(Debug, Clone, Serialize)]
pub struct CampaignVars {
    /// Internal name.
    pub name: String,
}

impl Personalisation {
    /// Sample values, for checking templates and previews.
    pub fn sample(campaign_name: &str) -> Self {
        Self {
            subscriber: SubscriberVars {
                name: "Jane Doe".into(),
                email: "jane.doe@example.com".into(),
                locale: "en".into(),
                attributes: attribute_values(&crate::domain::Attributes::default()),
            },
            list: ListVars {
                name: "Sample list".into(),
                slug: "sample".into(),
            },
            campaign: CampaignVars {
                name: campaign_name.into(),
            },
            unsubscribe_url: "https://example.com/unsubscribe/sample".into(),
            preferences_url: "https://example.com/preferences/sample".into(),
            organisation: "Sample Org".into(),
            data: minijinja::Value::UNDEFINED,
        }
    }

    /// Other sample values (with characters that need escaping), for the same checks.
    fn other_sample(campaign_name: &str) -> Self {
        Self {
            subscriber: SubscriberVars {
                name: "Seán O'Brien & Söhne".into(),
                email: "sean.obrien@example.org".into(),
                locale: "de".into(),
                attributes: attribute_values(&crate::domain::Attributes::default()),
            },
            list: ListVars {
                name: "News & Updates <weekly>".into(),
                slug: "news-updates".into(),
            },
            campaign: CampaignVars {
                name: format!("{campaign_name} 2"),
            },
            unsubscribe_url: "https://lists.example.org/u/AbC-123_x?l=1&t=2".into(),
            preferences_url: "https://lists.example.org/p/XyZ-987_y".into(),
            organisation: "Other Org & Co".into(),
            data: minijinja::Value::UNDEFINED,
        }
    }
}

/// A rendered campaign body before the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedCampaign {
    /// One-line subject.
    pub subject: String,
    /// Plain text (the rendered Markdown source).
    pub text: String,
    /// HTML fragment from the Markdown.
    pub html: String,
}

/// A compiled, checked campaign template.
#[derive(Debug)]
pub struct CampaignTemplate {
    env: Environment<'static>,
    /// The same template as parts to fill in, when it has no logic.
    substitution: Option<Substitution>,
}

impl CampaignTemplate {
    /// Compiles the subject and body and renders them once with sample values, so that a
    /// syntax error or an unknown variable is found now, never mid-send.
    ///
    /// # Errors
    /// The template error, with the part (`subject` or `body`) and line.
    pub fn compile(subject: &str, body_markdown: &str) -> Result<Self, TemplateError> {
        Self::compile_checked(subject, body_markdown, minijinja::Value::UNDEFINED)
    }

    /// `compile` for a transactional template: `data.*` may be used, with any keys.
    ///
    /// # Errors
    /// The template error, with the part (`subject` or `body`) and line.
    pub fn compile_transactional(
        subject: &str,
        body_markdown: &str,
    ) -> Result<Self, TemplateError> {
        Self::compile_checked(
            subject,
            body_markdown,
            minijinja::Value::from_object(AnyData),
        )
    }

    fn compile_checked(
        subject: &str,
        body_markdown: &str,
        data: minijinja::Value,
    ) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.set_auto_escape_callback(|name| {
            if name == "body.html" {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(mark_values);
        env.add_template_owned("subject", subject.to_owned())?;
        env.add_template_owned("body", body_markdown.to_owned())?;
        env.add_template_owned("body.html", body_markdown.to_owned())?;
        let mut template = Self {
            env,
            substitution: None,
        };
        let samples = [
            Personalisation::sample("sample"),
            Personalisation::other_sample("sample"),
        ]
        .map(|sample| Personalisation {
            data: data.clone(),
            ..sample
        });
        let mut rendered = Vec::with_capacity(samples.len());
        for sample in &samples {
            rendered.push(template.render_with_engine(sample)?);
        }
        template.substitution = Substitution::compile(subject, body_markdown)
            .filter(|s| {
                samples
                    .iter()
                    .zip(&rendered)
                    .all(|(sample, expected)| &s.render(sample) == expected)
            })
            .map(Substitution::folded);
        Ok(template)
    }

    /// Whether recipients are rendered by substitution rather than by the template engine.
    pub fn is_substituted(&self) -> bool {
        self.substitution.is_some()
    }

    /// Renders subject, text and HTML for one recipient.
    ///
    /// # Errors
    /// A rendering error (for example running out of fuel).
    pub fn render(&self, vars: &Personalisation) -> Result<RenderedCampaign, TemplateError> {
        match &self.substitution {
            Some(substitution) => Ok(substitution.render(vars)),
            None => self.render_with_engine(vars),
        }
    }

    fn render_with_engine(
        &self,
        vars: &Personalisation,
    ) -> Result<RenderedCampaign, TemplateError> {
        let value = minijinja::Value::from(minijinja::value::Serde(vars));
        let render = |name: &str| -> Result<String, TemplateError> {
            Ok(self.env.get_template(name)?.render(value.clone())?)
        };
        let subject = one_line(&render("subject")?);
        let text = render("body")?;
        // The values go in after the Markdown is converted, as in `Substitution`: nothing a
        // subscriber typed is ever read as Markdown, whatever logic the template has.
        let inline = [vars.unsubscribe_url.clone(), vars.preferences_url.clone()];
        VALUES.with(|v| {
            *v.borrow_mut() = Some(Marked {
                inline,
                values: Vec::new(),
            });
        });
        let marked_markdown = render("body.html");
        let marked = VALUES.with(|v| v.borrow_mut().take());
        let html = markdown_to_html(&marked_markdown?);
        Ok(RenderedCampaign {
            subject,
            text,
            html: fill_marks(&html, &marked.map(|m| m.values).unwrap_or_default()),
        })
    }
}

/// The values of one rendering of `body.html`, by mark number, while it renders.
struct Marked {
    /// Values written in place (the signed links, so that `<{{ unsubscribe_url }}>` stays an
    /// autolink): Bulletin made them, and they hold no Markdown.
    inline: [String; 2],
    /// The HTML of each marked value.
    values: Vec<String>,
}

thread_local! {
    /// The values of the rendering on this thread. minijinja's formatter sees only the value,
    /// and a render runs on one thread from start to end, so this is where they are kept.
    static VALUES: std::cell::RefCell<Option<Marked>> = const { std::cell::RefCell::new(None) };
}

/// The formatter of every template: in `body.html` each value becomes a mark (the value is
/// kept, HTML-escaped unless marked safe, for `fill_marks`); elsewhere minijinja's own.
fn mark_values(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if state.name() != "body.html" {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mark = VALUES.with(|v| {
        let mut v = v.borrow_mut();
        let marked = v.as_mut()?;
        if !value.is_safe() && marked.inline.contains(&text) {
            // As written, for the Markdown converter to escape (HTML escaping would turn
            // its slashes into entities, which an autolink does not decode).
            return Some(None);
        }
        let html = match value.is_safe() {
            true => text.clone(),
            false => {
                let mut escaped = String::with_capacity(text.len());
                escape_html(&mut escaped, &text);
                escaped
            }
        };
        marked.values.push(html);
        Some(Some(marked.values.len() - 1))
    });
    let written = match mark {
        Some(Some(n)) => write!(out, "{MARK}{n}Z"),
        Some(None) => out.write_str(&text),
        None => return minijinja::escape_formatter(out, state, value),
    };
    written.map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
}

/// The converted HTML with each mark replaced by its value; text that only looks like a mark
/// (a number out of range) is left as it is.
fn fill_marks(html: &str, values: &[String]) -> String {
    let mut out = String::with_capacity(html.len() + values.iter().map(String::len).sum::<usize>());
    let mut rest = html;
    while let Some(start) = rest.find(MARK) {
        let after = &rest[start + MARK.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let value = after[..digits]
            .parse::<usize>()
            .ok()
            .filter(|_| after[digits..].starts_with('Z'))
            .and_then(|n| values.get(n));
        match value {
            Some(value) => {
                out.push_str(&rest[..start]);
                out.push_str(value);
                rest = &after[digits + 1..];
            }
            None => {
                out.push_str(&rest[..start + MARK.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whitespace runs (line breaks included) as single spaces, trimmed: a subject is one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A variable a template without logic may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    SubscriberName,
    SubscriberEmail,
    SubscriberLocale,
    ListName,
    ListSlug,
    CampaignName,
    UnsubscribeUrl,
    PreferencesUrl,
    Organisation,
}

impl Var {
    fn parse(path: &str) -> Option<Self> {
        Some(match path {
            "subscriber.name" => Self::SubscriberName,
            "subscriber.email" => Self::SubscriberEmail,
            "subscriber.locale" => Self::SubscriberLocale,
            "list.name" => Self::ListName,
            "list.slug" => Self::ListSlug,
            "campaign.name" => Self::CampaignName,
            "unsubscribe_url" => Self::UnsubscribeUrl,
            "preferences_url" => Self::PreferencesUrl,
            "organisation" => Self::Organisation,
            _ => return None,
        })
    }

    fn value(self, vars: &Personalisation) -> &str {
        match self {
            Self::SubscriberName => &vars.subscriber.name,
            Self::SubscriberEmail => &vars.subscriber.email,
            Self::SubscriberLocale => &vars.subscriber.locale,
            Self::ListName => &vars.list.name,
            Self::ListSlug => &vars.list.slug,
            Self::CampaignName => &vars.campaign.name,
            Self::UnsubscribeUrl => &vars.unsubscribe_url,
            Self::PreferencesUrl => &vars.preferences_url,
            Self::Organisation => &vars.organisation,
        }
    }
}

/// A piece of a template without logic.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(Var),
}

/// Marks the place of the n-th variable while the Markdown is converted: letters and digits
/// only, so Markdown leaves it alone wherever it stands.
const MARK: &str = "QXBULLETINVAR";

/// A template without logic, split into parts: subject and text as written, HTML from the
/// Markdown converted once with a mark in place of each variable.
#[derive(Debug)]
struct Substitution {
    subject: Vec<Part>,
    text: Vec<Part>,
    html: Vec<Part>,
    /// `html` with its overlong lines folded (`fold::fold_html`), once per campaign rather
    /// than per message; `None` if nothing could be folded.
    folded_html: Option<Vec<Part>>,
}

impl Substitution {
    /// The parts of subject and body, or `None` if either has logic (tags, comments,
    /// filters, expressions) or the body already contains the mark.
    fn compile(subject: &str, body_markdown: &str) -> Option<Self> {
        let subject = parts(subject)?;
        let text = parts(body_markdown)?;
        if body_markdown.contains(MARK) {
            return None;
        }
        let mut vars = Vec::new();
        let mut marked = String::with_capacity(body_markdown.len());
        for part in &text {
            match part {
                Part::Text(t) => marked.push_str(t),
                Part::Var(v) => {
                    marked.push_str(&format!("{MARK}{}Z", vars.len()));
                    vars.push(*v);
                }
            }
        }
        let marked_html = markdown_to_html(&marked);
        let folded_html = super::fold::fold_html(&marked_html)
            .filter(|folded| *folded != marked_html)
            .and_then(|folded| unmark(&folded, &vars));
        let html = unmark(&marked_html, &vars)?;
        Some(Self {
            subject,
            text,
            html,
            folded_html,
        })
    }

    /// The same substitution with its HTML folded, when it could be: it reads the same, and
    /// each message's HTML then fits its lines without being folded again.
    fn folded(mut self) -> Self {
        if let Some(folded) = self.folded_html.take() {
            self.html = folded;
        }
        self
    }

    fn render(&self, vars: &Personalisation) -> RenderedCampaign {
        let fill = |parts: &[Part], escape: bool| {
            let mut out = String::with_capacity(
                parts
                    .iter()
                    .map(|p| match p {
                        Part::Text(t) => t.len(),
                        Part::Var(_) => 64,
                    })
                    .sum(),
            );
            for part in parts {
                match part {
                    Part::Text(t) => out.push_str(t),
                    Part::Var(v) if escape => escape_html(&mut out, v.value(vars)),
                    Part::Var(v) => out.push_str(v.value(vars)),
                }
            }
            out
        };
        RenderedCampaign {
            subject: one_line(&fill(&self.subject, false)),
            text: fill(&self.text, false),
            html: fill(&self.html, true),
        }
    }
}

/// Escapes a value for HTML text or a double-quoted attribute (the only kind the Markdown
/// converter writes), as the converter itself does.
fn escape_html(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

/// Text and `{{ variable }}`s, or `None` when the template has anything else.
fn parts(source: &str) -> Option<Vec<Part>> {
    if source.contains("{%") || source.contains("{#") {
        return None;
    }
    let mut parts = Vec::new();
    // The engine drops one final line break (`keep_trailing_newline` is off).
    let mut rest = source
        .strip_suffix('\n')
        .map_or(source, |s| s.strip_suffix('\r').unwrap_or(s));
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}")?;
        let var = Var::parse(after[..end].trim())?;
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_owned()));
        }
        parts.push(Part::Var(var));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    Some(parts)
}

/// The converted HTML split at the marks; `None` if a mark went missing or was altered.
fn unmark(html: &str, vars: &[Var]) -> Option<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = html;
    let mut seen = 0;
    while let Some(start) = rest.find(MARK) {
        let after = &rest[start + MARK.len()..];
        let end = after.find('Z')?;
        let index: usize = after[..end].parse().ok()?;
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_owned()));
        }
        parts.push(Part::Var(*vars.get(index)?));
        seen += 1;
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_owned()));
    }
    (seen == vars.len()).then_some(parts)
}

/// CommonMark (with tables and strikethrough) to HTML.
pub fn markdown_to_html(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    );
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, parser);
    out
}

/// A campaign as a public web page shows it: the subject and body rendered with `vars`
/// (placeholders, not a person's values), the body's Markdown converted by
/// `markdown_to_public_html`.
///
/// # Errors
/// A template error.
pub fn render_public(
    subject: &str,
    body_markdown: &str,
    vars: &Personalisation,
) -> Result<RenderedCampaign, TemplateError> {
    let rendered = CampaignTemplate::compile(subject, body_markdown)?.render(vars)?;
    Ok(RenderedCampaign {
        html: markdown_to_public_html(&rendered.text),
        ..rendered
    })
}

/// A campaign's subject rendered with `vars` (placeholders), for lists of campaigns.
///
/// # Errors
/// A template error.
pub fn render_public_subject(
    subject: &str,
    vars: &Personalisation,
) -> Result<String, TemplateError> {
    Ok(CampaignTemplate::compile(subject, "")?
        .render(vars)?
        .subject)
}

/// CommonMark to HTML for a page of our own site: raw HTML in the Markdown is shown as text
/// (a mail may carry markup that has no place in a web page: scripts, forms, tracking
/// images), a link or image keeps its address only if it is a web, mail or relative one, and
/// headings move one level down, under the page's own `h1`.
pub fn markdown_to_public_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};
    let lower = |level: HeadingLevel| match level {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        HeadingLevel::H5 | HeadingLevel::H6 => HeadingLevel::H6,
    };
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
    .map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: lower(level),
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(lower(level))),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, parser);
    out
}

/// `url` if it is an `http`, `https` or `mailto` address or has no scheme (relative, `#…`);
/// otherwise `#` (no `javascript:` or `data:` link on a public page).
fn safe_url(url: pulldown_cmark::CowStr<'_>) -> pulldown_cmark::CowStr<'_> {
    let scheme = url
        .find([':', '/', '?', '#'])
        .filter(|&at| url[at..].starts_with(':'))
        .map(|at| url[..at].to_ascii_lowercase());
    match scheme.as_deref() {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => "#".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_html_shows_raw_html_as_text_and_keeps_only_safe_links() {
        let html = markdown_to_public_html(
            "# Title\n\n<script>alert(1)</script>\n\n[a](javascript:alert(1)) [b](https://example.com/x) [c](/archive) ![i](data:x)",
        );
        assert!(html.contains("<h2>Title</h2>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains(r##"<a href="#">a</a>"##), "{html}");
        assert!(html.contains(r#"href="https://example.com/x""#), "{html}");
        assert!(html.contains(r#"href="/archive""#), "{html}");
        assert!(html.contains(r##"<img src="#""##), "{html}");
    }

    #[test]
    fn variables_are_personal_and_escaped_in_html() {
        let t = CampaignTemplate::compile(
            "Hi {{ subscriber.name }}",
            "# News\n\nDear **{{ subscriber.name }}**, [leave]({{ unsubscribe_url }})",
        )
        .unwrap();
        let mut vars = Personalisation::sample("c");
        vars.subscriber.name = "<b>Jo</b> & Co".into();
        let r = t.render(&vars).unwrap();
        assert_eq!(r.subject, "Hi <b>Jo</b> & Co");
        assert!(r.text.contains("Dear **<b>Jo</b> & Co**"));
        assert!(r.html.contains("<h1>News</h1>"));
        assert!(
            r.html
                .contains("<strong>&lt;b&gt;Jo&lt;/b&gt; &amp; Co</strong>"),
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains(r#"href="https://example.com/unsubscribe/sample""#)
        );
    }

    #[test]
    fn a_name_is_never_read_as_markdown_also_in_a_template_with_logic() {
        let body = "{% if subscriber.name %}Dear {{ subscriber.name }},{% endif %}\n\n\
            [leave]({{ unsubscribe_url }}) <{{ unsubscribe_url }}>";
        let t = CampaignTemplate::compile("s", body).unwrap();
        assert!(!t.is_substituted());
        let mut vars = Personalisation::sample("c");
        vars.subscriber.name =
            "[win](https://evil.example) **now** <i>x</i> ![p](https://evil.example/p.png)".into();
        let html = t.render(&vars).unwrap().html;
        assert!(!html.contains("evil.example\""), "no link or image: {html}");
        assert!(
            !html.contains("<strong>") && !html.contains("<i>"),
            "{html}"
        );
        assert!(
            html.contains("[win](https://evil.example) **now** &lt;i&gt;x&lt;/i&gt;"),
            "{html}"
        );
        let link = r#"<a href="https://example.com/unsubscribe/sample">"#;
        assert_eq!(
            html.matches(link).count(),
            2,
            "the link and the autolink: {html}"
        );
    }

    #[test]
    fn text_that_only_looks_like_a_mark_is_kept() {
        let filled = fill_marks(
            "a QXBULLETINVAR0Z b QXBULLETINVAR7Z c QXBULLETINVARx",
            &["v".into()],
        );
        assert_eq!(filled, "a v b QXBULLETINVAR7Z c QXBULLETINVARx");
    }

    #[test]
    fn syntax_errors_and_unknown_variables_are_found_at_compile_time() {
        let err = CampaignTemplate::compile("ok", "line one\n{{ subscriber.name ")
            .unwrap_err()
            .to_string();
        assert!(err.contains("body:2"), "{err}");
        assert!(CampaignTemplate::compile("ok", "{{ subscriber.nmae }}").is_err());
        assert!(CampaignTemplate::compile("{{ nope }}", "body").is_err());
    }

    const NEWSLETTER: &str = "# News for {{ list.name }}\n\nDear **{{ subscriber.name }}**,\n\n\
        > a quote from {{ organisation }}\n\n| a | b |\n|---|---|\n| {{ subscriber.email }} | x |\n\n\
        [Leave]({{ unsubscribe_url }}) or [change]({{ preferences_url }} \"Prefs\").\n\n\
        ~~old~~ `code` *{{ campaign.name }}*\n";

    #[test]
    fn templates_without_logic_are_substituted_exactly_as_the_engine_renders_them() {
        let t = CampaignTemplate::compile("Hi {{ subscriber.name }}", NEWSLETTER).unwrap();
        assert!(t.is_substituted());
        let mut vars = Personalisation::other_sample("c");
        vars.subscriber.name = "Zoë O'Neil & <Co>".into();
        assert_eq!(
            t.render(&vars).unwrap(),
            t.render_with_engine(&vars).unwrap()
        );
        // An empty value is empty text, not Markdown (the engine would print `****`).
        vars.subscriber.name = String::new();
        assert!(
            t.render(&vars)
                .unwrap()
                .html
                .contains("Dear <strong></strong>,")
        );
        // A quote cannot leave an attribute.
        let t =
            CampaignTemplate::compile("s", "[x](https://e.com \"{{ subscriber.name }}\")").unwrap();
        vars.subscriber.name = "a\" onclick=\"x".into();
        let html = t.render(&vars).unwrap().html;
        assert!(
            html.contains(r#"title="a&quot; onclick=&quot;x""#),
            "{html}"
        );
    }

    #[test]
    fn a_long_paragraph_is_folded_once_and_reads_as_the_engine_renders_it() {
        let body = format!(
            "Dear {{{{ subscriber.name }}}}, {}[leave]({{{{ unsubscribe_url }}}})\n\n<pre>a  b</pre>",
            "a long paragraph on one line ".repeat(60)
        );
        let t = CampaignTemplate::compile("s", &body).unwrap();
        assert!(t.is_substituted());
        let vars = Personalisation::other_sample("c");
        let (folded, engine) = (
            t.render(&vars).unwrap().html,
            t.render_with_engine(&vars).unwrap().html,
        );
        assert_ne!(folded, engine);
        assert_eq!(folded.replace('\n', " "), engine.replace('\n', " "));
        assert!(folded.lines().all(|l| l.len() <= 120), "{folded}");
        assert!(folded.contains("<pre>a  b</pre>"));
    }

    #[test]
    fn templates_with_logic_or_odd_placements_use_the_engine() {
        let logic = "{% if subscriber.name %}Hi {{ subscriber.name }}{% endif %}";
        assert!(
            !CampaignTemplate::compile("s", logic)
                .unwrap()
                .is_substituted()
        );
        let filter = "Hi {{ subscriber.name | upper }}";
        assert!(
            !CampaignTemplate::compile("s", filter)
                .unwrap()
                .is_substituted()
        );
        // An autolink of a mark is not a link: the result would differ, so the engine renders.
        let autolink = "<{{ unsubscribe_url }}>";
        let t = CampaignTemplate::compile("s", autolink).unwrap();
        assert!(!t.is_substituted());
        assert!(
            t.render(&Personalisation::sample("c"))
                .unwrap()
                .html
                .contains("<a href=")
        );
    }

    /// Values Markdown cannot read differently from text: not empty, no white space at either
    /// end, no Markdown punctuation.
    const PLAIN_VALUE: &str = "[A-Za-zÀ-ÿ0-9&<>,]([A-Za-zÀ-ÿ0-9 '&<>,]{0,38}[A-Za-zÀ-ÿ0-9&<>,])?";

    proptest::proptest! {
        #[test]
        fn substitution_matches_the_engine_for_plain_values(
            name in PLAIN_VALUE,
            list in PLAIN_VALUE,
        ) {
            let t = CampaignTemplate::compile("Hi {{ subscriber.name }}", NEWSLETTER).unwrap();
            proptest::prop_assume!(t.is_substituted());
            let mut vars = Personalisation::sample("c");
            vars.subscriber.name = name;
            vars.list.name = list;
            proptest::prop_assert_eq!(t.render(&vars).unwrap(), t.render_with_engine(&vars).unwrap());
        }
    }

    #[test]
    fn runaway_loops_run_out_of_fuel() {
        let body =
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
        assert!(CampaignTemplate::compile("s", body).is_err());
    }

    #[test]
    fn templates_read_attributes_and_a_missing_one_is_empty() {
        let t = CampaignTemplate::compile(
            "Plan {{ subscriber.attributes.plan }}",
            "{% if subscriber.attributes.company %}For {{ subscriber.attributes.company }}{% else %}For you{% endif %}, \
             {{ subscriber.attributes.seats }} seats",
        )
        .unwrap();
        assert!(!t.is_substituted(), "attributes go through the engine");
        let mut vars = Personalisation::sample("c");
        let attributes = crate::domain::Attributes::from_json(
            &serde_json::json!({"plan": "pro", "company": "<Acme> & Co", "seats": 12}),
        )
        .unwrap();
        vars.subscriber.attributes = attribute_values(&attributes);
        let r = t.render(&vars).unwrap();
        assert_eq!(r.subject, "Plan pro");
        assert!(
            r.html.contains("For &lt;Acme&gt; &amp; Co, 12 seats"),
            "{}",
            r.html
        );
        vars.subscriber.attributes = attribute_values(&crate::domain::Attributes::default());
        let r = t.render(&vars).unwrap();
        assert_eq!(r.subject, "Plan");
        assert!(r.text.starts_with("For you,  seats"), "{}", r.text);
        let typo = CampaignTemplate::compile("s", "{{ subscriber.atributes.plan }}");
        assert!(typo.is_err(), "a misspelt variable is still caught");
    }

    #[test]
    fn the_sandbox_has_no_file_or_environment_access() {
        assert!(CampaignTemplate::compile("s", "{% include '/etc/passwd' %}").is_err());
        assert!(CampaignTemplate::compile("s", "{{ env.HOME }}").is_err());
    }
}
