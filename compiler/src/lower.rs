//! Lowering: checked specs to the plan the emitters render.
//!
//! Takes: a [`Loaded`] spec and read access to the project's files. Gives: a [`Plan`] with
//! every default applied (namespace, tag, resources, probes), image references resolved per
//! environment, the config hash computed, pipeline steps in dependency levels, and the
//! encrypted secret files read and checked. The emitters make no decisions of their own.

use crate::diag::{Code, Diagnostic};
use crate::load::Loaded;
use crate::names;
use crate::source::Path;
use crate::spec::{Engine, Gitops, Resources, SecretProvider, Spec};
use crate::syntax;
use crate::tree::{Node, Value};
use crate::units::Quantity;
use std::collections::BTreeMap;

/// Read access to files next to the spec. Paths are relative and already checked.
pub trait Project {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>>;
}

/// Files held in memory, for tests and the fuzzers.
#[derive(Default)]
pub struct MemProject(pub BTreeMap<String, Vec<u8>>);

impl Project for MemProject {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        self.0
            .get(rel)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "not found"))
    }
}

/// Stdlib defaults for workloads that do not say (docs/kubernetes.md).
pub const SERVICE_CPU: &str = "250m";
pub const SERVICE_MEMORY: &str = "512Mi";
pub const STEP_CPU: &str = "1";
pub const STEP_MEMORY: &str = "2Gi";
pub const DEFAULT_KUBERNETES: &str = "1.33";
/// The UID and GID every container runs as; the Dockerfiles create this user.
pub const RUN_AS: i64 = 10001;

#[derive(Debug, Clone)]
pub struct Plan {
    pub project: String,
    pub kubernetes: String,
    pub gitops: Option<Gitops>,
    pub envs: Vec<EnvPlan>,
}

#[derive(Debug, Clone)]
pub struct EnvPlan {
    pub name: String,
    pub namespace: String,
    pub spec: Spec,
    /// Image name to full reference (`registry/name:tag` or `@sha256:...`).
    pub images: BTreeMap<String, String>,
    /// The ConfigMap's content-hashed name, when there is config.
    pub config_map: Option<String>,
    /// Secret name to the Kubernetes Secret it becomes, and passed-through manifests.
    pub secrets: BTreeMap<String, SecretPlan>,
    /// Unscheduled pipeline steps by dependency level: (pipeline, step).
    pub levels: Vec<Vec<(String, String)>>,
}

#[derive(Debug, Clone)]
pub struct SecretPlan {
    pub provider: SecretProvider,
    /// Name of the Kubernetes Secret the pods read.
    pub secret_name: String,
    /// The encrypted manifest for sealed-secrets and sops, as parsed.
    pub manifest: Option<serde_json::Value>,
}

/// Resolved compute for one container.
#[derive(Debug, Clone, PartialEq)]
pub struct Compute {
    pub cpu: String,
    pub cpu_limit: String,
    pub memory: String,
    pub gpu: Option<u32>,
}

pub fn compute(r: &Resources, cpu_default: &str, memory_default: &str) -> Compute {
    let canon = |q: Option<&crate::spec::Quantity>, d: &str| {
        let text = q.map_or_else(|| d.to_string(), crate::spec::Quantity::text);
        Quantity::parse(&text).map_or(text, |q| q.canonical())
    };
    let cpu = canon(r.cpu.as_ref(), cpu_default);
    Compute {
        cpu_limit: r
            .cpu_limit
            .as_ref()
            .map_or_else(|| cpu.clone(), |q| canon(Some(q), cpu_default)),
        cpu,
        memory: canon(r.memory.as_ref(), memory_default),
        gpu: r.gpu.filter(|g| *g > 0),
    }
}

pub fn lower(loaded: &Loaded, project: &dyn Project) -> Result<Plan, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut envs = Vec::new();
    for env in &loaded.envs {
        let at_env = Path::of(&["environments", &env.name]);
        let s = &env.spec;
        let namespace = s.namespace.clone().unwrap_or_else(|| s.project.clone());
        let Some(tag) = s.tag.clone() else {
            diags.push(
                Diagnostic::error(Code::MissingKey, format!("environment `{}` has no image tag", env.name))
                    .at(if loaded.spec.environments.is_empty() {
                        Path::root()
                    } else {
                        at_env.clone()
                    })
                    .help("set `tag:` in the environment (or at the top level), such as tag: \"1.4.2\""),
            );
            continue;
        };
        let images = s
            .images
            .iter()
            .map(|(name, img)| {
                let base = format!("{}/{name}", s.registry.trim_end_matches('/'));
                let r = match &img.digest {
                    Some(d) => format!("{base}:{tag}@{d}"),
                    None => format!("{base}:{tag}"),
                };
                (name.clone(), r)
            })
            .collect();
        let config_map = (!s.config.is_empty()).then(|| {
            let body = serde_json::to_vec(&s.config).expect("map serializes");
            format!("{}-config-{}", s.project, names::short_hash(&body))
        });
        let mut secrets = BTreeMap::new();
        for (name, sec) in &s.secrets {
            let at = Path::of(&["secrets", name]);
            let plan = match (sec.provider, &sec.file) {
                (SecretProvider::ExternalSecrets, _) | (_, None) => SecretPlan {
                    provider: sec.provider,
                    secret_name: names::workload(&s.project, name),
                    manifest: None,
                },
                (provider, Some(file)) => match read_encrypted(project, file, provider, &namespace) {
                    Ok((secret_name, manifest)) => SecretPlan {
                        provider,
                        secret_name,
                        manifest: Some(manifest),
                    },
                    Err(e) => {
                        diags.push(Diagnostic::error(Code::Io, format!("secret `{name}`: {e}")).at(at.key("file")).help(
                            "commit the encrypted file (kubeseal or sops output) for this environment's namespace; an environment can point `file` at its own copy",
                        ));
                        continue;
                    }
                },
            };
            secrets.insert(name.clone(), plan);
        }
        let levels = levels(s);
        envs.push(EnvPlan {
            name: env.name.clone(),
            namespace,
            spec: s.clone(),
            images,
            config_map,
            secrets,
            levels,
        });
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Plan {
        project: loaded.spec.project.clone(),
        kubernetes: loaded
            .spec
            .kubernetes
            .clone()
            .unwrap_or_else(|| DEFAULT_KUBERNETES.to_string()),
        gitops: loaded.spec.gitops.clone(),
        envs,
    })
}

