//! Diffs between two rendered trees, object by object.
//!
//! Takes: the old and the new [`Output`] (the tree on disk and the compiled one, or two
//! compilations of the spec at different revisions). Gives: per environment the objects
//! added, changed and removed, each change as field paths with old and new values (secret
//! data masked), the rollout impact of each, and plain-file changes (Dockerfiles, bake).
//! Objects pair by apiVersion, kind, namespace and name; content-hashed names (ConfigMaps
//! and Jobs) pair by their name without the hash, and show as a replacement.

use crate::emit::{LOCK_FILE, Output, env_of};
use crate::source::SourceFile;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub environments: Vec<EnvDiff>,
    /// Files that are not Kubernetes objects (Dockerfiles, bake file), by path.
    pub files: Vec<FileDiff>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EnvDiff {
    pub name: String,
    pub objects: Vec<ObjectDiff>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ObjectDiff {
    pub kind: String,
    /// The new name (the old one for removals).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    pub change: Change,
    pub fields: Vec<FieldChange>,
    pub impact: String,
    /// Unified YAML diff of the object.
    #[serde(skip)]
    pub unified: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Changed,
    Removed,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileDiff {
    pub path: String,
    pub change: Change,
    #[serde(skip)]
    pub unified: String,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.environments.iter().all(|e| e.objects.is_empty())
    }

    /// (added, changed, removed) objects of one environment.
    pub fn counts(env: &EnvDiff) -> (usize, usize, usize) {
        let n = |c| env.objects.iter().filter(|o| o.change == c).count();
        (n(Change::Added), n(Change::Changed), n(Change::Removed))
    }
}

/// An object read from a rendered file, with the key it pairs by.
struct Obj {
    key: (String, String, String),
    name: String,
    value: Value,
}

/// The environment whose objects the file at `path` holds, if diff compares it (`only` limits
/// the environments; kustomizations hold no objects).
fn compared_env<'a>(path: &'a str, only: Option<&[String]>) -> Option<&'a str> {
    let env = env_of(path)?;
    let wanted = only.is_none_or(|o| o.iter().any(|e| e == env));
    (wanted && !path.ends_with("kustomization.yaml")).then_some(env)
}

/// The objects of `out`'s environments, except those in files `other` holds with the same
/// bytes (they would pair with themselves and show no change).
fn objects(out: &Output, other: &Output, only: Option<&[String]>) -> BTreeMap<String, Vec<Obj>> {
    let mut by_env: BTreeMap<String, Vec<Obj>> = BTreeMap::new();
    for (path, bytes) in &out.files {
        let Some(env) = compared_env(path, only) else { continue };
        if other.files.get(path) == Some(bytes) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        for doc in text.split("\n---\n") {
            let Ok(tree) = crate::syntax::yaml::parse(&SourceFile::new(path.as_str(), doc)) else {
                continue;
            };
            let value = tree.to_json();
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            let kind = s(&value["kind"]);
            let name = s(&value["metadata"]["name"]);
            let key = (
                format!("{}/{kind}", s(&value["apiVersion"])),
                s(&value["metadata"]["namespace"]),
                crate::names::stable_name(&kind, &name),
            );
            by_env
                .entry(env.to_string())
                .or_default()
                .push(Obj { key, name, value });
        }
    }
    by_env
}

