//! Property tests: random valid specs, written in both syntaxes, compile to the same bytes;
//! compiling is deterministic and blind to key order, styles and comments; every object,
//! label, pod volume, node selector and toleration name is one Kubernetes accepts (long
//! names fit or are refused); and hostile config values, env values and command arguments
//! either reach the output exactly or are refused with a located error.
//!
//! The generator and the writers are in `common/gen.rs`. Failures are not persisted: the
//! failure message holds the shrunk spec text. `PROPTEST_CASES=N` runs N cases of each.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

#[path = "common/gen.rs"]
mod specgen;

use mlship::diag::Diagnostic;
use mlship::project::MemProject;
use mlship::source::SourceFile;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};
use specgen::{
    Choices, SpecBp, any_text, long_names_bp, project_files, shuffle_keys, spec_bp, to_kdl, to_yaml, to_yaml_styled,
    yaml_comments,
};
use std::collections::{BTreeMap, BTreeSet};

fn config(cases: u32) -> Config {
    Config {
        // `PROPTEST_CASES=1000` runs a longer search.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        // Only tests/properties.rs is ours: no regression files next to it.
        failure_persistence: None,
        max_shrink_iters: 1024,
        max_shrink_time: 20_000,
        ..Config::default()
    }
}

type Files = BTreeMap<String, Vec<u8>>;

fn compile(name: &str, text: &str, project: &MemProject) -> mlship::Compiled {
    mlship::compile(name, text.as_bytes(), project)
}

fn rendered(c: &mlship::Compiled) -> String {
    c.diagnostics
        .iter()
        .map(|d| mlship::diag::render(d, &c.file, false))
        .collect()
}

/// The output of a spec that must compile, or a failure that shows the spec and why.
fn output(name: &str, text: &str, project: &MemProject) -> Result<Files, TestCaseError> {
    let c = compile(name, text, project);
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
    #![proptest_config(config(64))]

    #[test]
    fn generated_specs_compile(bp in spec_bp()) {
        let (v, yaml) = spec_and_yaml(&bp);
        output("mlship.yaml", &yaml, &bp.project())?;
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
        let (a, b) = (output("mlship.yaml", &yaml, &bp.project())?, output("mlship.kdl", &kdl, &bp.project())?);
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
        let project = bp.project();
        for (name, text) in [("mlship.yaml", &yaml), ("mlship.kdl", &kdl)] {
            let (a, b) = (output(name, text, &project)?, output(name, text, &project)?);
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
        let base = output("mlship.yaml", &yaml, &bp.project())?;
        let mut c = Choices::new(seed);
        let shuffled = shuffle_keys(&v, &mut c);
        let shuffled = yaml_comments(&to_yaml_styled(&shuffled, &mut c), &mut c);
        let texts = format!("--- original ---\n{yaml}--- reordered ---\n{shuffled}");
        same_files(&base, &output("mlship.yaml", &shuffled, &bp.project())?, "reordered YAML", &texts)?;
        let kdl = to_kdl(&shuffle_keys(&v, &mut c), &mut c, true);
        let texts = format!("--- original ---\n{yaml}--- reordered KDL ---\n{kdl}");
        same_files(&base, &output("mlship.kdl", &kdl, &bp.project())?, "reordered KDL", &texts)?;
    }
}

// ---------------------------------------------------------------------------------------
// 5. Object names and label values fit Kubernetes' limits; no two objects share a name.

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Kubernetes' DNS-1123 subdomain: at most 253 characters, no limit per label.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && (s.is_empty()
            || (s.starts_with(|c: char| c.is_ascii_alphanumeric())
                && s.ends_with(|c: char| c.is_ascii_alphanumeric())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))))
}

/// What Kubernetes would refuse about the names in one object: its own name (with
/// `strict`, every name must be a DNS label of at most 63 characters; else the limit of
/// its kind), label values, and the names of containers, pod volumes, mounts and ports.
fn name_problems(doc: &Value, strict: bool) -> Vec<String> {
    let mut out = Vec::new();
    let kind = doc["kind"].as_str().unwrap_or_default();
    if let Some(name) = doc["metadata"]["name"].as_str() {
        let ok = match kind {
            "CronJob" => is_dns_label(name) && name.len() <= 52,
            "Namespace" | "Service" | "Job" => is_dns_label(name),
            _ if strict => is_dns_label(name),
            _ => is_dns_subdomain(name),
        };
        if !ok {
            out.push(format!("{kind} name `{name}` ({} characters)", name.len()));
        }
    }
    walk(doc, &mut out);
    out
}

