//! `mlship::validate`: Kubernetes objects against the bundled schemas (schemas/k8s/, and
//! schemas/crds/ for the custom resources mlship emits).
//!
//! - every object of every golden tree validates clean, for its lock's version and for every
//!   supported version, custom resources included (none is skipped);
//! - a table of corrupted objects: each class of error (unknown field, wrong type, missing
//!   field, bad enum value, wrong apiVersion) is caught with the right path and message;
//! - the broken manifests of tests/manifests/broken/ fail exactly as listed in expected.tsv
//!   (tests/manifests/crosscheck.sh checks that kubernetes-validate rejects them too);
//! - multi-document YAML: errors carry the line and column of the offending node;
//! - custom resources (ExternalSecret, SealedSecret, Application, GitRepository,
//!   Kustomization): broken ones are caught with path and message, valid ones using upstream
//!   fields mlship does not emit pass, other custom resources are still unknown kinds, and
//!   tests/manifests/crds/ fail or pass as listed there.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

use common::{rel, root, walk};
use mlship::validate::{self, NoSchema, Outcome, UnknownKind, Violation};
use serde_json::{Value, json};
use std::path::Path;

/// Every file under `dir`, sorted, as (repo-relative name, text).
fn read_tree(dir: &Path) -> Vec<(String, String)> {
    walk(dir)
        .into_iter()
        .map(|f| {
            let p = dir.join(f);
            (rel(&p), std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

struct Golden {
    name: String,
    kubernetes: String,
    envs: Vec<(String, String)>,
    gitops: Vec<(String, String)>,
}

fn goldens() -> Vec<Golden> {
    let mut out = Vec::new();
    let golden = root().join("golden");
    let trees = walk(&golden);
    for name in trees
        .iter()
        .filter_map(|f| f.strip_suffix("/mlship.lock.json"))
        .filter(|n| !n.contains('/'))
    {
        let dir = golden.join(name);
        let lock: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("mlship.lock.json")).unwrap()).unwrap();
        out.push(Golden {
            name: name.to_string(),
            kubernetes: lock["kubernetes"].as_str().unwrap().to_string(),
            envs: read_tree(&dir.join("envs")),
            gitops: read_tree(&dir.join("gitops")),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 3, "expected the three golden trees");
    out
}

fn files(v: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    v.iter().map(|(n, t)| (n.as_str(), t.as_str()))
}

/// The custom resources mlship emits: validated against schemas/crds/, never skipped.
const CUSTOM_RESOURCES: &[(&str, &str)] = &[
    ("external-secrets.io/v1", "ExternalSecret"),
    ("bitnami.com/v1alpha1", "SealedSecret"),
    ("argoproj.io/v1alpha1", "Application"),
    ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
    ("argoproj.io/v1alpha1", "WorkflowTemplate"),
    ("argoproj.io/v1alpha1", "CronWorkflow"),
    ("argoproj.io/v1alpha1", "Workflow"),
    ("kubeflow.org/v1", "Notebook"),
    ("serving.kserve.io/v1beta1", "InferenceService"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("kubeflow.org/v1beta1", "Experiment"),
];

#[test]
fn golden_objects_validate_clean_for_every_supported_version() {
    let mut kinds = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for g in goldens() {
        assert!(
            validate::supported(&g.kubernetes).is_some(),
            "{}: lock targets Kubernetes {}, which has no bundle",
            g.name,
            g.kubernetes
        );
        // The lock's version first, then every other one (these kinds are stable APIs).
        let mut versions = vec![g.kubernetes.as_str()];
        versions.extend(validate::SUPPORTED.iter().filter(|v| **v != g.kubernetes));
        for version in versions {
            let docs = validate::validate_files(version, files(&g.envs).chain(files(&g.gitops))).unwrap();
            assert!(!docs.is_empty());
            for d in &docs {
                let obj = d.object.as_ref().expect("golden documents are objects");
                match &d.outcome {
                    Outcome::Valid => {
                        kinds.insert(format!("{} {}", obj.api_version, obj.kind));
                    }
                    _ => failures.push(format!("Kubernetes {version}: {d}")),
                }
            }
            // The objects Argo resource templates create (a TrainJob, an Experiment).
            for (file, text) in files(&g.envs) {
                let Ok(obj) = serde_norway::from_str::<Value>(text) else {
                    continue;
                };
                for (template, m) in mlship::emit::post::resource_manifests(&obj) {
                    let what = format!(
                        "{} {}",
                        m["apiVersion"].as_str().unwrap_or(""),
                        m["kind"].as_str().unwrap_or("")
                    );
                    match validate::validate(version, &m) {
                        Ok(v) if v.is_empty() => {
                            kinds.insert(what);
                        }
                        other => failures.push(format!(
                            "Kubernetes {version}: {file}: template {template}: {what}: {other:?}"
                        )),
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden objects fail validation:\n{}",
        failures.join("\n")
    );
    // Every kind the target registry emits was seen (and so validated) at least once; the
    // kinds mlship only recognises in extra manifests are exempt.
    let recognised_only = [
        "v1 Secret",
        "apps/v1 StatefulSet",
        "apps/v1 DaemonSet",
        "apps/v1 ReplicaSet",
        "v1 Pod",
    ];
    let registered = mlship::emit::TARGETS
        .iter()
        .flat_map(|t| t.kinds)
        .map(|k| format!("{} {}", k.api_version, k.kind))
        .filter(|k| !recognised_only.contains(&k.as_str()));
    let custom = CUSTOM_RESOURCES.iter().map(|(api, kind)| format!("{api} {kind}"));
    for want in registered.chain(custom) {
        assert!(
            kinds.contains(&want),
            "no golden object of kind {want}; seen: {kinds:?}"
        );
    }
}

/// A valid Deployment to corrupt.
fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "demo", "labels": {"app.kubernetes.io/name": "api"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "api"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {
                    "containers": [{
                        "name": "server",
                        "image": "ghcr.io/acme/api:1.0.0",
                        "imagePullPolicy": "Always",
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": 1}}
                    }]
                }
            }
        }
    })
}

/// Set (Some) or remove (None) the value at a JSON pointer.
fn with(mut v: Value, pointer: &str, new: Option<Value>) -> Value {
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    let last = last.replace("~1", "/").replace("~0", "~");
    let target = v.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}"));
    match (target, new) {
        (Value::Object(m), Some(n)) => {
            m.insert(last, n);
        }
        (Value::Object(m), None) => {
            m.remove(&last).unwrap_or_else(|| panic!("no {pointer}"));
        }
        (Value::Array(a), Some(n)) => a[last.parse::<usize>().unwrap()] = n,
        (Value::Array(a), None) => {
            a.remove(last.parse::<usize>().unwrap());
        }
        _ => panic!("{parent} is not a container"),
    }
    v
}

fn violations(obj: &Value) -> Vec<(String, String)> {
    validate::validate("1.33", obj)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|Violation { path, message, .. }| (path, message))
        .collect()
}

#[test]
fn the_unbroken_object_is_valid_in_every_version() {
    for v in validate::SUPPORTED {
        assert_eq!(
            validate::validate(v, &deployment()).unwrap(),
            Vec::new(),
            "Kubernetes {v}"
        );
    }
}

#[test]
fn corrupted_objects_are_caught_with_path_and_message() {
    let c = "/spec/template/spec/containers/0";
    #[rustfmt::skip]
    let table: Vec<(&str, Value, &str, &str)> = vec![
        // Unknown fields, at every depth: the path is the field's.
        ("unknown top-level field", with(deployment(), "/status2", Some(json!({}))),
            "status2", "unknown field `status2`"),
        ("unknown field in spec", with(deployment(), "/spec/replica", Some(json!(2))),
            "spec.replica", "unknown field `replica`"),
        ("unknown field in a container", with(deployment(), &format!("{c}/imagePulPolicy"), Some(json!("Always"))),
            "spec.template.spec.containers[0].imagePulPolicy", "unknown field `imagePulPolicy`"),
        ("unknown field in metadata", with(deployment(), "/metadata/annotaions", Some(json!({}))),
            "metadata.annotaions", "unknown field `annotaions`"),
        // Wrong types.
        ("string for integer", with(deployment(), "/spec/replicas", Some(json!("2"))),
            "spec.replicas", "expected integer, found string"),
        ("number for integer", with(deployment(), "/spec/replicas", Some(json!(1.5))),
            "spec.replicas", "expected integer, found number"),
        ("integer for string", with(deployment(), &format!("{c}/image"), Some(json!(42))),
            "spec.template.spec.containers[0].image", "expected string, found integer"),
        ("object for list", with(deployment(), &format!("{c}/ports"), Some(json!({"name": "http"}))),
            "spec.template.spec.containers[0].ports", "expected array, found object"),
        ("list for object", with(deployment(), "/spec/selector", Some(json!(["app"]))),
            "spec.selector", "expected object, found array"),
        ("boolean for int-or-string", with(deployment(), "/spec/strategy/rollingUpdate/maxSurge", Some(json!(true))),
            "spec.strategy.rollingUpdate.maxSurge", "expected string or integer, found boolean"),
        ("list for quantity", with(deployment(), &format!("{c}/resources/limits/cpu"), Some(json!([1]))),
            "spec.template.spec.containers[0].resources.limits.cpu", "expected string or number, found array"),
        ("integer label value", with(deployment(), "/metadata/labels/app.kubernetes.io~1name", Some(json!(1))),
            "metadata.labels[\"app.kubernetes.io/name\"]", "expected string, found integer"),
        ("null for required string", with(deployment(), &format!("{c}/name"), Some(Value::Null)),
            "spec.template.spec.containers[0].name", "expected string, found null"),
        // Missing required fields: the path is the object that misses the field.
        ("no container name", with(deployment(), &format!("{c}/name"), None),
            "spec.template.spec.containers[0]", "missing required field `name`"),
        ("no selector", with(deployment(), "/spec/selector", None),
            "spec", "missing required field `selector`"),
        ("no port number", with(deployment(), &format!("{c}/ports/0/containerPort"), None),
            "spec.template.spec.containers[0].ports[0]", "missing required field `containerPort`"),
        ("no apiVersion", with(deployment(), "/apiVersion", None),
            "", "missing required field `apiVersion`"),
        ("no kind", with(deployment(), "/kind", None),
            "", "missing required field `kind`"),
        // Enums: the only ones in Kubernetes' published schemas are apiVersion and kind.
        ("group without its domain", with(deployment(), "/apiVersion", Some(json!("apps.k8s.io/v1"))),
            "apiVersion", "expected `apps/v1`, found `apps.k8s.io/v1`"),
        ("kind in lower case", with(deployment(), "/kind", Some(json!("deployment"))),
            "kind", "expected `Deployment`, found `deployment`"),
        ("removed apiVersion", with(deployment(), "/apiVersion", Some(json!("extensions/v1beta1"))),
            "apiVersion", "expected `apps/v1`, found `extensions/v1beta1`"),
        ("unknown version of a built-in group", with(deployment(), "/apiVersion", Some(json!("apps/v2"))),
            "apiVersion", "expected `apps/v1`, found `apps/v2`"),
        ("unknown kind in a built-in group", with(deployment(), "/kind", Some(json!("Deploymnet"))),
            "kind", "unknown kind `Deploymnet` in `apps/v1` (Kubernetes 1.33)"),
        ("apiVersion not a string", with(deployment(), "/apiVersion", Some(json!(1))),
            "apiVersion", "expected string, found integer"),
    ];
    let mut failures = Vec::new();
    for (what, obj, path, message) in &table {
        let got = violations(obj);
        let want = vec![(path.to_string(), message.to_string())];
        if got != want {
            failures.push(format!("{what}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let obj = with(
        with(deployment(), "/spec/replica", Some(json!(2))),
        "/spec/template/spec/containers/0/image",
        Some(json!(1)),
    );
    let got = violations(&obj);
    assert_eq!(got.len(), 2, "{got:?}");
}

#[test]
fn unknown_fields_suggest_the_known_one() {
    let v = validate::validate("1.33", &with(deployment(), "/spec/replica", Some(json!(2)))).unwrap();
    assert_eq!(v[0].help.as_deref(), Some("did you mean `replicas`?"));
    assert_eq!(
        v[0].to_string(),
        "spec.replica: unknown field `replica` (did you mean `replicas`?)"
    );
}

#[test]
fn served_versions_are_named_for_a_removed_api() {
    let cronjob = json!({
        "apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "x"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}}}
    });
    let v = validate::validate("1.33", &cronjob).unwrap();
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].path, "apiVersion");
    assert_eq!(v[0].message, "expected `batch/v1`, found `batch/v1beta1`");
    assert_eq!(
        v[0].help.as_deref(),
        Some("Kubernetes 1.33 serves CronJob as `batch/v1`")
    );
    // A kind served under several versions lists them all, newest first.
    let hpa = json!({"apiVersion": "autoscaling/v2beta2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "x"}, "spec": {"maxReplicas": 2, "scaleTargetRef": {"kind": "Deployment", "name": "x"}}});
    let v = validate::validate("1.33", &hpa).unwrap();
    assert_eq!(
        v.iter().map(|v| v.message.as_str()).collect::<Vec<_>>(),
        ["expected one of `autoscaling/v2`, `autoscaling/v1`, found `autoscaling/v2beta2`"]
    );
}

#[test]
fn other_custom_resources_are_unknown_kinds() {
    for (api, kind) in [
        // Other kinds and versions of the same projects.
        ("external-secrets.io/v1", "ClusterSecretStore"),
        ("external-secrets.io/v1beta1", "ExternalSecret"),
        ("argoproj.io/v1alpha1", "AppProject"),
        ("source.toolkit.fluxcd.io/v1", "OCIRepository"),
        ("kustomize.toolkit.fluxcd.io/v1beta2", "Kustomization"),
        // The kind's name in the wrong case is another kind.
        ("bitnami.com/v1alpha1", "sealedsecret"),
        // A CRD may reuse a built-in kind's name in its own group.
        ("serving.knative.dev/v1", "Service"),
        // A CRD in a k8s.io group with its own kind.
        ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"),
        // Lists are not bundled.
        ("v1", "List"),
    ] {
        let obj = json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": {"anything": 1}});
        assert_eq!(
            validate::validate("1.35", &obj),
            Err(NoSchema::Kind(UnknownKind {
                api_version: api.into(),
                kind: kind.into()
            })),
            "{api} {kind}"
        );
    }
    // Every custom resource mlship emits has a schema (schemas/crds/ may hold more).
    let with_schema: Vec<_> = validate::custom_resources().collect();
    for emitted in CUSTOM_RESOURCES {
        assert!(with_schema.contains(emitted), "no schema for {emitted:?}");
    }
}

#[test]
fn sops_metadata_is_ignored_and_nothing_else() {
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"},
        "data": {"K": "ENC[AES256_GCM,data:x]"}, "sops": {"mac": "ENC[...]", "version": "3.9.1"}});
    assert_eq!(validate::validate("1.33", &secret).unwrap(), Vec::new());
    let v = validate::validate("1.33", &with(secret, "/sopz", Some(json!({})))).unwrap();
    assert_eq!(v[0].message, "unknown field `sopz`");
}

#[test]
fn unsupported_versions_are_reported() {
    for bad in ["1.32", "1.38", "2.0", "", "latest"] {
        match validate::validate(bad, &deployment()) {
            Err(NoSchema::Version(v)) => {
                assert_eq!(v.0, bad);
                assert!(v.to_string().contains("1.33, 1.34, 1.35, 1.36, 1.37"), "{v}");
            }
            other => panic!("{bad:?}: {other:?}"),
        }
        assert!(validate::validate_yaml(bad, "x.yaml", "a: 1\n").is_err());
    }
    // Spellings of a supported version.
    for good in ["1.33", "v1.34", "1.35.0", "v1.37.2"] {
        assert_eq!(validate::validate(good, &deployment()), Ok(Vec::new()), "{good}");
    }
    assert_eq!(validate::SUPPORTED, ["1.33", "1.34", "1.35", "1.36", "1.37"]);
    // A spec may target exactly the versions that can be validated.
    assert_eq!(validate::SUPPORTED, mlship::check::KUBERNETES_VERSIONS);
}

#[test]
fn version_specific_fields() {
    // Every bundle serves the kinds mlship emits.
    for v in validate::SUPPORTED {
        let s = validate::schemas(v).unwrap();
        let kinds: Vec<(&str, &str)> = s.kinds().collect();
        for want in [
            ("v1", "Namespace"),
            ("v1", "Secret"),
            ("batch/v1", "CronJob"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ("policy/v1", "PodDisruptionBudget"),
            ("networking.k8s.io/v1", "Ingress"),
        ] {
            assert!(kinds.contains(&want), "{v}: {want:?}");
        }
    }
    // resource.k8s.io/v1 (DRA) is served from 1.34 on, not in 1.33.
    let claim = json!({"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": "gpu"},
        "spec": {}});
    assert_eq!(validate::validate("1.34", &claim), Ok(Vec::new()));
    let v = validate::validate("1.33", &claim).unwrap();
    assert_eq!(v[0].path, "apiVersion");
    assert!(
        v[0].message.starts_with("expected one of `resource.k8s.io/v1beta2`"),
        "{v:?}"
    );
}

/// tests/manifests/broken/expected.tsv: file, line:col, path, mlship's message, and a part
/// of kubernetes-validate's message (checked by crosscheck.sh).
#[test]
fn broken_manifests_fail_as_listed() {
    let dir = root().join("tests/manifests/broken");
    let table = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    let mut want: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in table.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 5, "expected.tsv: five tab-separated columns: {line:?}");
        let path = if cols[2] == "-" { "" } else { cols[2] };
        want.entry(cols[0].to_string())
            .or_default()
            .push(format!("{}: {}: {}", cols[1], path, cols[3]));
    }
    let listed: Vec<String> = walk(&dir).into_iter().filter(|n| validate::is_manifest(n)).collect();
    assert_eq!(
        listed,
        want.keys().cloned().collect::<Vec<_>>(),
        "every broken file is in expected.tsv"
    );
    let mut failures = Vec::new();
    for (name, rows) in &want {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let docs = validate::validate_yaml("1.33", name, &text).unwrap();
        let got: Vec<String> = docs
            .iter()
            .flat_map(|d| d.problems())
            .map(|p| format!("{}:{}: {}: {}", p.line, p.column, p.violation.path, p.violation.message))
            .collect();
        if &got != rows {
            failures.push(format!("{name}:\n  want {rows:#?}\n  got  {got:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn multi_document_yaml_errors_carry_line_and_column() {
    let text = "\
# header comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ok
data:
  A: b
---
# empty document follows
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  ports:
  - port: \"80\"
    targetPort: http
  selectr:
    app: api
...
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: db
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broken
---
- just
- a list
";
    let docs = validate::validate_yaml("1.36", "objects.yaml", text).unwrap();
    let lines: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        lines,
        [
            "objects.yaml:3: ConfigMap/ok: valid",
            "objects.yaml:18:11: Service/api: spec.ports[0].port: expected integer, found string\n\
             objects.yaml:20:3: Service/api: spec.selectr: unknown field `selectr` (did you mean `selector`?)",
            "objects.yaml:24: ServiceMonitor/db: skipped: no schema for ServiceMonitor `monitoring.coreos.com/v1`",
            "objects.yaml:31:24: document 4: invalid YAML: while parsing a flow mapping, did not find expected ',' or '}' \
             (check indentation, quoting and the `key: value` shape around this point)",
            "objects.yaml:33:1: document 5: an object must be a mapping, found a list",
        ]
    );
    assert_eq!(
        docs.iter().map(|d| d.number).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5],
        "empty documents are not counted"
    );
    let s = validate::summary(&docs);
    assert_eq!((s.valid, s.invalid, s.skipped), (1, 3, 1));
}

#[test]
fn directories_skip_kustomizations_and_other_files() {
    let files = [
        (
            "envs/dev/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
        ),
        ("envs/dev/README.md", "not yaml: ["),
        (
            "envs/dev/ns.yml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n",
        ),
    ];
    let docs = validate::validate_files("1.33", files.iter().copied()).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].file, "envs/dev/ns.yml");
    assert_eq!(docs[0].outcome, Outcome::Valid);
}

#[test]
fn every_bundled_kind_compiles_and_checks_a_skeleton() {
    // Each kind's validator compiles on first use; this compiles all of them once.
    for v in validate::SUPPORTED {
        let s = validate::schemas(v).unwrap();
        for (api, kind) in s.kinds().collect::<Vec<_>>() {
            let obj = json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}});
            for violation in s.validate(&obj).unwrap() {
                assert!(
                    violation.message.starts_with("missing required field"),
                    "{v} {api} {kind}: {violation}"
                );
            }
        }
        // And each custom resource schema (compiled once, whatever the version).
        for (api, kind) in validate::custom_resources() {
            let obj = json!({"apiVersion": api, "kind": kind, "metadata": {"name": "x"}});
            for violation in s.validate(&obj).unwrap() {
                assert!(
                    violation.message.starts_with("missing required field"),
                    "{v} {api} {kind}: {violation}"
                );
            }
        }
    }
}