/// Compare two trees; `only` limits the environments compared.
pub fn diff(old: &Output, new: &Output, only: Option<&[String]>) -> Report {
    let (mut olds, mut news) = (objects(old, new, only), objects(new, old, only));
    let envs: std::collections::BTreeSet<String> = old
        .files
        .keys()
        .chain(new.files.keys())
        .filter_map(|p| compared_env(p, only))
        .map(str::to_string)
        .collect();
    let mut environments = Vec::new();
    for env in envs {
        let mut before: BTreeMap<_, Obj> = olds
            .remove(&env)
            .unwrap_or_default()
            .into_iter()
            .map(|o| (o.key.clone(), o))
            .collect();
        let after: Vec<Obj> = news.remove(&env).unwrap_or_default();
        let mut out = Vec::new();
        for o in after {
            let kind = o.value["kind"].as_str().unwrap_or_default().to_string();
            match before.remove(&o.key) {
                None => out.push(object_diff(&kind, None, Some(&o))),
                Some(b) if b.value != o.value => out.push(object_diff(&kind, Some(&b), Some(&o))),
                Some(_) => {}
            }
        }
        for b in before.into_values() {
            let kind = b.value["kind"].as_str().unwrap_or_default().to_string();
            out.push(object_diff(&kind, Some(&b), None));
        }
        out.sort_by(|a, b| (a.change, &a.kind, &a.name).cmp(&(b.change, &b.kind, &b.name)));
        environments.push(EnvDiff {
            name: env,
            objects: out,
        });
    }
    let mut files = Vec::new();
    let paths: std::collections::BTreeSet<&String> = old.files.keys().chain(new.files.keys()).collect();
    for path in paths.into_iter().filter(|p| env_of(p).is_none() && *p != LOCK_FILE) {
        let (a, b) = (old.files.get(path), new.files.get(path));
        if a == b {
            continue;
        }
        let change = match (a, b) {
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
            _ => Change::Changed,
        };
        let text = |f: Option<&Vec<u8>>| f.map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
        let unified = unified(&text(a), &text(b), path);
        files.push(FileDiff {
            path: path.clone(),
            change,
            unified,
        });
    }
    Report { environments, files }
}

fn unified(a: &str, b: &str, name: &str) -> String {
    similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(3)
        .header(name, name)
        .to_string()
}

fn object_diff(kind: &str, old: Option<&Obj>, new: Option<&Obj>) -> ObjectDiff {
    let ov = old.map(|o| mask_secrets(kind, &o.value, None));
    let nv = new.map(|o| mask_secrets(kind, &o.value, old.map(|o| &o.value)));
    let mut fields = Vec::new();
    if let (Some(a), Some(b)) = (&ov, &nv) {
        fields_of(a, b, String::new(), &mut fields);
        // A replacement already says the name changed.
        fields.retain(|f| f.path != "metadata.name");
    }
    let change = match (old, new) {
        (None, _) => Change::Added,
        (_, None) => Change::Removed,
        _ => Change::Changed,
    };
    let name = new.or(old).map(|o| o.name.clone()).unwrap_or_default();
    let replaces = match (old, new) {
        (Some(a), Some(b)) if a.name != b.name => Some(a.name.clone()),
        _ => None,
    };
    let yaml = |v: &Option<Value>| v.as_ref().map(crate::yamlout::to_yaml).unwrap_or_default();
    let unified = unified(&yaml(&ov), &yaml(&nv), &format!("{}/{name}", kind.to_ascii_lowercase()));
    // The object as it is now, or as it was for one that is removed.
    let impact = impact(
        kind,
        &name,
        change,
        replaces.is_some(),
        &fields,
        nv.as_ref().or(ov.as_ref()),
    );
    ObjectDiff {
        kind: kind.to_string(),
        name,
        replaces,
        change,
        fields,
        impact,
        unified,
    }
}

/// Secret values never appear in a diff, not even encrypted ones: each shows as `***`, or
/// `*** (changed)` where it differs from the value in `before`.
fn mask_secrets(kind: &str, v: &Value, before: Option<&Value>) -> Value {
    let mut v = v.clone();
    let sections: &[&[&str]] = match kind {
        "Secret" => &[&["data"], &["stringData"]],
        "SealedSecret" => &[&["spec", "encryptedData"]],
        _ => &[],
    };
    for path in sections {
        let previous = before.map(|b| path.iter().fold(b, |n, k| &n[*k]));
        // Only what is there: a missing section stays missing, a malformed one as it is.
        let node = path.iter().try_fold(&mut v, |n, k| n.get_mut(*k));
        if let Some(Value::Object(m)) = node {
            for (k, val) in m.iter_mut() {
                let same = previous.is_none_or(|p| p.get(k) == Some(val));
                *val = Value::String(if same { "***" } else { "*** (changed)" }.into());
            }
        }
    }
    v
}

