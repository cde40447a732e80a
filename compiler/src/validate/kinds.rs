//! Kind resolution: which schema an object's `apiVersion` and `kind` name.
//!
//! Takes: a version's bundle and an object's `apiVersion` and `kind`. Gives: the built-in
//! kind it names ([`Resolved::Exact`]); the built-in kind it most likely meant, with the
//! violations that say so (a removed `batch/v1beta1` CronJob, `kind: Deploymnet`); a problem
//! for an unknown kind in a built-in API group; or [`Resolved::Custom`], a custom resource
//! (looked up in the CRD table by the caller). And the [`Scope`] of a kind.

use super::bundle::Kind;
use super::messages::{Found, expected_values};
use super::{Schemas, Scope, crd};
use crate::source::Path;
use serde_json::Value as Json;

/// The built-in kinds that live in the cluster rather than in a namespace, as (API group,
/// kind): those whose type in k8s-openapi 0.29 (generated from each release's OpenAPI
/// document, Kubernetes 1.33 to 1.37) has `Scope = ClusterResourceScope`. Every other built-in
/// kind is namespaced, TokenRequest, Scale and Eviction too (subresources of namespaced
/// objects). A kind keeps its scope across versions; a test checks the list against
/// k8s-openapi's types for every kind of the 1.33 bundle.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "ComponentStatus"),
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("authentication.k8s.io", "SelfSubjectReview"),
    ("authentication.k8s.io", "TokenReview"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("certificates.k8s.io", "ClusterTrustBundle"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("internal.apiserver.k8s.io", "StorageVersion"),
    ("networking.k8s.io", "IPAddress"),
    ("networking.k8s.io", "IngressClass"),
    ("networking.k8s.io", "ServiceCIDR"),
    ("node.k8s.io", "RuntimeClass"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("resource.k8s.io", "DeviceClass"),
    ("resource.k8s.io", "DeviceTaintRule"),
    ("resource.k8s.io", "ResourcePoolStatusRequest"),
    ("resource.k8s.io", "ResourceSlice"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("storage.k8s.io", "VolumeAttributesClass"),
    ("storagemigration.k8s.io", "StorageVersionMigration"),
];

impl Schemas {
    /// Where objects of a kind live: a built-in kind of this Kubernetes version, or a custom
    /// resource with a bundled schema ([`crd::scope`]). `None` for any other kind.
    pub fn scope(&self, api_version: &str, kind: &str) -> Option<Scope> {
        if !self
            .kinds
            .iter()
            .any(|k| k.api_version == api_version && k.kind == kind)
        {
            return crd::scope(api_version, kind);
        }
        Some(if CLUSTER_SCOPED.contains(&(group_of(api_version), kind)) {
            Scope::Cluster
        } else {
            Scope::Namespaced
        })
    }

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
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn version_order() {
        let mut v = ["x/v1beta1", "x/v1", "x/v2", "x/v1alpha1", "x/v2beta2"];
        v.sort_by_key(|a| std::cmp::Reverse(version_priority(a)));
        assert_eq!(v, ["x/v2", "x/v1", "x/v2beta2", "x/v1beta1", "x/v1alpha1"]);
    }

    /// A k8s-openapi type's `(apiVersion, kind)` and scope.
    fn typed<T: k8s_openapi::Resource>() -> (&'static str, &'static str, Scope)
    where
        T::Scope: 'static,
    {
        use std::any::TypeId;
        let cluster = TypeId::of::<T::Scope>() == TypeId::of::<k8s_openapi::ClusterResourceScope>();
        let scope = if cluster { Scope::Cluster } else { Scope::Namespaced };
        (T::API_VERSION, T::KIND, scope)
    }

    macro_rules! typed {
        ($($t:ty,)*) => { vec![$(typed::<$t>()),*] };
    }

    #[test]
    fn scopes_of_built_in_kinds_are_k8s_openapi_s() {
        // Every kind of the 1.33 bundle (the version of k8s-openapi's types in this build).
        let types = typed![
            k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration,
            k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicy,
            k8s_openapi::api::admissionregistration::v1::ValidatingAdmissionPolicyBinding,
            k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration,
            k8s_openapi::api::admissionregistration::v1alpha1::MutatingAdmissionPolicy,
            k8s_openapi::api::admissionregistration::v1alpha1::MutatingAdmissionPolicyBinding,
            k8s_openapi::api::admissionregistration::v1beta1::ValidatingAdmissionPolicy,
            k8s_openapi::api::admissionregistration::v1beta1::ValidatingAdmissionPolicyBinding,
            k8s_openapi::api::apiserverinternal::v1alpha1::StorageVersion,
            k8s_openapi::api::apps::v1::ControllerRevision,
            k8s_openapi::api::apps::v1::DaemonSet,
            k8s_openapi::api::apps::v1::Deployment,
            k8s_openapi::api::apps::v1::ReplicaSet,
            k8s_openapi::api::apps::v1::StatefulSet,
            k8s_openapi::api::authentication::v1::SelfSubjectReview,
            k8s_openapi::api::authentication::v1::TokenRequest,
            k8s_openapi::api::authentication::v1::TokenReview,
            k8s_openapi::api::authorization::v1::LocalSubjectAccessReview,
            k8s_openapi::api::authorization::v1::SelfSubjectAccessReview,
            k8s_openapi::api::authorization::v1::SelfSubjectRulesReview,
            k8s_openapi::api::authorization::v1::SubjectAccessReview,
            k8s_openapi::api::autoscaling::v1::HorizontalPodAutoscaler,
            k8s_openapi::api::autoscaling::v1::Scale,
            k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler,
            k8s_openapi::api::batch::v1::CronJob,
            k8s_openapi::api::batch::v1::Job,
            k8s_openapi::api::certificates::v1::CertificateSigningRequest,
            k8s_openapi::api::certificates::v1alpha1::ClusterTrustBundle,
            k8s_openapi::api::certificates::v1beta1::ClusterTrustBundle,
            k8s_openapi::api::coordination::v1::Lease,
            k8s_openapi::api::coordination::v1alpha2::LeaseCandidate,
            k8s_openapi::api::coordination::v1beta1::LeaseCandidate,
            k8s_openapi::api::core::v1::Binding,
            k8s_openapi::api::core::v1::ComponentStatus,
            k8s_openapi::api::core::v1::ConfigMap,
            k8s_openapi::api::core::v1::Endpoints,
            k8s_openapi::api::core::v1::Event,
            k8s_openapi::api::core::v1::LimitRange,
            k8s_openapi::api::core::v1::Namespace,
            k8s_openapi::api::core::v1::Node,
            k8s_openapi::api::core::v1::PersistentVolume,
            k8s_openapi::api::core::v1::PersistentVolumeClaim,
            k8s_openapi::api::core::v1::Pod,
            k8s_openapi::api::core::v1::PodTemplate,
            k8s_openapi::api::core::v1::ReplicationController,
            k8s_openapi::api::core::v1::ResourceQuota,
            k8s_openapi::api::core::v1::Secret,
            k8s_openapi::api::core::v1::Service,
            k8s_openapi::api::core::v1::ServiceAccount,
            k8s_openapi::api::discovery::v1::EndpointSlice,
            k8s_openapi::api::events::v1::Event,
            k8s_openapi::api::flowcontrol::v1::FlowSchema,
            k8s_openapi::api::flowcontrol::v1::PriorityLevelConfiguration,
            k8s_openapi::api::networking::v1::Ingress,
            k8s_openapi::api::networking::v1::IngressClass,
            k8s_openapi::api::networking::v1::IPAddress,
            k8s_openapi::api::networking::v1::NetworkPolicy,
            k8s_openapi::api::networking::v1::ServiceCIDR,
            k8s_openapi::api::networking::v1beta1::IPAddress,
            k8s_openapi::api::networking::v1beta1::ServiceCIDR,
            k8s_openapi::api::node::v1::RuntimeClass,
            k8s_openapi::api::policy::v1::Eviction,
            k8s_openapi::api::policy::v1::PodDisruptionBudget,
            k8s_openapi::api::rbac::v1::ClusterRole,
            k8s_openapi::api::rbac::v1::ClusterRoleBinding,
            k8s_openapi::api::rbac::v1::Role,
            k8s_openapi::api::rbac::v1::RoleBinding,
            k8s_openapi::api::resource::v1alpha3::DeviceClass,
            k8s_openapi::api::resource::v1alpha3::DeviceTaintRule,
            k8s_openapi::api::resource::v1alpha3::ResourceClaim,
            k8s_openapi::api::resource::v1alpha3::ResourceClaimTemplate,
            k8s_openapi::api::resource::v1alpha3::ResourceSlice,
            k8s_openapi::api::resource::v1beta1::DeviceClass,
            k8s_openapi::api::resource::v1beta1::ResourceClaim,
            k8s_openapi::api::resource::v1beta1::ResourceClaimTemplate,
            k8s_openapi::api::resource::v1beta1::ResourceSlice,
            k8s_openapi::api::resource::v1beta2::DeviceClass,
            k8s_openapi::api::resource::v1beta2::ResourceClaim,
            k8s_openapi::api::resource::v1beta2::ResourceClaimTemplate,
            k8s_openapi::api::resource::v1beta2::ResourceSlice,
            k8s_openapi::api::scheduling::v1::PriorityClass,
            k8s_openapi::api::storage::v1::CSIDriver,
            k8s_openapi::api::storage::v1::CSINode,
            k8s_openapi::api::storage::v1::CSIStorageCapacity,
            k8s_openapi::api::storage::v1::StorageClass,
            k8s_openapi::api::storage::v1::VolumeAttachment,
            k8s_openapi::api::storage::v1alpha1::VolumeAttributesClass,
            k8s_openapi::api::storage::v1beta1::VolumeAttributesClass,
            k8s_openapi::api::storagemigration::v1alpha1::StorageVersionMigration,
            k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
            k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService,
        ];
        let s = crate::validate::schemas("1.33").unwrap();
        let mut kinds: Vec<(&str, &str)> = types.iter().map(|(api, kind, _)| (*api, *kind)).collect();
        let mut bundle: Vec<(&str, &str)> = s.kinds().collect();
        kinds.sort_unstable();
        bundle.sort_unstable();
        assert_eq!(kinds, bundle, "a type for every kind of the bundle");
        for (api, kind, scope) in types {
            assert_eq!(s.scope(api, kind), Some(scope), "{api} {kind}");
        }
        // Every listed kind is a kind of some version, in its group.
        for (group, kind) in CLUSTER_SCOPED {
            let known = crate::validate::SUPPORTED.iter().any(|v| {
                let s = crate::validate::schemas(v).unwrap();
                s.kinds().any(|(api, k)| k == *kind && group_of(api) == *group)
            });
            assert!(known, "{group} {kind}");
        }
        // Custom resources with a schema, and others.
        assert_eq!(s.scope("argoproj.io/v1alpha1", "Application"), Some(Scope::Namespaced));
        assert_eq!(s.scope("argoproj.io/v1alpha1", "AppProject"), None);
        assert_eq!(s.scope("apps/v1beta1", "Deployment"), None);
    }
}
