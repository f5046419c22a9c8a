//! The conventions every operation of the OpenAPI document shares, applied once over the
//! generated document: unique operation ids, the error answers as references to one set of
//! `components/responses`, and the statuses the router and its layers answer themselves.

use std::collections::BTreeMap;

use utoipa::openapi::{
    Components, ContentBuilder, HeaderBuilder, OpenApi, Ref, RefOr, ResponseBuilder,
    path::{Operation, ParameterIn},
    response::Response,
    schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type},
};

/// The error answers, by status: the name under `components/responses`, and what it means.
const ERRORS: [(u16, &str, &str); 14] = [
    (
        400,
        "Malformed",
        "a body that is not JSON of the stated shape, or `%00` in the path or query",
    ),
    (
        401,
        "Unauthorized",
        "no token, or one that is unknown, revoked or expired",
    ),
    (403, "Forbidden", "the token's role may not do this"),
    (
        404,
        "NotFound",
        "no such resource (an id that is not a UUID included)",
    ),
    (
        405,
        "MethodNotAllowed",
        "the path does not take this method; `Allow` lists those it takes",
    ),
    (
        408,
        "RequestTimeout",
        "the request body did not arrive within `http.request_timeout_secs`",
    ),
    (
        409,
        "Conflict",
        "the request conflicts with the resource's current state",
    ),
    (410, "Gone", "the resource is gone for good"),
    (
        412,
        "PreconditionFailed",
        "the resource changed since the ETag in `If-Match`: nothing was changed",
    ),
    (
        413,
        "PayloadTooLarge",
        "the body is larger than this endpoint takes",
    ),
    (
        415,
        "UnsupportedMediaType",
        "the body is not of the media type this endpoint takes",
    ),
    (
        422,
        "Invalid",
        "a field or query parameter breaks a rule; `message` names it",
    ),
    (
        429,
        "TooManyRequests",
        "too many such requests; try again after `Retry-After` seconds",
    ),
    (
        503,
        "Busy",
        "the database is busy: nothing was changed; retry after `Retry-After` seconds",
    ),
];

/// Names each operation `{tag}_{handler}`, makes every error answer a reference to the one
/// `ErrorBody` response, declares the statuses the router and layers answer for every route
/// (400, 401, 405, 503; 408, 413 and 422 where a body is read, 415 where it is JSON; 422 for
/// a query; 404 for a path with an id), and describes the success answers that lack one.
pub(super) struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Components::default);
        for (status, name, description) in ERRORS {
            components.responses.insert(
                name.to_owned(),
                RefOr::T(error_response(status, description)),
            );
        }
        for (path, item) in &mut openapi.paths.paths {
            let ops = [
                (&mut item.get, "get"),
                (&mut item.put, "put"),
                (&mut item.post, "post"),
                (&mut item.delete, "delete"),
                (&mut item.patch, "patch"),
            ];
            for (op, method) in ops {
                if let Some(op) = op.as_mut() {
                    name_operation(op);
                    state_parameter_rules(path, op);
                    declare_errors(op, method);
                    describe_successes(op);
                }
            }
        }
        forbid_control_characters(openapi);
    }
}

/// The control characters no JSON text may hold (C0 but tab, line feed and carriage return;
/// DEL; C1), as a regular-expression class body (`web::control_char`).
const CONTROL: &str = "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F";

/// States in the request schemas that their texts hold no control character (`ApiJson`
/// refuses a body with one, 422): a text without a pattern gets one, and the patterns that
/// allow any character (`\S`, `[^\r\n]`) exclude them. Done on the JSON of the document,
/// as the schemas nest; if that round trip fails the document stays as it was.
fn forbid_control_characters(openapi: &mut OpenApi) {
    let Ok(mut doc) = serde_json::to_value(&*openapi) else {
        return;
    };
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    {
        for (name, schema) in schemas.iter_mut() {
            if name.ends_with("Request")
                || name.ends_with("Doc")
                || name == "NoticeTranslation"
                || name == "TranslationBody"
            {
                forbid_in(schema);
            }
        }
    }
    if let Ok(changed) = serde_json::from_value(doc) {
        *openapi = changed;
    }
}

/// [`forbid_control_characters`] on one schema and the schemas it holds.
fn forbid_in(schema: &mut serde_json::Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let is_text = match object.get("type") {
        Some(serde_json::Value::String(t)) => t == "string",
        Some(serde_json::Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_text && !object.contains_key("enum") && !object.contains_key("format") {
        let pattern = match object.get("pattern").and_then(|p| p.as_str()) {
            None => format!("^[^{CONTROL}]*$"),
            Some("\\S") => format!("^[^{CONTROL}]*[^\\s{CONTROL}][^{CONTROL}]*$"),
            Some(p) => p
                .replace("[^\\r\\n]", &format!("[^\\r\\n{CONTROL}]"))
                .replace("\\S", &format!("[^\\s{CONTROL}]")),
        };
        object.insert("pattern".to_owned(), pattern.into());
    }
    for value in object.values_mut() {
        match value {
            serde_json::Value::Object(_) => forbid_in(value),
            serde_json::Value::Array(items) => items.iter_mut().for_each(forbid_in),
            _ => {}
        }
    }
}

/// `{tag}_{handler}`: handlers are named per module (`create`, `get`), tags are the modules.
fn name_operation(op: &mut Operation) {
    let tag = op
        .tags
        .as_ref()
        .and_then(|t| t.first())
        .cloned()
        .unwrap_or_default();
    if let Some(id) = op.operation_id.as_mut()
        && !tag.is_empty()
        && !id.starts_with(&format!("{tag}_"))
    {
        *id = format!("{tag}_{id}");
    }
}

/// The rules every route applies to the parameters they share: a page holds 1 to 1000 items
/// (`PageLimit`), a retention review looks 0 to 3650 days ahead, and an `{id}` is a UUID
/// (any other text is answered 404), but for a suppression's: its 64 hex digits.
fn state_parameter_rules(path: &str, op: &mut Operation) {
    for param in op.parameters.iter_mut().flatten() {
        let RefOr::T(param) = param else { continue };
        let schema = match (param.parameter_in.clone(), param.name.as_str()) {
            (ParameterIn::Query, "limit") => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(super::MAX_PAGE))
                .examples([50]),
            (ParameterIn::Query, "within_days") => ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(3650)),
            (ParameterIn::Path, "id") if path.starts_with("/api/v1/suppressions/") => {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9a-f]{64}$"))
            }
            (ParameterIn::Path, "id") => ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            _ => continue,
        };
        param.schema = Some(RefOr::T(schema.into()));
    }
}

