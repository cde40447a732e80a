//! Model serving: what a serving runtime or KServe decides about a service.
//!
//! Takes: a service of one environment's merged spec. Gives: the service with its serving
//! runtime's defaults filled in ([`with_runtime`]: command, ports, probes, caches), which
//! the rest of lowering treats like any service; the autoscaler's plan (HPA metrics and
//! behaviour with every field the API server would default, or a KEDA ScaledObject on
//! Prometheus); and, for `runtime: kserve`, the InferenceService's plan. The checks
//! (`check::serving`) have refused what cannot be served, so this only decides.

use super::workloads::Cx;
use crate::plan::{
    AutoscalePlan, BehaviorPlan, ContainerPlan, KedaTrigger, KservePlan, ProbeCheck, RulesPlan, ScalePolicy,
};
use crate::source::Path;
use crate::spec::{
    Autoscale, KserveMode, PrometheusScaler, Protocol, Quantity, ScaleRule, Scratch, Service, ServingRuntime, Spec,
    Startup, Storage, kserve_at_least, signal_query, storage,
};

/// Where a serving runtime keeps downloads and compiled kernels (HOME and the HF cache are
/// under it), on a scratch folder or the volume `model.cache` names.
pub const CACHE: &str = "/cache";
/// The scratch folder's size when no volume is named.
pub const CACHE_SIZE: &str = "20Gi";
/// Where a `pvc://` model's volume is mounted, read-only, when the service does not mount it.
pub const MODEL_MOUNT: &str = "/mnt/models";
/// The autoscaler's CPU target when the spec names no metric.
pub const AUTOSCALE_CPU: u32 = 80;
/// KEDA's polling interval and cool-down (its defaults, written out).
pub const KEDA_POLLING: i32 = 30;
pub const KEDA_COOLDOWN: i32 = 300;
/// The HPA's default behaviour (`k8s.io/kubernetes/pkg/apis/autoscaling/v2/defaults.go`):
/// scale up at once by 4 pods or 100% per 15 s, whichever is more; scale down to the highest
/// recommendation of the last 300 s, by up to 100% per 15 s.
const UP_WINDOW: i32 = 0;
const DOWN_WINDOW: i32 = 300;
const DEFAULT_PERIOD: i32 = 15;
/// A policy's period when the spec gives a limit but no period.
pub const POLICY_PERIOD: u32 = 60;

