//! Lowering: checked specs to the plan the emitters render.
//!
//! Takes: a [`Loaded`] spec and read access to the project's files. Gives: a [`Plan`]
//! ([`crate::plan`]) with every default applied (namespace, tag, resources, probes, replicas,
//! autoscaling, disruption budgets, sync waves, Flux folders, GitOps paths), every name
//! derived, every number range-checked into the type its Kubernetes field takes, image
//! references resolved per environment, the config hash computed, and the encrypted secret
//! files read and checked. The emitters make no decisions of their own.

mod images;
mod inputs;
mod notebooks;
mod pods;
pub mod serving;
pub mod training;
mod workflows;
mod workloads;

pub use images::variant_name;

use crate::diag::{Code, Diagnostic};
use crate::load::Loaded;
use crate::names;
use crate::plan::{ClaimPlan, Cluster, ConfigPlan, EnvPlan, GitopsPlan, PipelinePlan, Plan, SecretPlan, SecretSource};
use crate::project::Project;
use crate::source::Path;
use crate::spec::{AccessMode, Engine, Gitops, PipelineEngine, SecretProvider, StoreKind};
use std::collections::BTreeMap;

/// Stdlib defaults for workloads that do not say (docs/kubernetes.md).
pub const SERVICE_CPU: &str = "250m";
pub const SERVICE_MEMORY: &str = "512Mi";
pub const STEP_CPU: &str = "1";
pub const STEP_MEMORY: &str = "2Gi";
pub const NOTEBOOK_CPU: &str = "1";
pub const NOTEBOOK_MEMORY: &str = "4Gi";
pub const NOTEBOOK_WORKSPACE: &str = "10Gi";
pub const DEFAULT_KUBERNETES: &str = "1.33";
/// The GitOps defaults: the output folder in the repository and the branch.
pub const GITOPS_PATH: &str = "deploy";
pub const GITOPS_REVISION: &str = "main";
/// How long Flux waits for a pipeline level whose steps set no timeout.
pub const LEVEL_TIMEOUT: u64 = 3600;
/// How often an ExternalSecret is refreshed from its store.
pub const SECRET_REFRESH: &str = "1h";

