//! Katib: a tuned step as an Experiment (`kubeflow.org/v1beta1`).
//!
//! Takes: a step's [`TunePlan`] and the Job its trials run (from [`super::batch`] for the
//! Job engine, from [`super::workflows`] for a resource template). Gives: the Experiment, with
//! every field Katib's webhook would default written out (docs/kubernetes.md, "Katib"), so
//! that the object in git is the object stored. Its name is the step's content hash, as a
//! Job's: Katib refuses changes to an Experiment's spec other than the trial counts, so a
//! change is a new Experiment. This target emits nothing itself; it registers the kind.

use super::{Emit, Kind, Target, to_value};
use crate::plan::TunePlan;
use k8s_openapi::api::batch::v1::JobSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const TARGET: Target = Target {
    name: "katib",
    kinds: &[Kind::new("kubeflow.org/v1beta1", "Experiment").pods(&[&[
        "spec",
        "trialTemplate",
        "trialSpec",
        "spec",
        "template",
        "spec",
    ]])],
    emit: Emit::Env(|_, _, _| {}),
};

/// Katib's default success and failure conditions of a batch/v1 Job trial (gjson paths).
const SUCCESS: &str = "status.conditions.#(type==\"Complete\")#|#(status==\"True\")#";
const FAILURE: &str = "status.conditions.#(type==\"Failed\")#|#(status==\"True\")#";
/// The namespace label that lets Katib add its metrics collector to trial pods.
pub const INJECTION_LABEL: &str = "katib.kubeflow.org/metrics-collector-injection";

fn algorithm(t: &TunePlan) -> Value {
    let mut a = json!({"algorithmName": t.algorithm});
    if !t.settings.is_empty() {
        let settings: Vec<Value> = t.settings.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
        a["algorithmSettings"] = json!(settings);
    }
    a
}

