//! Campaign templates: the marketer's subject and Markdown body, compiled once in a sandboxed
//! minijinja environment (no files, no environment, strict variables, bounded by fuel) and
//! rendered per recipient; Markdown becomes HTML with every variable escaped.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use super::TemplateError;

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
}

/// `list.*`
#[derive(Debug, Clone, Serialize)]
pub struct ListVars {
    /// Display name.
    pub name: String,
    /// Slug.
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
}

impl CampaignTemplate {
    /// Compiles the subject and body and renders them once with sample values, so that a
    /// syntax error or an unknown variable is found now, never mid-send.
    ///
    /// # Errors
    /// The template error, with the part (`subject` or `body`) and line.
    pub fn compile(subject: &str, body_markdown: &str) -> Result<Self, TemplateError> {
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
        env.add_template_owned("subject", subject.to_owned())?;
        env.add_template_owned("body", body_markdown.to_owned())?;
        env.add_template_owned("body.html", body_markdown.to_owned())?;
        let template = Self { env };
        template.render(&Personalisation::sample("sample"))?;
        Ok(template)
    }

    /// Renders subject, text and HTML for one recipient.
    ///
    /// # Errors
    /// A rendering error (for example running out of fuel).
    pub fn render(&self, vars: &Personalisation) -> Result<RenderedCampaign, TemplateError> {
        let value = minijinja::Value::from(minijinja::value::Serde(vars));
        let render = |name: &str| -> Result<String, TemplateError> {
            Ok(self.env.get_template(name)?.render(value.clone())?)
        };
        let subject = render("subject")?
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let text = render("body")?;
        let escaped_markdown = render("body.html")?;
        Ok(RenderedCampaign {
            subject,
            text,
            html: markdown_to_html(&escaped_markdown),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn syntax_errors_and_unknown_variables_are_found_at_compile_time() {
        let err = CampaignTemplate::compile("ok", "line one\n{{ subscriber.name ")
            .unwrap_err()
            .to_string();
        assert!(err.contains("body:2"), "{err}");
        assert!(CampaignTemplate::compile("ok", "{{ subscriber.nmae }}").is_err());
        assert!(CampaignTemplate::compile("{{ nope }}", "body").is_err());
    }

    #[test]
    fn runaway_loops_run_out_of_fuel() {
        let body =
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}";
        assert!(CampaignTemplate::compile("s", body).is_err());
    }

    #[test]
    fn the_sandbox_has_no_file_or_environment_access() {
        assert!(CampaignTemplate::compile("s", "{% include '/etc/passwd' %}").is_err());
        assert!(CampaignTemplate::compile("s", "{{ env.HOME }}").is_err());
    }
}