fn fields_of(a: &Value, b: &Value, path: String, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(va), Some(vb)) => fields_of(va, vb, p, out),
                    (va, vb) => out.push(FieldChange {
                        path: p,
                        old: va.cloned(),
                        new: vb.cloned(),
                    }),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if named(x) && named(y) => {
            // List items with a `name` pair by it: containers, env, ports, volumes.
            let name = |v: &Value| v["name"].as_str().unwrap_or_default().to_string();
            let mut names: Vec<String> = Vec::new();
            for n in x.iter().chain(y).map(name) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
            for n in names {
                let p = format!("{path}[{n}]");
                match (x.iter().find(|v| name(v) == n), y.iter().find(|v| name(v) == n)) {
                    (Some(va), Some(vb)) => fields_of(va, vb, p, out),
                    (va, vb) => out.push(FieldChange {
                        path: p,
                        old: va.cloned(),
                        new: vb.cloned(),
                    }),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                fields_of(va, vb, format!("{path}[{i}]"), out);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            // Items inserted or removed: the unchanged items at both ends are left out, so an
            // argument appended to a long command shows as that one argument.
            let head = x.iter().zip(y).take_while(|(a, b)| a == b).count();
            let tail = x[head..]
                .iter()
                .rev()
                .zip(y[head..].iter().rev())
                .take_while(|(a, b)| a == b)
                .count();
            for (i, item) in x.iter().enumerate().take(x.len() - tail).skip(head) {
                out.push(FieldChange {
                    path: format!("{path}[{i}]"),
                    old: Some(item.clone()),
                    new: y.get(i).filter(|_| i < y.len() - tail).cloned(),
                });
            }
            for (j, item) in y.iter().enumerate().take(y.len() - tail).skip(head.max(x.len() - tail)) {
                out.push(FieldChange {
                    path: format!("{path}[{j}]"),
                    old: None,
                    new: Some(item.clone()),
                });
            }
        }
        _ if a != b => out.push(FieldChange {
            path,
            old: Some(a.clone()),
            new: Some(b.clone()),
        }),
        _ => {}
    }
}

fn named(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|v| v.get("name").is_some_and(Value::is_string))
}

/// What applying the change does to running workloads.
/// What applying the change does, read from the final objects: the new object's own rollout
/// strategy, and for kinds without a built-in rule, that their controller acts on the change.
/// Whether the GitOps engine is told never to prune an object (a notebook's workspace claim).
fn kept(v: &Value) -> bool {
    let a = &v["metadata"]["annotations"];
    a["argocd.argoproj.io/sync-options"]
        .as_str()
        .is_some_and(|o| o.split(',').any(|x| x.trim() == "Prune=false"))
        || a["kustomize.toolkit.fluxcd.io/prune"] == "disabled"
}

