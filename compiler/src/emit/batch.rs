//! Batch: pipeline steps as Jobs, scheduled pipelines as CronJobs.
//!
//! Takes: an [`EnvPlan`]'s steps and scheduled pipelines. Gives: one Job per unscheduled step,
//! in the folder and sync wave lowering chose, named by a hash of its spec and of the steps it
//! needs, transitively ([`name_jobs`]): Jobs are immutable, so a changed step is a new Job, and
//! so is every step after it; one CronJob per scheduled pipeline.

use super::{Emit, Kind, Object, Target, pod, to_value};
use crate::names;
use crate::plan::{EnvPlan, JobPlan, Plan, StepPlan};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use std::collections::BTreeMap;

pub const TARGET: Target = Target {
    name: "batch",
    kinds: &[
        Kind::new("batch/v1", "Job").pods(&[&["spec", "template", "spec"]]),
        Kind::new("batch/v1", "CronJob").pods(&[&["spec", "jobTemplate", "spec", "template", "spec"]]),
    ],
    emit: Emit::Env(objects),
};

/// A group per CronJob, and one per pipeline for its steps' Jobs, which are named by the
/// hashes of the Jobs they need (steps need only steps of their own pipeline).
fn objects(_: &Plan, env: &EnvPlan, sink: &mut super::Sink<'_>) {
    for p in &env.pipelines {
        if let Some(c) = &p.cron {
            let cron = CronJob {
                metadata: super::meta(env, &c.name, Some(&p.name), Some("pipeline")),
                spec: Some(CronJobSpec {
                    schedule: c.schedule.clone(),
                    time_zone: c.time_zone.clone(),
                    concurrency_policy: Some(c.concurrency.clone()),
                    successful_jobs_history_limit: Some(c.successful_history),
                    failed_jobs_history_limit: Some(c.failed_history),
                    job_template: JobTemplateSpec {
                        metadata: (!c.job.labels.is_empty()).then(|| ObjectMeta {
                            labels: Some(c.job.labels.clone()),
                            ..Default::default()
                        }),
                        spec: Some(job_spec(&c.job)),
                    },
                    ..Default::default()
                }),
                ..Default::default()
            };
            sink(vec![Object::generated("", to_value(&cron))], &|_| {});
        }
    }
    // The steps of each pipeline, in their order (dependency levels), the pipelines in the
    // order their first steps come in.
    let mut pipelines: Vec<Vec<&StepPlan>> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for step in &env.steps {
        let i = *index.entry(&step.pipeline).or_insert_with(|| {
            pipelines.push(Vec::new());
            pipelines.len() - 1
        });
        pipelines[i].push(step);
    }
    for steps in &pipelines {
        let mut out: Vec<Object> = steps
            .iter()
            .map(|s| Object::generated(&s.folder, job(env, s)))
            .collect();
        let rename = |objects: &mut [Object]| name_jobs(env, steps, objects);
        rename(&mut out);
        sink(out, &rename);
    }
}

/// The kinds a step's object may be: a Job, a Katib Experiment of Jobs, a Trainer TrainJob.
const STEP_KINDS: &[&str] = &["Job", "Experiment", "TrainJob"];

