//! Adding a subscriber (the rules of one import row, as `POST /api/v1/subscribers`) and
//! correcting a subscriber's name and language (as the person's own data page does) and
//! attributes, in one change.

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{AdminError, AdminSession};
use crate::{
    domain::{
        Action, AttributeError, AttributeKind, Attributes, EmailAddress, ListSlug, Locale,
        MailingList, SubscriberId, SubscriberName, attributes,
    },
    services::{
        imports::{self, AddSubscriberError, NewSubscriber},
        lists,
        privacy::{self, Party, PrivacyError, ProfilePatch},
        subscribers,
    },
    web::AppState,
    web::{
        extract::PageForm,
        views::admin::{
            Errors,
            imports::reason,
            subscribers::{
                AddFormView, AttributeRow, EditView, add_page, attribute_form_text, edit_page,
            },
            t, te, tf, tl,
        },
    },
};

#[derive(Debug, Default, Deserialize)]
pub(super) struct AddForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    consent_at: String,
    #[serde(default)]
    consent_source: String,
    #[serde(default)]
    consent_text: String,
}

/// The add-a-subscriber page with the form as typed.
fn add_form_page(
    session: &AdminSession,
    all: &[MailingList],
    form: &AddForm,
    errors: &Errors,
    code: StatusCode,
) -> Response {
    let values = AddFormView {
        email: &form.email,
        name: &form.name,
        locale: &form.locale,
        list: &form.list,
        consent_at: &form.consent_at,
        consent_source: &form.consent_source,
        consent_text: &form.consent_text,
    };
    (code, add_page(&session.ctx(), all, &values, errors)).into_response()
}

/// `GET /admin/subscribers/new`.
pub(super) async fn add_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageSubscribers)?;
    let all = lists::all(&state.ctx).await?;
    let form = AddForm {
        locale: "en".into(),
        ..AddForm::default()
    };
    Ok(add_form_page(
        &session,
        &all,
        &form,
        &Errors::new(),
        StatusCode::OK,
    ))
}

fn some(raw: &str) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `POST /admin/subscribers/new`.
pub(super) async fn add(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<AddForm>,
) -> Result<Response, AdminError> {
    let all = lists::all(&state.ctx).await?;
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let mut errors = Errors::new();
    let email = EmailAddress::parse(&form.email).map_err(|e| errors.insert("email", te(&e)));
    let name = SubscriberName::parse(&form.name).map_err(|e| errors.insert("name", te(&e)));
    let list = ListSlug::parse(&form.list).map_err(|e| errors.insert("list", te(&e)));
    let (Ok(email), Ok(name), Ok(list)) = (email, name, list) else {
        return Ok(add_form_page(&session, &all, &form, &errors, refused));
    };
    let new = NewSubscriber {
        email,
        name,
        locale: Locale::from_tag(&form.locale).unwrap_or_default(),
        lists: vec![list],
        consent_at: some(&form.consent_at),
        consent_source: some(&form.consent_source),
        consent_text: some(&form.consent_text),
    };
    let errors = match imports::add_subscriber(&state.ctx, &session.actor(), new).await {
        Ok((found, _)) => {
            let id = found.subscriber.id;
            return Ok(Redirect::to(&format!("/admin/subscribers/{id}")).into_response());
        }
        Err(e @ (AddSubscriberError::Forbidden(_) | AddSubscriberError::Store(_))) => {
            return Err(e.into());
        }
        Err(e @ AddSubscriberError::Invalid { .. }) => {
            Errors::from([("consent", reason(&e.to_string()))])
        }
        Err(e) => Errors::from([("form", reason(&e.to_string()))]),
    };
    Ok(add_form_page(&session, &all, &form, &errors, refused))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct EditForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    locale: String,
    /// The keys of the attributes the form showed, one per row.
    #[serde(default)]
    attr_key: Vec<String>,
    /// Their values as typed, in the same order.
    #[serde(default)]
    attr_value: Vec<String>,
    /// Their types as chosen, in the same order.
    #[serde(default)]
    attr_kind: Vec<String>,
    /// The keys ticked for removal.
    #[serde(default)]
    remove: Vec<String>,
    /// The new attributes' keys, values and types, by row.
    #[serde(default)]
    new_key: Vec<String>,
    #[serde(default)]
    new_value: Vec<String>,
    #[serde(default)]
    new_kind: Vec<String>,
}

