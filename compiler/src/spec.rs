//! The spec v1 model: what `mlship.yaml` and `mlship.kdl` declare.
//!
//! Takes: the JSON form of a parsed document (after the schema check). Gives: typed values.
//! This file is the single source of truth for the spec: the JSON Schema in
//! `schemas/mlship.schema.json` is generated from it, and docs/spec.md describes it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An mlship project: images, config, secrets, pipelines, services and environments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Spec format version. Always `mlship/v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: ApiVersion,
    /// Project name (DNS-1123 label). Prefixes every Kubernetes object name.
    pub project: String,
    /// Kubernetes namespace. Default: the project name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The cluster to deploy to, usually set per environment: with Argo CD, a cluster name it
    /// knows or an API server URL (https://...); with Flux, a name, whose kubeconfig is the
    /// Secret `<cluster>-kubeconfig` in the Flux namespace. Environments on different clusters
    /// may share a namespace. Default: the cluster the GitOps engine runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Image registry and repository prefix; an image is `<registry>/<image>:<tag>`.
    pub registry: String,
    /// Image tag. Environments usually override it. Never `latest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Whether the environment is production, where every image must be pinned by digest
    /// (policy `pinned-images`); usually set per environment. Default: true for an
    /// environment named `prod` or `production`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<bool>,
    /// Target Kubernetes minor version, such as "1.33". Default: "1.33".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<String>,
    /// The KServe the services with `runtime: kserve` run on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kserve: Option<Kserve>,
    /// Container images to build, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub images: BTreeMap<String, Image>,
    /// Plain configuration, given to every workload as environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
    /// Configuration files, by name: each an immutable ConfigMap named by its content, mounted
    /// read-only at its `path` in the services and steps that list it in their `files`. A
    /// change rolls those pods and re-runs those steps, and nothing else.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, ConfigFile>,
    /// Secret references, by name. Values never appear in the spec or the output.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, Secret>,
    /// Persistent volumes, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Volume>,
    /// The engine that runs the pipelines that do not choose one. Default: jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_engine: Option<PipelineEngine>,
    /// Training and batch pipelines, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pipelines: BTreeMap<String, Pipeline>,
    /// Long-running serving endpoints, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, Service>,
    /// Where the notebooks that do not choose run: kubeflow or plain. Default: plain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebook_platform: Option<NotebookPlatform>,
    /// Interactive notebook servers for development, by name (docs/kubernetes.md, "Notebooks").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notebooks: BTreeMap<String, Notebook>,
    /// Deployment environments, each deep-merged over the base spec (`null` removes a key).
    /// Default: one environment named `default` with no overrides.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, Environment>,
    /// A project folder with stack and template overrides: `stacks/<name>.yaml`,
    /// `templates/Dockerfile.j2`. Relative to the spec's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdlib: Option<String>,
    /// How Argo CD or Flux applies the rendered tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitops: Option<Gitops>,
    /// JSON merge patches applied to rendered objects, before validation: the escape hatch
    /// for fields the spec does not model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<Patch>,
    /// Extra manifest files (YAML, one or more documents each) added to every environment,
    /// validated like the rest. Relative to the spec's folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<String>,
    /// CustomResourceDefinition files (YAML) of the custom resources in `manifests`: objects
    /// of the kinds they define are validated against their schemas instead of skipped. Read
    /// only, not added to the tree (list a CRD in `manifests` to apply it). Relative to the
    /// spec's folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crds: Vec<String>,
    /// Policy checks waived for one object, each with its reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<Waiver>,
}

impl Spec {
    /// The engine that runs a pipeline: its own, else the project's, else jobs.
    pub fn engine_of(&self, pipeline: &Pipeline) -> PipelineEngine {
        pipeline.engine.or(self.pipeline_engine).unwrap_or(PipelineEngine::Jobs)
    }

    /// Where a notebook runs: its own platform, else the project's, else plain.
    pub fn platform_of(&self, notebook: &Notebook) -> NotebookPlatform {
        notebook
            .platform
            .or(self.notebook_platform)
            .unwrap_or(NotebookPlatform::Plain)
    }
}

/// A JSON merge patch (RFC 7386) for one rendered object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    /// The object's kind, such as Deployment.
    pub kind: String,
    /// The object's name as rendered (`<project>-<service>`); for Jobs, without the hash.
    pub name: String,
    /// Environments to patch. Default: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// The merge patch: mappings merge, `null` removes, anything else replaces.
    pub patch: serde_json::Value,
}

/// Leave one policy check out for one object, saying why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub policy: Policy,
    /// `Kind/name`, such as `Deployment/fraud-detection-api`.
    pub object: String,
    /// For `no-plaintext-secrets`: the variable, data key or annotation the waiver covers.
    /// Without it, the waiver covers the whole object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Why the policy does not apply; shown in reviews.
    pub reason: String,
}

