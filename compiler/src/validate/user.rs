//! The users' own custom resources: their CustomResourceDefinition files, read.
//!
//! Takes: the text of YAML files that hold `apiextensions.k8s.io/v1` CustomResourceDefinitions
//! (`mlship validate --manifests --crd FILE|DIR`, a spec's `crds:`). Gives: [`UserCrds`], the
//! kinds they define, each served version with its `openAPIV3Schema` converted as
//! `schemas/crds/crd2json.py` converts the bundled ones (so the same strictness: unknown
//! fields, types, required fields, enums, patterns, bounds), validated by the same code
//! ([`Schemas::validate_with`](super::Schemas::validate_with)) and compiled the first time an
//! object of the kind is seen. A CRD that is not a valid CustomResourceDefinition (for the
//! Kubernetes version) is a located problem in its file, never a skipped one.
//!
//! The conversion of a served version's `openAPIV3Schema`:
//! - annotation-only keywords are dropped (`description`, `default`, `example`, `title`,
//!   `externalDocs`, the `x-kubernetes-list-*` and `x-kubernetes-map-type` markers, and the
//!   CEL rules `x-kubernetes-validations`, which are not checked offline);
//! - `nullable: true` adds `null` to the type (and to an `enum`); `x-kubernetes-int-or-string: true` becomes
//!   `anyOf: [integer, string]`; OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum`
//!   become JSON Schema's numbers;
//! - every object schema with `properties` is closed (`additionalProperties: false`) unless it
//!   has `x-kubernetes-preserve-unknown-fields: true` or is a branch of `anyOf`, `allOf`,
//!   `oneOf` or `not` (which only repeat properties declared beside them); the root and embedded resources always
//!   admit `apiVersion`, `kind` and `metadata`, and `metadata` stays open (the API server checks
//!   it as ObjectMeta, and so does the validator);
//! - `format: int32` and `int64` get their bounds.

use super::documents::{Document, Object, Outcome, objects};
use super::messages::{Found, expected_values};
use super::{Schemas, Scope, crd::CrdSchema};
use crate::schema_common::{bound_integer_formats, document_validator};
use crate::source::Path;
use serde_json::{Map, Value as Json, json};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The `apiVersion` of the CustomResourceDefinitions read.
const CRD_API: &str = "apiextensions.k8s.io/v1";

/// Whether an object is a CustomResourceDefinition (`apiextensions.k8s.io/v1`).
pub fn is_crd(obj: &Json) -> bool {
    obj["apiVersion"] == CRD_API && obj["kind"] == "CustomResourceDefinition"
}

/// The custom resource kinds of the users' CRD files, by group, version and kind.
#[derive(Default)]
pub struct UserCrds {
    kinds: Vec<UserKind>,
}

impl fmt::Debug for UserCrds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.kinds.iter()).finish()
    }
}

/// One version of a kind a user's CRD defines.
pub struct UserKind {
    /// `<group>/<version>`.
    pub api_version: String,
    pub kind: String,
    pub scope: Scope,
    /// Whether the API server serves the version (`served: true`).
    pub served: bool,
    /// The CRD file, and the line of the version's schema in it.
    pub file: String,
    pub line: usize,
    /// The converted schema, and its validator once compiled.
    schema: Arc<Json>,
    loaded: OnceLock<Result<CrdSchema, String>>,
}

