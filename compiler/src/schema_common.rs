//! What the spec's schema (`schema`) and the Kubernetes schemas (`validate`) share, and the
//! crate's one "did you mean".
//!
//! Takes: JSON Schema documents, jsonschema's instance paths, names. Gives: registries and
//! validators compiled behind a `$ref` root ([`document_validator`]); the subschemas that apply
//! at a document path ([`schemas_at`]) and the property names and types they declare; instance
//! paths as [`Path`]s; the known name closest to a misspelt one ([`closest`]).
//!
//! Imports neither of its users: both sit above it.

use crate::source::{Path, Seg};
use jsonschema::paths::LocationSegment;
use jsonschema::{Draft, Registry, Validator};
use serde_json::Value as Json;
use std::sync::Arc;

/// A registry of one schema document, `doc`, at `uri`. Documents without `$schema` are JSON
/// Schema 2020-12.
pub fn registry(uri: &str, doc: Arc<Json>) -> Result<Registry<'static>, Box<dyn std::error::Error>> {
    Ok(Registry::new()
        .draft(Draft::Draft202012)
        .retrieve_known_draft_meta_schemas(false)
        .add(uri, doc)?
        .prepare()?)
}

/// A validator for `root`, a JSON Schema Draft 7 schema whose `$ref`s point into `registry`.
///
/// Each resource of the registry is compiled under its own draft (2020-12 for every schema
/// here); only the root is Draft 7. jsonschema checks the root of every validator against its
/// draft's meta-schema, which it compiles on first use: Draft 7's takes about 1 million
/// instructions, 2020-12's 3.8 million (of about 40 million in the fraud-detection example's
/// whole build). The schemas behind the root are committed and tested, not checked again in
/// every process. Draft 7 ignores keywords beside a `$ref`: roots combine them with `allOf`.
pub fn compile(root: &Json, registry: &Registry<'_>) -> Result<Validator, Box<dyn std::error::Error>> {
    Ok(jsonschema::options()
        .with_draft(Draft::Draft7)
        .with_registry(registry)
        .build(root)?)
}

/// A validator for the whole schema document `doc`, registered at `uri` (see [`compile`]).
pub fn document_validator(uri: &str, doc: Arc<Json>) -> Result<Validator, Box<dyn std::error::Error>> {
    compile(&serde_json::json!({"$ref": uri}), &registry(uri, doc)?)
}

/// The schemas that apply at `path` below `start`, with `$ref` (through `resolve`), `anyOf`,
/// `oneOf` and `allOf` followed.
pub fn schemas_at<'a>(start: &'a Json, path: &Path, resolve: &dyn Fn(&str) -> Option<&'a Json>) -> Vec<&'a Json> {
    let mut current = Vec::new();
    expand(start, resolve, &mut current, 0);
    for seg in &path.0 {
        let mut next = Vec::new();
        for s in &current {
            let child = match seg {
                Seg::Key(k) => s
                    .get("properties")
                    .and_then(|p| p.get(k.as_str()))
                    .or_else(|| s.get("additionalProperties").filter(|a| a.is_object())),
                Seg::Index(_) => s.get("items"),
            };
            if let Some(c) = child {
                expand(c, resolve, &mut next, 0);
            }
        }
        current = next;
    }
    current
}

fn expand<'a>(s: &'a Json, resolve: &dyn Fn(&str) -> Option<&'a Json>, out: &mut Vec<&'a Json>, depth: usize) {
    if depth > 16 {
        return;
    }
    if let Some(target) = s.get("$ref").and_then(Json::as_str).and_then(resolve) {
        expand(target, resolve, out, depth + 1);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for sub in s.get(key).and_then(Json::as_array).into_iter().flatten() {
            expand(sub, resolve, out, depth + 1);
        }
    }
    out.push(s);
}

