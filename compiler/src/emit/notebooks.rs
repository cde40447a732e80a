//! Notebooks: a Kubeflow `Notebook`, or a StatefulSet and a Service without Kubeflow.
//!
//! Takes: an [`EnvPlan`]'s notebook plans. Gives, per notebook: its workspace claim (never
//! pruned by the GitOps engine), a ServiceAccount without a token, a NetworkPolicy, and
//! either a `kubeflow.org/v1` Notebook (Kubeflow's controller makes the StatefulSet, the
//! Service and the route) or a StatefulSet of one pod with a ClusterIP Service, reached with
//! `kubectl port-forward`. Pods come from [`pod::notebook_pod`]: the security baseline under
//! the notebook profile. With a GitOps engine the files go in the environment's `notebooks`
//! folder, which the engine applies on its own (see `argocd` and `flux`).

use super::{Emit, Kind, Object, Target, pod, to_value};
use crate::plan::{EnvPlan, NOTEBOOK_PORT, NotebookPlan, Plan};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PodTemplateSpec, Service, ServiceAccount, ServicePort,
    ServiceSpec, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPort, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;
use std::collections::BTreeMap;

pub const TARGET: Target = Target {
    name: "notebooks",
    kinds: &[Kind::new("kubeflow.org/v1", "Notebook").pods(&[&["spec", "template", "spec"]])],
    emit: Emit::Env(objects),
    rename: None,
};

fn objects(_: &Plan, env: &EnvPlan) -> Vec<Object> {
    let mut out = Vec::new();
    for nb in &env.notebooks {
        for value in notebook(env, nb) {
            out.push(Object::generated(&nb.folder, value));
        }
    }
    out
}

fn notebook(env: &EnvPlan, nb: &NotebookPlan) -> Vec<serde_json::Value> {
    let meta = |name: &str| super::meta(env, name, Some(&nb.name), Some("notebook"));
    let annotated = || ObjectMeta {
        annotations: Some(nb.annotations.clone()),
        ..meta(&nb.full_name)
    };
    let selector = || LabelSelector {
        match_labels: Some(env.selector(&nb.name)),
        ..Default::default()
    };
    let w = &nb.workspace;
    let mut out = vec![
        to_value(&PersistentVolumeClaim {
            metadata: ObjectMeta {
                annotations: (!nb.workspace_annotations.is_empty()).then(|| nb.workspace_annotations.clone()),
                ..meta(&w.name)
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec![w.access_mode.clone()]),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([("storage".to_string(), Quantity(w.size.clone()))])),
                    ..Default::default()
                }),
                storage_class_name: w.storage_class.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        to_value(&ServiceAccount {
            metadata: meta(&nb.full_name),
            automount_service_account_token: Some(false),
            ..Default::default()
        }),
        // Kubeflow's gateway and culler reach the server on its port; without Kubeflow no pod
        // may (kubectl port-forward goes through the kubelet, not the pod network).
        to_value(&NetworkPolicy {
            metadata: meta(&nb.full_name),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector()),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(if nb.kubeflow {
                    vec![NetworkPolicyIngressRule {
                        ports: Some(vec![NetworkPolicyPort {
                            port: Some(IntOrString::Int(NOTEBOOK_PORT)),
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }]
                } else {
                    Vec::new()
                }),
                ..Default::default()
            }),
        }),
    ];
    let pod = pod::notebook_pod(&nb.template.pod);
    if nb.kubeflow {
        // Kubeflow copies the Notebook's labels and annotations onto the pod it makes; its
        // template takes only `spec`.
        out.push(json!({
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": to_value(&annotated()),
            "spec": { "template": { "spec": to_value(&pod) } },
        }));
        return out;
    }
    out.push(to_value(&StatefulSet {
        metadata: annotated(),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(nb.full_name.clone()),
            selector: selector(),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(nb.template.labels.clone()),
                    annotations: (!nb.template.annotations.is_empty()).then(|| nb.template.annotations.clone()),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        ..Default::default()
    }));
    out.push(to_value(&Service {
        metadata: meta(&nb.full_name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(env.selector(&nb.name)),
            ports: Some(vec![ServicePort {
                name: Some("notebook".into()),
                port: nb.service_port,
                target_port: Some(IntOrString::String("notebook-port".into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }));
    out
}

/// The command that reaches a notebook from a workstation, and the URL to open.
pub fn port_forward(env: &EnvPlan, nb: &NotebookPlan) -> String {
    format!(
        "kubectl -n {} port-forward svc/{} 8888:{}   # then open http://localhost:8888{}",
        env.namespace, nb.full_name, nb.service_port, nb.url_path
    )
}
