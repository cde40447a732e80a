//! `mlship::validate`: Kubernetes objects against the bundled schemas (schemas/k8s/).
//!
//! - every object of every golden tree validates clean, for its lock's version and for every
//!   supported version; custom resources (and only they) are skipped;
//! - a table of corrupted objects: each class of error (unknown field, wrong type, missing
//!   field, bad enum value, wrong apiVersion) is caught with the right path and message;
//! - the broken manifests of tests/manifests/broken/ fail exactly as listed in expected.tsv
//!   (tests/manifests/crosscheck.sh checks that kubernetes-validate rejects them too);
//! - multi-document YAML: errors carry the line and column of the offending node.

use mlship::validate::{self, NoSchema, Outcome, UnknownKind, Violation};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// Every file under `dir`, sorted, as (repo-relative name, text).
fn read_tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((rel(&p), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

struct Golden {
    name: String,
    kubernetes: String,
    envs: Vec<(String, String)>,
    gitops: Vec<(String, String)>,
}

fn goldens() -> Vec<Golden> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join("golden")).unwrap() {
        let dir = e.unwrap().path();
        let lock: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("mlship.lock.json")).unwrap()).unwrap();
        let gitops = dir.join("gitops");
        out.push(Golden {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            kubernetes: lock["kubernetes"].as_str().unwrap().to_string(),
            envs: read_tree(&dir.join("envs")),
            gitops: if gitops.exists() {
                read_tree(&gitops)
            } else {
                Vec::new()
            },
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 3, "expected the three golden trees");
    out
}

fn files(v: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    v.iter().map(|(n, t)| (n.as_str(), t.as_str()))
}

/// Groups of the custom resources mlship emits; nothing else may be skipped.
const CRD_GROUPS: &[&str] = &[
    "external-secrets.io/",
    "bitnami.com/",
    "argoproj.io/",
    "source.toolkit.fluxcd.io/",
    "kustomize.toolkit.fluxcd.io/",
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
                    Outcome::Skipped(UnknownKind { api_version, .. })
                        if CRD_GROUPS.iter().any(|g| api_version.starts_with(g)) => {}
                    _ => failures.push(format!("Kubernetes {version}: {d}")),
                }
                if d.file.contains("/gitops/") {
                    assert!(matches!(d.outcome, Outcome::Skipped(_)), "{d}");
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden objects fail validation:\n{}",
        failures.join("\n")
    );
    // Every kind mlship emits was seen (and so validated) at least once.
    for want in [
        "v1 Namespace",
        "v1 ConfigMap",
        "v1 Secret",
        "v1 ServiceAccount",
        "v1 PersistentVolumeClaim",
        "v1 Service",
        "apps/v1 Deployment",
        "batch/v1 Job",
        "batch/v1 CronJob",
        "autoscaling/v2 HorizontalPodAutoscaler",
        "networking.k8s.io/v1 NetworkPolicy",
        "networking.k8s.io/v1 Ingress",
    ] {
        assert!(kinds.contains(want), "no golden object of kind {want}; seen: {kinds:?}");
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
fn custom_resources_are_unknown_kinds() {
    for (api, kind) in [
        ("external-secrets.io/v1", "ExternalSecret"),
        ("bitnami.com/v1alpha1", "SealedSecret"),
        ("argoproj.io/v1alpha1", "Application"),
        ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
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
    let mut listed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| validate::is_manifest(n))
        .collect();
    listed.sort();
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
            .map(|p| format!("{}:{}: {}: {}", p.line, p.column, p.path, p.message))
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
apiVersion: external-secrets.io/v1
kind: ExternalSecret
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
            "objects.yaml:24: ExternalSecret/db: skipped: no schema for ExternalSecret `external-secrets.io/v1`",
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
    assert_eq!((s.valid, s.invalid, s.skipped), (4, 0, 1), "{lines:#?}");
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