fn walk(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("labels" | "matchLabels", Value::Object(labels)) => {
                        for (lk, lv) in labels {
                            let lv = lv.as_str().unwrap_or_default();
                            if !is_label_value(lv) {
                                out.push(format!("label {lk}={lv} ({} characters)", lv.len()));
                            }
                        }
                    }
                    ("containers" | "initContainers" | "volumes" | "volumeMounts", Value::Array(items)) => {
                        for n in items.iter().filter_map(|i| i["name"].as_str()) {
                            if !is_dns_label(n) {
                                out.push(format!("{k} name `{n}` ({} characters)", n.len()));
                            }
                        }
                    }
                    ("ports", Value::Array(items)) => {
                        for n in items.iter().filter_map(|i| i["name"].as_str()) {
                            if n.len() > 15 || !is_dns_label(n) {
                                out.push(format!("port name `{n}`"));
                            }
                        }
                    }
                    _ => {}
                }
                walk(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
        _ => {}
    }
}

/// The name problems of every object under `envs/`.
fn all_name_problems(files: &Files, strict: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (path, bytes) in files
        .iter()
        .filter(|(p, _)| p.starts_with("envs/") && p.ends_with(".yaml"))
    {
        for doc in documents(path, &String::from_utf8_lossy(bytes)) {
            out.extend(name_problems(&doc, strict).into_iter().map(|p| format!("{path}: {p}")));
        }
    }
    out
}

/// Two objects of one kind and name in one environment would overwrite each other's file;
/// check the objects before they are laid out.
fn duplicate_objects(yaml: &str, project: &MemProject) -> Vec<String> {
    let (_, loaded, _) = mlship::load::load("mlship.yaml", yaml.as_bytes());
    let loaded = loaded.expect("compiled before");
    let plan = mlship::lower::lower(loaded, project).expect("compiled before");
    let mut out = Vec::new();
    for env in &plan.envs {
        let mut seen = BTreeMap::new();
        for obj in mlship::emit::objects(&plan, env) {
            let key = (obj.kind().to_string(), obj.name().to_string());
            let labels = obj.value["metadata"]["labels"].clone();
            if let Some(first) = seen.insert(key.clone(), labels.clone()) {
                out.push(format!(
                    "environment {}: two {} objects named {} (labels {} and {}); one file overwrites the other",
                    env.name, key.0, key.1, first, labels
                ));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn object_names_and_labels_fit(bp in spec_bp()) {
        let (_, yaml) = spec_and_yaml(&bp);
        let files = output("mlship.yaml", &yaml, &bp.project())?;
        let problems = all_name_problems(&files, true);
        prop_assert!(problems.is_empty(), "{}\n{}", problems.join("\n"), yaml);
        let dups = duplicate_objects(&yaml, &bp.project());
        prop_assert!(dups.is_empty(), "{}\n{}", dups.join("\n"), yaml);
    }
}

proptest! {
    #![proptest_config(config(96))]

    /// Names up to 63 characters: the derived names fit, or the spec is refused with
    /// located name errors (E022, E023).
    #[test]
    fn long_names_fit_or_are_refused(bp in long_names_bp()) {
        let (_, yaml) = spec_and_yaml(&bp);
        let c = compile("mlship.yaml", &yaml, &bp.project());
        match c.output {
            Some(out) => {
                let problems = all_name_problems(&out.files, false);
                prop_assert!(problems.is_empty(), "{}\n{}", problems.join("\n"), yaml);
            }
            None => {
                for d in c.diagnostics.iter().filter(|d| d.is_error()) {
                    let what = mlship::diag::render(d, &c.file, false);
                    prop_assert!(d.span.is_some(), "an error without a span:\n{}\n{}", what, yaml);
                    prop_assert!(
                        matches!(d.code, mlship::diag::Code::InvalidName | mlship::diag::Code::NameTooLong),
                        "a long name caused another error:\n{}\n{}",
                        what,
                        yaml
                    );
                }
            }
        }
    }
}

/// A Kubernetes qualified name (label and taint keys): `[prefix/]name`, the prefix a DNS
/// subdomain, the name at most 63 alphanumerics, `-`, `_` and `.`, alphanumeric at both ends.
fn is_qualified_name(s: &str) -> bool {
    let (prefix, name) = s.rsplit_once('/').map_or((None, s), |(p, n)| (Some(p), n));
    prefix.is_none_or(is_dns_subdomain) && !name.is_empty() && is_label_value(name)
}

fn selector_key() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[a-z][a-z0-9-]{0,8}",
        1 => "[a-z]{1,6}\\.io/[a-z][a-z0-9._-]{0,8}[a-z0-9]",
        1 => specgen::printable().prop_filter("not empty", |s| !s.is_empty()),
    ]
}

fn selector_value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => "[a-zA-Z0-9]([a-zA-Z0-9._-]{0,10}[a-zA-Z0-9])?",
        1 => "[a-z0-9]{60,66}",
        1 => specgen::printable(),
    ]
}