/// The policies every pod template is checked against after patches, and the credential
/// rules every object is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// Containers run as non-root.
    RunAsNonRoot,
    /// Containers have a read-only root filesystem.
    ReadOnlyRootFilesystem,
    /// No privilege escalation.
    NoPrivilegeEscalation,
    /// All capabilities dropped.
    DropAllCapabilities,
    /// seccomp RuntimeDefault or Localhost.
    Seccomp,
    /// CPU and memory requests and limits on every container.
    ResourceLimits,
    /// Images name a tag other than `latest`, or a digest.
    NoLatestTag,
    /// In a production environment, every image is pinned by digest: by the image lock
    /// (`mlship lock fill`), `digest`, or a prebuilt reference with `@sha256:`.
    PinnedImages,
    /// No hostPath volumes.
    NoHostPath,
    /// No privileged containers.
    NoPrivileged,
    /// No host network, PID or IPC namespaces.
    NoHostNamespaces,
    /// No value that a name or entropy rule takes for a credential (config, env, data,
    /// annotations, arguments). Key formats, private keys, passwords in URLs and plain
    /// Secrets are never waived.
    NoPlaintextSecrets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    #[serde(rename = "mlship/v1")]
    V1,
}

/// A container image: built from a stdlib stack, or a prebuilt upstream image (vLLM, Triton,
/// TGI, tensorflow/serving...) that mlship runs as it is. Exactly one of `stack` and `prebuilt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Image {
    /// Stdlib stack: python, pytorch, tensorflow, sklearn, xgboost, huggingface or fastapi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// A prebuilt image, such as `vllm/vllm-openai:v0.8.5`: a tag other than `latest`, or a
    /// digest (`@sha256:...`). No Dockerfile is written for it and the bake file leaves it
    /// out; `digest` pins it (usually per environment), and an environment may choose another
    /// version of it. Build fields (python, cuda, requirements...) do not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prebuilt: Option<String>,
    /// Python version, such as "3.11". Default: the stack's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub python: Option<String>,
    /// CUDA version for a GPU image, such as "12.4". Absent: a CPU image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cuda: Option<String>,
    /// Version of the stack's framework (torch, tensorflow, xgboost). Default: the stack's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// Requirements or lock file, relative to the spec's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<String>,
    /// Debian packages to install.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system_packages: Vec<String>,
    /// Files and folders copied into the image, relative to the spec's folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copy: Vec<String>,
    /// Default command of the image. Default: the stack's. Services and steps set their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// A private package index (https). Credentials come from a build secret `netrc`,
    /// never from the spec: `docker buildx bake --set '*.secrets=id=netrc,src=$HOME/.netrc'`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_url: Option<String>,
    /// A Dockerfile template of the project's that `{% extends "Dockerfile" %}` and fills
    /// its blocks. Relative to the spec's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Build-time environment variables baked into the image.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Pin the runtime base image (the stack's, for the chosen Python or CUDA) by digest,
    /// `sha256:...`, on top of its tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_digest: Option<String>,
    /// Pin the builder base image by digest (the CUDA devel image for GPU images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder_digest: Option<String>,
    /// Pin the deployed image by digest (`sha256:...`); usually set per environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// A configuration file: a training YAML, `config.properties`, `log4j2.xml`, prompts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Where workloads see it: an absolute file path, such as /etc/train/config.yaml.
    pub path: String,
    /// The file's text (multi-line allowed). Exactly one of `content` and `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A project file to read it from, relative to the spec's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// Where a secret's values come from. The spec holds references only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    pub provider: SecretProvider,
    /// external-secrets: the SecretStore or ClusterSecretStore to read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// external-secrets: the store's kind. Default: ClusterSecretStore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_kind: Option<StoreKind>,
    /// external-secrets: environment variable name to remote reference (`path#property`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, String>,
    /// sealed-secrets and sops: the encrypted manifest file, relative to the spec's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// existing: the name of a Secret in the namespace that is created and managed outside
    /// mlship (mlship only reads it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Environment variable name to the key of the Secret that holds its value, such as
    /// `HUGGING_FACE_HUB_TOKEN: token`. With it, workloads get exactly these variables;
    /// without it, one variable per key, named as the key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Mount the secret's keys as files in this folder instead of environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mount: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SecretProvider {
    ExternalSecrets,
    SealedSecrets,
    Sops,
    // A Secret created outside the spec, referenced by `name` (a doc comment here would
    // turn the schema's enum into a oneOf).
    Existing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum StoreKind {
    SecretStore,
    ClusterSecretStore,
}

/// Storage that workloads mount: by default a PersistentVolumeClaim that mlship creates and
/// the workloads share; or an existing claim, a claim per pod, or an inline CSI volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// Size, such as 50Gi: of the shared claim, or of each pod's claim with `per_pod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Quantity>,
    /// Access mode. Default: ReadWriteOnce.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessMode>,
    /// Storage class. Default: the cluster's default class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// An existing PersistentVolumeClaim in the namespace, by name: mounted, never created
    /// or changed. `access` says its mode (default ReadWriteOnce).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// A claim per pod, made from `size`, `access` and `storage_class` when the pod starts
    /// and deleted with it (a generic ephemeral volume), such as a model cache.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_pod: bool,
    /// An inline CSI volume, such as gcsfuse or an S3 mountpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi: Option<Csi>,
}

