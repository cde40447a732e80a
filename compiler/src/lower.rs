//! Lowering: checked specs to the plan the emitters render.
//!
//! Takes: a [`Loaded`] spec and read access to the project's files. Gives: a [`Plan`] with
//! every default applied (namespace, tag, resources, probes), image references resolved per
//! environment, the config hash computed, pipeline steps in dependency levels, and the
//! encrypted secret files read and checked. The emitters make no decisions of their own.

use crate::diag::{Code, Diagnostic};
use crate::load::Loaded;
use crate::names;
use crate::project::Project;
use crate::source::Path;
use crate::spec::{Engine, Gitops, Resources, SecretProvider, Spec};
use crate::stdlib::{self, Install, Stack};
use crate::syntax;
use crate::tree::{Node, Value};
use crate::units::Quantity;
use std::collections::BTreeMap;

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
    pub images: Vec<ImagePlan>,
    pub envs: Vec<EnvPlan>,
    /// Objects from the spec's extra manifest files, already validated.
    pub manifests: Vec<ExtraObject>,
    pub patches: Vec<crate::spec::Patch>,
    pub waivers: Vec<crate::spec::Waiver>,
}

/// One object from an extra manifest file.
#[derive(Debug, Clone)]
pub struct ExtraObject {
    /// Index in the spec's `manifests`.
    pub index: usize,
    pub file: String,
    pub line: usize,
    pub value: serde_json::Value,
}

/// One image to build: its stack resolved against the stdlib and the CUDA matrix.
#[derive(Debug, Clone)]
pub struct ImagePlan {
    pub name: String,
    pub spec: crate::spec::Image,
    pub stack_name: String,
    pub stack: Stack,
    pub python: String,
    /// How to install the framework for this image's target (CPU or CUDA), if any.
    pub framework: Option<Install>,
    pub builder: String,
    pub runtime: String,
    /// Ports and health paths of the services that run this image.
    pub serves: Vec<(u32, String)>,
    /// The project's Dockerfile templates by name: its `Dockerfile` override and this
    /// image's own template.
    pub templates: Vec<(String, String)>,
    /// Every tag the environments deploy, for the bake file.
    pub tags: Vec<String>,
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
    let images = images(&loaded.spec, &envs, project, &mut diags);
    let kubernetes = loaded
        .spec
        .kubernetes
        .clone()
        .unwrap_or_else(|| DEFAULT_KUBERNETES.to_string());
    let manifests = manifests(&loaded.spec, &kubernetes, project, &mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(Plan {
        project: loaded.spec.project.clone(),
        kubernetes,
        gitops: loaded.spec.gitops.clone(),
        images,
        envs,
        manifests,
        patches: loaded.spec.patches.clone(),
        waivers: loaded.spec.waivers.clone(),
    })
}

/// Read, split and validate the extra manifest files; problems are located in those files.
fn manifests(s: &Spec, version: &str, project: &dyn Project, diags: &mut Vec<Diagnostic>) -> Vec<ExtraObject> {
    let mut out = Vec::new();
    for (index, file) in s.manifests.iter().enumerate() {
        let at = Path::of(&["manifests"]).index(index);
        let text = match project.read(file).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                diags.push(Diagnostic::error(Code::Io, format!("`{file}` is not UTF-8")).at(at));
                continue;
            }
            Err(e) => {
                let what = if e.kind() == std::io::ErrorKind::PermissionDenied {
                    "leads outside the project"
                } else {
                    "does not exist"
                };
                diags.push(
                    Diagnostic::error(Code::Io, format!("`{file}` {what}"))
                        .at(at)
                        .help("list manifest files relative to the spec's folder"),
                );
                continue;
            }
        };
        let docs = crate::validate::validate_yaml(version, file, &text).unwrap_or_default();
        for doc in &docs {
            for p in doc.problems() {
                let v = &p.violation;
                let path = if v.path.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", v.path)
                };
                let mut d = Diagnostic::error(
                    Code::InvalidObject,
                    format!("{file}:{}:{}: {path}{}", p.line, p.column, v.message),
                )
                .at(at.clone())
                .label(format!("in this file, for Kubernetes {version}"));
                if let Some(h) = &v.help {
                    d = d.help(h.clone());
                }
                diags.push(d);
            }
        }
        for (offset, chunk) in crate::validate::split_documents(&text) {
            let sub = crate::source::SourceFile::new(file.as_str(), chunk);
            let Ok(tree) = syntax::yaml::parse(&sub) else { continue };
            let line = text[..offset].matches('\n').count() + 1;
            out.push(ExtraObject {
                index,
                file: file.clone(),
                line,
                value: tree.to_json(),
            });
        }
    }
    out
}