/// The service with its serving runtime's defaults: the spec's own values win.
pub fn with_runtime(name: &str, svc: &Service) -> Service {
    let runtime = svc.runtime();
    if matches!(runtime, ServingRuntime::Deployment | ServingRuntime::Kserve) {
        return svc.clone();
    }
    let mut out = svc.clone();
    let model = svc.model.clone().unwrap_or_default();
    let model_name = model.name.clone().unwrap_or_else(|| name.to_string());
    let port = svc.http_port();
    out.port = Some(port);
    let defaults: &[(&str, u32)] = match runtime {
        ServingRuntime::Triton => &[("grpc", 8001), ("metrics", 8002)],
        ServingRuntime::Tfserving => &[("grpc", 8500)],
        ServingRuntime::Torchserve => &[("grpc", 7070), ("metrics", 8082)],
        _ => &[],
    };
    for (pname, p) in defaults {
        out.ports.entry(pname.to_string()).or_insert(*p);
    }
    // The model's path in the container: a declared volume is mounted read-only where the
    // service mounts it, or at /mnt/models.
    let path = match model.storage.as_deref().map(storage) {
        Some(Storage::Volume(vol, rest)) => {
            let at = out.mounts.entry(vol.to_string()).or_insert_with(|| MODEL_MOUNT.into());
            if rest.is_empty() {
                at.clone()
            } else {
                format!("{}/{rest}", at.trim_end_matches('/'))
            }
        }
        Some(Storage::Hub(id)) => id.to_string(),
        Some(Storage::Path(p)) => p.to_string(),
        Some(Storage::Remote) | None => MODEL_MOUNT.to_string(),
    };
    match &model.cache {
        Some(vol) => {
            out.mounts.entry(vol.clone()).or_insert_with(|| CACHE.into());
        }
        None => {
            out.resources.scratch.entry(CACHE.into()).or_insert(Scratch {
                size: Quantity::Text(CACHE_SIZE.into()),
                memory: false,
            });
        }
    }
    let port_of = |n: &str| out.ports.get(n).copied().unwrap_or_default();
    let (command, live, ready): (Vec<String>, String, String) = match runtime {
        ServingRuntime::Vllm => {
            let mut c = vec![
                "vllm".into(),
                "serve".into(),
                path,
                "--host=0.0.0.0".into(),
                format!("--port={port}"),
                format!("--served-model-name={model_name}"),
            ];
            if let Some(g) = svc.resources.gpu.filter(|g| *g > 1) {
                c.push(format!("--tensor-parallel-size={g}"));
            }
            (c, "/health".into(), "/health".into())
        }
        ServingRuntime::Triton => (
            vec![
                "tritonserver".into(),
                format!("--model-repository={path}"),
                format!("--http-port={port}"),
                format!("--grpc-port={}", port_of("grpc")),
                format!("--metrics-port={}", port_of("metrics")),
            ],
            "/v2/health/live".into(),
            "/v2/health/ready".into(),
        ),
        ServingRuntime::Tfserving => {
            let status = format!("/v1/models/{model_name}");
            (
                vec![
                    "tensorflow_model_server".into(),
                    format!("--port={}", port_of("grpc")),
                    format!("--rest_api_port={port}"),
                    format!("--model_name={model_name}"),
                    format!("--model_base_path={path}"),
                ],
                status.clone(),
                status,
            )
        }
        ServingRuntime::Torchserve => {
            let set = |k: &str, v: String| (k.to_string(), v);
            for (k, v) in [
                set("TS_ENABLE_ENVVARS_CONFIG", "true".into()),
                set("TS_INFERENCE_ADDRESS", format!("http://0.0.0.0:{port}")),
                set("TS_MANAGEMENT_ADDRESS", "http://127.0.0.1:8081".into()),
                set("TS_METRICS_ADDRESS", format!("http://0.0.0.0:{}", port_of("metrics"))),
                set("TS_GRPC_INFERENCE_PORT", port_of("grpc").to_string()),
                set("LOG_LOCATION", format!("{CACHE}/logs")),
                set("METRICS_LOCATION", format!("{CACHE}/logs")),
            ] {
                out.env.entry(k).or_insert(v);
            }
            (
                vec![
                    "torchserve".into(),
                    "--start".into(),
                    "--foreground".into(),
                    "--ncs".into(),
                    "--disable-token-auth".into(),
                    format!("--model-store={path}"),
                    "--models=all".into(),
                ],
                "/ping".into(),
                "/ping".into(),
            )
        }
        ServingRuntime::Deployment | ServingRuntime::Kserve => unreachable!("returned above"),
    };
    if out.command.is_empty() {
        out.command = command;
    }
    for (k, v) in [
        ("HOME", format!("{CACHE}/home")),
        ("XDG_CACHE_HOME", CACHE.to_string()),
        ("HF_HOME", format!("{CACHE}/huggingface")),
    ] {
        out.env.entry(k.to_string()).or_insert(v);
    }
    // Loading a model takes minutes: a startup probe always, on the server's own endpoints.
    let mut h = out.health.take().unwrap_or_default();
    if h.check.is_none() {
        h.path.get_or_insert(live);
        h.ready.get_or_insert(ready);
    }
    h.startup.get_or_insert_with(Startup::default);
    out.health = Some(h);
    out
}

