//! Kubernetes objects against Kubernetes' own schemas: offline, in process, strict.
//!
//! Takes: a Kubernetes version and objects (JSON values, or YAML text of one or more
//! documents). Gives: the [`Violation`]s of each object, located at a document path and, for
//! YAML, at a line and column: unknown fields, wrong types, missing required fields and values
//! outside an enum (`apiVersion` and `kind`). Objects of kinds without a schema (custom
//! resources other than those below) come back as [`UnknownKind`] so callers can skip or
//! report them.
//!
//! The schemas are those `kubernetes-validate --strict` uses (every object schema closed with
//! `additionalProperties: false`), one bundle per version under `schemas/k8s/`, embedded at
//! compile time and rebuilt by `scripts/k8s-schemas.py` (docs/validation.md). A version's
//! bundle is indexed the first time it is used and its definitions parsed as validators need
//! them; the kinds mlship emits share one validator, compiled the first time any of them is
//! seen, and every other kind's validator is compiled the first time an object of that kind
//! is seen, once per process.
//!
//! The custom resources mlship emits (ExternalSecret, SealedSecret, Argo CD's Application,
//! Flux's GitRepository and Kustomization, see [`custom_resources`]) are checked against
//! schemas written from their upstream CRDs (`schemas/crds/`, the same for every Kubernetes
//! version, each compiled once per process on first use), and their `metadata` against the
//! version's `ObjectMeta`.
//!
//! Pure: no file system. [`validate_files`] takes `(name, text)` pairs the caller read.

use crate::diag::Code;
use crate::schema_common::{closest, compile, document_validator, property_names, registry};
use crate::source::{Path, Seg, SourceFile, Span};
use crate::tree::{Node, Value as TreeValue};
use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use jsonschema::{Registry, Validator};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The Kubernetes versions with a bundled schema, oldest first.
pub const SUPPORTED: &[&str] = &["1.33", "1.34", "1.35", "1.36", "1.37"];

/// The embedded bundles, in the order of [`SUPPORTED`].
const BUNDLES: [&str; 5] = [
    include_str!("../../schemas/k8s/v1.33.json"),
    include_str!("../../schemas/k8s/v1.34.json"),
    include_str!("../../schemas/k8s/v1.35.json"),
    include_str!("../../schemas/k8s/v1.36.json"),
    include_str!("../../schemas/k8s/v1.37.json"),
];

static LOADED: [OnceLock<Schemas>; 5] = [const { OnceLock::new() }; 5];

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
        text: include_str!("../../schemas/crds/external-secrets.io_v1_externalsecret.json"),
    },
    Crd {
        api_version: "bitnami.com/v1alpha1",
        kind: "SealedSecret",
        text: include_str!("../../schemas/crds/bitnami.com_v1alpha1_sealedsecret.json"),
    },
    Crd {
        api_version: "argoproj.io/v1alpha1",
        kind: "Application",
        text: include_str!("../../schemas/crds/argoproj.io_v1alpha1_application.json"),
    },
    Crd {
        api_version: "source.toolkit.fluxcd.io/v1",
        kind: "GitRepository",
        text: include_str!("../../schemas/crds/source.toolkit.fluxcd.io_v1_gitrepository.json"),
    },
    Crd {
        api_version: "kustomize.toolkit.fluxcd.io/v1",
        kind: "Kustomization",
        text: include_str!("../../schemas/crds/kustomize.toolkit.fluxcd.io_v1_kustomization.json"),
    },
];

/// Each CRD schema, parsed and compiled the first time an object of its kind is seen.
static CRD_LOADED: [OnceLock<CrdSchema>; 5] = [const { OnceLock::new() }; 5];

struct CrdSchema {
    doc: Arc<Json>,
    validator: Validator,
}

/// The definition the `metadata` of a custom resource is checked against, in the bundle of
/// the Kubernetes version (CRDs declare it as a bare `object`; the API server checks it as
/// `ObjectMeta`).
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Every `(apiVersion, kind)` of custom resource with a bundled schema: the same for every
/// Kubernetes version. Other custom resources are [`UnknownKind`]s.
pub fn custom_resources() -> impl Iterator<Item = (&'static str, &'static str)> {
    CRDS.iter().map(|c| (c.api_version, c.kind))
}

/// The schema of a custom resource kind, loaded on first use.
fn crd_schema(api_version: &str, kind: &str) -> Option<&'static CrdSchema> {
    let i = CRDS
        .iter()
        .position(|c| c.api_version == api_version && c.kind == kind)?;
    Some(CRD_LOADED[i].get_or_init(|| {
        let crd = &CRDS[i];
        let doc: Arc<Json> = Arc::new(serde_json::from_str(crd.text).expect("embedded CRD schema is JSON"));
        let uri = doc["$id"].as_str().expect("embedded CRD schema has an $id").to_string();
        let validator = document_validator(&uri, Arc::clone(&doc))
            .unwrap_or_else(|e| panic!("schema of {} {} compiles: {e}", crd.api_version, crd.kind));
        CrdSchema { doc, validator }
    }))
}

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

/// `path: message (help)`, the one way a violation is shown, with or without a position.
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

/// The object's kind has no schema: a custom resource other than those of
/// [`custom_resources`] (a Prometheus ServiceMonitor, Argo CD's AppProject, an older
/// `external-secrets.io/v1beta1` ExternalSecret, ...) or a `List`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind {
    pub api_version: String,
    pub kind: String,
}

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no schema for {} `{}`", self.kind, self.api_version)
    }
}