impl Volume {
    /// Whether the pods that share it must run on one node: a claim (created or existing)
    /// with a ReadWriteOnce mode, not a claim per pod or a CSI volume.
    pub fn one_node(&self) -> bool {
        !self.per_pod
            && self.csi.is_none()
            && matches!(
                self.access.unwrap_or(AccessMode::ReadWriteOnce),
                AccessMode::ReadWriteOnce | AccessMode::ReadWriteOncePod
            )
    }
}

/// An inline CSI volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Csi {
    /// The CSI driver, such as gcsfuse.csi.storage.gke.io or s3.csi.aws.com.
    pub driver: String,
    /// The driver's volume attributes, such as `bucketName: my-models`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Mount it read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadWriteMany,
    ReadOnlyMany,
    ReadWriteOncePod,
}

/// A CPU or memory quantity: a string such as "500m" or "8Gi", or a number of cores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Quantity {
    Text(String),
    Number(f64),
}

impl Quantity {
    pub fn text(&self) -> String {
        match self {
            Quantity::Text(s) => s.clone(),
            Quantity::Number(n) => n.to_string(),
        }
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Kubernetes quantity: \"500m\", \"2\", \"8Gi\", or a number.",
            "type": ["string", "number"]
        })
    }
}

/// Compute and placement shared by pipeline steps and services.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Resources {
    /// CPU request, such as "500m" or 2. The limit equals the request unless `cpu_limit` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    /// CPU limit. Default: no limit is lower than the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit: Option<Quantity>,
    /// Memory request and limit, such as 8Gi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
    /// Memory limit above the request, such as 12Gi. Default: the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<Quantity>,
    /// Local disk the pod may use (container logs and layers, disk-backed scratch), as
    /// request and limit, such as 20Gi. Default: none set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephemeral_storage: Option<Quantity>,
    /// A memory-backed `/dev/shm` (PyTorch DataLoader workers and NCCL need more than the
    /// 64 MB default): a size such as 8Gi, `true` for the default size, `false` for none.
    /// Default: on for workloads with GPUs, sized at half the memory limit; off otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shm: Option<Shm>,
    /// Extra writable folders (the root filesystem is read-only), by absolute path: an
    /// emptyDir on disk, or in memory with `memory: true`, each with its size limit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scratch: BTreeMap<String, Scratch>,
    /// Number of NVIDIA GPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<u32>,
    /// Node labels the pod must run on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Taints the pod tolerates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
    /// The pods' PriorityClass, such as one a cluster keeps for serving.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class: Option<String>,
    /// The pods' RuntimeClass, such as nvidia or gvisor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_class: Option<String>,
}

/// The size of `/dev/shm`, or whether to have one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Shm {
    On(bool),
    Size(Quantity),
}

/// One extra writable folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scratch {
    /// Size limit, such as 20Gi.
    pub size: Quantity,
    /// Keep it in memory (counted against the memory limit) instead of on the node's disk.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub memory: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Toleration {
    pub key: String,
    /// Default: Exists when no value is given, else Equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<TolerationOperator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TolerationOperator {
    Exists,
    Equal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

/// A training or batch pipeline: steps with dependencies, optionally on a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Pipeline {
    /// What runs the pipeline. Default: the project's `pipeline_engine`, else jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<PipelineEngine>,
    /// Cron schedule (five fields, or @hourly, @daily, @weekly, @monthly, @yearly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// argo-workflows: the time zone of the schedule (IANA, such as Europe/Berlin).
    /// Default: the controller's, usually UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// argo-workflows: pass `file` outputs through this volume (from `volumes`; usually
    /// ReadWriteMany), one folder per run, instead of the cluster's artifact repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_volume: Option<String>,
    /// Parameters and their defaults. Every step gets each as an environment variable of
    /// the same name (so `run` can say `$(NAME)`); with argo-workflows a run can override
    /// them when it is submitted, and conditions can compare them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, Scalar>,
    /// argo-workflows: the longest run of the whole pipeline, such as 12h. Default: the sum,
    /// over the dependency levels, of each level's longest step timeout (1h without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// The ServiceAccount its steps run as, such as its annotations for workload identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ServiceAccount>,
    #[serde(flatten)]
    pub queue: Queue,
    /// Steps by name.
    pub steps: BTreeMap<String, Step>,
}

/// Kueue: the LocalQueue a workload waits in for its quota, and its priority there.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Queue {
    /// Kueue's LocalQueue in the namespace (label `kueue.x-k8s.io/queue-name`). Default: the
    /// pipeline's; none (Kueue does not manage the step) when neither names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Kueue's WorkloadPriorityClass (label `kueue.x-k8s.io/priority-class`), which orders the
    /// queue and may preempt lower ones. Not the pods' `priority_class`. Default: the
    /// pipeline's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_priority: Option<String>,
}

impl Queue {
    /// Kueue's labels of a step: its own queue and priority, else its pipeline's.
    pub fn labels(&self, pipeline: &Queue) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(q) = self.queue.as_ref().or(pipeline.queue.as_ref()) {
            out.insert(QUEUE_LABEL.to_string(), q.clone());
        }
        if let Some(p) = self.workload_priority.as_ref().or(pipeline.workload_priority.as_ref()) {
            out.insert(PRIORITY_LABEL.to_string(), p.clone());
        }
        out
    }
}