/// Resolve every image of the base spec against the stdlib (Dockerfiles do not vary by
/// environment; environments choose tags and digests).
fn images(s: &Spec, envs: &[EnvPlan], project: &dyn Project, diags: &mut Vec<Diagnostic>) -> Vec<ImagePlan> {
    let m = stdlib::matrix();
    let mut out = Vec::new();
    for (name, img) in &s.images {
        let at = Path::of(&["images", name]);
        let paths = img
            .requirements
            .iter()
            .map(|r| ("requirements", None, r))
            .chain(img.copy.iter().enumerate().map(|(i, c)| ("copy", Some(i), c)));
        for (key, index, rel) in paths {
            if let Err(e) = project.exists(rel) {
                let path = index.map_or_else(|| at.key(key), |i| at.key(key).index(i));
                let (code, msg) = match e.kind() {
                    std::io::ErrorKind::PermissionDenied => (
                        Code::Path,
                        format!("`{rel}` leads outside the project (through a symlink)"),
                    ),
                    _ => (Code::Io, format!("`{rel}` does not exist")),
                };
                diags.push(
                    Diagnostic::error(code, msg)
                        .at(path)
                        .help("paths are relative to the spec's folder; the Dockerfile copies them from there"),
                );
            }
        }
        let mut fail =
            |path: Path, msg: String, help: String| diags.push(Diagnostic::error(Code::Stack, msg).at(path).help(help));
        let stack = match stdlib::stack(&img.stack, s.stdlib.as_deref(), project) {
            Ok(st) => st,
            Err(e) => {
                let names = stdlib::stack_names().join(", ");
                let help = match crate::check::closest(&img.stack, stdlib::stack_names().into_iter()) {
                    Some(n) => format!("did you mean `{n}`? The stacks are {names}"),
                    None => format!(
                        "use one of {names}, or add stacks/{}.yaml to the project's `stdlib` folder",
                        img.stack
                    ),
                };
                fail(at.key("stack"), e, help);
                continue;
            }
        };
        let python = img.python.clone().unwrap_or_else(|| stack.python.default.clone());
        if !stack.python.supported.contains(&python) {
            let help = format!("use one of {}", stack.python.supported.join(", "));
            fail(
                at.key("python"),
                format!("stack `{}` does not support Python {python}", img.stack),
                help,
            );
            continue;
        }
        let Some(framework) = resolve_framework(img, &stack, &python, &at, &mut fail) else {
            continue;
        };
        let (builder, runtime) = match &img.cuda {
            Some(c) => match m.cuda_images.get(c) {
                Some(ci) => (ci.devel.clone(), ci.runtime.clone()),
                None => {
                    let help = format!(
                        "use one of {}",
                        m.cuda_images.keys().cloned().collect::<Vec<_>>().join(", ")
                    );
                    fail(
                        at.key("cuda"),
                        format!("the stdlib has no base image for CUDA {c}"),
                        help,
                    );
                    continue;
                }
            },
            None => {
                let py = m.python_images[&python].clone();
                (py.clone(), py)
            }
        };
        // Optional digest pins of the base images, on top of their tags.
        let pin = |image: String, digest: &Option<String>| match digest {
            Some(d) => format!("{image}@{d}"),
            None => image,
        };
        let (builder, runtime) = (pin(builder, &img.builder_digest), pin(runtime, &img.base_digest));
        let mut templates = Vec::new();
        let mut reads = Vec::new();
        if let Some(dir) = &s.stdlib {
            reads.push((
                "Dockerfile".to_string(),
                format!("{}/templates/Dockerfile.j2", dir.trim_end_matches('/')),
                false,
            ));
        }
        if let Some(t) = &img.template {
            reads.push((t.clone(), t.clone(), true));
        }
        for (tname, path, required) in reads {
            match project.read(&path).map(String::from_utf8) {
                Ok(Ok(text)) => templates.push((tname, text)),
                Ok(Err(_)) => fail(
                    at.key("template"),
                    format!("`{path}` is not UTF-8"),
                    "save the template as UTF-8".into(),
                ),
                Err(_) if !required => {}
                Err(_) => fail(
                    at.key("template"),
                    format!("`{path}` does not exist"),
                    "create it, or remove `template`".into(),
                ),
            }
        }
        let mut serves: Vec<(u32, String)> = s
            .services
            .values()
            .filter(|svc| svc.image == *name)
            .map(|svc| {
                (
                    svc.port,
                    svc.health
                        .as_ref()
                        .and_then(|h| h.path.clone())
                        .unwrap_or_else(|| "/healthz".into()),
                )
            })
            .collect();
        serves.sort();
        serves.dedup();
        let mut tags: Vec<String> = envs
            .iter()
            .filter_map(|e| e.images.get(name))
            .map(|r| r.split('@').next().unwrap_or(r).to_string())
            .collect();
        tags.sort();
        tags.dedup();
        out.push(ImagePlan {
            name: name.clone(),
            spec: img.clone(),
            stack_name: img.stack.clone(),
            stack,
            python,
            framework,
            builder,
            runtime,
            serves,
            templates,
            tags,
        });
    }
    out
}