/// The Experiment of a tuned step; its trials are Jobs of `job`, labelled `trial_labels`
/// (Kueue's, so each trial waits in the queue).
pub fn experiment(metadata: ObjectMeta, job: JobSpec, trial_labels: &BTreeMap<String, String>, t: &TunePlan) -> Value {
    let mut objective = json!({
        "type": t.objective,
        "objectiveMetricName": t.metric,
        "metricStrategies": std::iter::once(&t.metric)
            .chain(&t.additional)
            .map(|m| json!({"name": m, "value": t.strategy}))
            .collect::<Vec<_>>(),
    });
    if let Some(goal) = t.goal {
        objective["goal"] = json!(goal);
    }
    if !t.additional.is_empty() {
        objective["additionalMetricNames"] = json!(t.additional);
    }
    let mut collector = json!({"collector": {"kind": t.collector}});
    if let Some(path) = &t.metrics_file {
        collector["source"] = json!({"fileSystemPath": {"kind": "File", "path": path, "format": "TEXT"}});
    }
    let parameters: Vec<Value> = t
        .parameters
        .iter()
        .map(|p| {
            let mut space = serde_json::Map::new();
            for (key, v) in [("min", &p.min), ("max", &p.max), ("step", &p.step)] {
                if let Some(v) = v {
                    space.insert(key.into(), json!(v));
                }
            }
            if !p.list.is_empty() {
                space.insert("list".into(), json!(p.list));
            }
            space.insert("distribution".into(), json!(p.distribution));
            json!({"name": p.name, "parameterType": p.kind, "feasibleSpace": space})
        })
        .collect();
    let mut trial = json!({"apiVersion": "batch/v1", "kind": "Job", "spec": to_value(&job)});
    if !trial_labels.is_empty() {
        trial["metadata"] = json!({"labels": trial_labels});
    }
    let mut spec = json!({
        "objective": objective,
        "algorithm": algorithm(t),
        "parallelTrialCount": t.parallel,
        "maxTrialCount": t.max,
        "resumePolicy": "Never",
        "metricsCollectorSpec": collector,
        "parameters": parameters,
        "trialTemplate": {
            "primaryContainerName": t.container,
            "successCondition": SUCCESS,
            "failureCondition": FAILURE,
            "trialParameters": t.parameters.iter().map(|p| json!({"name": p.name, "reference": p.name})).collect::<Vec<_>>(),
            "trialSpec": trial,
        },
    });
    if let Some(m) = t.max_failed {
        spec["maxFailedTrialCount"] = json!(m);
    }
    json!({
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": to_value(&metadata),
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn spec(engine: &str, run: &str, tune: &str) -> String {
        format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: python}}\n\
             pipelines:\n  ml:\n    engine: {engine}\n    queue: gpu\n    steps:\n      prep: {{image: app, run: [prep]}}\n      \
             search: {{image: app, needs: [prep], run: {run}, tune: {tune}}}\n      after: {{image: app, needs: [search], run: [x]}}\n"
        )
    }

    const TUNE: &str = "{metric: auc, objective: maximize, metrics: [loss], trials: 8, parameters: \
                        {lr: {type: double, min: 0.001, max: 0.1, log: true}, d: {type: int, min: 2, max: 6}, \
                        b: {type: categorical, values: [x, y]}}}";
    const RUN: &str = "[train, \"--lr=${lr}\", \"--d=${d}\", \"--b=${b}\"]";

    fn experiment(objects: &BTreeMap<String, Value>) -> (String, Value) {
        let (k, v) = objects
            .iter()
            .find(|(k, _)| k.starts_with("experiment-p-ml-search-"))
            .unwrap();
        (k.clone(), v.clone())
    }

    #[test]
    fn a_tuned_step_is_an_experiment_with_katibs_defaults_written_out() {
        let (objects, diags) = super::super::rendered(&spec("jobs", RUN, TUNE), "default");
        assert!(diags.is_empty(), "{diags:?}");
        let (_, e) = experiment(&objects);
        let s = &e["spec"];
        assert_eq!(
            s["objective"]["metricStrategies"],
            json!([{"name": "auc", "value": "max"}, {"name": "loss", "value": "max"}])
        );
        assert_eq!((&s["parallelTrialCount"], &s["maxTrialCount"]), (&json!(3), &json!(8)));
        assert_eq!(s["resumePolicy"], "Never");
        assert_eq!(s["metricsCollectorSpec"], json!({"collector": {"kind": "StdOut"}}));
        assert_eq!(s["algorithm"], json!({"algorithmName": "random"}));
        let space = |name: &str| {
            s["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap()["feasibleSpace"]
                .clone()
        };
        assert_eq!(
            space("lr"),
            json!({"min": "0.001", "max": "0.1", "distribution": "logUniform"})
        );
        assert_eq!(space("d"), json!({"min": "2", "max": "6", "distribution": "uniform"}));
        assert_eq!(space("b"), json!({"list": ["x", "y"], "distribution": "uniform"}));
        let t = &s["trialTemplate"];
        assert_eq!(t["primaryContainerName"], "search");
        assert_eq!(t["successCondition"], super::SUCCESS);
        let job = &t["trialSpec"];
        assert_eq!(job["kind"], "Job");
        assert_eq!(
            job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"], "gpu",
            "each trial queues"
        );
        let c = &job["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            c["command"],
            json!([
                "train",
                "--lr=${trialParameters.lr}",
                "--d=${trialParameters.d}",
                "--b=${trialParameters.b}"
            ])
        );
        assert_eq!(c["securityContext"]["runAsNonRoot"], true, "trials keep the baseline");
        let ns = objects.iter().find(|(k, _)| k.starts_with("namespace-")).unwrap().1;
        assert_eq!(ns["metadata"]["labels"][super::INJECTION_LABEL], "enabled");
    }

    #[test]
    fn changing_a_tuned_step_is_a_new_experiment_and_reruns_what_follows() {
        let name = |tune: &str| {
            let (objects, _) = super::super::rendered(&spec("jobs", RUN, tune), "default");
            let after = objects
                .keys()
                .find(|k| k.starts_with("job-p-ml-after-"))
                .unwrap()
                .clone();
            (experiment(&objects).0, after)
        };
        let before = name(TUNE);
        let more = name(&TUNE.replace("trials: 8", "trials: 9"));
        assert_ne!(before.0, more.0);
        assert_ne!(before.1, more.1, "the step after the search runs again");
        assert_eq!(before, name(TUNE), "the same spec gives the same names");
    }

    #[test]
    fn on_argo_workflows_a_resource_template_creates_the_experiment_and_waits() {
        let (objects, diags) = super::super::rendered(&spec("argo-workflows", RUN, TUNE), "default");
        assert!(diags.is_empty(), "{diags:?}");
        let wt = &objects["workflowtemplate-p-ml.yaml"]["spec"]["templates"];
        let t = wt.as_array().unwrap().iter().find(|t| t["name"] == "search").unwrap();
        let r = &t["resource"];
        assert_eq!(
            (&r["action"], &r["setOwnerReference"]),
            (&json!("create"), &json!(true))
        );
        assert!(r["successCondition"].as_str().unwrap().contains("Succeeded"));
        let e: Value = serde_norway::from_str(r["manifest"].as_str().unwrap()).unwrap();
        assert_eq!(e["kind"], "Experiment");
        assert_eq!(e["metadata"]["name"], "{{workflow.name}}-search");
        assert!(
            e["metadata"]["labels"]["kueue.x-k8s.io/queue-name"].is_null(),
            "Kueue admits the trials"
        );
        let role = &objects["role-p-ml-executor.yaml"]["rules"];
        assert!(
            role.as_array()
                .unwrap()
                .iter()
                .any(|r| r["resources"] == json!(["experiments"])),
            "{role}"
        );
    }
}