/// How many empty rows for new attributes the form offers.
const NEW_ROWS: usize = 3;

/// The rows as typed: `keys`, `values` and `kinds` by position.
fn typed_rows(
    keys: &[String],
    values: &[String],
    kinds: &[String],
    removed: &[String],
) -> Vec<AttributeRow> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| AttributeRow {
            key: key.clone(),
            value: values.get(i).cloned().unwrap_or_default(),
            kind: kinds
                .get(i)
                .cloned()
                .unwrap_or_else(|| AttributeKind::Text.as_str().to_owned()),
            remove: removed.contains(key),
            ..AttributeRow::default()
        })
        .collect()
}

/// The empty rows for new attributes, after the ones typed.
fn padded(mut rows: Vec<AttributeRow>) -> Vec<AttributeRow> {
    while rows.len() < NEW_ROWS {
        rows.push(AttributeRow::empty());
    }
    rows
}

/// A refusal of the attribute rules, in plain words.
fn allowed(e: &AttributeError) -> String {
    tf("Allowed: {what}.", &[("what", &tl(&e.problem))])
}

/// The value typed in a row, read as its type; yes/no also in the page's language.
fn read_value(key: &str, kind: &str, raw: &str) -> Result<Value, String> {
    let kind = AttributeKind::parse(kind).unwrap_or_default();
    let raw = raw.trim();
    let word = raw.to_lowercase();
    let raw = match kind {
        AttributeKind::Boolean if word == t("yes").to_lowercase() => "yes",
        AttributeKind::Boolean if word == t("no").to_lowercase() => "no",
        _ => raw,
    };
    kind.read(key, raw).map_err(|e| {
        let value: &dyn std::fmt::Display = &raw;
        match kind {
            AttributeKind::Number => tf("“{value}” is not a number.", &[("value", value)]),
            AttributeKind::Boolean => tf("“{value}” is not yes or no.", &[("value", value)]),
            AttributeKind::Date => tf(
                "“{value}” is not a date written YYYY-MM-DD.",
                &[("value", value)],
            ),
            AttributeKind::Text => allowed(&e),
        }
    })
}

/// The attribute patch the rows ask for: changed values typed by their type, removed ones
/// `null`, new ones set. A row that cannot be read gets its error instead.
fn attribute_patch(
    stored: &Attributes,
    present: &mut [AttributeRow],
    added: &mut [AttributeRow],
) -> Map<String, Value> {
    let mut patch = Map::new();
    for row in present.iter_mut() {
        if row.remove {
            patch.insert(row.key.clone(), Value::Null);
            continue;
        }
        let unchanged = stored.get(&row.key).is_some_and(|value| {
            let (text, kind) = attribute_form_text(value);
            text == row.value && kind.as_str() == row.kind
        });
        if unchanged {
            continue;
        }
        match read_value(&row.key, &row.kind, &row.value) {
            Ok(value) => {
                patch.insert(row.key.clone(), value);
            }
            Err(e) => row.value_error = Some(e),
        }
    }
    let mut used: Vec<String> = present.iter().map(|r| r.key.clone()).collect();
    for row in added.iter_mut() {
        let key = row.key.trim().to_owned();
        if key.is_empty() && row.value.trim().is_empty() {
            continue;
        }
        if key.is_empty() {
            row.key_error = Some(t("Enter a key for this value.").to_owned());
        } else if !attributes::valid_key(&key) {
            row.key_error =
                Some(t("A key is 1 to 40 of a-z, 0-9 and _ (no capitals or spaces).").to_owned());
        } else if used.contains(&key) || stored.get(&key).is_some() {
            row.key_error =
                Some(t("This key is used already: change its value in its own row.").to_owned());
        }
        if row.value.trim().is_empty() {
            row.value_error = Some(t("Enter a value.").to_owned());
        }
        if row.has_error() {
            continue;
        }
        match read_value(&key, &row.kind, &row.value) {
            Ok(value) => {
                patch.insert(key.clone(), value);
            }
            Err(e) => row.value_error = Some(e),
        }
        used.push(key);
    }
    patch
}

