//! Kubernetes objects for one environment.
//!
//! Takes: an [`EnvPlan`]. Gives: the environment's objects as typed k8s-openapi values
//! (custom resources as JSON), each turned into a `serde_json::Value` in Kubernetes' own
//! field order. Every pod gets the security baseline, resources, labels and, for services,
//! probes; pipeline steps become content-named Jobs or one CronJob per scheduled pipeline.

use crate::lower::{self, Compute, EnvPlan, RUN_AS};
use crate::names;
use crate::spec::{Engine, Step};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec, MetricTarget,
    ResourceMetricSource,
};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapEnvSource, Container, ContainerPort, EmptyDirVolumeSource, EnvFromSource, EnvVar,
    HTTPGetAction, Namespace, PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource,
    PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecretEnvSource,
    SecretVolumeSource, SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec, Toleration, Volume,
    VolumeMount, VolumeResourceRequirements,
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

/// One rendered object and the folder (relative to the environment) it belongs in.
#[derive(Debug, Clone)]
pub struct Object {
    /// "" for the environment's base, or `jobs/level-N` for a pipeline level.
    pub folder: String,
    pub value: Value,
    pub origin: Origin,
    /// The last patch (index in the spec's `patches`) that changed it.
    pub patched_by: Option<usize>,
}

/// Where an object came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Generated,
    /// From the spec's extra manifest file with this index.
    Extra(usize),
}

impl Object {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("Object")
    }
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("unnamed")
    }
    /// `<kind>-<name>.yaml`, lowercase kind.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind().to_ascii_lowercase(), self.name())
    }
}

fn to_value<T: serde::Serialize>(obj: &T) -> Value {
    serde_json::to_value(obj).expect("Kubernetes objects serialize")
}

struct Ctx<'a> {
    env: &'a EnvPlan,
    engine: Option<Engine>,
}