/// The Kubernetes version has no bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedVersion(pub String);

impl fmt::Display for UnsupportedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Kubernetes `{}` is not supported; supported versions: {}",
            self.0,
            SUPPORTED.join(", ")
        )
    }
}

/// Why an object was not validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoSchema {
    Version(UnsupportedVersion),
    Kind(UnknownKind),
}

impl From<UnsupportedVersion> for NoSchema {
    fn from(v: UnsupportedVersion) -> Self {
        NoSchema::Version(v)
    }
}

impl From<UnknownKind> for NoSchema {
    fn from(k: UnknownKind) -> Self {
        NoSchema::Kind(k)
    }
}

impl fmt::Display for NoSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoSchema::Version(v) => v.fmt(f),
            NoSchema::Kind(k) => k.fmt(f),
        }
    }
}

/// Validate one object for a Kubernetes version ("1.33"; "v1.33" and "1.33.2" work too).
pub fn validate(version: &str, obj: &Json) -> Result<Vec<Violation>, NoSchema> {
    Ok(schemas(version)?.validate(obj)?)
}

/// Validate every document of one YAML file. See [`Schemas::validate_yaml`].
pub fn validate_yaml(version: &str, name: &str, text: &str) -> Result<Vec<Document>, UnsupportedVersion> {
    Ok(schemas(version)?.validate_yaml(name, text))
}

/// Validate the manifests among files read from directories. See [`Schemas::validate_files`].
pub fn validate_files<'a>(
    version: &str,
    files: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<Document>, UnsupportedVersion> {
    Ok(schemas(version)?.validate_files(files))
}

/// The canonical form of a supported version: `v1.33`, `1.33.4` → `1.33`.
pub fn supported(version: &str) -> Option<&'static str> {
    let v = version.trim().strip_prefix('v').unwrap_or(version.trim());
    let mut parts = v.split('.');
    let (major, minor) = (parts.next()?, parts.next()?);
    if parts.next().is_some_and(|patch| patch.parse::<u32>().is_err()) || parts.next().is_some() {
        return None;
    }
    SUPPORTED.iter().copied().find(|s| *s == format!("{major}.{minor}"))
}

/// Whether a file found while walking a directory is a manifest to validate: `*.yaml` and
/// `*.yml`, except kustomization files.
pub fn is_manifest(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    (lower.ends_with(".yaml") || lower.ends_with(".yml")) && !matches!(base, "kustomization.yaml" | "kustomization.yml")
}

/// The schemas of one Kubernetes version, loaded on first use.
pub fn schemas(version: &str) -> Result<&'static Schemas, UnsupportedVersion> {
    let canonical = supported(version).ok_or_else(|| UnsupportedVersion(version.to_string()))?;
    let i = SUPPORTED
        .iter()
        .position(|s| *s == canonical)
        .expect("supported version");
    Ok(LOADED[i].get_or_init(|| Schemas::load(canonical, BUNDLES[i])))
}

/// One version's bundle: the kind index, the definitions and the compiled validators.
///
/// Definitions are parsed on demand: the core (the kinds mlship emits, `ObjectMeta` and what
/// they refer to: about 70 KB of the 250 KB) at load; for any other kind, its definition and
/// what it refers to, the first time an object of that kind is validated.
pub struct Schemas {
    version: &'static str,
    uri: String,
    /// Every definition, unparsed.
    raw: BTreeMap<&'static str, &'static str>,
    core: Part,
    kinds: Vec<Kind>,
    /// One validator for every kind of [`EMITTED`].
    emitted: OnceLock<Validator>,
    /// `ObjectMeta`, for the metadata of custom resources.
    meta: OnceLock<Validator>,
}

impl fmt::Debug for Schemas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schemas")
            .field("version", &self.version)
            .field("kinds", &self.kinds.len())
            .finish_non_exhaustive()
    }
}

