//! The custom resources with a bundled schema: the CRD table.
//!
//! Takes: an `apiVersion` and a `kind`. Gives: whether the kind is a custom resource with a
//! schema in `schemas/crds/`, its [`Scope`] and, on first use, its schema and compiled
//! validator (once per process). The same for every Kubernetes version.
//!
//! The table is data: build.rs lists `schemas/crds/*.json` and reads each file's
//! `x-mlship-crd` marker (`apiVersion`, `kind`, `scope`). Adding a custom resource's schema is
//! adding its file (written by `schemas/crds/crd2json.py`) and its line in
//! `schemas/crds/SOURCES.md`; the tests below check both.

use super::Scope;
use crate::schema_common::document_validator;
use jsonschema::Validator;
use serde_json::Value as Json;
use std::sync::{Arc, OnceLock};

/// A custom resource kind with a bundled schema (schemas/crds/, docs/validation.md).
struct Crd {
    /// The file's name in `schemas/crds/`.
    file: &'static str,
    api_version: &'static str,
    kind: &'static str,
    scope: Scope,
    text: &'static str,
}

/// One entry per file of `schemas/crds/*.json`, in file name order, each read from its
/// `x-mlship-crd` marker by build.rs. Independent of the Kubernetes version.
const CRDS: &[Crd] = &include!(concat!(env!("OUT_DIR"), "/crds.rs"));

/// Each CRD schema, parsed and compiled the first time an object of its kind is seen.
static LOADED: [OnceLock<CrdSchema>; CRDS.len()] = [const { OnceLock::new() }; CRDS.len()];

/// A custom resource's schema document and its validator.
pub(super) struct CrdSchema {
    pub(super) doc: Arc<Json>,
    pub(super) validator: Validator,
}

/// Every `(apiVersion, kind)` of custom resource with a bundled schema, in the order of their
/// files' names: the same for every Kubernetes version. Other custom resources are
/// [`UnknownKind`](super::UnknownKind)s.
pub fn custom_resources() -> impl Iterator<Item = (&'static str, &'static str)> {
    CRDS.iter().map(|c| (c.api_version, c.kind))
}

/// The scope of a custom resource kind with a bundled schema (its CRD's `spec.scope`), without
/// loading the schema. `None` for any other kind.
pub fn scope(api_version: &str, kind: &str) -> Option<Scope> {
    find(api_version, kind).map(|i| CRDS[i].scope)
}

fn find(api_version: &str, kind: &str) -> Option<usize> {
    CRDS.iter().position(|c| c.api_version == api_version && c.kind == kind)
}

/// The schema of a custom resource kind, loaded on first use.
pub(super) fn schema(api_version: &str, kind: &str) -> Option<&'static CrdSchema> {
    let i = find(api_version, kind)?;
    Some(LOADED[i].get_or_init(|| {
        let crd = &CRDS[i];
        let file = crd.file;
        let mut doc: Json =
            serde_json::from_str(crd.text).unwrap_or_else(|e| panic!("schemas/crds/{file} is JSON: {e}"));
        crate::schema_common::bound_integer_formats(&mut doc);
        let doc = Arc::new(doc);
        let uri = doc["$id"]
            .as_str()
            .unwrap_or_else(|| panic!("schemas/crds/{file} has an $id"))
            .to_string();
        let validator =
            document_validator(&uri, Arc::clone(&doc)).unwrap_or_else(|e| panic!("schemas/crds/{file} compiles: {e}"));
        CrdSchema { doc, validator }
    }))
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use crate::schema_common::property_names;
    use crate::source::Path;
    use crate::validate::messages::{Ctx, expected_types};
    use serde_json::json;

    #[test]
    fn crd_table_matches_the_schema_files() {
        assert_eq!(custom_resources().count(), LOADED.len());
        for crd in CRDS {
            let doc: Json = serde_json::from_str(crd.text).unwrap();
            let what = format!("{} {}", crd.api_version, crd.kind);
            let scope = match crd.scope {
                Scope::Namespaced => "Namespaced",
                Scope::Cluster => "Cluster",
            };
            assert_eq!(
                doc["x-mlship-crd"],
                json!({"apiVersion": crd.api_version, "kind": crd.kind, "scope": scope}),
                "{what}"
            );
            assert_eq!(
                doc["$id"],
                json!(format!("https://mlship.dev/schemas/crds/{}", crd.file)),
                "{what}"
            );
            // Files are named `<group>_<version>_<kind in lower case>.json`.
            let (group, version) = crd.api_version.split_once('/').expect("a custom resource has a group");
            let name = format!("{group}_{version}_{}.json", crd.kind.to_lowercase());
            assert_eq!(crd.file, name, "{what}");
            assert_eq!(
                doc["properties"]["apiVersion"]["enum"],
                json!([crd.api_version]),
                "{what}"
            );
            assert_eq!(doc["properties"]["kind"]["enum"], json!([crd.kind]), "{what}");
            // Every $ref points at a definition of the same file.
            let mut stack = vec![&doc];
            while let Some(node) = stack.pop() {
                match node {
                    Json::Object(m) => {
                        if let Some(r) = m.get("$ref").and_then(Json::as_str) {
                            let name = r.strip_prefix("#/$defs/").unwrap_or_else(|| panic!("{what}: {r}"));
                            assert!(doc["$defs"][name].is_object(), "{what}: {r}");
                        }
                        stack.extend(m.values());
                    }
                    Json::Array(a) => stack.extend(a),
                    _ => {}
                }
            }
            assert!(schema(crd.api_version, crd.kind).is_some(), "{what}");
            assert_eq!(super::scope(crd.api_version, crd.kind), Some(crd.scope), "{what}");
        }
        assert!(schema("argoproj.io/v1alpha1", "AppProject").is_none());
        assert_eq!(super::scope("argoproj.io/v1alpha1", "AppProject"), None);
    }

    #[test]
    fn every_schema_file_is_registered_and_has_its_line_in_sources() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/crds");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".json"))
            .collect();
        files.sort();
        let registered: Vec<&str> = CRDS.iter().map(|c| c.file).collect();
        assert_eq!(files, registered, "the files of schemas/crds/ and the CRD table");
        // SOURCES.md: one table row per file, its name in backticks in the first column.
        let sources = include_str!("../../../schemas/crds/SOURCES.md");
        let mut rows: Vec<&str> = sources
            .lines()
            .filter_map(|line| line.strip_prefix("| `")?.split_once('`'))
            .map(|(name, _)| name)
            .collect();
        rows.sort_unstable();
        assert_eq!(rows, registered, "schemas/crds/SOURCES.md names each file once");
    }

    #[test]
    fn field_names_are_found_through_crd_refs() {
        let crd = schema("argoproj.io/v1alpha1", "Application").unwrap();
        let ctx = Ctx {
            doc: &crd.doc,
            start: &crd.doc,
        };
        // spec.sources[] is a $ref to ApplicationSource, whose helm is a $ref too.
        let names = property_names(&ctx.schemas_at(&Path::of(&["spec", "sources"]).index(0).key("helm")));
        assert!(names.iter().any(|n| n == "valuesObject"), "{names:?}");
        let count = Path::of(&["spec", "source", "kustomize", "replicas"])
            .index(0)
            .key("count");
        assert_eq!(expected_types(&ctx.schemas_at(&count)), ["string", "integer"]);
    }
}
