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
    emit: Emit::Env(|_, _| Vec::new()),
    rename: None,
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
