//! Notebooks: a Kubeflow `Notebook`, or a StatefulSet and a Service without Kubeflow.
//!
//! Takes: an [`EnvPlan`]'s notebook plans. Gives, per notebook: its workspace claim (never
//! pruned by the GitOps engine), a ServiceAccount without a token, a NetworkPolicy, and
//! either a `kubeflow.org/v1` Notebook (Kubeflow's controller makes the StatefulSet, the
//! Service and the route) or a StatefulSet of one pod with a ClusterIP Service, reached with
//! `kubectl port-forward`. Pods come from [`pod::notebook_pod`]: the security baseline under
//! the notebook profile. With a GitOps engine the files go in the environment's `notebooks`
//! folder, which the engine applies on its own (see `argocd` and `flux`).

use super::{Emit, Kind, Object, Target, pod, to_value};
use crate::plan::{EnvPlan, NOTEBOOK_PORT, NotebookPlan, Plan};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PodTemplateSpec, Service, ServiceAccount, ServicePort,
    ServiceSpec, VolumeResourceRequirements,
};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPort, NetworkPolicySpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;
use std::collections::BTreeMap;

pub const TARGET: Target = Target {
    name: "notebooks",
    kinds: &[Kind::new("kubeflow.org/v1", "Notebook").pods(&[&["spec", "template", "spec"]])],
    emit: Emit::Env(objects),
};

/// One group per notebook.
fn objects(_: &Plan, env: &EnvPlan, sink: &mut super::Sink<'_>) {
    for nb in &env.notebooks {
        sink(
            notebook(env, nb)
                .into_iter()
                .map(|v| Object::generated(&nb.folder, v))
                .collect(),
            &|_| {},
        );
    }
}

