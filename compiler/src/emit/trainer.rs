//! Kubeflow Trainer: a step on several nodes as a TrainJob (`trainer.kubeflow.org/v1alpha1`).
//!
//! Takes: a step's [`TrainPlan`] and its pod (from [`super::batch`] for the Job engine, from
//! [`super::workflows`] for a resource template). Gives: the TrainJob: the runtime by
//! reference, the image, command, environment, node count and resources per node in
//! `trainer`, and mlship's pod baseline, volumes and placement as a runtime patch of the
//! runtime's `node` job, as far as the Trainer lets a patch reach (docs/training.md, "What a
//! TrainJob cannot set"). Named by the step's content hash, as a Job. This target emits
//! nothing itself; it registers the kind.

use super::{Emit, Kind, Target, pod, to_value};
use crate::plan::{TemplatePlan, TrainPlan};
use k8s_openapi::api::core::v1::{ConfigMapKeySelector, EnvVar, EnvVarSource, SecretKeySelector};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};

pub const TARGET: Target = Target {
    name: "trainer",
    kinds: &[Kind::new("trainer.kubeflow.org/v1alpha1", "TrainJob")],
    emit: Emit::Env(|_, _, _| {}),
};

/// The replicated job and container of Trainer's runtimes that run the training code.
pub const NODE: &str = "node";
/// The owner of mlship's runtime patch (the Trainer keys patches by manager).
pub const MANAGER: &str = "mlship.dev/pod-baseline";