/// The built-in kinds mlship emits, as `(apiVersion, kind)`. They share one validator, compiled
/// the first time any of them is seen: it picks the kind's definition by `apiVersion` and
/// `kind`, and compiles what the kinds have in common (the PodSpec of Deployments, Jobs and
/// CronJobs, ObjectMeta, LabelSelector) once instead of once per kind, which halves the
/// compile for a project's first build. Every other kind has a validator of its own.
const EMITTED: &[(&str, &str)] = &[
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("batch/v1", "CronJob"),
    ("batch/v1", "Job"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("policy/v1", "PodDisruptionBudget"),
    ("v1", "ConfigMap"),
    ("v1", "Namespace"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
];

/// A bundle, indexed without parsing its definitions.
///
/// `scripts/k8s-schemas.py` writes a bundle as a header (`$id`, `x-mlship-kinds`...) followed
/// by `"$defs":{` and one definition per line (`"<name>":{...},`), so loading a version reads
/// the header as JSON and finds each definition's text by its line: the 250 KB of definitions
/// are not scanned, and a definition is parsed only when a validator needs it. A test checks
/// the index against a JSON parse of every bundle.
struct Bundle {
    id: String,
    kinds: BTreeMap<String, BTreeMap<String, String>>,
    defs: BTreeMap<&'static str, &'static str>,
}

impl Bundle {
    fn index(text: &'static str) -> Bundle {
        #[derive(serde::Deserialize)]
        struct Header {
            #[serde(rename = "$id")]
            id: String,
            #[serde(rename = "x-mlship-kinds")]
            kinds: BTreeMap<String, BTreeMap<String, String>>,
        }
        const DEFS: &str = "\n\"$defs\":{\n";
        let (head, body) = text.split_once(DEFS).expect("a bundle has a $defs line");
        let header: Header = serde_json::from_str(&format!("{}}}", head.trim_end().trim_end_matches(',')))
            .expect("a bundle's header is JSON");
        let defs = body
            .lines()
            .filter_map(|line| {
                let (name, def) = line.strip_prefix('"')?.split_once("\":")?;
                Some((name, def.strip_suffix(',').unwrap_or(def)))
            })
            .collect();
        Bundle {
            id: header.id,
            kinds: header.kinds,
            defs,
        }
    }
}

/// Some definitions of a bundle as one schema document, and its registry.
struct Part {
    doc: Arc<Json>,
    registry: Registry<'static>,
}

impl Part {
    /// The definitions `roots` names and every definition they refer to.
    fn new<'a>(uri: &str, raw: &BTreeMap<&str, &str>, roots: impl IntoIterator<Item = &'a str>) -> Part {
        let mut defs = serde_json::Map::new();
        let mut todo: Vec<String> = roots.into_iter().map(str::to_string).collect();
        while let Some(name) = todo.pop() {
            if defs.contains_key(&name) {
                continue;
            }
            let Some(text) = raw.get(name.as_str()) else { continue };
            let def: Json = serde_json::from_str(text).expect("embedded Kubernetes definition is JSON");
            refs(&def, &mut todo);
            defs.insert(name, def);
        }
        let mut doc = serde_json::Map::new();
        doc.insert("$id".into(), Json::String(uri.to_string()));
        doc.insert("$defs".into(), Json::Object(defs));
        let doc = Arc::new(Json::Object(doc));
        let registry = registry(uri, Arc::clone(&doc)).expect("embedded Kubernetes schema bundle registers");
        Part { doc, registry }
    }

    #[cfg(test)]
    fn has(&self, def: &str) -> bool {
        self.doc["$defs"].get(def).is_some()
    }
}

/// The definitions a schema refers to (`#/$defs/<name>`), pushed onto `out`.
fn refs(schema: &Json, out: &mut Vec<String>) {
    match schema {
        Json::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Json::String(r)) => out.extend(r.strip_prefix("#/$defs/").map(str::to_string)),
                    _ => refs(value, out),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

struct Kind {
    api_version: String,
    kind: String,
    def: String,
    /// One of [`EMITTED`]: its definitions are in the core, and the shared validator serves it.
    emitted: bool,
    /// For a kind outside the core: its definitions, parsed on first use.
    part: OnceLock<Part>,
    validator: OnceLock<Validator>,
}

/// One problem found inside one object (internal: path as segments, and where to point).
struct Found {
    path: Path,
    message: String,
    help: Option<String>,
    /// Point at the key (unknown or missing fields) rather than at the value.
    key: bool,
}

impl Found {
    fn new(path: Path, message: impl Into<String>) -> Self {
        Found {
            path,
            message: message.into(),
            help: None,
            key: false,
        }
    }
}

impl Schemas {
    fn load(version: &'static str, text: &'static str) -> Schemas {
        let bundle = Bundle::index(text);
        let kinds: Vec<Kind> = bundle
            .kinds
            .into_iter()
            .flat_map(|(api_version, by_kind)| {
                by_kind.into_iter().map(move |(kind, def)| Kind {
                    emitted: EMITTED.contains(&(api_version.as_str(), kind.as_str())),
                    api_version: api_version.clone(),
                    kind,
                    def,
                    part: OnceLock::new(),
                    validator: OnceLock::new(),
                })
            })
            .collect();
        let roots = kinds.iter().filter(|k| k.emitted).map(|k| k.def.as_str());
        let core = Part::new(&bundle.id, &bundle.defs, roots.chain([OBJECT_META]));
        Schemas {
            version,
            uri: bundle.id,
            raw: bundle.defs,
            core,
            kinds,
            emitted: OnceLock::new(),
            meta: OnceLock::new(),
        }
    }

    /// The definitions of `kind`: the core's, or its own.
    fn part<'a>(&'a self, kind: &'a Kind) -> &'a Part {
        if kind.emitted {
            &self.core
        } else {
            kind.part
                .get_or_init(|| Part::new(&self.uri, &self.raw, [kind.def.as_str()]))
        }
    }

    /// The Kubernetes version, such as "1.33".
    pub fn version(&self) -> &'static str {
        self.version
    }

    /// Every `(apiVersion, kind)` the bundle has a schema for.
    pub fn kinds(&self) -> impl Iterator<Item = (&str, &str)> {
        self.kinds.iter().map(|k| (k.api_version.as_str(), k.kind.as_str()))
    }

    /// The validator for objects of `kind`. With `exact`, the object's `apiVersion` and `kind`
    /// are those of `kind`, and the shared validator of [`EMITTED`] serves if it has it; an
    /// object checked against a kind it does not name (a misspelt kind) gets the kind's own.
    fn validator<'a>(&'a self, kind: &'a Kind, exact: bool) -> &'a Validator {
        if exact && kind.emitted {
            return self.emitted.get_or_init(|| self.compile_emitted());
        }
        kind.validator.get_or_init(|| {
            let what = format!("{} {}", kind.api_version, kind.kind);
            self.compile(&kind.def, self.part(kind), &what)
        })
    }

    fn compile(&self, def: &str, part: &Part, what: &str) -> Validator {
        // The root is an object, as in kubernetes-validate's per-kind files (the
        // definitions themselves also admit null).
        let root = serde_json::json!({"allOf": [{"$ref": format!("{}#/$defs/{def}", self.uri)}, {"type": "object"}]});
        self.build(&root, &part.registry, what)
    }

    /// The validator of every kind of [`EMITTED`]: for each, "if `apiVersion` and `kind` are
    /// this kind's, then its definition". Only the matching branch reports errors.
    fn compile_emitted(&self) -> Validator {
        let branches: Vec<Json> = self
            .kinds
            .iter()
            .filter(|k| k.emitted)
            .map(|k| {
                serde_json::json!({
                    "if": {"properties": {"apiVersion": {"const": k.api_version}, "kind": {"const": k.kind}}},
                    "then": {"$ref": format!("{}#/$defs/{}", self.uri, k.def)},
                })
            })
            .collect();
        let root = serde_json::json!({"type": "object", "allOf": branches});
        self.build(&root, &self.core.registry, "the kinds mlship emits")
    }

    fn build(&self, root: &Json, registry: &Registry<'static>, what: &str) -> Validator {
        compile(root, registry).unwrap_or_else(|e| panic!("schema of {what} compiles: {e}"))
    }

    /// Validate one object. `Ok(vec![])` means valid; `Err` means there is no schema for its
    /// kind (neither in the bundle nor among [`custom_resources`]). Missing or malformed `apiVersion`/`kind`, a built-in kind under a wrong
    /// or removed `apiVersion` (`batch/v1beta1` CronJob) and unknown kinds in built-in API
    /// groups are violations, not unknown kinds. A top-level `sops` mapping (SOPS metadata,
    /// removed when Flux or KSOPS decrypt) is ignored.
    pub fn validate(&self, obj: &Json) -> Result<Vec<Violation>, UnknownKind> {
        Ok(self
            .check(obj)?
            .into_iter()
            .map(|f| Violation {
                path: path_string(&f.path),
                message: f.message,
                help: f.help,
            })
            .collect())
    }

    fn check(&self, obj: &Json) -> Result<Vec<Found>, UnknownKind> {
        let Json::Object(map) = obj else {
            return Ok(vec![Found::new(
                Path::root(),
                format!("expected object, found {}", type_of(obj)),
            )]);
        };
        let mut found = Vec::new();
        for field in ["apiVersion", "kind"] {
            match map.get(field) {
                None => found.push(Found {
                    key: true,
                    ..Found::new(Path::root(), format!("missing required field `{field}`"))
                }),
                Some(Json::String(_)) => {}
                Some(other) => found.push(Found::new(
                    Path::of(&[field]),
                    format!("expected string, found {}", type_of(other)),
                )),
            }
        }
        let (Some(Json::String(api)), Some(Json::String(kind))) = (map.get("apiVersion"), map.get("kind")) else {
            return Ok(found);
        };
        let instance: Cow<Json> = if map.get("sops").is_some_and(Json::is_object) {
            let mut m = map.clone();
            m.remove("sops");
            Cow::Owned(Json::Object(m))
        } else {
            Cow::Borrowed(obj)
        };
        let (schema, wrong) = match self.resolve(api, kind) {
            Resolved::Exact(k) => (k, Vec::new()),
            Resolved::Near(k, wrong) => (k, wrong),
            Resolved::NoSuchKind(f) => return Ok(vec![f]),
            Resolved::Custom => {
                let Some(crd) = crd_schema(api, kind) else {
                    return Err(UnknownKind {
                        api_version: api.clone(),
                        kind: kind.clone(),
                    });
                };
                let ctx = Ctx {
                    doc: &crd.doc,
                    start: &crd.doc,
                };
                self.collect(&crd.validator, &instance, &Path::root(), ctx, false, &mut found);
                // CRDs declare `metadata` as a bare object; the API server checks it as
                // ObjectMeta (a non-object was reported above, as a wrong type).
                if let Some(meta @ Json::Object(_)) = instance.get("metadata") {
                    let validator = self
                        .meta
                        .get_or_init(|| self.compile(OBJECT_META, &self.core, "ObjectMeta"));
                    let doc = &self.core.doc;
                    let ctx = Ctx {
                        doc,
                        start: &doc["$defs"][OBJECT_META],
                    };
                    self.collect(validator, meta, &Path::of(&["metadata"]), ctx, false, &mut found);
                }
                return Ok(found);
            }
        };
        let near = !wrong.is_empty();
        found.extend(wrong);
        let doc = &self.part(schema).doc;
        let ctx = Ctx {
            doc,
            start: &doc["$defs"][schema.def.as_str()],
        };
        self.collect(
            self.validator(schema, !near),
            &instance,
            &Path::root(),
            ctx,
            near,
            &mut found,
        );
        Ok(found)
    }

    /// Every error of `validator` on `instance` (found at `prefix` in the object), as
    /// [`Found`]s. `ctx` is the schema the validator was compiled from, for field names and
    /// types in messages. With `near`, enum errors on `apiVersion` and `kind` were already
    /// reported (with every apiVersion that serves the kind) and are left out.
    fn collect(
        &self,
        validator: &Validator,
        instance: &Json,
        prefix: &Path,
        ctx: Ctx<'_>,
        near: bool,
        found: &mut Vec<Found>,
    ) {
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
                            help: closest(name, allowed.iter().map(String::as_str))
                                .map(|s| format!("did you mean `{s}`?")),
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

    fn resolve(&self, api: &str, kind: &str) -> Resolved<'_> {
        if let Some(k) = self.kinds.iter().find(|k| k.api_version == api && k.kind == kind) {
            return Resolved::Exact(k);
        }
        let group = group_of(api);
        let builtin_group = self.kinds.iter().any(|k| group_of(&k.api_version) == group);
        let mut candidates: Vec<&Kind> = self
            .kinds
            .iter()
            .filter(|k| k.kind.eq_ignore_ascii_case(kind))
            .collect();
        if candidates.is_empty() {
            if builtin_group && !kind.ends_with("List") {
                let served = self.kinds.iter().any(|k| k.api_version == api);
                let f = if served {
                    Found::new(
                        Path::of(&["kind"]),
                        format!("unknown kind `{kind}` in `{api}` (Kubernetes {})", self.version),
                    )
                } else {
                    Found::new(
                        Path::of(&["apiVersion"]),
                        format!(
                            "`{api}` is not served by Kubernetes {} (no kind `{kind}` there)",
                            self.version
                        ),
                    )
                };
                return Resolved::NoSuchKind(f);
            }
            return Resolved::Custom;
        }
        // A CRD's group has a dot and is not one of Kubernetes' own: `serving.knative.dev`
        // may well have a `Service`. An undotted group, a built-in group or a `*.k8s.io` group
        // with a built-in kind's name is a mistake (`networking/v1`, `autoscaling.k8s.io/v2`).
        if !(builtin_group || !group.contains('.') || group.ends_with(".k8s.io")) {
            return Resolved::Custom;
        }
        let label = group.split('.').next().unwrap_or_default();
        candidates.sort_by_key(|k| {
            let g = group_of(&k.api_version);
            (
                g != group,
                g.split('.').next().unwrap_or_default() != label,
                k.kind != kind,
                std::cmp::Reverse(version_priority(&k.api_version)),
            )
        });
        let best = candidates[0];
        let mut wrong = Vec::new();
        if best.api_version != api {
            let mut served: Vec<&Kind> = self.kinds.iter().filter(|k| k.kind == best.kind).collect();
            served.sort_by_key(|k| std::cmp::Reverse(version_priority(&k.api_version)));
            let values: Vec<String> = served.iter().map(|k| format!("`{}`", k.api_version)).collect();
            wrong.push(Found {
                help: Some(format!(
                    "Kubernetes {} serves {} as {}",
                    self.version,
                    best.kind,
                    values.join(", ")
                )),
                ..Found::new(
                    Path::of(&["apiVersion"]),
                    expected_values(&values, Some(&Json::String(api.to_string()))),
                )
            });
        }
        if best.kind != kind {
            wrong.push(Found::new(
                Path::of(&["kind"]),
                expected_values(&[format!("`{}`", best.kind)], Some(&Json::String(kind.to_string()))),
            ));
        }
        Resolved::Near(best, wrong)
    }

    /// Validate every document of one YAML file (`---` separated). Empty documents are
    /// skipped; a document that is not valid YAML is an invalid document with the parser's
    /// error. Line and column are 1-based, in `text`.
    pub fn validate_yaml(&self, name: &str, text: &str) -> Vec<Document> {
        let file = SourceFile::new(name, text);
        let mut out = Vec::new();
        for (offset, chunk) in split_documents(text) {
            if is_blank(chunk) {
                continue;
            }
            let sub = SourceFile::new(name, chunk);
            // An error at the end of the document (an unclosed bracket) points just after its
            // last content, not at the next document's `---`.
            let end = chunk.trim_end().len();
            let at = |span: Span| file.line_col(offset + span.start.min(end));
            let number = out.len() + 1;
            let first_line = file.line_col(offset + first_content(chunk)).0;
            let doc = match crate::syntax::yaml::parse(&sub) {
                Err(diags) if diags.iter().all(|d| d.code == Code::Encoding) => continue,
                Err(diags) => Document {
                    file: name.to_string(),
                    number,
                    line: first_line,
                    object: None,
                    outcome: Outcome::Invalid(
                        diags
                            .into_iter()
                            .map(|d| {
                                let (line, column) = at(d.span.unwrap_or_default());
                                let (message, help) = match d.code {
                                    Code::Type => (d.message.replace("the spec must be", "an object must be"), None),
                                    Code::Syntax => (d.message, d.help),
                                    _ => (d.message, None),
                                };
                                Problem {
                                    line,
                                    column,
                                    violation: Violation {
                                        path: String::new(),
                                        message,
                                        help,
                                    },
                                }
                            })
                            .collect(),
                    ),
                },
                Ok(tree) => {
                    let mut booleans = Vec::new();
                    let json = as_kubernetes_reads(&tree, chunk, &Path::root(), &mut booleans);
                    let outcome = match self.check(&json) {
                        Err(unknown) => Outcome::Skipped(unknown),
                        Ok(found) if found.is_empty() => Outcome::Valid,
                        Ok(found) => {
                            let mut problems: Vec<(Span, Problem)> = found
                                .into_iter()
                                .map(|mut f| {
                                    if f.help.is_none() && booleans.contains(&f.path) {
                                        let word = tree.lookup(&f.path).map(|n| show(&n.to_json())).unwrap_or_default();
                                        f.help = Some(format!(
                                            "Kubernetes reads YAML 1.1, where {word} is a boolean; quote it"
                                        ));
                                    }
                                    let span = tree.span_of(&f.path, f.key);
                                    let (line, column) = at(span);
                                    let problem = Problem {
                                        line,
                                        column,
                                        violation: Violation {
                                            path: path_string(&f.path),
                                            message: f.message,
                                            help: f.help,
                                        },
                                    };
                                    (span, problem)
                                })
                                .collect();
                            problems.sort_by_key(|(span, p)| {
                                (span.start, p.violation.path.clone(), p.violation.message.clone())
                            });
                            Outcome::Invalid(problems.into_iter().map(|(_, p)| p).collect())
                        }
                    };
                    Document {
                        file: name.to_string(),
                        number,
                        line: first_line,
                        object: ObjectRef::of(&json),
                        outcome,
                    }
                }
            };
            out.push(doc);
        }
        out
    }

    /// Validate the manifests among `(name, text)` pairs, in the order given: files for which
    /// [`is_manifest`] is false (kustomization files, non-YAML) are left out. Meant for the
    /// files found by walking directories; the caller reads and sorts them.
    pub fn validate_files<'a>(&self, files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Document> {
        files
            .into_iter()
            .filter(|(name, _)| is_manifest(name))
            .flat_map(|(name, text)| self.validate_yaml(name, text))
            .collect()
    }
}