proptest! {
    #![proptest_config(config(48))]

    /// Node selector and toleration keys and values become pod fields that Kubernetes
    /// validates as label keys and values: they are valid, or refused with a located error.
    #[test]
    fn node_selectors_and_tolerations_are_valid_or_refused(
        key in selector_key(),
        value in selector_value(),
        taint in selector_key(),
        taint_value in selector_value(),
    ) {
        let spec = json!({
            "apiVersion": "mlship/v1",
            "project": "sel",
            "registry": "ghcr.io/acme/sel",
            "tag": "1.0.0",
            "images": {"server": {"stack": "fastapi"}},
            "services": {"api": {
                "image": "server",
                "port": 8080,
                "node_selector": {(key.clone()): value},
                "tolerations": [{"key": taint, "operator": "Equal", "value": taint_value, "effect": "NoSchedule"}],
            }},
        });
        let yaml = to_yaml(&spec);
        let c = compile("mlship.yaml", &yaml, &project_files());
        let Some(out) = c.output else {
            let first = yaml.find("node_selector").expect("written");
            for d in c.diagnostics.iter().filter(|d| d.is_error()) {
                let what = mlship::diag::render(d, &c.file, false);
                let span = d.span.ok_or_else(|| TestCaseError::fail(format!("no span:\n{what}\n{yaml}")))?;
                prop_assert!(span.start >= first && span.end <= yaml.len(), "not located at the value:\n{}\n{}", what, yaml);
            }
            return Ok(());
        };
        let path = "envs/default/deployment-sel-api.yaml";
        let doc = documents(path, &String::from_utf8_lossy(&out.files[path])).remove(0);
        let pod = &doc["spec"]["template"]["spec"];
        let mut problems = Vec::new();
        for (k, v) in pod["nodeSelector"].as_object().into_iter().flatten() {
            let v = v.as_str().unwrap_or_default();
            if !is_qualified_name(k) || !is_label_value(v) {
                problems.push(format!("nodeSelector {k:?}: {v:?}"));
            }
        }
        for t in pod["tolerations"].as_array().into_iter().flatten() {
            let (k, v) = (t["key"].as_str().unwrap_or_default(), t["value"].as_str().unwrap_or_default());
            if !is_qualified_name(k) || !is_label_value(v) {
                problems.push(format!("toleration key {k:?} value {v:?}"));
            }
        }
        prop_assert!(problems.is_empty(), "Kubernetes refuses {}\n{}", problems.join(", "), yaml);
    }
}

// ---------------------------------------------------------------------------------------
// 6. Injection: a hostile config value or command argument reaches the output exactly, or
// is refused with a located error; it never starts a line of its own in the output.

/// Where a hostile value goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Site {
    /// `config.INJ`: the ConfigMap's data.
    Config,
    /// An argument of the service's `command`: the Deployment's container command.
    ServiceCommand,
    /// `images.server.env.INJ`: an ENV line of the Dockerfile.
    ImageEnv,
    /// An argument of the image's `command`: the Dockerfile's CMD.
    ImageCommand,
}

const SITES: [Site; 4] = [Site::Config, Site::ServiceCommand, Site::ImageEnv, Site::ImageCommand];

fn injected(site: Site, value: &str) -> Value {
    let at = |s: Site| if s == site { value } else { "x" };
    let mut image = json!({"stack": "fastapi", "command": ["gunicorn", at(Site::ImageCommand), "app:app"]});
    if site == Site::ImageEnv {
        image["env"] = json!({"INJ": value});
    }
    let mut config = json!({"OTHER": "x"});
    if site == Site::Config {
        config["INJ"] = json!(value);
    }
    json!({
        "apiVersion": "mlship/v1",
        "project": "inj",
        "registry": "ghcr.io/acme/inj",
        "tag": "1.0.0",
        "images": {"server": image},
        "config": config,
        "services": {"api": {"image": "server", "port": 8080,
                             "command": ["uvicorn", at(Site::ServiceCommand), "--port", "8080"]}},
    })
}