pub const QUEUE_LABEL: &str = "kueue.x-k8s.io/queue-name";
pub const PRIORITY_LABEL: &str = "kueue.x-k8s.io/priority-class";

/// The engines that run pipelines (docs/kubernetes.md, "Pipeline engines").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PipelineEngine {
    /// One Job per step, ordered by sync waves or Flux levels; a scheduled pipeline is one
    /// CronJob with its steps in sequence.
    Jobs,
    /// Argo Workflows 3.6 or later: a WorkflowTemplate whose DAG follows `needs`, a
    /// CronWorkflow for a schedule, else a Workflow named by the pipeline's content.
    ArgoWorkflows,
}

/// A parameter value: a string, a number or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Number(serde_json::Number),
    Text(String),
}

impl Scalar {
    /// The value as an environment variable or workflow parameter holds it.
    pub fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

/// What a step leaves for later steps: a value in a file, for conditions, or a file or
/// folder (`type: file`) that later steps take as `inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// Where the step writes it: under /tmp or one of the step's mounts (the root
    /// filesystem is read-only). Through an `artifact_volume`, a folder.
    pub path: String,
    /// string, number or bool (a value for conditions), or file. Default: string.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<ValueType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    String,
    Number,
    Bool,
    /// A file or folder, passed through the artifact repository or the artifact volume.
    File,
}

/// A file output of an earlier step, placed where this step reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// `step.output`: a `file` output of a step this one needs.
    pub from: String,
    /// Where the step finds it.
    pub path: String,
}

/// Which failures a retried step retries (Argo Workflows' `retryPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RetryPolicy {
    /// Failed and errored steps.
    Always,
    /// A container that exited non-zero.
    OnFailure,
    /// Errors around the container: the pod was evicted, the node went away.
    OnError,
    /// Transient errors only (as Argo's TRANSIENT_ERROR_PATTERN defines them).
    OnTransientError,
}

/// One step of a pipeline: a container run to completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Step {
    /// Image name from `images`.
    pub image: String,
    /// Command and arguments.
    pub run: Vec<String>,
    /// Steps that must finish first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    /// Retries before the step fails. Default: 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// argo-workflows: which failures are retried. Default: Always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// argo-workflows: the wait before the first retry, doubled for each later one up to
    /// 10 times as long, such as 30s. Default: 30s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_backoff: Option<String>,
    /// argo-workflows: values the step writes to files, by name, for later steps' `when`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, Output>,
    /// argo-workflows: file outputs of earlier steps this step reads, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, Input>,
    /// argo-workflows: run the step only when this holds, such as
    /// `evaluate.auc >= MIN_AUC`: outputs of steps it needs (`step.output`), parameters,
    /// numbers, 'strings', true and false, compared with == != < <= > >= and joined with
    /// && || and parentheses. A skipped step skips every step that needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Longest run time, such as 4h or 90m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Volume name to mount path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mounts: BTreeMap<String, String>,
    /// Extra environment variables for this step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Secret names from `secrets`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(flatten)]
    pub queue: Queue,
    /// Tune the step's hyperparameters with Katib: the step becomes an Experiment whose
    /// trials run it with `${name}` in `run` replaced by each trial's values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tune: Option<Tune>,
    /// Train on this many nodes at once, each with the step's resources (`gpu` per node): a
    /// Kubeflow Trainer TrainJob instead of a Job (docs/training.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// The Trainer's ClusterTrainingRuntime for `nodes`, such as torch-distributed or
    /// deepspeed-distributed. Default: torch-distributed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trainer: Option<String>,
    #[serde(flatten)]
    pub pod: PodExtras,
    #[serde(flatten)]
    pub resources: Resources,
}

/// A Katib hyperparameter search over a step (docs/training.md, "Tuning").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tune {
    /// The metric the step reports, such as `auc`.
    pub metric: String,
    /// `maximize` or `minimize` the metric.
    pub objective: Objective,
    /// Stop once a trial reaches this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<f64>,
    /// More metrics to record for each trial.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
    /// The search: random, grid, tpe, bayesianoptimization or hyperband. Default: random.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// The algorithm's settings, such as hyperband's `resource_name`, `eta` and `r_l`, or
    /// tpe's `n_startup_trials`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    /// The search space, by name: `${name}` in `run` takes each trial's value.
    pub parameters: BTreeMap<String, TuneParameter>,
    /// Trials to run at most.
    pub trials: u32,
    /// Trials at a time. Default: 3 (Katib's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel: Option<u32>,
    /// Failed trials that end the experiment. Default: none (Katib runs on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_failed: Option<u32>,
    /// How Katib reads the metrics: `stdout` (lines `metric=value`, read by the sidecar Katib
    /// adds), `file` (the same lines in `metrics_file`) or `push` (the step reports them with
    /// Katib's SDK; no sidecar). Default: stdout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector: Option<Collector>,
    /// file: where the step writes its metrics. Default: /var/log/katib/metrics.log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    Maximize,
    Minimize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Algorithm {
    #[default]
    Random,
    Grid,
    Tpe,
    Bayesianoptimization,
    Hyperband,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Collector {
    #[default]
    Stdout,
    File,
    Push,
}

/// One dimension of the search space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TuneParameter {
    /// `double`, `int` or `categorical`.
    #[serde(rename = "type")]
    pub kind: ParameterType,
    /// double, int: the lowest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// double, int: the highest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// double, int: the grid's step (the grid algorithm needs one for a double).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
    /// double: sample the logarithm uniformly (learning rates). Default: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub log: bool,
    /// categorical: the values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ParameterType {
    Double,
    Int,
    Categorical,
}