/// The framework install for an image: `Some(None)` when the stack has no framework,
/// `None` after reporting a conflict with the CUDA matrix.
fn resolve_framework(
    img: &crate::spec::Image,
    stack: &Stack,
    python: &str,
    at: &Path,
    fail: &mut impl FnMut(Path, String, String),
) -> Option<Option<Install>> {
    let m = stdlib::matrix();
    let Some(f) = &stack.framework else {
        if img.framework.is_some() {
            fail(
                at.key("framework"),
                format!("stack `{}` has no framework to pin", img.stack),
                "remove `framework`".into(),
            );
            return None;
        }
        return Some(None);
    };
    let version = img.framework.clone().unwrap_or_else(|| f.version.clone());
    let releases = &m.frameworks[&f.name];
    let Some(rel) = releases.get(&version) else {
        let known: Vec<&str> = releases.keys().map(String::as_str).collect();
        fail(
            at.key("framework"),
            format!("{} {version} is not in the stdlib matrix", f.name),
            format!("use one of {}", known.join(", ")),
        );
        return None;
    };
    if !rel.python.iter().any(|p| p == python) {
        fail(
            at.key("python"),
            format!("{} {version} has no wheels for Python {python}", f.name),
            format!("use Python {}", rel.python.join(", ")),
        );
        return None;
    }
    let Some(cuda) = &img.cuda else {
        return Some(Some(rel.cpu.clone()));
    };
    if let Some(install) = rel.cuda.get(cuda) {
        return Some(Some(install.clone()));
    }
    let others: Vec<String> = releases
        .iter()
        .filter(|(v, r)| **v != version && r.cuda.contains_key(cuda) && r.python.iter().any(|p| p == python))
        .map(|(v, _)| format!("{} {v}", f.name))
        .collect();
    let mut help = format!(
        "{} {version} supports CUDA {}",
        f.name,
        rel.cuda.keys().cloned().collect::<Vec<_>>().join(", ")
    );
    if !others.is_empty() {
        help.push_str(&format!(
            "; CUDA {cuda} works with {} (set `framework:`)",
            others.join(", ")
        ));
    }
    fail(
        at.key("cuda"),
        format!("CUDA {cuda} is not available for {} {version}", f.name),
        help,
    );
    None
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