fn impact(
    kind: &str,
    name: &str,
    change: Change,
    replaced: bool,
    fields: &[FieldChange],
    new: Option<&Value>,
) -> String {
    let touches = |prefix: &str| fields.iter().any(|f| f.path.starts_with(prefix));
    let strategy = |key: &str| {
        new.and_then(|v| v["spec"][key]["type"].as_str())
            .unwrap_or("RollingUpdate")
            .to_string()
    };
    match (kind, change) {
        ("Deployment" | "StatefulSet" | "DaemonSet", Change::Added) => format!("pods of {kind} {name} start"),
        ("Deployment" | "StatefulSet" | "DaemonSet", Change::Removed) => format!("pods of {kind} {name} stop"),
        ("Deployment", _) if touches("spec.template") => match strategy("strategy").as_str() {
            "Recreate" => format!("pods of Deployment {name} stop, then start again (Recreate: a pause in service)"),
            _ => format!("pods of Deployment {name} restart (rolling update)"),
        },
        ("StatefulSet" | "DaemonSet", _) if touches("spec.template") => match strategy("updateStrategy").as_str() {
            "OnDelete" => format!("pods of {kind} {name} take the new spec only when deleted (OnDelete)"),
            _ => format!("pods of {kind} {name} restart (rolling update)"),
        },
        ("Deployment" | "StatefulSet", _) if touches("spec.replicas") => {
            format!("{kind} {name} scales; nothing restarts")
        }
        ("Job", Change::Added) => format!("Job {name} runs"),
        ("Job", Change::Removed) => format!("Job {name} and its pods are deleted"),
        ("Job", _) if replaced => format!("Job {name} replaces the old one and runs (its spec changed)"),
        ("Job", _) => format!("Job {name} changes in metadata only; it does not run again"),
        ("CronJob", Change::Removed) => format!("CronJob {name} no longer runs"),
        ("CronJob", _) => format!("the next run of CronJob {name} uses the new spec"),
        ("WorkflowTemplate", Change::Added) => format!("WorkflowTemplate {name} is created; runs start from it"),
        ("WorkflowTemplate", Change::Removed) => {
            format!("WorkflowTemplate {name} is deleted; its CronWorkflow and new runs fail to start")
        }
        ("WorkflowTemplate", _) if touches("spec") => {
            format!("runs that start from now on use the new WorkflowTemplate {name}; running ones keep the old")
        }
        ("Workflow", Change::Added) => format!("Workflow {name} runs the pipeline"),
        ("Workflow", Change::Removed) => format!("Workflow {name} and its pods are deleted (a run still going stops)"),
        ("Workflow", _) if replaced => {
            format!("Workflow {name} replaces the old run and runs the pipeline (the pipeline changed)")
        }
        ("Workflow", _) => format!("Workflow {name} changes in metadata only; it does not run again"),
        ("CronWorkflow", Change::Added) => format!("CronWorkflow {name} starts running on its schedule"),
        ("CronWorkflow", Change::Removed) => format!("CronWorkflow {name} no longer runs; its past runs are deleted"),
        ("CronWorkflow", _) if touches("spec.schedules") || touches("spec.timezone") => {
            format!("CronWorkflow {name} runs on the new schedule from its next run")
        }
        ("CronWorkflow", _) => format!("the next run of CronWorkflow {name} uses the new spec"),
        ("Notebook", Change::Added) => format!("Notebook {name} starts (Kubeflow makes its StatefulSet)"),
        ("Notebook", Change::Removed) => format!("Notebook {name} and its pod are deleted"),
        ("Notebook", _) if touches("spec.template") => {
            format!("the pod of Notebook {name} restarts: open kernels are lost, the workspace keeps the files")
        }
        ("HorizontalPodAutoscaler" | "ScaledObject", Change::Changed) => {
            format!("autoscaling bounds or targets of {name} change")
        }
        ("InferenceService", Change::Added) => format!("KServe starts the predictor pods of InferenceService {name}"),
        ("InferenceService", Change::Removed) => format!("KServe stops the predictor pods of InferenceService {name}"),
        ("InferenceService", _) if touches("spec") => {
            // Replica bounds, the scale metric and the traffic split change no pod.
            let quiet = [
                "minReplicas",
                "maxReplicas",
                "scaleMetric",
                "scaleTarget",
                "canaryTrafficPercent",
            ]
            .map(|k| format!("spec.predictor.{k}"));
            let rolls = fields
                .iter()
                .any(|f| f.path.starts_with("spec") && !quiet.contains(&f.path));
            let canary = new.and_then(|v| v["spec"]["predictor"]["canaryTrafficPercent"].as_i64());
            match (rolls, canary) {
                (true, Some(p)) => format!(
                    "new predictor pods of InferenceService {name} start (a new model or pod spec) and take {p}% of the requests; the previous revision keeps the rest"
                ),
                (true, None) => {
                    format!("new predictor pods of InferenceService {name} roll out (a new model or pod spec)")
                }
                (false, Some(p)) => format!(
                    "the newest revision of InferenceService {name} takes {p}% of the requests; nothing restarts"
                ),
                (false, None) => format!(
                    "InferenceService {name} scales or takes all the requests on its newest revision; nothing restarts"
                ),
            }
        }
        ("ConfigMap", _) if replaced => "new ConfigMap; the workloads that read it restart".to_string(),
        ("PersistentVolumeClaim", Change::Removed) if new.is_some_and(kept) => {
            format!("claim {name} leaves the tree but the GitOps engine keeps it, with its data; delete it by hand")
        }
        ("PersistentVolumeClaim", Change::Removed) => format!("volume {name} is deleted with its data"),
        (_, Change::Added) => "created; nothing restarts".to_string(),
        (_, Change::Removed) => "deleted".to_string(),
        (
            "ConfigMap"
            | "Secret"
            | "Service"
            | "ServiceAccount"
            | "Role"
            | "RoleBinding"
            | "NetworkPolicy"
            | "Ingress"
            | "PodDisruptionBudget"
            | "Namespace"
            | "PersistentVolumeClaim",
            _,
        ) => "nothing restarts".to_string(),
        _ if touches("spec") => format!("{kind} {name} changes; its controller acts on the new spec"),
        _ => "nothing restarts".to_string(),
    }
}

