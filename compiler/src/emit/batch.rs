//! Batch: pipeline steps as Jobs, scheduled pipelines as CronJobs.
//!
//! Takes: an [`EnvPlan`]'s steps and scheduled pipelines. Gives: one Job per unscheduled step,
//! named by a hash of its spec so that a changed step is a new Job (Jobs are immutable), in
//! the folder and sync wave lowering chose; one CronJob per scheduled pipeline.

use super::{Emit, Kind, Object, Target, pod, to_value};
use crate::names;
use crate::plan::{EnvPlan, JobPlan, Plan, StepPlan};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use serde_json::Value;
use std::collections::BTreeMap;

pub const TARGET: Target = Target {
    name: "batch",
    kinds: &[
        Kind::namespaced("batch/v1", "Job").pods(&[&["spec", "template", "spec"]]),
        Kind::namespaced("batch/v1", "CronJob").pods(&[&["spec", "jobTemplate", "spec", "template", "spec"]]),
    ],
    emit: Emit::Env(objects),
};

fn objects(_: &Plan, env: &EnvPlan) -> Vec<Object> {
    let mut out = Vec::new();
    for p in &env.pipelines {
        if let Some(c) = &p.cron {
            let cron = CronJob {
                metadata: super::meta(env, &c.name, Some(&p.name), Some("pipeline")),
                spec: Some(CronJobSpec {
                    schedule: c.schedule.clone(),
                    concurrency_policy: Some(c.concurrency.clone()),
                    successful_jobs_history_limit: Some(c.successful_history),
                    failed_jobs_history_limit: Some(c.failed_history),
                    job_template: JobTemplateSpec {
                        metadata: None,
                        spec: Some(job_spec(&c.job)),
                    },
                    ..Default::default()
                }),
                ..Default::default()
            };
            out.push(Object::generated("", to_value(&cron)));
        }
    }
    for step in &env.steps {
        out.push(Object::generated(&step.folder, job(env, step)));
    }
    out
}

fn job_spec(j: &JobPlan) -> JobSpec {
    JobSpec {
        backoff_limit: Some(j.backoff_limit),
        active_deadline_seconds: j.active_deadline,
        template: pod::template(&j.template),
        ..Default::default()
    }
}

/// A Job named by a hash of its content: a changed step is a new Job.
fn job(env: &EnvPlan, step: &StepPlan) -> Value {
    let spec = job_spec(&step.job);
    let hash = names::short_hash(&serde_json::to_vec(&spec).expect("job serializes"));
    let name = names::job(&env.project, &step.pipeline, &step.step, &hash);
    let mut meta = super::meta(env, &name, Some(&step.pipeline), Some("pipeline"));
    meta.labels
        .get_or_insert_default()
        .insert("mlship.dev/step".into(), step.step.clone());
    let mut annotations = BTreeMap::from([("mlship.dev/needs".to_string(), step.needs.join(","))]);
    if let Some(wave) = &step.sync_wave {
        annotations.insert("argocd.argoproj.io/sync-wave".into(), wave.clone());
    }
    annotations.retain(|_, v| !v.is_empty());
    meta.annotations = Some(annotations);
    to_value(&Job {
        metadata: meta,
        spec: Some(spec),
        ..Default::default()
    })
}
