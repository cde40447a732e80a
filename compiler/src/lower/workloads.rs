//! Workloads: services, scheduled pipelines and pipeline steps of one environment, as plans.
//!
//! Takes: one environment's merged spec, its image references, config and secrets. Gives: a
//! [`ServicePlan`] per service, a [`CronPlan`] per scheduled pipeline, and a [`StepPlan`] per
//! unscheduled step (in dependency levels), each with its pod fully decided: containers,
//! resources, probes, environment, volumes, placement. Numbers that do not fit their
//! Kubernetes field are reported at the spec value.

use super::{LEVEL_TIMEOUT, SERVICE_CPU, SERVICE_MEMORY, STEP_CPU, STEP_MEMORY};
use crate::diag::{Code, Diagnostic};
use crate::names;
use crate::plan::{
    ConfigPlan, ContainerPlan, CronPlan, EnvFrom, EnvRef, FilePlan, IngressPlan, JobPlan, MountPlan, PodPlan, PortPlan,
    SecretPlan, ServicePlan, StepPlan, TemplatePlan, TolerationPlan, VolumePlan, VolumeSource,
};
use crate::source::Path;
use crate::spec::ServingRuntime;
use crate::spec::{
    AccessMode, Engine, EnvSource, PipelineEngine, Resources, Rollout, ServiceType, SessionAffinity, Shm, Spec, Spread,
    Step, TolerationOperator,
};
use crate::units::{Quantity, parse_duration};
use std::collections::BTreeMap;

/// The API server's default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 hours).
pub const SESSION_TIMEOUT: i32 = 10800;

