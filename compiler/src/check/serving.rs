//! Rules for model serving: what each serving runtime and KServe can serve, where the model
//! may come from, and what each autoscaler can scale on (docs/serving.md).

use super::Checker;
use crate::diag::Code;
use crate::schema_common::closest;
use crate::source::Path;
use crate::spec::{KserveMode, Service, ServingRuntime, Spec};
use crate::spec::{Storage, kserve_version, signal_query, storage};

/// KServe's model formats (its `SupportedModel*` constants, and vLLM's runtime).
pub const KSERVE_FORMATS: &[&str] = &[
    "huggingface",
    "lightgbm",
    "mlflow",
    "onnx",
    "paddle",
    "pmml",
    "pytorch",
    "sklearn",
    "tensorflow",
    "triton",
    "vllm",
    "xgboost",
];
/// The storage URI prefixes KServe's storage initializer reads, beside `pvc://`.
const REMOTE_PREFIXES: &[&str] = &[
    "gs://",
    "s3://",
    "hf://",
    "http://",
    "https://",
    "oci://",
    "hdfs://",
    "webhdfs://",
];

impl Checker<'_> {
    pub(super) fn model_serving(&mut self, s: &Spec, at: &Path, svc: &Service) {
        let runtime = svc.runtime();
        let kserve = runtime == ServingRuntime::Kserve;
        if svc.image.is_none() && !kserve {
            self.err(
                Code::MissingKey,
                at.clone(),
                "the service has no `image`".into(),
                "name an image from `images` (a prebuilt one for a serving runtime, such as vllm/vllm-openai)",
            );
        }
        if svc.port.is_none() && runtime == ServingRuntime::Deployment {
            self.err(
                Code::MissingKey,
                at.clone(),
                "the service has no `port`".into(),
                "give the port the server listens on, such as port: 8000, or choose a serving `runtime`",
            );
        }
        let mat = at.key("model");
        match (&svc.model, runtime) {
            (Some(_), ServingRuntime::Deployment) => self.err(
                Code::Conflict,
                mat.clone(),
                "`model` is read by a serving runtime, and the service has none".into(),
                "set `runtime: vllm`, `triton`, `tfserving`, `torchserve` or `kserve`, or remove `model`",
            ),
            (None, ServingRuntime::Deployment) => {}
            (None, ServingRuntime::Kserve) if svc.image.is_none() => self.err(
                Code::MissingKey,
                at.clone(),
                "a KServe service serves a `model` or its own `image`".into(),
                "add `model: {format: sklearn, storage: gs://...}`, or `image:` for a custom predictor container",
            ),
            (None, ServingRuntime::Kserve) => {}
            (None, _) => self.err(
                Code::MissingKey,
                at.clone(),
                format!("a {} service needs the `model` to serve", runtime.name()),
                "add `model: {storage: pvc://<volume>/<path>}` (vllm also takes hf://<org>/<model>)",
            ),
            (Some(m), _) => {
                if let Some(cache) = &m.cache {
                    if !s.volumes.contains_key(cache) {
                        self.unresolved(mat.key("cache"), "volume", cache, s.volumes.keys());
                    }
                    if kserve {
                        self.err(
                            Code::Serving,
                            mat.key("cache"),
                            "KServe keeps its own model cache".into(),
                            "remove `cache`; KServe's LocalModelCache is set up by the cluster admin",
                        );
                    }
                }
                if let Some(storage) = &m.storage {
                    self.model_storage(s, &mat.key("storage"), storage, runtime);
                }
            }
        }
        if kserve {
            self.kserve(s, at, svc);
        } else if let Some(m) = &svc.model {
            for (key, set) in [
                ("format", m.format.is_some()),
                ("format_version", m.format_version.is_some()),
                ("protocol", m.protocol.is_some()),
                ("serving_runtime", m.serving_runtime.is_some()),
                ("canary", m.canary.is_some()),
            ] {
                if set && runtime != ServingRuntime::Deployment {
                    self.err(
                        Code::Conflict,
                        mat.key(key),
                        format!("`{key}` is for KServe; the {} runtime does not read it", runtime.name()),
                        "remove it, or serve the model with `runtime: kserve`",
                    );
                }
            }
            if runtime != ServingRuntime::Deployment && m.storage.is_none() {
                self.err(
                    Code::MissingKey,
                    mat.clone(),
                    "the model has no `storage`".into(),
                    "say where it is: pvc://<volume>/<path>, an absolute path in the image, or hf://<org>/<model> for vllm",
                );
            }
        }
        if let Some(a) = &svc.autoscale {
            self.serving_autoscale(at, svc, a, kserve);
        }
    }

    fn model_storage(&mut self, s: &Spec, at: &Path, uri: &str, runtime: ServingRuntime) {
        match storage(uri) {
            Storage::Volume(vol, _) => match s.volumes.get(vol) {
                None => self.unresolved(at.clone(), "volume", vol, s.volumes.keys()),
                Some(v) if v.per_pod || v.csi.is_some() => self.err(
                    Code::Serving,
                    at.clone(),
                    format!("volume `{vol}` is not a claim the pods can share"),
                    "keep the model on a shared claim (a `size`, or an existing `claim`), not `per_pod` or `csi`",
                ),
                Some(_) => {}
            },
            Storage::Hub(_) if runtime == ServingRuntime::Vllm || runtime == ServingRuntime::Kserve => {}
            Storage::Path(_) if runtime != ServingRuntime::Kserve => {}
            Storage::Remote if runtime == ServingRuntime::Kserve && REMOTE_PREFIXES.iter().any(|p| uri.starts_with(p)) => {}
            Storage::Remote if runtime == ServingRuntime::Kserve => self.err(
                Code::Serving,
                at.clone(),
                format!("KServe cannot read `{uri}`"),
                "use pvc://<volume>/<path>, gs://, s3://, hf://, https:// or oci://",
            ),
            Storage::Path(_) => self.err(
                Code::Serving,
                at.clone(),
                "KServe reads the model from a URI, not a path in the image".into(),
                "use pvc://<volume>/<path>, gs://, s3://, hf:// or oci://; or serve the project image with `image:`",
            ),
            _ => self.err(
                Code::Serving,
                at.clone(),
                format!("the {} runtime cannot read `{uri}`", runtime.name()),
                "put the model on a volume (pvc://<volume>/<path>), downloaded by an init container, or serve it with `runtime: kserve`, whose storage initializer reads s3, gs and hf",
            ),
        }
    }

    fn kserve(&mut self, s: &Spec, at: &Path, svc: &Service) {
        let Some(k) = &s.kserve else {
            self.err(
                Code::MissingKey,
                at.key("runtime"),
                "KServe's version is not given".into(),
                "add `kserve: {version: \"0.16\"}` at the top of the spec: the version decides how the deployment mode is written",
            );
            return;
        };
        if kserve_version(&k.version).is_none_or(|(major, minor)| major == 0 && minor < 11) {
            self.err(
                Code::BadValue,
                Path::of(&["kserve", "version"]),
                format!("`{}` is not a KServe version mlship supports", k.version),
                "give the cluster's KServe release, 0.11 or later, such as \"0.15\" or \"0.16\"",
            );
        }
        let knative = k.mode == Some(KserveMode::Knative);
        let mat = at.key("model");
        if let Some(m) = &svc.model {
            if svc.image.is_some() {
                self.err(
                    Code::Conflict,
                    mat.clone(),
                    "a KServe service serves either a `model` with a ServingRuntime or its own `image`".into(),
                    "remove `image` to serve the model with KServe's runtime, or `model` to run the image",
                );
            }
            match m.format.as_deref() {
                None => self.err(
                    Code::MissingKey,
                    mat.clone(),
                    "the model has no `format`".into(),
                    format!("name KServe's model format, one of {}", KSERVE_FORMATS.join(", ")),
                ),
                Some(f) if !KSERVE_FORMATS.contains(&f) => {
                    let help = match closest(f, KSERVE_FORMATS.iter().copied()) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => format!("KServe's formats: {}", KSERVE_FORMATS.join(", ")),
                    };
                    self.err(
                        Code::Serving,
                        mat.key("format"),
                        format!("KServe has no model format `{f}`"),
                        help,
                    );
                }
                Some(_) => {}
            }
            // A canary without one is told below that it has no previous model.
            if m.storage.is_none() && m.canary.is_none() {
                self.err(
                    Code::MissingKey,
                    mat.clone(),
                    "the model has no `storage`".into(),
                    "say where KServe reads it: pvc://<volume>/<path>, gs://, s3://, hf:// or oci://",
                );
            }
            let remote = |u: &str| !matches!(storage(u), Storage::Volume(..));
            let storages = m.storage.iter().chain(m.canary.iter().map(|c| &c.storage));
            if let Some(u) = storages.filter(|_| !k.restricted_initializer).find(|u| remote(u)) {
                self.warn(
                    Code::Serving,
                    mat.key("storage"),
                    format!("KServe downloads `{u}` with its storage-initializer, which Pod Security `restricted` rejects"),
                    "mlship's namespaces enforce `restricted`; the cluster admin sets the ClusterStorageContainer's securityContext (runAsNonRoot, allowPrivilegeEscalation: false, capabilities drop ALL, seccompProfile RuntimeDefault), then sets `kserve.restricted_initializer: true`; or serve from pvc:// (docs/serving.md, \"Pod Security\")",
                );
            }
            if let Some(c) = &m.canary {
                let cat = mat.key("canary");
                if !knative {
                    self.err(
                        Code::Serving,
                        cat.clone(),
                        "KServe splits traffic between model versions only in Knative mode".into(),
                        "set `kserve: {mode: knative}`, or roll the new model out by changing `storage`",
                    );
                }
                if m.storage.is_none() || m.storage.as_deref() == Some(c.storage.as_str()) {
                    self.err(
                        Code::Serving,
                        cat.key("storage"),
                        "the canary has no previous model to share the traffic with".into(),
                        "keep the model in service in `model.storage` and give the new one in `canary.storage`",
                    );
                }
                if c.percent > 100 {
                    self.err(
                        Code::Range,
                        cat.key("percent"),
                        format!("{}% of the traffic is more than all of it", c.percent),
                        "use 0 to 100: 0 rolls back, and promoting is setting `storage` to the new model",
                    );
                }
                self.model_storage(s, &cat.key("storage"), &c.storage, ServingRuntime::Kserve);
            }
        }
        for (key, set, help) in [
            (
                "ports",
                !svc.ports.is_empty(),
                "KServe's predictor serves one port; remove `ports`",
            ),
            (
                "rollout",
                svc.rollout.is_some(),
                "KServe rolls the predictor out; remove `rollout`",
            ),
            (
                "expose",
                svc.expose.is_some(),
                "KServe routes to the predictor itself (its ingress or Gateway settings); remove `expose`",
            ),
        ] {
            if set {
                self.err(
                    Code::Serving,
                    at.key(key),
                    format!("`{key}` is not available on KServe"),
                    help,
                );
            }
        }
        if let Some(a) = &svc.autoscale {
            let aat = at.key("autoscale");
            if a.min == 0 && !knative {
                self.err(
                    Code::Autoscale,
                    aat.key("min"),
                    "KServe scales to zero only in Knative mode".into(),
                    "set `kserve: {mode: knative}`, or `min: 1`",
                );
            }
            if a.cpu.is_some() && a.memory.is_some() {
                self.err(
                    Code::Autoscale,
                    aat.clone(),
                    "KServe scales on one metric".into(),
                    "keep `cpu` or `memory`",
                );
            }
            for (key, set) in [
                ("prometheus", a.prometheus.is_some()),
                ("wake", a.wake.is_some()),
                ("scale_up", a.scale_up.is_some()),
                ("scale_down", a.scale_down.is_some()),
            ] {
                if set {
                    self.err(
                        Code::Autoscale,
                        aat.key(key),
                        format!("`{key}` is not available on KServe's predictor"),
                        "KServe scales on `cpu` or `memory` (Knative also on concurrency); serve with a runtime on a Deployment to scale with KEDA",
                    );
                }
            }
        }
    }

    fn serving_autoscale(&mut self, at: &Path, svc: &Service, a: &crate::spec::Autoscale, kserve: bool) {
        let aat = at.key("autoscale");
        for (key, p) in [("prometheus", &a.prometheus), ("wake", &a.wake)] {
            let Some(p) = p else { continue };
            let pat = aat.key(key);
            if p.server.is_none() {
                self.err(
                    Code::MissingKey,
                    pat.clone(),
                    "the Prometheus query has no server address".into(),
                    "add `server:`, such as server: http://prometheus-operated.monitoring.svc:9090",
                );
            }
            match (&p.signal, &p.query) {
                (Some(_), Some(_)) => self.err(
                    Code::Conflict,
                    pat.key("query"),
                    "both `signal` and `query` are given".into(),
                    "keep one: `signal` lets mlship write the query for the runtime",
                ),
                (None, None) => self.err(
                    Code::MissingKey,
                    pat.clone(),
                    "no `signal` or `query` to scale on".into(),
                    "add `signal: queue` (requests waiting), `requests` or `gpu`, or your own `query:`",
                ),
                (Some(sig), None) => {
                    let rt = svc.runtime();
                    if signal_query(rt, *sig, "n", "s").is_none() {
                        self.err(
                            Code::Serving,
                            pat.key("signal"),
                            format!("mlship knows no `{sig:?}` metric of the {} runtime", rt.name()).to_lowercase(),
                            "write the PromQL yourself in `query`, summed over the service's pods",
                        );
                    }
                    if *sig == crate::spec::Signal::Gpu && svc.resources.gpu.is_none_or(|g| g == 0) {
                        self.err(
                            Code::Serving,
                            pat.key("signal"),
                            "the service has no GPU to measure".into(),
                            "ask for one with `gpu:`, or scale on `queue` or `requests`",
                        );
                    }
                }
                (None, Some(_)) => {}
            }
            if !(p.target > 0.0 && p.target.is_finite()) {
                self.err(
                    Code::Autoscale,
                    pat.key("target"),
                    "the target must be above 0".into(),
                    "give the value per pod to keep, such as 5 waiting requests",
                );
            }
            if p.activation.is_some_and(|v| !(v >= 0.0 && v.is_finite())) {
                self.err(
                    Code::Autoscale,
                    pat.key("activation"),
                    "the activation threshold must be 0 or more".into(),
                    "give the value above which a service at zero wakes up, such as 0",
                );
            }
        }
        if a.wake.is_some() && a.prometheus.is_none() {
            self.err(
                Code::Autoscale,
                aat.key("wake"),
                "`wake` needs a `prometheus` signal to scale on".into(),
                "add `prometheus: {signal: queue, target: 5, server: ...}`",
            );
        }
        if a.min == 0 && !kserve {
            match &a.prometheus {
                None => self.err(
                    Code::Autoscale,
                    aat.key("min"),
                    "only KEDA scales a Deployment to zero".into(),
                    "scale on a Prometheus signal (`prometheus:`) with a `wake` query, or use 1 or more; to run no pods in an environment, remove the service there with `services: {name: null}`",
                ),
                Some(p) if p.query.is_none() && a.wake.is_none() => self.err(
                    Code::Autoscale,
                    aat.key("min"),
                    "at zero pods the runtime's own metrics are gone, and nothing would wake the service".into(),
                    "add `wake: {query: ..., target: ..., server: ...}` on a metric that outlives the pods, such as the ingress controller's request rate",
                ),
                Some(_) => {}
            }
        }
        for key in ["scale_up", "scale_down"] {
            let r = if key == "scale_up" { &a.scale_up } else { &a.scale_down };
            let Some(r) = r else { continue };
            let rat = aat.key(key);
            if r.window.is_some_and(|w| w > 3600) {
                self.err(
                    Code::Autoscale,
                    rat.key("window"),
                    "the stabilisation window is at most 3600 seconds".into(),
                    "use 0 to 3600",
                );
            }
            if r.period.is_some_and(|p| !(1..=1800).contains(&p)) {
                self.err(
                    Code::Autoscale,
                    rat.key("period"),
                    "a policy's period is 1 to 1800 seconds".into(),
                    "use 1 to 1800, such as 60",
                );
            }
            if r.period.is_some() && r.pods.is_none() && r.percent.is_none() {
                self.err(
                    Code::Autoscale,
                    rat.key("period"),
                    "`period` without `pods` or `percent` limits nothing".into(),
                    "add `pods:` or `percent:` per period, or remove `period`",
                );
            }
            for (k, v) in [("pods", r.pods), ("percent", r.percent)] {
                if v == Some(0) {
                    self.err(
                        Code::Autoscale,
                        rat.key(k),
                        format!("`{k}: 0` allows no change at all"),
                        "use 1 or more; to stop scaling in this direction, set `window` to 3600",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::{Code, Severity};

    /// (code, path, severity) of each diagnostic of a spec with `body` after the images.
    fn check(body: &str) -> Vec<(Code, String, Severity)> {
        let yaml = format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: fastapi}}\n  \
             vllm: {{prebuilt: \"vllm/vllm-openai:v0.8.5\"}}\nvolumes:\n  models: {{size: 10Gi}}\n  \
             scratch: {{size: 10Gi, per_pod: true}}\n{body}"
        );
        let (_, _, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        diags
            .iter()
            .map(|d| {
                (
                    d.code,
                    d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                    d.severity,
                )
            })
            .collect()
    }

    fn at(found: &[(Code, String, Severity)]) -> Vec<&str> {
        found.iter().map(|(_, p, _)| p.as_str()).collect()
    }

    const KSERVE: &str = "kserve: {version: \"0.16\", mode: knative, restricted_initializer: true}\n";

    #[test]
    fn a_runtime_serves_a_model_it_can_read() {
        assert!(check("services:\n  llm: {runtime: vllm, image: vllm, model: {storage: hf://org/m}}\n").is_empty());
        assert!(
            check("services:\n  t: {runtime: triton, image: vllm, model: {storage: pvc://models/repo}}\n").is_empty()
        );
        for (svc, want) in [
            ("{runtime: vllm, image: vllm}", "services.s"),
            (
                "{runtime: triton, image: vllm, model: {storage: hf://org/m}}",
                "services.s.model.storage",
            ),
            (
                "{runtime: tfserving, image: vllm, model: {storage: s3://b/m}}",
                "services.s.model.storage",
            ),
            (
                "{runtime: vllm, image: vllm, model: {storage: pvc://nope/m}}",
                "services.s.model.storage",
            ),
            (
                "{runtime: vllm, image: vllm, model: {storage: pvc://scratch/m}}",
                "services.s.model.storage",
            ),
            (
                "{runtime: vllm, image: vllm, model: {storage: /m, format: sklearn}}",
                "services.s.model.format",
            ),
            (
                "{runtime: vllm, image: vllm, model: {storage: /m, cache: nope}}",
                "services.s.model.cache",
            ),
            ("{runtime: vllm, model: {storage: /m}}", "services.s"),
            ("{image: app}", "services.s"),
            ("{image: app, port: 8080, model: {storage: /m}}", "services.s.model"),
        ] {
            let found = check(&format!("services:\n  s: {svc}\n"));
            assert!(at(&found).contains(&want), "{svc}: {found:?}");
        }
    }

    #[test]
    fn kserve_needs_its_version_a_known_format_and_a_previous_model_for_a_canary() {
        let model = "{runtime: kserve, model: {format: sklearn, storage: pvc://models/m}}";
        assert!(check(&format!("{KSERVE}services:\n  m: {model}\n")).is_empty());
        let found = check(&format!("services:\n  m: {model}\n"));
        assert_eq!(at(&found), ["services.m.runtime"], "{found:?}");
        let found = check(&format!("kserve: {{version: \"0.9\"}}\nservices:\n  m: {model}\n"));
        assert_eq!(at(&found), ["kserve.version"], "{found:?}");
        for (svc, want) in [
            (
                "{runtime: kserve, model: {format: sklarn, storage: gs://b/m}}",
                "services.m.model.format",
            ),
            ("{runtime: kserve, model: {storage: gs://b/m}}", "services.m.model"),
            (
                "{runtime: kserve, model: {format: onnx, storage: pvc://missing/m}}",
                "services.m.model.storage",
            ),
            (
                "{runtime: kserve, model: {format: onnx, storage: ftp://x/m}}",
                "services.m.model.storage",
            ),
            (
                "{runtime: kserve, model: {format: onnx, storage: /m}}",
                "services.m.model.storage",
            ),
            (
                "{runtime: kserve, image: app, model: {format: onnx, storage: gs://b/m}}",
                "services.m.model",
            ),
            ("{runtime: kserve}", "services.m"),
            (
                "{runtime: kserve, model: {format: onnx, canary: {storage: gs://b/2, percent: 10}}}",
                "services.m.model.canary.storage",
            ),
            (
                "{runtime: kserve, model: {format: onnx, storage: gs://b/1, canary: {storage: gs://b/1, percent: 10}}}",
                "services.m.model.canary.storage",
            ),
            (
                "{runtime: kserve, model: {format: onnx, storage: gs://b/1, canary: {storage: gs://b/2, percent: 101}}}",
                "services.m.model.canary.percent",
            ),
            ("{runtime: kserve, image: app, ports: {grpc: 9000}}", "services.m.ports"),
            (
                "{runtime: kserve, image: app, expose: {host: m.example.com}}",
                "services.m.expose",
            ),
            (
                "{runtime: kserve, image: app, autoscale: {min: 1, max: 2, scale_down: {window: 60}}}",
                "services.m.autoscale.scale_down",
            ),
            (
                "{runtime: kserve, image: app, autoscale: {min: 1, max: 2, cpu: 50, memory: 50}}",
                "services.m.autoscale",
            ),
        ] {
            let found = check(&format!("{KSERVE}services:\n  m: {svc}\n"));
            assert!(at(&found).contains(&want), "{svc}: {found:?}");
        }
        // A canary, and scale to zero, only in Knative mode.
        let standard = "kserve: {version: \"0.16\", restricted_initializer: true}\n";
        let canary = "{runtime: kserve, model: {format: onnx, storage: gs://b/1, canary: {storage: gs://b/2, percent: 10}}, autoscale: {min: 0, max: 2}}";
        let found = check(&format!("{standard}services:\n  m: {canary}\n"));
        assert_eq!(
            at(&found),
            ["services.m.model.canary", "services.m.autoscale.min"],
            "{found:?}"
        );
    }

    #[test]
    fn the_storage_initializer_warning_names_the_cluster_fix_and_can_be_acknowledged() {
        let svc = "services:\n  m: {runtime: kserve, model: {format: sklearn, storage: s3://b/m}}\n";
        let found = check(&format!("kserve: {{version: \"0.15\"}}\n{svc}"));
        assert_eq!(
            found,
            [(Code::Serving, "services.m.model.storage".into(), Severity::Warning)]
        );
        assert!(check(&format!("{KSERVE}{svc}")).is_empty());
        // A volume needs no initializer.
        let pvc = "services:\n  m: {runtime: kserve, model: {format: sklearn, storage: pvc://models/m}}\n";
        assert!(check(&format!("kserve: {{version: \"0.15\"}}\n{pvc}")).is_empty());
    }

    #[test]
    fn keda_needs_a_server_a_signal_the_runtime_has_and_a_wake_query_at_zero() {
        let llm = "runtime: vllm, image: vllm, gpu: 1, model: {storage: hf://org/m}";
        let prom = "server: http://prom:9090";
        let ok = format!(
            "services:\n  s: {{{llm}, autoscale: {{min: 1, max: 4, prometheus: {{{prom}, signal: queue, target: 5}}}}}}\n"
        );
        assert!(check(&ok).is_empty(), "{:?}", check(&ok));
        for (autoscale, want) in [
            (
                "{min: 1, max: 4, prometheus: {signal: queue, target: 5}}",
                "services.s.autoscale.prometheus",
            ),
            (
                "{min: 1, max: 4, prometheus: {server: x, target: 5}}",
                "services.s.autoscale.prometheus",
            ),
            (
                "{min: 1, max: 4, prometheus: {server: x, signal: queue, query: q, target: 5}}",
                "services.s.autoscale.prometheus.query",
            ),
            (
                "{min: 1, max: 4, prometheus: {server: x, signal: queue, target: 0}}",
                "services.s.autoscale.prometheus.target",
            ),
            (
                "{min: 1, max: 4, prometheus: {server: x, signal: queue, target: 1, activation: -1}}",
                "services.s.autoscale.prometheus.activation",
            ),
            (
                "{min: 0, max: 4, prometheus: {server: x, signal: queue, target: 5}}",
                "services.s.autoscale.min",
            ),
            ("{min: 0, max: 4}", "services.s.autoscale.min"),
            (
                "{min: 1, max: 4, wake: {server: x, query: q, target: 1}}",
                "services.s.autoscale.wake",
            ),
            (
                "{min: 1, max: 4, scale_down: {period: 60}}",
                "services.s.autoscale.scale_down.period",
            ),
            (
                "{min: 1, max: 4, scale_down: {window: 4000}}",
                "services.s.autoscale.scale_down.window",
            ),
            (
                "{min: 1, max: 4, scale_up: {pods: 0}}",
                "services.s.autoscale.scale_up.pods",
            ),
        ] {
            let found = check(&format!("services:\n  s: {{{llm}, autoscale: {autoscale}}}\n"));
            assert!(at(&found).contains(&want), "{autoscale}: {found:?}");
        }
        let wake = format!(
            "{{min: 0, max: 4, prometheus: {{{prom}, signal: queue, target: 5}}, wake: {{{prom}, query: q, target: 1}}}}"
        );
        assert!(check(&format!("services:\n  s: {{{llm}, autoscale: {wake}}}\n")).is_empty());
        // TFServing has no queue metric mlship knows; a CPU service has no GPU to measure.
        let tf = "runtime: tfserving, image: vllm, model: {storage: /m}";
        for signal in ["queue", "gpu"] {
            let a = format!("{{min: 1, max: 4, prometheus: {{{prom}, signal: {signal}, target: 5}}}}");
            let found = check(&format!("services:\n  s: {{{tf}, autoscale: {a}}}\n"));
            assert_eq!(
                at(&found),
                ["services.s.autoscale.prometheus.signal"],
                "{signal}: {found:?}"
            );
        }
    }
}
