//! The JSON Schema of the spec, and the schema check.
//!
//! Takes: a parsed [`Node`] tree. Gives: one located diagnostic per schema violation (unknown
//! keys with a "did you mean", wrong types, missing keys, bad values). The schema is generated
//! from [`crate::spec::Spec`] and committed as `schemas/mlship.schema.json`, which is read.

use crate::diag::{Code, Diagnostic};
use crate::schema_common::{self, closest, property_names, types_of};
use crate::source::Path;
use crate::tree::{Node, Value};
use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;
use std::sync::{Arc, LazyLock};

/// Where editors find the committed schema (used in `# yaml-language-server:` lines).
pub const SCHEMA_URL: &str = "https://mlship.dev/schemas/v1/mlship.schema.json";

/// The committed schema. tests/schema.rs keeps it equal to [`generate`]'s; reading it is
/// cheaper than generating it again in every process.
const COMMITTED: &str = include_str!("../../schemas/mlship.schema.json");

static SCHEMA: LazyLock<Arc<Json>> =
    LazyLock::new(|| Arc::new(serde_json::from_str(COMMITTED).expect("committed schema is JSON")));

static VALIDATOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    schema_common::document_validator(SCHEMA_URL, Arc::clone(&SCHEMA)).expect("committed schema compiles")
});

/// Optional fields may be left out but not set to null: schemars writes `Option<T>` as
/// "T or null", which would turn every error inside an optional field into an unlocated
/// "matches no alternative". (Environments remove keys with null; they are typed as any.)
/// An unsigned integer field says its range, so a value past it is a located schema error
/// naming the range, not a typing error with no place (`port: 4294967296`).
fn bound_integers(s: &mut Json) {
    match s {
        Json::Object(map) => {
            let max = match map.get("format").and_then(Json::as_str) {
                Some("uint32") => Some(u64::from(u32::MAX)),
                Some("uint16") => Some(u64::from(u16::MAX)),
                Some("uint8") => Some(u64::from(u8::MAX)),
                _ => None,
            };
            if let Some(max) = max {
                map.entry("maximum").or_insert(Json::from(max));
            }
            map.values_mut().for_each(bound_integers);
        }
        Json::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

fn strip_null(s: &mut Json) {
    if let Json::Object(map) = s {
        if let Some(Json::Array(alts)) = map.get("anyOf") {
            let is_null = |a: &Json| a.get("type").and_then(Json::as_str) == Some("null");
            if alts.len() == 2 && alts.iter().any(is_null) {
                let keep = alts.iter().find(|a| !is_null(a)).cloned().unwrap_or_default();
                map.remove("anyOf");
                if let Json::Object(k) = keep {
                    map.extend(k);
                }
            }
        }
        if let Some(Json::Array(types)) = map.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let only = types[0].clone();
                map.insert("type".into(), only);
            }
        }
        map.values_mut().for_each(strip_null);
    } else if let Json::Array(items) = s {
        items.iter_mut().for_each(strip_null);
    }
}

/// The spec's JSON Schema.
pub fn schema() -> &'static Json {
    &SCHEMA
}

/// The schema as committed: pretty JSON with a trailing newline.
pub fn schema_text() -> &'static str {
    COMMITTED
}

/// The schema generated from [`crate::spec::Spec`], as it should be committed.
pub fn generate() -> String {
    let mut schema = serde_json::to_value(schemars::schema_for!(crate::spec::Spec)).expect("schema serializes");
    strip_null(&mut schema);
    bound_integers(&mut schema);
    schema["$id"] = Json::String(SCHEMA_URL.to_string());
    schema["title"] = Json::String("mlship spec v1".to_string());
    let mut s = serde_json::to_string_pretty(&schema).expect("schema serializes");
    s.push('\n');
    s
}

/// Check a document against the schema; every violation becomes a located diagnostic.
pub fn check(doc: &Node) -> Vec<Diagnostic> {
    let instance = doc.to_json();
    let mut out = Vec::new();
    for err in VALIDATOR.iter_errors(&instance) {
        let path = to_path(doc, err.instance_path().iter());
        let here = doc.lookup(&path);
        let found = here.map_or("nothing", Node::type_name);
        let d = match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    out.push(unknown_key(doc, &path, key));
                }
                continue;
            }
            ValidationErrorKind::Required { property } => {
                let key = property.as_str().unwrap_or_default();
                let what = if path.0.is_empty() {
                    "the spec".to_string()
                } else {
                    format!("`{path}`")
                };
                Diagnostic::error(Code::MissingKey, format!("missing required key `{key}` in {what}"))
                    .span(doc.span_of(&path, true))
                    .label(format!("`{key}` is required here"))
                    .help(format!("add `{key}:` ({})", describe(&subschemas(&path.key(key)))))
            }
            ValidationErrorKind::Type { .. }
            | ValidationErrorKind::AnyOf { .. }
            | ValidationErrorKind::OneOfNotValid { .. } => {
                let expected = describe(&subschemas(&path));
                Diagnostic::error(Code::Type, format!("`{path}` must be {expected}, found a {found}"))
                    .label(format!("expected {expected}"))
                    .help(type_help(here, &expected))
            }
            ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. } => {
                let expected = describe(&subschemas(&path));
                let shown = here.map(|n| n.to_json().to_string()).unwrap_or_default();
                Diagnostic::error(Code::BadValue, format!("`{path}` must be {expected}, found {shown}"))
                    .label(format!("expected {expected}"))
            }
            ValidationErrorKind::Minimum { limit } | ValidationErrorKind::Maximum { limit } => {
                let shown = here.map(|n| n.to_json().to_string()).unwrap_or_default();
                let bound = if matches!(err.kind(), ValidationErrorKind::Minimum { .. }) {
                    "at least"
                } else {
                    "at most"
                };
                Diagnostic::error(Code::Range, format!("`{path}` must be {bound} {limit}, found {shown}"))
                    .label(format!("{bound} {limit}"))
            }
            _ => Diagnostic::error(Code::Range, format!("`{path}`: {err}")),
        };
        let span = d.span.unwrap_or_else(|| doc.span_of(&path, false));
        out.push(d.span(span).at(path));
    }
    out
}