/// A long-running HTTP serving endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Service {
    /// Image name from `images`. Not used by a KServe service that serves a `model` with a
    /// ServingRuntime; required otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Container port the server listens on, named `http`. Default: the serving runtime's
    /// (vllm 8000, triton 8000, tfserving 8501, torchserve 8080, kserve 8080); required for a
    /// plain deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    /// What serves: `deployment` (the image's own server on a Deployment), a serving runtime
    /// on a Deployment (`vllm`, `triton`, `tfserving`, `torchserve`: arguments, ports, probes
    /// and caches decided by mlship), or `kserve` (a KServe InferenceService, which owns its
    /// Deployment, Service and autoscaler). Default: deployment (docs/serving.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<ServingRuntime>,
    /// The model a serving runtime or KServe serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
    /// More ports the server listens on, by name, such as `grpc: 8081` and `metrics: 8002`.
    /// Each is a container port, a Service port and allowed by the NetworkPolicy.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: BTreeMap<String, u32>,
    /// Command and arguments. Default: the image's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Health checks. Default: HTTP GET `/healthz` on `port`, and, for services with GPUs, a
    /// startup probe that allows 30 minutes to load a model (docs/kubernetes.md, "Probes").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// Fixed replica count. Ignored (and left out of the Deployment) when `autoscale` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<u32>,
    /// Horizontal autoscaling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<Autoscale>,
    /// Expose the service: a Service port, and an Ingress when `host` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expose: Option<Expose>,
    /// Volume name to mount path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mounts: BTreeMap<String, String>,
    /// Extra environment variables for this service.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Secret names from `secrets`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    #[serde(flatten)]
    pub pod: PodExtras,
    /// The service's ServiceAccount, such as its annotations for workload identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ServiceAccount>,
    /// How new versions roll out: `rolling` (one new pod at a time) or `recreate` (stop the
    /// old pods first). Default: recreate for a single pod that holds a ReadWriteOnce
    /// volume, which a second pod could not mount; rolling otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    /// Spread the replicas across nodes or zones, as far as the cluster allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<Spread>,
    #[serde(flatten)]
    pub resources: Resources,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServingRuntime {
    #[default]
    Deployment,
    Vllm,
    Triton,
    Tfserving,
    Torchserve,
    Kserve,
}

impl ServingRuntime {
    pub fn name(self) -> &'static str {
        match self {
            ServingRuntime::Deployment => "deployment",
            ServingRuntime::Vllm => "vllm",
            ServingRuntime::Triton => "triton",
            ServingRuntime::Tfserving => "tfserving",
            ServingRuntime::Torchserve => "torchserve",
            ServingRuntime::Kserve => "kserve",
        }
    }
}

impl Service {
    pub fn runtime(&self) -> ServingRuntime {
        self.runtime.unwrap_or_default()
    }

    /// The `http` port: the spec's, or the serving runtime's (0 for a plain deployment
    /// without one, which the checks refuse).
    pub fn http_port(&self) -> u32 {
        self.port.unwrap_or(match self.runtime() {
            ServingRuntime::Deployment => 0,
            ServingRuntime::Vllm | ServingRuntime::Triton => 8000,
            ServingRuntime::Tfserving => 8501,
            ServingRuntime::Torchserve | ServingRuntime::Kserve => 8080,
        })
    }

    /// Whether KServe serves the model with a ServingRuntime (no project image).
    pub fn kserve_model(&self) -> bool {
        self.runtime() == ServingRuntime::Kserve && self.image.is_none()
    }
}

/// The model a service serves.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// The name clients ask for (vLLM's served model name, TFServing's and TorchServe's
    /// model name). Default: the service name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// KServe's model format: sklearn, xgboost, lightgbm, tensorflow, pytorch, onnx, triton,
    /// huggingface, pmml, paddle, mlflow or vllm. Required for KServe without an image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The format's version ("1", "2.1"), which picks among runtimes that support it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
    /// Where the model is: `pvc://<volume>/<path>` (a declared volume), `s3://`, `gs://`,
    /// `hf://<org>/<model>`, `https://`, `oci://`, or an absolute path in the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<String>,
    /// KServe's inference protocol: v1, v2 or grpc-v2. Default: v2 for triton, onnx and
    /// huggingface, v1 otherwise (written out, as KServe's webhook would).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// A named (Cluster)ServingRuntime, such as `kserve-sklearnserver`. Default: the one
    /// KServe selects for the format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving_runtime: Option<String>,
    /// A declared volume to keep downloaded weights and compiled kernels in across restarts
    /// (a serving runtime's cache folder, `/cache`). Default: a scratch folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<String>,
    /// KServe only (Knative mode): send `percent` of the requests to a new model at
    /// `storage`, the rest to the model above (docs/serving.md, "Canary").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Canary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    #[serde(rename = "v1")]
    V1,
    #[serde(rename = "v2")]
    V2,
    #[serde(rename = "grpc-v2")]
    GrpcV2,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::V1 => "v1",
            Protocol::V2 => "v2",
            Protocol::GrpcV2 => "grpc-v2",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Canary {
    /// The new model's storage URI.
    pub storage: String,
    /// Percent of requests the new model gets, 0 to 100: 0 rolls back, and removing `canary`
    /// after setting `model.storage` to the new URI promotes.
    pub percent: u32,
}