#[test]
fn valid_manifests_pass() {
    let dir = root().join("tests/manifests/valid");
    let tree = read_tree(&dir);
    assert!(tree.len() >= 2);
    let docs = validate::validate_files("1.33", files(&tree)).unwrap();
    let s = validate::summary(&docs);
    let lines: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    assert_eq!((s.valid, s.invalid, s.skipped), (5, 0, 1), "{lines:#?}");
}

#[test]
fn yaml_1_1_booleans_are_read_as_kubernetes_does() {
    let text = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  labels:
    quoted: 'yes'
    block: |-
      on
    plain: on
automountServiceAccountToken: yes
";
    let docs = validate::validate_yaml("1.33", "sa.yaml", text).unwrap();
    assert_eq!(
        docs[0].to_string(),
        "sa.yaml:9:12: ServiceAccount/api: metadata.labels.plain: expected string, found boolean \
         (Kubernetes reads YAML 1.1, where `on` is a boolean; quote it)"
    );
}

#[test]
fn null_is_refused_where_the_definitions_refuse_it() {
    // Optional fields admit null, as in kubernetes-validate.
    let d = with(deployment(), "/spec/paused", Some(Value::Null));
    assert_eq!(violations(&d), Vec::new());
    // kubernetes-validate's per-kind file admits null for a StorageClass's provisioner; the
    // definition (and the API server) do not.
    let sc = json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "s"},
        "provisioner": null});
    assert_eq!(
        violations(&sc),
        [("provisioner".to_string(), "expected string, found null".to_string())]
    );
    // Int-or-string fields refuse null (a quirk of the published schemas, kept).
    let d = with(
        deployment(),
        "/spec/strategy/rollingUpdate/maxUnavailable",
        Some(Value::Null),
    );
    assert_eq!(
        violations(&d),
        [(
            "spec.strategy.rollingUpdate.maxUnavailable".to_string(),
            "expected string or integer, found null".to_string()
        )]
    );
}

