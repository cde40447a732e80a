//! Argo Workflows: pipelines as WorkflowTemplates, CronWorkflows and run-once Workflows.
//!
//! Takes: an [`EnvPlan`]'s workflow plans. Gives, per pipeline: a WorkflowTemplate with a
//! fixed name whose `main` DAG follows `needs` (each task waits for the steps it needs to
//! succeed, so a skipped gate skips what follows it) and one container template per step,
//! built by [`pod`] like every other pod; a Role and RoleBinding that let the executor
//! write `workflowtaskresults`; and a CronWorkflow for a schedule, else a Workflow that
//! references the template, named by the content hash of both ([`name_workflow`]).

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

/// One group per pipeline: its Role, RoleBinding, WorkflowTemplate and what runs it.
fn objects(_: &Plan, env: &EnvPlan, sink: &mut super::Sink<'_>) {
    for w in &env.workflows {
        let mut out = Vec::new();
        let meta = |name: &str| to_value(&super::meta(env, name, Some(&w.pipeline), Some("pipeline")));
        out.push(Object::generated(
            "",
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": meta(&w.executor_role),
                "rules": executor_rules(w),
            }),
        ));
        out.push(Object::generated(
            "",
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": meta(&w.executor_role),
                "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": w.executor_role },
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
                let mut metadata = super::meta(
                    env,
                    &format!("{}-00000000", w.name),
                    Some(&w.pipeline),
                    Some("pipeline"),
                );
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
        let rename = |objects: &mut [Object]| name_workflow(w, objects);
        rename(&mut out);
        sink(out, &rename);
    }
}

/// What a pipeline's step pods may do with their token: report results (Argo's executor), and
/// create and watch the Katib Experiments its resource templates start.
fn executor_rules(w: &WorkflowPlan) -> Value {
    let mut rules = vec![json!({
        "apiGroups": ["argoproj.io"],
        "resources": ["workflowtaskresults"],
        "verbs": ["create", "patch"],
    })];
    if w.tasks.iter().any(|t| t.tune.is_some()) {
        rules.push(json!({
            "apiGroups": ["kubeflow.org"],
            "resources": ["experiments"],
            "verbs": ["create", "get", "list", "watch"],
        }));
    }
    if w.tasks.iter().any(|t| t.train.is_some()) {
        rules.push(json!({
            "apiGroups": ["trainer.kubeflow.org"],
            "resources": ["trainjobs"],
            "verbs": ["create", "get", "list", "watch"],
        }));
    }
    json!(rules)
}

/// A tuned step's template: Argo creates the Experiment (owned by the run, so deleted with
/// it) and waits until Katib reports it succeeded or failed.
fn resource_template(t: &TaskPlan, tune: &crate::plan::TunePlan) -> Value {
    let p = pod::pod(&t.template.pod);
    // Kueue's labels go on the trial Jobs, which Kueue admits; their pods and the
    // Experiment carry the others.
    let (kueue, labels): (std::collections::BTreeMap<_, _>, std::collections::BTreeMap<_, _>) = t
        .template
        .labels
        .clone()
        .into_iter()
        .partition(|(k, _)| k.starts_with("kueue.x-k8s.io/"));
    let job = k8s_openapi::api::batch::v1::JobSpec {
        backoff_limit: Some(0),
        template: k8s_openapi::api::core::v1::PodTemplateSpec {
            metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                labels: Some(labels.clone()),
                annotations: (!t.template.annotations.is_empty()).then(|| t.template.annotations.clone()),
                ..Default::default()
            }),
            spec: Some(k8s_openapi::api::core::v1::PodSpec {
                restart_policy: Some("Never".into()),
                ..p
            }),
        },
        ..Default::default()
    };
    let meta = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        name: Some(format!("{{{{workflow.name}}}}-{}", t.name)),
        labels: Some(labels),
        ..Default::default()
    };
    let experiment = super::katib::experiment(meta, job, &kueue, tune);
    let mut v = json!({
        "name": t.name,
        "resource": {
            "action": "create",
            "setOwnerReference": true,
            "successCondition": "status.conditions.#(type==\"Succeeded\").status == True",
            "failureCondition": "status.conditions.#(type==\"Failed\").status == True",
            "manifest": crate::yamlout::to_yaml(&experiment),
        },
        "activeDeadlineSeconds": t.timeout,
    });
    drop_nulls(&mut v);
    v
}