/// A schema and the document its `$ref`s point into: a definition of a version's bundle, or a
/// CRD schema (whose `$ref`s point into its own `$defs`).
#[derive(Clone, Copy)]
struct Ctx<'a> {
    doc: &'a Json,
    start: &'a Json,
}

impl<'a> Ctx<'a> {
    /// The schemas that apply at `path` (`$ref`, `oneOf`, `anyOf` and `allOf` followed).
    fn schemas_at(&self, path: &Path) -> Vec<&'a Json> {
        let doc = self.doc;
        let resolve = move |r: &str| r.rsplit_once("#/$defs/").map(|(_, name)| &doc["$defs"][name]);
        crate::schema_common::schemas_at(self.start, path, &resolve)
    }
}

enum Resolved<'a> {
    Exact(&'a Kind),
    /// A built-in kind under a wrong apiVersion or kind spelling: the violations that say so.
    Near(&'a Kind, Vec<Found>),
    /// A built-in API group without that kind.
    NoSuchKind(Found),
    Custom,
}

/// One YAML document's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The file name as given.
    pub file: String,
    /// 1-based position among the file's non-empty documents.
    pub number: usize,
    /// 1-based line of the document's first content.
    pub line: usize,
    /// Its apiVersion, kind, namespace and name, when they are strings.
    pub object: Option<ObjectRef>,
    pub outcome: Outcome,
}

