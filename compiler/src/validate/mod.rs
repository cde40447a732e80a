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
//! Custom resources with a schema in `schemas/crds/` (those mlship emits: ExternalSecret,
//! SealedSecret, Argo CD's Application, Flux's GitRepository and Kustomization; see
//! [`custom_resources`]) are checked against schemas written from their upstream CRDs (the
//! same for every Kubernetes version, each compiled once per process on first use), and their
//! `metadata` against the version's `ObjectMeta`. [`Schemas::scope`] and [`crd::scope`] say
//! whether a kind is namespaced.
//!
//! Users' own custom resources: [`UserCrds`] reads their CustomResourceDefinition files, and
//! [`Schemas::validate_with`] and [`Schemas::validate_yaml_with`] validate objects of those
//! kinds against the CRDs' schemas, converted as the bundled ones are and checked by the same
//! code (a user's CRD wins over a bundled schema of its kind).
//!
//! Pure: no file system. [`validate_files`] takes `(name, text)` pairs the caller read.
//!
//! The parts, each feeding the next:
//! - `bundle`: the embedded bundles, indexed and parsed lazily, and their validators;
//! - [`crd`]: the table of custom resources with a schema, built from `schemas/crds/`;
//! - `kinds`: which schema an object's `apiVersion` and `kind` name;
//! - `messages`: jsonschema's errors as short, located problems;
//! - `documents`: multi-document YAML files in, one [`Document`] per object out;
//! - `user`: the users' CRD files in, [`UserCrds`] out.

mod bundle;
pub mod crd;
mod documents;
mod kinds;
mod messages;
mod user;

pub use bundle::Schemas;
pub use crd::custom_resources;
pub use documents::{
    Document, ObjectRef, Outcome, Problem, Summary, is_manifest, kubernetes_json, mark_duplicates, octal_value,
    split_documents, summary,
};
pub use messages::{Violation, path_string};
pub use user::{UserCrds, UserKind, is_crd};

use crate::source::Path;
use bundle::OBJECT_META;
use kinds::Resolved;
use messages::{Ctx, Found, collect, type_of};
use serde_json::Value as Json;
use std::borrow::Cow;
use std::fmt;

/// The Kubernetes versions with a bundled schema, oldest first.
pub const SUPPORTED: &[&str] = &["1.33", "1.34", "1.35", "1.36", "1.37"];

/// Where objects of a kind live: in a namespace, or in the cluster (Namespace, ClusterRole,
/// StorageClass, cluster-scoped custom resources).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Namespaced,
    Cluster,
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

/// The schemas of one Kubernetes version, loaded on first use.
pub fn schemas(version: &str) -> Result<&'static Schemas, UnsupportedVersion> {
    let canonical = supported(version).ok_or_else(|| UnsupportedVersion(version.to_string()))?;
    let i = SUPPORTED
        .iter()
        .position(|s| *s == canonical)
        .expect("supported version");
    Ok(bundle::loaded(i))
}

impl Schemas {
    /// Validate one object. `Ok(vec![])` means valid; `Err` means there is no schema for its
    /// kind (neither in the bundle nor among [`custom_resources`]). Missing or malformed
    /// `apiVersion`/`kind`, a built-in kind under a wrong or removed `apiVersion`
    /// (`batch/v1beta1` CronJob) and unknown kinds in built-in API groups are violations, not
    /// unknown kinds. A top-level `sops` mapping (SOPS metadata, removed when Flux or KSOPS
    /// decrypt) is ignored.
    pub fn validate(&self, obj: &Json) -> Result<Vec<Violation>, UnknownKind> {
        self.validate_with(obj, &UserCrds::default())
    }

    /// [`Schemas::validate`], with the users' own custom resources: an object of one of their
    /// kinds is validated against its CRD's schema, which wins over a bundled one.
    pub fn validate_with(&self, obj: &Json, crds: &UserCrds) -> Result<Vec<Violation>, UnknownKind> {
        Ok(self
            .check(obj, crds)?
            .into_iter()
            .map(|f| Violation {
                path: path_string(&f.path),
                message: f.message,
                help: f.help,
            })
            .collect())
    }

    /// The problems of one object, at paths in it (see [`Schemas::validate_with`]).
    fn check(&self, obj: &Json, crds: &UserCrds) -> Result<Vec<Found>, UnknownKind> {
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
                // The user's CRD wins: it is what their cluster serves.
                let crd = match crds.schema(api, kind) {
                    Some(Ok(crd)) => crd,
                    Some(Err(why)) => return Ok(vec![why]),
                    None => crd::schema(api, kind).ok_or_else(|| UnknownKind {
                        api_version: api.clone(),
                        kind: kind.clone(),
                    })?,
                };
                let ctx = Ctx {
                    doc: &crd.doc,
                    start: &crd.doc,
                };
                collect(&crd.validator, &instance, &Path::root(), ctx, false, &mut found);
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
                    collect(validator, meta, &Path::of(&["metadata"]), ctx, false, &mut found);
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
        collect(
            self.validator(schema, !near),
            &instance,
            &Path::root(),
            ctx,
            near,
            &mut found,
        );
        Ok(found)
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
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
    fn digit_keys_stay_keys() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"1": 2}});
        let v = validate("1.33", &obj).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].path, "data.1");
        assert_eq!(v[0].message, "expected string, found integer");
    }
}
