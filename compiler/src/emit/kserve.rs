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
};

/// The annotation KServe reads the deployment mode from.
pub const MODE_ANNOTATION: &str = "serving.kserve.io/deploymentMode";
/// The container name KServe gives the predictor's (and expects of a custom one).
pub const CONTAINER: &str = "kserve-container";

/// One group per InferenceService.
fn objects(_: &Plan, env: &EnvPlan, sink: &mut super::Sink<'_>) {
    for svc in &env.services {
        if let Some(k) = &svc.kserve {
            sink(vec![Object::generated("", inference_service(env, svc, k))], &|_| {});
        }
    }
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    const HEAD: &str = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  \
                        app: {stack: fastapi}\nvolumes:\n  models: {claim: shared-models, access: ReadWriteMany}\n";

    fn isvc(kserve: &str, svc: &str) -> Value {
        let yaml = format!("{HEAD}kserve: {kserve}\nservices:\n  m: {svc}\n");
        let (objects, _) = super::super::rendered(&yaml, "default");
        assert!(
            !objects.contains_key("deployment-p-m.yaml"),
            "KServe owns the Deployment"
        );
        assert!(!objects.contains_key("service-p-m.yaml"), "KServe owns the Service");
        objects["inferenceservice-p-m.yaml"].clone()
    }

    #[test]
    fn the_deployment_mode_is_spelled_as_the_target_kserve_version_reads_it() {
        let model = "{runtime: kserve, model: {format: sklearn, storage: pvc://models/fraud}}";
        for (kserve, mode) in [
            ("{version: \"0.16\"}", "Standard"),
            ("{version: \"v0.17.1\", mode: knative}", "Knative"),
            ("{version: \"0.15\"}", "RawDeployment"),
            ("{version: \"0.14.1\", mode: knative}", "Serverless"),
            ("{version: \"1.0\"}", "Standard"),
        ] {
            let v = isvc(kserve, model);
            assert_eq!(
                v["metadata"]["annotations"]["serving.kserve.io/deploymentMode"], mode,
                "{kserve}"
            );
        }
    }

    #[test]
    fn a_model_is_written_in_the_canonical_form_with_the_webhooks_defaults() {
        let v = isvc(
            "{version: \"0.16\", mode: knative}",
            "{runtime: kserve, model: {format: triton, format_version: \"2\", storage: pvc://models/repo, \
             canary: {storage: pvc://models/repo2, percent: 20}}, cpu: \"2\", memory: 4Gi, \
             autoscale: {min: 0, max: 3, memory: 70}}",
        );
        let p = &v["spec"]["predictor"];
        assert_eq!(p["model"]["modelFormat"], json!({"name": "triton", "version": "2"}));
        // Triton's protocol is v2: written, as the webhook would default it.
        assert_eq!(p["model"]["protocolVersion"], "v2");
        // The existing claim by its own name; the canary's model is the one KServe rolls out.
        assert_eq!(p["model"]["storageUri"], "pvc://shared-models/repo2");
        assert_eq!(p["canaryTrafficPercent"], 20);
        assert_eq!(p["model"]["resources"]["limits"], json!({"cpu": "2", "memory": "4Gi"}));
        assert_eq!(
            p["model"]["resources"]["requests"],
            json!({"cpu": "2", "memory": "4Gi"})
        );
        assert_eq!(p["model"]["securityContext"]["readOnlyRootFilesystem"], true);
        for key in [
            "name",
            "image",
            "imagePullPolicy",
            "ports",
            "livenessProbe",
            "readinessProbe",
        ] {
            assert!(p["model"][key].is_null(), "the ServingRuntime decides {key}: {p}");
        }
        assert!(p["containers"].is_null(), "{p}");
        assert!(p["sklearn"].is_null() && p["triton"].is_null(), "no shorthand form");
        assert_eq!(p["automountServiceAccountToken"], false);
        assert_eq!(p["serviceAccountName"], "p-m");
        assert_eq!(p["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
        assert_eq!((&p["minReplicas"], &p["maxReplicas"]), (&json!(0), &json!(3)));
        assert_eq!((&p["scaleMetric"], &p["scaleTarget"]), (&json!("memory"), &json!(70)));
        assert_eq!(p["labels"]["app.kubernetes.io/instance"], "p-m");
    }

    #[test]
    fn the_project_image_is_the_one_kserve_container() {
        let v = isvc(
            "{version: \"0.15\"}",
            "{runtime: kserve, image: app, command: [serve], health: {path: /ready}, replicas: 2}",
        );
        let p = &v["spec"]["predictor"];
        let c = &p["containers"][0];
        assert_eq!(c["name"], "kserve-container");
        assert_eq!(c["image"], "r.io/p/app:1");
        assert_eq!(
            c["ports"],
            json!([{"containerPort": 8080, "name": "http", "protocol": "TCP"}])
        );
        assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/ready");
        assert_eq!((&p["minReplicas"], &p["maxReplicas"]), (&json!(2), &json!(2)));
        assert!(p["scaleMetric"].is_null() && p["canaryTrafficPercent"].is_null(), "{p}");
        // Knative names the port http1, and its probes use that name.
        let v = isvc("{version: \"0.16\", mode: knative}", "{runtime: kserve, image: app}");
        let c = &v["spec"]["predictor"]["containers"][0];
        assert_eq!(c["ports"][0]["name"], "http1");
        assert_eq!(c["livenessProbe"]["httpGet"]["port"], "http1");
    }
}
