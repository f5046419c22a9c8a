//! `/admin/segments`: the segments by name, the form that builds a filter from rows of
//! conditions (with its count, and the filter as JSON for what rows cannot show) and the
//! question before a segment is deleted. Render only.

use maud::{Markup, html};

use super::{Ctx, csrf_field, layout, t, tf, tn};
use crate::{domain::Action, store::segments::Segment};

/// One condition of the form, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowView {
    /// The condition is negated.
    pub negate: bool,
    /// What it tests: `attribute`, `language`, `list`, `subscribed_before`,
    /// `subscribed_after` or `received`.
    pub field: String,
    /// The attribute's key (for subscribed before/after: a list, optional).
    pub key: String,
    /// The attribute test's operator.
    pub op: String,
    /// How the value is read for an attribute test: `text`, `number`, `yes_no` or `date`.
    pub kind: String,
    /// The value as typed.
    pub value: String,
    /// The refusal of this row, with the name of the input it is about (`key`, `op` or
    /// `value`).
    pub error: Option<(&'static str, String)>,
}

/// What the segment form shows.
#[derive(Debug, Clone, Copy)]
pub struct SegmentFormView<'a> {
    /// The segment being changed (`None`: a new one).
    pub editing: Option<&'a Segment>,
    /// The name as typed.
    pub name: &'a str,
    /// The refusal of the name.
    pub name_error: Option<&'a str>,
    /// `all` or `any`.
    pub join: &'a str,
    /// The conditions; `None` when the filter has nested groups the rows cannot show.
    pub rows: Option<&'a [RowView]>,
    /// A refusal of the conditions as a whole (none at all).
    pub rows_error: Option<&'a str>,
    /// The filter as JSON text.
    pub json: &'a str,
    /// The refusal of the JSON text.
    pub json_error: Option<&'a str>,
    /// How many people the filter selects now, when counted.
    pub count: Option<u64>,
    /// The lists to suggest: (slug, name).
    pub lists: &'a [(String, String)],
    /// The campaigns to suggest: (id, name).
    pub campaigns: &'a [(String, String)],
}

/// What a condition can test, with its words.
fn fields() -> [(&'static str, &'static str); 6] {
    [
        ("attribute", t("An attribute")),
        ("language", t("Language")),
        ("list", t("On the list")),
        ("subscribed_before", t("Subscribed before")),
        ("subscribed_after", t("Subscribed after")),
        ("received", t("Received the campaign")),
    ]
}

/// The attribute tests, with their words.
fn operators() -> [(&'static str, &'static str); 6] {
    [
        ("eq", t("is")),
        ("ne", t("is not")),
        ("contains", t("contains")),
        ("gt", t("greater than / after")),
        ("lt", t("less than / before")),
        ("exists", t("has a value")),
    ]
}

/// How an attribute test's value is read, with its words.
fn kinds() -> [(&'static str, &'static str); 4] {
    [
        ("text", t("text")),
        ("number", t("number")),
        ("yes_no", t("yes/no")),
        ("date", t("date (YYYY-MM-DD)")),
    ]
}

/// `/admin/segments`: every segment by name, each linking to its page.
pub fn segments_page(ctx: &Ctx, segments: &[Segment]) -> Markup {
    layout(
        ctx,
        t("Segments"),
        html! {
            p.muted { (t("A segment selects people by their attributes, language, lists and the campaigns they received. A campaign aimed at a segment goes only to the members of its lists the segment selects.")) }
            @if ctx.may(Action::ManageCampaigns) {
                p { a.button href="/admin/segments/new" { (t("New segment")) } }
            }
            @if segments.is_empty() {
                p.muted { (t("No segments yet.")) }
            } @else {
                table.segments {
                    tr { th { (t("Name")) } th { (t("Changed")) } }
                    @for s in segments {
                        tr {
                            td { a href={ "/admin/segments/" (s.id) } { (s.name) } }
                            td { (ctx.time(s.updated_at)) }
                        }
                    }
                }
            }
        },
    )
}