impl Document {
    pub fn problems(&self) -> &[Problem] {
        match &self.outcome {
            Outcome::Invalid(p) => p,
            _ => &[],
        }
    }
}

impl fmt::Display for Document {
    /// One line per problem (`file:line:col: Kind/name: path: message`), or one line saying
    /// the document is valid or skipped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self
            .object
            .as_ref()
            .map_or_else(|| format!("document {}", self.number), ObjectRef::to_string);
        match &self.outcome {
            Outcome::Valid => write!(f, "{}:{}: {what}: valid", self.file, self.line),
            Outcome::Skipped(u) => write!(f, "{}:{}: {what}: skipped: {u}", self.file, self.line),
            Outcome::Invalid(problems) => {
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{}:{}:{}: {what}: {p}", self.file, p.line, p.column)?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Valid,
    Invalid(Vec<Problem>),
    /// No schema for the kind (custom resources other than [`custom_resources`]).
    Skipped(UnknownKind),
}

/// A [`Violation`] (or a YAML error, with an empty path) at a line and column of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub violation: Violation,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.violation.fmt(f)
    }
}

/// Which object a document holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ObjectRef {
    fn of(obj: &Json) -> Option<ObjectRef> {
        let s = |v: Option<&Json>| v.and_then(Json::as_str).map(str::to_string);
        Some(ObjectRef {
            api_version: s(obj.get("apiVersion"))?,
            kind: s(obj.get("kind"))?,
            namespace: s(obj.pointer("/metadata/namespace")),
            name: s(obj.pointer("/metadata/name")),
        })
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name.as_deref().unwrap_or("(no name)"))
    }
}