/// KServe, for the services with `runtime: kserve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kserve {
    /// The KServe version the cluster runs, such as "0.15" or "0.16": it decides how the
    /// deployment mode is written.
    pub version: String,
    /// `standard` (plain Deployments, KServe's RawDeployment) or `knative` (Knative
    /// Serving: scale to zero, canaries). Default: standard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<KserveMode>,
    /// The cluster's storage-initializer (its ClusterStorageContainer) already runs under Pod
    /// Security `restricted`, which mlship's namespaces enforce: no warning for s3, gs or hf
    /// models (docs/serving.md, "Pod Security").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restricted_initializer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KserveMode {
    #[default]
    Standard,
    Knative,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rollout {
    Rolling,
    Recreate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Spread {
    Node,
    Zone,
}

/// What services and steps add to their pods besides the main container.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct PodExtras {
    /// Configuration files from `files` to mount, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Containers that run to completion before the main one starts, in name order, such as
    /// a model download. They share the workload's mounts, config, secrets and environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub init_containers: BTreeMap<String, Helper>,
    /// Containers that run beside the main one for the pod's life, such as a log shipper
    /// (native sidecars: init containers that keep running, so a step's Job still ends).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sidecars: BTreeMap<String, Helper>,
    /// Annotations on the pods, such as `prometheus.io/scrape: "true"` or
    /// `gke-gcsfuse/volumes: "true"`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_annotations: BTreeMap<String, String>,
    /// Labels on the pods, besides mlship's own (`app.kubernetes.io/*`, `mlship.dev/*`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pod_labels: BTreeMap<String, String>,
    /// Environment variables whose values come from the pod (`{pod: name}`), from one key
    /// of `config` (`{config: LOG_LEVEL}`) or from one key of a secret
    /// (`{secret: hf, key: token}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env_from: BTreeMap<String, EnvSource>,
}

/// Where one environment variable's value comes from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvSource {
    /// A fact about the pod, read when it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<PodField>,
    /// A key of `config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// A secret from `secrets`, with `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The key of `secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The pod facts the downward API gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PodField {
    Name,
    Namespace,
    Uid,
    Ip,
    Node,
    NodeIp,
    ServiceAccount,
}

impl PodField {
    /// The field path the kubelet reads.
    pub fn path(self) -> &'static str {
        match self {
            PodField::Name => "metadata.name",
            PodField::Namespace => "metadata.namespace",
            PodField::Uid => "metadata.uid",
            PodField::Ip => "status.podIP",
            PodField::Node => "spec.nodeName",
            PodField::NodeIp => "status.hostIP",
            PodField::ServiceAccount => "spec.serviceAccountName",
        }
    }
}

/// A container beside a workload's main one: an init container or a sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Helper {
    /// Image name from `images`.
    pub image: String,
    /// Command and arguments. Default: the image's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Extra environment variables (besides the workload's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// CPU request and limit. Default: 100m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Quantity>,
    /// Memory request and limit. Default: 256Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Quantity>,
}

/// A workload's ServiceAccount.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccount {
    /// Annotations, such as `eks.amazonaws.com/role-arn` (IRSA) or
    /// `iam.gke.io/gcp-service-account` (GKE Workload Identity); usually set per environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// How to check: http, tcp, grpc, exec, or none (no probes at all). Default: http.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckKind>,
    /// http: liveness path. Default: /healthz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// http: readiness path. Default: the liveness path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    /// The port to check, by name: `http` or one of `ports`. Default: http, or `grpc` for
    /// a grpc check when the service has a port of that name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// exec: the command to run in the container; exit 0 is healthy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// grpc: the service name of the gRPC health protocol. Default: the server's overall health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_service: Option<String>,
    /// Seconds to wait before the first liveness check. Default: 10, or 0 with a startup probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay: Option<u32>,
    /// Seconds between liveness and readiness checks. Default: 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    /// Seconds a check may take. Default: 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Failed liveness checks in a row before a restart. Default: 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
    /// A startup probe, which holds the other checks back while the server starts (loads a
    /// model): it allows `period` × `failures` seconds. Default, for services with GPUs:
    /// every 10 s, 180 times (30 minutes); none otherwise. `failures: 0` turns it off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<Startup>,
}

