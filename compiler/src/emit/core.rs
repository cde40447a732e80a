//! Core workloads: the objects every environment has, and services.
//!
//! Takes: an [`EnvPlan`]. Gives: the Namespace (Pod Security `restricted`), the config
//! ConfigMap, the secrets (ExternalSecrets, or the encrypted files as they are), the volume
//! claims, and per service a ServiceAccount, Deployment, Service, HorizontalPodAutoscaler,
//! PodDisruptionBudget, NetworkPolicy and Ingress; per pipeline its ServiceAccount and a
//! NetworkPolicy that admits no traffic.

use super::{Emit, Kind, Object, Target, pod, to_value};
use crate::plan::{EnvPlan, Plan, SecretPlan, SecretSource, ServicePlan};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::core::v1::{
    ClientIPConfig, ConfigMap, Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, Service, ServiceAccount,
    ServicePort, ServiceSpec, SessionAffinityConfig, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule, IngressServiceBackend, IngressSpec,
    IngressTLS, NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPort, NetworkPolicySpec, ServiceBackendPort,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const TEMPLATE: &[&[&str]] = &[&["spec", "template", "spec"]];

pub const TARGET: Target = Target {
    name: "core",
    kinds: &[
        Kind::new("v1", "Namespace"),
        Kind::new("v1", "ConfigMap"),
        Kind::new("v1", "Secret"),
        Kind::new("external-secrets.io/v1", "ExternalSecret"),
        Kind::new("bitnami.com/v1alpha1", "SealedSecret"),
        Kind::new("v1", "PersistentVolumeClaim"),
        Kind::new("v1", "ServiceAccount"),
        Kind::new("apps/v1", "Deployment").pods(TEMPLATE),
        Kind::new("v1", "Service"),
        Kind::new("autoscaling/v2", "HorizontalPodAutoscaler"),
        Kind::new("policy/v1", "PodDisruptionBudget"),
        Kind::new("networking.k8s.io/v1", "NetworkPolicy"),
        Kind::new("networking.k8s.io/v1", "Ingress"),
        // Not emitted, but users bring them in extra manifests: policies check their pods.
        Kind::new("apps/v1", "StatefulSet").pods(TEMPLATE),
        Kind::new("apps/v1", "DaemonSet").pods(TEMPLATE),
        Kind::new("apps/v1", "ReplicaSet").pods(TEMPLATE),
        Kind::new("v1", "Pod").pods(&[&["spec"]]),
    ],
    emit: Emit::Env(objects),
    rename: None,
};

fn objects(_: &Plan, env: &EnvPlan) -> Vec<Object> {
    let cx = Cx { env };
    let mut out = Vec::new();
    let mut ns_labels = env.labels(None, None);
    ns_labels.insert("pod-security.kubernetes.io/enforce".into(), "restricted".into());
    out.push(to_value(&Namespace {
        metadata: ObjectMeta {
            name: Some(env.namespace.clone()),
            labels: Some(ns_labels),
            ..Default::default()
        },
        ..Default::default()
    }));
    if let Some(c) = &env.config {
        out.push(to_value(&ConfigMap {
            metadata: cx.meta(&c.name, None, Some("config")),
            data: Some(c.data.clone()),
            immutable: Some(true),
            ..Default::default()
        }));
    }
    for sec in &env.secrets {
        out.push(cx.secret(sec));
    }
    for claim in &env.claims {
        out.push(to_value(&PersistentVolumeClaim {
            metadata: cx.meta(&claim.name, None, Some("storage")),
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec![claim.access_mode.clone()]),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([("storage".to_string(), Quantity(claim.size.clone()))])),
                    ..Default::default()
                }),
                storage_class_name: claim.storage_class.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    for svc in &env.services {
        out.extend(cx.service(svc));
    }
    for f in &env.files {
        out.push(to_value(&ConfigMap {
            metadata: cx.meta(&f.name, None, Some("config")),
            data: Some(BTreeMap::from([(f.key.clone(), f.text.clone())])),
            immutable: Some(true),
            ..Default::default()
        }));
    }
    for p in &env.pipelines {
        out.push(cx.service_account(&p.name, "pipeline", p.token, &p.account_annotations));
        out.push(cx.network_policy(&p.name, "pipeline", &[]));
    }
    out.into_iter().map(|v| Object::generated("", v)).collect()
}

struct Cx<'a> {
    env: &'a EnvPlan,
}