impl fmt::Debug for UserKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}` ({}:{})", self.kind, self.api_version, self.file, self.line)
    }
}

impl UserKind {
    fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

impl UserCrds {
    /// Every kind read so far, in the order read.
    pub fn kinds(&self) -> impl Iterator<Item = &UserKind> {
        self.kinds.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Read the CustomResourceDefinitions of one YAML file (`---` separated; other kinds of
    /// objects are left out), each validated as a CustomResourceDefinition of `schemas`'
    /// Kubernetes version first. `Ok` gives how many CRDs the file has; `Err` the documents
    /// that are not valid YAML or not valid CRDs, with their located problems, and then
    /// nothing of the file is kept. A kind defined twice (in this file or an earlier one) is a
    /// problem of the later CRD.
    pub fn read(&mut self, schemas: &Schemas, name: &str, text: &str) -> Result<usize, Vec<Document>> {
        let mut found: Vec<UserKind> = Vec::new();
        let mut crds = 0;
        let mut docs = objects(name, text, |o| {
            if !is_crd(o.json) {
                return Outcome::Valid;
            }
            crds += 1;
            // The kinds of earlier CRDs: this one's versions share its group and kind.
            let before = found.len();
            let problems = match schemas.check(o.json, &UserCrds::default()) {
                Err(unknown) => vec![Found::new(Path::root(), unknown.to_string())],
                Ok(problems) if !problems.is_empty() => problems,
                Ok(_) => match kinds_of(o, name) {
                    Err(problems) => problems,
                    Ok(kinds) => {
                        let first = kinds.first().and_then(|k| {
                            self.kinds
                                .iter()
                                .chain(&found[..before])
                                .find(|e| e.group() == k.group() && e.kind == k.kind)
                        });
                        match first {
                            Some(e) => vec![Found {
                                key: true,
                                ..Found::new(
                                    Path::of(&["spec", "names", "kind"]),
                                    format!(
                                        "{} of `{}` is defined twice; the first is at {}",
                                        e.kind,
                                        e.group(),
                                        e.at()
                                    ),
                                )
                            }],
                            None => {
                                found.extend(kinds);
                                Vec::new()
                            }
                        }
                    }
                },
            };
            if problems.is_empty() {
                Outcome::Valid
            } else {
                Outcome::Invalid(o.locate(problems))
            }
        });
        docs.retain(|d| matches!(d.outcome, Outcome::Invalid(_)));
        if !docs.is_empty() {
            return Err(docs);
        }
        self.kinds.extend(found);
        Ok(crds)
    }

    /// The schema of an object of a user's kind: `None` when no user CRD defines the group and
    /// kind; a problem at `apiVersion` when they define it under other versions only, or do
    /// not serve this one; a problem at the object when its schema does not compile.
    pub(super) fn schema(&self, api_version: &str, kind: &str) -> Option<Result<&CrdSchema, Found>> {
        let exact = self
            .kinds
            .iter()
            .find(|k| k.api_version == api_version && k.kind == kind);
        let k = match exact {
            Some(k) if k.served => k,
            _ => return self.wrong_version(api_version, kind, exact).map(Err),
        };
        let loaded = k.loaded.get_or_init(|| {
            let uri = format!(
                "https://mlship.dev/schemas/user/{}_{}.json",
                k.api_version.replace('/', "_"),
                k.kind.to_lowercase()
            );
            let mut doc = (*k.schema).clone();
            if let Json::Object(m) = &mut doc {
                m.insert("$id".into(), json!(uri));
                m.insert("$schema".into(), json!("https://json-schema.org/draft/2020-12/schema"));
            }
            let doc = Arc::new(doc);
            document_validator(&uri, Arc::clone(&doc))
                .map(|validator| CrdSchema { doc, validator })
                .map_err(|e| e.to_string())
        });
        Some(match loaded {
            Ok(crd) => Ok(crd),
            Err(e) => Err(Found::new(
                Path::root(),
                format!(
                    "the schema of {kind} `{api_version}` at {} cannot be used: {}",
                    k.at(),
                    e.chars().take(200).collect::<String>()
                ),
            )),
        })
    }

    /// The problem of an object of a user's group and kind under a version their CRD does
    /// not define (`exact` is `None`) or does not serve; `None` when no CRD defines the kind.
    fn wrong_version(&self, api_version: &str, kind: &str, exact: Option<&UserKind>) -> Option<Found> {
        let (group, _) = api_version.rsplit_once('/')?;
        let of_kind: Vec<&UserKind> = self
            .kinds
            .iter()
            .filter(|k| k.group() == group && k.kind == kind)
            .collect();
        let first = of_kind.first()?;
        let served: Vec<String> = of_kind
            .iter()
            .filter(|k| k.served)
            .map(|k| format!("`{}`", k.api_version))
            .collect();
        let message = match (served.is_empty(), exact) {
            (false, _) => expected_values(&served, Some(&Json::from(api_version))),
            (true, Some(_)) => format!("`{api_version}` is not served, nor any other version of {kind}"),
            (true, None) => format!("no version of {kind} is served"),
        };
        let help = match exact {
            Some(k) => format!("its CRD at {} has `served: false` for it", k.at()),
            None => format!("its CRD is at {}", first.at()),
        };
        Some(Found {
            help: Some(help),
            ..Found::new(Path::of(&["apiVersion"]), message)
        })
    }

    /// Where objects of a user's kind live (its CRD's `spec.scope`); `None` for other kinds.
    pub fn scope(&self, api_version: &str, kind: &str) -> Option<Scope> {
        self.kinds
            .iter()
            .find(|k| k.api_version == api_version && k.kind == kind)
            .map(|k| k.scope)
    }
}

/// The kinds of one valid CustomResourceDefinition, one per version, or the problems the
/// API server would refuse it for beyond its schema.
fn kinds_of(o: &Object<'_>, file: &str) -> Result<Vec<UserKind>, Vec<Found>> {
    let crd = o.json;
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let kind = spec["names"]["kind"].as_str().unwrap_or_default();
    let plural = spec["names"]["plural"].as_str().unwrap_or_default();
    let mut problems = Vec::new();
    let name = crd["metadata"]["name"].as_str();
    let expected = format!("{plural}.{group}");
    if name != Some(expected.as_str()) {
        problems.push(match name {
            Some(_) => Found::new(
                Path::of(&["metadata", "name"]),
                expected_values(&[format!("`{expected}`")], crd["metadata"].get("name")),
            ),
            None => Found {
                key: true,
                ..Found::new(Path::of(&["metadata"]), "missing required field `name`")
            },
        });
    }
    let scope = match spec["scope"].as_str() {
        Some("Namespaced") => Scope::Namespaced,
        Some("Cluster") => Scope::Cluster,
        other => {
            problems.push(Found::new(
                Path::of(&["spec", "scope"]),
                expected_values(
                    &["`Namespaced`".into(), "`Cluster`".into()],
                    other.map(Json::from).as_ref(),
                ),
            ));
            Scope::Namespaced
        }
    };
    if !group.contains('.') {
        problems.push(Found::new(
            Path::of(&["spec", "group"]),
            format!("`{group}` is not a CRD group: it needs a domain, such as `{group}.example.com`"),
        ));
    }
    let mut kinds = Vec::new();
    let versions = spec["versions"].as_array().map(Vec::as_slice).unwrap_or_default();
    if versions.is_empty() {
        problems.push(Found::new(
            Path::of(&["spec", "versions"]),
            "must have at least 1 items",
        ));
    }
    for (i, v) in versions.iter().enumerate() {
        let at = Path::of(&["spec", "versions"]).index(i);
        let version = v["name"].as_str().unwrap_or_default();
        let Some(schema) = v["schema"].get("openAPIV3Schema") else {
            let (key, at) = if v.get("schema").is_some() {
                (at.key("schema"), "openAPIV3Schema")
            } else {
                (at, "schema")
            };
            problems.push(Found {
                key: true,
                ..Found::new(key, format!("missing required field `{at}`"))
            });
            continue;
        };
        let schema_at = at.key("schema").key("openAPIV3Schema");
        kinds.push(UserKind {
            api_version: format!("{group}/{version}"),
            kind: kind.to_string(),
            scope,
            served: v["served"].as_bool().unwrap_or(false),
            file: file.to_string(),
            line: o.line_col(&schema_at).0,
            schema: Arc::new(convert_root(schema)),
            loaded: OnceLock::new(),
        });
    }
    if problems.is_empty() { Ok(kinds) } else { Err(problems) }
}

/// A served version's `openAPIV3Schema`, converted (see the module's documentation).
fn convert_root(schema: &Json) -> Json {
    let mut out = convert(schema, true);
    admit_resource_fields(&mut out);
    bound_integer_formats(&mut out);
    out
}

/// The keywords that change nothing that validates, dropped.
const DROP: &[&str] = &[
    "description",
    "default",
    "example",
    "title",
    "externalDocs",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
];

/// One schema node, converted as `schemas/crds/crd2json.py` converts it. Below `anyOf`,
/// `allOf`, `oneOf` and `not` (value validations, which in a structural schema only repeat
/// properties declared beside them) nothing is closed: `close` is false there.
fn convert(s: &Json, close: bool) -> Json {
    let Json::Object(m) = s else { return s.clone() };
    let mut out: Map<String, Json> = m
        .iter()
        .filter(|(k, _)| !DROP.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let flag = |out: &mut Map<String, Json>, key: &str| out.remove(key).is_some_and(|v| v == Json::Bool(true));
    let preserve = flag(&mut out, "x-kubernetes-preserve-unknown-fields");
    let int_or_string = flag(&mut out, "x-kubernetes-int-or-string");
    let nullable = flag(&mut out, "nullable");
    let embedded = flag(&mut out, "x-kubernetes-embedded-resource");
    if let Some(Json::Object(props)) = out.get_mut("properties") {
        for v in props.values_mut() {
            *v = convert(v, close);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(v @ Json::Object(_)) = out.get_mut(key) {
            *v = convert(v, close);
        }
    }
    if let Some(v @ Json::Object(_)) = out.get_mut("not") {
        *v = convert(v, false);
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        if let Some(Json::Array(items)) = out.get_mut(key) {
            for v in items {
                *v = convert(v, false);
            }
        }
    }
    // OpenAPI 3.0 (JSON Schema draft 4): a boolean beside `minimum`; 2020-12: the bound.
    for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        match out.get(exclusive) {
            Some(Json::Bool(true)) => match out.remove(bound) {
                Some(b) => {
                    out.insert(exclusive.into(), b);
                }
                None => {
                    out.remove(exclusive);
                }
            },
            Some(Json::Bool(false)) => {
                out.remove(exclusive);
            }
            _ => {}
        }
    }
    if int_or_string {
        out.remove("type");
        let mut forms = vec![json!({"type": "integer"}), json!({"type": "string"})];
        if nullable {
            forms.push(json!({"type": "null"}));
        }
        out.insert("anyOf".into(), Json::Array(forms));
    } else if nullable && let Some(Json::String(t)) = out.get("type") {
        let t = t.clone();
        out.insert("type".into(), json!([t, "null"]));
    }
    // The API server takes `null` for a nullable field before it looks at the enum.
    if nullable
        && let Some(Json::Array(values)) = out.get_mut("enum")
        && !values.contains(&Json::Null)
    {
        values.push(Json::Null);
    }
    if embedded {
        admit_resource_fields_of(&mut out);
    }
    if close && out.contains_key("properties") && !preserve && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Json::Bool(false));
    }
    Json::Object(out)
}

/// The root of a custom resource admits `apiVersion`, `kind` and any `metadata`.
fn admit_resource_fields(root: &mut Json) {
    if let Json::Object(m) = root {
        admit_resource_fields_of(m);
    }
}

fn admit_resource_fields_of(m: &mut Map<String, Json>) {
    let Some(Json::Object(props)) = m.get_mut("properties") else {
        return;
    };
    for field in ["apiVersion", "kind"] {
        props.entry(field).or_insert_with(|| json!({"type": "string"}));
    }
    // A CRD may restrict `metadata.name` and `generateName` only; ObjectMeta is checked
    // whole, so the rest of `metadata` stays open here.
    match props.get_mut("metadata") {
        Some(Json::Object(meta)) => {
            if meta.get("additionalProperties") == Some(&Json::Bool(false)) {
                meta.remove("additionalProperties");
            }
        }
        _ => {
            props.insert("metadata".into(), json!({"type": "object"}));
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    const WIDGETS: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, format: int32, minimum: 1}
              color: {type: string, enum: [red, blue], nullable: true}
              port: {x-kubernetes-int-or-string: true}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
              ratio: {type: number, minimum: 0, exclusiveMinimum: true}
  - name: v1alpha1
    served: false
    storage: false
    schema:
      openAPIV3Schema: {type: object}
";

    fn crds(text: &str) -> UserCrds {
        let schemas = crate::validate::schemas("1.33").unwrap();
        let mut crds = UserCrds::default();
        assert_eq!(
            crds.read(schemas, "crd.yaml", text).map_err(|d| format!("{d:?}")),
            Ok(1)
        );
        crds
    }

    fn check(crds: &UserCrds, object: &str) -> Vec<String> {
        let schemas = crate::validate::schemas("1.33").unwrap();
        schemas
            .validate_yaml_with("w.yaml", object, crds)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn objects_of_a_users_kind_are_validated_strictly_and_located() {
        let crds = crds(WIDGETS);
        assert_eq!(crds.scope("example.com/v1", "Widget"), Some(Scope::Namespaced));
        assert_eq!(crds.scope("example.com/v1", "Gadget"), None);
        let head = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  labels: {a: b}\n";
        let ok = format!("{head}spec:\n  size: 2\n  color: null\n  port: http\n  extra: {{any: [1]}}\n  ratio: 0.5\n");
        assert_eq!(check(&crds, &ok), ["w.yaml:1: Widget/w: valid"]);
        let bad = format!("{head}spec:\n  size: \"2\"\n  colour: red\n  ratio: 0\n");
        assert_eq!(
            check(&crds, &bad),
            ["w.yaml:7:9: Widget/w: spec.size: expected integer, found string\n\
                 w.yaml:8:3: Widget/w: spec.colour: unknown field `colour` (did you mean `color`?)\n\
                 w.yaml:9:10: Widget/w: spec.ratio: must be greater than 0, found `0`"]
        );
        let big = format!("{head}spec: {{size: 3000000000}}\nstatus: {{}}\n");
        let out = check(&crds, &big).join("\n");
        assert!(out.contains("spec.size: must be at most 2147483647"), "{out}");
        assert!(out.contains("unknown field `status`"), "{out}");
        // metadata is ObjectMeta.
        let meta = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, lables: {}}\nspec: {size: 1}\n";
        let out = check(&crds, meta).join("\n");
        assert!(out.contains("metadata.lables: unknown field `lables`"), "{out}");
    }

    #[test]
    fn versions_the_crd_does_not_serve_are_problems_other_kinds_are_skipped() {
        let crds = crds(WIDGETS);
        let obj = |api: &str| format!("apiVersion: {api}\nkind: Widget\nmetadata: {{name: w}}\n");
        assert_eq!(
            check(&crds, &obj("example.com/v2")),
            [
                "w.yaml:1:13: Widget/w: apiVersion: expected `example.com/v1`, found `example.com/v2` (its CRD is at crd.yaml:15)"
            ]
        );
        let out = check(&crds, &obj("example.com/v1alpha1")).join("\n");
        assert!(out.contains("has `served: false`"), "{out}");
        assert_eq!(
            check(&crds, "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n"),
            ["w.yaml:1: Gadget/g: skipped: no schema for Gadget `example.com/v1`"]
        );
    }

    #[test]
    fn broken_crds_are_located_problems_and_nothing_of_their_file_is_kept() {
        let schemas = crate::validate::schemas("1.33").unwrap();
        let mut crds = UserCrds::default();
        let broken = WIDGETS
            .replace("size: {type: integer", "size: {type: 7")
            .replace("scope: Namespaced", "scope: Everywhere");
        let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\n---\n{broken}");
        let docs = crds.read(schemas, "crd.yaml", &text).unwrap_err();
        let shown: Vec<String> = docs.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "crd.yaml:25:28: CustomResourceDefinition/widgets.example.com: spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.size.type: expected string, found integer"
            ],
        );
        assert!(crds.is_empty());
        let scope = WIDGETS.replace("scope: Namespaced", "scope: Everywhere");
        let docs = crds.read(schemas, "crd.yaml", &scope).unwrap_err();
        assert_eq!(
            docs[0].to_string(),
            "crd.yaml:8:10: CustomResourceDefinition/widgets.example.com: spec.scope: expected one of `Namespaced`, `Cluster`, found `Everywhere`"
        );
        let docs = crds.read(schemas, "crd.yaml", "kind: [\n").unwrap_err();
        assert!(docs[0].to_string().starts_with("crd.yaml:1:"), "{}", docs[0]);
        let named = WIDGETS.replace("name: widgets.example.com", "name: widget");
        let docs = crds.read(schemas, "crd.yaml", &named).unwrap_err();
        assert!(
            docs[0]
                .to_string()
                .contains("metadata.name: expected `widgets.example.com`, found `widget`"),
            "{}",
            docs[0]
        );
        // Non-CRD documents are left out; a kind defined twice is the later CRD's problem.
        assert_eq!(
            crds.read(schemas, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\n"),
            Ok(0)
        );
        assert_eq!(crds.read(schemas, "crd.yaml", WIDGETS).map_err(|_| ()), Ok(1));
        let docs = crds.read(schemas, "again.yaml", WIDGETS).unwrap_err();
        assert!(
            docs[0]
                .to_string()
                .contains("Widget of `example.com` is defined twice; the first is at crd.yaml:15"),
            "{}",
            docs[0]
        );
    }

    #[test]
    fn a_schema_that_does_not_compile_is_a_problem_of_each_object_of_its_kind() {
        let crds = crds(&WIDGETS.replace("color: {type: string,", "color: {type: string, pattern: \"[\","));
        let out = check(
            &crds,
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1}\n",
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0].starts_with(
                "w.yaml:1:1: Widget/w: the schema of Widget `example.com/v1` at crd.yaml:15 cannot be used: "
            ),
            "{out:?}"
        );
    }

    #[test]
    fn a_crd_is_a_valid_manifest() {
        let schemas = crate::validate::schemas("1.33").unwrap();
        let docs = schemas.validate_yaml("crd.yaml", WIDGETS);
        assert_eq!(docs[0].outcome, Outcome::Valid, "{}", docs[0]);
        assert!(is_crd(
            &serde_json::json!({"apiVersion": CRD_API, "kind": "CustomResourceDefinition"})
        ));
    }

    #[test]
    fn the_conversion_matches_crd2json() {
        let s = json!({
            "type": "object", "description": "d",
            "properties": {
                "a": {"type": "string", "nullable": true, "default": "x"},
                "b": {"x-kubernetes-int-or-string": true},
                "c": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"d": {"type": "integer"}}},
                "e": {"type": "array", "items": {"type": "object", "properties": {"f": {"type": "boolean"}}}},
                "g": {"type": "object", "properties": {"h": {"type": "string"}, "i": {"type": "string"}},
                      "oneOf": [{"properties": {"h": {"minLength": 1}}, "required": ["h"]}, {"required": ["i"]}]},
            }
        });
        assert_eq!(
            convert(&s, true),
            json!({
                "type": "object", "additionalProperties": false,
                "properties": {
                    "a": {"type": ["string", "null"]},
                    "b": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                    "c": {"type": "object", "properties": {"d": {"type": "integer"}}},
                    "e": {"type": "array", "items": {"type": "object", "properties": {"f": {"type": "boolean"}}, "additionalProperties": false}},
                    // The branches repeat a property: closing them would refuse the others.
                    "g": {"type": "object", "properties": {"h": {"type": "string"}, "i": {"type": "string"}}, "additionalProperties": false,
                          "oneOf": [{"properties": {"h": {"minLength": 1}}, "required": ["h"]}, {"required": ["i"]}]},
                }
            })
        );
    }
}
