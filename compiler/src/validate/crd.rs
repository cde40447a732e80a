//! The custom resources with a bundled schema: the CRD table.
//!
//! Takes: an `apiVersion` and a `kind`. Gives: whether the kind is a custom resource with a
//! schema in `schemas/crds/` and, on first use, that schema and its compiled validator (once
//! per process). The same for every Kubernetes version.

use crate::schema_common::document_validator;
use jsonschema::Validator;
use serde_json::Value as Json;
use std::sync::{Arc, OnceLock};

/// A custom resource kind with a bundled schema (schemas/crds/, docs/validation.md).
struct Crd {
    api_version: &'static str,
    kind: &'static str,
    text: &'static str,
}

/// The custom resources mlship emits, with schemas written from their upstream CRDs
/// (schemas/crds/SOURCES.md). Independent of the Kubernetes version.
const CRDS: [Crd; 5] = [
    Crd {
        api_version: "external-secrets.io/v1",
        kind: "ExternalSecret",
        text: include_str!("../../../schemas/crds/external-secrets.io_v1_externalsecret.json"),
    },
    Crd {
        api_version: "bitnami.com/v1alpha1",
        kind: "SealedSecret",
        text: include_str!("../../../schemas/crds/bitnami.com_v1alpha1_sealedsecret.json"),
    },
    Crd {
        api_version: "argoproj.io/v1alpha1",
        kind: "Application",
        text: include_str!("../../../schemas/crds/argoproj.io_v1alpha1_application.json"),
    },
    Crd {
        api_version: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        text: include_str!("../../../schemas/crds/source.toolkit.fluxcd.io_v1_gitrepository.json"),
    },
    Crd {
        api_version: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        text: include_str!("../../../schemas/crds/kustomize.toolkit.fluxcd.io_v1_kustomization.json"),
    },
];

/// Each CRD schema, parsed and compiled the first time an object of its kind is seen.
static LOADED: [OnceLock<CrdSchema>; 5] = [const { OnceLock::new() }; 5];

/// A custom resource's schema document and its validator.
pub(super) struct CrdSchema {
    pub(super) doc: Arc<Json>,
    pub(super) validator: Validator,
}

/// Every `(apiVersion, kind)` of custom resource with a bundled schema: the same for every
/// Kubernetes version. Other custom resources are [`UnknownKind`](super::UnknownKind)s.
pub fn custom_resources() -> impl Iterator<Item = (&'static str, &'static str)> {
    CRDS.iter().map(|c| (c.api_version, c.kind))
}

/// The schema of a custom resource kind, loaded on first use.
pub(super) fn schema(api_version: &str, kind: &str) -> Option<&'static CrdSchema> {
    let i = CRDS
        .iter()
        .position(|c| c.api_version == api_version && c.kind == kind)?;
    Some(LOADED[i].get_or_init(|| {
        let crd = &CRDS[i];
        let doc: Arc<Json> = Arc::new(serde_json::from_str(crd.text).expect("embedded CRD schema is JSON"));
        let uri = doc["$id"].as_str().expect("embedded CRD schema has an $id").to_string();
        let validator = document_validator(&uri, Arc::clone(&doc))
            .unwrap_or_else(|e| panic!("schema of {} {} compiles: {e}", crd.api_version, crd.kind));
        CrdSchema { doc, validator }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_common::property_names;
    use crate::source::Path;
    use crate::validate::messages::{Ctx, expected_types};
    use serde_json::json;

    #[test]
    fn crd_table_matches_the_schema_files() {
        assert_eq!(custom_resources().count(), LOADED.len());
        for crd in &CRDS {
            let doc: Json = serde_json::from_str(crd.text).unwrap();
            let what = format!("{} {}", crd.api_version, crd.kind);
            assert_eq!(
                doc["x-mlship-crd"],
                json!({"apiVersion": crd.api_version, "kind": crd.kind}),
                "{what}"
            );
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
        }
        assert!(schema("argoproj.io/v1alpha1", "AppProject").is_none());
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
