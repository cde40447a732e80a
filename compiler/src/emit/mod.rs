//! Emission: the plan to the output tree, as bytes in memory.
//!
//! Takes: a [`Plan`]. Gives: an [`Output`], a sorted map from relative path to file bytes:
//! per environment one YAML file per object plus a kustomization, the GitOps objects, the
//! Dockerfiles, and the lock file. Nothing here touches the disk; the writer does that.
//!
//! Each family of output lives in its own module, a [`Target`] in [`TARGETS`]: it says which
//! kinds it emits and where their pod specs are, and builds its objects from the plan. Pods
//! come from [`pod`], the one builder of the security baseline. [`post`] finds pods and
//! scopes through [`kind`], never through a list of its own.

pub mod argocd;
pub mod batch;
pub mod core;
pub mod docker;
pub mod flux;
pub mod katib;
pub mod kserve;
pub mod leaks;
pub mod notebooks;
pub mod pod;
pub mod post;
pub mod trainer;
pub mod workflows;

use crate::diag::{Code, Diagnostic};
use crate::names;
use crate::plan::{EnvPlan, GitopsPlan, Plan};
use crate::spec::Engine;
use crate::yamlout::to_yaml;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const LOCK_FILE: &str = crate::names::TREE_LOCK;

/// Files by relative path (with `/`).
pub type Files = BTreeMap<String, Vec<u8>>;

/// Every output target, in the order their files are made.
pub const TARGETS: &[&Target] = &[
    &docker::TARGET,
    &core::TARGET,
    &kserve::TARGET,
    &batch::TARGET,
    &workflows::TARGET,
    &katib::TARGET,
    &trainer::TARGET,
    &notebooks::TARGET,
    &argocd::TARGET,
    &flux::TARGET,
];

/// One family of output objects: the kinds it emits (or recognises in extra manifests) and
/// how it builds them.
pub struct Target {
    pub name: &'static str,
    pub kinds: &'static [Kind],
    pub emit: Emit,
}

/// Where a target hands over an environment's objects, a group at a time, with what names
/// the group's objects by their content (Jobs, run-once Workflows) once patches have changed
/// them: a patched Job is a new Job, and so are those after it. Most groups pass `&|_| {}`.
pub type Sink<'s> = dyn FnMut(Vec<Object>, &dyn Fn(&mut [Object])) + 's;

pub enum Emit {
    /// Files outside the environments (Dockerfiles, the bake file).
    Files(fn(&Plan) -> Result<Files, Vec<Diagnostic>>),
    /// Objects in each environment's folder, which patches, validation and policies then see
    /// ([`post::Post`]), handed to the sink a group at a time: the objects of one workload (a
    /// service, a pipeline, a notebook), with what names them by their content. An
    /// environment's objects are never all in memory at once (at N = 10,000 they were about
    /// 500 MB).
    Env(fn(&Plan, &EnvPlan, &mut Sink<'_>)),
    /// The GitOps engine's objects for one environment, in `gitops/<env>.yaml`.
    Gitops(Engine, fn(&Plan, &EnvPlan, &GitopsPlan) -> Vec<Value>),
}

/// A kind of object and the paths of its pod specs (`*` steps into every item of a list).
/// Its scope comes from its schema ([`crate::validate::Schemas::scope`]); a test checks that
/// every registered kind has one.
#[derive(Debug)]
pub struct Kind {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub pods: &'static [&'static [&'static str]],
    /// Where the pod security context its pods share is, for kinds whose pods are
    /// templates of one object (Argo Workflows' `spec.securityContext`).
    pub pod_defaults: Option<&'static [&'static str]>,
}

impl Kind {
    pub const fn new(api_version: &'static str, kind: &'static str) -> Kind {
        Kind {
            api_version,
            kind,
            pods: &[],
            pod_defaults: None,
        }
    }

    pub const fn pods(self, pods: &'static [&'static [&'static str]]) -> Kind {
        Kind { pods, ..self }
    }

    pub const fn pod_defaults(self, path: &'static [&'static str]) -> Kind {
        Kind {
            pod_defaults: Some(path),
            ..self
        }
    }
}

/// The pod security context an object's pods share, when its kind has one.
pub fn pod_defaults(value: &Value) -> Option<&Value> {
    let path = kind(value)?.pod_defaults?;
    let v = path.iter().fold(value, |v, key| &v[*key]);
    v.is_object().then_some(v)
}

/// The API group of an `apiVersion` ("" for the core group's `v1`).
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The registered kind of an object, matched on API group and kind (any version).
pub fn kind(value: &Value) -> Option<&'static Kind> {
    let api_version = value["apiVersion"].as_str()?;
    let kind = value["kind"].as_str()?;
    TARGETS
        .iter()
        .flat_map(|t| t.kinds)
        .find(|k| k.kind == kind && group(k.api_version) == group(api_version))
}

/// Every pod spec in an object of a registered kind, with its path (`spec.template.spec`).
pub fn pod_specs(value: &Value) -> Vec<(String, &Value)> {
    fn walk<'a>(v: &'a Value, path: &[&str], at: String, out: &mut Vec<(String, &'a Value)>) {
        match path.split_first() {
            None => {
                if v.is_object() {
                    out.push((at, v));
                }
            }
            Some((&"*", rest)) => {
                for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                    walk(item, rest, format!("{at}[{i}]"), out);
                }
            }
            Some((key, rest)) => {
                let at = if at.is_empty() {
                    key.to_string()
                } else {
                    format!("{at}.{key}")
                };
                walk(&v[*key], rest, at, out);
            }
        }
    }
    let mut out = Vec::new();
    for path in kind(value).map(|k| k.pods).unwrap_or_default() {
        walk(value, path, String::new(), &mut out);
    }
    out
}

