//! Schema bundles and lazily compiled validators.
//!
//! Takes: a Kubernetes version's bundle (`schemas/k8s/v<version>.json`, embedded). Gives:
//! [`Schemas`], the version's kinds and their validators. A bundle is indexed by line the
//! first time its version is used, without parsing its definitions; the definitions of the
//! kinds mlship emits ([`EMITTED`], with `ObjectMeta`) are parsed then, and share one
//! validator compiled the first time any of them is seen; any other kind's definitions are
//! parsed, and its validator compiled, the first time an object of that kind is seen. Once
//! per process (docs/performance.md).

use super::SUPPORTED;
use crate::schema_common::{compile, registry};
use jsonschema::{Registry, Validator};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The embedded bundles, in the order of [`SUPPORTED`].
const BUNDLES: [&str; SUPPORTED.len()] = [
    include_str!("../../../schemas/k8s/v1.33.json"),
    include_str!("../../../schemas/k8s/v1.34.json"),
    include_str!("../../../schemas/k8s/v1.35.json"),
    include_str!("../../../schemas/k8s/v1.36.json"),
    include_str!("../../../schemas/k8s/v1.37.json"),
];

static LOADED: [OnceLock<Schemas>; SUPPORTED.len()] = [const { OnceLock::new() }; SUPPORTED.len()];

/// The schemas of `SUPPORTED[i]`, loaded on first use.
pub(super) fn loaded(i: usize) -> &'static Schemas {
    LOADED[i].get_or_init(|| Schemas::load(SUPPORTED[i], BUNDLES[i]))
}

/// The definition the `metadata` of a custom resource is checked against, in the bundle of
/// the Kubernetes version (CRDs declare it as a bare `object`; the API server checks it as
/// `ObjectMeta`).
pub(super) const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// One version's bundle: the kind index, the definitions and the compiled validators.
///
/// Definitions are parsed on demand: the core (the kinds mlship emits, `ObjectMeta` and what
/// they refer to: about 70 KB of the 250 KB) at load; for any other kind, its definition and
/// what it refers to, the first time an object of that kind is validated.
pub struct Schemas {
    pub(super) version: &'static str,
    uri: String,
    /// Every definition, unparsed.
    raw: BTreeMap<&'static str, &'static str>,
    pub(super) core: Part,
    pub(super) kinds: Vec<Kind>,
    /// One validator for every kind of [`EMITTED`].
    emitted: OnceLock<Validator>,
    /// `ObjectMeta`, for the metadata of custom resources.
    pub(super) meta: OnceLock<Validator>,
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
pub(super) struct Part {
    pub(super) doc: Arc<Json>,
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
            let mut def: Json = serde_json::from_str(text).expect("embedded Kubernetes definition is JSON");
            crate::schema_common::bound_integer_formats(&mut def);
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

/// A built-in kind of the bundle.
pub(super) struct Kind {
    pub(super) api_version: String,
    pub(super) kind: String,
    /// The name of its definition.
    pub(super) def: String,
    /// One of [`EMITTED`]: its definitions are in the core, and the shared validator serves it.
    pub(super) emitted: bool,
    /// For a kind outside the core: its definitions, parsed on first use.
    part: OnceLock<Part>,
    validator: OnceLock<Validator>,
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
    pub(super) fn part<'a>(&'a self, kind: &'a Kind) -> &'a Part {
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
    pub(super) fn validator<'a>(&'a self, kind: &'a Kind, exact: bool) -> &'a Validator {
        if exact && kind.emitted {
            return self.emitted.get_or_init(|| self.compile_emitted());
        }
        kind.validator.get_or_init(|| {
            let what = format!("{} {}", kind.api_version, kind.kind);
            self.compile(&kind.def, self.part(kind), &what)
        })
    }

    /// The validator of one definition of `part`.
    pub(super) fn compile(&self, def: &str, part: &Part, what: &str) -> Validator {
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
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use crate::source::Path;
    use crate::validate::messages::{Ctx, collect, path_string};
    use crate::validate::schemas;
    use serde_json::json;

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
                collect(validator, &obj, &Path::root(), ctx, false, &mut found);
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
}
