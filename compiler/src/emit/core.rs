//! Core workloads: the objects every environment has, and services.
//!
//! Takes: an [`EnvPlan`]. Gives: the Namespace (Pod Security `restricted`), the config
//! ConfigMap, the secrets (ExternalSecrets, or the encrypted files as they are), the volume
//! claims, and per service a ServiceAccount, Deployment, Service, HorizontalPodAutoscaler (or a
//! KEDA ScaledObject), PodDisruptionBudget, NetworkPolicy and Ingress (for a KServe service
//! only the ServiceAccount and NetworkPolicy: `kserve` writes its InferenceService); per pipeline its ServiceAccount and a
//! NetworkPolicy that admits no traffic.

use super::{Emit, Kind, Object, Target, pod, to_value};
use crate::plan::{AutoscalePlan, BehaviorPlan, EnvPlan, Plan, RulesPlan, SecretPlan, SecretSource, ServicePlan};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules, HorizontalPodAutoscaler,
    HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget, ResourceMetricSource,
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
        Kind::new("keda.sh/v1alpha1", "ScaledObject"),
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
};

/// A group for the environment's own objects (namespace, config, secrets, claims), and one
/// per service, per configuration file and per pipeline (its account and network policy).
fn objects(_: &Plan, env: &EnvPlan, sink: &mut super::Sink<'_>) {
    let cx = Cx { env };
    let mut sink = |values: Vec<Value>| sink(values.into_iter().map(|v| Object::generated("", v)).collect(), &|_| {});
    let mut out = Vec::new();
    let mut ns_labels = env.labels(None, None);
    ns_labels.insert("pod-security.kubernetes.io/enforce".into(), "restricted".into());
    // Katib adds its metrics collector to trial pods only in a namespace that allows it.
    let tunes = env.steps.iter().filter_map(|s| s.tune.as_ref());
    let tunes = tunes.chain(
        env.workflows
            .iter()
            .flat_map(|w| &w.tasks)
            .filter_map(|t| t.tune.as_ref()),
    );
    if tunes.into_iter().any(|t| t.collector != "Push") {
        ns_labels.insert(super::katib::INJECTION_LABEL.into(), "enabled".into());
    }
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
    out.extend(env.secrets.iter().filter_map(|sec| cx.secret(sec)));
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
    sink(std::mem::take(&mut out));
    for svc in &env.services {
        sink(cx.service(svc));
    }
    for f in &env.files {
        sink(vec![to_value(&ConfigMap {
            metadata: cx.meta(&f.name, None, Some("config")),
            data: Some(BTreeMap::from([(f.key.clone(), f.text.clone())])),
            immutable: Some(true),
            ..Default::default()
        })]);
    }
    for p in &env.pipelines {
        sink(vec![
            cx.service_account(&p.name, "pipeline", p.token, &p.account_annotations),
            cx.network_policy(&p.name, "pipeline", &[]),
        ]);
    }
}

struct Cx<'a> {
    env: &'a EnvPlan,
}

