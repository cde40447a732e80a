//! Property tests: random valid specs, written in both syntaxes, compile to the same bytes;
//! compiling is deterministic and blind to key order and comments; every object and label
//! name fits Kubernetes' limits; and hostile config values and command arguments either
//! reach the output exactly or are refused with a located error.
//!
//! The generator and the writers are in `common/gen.rs`. Failures are not persisted (the
//! minimal input is in the failure message); rerun with `PROPTEST_CASES` unset.

#[path = "common/gen.rs"]
mod gen;

use gen::{Choices, SpecBp, any_text, kdl_string, project_files, shuffle_keys, spec_bp, to_kdl, to_yaml, yaml_comments};
use mlship::diag::Diagnostic;
use mlship::source::SourceFile;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn config(cases: u32) -> Config {
    Config {
        cases,
        // Only tests/properties.rs is ours: no regression files next to it.
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

type Files = BTreeMap<String, Vec<u8>>;

fn compile(name: &str, text: &str) -> mlship::Compiled {
    mlship::compile(name, text.as_bytes(), &project_files())
}

fn rendered(c: &mlship::Compiled) -> String {
    c.diagnostics
        .iter()
        .map(|d| mlship::diag::render(d, &c.file, false))
        .collect()
}

/// The output of a spec that must compile, or a failure that shows the spec and why.
fn output(name: &str, text: &str) -> Result<Files, TestCaseError> {
    let c = compile(name, text);
    match c.output {
        Some(o) => Ok(o.files),
        None => Err(TestCaseError::fail(format!(
            "{name} does not compile:\n{}\n--- {name} ---\n{text}",
            rendered(&c)
        ))),
    }
}

/// Equal trees, or a failure naming the first file that differs.
fn same_files(a: &Files, b: &Files, what: &str, texts: &str) -> Result<(), TestCaseError> {
    if a == b {
        return Ok(());
    }
    let names_a: BTreeSet<&String> = a.keys().collect();
    let names_b: BTreeSet<&String> = b.keys().collect();
    if names_a != names_b {
        return Err(TestCaseError::fail(format!(
            "{what}: different files: only in first {:?}, only in second {:?}\n{texts}",
            names_a.difference(&names_b).collect::<Vec<_>>(),
            names_b.difference(&names_a).collect::<Vec<_>>()
        )));
    }
    let (path, x) = a.iter().find(|(k, v)| b[*k] != **v).expect("some file differs");
    let (x, y) = (String::from_utf8_lossy(x), String::from_utf8_lossy(&b[path]));
    let diff = similar::TextDiff::from_lines(x.as_ref(), y.as_ref());
    Err(TestCaseError::fail(format!(
        "{what}: {path} differs:\n{}\n{texts}",
        diff.unified_diff().context_radius(2)
    )))
}

/// The documents of a rendered YAML file, as read back by mlship's reader.
fn documents(path: &str, text: &str) -> Vec<Value> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" {
            docs.push(String::new());
        } else {
            let last = docs.last_mut().expect("one document at least");
            last.push_str(line);
            last.push('\n');
        }
    }
    docs.iter()
        .map(|d| {
            let tree = mlship::syntax::yaml::parse(&SourceFile::new(path, d.as_str()))
                .unwrap_or_else(|e| panic!("{path} does not read back: {}\n{d}", e[0].message));
            tree.to_json()
        })
        .collect()
}

fn spec_and_yaml(bp: &SpecBp) -> (Value, String) {
    let v = bp.build();
    let yaml = to_yaml(&v);
    (v, yaml)
}

// ---------------------------------------------------------------------------------------
// 1. The generator makes valid specs, and the YAML text reads back as the model.

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn generated_specs_compile(bp in spec_bp()) {
        let (v, yaml) = spec_and_yaml(&bp);
        output("mlship.yaml", &yaml)?;
        let (_, loaded, diags) = mlship::load::load("mlship.yaml", yaml.as_bytes());
        let loaded = loaded.ok_or_else(|| TestCaseError::fail(format!("{diags:?}")))?;
        let want: mlship::spec::Spec = serde_json::from_value(v).expect("the generator follows the model");
        prop_assert_eq!(&loaded.spec, &want, "\n{}", yaml);
    }
}

// ---------------------------------------------------------------------------------------
// 2. YAML and KDL text of the same spec: the same specs, the same bytes.

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn yaml_and_kdl_agree(bp in spec_bp(), seed in any::<u64>()) {
        let (_, yaml) = spec_and_yaml(&bp);
        let kdl = to_kdl(&bp.build(), &mut Choices::new(seed), false);
        let texts = format!("--- mlship.yaml ---\n{yaml}--- mlship.kdl ---\n{kdl}");
        let (_, ly, dy) = mlship::load::load("mlship.yaml", yaml.as_bytes());
        let (kf, lk, dk) = mlship::load::load("mlship.kdl", kdl.as_bytes());
        let ly = ly.ok_or_else(|| TestCaseError::fail(format!("YAML does not load: {dy:?}\n{texts}")))?;
        let render = |d: &[Diagnostic]| d.iter().map(|d| mlship::diag::render(d, &kf, false)).collect::<String>();
        let lk = lk.ok_or_else(|| TestCaseError::fail(format!("KDL does not load:\n{}\n{texts}", render(&dk))))?;
        prop_assert_eq!(&ly.spec, &lk.spec, "\n{}", texts);
        prop_assert_eq!(ly.envs.len(), lk.envs.len());
        for (a, b) in ly.envs.iter().zip(&lk.envs) {
            prop_assert_eq!(&a.name, &b.name);
            prop_assert_eq!(&a.spec, &b.spec, "environment {}\n{}", a.name, texts);
        }
        let (a, b) = (output("mlship.yaml", &yaml)?, output("mlship.kdl", &kdl)?);
        same_files(&a, &b, "YAML and KDL", &texts)?;
    }
}