/// Counts over documents, for a summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub valid: usize,
    pub invalid: usize,
    pub skipped: usize,
}

pub fn summary(docs: &[Document]) -> Summary {
    let mut s = Summary::default();
    for d in docs {
        match d.outcome {
            Outcome::Valid => s.valid += 1,
            Outcome::Invalid(_) => s.invalid += 1,
            Outcome::Skipped(_) => s.skipped += 1,
        }
    }
    s
}

/// The object as Kubernetes reads the YAML: sigs.k8s.io/yaml (go-yaml v2) resolves plain
/// scalars with YAML 1.1, where `yes`, `no`, `on`, `off`, `y` and `n` are booleans; mlship's
/// reader (YAML 1.2 core) keeps them strings. Such values become booleans, their paths noted.
fn as_kubernetes_reads(node: &Node, text: &str, path: &Path, booleans: &mut Vec<Path>) -> Json {
    match &node.value {
        TreeValue::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|e| {
                    (
                        e.key.clone(),
                        as_kubernetes_reads(&e.value, text, &path.key(&e.key), booleans),
                    )
                })
                .collect(),
        ),
        TreeValue::Seq(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, n)| as_kubernetes_reads(n, text, &path.index(i), booleans))
                .collect(),
        ),
        // Plain scalars only: a quoted or block scalar's span is longer than its value.
        TreeValue::Str(s) if text.get(node.span.start..node.span.end) == Some(s.as_str()) => match s.as_str() {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
                booleans.push(path.clone());
                Json::Bool(true)
            }
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
                booleans.push(path.clone());
                Json::Bool(false)
            }
            _ => node.to_json(),
        },
        _ => node.to_json(),
    }
}