/// An error's instance path in `doc`.
fn to_path<'a>(doc: &Node, segs: impl Iterator<Item = jsonschema::paths::LocationSegment<'a>>) -> Path {
    schema_common::instance_path(segs, |parent| {
        doc.lookup(parent).is_some_and(|n| matches!(n.value, Value::Map(_)))
    })
}

fn unknown_key(doc: &Node, parent: &Path, key: &str) -> Diagnostic {
    let allowed = property_names(&subschemas(parent));
    let path = parent.key(key);
    let where_ = if parent.0.is_empty() {
        "the spec".to_string()
    } else {
        format!("`{parent}`")
    };
    let d = Diagnostic::error(Code::UnknownKey, format!("unknown key `{key}` in {where_}"))
        .span(doc.span_of(&path, true))
        .label("not a known key")
        .at(path);
    match closest(key, allowed.iter().map(String::as_str)) {
        Some(name) => d.help(format!("did you mean `{name}`?")),
        None if !allowed.is_empty() => d.help(format!("known keys here: {}", allowed.join(", "))),
        None => d,
    }
}

fn type_help(here: Option<&Node>, expected: &str) -> String {
    match here.map(|n| &n.value) {
        Some(Value::Int(_) | Value::Float(_) | Value::Bool(_)) if expected.contains("string") => {
            let text = here.map(|n| n.to_json().to_string()).unwrap_or_default();
            format!("quote the value to make it a string: \"{text}\"")
        }
        Some(Value::Str(_)) if expected.starts_with("a list") => "write a list: `[a, b]`".into(),
        _ => format!("see `mlship schema` for the shape of this field; expected {expected}"),
    }
}

/// The schemas that apply at `path` in the spec's schema.
pub fn subschemas(path: &Path) -> Vec<&'static Json> {
    let root = schema();
    schema_common::schemas_at(root, path, &|r: &str| r.strip_prefix('#').and_then(|p| root.pointer(p)))
}

/// Whether the schema expects a list at `path` (used by the KDL reader).
pub fn expects_array(path: &Path) -> bool {
    subschemas(path).iter().any(|s| types_of(s).contains(&"array"))
}

/// A short human description of what the schemas accept: "one of `a`, `b`" or "a string".
fn describe(schemas: &[&Json]) -> String {
    let mut values: Vec<String> = Vec::new();
    for s in schemas {
        if let Some(c) = s.get("const") {
            values.push(format!(
                "`{}`",
                c.as_str().map_or_else(|| c.to_string(), str::to_string)
            ));
        }
        for v in s.get("enum").and_then(Json::as_array).into_iter().flatten() {
            values.push(format!(
                "`{}`",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            ));
        }
    }
    if !values.is_empty() {
        values.dedup();
        return format!("one of {}", values.join(", "));
    }
    let mut types: Vec<&str> = schemas
        .iter()
        .flat_map(|s| types_of(s))
        .filter(|t| *t != "null")
        .collect();
    types.sort_unstable();
    types.dedup();
    let words: Vec<&str> = types
        .iter()
        .map(|t| match *t {
            "object" => "a mapping",
            "array" => "a list",
            "string" => "a string",
            "integer" => "a whole number",
            "number" => "a number",
            "boolean" => "true or false",
            other => other,
        })
        .collect();
    match words.as_slice() {
        [] => "a valid value".to_string(),
        [one] => (*one).to_string(),
        many => many.join(" or "),
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn subschemas_follow_refs_into_maps() {
        let p = Path::of(&["services", "api", "command"]);
        assert!(expects_array(&p));
        assert!(!expects_array(&Path::of(&["services", "api", "image"])));
        assert!(expects_array(&Path::of(&["pipelines", "p", "steps", "s", "needs"])));
        assert_eq!(
            describe(&subschemas(&Path::of(&["gitops", "engine"]))),
            "one of `argocd`, `flux`"
        );
    }
}