impl Cx<'_> {
    /// The autoscaler of a service: the HPA's metrics, or KEDA's triggers; the behaviour with
    /// every field the API server would default once any is given.
    pub(super) fn autoscale(&mut self, at: &Path, name: &str, svc: &Service, a: &Autoscale) -> AutoscalePlan {
        let mut utilization = Vec::new();
        if a.cpu.is_some() || (a.memory.is_none() && a.prometheus.is_none()) {
            let pct = self.int(at.key("cpu"), a.cpu.unwrap_or(AUTOSCALE_CPU).into());
            utilization.push(("cpu".to_string(), pct));
        }
        if let Some(m) = a.memory {
            utilization.push(("memory".to_string(), self.int(at.key("memory"), m.into())));
        }
        let behavior = (a.scale_up.is_some() || a.scale_down.is_some()).then(|| BehaviorPlan {
            scale_up: self.rules(&at.key("scale_up"), a.scale_up.as_ref(), UP_WINDOW, true),
            scale_down: self.rules(&at.key("scale_down"), a.scale_down.as_ref(), DOWN_WINDOW, false),
        });
        let full = crate::names::workload(&self.spec.project, name);
        let keda: Vec<KedaTrigger> = [a.prometheus.as_ref(), a.wake.as_ref()]
            .into_iter()
            .flatten()
            .map(|p| trigger(&self.namespace(), &full, svc, p))
            .collect();
        AutoscalePlan {
            min: self.int(at.key("min"), a.min.into()),
            max: self.int(at.key("max"), a.max.into()),
            utilization,
            behavior,
            keda,
            polling: KEDA_POLLING,
            cooldown: KEDA_COOLDOWN,
        }
    }

    fn rules(&mut self, at: &Path, rule: Option<&ScaleRule>, window: i32, up: bool) -> RulesPlan {
        let r = rule.cloned().unwrap_or_default();
        let window = match r.window {
            Some(w) => self.int(at.key("window"), w.into()),
            None => window,
        };
        let mut policies = Vec::new();
        let period = r.period.unwrap_or(POLICY_PERIOD);
        for (kind, value, key) in [("Pods", r.pods, "pods"), ("Percent", r.percent, "percent")] {
            if let Some(v) = value {
                policies.push(ScalePolicy {
                    kind: kind.into(),
                    value: self.int(at.key(key), v.into()),
                    period: self.int(at.key("period"), period.into()),
                });
            }
        }
        if policies.is_empty() {
            let p = |kind: &str, value| ScalePolicy {
                kind: kind.into(),
                value,
                period: DEFAULT_PERIOD,
            };
            policies = if up {
                vec![p("Pods", 4), p("Percent", 100)]
            } else {
                vec![p("Percent", 100)]
            };
        }
        RulesPlan {
            window,
            select: "Max".into(),
            policies,
        }
    }

    fn namespace(&self) -> String {
        self.spec.namespace.clone().unwrap_or_else(|| self.spec.project.clone())
    }

    /// The InferenceService of a `runtime: kserve` service.
    pub(super) fn kserve(&mut self, at: &Path, svc: &Service) -> KservePlan {
        let k = self.spec.kserve.clone();
        let mode = k.as_ref().and_then(|k| k.mode).unwrap_or_default();
        let current = k.as_ref().is_some_and(|k| kserve_at_least(&k.version, 16));
        let mode_name = match (mode, current) {
            (KserveMode::Standard, true) => "Standard",
            (KserveMode::Knative, true) => "Knative",
            (KserveMode::Standard, false) => "RawDeployment",
            (KserveMode::Knative, false) => "Serverless",
        };
        let model = svc.model.clone().unwrap_or_default();
        let uri = |u: &str| match storage(u) {
            Storage::Volume(vol, path) => {
                let claim = self.claim_name(vol);
                if path.is_empty() {
                    format!("pvc://{claim}")
                } else {
                    format!("pvc://{claim}/{path}")
                }
            }
            _ => u.to_string(),
        };
        let storage_uri = match &model.canary {
            Some(c) => Some(uri(&c.storage)),
            None => model.storage.as_deref().map(uri),
        };
        let format = model.format.clone().unwrap_or_default();
        let protocol = model.protocol.unwrap_or(match format.as_str() {
            "triton" | "onnx" | "huggingface" => Protocol::V2,
            _ => Protocol::V1,
        });
        let (metric, target) = match svc.autoscale.as_ref() {
            Some(a) => match (a.cpu, a.memory) {
                (_, Some(m)) => (Some("memory"), Some(m)),
                (c, None) => (Some("cpu"), Some(c.unwrap_or(AUTOSCALE_CPU))),
            },
            None => (None, None),
        };
        let (min, max) = match svc.autoscale.as_ref() {
            Some(a) => (a.min, a.max),
            None => {
                let n = svc.replicas.unwrap_or(1);
                (n, n)
            }
        };
        KservePlan {
            mode: mode_name.into(),
            model: svc.kserve_model().then(|| crate::plan::KserveModel {
                format,
                version: model.format_version.clone(),
                runtime: model.serving_runtime.clone(),
                storage_uri,
                protocol: protocol.name().into(),
            }),
            min: self.int(at.key("autoscale").key("min"), min.into()),
            max: self.int(at.key("autoscale").key("max"), max.into()),
            scale_metric: metric.map(str::to_string),
            scale_target: target.map(|t| self.int(at.key("autoscale").key(metric.unwrap_or("cpu")), t.into())),
            canary: model
                .canary
                .as_ref()
                .map(|c| self.int(at.key("model").key("canary").key("percent"), c.percent.into())),
        }
    }

    /// The claim a declared volume is: mlship's own, or the existing one it names.
    fn claim_name(&self, vol: &str) -> String {
        match self.spec.volumes.get(vol).and_then(|v| v.claim.clone()) {
            Some(existing) => existing,
            None => crate::names::workload(&self.spec.project, vol),
        }
    }
}