/// A distributed step's template: Argo creates the TrainJob (owned by the run) and waits until
/// the Trainer reports it complete or failed.
fn train_template(t: &TaskPlan, train: &crate::plan::TrainPlan) -> Value {
    let (kueue, labels): (std::collections::BTreeMap<_, _>, std::collections::BTreeMap<_, _>) = t
        .template
        .labels
        .clone()
        .into_iter()
        .partition(|(k, _)| k.starts_with("kueue.x-k8s.io/"));
    // Kueue admits the TrainJob, by its labels; its pods carry the others.
    let mut meta_labels = labels.clone();
    meta_labels.extend(kueue);
    let meta = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        name: Some(format!("{{{{workflow.name}}}}-{}", t.name)),
        labels: Some(meta_labels),
        ..Default::default()
    };
    let template = crate::plan::TemplatePlan {
        labels,
        ..t.template.clone()
    };
    let job = super::trainer::train_job(meta, &template, t.timeout, train);
    let mut v = json!({
        "name": t.name,
        "resource": {
            "action": "create",
            "setOwnerReference": true,
            "successCondition": "status.conditions.#(type==\"Complete\").status == True",
            "failureCondition": "status.conditions.#(type==\"Failed\").status == True",
            "manifest": crate::yamlout::to_yaml(&job),
        },
        "activeDeadlineSeconds": t.timeout,
    });
    drop_nulls(&mut v);
    v
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
            if !t.inputs.is_empty() {
                let artifacts: Vec<Value> = t
                    .inputs
                    .iter()
                    .map(|(name, _, from)| json!({ "name": name, "from": from }))
                    .collect();
                task["arguments"] = json!({ "artifacts": artifacts });
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
    if let Some(tune) = &t.tune {
        return resource_template(t, tune);
    }
    if let Some(train) = &t.train {
        return train_template(t, train);
    }
    let p = pod::pod(&t.template.pod);
    // Argo runs a template's sidecars itself (and stops them when the main container ends):
    // what Kubernetes calls a native sidecar is an Argo `sidecars` entry.
    let (mut sidecars, init): (Vec<_>, Vec<_>) = p
        .init_containers
        .clone()
        .unwrap_or_default()
        .into_iter()
        .partition(|c| c.restart_policy.as_deref() == Some("Always"));
    sidecars.iter_mut().for_each(|c| c.restart_policy = None);
    let mut metadata = json!({ "labels": t.template.labels });
    if !t.template.annotations.is_empty() {
        metadata["annotations"] = json!(t.template.annotations);
    }
    let inputs: Vec<Value> = t
        .inputs
        .iter()
        .map(|(name, path, _)| json!({ "name": name, "path": path }))
        .collect();
    let mut v = json!({
        "name": t.name,
        "inputs": (!inputs.is_empty()).then(|| json!({ "artifacts": inputs })),
        "metadata": metadata,
        "container": to_value(&p.containers[0]),
        "initContainers": (!init.is_empty()).then(|| to_value(&init)),
        "sidecars": (!sidecars.is_empty()).then(|| to_value(&sidecars)),
        "volumes": to_value(&p.volumes),
        "nodeSelector": to_value(&p.node_selector),
        "tolerations": to_value(&p.tolerations),
        "priorityClassName": p.priority_class_name,
        // A template has no runtimeClassName of its own; Argo patches it into the pod.
        "podSpecPatch": p.runtime_class_name.as_ref().map(|r| json!({ "runtimeClassName": r }).to_string()),
        "activeDeadlineSeconds": t.timeout,
    });
    if let Some(r) = &t.retry {
        v["retryStrategy"] = json!({
            "limit": r.limit,
            "retryPolicy": r.policy,
            "backoff": { "duration": r.backoff, "factor": r.factor, "maxDuration": r.max_backoff },
        });
    }
    let params: Vec<Value> = t
        .outputs
        .iter()
        .map(|(name, path)| json!({ "name": name, "valueFrom": { "path": path } }))
        .collect();
    let artifacts: Vec<Value> = t
        .artifacts
        .iter()
        .map(|(name, path)| json!({ "name": name, "path": path }))
        .collect();
    let mut outputs = json!({ "parameters": params, "artifacts": artifacts });
    if let Some(m) = outputs.as_object_mut() {
        m.retain(|_, x| x.as_array().is_some_and(|a| !a.is_empty()));
        if !m.is_empty() {
            v["outputs"] = outputs;
        }
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
fn name_workflow(w: &WorkflowPlan, objects: &mut [Object]) {
    if w.cron.is_some() {
        return;
    }
    let template = objects
        .iter()
        .find(|o| o.kind() == "WorkflowTemplate" && o.name() == w.name)
        .map(|o| o.value["spec"].clone());
    let Some(run) = objects
        .iter_mut()
        .find(|o| o.kind() == "Workflow" && names::stable_name("Workflow", o.name()) == w.name)
    else {
        return;
    };
    let mut content = serde_json::to_vec(&template).expect("JSON serializes");
    content.push(b'\n');
    content.extend(serde_json::to_vec(&run.value["spec"]).expect("JSON serializes"));
    let hash = names::short_hash(&content);
    run.value["metadata"]["name"] = json!(format!("{}-{hash}", w.name));
}

#[cfg(test)]
mod tests {
    use crate::project::MemProject;
    use serde_json::Value;
    use std::collections::BTreeMap;

    const HEAD: &str =
        "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {stack: python}\n";

    /// The objects of the `default` environment, by file name.
    fn objects(body: &str) -> BTreeMap<String, Value> {
        super::super::rendered(&format!("{HEAD}{body}"), "default").0
    }

    fn pipeline(train_run: &str) -> String {
        format!(
            "pipelines:\n  ml:\n    engine: argo-workflows\n    steps:\n      prep: {{image: app, run: [prep]}}\n\
             \x20     train: {{image: app, run: [{train_run}], needs: [prep]}}\n\
             \x20     report: {{image: app, run: [report], needs: [prep]}}\n\
             \x20 other:\n    engine: argo-workflows\n    steps:\n      train: {{image: app, run: [other]}}\n"
        )
    }

    fn runs(objects: &BTreeMap<String, Value>) -> Vec<String> {
        objects.keys().filter(|k| k.starts_with("workflow-")).cloned().collect()
    }

    #[test]
    fn changing_a_step_renames_its_pipelines_workflow_and_nothing_else() {
        let before = objects(&pipeline("train"));
        let after = objects(&pipeline("train-v2"));
        let (b, a) = (runs(&before), runs(&after));
        assert_eq!(b.len(), 2, "{b:?}");
        let changed: Vec<&String> = b.iter().filter(|n| !a.contains(n)).collect();
        assert_eq!(changed.len(), 1, "{b:?} {a:?}");
        assert!(changed[0].starts_with("workflow-p-ml-"), "{changed:?}");
        // Only the template of `ml` and its run changed.
        let differ: Vec<&String> = before.keys().filter(|k| before.get(*k) != after.get(*k)).collect();
        assert_eq!(
            differ,
            [changed[0], &"workflowtemplate-p-ml.yaml".to_string()],
            "{differ:?}"
        );
        // The run references its template, which has a fixed name.
        let run = &after[a.iter().find(|n| n.starts_with("workflow-p-ml-")).unwrap()];
        assert_eq!(run["spec"]["workflowTemplateRef"]["name"], "p-ml");
        assert!(
            run["spec"]["ttlStrategy"].is_null(),
            "no TTL: Argo CD would recreate it"
        );
    }

    #[test]
    fn a_patch_to_the_template_starts_a_new_run() {
        let body = pipeline("train");
        let patched = format!(
            "{body}patches:\n  - kind: WorkflowTemplate\n    name: p-ml\n    patch: {{spec: {{parallelism: 1}}}}\n"
        );
        assert_ne!(runs(&objects(&body)), runs(&objects(&patched)));
    }

    #[test]
    fn the_dag_follows_needs_so_parallel_branches_run_in_parallel() {
        let objs = objects(&pipeline("train"));
        let spec = &objs["workflowtemplate-p-ml.yaml"]["spec"];
        let tasks = spec["templates"][0]["dag"]["tasks"].as_array().expect("a DAG");
        let depends: BTreeMap<&str, &Value> = tasks
            .iter()
            .map(|t| (t["name"].as_str().unwrap(), &t["depends"]))
            .collect();
        assert!(depends["prep"].is_null());
        assert_eq!(depends["train"], "prep.Succeeded");
        assert_eq!(depends["report"], "prep.Succeeded");
        // Every step has its template, with the pod baseline.
        for t in &spec["templates"].as_array().unwrap()[1..] {
            assert_eq!(t["container"]["securityContext"]["readOnlyRootFilesystem"], true);
            assert!(t["container"]["resources"]["limits"]["memory"].is_string());
        }
        assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
        assert_eq!(spec["serviceAccountName"], "p-ml");
        // The executor reports results with the service account's token.
        assert_eq!(objs["serviceaccount-p-ml.yaml"]["automountServiceAccountToken"], true);
        let role = &objs["role-p-ml-executor.yaml"]["rules"][0];
        assert_eq!(role["resources"][0], "workflowtaskresults");
        assert_eq!(objs["rolebinding-p-ml-executor.yaml"]["subjects"][0]["name"], "p-ml");
    }

    #[test]
    fn a_schedule_is_a_cron_workflow_and_no_run() {
        let objs = objects(
            "pipelines:\n  ml:\n    engine: argo-workflows\n    schedule: \"0 3 * * 0\"\n    timezone: Europe/Berlin\n\
             \x20   steps:\n      train: {image: app, run: [train], retries: 3, retry_backoff: 1m, timeout: 2h}\n",
        );
        assert!(runs(&objs).is_empty(), "{:?}", objs.keys());
        let cron = &objs["cronworkflow-p-ml.yaml"]["spec"];
        assert_eq!(cron["schedules"][0], "0 3 * * 0");
        assert_eq!(cron["timezone"], "Europe/Berlin");
        assert_eq!(cron["concurrencyPolicy"], "Forbid");
        assert_eq!(cron["workflowSpec"]["workflowTemplateRef"]["name"], "p-ml");
        let train = &objs["workflowtemplate-p-ml.yaml"]["spec"]["templates"][1];
        assert_eq!(train["retryStrategy"]["limit"], 3);
        assert_eq!(train["retryStrategy"]["backoff"]["duration"], "60s");
        assert_eq!(train["retryStrategy"]["backoff"]["maxDuration"], "600s");
        assert_eq!(train["activeDeadlineSeconds"], 7200);
        assert_eq!(
            objs["workflowtemplate-p-ml.yaml"]["spec"]["activeDeadlineSeconds"],
            7200
        );
    }

    #[test]
    fn a_gate_reads_an_output_and_compares_a_parameter() {
        let objs = objects(
            "pipelines:\n  ml:\n    engine: argo-workflows\n    parameters: {MIN_AUC: 0.8}\n    steps:\n\
             \x20     evaluate: {image: app, run: [eval], outputs: {auc: {path: /tmp/auc, type: number}}}\n\
             \x20     promote: {image: app, run: [promote, $(MIN_AUC)], needs: [evaluate], when: evaluate.auc >= MIN_AUC}\n",
        );
        let spec = &objs["workflowtemplate-p-ml.yaml"]["spec"];
        assert_eq!(
            spec["arguments"]["parameters"][0],
            serde_json::json!({"name": "MIN_AUC", "value": "0.8"})
        );
        let promote = &spec["templates"][0]["dag"]["tasks"][1];
        assert_eq!(
            promote["when"],
            "{{tasks.evaluate.outputs.parameters.auc}} >= {{workflow.parameters.MIN_AUC}}"
        );
        let evaluate = &spec["templates"][1];
        assert_eq!(evaluate["outputs"]["parameters"][0]["valueFrom"]["path"], "/tmp/auc");
        let env = evaluate["container"]["env"].as_array().unwrap();
        assert!(
            env.iter()
                .any(|e| e["name"] == "MIN_AUC" && e["value"] == "{{workflow.parameters.MIN_AUC}}")
        );
    }

    const FILES: &str = "pipelines:\n  ml:\n    engine: argo-workflows\n{volume}    steps:\n\
        \x20     train: {image: app, run: [train], outputs: {model: {path: /tmp/model, type: file}}}\n\
        \x20     export: {image: app, run: [export], needs: [train], inputs: {model: {from: train.model, path: /tmp/in}}}\n\
        volumes:\n  work: {size: 10Gi, access: ReadWriteMany}\n";

    #[test]
    fn files_pass_through_the_artifact_repository() {
        let objs = objects(&FILES.replace("{volume}", ""));
        let spec = &objs["workflowtemplate-p-ml.yaml"]["spec"];
        let export_task = &spec["templates"][0]["dag"]["tasks"][1];
        assert_eq!(export_task["name"], "export");
        assert_eq!(
            export_task["arguments"]["artifacts"][0],
            serde_json::json!({"name": "model", "from": "{{tasks.train.outputs.artifacts.model}}"})
        );
        let export = &spec["templates"][2];
        assert_eq!(
            export["inputs"]["artifacts"][0],
            serde_json::json!({"name": "model", "path": "/tmp/in"})
        );
        let train = &spec["templates"][1];
        assert_eq!(
            train["outputs"]["artifacts"][0],
            serde_json::json!({"name": "model", "path": "/tmp/model"})
        );
        assert!(train["outputs"]["parameters"].is_null());
    }

    #[test]
    fn files_pass_through_a_shared_volume_one_folder_per_run() {
        let objs = objects(&FILES.replace("{volume}", "    artifact_volume: work\n"));
        let spec = &objs["workflowtemplate-p-ml.yaml"]["spec"];
        let mount = |t: &Value, path: &str| {
            t["container"]["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["mountPath"] == path)
                .cloned()
                .unwrap_or_else(|| panic!("no mount at {path}: {t}"))
        };
        let (train, export) = (&spec["templates"][1], &spec["templates"][2]);
        let written = mount(train, "/tmp/model");
        let read = mount(export, "/tmp/in");
        assert_eq!(written["subPath"], "{{workflow.name}}/train/model");
        assert_eq!(read["subPath"], written["subPath"]);
        assert_eq!(read["readOnly"], true);
        assert_eq!(export["volumes"][1]["persistentVolumeClaim"]["claimName"], "p-work");
        assert!(train["outputs"].is_null() && export["inputs"].is_null());
    }

    #[test]
    fn flux_applies_runs_after_their_templates_and_waits_for_them_to_succeed() {
        let gitops = "gitops: {engine: flux, repo: https://git.example.com/p.git}\n";
        let yaml = format!("{HEAD}{}{gitops}", pipeline("train"));
        let compiled = crate::compile("mlship.yaml", yaml.as_bytes(), &MemProject::default());
        let out = compiled.output.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
        assert!(
            out.files
                .keys()
                .any(|k| k.starts_with("envs/default/workflows/workflow-p-ml-"))
        );
        assert!(!out.files.keys().any(|k| k.starts_with("envs/default/workflow-")));
        let docs: Vec<Value> = String::from_utf8_lossy(&out.files["gitops/default.yaml"])
            .split("---\n")
            .map(|d| serde_norway::from_str(d).expect("YAML"))
            .collect();
        let runs = docs
            .iter()
            .find(|d| d["metadata"]["name"] == "p-default-workflows")
            .expect("a Kustomization for the runs");
        assert_eq!(runs["spec"]["path"], "./deploy/envs/default/workflows");
        assert_eq!(runs["spec"]["dependsOn"][0]["name"], "p-default");
        assert_eq!(runs["spec"]["wait"], true);
        let check = &runs["spec"]["healthCheckExprs"][0];
        assert_eq!(check["kind"], "Workflow");
        assert!(check["current"].as_str().unwrap().contains("'Succeeded'"));
        assert!(check["failed"].as_str().unwrap().contains("'Failed'"));
    }

    /// The messages of a build whose `ml` WorkflowTemplate gets `patch`, which must fail.
    fn errors_of_patched_template(patch: &str) -> Vec<String> {
        let yaml = format!(
            "{HEAD}{}patches:\n  - kind: WorkflowTemplate\n    name: p-ml\n    patch: {patch}\n",
            pipeline("train")
        );
        let compiled = crate::compile("mlship.yaml", yaml.as_bytes(), &MemProject::default());
        let messages: Vec<String> = compiled.diagnostics.iter().map(|d| d.message.clone()).collect();
        assert!(compiled.output.is_none(), "{messages:?}");
        messages
    }

    #[test]
    fn workflow_kinds_are_validated_strictly_after_patches() {
        let messages = errors_of_patched_template("{spec: {parallelism: two}}");
        assert!(
            messages
                .iter()
                .any(|m| m.contains("WorkflowTemplate/p-ml is invalid") && m.contains("spec.parallelism")),
            "{messages:?}"
        );
    }

    #[test]
    fn policies_check_workflow_templates_like_pods() {
        let messages = errors_of_patched_template("{spec: {securityContext: null}}");
        assert!(
            messages
                .iter()
                .any(|m| m.contains("WorkflowTemplate/p-ml breaks policy `seccomp`")),
            "{messages:?}"
        );
    }

    #[test]
    fn a_steps_helpers_and_classes_take_the_fields_argo_has() {
        let objects = objects(
            "pipelines:\n  ml:\n    engine: argo-workflows\n    steps:\n      train:\n        image: app\n        \
             run: [train]\n        priority_class: batch-low\n        runtime_class: nvidia\n        \
             env_from: {NODE: {pod: node}}\n        init_containers: {fetch: {image: app, command: [fetch]}}\n        \
             sidecars: {logs: {image: app, command: [ship]}}\n",
        );
        let t = &objects["workflowtemplate-p-ml.yaml"]["spec"]["templates"];
        let train = t
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "train")
            .expect("train template");
        // Argo starts and stops a template's sidecars itself: no restartPolicy there.
        assert_eq!(train["sidecars"][0]["name"], "logs");
        assert!(train["sidecars"][0]["restartPolicy"].is_null(), "{train}");
        assert_eq!(train["initContainers"][0]["name"], "fetch");
        assert_eq!(train["priorityClassName"], "batch-low");
        assert_eq!(train["podSpecPatch"], r#"{"runtimeClassName":"nvidia"}"#);
        let env = train["container"]["env"].as_array().unwrap();
        let node = env.iter().find(|e| e["name"] == "NODE").expect("NODE");
        assert_eq!(node["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");
    }
}