// Custom resources (schemas/crds/).

/// The custom resources as mlship emits them (golden/), to corrupt.
fn external_secret() -> Value {
    json!({
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "db", "namespace": "demo", "labels": {"app.kubernetes.io/part-of": "demo"}},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": "vault", "kind": "ClusterSecretStore"},
            "target": {"name": "db", "creationPolicy": "Owner", "deletionPolicy": "Retain"},
            "data": [{"secretKey": "DB_PASSWORD", "remoteRef": {"key": "demo/db", "property": "password"}}]
        }
    })
}

fn sealed_secret() -> Value {
    json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": {"name": "hf", "namespace": "demo"},
        "spec": {
            "encryptedData": {"HF_TOKEN": "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq4wZy"},
            "template": {"metadata": {"name": "hf", "namespace": "demo"}, "type": "Opaque"}
        }
    })
}

fn application() -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "demo-dev", "namespace": "argocd", "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://git.example.com/acme/demo.git", "targetRevision": "main", "path": "deploy/envs/dev"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "demo-dev"},
            "syncPolicy": {
                "automated": {"prune": true, "selfHeal": true},
                "syncOptions": ["PruneLast=true"],
                "retry": {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}
            }
        }
    })
}

fn git_repository() -> Value {
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {"name": "demo-dev", "namespace": "flux-system"},
        "spec": {"interval": "1m", "url": "https://git.example.com/acme/demo.git", "ref": {"branch": "main"}}
    })
}