fn notebook(env: &EnvPlan, nb: &NotebookPlan) -> Vec<serde_json::Value> {
    let meta = |name: &str| super::meta(env, name, Some(&nb.name), Some("notebook"));
    let annotated = || ObjectMeta {
        annotations: Some(nb.annotations.clone()),
        ..meta(&nb.full_name)
    };
    let selector = || LabelSelector {
        match_labels: Some(env.selector(&nb.name)),
        ..Default::default()
    };
    let w = &nb.workspace;
    let mut out = vec![
        to_value(&PersistentVolumeClaim {
            metadata: ObjectMeta {
                annotations: (!nb.workspace_annotations.is_empty()).then(|| nb.workspace_annotations.clone()),
                ..meta(&w.name)
            },
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec![w.access_mode.clone()]),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([("storage".to_string(), Quantity(w.size.clone()))])),
                    ..Default::default()
                }),
                storage_class_name: w.storage_class.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        to_value(&ServiceAccount {
            metadata: meta(&nb.full_name),
            automount_service_account_token: Some(false),
            ..Default::default()
        }),
        // Kubeflow's gateway and culler reach the server on its port; without Kubeflow no pod
        // may (kubectl port-forward goes through the kubelet, not the pod network).
        to_value(&NetworkPolicy {
            metadata: meta(&nb.full_name),
            spec: Some(NetworkPolicySpec {
                pod_selector: Some(selector()),
                policy_types: Some(vec!["Ingress".into()]),
                ingress: Some(if nb.kubeflow {
                    vec![NetworkPolicyIngressRule {
                        ports: Some(vec![NetworkPolicyPort {
                            port: Some(IntOrString::Int(NOTEBOOK_PORT)),
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        }]),
                        ..Default::default()
                    }]
                } else {
                    Vec::new()
                }),
                ..Default::default()
            }),
        }),
    ];
    let pod = pod::notebook_pod(&nb.template.pod);
    if nb.kubeflow {
        // Kubeflow copies the Notebook's labels and annotations onto the pod it makes; its
        // template takes only `spec`.
        out.push(json!({
            "apiVersion": "kubeflow.org/v1",
            "kind": "Notebook",
            "metadata": to_value(&annotated()),
            "spec": { "template": { "spec": to_value(&pod) } },
        }));
        return out;
    }
    out.push(to_value(&StatefulSet {
        metadata: annotated(),
        spec: Some(StatefulSetSpec {
            replicas: Some(1),
            service_name: Some(nb.full_name.clone()),
            selector: selector(),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(nb.template.labels.clone()),
                    annotations: (!nb.template.annotations.is_empty()).then(|| nb.template.annotations.clone()),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        ..Default::default()
    }));
    out.push(to_value(&Service {
        metadata: meta(&nb.full_name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(env.selector(&nb.name)),
            ports: Some(vec![ServicePort {
                name: Some("notebook".into()),
                port: nb.service_port,
                target_port: Some(IntOrString::String("notebook-port".into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }));
    out
}

/// The command that reaches a notebook from a workstation, and the URL to open.
pub fn port_forward(env: &EnvPlan, nb: &NotebookPlan) -> String {
    format!(
        "kubectl -n {} port-forward svc/{} 8888:{}   # then open http://localhost:8888{}",
        env.namespace, nb.full_name, nb.service_port, nb.url_path
    )
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use crate::diag::Code;
    use crate::project::MemProject;
    use serde_json::Value;

    const BASE: &str = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\n\
        images:\n  trainer: {stack: sklearn}\n  gpu: {stack: pytorch, cuda: \"12.4\"}\n\
        config: {A: a, B: b}\n\
        secrets:\n  db: {provider: external-secrets, store: vault, keys: {DB_PASSWORD: p/db#password}}\n  \
        other: {provider: external-secrets, store: vault, keys: {OTHER: p/other#x}}\n\
        volumes:\n  data: {size: 10Gi}\n\
        environments:\n  dev: {namespace: p-dev}\n  prod: {production: false}\n";

    fn build(extra: &str) -> crate::Compiled {
        let spec = format!("{BASE}{extra}");
        crate::compile("mlship.yaml", spec.as_bytes(), &MemProject::default())
    }

    fn object(c: &crate::Compiled, path: &str) -> Value {
        let out = c.output.as_ref().unwrap_or_else(|| panic!("{:?}", c.diagnostics));
        let text = out
            .files
            .get(path)
            .unwrap_or_else(|| panic!("no {path} in {:?}", out.files.keys().collect::<Vec<_>>()));
        let text = String::from_utf8(text.clone()).expect("UTF-8");
        let tree = crate::syntax::yaml::parse(&crate::source::SourceFile::new(path, &text)).expect("YAML");
        tree.to_json()
    }

    const LAB: &str = "notebooks:\n  lab:\n    image: trainer\n    environments: [dev]\n    \
        config: [A]\n    secrets: [db]\n    mounts: {data: /data}\n";

    #[test]
    fn a_kubeflow_notebook_meets_the_image_contract_and_gets_only_what_it_names() {
        let c = build(&format!("notebook_platform: kubeflow\n{LAB}"));
        let nb = object(&c, "envs/dev/notebook-p-lab.yaml");
        let pod = &nb["spec"]["template"]["spec"];
        let main = &pod["containers"][0];
        assert_eq!(
            main["name"], "p-lab",
            "Kubeflow's status reads the container named after the Notebook"
        );
        assert_eq!(main["image"], "r.io/p/trainer-jupyterlab:1");
        assert_eq!(main["ports"][0]["containerPort"], 8888);
        let env: Vec<(&str, &str)> = main["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["name"].as_str().unwrap(), e["value"].as_str().unwrap()))
            .collect();
        assert_eq!(env, [("A", "a"), ("NB_PREFIX", "/notebook/p-dev/p-lab")]);
        assert_eq!(
            main["envFrom"],
            serde_json::json!([{"secretRef": {"name": "p-db"}}]),
            "no ConfigMap, no unnamed secret"
        );
        let home = main["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == "/home/jovyan");
        assert_eq!(home.unwrap()["name"], "workspace");
        assert_eq!(pod["securityContext"]["runAsUser"], 1000);
        assert_eq!(pod["securityContext"]["fsGroup"], 100);
        assert_eq!(main["securityContext"]["readOnlyRootFilesystem"], false);
        assert_eq!(main["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(main["securityContext"]["capabilities"]["drop"][0], "ALL");
        assert_eq!(nb["metadata"]["annotations"]["mlship.dev/security-profile"], "notebook");
        assert_eq!(
            nb["metadata"]["annotations"]["notebooks.kubeflow.org/server-type"],
            "jupyter"
        );
        let policy = object(&c, "envs/dev/networkpolicy-p-lab.yaml");
        assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], 8888);
        // Only in the environments it names, and its variant is built.
        let out = c.output.as_ref().unwrap();
        assert!(
            !out.files
                .keys()
                .any(|f| f.starts_with("envs/prod/") && f.contains("lab"))
        );
        let dockerfile = String::from_utf8(out.files["images/trainer-jupyterlab/Dockerfile"].clone()).unwrap();
        let deps = dockerfile
            .find("uv pip install 'scikit-learn")
            .expect("the stack's packages");
        let server = dockerfile.find("uv pip install 'jupyterlab==").expect("the server");
        assert!(deps < server, "the server goes above the dependencies");
        for line in [
            "USER 1000:100",
            "EXPOSE 8888",
            "WORKDIR /home/jovyan",
            "--chown=1000:100 /opt/venv",
        ] {
            assert!(dockerfile.contains(line), "{line} missing:\n{dockerfile}");
        }
        assert!(
            c.access[0]
                .1
                .contains("kubectl -n p-dev port-forward svc/p-lab 8888:80"),
            "{:?}",
            c.access
        );
    }

    #[test]
    fn a_plain_notebook_is_a_statefulset_and_a_service_reached_by_port_forward() {
        let c = build(LAB);
        let sts = object(&c, "envs/dev/statefulset-p-lab.yaml");
        assert_eq!(sts["spec"]["replicas"], 1);
        assert_eq!(sts["spec"]["serviceName"], "p-lab");
        let main = &sts["spec"]["template"]["spec"]["containers"][0];
        let prefix = main["env"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "NB_PREFIX");
        assert_eq!(prefix.unwrap()["value"], "/");
        assert_eq!(main["readinessProbe"]["httpGet"]["path"], "/api");
        let svc = object(&c, "envs/dev/service-p-lab.yaml");
        assert_eq!(svc["spec"]["ports"][0]["port"], 8888);
        let policy = object(&c, "envs/dev/networkpolicy-p-lab.yaml");
        assert_eq!(
            policy["spec"]["ingress"],
            serde_json::json!([]),
            "only port-forward reaches it"
        );
        let claim = object(&c, "envs/dev/persistentvolumeclaim-p-lab-workspace.yaml");
        assert_eq!(claim["spec"]["resources"]["requests"]["storage"], "10Gi");
        assert!(
            claim["metadata"]["annotations"].is_null(),
            "no GitOps engine, no engine annotations"
        );
        assert_eq!(
            c.access,
            [(
                "dev".to_string(),
                "notebook `lab`: kubectl -n p-dev port-forward svc/p-lab 8888:8888   # then open http://localhost:8888/"
                    .to_string()
            )]
        );
    }

    #[test]
    fn with_a_gitops_engine_notebooks_are_applied_on_their_own_and_their_claim_is_kept() {
        for (engine, key, value) in [
            ("argocd", "argocd.argoproj.io/sync-options", "Prune=false,Delete=false"),
            ("flux", "kustomize.toolkit.fluxcd.io/prune", "disabled"),
        ] {
            let c = build(&format!(
                "{LAB}gitops: {{engine: {engine}, repo: https://git.example.com/p.git}}\n"
            ));
            let claim = object(&c, "envs/dev/notebooks/persistentvolumeclaim-p-lab-workspace.yaml");
            assert_eq!(claim["metadata"]["annotations"][key], value, "{engine}");
            let out = c.output.as_ref().unwrap();
            let dev = String::from_utf8(out.files["gitops/dev.yaml"].clone()).unwrap();
            assert!(
                dev.contains("name: p-dev-notebooks") && dev.contains("envs/dev/notebooks"),
                "{dev}"
            );
            let base = String::from_utf8(out.files["envs/dev/kustomization.yaml"].clone()).unwrap();
            assert!(
                !base.contains("p-lab"),
                "the environment's own kustomization leaves notebooks out"
            );
            let prod = String::from_utf8(out.files["gitops/prod.yaml"].clone()).unwrap();
            assert!(!prod.contains("notebooks"), "no notebooks, no second application");
        }
    }

    #[test]
    fn the_notebook_profile_relaxes_one_policy_and_only_for_notebooks() {
        // A patch may not make a notebook worse.
        let c = build(&format!(
            "{LAB}patches:\n  - kind: StatefulSet\n    name: p-lab\n    patch: {{spec: {{template: {{spec: {{containers: [{{name: p-lab, securityContext: {{privileged: true}}}}]}}}}}}}}\n"
        ));
        let found: Vec<&str> = c.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert!(
            found.iter().any(|m| m.contains("breaks policy `no-privileged`")),
            "{found:?}"
        );
        assert!(
            !found.iter().any(|m| m.contains("read-only-root-filesystem")),
            "{found:?}"
        );
        // An extra manifest cannot borrow the profile with the annotation.
        let spec = format!("{BASE}{LAB}manifests: [extra.yaml]\n");
        let extra = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: borrowed\n  annotations: {mlship.dev/security-profile: notebook}\n\
            spec:\n  serviceName: x\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      \
            securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n      containers:\n      - name: c\n        image: x:1\n        \
            resources: {requests: {cpu: '1', memory: 1Gi}, limits: {cpu: '1', memory: 1Gi}}\n        \
            securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";
        let project = MemProject([("extra.yaml".to_string(), extra.as_bytes().to_vec())].into());
        let c = crate::compile("mlship.yaml", spec.as_bytes(), &project);
        let policy: Vec<&str> = c
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::Policy)
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            policy,
            [
                "StatefulSet/borrowed breaks policy `read-only-root-filesystem`: container `c` has a writable root filesystem"
            ],
            "{:?}",
            c.diagnostics
        );
    }

    #[test]
    fn the_notebook_schema_is_kubeflows_pod_spec_of_kubernetes_1_24() {
        // hostUsers came with Kubernetes 1.25: Kubeflow's CRD prunes it, so it is an error here.
        let c = build(&format!(
            "notebook_platform: kubeflow\n{LAB}patches:\n  - kind: Notebook\n    name: p-lab\n    patch: {{spec: {{template: {{spec: {{hostUsers: false}}}}}}}}\n"
        ));
        let invalid: Vec<&str> = c
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::InvalidObject)
            .map(|d| d.message.as_str())
            .collect();
        assert!(invalid.iter().any(|m| m.contains("hostUsers")), "{:?}", c.diagnostics);
    }

    #[test]
    fn code_server_and_rstudio_get_kubeflows_routing_annotations() {
        let c = build(
            "notebook_platform: kubeflow\nnotebooks:\n  r:\n    kind: rstudio\n    prebuilt: ghcr.io/kubeflow/kubeflow/notebook-servers/rstudio-tidyverse:v1.10.0\n    environments: [dev]\n",
        );
        let nb = object(&c, "envs/dev/notebook-p-r.yaml");
        let a = &nb["metadata"]["annotations"];
        assert_eq!(a["notebooks.kubeflow.org/server-type"], "group-two");
        assert_eq!(a["notebooks.kubeflow.org/http-rewrite-uri"], "/");
        assert_eq!(
            a["notebooks.kubeflow.org/http-headers-request-set"],
            "{\"X-RStudio-Root-Path\":\"/notebook/p-dev/p-r/\"}"
        );
        let main = &nb["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            main["image"],
            "ghcr.io/kubeflow/kubeflow/notebook-servers/rstudio-tidyverse:v1.10.0"
        );
        assert!(
            !c.output.unwrap().files.keys().any(|f| f.contains("jupyterlab")),
            "no variant to build"
        );
    }

    #[test]
    fn a_project_base_template_that_ignores_notebooks_is_an_error_not_a_silent_image() {
        let spec = format!("{BASE}stdlib: lib\n{LAB}");
        let template = "FROM {{ runtime_image }}\nUSER {{ uid }}\nCMD {{ command }}\n";
        let project = MemProject([("lib/templates/Dockerfile.j2".to_string(), template.as_bytes().to_vec())].into());
        let c = crate::compile("mlship.yaml", spec.as_bytes(), &project);
        let stack: Vec<(Code, String)> = c
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::Stack)
            .map(|d| (d.code, d.path.as_ref().map(ToString::to_string).unwrap_or_default()))
            .collect();
        assert_eq!(
            stack,
            [(Code::Stack, "images.trainer.template".to_string())],
            "{:?}",
            c.diagnostics
        );
        assert!(c.diagnostics[0].message.contains("exposes no port 8888"));
    }

    #[test]
    fn an_environment_overrides_a_notebook_it_declares() {
        let spec = BASE.replace(
            "  dev: {namespace: p-dev}\n",
            "  dev:\n    namespace: p-dev\n    notebooks: {lab: {memory: 16Gi}}\n",
        );
        let c = crate::compile("mlship.yaml", format!("{spec}{LAB}").as_bytes(), &MemProject::default());
        let sts = object(&c, "envs/dev/statefulset-p-lab.yaml");
        assert_eq!(
            sts["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
            "16Gi"
        );
        let spec = BASE.replace(
            "  dev: {namespace: p-dev}\n",
            "  dev:\n    namespace: p-dev\n    notebooks: {labb: {memory: 16Gi}}\n",
        );
        let c = crate::compile("mlship.yaml", format!("{spec}{LAB}").as_bytes(), &MemProject::default());
        assert_eq!(
            c.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
            [Code::UnknownOverride]
        );
    }
}