/// The TrainJob of a step on `t.nodes` nodes, each running the step's pod.
pub fn train_job(metadata: ObjectMeta, template: &TemplatePlan, deadline: Option<i64>, t: &TrainPlan) -> Value {
    let p = pod::pod(&template.pod);
    let c = p.containers.first().cloned().unwrap_or_default();
    // Whole ConfigMaps and Secrets key by key (the Trainer's env has no envFrom), before the
    // container's own variables, which may refer to them.
    let key_ref = |(var, name, key): &(String, String, String), secret: bool| EnvVar {
        name: var.clone(),
        value_from: Some(if secret {
            EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: name.clone(),
                    key: key.clone(),
                    optional: None,
                }),
                ..Default::default()
            }
        } else {
            EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name: name.clone(),
                    key: key.clone(),
                    optional: None,
                }),
                ..Default::default()
            }
        }),
        value: None,
    };
    let env: Vec<EnvVar> = t
        .config_env
        .iter()
        .map(|e| key_ref(e, false))
        .chain(t.secret_env.iter().map(|e| key_ref(e, true)))
        .chain(c.env.clone().unwrap_or_default())
        .collect();
    let mut trainer = json!({
        "image": c.image,
        "numNodes": t.nodes,
        "resourcesPerNode": to_value(&c.resources),
    });
    if let Some(command) = &c.command {
        trainer["command"] = json!(command);
    }
    if !env.is_empty() {
        trainer["env"] = to_value(&env);
    }
    let mut pod_meta = json!({"labels": template.labels});
    if !template.annotations.is_empty() {
        pod_meta["annotations"] = json!(template.annotations);
    }
    let mut pod_spec = json!({
        "securityContext": to_value(&p.security_context),
        "serviceAccountName": p.service_account_name,
        "containers": [{
            "name": NODE,
            "securityContext": to_value(&c.security_context),
            "volumeMounts": to_value(&c.volume_mounts),
        }],
        "volumes": to_value(&p.volumes),
        "nodeSelector": to_value(&p.node_selector),
        "tolerations": to_value(&p.tolerations),
    });
    if let Some(m) = pod_spec.as_object_mut() {
        m.retain(|_, v| !v.is_null());
    }
    let patch = json!({
        "manager": MANAGER,
        "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [{
            "name": NODE,
            "template": {"spec": {"template": {"metadata": pod_meta, "spec": pod_spec}}},
        }]}}},
    });
    let mut spec = json!({
        "runtimeRef": {"apiGroup": "trainer.kubeflow.org", "kind": "ClusterTrainingRuntime", "name": t.runtime},
        "trainer": trainer,
        "runtimePatches": [patch],
    });
    if let Some(d) = deadline {
        spec["activeDeadlineSeconds"] = json!(d);
    }
    json!({
        "apiVersion": "trainer.kubeflow.org/v1alpha1",
        "kind": "TrainJob",
        "metadata": to_value(&metadata),
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn spec(engine: &str, train: &str) -> String {
        format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: pytorch, cuda: \"12.4\"}}\n\
             config: {{LEVEL: info}}\nsecrets:\n  db: {{provider: external-secrets, store: vault, keys: {{DB_URL: db#url}}}}\n\
             volumes:\n  data: {{size: 10Gi, access: ReadWriteMany}}\n\
             pipelines:\n  ml:\n    engine: {engine}\n    queue: gpu\n    steps:\n      prep: {{image: app, run: [prep]}}\n      \
             train: {{image: app, needs: [prep], run: [torchrun, -m, t], gpu: 4, memory: 64Gi, secrets: [db], \
             mounts: {{data: /data}}, {train}}}\n      eval: {{image: app, needs: [train], run: [e]}}\n"
        )
    }

    fn find(objects: &BTreeMap<String, Value>, prefix: &str) -> (String, Value) {
        let (k, v) = objects.iter().find(|(k, _)| k.starts_with(prefix)).unwrap();
        (k.clone(), v.clone())
    }

    #[test]
    fn a_step_on_several_nodes_is_a_trainjob_with_the_baseline_in_a_runtime_patch() {
        let (objects, diags) = crate::emit::rendered(&spec("jobs", "nodes: 2"), "default");
        assert!(diags.is_empty(), "{diags:?}");
        let (_, tj) = find(&objects, "trainjob-p-ml-train-");
        let s = &tj["spec"];
        assert_eq!(
            s["runtimeRef"],
            json!({"apiGroup": "trainer.kubeflow.org", "kind": "ClusterTrainingRuntime", "name": "torch-distributed"})
        );
        assert_eq!(s["trainer"]["numNodes"], 2);
        assert_eq!(s["trainer"]["command"], json!(["torchrun", "-m", "t"]));
        assert_eq!(s["trainer"]["resourcesPerNode"]["limits"]["nvidia.com/gpu"], "4");
        assert_eq!(tj["metadata"]["labels"]["kueue.x-k8s.io/queue-name"], "gpu");
        assert!(s["suspend"].is_null(), "Kueue owns `suspend`");
        // The config and the secret key by key: the Trainer's env has no envFrom.
        let env = s["trainer"]["env"].as_array().unwrap();
        let var = |n: &str| env.iter().find(|e| e["name"] == n).cloned().unwrap_or_default();
        assert_eq!(var("LEVEL")["valueFrom"]["configMapKeyRef"]["key"], "LEVEL");
        assert_eq!(
            var("DB_URL")["valueFrom"]["secretKeyRef"],
            json!({"key": "DB_URL", "name": "p-db"})
        );
        let patch = &s["runtimePatches"][0];
        assert_eq!(patch["manager"], super::MANAGER);
        let job = &patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0];
        assert_eq!(job["name"], "node");
        let pod = &job["template"]["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(pod["containers"][0]["name"], "node");
        assert_eq!(pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"], true);
        let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
        assert!(
            mounts.iter().any(|m| m["mountPath"] == "/dev/shm"),
            "GPU nodes get shm: {mounts:?}"
        );
        assert!(mounts.iter().any(|m| m["mountPath"] == "/data"));
    }

    #[test]
    fn changing_a_distributed_step_is_a_new_trainjob_and_reruns_the_steps_after_it() {
        let names = |train: &str| {
            let (objects, _) = crate::emit::rendered(&spec("jobs", train), "default");
            (
                find(&objects, "job-p-ml-prep-").0,
                find(&objects, "trainjob-p-ml-train-").0,
                find(&objects, "job-p-ml-eval-").0,
            )
        };
        let two = names("nodes: 2");
        let four = names("nodes: 4");
        assert_eq!(two.0, four.0, "the step before it keeps its name");
        assert_ne!(two.1, four.1, "a new TrainJob");
        assert_ne!(two.2, four.2, "the step after it runs again");
        assert_eq!(two, names("nodes: 2"));
    }

    #[test]
    fn on_argo_workflows_a_resource_template_creates_the_trainjob() {
        let (objects, diags) = crate::emit::rendered(
            &spec("argo-workflows", "nodes: 2, trainer: deepspeed-distributed"),
            "default",
        );
        assert!(diags.is_empty(), "{diags:?}");
        let templates = objects["workflowtemplate-p-ml.yaml"]["spec"]["templates"]
            .as_array()
            .unwrap()
            .clone();
        let t = templates.iter().find(|t| t["name"] == "train").unwrap();
        assert!(t["resource"]["successCondition"].as_str().unwrap().contains("Complete"));
        let file = crate::syntax::decode("m.yaml", t["resource"]["manifest"].as_str().unwrap().as_bytes()).unwrap();
        let tj = crate::syntax::yaml::parse(&file).unwrap().to_json();
        assert_eq!(tj["kind"], "TrainJob");
        assert_eq!(tj["spec"]["runtimeRef"]["name"], "deepspeed-distributed");
        assert_eq!(tj["metadata"]["labels"]["kueue.x-k8s.io/queue-name"], "gpu");
        let role = &objects["role-p-ml-executor.yaml"]["rules"];
        assert!(
            role.as_array()
                .unwrap()
                .iter()
                .any(|r| r["resources"] == json!(["trainjobs"])),
            "{role}"
        );
    }

    #[test]
    fn argo_cd_does_not_compare_the_trainers_patch_timestamps() {
        let yaml = format!(
            "{}gitops: {{engine: argocd, repo: \"https://git.example.com/x.git\"}}\n",
            spec("jobs", "nodes: 2")
        );
        let compiled = crate::compile("mlship.yaml", yaml.as_bytes(), &crate::project::MemProject::default());
        let out = compiled.output.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
        let app = String::from_utf8(out.files["gitops/default.yaml"].clone()).unwrap();
        assert!(app.contains(".spec.runtimePatches[].time"), "{app}");
        // Flux's level of the TrainJob waits until the Trainer says it is complete.
        let yaml = format!(
            "{}gitops: {{engine: flux, repo: \"https://git.example.com/x.git\"}}\n",
            spec("jobs", "nodes: 2")
        );
        let compiled = crate::compile("mlship.yaml", yaml.as_bytes(), &crate::project::MemProject::default());
        let out = compiled.output.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
        let flux = String::from_utf8(out.files["gitops/default.yaml"].clone()).unwrap();
        let level = flux
            .split("---")
            .find(|d| d.contains("name: p-default-jobs-1"))
            .unwrap();
        assert!(
            level.contains("kind: TrainJob") && level.contains("c.type == ''Complete''"),
            "{level}"
        );
        let level0 = flux
            .split("---")
            .find(|d| d.contains("name: p-default-jobs-0"))
            .unwrap();
        assert!(!level0.contains("healthCheckExprs"), "{level0}");
    }
}