/// How a probe checks a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// An HTTP GET; 2xx and 3xx are healthy.
    Http,
    /// A TCP connection.
    Tcp,
    /// The gRPC health checking protocol.
    Grpc,
    /// A command in the container.
    Exec,
    /// No probes.
    None,
}

/// A startup probe's budget.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Startup {
    /// Seconds between checks. Default: 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    /// Seconds a check may take. Default: 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Checks before the server counts as failed to start (and is restarted); 0 for no
    /// startup probe. Default: 180 for services with GPUs, else 30.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    /// Target average CPU utilisation, percent of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    /// Target average memory utilisation, percent of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<u32>,
    /// Scale on a Prometheus query with KEDA (a ScaledObject instead of the
    /// HorizontalPodAutoscaler), which also allows `min: 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusScaler>,
    /// A second Prometheus query, with its own `query`, that wakes a service scaled to zero:
    /// one whose value exists while no pod runs, such as the ingress controller's request
    /// rate (a runtime's own metrics vanish with its pods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wake: Option<PrometheusScaler>,
    /// How fast to add pods. Default: Kubernetes' (no waiting; 4 pods or 100% per 15 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<ScaleRule>,
    /// How fast to remove pods. Default: Kubernetes' (the highest count of the last 300 s;
    /// up to 100% per 15 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<ScaleRule>,
}

/// A Prometheus signal to scale on, averaged per pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusScaler {
    /// The Prometheus server's address, such as
    /// `http://prometheus-operated.monitoring.svc:9090`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// A signal with a query mlship writes for the serving runtime: `queue` (requests
    /// waiting), `requests` (requests per second) or `gpu` (GPU utilisation, percent, from
    /// NVIDIA's DCGM exporter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<Signal>,
    /// A PromQL query of your own, instead of `signal`, whose value is the service's total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The value per pod to keep: pods = ceil(query / target).
    pub target: f64,
    /// The value above which a service at zero pods wakes up (`min: 0`). Default: 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    Queue,
    Requests,
    Gpu,
}

/// How fast the autoscaler changes the pod count.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleRule {
    /// Seconds of recommendations to consider before changing the count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<u32>,
    /// At most this many pods per `period`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<u32>,
    /// At most this percent of the pods per `period`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u32>,
    /// Seconds of a policy's period. Default: 15 (60 with `pods` or `percent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expose {
    /// The Service's type: ClusterIP, NodePort or LoadBalancer. Default: ClusterIP.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<ServiceType>,
    /// Service port of `http`. Default: the container port. The other ports keep theirs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
    /// ClientIP keeps a client on one pod (for servers that hold sessions). Default: None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<SessionAffinity>,
    /// Ingress host name; absent means no Ingress (unless `hosts` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// More Ingress host names, served like `host`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Ingress path. Default: /.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// More Ingress paths (prefixes), each routed to the `http` port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Ingress annotations, such as the controller's body-size or timeout settings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Ingress class name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_class: Option<String>,
    /// TLS certificate Secret name for the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_secret: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ServiceType {
    ClusterIP,
    NodePort,
    LoadBalancer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SessionAffinity {
    None,
    ClientIP,
}

/// An interactive notebook server: the project's image with the server added, or a prebuilt
/// notebook image, with a workspace claim for its home folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
pub struct Notebook {
    /// The server: jupyterlab, code-server or rstudio. Default: jupyterlab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<NotebookKind>,
    /// An image from `images`: the notebook runs its notebook variant (the server installed
    /// above the image's dependencies), so its libraries are the ones production uses.
    /// jupyterlab only. Exactly one of `image` and `prebuilt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// A prebuilt notebook image, such as
    /// `ghcr.io/kubeflow/kubeflow/notebook-servers/codeserver-python:v1.10.0`: a tag other
    /// than `latest`, or a digest (`@sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prebuilt: Option<String>,
    /// kubeflow (a Kubeflow `Notebook`) or plain (a StatefulSet and a Service, reached with
    /// `kubectl port-forward`). Default: the project's `notebook_platform`, else plain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<NotebookPlatform>,
    /// Environments the notebook exists in, such as [dev]. Required: a notebook is never
    /// deployed to an environment by default.
    pub environments: Vec<String>,
    /// The claim that holds the home folder (/home/jovyan). It outlives the notebook: GitOps
    /// engines do not prune it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<Workspace>,
    /// Volume name to mount path: the project's volumes, as pipelines see them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mounts: BTreeMap<String, String>,
    /// Keys from `config` the notebook gets as environment variables. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<String>,
    /// Secret names from `secrets`; a notebook gets no secret it does not name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
    /// Extra environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(flatten)]
    pub resources: Resources,
}

/// The user notebooks run as: Kubeflow's images' `jovyan`, UID 1000 in group `users` (100),
/// with its home on the workspace claim (docs/security.md, "The notebook profile").
pub const NOTEBOOK_UID: i64 = 1000;
pub const NOTEBOOK_GID: i64 = 100;
pub const NOTEBOOK_HOME: &str = "/home/jovyan";
/// The port of Kubeflow's image contract, the one every notebook listens on.
pub const NOTEBOOK_PORT: i32 = 8888;