/// Whether the services on KServe run in Knative mode.
pub fn knative(spec: &Spec) -> bool {
    spec.kserve.as_ref().and_then(|k| k.mode) == Some(KserveMode::Knative)
}

/// The container's `http` port as Knative names it, `http1`, in its ports and probes.
pub fn knative_port(c: &mut ContainerPlan) {
    for p in c.ports.iter_mut().filter(|p| p.name == "http") {
        p.name = "http1".into();
    }
    for probe in [&mut c.liveness, &mut c.readiness, &mut c.startup]
        .into_iter()
        .flatten()
    {
        if let ProbeCheck::Http { port, .. } | ProbeCheck::Tcp { port } = &mut probe.check
            && port == "http"
        {
            *port = "http1".into();
        }
    }
}

fn trigger(namespace: &str, full: &str, svc: &Service, p: &PrometheusScaler) -> KedaTrigger {
    let query = p.query.clone().unwrap_or_else(|| {
        // A signal the runtime lacks was refused by the checks.
        p.signal
            .and_then(|s| signal_query(svc.runtime(), s, namespace, full))
            .unwrap_or_default()
    });
    KedaTrigger {
        server: p.server.clone().unwrap_or_default(),
        query,
        threshold: number(p.target),
        activation: number(p.activation.unwrap_or(0.0)),
    }
}