/// The types one schema lists in `type` (a string or an array of strings).
pub fn types_of(s: &Json) -> Vec<&str> {
    match s.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

/// The property names the schemas declare, sorted, each once.
pub fn property_names(schemas: &[&Json]) -> Vec<String> {
    let mut names: Vec<String> = schemas
        .iter()
        .filter_map(|s| s.get("properties").and_then(Json::as_object))
        .flat_map(|p| p.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A jsonschema instance path as a document [`Path`]. jsonschema gives keys made only of
/// digits as indexes; one stays a key where `is_map` says the instance has a mapping (at the
/// path of its parent).
pub fn instance_path<'a>(segs: impl IntoIterator<Item = LocationSegment<'a>>, is_map: impl Fn(&Path) -> bool) -> Path {
    let mut path = Path::root();
    for seg in segs {
        path = match seg {
            LocationSegment::Property(k) => path.key(&k),
            LocationSegment::Index(i) if is_map(&path) => path.key(&i.to_string()),
            LocationSegment::Index(i) => path.index(i),
        };
    }
    path
}

/// How alike a name and a known name must be for "did you mean": their normalized
/// Damerau-Levenshtein similarity, ignoring case (1.0 is equal, 0.0 shares nothing).
/// At 0.5, half of the longer name may differ, so abbreviations are found: `prep` finds
/// `prepare` and `db-creds` finds `db-credentials` (0.57 each), `replica` finds `replicas`
/// (0.88); `db` does not find `web` (0.33). Every caller (unknown keys of the spec and of
/// Kubernetes objects, unresolved references, overrides, patches, stacks) uses this one.
pub const SIMILAR: f64 = 0.5;

/// The longest name, in characters, that [`closest`] compares (Kubernetes names have 253 at most).
pub const SUGGEST_LEN: usize = 253;

/// How many known names, at most, [`closest`] compares a name with.
pub const SUGGEST_AMONG: usize = 1_000;

/// The most work of one [`closest`], in cells of the comparisons' tables: 1,000 names of 16
/// characters, or 4 of 253.
pub const SUGGEST_CELLS: usize = 256_000;

/// The known name closest to `name`, if any is close enough to suggest (see [`SIMILAR`]);
/// of several equally close, the last.
///
/// Bounded, since one spec may ask thousands of times (an unknown name per workload) and a
/// comparison takes time quadratic in the names' lengths: names longer than [`SUGGEST_LEN`]
/// characters are not compared, and of the known names whose lengths allow a match (a
/// distance is at least the difference of the lengths), only the first [`SUGGEST_AMONG`],
/// and only while the comparisons' cells (the product of two names' lengths) stay within
/// [`SUGGEST_CELLS`].
pub fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_lowercase();
    let len = name.chars().count();
    if len > SUGGEST_LEN {
        return None;
    }
    let mut cells = 0;
    known
        .filter(|k| k.len() <= 4 * SUGGEST_LEN)
        .filter_map(|k| {
            let other = k.chars().flat_map(char::to_lowercase).count();
            (other <= SUGGEST_LEN && 2 * len.abs_diff(other) <= len.max(other)).then_some((k, other))
        })
        .take(SUGGEST_AMONG)
        .take_while(|(_, other)| {
            cells += len.max(1) * other.max(&1);
            cells <= SUGGEST_CELLS
        })
        .map(|(k, _)| (strsim::normalized_damerau_levenshtein(&name, &k.to_lowercase()), k))
        .filter(|(score, _)| *score >= SIMILAR)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Give every `format: int32` and `int64` number its range as `minimum` and `maximum`, which
/// JSON Schema validators otherwise ignore: the API server refuses `replicas: 3000000000`, so
/// validation must too (patches and extra manifests included).
pub fn bound_integer_formats(v: &mut Json) {
    match v {
        Json::Object(map) => {
            let range = match map.get("format").and_then(Json::as_str) {
                Some("int32") => Some((Json::from(i32::MIN), Json::from(i32::MAX))),
                Some("int64") => Some((Json::from(i64::MIN), Json::from(i64::MAX))),
                _ => None,
            };
            if let Some((lo, hi)) = range {
                map.entry("minimum").or_insert(lo);
                map.entry("maximum").or_insert(hi);
            }
            map.values_mut().for_each(bound_integer_formats);
        }
        Json::Array(items) => items.iter_mut().for_each(bound_integer_formats),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn resources_keep_their_draft_behind_a_draft_7_root() {
        // 2020-12 applies keywords beside a `$ref`; Draft 7 ignores them. The resource must be
        // read as 2020-12 even though the root is Draft 7.
        let doc = json!({"$defs": {"s": {"type": "string"}}, "$ref": "#/$defs/s", "minLength": 3});
        let uri = "https://mlship.dev/test/resource";
        let r = registry(uri, Arc::new(doc)).unwrap();
        let v = compile(&json!({"$ref": uri}), &r).unwrap();
        assert!(v.is_valid(&json!("abc")));
        assert!(!v.is_valid(&json!(7)));
        assert!(!v.is_valid(&json!("ab")), "the sibling of `$ref` was ignored");
    }

    #[test]
    fn digit_keys_stay_keys_where_the_instance_has_a_mapping() {
        let segs = || [LocationSegment::Property("data".into()), LocationSegment::Index(1)];
        assert_eq!(instance_path(segs(), |p| p.0.len() == 1), Path::of(&["data", "1"]));
        assert_eq!(instance_path(segs(), |_| false), Path::of(&["data"]).index(1));
    }

    #[test]
    fn schemas_at_follows_refs_and_alternatives() {
        let doc = json!({
            "$defs": {"c": {"properties": {"image": {"type": "string"}}}},
            "properties": {"containers": {"items": {"anyOf": [{"$ref": "#/$defs/c"}, {"type": "null"}]}}},
        });
        let resolve = |r: &str| r.strip_prefix('#').and_then(|p| doc.pointer(p));
        let at = schemas_at(&doc, &Path::of(&["containers"]).index(0), &resolve);
        assert_eq!(property_names(&at), ["image"]);
        let types: Vec<&str> = at.iter().flat_map(|s| types_of(s)).collect();
        assert_eq!(types, ["null"]);
    }

    #[test]
    fn one_did_you_mean() {
        let known = ["image", "port", "ports", "replicas", "volumeBindingMode"];
        let find = |name| closest(name, known.into_iter());
        assert_eq!(find("replica"), Some("replicas"));
        assert_eq!(find("imge"), Some("image"));
        assert_eq!(find("Image"), Some("image"), "case is ignored");
        assert_eq!(find("volumeBindingMod"), Some("volumeBindingMode"));
        assert_eq!(find("port"), Some("port"), "the closest wins");
        assert_eq!(find("xyz"), None);
        assert_eq!(closest("prep", ["fit", "prepare"].into_iter()), Some("prepare"));
        assert_eq!(
            closest("db-creds", ["db-credentials"].into_iter()),
            Some("db-credentials")
        );
        assert_eq!(closest("db", ["web"].into_iter()), None);
    }

    /// Issue 14: "did you mean" compared every unknown name with every known one, each
    /// comparison quadratic in the lengths: 5,000 patches naming none of 5,000 Deployments
    /// took 131 s to check (release build). Its work per question is now bounded (a length
    /// filter before any comparison), and the filter drops no suggestion.
    #[test]
    fn did_you_mean_does_bounded_work() {
        let known: Vec<String> = (0..20_000).map(|i| format!("svc{i}")).collect();
        let long = "x".repeat(64 << 10);
        for _ in 0..1_000 {
            assert_eq!(closest("zzzzzz", known.iter().map(String::as_str)), None);
            assert_eq!(closest(&long, known.iter().map(String::as_str)), None);
            assert_eq!(closest("svc", [long.as_str()].into_iter()), None);
        }
        assert_eq!(closest("svc12", known.iter().map(String::as_str)), Some("svc12"));
        let long_names: Vec<String> = (0..1_000).map(|i| format!("{i:0>253}")).collect();
        for _ in 0..10 {
            assert_eq!(closest(&"z".repeat(253), long_names.iter().map(String::as_str)), None);
        }
        // Lengths that cannot match are skipped before the bound counts them.
        let mut many: Vec<&str> = vec!["a-very-long-name-that-cannot-match"; 5_000];
        many.push("replicas");
        assert_eq!(closest("replica", many.into_iter()), Some("replicas"));
    }
}