/// The statuses an operation can answer with the error body, each a `$ref`.
fn declare_errors(op: &mut Operation, method: &str) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_path_param = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Path));
    let has_query = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
    // A body or a `?list=` may name something that is not there.
    let names_something = params.iter().any(
        |p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query && p.name == "list"),
    );
    let has_body = op.request_body.is_some();
    let takes_json = op.request_body.as_ref().is_some_and(|b| match b {
        RefOr::T(b) => b.content.contains_key("application/json"),
        RefOr::Ref(_) => false,
    });
    let responses = &mut op.responses.responses;
    let mut statuses: Vec<u16> = responses
        .keys()
        .filter_map(|s| s.parse().ok())
        .filter(|s| *s >= 400)
        .collect();
    // Reads change nothing, so they conflict with nothing; a collection has no id to miss.
    let may_miss = has_path_param || names_something || has_body;
    statuses.retain(|s| !(method == "get" && *s == 409) && (may_miss || *s != 404));
    // 400: a body that is not JSON of its shape, or `%00` (or bytes that are not UTF-8) in
    // the path or query of any route.
    statuses.extend([400, 401, 405, 503]);
    if has_body {
        statuses.extend([408, 413, 422]);
    }
    if takes_json {
        statuses.push(415);
    }
    if has_query {
        statuses.push(422);
    }
    if has_path_param {
        statuses.push(404);
    }
    responses.retain(|s, _| s.parse::<u16>().is_ok_and(|s| s < 400));
    for status in statuses {
        if let Some((_, name, _)) = ERRORS.iter().find(|(s, _, _)| *s == status) {
            responses.insert(
                status.to_string(),
                RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
            );
        }
    }
}

/// Success answers without a description get one from their status; a 201 names the new
/// resource in `Location`.
fn describe_successes(op: &mut Operation) {
    for (status, response) in &mut op.responses.responses {
        let RefOr::T(response) = response else {
            continue;
        };
        if response.description.is_empty() {
            response.description = match status.as_str() {
                "201" => "created",
                "204" => "done; no body",
                _ => "the result",
            }
            .to_owned();
        }
        if status == "201" {
            response.headers.insert(
                "Location".to_owned(),
                RefOr::T(
                    HeaderBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .description(Some("the new resource, `/api/v1/{collection}/{id}`"))
                        .build(),
                ),
            );
        }
    }
}

/// One error answer: the `ErrorBody` JSON, with the headers that status carries.
fn error_response(status: u16, description: &str) -> Response {
    let mut headers = BTreeMap::new();
    let header = |text: &str, schema_type: Type| {
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(schema_type)))
                .description(Some(text))
                .build(),
        )
    };
    match status {
        401 => {
            headers.insert(
                "WWW-Authenticate".to_owned(),
                header("`Bearer` (RFC 6750)", Type::String),
            );
        }
        405 => {
            headers.insert(
                "Allow".to_owned(),
                header("the methods this path takes", Type::String),
            );
        }
        429 | 503 => {
            headers.insert(
                "Retry-After".to_owned(),
                header("seconds to wait before trying again", Type::Integer),
            );
        }
        _ => {}
    }
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    response.headers = headers;
    response
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    /// utoipa keys schemas by their type's name, so two `ToSchema` types of one name in two
    /// handler modules silently become one schema, and one route's answer is documented as
    /// the other's. Every such name must be unique across the API's modules.
    #[test]
    fn every_schema_type_of_the_api_has_a_name_of_its_own() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/api");
        let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            let mut derives_schema = false;
            for line in source.lines() {
                let line = line.trim();
                if line.starts_with("#[derive(") && line.contains("ToSchema") {
                    derives_schema = true;
                } else if derives_schema && !line.starts_with('#') && !line.starts_with("//") {
                    let name = line
                        .split_whitespace()
                        .skip_while(|w| *w != "struct" && *w != "enum")
                        .nth(1)
                        .map(|n| n.trim_end_matches(['{', '<', '(', ';']).to_owned());
                    if let Some(name) = name {
                        let file = path.file_name().unwrap().to_string_lossy().into_owned();
                        seen.entry(name).or_default().push(file);
                    }
                    derives_schema = false;
                }
            }
        }
        let twice: Vec<_> = seen.iter().filter(|(_, files)| files.len() > 1).collect();
        assert!(twice.is_empty(), "schema names used twice: {twice:?}");
        assert!(
            seen.contains_key("ErrorBody") || seen.len() > 20,
            "{seen:?}"
        );
    }
}