/// The segment form: new (`/admin/segments/new`) or a saved segment's page, with its count,
/// its conditions and the filter as JSON; read-only for a role that may not change segments.
pub fn segment_page(ctx: &Ctx, v: &SegmentFormView<'_>) -> Markup {
    let may_change = ctx.may(Action::ManageCampaigns);
    let (title, action) = match v.editing {
        Some(s) => (s.name.as_str(), format!("/admin/segments/{}", s.id)),
        None => (t("New segment"), "/admin/segments".to_owned()),
    };
    let refused = v.name_error.is_some()
        || v.rows_error.is_some()
        || v.json_error.is_some()
        || v.rows
            .is_some_and(|rows| rows.iter().any(|r| r.error.is_some()));
    layout(
        ctx,
        title,
        html! {
            p { a href="/admin/segments" { (t("← all segments")) } }
            @if refused { p.error role="alert" { (t("The segment was not saved. Please correct what is marked below.")) } }
            @if let Some(n) = v.count {
                p.notice.count role="status" { strong { (tn("{n} person matches now", "{n} people match now", n)) } }
            }
            form.card.segment method="post" action=(action) {
                (csrf_field(&ctx.csrf))
                // Enter in a text field submits with the form's first button: it counts.
                button hidden type="submit" name="do" value="count" { (t("Count")) }
                fieldset disabled[!may_change] {
                    (name_field(v))
                    @match v.rows {
                        Some(rows) => (conditions(v, rows, may_change)),
                        None => p { (t("This filter has groups inside groups, which the rows of conditions cannot show; it is shown and changed as JSON below.")) },
                    }
                    (json_field(v, may_change))
                }
            }
            (suggestions(v))
            @if may_change {
                @if let Some(s) = v.editing {
                    p { a.button.secondary href={ "/admin/segments/" (s.id) "/delete" } { (t("Delete the segment")) } }
                }
            }
        },
    )
}

/// The name, its error beside it.
fn name_field(v: &SegmentFormView<'_>) -> Markup {
    html! {
        label for="name" { (t("Name")) }
        input #name name="name" type="text" value=(v.name) required maxlength="100"
            aria-invalid=[v.name_error.map(|_| "true")];
        @if let Some(e) = v.name_error { p.field-error { (e) } }
    }
}

/// "People who match all/any of these conditions", the rows and the buttons.
fn conditions(v: &SegmentFormView<'_>, rows: &[RowView], may_change: bool) -> Markup {
    html! {
        label for="match" { (t("People who match")) }
        select #match name="match" {
            option value="all" selected[v.join != "any"] { (t("all of these conditions")) }
            option value="any" selected[v.join == "any"] { (t("any of these conditions")) }
        }
        @for (i, row) in rows.iter().enumerate() { (condition(i, row, may_change)) }
        @if let Some(e) = v.rows_error { p.field-error { (e) } }
        p.muted { (t("Attribute, test and type apply to attribute conditions. For “subscribed before/after” the value is a date (YYYY-MM-DD) and the attribute field may name a list; for a list, its slug; for a campaign, its id.")) }
        @if may_change {
            p.actions {
                button.secondary type="submit" name="do" value="add" { (t("Add a condition")) } " "
                button.secondary type="submit" name="do" value="count" { (t("Count")) } " "
                button type="submit" name="do" value="save" { (t("Save")) }
            }
        }
    }
}