/// One rendered object and the folder (relative to the environment) it belongs in.
#[derive(Debug, Clone)]
pub struct Object {
    /// "" for the environment's base, or `jobs/level-N` for a pipeline level.
    pub folder: String,
    pub value: Value,
    pub origin: Origin,
    /// The last patch (index in the spec's `patches`) that changed it.
    pub patched_by: Option<usize>,
}

/// Where an object came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Generated,
    /// From the spec's extra manifest file with this index.
    Extra(usize),
}

impl Object {
    pub fn generated(folder: &str, value: Value) -> Object {
        Object {
            folder: folder.to_string(),
            value,
            origin: Origin::Generated,
            patched_by: None,
        }
    }
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("Object")
    }
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("unnamed")
    }
    /// `<kind>-<name>.yaml`, lowercase kind.
    pub fn file_name(&self) -> String {
        format!("{}-{}.yaml", self.kind().to_ascii_lowercase(), self.name())
    }
}

/// A typed Kubernetes object as JSON, in Kubernetes' own field order.
pub fn to_value<T: serde::Serialize>(obj: &T) -> Value {
    serde_json::to_value(obj).expect("Kubernetes objects serialize")
}

/// Metadata of an object of the environment: name, namespace and recommended labels.
pub fn meta(env: &EnvPlan, name: &str, workload: Option<&str>, component: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(env.namespace.clone()),
        labels: Some(env.labels(workload, component)),
        ..Default::default()
    }
}

/// The environment's objects from every target, before extra manifests and patches.
pub fn objects(plan: &Plan, env: &EnvPlan) -> Vec<Object> {
    let mut out = Vec::new();
    for t in TARGETS {
        if let Emit::Env(f) = t.emit {
            f(plan, env, &mut |group, _| out.extend(group));
        }
    }
    out
}