/// A number as KEDA's metadata takes it: a string, without a trailing `.0`.
pub fn number(v: f64) -> String {
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    const HEAD: &str = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  \
                        srv: {prebuilt: \"nvcr.io/nvidia/tritonserver:25.04-py3\"}\nvolumes:\n  \
                        models: {size: 10Gi, access: ReadWriteMany}\n";

    fn objects(svc: &str) -> BTreeMap<String, Value> {
        let (objects, diags) = crate::emit::rendered(&format!("{HEAD}services:\n  s: {svc}\n"), "default");
        assert!(diags.is_empty(), "{diags:?}");
        objects
    }

    fn server(svc: &str) -> Value {
        objects(svc)["deployment-p-s.yaml"]["spec"]["template"]["spec"]["containers"][0].clone()
    }

    fn env(c: &Value, name: &str) -> Value {
        c["env"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == name)
            .map_or(Value::Null, |e| e["value"].clone())
    }

    #[test]
    fn each_runtime_gets_its_arguments_ports_and_health_endpoints() {
        let triton = server("{runtime: triton, image: srv, model: {storage: pvc://models/repo}}");
        assert_eq!(
            triton["command"],
            json!([
                "tritonserver",
                "--model-repository=/mnt/models/repo",
                "--http-port=8000",
                "--grpc-port=8001",
                "--metrics-port=8002"
            ])
        );
        let ports: Vec<(&str, i64)> = triton["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["containerPort"].as_i64().unwrap()))
            .collect();
        assert_eq!(ports, [("http", 8000), ("grpc", 8001), ("metrics", 8002)]);
        assert_eq!(triton["readinessProbe"]["httpGet"]["path"], "/v2/health/ready");
        assert_eq!(triton["livenessProbe"]["httpGet"]["path"], "/v2/health/live");
        // A startup probe for model loading, even without GPUs: 30 × 10 s.
        assert_eq!(triton["startupProbe"]["failureThreshold"], 30);
        let mounts = triton["volumeMounts"].as_array().unwrap();
        assert!(mounts.iter().any(|m| m["mountPath"] == "/mnt/models"), "{mounts:?}");
        assert!(mounts.iter().any(|m| m["mountPath"] == "/cache"), "{mounts:?}");
        assert_eq!(env(&triton, "HOME"), "/cache/home");

        let tf = server("{runtime: tfserving, image: srv, model: {name: fraud, storage: /models/fraud}}");
        assert_eq!(
            tf["command"],
            json!([
                "tensorflow_model_server",
                "--port=8500",
                "--rest_api_port=8501",
                "--model_name=fraud",
                "--model_base_path=/models/fraud"
            ])
        );
        assert_eq!(tf["readinessProbe"]["httpGet"]["path"], "/v1/models/fraud");

        let ts = server("{runtime: torchserve, image: srv, model: {storage: pvc://models/store}}");
        assert_eq!(ts["readinessProbe"]["httpGet"]["path"], "/ping");
        assert_eq!(env(&ts, "TS_INFERENCE_ADDRESS"), "http://0.0.0.0:8080");
        assert_eq!(env(&ts, "TS_MANAGEMENT_ADDRESS"), "http://127.0.0.1:8081");
        assert_eq!(env(&ts, "LOG_LOCATION"), "/cache/logs");
        assert!(
            ts["command"]
                .as_array()
                .unwrap()
                .contains(&json!("--model-store=/mnt/models/store"))
        );

        let vllm =
            server("{runtime: vllm, image: srv, gpu: 2, model: {storage: hf://org/m}, mounts: {models: /weights}}");
        let args = vllm["command"].as_array().unwrap();
        assert_eq!(args[..3], [json!("vllm"), json!("serve"), json!("org/m")]);
        assert!(args.contains(&json!("--tensor-parallel-size=2")) && args.contains(&json!("--served-model-name=s")));
        assert_eq!(
            vllm["startupProbe"]["failureThreshold"], 180,
            "GPU servers get 30 minutes"
        );
        assert_eq!(env(&vllm, "HF_HOME"), "/cache/huggingface");
        // The spec's own values win over the runtime's.
        let own = server(
            "{runtime: vllm, image: srv, model: {storage: hf://org/m}, command: [x], env: {HOME: /h}, health: {path: /up}}",
        );
        assert_eq!(own["command"], json!(["x"]));
        assert_eq!(env(&own, "HOME"), "/h");
        assert_eq!(own["livenessProbe"]["httpGet"]["path"], "/up");
    }

    #[test]
    fn keda_scales_on_the_runtimes_queue_and_the_behaviour_is_written_in_full() {
        let o = objects(
            "{runtime: vllm, image: srv, model: {storage: hf://org/m}, autoscale: {min: 1, max: 6, cpu: 90, \
             prometheus: {server: \"http://prom:9090\", signal: queue, target: 2.5, activation: 1}, \
             scale_down: {window: 600, percent: 50}}}",
        );
        assert!(
            !o.contains_key("horizontalpodautoscaler-p-s.yaml"),
            "KEDA makes the HPA"
        );
        assert!(
            o["deployment-p-s.yaml"]["spec"]["replicas"].is_null(),
            "KEDA owns the count"
        );
        let so = &o["scaledobject-p-s.yaml"]["spec"];
        assert_eq!(
            so["scaleTargetRef"],
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "name": "p-s"})
        );
        assert_eq!((&so["minReplicaCount"], &so["maxReplicaCount"]), (&json!(1), &json!(6)));
        assert_eq!(
            (&so["pollingInterval"], &so["cooldownPeriod"]),
            (&json!(30), &json!(300))
        );
        let t = &so["triggers"][0];
        assert_eq!(t["metricType"], "AverageValue");
        assert_eq!(
            t["metadata"]["query"],
            "sum(vllm:num_requests_waiting{namespace=\"p\",pod=~\"p-s-[a-z0-9]+-[a-z0-9]+\"})"
        );
        assert_eq!(
            (&t["metadata"]["threshold"], &t["metadata"]["activationThreshold"]),
            (&json!("2.5"), &json!("1"))
        );
        assert_eq!(
            so["triggers"][1],
            json!({"type": "cpu", "metricType": "Utilization", "metadata": {"value": "90"}})
        );
        let b = &so["advanced"]["horizontalPodAutoscalerConfig"]["behavior"];
        assert_eq!(
            b["scaleDown"],
            json!({"policies": [{"periodSeconds": 60, "type": "Percent", "value": 50}], "selectPolicy": "Max", "stabilizationWindowSeconds": 600})
        );
        // The API server's default scale-up rules, written so that nothing drifts.
        assert_eq!(
            b["scaleUp"],
            json!({"policies": [{"periodSeconds": 15, "type": "Pods", "value": 4}, {"periodSeconds": 15, "type": "Percent", "value": 100}],
                   "selectPolicy": "Max", "stabilizationWindowSeconds": 0})
        );
        // Without Prometheus, the behaviour goes on the HPA.
        let o = objects("{image: srv, port: 8000, autoscale: {min: 2, max: 4, scale_up: {window: 30}}}");
        let hpa = &o["horizontalpodautoscaler-p-s.yaml"]["spec"]["behavior"];
        assert_eq!(hpa["scaleUp"]["stabilizationWindowSeconds"], 30);
        assert_eq!(hpa["scaleDown"]["stabilizationWindowSeconds"], 300);
        assert_eq!(
            hpa["scaleDown"]["policies"],
            json!([{"periodSeconds": 15, "type": "Percent", "value": 100}])
        );
    }
}
