//! The lowered plan: what every target renders, with every decision already made.
//!
//! Takes nothing: these are the types [`crate::lower`] fills and [`crate::emit`] reads. Every
//! default is applied, every name derived and every number already in the type the
//! Kubernetes field takes (an `i32` that fits), so an emitter only copies values into
//! objects: it reads no spec, applies no default and casts nothing.

use crate::spec::{Engine, Patch, Waiver};
use std::collections::BTreeMap;

/// The UID and GID every container runs as; the Dockerfiles create this user.
pub const RUN_AS: i64 = 10001;
pub use crate::spec::{NOTEBOOK_GID, NOTEBOOK_HOME, NOTEBOOK_PORT, NOTEBOOK_UID};
/// The annotation that puts an object's pods under a security profile other than the
/// baseline (`notebook`, docs/security.md); only objects mlship renders for a notebook may
/// carry it to effect.
pub const PROFILE_ANNOTATION: &str = "mlship.dev/security-profile";

#[derive(Debug, Clone)]
pub struct Plan {
    pub project: String,
    pub kubernetes: String,
    pub gitops: Option<GitopsPlan>,
    pub images: Vec<ImagePlan>,
    pub envs: Vec<EnvPlan>,
    /// Objects from the spec's extra manifest files, already validated.
    pub manifests: Vec<ExtraObject>,
    /// The kinds of the spec's CRD files (`crds:`), for the extra objects' scope and the
    /// validation of patched ones.
    pub crds: std::sync::Arc<crate::validate::UserCrds>,
    pub patches: Vec<Patch>,
    pub waivers: Vec<Waiver>,
    /// What lowering noticed but did not refuse, such as a framework version outside the
    /// matrix.
    pub warnings: Vec<crate::diag::Diagnostic>,
}

/// How the GitOps engine applies the tree, defaults applied.
#[derive(Debug, Clone)]
pub struct GitopsPlan {
    pub engine: Engine,
    pub repo: String,
    /// The output folder in the repository, without leading or trailing `/`.
    pub root: String,
    pub revision: String,
    /// The engine's own namespace (`argocd`, `flux-system`).
    pub namespace: String,
    /// How often Flux fetches the repository, and reconciles a Kustomization.
    pub fetch_interval: String,
    pub sync_interval: String,
    /// How long Flux waits for the environment's objects to become ready.
    pub ready_timeout: String,
    /// Argo CD's sync retries: attempts, first backoff, factor, longest backoff.
    pub retry: (u32, String, u32, String),
}

/// One object from an extra manifest file.
#[derive(Debug, Clone)]
pub struct ExtraObject {
    /// Index in the spec's `manifests`.
    pub index: usize,
    pub file: String,
    /// The line of the file the object's document starts on.
    pub line: usize,
    pub value: serde_json::Value,
    /// The object as parsed, its spans in `source` (the document's text), to point at a field.
    pub tree: crate::tree::Node,
    pub source: crate::source::SourceFile,
}

/// One image to build: its stack resolved against the stdlib and the CUDA matrix.
#[derive(Debug, Clone)]
pub struct ImagePlan {
    pub name: String,
    /// For a notebook variant (`<image>-<kind>`): the server installed above the image's
    /// dependencies.
    pub notebook: Option<NotebookServer>,
    pub stack_name: String,
    pub stack: crate::stdlib::Stack,
    pub python: String,
    /// The CUDA version of a GPU image.
    pub cuda: Option<String>,
    /// How to install the framework for this image's target (CPU or CUDA), if any.
    pub framework: Option<crate::stdlib::Install>,
    pub builder: String,
    pub runtime: String,
    /// The stack's system packages and the image's own, sorted and without repeats.
    pub system_packages: Vec<String>,
    pub requirements: Option<String>,
    pub copy: Vec<String>,
    pub index_url: Option<String>,
    pub env: BTreeMap<String, String>,
    /// The image's command, or its stack's.
    pub command: Vec<String>,
    /// The repository the image is built from (the OCI source label), when GitOps names one.
    pub source: Option<String>,
    /// Ports and health paths of the services that run this image.
    pub serves: Vec<(u32, String)>,
    /// The Dockerfile HEALTHCHECK's options, for an image that serves one port.
    pub healthcheck: String,
    /// The project's Dockerfile templates by name: its `Dockerfile` override and this
    /// image's own template.
    pub templates: Vec<(String, String)>,
    /// Every tag the environments deploy, for the bake file.
    pub tags: Vec<String>,
}