/// Split YAML text into documents at `---` and after `...` lines: `(byte offset, text)`.
/// Document markers at the start of a line end any scalar, so a line split is exact.
pub fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let marker = |m: &str| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
        };
        if marker("---") && pos > start {
            out.push((start, &text[start..pos]));
            start = pos;
        }
        pos += line.len();
        if marker("...") {
            out.push((start, &text[start..pos]));
            start = pos;
        }
    }
    if pos > start {
        out.push((start, &text[start..pos]));
    }
    out
}

/// Nothing but blank lines, comments, directives and document markers.
fn is_blank(chunk: &str) -> bool {
    chunk.lines().all(|line| {
        let rest = line
            .strip_prefix("---")
            .or_else(|| line.strip_prefix("..."))
            .unwrap_or(line)
            .trim();
        rest.is_empty() || rest.starts_with('#') || line.starts_with('%')
    })
}

/// Byte offset of the first line with content (not blank, comment, directive or a bare
/// document marker).
fn first_content(chunk: &str) -> usize {
    let mut pos = 0;
    for line in chunk.split_inclusive('\n') {
        if !is_blank(line) {
            return pos + (line.len() - line.trim_start().len());
        }
        pos += line.len();
    }
    0
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Kubernetes' version order: GA before beta before alpha, higher numbers first.
fn version_priority(api_version: &str) -> (u8, u32, u32) {
    let v = api_version.rsplit('/').next().unwrap_or_default();
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let major = rest[..digits].parse().unwrap_or(0);
    let tail = &rest[digits..];
    let (stage, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (stage, major, minor)
}

/// An error's instance path in `instance`.
fn to_path<'a>(instance: &Json, segs: impl Iterator<Item = LocationSegment<'a>>) -> Path {
    crate::schema_common::instance_path(segs, |parent| lookup(instance, parent).is_some_and(Json::is_object))
}

fn lookup<'a>(instance: &'a Json, path: &Path) -> Option<&'a Json> {
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