impl Cx<'_> {
    fn meta(&self, name: &str, workload: Option<&str>, component: Option<&str>) -> ObjectMeta {
        super::meta(self.env, name, workload, component)
    }

    fn secret(&self, sec: &SecretPlan) -> Value {
        match &sec.source {
            SecretSource::Encrypted { manifest, .. } => manifest.clone(),
            SecretSource::External {
                store,
                store_kind,
                refresh,
                keys,
            } => {
                let data: Vec<Value> = keys
                    .iter()
                    .map(|(var, key, property)| {
                        let mut remote = json!({ "key": key });
                        if let Some(p) = property {
                            remote["property"] = json!(p);
                        }
                        json!({ "secretKey": var, "remoteRef": remote })
                    })
                    .collect();
                json!({
                    "apiVersion": "external-secrets.io/v1",
                    "kind": "ExternalSecret",
                    "metadata": to_value(&self.meta(&sec.secret_name, None, Some("secret"))),
                    "spec": {
                        "refreshInterval": refresh,
                        "secretStoreRef": { "name": store, "kind": store_kind },
                        "target": { "name": sec.secret_name, "creationPolicy": "Owner", "deletionPolicy": "Retain" },
                        "data": data
                    }
                })
            }
        }
    }

    fn service_account(
        &self,
        workload: &str,
        component: &str,
        token: bool,
        annotations: &BTreeMap<String, String>,
    ) -> Value {
        let mut metadata = self.meta(
            &crate::names::workload(&self.env.project, workload),
            Some(workload),
            Some(component),
        );
        metadata.annotations = (!annotations.is_empty()).then(|| annotations.clone());
        to_value(&ServiceAccount {
            metadata,
            automount_service_account_token: Some(token),
            ..Default::default()
        })
    }

    /// Only the service's own ports may be reached; pipeline pods accept no traffic.
    fn network_policy(&self, workload: &str, component: &str, ports: &[i32]) -> Value {
        let ingress = (!ports.is_empty()).then(|| {
            vec![NetworkPolicyIngressRule {
                ports: Some(
                    ports
                        .iter()
                        .map(|p| NetworkPolicyPort {
                            port: Some(IntOrString::Int(*p)),
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        })
                        .collect(),
                ),
                ..Default::default()
            }]
        });
        to_value(&NetworkPolicy {
            metadata: self.meta(
                &crate::names::workload(&self.env.project, workload),
                Some(workload),
                Some(component),
            ),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector {
                    match_labels: Some(self.env.selector(workload)),
                    ..Default::default()
                }),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(ingress.unwrap_or_default()),
                ..Default::default()
            }),
        })
    }

    fn service(&self, svc: &ServicePlan) -> Vec<Value> {
        let name = svc.name.as_str();
        let full = &svc.full_name;
        let meta = || self.meta(full, Some(name), Some("serving"));
        let selector = || LabelSelector {
            match_labels: Some(self.env.selector(name)),
            ..Default::default()
        };
        let mut out = vec![self.service_account(name, "serving", false, &svc.account_annotations)];
        out.push(to_value(&Deployment {
            metadata: meta(),
            spec: Some(DeploymentSpec {
                replicas: svc.replicas,
                revision_history_limit: Some(svc.revision_history),
                selector: selector(),
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(IntOrString::String(svc.max_surge.clone())),
                        max_unavailable: Some(IntOrString::Int(svc.max_unavailable)),
                    }),
                }),
                template: pod::template(&svc.template),
                ..Default::default()
            }),
            ..Default::default()
        }));
        out.push(to_value(&Service {
            metadata: meta(),
            spec: Some(ServiceSpec {
                type_: Some(svc.service_type.clone()),
                selector: Some(self.env.selector(name)),
                ports: Some(
                    std::iter::once(("http", svc.service_port))
                        .chain(svc.extra_ports.iter().map(|p| (p.name.as_str(), p.port)))
                        .map(|(port_name, port)| ServicePort {
                            name: Some(port_name.into()),
                            port,
                            target_port: Some(IntOrString::String(port_name.into())),
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        })
                        .collect(),
                ),
                session_affinity: svc.session_affinity.as_ref().map(|(a, _)| a.clone()),
                session_affinity_config: svc.session_affinity.as_ref().map(|(_, timeout)| SessionAffinityConfig {
                    client_ip: Some(ClientIPConfig {
                        timeout_seconds: Some(*timeout),
                    }),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }));
        if let Some(a) = &svc.autoscale {
            let metrics = a
                .utilization
                .iter()
                .map(|(resource, pct)| MetricSpec {
                    type_: "Resource".into(),
                    resource: Some(ResourceMetricSource {
                        name: resource.clone(),
                        target: MetricTarget {
                            type_: "Utilization".into(),
                            average_utilization: Some(*pct),
                            ..Default::default()
                        },
                    }),
                    ..Default::default()
                })
                .collect();
            out.push(to_value(&HorizontalPodAutoscaler {
                metadata: meta(),
                spec: Some(HorizontalPodAutoscalerSpec {
                    scale_target_ref: CrossVersionObjectReference {
                        api_version: Some("apps/v1".into()),
                        kind: "Deployment".into(),
                        name: full.clone(),
                    },
                    min_replicas: Some(a.min),
                    max_replicas: a.max,
                    metrics: Some(metrics),
                    ..Default::default()
                }),
                ..Default::default()
            }));
        }
        if let Some(max_unavailable) = svc.disruption_budget {
            out.push(to_value(&PodDisruptionBudget {
                metadata: meta(),
                spec: Some(PodDisruptionBudgetSpec {
                    max_unavailable: Some(IntOrString::Int(max_unavailable)),
                    selector: Some(selector()),
                    ..Default::default()
                }),
                ..Default::default()
            }));
        }
        let ports: Vec<i32> = std::iter::once(svc.port)
            .chain(svc.extra_ports.iter().map(|p| p.port))
            .collect();
        out.push(self.network_policy(name, "serving", &ports));
        if let Some(i) = &svc.ingress {
            let mut metadata = meta();
            metadata.annotations = (!i.annotations.is_empty()).then(|| i.annotations.clone());
            let rule = |host: &String| IngressRule {
                host: Some(host.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: i
                        .paths
                        .iter()
                        .map(|path| HTTPIngressPath {
                            path: Some(path.clone()),
                            path_type: i.path_type.clone(),
                            backend: IngressBackend {
                                service: Some(IngressServiceBackend {
                                    name: full.clone(),
                                    port: Some(ServiceBackendPort {
                                        name: Some("http".into()),
                                        number: None,
                                    }),
                                }),
                                ..Default::default()
                            },
                        })
                        .collect(),
                }),
            };
            out.push(to_value(&Ingress {
                metadata,
                spec: Some(IngressSpec {
                    ingress_class_name: i.class.clone(),
                    rules: Some(i.hosts.iter().map(rule).collect()),
                    tls: i.tls_secret.as_ref().map(|t| {
                        vec![IngressTLS {
                            hosts: Some(i.hosts.clone()),
                            secret_name: Some(t.clone()),
                        }]
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }));
        }
        out
    }
}