/// One row of the form: its inputs, labelled, and its refusal beside it.
fn condition(i: usize, row: &RowView, may_change: bool) -> Markup {
    let n = i + 1;
    let invalid = |input: &str| {
        row.error
            .as_ref()
            .is_some_and(|(at, _)| *at == input)
            .then_some("true")
    };
    let suggest = match row.field.as_str() {
        "list" => Some("segment-lists"),
        "received" => Some("segment-campaigns"),
        _ => None,
    };
    html! {
        fieldset.condition.invalid[row.error.is_some()] {
            legend { (tf("Condition {n}", &[("n", &n)])) }
            label.check {
                input type="checkbox" name="not" value=(i) checked[row.negate];
                " " (t("not: people who do not match it"))
            }
            div.filters {
                div { (choice("field", i, t("Tests"), &fields(), &row.field, None)) }
                div {
                    label for={ "key-" (i) } { (t("Attribute key")) }
                    input id={ "key-" (i) } name="key" type="text" value=(row.key) aria-invalid=[invalid("key")];
                }
                div { (choice("op", i, t("Test"), &operators(), &row.op, invalid("op"))) }
                div { (choice("kind", i, t("Type"), &kinds(), &row.kind, None)) }
                div {
                    label for={ "value-" (i) } { (t("Value")) }
                    input id={ "value-" (i) } name="value" type="text" value=(row.value) list=[suggest] aria-invalid=[invalid("value")];
                }
            }
            @if let Some((_, e)) = &row.error { p.field-error { (e) } }
            @if may_change {
                p { button.secondary type="submit" name="do" value={ "remove-" (i) } { (tf("Remove condition {n}", &[("n", &n)])) } }
            }
        }
    }
}

/// A labelled select of one row.
fn choice(
    name: &str,
    i: usize,
    label: &str,
    options: &[(&str, &str)],
    value: &str,
    invalid: Option<&str>,
) -> Markup {
    html! {
        label for={ (name) "-" (i) } { (label) }
        select id={ (name) "-" (i) } name=(name) aria-invalid=[invalid] {
            @for (v, text) in options {
                option value=(v) selected[*v == value] { (text) }
            }
        }
    }
}

/// The filter as JSON, folded unless the rows cannot show it or it was refused.
fn json_field(v: &SegmentFormView<'_>, may_change: bool) -> Markup {
    html! {
        details.json open[v.rows.is_none() || v.json_error.is_some()] {
            summary { (t("Advanced: the filter as JSON")) }
            label for="filter_json" { (t("Filter (JSON)")) }
            textarea #filter_json.short name="filter_json" readonly[!may_change]
                aria-invalid=[v.json_error.map(|_| "true")] { (v.json) }
            @if let Some(e) = v.json_error { p.field-error { (e) } }
            @if may_change {
                p {
                    button.secondary type="submit" name="do" value="json-count" { (t("Count the JSON")) } " "
                    button type="submit" name="do" value="json-save" { (t("Save the JSON")) }
                }
            }
        }
    }
}

/// The lists and campaigns a value may name, suggested as it is typed.
fn suggestions(v: &SegmentFormView<'_>) -> Markup {
    html! {
        datalist #segment-lists {
            @for (slug, name) in v.lists { option value=(slug) { (name) } }
        }
        datalist #segment-campaigns {
            @for (id, name) in v.campaigns { option value=(id) { (name) } }
        }
    }
}

/// `/admin/segments/{id}/delete`: asks before a segment is deleted; `problem` is why the last
/// try was refused.
pub fn delete_page(ctx: &Ctx, segment: &Segment, problem: Option<&str>) -> Markup {
    layout(
        ctx,
        &tf("Delete the segment “{name}”", &[("name", &segment.name)]),
        html! {
            div.card {
                @if let Some(problem) = problem { p.error role="alert" { (problem) } }
                p { (t("Deleting it removes it for good. Campaigns already sent keep their audience; a campaign not yet sent that uses it must be changed first.")) }
                form method="post" action={ "/admin/segments/" (segment.id) "/delete" } {
                    (csrf_field(&ctx.csrf))
                    button.danger type="submit" { (t("Delete the segment")) }
                    " " a href={ "/admin/segments/" (segment.id) } { (t("Back")) }
                }
            }
        },
    )
}
