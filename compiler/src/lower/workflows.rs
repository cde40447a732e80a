//! Pipelines on Argo Workflows, as plans.
//!
//! Takes: one environment's merged spec and a pipeline whose engine is `argo-workflows`
//! (checked: its conditions parse and type-check). Gives: a [`WorkflowPlan`]: each step as a
//! DAG task with its pod decided exactly as a Job's would be (the same container, volumes,
//! placement and defaults), its retries, deadline, outputs and condition in Argo's form,
//! its file outputs and inputs as Argo artifacts or as folders of the artifact volume;
//! the parameters with their defaults; the whole run's deadline; and for a schedule the
//! CronWorkflow's settings, else where the run-once Workflow goes (folder, sync wave).

use super::workloads::Cx;
use super::{LEVEL_TIMEOUT, STEP_CPU, STEP_MEMORY};
use crate::condition;
use crate::names;
use crate::plan::{CronWorkflowPlan, MountPlan, RetryPlan, TaskPlan, TemplatePlan, VolumePlan, WorkflowPlan};
use crate::source::Path;
use crate::spec::{Engine, RetryPolicy, ValueType};
use crate::units::parse_duration;

/// The wait before a step's first retry, when the spec names none.
pub const RETRY_BACKOFF: u64 = 30;
/// Each later retry waits twice as long, up to this many times the first wait.
pub const RETRY_FACTOR: i32 = 2;
pub const RETRY_CAP: u64 = 10;
/// How long after a missed start time a scheduled run still starts.
pub const STARTING_DEADLINE: i64 = 300;