/// Names each step's Job by its content: a hash of its spec and, for a step that needs
/// others, of their hashes, so that changing a step re-runs every step that depends on it,
/// and nothing else. Runs again after patches (a patched Job is a new Job). `steps` are in
/// dependency levels.
fn name_jobs(env: &EnvPlan, steps: &[&StepPlan], objects: &mut [Object]) {
    let mut hashes: BTreeMap<(&str, &str), String> = BTreeMap::new();
    // The Jobs by stable name, and by stable name and step labels: the first of each, found
    // once (a scan per step was quadratic: 20,000 steps took 124 s). Naming keeps a Job's
    // stable name and labels, so the index holds while the loop renames.
    let (mut by_name, mut by_step) = (BTreeMap::new(), BTreeMap::new());
    for (i, o) in objects
        .iter()
        .enumerate()
        .filter(|(_, o)| STEP_KINDS.contains(&o.kind()))
    {
        let stable = names::stable_name(o.kind(), o.name());
        let labels = &o.value["metadata"]["labels"];
        let label = |key: &str| labels[key].as_str().map(str::to_string);
        if let (Some(pipeline), Some(step)) = (label("app.kubernetes.io/name"), label("mlship.dev/step")) {
            by_step.entry((stable.clone(), pipeline, step)).or_insert(i);
        }
        by_name.entry(stable).or_insert(i);
    }
    // Steps are in dependency levels, so the steps a step needs are hashed before it.
    for step in steps {
        let stable = names::job(&env.project, &step.pipeline, &step.step, "");
        let stable = stable.trim_end_matches('-').to_string();
        // By its step's labels (two steps may share a stable name: pipeline `a` step `b-c`
        // and pipeline `a-b` step `c`), then by the name, should a patch have changed them.
        let at = by_step
            .get(&(stable.clone(), step.pipeline.clone(), step.step.clone()))
            .or_else(|| by_name.get(&stable));
        let Some(obj) = at.map(|&i| &mut objects[i]) else {
            continue;
        };
        let mut content = serde_json::to_vec(&obj.value["spec"]).expect("JSON serializes");
        // Kueue refuses a change of the queue of a Job it admitted: a new queue is a new Job.
        let labels = &obj.value["metadata"]["labels"];
        for key in [crate::spec::QUEUE_LABEL, crate::spec::PRIORITY_LABEL] {
            if let Some(v) = labels[key].as_str() {
                content.extend_from_slice(format!("\n{key}={v}").as_bytes());
            }
        }
        for need in &step.needs {
            if let Some(h) = hashes.get(&(step.pipeline.as_str(), need.as_str())) {
                content.push(b'\n');
                content.extend_from_slice(h.as_bytes());
            }
        }
        let hash = names::short_hash(&content);
        obj.value["metadata"]["name"] = serde_json::json!(names::job(&env.project, &step.pipeline, &step.step, &hash));
        hashes.insert((&step.pipeline, &step.step), hash);
    }
}

fn job_spec(j: &JobPlan) -> JobSpec {
    JobSpec {
        backoff_limit: Some(j.backoff_limit),
        active_deadline_seconds: j.active_deadline,
        template: pod::template(&j.template),
        ..Default::default()
    }
}

