//! Argo Workflows: pipelines as WorkflowTemplates, CronWorkflows and run-once Workflows.
//!
//! Takes: an [`EnvPlan`]'s workflow plans. Gives, per pipeline: a WorkflowTemplate with a
//! fixed name whose `main` DAG follows `needs` (each task waits for the steps it needs to
//! succeed, so a skipped gate skips what follows it) and one container template per step,
//! built by [`pod`] like every other pod; a Role and RoleBinding that let the executor
//! write `workflowtaskresults`; and a CronWorkflow for a schedule, else a Workflow that
//! references the template, named by the content hash of both ([`name_workflows`]).

use super::{Emit, Kind, Object, Target, pod, to_value};
use crate::names;
use crate::plan::{EnvPlan, Plan, TaskPlan, WorkflowPlan};
use serde_json::{Value, json};

const TEMPLATES: &[&[&str]] = &[&["spec", "templates", "*"]];

pub const TARGET: Target = Target {
    name: "workflows",
    kinds: &[
        Kind::new("argoproj.io/v1alpha1", "WorkflowTemplate")
            .pods(TEMPLATES)
            .pod_defaults(&["spec", "securityContext"]),
        Kind::new("argoproj.io/v1alpha1", "CronWorkflow")
            .pods(&[&["spec", "workflowSpec", "templates", "*"]])
            .pod_defaults(&["spec", "workflowSpec", "securityContext"]),
        Kind::new("argoproj.io/v1alpha1", "Workflow")
            .pods(TEMPLATES)
            .pod_defaults(&["spec", "securityContext"]),
        Kind::new("rbac.authorization.k8s.io/v1", "Role"),
        Kind::new("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ],
    emit: Emit::Env(objects),
};

/// The name of the DAG template every workflow starts at.
const ENTRYPOINT: &str = "main";

fn objects(_: &Plan, env: &EnvPlan) -> Vec<Object> {
    let mut out = Vec::new();
    for w in &env.workflows {
        let meta = |name: &str| to_value(&super::meta(env, name, Some(&w.pipeline), Some("pipeline")));
        out.push(Object::generated(
            "",
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": meta(&w.executor_role()),
                "rules": [{
                    "apiGroups": ["argoproj.io"],
                    "resources": ["workflowtaskresults"],
                    "verbs": ["create", "patch"],
                }],
            }),
        ));
        out.push(Object::generated(
            "",
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": meta(&w.executor_role()),
                "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": w.executor_role() },
                "subjects": [{ "kind": "ServiceAccount", "name": w.service_account, "namespace": env.namespace }],
            }),
        ));
        out.push(Object::generated(
            "",
            json!({
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "WorkflowTemplate",
                "metadata": meta(&w.name),
                "spec": workflow_spec(w),
            }),
        ));
        match &w.cron {
            Some(c) => {
                let mut spec = json!({
                    "schedules": c.schedules,
                    "timezone": c.timezone,
                    "concurrencyPolicy": c.concurrency,
                    "startingDeadlineSeconds": c.starting_deadline,
                    "successfulJobsHistoryLimit": c.successful_history,
                    "failedJobsHistoryLimit": c.failed_history,
                    "workflowMetadata": { "labels": env.labels(Some(&w.pipeline), Some("pipeline")) },
                    "workflowSpec": { "workflowTemplateRef": { "name": w.name } },
                });
                drop_nulls(&mut spec);
                out.push(Object::generated(
                    "",
                    json!({
                        "apiVersion": "argoproj.io/v1alpha1",
                        "kind": "CronWorkflow",
                        "metadata": meta(&w.name),
                        "spec": spec,
                    }),
                ));
            }
            None => {
                let mut metadata = super::meta(env, &format!("{}-00000000", w.name), Some(&w.pipeline), Some("pipeline"));
                metadata.annotations = w
                    .sync_wave
                    .as_ref()
                    .map(|wave| [("argocd.argoproj.io/sync-wave".to_string(), wave.clone())].into());
                let metadata = to_value(&metadata);
                out.push(Object::generated(
                    &w.folder,
                    json!({
                        "apiVersion": "argoproj.io/v1alpha1",
                        "kind": "Workflow",
                        "metadata": metadata,
                        "spec": { "workflowTemplateRef": { "name": w.name } },
                    }),
                ));
            }
        }
    }
    name_workflows(env, &mut out);
    out
}