impl Cx<'_> {
    fn meta(&self, name: &str, workload: Option<&str>, component: Option<&str>) -> ObjectMeta {
        super::meta(self.env, name, workload, component)
    }

    /// The object that makes a secret's Secret; none for one that exists already.
    fn secret(&self, sec: &SecretPlan) -> Option<Value> {
        Some(match &sec.source {
            SecretSource::Existing => return None,
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
        })
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
        let ports: Vec<i32> = std::iter::once(svc.port)
            .chain(svc.extra_ports.iter().map(|p| p.port))
            .collect();
        if let Some(k) = &svc.kserve {
            // KServe owns the Deployment, Service and autoscaler (super::kserve); Knative
            // sends the requests through its queue-proxy, on 8012.
            let knative = matches!(k.mode.as_str(), "Knative" | "Serverless");
            let ports: Vec<i32> = ports
                .iter()
                .copied()
                .chain(knative.then_some(KNATIVE_QUEUE_PORT))
                .collect();
            out.push(self.network_policy(name, "serving", &ports));
            return out;
        }
        out.push(to_value(&Deployment {
            metadata: meta(),
            spec: Some(DeploymentSpec {
                replicas: svc.replicas,
                revision_history_limit: Some(svc.revision_history),
                selector: selector(),
                strategy: Some(if svc.recreate {
                    DeploymentStrategy {
                        type_: Some("Recreate".into()),
                        rolling_update: None,
                    }
                } else {
                    DeploymentStrategy {
                        type_: Some("RollingUpdate".into()),
                        rolling_update: Some(RollingUpdateDeployment {
                            max_surge: Some(IntOrString::String(svc.max_surge.clone())),
                            max_unavailable: Some(IntOrString::Int(svc.max_unavailable)),
                        }),
                    }
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
        if let Some(a) = svc.autoscale.as_ref().filter(|a| !a.keda.is_empty()) {
            out.push(scaled_object(meta(), full, a));
        } else if let Some(a) = &svc.autoscale {
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
                    behavior: a.behavior.as_ref().map(behavior),
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

/// Knative's queue-proxy port, in front of a Knative-mode predictor's container.
const KNATIVE_QUEUE_PORT: i32 = 8012;

/// The autoscaler behaviour, as the API server would complete it.
pub fn behavior(b: &BehaviorPlan) -> HorizontalPodAutoscalerBehavior {
    let rules = |r: &RulesPlan| HPAScalingRules {
        policies: Some(
            r.policies
                .iter()
                .map(|p| HPAScalingPolicy {
                    type_: p.kind.clone(),
                    value: p.value,
                    period_seconds: p.period,
                })
                .collect(),
        ),
        select_policy: Some(r.select.clone()),
        stabilization_window_seconds: Some(r.window),
        ..Default::default()
    };
    HorizontalPodAutoscalerBehavior {
        scale_up: Some(rules(&b.scale_up)),
        scale_down: Some(rules(&b.scale_down)),
    }
}

/// KEDA's ScaledObject for a Deployment: one trigger per Prometheus query, and the cpu and
/// memory targets as KEDA's own triggers; every field KEDA would default written out.
fn scaled_object(metadata: ObjectMeta, full: &str, a: &AutoscalePlan) -> Value {
    let mut triggers: Vec<Value> = a
        .keda
        .iter()
        .map(|t| {
            json!({
                "type": "prometheus",
                "metricType": "AverageValue",
                "metadata": {
                    "serverAddress": t.server,
                    "query": t.query,
                    "threshold": t.threshold,
                    "activationThreshold": t.activation,
                },
            })
        })
        .collect();
    for (resource, pct) in &a.utilization {
        triggers.push(json!({
            "type": resource,
            "metricType": "Utilization",
            "metadata": {"value": pct.to_string()},
        }));
    }
    let mut spec = json!({
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": full},
        "pollingInterval": a.polling,
        "cooldownPeriod": a.cooldown,
        "minReplicaCount": a.min,
        "maxReplicaCount": a.max,
        "triggers": triggers,
    });
    if let Some(b) = &a.behavior {
        spec["advanced"] = json!({"horizontalPodAutoscalerConfig": {"behavior": to_value(&behavior(b))}});
    }
    json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": to_value(&metadata),
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use crate::diag::Severity;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    const HEAD: &str = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  \
                        app: {stack: python}\n  vllm: {prebuilt: \"vllm/vllm-openai:v0.8.5\"}\n\
                        config: {LOG_LEVEL: info}\n";

    fn objects(body: &str) -> BTreeMap<String, Value> {
        super::super::rendered(&format!("{HEAD}{body}"), "default").0
    }

    /// The pod spec of service `web`.
    fn pod(service: &str) -> Value {
        let image = if service.starts_with("image:") {
            ""
        } else {
            "image: app, "
        };
        let objects = objects(&format!("services:\n  web: {{{image}port: 8080, {service}}}\n"));
        objects["deployment-p-web.yaml"]["spec"]["template"]["spec"].clone()
    }

    #[test]
    fn a_gpu_server_gets_half_an_hour_to_start_and_liveness_waits_for_it() {
        let p = pod("image: vllm, gpu: 1, memory: 32Gi");
        let c = &p["containers"][0];
        assert_eq!(c["startupProbe"]["failureThreshold"], 180, "{c}");
        assert_eq!(c["startupProbe"]["periodSeconds"], 10, "{c}");
        assert_eq!(c["livenessProbe"]["initialDelaySeconds"], 0, "{c}");
        // Without GPUs no startup probe, and liveness waits 10 s; `failures: 0` turns it off.
        let c = &pod("")["containers"][0];
        assert!(
            c["startupProbe"].is_null() && c["livenessProbe"]["initialDelaySeconds"] == 10,
            "{c}"
        );
        let c = &pod("image: vllm, gpu: 1, health: {startup: {failures: 0}}")["containers"][0];
        assert!(c["startupProbe"].is_null(), "{c}");
        let c = &pod("health: {check: none}")["containers"][0];
        assert!(c["livenessProbe"].is_null() && c["readinessProbe"].is_null(), "{c}");
    }

    #[test]
    fn probes_check_by_grpc_tcp_or_exec_on_the_named_port() {
        let c = &pod("ports: {grpc: 8081}, health: {check: grpc, port: grpc}")["containers"][0];
        assert_eq!(
            c["livenessProbe"]["grpc"],
            json!({ "port": 8081 }),
            "gRPC takes a number: {c}"
        );
        assert_eq!(
            c["ports"][1],
            json!({ "name": "grpc", "containerPort": 8081, "protocol": "TCP" })
        );
        let c = &pod("health: {check: tcp}")["containers"][0];
        assert_eq!(c["readinessProbe"]["tcpSocket"], json!({ "port": "http" }), "{c}");
        let c = &pod("health: {check: exec, command: [cat, /tmp/ready]}")["containers"][0];
        assert_eq!(
            c["livenessProbe"]["exec"]["command"],
            json!(["cat", "/tmp/ready"]),
            "{c}"
        );
    }

    #[test]
    fn helpers_come_as_native_sidecars_then_init_containers_with_the_baseline() {
        let p = pod("init_containers: {fetch: {image: app, command: [fetch]}}, \
             sidecars: {logs: {image: app, command: [ship]}}");
        let init = p["initContainers"].as_array().expect("init containers");
        let names: Vec<&Value> = init.iter().map(|c| &c["name"]).collect();
        assert_eq!(names, ["logs", "fetch"]);
        assert_eq!(init[0]["restartPolicy"], "Always");
        assert!(init[1]["restartPolicy"].is_null());
        for c in init {
            assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true, "{c}");
            assert_eq!(c["resources"]["limits"]["cpu"], "100m", "{c}");
        }
    }

    #[test]
    fn a_configuration_file_is_one_read_only_key_of_a_hashed_configmap() {
        let objects = objects(
            "files:\n  prompt: {path: /etc/app/prompt.txt, content: \"hi\\n\"}\n\
             services:\n  web: {image: app, port: 8080, files: [prompt]}\n",
        );
        let (name, cm) = objects
            .iter()
            .find(|(k, _)| k.starts_with("configmap-p-file-prompt-"))
            .expect("a file ConfigMap");
        assert_eq!(cm["immutable"], true);
        assert_eq!(cm["data"]["prompt.txt"], "hi\n");
        let pod = &objects["deployment-p-web.yaml"]["spec"]["template"]["spec"];
        let mount = pod["containers"][0]["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == "/etc/app/prompt.txt")
            .expect("mounted")
            .clone();
        assert_eq!(mount["subPath"], "prompt.txt");
        assert_eq!(mount["readOnly"], true);
        let volume = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == mount["name"])
            .unwrap();
        assert_eq!(
            format!("configmap-{}.yaml", volume["configMap"]["name"].as_str().unwrap()),
            *name
        );
    }

    #[test]
    fn an_existing_secret_is_read_by_name_and_its_keys_map_to_variables() {
        let objects = objects(
            "secrets:\n  hf: {provider: existing, name: hf-token, env: {HF_TOKEN: token}}\n\
             services:\n  web: {image: app, port: 8080, secrets: [hf], env: {A: b}, \
             env_from: {POD: {pod: name}, LVL: {config: LOG_LEVEL}, T2: {secret: hf, key: other}}}\n",
        );
        assert!(
            !objects
                .keys()
                .any(|k| k.contains("secret-") && !k.starts_with("service")),
            "no Secret object for an existing one: {:?}",
            objects.keys()
        );
        let c = &objects["deployment-p-web.yaml"]["spec"]["template"]["spec"]["containers"][0];
        let env: BTreeMap<&str, &Value> = c["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["name"].as_str().unwrap(), v))
            .collect();
        let order: Vec<&str> = c["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        // What the kubelet reads comes first, so that a plain value may use `$(POD)`.
        assert_eq!(order, ["HF_TOKEN", "LVL", "POD", "T2", "A"]);

        assert_eq!(
            env["HF_TOKEN"]["valueFrom"],
            json!({ "secretKeyRef": { "name": "hf-token", "key": "token" } })
        );
        assert_eq!(
            env["T2"]["valueFrom"],
            json!({ "secretKeyRef": { "name": "hf-token", "key": "other" } })
        );
        // The API server would add `apiVersion: v1`; written here, so that nothing drifts.
        assert_eq!(
            env["POD"]["valueFrom"],
            json!({ "fieldRef": { "apiVersion": "v1", "fieldPath": "metadata.name" } })
        );
        let cm = env["LVL"]["valueFrom"]["configMapKeyRef"].clone();
        assert!(
            cm["name"].as_str().unwrap().starts_with("p-config-") && cm["key"] == "LOG_LEVEL",
            "{cm}"
        );
        // With a mapping, the secret's keys are not all given as variables.
        let from = c["envFrom"].as_array().unwrap();
        assert!(from.iter().all(|f| f["secretRef"].is_null()), "{from:?}");
    }

    #[test]
    fn volumes_are_a_shared_claim_an_existing_one_a_claim_per_pod_or_csi() {
        let objects = objects(
            "volumes:\n  shared: {size: 1Gi, access: ReadWriteMany}\n  old: {claim: models, access: ReadWriteMany}\n  \
             cache: {size: 50Gi, per_pod: true, storage_class: ssd}\n  \
             bucket: {csi: {driver: gcsfuse.csi.storage.gke.io, attributes: {bucketName: m}, read_only: true}}\n\
             services:\n  web: {image: app, port: 8080, replicas: 2, \
             mounts: {shared: /s, old: /o, cache: /c, bucket: /b}}\n",
        );
        let claims: Vec<&String> = objects
            .keys()
            .filter(|k| k.starts_with("persistentvolumeclaim-"))
            .collect();
        assert_eq!(claims, ["persistentvolumeclaim-p-shared.yaml"]);
        let pod = &objects["deployment-p-web.yaml"]["spec"]["template"]["spec"];
        let vol = |name: &str| {
            pod["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == name)
                .unwrap()
                .clone()
        };
        assert_eq!(vol("vol-old")["persistentVolumeClaim"]["claimName"], "models");
        assert_eq!(
            vol("vol-cache")["ephemeral"]["volumeClaimTemplate"]["spec"],
            json!({ "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": "50Gi" } }, "storageClassName": "ssd" })
        );
        assert_eq!(
            vol("vol-bucket")["csi"],
            json!({ "driver": "gcsfuse.csi.storage.gke.io", "readOnly": true, "volumeAttributes": { "bucketName": "m" } })
        );
        let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
        let bucket = mounts.iter().find(|m| m["name"] == "vol-bucket").unwrap();
        assert_eq!(bucket["readOnly"], true);
    }

    #[test]
    fn a_single_pod_holding_a_read_write_once_claim_is_recreated_and_says_so() {
        let spec = |fields: &str| {
            format!(
                "{HEAD}volumes:\n  data: {{size: 1Gi}}\nservices:\n  web: {{image: app, port: 8080, mounts: {{data: /d}}{fields}}}\n"
            )
        };
        let strategy = |fields: &str| {
            let (objects, diags) = super::super::rendered(&spec(fields), "default");
            let warnings: Vec<String> = diags
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .map(|d| d.message.clone())
                .collect();
            (objects["deployment-p-web.yaml"]["spec"]["strategy"].clone(), warnings)
        };
        let (s, w) = strategy("");
        assert_eq!(s, json!({ "type": "Recreate" }));
        assert!(w.len() == 1 && w[0].contains("rolls out with Recreate"), "{w:?}");
        let (s, w) = strategy(", rollout: recreate");
        assert_eq!(s, json!({ "type": "Recreate" }));
        assert!(w.is_empty(), "{w:?}");
        let (s, w) = strategy(", replicas: 2");
        assert_eq!(s["type"], "RollingUpdate");
        assert!(w.len() == 1 && w[0].contains("runs up to 2 pods"), "{w:?}");
    }

    #[test]
    fn placement_spreads_replicas_and_names_the_classes() {
        let p = pod("replicas: 3, spread: zone, priority_class: serving-high, runtime_class: nvidia");
        assert_eq!(
            p["topologySpreadConstraints"],
            json!([{
                "labelSelector": { "matchLabels": { "app.kubernetes.io/instance": "p-web" } },
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway"
            }])
        );
        assert_eq!(p["priorityClassName"], "serving-high");
        assert_eq!(p["runtimeClassName"], "nvidia");
        assert!(pod("")["topologySpreadConstraints"].is_null());
    }
}
