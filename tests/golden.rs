//! Every example compiles, in both syntaxes, to the committed tree in golden/<example>/.
//! Refresh with `UPDATE_GOLDEN=1 cargo test --test golden` and review the diff.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

use common::*;

#[test]
fn examples_match_golden_trees_in_both_syntaxes() {
    let mut failures = Vec::new();
    let names = examples();
    assert!(names.len() >= 3, "expected at least three examples, found {names:?}");
    for name in names {
        let dir = root().join("examples").join(&name);
        let yaml = compile(&dir.join("mlship.yaml"));
        assert!(
            yaml.output.is_some(),
            "{name}/mlship.yaml does not compile:\n{}",
            rendered(&yaml)
        );
        assert!(
            yaml.diagnostics.is_empty(),
            "{name}/mlship.yaml has warnings:\n{}",
            rendered(&yaml)
        );
        let out = yaml.output.unwrap();
        let kdl = compile(&dir.join("mlship.kdl"));
        assert!(
            kdl.output.is_some(),
            "{name}/mlship.kdl does not compile:\n{}",
            rendered(&kdl)
        );
        assert_eq!(
            kdl.output.as_ref(),
            Some(&out),
            "{name}: the KDL twin compiles to a different tree"
        );

        let golden = root().join("golden").join(&name);
        for (rel, bytes) in &out.files {
            if let Err(e) = expect_file(&golden.join(rel), bytes) {
                failures.push(e);
            }
        }
        // No file in the golden tree that the compiler no longer writes.
        for extra in walk(&golden).iter().filter(|f| !out.files.contains_key(*f)) {
            if updating() {
                std::fs::remove_file(golden.join(extra)).unwrap();
            } else {
                failures.push(format!("golden/{name}/{extra} is no longer generated"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\nIf the change is intended: bash scripts/regen.sh (or UPDATE_GOLDEN=1 cargo test --test golden)",
        failures.join("\n")
    );
}

#[test]
fn yaml_and_kdl_twins_give_equal_models() {
    for name in examples() {
        let dir = root().join("examples").join(&name);
        let load = |f: &str| {
            let bytes = std::fs::read(dir.join(f)).unwrap();
            let (_, loaded, diags) = mlship::load::load(f, &bytes);
            loaded.unwrap_or_else(|| panic!("{name}/{f}: {diags:?}")).spec
        };
        assert_eq!(load("mlship.yaml"), load("mlship.kdl"), "{name}: twins differ");
    }
}

/// Issue 15: in KDL, one argument was a one-element list everywhere the spec has a list but
/// inside `environments`, so an environment override of a list field had no KDL twin.
#[test]
fn an_environment_override_of_a_list_has_a_kdl_twin() {
    let yaml = r#"apiVersion: mlship/v1
project: demo
registry: ghcr.io/acme/demo
tag: "1.0.0"
images:
  server:
    stack: fastapi
  job:
    stack: fastapi
services:
  api:
    image: server
    port: 8080
    command: [uvicorn, app:app]
pipelines:
  nightly:
    steps:
      prepare:
        image: job
        run: [python, prepare.py]
      train:
        image: job
        run: [python, train.py]
environments:
  dev:
    tag: dev
  prod:
    namespace: demo-prod
    tag: "1.0.0"
    production: false
    services:
      api:
        command: [gunicorn]
    pipelines:
      nightly:
        steps:
          train:
            run: [train]
            needs: [prepare]
"#;
    let kdl = r#"apiVersion "mlship/v1"
project "demo"
registry "ghcr.io/acme/demo"
tag "1.0.0"
images "server" stack="fastapi"
images "job" stack="fastapi"
services "api" image="server" port=8080 {
    command "uvicorn" "app:app"
}
pipelines "nightly" {
    steps "prepare" image="job" {
        run "python" "prepare.py"
    }
    steps "train" image="job" {
        run "python" "train.py"
    }
}
environments "dev" tag="dev"
environments "prod" namespace="demo-prod" tag="1.0.0" production=#false {
    services "api" command="gunicorn"
    pipelines "nightly" {
        steps "train" {
            run "train"
            needs "prepare"
        }
    }
}
"#;
    let project = mlship::project::MemProject::default();
    let build = |name: &str, text: &str| {
        let c = mlship::compile(name, text.as_bytes(), &project);
        assert!(c.output.is_some(), "{name} does not compile:\n{}", rendered(&c));
        c.output.unwrap()
    };
    let out = build("mlship.yaml", yaml);
    let names: Vec<&String> = out.files.keys().collect();
    let prod = names
        .iter()
        .find(|f| f.starts_with("envs/prod/") && f.contains("deployment"))
        .unwrap();
    let prod = String::from_utf8_lossy(&out.files[*prod]).into_owned();
    assert!(prod.contains("- gunicorn"), "{prod}");
    assert_eq!(
        build("mlship.kdl", kdl),
        out,
        "the KDL twin compiles to a different tree"
    );
}

#[test]
fn compiling_twice_gives_the_same_bytes() {
    for name in examples() {
        let spec = root().join("examples").join(&name).join("mlship.yaml");
        assert_eq!(compile(&spec).output, compile(&spec).output, "{name}");
    }
}

#[test]
fn no_plaintext_secret_in_golden_trees() {
    for name in examples() {
        for rel in walk(&root().join("golden").join(&name)) {
            let text = std::fs::read_to_string(root().join("golden").join(&name).join(&rel)).unwrap();
            for doc in text.split("\n---\n") {
                if doc.lines().any(|l| l == "kind: Secret") {
                    // Only SOPS-encrypted Secrets may appear: every data value is ENC[...].
                    assert!(
                        doc.contains("\nsops:\n"),
                        "{name}/{rel}: a Secret without SOPS encryption"
                    );
                    let mut in_data = false;
                    for line in doc.lines() {
                        if line == "data:" || line == "stringData:" {
                            in_data = true;
                        } else if !line.starts_with(' ') {
                            in_data = false;
                        } else if in_data {
                            let value = line.split_once(": ").map(|x| x.1).unwrap_or("");
                            assert!(
                                value.trim_matches('\'').starts_with("ENC["),
                                "{name}/{rel}: plaintext value in {line}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// No golden file carries secret material: every YAML document passes the rule mlship
/// applies to its final objects (`secrets::scan`: no plain Secret data, well-formed SOPS and
/// sealed values, no credential-shaped strings elsewhere), and no Dockerfile line looks like it
/// carries a credential.
#[test]
fn no_secret_shaped_strings_in_golden_trees() {
    let mut hits = Vec::new();
    let mut scanned = 0;
    for name in examples() {
        let golden = root().join("golden").join(&name);
        for rel in walk(&golden).into_iter().filter(|r| r.ends_with(".yaml")) {
            let text = std::fs::read_to_string(golden.join(&rel)).unwrap();
            for doc in text.split("\n---\n") {
                let tree = mlship::syntax::yaml::parse(&mlship::source::SourceFile::new(rel.as_str(), doc)).unwrap();
                for leak in mlship::secrets::scan(&tree.to_json()) {
                    hits.push(format!("{name}/{rel}: {}", leak.message));
                }
                scanned += 1;
            }
        }
        for rel in walk(&golden).into_iter().filter(|r| r.ends_with("/Dockerfile")) {
            let text = std::fs::read_to_string(golden.join(&rel)).unwrap();
            for (n, line) in text.lines().enumerate() {
                if let Some(f) = mlship::secrets::in_text(line) {
                    hits.push(format!("{name}/{rel}:{}: {}", n + 1, f.why));
                }
            }
        }
    }
    assert!(scanned > 50, "scanned only {scanned} documents");
    assert!(
        hits.is_empty(),
        "secret-shaped strings in golden/:\n{}",
        hits.join("\n")
    );
}

/// docs/security.md, "Pods": every pod of every golden tree runs as UID 10001 with
/// `runAsNonRoot`, seccomp `RuntimeDefault`, and containers with a read-only root filesystem,
/// no privilege escalation and every capability dropped; none mounts a service-account token
/// but Argo Workflows' pods, whose executor reports each step's result through the API; and
/// every workload has a NetworkPolicy that admits only its service's port, or nothing.
#[test]
fn every_golden_pod_runs_with_the_security_baseline() {
    use serde_json::{Value, json};
    let mut problems = Vec::new();
    let mut pods = 0;
    for name in examples() {
        let golden = root().join("golden").join(&name);
        // Per environment folder: the NetworkPolicies by the instance they select, and the
        // workloads (instance, the ports their containers serve, whether any is a Deployment).
        let mut policies: std::collections::BTreeMap<(String, String), Value> = Default::default();
        let mut workloads: Vec<(String, String, String, Vec<Value>)> = Vec::new();
        for rel in walk(&golden)
            .into_iter()
            .filter(|r| r.starts_with("envs/") && r.ends_with(".yaml"))
        {
            let env = rel.split('/').nth(1).unwrap_or_default().to_string();
            let text = std::fs::read_to_string(golden.join(&rel)).unwrap();
            let tree = mlship::syntax::yaml::parse(&mlship::source::SourceFile::new(rel.as_str(), &text)).unwrap();
            let obj = tree.to_json();
            let kind = obj["kind"].as_str().unwrap_or_default().to_string();
            let instance = obj["metadata"]["labels"]["app.kubernetes.io/instance"]
                .as_str()
                .unwrap_or_default();
            if kind == "NetworkPolicy" {
                let selected = obj["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"].clone();
                policies.insert(
                    (env.clone(), selected.as_str().unwrap_or_default().to_string()),
                    obj.clone(),
                );
                continue;
            }
            let argo = obj["apiVersion"]
                .as_str()
                .is_some_and(|v| v.starts_with("argoproj.io/"));
            // Notebooks run under their own profile (docs/security.md, "The notebook profile"):
            // UID 1000 and a writable root filesystem; a plain notebook is reached only by
            // `kubectl port-forward`, so its NetworkPolicy admits nothing.
            let notebook = obj["metadata"]["annotations"][mlship::plan::PROFILE_ANNOTATION] == "notebook";
            let uid = if notebook {
                json!(mlship::plan::NOTEBOOK_UID)
            } else {
                json!(10001)
            };
            let plain_notebook = notebook && kind == "StatefulSet";
            let mut ports = Vec::new();
            let found = mlship::emit::pod_specs(&obj);
            for (at, pod) in &found {
                let containers: Vec<&Value> = ["initContainers", "containers"]
                    .iter()
                    .flat_map(|k| pod[*k].as_array().into_iter().flatten())
                    .chain(
                        ["container", "model"]
                            .iter()
                            .map(|k| &pod[*k])
                            .filter(|c| c.is_object()),
                    )
                    .collect();
                if containers.is_empty() {
                    continue; // an Argo DAG template: it runs no pod
                }
                // A KServe model's ServingRuntime serves on 8080; Knative's queue-proxy, in
                // front of every Knative-mode predictor, on 8012.
                if pod["model"].is_object() {
                    ports.push(json!({"port": 8080, "protocol": "TCP"}));
                }

                pods += 1;
                let here = format!("{name}/{rel}: {at}");
                let psc = match mlship::emit::pod_defaults(&obj) {
                    Some(shared) if pod["securityContext"].is_null() => shared,
                    _ => &pod["securityContext"],
                };
                for (key, want) in [
                    ("runAsUser", uid.clone()),
                    ("runAsNonRoot", json!(true)),
                    ("seccompProfile", json!({"type": "RuntimeDefault"})),
                ] {
                    if psc[key] != want {
                        problems.push(format!("{here}: securityContext.{key} is {}", psc[key]));
                    }
                }
                if !argo && pod["automountServiceAccountToken"] != json!(false) {
                    problems.push(format!("{here}: mounts a service-account token"));
                }
                for c in containers {
                    let sc = &c["securityContext"];
                    for (key, want) in [
                        ("runAsUser", uid.clone()),
                        ("readOnlyRootFilesystem", json!(!notebook)),
                        ("allowPrivilegeEscalation", json!(false)),
                        ("privileged", json!(false)),
                        ("capabilities", json!({"drop": ["ALL"]})),
                    ] {
                        if sc[key] != want {
                            problems.push(format!("{here}: container {}: {key} is {}", c["name"], sc[key]));
                        }
                    }
                    for p in c["ports"].as_array().into_iter().flatten().filter(|_| !plain_notebook) {
                        ports.push(json!({"port": p["containerPort"], "protocol": p["protocol"]}));
                    }
                }
                let mode = &obj["metadata"]["annotations"]["serving.kserve.io/deploymentMode"];
                if mode == "Knative" || mode == "Serverless" {
                    ports.push(json!({"port": 8012, "protocol": "TCP"}));
                }
            }
            if !found.is_empty() {
                workloads.push((env, instance.to_string(), format!("{name}/{rel}"), ports));
            }
        }
        for (env, instance, file, ports) in workloads {
            let Some(policy) = policies.get(&(env, instance.clone())) else {
                problems.push(format!("{file}: no NetworkPolicy selects {instance}"));
                continue;
            };
            let want = if ports.is_empty() {
                json!([])
            } else {
                json!([{"ports": ports}])
            };
            if policy["spec"]["ingress"] != want || policy["spec"]["policyTypes"] != json!(["Ingress"]) {
                problems.push(format!(
                    "{file}: the NetworkPolicy of {instance} admits {}",
                    policy["spec"]
                ));
            }
        }
    }
    assert!(pods > 20, "checked only {pods} pods");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