/// Output formats of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Color,
    Markdown,
}

fn text(v: &Option<Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(Value::String(s)) => crate::yamlout::scalar_str(s),
        Some(other) => other.to_string(),
    }
}

/// An old and a new value for one line each: at most about 80 characters around the first
/// place they differ, so two long values never show as the same text.
fn shown(old: &Option<Value>, new: &Option<Value>) -> (String, String) {
    const WIDTH: usize = 80;
    let (a, b) = (text(old), text(new));
    if a.chars().count() <= WIDTH && b.chars().count() <= WIDTH {
        return (a, b);
    }
    let differ = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let start = differ.saturating_sub(20);
    let cut = |t: &str| {
        let chars: Vec<char> = t.chars().collect();
        let end = chars.len().min(start + WIDTH);
        let body: String = chars[start.min(end)..end].iter().collect();
        format!(
            "{}{body}{}",
            if start > 0 { "…" } else { "" },
            if end < chars.len() { "…" } else { "" }
        )
    };
    (cut(&a), cut(&b))
}

/// Render a report as text (optionally coloured) or Markdown for a pull-request comment.
pub fn render(r: &Report, style: Style, unified: bool) -> String {
    let paint = |code: &str, s: &str| {
        if style == Style::Color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let sign = |c: Change| match c {
        Change::Added => paint("32", "+"),
        Change::Changed => paint("33", "~"),
        Change::Removed => paint("31", "-"),
    };
    let mut out = String::new();
    if style == Style::Markdown {
        out.push_str("### mlship diff\n\n");
    }
    for env in r.environments.iter().filter(|e| !e.objects.is_empty()) {
        let (a, c, d) = Report::counts(env);
        if style == Style::Markdown {
            out.push_str(&format!(
                "**{}**: {a} added, {c} changed, {d} removed\n\n| | kind | name | impact |\n|---|---|---|---|\n",
                env.name
            ));
            for o in &env.objects {
                let name = match &o.replaces {
                    Some(old) => format!("`{}` (replaces `{old}`)", o.name),
                    None => format!("`{}`", o.name),
                };
                out.push_str(&format!(
                    "| {} | {} | {name} | {} |\n",
                    sign(o.change),
                    o.kind,
                    o.impact
                ));
            }
            let changed: Vec<&ObjectDiff> = env.objects.iter().filter(|o| !o.fields.is_empty()).collect();
            if !changed.is_empty() {
                out.push_str("\n<details><summary>Field changes</summary>\n\n```diff\n");
                for o in changed {
                    out.push_str(&format!("# {} {}\n", o.kind, o.name));
                    for f in &o.fields {
                        let (old, new) = shown(&f.old, &f.new);
                        out.push_str(&format!("- {}: {old}\n+ {}: {new}\n", f.path, f.path));
                    }
                }
                out.push_str("```\n\n</details>\n");
            }
            out.push('\n');
            continue;
        }
        out.push_str(&format!(
            "{}: {a} added, {c} changed, {d} removed\n",
            paint("1", &format!("environment {}", env.name))
        ));
        for o in &env.objects {
            let replaces = o
                .replaces
                .as_ref()
                .map(|r| format!(" (replaces {r})"))
                .unwrap_or_default();
            out.push_str(&format!("  {} {} {}{replaces}\n", sign(o.change), o.kind, o.name));
            for f in &o.fields {
                let (old, new) = shown(&f.old, &f.new);
                out.push_str(&format!("      {}: {old} -> {new}\n", f.path));
            }
            out.push_str(&format!("      impact: {}\n", o.impact));
            if unified {
                for line in o.unified.lines() {
                    out.push_str(&format!("      {line}\n"));
                }
            }
        }
    }
    if !r.files.is_empty() {
        out.push_str(if style == Style::Markdown {
            "**files**\n\n"
        } else {
            "files:\n"
        });
        for f in &r.files {
            out.push_str(&format!("  {} {}\n", sign(f.change), f.path));
            if unified {
                for line in f.unified.lines() {
                    out.push_str(&format!("      {line}\n"));
                }
            }
        }
    }
    if r.is_empty() {
        out.push_str("no differences\n");
    }
    out
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree(files: &[(&str, &str)]) -> Output {
        Output {
            files: files
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    const CM_A: &str =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p-config-aaaaaaaa\n  namespace: n\ndata:\n  X: '1'\n";
    const CM_B: &str =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p-config-bbbbbbbb\n  namespace: n\ndata:\n  X: '2'\n";

    #[test]
    fn hashed_names_pair_as_replacements() {
        let r = diff(
            &tree(&[("envs/prod/configmap-a.yaml", CM_A)]),
            &tree(&[("envs/prod/configmap-b.yaml", CM_B)]),
            None,
        );
        let o = &r.environments[0].objects[0];
        assert_eq!(
            (o.change, o.replaces.as_deref()),
            (Change::Changed, Some("p-config-aaaaaaaa"))
        );
        assert!(o.fields.iter().any(|f| f.path == "data.X"));
        assert!(o.impact.contains("restart"));
    }

    #[test]
    fn masking_adds_nothing_and_survives_malformed_secrets() {
        let only_string_data = json!({"kind": "Secret", "stringData": {"a": "x"}});
        let masked = mask_secrets("Secret", &only_string_data, None);
        assert_eq!(
            masked,
            json!({"kind": "Secret", "stringData": {"a": "***"}}),
            "no `data: null` added"
        );
        let odd = json!({"kind": "SealedSecret", "spec": "not a mapping"});
        assert_eq!(mask_secrets("SealedSecret", &odd, Some(&odd)), odd, "was a panic");
    }

    #[test]
    fn an_argument_appended_to_a_long_command_shows_as_that_argument() {
        let long: Vec<String> = (0..12).map(|i| format!("--option-number-{i}=value")).collect();
        let mut longer = long.clone();
        longer.push("--new".into());
        let mut out = Vec::new();
        fields_of(
            &json!({"command": long}),
            &json!({"command": longer}),
            String::new(),
            &mut out,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].path, "command[12]");
        assert_eq!((out[0].old.clone(), out[0].new.clone()), (None, Some(json!("--new"))));
        let mut out = Vec::new();
        fields_of(
            &json!({"c": ["a", "b", "c"]}),
            &json!({"c": ["a", "c"]}),
            String::new(),
            &mut out,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].path.as_str(), out[0].new.clone()), ("c[1]", None));
    }

    #[test]
    fn long_values_show_where_they_differ() {
        let a = "x".repeat(100) + "-old";
        let b = "x".repeat(100) + "-new";
        let (sa, sb) = shown(&Some(json!([a])), &Some(json!([b])));
        assert_ne!(sa, sb, "both sides were cut to the same 80 characters");
        assert!(
            sa.starts_with('…') && sa.contains("-old") && sb.contains("-new"),
            "{sa} {sb}"
        );
    }

    #[test]
    fn a_notebook_change_says_what_the_user_loses() {
        let field = FieldChange {
            path: "spec.template.spec.containers[0].image".into(),
            old: None,
            new: Some(json!("x:2")),
        };
        let d = impact("Notebook", "lab", Change::Changed, false, &[field], None);
        assert!(d.contains("kernels are lost"), "{d}");
        let claim = json!({"metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/prune": "disabled"}}});
        let d = impact(
            "PersistentVolumeClaim",
            "lab-workspace",
            Change::Removed,
            false,
            &[],
            Some(&claim),
        );
        assert!(d.contains("keeps it"), "{d}");
        let d = impact(
            "PersistentVolumeClaim",
            "data",
            Change::Removed,
            false,
            &[],
            Some(&json!({})),
        );
        assert!(d.contains("deleted with its data"), "{d}");
    }

    #[test]
    fn impact_is_read_from_the_final_objects() {
        let field = |p: &str| FieldChange {
            path: p.into(),
            old: None,
            new: Some(json!(1)),
        };
        let recreate = json!({"spec": {"strategy": {"type": "Recreate"}}});
        let d = impact(
            "Deployment",
            "api",
            Change::Changed,
            false,
            &[field("spec.template.spec")],
            Some(&recreate),
        );
        assert!(
            d.contains("Recreate"),
            "a patched Recreate strategy was reported as a rolling update: {d}"
        );
        let cr = json!({"spec": {"predictor": {}}});
        let d = impact(
            "InferenceService",
            "m",
            Change::Changed,
            false,
            &[field("spec.predictor")],
            Some(&cr),
        );
        assert_eq!(
            d,
            "new predictor pods of InferenceService m roll out (a new model or pod spec)"
        );
        let canary = serde_json::json!({"spec": {"predictor": {"canaryTrafficPercent": 10}}});
        let storage = [
            field("spec.predictor.model.storageUri"),
            field("spec.predictor.canaryTrafficPercent"),
        ];
        let d = impact("InferenceService", "m", Change::Changed, false, &storage, Some(&canary));
        assert!(
            d.contains("take 10% of the requests; the previous revision keeps the rest"),
            "{d}"
        );
        let split = [field("spec.predictor.canaryTrafficPercent")];
        let d = impact("InferenceService", "m", Change::Changed, false, &split, Some(&canary));
        assert_eq!(
            d,
            "the newest revision of InferenceService m takes 10% of the requests; nothing restarts"
        );
        let scale = [field("spec.predictor.maxReplicas")];
        let d = impact("InferenceService", "m", Change::Changed, false, &scale, Some(&cr));
        assert!(d.ends_with("nothing restarts"), "{d}");
    }

    #[test]
    fn workflow_changes_state_their_impact() {
        let field = |p: &str| FieldChange {
            path: p.into(),
            old: None,
            new: Some(json!(1)),
        };
        let schedule = [field("spec.schedules[0]")];
        let d = impact("CronWorkflow", "p-ml", Change::Changed, false, &schedule, None);
        assert_eq!(d, "CronWorkflow p-ml runs on the new schedule from its next run");
        let template = [field("spec.templates[1].container.image")];
        let d = impact("WorkflowTemplate", "p-ml", Change::Changed, false, &template, None);
        assert!(d.contains("running ones keep the old"), "{d}");
        let d = impact("Workflow", "p-ml-1a2b3c4d", Change::Changed, true, &[], None);
        assert!(d.contains("replaces the old run"), "{d}");
    }

    #[test]
    fn secret_values_are_masked() {
        let a = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  K: ENC[old]\n";
        let b = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  K: ENC[new]\n";
        let r = diff(&tree(&[("envs/e/s.yaml", a)]), &tree(&[("envs/e/s.yaml", b)]), None);
        let text = render(&r, Style::Plain, true);
        assert!(!text.contains("ENC["), "{text}");
        assert!(text.contains("data.K: '***' -> '*** (changed)'"), "{text}");
    }

    #[test]
    fn list_items_pair_by_name() {
        let a = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: a\n        image: x:1\n      - name: b\n        image: y:1\n";
        let b = a
            .replace("- name: a\n        image: x:1\n      ", "")
            .replace("y:1", "y:2");
        let r = diff(&tree(&[("envs/e/d.yaml", a)]), &tree(&[("envs/e/d.yaml", &b)]), None);
        let paths: Vec<&str> = r.environments[0].objects[0]
            .fields
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "spec.template.spec.containers[a]",
                "spec.template.spec.containers[b].image"
            ]
        );
    }
}