fn type_of(v: &Json) -> &'static str {
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
fn show(v: &Json) -> String {
    match v {
        Json::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

fn expected_values(values: &[String], found: Option<&Json>) -> String {
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
fn expected_types(schemas: &[&Json]) -> Vec<&'static str> {
    const ORDER: [&str; 7] = ["object", "array", "string", "integer", "number", "boolean", "null"];
    let mut types: Vec<&'static str> = Vec::new();
    for s in schemas {
        let listed: Vec<&str> = match s.get("type") {
            Some(Json::String(t)) => vec![t.as_str()],
            Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        for t in listed {
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
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_normalize() {
        assert_eq!(supported("v1.35"), Some("1.35"));
        assert_eq!(supported("1.37.2"), Some("1.37"));
        assert_eq!(supported("1.32"), None);
        assert_eq!(supported("1.33.x"), None);
        assert_eq!(supported("latest"), None);
    }

    #[test]
    fn documents_split_at_markers() {
        let text = "# head\na: 1\n---\nb: 2\n...\n--- # c\nc: 3\n---\n";
        let docs: Vec<&str> = split_documents(text).into_iter().map(|(_, t)| t).collect();
        assert_eq!(docs, ["# head\na: 1\n", "---\nb: 2\n...\n", "--- # c\nc: 3\n", "---\n"]);
        assert!(is_blank("---\n"));
        assert!(is_blank("--- # only a comment\n\n"));
        assert!(!is_blank("--- {a: 1}\n"));
        // A line that merely starts with dashes is content.
        assert_eq!(split_documents("a: |\n  ---x\n----\n").len(), 1);
    }

    #[test]
    fn paths_quote_keys_that_are_not_words() {
        let p = Path::of(&["metadata", "labels", "app.kubernetes.io/name"]);
        assert_eq!(path_string(&p), r#"metadata.labels["app.kubernetes.io/name"]"#);
        assert_eq!(
            path_string(&Path::of(&["spec"]).key("containers").index(0)),
            "spec.containers[0]"
        );
    }

    #[test]
    fn version_order() {
        let mut v = ["x/v1beta1", "x/v1", "x/v2", "x/v1alpha1", "x/v2beta2"];
        v.sort_by_key(|a| std::cmp::Reverse(version_priority(a)));
        assert_eq!(v, ["x/v2", "x/v1", "x/v2beta2", "x/v1beta1", "x/v1alpha1"]);
    }

    #[test]
    fn manifests_among_files() {
        assert!(is_manifest("envs/dev/deployment-api.yaml"));
        assert!(is_manifest("a.YML"));
        assert!(!is_manifest("envs/dev/kustomization.yaml"));
        assert!(!is_manifest("README.md"));
    }

    #[test]
    fn crd_table_matches_the_schema_files() {
        assert_eq!(custom_resources().count(), CRD_LOADED.len());
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
            assert!(crd_schema(crd.api_version, crd.kind).is_some(), "{what}");
        }
        assert!(crd_schema("argoproj.io/v1alpha1", "AppProject").is_none());
    }

    #[test]
    fn field_names_are_found_through_crd_refs() {
        let crd = crd_schema("argoproj.io/v1alpha1", "Application").unwrap();
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

    #[test]
    fn the_core_is_closed_and_other_kinds_load_their_own_definitions() {
        for version in SUPPORTED {
            let s = schemas(version).unwrap();
            let mut found = Vec::new();
            refs(&s.core.doc, &mut found);
            assert!(
                found.iter().all(|r| s.core.has(r)),
                "{version}: the core refers outside itself"
            );
            assert!(s.core.has(OBJECT_META), "{version}");
            // The shared validator compiles from the core, and serves every kind it lists.
            let emitted: Vec<&Kind> = s.kinds.iter().filter(|k| k.emitted).collect();
            assert_eq!(emitted.len(), EMITTED.len(), "{version}");
            assert!(emitted.iter().all(|k| s.core.has(&k.def)), "{version}");
        }
        let s = schemas("1.33").unwrap();
        assert!(!s.core.has("io.k8s.api.storage.v1.StorageClass"));
        let sc = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "s"},
            "provisioner": "p", "volumeBindingMod": "Immediate"});
        let v = s.validate(&sc).unwrap();
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].help.as_deref(), Some("did you mean `volumeBindingMode`?"), "{v:?}");
        // The StorageClass brought its own definitions, closed, and not the whole bundle.
        let kind = s.kinds.iter().find(|k| k.kind == "StorageClass").unwrap();
        let part = kind.part.get().expect("parsed on first use");
        let mut found = Vec::new();
        refs(&part.doc, &mut found);
        assert!(found.iter().all(|r| part.has(r)), "a kind's part refers outside itself");
        let defs = part.doc["$defs"].as_object().unwrap().len();
        assert!(part.has(&kind.def) && defs < 10, "{defs} definitions");
        // A Deployment's PodSpec stays in the core; a StatefulSet's is parsed with it.
        let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"},
            "spec": {"selector": {}, "template": {"spec": {"containers": [{"name": "c", "imag": "x"}]}}}});
        let v = s.validate(&sts).unwrap();
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].path, "spec.template.spec.containers[0].imag", "{v:?}");
    }

    #[test]
    fn the_shared_validator_reports_what_each_kind_would() {
        let s = schemas("1.37").unwrap();
        for kind in s.kinds.iter().filter(|k| k.emitted) {
            // An unknown field, a wrong type and a value of the wrong kind's shape, at the top
            // and inside `metadata`; a Deployment also gets a bad container.
            let obj = json!({
                "apiVersion": kind.api_version, "kind": kind.kind,
                "metadata": {"name": 7, "labelz": {}},
                "spec": {"template": {"spec": {"containers": [{"name": "c", "imagePullPolicy": 3}]}}},
                "bogus": true,
            });
            let doc = &s.core.doc;
            let ctx = Ctx {
                doc,
                start: &doc["$defs"][kind.def.as_str()],
            };
            let run = |validator: &Validator| {
                let mut found = Vec::new();
                s.collect(validator, &obj, &Path::root(), ctx, false, &mut found);
                found
                    .into_iter()
                    .map(|f| format!("{}: {}", path_string(&f.path), f.message))
                    .collect::<Vec<_>>()
            };
            let shared = run(s.validator(kind, true));
            let own = run(s.validator(kind, false));
            assert!(!shared.is_empty(), "{}", kind.kind);
            assert_eq!(shared, own, "{}", kind.kind);
        }
    }

    #[test]
    fn the_line_index_of_a_bundle_is_its_json() {
        for (version, text) in SUPPORTED.iter().zip(BUNDLES) {
            let json: Json = serde_json::from_str(text).unwrap();
            let bundle = Bundle::index(text);
            assert_eq!(json["$id"], bundle.id, "{version}");
            assert_eq!(json["x-mlship-kinds"], json!(bundle.kinds), "{version}");
            let defs = json["$defs"].as_object().unwrap();
            assert_eq!(defs.len(), bundle.defs.len(), "{version}");
            for (name, text) in &bundle.defs {
                let def: Json = serde_json::from_str(text).unwrap();
                assert_eq!(defs.get(*name), Some(&def), "{version} {name}");
            }
        }
    }

    #[test]
    fn digit_keys_stay_keys() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"1": 2}});
        let v = validate("1.33", &obj).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].path, "data.1");
        assert_eq!(v[0].message, "expected string, found integer");
    }
}
