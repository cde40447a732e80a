//! Error messages: jsonschema's errors on an object as short, located problems.
//!
//! Takes: a compiled validator, an object (or a part of one, such as a custom resource's
//! `metadata`) and the schema the validator came from. Gives: one [`Found`] per problem, at a
//! [`Path`] in the object, with a message such as "unknown field `replica`" or "expected
//! integer, found string" and, for unknown fields, a "did you mean"; and [`Violation`], the
//! public form of a problem, with its path as text ([`path_string`]).

use crate::schema_common::{closest, instance_path, property_names, schemas_at, types_of};
use crate::source::{Path, Seg};
use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use serde_json::Value as Json;
use std::fmt;

/// One problem in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where in the object, such as `spec.template.spec.containers[0].image`; keys that are
    /// not plain words are quoted (`metadata.labels["app.kubernetes.io/name"]`); `""` is the
    /// object itself. For a missing field, the object that misses it.
    pub path: String,
    /// Short and human: "unknown field `replica`", "expected integer, found string".
    pub message: String,
    /// A hint when there is one, such as "did you mean `replicas`?".
    pub help: Option<String>,
}

impl Violation {
    /// `path: message`, or the message alone for the object itself: the violation without
    /// its help, for a diagnostic that carries the help apart.
    pub fn what(&self) -> String {
        if self.path.is_empty() {
            self.message.clone()
        } else {
            format!("{}: {}", self.path, self.message)
        }
    }
}

/// `path: message (help)`, the one way a violation is shown, with or without a position.
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what())?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

/// One problem found inside one object (internal: path as segments, and where to point).
pub(super) struct Found {
    pub(super) path: Path,
    pub(super) message: String,
    pub(super) help: Option<String>,
    /// Point at the key (unknown or missing fields) rather than at the value.
    pub(super) key: bool,
}

impl Found {
    pub(super) fn new(path: Path, message: impl Into<String>) -> Self {
        Found {
            path,
            message: message.into(),
            help: None,
            key: false,
        }
    }
}

/// Every error of `validator` on `instance` (found at `prefix` in the object), as
/// [`Found`]s. `ctx` is the schema the validator was compiled from, for field names and
/// types in messages. With `near`, enum errors on `apiVersion` and `kind` were already
/// reported (with every apiVersion that serves the kind) and are left out.
pub(super) fn collect(
    validator: &Validator,
    instance: &Json,
    prefix: &Path,
    ctx: Ctx<'_>,
    near: bool,
    found: &mut Vec<Found>,
) {
    // Nearly every object is valid, and asking whether it is costs less than collecting none.
    if validator.is_valid(instance) {
        return;
    }
    for err in validator.iter_errors(instance) {
        let local = to_path(instance, err.instance_path().iter());
        let here = lookup(instance, &local);
        let mut path = prefix.clone();
        path.0.extend(local.0.iter().cloned());
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let allowed = property_names(&ctx.schemas_at(&local));
                for name in unexpected {
                    found.push(Found {
                        help: closest(name, allowed.iter().map(String::as_str)).map(|s| format!("did you mean `{s}`?")),
                        key: true,
                        ..Found::new(path.key(name), format!("unknown field `{name}`"))
                    });
                }
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().map_or_else(|| property.to_string(), str::to_string);
                found.push(Found {
                    key: true,
                    ..Found::new(path, format!("missing required field `{name}`"))
                });
            }
            ValidationErrorKind::Enum { options } => {
                if near && matches!(local.0.as_slice(), [Seg::Key(k)] if k == "apiVersion" || k == "kind") {
                    continue;
                }
                let values: Vec<String> = options.as_array().into_iter().flatten().map(show).collect();
                found.push(Found::new(path, expected_values(&values, here)));
            }
            ValidationErrorKind::Constant { expected_value } => {
                found.push(Found::new(path, expected_values(&[show(expected_value)], here)));
            }
            ValidationErrorKind::Type { .. }
            | ValidationErrorKind::OneOfNotValid { .. }
            | ValidationErrorKind::OneOfMultipleValid { .. }
            | ValidationErrorKind::AnyOf { .. } => {
                let types = expected_types(&ctx.schemas_at(&local));
                let found_type = here.map_or("nothing", type_of);
                let message = if types.is_empty() {
                    format!("matches none of the allowed forms, found {found_type}")
                } else {
                    format!("expected {}, found {found_type}", types.join(" or "))
                };
                found.push(Found::new(path, message));
            }
            kind => found.push(Found::new(path, other_message(kind, here, &err.to_string()))),
        }
    }
}

