//! `/admin/segments`: see segments, build one from rows of conditions (add, remove, count
//! without saving, save), change its filter as JSON, and delete it after a question. The rows
//! become the same JSON filter the API takes; the service judges it, and a refusal is shown
//! beside the row it names.

use axum::{
    Extension,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AdminError, AdminSession};
use crate::{
    domain::{Action, FilterError, SegmentId, segment},
    services::{
        campaigns, lists,
        segments::{self, SegmentsError},
    },
    store::segments::Segment,
    web::{
        AppState,
        extract::PageForm,
        views::admin::{
            segments::{RowView, SegmentFormView, delete_page, segment_page, segments_page},
            t, tf, tl,
        },
    },
};

impl From<SegmentsError> for AdminError {
    fn from(e: SegmentsError) -> Self {
        match e {
            SegmentsError::Forbidden(_) => Self::Forbidden,
            SegmentsError::NotFound => Self::NotFound,
            SegmentsError::Store(e) => e.into(),
            e @ (SegmentsError::Invalid(_)
            | SegmentsError::NameTaken(_)
            | SegmentsError::InUse(_)) => Self::internal(&e),
        }
    }
}

/// `GET /admin/segments`: every segment by name.
pub(super) async fn index(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    let all = segments::all(&state.ctx, &session.actor()).await?;
    Ok(segments_page(&session.ctx(), &all).into_response())
}

/// `GET /admin/segments/new`: the empty form, with one condition to fill in.
pub(super) async fn new_form(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let shown = Shown {
        rows: Some(vec![RowView::default()]),
        json: String::new(),
        ..Shown::default()
    };
    render(&state, &session, None, "", shown, StatusCode::OK).await
}

/// `GET /admin/segments/{id}`: the segment's count, its conditions and its JSON.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    let actor = session.actor();
    let saved = segments::find(&state.ctx, &actor, segment_id(&id)?).await?;
    let json = segments::filter_json(&state.ctx, &saved.filter).await?;
    let (join, rows) = rows_of(&json).map_or((None, None), |(j, r)| (Some(j), Some(r)));
    let shown = Shown {
        join: join.unwrap_or("all").to_owned(),
        rows,
        json: pretty(&json),
        count: Some(segments::count(&state.ctx, &actor, &saved.filter).await?),
        ..Shown::default()
    };
    let name = saved.name.clone();
    render(&state, &session, Some(&saved), &name, shown, StatusCode::OK).await
}

/// The segment form as posted: one entry per row in `field`, `key`, `op`, `kind` and
/// `value`; `not` holds the numbers of the negated rows; `do` is the button pressed.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SegmentForm {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "match")]
    join: String,
    #[serde(default)]
    not: Vec<String>,
    #[serde(default)]
    field: Vec<String>,
    #[serde(default)]
    key: Vec<String>,
    #[serde(default)]
    op: Vec<String>,
    #[serde(default)]
    kind: Vec<String>,
    #[serde(default)]
    value: Vec<String>,
    #[serde(default)]
    filter_json: String,
    #[serde(default, rename = "do")]
    action: String,
    #[serde(default, rename = "csrf")]
    _csrf: String,
}

impl SegmentForm {
    /// `all` or `any`.
    fn join(&self) -> &'static str {
        if self.join == "any" { "any" } else { "all" }
    }

    /// The rows as typed, at most as many as a filter may hold.
    fn rows(&self) -> Vec<RowView> {
        let at = |v: &[String], i: usize| v.get(i).cloned().unwrap_or_default();
        (0..self.field.len().min(segment::MAX_PARTS))
            .map(|i| RowView {
                negate: self.not.iter().any(|n| n.parse() == Ok(i)),
                field: at(&self.field, i),
                key: at(&self.key, i),
                op: at(&self.op, i),
                kind: at(&self.kind, i),
                value: at(&self.value, i),
                error: None,
            })
            .collect()
    }
}

/// `POST /admin/segments`: a button of the new segment's form.
pub(super) async fn create(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    PageForm(form): PageForm<SegmentForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    act(&state, &session, None, form).await
}

/// `POST /admin/segments/{id}`: a button of a saved segment's form.
pub(super) async fn update(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
    PageForm(form): PageForm<SegmentForm>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let saved = segments::find(&state.ctx, &session.actor(), segment_id(&id)?).await?;
    act(&state, &session, Some(&saved), form).await
}