// ---------------------------------------------------------------------------------------
// 3. Determinism.

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn compiling_twice_gives_the_same_bytes(bp in spec_bp(), seed in any::<u64>()) {
        let (v, yaml) = spec_and_yaml(&bp);
        let kdl = to_kdl(&v, &mut Choices::new(seed), false);
        for (name, text) in [("mlship.yaml", &yaml), ("mlship.kdl", &kdl)] {
            let (a, b) = (output(name, text)?, output(name, text)?);
            same_files(&a, &b, name, text)?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4. Key order and comments change nothing.

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn key_order_and_comments_change_nothing(bp in spec_bp(), seed in any::<u64>()) {
        let (v, yaml) = spec_and_yaml(&bp);
        let base = output("mlship.yaml", &yaml)?;
        let mut c = Choices::new(seed);
        let shuffled = yaml_comments(&to_yaml(&shuffle_keys(&v, &mut c)), &mut c);
        let texts = format!("--- original ---\n{yaml}--- reordered ---\n{shuffled}");
        same_files(&base, &output("mlship.yaml", &shuffled)?, "reordered YAML", &texts)?;
        let kdl = to_kdl(&shuffle_keys(&v, &mut c), &mut c, true);
        let texts = format!("--- original ---\n{yaml}--- reordered KDL ---\n{kdl}");
        same_files(&base, &output("mlship.kdl", &kdl)?, "reordered KDL", &texts)?;
    }
}

// ---------------------------------------------------------------------------------------
// 5. Object names and label values fit Kubernetes' limits; no two objects share a name.

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && (s.is_empty()
            || (s.starts_with(|c: char| c.is_ascii_alphanumeric())
                && s.ends_with(|c: char| c.is_ascii_alphanumeric())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))))
}