/// Puts a refusal of `update_profile` next to the row of its key, or above all of them.
fn place(e: &AttributeError, present: &mut [AttributeRow], added: &mut [AttributeRow]) -> Errors {
    if let Some(row) = present.iter_mut().find(|r| r.key == e.key) {
        row.value_error = Some(allowed(e));
    } else if let Some(row) = added.iter_mut().find(|r| r.key.trim() == e.key) {
        match attributes::valid_key(&e.key) {
            true => row.value_error = Some(allowed(e)),
            false => row.key_error = Some(allowed(e)),
        }
    } else {
        return Errors::from([("attributes", allowed(e))]);
    }
    Errors::new()
}

/// `GET /admin/subscribers/{id}/edit`.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageSubscribers)?;
    let id = SubscriberId::from_uuid(id);
    let s = subscribers::detail(&state.ctx, id).await?.subscriber;
    let present: Vec<AttributeRow> = s
        .attributes
        .iter()
        .map(|(key, value)| AttributeRow::stored(key, value))
        .collect();
    let added = padded(Vec::new());
    let v = EditView {
        id,
        name: s.name.as_str(),
        locale: s.locale.as_str(),
        present: &present,
        added: &added,
        errors: &Errors::new(),
    };
    Ok(edit_page(&session.ctx(), &v).into_response())
}

/// `POST /admin/subscribers/{id}/edit`: name and language (an Art. 16 rectification,
/// recorded in the ledger) and attributes, in one change: all or nothing.
pub(super) async fn edit(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<uuid::Uuid>,
    PageForm(form): PageForm<EditForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageSubscribers)?;
    let id = SubscriberId::from_uuid(id);
    let stored = subscribers::find(&state.ctx, id).await?;
    let mut present = typed_rows(
        &form.attr_key,
        &form.attr_value,
        &form.attr_kind,
        &form.remove,
    );
    let mut added = typed_rows(&form.new_key, &form.new_value, &form.new_kind, &[]);
    let mut errors = Errors::new();
    let name = SubscriberName::parse(&form.name).map_err(|e| errors.insert("name", te(&e)));
    let patch = attribute_patch(&stored.attributes, &mut present, &mut added);
    let refused = |errors: &Errors, present: &[AttributeRow], added: Vec<AttributeRow>| {
        let added = padded(added);
        let v = EditView {
            id,
            name: &form.name,
            locale: &form.locale,
            present,
            added: &added,
            errors,
        };
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            edit_page(&session.ctx(), &v),
        )
            .into_response()
    };
    let rows_failed = present.iter().chain(&added).any(AttributeRow::has_error);
    let Ok(name) = name else {
        return Ok(refused(&errors, &present, added));
    };
    if rows_failed {
        return Ok(refused(&errors, &present, added));
    }
    let change = ProfilePatch {
        name: Some(name),
        locale: Some(Locale::from_tag(&form.locale).unwrap_or_default()),
        attributes: Some(patch).filter(|p| !p.is_empty()),
    };
    let actor = Party::operator(&session.actor(), None);
    match privacy::update_profile(&state.ctx, id, change, &actor).await {
        Ok(_) => Ok(super::redirect_with(
            &state,
            &session,
            &format!("/admin/subscribers/{id}"),
            t("The changes to this person are saved."),
        )),
        Err(PrivacyError::Attribute(e)) => {
            let errors = place(&e, &mut present, &mut added);
            Ok(refused(&errors, &present, added))
        }
        Err(e) => Err(e.into()),
    }
}

impl From<AddSubscriberError> for AdminError {
    fn from(e: AddSubscriberError) -> Self {
        match e {
            AddSubscriberError::Forbidden(_) => Self::Forbidden,
            AddSubscriberError::Store(e) => e.into(),
            e => Self::internal(&e),
        }
    }
}
