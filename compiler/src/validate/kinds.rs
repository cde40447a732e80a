//! Kind resolution: which schema an object's `apiVersion` and `kind` name.
//!
//! Takes: a version's bundle and an object's `apiVersion` and `kind`. Gives: the built-in
//! kind it names ([`Resolved::Exact`]); the built-in kind it most likely meant, with the
//! violations that say so (a removed `batch/v1beta1` CronJob, `kind: Deploymnet`); a problem
//! for an unknown kind in a built-in API group; or [`Resolved::Custom`], a custom resource
//! (looked up in the CRD table by the caller).

use super::Schemas;
use super::bundle::Kind;
use super::messages::{Found, expected_values};
use crate::source::Path;
use serde_json::Value as Json;

impl Schemas {
    /// What `api` and `kind` name in this version (see the module's documentation).
    pub(super) fn resolve(&self, api: &str, kind: &str) -> Resolved<'_> {
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
}

/// What an object's `apiVersion` and `kind` name.
pub(super) enum Resolved<'a> {
    /// A built-in kind, exactly.
    Exact(&'a Kind),
    /// A built-in kind under a wrong apiVersion or kind spelling: the violations that say so.
    Near(&'a Kind, Vec<Found>),
    /// A built-in API group without that kind.
    NoSuchKind(Found),
    /// Not a built-in kind: a custom resource.
    Custom,
}

/// The API group of an `apiVersion`: `apps/v1` → `apps`, `v1` → `` (the core group).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_order() {
        let mut v = ["x/v1beta1", "x/v1", "x/v2", "x/v1alpha1", "x/v2beta2"];
        v.sort_by_key(|a| std::cmp::Reverse(version_priority(a)));
        assert_eq!(v, ["x/v2", "x/v1", "x/v2beta2", "x/v1beta1", "x/v1alpha1"]);
    }
}