/// The lines (1-based) of the spec text that hold the injected value.
fn value_lines(text: &str, kdl: bool, site: Site) -> BTreeSet<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let find = |pred: &dyn Fn(&str) -> bool| -> BTreeSet<usize> {
        lines
            .iter()
            .enumerate()
            .filter(|(_, l)| pred(l))
            .map(|(i, _)| i + 1)
            .collect()
    };
    match (site, kdl) {
        (Site::Config | Site::ImageEnv, false) => find(&|l| l.trim_start().starts_with("INJ:")),
        (Site::Config | Site::ImageEnv, true) => find(&|l| l.contains("INJ")),
        // The value is the item after the first.
        (Site::ServiceCommand, false) => find(&|l| l.trim_start() == "- uvicorn").iter().map(|i| i + 1).collect(),
        (Site::ImageCommand, false) => find(&|l| l.trim_start() == "- gunicorn")
            .iter()
            .map(|i| i + 1)
            .collect(),
        (Site::ServiceCommand, true) => find(&|l| l.contains("uvicorn")),
        (Site::ImageCommand, true) => find(&|l| l.contains("gunicorn")),
    }
}

/// Every column-0 line of every YAML document is one of the document's own top-level keys,
/// each exactly once, and no line anywhere is `kind: Secret` (the spec declares no secrets):
/// a value that broke out of its scalar would add a line of its own.
fn no_stray_lines(files: &Files, text: &str) -> Result<(), TestCaseError> {
    for (path, bytes) in files.iter().filter(|(p, _)| p.ends_with(".yaml")) {
        let body = String::from_utf8_lossy(bytes);
        let docs = documents(path, &body);
        let mut starts: Vec<Vec<String>> = vec![Vec::new()];
        for line in body.lines() {
            let content = line.trim_start().trim_start_matches("- ");
            prop_assert!(
                !content.starts_with("kind: Secret"),
                "{}: stray line `{}`\n{}",
                path,
                line,
                text
            );
            if line == "---" {
                starts.push(Vec::new());
            } else if !line.is_empty() && !line.starts_with([' ', '#', '-']) {
                let key = line.split(':').next().unwrap_or_default().trim_matches(['\'', '"']);
                starts.last_mut().expect("one document").push(key.to_string());
            }
        }
        prop_assert_eq!(starts.len(), docs.len());
        for (keys, doc) in starts.iter().zip(&docs) {
            let want: Vec<String> = doc.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
            prop_assert_eq!(keys, &want, "{}: the lines that start a top-level key\n{}", path, text);
        }
    }
    Ok(())
}

/// The line count of every file, in order: a value that broke out of its quoting would
/// add lines.
fn shape(files: &Files) -> Vec<usize> {
    let mut counts: Vec<usize> = files
        .values()
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .collect();
    counts.sort_unstable();
    counts
}

/// The shape of the output with the harmless value `x` at `site`, compiled once.
fn benign_shape(name: &str, site: Site, text: &str) -> Vec<usize> {
    static CACHE: std::sync::Mutex<BTreeMap<String, Vec<usize>>> = std::sync::Mutex::new(BTreeMap::new());
    let key = format!("{name} {site:?}");
    if let Some(s) = CACHE.lock().expect("not poisoned").get(&key) {
        return s.clone();
    }
    let out = compile(name, text, &project_files())
        .output
        .expect("the benign spec compiles");
    let s = shape(&out.files);
    CACHE.lock().expect("not poisoned").insert(key, s.clone());
    s
}

/// A Dockerfile double-quoted word as Docker reads it (`\"`, `\\` and `\$` escapes), up to
/// its closing quote; `None` when it would expand a variable or is not closed.
fn docker_word(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.strip_prefix('"')?.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '$' => return None,
            '\\' => match chars.next()? {
                e @ ('"' | '$' | '\\') => out.push(e),
                e => {
                    out.push('\\');
                    out.push(e);
                }
            },
            c => out.push(c),
        }
    }
    None
}