/// Every `labels` and `matchLabels` map anywhere in an object.
fn label_maps<'a>(v: &'a Value, out: &mut Vec<&'a serde_json::Map<String, Value>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if let (true, Value::Object(l)) = (k == "labels" || k == "matchLabels", x) {
                    out.push(l);
                }
                label_maps(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| label_maps(x, out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn object_names_and_labels_fit(bp in spec_bp()) {
        let (_, yaml) = spec_and_yaml(&bp);
        let files = output("mlship.yaml", &yaml)?;
        for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with("envs/") && p.ends_with(".yaml")) {
            for doc in documents(path, &String::from_utf8_lossy(bytes)) {
                let Some(name) = doc["metadata"]["name"].as_str() else { continue };
                let kind = doc["kind"].as_str().unwrap_or_default();
                let limit = if kind == "CronJob" { 52 } else { 63 };
                prop_assert!(
                    is_dns_label(name) && name.len() <= limit,
                    "{} {} in {} is not a DNS-1123 name of at most {} characters\n{}", kind, name, path, limit, yaml
                );
                let mut maps = Vec::new();
                label_maps(&doc, &mut maps);
                for (k, v) in maps.into_iter().flatten() {
                    let v = v.as_str().unwrap_or_default();
                    prop_assert!(is_label_value(v), "label {}={} in {} is not a valid label value\n{}", k, v, path, yaml);
                }
            }
        }
        // Two objects of one kind and name in one environment would overwrite each other's
        // file; check the objects before they are laid out.
        let (_, loaded, _) = mlship::load::load("mlship.yaml", yaml.as_bytes());
        let loaded = loaded.expect("compiled above");
        let plan = mlship::lower::lower(&loaded, &project_files()).expect("compiled above");
        let engine = plan.gitops.as_ref().map(|g| g.engine);
        for env in &plan.envs {
            let mut seen = BTreeMap::new();
            for obj in mlship::emit::k8s::objects(env, engine) {
                let key = (obj.kind().to_string(), obj.name().to_string());
                let labels = obj.value["metadata"]["labels"].clone();
                if let Some(first) = seen.insert(key.clone(), labels.clone()) {
                    prop_assert!(
                        false,
                        "environment {}: two {} objects named {} (labels {} and {}); one file overwrites the other\n{}",
                        env.name, key.0, key.1, first, labels, yaml
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// 6. Injection: a hostile config value or command argument reaches the output exactly, or
// is refused with a located error; it never starts a line of its own in the output.

const TOP_LEVEL: &[&str] = &["apiVersion", "kind", "metadata", "spec", "data", "immutable", "resources", "type"];

fn injected(config_value: &str, argument: &str) -> Value {
    json!({
        "apiVersion": "mlship/v1",
        "project": "inj",
        "registry": "ghcr.io/acme/inj",
        "tag": "1.0.0",
        "images": {"server": {"stack": "fastapi"}},
        "config": {"OTHER": "x", "INJ": config_value},
        "services": {"api": {"image": "server", "port": 8080, "command": ["uvicorn", argument, "--port", "8080"]}},
    })
}

/// Lines of the text on which `needle` occurs, 1-based.
fn lines_of(text: &str, needle: &str) -> BTreeSet<usize> {
    text.match_indices(needle)
        .map(|(i, _)| text[..i].matches('\n').count() + 1)
        .collect()
}

/// Column-0 lines of every YAML file are the known top-level keys, each once per document;
/// no `kind: Secret` anywhere (the spec declares no secrets).
fn no_stray_lines(files: &Files, text: &str) -> Result<(), TestCaseError> {
    for (path, bytes) in files.iter().filter(|(p, _)| p.ends_with(".yaml")) {
        let body = String::from_utf8_lossy(bytes);
        let mut keys: Vec<&str> = Vec::new();
        for line in body.lines() {
            if line == "---" {
                keys.clear();
                continue;
            }
            prop_assert!(!line.contains("kind: Secret"), "{}: stray line `{}`\n{}", path, line, text);
            if line.is_empty() || line.starts_with([' ', '#', '-']) {
                prop_assert!(!line.is_empty(), "{}: empty line\n{}", path, text);
                continue;
            }
            let key = line.split(':').next().unwrap_or_default();
            prop_assert!(
                TOP_LEVEL.contains(&key) && !keys.contains(&key),
                "{}: unexpected top-level line `{}`\n{}",
                path,
                line,
                text
            );
            keys.push(key);
        }
    }
    Ok(())
}

fn check_injection(name: &str, text: &str, value: &str, on: &str) -> Result<bool, TestCaseError> {
    let c = compile(name, text);
    let Some(out) = c.output else {
        let errors: Vec<&Diagnostic> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
        prop_assert!(!errors.is_empty(), "no output and no error\n{}", text);
        let rendered_value = if name.ends_with(".kdl") {
            kdl_string(value)
        } else {
            mlship::yamlout::scalar_str(value)
        };
        let lines = lines_of(text, &rendered_value);
        for d in &errors {
            let span = d.span.ok_or_else(|| TestCaseError::fail(format!("error without a span: {d:?}\n{text}")))?;
            prop_assert!(span.end <= text.len(), "span past the end: {:?}\n{}", d, text);
            let (line, _) = c.file.line_col(span.start);
            prop_assert!(
                lines.contains(&line),
                "the error is not located at the {} value (lines {:?}):\n{}\n{}",
                on,
                lines,
                mlship::diag::render(d, &c.file, false),
                text
            );
        }
        return Ok(false);
    };
    let files = out.files;
    no_stray_lines(&files, text)?;
    let (got, want) = if on == "config" {
        let (path, bytes) = files
            .iter()
            .find(|(p, _)| p.starts_with("envs/default/configmap-"))
            .expect("a ConfigMap");
        let body = String::from_utf8_lossy(bytes);
        let doc = &documents(path, &body)[0];
        // A second, independent reader (libyaml, as serde_norway uses) must agree.
        let other: Value = serde_norway::from_str(&body).expect("serde_norway reads the ConfigMap");
        prop_assert_eq!(&other["data"]["INJ"], &json!(value), "serde_norway reads {}", body);
        (doc["data"]["INJ"].clone(), json!(value))
    } else {
        let path = "envs/default/deployment-inj-api.yaml";
        let body = String::from_utf8_lossy(&files[path]);
        let doc = &documents(path, &body)[0];
        let other: Value = serde_norway::from_str(&body).expect("serde_norway reads the Deployment");
        let want = json!(["uvicorn", value, "--port", "8080"]);
        prop_assert_eq!(&other["spec"]["template"]["spec"]["containers"][0]["command"], &want, "serde_norway reads {}", body);
        (doc["spec"]["template"]["spec"]["containers"][0]["command"].clone(), want)
    };
    prop_assert_eq!(got, want, "the {} value does not read back\n{}", on, text);
    Ok(true)
}

proptest! {
    #![proptest_config(config(160))]

    #[test]
    fn hostile_values_are_kept_or_refused(value in any_text(), seed in any::<u64>()) {
        for (on, v) in [("config", injected(&value, "app:app")), ("command", injected("x", &value))] {
            let yaml = to_yaml(&v);
            let kdl = to_kdl(&v, &mut Choices::new(seed), false);
            let a = check_injection("mlship.yaml", &yaml, &value, on)?;
            let b = check_injection("mlship.kdl", &kdl, &value, on)?;
            prop_assert_eq!(a, b, "YAML and KDL disagree on whether {:?} is accepted\n{}\n{}", value, yaml, kdl);
        }
    }
}