/// What the form shows besides the name.
#[derive(Debug, Default)]
struct Shown {
    join: String,
    rows: Option<Vec<RowView>>,
    rows_error: Option<String>,
    name_error: Option<String>,
    json: String,
    json_error: Option<String>,
    count: Option<u64>,
}

impl Shown {
    fn refused(&self) -> bool {
        self.name_error.is_some()
            || self.rows_error.is_some()
            || self.json_error.is_some()
            || self
                .rows
                .as_ref()
                .is_some_and(|rows| rows.iter().any(|r| r.error.is_some()))
    }
}

/// Does what the pressed button asks: add or remove a row (nothing checked), count or save
/// the rows, or count or save the JSON.
async fn act(
    state: &AppState,
    session: &AdminSession,
    saved: Option<&Segment>,
    form: SegmentForm,
) -> Result<Response, AdminError> {
    if form.action.starts_with("json-") {
        return act_on_json(state, session, saved, form).await;
    }
    let mut rows = form.rows();
    edit_rows(&form.action, &mut rows);
    let mut shown = Shown {
        join: form.join().to_owned(),
        json: form.filter_json.clone(),
        ..Shown::default()
    };
    let built = build(form.join(), &mut rows);
    if let Some(filter) = &built {
        shown.json = pretty(filter);
    }
    match (form.action.as_str(), &built) {
        ("count" | "save", _) if rows.is_empty() => {
            shown.rows_error = Some(t("Add at least one condition.").to_owned());
        }
        ("save", Some(filter)) => match save(state, session, saved, &form.name, filter).await? {
            Ok(done) => return Ok(done),
            Err(e) => place(e, &mut shown, &mut rows, false)?,
        },
        ("count", Some(filter)) => {
            count_into(state, session, filter, &mut shown, &mut rows, false).await?;
        }
        _ => {}
    }
    if form.action == "save" && shown.name_error.is_none() {
        shown.name_error = segment::parse_name(&form.name)
            .err()
            .map(|e| tl(&e.problem).to_owned());
    }
    shown.rows = Some(rows);
    let code = status(&shown);
    render(state, session, saved, &form.name, shown, code).await
}

/// "Add a condition" appends an empty row (up to the limit); "Remove" takes its row away.
fn edit_rows(action: &str, rows: &mut Vec<RowView>) {
    if action == "add" && rows.len() < segment::MAX_PARTS - 1 {
        rows.push(RowView::default());
    }
    let removed = action
        .strip_prefix("remove-")
        .and_then(|i| i.parse::<usize>().ok())
        .filter(|i| *i < rows.len());
    if let Some(i) = removed {
        rows.remove(i);
    }
}

/// The count of the filter into `shown`, or its refusal where it belongs.
async fn count_into(
    state: &AppState,
    session: &AdminSession,
    filter: &Value,
    shown: &mut Shown,
    rows: &mut [RowView],
    json: bool,
) -> Result<(), AdminError> {
    match segments::parse_filter(&state.ctx, filter).await {
        Ok(f) => shown.count = Some(segments::count(&state.ctx, &session.actor(), &f).await?),
        Err(e) => place(e, shown, rows, json)?,
    }
    Ok(())
}

/// The count or save of the JSON text.
async fn act_on_json(
    state: &AppState,
    session: &AdminSession,
    saved: Option<&Segment>,
    form: SegmentForm,
) -> Result<Response, AdminError> {
    let mut shown = Shown {
        join: form.join().to_owned(),
        json: form.filter_json.clone(),
        ..Shown::default()
    };
    let mut rows = Vec::new();
    match serde_json::from_str::<Value>(&form.filter_json) {
        Err(e) => {
            shown.json_error = Some(tf("This is not JSON: {problem}", &[("problem", &e)]));
        }
        Ok(filter) => {
            if let Some((join, flat)) = rows_of(&filter) {
                shown.join = join.to_owned();
                shown.rows = Some(flat);
            }
            if form.action == "json-save" {
                match save(state, session, saved, &form.name, &filter).await? {
                    Ok(done) => return Ok(done),
                    Err(e) => place(e, &mut shown, &mut rows, true)?,
                }
            } else {
                count_into(state, session, &filter, &mut shown, &mut rows, true).await?;
            }
        }
    }
    let code = status(&shown);
    render(state, session, saved, &form.name, shown, code).await
}