/// The objects one environment of a spec renders to, by file name, and the warnings; for
/// the targets' tests.
#[cfg(test)]
pub(crate) fn rendered(yaml: &str, env: &str) -> (BTreeMap<String, serde_json::Value>, Vec<Diagnostic>) {
    let compiled = crate::compile("mlship.yaml", yaml.as_bytes(), &crate::project::MemProject::default());
    let out = compiled.output.unwrap_or_else(|| panic!("{:?}", compiled.diagnostics));
    let prefix = format!("envs/{env}/");
    let objects = out
        .files
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v)))
        .filter(|(k, _)| !k.ends_with("kustomization.yaml"))
        .map(|(k, v)| (k, serde_norway::from_slice(v).expect("YAML")))
        .collect();
    (objects, compiled.diagnostics)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn an_environment_on_another_cluster_is_applied_there() {
        let gitops_of = |engine: &str, cluster: &str| {
            let yaml = format!(
                "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nnamespace: shop\n\
                 environments:\n  prod: {{}}\n  prod-eu: {{cluster: \"{cluster}\"}}\n\
                 gitops: {{engine: {engine}, repo: https://git.example.com/p.git}}\n"
            );
            let c = crate::compile("mlship.yaml", yaml.as_bytes(), &crate::project::MemProject::default());
            let out = c.output.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
            let text = |env: &str| String::from_utf8_lossy(&out.files[&format!("gitops/{env}.yaml")]).into_owned();
            (text("prod"), text("prod-eu"))
        };
        let (home, eu) = gitops_of("argocd", "eu-west");
        assert!(home.contains("server: https://kubernetes.default.svc"), "{home}");
        assert!(eu.contains("name: eu-west") && !eu.contains("server:"), "{eu}");
        let (_, eu) = gitops_of("argocd", "https://eu.example.com:6443");
        assert!(eu.contains("server: https://eu.example.com:6443"), "{eu}");
        let (home, eu) = gitops_of("flux", "eu-west");
        assert!(!home.contains("kubeConfig"), "{home}");
        assert!(
            eu.contains("  kubeConfig:\n    secretRef:\n      name: eu-west-kubeconfig"),
            "{eu}"
        );
    }

    const WORKLOADS: &str = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {stack: python}\n\
        config: {mode: fast}\nservices:\n  a: {image: app, port: 8080}\n  b: {image: app, port: 8080, autoscale: {min: 2, max: 4, cpu: 70}}\n\
        pipelines:\n  ml:\n    steps:\n      prep: {image: app, run: [p]}\n      train: {image: app, run: [t], needs: [prep]}\n  \
        other:\n    steps:\n      one: {image: app, run: [o]}\n  nightly:\n    schedule: \"@daily\"\n    steps:\n      s: {image: app, run: [s]}\n  \
        flow:\n    engine: argo-workflows\n    steps:\n      x: {image: app, run: [x]}\n      y: {image: app, run: [y], needs: [x]}\n";

    /// An environment's objects are post-processed a workload at a time, never all at once
    /// (at N = 10,000 they were about 500 MB): no group a target hands over holds the objects
    /// of two workloads, and each target hands over a workload's objects in one group.
    #[test]
    fn an_environments_objects_reach_post_processing_a_workload_at_a_time() {
        let (_, loaded, diags) = crate::load::load("mlship.yaml", WORKLOADS.as_bytes());
        let loaded = loaded.unwrap_or_else(|| panic!("{diags:?}"));
        let plan = crate::lower::lower(loaded, &crate::project::MemProject::default()).unwrap();
        let env = &plan.envs[0];
        let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
        for t in TARGETS {
            if let Emit::Env(f) = t.emit {
                f(&plan, env, &mut |group, _| {
                    let workloads = group
                        .iter()
                        .filter_map(|o| o.value["metadata"]["labels"]["app.kubernetes.io/name"].as_str())
                        .map(str::to_string)
                        .collect::<std::collections::BTreeSet<_>>();
                    groups.push((t.name, workloads.into_iter().collect()));
                });
            }
        }
        assert!(groups.iter().all(|(_, w)| w.len() <= 1), "{groups:?}");
        for w in ["a", "b", "ml", "other", "flow"] {
            let of_target = |target: &str| {
                groups
                    .iter()
                    .filter(|(t, ws)| *t == target && ws.iter().any(|x| x == w))
                    .count()
            };
            let (core, batch, workflows) = (of_target("core"), of_target("batch"), of_target("workflows"));
            assert_eq!(
                (core.max(batch).max(workflows), core + batch + workflows > 0),
                (1, true),
                "{w}: {groups:?}"
            );
        }
    }

    /// A patched Job is a new Job, and so are the Jobs of its pipeline that need it; the other
    /// pipelines' Jobs, post-processed in groups of their own, keep their names.
    #[test]
    fn a_patched_job_renames_the_steps_after_it_in_its_pipeline_only() {
        let names = |yaml: &str| {
            let (objects, diags) = rendered(yaml, "default");
            assert!(!diags.iter().any(Diagnostic::is_error), "{diags:?}");
            let mut jobs: Vec<String> = objects
                .keys()
                .filter(|k| k.rsplit('/').next().is_some_and(|f| f.starts_with("job-")))
                .cloned()
                .collect();
            jobs.sort();
            jobs
        };
        let before = names(WORKLOADS);
        let patched = format!(
            "{WORKLOADS}patches:\n  - kind: Job\n    name: p-ml-prep\n    patch: {{spec: {{template: {{spec: {{priorityClassName: high}}}}}}}}\n"
        );
        let after = names(&patched);
        assert_eq!(before.len(), 3, "{before:?}");
        let changed: Vec<&String> = before.iter().filter(|b| !after.contains(b)).collect();
        // `job-<name>-<hash>.yaml`, without `-<hash>.yaml`.
        let stable = |n: &&String| {
            let file = n.rsplit('/').next().unwrap_or(n);
            file[..file.len() - 14].to_string()
        };
        assert_eq!(
            changed.iter().map(stable).collect::<Vec<_>>(),
            ["job-p-ml-prep", "job-p-ml-train"],
            "{before:?}\n{after:?}"
        );
    }

    #[test]
    fn every_registered_kind_has_a_schema_and_a_scope() {
        for version in crate::validate::SUPPORTED {
            let schemas = crate::validate::schemas(version).expect("bundled");
            for k in TARGETS.iter().flat_map(|t| t.kinds) {
                assert!(
                    schemas.scope(k.api_version, k.kind).is_some(),
                    "{} {} has no schema for Kubernetes {version}",
                    k.api_version,
                    k.kind
                );
            }
        }
    }
}