/// Each environment's typed spec is dropped once it is lowered: a large spec's are a few
/// hundred MB, which the plans of the environments after it would otherwise be added to.
pub fn lower(mut loaded: Loaded, project: &dyn Project) -> Result<Plan, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut envs = Vec::new();
    let mut refs = Vec::new();
    let mut variants = std::collections::BTreeSet::new();
    let engine = loaded.spec.gitops.as_ref().map(|g| g.engine);
    // Where each environment's diagnostics start: they name spec paths, which may have come
    // from the environment's override.
    let mut marks = Vec::new();
    let lock = inputs::image_lock(project, &mut diags);
    if let Some(lock) = &lock {
        images::unknown_lock_envs(lock, &loaded, &mut diags);
    }
    let env_specs = std::mem::take(&mut loaded.envs);
    let names: Vec<String> = env_specs.iter().map(|e| e.name.clone()).collect();
    let loaded = &loaded;
    for (env, name) in env_specs.into_iter().zip(&names) {
        let env = &env;
        marks.push((diags.len(), name.as_str()));
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
        let production = s
            .production
            .unwrap_or(matches!(env.name.as_str(), "prod" | "production"));
        // What the bake file tags for this environment: the built images and the notebook
        // variants used here; the image lock pins them.
        let mut built_images: BTreeMap<String, String> = s
            .images
            .iter()
            .filter(|(_, img)| img.prebuilt.is_none())
            .map(|(name, _)| {
                (
                    name.clone(),
                    format!("{}/{name}:{tag}", s.registry.trim_end_matches('/')),
                )
            })
            .collect();
        for nb in s.notebooks.values().filter(|nb| nb.environments.contains(&env.name)) {
            if let (Some(image), None) = (&nb.image, &nb.prebuilt) {
                let variant = images::variant_name(image);
                let reference = format!("{}/{variant}:{tag}", s.registry.trim_end_matches('/'));
                built_images.insert(variant, reference);
            }
        }
        let pins = lock
            .as_ref()
            .map(|l| images::pins(l, &env.name, s, &built_images, &mut diags))
            .unwrap_or_default();
        let mut images: BTreeMap<String, String> = s
            .images
            .iter()
            .map(|(name, img)| {
                // A prebuilt image keeps its own version; a built one takes the environment's tag.
                let base = match &img.prebuilt {
                    Some(reference) => reference.clone(),
                    None => format!("{}/{name}:{tag}", s.registry.trim_end_matches('/')),
                };
                let r = match &img.digest {
                    Some(d) => format!("{base}@{d}"),
                    None => base,
                };
                (name.clone(), r)
            })
            .collect();
        // Notebooks that exist here, and their images: a project image's notebook variant
        // (`<image>-jupyterlab`, with the environment's tag), or the prebuilt reference.
        let here: Vec<&String> = s
            .notebooks
            .iter()
            .filter(|(_, nb)| nb.environments.contains(&env.name))
            .map(|(name, _)| name)
            .collect();
        let mut notebook_images = BTreeMap::new();
        for name in &here {
            let nb = &s.notebooks[*name];
            let reference = match (&nb.image, &nb.prebuilt) {
                (Some(image), _) => {
                    variants.insert(image.clone());
                    let variant = images::variant_name(image);
                    match pins.get(&variant) {
                        Some(pin) => pin.clone(),
                        None => format!("{}/{variant}:{tag}", s.registry.trim_end_matches('/')),
                    }
                }
                (None, Some(prebuilt)) => prebuilt.clone(),
                (None, None) => continue,
            };
            notebook_images.insert(notebooks::image_key(name), reference);
        }
        let config = (!s.config.is_empty()).then(|| {
            let body = serde_json::to_vec(&s.config).expect("map serializes");
            ConfigPlan {
                name: format!("{}-config-{}", s.project, names::short_hash(&body)),
                data: s.config.clone(),
            }
        });
        let files = inputs::config_files(s, project, &mut diags);
        let mut secrets = BTreeMap::new();
        for (name, sec) in &s.secrets {
            let at = Path::of(&["secrets", name]);
            let plan = match (sec.provider, &sec.file) {
                (SecretProvider::Existing, _) => SecretPlan {
                    secret_name: sec.name.clone().unwrap_or_default(),
                    source: SecretSource::Existing,
                },
                (SecretProvider::ExternalSecrets, _) | (_, None) => SecretPlan {
                    secret_name: names::workload(&s.project, name),
                    source: SecretSource::External {
                        store: sec.store.clone().unwrap_or_default(),
                        store_kind: format!("{:?}", sec.store_kind.unwrap_or(StoreKind::ClusterSecretStore)),
                        refresh: SECRET_REFRESH.to_string(),
                        keys: sec
                            .keys
                            .iter()
                            .map(|(var, reference)| match reference.split_once('#') {
                                Some((k, p)) => (var.clone(), k.to_string(), Some(p.to_string())),
                                None => (var.clone(), reference.clone(), None),
                            })
                            .collect(),
                    },
                },
                (provider, Some(file)) => match inputs::read_encrypted(project, file, provider, &namespace) {
                    Ok((secret_name, manifest)) => SecretPlan {
                        secret_name,
                        source: SecretSource::Encrypted {
                            manifest,
                            sops: provider == SecretProvider::Sops,
                        },
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
        // Only the shared claims are objects; the others are volumes of the pods.
        let claims = s
            .volumes
            .iter()
            .filter(|(_, vol)| vol.claim.is_none() && vol.csi.is_none() && !vol.per_pod)
            .filter_map(|(name, vol)| {
                Some(ClaimPlan {
                    name: names::workload(&s.project, name),
                    access_mode: format!("{:?}", vol.access.unwrap_or(AccessMode::ReadWriteOnce)),
                    size: workloads::canonical_size(vol.size.as_ref()?),
                    storage_class: vol.storage_class.clone(),
                })
            })
            .collect();
        // The bake file tags what the environments name; the lock pins what they deploy.
        refs.push(images.clone());
        for (name, pin) in &pins {
            if let Some(r) = images.get_mut(name) {
                r.clone_from(pin);
            }
        }
        images.extend(notebook_images);
        let mut cx = workloads::Cx {
            spec: s,
            env: &env.name,
            images: &images,
            config: config.as_ref(),
            secrets: &secrets,
            files: &files,
            engine,
            diags: &mut diags,
        };
        let services = s.services.keys().map(|name| cx.service(name)).collect();
        let pipelines = s
            .pipelines
            .iter()
            .map(|(name, p)| PipelinePlan {
                name: name.clone(),
                account_annotations: p
                    .service_account
                    .as_ref()
                    .map(|a| a.annotations.clone())
                    .unwrap_or_default(),
                cron: p
                    .schedule
                    .as_ref()
                    .filter(|_| s.engine_of(p) == PipelineEngine::Jobs)
                    .map(|schedule| cx.cron(name, schedule)),
                token: s.engine_of(p) == PipelineEngine::ArgoWorkflows,
            })
            .collect();
        let workflows = s
            .pipelines
            .iter()
            .filter(|(_, p)| s.engine_of(p) == PipelineEngine::ArgoWorkflows)
            .map(|(name, _)| cx.workflow(name))
            .collect();
        let (steps, level_timeouts) = cx.steps();
        let notebooks = here.iter().map(|name| cx.notebook(name, &namespace)).collect();
        let cluster = s.cluster.as_ref().map(|c| match c.starts_with("https://") {
            true => Cluster::Server(c.clone()),
            false => Cluster::Name(c.clone()),
        });
        let at_cluster = match loaded.spec.environments.get(&env.name) {
            Some(e) if e.cluster.is_some() => at_env.key("cluster"),
            _ => Path::of(&["cluster"]),
        };
        match (&cluster, engine) {
            (Some(Cluster::Server(url)), Some(Engine::Flux)) => diags.push(
                Diagnostic::error(
                    Code::BadValue,
                    format!("Flux reaches another cluster through a kubeconfig Secret, not the URL `{url}`"),
                )
                .at(at_cluster)
                .help("name the cluster, such as cluster: prod-eu, and create the Secret `prod-eu-kubeconfig` (key `value`) in the Flux namespace"),
            ),
            (Some(Cluster::Name(n)), Some(Engine::Flux)) if !names::is_dns_label(n) => diags.push(
                Diagnostic::error(Code::InvalidName, format!("cluster name `{n}` is not a DNS label"))
                    .at(at_cluster)
                    .help(format!("Flux reads its kubeconfig from the Secret `<cluster>-kubeconfig`; use a name such as {}", names::suggest(n))),
            ),
            (Some(Cluster::Name(n)), _) if n.trim().is_empty() => diags.push(
                Diagnostic::error(Code::BadValue, "the cluster name is empty".to_string())
                    .at(at_cluster)
                    .help("name the cluster as Argo CD knows it, or give its API server URL (https://...)"),
            ),
            _ => {}
        }
        envs.push(EnvPlan {
            name: env.name.clone(),
            project: s.project.clone(),
            namespace,
            cluster,
            config,
            files: files.into_values().collect(),
            secrets: secrets.into_values().collect(),
            claims,
            services,
            pipelines,
            steps,
            level_timeouts,
            workflows,
            notebooks,
            production,
            built_images,
        });
    }
    marks.push((diags.len(), ""));
    // Two environments in one namespace of one cluster would deploy the same objects through
    // two GitOps applications, which then fight over them.
    for (i, a) in envs.iter().enumerate() {
        if let Some(b) = envs[..i]
            .iter()
            .find(|b| b.namespace == a.namespace && cluster_key(&b.cluster) == cluster_key(&a.cluster))
        {
            let at = Path::of(&["environments", &a.name]);
            let set = loaded
                .spec
                .environments
                .get(&a.name)
                .is_some_and(|e| e.namespace.is_some());
            diags.push(
                Diagnostic::error(
                    Code::Conflict,
                    format!(
                        "environments `{}` and `{}` both deploy to namespace `{}`",
                        b.name, a.name, a.namespace
                    ),
                )
                .at(if set { at.key("namespace") } else { at })
                .help(format!(
                    "give `{}` a namespace of its own, such as namespace: {}-{}, or, if it deploys to another cluster, name it with `cluster:`",
                    a.name, a.namespace, a.name
                )),
            );
        }
    }
    // Images are built once and promoted: an environment chooses only which build it runs
    // (for a prebuilt image, which version).
    let base_prebuilt = |image: &str| loaded.spec.images.get(image).is_some_and(|i| i.prebuilt.is_some());
    for (env, over) in &loaded.spec.environments {
        for (image, fields) in over.images.iter().flatten() {
            for key in fields
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys())
                .filter(|k| *k != "digest" && !(*k == "prebuilt" && base_prebuilt(image)))
            {
                let help = if key == "env" {
                    "set runtime variables in the `env` of the services and steps that run the image, in this environment's `services` or `pipelines`".to_string()
                } else {
                    format!("change `{key}` in `images.{image}` for every environment, or declare a second image")
                };
                diags.push(
                    Diagnostic::error(
                        Code::UnknownOverride,
                        format!(
                            "image `{image}` is built once for every environment; environment `{env}` cannot change its `{key}`"
                        ),
                    )
                    .at(Path::of(&["environments", env, "images", image]).key(key))
                    .help(help),
                );
            }
        }
    }
    // A notebook names the environments it exists in; one that does not exist is a typo that
    // would leave the notebook nowhere.
    for (name, nb) in &loaded.spec.notebooks {
        for (i, env) in nb.environments.iter().enumerate() {
            if !names.contains(env) {
                let known: Vec<&str> = names.iter().map(String::as_str).collect();
                let help = match crate::schema_common::closest(env, known.iter().copied()) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => format!("the environments are {}", known.join(", ")),
                };
                diags.push(
                    Diagnostic::error(
                        Code::UnresolvedReference,
                        format!("notebook `{name}` names environment `{env}`, which is not declared"),
                    )
                    .at(Path::of(&["notebooks", name, "environments"]).index(i))
                    .help(help),
                );
            }
        }
    }
    if !loaded.spec.environments.is_empty() {
        for w in marks.windows(2) {
            for d in &mut diags[w[0].0..w[1].0] {
                in_environment(d, w[0].1);
            }
        }
    }
    for (i, p) in loaded.spec.patches.iter().enumerate() {
        for (j, name) in p.environments.iter().enumerate() {
            if !names.contains(name) {
                let known: Vec<&str> = names.iter().map(String::as_str).collect();
                let help = match crate::schema_common::closest(name, known.iter().copied()) {
                    Some(n) => format!("did you mean `{n}`?"),
                    None => format!("the environments are {}", known.join(", ")),
                };
                diags.push(
                    Diagnostic::error(
                        Code::UnresolvedReference,
                        format!(
                            "the patch names environment `{name}`, which does not exist, so it would apply nowhere"
                        ),
                    )
                    .at(Path::of(&["patches"]).index(i).key("environments").index(j))
                    .help(help),
                );
            }
        }
    }
    let mut images = images::images(&loaded.spec, &refs, project, &mut diags);
    let built: Vec<crate::plan::ImagePlan> = images
        .iter()
        .filter(|i| variants.contains(&i.name))
        .map(images::variant)
        .collect();
    images.extend(built);
    let kubernetes = loaded
        .spec
        .kubernetes
        .clone()
        .unwrap_or_else(|| DEFAULT_KUBERNETES.to_string());
    let crds = inputs::crds(&loaded.spec, &kubernetes, project, &mut diags);
    let manifests = inputs::manifests(&loaded.spec, &kubernetes, &crds, project, &mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok(Plan {
        project: loaded.spec.project.clone(),
        kubernetes,
        gitops: loaded.spec.gitops.as_ref().map(gitops),
        images,
        envs,
        manifests,
        crds: std::sync::Arc::new(crds),
        patches: loaded.spec.patches.clone(),
        waivers: loaded.spec.waivers.clone(),
        warnings: diags,
    })
}

/// A cluster as the GitOps engine reaches it: its own cluster however it is spelled (no
/// `cluster`, the in-cluster API server URL, or Argo CD's name for it, `in-cluster`), an API
/// server URL without its trailing slash, or a name.
fn cluster_key(c: &Option<Cluster>) -> Option<String> {
    match c {
        None => None,
        Some(Cluster::Server(url)) => {
            let url = url.trim_end_matches('/').to_ascii_lowercase();
            let host = url.strip_suffix(":443").unwrap_or(&url);
            let home = [
                "https://kubernetes.default.svc",
                "https://kubernetes.default.svc.cluster.local",
            ];
            (!home.contains(&host)).then(|| host.to_string())
        }
        Some(Cluster::Name(n)) => (n != "in-cluster").then(|| format!("name:{n}")),
    }
}

/// Marks a diagnostic of an environment's merged spec with the environment, so that it can
/// be located in that environment's override when the value came from there
/// ([`crate::load::locate`] falls back to the base spec).
fn in_environment(d: &mut Diagnostic, env: &str) {
    if let Some(path) = &mut d.path
        && d.span.is_none()
        && !matches!(path.0.first(), Some(crate::source::Seg::Key(k)) if k == "environments")
    {
        let mut full = Path::of(&["environments", env]);
        full.0.append(&mut path.0);
        *path = full;
    }
}

fn gitops(g: &Gitops) -> GitopsPlan {
    GitopsPlan {
        engine: g.engine,
        repo: g.repo.clone(),
        root: g.path.as_deref().unwrap_or(GITOPS_PATH).trim_matches('/').to_string(),
        revision: g.revision.clone().unwrap_or_else(|| GITOPS_REVISION.into()),
        namespace: gitops_namespace(g),
        fetch_interval: "1m".into(),
        sync_interval: "10m".into(),
        ready_timeout: "5m".into(),
        retry: (5, "10s".into(), 2, "3m".into()),
    }
}

/// The GitOps engine's namespace.
pub fn gitops_namespace(g: &Gitops) -> String {
    g.namespace.clone().unwrap_or_else(|| match g.engine {
        Engine::Argocd => "argocd".into(),
        Engine::Flux => "flux-system".into(),
    })
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

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use crate::project::MemProject;

    fn lower_yaml(extra: &str) -> Result<Plan, Vec<Diagnostic>> {
        let yaml = format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: fastapi}}\n{extra}"
        );
        let (_, loaded, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        let loaded = loaded.unwrap_or_else(|| panic!("{diags:?}"));
        lower(loaded, &MemProject::default())
    }

    #[test]
    fn autoscale_max_past_i32_is_a_located_error_not_a_wrapped_number() {
        let diags = lower_yaml("services:\n  web: {image: app, port: 8080, autoscale: {min: 1, max: 3000000000}}\n")
            .expect_err("3000000000 does not fit maxReplicas");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, Code::Range);
        assert_eq!(
            diags[0].path.as_ref().map(ToString::to_string).as_deref(),
            Some("services.web.autoscale.max")
        );
        assert!(diags[0].message.contains("3000000000"));
    }

    #[test]
    fn a_project_stack_outside_the_matrix_is_a_located_error_not_a_panic() {
        for (stack, expect) in [
            (
                "python: {default: \"3.99\", supported: [\"3.99\"]}\ncommand: [python]\n",
                "no base image for Python 3.99",
            ),
            (
                "python: {default: \"3.11\", supported: [\"3.11\"]}\nframework: {name: jax, version: \"0.4\"}\ncommand: [python]\n",
                "framework `jax`, which the stdlib matrix does not have",
            ),
        ] {
            let yaml = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nstdlib: lib\nimages:\n  app: {stack: mine}\n";
            let (_, loaded, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
            let loaded = loaded.unwrap_or_else(|| panic!("{diags:?}"));
            let project = MemProject(
                [(
                    "lib/stacks/mine.yaml".to_string(),
                    format!("description: mine\n{stack}").into_bytes(),
                )]
                .into(),
            );
            let diags = lower(loaded, &project).expect_err("outside the matrix");
            assert!(diags.iter().any(|d| d.message.contains(expect)), "{diags:?}");
        }
    }

    /// Issue 15: `cluster: https://kubernetes.default.svc` is the engine's own cluster, as no
    /// `cluster` is, so two environments spelled so in one namespace fought over the objects.
    #[test]
    fn the_engines_own_cluster_is_one_cluster_however_it_is_spelled() {
        for staging in [
            "{cluster: https://kubernetes.default.svc}",
            "{cluster: \"https://kubernetes.default.svc/\"}",
            "{cluster: in-cluster}",
        ] {
            let envs = format!("environments:\n  staging: {staging}\n  prod: {{namespace: p}}\n");
            let diags = lower_yaml(&envs).expect_err(staging);
            assert!(
                diags.iter().any(|d| d.message.contains("both deploy to namespace `p`")),
                "{staging}: {diags:?}"
            );
        }
        let other = "environments:\n  staging: {cluster: https://staging.example.com}\n  prod: {namespace: p}\n";
        assert!(lower_yaml(other).is_ok());
    }

    #[test]
    fn a_scheduled_pipelines_one_pod_has_one_priority_and_runtime_class() {
        let steps = |b: &str| {
            format!(
                "pipelines:\n  p:\n    schedule: \"0 3 * * *\"\n    steps:\n      \
                 a: {{image: app, run: [x], runtime_class: gvisor}}\n      b: {{image: app, run: [y], needs: [a]{b}}}\n"
            )
        };
        assert!(lower_yaml(&steps(", runtime_class: gvisor")).is_ok());
        assert!(lower_yaml(&steps("")).is_ok());
        let diags = lower_yaml(&steps(", runtime_class: nvidia")).expect_err("two classes, one pod");
        assert_eq!(
            diags[0].path.as_ref().map(ToString::to_string).as_deref(),
            Some("pipelines.p.steps.b.runtime_class"),
            "{diags:?}"
        );
    }

    #[test]
    fn a_configuration_file_leaves_room_in_argo_cds_annotation() {
        let yaml = |engine: &str| {
            format!(
                "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\n\
                 files:\n  big: {{path: /etc/big.txt, from: big.txt}}\n\
                 gitops: {{engine: {engine}, repo: https://git.example.com/p.git}}\n"
            )
        };
        let project = MemProject([("big.txt".to_string(), vec![b'a'; 300 << 10])].into());
        let lowered = |engine: &str| {
            let (_, loaded, diags) = crate::load::load("mlship.yaml", yaml(engine).as_bytes());
            lower(loaded.unwrap_or_else(|| panic!("{diags:?}")), &project)
        };
        assert!(lowered("flux").is_ok(), "Flux applies server-side: 1 MiB");
        let diags = lowered("argocd").expect_err("past 240 KiB");
        assert_eq!(diags[0].code, Code::Range, "{diags:?}");
    }

    /// Issue 15: a number out of range that an environment sets was underlined in the base
    /// spec (or over the whole service when the base did not set it).
    #[test]
    fn a_range_error_of_an_override_points_at_the_override() {
        let yaml = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {stack: python}\n\
                    services:\n  web:\n    image: app\n    port: 8080\n    autoscale: {min: 1, max: 5}\n\
                    environments:\n  dev: {}\n  prod:\n    namespace: p-prod\n    services:\n      web:\n        \
                    autoscale: {max: 3000000000}\n        health: {period: 2147483648}\n";
        let c = crate::compile("mlship.yaml", yaml.as_bytes(), &MemProject::default());
        assert!(c.output.is_none());
        let at: Vec<(usize, String)> = c
            .diagnostics
            .iter()
            .map(|d| {
                let (line, _) = c.file.line_col(d.span.expect("located").start);
                (line, d.path.as_ref().map(ToString::to_string).unwrap_or_default())
            })
            .collect();
        assert_eq!(
            at,
            [
                (18, "environments.prod.services.web.autoscale.max".to_string()),
                (19, "environments.prod.services.web.health.period".to_string()),
            ]
        );
        // A bad value of the base spec is reported once, at the base, for every environment.
        let base = yaml
            .replace("max: 5}", "max: 4000000000}")
            .replace("max: 3000000000", "max: 4");
        let c = crate::compile("mlship.yaml", base.as_bytes(), &MemProject::default());
        let lines: Vec<usize> = c
            .diagnostics
            .iter()
            .filter(|d| d.message.contains("4000000000"))
            .map(|d| c.file.line_col(d.span.unwrap().start).0)
            .collect();
        assert_eq!(lines, [11], "{:?}", c.diagnostics);
    }

    #[test]
    fn a_configuration_file_read_from_the_project_is_checked_for_credentials() {
        let yaml = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\n\
                    files:\n  app: {path: /etc/app/app.ini, from: app.ini}\n";
        let (_, loaded, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        let loaded = loaded.unwrap_or_else(|| panic!("{diags:?}"));
        let with = |text: &str| MemProject([("app.ini".to_string(), text.as_bytes().to_vec())].into());
        assert!(lower(loaded.clone(), &with("[db]\nhost = db.internal\n")).is_ok());
        let diags = lower(loaded, &with("[db]\nurl = postgres://app:s3cr3t-pass@db/app\n")).expect_err("a password");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, Code::Credential);
        assert_eq!(
            diags[0].path.as_ref().map(ToString::to_string).as_deref(),
            Some("files.app.from")
        );
        assert!(
            diags[0]
                .message
                .starts_with("`app.ini` looks like it holds a credential"),
            "{diags:?}"
        );
    }

    #[test]
    fn extra_manifest_names_that_would_become_paths_are_refused() {
        for bad in ["a/b", "../../x", "Upper"] {
            let yaml = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nmanifests: [extra.yaml]\n";
            let extra = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"{bad}\"\n");
            let (_, loaded, _) = crate::load::load("mlship.yaml", yaml.as_bytes());
            let project = MemProject([("extra.yaml".to_string(), extra.into_bytes())].into());
            let diags = lower(loaded.expect("loads"), &project).expect_err(bad);
            assert_eq!(diags[0].code, Code::InvalidName, "{diags:?}");
            assert!(
                diags[0].message.starts_with("extra.yaml:4:9: metadata.name"),
                "{diags:?}"
            );
        }
    }

    #[test]
    fn two_environments_in_one_namespace_are_a_located_error() {
        let diags =
            lower_yaml("namespace: shop\nenvironments:\n  prod: {}\n  staging: {}\n").expect_err("one namespace");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, Code::Conflict);
        assert_eq!(
            diags[0].path.as_ref().map(ToString::to_string).as_deref(),
            Some("environments.staging")
        );
        lower_yaml("namespace: shop\nenvironments:\n  prod: {}\n  staging: {namespace: shop-staging}\n")
            .expect("own namespaces");
    }

    #[test]
    fn environments_on_different_clusters_may_share_a_namespace() {
        let gitops = |engine: &str| format!("gitops: {{engine: {engine}, repo: https://git.example.com/p.git}}\n");
        let envs = "namespace: shop\nenvironments:\n  prod: {}\n  prod-eu: {cluster: eu-west}\n";
        let plan = lower_yaml(&format!("{envs}{}", gitops("argocd"))).expect("two clusters");
        assert_eq!(plan.envs[1].cluster, Some(Cluster::Name("eu-west".into())));
        lower_yaml(&format!("{envs}{}", gitops("flux"))).expect("a named cluster with Flux");
        let url = "namespace: shop\nenvironments:\n  prod: {}\n  prod-eu: {cluster: \"https://eu.example.com:6443\"}\n";
        let plan = lower_yaml(&format!("{url}{}", gitops("argocd"))).expect("a server URL with Argo CD");
        assert_eq!(
            plan.envs[1].cluster,
            Some(Cluster::Server("https://eu.example.com:6443".into()))
        );
        let diags = lower_yaml(&format!("{url}{}", gitops("flux"))).expect_err("Flux needs a name");
        assert_eq!(
            diags[0].path.as_ref().map(ToString::to_string).as_deref(),
            Some("environments.prod-eu.cluster")
        );
        let same = "namespace: shop\nenvironments:\n  prod: {cluster: eu-west}\n  staging: {cluster: eu-west}\n";
        let diags = lower_yaml(same).expect_err("one namespace of one cluster");
        assert_eq!(diags[0].code, Code::Conflict, "{diags:?}");
    }

    #[test]
    fn gpu_workloads_get_a_memory_backed_shm_and_scratch_folders_their_size() {
        let yaml = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\n\
             images:\n  gpu: {stack: pytorch, cuda: \"12.4\"}\n  app: {stack: fastapi}\n\
             services:\n  web: {image: app, port: 8080, memory: 1Gi, memory_limit: 3Gi, ephemeral_storage: 10Gi,\n\
             \x20   scratch: {/cache: {size: 5Gi}, /fast: {size: 512Mi, memory: true}}}\n\
             \x20 llm: {image: gpu, port: 8000, gpu: 1, memory: 24Gi}\n\
             \x20 lean: {image: gpu, port: 8000, gpu: 1, shm: false}\n\
             \x20 sized: {image: app, port: 8080, shm: 2Gi}\n";
        let (_, loaded, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        let plan = lower(loaded.unwrap_or_else(|| panic!("{diags:?}")), &MemProject::default()).expect("lowers");
        let svc = |n: &str| {
            plan.envs[0]
                .services
                .iter()
                .find(|s| s.name == n)
                .unwrap()
                .template
                .pod
                .clone()
        };
        let shm = |pod: &crate::plan::PodPlan| pod.volumes.iter().find(|v| v.name == "shm").map(|v| v.source.clone());
        let mem = |size: &str| {
            Some(crate::plan::VolumeSource::EmptyDir {
                memory: true,
                size: Some(size.into()),
            })
        };
        assert_eq!(shm(&svc("llm")), mem("12Gi"), "half the memory limit");
        assert!(svc("llm").containers[0].mounts.iter().any(|m| m.path == "/dev/shm"));
        assert_eq!(shm(&svc("lean")), None);
        assert_eq!(shm(&svc("sized")), mem("2Gi"));
        let web = svc("web");
        assert_eq!(shm(&web), None, "no GPU, no shm");
        let c = &web.containers[0];
        assert_eq!(
            (c.requests["memory"].as_str(), c.limits["memory"].as_str()),
            ("1Gi", "3Gi")
        );
        assert_eq!(c.requests["ephemeral-storage"], "10Gi");
        let scratch: Vec<_> = web.volumes.iter().filter(|v| v.name.starts_with("scratch-")).collect();
        assert_eq!(scratch.len(), 2);
        assert!(scratch.iter().any(|v| v.source
            == crate::plan::VolumeSource::EmptyDir {
                memory: false,
                size: Some("5Gi".into())
            }));
        assert!(c.mounts.iter().any(|m| m.path == "/fast"));
    }

    #[test]
    fn lowering_applies_every_service_default() {
        let plan = lower_yaml("services:\n  web: {image: app, port: 8080}\n").expect("lowers");
        let svc = &plan.envs[0].services[0];
        assert_eq!(svc.replicas, Some(1));
        assert_eq!(svc.full_name, "p-web");
        assert_eq!(svc.service_port, 8080);
        assert!(svc.disruption_budget.is_none() && svc.autoscale.is_none());
        let c = &svc.template.pod.containers[0];
        let live = c.liveness.as_ref().expect("a liveness probe");
        let http = crate::plan::ProbeCheck::Http {
            path: pods::HEALTH_PATH.into(),
            port: "http".into(),
        };
        assert_eq!((&live.check, live.initial_delay), (&http, 10));
        assert!(
            c.startup.is_none(),
            "a service without GPUs gets no startup probe by default"
        );
        assert_eq!(c.requests["cpu"], SERVICE_CPU);
        assert_eq!(c.image, "r.io/p/app:1");
    }

    #[test]
    fn the_image_lock_pins_what_an_environment_builds_and_refuses_what_does_not_fit() {
        let spec = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\nimages:\n  app: {stack: fastapi}\n  \
            llm: {prebuilt: \"vllm/vllm-openai:v0.9.0\"}\nservices:\n  web: {image: app, port: 8080}\n\
            environments:\n  dev: {tag: dev, namespace: p-dev}\n  prod: {tag: \"1\"}\n";
        let digest = format!("sha256:{}", "a".repeat(64));
        let lower_with = |lock: String| {
            let (_, loaded, diags) = crate::load::load("mlship.yaml", spec.as_bytes());
            let loaded = loaded.unwrap_or_else(|| panic!("{diags:?}"));
            let project = MemProject([(crate::imagelock::FILE.to_string(), lock.into_bytes())].into());
            lower(loaded, &project)
        };
        let image = |plan: &Plan, env: &str| {
            let env = plan.envs.iter().find(|e| e.name == env).unwrap();
            env.services[0].template.pod.containers[0].image.clone()
        };
        // A pin of prod's build: prod runs it; dev keeps its tag; unknown names only warn.
        let plan = lower_with(format!(
            "version: 1\nenvironments:\n  prod:\n    app: r.io/p/app:dev@{digest}\n    llm: vllm/vllm-openai:v0.9.0@{digest}\n  qa:\n    app: r.io/p/app:qa@{digest}\n"
        ))
        .unwrap();
        assert_eq!(image(&plan, "prod"), format!("r.io/p/app:dev@{digest}"));
        assert_eq!(image(&plan, "dev"), "r.io/p/app:dev");
        assert!(plan.envs.iter().find(|e| e.name == "prod").unwrap().production);
        assert!(!plan.envs.iter().find(|e| e.name == "dev").unwrap().production);
        let warnings: Vec<&str> = plan.warnings.iter().map(|d| d.message.as_str()).collect();
        assert!(
            warnings
                .iter()
                .any(|m| m.contains("pins `llm`, which is a prebuilt image")),
            "{warnings:?}"
        );
        assert!(
            warnings
                .iter()
                .any(|m| m.starts_with("images.lock.yaml:7:") && m.contains("environment `qa`")),
            "{warnings:?}"
        );
        // A build of another repository is refused, at its line in the lock.
        let diags = lower_with(format!(
            "version: 1\nenvironments:\n  prod:\n    app: ghcr.io/x/app:1@{digest}\n"
        ))
        .unwrap_err();
        assert!(
            diags.iter().any(|d| d.code == Code::Lock
                && d.message.starts_with("images.lock.yaml:4:")
                && d.message
                    .contains("a build of `ghcr.io/x/app`, but deploys it from `r.io/p/app`")),
            "{diags:?}"
        );
        // A broken lock is a located error, not a silent tag.
        let diags = lower_with("version: 1\nenvironments:\n  prod:\n    app: r.io/p/app:1\n".to_string()).unwrap_err();
        assert!(
            diags
                .iter()
                .any(|d| d.code == Code::Lock && d.message.starts_with("images.lock.yaml:4:")),
            "{diags:?}"
        );
    }
}