/// A step's Job; [`name_jobs`] then names it by its content.
fn job(env: &EnvPlan, step: &StepPlan) -> Value {
    let spec = job_spec(&step.job);
    let name = names::job(&env.project, &step.pipeline, &step.step, "00000000");
    let mut meta = super::meta(env, &name, Some(&step.pipeline), Some("pipeline"));
    let labels = meta.labels.get_or_insert_default();
    labels.insert("mlship.dev/step".into(), step.step.clone());
    labels.extend(step.job.labels.clone());
    let mut annotations = BTreeMap::from([("mlship.dev/needs".to_string(), step.needs.join(","))]);
    if let Some(wave) = &step.sync_wave {
        annotations.insert("argocd.argoproj.io/sync-wave".into(), wave.clone());
    }
    annotations.retain(|_, v| !v.is_empty());
    meta.annotations = Some(annotations);
    if let Some(t) = &step.tune {
        return super::katib::experiment(meta, spec, &step.job.labels, t);
    }
    if let Some(t) = &step.train {
        return super::trainer::train_job(meta, &step.job.template, step.job.active_deadline, t);
    }
    to_value(&Job {
        metadata: meta,
        spec: Some(spec),
        ..Default::default()
    })
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use crate::project::MemProject;

    /// The Job names of a spec whose `train` step runs `train_run`.
    fn job_names(train_run: &str) -> Vec<String> {
        let yaml = format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: python}}\n\
             pipelines:\n  ml:\n    steps:\n      prep: {{image: app, run: [prep]}}\n\
             \x20     train: {{image: app, run: [{train_run}], needs: [prep]}}\n\
             \x20     evaluate: {{image: app, run: [eval], needs: [train]}}\n\
             \x20     export: {{image: app, run: [export], needs: [evaluate]}}\n\
             \x20     report: {{image: app, run: [report], needs: [prep]}}\n\
             \x20 other:\n    steps:\n      train: {{image: app, run: [other]}}\n"
        );
        let compiled = crate::compile("mlship.yaml", yaml.as_bytes(), &MemProject::default());
        let out = compiled.output.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
        let mut names: Vec<String> = out
            .files
            .keys()
            .filter_map(|k| {
                k.strip_prefix("envs/default/job-")
                    .and_then(|n| n.strip_suffix(".yaml"))
            })
            .map(str::to_string)
            .collect();
        names.sort_by_key(|n| n[..n.len() - 9].to_string());
        names
    }

    #[test]
    fn changing_a_step_renames_every_step_after_it_and_nothing_else() {
        let before = job_names("train");
        let after = job_names("train-v2");
        let changed: Vec<&str> = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b != a)
            .map(|(b, _)| &b[..b.len() - 9])
            .collect();
        assert_eq!(before.len(), 6, "{before:?}");
        assert_eq!(
            changed,
            ["p-ml-evaluate", "p-ml-export", "p-ml-train"],
            "{before:?}\n{after:?}"
        );
    }

    #[test]
    fn kueue_labels_go_on_the_job_and_a_new_queue_is_a_new_job() {
        let yaml = |queue: &str| {
            format!(
                "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: python}}\n\
                 pipelines:\n  ml:\n    queue: {queue}\n    workload_priority: research\n    steps:\n      \
                 prep: {{image: app, run: [prep]}}\n      train: {{image: app, run: [t], needs: [prep], queue: gpu-a}}\n  \
                 nightly:\n    schedule: \"@daily\"\n    queue: {queue}\n    steps:\n      s: {{image: app, run: [s]}}\n"
            )
        };
        let (objects, diags) = super::super::rendered(&yaml("cpu"), "default");
        assert!(diags.is_empty(), "{diags:?}");
        let job = |o: &std::collections::BTreeMap<String, serde_json::Value>, step: &str| {
            o.iter()
                .find(|(k, _)| k.starts_with(&format!("job-p-ml-{step}-")))
                .map(|(k, v)| (k.clone(), v["metadata"]["labels"].clone()))
                .unwrap()
        };
        let (prep, labels) = job(&objects, "prep");
        assert_eq!(labels["kueue.x-k8s.io/queue-name"], "cpu");
        assert_eq!(labels["kueue.x-k8s.io/priority-class"], "research");
        let (train, labels) = job(&objects, "train");
        assert_eq!(
            labels["kueue.x-k8s.io/queue-name"], "gpu-a",
            "the step's own queue wins"
        );
        // Kueue reads the Job's labels, not the pods'.
        let pod_labels = &objects[&train]["spec"]["template"]["metadata"]["labels"];
        assert!(pod_labels["kueue.x-k8s.io/queue-name"].is_null(), "{pod_labels}");
        assert!(objects[&train]["spec"]["suspend"].is_null(), "Kueue owns `suspend`");
        let cron = &objects["cronjob-p-nightly.yaml"]["spec"]["jobTemplate"]["metadata"]["labels"];
        assert_eq!(cron["kueue.x-k8s.io/queue-name"], "cpu");
        // Kueue refuses to move an admitted Job to another queue: the step runs anew.
        let (objects, _) = super::super::rendered(&yaml("cpu-b"), "default");
        assert_ne!(job(&objects, "prep").0, prep);
        assert_ne!(job(&objects, "train").0, train, "the step after it runs again too");
    }

    #[test]
    fn on_argo_workflows_kueue_labels_are_on_each_step_pod() {
        let yaml = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {stack: python}\n\
                    pipelines:\n  ml:\n    engine: argo-workflows\n    queue: cpu\n    steps:\n      \
                    a: {image: app, run: [a]}\n      b: {image: app, run: [b], needs: [a], queue: gpu}\n";
        let (objects, _) = super::super::rendered(yaml, "default");
        let templates = objects["workflowtemplate-p-ml.yaml"]["spec"]["templates"]
            .as_array()
            .unwrap()
            .clone();
        let queue = |name: &str| {
            let t = templates.iter().find(|t| t["name"] == name).unwrap();
            t["metadata"]["labels"]["kueue.x-k8s.io/queue-name"].clone()
        };
        assert_eq!(
            (queue("a"), queue("b")),
            (serde_json::json!("cpu"), serde_json::json!("gpu"))
        );
    }

    #[test]
    fn kueue_names_are_checked_and_a_priority_needs_a_queue() {
        let check = |pipeline: &str| {
            let yaml = format!(
                "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: python}}\n\
                 pipelines:\n  ml:\n{pipeline}"
            );
            let (_, _, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
            diags
                .iter()
                .map(|d| d.path.as_ref().map(ToString::to_string).unwrap_or_default())
                .collect::<Vec<_>>()
        };
        let steps = "    steps:\n      s: {image: app, run: [s]";
        assert!(check(&format!("    queue: q\n{steps}, workload_priority: high}}\n")).is_empty());
        assert_eq!(check(&format!("    queue: GPU_A\n{steps}}}\n")), ["pipelines.ml.queue"]);
        assert_eq!(
            check(&format!("{steps}, workload_priority: high}}\n")),
            ["pipelines.ml.steps.s.workload_priority"]
        );
        assert_eq!(
            check(&format!("    schedule: \"@daily\"\n{steps}, queue: q}}\n")),
            ["pipelines.ml.steps.s.queue"]
        );
    }

    /// Issue 14: each step's Job was found by a scan of every object, so 20,000 steps (the
    /// limit) took 124 s to name in a release build. Indexed, each gets its own content name.
    /// The time is measured with the whole emit in benches/stages.rs (N = 10,000 steps), not
    /// here: a timed test fails on a busy machine.
    #[test]
    fn naming_20000_jobs_gives_each_its_own_name() {
        let yaml = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {stack: python}\n\
                    pipelines:\n  ml:\n    steps:\n      s: {image: app, run: [go]}\n";
        let (_, loaded, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        let loaded = loaded.unwrap_or_else(|| panic!("{diags:?}"));
        let plan = crate::lower::lower(loaded, &MemProject::default()).unwrap();
        let mut env = plan.envs[0].clone();
        let one = env.steps[0].clone();
        let n = crate::syntax::MAX_STEPS;
        env.steps = (0..n)
            .map(|i| crate::plan::StepPlan {
                pipeline: format!("p{}", i / 10),
                step: format!("s{}", i % 10),
                needs: if i % 10 == 0 {
                    vec![]
                } else {
                    vec![format!("s{}", i % 10 - 1)]
                },
                ..one.clone()
            })
            .collect();
        let mut objects: Vec<super::Object> = env
            .steps
            .iter()
            .map(|s| {
                let name = crate::names::job("p", &s.pipeline, &s.step, "00000000");
                let labels = serde_json::json!({"app.kubernetes.io/name": s.pipeline, "mlship.dev/step": s.step});
                let job = serde_json::json!({"kind": "Job", "metadata": {"name": name, "labels": labels}, "spec": {}});
                super::Object::generated("", job)
            })
            .collect();
        super::name_jobs(&env, &env.steps.iter().collect::<Vec<_>>(), &mut objects);
        let named: std::collections::BTreeSet<&str> = objects.iter().map(super::Object::name).collect();
        assert_eq!(named.len(), n);
        assert!(named.iter().all(|name| !name.ends_with("-00000000")));
    }
}