/// A schema and the document its `$ref`s point into: a definition of a version's bundle, or a
/// CRD schema (whose `$ref`s point into its own `$defs`).
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub(super) doc: &'a Json,
    pub(super) start: &'a Json,
}

impl<'a> Ctx<'a> {
    /// The schemas that apply at `path` (`$ref`, `oneOf`, `anyOf` and `allOf` followed).
    pub(super) fn schemas_at(&self, path: &Path) -> Vec<&'a Json> {
        let doc = self.doc;
        let resolve = move |r: &str| r.rsplit_once("#/$defs/").map(|(_, name)| &doc["$defs"][name]);
        schemas_at(self.start, path, &resolve)
    }
}

/// An error's instance path in `instance`.
fn to_path<'a>(instance: &Json, segs: impl Iterator<Item = LocationSegment<'a>>) -> Path {
    instance_path(segs, |parent| lookup(instance, parent).is_some_and(Json::is_object))
}

/// The value at `path` in `instance`.
pub(super) fn lookup<'a>(instance: &'a Json, path: &Path) -> Option<&'a Json> {
    path.0.iter().try_fold(instance, |v, seg| match seg {
        Seg::Key(k) => v.get(k.as_str()),
        Seg::Index(i) => v.get(*i),
    })
}

/// `spec.template.spec.containers[0].image`; keys other than plain words are quoted.
pub fn path_string(path: &Path) -> String {
    let mut s = String::new();
    for seg in &path.0 {
        match seg {
            Seg::Key(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Key(k) => {
                s.push('[');
                s.push_str(&Json::String(k.clone()).to_string());
                s.push(']');
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The JSON type of a value, as messages name it (a whole float is an integer).
pub(super) fn type_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Json::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// A value as shown in a message: strings in backticks, anything else as JSON.
pub(super) fn show(v: &Json) -> String {
    match v {
        Json::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

/// "expected `a`" or "expected one of `a`, `b`", with what was found if anything.
pub(super) fn expected_values(values: &[String], found: Option<&Json>) -> String {
    let expected = match values {
        [one] => one.clone(),
        many => format!("one of {}", many.join(", ")),
    };
    match found {
        Some(v) => format!("expected {expected}, found {}", show(v)),
        None => format!("expected {expected}"),
    }
}

/// The JSON types the schemas accept, without null (every optional field admits it).
pub(super) fn expected_types(schemas: &[&Json]) -> Vec<&'static str> {
    const ORDER: [&str; 7] = ["object", "array", "string", "integer", "number", "boolean", "null"];
    let mut types: Vec<&'static str> = Vec::new();
    for s in schemas {
        for t in types_of(s) {
            if let Some(known) = ORDER.iter().find(|o| **o == t)
                && *known != "null"
                && !types.contains(known)
            {
                types.push(known);
            }
        }
    }
    types.sort_by_key(|t| ORDER.iter().position(|o| o == t));
    types
}

/// Messages for the keywords Kubernetes' own schemas do not use (CRD schemas may).
fn other_message(kind: &ValidationErrorKind, here: Option<&Json>, fallback: &str) -> String {
    let found = here.map_or_else(String::new, |v| format!(", found {}", show(v)));
    match kind {
        ValidationErrorKind::Minimum { limit } => format!("must be at least {limit}{found}"),
        ValidationErrorKind::Maximum { limit } => format!("must be at most {limit}{found}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("must be greater than {limit}{found}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("must be less than {limit}{found}"),
        ValidationErrorKind::MinLength { limit } => format!("must be at least {limit} characters long{found}"),
        ValidationErrorKind::MaxLength { limit } => format!("must be at most {limit} characters long{found}"),
        ValidationErrorKind::MinItems { limit } => format!("must have at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("must have at most {limit} items"),
        ValidationErrorKind::MinProperties { limit } => format!("must have at least {limit} fields"),
        ValidationErrorKind::MaxProperties { limit } => format!("must have at most {limit} fields"),
        ValidationErrorKind::Pattern { pattern } => format!("must match `{pattern}`{found}"),
        ValidationErrorKind::Format { format } => format!("expected a {format}{found}"),
        ValidationErrorKind::UniqueItems => "items must be unique".to_string(),
        ValidationErrorKind::FalseSchema => "not allowed here".to_string(),
        _ => fallback.chars().take(200).collect(),
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_keys_that_are_not_words() {
        let p = Path::of(&["metadata", "labels", "app.kubernetes.io/name"]);
        assert_eq!(path_string(&p), r#"metadata.labels["app.kubernetes.io/name"]"#);
        assert_eq!(
            path_string(&Path::of(&["spec"]).key("containers").index(0)),
            "spec.containers[0]"
        );
    }
}