fn kustomization() -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "demo-dev", "namespace": "flux-system"},
        "spec": {
            "interval": "10m",
            "path": "./deploy/envs/dev",
            "prune": true,
            "wait": true,
            "timeout": "5m",
            "sourceRef": {"kind": "GitRepository", "name": "demo-dev"},
            "decryption": {"provider": "sops", "secretRef": {"name": "sops-keys"}},
            "dependsOn": [{"name": "demo-dev-base"}]
        }
    })
}

fn custom_resources() -> [Value; 5] {
    [
        external_secret(),
        sealed_secret(),
        application(),
        git_repository(),
        kustomization(),
    ]
}

#[test]
fn the_unbroken_custom_resources_are_valid_in_every_version() {
    for v in validate::SUPPORTED {
        for obj in custom_resources() {
            assert_eq!(validate::validate(v, &obj), Ok(Vec::new()), "Kubernetes {v}: {obj}");
        }
    }
}

#[test]
fn corrupted_custom_resources_are_caught_with_path_and_message() {
    let dns = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    let duration = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$";
    #[rustfmt::skip]
    let table: Vec<(&str, Value, &str, String)> = vec![
        // ExternalSecret: unknown fields, wrong types, enums, patterns, required fields.
        ("ExternalSecret: unknown field", with(external_secret(), "/spec/target/creationPolicyy", Some(json!("Owner"))),
            "spec.target.creationPolicyy", "unknown field `creationPolicyy`".into()),
        ("ExternalSecret: unknown field in a list item", with(external_secret(), "/spec/data/0/remoteRef/propery", Some(json!("x"))),
            "spec.data[0].remoteRef.propery", "unknown field `propery`".into()),
        ("ExternalSecret: integer for a duration string", with(external_secret(), "/spec/refreshInterval", Some(json!(3600))),
            "spec.refreshInterval", "expected string, found integer".into()),
        ("ExternalSecret: object for a list", with(external_secret(), "/spec/data", Some(json!({"secretKey": "A"}))),
            "spec.data", "expected array, found object".into()),
        ("ExternalSecret: store kind outside the enum", with(external_secret(), "/spec/secretStoreRef/kind", Some(json!("ClusterStore"))),
            "spec.secretStoreRef.kind", "expected one of `SecretStore`, `ClusterSecretStore`, found `ClusterStore`".into()),
        ("ExternalSecret: store name not a DNS name", with(external_secret(), "/spec/secretStoreRef/name", Some(json!("Vault_1"))),
            "spec.secretStoreRef.name", format!("must match `{dns}`, found `Vault_1`")),
        ("ExternalSecret: no remoteRef", with(external_secret(), "/spec/data/0/remoteRef", None),
            "spec.data[0]", "missing required field `remoteRef`".into()),
        ("ExternalSecret: unknown top-level field", with(external_secret(), "/specs", Some(json!({}))),
            "specs", "unknown field `specs`".into()),
        // SealedSecret.
        ("SealedSecret: no encryptedData", with(sealed_secret(), "/spec/encryptedData", None),
            "spec", "missing required field `encryptedData`".into()),
        ("SealedSecret: integer for an encrypted value", with(sealed_secret(), "/spec/encryptedData/HF_TOKEN", Some(json!(1))),
            "spec.encryptedData.HF_TOKEN", "expected string, found integer".into()),
        ("SealedSecret: no spec", with(sealed_secret(), "/spec", None),
            "", "missing required field `spec`".into()),
        // Argo CD Application.
        ("Application: no destination", with(application(), "/spec/destination", None),
            "spec", "missing required field `destination`".into()),
        ("Application: no source repoURL", with(application(), "/spec/source/repoURL", None),
            "spec.source", "missing required field `repoURL`".into()),
        ("Application: string for an integer", with(application(), "/spec/syncPolicy/retry/limit", Some(json!("5"))),
            "spec.syncPolicy.retry.limit", "expected integer, found string".into()),
        ("Application: unknown field", with(application(), "/spec/syncPolicy/automated/selfheal", Some(json!(true))),
            "spec.syncPolicy.automated.selfheal", "unknown field `selfheal`".into()),
        ("Application: boolean for int-or-string", with(application(), "/spec/source/kustomize", Some(json!({"replicas": [{"name": "api", "count": true}]}))),
            "spec.source.kustomize.replicas[0].count", "expected string or integer, found boolean".into()),
        // Flux Kustomization.
        ("Kustomization: integer interval", with(kustomization(), "/spec/interval", Some(json!(10))),
            "spec.interval", "expected string, found integer".into()),
        ("Kustomization: interval not a duration", with(kustomization(), "/spec/interval", Some(json!("10 minutes"))),
            "spec.interval", format!("must match `{duration}`, found `10 minutes`")),
        ("Kustomization: no prune", with(kustomization(), "/spec/prune", None),
            "spec", "missing required field `prune`".into()),
        ("Kustomization: source kind outside the enum", with(kustomization(), "/spec/sourceRef/kind", Some(json!("HelmRepository"))),
            "spec.sourceRef.kind",
            "expected one of `OCIRepository`, `GitRepository`, `Bucket`, `ExternalArtifact`, found `HelmRepository`".into()),
        ("Kustomization: decryption provider outside the enum", with(kustomization(), "/spec/decryption/provider", Some(json!("age"))),
            "spec.decryption.provider", "expected `sops`, found `age`".into()),
        // Flux GitRepository: an scp-style address is not a URL for Flux.
        ("GitRepository: scp-style address", with(git_repository(), "/spec/url", Some(json!("git@git.example.com:acme/demo.git"))),
            "spec.url", "must match `^(http|https|ssh)://.*$`, found `git@git.example.com:acme/demo.git`".into()),
        ("GitRepository: no interval", with(git_repository(), "/spec/interval", None),
            "spec", "missing required field `interval`".into()),
        // metadata is ObjectMeta, as for built-in kinds.
        ("custom resource: unknown field in metadata", with(application(), "/metadata/annotaions", Some(json!({}))),
            "metadata.annotaions", "unknown field `annotaions`".into()),
        ("custom resource: integer label value", with(kustomization(), "/metadata/labels", Some(json!({"team": 1}))),
            "metadata.labels.team", "expected string, found integer".into()),
        ("custom resource: metadata not an object", with(git_repository(), "/metadata", Some(json!("demo"))),
            "metadata", "expected object, found string".into()),
    ];
    let mut failures = Vec::new();
    for (what, obj, path, message) in &table {
        let got = violations(obj);
        let want = vec![(path.to_string(), message.clone())];
        if got != want {
            failures.push(format!("{what}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn custom_resource_errors_suggest_the_known_field() {
    let v = validate::validate(
        "1.35",
        &with(application(), "/spec/syncPolicy/automated/selfheal", Some(json!(true))),
    )
    .unwrap();
    assert_eq!(v[0].help.as_deref(), Some("did you mean `selfHeal`?"));
    let v = validate::validate(
        "1.35",
        &with(external_secret(), "/spec/refreshIntervall", Some(json!("1h"))),
    )
    .unwrap();
    assert_eq!(
        v[0].to_string(),
        "spec.refreshIntervall: unknown field `refreshIntervall` (did you mean `refreshInterval`?)"
    );
    // In metadata, ObjectMeta's fields are suggested.
    let v = validate::validate("1.35", &with(sealed_secret(), "/metadata/namespac", Some(json!("x")))).unwrap();
    assert_eq!(v[0].help.as_deref(), Some("did you mean `namespace`?"));
}

#[test]
fn custom_resource_results_do_not_depend_on_the_kubernetes_version() {
    let broken = with(
        with(application(), "/spec/destination", None),
        "/spec/syncPolicy/retry/limit",
        Some(json!("5")),
    );
    let first = validate::validate(validate::SUPPORTED[0], &broken).unwrap();
    assert_eq!(first.len(), 2, "{first:?}");
    for v in validate::SUPPORTED {
        assert_eq!(validate::validate(v, &broken).unwrap(), first, "Kubernetes {v}");
    }
}

#[test]
fn custom_resources_with_upstream_fields_mlship_does_not_emit_pass() {
    let objects = [
        json!({
            "apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
            "metadata": {"name": "db", "annotations": {"note": "x"}},
            "spec": {
                "refreshPolicy": "Periodic",
                "refreshInterval": "0",
                "secretStoreRef": {"name": "vault", "kind": "SecretStore"},
                "target": {
                    "name": "db", "creationPolicy": "Merge", "deletionPolicy": "Delete", "immutable": true,
                    "template": {
                        "engineVersion": "v2", "mergePolicy": "Merge", "type": "kubernetes.io/basic-auth",
                        "metadata": {"labels": {"a": "b"}, "finalizers": ["x"]},
                        "data": {"url": "postgres://{{ .user }}@db"},
                        "templateFrom": [{"configMap": {"name": "tpl", "items": [{"key": "a.tpl", "templateAs": "KeysAndValues"}]}, "target": "Annotations"}, {"literal": "x"}]
                    }
                },
                "data": [{"secretKey": "token", "remoteRef": {"key": "k", "version": "3", "conversionStrategy": "Unicode", "decodingStrategy": "Base64", "metadataPolicy": "Fetch"},
                          "sourceRef": {"storeRef": {"name": "other", "kind": "ClusterSecretStore"}}}],
                "dataFrom": [
                    {"extract": {"key": "demo/all"}, "rewrite": [{"regexp": {"source": "(.*)", "target": "app_$1"}}, {"transform": {"template": "{{ .value | upper }}"}}]},
                    {"find": {"path": "demo", "name": {"regexp": ".*"}, "tags": {"env": "dev"}}, "rewrite": [{"merge": {"strategy": "JSON", "into": "all", "conflictPolicy": "Ignore", "priority": ["a"], "priorityPolicy": "IgnoreNotFound"}}]},
                    {"sourceRef": {"generatorRef": {"apiVersion": "generators.external-secrets.io/v1alpha1", "kind": "Password", "name": "pw"}}}
                ]
            },
            "status": {"refreshTime": null, "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
        }),
        json!({
            "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
            "metadata": {"name": "hf", "annotations": {"sealedsecrets.bitnami.com/cluster-wide": "true"}},
            "spec": {
                "encryptedData": {"A": "AgB", "B": "AgC"},
                // Kept open upstream (x-kubernetes-preserve-unknown-fields): any other metadata field.
                "template": {"type": "Opaque", "immutable": true, "data": null,
                             "metadata": {"labels": {"a": "b"}, "annotations": {"c": "d"}, "generateName": "hf-"}}
            },
            "status": {"observedGeneration": 2, "conditions": [{"type": "Synced", "status": "True"}]}
        }),
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "demo"},
            "spec": {
                "project": "platform",
                "destination": {"name": "in-cluster", "namespace": "demo"},
                "revisionHistoryLimit": 3,
                "info": [{"name": "owner", "value": "ml"}],
                "ignoreDifferences": [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"], "managedFieldsManagers": ["kube-controller-manager"]}],
                "sources": [
                    {"repoURL": "https://charts.example.com", "chart": "api", "targetRevision": "1.2.3",
                     "helm": {"releaseName": "api", "valueFiles": ["$values/api.yaml"], "parameters": [{"name": "a", "value": "1", "forceString": true}],
                              "valuesObject": {"replicas": 2, "nested": {"anything": [1, "two"]}}, "skipCrds": true, "skipSchemaValidation": true}},
                    {"repoURL": "https://git.example.com/acme/values.git", "ref": "values", "name": "values"},
                    {"repoURL": "https://git.example.com/acme/app.git", "path": "k",
                     "kustomize": {"namePrefix": "p-", "images": ["api=ghcr.io/acme/api:2"], "replicas": [{"name": "api", "count": 3}, {"name": "web", "count": "2"}],
                                   "patches": [{"target": {"kind": "Deployment"}, "patch": "[]", "options": {"allowNameChange": true}}], "commonLabels": {"a": "b"}}},
                    {"repoURL": "https://git.example.com/acme/jsonnet.git", "path": "j",
                     "directory": {"recurse": true, "jsonnet": {"tlas": [{"name": "env", "value": "dev", "code": false}], "libs": ["vendor"]}}},
                    {"repoURL": "https://git.example.com/acme/cmp.git", "plugin": {"name": "cmp", "env": [{"name": "A", "value": "b"}],
                     "parameters": [{"name": "p", "string": "s"}, {"name": "q", "array": ["1"]}, {"name": "r", "map": {"k": "v"}}]}}
                ],
                "syncPolicy": {"automated": {"enabled": true, "allowEmpty": false}, "managedNamespaceMetadata": {"labels": {"team": "ml"}},
                               "syncOptions": ["CreateNamespace=true"], "retry": {"limit": -1, "refresh": true}}
            },
            "operation": {"sync": {"revision": "main", "prune": true, "syncStrategy": {"hook": {"force": false}}}, "initiatedBy": {"username": "admin"}},
            "status": {"sync": {"status": "Synced", "comparedTo": {"destination": {"namespace": "demo"}, "source": {"repoURL": "https://x"}}},
                       "health": {"status": "Healthy"}, "history": [{"id": 1, "deployedAt": "2026-01-01T00:00:00Z", "revision": "abc"}]}
        }),
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "hydrated"},
            "spec": {
                "project": "default", "destination": {"server": "https://kubernetes.default.svc"},
                "sourceHydrator": {"drySource": {"repoURL": "https://git.example.com/acme/app.git", "targetRevision": "HEAD", "path": "helm", "helm": {"valueFiles": ["v.yaml"]}},
                                   "syncSource": {"targetBranch": "env/dev", "path": "dev"}, "hydrateTo": {"targetBranch": "env/dev-next"}}
            }
        }),
        json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "demo"},
            "spec": {
                "interval": "5m0s", "timeout": "90s", "url": "ssh://git@github.com/acme/demo.git",
                "ref": {"semver": ">=1.0.0"}, "secretRef": {"name": "ssh"}, "provider": "generic",
                "verify": {"mode": "TagAndHEAD", "secretRef": {"name": "pgp"}},
                "ignore": "/*\n!/deploy", "recurseSubmodules": true, "sparseCheckout": ["deploy"],
                "include": [{"repository": {"name": "shared"}, "fromPath": "a", "toPath": "b"}], "proxySecretRef": {"name": "proxy"}, "suspend": false
            },
            "status": {"observedGeneration": 1, "artifact": {"digest": "sha256:abc", "lastUpdateTime": "2026-01-01T00:00:00Z", "path": "p", "revision": "main@sha1:x", "url": "http://x", "size": 10}}
        }),
        json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps"},
            "spec": {
                "interval": "1h30m", "retryInterval": "2m", "timeout": "1.5m", "prune": false, "force": true,
                "sourceRef": {"kind": "OCIRepository", "name": "apps", "namespace": "flux-system"},
                "targetNamespace": "apps", "namePrefix": "a-", "serviceAccountName": "flux", "suspend": false,
                "deletionPolicy": "Orphan", "components": ["../c"], "ignoreMissingComponents": true,
                "commonMetadata": {"labels": {"team": "ml"}, "annotations": {"a": "b"}},
                "postBuild": {"substitute": {"cluster": "dev"}, "substituteFrom": [{"kind": "ConfigMap", "name": "vars", "optional": true}], "substituteStrategy": "Always"},
                "patches": [{"patch": "- op: remove\n  path: /spec/replicas", "target": {"kind": "Deployment", "labelSelector": "app=api"}}],
                "images": [{"name": "api", "newTag": "2"}],
                "healthChecks": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "namespace": "apps"}],
                "healthCheckExprs": [{"apiVersion": "example.com/v1", "kind": "Widget", "current": "status.ready == true"}],
                "dependsOn": [{"name": "infra", "namespace": "flux-system", "readyExpr": "status.ready"}],
                "kubeConfig": {"secretRef": {"name": "remote", "key": "value"}},
                "decryption": {"provider": "sops", "serviceAccountName": "sops"},
                "ignore": [{"paths": ["/spec/replicas"], "target": {"kind": "Deployment"}}],
                "buildMetadata": ["originAnnotations"]
            },
            "status": {"observedGeneration": -1, "inventory": {"entries": [{"id": "apps_api_apps_Deployment", "v": "v1"}]}, "lastAppliedRevision": "main@sha1:x"}
        }),
    ];
    for obj in &objects {
        for v in validate::SUPPORTED {
            assert_eq!(validate::validate(v, obj), Ok(Vec::new()), "Kubernetes {v}: {obj}");
        }
    }
}