/// One environment's lowering context.
pub(super) struct Cx<'a> {
    pub spec: &'a Spec,
    pub env: &'a str,
    pub images: &'a BTreeMap<String, String>,
    pub config: Option<&'a ConfigPlan>,
    pub secrets: &'a BTreeMap<String, SecretPlan>,
    pub files: &'a BTreeMap<String, FilePlan>,
    pub engine: Option<Engine>,
    pub diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_> {
    fn project(&self) -> &str {
        &self.spec.project
    }

    pub(super) fn labels(&self, workload: &str, component: &str) -> BTreeMap<String, String> {
        crate::plan::labels(self.project(), self.env, Some(workload), Some(component))
    }

    /// A spec number as the `i32` its Kubernetes field takes, or a located error.
    pub(super) fn int(&mut self, at: Path, v: u64) -> i32 {
        i32::try_from(v).unwrap_or_else(|_| {
            self.diags.push(
                Diagnostic::error(Code::Range, format!("{v} is too large for Kubernetes"))
                    .at(at)
                    .help(format!("use a number from 0 to {}", i32::MAX)),
            );
            0
        })
    }

    pub fn service(&mut self, name: &str) -> ServicePlan {
        let svc = &super::serving::with_runtime(name, &self.spec.services[name]);
        let at = Path::of(&["services", name]);
        let full_name = names::workload(self.project(), name);
        let mut container = self.container(
            "server",
            svc.image.as_deref().unwrap_or_default(),
            &svc.command,
            &svc.resources,
            (SERVICE_CPU, SERVICE_MEMORY),
            &svc.env,
            &svc.secrets,
            &svc.mounts,
        );
        let port = self.int(at.key("port"), svc.http_port().into());
        let mut extra_ports = Vec::new();
        for (pname, p) in &svc.ports {
            let port = self.int(at.key("ports").key(pname), (*p).into());
            extra_ports.push(PortPlan {
                name: pname.clone(),
                port,
            });
        }
        container.ports = std::iter::once(PortPlan {
            name: "http".into(),
            port,
        })
        .chain(extra_ports.iter().cloned())
        .collect();
        (container.liveness, container.readiness, container.startup) =
            self.probes(&at.key("health"), svc, &container.ports);
        if svc.kserve_model() {
            // The ServingRuntime's container has its own ports, and probes where it wants them.
            container.ports.clear();
            if svc.health.is_none() {
                (container.liveness, container.readiness, container.startup) = (None, None, None);
            }
        } else if svc.runtime() == ServingRuntime::Kserve && super::serving::knative(self.spec) {
            // Knative takes one port, named http1 (or h2c), and probes on it.
            super::serving::knative_port(&mut container);
        }
        let replicas = match svc.autoscale {
            Some(_) => None,
            None => Some(self.int(at.key("replicas"), svc.replicas.unwrap_or(1).into())),
        };
        let kserve = (svc.runtime() == ServingRuntime::Kserve).then(|| self.kserve(&at, svc));
        let autoscale = match (&svc.autoscale, &kserve) {
            (Some(a), None) => Some(self.autoscale(&at.key("autoscale"), name, svc, a)),
            _ => None,
        };
        let min_pods = svc.autoscale.as_ref().map_or(svc.replicas.unwrap_or(1), |a| a.min);
        let service_port = match svc.expose.as_ref().and_then(|e| e.port) {
            Some(p) => self.int(at.key("expose").key("port"), p.into()),
            None => port,
        };
        let ingress = svc.expose.as_ref().and_then(|e| {
            let hosts: Vec<String> = e.host.iter().chain(&e.hosts).cloned().collect();
            let mut paths: Vec<String> = e.path.iter().chain(&e.paths).cloned().collect();
            if paths.is_empty() {
                paths.push("/".into());
            }
            (!hosts.is_empty()).then(|| IngressPlan {
                hosts,
                paths,
                path_type: "Prefix".into(),
                annotations: e.annotations.clone(),
                class: e.ingress_class.clone(),
                tls_secret: e.tls_secret.clone(),
            })
        });
        let mut annotations = svc.pod.pod_annotations.clone();
        if let Some(cm) = self.config {
            // The ConfigMap's name carries its hash; naming it here rolls the pods on change.
            annotations.insert("mlship.dev/config".to_string(), cm.name.clone());
        }
        let mut volumes = self.volumes(&svc.mounts, &svc.secrets, &svc.resources, SERVICE_MEMORY);
        volumes.extend(self.file_volumes(&svc.pod.files));
        container.mounts.extend(self.file_mounts(&svc.pod.files));
        container.env_refs.extend(self.env_refs(&svc.pod.env_from));
        let init = self.helpers(&svc.pod.init_containers, &svc.pod.sidecars, &container);
        let mut labels = svc.pod.pod_labels.clone();
        labels.extend(self.labels(name, "serving"));
        let mut pod = self.pod(name, None, vec![container], init, volumes, &svc.resources);
        pod.spread = svc.spread.map(|s| {
            let key = match s {
                Spread::Node => "kubernetes.io/hostname",
                Spread::Zone => "topology.kubernetes.io/zone",
            };
            let selector = BTreeMap::from([("app.kubernetes.io/instance".to_string(), full_name.clone())]);
            (key.to_string(), selector)
        });
        ServicePlan {
            name: name.to_string(),
            full_name,
            replicas,
            revision_history: 5,
            max_surge: "25%".into(),
            max_unavailable: 0,
            recreate: self.recreate(svc),
            template: TemplatePlan {
                labels,
                annotations,
                pod,
            },
            port,
            service_port,
            extra_ports,
            service_type: format!(
                "{:?}",
                svc.expose
                    .as_ref()
                    .and_then(|e| e.kind)
                    .unwrap_or(ServiceType::ClusterIP)
            ),
            session_affinity: svc
                .expose
                .as_ref()
                .and_then(|e| e.session_affinity)
                .filter(|a| *a == SessionAffinity::ClientIP)
                .map(|_| ("ClientIP".to_string(), SESSION_TIMEOUT)),
            account_annotations: svc
                .service_account
                .as_ref()
                .map(|a| a.annotations.clone())
                .unwrap_or_default(),
            disruption_budget: (min_pods > 1 && kserve.is_none()).then_some(1),
            autoscale,
            kserve,
            ingress,
        }
    }

    /// A scheduled pipeline: every step in one pod, in dependency order.
    pub fn cron(&mut self, pipeline: &str, schedule: &str) -> CronPlan {
        let pipe = &self.spec.pipelines[pipeline];
        let order = super::depths(&pipe.steps);
        let steps: Vec<(&str, &Step)> = order.iter().map(|(n, _)| (n.as_str(), &pipe.steps[n])).collect();
        let timeout: Option<u64> = steps
            .iter()
            .map(|(_, s)| s.timeout.as_deref().and_then(|t| parse_duration(t).ok()))
            .sum();
        let retries = steps.iter().filter_map(|(_, s)| s.retries).max().unwrap_or(0);
        CronPlan {
            name: names::cronjob(self.project(), pipeline),
            schedule: schedule.to_string(),
            time_zone: pipe.timezone.clone(),
            concurrency: "Forbid".into(),
            successful_history: 3,
            failed_history: 3,
            job: self.job(pipeline, &steps, timeout, retries),
        }
    }

    /// Unscheduled steps by depth in their pipeline's graph (0 = no `needs`), and each
    /// level's longest timeout.
    pub fn steps(&mut self) -> (Vec<StepPlan>, Vec<u64>) {
        let mut levels: Vec<Vec<(&str, &str)>> = Vec::new();
        let spec = self.spec;
        let jobs = |p: &crate::spec::Pipeline| p.schedule.is_none() && spec.engine_of(p) == PipelineEngine::Jobs;
        for (pname, pipe) in spec.pipelines.iter().filter(|(_, p)| jobs(p)) {
            for (step, depth) in super::depths(&pipe.steps) {
                if levels.len() <= depth {
                    levels.resize(depth + 1, Vec::new());
                }
                let name = pipe
                    .steps
                    .get_key_value(&step)
                    .map(|(k, _)| k.as_str())
                    .unwrap_or_default();
                levels[depth].push((pname, name));
            }
        }
        let mut out = Vec::new();
        let mut timeouts = Vec::new();
        for (depth, level) in levels.iter().enumerate() {
            let mut longest = None;
            for (pname, sname) in level {
                let step = &spec.pipelines[*pname].steps[*sname];
                let timeout = step.timeout.as_deref().and_then(|t| parse_duration(t).ok());
                longest = longest.max(Some(timeout.unwrap_or(LEVEL_TIMEOUT)));
                let retries = step.retries.unwrap_or(0);
                let mut job = self.job(pname, &[(sname, step)], timeout, retries);
                let sat = Path::of(&["pipelines", pname, "steps", sname, "tune"]);
                let tune = step
                    .tune
                    .as_ref()
                    .map(|t| self.tune(&sat, t, &mut job.template.pod.containers[0]));
                let at = Path::of(&["pipelines", pname, "steps", sname]);
                let train = step.nodes.map(|n| self.train(&at, step, n));
                out.push(StepPlan {
                    tune,
                    train,
                    pipeline: pname.to_string(),
                    step: sname.to_string(),
                    needs: step.needs.clone(),
                    folder: match self.engine {
                        Some(Engine::Flux) => format!("jobs/level-{depth}"),
                        _ => String::new(),
                    },
                    // Argo CD applies wave N only once every object of earlier waves is
                    // healthy, and a Job is healthy when it has completed.
                    sync_wave: (self.engine != Some(Engine::Flux)).then(|| (depth + 1).to_string()),
                    job,
                });
            }
            timeouts.push(longest.unwrap_or(LEVEL_TIMEOUT));
        }
        (out, timeouts)
    }

    fn job(&mut self, pipeline: &str, steps: &[(&str, &Step)], timeout: Option<u64>, retries: u32) -> JobPlan {
        let mut containers = Vec::new();
        let mut volumes: Vec<VolumePlan> = Vec::new();
        let mut merged = Resources::default();
        let mut labels = BTreeMap::new();
        let mut annotations = BTreeMap::new();
        let parameters = &self.spec.pipelines[pipeline].parameters;
        for (name, step) in steps {
            let mut env = step.env.clone();
            for (p, value) in parameters {
                env.entry(p.clone()).or_insert_with(|| value.text());
            }
            env.entry("MLSHIP_PIPELINE".into())
                .or_insert_with(|| pipeline.to_string());
            env.entry("MLSHIP_STEP".into()).or_insert_with(|| name.to_string());
            let mut container = self.container(
                name,
                &step.image,
                &step.run,
                &step.resources,
                (STEP_CPU, STEP_MEMORY),
                &env,
                &step.secrets,
                &step.mounts,
            );
            container.mounts.extend(self.file_mounts(&step.pod.files));
            container.env_refs.extend(self.env_refs(&step.pod.env_from));
            for helper in self.helpers(&step.pod.init_containers, &step.pod.sidecars, &container) {
                if containers.iter().any(|c: &ContainerPlan| c.name == helper.name)
                    || steps.iter().any(|(s, _)| *s == helper.name)
                {
                    let key = if step.pod.sidecars.contains_key(&helper.name) {
                        "sidecars"
                    } else {
                        "init_containers"
                    };
                    self.diags.push(
                        Diagnostic::error(
                            Code::Conflict,
                            format!("`{}` names two containers of the scheduled pipeline's pod", helper.name),
                        )
                        .at(Path::of(&["pipelines", pipeline, "steps", name, key]).key(&helper.name))
                        .help("a scheduled pipeline runs every step in one pod; give each step's helpers names of their own"),
                    );
                    continue;
                }
                containers.push(helper);
            }
            containers.push(container);
            labels.extend(step.pod.pod_labels.clone());
            annotations.extend(step.pod.pod_annotations.clone());
            let mut vols = self.volumes(&step.mounts, &step.secrets, &step.resources, STEP_MEMORY);
            vols.extend(self.file_volumes(&step.pod.files));
            for vol in vols {
                if !volumes.iter().any(|x| x.name == vol.name) {
                    volumes.push(vol);
                }
            }
            merged.node_selector.extend(step.resources.node_selector.clone());
            // One pod for every step: its classes are the steps' one choice.
            for (key, mine, theirs) in [
                (
                    "priority_class",
                    &step.resources.priority_class,
                    &mut merged.priority_class,
                ),
                (
                    "runtime_class",
                    &step.resources.runtime_class,
                    &mut merged.runtime_class,
                ),
            ] {
                match (mine, &theirs) {
                    (Some(m), Some(t)) if m != t => self.diags.push(
                        Diagnostic::error(
                            Code::Conflict,
                            format!("a scheduled pipeline runs every step in one pod, which cannot have both {key} `{t}` and `{m}`"),
                        )
                        .at(Path::of(&["pipelines", pipeline, "steps", name, key]))
                        .help("give the steps one value, or run the pipeline on argo-workflows, where each step has its own pod"),
                    ),
                    (Some(m), None) => *theirs = Some(m.clone()),
                    _ => {}
                }
            }
            for t in &step.resources.tolerations {
                if !merged.tolerations.contains(t) {
                    merged.tolerations.push(t.clone());
                }
            }
        }
        let at = match steps {
            [(name, _)] => Path::of(&["pipelines", pipeline, "steps", name]),
            _ => Path::of(&["pipelines", pipeline]),
        };
        let backoff_limit = self.int(at.key("retries"), retries.into());
        let active_deadline = timeout.map(|t| {
            i64::try_from(t).unwrap_or_else(|_| {
                self.diags.push(
                    Diagnostic::error(Code::Duration, format!("a timeout of {t} s is too long")).at(at.key("timeout")),
                );
                0
            })
        });
        let main = containers.pop().expect("a job has at least one step");
        labels.extend(self.labels(pipeline, "pipeline"));
        // Kueue reads its labels on the Job: one step's own or its pipeline's; a scheduled
        // pipeline's one Job takes the pipeline's (the checks refuse a step's there).
        let queue = &self.spec.pipelines[pipeline].queue;
        let kueue = match steps {
            [(_, step)] => step.queue.labels(queue),
            _ => queue.labels(queue),
        };
        JobPlan {
            labels: kueue,
            backoff_limit,
            active_deadline,
            template: TemplatePlan {
                labels,
                annotations,
                pod: self.pod(pipeline, Some("Never"), vec![main], containers, volumes, &merged),
            },
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn container(
        &self,
        name: &str,
        image: &str,
        command: &[String],
        r: &Resources,
        (cpu_default, memory_default): (&str, &str),
        env: &BTreeMap<String, String>,
        secrets: &[String],
        mounts: &BTreeMap<String, String>,
    ) -> ContainerPlan {
        let cpu = canonical_or(r.cpu.as_ref(), cpu_default);
        let cpu_limit = r
            .cpu_limit
            .as_ref()
            .map_or_else(|| cpu.clone(), |q| canonical_or(Some(q), cpu_default));
        let memory = canonical_or(r.memory.as_ref(), memory_default);
        let memory_limit = r
            .memory_limit
            .as_ref()
            .map_or_else(|| memory.clone(), |q| canonical_or(Some(q), memory_default));
        let mut requests = BTreeMap::from([("cpu".to_string(), cpu), ("memory".to_string(), memory)]);
        let mut limits = BTreeMap::from([("cpu".to_string(), cpu_limit), ("memory".to_string(), memory_limit)]);
        if let Some(disk) = &r.ephemeral_storage {
            let disk = canonical_size(disk);
            requests.insert("ephemeral-storage".into(), disk.clone());
            limits.insert("ephemeral-storage".into(), disk);
        }
        if let Some(g) = r.gpu.filter(|g| *g > 0) {
            requests.insert("nvidia.com/gpu".into(), g.to_string());
            limits.insert("nvidia.com/gpu".into(), g.to_string());
        }
        let mut env_from: Vec<EnvFrom> = self.config.iter().map(|c| EnvFrom::ConfigMap(c.name.clone())).collect();
        let mut env_refs = BTreeMap::new();
        // A secret missing from `self.secrets` failed to read and was reported.
        for (s, plan) in secrets.iter().filter_map(|s| Some((s, self.secrets.get(s)?))) {
            let sec = &self.spec.secrets[s];
            if sec.mount.is_some() {
                continue;
            }
            if sec.env.is_empty() {
                env_from.push(EnvFrom::Secret(plan.secret_name.clone()));
            }
            for (var, key) in &sec.env {
                let r = EnvRef::SecretKey {
                    name: plan.secret_name.clone(),
                    key: key.clone(),
                };
                env_refs.insert(var.clone(), r);
            }
        }
        let mut vms = vec![MountPlan {
            volume: "tmp".into(),
            path: "/tmp".into(),
            read_only: false,
            sub_path: None,
        }];
        vms.extend(
            scratch_for(r, memory_default)
                .into_iter()
                .map(|(volume, path, _, _)| MountPlan {
                    volume,
                    path,
                    read_only: false,
                    sub_path: None,
                }),
        );
        vms.extend(mounts.iter().map(|(vol, path)| {
            MountPlan {
                volume: format!("vol-{vol}"),
                path: path.clone(),
                read_only: self
                    .spec
                    .volumes
                    .get(vol)
                    .and_then(|v| v.csi.as_ref())
                    .is_some_and(|c| c.read_only),
                sub_path: None,
            }
        }));
        for s in secrets {
            if let Some(path) = &self.spec.secrets[s].mount {
                vms.push(MountPlan {
                    volume: format!("secret-{s}"),
                    path: path.clone(),
                    read_only: true,
                    sub_path: None,
                });
            }
        }
        ContainerPlan {
            name: name.to_string(),
            // No image: a KServe model, whose ServingRuntime names one.
            image: self.images.get(image).cloned().unwrap_or_default(),
            command: command.to_vec(),
            env: env.clone(),
            env_refs,
            env_from,
            requests,
            limits,
            mounts: vms,
            ports: Vec::new(),
            liveness: None,
            readiness: None,
            startup: None,
            restart_policy: None,
        }
    }

    /// Volumes: /tmp scratch, persistent volumes, secrets mounted as files.
    pub(super) fn volumes(
        &self,
        mounts: &BTreeMap<String, String>,
        secrets: &[String],
        r: &Resources,
        memory_default: &str,
    ) -> Vec<VolumePlan> {
        let mut vols = vec![VolumePlan {
            name: "tmp".into(),
            source: VolumeSource::EmptyDir {
                memory: false,
                size: None,
            },
        }];
        for (name, _, memory, size) in scratch_for(r, memory_default) {
            vols.push(VolumePlan {
                name,
                source: VolumeSource::EmptyDir {
                    memory,
                    size: Some(size),
                },
            });
        }
        vols.extend(mounts.keys().map(|vol| VolumePlan {
            name: format!("vol-{vol}"),
            source: self.volume_source(vol),
        }));
        for (s, plan) in secrets.iter().filter_map(|s| Some((s, self.secrets.get(s)?))) {
            if self.spec.secrets[s].mount.is_some() {
                vols.push(VolumePlan {
                    name: format!("secret-{s}"),
                    source: VolumeSource::Secret(plan.secret_name.clone()),
                });
            }
        }
        vols
    }

    /// Whether a service's rollout stops the old pod first: as the spec says, or when its one
    /// pod holds a ReadWriteOnce claim that a surge pod could not mount (check warns).
    fn recreate(&self, svc: &crate::spec::Service) -> bool {
        match svc.rollout {
            Some(r) => r == Rollout::Recreate,
            None => {
                let single = svc.autoscale.as_ref().map_or(svc.replicas.unwrap_or(1), |a| a.max) <= 1;
                single
                    && svc
                        .mounts
                        .keys()
                        .filter_map(|v| self.spec.volumes.get(v))
                        .any(crate::spec::Volume::one_node)
            }
        }
    }

    /// How a pod reaches a declared volume: the shared claim, an existing one, its own
    /// claim, or an inline CSI volume.
    pub(super) fn volume_source(&self, vol: &str) -> VolumeSource {
        let Some(v) = self.spec.volumes.get(vol) else {
            return VolumeSource::Claim(names::workload(self.project(), vol));
        };
        let access_mode = format!("{:?}", v.access.unwrap_or(AccessMode::ReadWriteOnce));
        match (&v.claim, &v.csi, &v.size) {
            (Some(claim), _, _) => VolumeSource::Claim(claim.clone()),
            (_, Some(csi), _) => VolumeSource::Csi {
                driver: csi.driver.clone(),
                attributes: csi.attributes.clone(),
                read_only: csi.read_only,
            },
            (_, _, Some(size)) if v.per_pod => VolumeSource::Ephemeral {
                access_mode,
                size: canonical_size(size),
                storage_class: v.storage_class.clone(),
            },
            _ => VolumeSource::Claim(names::workload(self.project(), vol)),
        }
    }

    /// The variables a workload reads one by one (`env_from`).
    pub(super) fn env_refs(&self, from: &BTreeMap<String, EnvSource>) -> BTreeMap<String, EnvRef> {
        let mut out = BTreeMap::new();
        for (var, src) in from {
            let r = match (src.pod, &src.config, &src.secret, &src.key) {
                (Some(field), ..) => EnvRef::Field(field.path()),
                (_, Some(key), ..) => match self.config {
                    Some(cm) => EnvRef::ConfigKey {
                        name: cm.name.clone(),
                        key: key.clone(),
                    },
                    None => continue,
                },
                (_, _, Some(secret), Some(key)) => match self.secrets.get(secret) {
                    Some(plan) => EnvRef::SecretKey {
                        name: plan.secret_name.clone(),
                        key: key.clone(),
                    },
                    None => continue,
                },
                _ => continue,
            };
            out.insert(var.clone(), r);
        }
        out
    }

    pub(super) fn pod(
        &self,
        workload: &str,
        restart: Option<&str>,
        containers: Vec<ContainerPlan>,
        init_containers: Vec<ContainerPlan>,
        volumes: Vec<VolumePlan>,
        r: &Resources,
    ) -> PodPlan {
        PodPlan {
            service_account: names::workload(self.project(), workload),
            restart_policy: restart.map(str::to_string),
            containers,
            init_containers,
            volumes,
            node_selector: r.node_selector.clone(),
            priority_class: r.priority_class.clone(),
            runtime_class: r.runtime_class.clone(),
            spread: None,
            tolerations: r
                .tolerations
                .iter()
                .map(|t| TolerationPlan {
                    key: t.key.clone(),
                    operator: format!(
                        "{:?}",
                        t.operator.unwrap_or(if t.value.is_some() {
                            TolerationOperator::Equal
                        } else {
                            TolerationOperator::Exists
                        })
                    ),
                    value: t.value.clone(),
                    effect: t.effect.map(|e| format!("{e:?}")),
                })
                .collect(),
        }
    }
}

/// A quantity in canonical form (as the API server stores it), or as written when unparsed.
pub(super) fn canonical_size(q: &crate::spec::Quantity) -> String {
    canonical_text(q.text())
}

/// [`canonical_size`] of a quantity the spec may leave out, `default` then.
pub(super) fn canonical_or(q: Option<&crate::spec::Quantity>, default: &str) -> String {
    canonical_text(q.map_or_else(|| default.to_string(), crate::spec::Quantity::text))
}

fn canonical_text(text: String) -> String {
    Quantity::parse(&text).map_or(text, |q| q.canonical())
}

/// The scratch folders besides /tmp: `/dev/shm` (by default for workloads with GPUs, half
/// the memory limit) and the spec's `scratch`. Each as (volume, path, in memory, size).
fn scratch_for(r: &Resources, memory_default: &str) -> Vec<(String, String, bool, String)> {
    let mut out = Vec::new();
    let gpu = r.gpu.is_some_and(|g| g > 0);
    let shm = match &r.shm {
        Some(Shm::Size(size)) => Some(canonical_size(size)),
        Some(Shm::On(false)) => None,
        Some(Shm::On(true)) => Some(half_memory(r, memory_default)),
        None if gpu => Some(half_memory(r, memory_default)),
        None => None,
    };
    if let Some(size) = shm {
        out.push(("shm".to_string(), "/dev/shm".to_string(), true, size));
    }
    for (path, s) in &r.scratch {
        // Named by the path, so that steps sharing a pod (a CronJob) keep their folders apart.
        let name = format!("scratch-{}", names::short_hash(path.as_bytes()));
        out.push((name, path.clone(), s.memory, canonical_size(&s.size)));
    }
    out
}

/// Half the memory limit, in whole bytes: the default size of `/dev/shm`, which counts
/// against that limit.
fn half_memory(r: &Resources, memory_default: &str) -> String {
    let limit = r
        .memory_limit
        .as_ref()
        .or(r.memory.as_ref())
        .map_or_else(|| memory_default.to_string(), crate::spec::Quantity::text);
    Quantity::parse(&limit).map_or(limit, |q| {
        Quantity {
            milli: q.milli / 2000 * 1000,
            binary: q.binary,
        }
        .canonical()
    })
}