impl WorkflowPlan {
    fn executor_role(&self) -> String {
        format!("{}-executor", self.name)
    }
}

/// The spec of a pipeline's WorkflowTemplate.
fn workflow_spec(w: &WorkflowPlan) -> Value {
    let tasks: Vec<Value> = w
        .tasks
        .iter()
        .map(|t| {
            let depends = t
                .needs
                .iter()
                .map(|n| format!("{n}.Succeeded"))
                .collect::<Vec<_>>()
                .join(" && ");
            let mut task = json!({ "name": t.name, "template": t.name });
            if !depends.is_empty() {
                task["depends"] = json!(depends);
            }
            if let Some(when) = &t.when {
                task["when"] = json!(when);
            }
            task
        })
        .collect();
    let mut templates = vec![json!({ "name": ENTRYPOINT, "dag": { "tasks": tasks } })];
    templates.extend(w.tasks.iter().map(template));
    let params: Vec<Value> = w
        .parameters
        .iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect();
    let mut spec = json!({
        "entrypoint": ENTRYPOINT,
        "arguments": (!params.is_empty()).then(|| json!({ "parameters": params })),
        "serviceAccountName": w.service_account,
        "securityContext": to_value(&pod::pod_security_context()),
        "activeDeadlineSeconds": w.active_deadline,
        "podGC": { "strategy": w.pod_gc },
        "templates": templates,
    });
    drop_nulls(&mut spec);
    spec
}

/// A step's container template: the pod [`pod`] builds, in the fields Argo takes.
fn template(t: &TaskPlan) -> Value {
    let p = pod::pod(&t.template.pod);
    let mut v = json!({
        "name": t.name,
        "metadata": { "labels": t.template.labels },
        "container": to_value(&p.containers[0]),
        "volumes": to_value(&p.volumes),
        "nodeSelector": to_value(&p.node_selector),
        "tolerations": to_value(&p.tolerations),
        "activeDeadlineSeconds": t.timeout,
    });
    if let Some(r) = &t.retry {
        v["retryStrategy"] = json!({
            "limit": r.limit,
            "retryPolicy": r.policy,
            "backoff": { "duration": r.backoff, "factor": r.factor, "maxDuration": r.max_backoff },
        });
    }
    if !t.outputs.is_empty() {
        let params: Vec<Value> = t
            .outputs
            .iter()
            .map(|(name, path)| json!({ "name": name, "valueFrom": { "path": path } }))
            .collect();
        v["outputs"] = json!({ "parameters": params });
    }
    drop_nulls(&mut v);
    v
}

/// Removes the top-level keys whose value is null.
fn drop_nulls(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        m.retain(|_, x| !x.is_null());
    }
}

/// Names each run-once Workflow by its content: a hash of its own spec and of the final
/// spec of the WorkflowTemplate it runs, so that changing any step (or a patch to the
/// template) starts a new run, and nothing else does. Runs again after patches.
pub fn name_workflows(env: &EnvPlan, objects: &mut [Object]) {
    for w in env.workflows.iter().filter(|w| w.cron.is_none()) {
        let template = objects
            .iter()
            .find(|o| o.kind() == "WorkflowTemplate" && o.name() == w.name)
            .map(|o| o.value["spec"].clone());
        let Some(run) = objects
            .iter_mut()
            .find(|o| o.kind() == "Workflow" && names::stable_name("Workflow", o.name()) == w.name)
        else {
            continue;
        };
        let mut content = serde_json::to_vec(&template).expect("JSON serializes");
        content.push(b'\n');
        content.extend(serde_json::to_vec(&run.value["spec"]).expect("JSON serializes"));
        let hash = names::short_hash(&content);
        run.value["metadata"]["name"] = json!(format!("{}-{hash}", w.name));
    }
}