/// Unscheduled steps grouped by depth in their pipeline's graph (0 = no `needs`).
fn levels(s: &Spec) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = Vec::new();
    for (pname, pipe) in s.pipelines.iter().filter(|(_, p)| p.schedule.is_none()) {
        for (step, depth) in depths(&pipe.steps) {
            if out.len() <= depth {
                out.resize(depth + 1, Vec::new());
            }
            out[depth].push((pname.clone(), step));
        }
    }
    out
}

/// Each step's depth: the longest chain of `needs` below it. The graph is known acyclic.
pub fn depths(steps: &BTreeMap<String, crate::spec::Step>) -> Vec<(String, usize)> {
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    while depth.len() < steps.len() {
        let before = depth.len();
        for (name, step) in steps {
            if depth.contains_key(name.as_str()) {
                continue;
            }
            if let Some(d) = step
                .needs
                .iter()
                .map(|n| depth.get(n.as_str()).copied())
                .collect::<Option<Vec<_>>>()
            {
                depth.insert(name, d.into_iter().max().map_or(0, |m| m + 1));
            }
        }
        if depth.len() == before {
            break; // unreachable for checked specs; never loop forever
        }
    }
    let mut v: Vec<(String, usize)> = depth.into_iter().map(|(k, d)| (k.to_string(), d)).collect();
    v.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    v
}

/// Read a SealedSecret or SOPS-encrypted Secret, refusing anything that carries plaintext.
fn read_encrypted(
    project: &dyn Project,
    file: &str,
    provider: SecretProvider,
    namespace: &str,
) -> Result<(String, serde_json::Value), String> {
    let bytes = project.read(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("`{file}` does not exist"),
        _ => format!("cannot read `{file}`: {}", e.kind()),
    })?;
    let src = syntax::decode(file, &bytes).map_err(|e| format!("`{file}`: {}", e.1.message))?;
    let tree = syntax::yaml::parse(&src).map_err(|d| format!("`{file}` is not valid YAML: {}", d[0].message))?;
    let kind = str_at(&tree, &["kind"]).unwrap_or_default();
    let name = str_at(&tree, &["metadata", "name"]).ok_or_else(|| format!("`{file}` has no metadata.name"))?;
    match str_at(&tree, &["metadata", "namespace"]) {
        Some(ns) if ns != namespace => {
            return Err(format!(
                "`{file}` is for namespace `{ns}`, but this environment deploys to `{namespace}`"
            ));
        }
        // SOPS signs every value (its MAC), so the file cannot be changed: it must name
        // its namespace itself.
        None if provider == SecretProvider::Sops => {
            return Err(format!(
                "`{file}` has no metadata.namespace; set it to `{namespace}` before encrypting"
            ));
        }
        _ => {}
    }
    match provider {
        SecretProvider::SealedSecrets => {
            if kind != "SealedSecret" || tree.lookup(&Path::of(&["spec", "encryptedData"])).is_none() {
                return Err(format!("`{file}` is not a SealedSecret with spec.encryptedData"));
            }
            if ["data", "stringData"].iter().any(|k| tree.get(k).is_some()) {
                return Err(format!(
                    "`{file}` carries plaintext `data`; only spec.encryptedData is allowed"
                ));
            }
        }
        SecretProvider::Sops => {
            if kind != "Secret" || tree.get("sops").is_none() {
                return Err(format!("`{file}` is not a SOPS-encrypted Secret (no `sops:` metadata)"));
            }
            for section in ["data", "stringData"] {
                for e in tree.get(section).map(Node::entries).unwrap_or_default() {
                    let encrypted =
                        matches!(&e.value.value, Value::Str(v) if v.starts_with("ENC[") && v.ends_with(']'));
                    if !encrypted {
                        return Err(format!(
                            "`{file}`: {section}.{} is not encrypted; run `sops --encrypt` on the file",
                            e.key
                        ));
                    }
                }
            }
        }
        SecretProvider::ExternalSecrets => unreachable!("external secrets have no file"),
    }
    let mut json = tree.to_json();
    if provider == SecretProvider::SealedSecrets {
        json["metadata"]["namespace"] = serde_json::Value::String(namespace.to_string());
    }
    Ok((name, json))
}

fn str_at(tree: &Node, keys: &[&str]) -> Option<String> {
    match &tree.lookup(&Path::of(keys))?.value {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    }
}

/// The GitOps engine's namespace.
pub fn gitops_namespace(g: &Gitops) -> String {
    g.namespace.clone().unwrap_or_else(|| match g.engine {
        Engine::Argocd => "argocd".into(),
        Engine::Flux => "flux-system".into(),
    })
}