/// The GitOps engine's objects for one environment.
fn gitops_objects(plan: &Plan, env: &EnvPlan, g: &GitopsPlan) -> Vec<Value> {
    TARGETS
        .iter()
        .filter_map(|t| match t.emit {
            Emit::Gitops(engine, f) if engine == g.engine => Some(f(plan, env, g)),
            _ => None,
        })
        .flatten()
        .collect()
}

/// The rendered tree: relative path (with `/`) to bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub files: BTreeMap<String, Vec<u8>>,
}

fn header(project: &str) -> String {
    format!("# Generated by mlship from the `{project}` spec. Do not edit: change the spec and run `mlship build`.\n")
}

/// The output tree and its warnings, or every error. The plan is taken so that each
/// environment's plan is dropped once its files are made; the targets see the plan without
/// its environments (`plan.envs` is empty) and the environment they emit.
pub fn emit(mut plan: Plan, spec_hash: &str) -> Result<(Output, Vec<Diagnostic>), Vec<Diagnostic>> {
    let envs = std::mem::take(&mut plan.envs);
    let plan = &plan;
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for t in TARGETS {
        if let Emit::Files(f) = t.emit {
            files.extend(f(plan)?);
        }
    }
    let mut diags = plan.warnings.clone();
    diags.extend(leaks::dockerfiles(plan, &files));
    let head = header(&plan.project);
    let engine = plan.gitops.as_ref().map(|g| g.engine);
    let mut used_waivers = std::collections::BTreeSet::new();
    let names: Vec<String> = envs.iter().map(|e| e.name.clone()).collect();
    let production: Vec<String> = envs.iter().filter(|e| e.production).map(|e| e.name.clone()).collect();
    for env in envs {
        let env = &env;
        let mut by_folder: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // Each group of objects is post-processed, written and dropped before the next is made.
        let mut write = |objects: Vec<Object>| {
            for obj in objects {
                let rel = if obj.folder.is_empty() {
                    obj.file_name()
                } else {
                    format!("{}/{}", obj.folder, obj.file_name())
                };
                files.insert(
                    format!("envs/{}/{rel}", env.name),
                    format!("{head}{}", to_yaml(&obj.value)).into_bytes(),
                );
                by_folder.entry(obj.folder).or_default().push(rel);
            }
        };
        let mut post = post::Post::new(plan, env);
        for t in TARGETS {
            if let Emit::Env(f) = t.emit {
                f(plan, env, &mut |group, rename| write(post.group(group, rename)));
            }
        }
        write(post.extras());
        let (more, used) = post.finish();
        diags.extend(more);
        used_waivers.extend(used);
        for (folder, mut resources) in by_folder {
            resources.sort();
            let (path, resources) = if folder.is_empty() {
                (format!("envs/{}/kustomization.yaml", env.name), resources)
            } else {
                let prefix = format!("{folder}/");
                let local = resources
                    .iter()
                    .map(|r| r.strip_prefix(&prefix).unwrap_or(r).to_string())
                    .collect();
                (format!("envs/{}/{folder}/kustomization.yaml", env.name), local)
            };
            let k = json!({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": resources,
            });
            files.insert(path, format!("{head}{}", to_yaml(&k)).into_bytes());
        }
        if let Some(g) = &plan.gitops {
            let docs = gitops_objects(plan, env, g);
            for doc in &docs {
                for v in crate::validate::validate(&plan.kubernetes, doc).unwrap_or_default() {
                    let kind = doc["kind"].as_str().unwrap_or_default();
                    diags.push(
                        Diagnostic::error(
                            Code::InvalidObject,
                            format!("the {kind} for environment `{}` is invalid: {v}", env.name),
                        )
                        .at(crate::source::Path::of(&["gitops"]))
                        .help("this is a bug in mlship unless a gitops field is wrong; please report it with the spec"),
                    );
                }
            }
            diags.extend(leaks::gitops(plan, env, &docs));
            let text: Vec<String> = docs.iter().map(to_yaml).collect();
            files.insert(
                format!("gitops/{}.yaml", env.name),
                format!("{head}{}", text.join("---\n")).into_bytes(),
            );
        }
    }
    diags.extend(post::unused_waivers(plan, &used_waivers));
    if diags.iter().any(crate::diag::Diagnostic::is_error) {
        return Err(diags);
    }
    let mut lock = json!({
        "format": 1,
        "project": plan.project,
        "kubernetes": plan.kubernetes,
        "engine": engine.map(|e| match e { Engine::Argocd => "argocd", Engine::Flux => "flux" }),
        "environments": names,
        "production": production,
        "spec_sha256": spec_hash,
        "files": {},
    });
    lock_files(&mut lock, &files);
    let mut out = Output { files };
    out.set_lock(&lock);
    Ok((out, diags))
}

