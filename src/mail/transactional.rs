//! Transactional messages: the operator's template rendered with what the integrator passed
//! (`data.*`) and the person's own values, in a plain frame with the organisation's name and
//! postal address, and without a list footer or an unsubscribe link: a receipt is not a
//! newsletter.

use maud::{DOCTYPE, PreEscaped, html};

use super::{
    CampaignTemplate, Personalisation, RenderedMail, TemplateError,
    campaign::{CampaignVars, ListVars, SubscriberVars, attribute_values},
};
use crate::{config::Settings, domain::Subscriber};

/// Renders `template` (named `name`) for `subscriber` with the caller's `data`. A variable
/// the data lacks is an error naming it, never an empty gap in someone's receipt.
///
/// # Errors
/// A rendering error (an unknown variable, running out of fuel).
pub fn render(
    name: &str,
    template: &CampaignTemplate,
    subscriber: &Subscriber,
    data: &serde_json::Value,
    settings: &Settings,
) -> Result<RenderedMail, TemplateError> {
    let organisation = settings.mail.organisation.clone();
    let vars = Personalisation {
        subscriber: SubscriberVars {
            name: subscriber.name.as_str().to_owned(),
            email: subscriber.email.as_str().to_owned(),
            locale: subscriber.locale.as_str().to_owned(),
            attributes: attribute_values(&subscriber.attributes),
        },
        list: ListVars {
            name: String::new(),
            slug: String::new(),
        },
        campaign: CampaignVars { name: name.into() },
        unsubscribe_url: String::new(),
        preferences_url: String::new(),
        organisation: organisation.clone(),
        data: minijinja::Value::from(minijinja::value::Serde(data)),
    };
    let body = template.render(&vars)?;
    let postal = settings.mail.postal_address.trim();
    let footer = match postal.is_empty() {
        true => organisation.clone(),
        false => format!("{organisation}\n{postal}"),
    };
    let text = format!("{}\n\n-- \n{footer}\n", body.text.trim_end());
    let html = html! {
        (DOCTYPE)
        html lang=(subscriber.locale.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (body.subject) }
            }
            body style="margin:0;padding:24px 16px;background-color:#ffffff;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:24px;color:#111827;" {
                div style="max-width:600px;margin:0 auto;overflow-wrap:anywhere;" {
                    (PreEscaped(&body.html))
                }
                p style="max-width:600px;margin:24px auto 0 auto;padding-top:12px;border-top:1px solid #e5e7eb;font-size:12px;line-height:18px;color:#6b7280;white-space:pre-line;" {
                    (footer)
                }
            }
        }
    };
    Ok(RenderedMail {
        subject: body.subject,
        text,
        html: html.into_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Attributes, EmailAddress, Locale, SubscriberId, SubscriberName, SubscriberStatus,
    };

    fn person() -> Subscriber {
        Subscriber {
            id: SubscriberId::new(),
            email: EmailAddress::parse("ada@example.com").unwrap(),
            name: SubscriberName::parse("Ada <Lovelace>").unwrap(),
            locale: Locale::En,
            status: SubscriberStatus::Active,
            created_at: chrono::Utc::now(),
            attributes: Attributes::default(),
        }
    }

    fn settings() -> Settings {
        crate::config::RawSettings::load(None)
            .unwrap()
            .parse()
            .unwrap()
    }

    #[test]
    fn data_and_the_person_fill_the_template_escaped_and_without_unsubscribe() {
        let t = CampaignTemplate::compile_transactional(
            "Order {{ data.order.id }} shipped",
            "Hello {{ subscriber.name }},\n\n{% for item in data.items %}- {{ item }}\n{% endfor %}",
        )
        .unwrap();
        let data = serde_json::json!({"order": {"id": "A-17"}, "items": ["Tea <green>", "Cup"]});
        let mail = render("order-shipped", &t, &person(), &data, &settings()).unwrap();
        assert_eq!(mail.subject, "Order A-17 shipped");
        assert!(mail.html.contains("Ada &lt;Lovelace&gt;"), "{}", mail.html);
        assert!(mail.html.contains("Tea &lt;green&gt;"), "{}", mail.html);
        assert!(mail.text.contains("- Tea <green>"), "{}", mail.text);
        assert!(!mail.html.to_lowercase().contains("unsubscribe"));
    }

    #[test]
    fn a_variable_the_data_lacks_is_an_error() {
        let t = CampaignTemplate::compile_transactional("Hi", "Code: {{ data.code }}").unwrap();
        let data = serde_json::json!({"other": 1});
        assert!(render("reset", &t, &person(), &data, &settings()).is_err());
    }

    #[test]
    fn a_misspelt_variable_outside_data_is_refused_when_saved() {
        assert!(CampaignTemplate::compile_transactional("Hi", "{{ subscribr.name }}").is_err());
        assert!(CampaignTemplate::compile_transactional("Hi", "{% if %}").is_err());
    }
}