/// The notebook servers (docs/kubernetes.md, "Notebooks").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotebookKind {
    Jupyterlab,
    CodeServer,
    Rstudio,
}

/// Where notebooks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NotebookPlatform {
    /// A Kubeflow `Notebook` (kubeflow.org/v1): Kubeflow's controller, UI and culler.
    Kubeflow,
    /// A StatefulSet of one pod and a Service, for clusters without Kubeflow.
    Plain,
}

/// A notebook's workspace claim.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    /// Size, such as 20Gi. Default: 10Gi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<Quantity>,
    /// Storage class. Default: the cluster's default class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

/// Overrides for one environment. Every field is deep-merged over the base spec; `null`
/// removes what the base set. Overrides may only name things the base declares.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The environment's cluster (see the top-level `cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// A production environment refuses images not pinned by digest (policy
    /// `pinned-images`; the image lock pins them). Default: true for an environment named
    /// `prod` or `production`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Config overrides; `null` removes a key.
    pub config: Option<BTreeMap<String, serde_json::Value>>,
    /// Partial image overrides by name (typically `digest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<BTreeMap<String, serde_json::Value>>,
    /// Partial configuration file overrides by name (another `content` or `from` here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<BTreeMap<String, serde_json::Value>>,
    /// Partial secret overrides by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<BTreeMap<String, serde_json::Value>>,
    /// Partial volume overrides by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// Partial pipeline overrides by name; `null` leaves the pipeline out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipelines: Option<BTreeMap<String, serde_json::Value>>,
    /// Partial service overrides by name; `null` leaves the service out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<BTreeMap<String, serde_json::Value>>,
    /// Partial notebook overrides by name (a notebook's `environments` still decides where
    /// it exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notebooks: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gitops {
    pub engine: Engine,
    /// Git repository URL that holds the rendered tree.
    pub repo: String,
    /// Folder of the rendered tree inside the repository. Default: deploy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Branch, tag or commit to follow. Default: main.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Namespace of the engine's own objects. Default: argocd or flux-system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Argocd,
    Flux,
}

// What the spec's serving and training values mean, shared by the checks and lowering.

/// Where a model lives, as the serving runtimes read it.
pub enum Storage<'a> {
    /// A declared volume and the path in it.
    Volume(&'a str, &'a str),
    /// A Hugging Face model id.
    Hub(&'a str),
    /// An absolute path in the container.
    Path(&'a str),
    /// A URI only KServe's storage initializer reads (s3, gs, https, oci, ...).
    Remote,
}

pub fn storage(uri: &str) -> Storage<'_> {
    if let Some(rest) = uri.strip_prefix("pvc://") {
        let (vol, path) = rest.split_once('/').unwrap_or((rest, ""));
        Storage::Volume(vol, path.trim_matches('/'))
    } else if let Some(id) = uri.strip_prefix("hf://") {
        Storage::Hub(id.trim_matches('/'))
    } else if uri.starts_with('/') {
        Storage::Path(uri)
    } else {
        Storage::Remote
    }
}

/// Whether a KServe version ("0.16", "0.16.1", "v0.15.2", "1.0") is at least 0.`minor`.
pub fn kserve_at_least(version: &str, minor: u32) -> bool {
    match kserve_version(version) {
        Some((0, m)) => m >= minor,
        Some(_) => true,
        None => false,
    }
}

/// A KServe version's (major, minor), if it reads as one.
pub fn kserve_version(version: &str) -> Option<(u32, u32)> {
    let v = version.strip_prefix('v').unwrap_or(version);
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    if parts.any(|p| p.parse::<u32>().is_err()) {
        return None;
    }
    Some((major, minor))
}

/// The PromQL of a runtime's signal, summed over the service's pods (KEDA divides by the
/// pod count: `target` is per pod). None where the runtime has no such metric.
pub fn signal_query(runtime: ServingRuntime, signal: Signal, namespace: &str, full: &str) -> Option<String> {
    let pods = format!("namespace=\"{namespace}\",pod=~\"{full}-[a-z0-9]+-[a-z0-9]+\"");
    let q = match (signal, runtime) {
        (Signal::Queue, ServingRuntime::Vllm) => format!("sum(vllm:num_requests_waiting{{{pods}}})"),
        (Signal::Queue, ServingRuntime::Triton) => format!("sum(nv_inference_pending_request_count{{{pods}}})"),
        (Signal::Requests, ServingRuntime::Vllm) => format!("sum(rate(vllm:request_success_total{{{pods}}}[1m]))"),
        (Signal::Requests, ServingRuntime::Triton) => {
            format!("sum(rate(nv_inference_request_success{{{pods}}}[1m]))")
        }
        (Signal::Requests, ServingRuntime::Torchserve) => {
            format!("sum(rate(ts_inference_requests_total{{{pods}}}[1m]))")
        }
        (Signal::Gpu, _) => format!("sum(DCGM_FI_DEV_GPU_UTIL{{{pods}}})"),
        _ => return None,
    };
    Some(q)
}

/// The `${name}` references of a step's argument.
pub fn references(arg: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = arg;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}