fn lock_files(lock: &mut serde_json::Value, files: &BTreeMap<String, Vec<u8>>) {
    lock["files"] = files
        .iter()
        .filter(|(k, _)| *k != LOCK_FILE)
        .map(|(k, v)| (k.clone(), json!(names::sha256(v))))
        .collect();
}

/// The environment a file belongs to, if any (`envs/<env>/...` or `gitops/<env>.yaml`).
pub fn env_of(rel: &str) -> Option<&str> {
    rel.strip_prefix("envs/")
        .and_then(|r| r.split('/').next())
        .or_else(|| rel.strip_prefix("gitops/").and_then(|r| r.strip_suffix(".yaml")))
}

impl Output {
    fn set_lock(&mut self, lock: &serde_json::Value) {
        let mut text = serde_json::to_string_pretty(lock).expect("lock serializes");
        text.push('\n');
        self.files.insert(LOCK_FILE.to_string(), text.into_bytes());
    }

    /// Keep only the environments in `only`; the files of the others are taken as they are
    /// on disk (`previous`: what the last build wrote), so a partial build leaves them alone.
    pub fn restrict(&mut self, only: &[String], previous: &BTreeMap<String, Vec<u8>>) {
        let other = |rel: &str| env_of(rel).is_some_and(|e| !only.iter().any(|o| o == e));
        self.files.retain(|rel, _| !other(rel));
        for (rel, bytes) in previous.iter().filter(|(rel, _)| other(rel)) {
            self.files.insert(rel.clone(), bytes.clone());
        }
        let mut lock: serde_json::Value = serde_json::from_slice(&self.files[LOCK_FILE]).expect("our own lock parses");
        lock_files(&mut lock, &self.files);
        let envs: std::collections::BTreeSet<&str> = self.files.keys().filter_map(|k| env_of(k)).collect();
        lock["environments"] = json!(envs);
        self.set_lock(&lock);
    }
}