/// What the output holds where the value went, read back; and what it should be.
fn read_back(files: &Files, site: Site, value: &str) -> Result<(Value, Value), TestCaseError> {
    let yaml_doc = |path: &str| -> Result<(Value, Value), TestCaseError> {
        let body = String::from_utf8_lossy(&files[path]);
        let ours = documents(path, &body).remove(0);
        // A second, independent reader (libyaml, as serde_norway uses) must agree.
        let theirs: Value = serde_norway::from_str(&body)
            .map_err(|e| TestCaseError::fail(format!("serde_norway cannot read {path}: {e}\n{body}")))?;
        Ok((ours, theirs))
    };
    let dockerfile = || String::from_utf8_lossy(&files["images/server/Dockerfile"]).into_owned();
    Ok(match site {
        Site::Config => {
            let path = files
                .keys()
                .find(|p| p.starts_with("envs/default/configmap-"))
                .expect("a ConfigMap");
            let (ours, theirs) = yaml_doc(path)?;
            prop_assert_eq!(
                &theirs["data"]["INJ"],
                &json!(value),
                "serde_norway reads the ConfigMap differently"
            );
            (ours["data"]["INJ"].clone(), json!(value))
        }
        Site::ServiceCommand => {
            let (ours, theirs) = yaml_doc("envs/default/deployment-inj-api.yaml")?;
            let command = |d: &Value| d["spec"]["template"]["spec"]["containers"][0]["command"].clone();
            let want = json!(["uvicorn", value, "--port", "8080"]);
            prop_assert_eq!(
                &command(&theirs),
                &want,
                "serde_norway reads the Deployment differently"
            );
            (command(&ours), want)
        }
        Site::ImageEnv => {
            let text = dockerfile();
            let words: Vec<Value> = text
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("INJ="))
                .map(|w| docker_word(w).map_or(Value::Null, Value::from))
                .collect();
            (json!(words), json!([value]))
        }
        Site::ImageCommand => {
            let text = dockerfile();
            let cmds: Vec<Value> = text
                .lines()
                .filter_map(|l| l.strip_prefix("CMD "))
                .map(|c| serde_json::from_str(c).unwrap_or(Value::Null))
                .collect();
            (json!(cmds), json!([["gunicorn", value, "app:app"]]))
        }
    })
}

/// Compile the spec with the value at `site`: the value reads back exactly, or the compile
/// fails with errors located on the value's line. Says whether it was accepted.
fn check_injection(name: &str, site: Site, value: &str, seed: u64) -> Result<bool, TestCaseError> {
    let kdl = name.ends_with(".kdl");
    let write = |v: &Value| {
        if kdl {
            to_kdl(v, &mut Choices::new(seed), false)
        } else {
            to_yaml(v)
        }
    };
    let text = write(&injected(site, value));
    let c = compile(name, &text, &project_files());
    let Some(out) = c.output else {
        let errors: Vec<&Diagnostic> = c.diagnostics.iter().filter(|d| d.is_error()).collect();
        prop_assert!(!errors.is_empty(), "no output and no error\n{}", text);
        let lines = value_lines(&text, kdl, site);
        for d in &errors {
            let span = d
                .span
                .ok_or_else(|| TestCaseError::fail(format!("error without a span: {d:?}\n{text}")))?;
            prop_assert!(span.end <= text.len(), "span past the end: {:?}\n{}", d, text);
            let (line, _) = c.file.line_col(span.start);
            prop_assert!(
                lines.contains(&line),
                "the error is not located at the {:?} value (lines {:?}):\n{}\n{}",
                site,
                lines,
                mlship::diag::render(d, &c.file, false),
                text
            );
        }
        return Ok(false);
    };
    let files = out.files;
    no_stray_lines(&files, &text)?;
    let benign = benign_shape(name, site, &write(&injected(site, "x")));
    prop_assert_eq!(
        shape(&files),
        benign,
        "{:?}: the value changed the output's line count\n{}",
        site,
        text
    );
    let (got, want) = read_back(&files, site, value)?;
    prop_assert_eq!(got, want, "the {:?} value does not read back\n{}", site, text);
    Ok(true)
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn hostile_values_are_kept_or_refused(value in any_text(), seed in any::<u64>()) {
        for site in SITES {
            let a = check_injection("mlship.yaml", site, &value, seed)?;
            let b = check_injection("mlship.kdl", site, &value, seed)?;
            prop_assert_eq!(a, b, "YAML and KDL disagree on whether {:?} is accepted at {:?}", value, site);
        }
    }
}