/// tests/manifests/crds/: broken custom resources fail as listed in broken/expected.tsv (file,
/// line:col, path, message), and the ones in valid/ pass. (kubernetes-validate has no schema
/// for them, so crosscheck.sh does not read this folder.)
#[test]
fn custom_resource_manifests_fail_or_pass_as_listed() {
    let dir = root().join("tests/manifests/crds");
    let table = std::fs::read_to_string(dir.join("broken/expected.tsv")).unwrap();
    let mut want: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in table.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 4, "expected.tsv: four tab-separated columns: {line:?}");
        let path = if cols[2] == "-" { "" } else { cols[2] };
        want.entry(cols[0].to_string())
            .or_default()
            .push(format!("{}: {}: {}", cols[1], path, cols[3]));
    }
    let broken = read_tree(&dir.join("broken"));
    let listed: Vec<String> = broken
        .iter()
        .filter(|(n, _)| validate::is_manifest(n))
        .map(|(n, _)| n.rsplit('/').next().unwrap().to_string())
        .collect();
    assert_eq!(
        listed,
        want.keys().cloned().collect::<Vec<_>>(),
        "every broken file is in expected.tsv"
    );
    let mut failures = Vec::new();
    for (name, text) in broken.iter().filter(|(n, _)| validate::is_manifest(n)) {
        let base = name.rsplit('/').next().unwrap();
        for version in validate::SUPPORTED {
            let docs = validate::validate_yaml(version, base, text).unwrap();
            let got: Vec<String> = docs
                .iter()
                .flat_map(|d| d.problems())
                .map(|p| format!("{}:{}: {}: {}", p.line, p.column, p.violation.path, p.violation.message))
                .collect();
            if got != want[base] {
                failures.push(format!(
                    "{base} (Kubernetes {version}):\n  want {:#?}\n  got  {got:#?}",
                    want[base]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let valid = read_tree(&dir.join("valid"));
    let docs = validate::validate_files("1.37", files(&valid)).unwrap();
    let s = validate::summary(&docs);
    let lines: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
    assert!(s.valid >= 5 && s.invalid == 0 && s.skipped == 0, "{lines:#?}");
}