pub fn objects(env: &EnvPlan, engine: Option<Engine>) -> Vec<Object> {
    let cx = Ctx { env, engine };
    let s = &env.spec;
    let mut out = Vec::new();
    let mut push = |folder: &str, value: Value| {
        out.push(Object {
            folder: folder.to_string(),
            value,
            origin: Origin::Generated,
            patched_by: None,
        })
    };

    let mut ns_labels = cx.labels(None, None);
    ns_labels.insert("pod-security.kubernetes.io/enforce".into(), "restricted".into());
    push(
        "",
        to_value(&Namespace {
            metadata: ObjectMeta {
                name: Some(env.namespace.clone()),
                labels: Some(ns_labels),
                ..Default::default()
            },
            ..Default::default()
        }),
    );
    if let Some(name) = &env.config_map {
        push(
            "",
            to_value(&ConfigMap {
                metadata: cx.meta(name, None, Some("config")),
                data: Some(s.config.clone()),
                immutable: Some(true),
                ..Default::default()
            }),
        );
    }
    for (name, sec) in &env.secrets {
        push("", cx.secret(name, sec));
    }
    for (name, vol) in &s.volumes {
        let size = crate::units::Quantity::parse(&vol.size.text()).map_or_else(|_| vol.size.text(), |q| q.canonical());
        push(
            "",
            to_value(&PersistentVolumeClaim {
                metadata: cx.meta(&names::workload(&s.project, name), None, Some("storage")),
                spec: Some(PersistentVolumeClaimSpec {
                    access_modes: Some(vec![format!(
                        "{:?}",
                        vol.access.unwrap_or(crate::spec::AccessMode::ReadWriteOnce)
                    )]),
                    resources: Some(VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([("storage".to_string(), Quantity(size))])),
                        ..Default::default()
                    }),
                    storage_class_name: vol.storage_class.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        );
    }
    for name in s.services.keys() {
        for v in cx.service(name) {
            push("", v);
        }
    }
    for (pname, pipe) in &s.pipelines {
        push("", cx.service_account(pname, "pipeline"));
        push("", cx.network_policy(pname, "pipeline", None));
        if pipe.schedule.is_some() {
            push("", cx.cron_job(pname));
        }
    }
    for (depth, level) in env.levels.iter().enumerate() {
        for (pname, step) in level {
            let folder = match engine {
                Some(Engine::Flux) => format!("jobs/level-{depth}"),
                _ => String::new(),
            };
            push(&folder, cx.job(pname, step, depth));
        }
    }
    out
}

impl Ctx<'_> {
    fn project(&self) -> &str {
        &self.env.spec.project
    }

    /// Recommended labels. `workload` is the service or pipeline; `component` its role.
    fn labels(&self, workload: Option<&str>, component: Option<&str>) -> BTreeMap<String, String> {
        let mut l = BTreeMap::from([
            ("app.kubernetes.io/managed-by".to_string(), "mlship".to_string()),
            ("app.kubernetes.io/part-of".to_string(), self.project().to_string()),
            ("mlship.dev/environment".to_string(), self.env.name.clone()),
        ]);
        if let Some(w) = workload {
            l.insert("app.kubernetes.io/name".into(), w.to_string());
            l.insert("app.kubernetes.io/instance".into(), names::workload(self.project(), w));
        }
        if let Some(c) = component {
            l.insert("app.kubernetes.io/component".into(), c.to_string());
        }
        l
    }

    fn selector(&self, workload: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(
            "app.kubernetes.io/instance".to_string(),
            names::workload(self.project(), workload),
        )])
    }

    fn meta(&self, name: &str, workload: Option<&str>, component: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.env.namespace.clone()),
            labels: Some(self.labels(workload, component)),
            ..Default::default()
        }
    }

    fn secret(&self, name: &str, sec: &lower::SecretPlan) -> Value {
        let spec = &self.env.spec.secrets[name];
        match (&sec.manifest, sec.provider) {
            (Some(manifest), _) => manifest.clone(),
            (None, _) => {
                let data: Vec<Value> = spec
                    .keys
                    .iter()
                    .map(|(var, reference)| {
                        let (key, property) = reference
                            .split_once('#')
                            .map_or((reference.as_str(), None), |(k, p)| (k, Some(p)));
                        let mut remote = json!({ "key": key });
                        if let Some(p) = property {
                            remote["property"] = json!(p);
                        }
                        json!({ "secretKey": var, "remoteRef": remote })
                    })
                    .collect();
                let kind = format!(
                    "{:?}",
                    spec.store_kind.unwrap_or(crate::spec::StoreKind::ClusterSecretStore)
                );
                json!({
                    "apiVersion": "external-secrets.io/v1",
                    "kind": "ExternalSecret",
                    "metadata": to_value(&self.meta(&sec.secret_name, None, Some("secret"))),
                    "spec": {
                        "refreshInterval": "1h",
                        "secretStoreRef": { "name": spec.store.clone().unwrap_or_default(), "kind": kind },
                        "target": { "name": sec.secret_name, "creationPolicy": "Owner", "deletionPolicy": "Retain" },
                        "data": data
                    }
                })
            }
        }
    }

    fn service_account(&self, workload: &str, component: &str) -> Value {
        to_value(&ServiceAccount {
            metadata: self.meta(
                &names::workload(self.project(), workload),
                Some(workload),
                Some(component),
            ),
            automount_service_account_token: Some(false),
            ..Default::default()
        })
    }

    /// Only the service's own port may be reached; pipeline pods accept no traffic.
    fn network_policy(&self, workload: &str, component: &str, port: Option<u32>) -> Value {
        let ingress = port.map(|p| {
            vec![NetworkPolicyIngressRule {
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::Int(p as i32)),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }]
        });
        to_value(&NetworkPolicy {
            metadata: self.meta(
                &names::workload(self.project(), workload),
                Some(workload),
                Some(component),
            ),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(LabelSelector {
                    match_labels: Some(self.selector(workload)),
                    ..Default::default()
                }),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(ingress.unwrap_or_default()),
                ..Default::default()
            }),
        })
    }

    /// Environment for a workload: config and secrets as envFrom, extra vars as env.
    fn env_of(
        &self,
        extra: &BTreeMap<String, String>,
        secrets: &[String],
    ) -> (Option<Vec<EnvFromSource>>, Option<Vec<EnvVar>>) {
        let mut from = Vec::new();
        if let Some(cm) = &self.env.config_map {
            from.push(EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: cm.clone(),
                    optional: None,
                }),
                ..Default::default()
            });
        }
        for name in secrets {
            if self.env.spec.secrets[name].mount.is_none() {
                let secret = &self.env.secrets[name].secret_name;
                from.push(EnvFromSource {
                    secret_ref: Some(SecretEnvSource {
                        name: secret.clone(),
                        optional: None,
                    }),
                    ..Default::default()
                });
            }
        }
        let vars: Vec<EnvVar> = extra
            .iter()
            .map(|(k, v)| EnvVar {
                name: k.clone(),
                value: Some(v.clone()),
                ..Default::default()
            })
            .collect();
        ((!from.is_empty()).then_some(from), (!vars.is_empty()).then_some(vars))
    }

    /// Volumes and mounts: /tmp scratch, persistent volumes, secrets mounted as files.
    fn volumes_of(&self, mounts: &BTreeMap<String, String>, secrets: &[String]) -> (Vec<Volume>, Vec<VolumeMount>) {
        let mut vols = vec![Volume {
            name: "tmp".into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        }];
        let mut vms = vec![VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..Default::default()
        }];
        for (vol, path) in mounts {
            vols.push(Volume {
                name: format!("vol-{vol}"),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: names::workload(self.project(), vol),
                    read_only: None,
                }),
                ..Default::default()
            });
            vms.push(VolumeMount {
                name: format!("vol-{vol}"),
                mount_path: path.clone(),
                ..Default::default()
            });
        }
        for name in secrets {
            if let Some(path) = &self.env.spec.secrets[name].mount {
                vols.push(Volume {
                    name: format!("secret-{name}"),
                    secret: Some(SecretVolumeSource {
                        secret_name: Some(self.env.secrets[name].secret_name.clone()),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                vms.push(VolumeMount {
                    name: format!("secret-{name}"),
                    mount_path: path.clone(),
                    read_only: Some(true),
                    ..Default::default()
                });
            }
        }
        (vols, vms)
    }

    #[allow(clippy::too_many_arguments)]
    fn container(
        &self,
        name: &str,
        image: &str,
        command: &[String],
        c: &Compute,
        env: &BTreeMap<String, String>,
        secrets: &[String],
        mounts: Vec<VolumeMount>,
    ) -> Container {
        let mut requests = BTreeMap::from([
            ("cpu".to_string(), Quantity(c.cpu.clone())),
            ("memory".to_string(), Quantity(c.memory.clone())),
        ]);
        let mut limits = BTreeMap::from([
            ("cpu".to_string(), Quantity(c.cpu_limit.clone())),
            ("memory".to_string(), Quantity(c.memory.clone())),
        ]);
        if let Some(g) = c.gpu {
            requests.insert("nvidia.com/gpu".into(), Quantity(g.to_string()));
            limits.insert("nvidia.com/gpu".into(), Quantity(g.to_string()));
        }
        let (env_from, env) = self.env_of(env, secrets);
        Container {
            name: name.to_string(),
            image: Some(self.env.images[image].clone()),
            image_pull_policy: Some("Always".into()),
            command: (!command.is_empty()).then(|| command.to_vec()),
            env,
            env_from,
            resources: Some(ResourceRequirements {
                requests: Some(requests),
                limits: Some(limits),
                ..Default::default()
            }),
            security_context: Some(SecurityContext {
                allow_privilege_escalation: Some(false),
                capabilities: Some(Capabilities {
                    drop: Some(vec!["ALL".into()]),
                    ..Default::default()
                }),
                privileged: Some(false),
                read_only_root_filesystem: Some(true),
                run_as_non_root: Some(true),
                run_as_user: Some(RUN_AS),
                run_as_group: Some(RUN_AS),
                ..Default::default()
            }),
            volume_mounts: Some(mounts),
            ..Default::default()
        }
    }

    fn pod(
        &self,
        workload: &str,
        restart: Option<&str>,
        containers: Vec<Container>,
        init: Vec<Container>,
        volumes: Vec<Volume>,
        r: &crate::spec::Resources,
    ) -> PodSpec {
        let tolerations: Vec<Toleration> = r
            .tolerations
            .iter()
            .map(|t| Toleration {
                key: Some(t.key.clone()),
                operator: Some(format!(
                    "{:?}",
                    t.operator.unwrap_or(if t.value.is_some() {
                        crate::spec::TolerationOperator::Equal
                    } else {
                        crate::spec::TolerationOperator::Exists
                    })
                )),
                value: t.value.clone(),
                effect: t.effect.map(|e| format!("{e:?}")),
                ..Default::default()
            })
            .collect();
        PodSpec {
            service_account_name: Some(names::workload(self.project(), workload)),
            automount_service_account_token: Some(false),
            restart_policy: restart.map(str::to_string),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(RUN_AS),
                run_as_group: Some(RUN_AS),
                fs_group: Some(RUN_AS),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            containers,
            init_containers: (!init.is_empty()).then_some(init),
            volumes: Some(volumes),
            node_selector: (!r.node_selector.is_empty()).then(|| r.node_selector.clone()),
            tolerations: (!tolerations.is_empty()).then_some(tolerations),
            ..Default::default()
        }
    }

    fn service(&self, name: &str) -> Vec<Value> {
        let svc = &self.env.spec.services[name];
        let full = names::workload(self.project(), name);
        let c = lower::compute(&svc.resources, lower::SERVICE_CPU, lower::SERVICE_MEMORY);
        let (volumes, mounts) = self.volumes_of(&svc.mounts, &svc.secrets);
        let mut container = self.container("server", &svc.image, &svc.command, &c, &svc.env, &svc.secrets, mounts);
        container.ports = Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: svc.port as i32,
            protocol: Some("TCP".into()),
            ..Default::default()
        }]);
        let health = svc.health.as_ref();
        let live = health.and_then(|h| h.path.clone()).unwrap_or_else(|| "/healthz".into());
        let ready = health.and_then(|h| h.ready.clone()).unwrap_or_else(|| live.clone());
        let probe = |path: &str, delay: i32| Probe {
            http_get: Some(HTTPGetAction {
                path: Some(path.to_string()),
                port: IntOrString::String("http".into()),
                ..Default::default()
            }),
            initial_delay_seconds: Some(delay),
            period_seconds: Some(10),
            timeout_seconds: Some(2),
            failure_threshold: Some(3),
            ..Default::default()
        };
        let delay = health.and_then(|h| h.initial_delay).unwrap_or(10) as i32;
        container.liveness_probe = Some(probe(&live, delay));
        container.readiness_probe = Some(probe(&ready, 0));
        let mut template_meta = ObjectMeta {
            labels: Some(self.labels(Some(name), Some("serving"))),
            ..Default::default()
        };
        if let Some(cm) = &self.env.config_map {
            // The ConfigMap's name carries its hash; naming it here rolls the pods on change.
            template_meta.annotations = Some(BTreeMap::from([("mlship.dev/config".to_string(), cm.clone())]));
        }
        let replicas = if svc.autoscale.is_some() {
            None
        } else {
            Some(svc.replicas.unwrap_or(1) as i32)
        };
        let mut out = vec![self.service_account(name, "serving")];
        out.push(to_value(&Deployment {
            metadata: self.meta(&full, Some(name), Some("serving")),
            spec: Some(DeploymentSpec {
                replicas,
                revision_history_limit: Some(5),
                selector: LabelSelector {
                    match_labels: Some(self.selector(name)),
                    ..Default::default()
                },
                strategy: Some(DeploymentStrategy {
                    type_: Some("RollingUpdate".into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(IntOrString::String("25%".into())),
                        max_unavailable: Some(IntOrString::Int(0)),
                    }),
                }),
                template: PodTemplateSpec {
                    metadata: Some(template_meta),
                    spec: Some(self.pod(name, None, vec![container], vec![], volumes, &svc.resources)),
                },
                ..Default::default()
            }),
            ..Default::default()
        }));
        let service_port = svc.expose.as_ref().and_then(|e| e.port).unwrap_or(svc.port);
        out.push(to_value(&Service {
            metadata: self.meta(&full, Some(name), Some("serving")),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(self.selector(name)),
                ports: Some(vec![ServicePort {
                    name: Some("http".into()),
                    port: service_port as i32,
                    target_port: Some(IntOrString::String("http".into())),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }));
        if let Some(a) = &svc.autoscale {
            let metric = |name: &str, pct: u32| MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: name.into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(pct as i32),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            };
            let mut metrics = Vec::new();
            if a.cpu.is_some() || a.memory.is_none() {
                metrics.push(metric("cpu", a.cpu.unwrap_or(80)));
            }
            if let Some(m) = a.memory {
                metrics.push(metric("memory", m));
            }
            out.push(to_value(&HorizontalPodAutoscaler {
                metadata: self.meta(&full, Some(name), Some("serving")),
                spec: Some(HorizontalPodAutoscalerSpec {
                    scale_target_ref: CrossVersionObjectReference {
                        api_version: Some("apps/v1".into()),
                        kind: "Deployment".into(),
                        name: full.clone(),
                    },
                    min_replicas: Some(a.min as i32),
                    max_replicas: a.max as i32,
                    metrics: Some(metrics),
                    ..Default::default()
                }),
                ..Default::default()
            }));
        }
        let min_pods = svc.autoscale.as_ref().map_or(svc.replicas.unwrap_or(1), |a| a.min);
        if min_pods > 1 {
            out.push(to_value(&PodDisruptionBudget {
                metadata: self.meta(&full, Some(name), Some("serving")),
                spec: Some(PodDisruptionBudgetSpec {
                    max_unavailable: Some(IntOrString::Int(1)),
                    selector: Some(LabelSelector {
                        match_labels: Some(self.selector(name)),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }));
        }
        out.push(self.network_policy(name, "serving", Some(svc.port)));
        if let Some(host) = svc.expose.as_ref().and_then(|e| e.host.clone()) {
            let e = svc.expose.as_ref().expect("host implies expose");
            out.push(to_value(&Ingress {
                metadata: self.meta(&full, Some(name), Some("serving")),
                spec: Some(IngressSpec {
                    ingress_class_name: e.ingress_class.clone(),
                    rules: Some(vec![IngressRule {
                        host: Some(host.clone()),
                        http: Some(HTTPIngressRuleValue {
                            paths: vec![HTTPIngressPath {
                                path: Some(e.path.clone().unwrap_or_else(|| "/".into())),
                                path_type: "Prefix".into(),
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
                            }],
                        }),
                    }]),
                    tls: e.tls_secret.as_ref().map(|t| {
                        vec![IngressTLS {
                            hosts: Some(vec![host.clone()]),
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

    fn step_container(&self, pipeline: &str, name: &str, step: &Step) -> (Container, Vec<Volume>) {
        let c = lower::compute(&step.resources, lower::STEP_CPU, lower::STEP_MEMORY);
        let (volumes, mounts) = self.volumes_of(&step.mounts, &step.secrets);
        let mut env = step.env.clone();
        env.entry("MLSHIP_PIPELINE".into())
            .or_insert_with(|| pipeline.to_string());
        env.entry("MLSHIP_STEP".into()).or_insert_with(|| name.to_string());
        (
            self.container(name, &step.image, &step.run, &c, &env, &step.secrets, mounts),
            volumes,
        )
    }

    fn job_template(&self, pipeline: &str, steps: &[(&str, &Step)], timeout: Option<u64>, retries: u32) -> JobSpec {
        let mut containers = Vec::new();
        let mut volumes: Vec<Volume> = Vec::new();
        let mut merged = crate::spec::Resources::default();
        for (name, step) in steps {
            let (c, v) = self.step_container(pipeline, name, step);
            containers.push(c);
            for vol in v {
                if !volumes.iter().any(|x| x.name == vol.name) {
                    volumes.push(vol);
                }
            }
            merged.node_selector.extend(step.resources.node_selector.clone());
            for t in &step.resources.tolerations {
                if !merged.tolerations.contains(t) {
                    merged.tolerations.push(t.clone());
                }
            }
        }
        let main = containers.pop().expect("a job has at least one step");
        JobSpec {
            backoff_limit: Some(retries as i32),
            active_deadline_seconds: timeout.map(|t| t as i64),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(self.labels(Some(pipeline), Some("pipeline"))),
                    ..Default::default()
                }),
                spec: Some(self.pod(pipeline, Some("Never"), vec![main], containers, volumes, &merged)),
            },
            ..Default::default()
        }
    }

    /// A Job named by a hash of its content: a changed step is a new Job.
    fn job(&self, pipeline: &str, step_name: &str, depth: usize) -> Value {
        let step = &self.env.spec.pipelines[pipeline].steps[step_name];
        let timeout = step
            .timeout
            .as_deref()
            .and_then(|t| crate::units::parse_duration(t).ok());
        let spec = self.job_template(pipeline, &[(step_name, step)], timeout, step.retries.unwrap_or(0));
        let hash = names::short_hash(&serde_json::to_vec(&spec).expect("job serializes"));
        let name = names::job(self.project(), pipeline, step_name, &hash);
        let mut meta = self.meta(&name, Some(pipeline), Some("pipeline"));
        meta.labels
            .get_or_insert_default()
            .insert("mlship.dev/step".into(), step_name.to_string());
        let mut annotations = BTreeMap::from([("mlship.dev/needs".to_string(), step.needs.join(","))]);
        if self.engine != Some(Engine::Flux) {
            // Argo CD applies wave N only once every object of earlier waves is healthy,
            // and a Job is healthy when it has completed.
            annotations.insert("argocd.argoproj.io/sync-wave".into(), (depth + 1).to_string());
        }
        annotations.retain(|_, v| !v.is_empty());
        meta.annotations = Some(annotations);
        to_value(&Job {
            metadata: meta,
            spec: Some(spec),
            ..Default::default()
        })
    }

    /// A scheduled pipeline: one pod, earlier steps as init containers in dependency order,
    /// the last step as the main container.
    fn cron_job(&self, pipeline: &str) -> Value {
        let pipe = &self.env.spec.pipelines[pipeline];
        let order = lower::depths(&pipe.steps);
        let steps: Vec<(&str, &Step)> = order.iter().map(|(n, _)| (n.as_str(), &pipe.steps[n])).collect();
        let timeout: Option<u64> = steps
            .iter()
            .map(|(_, s)| s.timeout.as_deref().and_then(|t| crate::units::parse_duration(t).ok()))
            .sum();
        let retries = steps.iter().filter_map(|(_, s)| s.retries).max().unwrap_or(0);
        let job = self.job_template(pipeline, &steps, timeout, retries);
        to_value(&CronJob {
            metadata: self.meta(
                &names::cronjob(self.project(), pipeline),
                Some(pipeline),
                Some("pipeline"),
            ),
            spec: Some(CronJobSpec {
                schedule: pipe.schedule.clone().unwrap_or_default(),
                concurrency_policy: Some("Forbid".into()),
                successful_jobs_history_limit: Some(3),
                failed_jobs_history_limit: Some(3),
                job_template: JobTemplateSpec {
                    metadata: None,
                    spec: Some(job),
                },
                ..Default::default()
            }),
            ..Default::default()
        })
    }
}