impl Cx<'_> {
    pub fn workflow(&mut self, pipeline: &str) -> WorkflowPlan {
        let spec = self.spec;
        let pipe = &spec.pipelines[pipeline];
        let at = Path::of(&["pipelines", pipeline]);
        let order = super::depths(&pipe.steps);
        let mut tasks = Vec::new();
        let mut levels: Vec<u64> = Vec::new();
        for (name, depth) in &order {
            let step = &pipe.steps[name];
            let sat = at.key("steps").key(name);
            let timeout = step.timeout.as_deref().and_then(|t| parse_duration(t).ok());
            if levels.len() <= *depth {
                levels.resize(depth + 1, 0);
            }
            levels[*depth] = levels[*depth].max(timeout.unwrap_or(LEVEL_TIMEOUT));
            let mut env = step.env.clone();
            for p in pipe.parameters.keys() {
                env.entry(p.clone())
                    .or_insert_with(|| format!("{{{{workflow.parameters.{p}}}}}"));
            }
            env.entry("MLSHIP_PIPELINE".into())
                .or_insert_with(|| pipeline.to_string());
            env.entry("MLSHIP_STEP".into()).or_insert_with(|| name.clone());
            let mut container = self.container(
                "main",
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
            let mut volumes = self.volumes(&step.mounts, &step.secrets, &step.resources, STEP_MEMORY);
            volumes.extend(self.file_volumes(&step.pod.files));
            let files = |kind: Option<ValueType>| kind == Some(ValueType::File);
            let (mut artifacts, mut inputs) = (Vec::new(), Vec::new());
            match &pipe.artifact_volume {
                // Each file output is a folder of the volume, one per run, mounted where the
                // step writes it and, read-only, where the steps that take it read it.
                Some(vol) => {
                    let folder = |step: &str, output: &str| format!("{{{{workflow.name}}}}/{step}/{output}");
                    let mut mounts: Vec<MountPlan> = step
                        .outputs
                        .iter()
                        .filter(|(_, o)| files(o.kind))
                        .map(|(o, out)| MountPlan {
                            volume: format!("vol-{vol}"),
                            path: out.path.clone(),
                            read_only: false,
                            sub_path: Some(folder(name, o)),
                        })
                        .collect();
                    mounts.extend(step.inputs.values().filter_map(|i| {
                        let (from, output) = i.from.split_once('.')?;
                        Some(MountPlan {
                            volume: format!("vol-{vol}"),
                            path: i.path.clone(),
                            read_only: true,
                            sub_path: Some(folder(from, output)),
                        })
                    }));
                    if !mounts.is_empty() && !volumes.iter().any(|v| v.name == format!("vol-{vol}")) {
                        volumes.push(VolumePlan {
                            name: format!("vol-{vol}"),
                            source: self.volume_source(vol),
                        });
                    }
                    container.mounts.extend(mounts);
                }
                None => {
                    artifacts = step
                        .outputs
                        .iter()
                        .filter(|(_, o)| files(o.kind))
                        .map(|(o, out)| (o.clone(), out.path.clone()))
                        .collect();
                    inputs = step
                        .inputs
                        .iter()
                        .filter_map(|(n, i)| {
                            let (from, output) = i.from.split_once('.')?;
                            let source = format!("{{{{tasks.{from}.outputs.artifacts.{output}}}}}");
                            Some((n.clone(), i.path.clone(), source))
                        })
                        .collect();
                }
            }
            let mut labels = step.pod.pod_labels.clone();
            labels.extend(self.labels(pipeline, "pipeline"));
            labels.insert("mlship.dev/step".into(), name.clone());
            // Kueue admits Argo's step pods one by one (its pod integration), by their labels.
            labels.extend(step.queue.labels(&self.spec.pipelines[pipeline].queue));
            let retries = step.retries.unwrap_or(0);
            let retry = (retries > 0).then(|| {
                let backoff = step
                    .retry_backoff
                    .as_deref()
                    .and_then(|b| parse_duration(b).ok())
                    .unwrap_or(RETRY_BACKOFF);
                RetryPlan {
                    limit: self.int(sat.key("retries"), retries.into()),
                    policy: format!("{:?}", step.retry_policy.unwrap_or(RetryPolicy::Always)),
                    backoff: format!("{backoff}s"),
                    factor: RETRY_FACTOR,
                    max_backoff: format!("{}s", backoff.saturating_mul(RETRY_CAP)),
                }
            });
            let when = step
                .when
                .as_deref()
                .and_then(|w| condition::parse(w).ok())
                .map(|e| e.argo(&|v| crate::check::type_of(pipe, v)));
            let tune = step
                .tune
                .as_ref()
                .map(|t| self.tune(&sat.key("tune"), t, &mut container));
            let train = step.nodes.map(|n| self.train(&sat, step, n));
            tasks.push(TaskPlan {
                tune,
                train,
                name: name.clone(),
                needs: step.needs.clone(),
                when,
                retry,
                timeout: timeout.map(|t| self.seconds(&sat.key("timeout"), t)),
                outputs: step
                    .outputs
                    .iter()
                    .filter(|(_, o)| !files(o.kind))
                    .map(|(n, o)| (n.clone(), o.path.clone()))
                    .collect(),
                artifacts,
                inputs,
                template: TemplatePlan {
                    labels,
                    annotations: step.pod.pod_annotations.clone(),
                    pod: self.pod(
                        pipeline,
                        None,
                        vec![container.clone()],
                        self.helpers(&step.pod.init_containers, &step.pod.sidecars, &container),
                        volumes,
                        &step.resources,
                    ),
                },
            });
        }
        let deadline = match pipe.timeout.as_deref().and_then(|t| parse_duration(t).ok()) {
            Some(t) => t,
            None => levels.iter().sum(),
        };
        let active_deadline = self.seconds(&at.key("timeout"), deadline);
        let cron = pipe.schedule.as_ref().map(|s| CronWorkflowPlan {
            schedules: vec![s.clone()],
            timezone: pipe.timezone.clone(),
            concurrency: "Forbid".into(),
            successful_history: 3,
            failed_history: 3,
            starting_deadline: STARTING_DEADLINE,
        });
        let name = names::workload(&spec.project, pipeline);
        WorkflowPlan {
            pipeline: pipeline.to_string(),
            executor_role: format!("{name}-executor"),
            service_account: name.clone(),
            name,
            parameters: pipe.parameters.iter().map(|(k, v)| (k.clone(), v.text())).collect(),
            tasks,
            active_deadline,
            pod_gc: "OnPodSuccess".into(),
            cron,
            folder: match self.engine {
                Some(Engine::Flux) => "workflows".into(),
                _ => String::new(),
            },
            // The Workflow names its template, which must exist when the run starts.
            sync_wave: (self.engine != Some(Engine::Flux)).then(|| "1".into()),
        }
    }

    /// A number of seconds as the `i64` Kubernetes takes, or a located error.
    fn seconds(&mut self, at: &Path, t: u64) -> i64 {
        i64::try_from(t).unwrap_or_else(|_| {
            self.diags.push(
                crate::diag::Diagnostic::error(crate::diag::Code::Duration, format!("a timeout of {t} s is too long"))
                    .at(at.clone()),
            );
            0
        })
    }
}