/// One environment: every object it deploys, as plans.
#[derive(Debug, Clone)]
pub struct EnvPlan {
    pub name: String,
    pub project: String,
    pub namespace: String,
    /// The cluster the environment deploys to, when not the GitOps engine's own.
    pub cluster: Option<Cluster>,
    pub config: Option<ConfigPlan>,
    /// The configuration files, each its own immutable ConfigMap.
    pub files: Vec<FilePlan>,
    pub secrets: Vec<SecretPlan>,
    pub claims: Vec<ClaimPlan>,
    pub services: Vec<ServicePlan>,
    pub pipelines: Vec<PipelinePlan>,
    /// Unscheduled pipeline steps, one Job each, by dependency level, then name.
    pub steps: Vec<StepPlan>,
    /// Per dependency level of the unscheduled steps, how long its slowest step may run.
    pub level_timeouts: Vec<u64>,
    /// Pipelines on Argo Workflows.
    pub workflows: Vec<WorkflowPlan>,
    /// The notebooks this environment has.
    pub notebooks: Vec<NotebookPlan>,
    /// Whether every image must be pinned by digest here (policy `pinned-images`).
    pub production: bool,
    /// The images mlship builds for this environment (notebook variants included), by name,
    /// each as the bake file tags it (`registry/name:tag`): what the image lock pins.
    pub built_images: BTreeMap<String, String>,
}

impl EnvPlan {
    /// Recommended labels. `workload` is the service or pipeline; `component` its role.
    pub fn labels(&self, workload: Option<&str>, component: Option<&str>) -> BTreeMap<String, String> {
        labels(&self.project, &self.name, workload, component)
    }

    /// The labels that select a workload's pods.
    pub fn selector(&self, workload: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(
            "app.kubernetes.io/instance".to_string(),
            crate::names::workload(&self.project, workload),
        )])
    }

    /// Whether a secret of this environment is a SOPS file the engine must decrypt.
    pub fn has_sops(&self) -> bool {
        self.secrets
            .iter()
            .any(|s| matches!(s.source, SecretSource::Encrypted { sops: true, .. }))
    }
}

/// Recommended labels of an object of `project` in environment `env`.
pub fn labels(project: &str, env: &str, workload: Option<&str>, component: Option<&str>) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        ("app.kubernetes.io/managed-by".to_string(), "mlship".to_string()),
        ("app.kubernetes.io/part-of".to_string(), project.to_string()),
        ("mlship.dev/environment".to_string(), env.to_string()),
    ]);
    if let Some(w) = workload {
        l.insert("app.kubernetes.io/name".into(), w.to_string());
        l.insert("app.kubernetes.io/instance".into(), crate::names::workload(project, w));
    }
    if let Some(c) = component {
        l.insert("app.kubernetes.io/component".into(), c.to_string());
    }
    l
}

/// Where an environment's objects go, when not to the GitOps engine's own cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum Cluster {
    /// An API server URL (Argo CD's `destination.server`).
    Server(String),
    /// A cluster name: Argo CD's `destination.name`; for Flux, the name of its kubeconfig
    /// Secret's prefix.
    Name(String),
}