/// Saves the segment: the redirect to its page with a message, or the service's refusal of
/// the name or the filter (nothing was saved).
async fn save(
    state: &AppState,
    session: &AdminSession,
    saved: Option<&Segment>,
    name: &str,
    filter: &Value,
) -> Result<Result<Response, SegmentsError>, AdminError> {
    match try_save(state, session, saved, name, filter).await {
        Ok(done) => {
            let message = tf("The segment “{name}” is saved.", &[("name", &done.name)]);
            let to = format!("/admin/segments/{}", done.id);
            Ok(Ok(super::redirect_with(state, session, &to, &message)))
        }
        Err(e @ (SegmentsError::Invalid(_) | SegmentsError::NameTaken(_))) => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// Creates or updates the segment.
async fn try_save(
    state: &AppState,
    session: &AdminSession,
    saved: Option<&Segment>,
    name: &str,
    filter: &Value,
) -> Result<Segment, SegmentsError> {
    let actor = session.actor();
    match saved {
        Some(s) => segments::update(&state.ctx, &actor, s.id, Some(name), Some(filter)).await,
        None => segments::create(&state.ctx, &actor, name, filter).await,
    }
}

/// Puts a refusal where it belongs: the name, the row its path names, the JSON (`json`: the
/// JSON was posted) or the conditions as a whole; `Err` for what no field is about.
fn place(
    e: SegmentsError,
    shown: &mut Shown,
    rows: &mut [RowView],
    json: bool,
) -> Result<(), AdminError> {
    match e {
        SegmentsError::NameTaken(name) => {
            shown.name_error = Some(tf(
                "Another segment is called “{name}”.",
                &[("name", &name)],
            ));
        }
        SegmentsError::Invalid(FilterError { path, problem }) if path == "name" => {
            shown.name_error = Some(tl(&problem).to_owned());
        }
        SegmentsError::Invalid(FilterError { path, problem }) => {
            let said = tl(&problem).to_owned();
            let row = row_of_path(&path).and_then(|(i, part)| Some((rows.get_mut(i)?, part)));
            match row {
                _ if json => shown.json_error = Some(format!("{path}: {said}")),
                Some((row, part)) => row.error = Some((input_of(&row.field, part), said)),
                None => shown.rows_error = Some(said),
            }
        }
        other => return Err(other.into()),
    }
    Ok(())
}

/// 422 when something was refused.
fn status(shown: &Shown) -> StatusCode {
    if shown.refused() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    }
}

/// The form page with what it shows.
async fn render(
    state: &AppState,
    session: &AdminSession,
    saved: Option<&Segment>,
    name: &str,
    shown: Shown,
    code: StatusCode,
) -> Result<Response, AdminError> {
    let lists: Vec<(String, String)> = lists::all(&state.ctx)
        .await?
        .into_iter()
        .map(|l| (l.def.slug.as_str().to_owned(), l.def.name))
        .collect();
    let campaigns: Vec<(String, String)> = campaigns::all(&state.ctx)
        .await?
        .into_iter()
        .map(|c| (c.id.to_string(), c.def.name))
        .collect();
    let view = SegmentFormView {
        editing: saved,
        name,
        name_error: shown.name_error.as_deref(),
        join: &shown.join,
        rows: shown.rows.as_deref(),
        rows_error: shown.rows_error.as_deref(),
        json: &shown.json,
        json_error: shown.json_error.as_deref(),
        count: shown.count,
        lists: &lists,
        campaigns: &campaigns,
    };
    Ok((code, segment_page(&session.ctx(), &view)).into_response())
}

/// `GET /admin/segments/{id}/delete`: the question before deleting.
pub(super) async fn confirm_delete(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let saved = segments::find(&state.ctx, &session.actor(), segment_id(&id)?).await?;
    Ok(delete_page(&session.ctx(), &saved, None).into_response())
}

/// `POST /admin/segments/{id}/delete`: deletes it, unless an unsent campaign uses it.
pub(super) async fn delete(
    State(state): State<AppState>,
    Extension(session): Extension<AdminSession>,
    Path(id): Path<String>,
) -> Result<Response, AdminError> {
    session.authorize(Action::ManageCampaigns)?;
    let actor = session.actor();
    let saved = segments::find(&state.ctx, &actor, segment_id(&id)?).await?;
    match segments::delete(&state.ctx, &actor, saved.id).await {
        Ok(()) => {
            let done = tf("The segment “{name}” is deleted.", &[("name", &saved.name)]);
            Ok(super::redirect_with(
                &state,
                &session,
                "/admin/segments",
                &done,
            ))
        }
        Err(SegmentsError::InUse(campaign)) => {
            let problem = tf(
                "The campaign “{campaign}” uses this segment and is not sent yet; change its segment first.",
                &[("campaign", &campaign)],
            );
            let page = delete_page(&session.ctx(), &saved, Some(&problem));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// The segment of a path; a malformed id names no segment.
fn segment_id(raw: &str) -> Result<SegmentId, AdminError> {
    raw.parse()
        .map(SegmentId::from_uuid)
        .map_err(|_| AdminError::NotFound)
}

/// The JSON text shown in the form.
fn pretty(filter: &Value) -> String {
    serde_json::to_string_pretty(filter).unwrap_or_default()
}

/// The filter `{"all"|"any": [...]}` of the rows; a row whose value cannot be read as its
/// type gets its error and the result is `None`.
fn build(join: &str, rows: &mut [RowView]) -> Option<Value> {
    let mut parts = Vec::new();
    for row in rows.iter_mut() {
        match condition(row) {
            Ok(c) if row.negate => parts.push(json!({ "not": c })),
            Ok(c) => parts.push(c),
            Err(e) => row.error = Some(("value", e.to_owned())),
        }
    }
    (parts.len() == rows.len()).then(|| json!({ join: parts }))
}

/// One row as a condition of the filter.
fn condition(row: &RowView) -> Result<Value, &'static str> {
    let value = row.value.trim();
    Ok(match row.field.as_str() {
        "language" => json!({ "locale": value }),
        "list" => json!({ "list": value }),
        "received" => json!({ "received": value }),
        field @ ("subscribed_before" | "subscribed_after") => {
            let mut out = Map::new();
            out.insert(field.to_owned(), value.into());
            if !row.key.trim().is_empty() {
                out.insert("list".to_owned(), row.key.trim().into());
            }
            Value::Object(out)
        }
        _ => {
            let mut out = Map::new();
            out.insert("attribute".to_owned(), row.key.trim().into());
            out.insert("op".to_owned(), row.op.as_str().into());
            if row.op != "exists" {
                out.insert("value".to_owned(), typed(&row.kind, &row.value)?);
            }
            Value::Object(out)
        }
    })
}

/// An attribute test's value read as its type.
fn typed(kind: &str, raw: &str) -> Result<Value, &'static str> {
    let trimmed = raw.trim();
    match kind {
        "number" => trimmed
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or(t("Write a number, such as 42 or 9.5.")),
        "yes_no" => match trimmed.to_lowercase().as_str() {
            "yes" | "true" | "ja" => Ok(true.into()),
            "no" | "false" | "nein" => Ok(false.into()),
            _ => Err(t("Write yes or no.")),
        },
        "date" if segment::date_shaped(trimmed) => Ok(trimmed.into()),
        "date" => Err(t("Write a date as YYYY-MM-DD.")),
        _ => Ok(raw.into()),
    }
}

/// The row (`filter.all[2]…` is row 2) and the part (`value`) a refusal's path names.
fn row_of_path(path: &str) -> Option<(usize, &str)> {
    let rest = path.strip_prefix("filter.")?;
    let rest = rest
        .strip_prefix("all[")
        .or_else(|| rest.strip_prefix("any["))?;
    let (index, rest) = rest.split_once(']')?;
    let rest = rest.strip_prefix(".not").unwrap_or(rest);
    Some((index.parse().ok()?, rest.trim_start_matches('.')))
}

/// The input of a row a refused part is about.
fn input_of(field: &str, part: &str) -> &'static str {
    match (field, part) {
        (_, "attribute") => "key",
        (_, "op") => "op",
        ("subscribed_before" | "subscribed_after", "list") => "key",
        _ => "value",
    }
}

/// The filter as rows, when it is one condition or one group of conditions (each perhaps
/// negated): `all` or `any`, and the rows.
fn rows_of(filter: &Value) -> Option<(&'static str, Vec<RowView>)> {
    let object = filter.as_object()?;
    let (join, items) = match (object.get("all"), object.get("any")) {
        (Some(Value::Array(items)), None) => ("all", items.iter().collect::<Vec<_>>()),
        (None, Some(Value::Array(items))) => ("any", items.iter().collect()),
        _ => ("all", vec![filter]),
    };
    let rows = items
        .into_iter()
        .map(|item| match item.get("not") {
            Some(inner) if item.as_object().is_some_and(|o| o.len() == 1) => row_of(inner, true),
            _ => row_of(item, false),
        })
        .collect::<Option<Vec<_>>>()?;
    Some((join, rows))
}

/// One condition as a row; `None` for a group.
fn row_of(condition: &Value, negate: bool) -> Option<RowView> {
    let object = condition.as_object()?;
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut row = RowView {
        negate,
        op: "eq".to_owned(),
        kind: "text".to_owned(),
        ..RowView::default()
    };
    if let Some(key) = text("attribute") {
        row.field = "attribute".to_owned();
        row.key = key;
        row.op = text("op").unwrap_or_default();
        (row.kind, row.value) = shown_value(object.get("value"));
    } else if let Some(locale) = text("locale") {
        (row.field, row.value) = ("language".to_owned(), locale);
    } else if let Some(received) = text("received") {
        (row.field, row.value) = ("received".to_owned(), received);
    } else if let Some(field) = ["subscribed_before", "subscribed_after"]
        .into_iter()
        .find(|f| object.contains_key(*f))
    {
        let at = text(field).unwrap_or_default();
        row.field = field.to_owned();
        row.value = at
            .strip_suffix("T00:00:00+00:00")
            .map_or(at.clone(), str::to_owned);
        row.key = text("list").unwrap_or_default();
    } else if let Some(list) = text("list") {
        (row.field, row.value) = ("list".to_owned(), list);
    } else {
        return None;
    }
    Some(row)
}

/// An attribute test's value as the form shows it: its type and its text.
fn shown_value(value: Option<&Value>) -> (String, String) {
    let (kind, text) = match value {
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => ("number", format!("{f:.0}")),
            _ => ("number", n.to_string()),
        },
        Some(Value::Bool(b)) => ("yes_no", if *b { "yes" } else { "no" }.to_owned()),
        Some(Value::String(s)) if segment::date_shaped(s) => ("date", s.clone()),
        Some(Value::String(s)) => ("text", s.clone()),
        _ => ("text", String::new()),
    };
    (kind.to_owned(), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_the_filter_and_read_back_the_same() {
        let mut rows = vec![
            RowView {
                field: "attribute".into(),
                key: "plan".into(),
                op: "eq".into(),
                kind: "text".into(),
                value: "pro".into(),
                ..RowView::default()
            },
            RowView {
                negate: true,
                field: "language".into(),
                value: "de".into(),
                ..RowView::default()
            },
            RowView {
                field: "attribute".into(),
                key: "seats".into(),
                op: "gt".into(),
                kind: "number".into(),
                value: "5".into(),
                ..RowView::default()
            },
        ];
        let filter = build("any", &mut rows).unwrap();
        assert_eq!(
            filter,
            json!({"any": [
                {"attribute": "plan", "op": "eq", "value": "pro"},
                {"not": {"locale": "de"}},
                {"attribute": "seats", "op": "gt", "value": 5.0},
            ]})
        );
        let (join, back) = rows_of(&filter).unwrap();
        assert_eq!(join, "any");
        assert_eq!(back[0].value, "pro");
        assert!(back[1].negate && back[1].field == "language" && back[1].value == "de");
        assert_eq!(
            (back[2].kind.as_str(), back[2].value.as_str()),
            ("number", "5")
        );
    }

    #[test]
    fn a_value_not_of_its_type_is_refused_at_its_row() {
        let mut rows = vec![RowView {
            field: "attribute".into(),
            key: "seats".into(),
            op: "gt".into(),
            kind: "number".into(),
            value: "many".into(),
            ..RowView::default()
        }];
        assert_eq!(build("all", &mut rows), None);
        assert_eq!(rows[0].error.as_ref().map(|(at, _)| *at), Some("value"));
    }

    #[test]
    fn nested_groups_are_not_rows() {
        let nested = json!({"all": [{"any": [{"locale": "de"}, {"list": "news"}]}]});
        assert!(rows_of(&nested).is_none());
        assert!(rows_of(&json!({"not": {"all": [{"locale": "de"}]}})).is_none());
    }

    #[test]
    fn a_refusal_path_names_its_row_and_part() {
        assert_eq!(row_of_path("filter.all[2].value"), Some((2, "value")));
        assert_eq!(row_of_path("filter.any[0].not.list"), Some((0, "list")));
        assert_eq!(row_of_path("filter.all"), None);
        assert_eq!(row_of_path("name"), None);
    }
}
