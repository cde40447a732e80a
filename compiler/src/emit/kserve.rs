//! KServe: each `runtime: kserve` service as an InferenceService.
//!
//! Takes: the [`ServicePlan`]s with a [`crate::plan::KservePlan`]. Gives: one
//! `serving.kserve.io/v1beta1` InferenceService each, in the canonical form KServe's webhook
//! would otherwise rewrite to (docs/kubernetes.md, "KServe"): the predictor's `model` (never
//! the per-framework shorthand) or the project image as its one container, the deployment
//! mode annotation in the target version's spelling, the protocol version, requests and
//! limits, replicas, and `automountServiceAccountToken: false` written out; the pod from
//! [`super::pod`], with mlship's baseline. The ServiceAccount and NetworkPolicy come from
//! [`super::core`]; KServe makes the Deployment, Service and autoscaler.

use super::{Emit, Kind, Object, Target, pod, to_value};
use crate::plan::{EnvPlan, KservePlan, Plan, ServicePlan};
use serde_json::{Map, Value, json};

pub const TARGET: Target = Target {
    name: "kserve",
    kinds: &[
        Kind::new("serving.kserve.io/v1beta1", "InferenceService").pods(&[&["spec", "predictor"]]),
        // Not emitted; users bring their own runtimes in extra manifests.
        Kind::new("serving.kserve.io/v1alpha1", "ServingRuntime"),
    ],
    emit: Emit::Env(objects),
    rename: None,
};

/// The annotation KServe reads the deployment mode from.
pub const MODE_ANNOTATION: &str = "serving.kserve.io/deploymentMode";
/// The container name KServe gives the predictor's (and expects of a custom one).
pub const CONTAINER: &str = "kserve-container";

fn objects(_: &Plan, env: &EnvPlan) -> Vec<Object> {
    env.services
        .iter()
        .filter_map(|svc| Some(Object::generated("", inference_service(env, svc, svc.kserve.as_ref()?))))
        .collect()
}

fn inference_service(env: &EnvPlan, svc: &ServicePlan, k: &KservePlan) -> Value {
    let mut meta = super::meta(env, &svc.full_name, Some(&svc.name), Some("serving"));
    meta.annotations = Some([(MODE_ANNOTATION.to_string(), k.mode.clone())].into());
    let template = pod::template(&svc.template);
    let mut predictor = match to_value(&template.spec) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let pod_meta = template.metadata.unwrap_or_default();
    if let Some(m) = &k.model {
        // The runtime's container, with mlship's fields: everything but name, image, ports.
        let containers = predictor.remove("containers");
        let mut container = match containers {
            Some(Value::Array(mut cs)) if !cs.is_empty() => cs.remove(0),
            _ => json!({}),
        };
        let mut model = Map::new();
        model.insert("modelFormat".into(), {
            let mut f = json!({"name": m.format});
            if let Some(v) = &m.version {
                f["version"] = json!(v);
            }
            f
        });
        if let Some(r) = &m.runtime {
            model.insert("runtime".into(), json!(r));
        }
        model.insert("protocolVersion".into(), json!(m.protocol));
        if let Some(u) = &m.storage_uri {
            model.insert("storageUri".into(), json!(u));
        }
        if let Some(c) = container.as_object_mut() {
            for key in ["name", "image", "imagePullPolicy", "ports"] {
                c.remove(key);
            }
            model.extend(std::mem::take(c));
        }
        predictor.insert("model".into(), sorted(model));
    } else if let Some(Value::Array(cs)) = predictor.get_mut("containers")
        && let Some(c) = cs.first_mut()
    {
        c["name"] = json!(CONTAINER);
    }
    predictor.insert("automountServiceAccountToken".into(), json!(false));
    predictor.insert("minReplicas".into(), json!(k.min));
    predictor.insert("maxReplicas".into(), json!(k.max));
    if let (Some(metric), Some(target)) = (&k.scale_metric, k.scale_target) {
        predictor.insert("scaleMetric".into(), json!(metric));
        predictor.insert("scaleTarget".into(), json!(target));
    }
    if let Some(p) = k.canary {
        predictor.insert("canaryTrafficPercent".into(), json!(p));
    }
    if let Some(l) = pod_meta.labels {
        predictor.insert("labels".into(), json!(l));
    }
    if let Some(a) = pod_meta.annotations {
        predictor.insert("annotations".into(), json!(a));
    }
    json!({
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": to_value(&meta),
        "spec": {"predictor": sorted(predictor)},
    })
}

/// An object with its keys in order, as KServe's CRD lists them.
fn sorted(m: Map<String, Value>) -> Value {
    let mut entries: Vec<(String, Value)> = m.into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Object(entries.into_iter().collect())
}