/// The environment's config as one immutable ConfigMap, named by its content.
#[derive(Debug, Clone)]
pub struct ConfigPlan {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

/// A configuration file: the ConfigMap `name` (with its content's hash) holding it as `key`.
#[derive(Debug, Clone)]
pub struct FilePlan {
    pub name: String,
    pub key: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct SecretPlan {
    /// Name of the Kubernetes Secret the pods read.
    pub secret_name: String,
    pub source: SecretSource,
}

#[derive(Debug, Clone)]
pub enum SecretSource {
    /// An ExternalSecret that fetches the keys from a store.
    External {
        store: String,
        store_kind: String,
        refresh: String,
        /// Environment variable to (remote key, property).
        keys: Vec<(String, String, Option<String>)>,
    },
    /// A SealedSecret or SOPS-encrypted Secret from the project, as parsed and checked.
    Encrypted { manifest: serde_json::Value, sops: bool },
    /// A Secret created outside the spec: nothing to emit.
    Existing,
}

/// A PersistentVolumeClaim for one declared volume.
#[derive(Debug, Clone)]
pub struct ClaimPlan {
    pub name: String,
    pub access_mode: String,
    pub size: String,
    pub storage_class: Option<String>,
}

/// A service: Deployment, Service, autoscaler, disruption budget, network policy, ingress.
#[derive(Debug, Clone)]
pub struct ServicePlan {
    /// The name in the spec (the workload).
    pub name: String,
    /// The objects' name: `<project>-<name>`.
    pub full_name: String,
    /// None while an autoscaler owns the count.
    pub replicas: Option<i32>,
    pub revision_history: i32,
    pub max_surge: String,
    pub max_unavailable: i32,
    /// Stop the old pod before the new one starts (a rolling update could not succeed).
    pub recreate: bool,
    pub template: TemplatePlan,
    pub port: i32,
    pub service_port: i32,
    /// The other named ports (container port = Service port), in name order.
    pub extra_ports: Vec<PortPlan>,
    /// ClusterIP, NodePort or LoadBalancer.
    pub service_type: String,
    /// `ClientIP` with its timeout in seconds (the API server's default, written so that
    /// GitOps engines see no drift), or none.
    pub session_affinity: Option<(String, i32)>,
    /// Annotations of the ServiceAccount (workload identity).
    pub account_annotations: BTreeMap<String, String>,
    pub autoscale: Option<AutoscalePlan>,
    /// KServe serves it: an InferenceService instead of the Deployment, Service, autoscaler,
    /// disruption budget and Ingress.
    pub kserve: Option<KservePlan>,
    /// `maxUnavailable` of the disruption budget, for services that keep two pods or more.
    pub disruption_budget: Option<i32>,
    pub ingress: Option<IngressPlan>,
}

#[derive(Debug, Clone)]
pub struct AutoscalePlan {
    pub min: i32,
    pub max: i32,
    /// Resource name (`cpu`, `memory`) to average utilisation in percent.
    pub utilization: Vec<(String, i32)>,
    /// The scaling behaviour, every field written (the API server defaults the rest of a
    /// given behaviour, which GitOps engines would see as drift).
    pub behavior: Option<BehaviorPlan>,
    /// Prometheus triggers: a KEDA ScaledObject replaces the HorizontalPodAutoscaler (and
    /// owns the one KEDA makes), with `utilization` as its cpu and memory triggers.
    pub keda: Vec<KedaTrigger>,
    /// KEDA's polling interval and cool-down in seconds.
    pub polling: i32,
    pub cooldown: i32,
}

#[derive(Debug, Clone)]
pub struct BehaviorPlan {
    pub scale_up: RulesPlan,
    pub scale_down: RulesPlan,
}

#[derive(Debug, Clone)]
pub struct RulesPlan {
    /// Stabilisation window, seconds.
    pub window: i32,
    /// `Max`: the policy that allows the largest change wins.
    pub select: String,
    pub policies: Vec<ScalePolicy>,
}

#[derive(Debug, Clone)]
pub struct ScalePolicy {
    /// `Pods` or `Percent`.
    pub kind: String,
    pub value: i32,
    /// Seconds.
    pub period: i32,
}

/// One Prometheus trigger; KEDA's metadata are strings.
#[derive(Debug, Clone)]
pub struct KedaTrigger {
    pub server: String,
    pub query: String,
    pub threshold: String,
    pub activation: String,
}

/// A KServe InferenceService, in place of the Deployment, Service and autoscaler.
#[derive(Debug, Clone)]
pub struct KservePlan {
    /// The deployment-mode annotation's value for the target KServe version.
    pub mode: String,
    /// The model form; None for the project's image as a custom predictor container.
    pub model: Option<KserveModel>,
    pub min: i32,
    pub max: i32,
    pub scale_metric: Option<String>,
    pub scale_target: Option<i32>,
    /// Percent of requests for the newest revision (Knative mode).
    pub canary: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct KserveModel {
    pub format: String,
    pub version: Option<String>,
    pub runtime: Option<String>,
    /// The URI as KServe reads it (`pvc://<claim>/<path>`).
    pub storage_uri: Option<String>,
    pub protocol: String,
}

#[derive(Debug, Clone)]
pub struct IngressPlan {
    /// One rule per host, each with every path.
    pub hosts: Vec<String>,
    pub paths: Vec<String>,
    pub path_type: String,
    pub annotations: BTreeMap<String, String>,
    pub class: Option<String>,
    pub tls_secret: Option<String>,
}

/// A pipeline: its service account and network policy, and its CronJob when scheduled.
#[derive(Debug, Clone)]
pub struct PipelinePlan {
    pub name: String,
    pub cron: Option<CronPlan>,
    /// Annotations of the ServiceAccount (workload identity).
    pub account_annotations: BTreeMap<String, String>,
    /// Whether the pods mount the service account's token: Argo Workflows' executor
    /// reports each step's results through the API with it.
    pub token: bool,
}

/// A scheduled pipeline as one CronJob: earlier steps as init containers in dependency
/// order, the last step as the main container.
#[derive(Debug, Clone)]
pub struct CronPlan {
    pub name: String,
    pub schedule: String,
    pub time_zone: Option<String>,
    pub concurrency: String,
    pub successful_history: i32,
    pub failed_history: i32,
    pub job: JobPlan,
}

/// A pipeline on Argo Workflows: a WorkflowTemplate whose DAG follows `needs`, and either a
/// CronWorkflow (scheduled) or a Workflow that runs the template once per content change.
#[derive(Debug, Clone)]
pub struct WorkflowPlan {
    pub pipeline: String,
    /// The WorkflowTemplate's (and CronWorkflow's) name, `<project>-<pipeline>`.
    pub name: String,
    /// The pods' ServiceAccount. Its token is mounted: Argo's executor, in each step's pod,
    /// reports the step's results (`workflowtaskresults`) with it.
    pub service_account: String,
    /// The Role and RoleBinding that allow those writes, and nothing else.
    pub executor_role: String,
    /// Parameters and their default values.
    pub parameters: Vec<(String, String)>,
    /// Steps in dependency order.
    pub tasks: Vec<TaskPlan>,
    /// The whole run's deadline, in seconds.
    pub active_deadline: i64,
    /// When Argo deletes the pods of finished steps.
    pub pod_gc: String,
    pub cron: Option<CronWorkflowPlan>,
    /// The folder of the run-once Workflow's file ("" for the base).
    pub folder: String,
    /// Argo CD's sync wave of the run-once Workflow: after its WorkflowTemplate exists.
    pub sync_wave: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CronWorkflowPlan {
    pub schedules: Vec<String>,
    pub timezone: Option<String>,
    pub concurrency: String,
    pub successful_history: i32,
    pub failed_history: i32,
    /// Seconds after a missed start (the controller was down) that a run still starts.
    pub starting_deadline: i64,
}

/// One step of a workflow: a DAG task and its container template.
#[derive(Debug, Clone)]
pub struct TaskPlan {
    pub name: String,
    pub needs: Vec<String>,
    /// The condition in Argo's expression form.
    pub when: Option<String>,
    pub retry: Option<RetryPlan>,
    /// The step's deadline, in seconds.
    pub timeout: Option<i64>,
    /// Output parameters: name and the file the value is read from.
    pub outputs: Vec<(String, String)>,
    /// Output artifacts (through the artifact repository): name and path.
    pub artifacts: Vec<(String, String)>,
    /// Input artifacts (through the artifact repository): name, path, and the output they
    /// come from in Argo's form (`{{tasks.train.outputs.artifacts.model}}`).
    pub inputs: Vec<(String, String, String)>,
    /// The step's pod: one container, its volumes and placement.
    pub template: TemplatePlan,
    /// A Katib search over the step: a resource template that creates the Experiment (its
    /// trials are Jobs of `template`) and waits for it.
    pub tune: Option<TunePlan>,
    /// Several nodes: a resource template that creates the TrainJob and waits for it.
    pub train: Option<TrainPlan>,
}

#[derive(Debug, Clone)]
pub struct RetryPlan {
    pub limit: i32,
    pub policy: String,
    pub backoff: String,
    pub factor: i32,
    pub max_backoff: String,
}

/// One unscheduled step as a Job named by its content.
#[derive(Debug, Clone)]
pub struct StepPlan {
    pub pipeline: String,
    pub step: String,
    pub needs: Vec<String>,
    /// The folder of the environment the Job's file goes in ("" for the base).
    pub folder: String,
    /// Argo CD's sync wave (a Job is healthy once it completed).
    pub sync_wave: Option<String>,
    pub job: JobPlan,
    /// A Katib search over the step: an Experiment whose trials are the Job.
    pub tune: Option<TunePlan>,
    /// Several nodes: a Trainer TrainJob whose nodes run the Job's pod.
    pub train: Option<TrainPlan>,
}

/// A Kubeflow Trainer TrainJob: the ClusterTrainingRuntime and the node count; the nodes'
/// container and pod come from the step's pod.
#[derive(Debug, Clone)]
pub struct TrainPlan {
    pub runtime: String,
    pub nodes: i32,
    /// The step's config keys, which the Trainer's `env` takes one by one (it has no
    /// `envFrom`): variable, ConfigMap, key.
    pub config_env: Vec<(String, String, String)>,
    /// The keys of the Secrets the step reads whole: variable, Secret, key.
    pub secret_env: Vec<(String, String, String)>,
}

/// A Katib Experiment, every field Katib's webhook would default written out.
#[derive(Debug, Clone)]
pub struct TunePlan {
    /// `maximize` or `minimize`.
    pub objective: String,
    pub metric: String,
    pub goal: Option<f64>,
    pub additional: Vec<String>,
    /// Katib's `metricStrategies` value of every metric: `max` or `min`.
    pub strategy: String,
    pub algorithm: String,
    pub settings: BTreeMap<String, String>,
    pub parallel: i32,
    pub max: i32,
    pub max_failed: Option<i32>,
    /// Katib's collector kind (`StdOut`, `File`, `Push`), and the file of `File`.
    pub collector: String,
    pub metrics_file: Option<String>,
    pub parameters: Vec<TuneParameterPlan>,
    /// The trial Job's container that runs the step (Katib's `primaryContainerName`).
    pub container: String,
}

#[derive(Debug, Clone)]
pub struct TuneParameterPlan {
    pub name: String,
    /// `double`, `int` or `categorical`.
    pub kind: String,
    /// Katib's feasible space, as strings: min, max, step; or the list.
    pub min: Option<String>,
    pub max: Option<String>,
    pub step: Option<String>,
    pub list: Vec<String>,
    /// `uniform` or `logUniform`.
    pub distribution: String,
}

#[derive(Debug, Clone)]
pub struct JobPlan {
    /// Labels of the Job itself: Kueue's queue and priority.
    pub labels: BTreeMap<String, String>,
    pub backoff_limit: i32,
    pub active_deadline: Option<i64>,
    pub template: TemplatePlan,
}

/// A pod template: its labels and annotations and its pod.
#[derive(Debug, Clone)]
pub struct TemplatePlan {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub pod: PodPlan,
}

/// One pod; every target renders it with the same security baseline (`emit::pod`).
#[derive(Debug, Clone)]
pub struct PodPlan {
    pub service_account: String,
    pub restart_policy: Option<String>,
    pub containers: Vec<ContainerPlan>,
    pub init_containers: Vec<ContainerPlan>,
    pub volumes: Vec<VolumePlan>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<TolerationPlan>,
    pub priority_class: Option<String>,
    pub runtime_class: Option<String>,
    /// Spread the pods over this topology key (`kubernetes.io/hostname`, or the zone),
    /// counting the pods with these labels.
    pub spread: Option<(String, BTreeMap<String, String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerPlan {
    pub name: String,
    /// The full reference (`registry/name:tag`, with `@sha256:...` when pinned).
    pub image: String,
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// Variables whose values the kubelet reads from the pod, a ConfigMap or a Secret.
    pub env_refs: BTreeMap<String, EnvRef>,
    pub env_from: Vec<EnvFrom>,
    pub requests: BTreeMap<String, String>,
    pub limits: BTreeMap<String, String>,
    pub mounts: Vec<MountPlan>,
    pub ports: Vec<PortPlan>,
    pub liveness: Option<ProbePlan>,
    pub readiness: Option<ProbePlan>,
    pub startup: Option<ProbePlan>,
    /// `Always` for a native sidecar (an init container that keeps running).
    pub restart_policy: Option<String>,
}

/// Where one variable's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvRef {
    /// A downward-API field path, such as metadata.name.
    Field(&'static str),
    ConfigKey {
        name: String,
        key: String,
    },
    SecretKey {
        name: String,
        key: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum EnvFrom {
    ConfigMap(String),
    Secret(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PortPlan {
    pub name: String,
    pub port: i32,
}

/// A probe: its check and its timing.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbePlan {
    pub check: ProbeCheck,
    pub initial_delay: i32,
    pub period: i32,
    pub timeout: i32,
    pub failure_threshold: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProbeCheck {
    /// An HTTP GET of a path on a named port.
    Http {
        path: String,
        port: String,
    },
    /// A TCP connection to a named port.
    Tcp {
        port: String,
    },
    /// The gRPC health protocol on a port number (the API takes no name there).
    Grpc {
        port: i32,
        service: Option<String>,
    },
    Exec {
        command: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct MountPlan {
    pub volume: String,
    pub path: String,
    pub read_only: bool,
    /// A folder of the volume to mount instead of its root.
    pub sub_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumePlan {
    pub name: String,
    pub source: VolumeSource,
}

#[derive(Debug, Clone, PartialEq)]
pub enum VolumeSource {
    /// A scratch folder: in memory or on the node's disk, with its size limit.
    EmptyDir {
        memory: bool,
        size: Option<String>,
    },
    Claim(String),
    /// A claim per pod from a template (a generic ephemeral volume).
    Ephemeral {
        access_mode: String,
        size: String,
        storage_class: Option<String>,
    },
    /// An inline CSI volume.
    Csi {
        driver: String,
        attributes: BTreeMap<String, String>,
        read_only: bool,
    },
    Secret(String),
    /// One key of a ConfigMap (a configuration file), mounted with `subPath`.
    ConfigMap(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TolerationPlan {
    pub key: String,
    pub operator: String,
    pub value: Option<String>,
    pub effect: Option<String>,
}

/// The server layer of a notebook variant of a project image.
#[derive(Debug, Clone, PartialEq)]
pub struct NotebookServer {
    /// The image it is a variant of.
    pub base: String,
    /// Pinned Python packages that make the server.
    pub packages: Vec<String>,
    /// The server's command (a shell line: it reads `NB_PREFIX` when it starts).
    pub command: String,
}

/// A notebook: its workspace claim, service account, network policy, and either a Kubeflow
/// `Notebook` or a StatefulSet and a Service.
#[derive(Debug, Clone)]
pub struct NotebookPlan {
    pub name: String,
    /// The objects' name, `<project>-<name>`; Kubeflow names the StatefulSet, the Service and
    /// the container after the Notebook.
    pub full_name: String,
    pub kubeflow: bool,
    /// The server kind as Kubeflow's UI names it (`jupyter`, `group-one`, `group-two`).
    pub server_type: String,
    /// Annotations of the Notebook: the server type, and the rewrite and header rules
    /// Kubeflow's routes need for servers that do not serve under `NB_PREFIX`.
    pub annotations: BTreeMap<String, String>,
    pub workspace: ClaimPlan,
    /// Annotations of the workspace claim: the GitOps engine must not prune it.
    pub workspace_annotations: BTreeMap<String, String>,
    /// The port the Service (or Kubeflow's) listens on, and the URL path after port-forward.
    pub service_port: i32,
    pub url_path: String,
    /// The folder of the notebook's files ("" without a GitOps engine).
    pub folder: String,
    pub template: TemplatePlan,
}
