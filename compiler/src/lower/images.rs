//! Images: each image of the base spec resolved against the stdlib and the CUDA matrix.
//!
//! Takes: the base spec, the environments' image references and the project's files. Gives:
//! one [`ImagePlan`] per image (Dockerfiles do not vary by environment; environments choose
//! tags and digests), or located diagnostics for stacks, Python, framework and CUDA conflicts
//! and missing files. Also the image lock's pins of each environment, checked against what
//! it builds.

use crate::diag::{Code, Diagnostic};
use crate::imagelock::{FILE, Lock, repository};
use crate::plan::ImagePlan;
use crate::project::Project;
use crate::source::Path;
use crate::spec::Spec;
use crate::stdlib::{self, Install, Stack};
use std::collections::BTreeMap;

/// Resolve every image of the base spec against the stdlib (Dockerfiles do not vary by
/// environment; environments choose tags and digests).
pub(super) fn images(
    s: &Spec,
    refs: &[BTreeMap<String, String>],
    project: &dyn Project,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ImagePlan> {
    let m = stdlib::matrix();
    let mut out = Vec::new();
    for (name, img) in &s.images {
        // A prebuilt image is run as it is (its reference is checked with the spec).
        let Some(stack_name) = &img.stack else { continue };
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
        let stack = match stdlib::stack(stack_name, s.stdlib.as_deref(), project) {
            Ok(st) => st,
            Err(e) => {
                let names = stdlib::stack_names().join(", ");
                let help = match crate::check::closest(stack_name, stdlib::stack_names().into_iter()) {
                    Some(n) => format!("did you mean `{n}`? The stacks are {names}"),
                    None => format!(
                        "use one of {names}, or add stacks/{}.yaml to the project's `stdlib` folder",
                        stack_name
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
                format!("stack `{stack_name}` does not support Python {python}"),
                help,
            );
            continue;
        }
        let mut unverified = Vec::new();
        let Some(framework) = resolve_framework(img, &stack, &python, &at, &mut fail, &mut unverified) else {
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
            None => match m.python_images.get(&python) {
                Some(py) => (py.clone(), py.clone()),
                None => {
                    // A project's own stack may list a Python the matrix has no image for.
                    let help = format!(
                        "use one of {}, or set `cuda:` for a standalone Python",
                        m.python_images.keys().cloned().collect::<Vec<_>>().join(", ")
                    );
                    fail(
                        at.key("python"),
                        format!("the stdlib has no base image for Python {python}"),
                        help,
                    );
                    continue;
                }
            },
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
            .iter()
            .filter(|(_, svc)| svc.image.as_ref() == Some(name))
            .map(|(service, svc)| {
                // A serving runtime's health path, where the spec gives none.
                let svc = super::serving::with_runtime(service, svc);
                (
                    svc.http_port(),
                    svc.health
                        .as_ref()
                        .and_then(|h| h.path.clone())
                        .unwrap_or_else(|| super::pods::HEALTH_PATH.into()),
                )
            })
            .collect();
        serves.sort();
        serves.dedup();
        let mut tags: Vec<String> = refs
            .iter()
            .filter_map(|r| r.get(name))
            .map(|r| r.split('@').next().unwrap_or(r).to_string())
            .collect();
        tags.sort();
        tags.dedup();
        let mut system_packages: Vec<String> = stack
            .system_packages
            .iter()
            .chain(&img.system_packages)
            .cloned()
            .collect();
        system_packages.sort_unstable();
        system_packages.dedup();
        let command = if img.command.is_empty() {
            stack.command.clone()
        } else {
            img.command.clone()
        };
        out.push(ImagePlan {
            name: name.clone(),
            notebook: None,
            stack_name: stack_name.clone(),
            python,
            cuda: img.cuda.clone(),
            framework,
            builder,
            runtime,
            system_packages,
            requirements: img.requirements.clone(),
            copy: img.copy.clone(),
            index_url: img.index_url.clone(),
            env: img.env.clone(),
            command,
            source: s.gitops.as_ref().map(|g| g.repo.clone()),
            serves,
            healthcheck: "--interval=30s --timeout=3s --start-period=60s --retries=3".into(),
            templates,
            tags,
            stack,
        });
        diags.extend(unverified);
    }
    out
}

/// The notebook variant of an image, `<image>-jupyterlab`: the same stack, dependencies, code
/// and templates, with the server installed above the dependencies and the notebook user.
pub(super) fn variant(base: &ImagePlan) -> ImagePlan {
    let server = &stdlib::notebook_servers()["jupyterlab"];
    let name = variant_name(&base.name);
    let tags = base
        .tags
        .iter()
        .map(|t| match t.rsplit_once(':') {
            Some((repo, tag)) => format!("{}/{name}:{tag}", repo.rsplit_once('/').map_or("", |(r, _)| r)),
            None => t.clone(),
        })
        .collect();
    ImagePlan {
        name: name.clone(),
        notebook: Some(crate::plan::NotebookServer {
            base: base.name.clone(),
            packages: server.packages.clone(),
            command: server.command.clone(),
        }),
        serves: Vec::new(),
        tags,
        ..base.clone()
    }
}

/// The name of an image's notebook variant.
pub fn variant_name(image: &str) -> String {
    format!("{image}-jupyterlab")
}

/// A release version's order: its numbers, so that 2.10.0 comes after 2.9.1.
fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|n| n.parse().unwrap_or(0)).collect()
}

/// A version to pin outside the matrix: numbers joined by dots, such as 2.1.0 (it is
/// written into the Dockerfile's install line).
fn is_version(v: &str) -> bool {
    v.len() <= 32
        && v.split('.').count() >= 2
        && v.split('.')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The framework install for an image: `Some(None)` when the stack has no framework,
/// `None` after reporting a conflict with the CUDA matrix. A version the image pins
/// outside the matrix is installed as its newest release with the same CUDA is, with a
/// warning in `unverified`.
fn resolve_framework(
    img: &crate::spec::Image,
    stack: &Stack,
    python: &str,
    at: &Path,
    fail: &mut impl FnMut(Path, String, String),
    unverified: &mut Vec<Diagnostic>,
) -> Option<Option<Install>> {
    let m = stdlib::matrix();
    let Some(f) = &stack.framework else {
        if img.framework.is_some() {
            fail(
                at.key("framework"),
                format!(
                    "stack `{}` has no framework to pin",
                    img.stack.as_deref().unwrap_or_default()
                ),
                "remove `framework`".into(),
            );
            return None;
        }
        return Some(None);
    };
    let version = img.framework.clone().unwrap_or_else(|| f.version.clone());
    let Some(releases) = m.frameworks.get(&f.name) else {
        fail(
            at.key("stack"),
            format!(
                "stack `{}` names framework `{}`, which the stdlib matrix does not have",
                img.stack.as_deref().unwrap_or_default(),
                f.name
            ),
            format!(
                "use one of {} in the stack's `framework`",
                m.frameworks.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
        return None;
    };
    let Some(rel) = releases.get(&version) else {
        let mut known: Vec<&String> = releases.keys().collect();
        known.sort_by_key(|v| version_key(v));
        let known = known.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ");
        // An explicit version outside the matrix is installed as the newest release with
        // the same CUDA is, unverified; a stack's own default must be in the matrix.
        let install = img.framework.as_ref().filter(|v| is_version(v)).and_then(|_| {
            let mut same: Vec<(&String, &stdlib::Release)> = releases
                .iter()
                .filter(|(_, r)| img.cuda.as_ref().is_none_or(|c| r.cuda.contains_key(c)))
                .collect();
            same.sort_by_key(|(v, _)| version_key(v));
            let (newest, r) = same.last()?;
            let install = match &img.cuda {
                Some(c) => &r.cuda[c],
                None => &r.cpu,
            };
            Some(Install {
                packages: install
                    .packages
                    .iter()
                    .map(|p| p.replace(&format!("=={newest}"), &format!("=={version}")))
                    .collect(),
                index: install.index.clone(),
            })
        });
        let Some(install) = install else {
            let help = match &img.cuda {
                Some(c) if img.framework.is_some() && is_version(&version) => format!(
                    "no {} release of the matrix has CUDA {c}, so mlship cannot tell where its wheels are; use one of {known}",
                    f.name
                ),
                _ => format!("use one of {known}, or pin another version with `framework:` (unverified)"),
            };
            fail(
                at.key("framework"),
                format!("{} {version} is not in the stdlib matrix", f.name),
                help,
            );
            return None;
        };
        let target = img
            .cuda
            .as_ref()
            .map_or_else(|| "CPU".to_string(), |c| format!("CUDA {c}"));
        let from = install
            .index
            .as_ref()
            .map_or_else(String::new, |i| format!(" from {i}"));
        unverified.push(
            Diagnostic {
                severity: crate::diag::Severity::Warning,
                ..Diagnostic::error(
                    Code::Stack,
                    format!(
                        "{} {version} is not in the stdlib matrix: its wheels for Python {python} and {target} are not verified",
                        f.name
                    ),
                )
            }
            .at(at.key("framework"))
            .help(format!(
                "the image installs {}{from}; build it once to see that they exist, or use a verified version: {known}",
                install.packages.join(" ")
            )),
        );
        return Some(Some(install));
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
    let mut others: Vec<&String> = releases
        .iter()
        .filter(|(v, r)| **v != version && r.cuda.contains_key(cuda) && r.python.iter().any(|p| p == python))
        .map(|(v, _)| v)
        .collect();
    others.sort_by_key(|v| version_key(v));
    let others: Vec<String> = others.iter().map(|v| format!("{} {v}", f.name)).collect();
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

/// The image lock's pins for one environment, checked against what it builds: a pin must
/// be of an image built here, of the repository the environment deploys it from, and the
/// only pin of it (not also a `digest`). Gives the pinned references by image name.
pub(super) fn pins(
    lock: &Lock,
    env: &str,
    s: &Spec,
    built: &BTreeMap<String, String>,
    diags: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (image, pin) in lock.envs.get(env).into_iter().flatten() {
        let at = format!("{FILE}:{}:{}", pin.line, pin.column);
        let Some(reference) = built.get(image) else {
            let what = match s.images.get(image) {
                Some(img) if img.prebuilt.is_some() => "a prebuilt image; pin it with `digest:` in the spec",
                _ => "not an image this environment builds; remove the line, or run `mlship lock fill` again",
            };
            diags.push(warning(
                Diagnostic::error(
                    Code::Lock,
                    format!("{at}: environment `{env}` pins `{image}`, which is {what}"),
                )
                .at(Path::of(&["environments", env])),
            ));
            continue;
        };
        if repository(&pin.reference) != repository(reference) {
            diags.push(
                Diagnostic::error(
                    Code::Lock,
                    format!(
                        "{at}: environment `{env}` pins `{image}` to a build of `{}`, but deploys it from `{}`",
                        repository(&pin.reference),
                        repository(reference)
                    ),
                )
                .at(Path::of(&["environments", env]))
                .help(format!(
                    "fill the lock from a build of this spec (`mlship lock fill --env {env} --metadata <bake metadata>`); a digest promoted from another registry must be copied there first"
                )),
            );
            continue;
        }
        if s.images.get(image).is_some_and(|img| img.digest.is_some()) {
            diags.push(
                Diagnostic::error(
                    Code::Conflict,
                    format!("{at}: environment `{env}` pins `{image}` in the lock and with `digest`"),
                )
                .at(Path::of(&["images", image, "digest"]))
                .help("keep one: remove `digest` and let `mlship lock fill` and `mlship lock promote` pin the image"),
            );
            continue;
        }
        out.insert(image.clone(), pin.reference.clone());
    }
    out
}

/// Environments the lock pins images for that the spec does not have.
pub(super) fn unknown_lock_envs(lock: &Lock, loaded: &crate::load::Loaded, diags: &mut Vec<Diagnostic>) {
    for (env, pins) in &lock.envs {
        if !loaded.envs.iter().any(|e| &e.name == env)
            && let Some(pin) = pins.values().next()
        {
            diags.push(warning(
                Diagnostic::error(
                    Code::Lock,
                    format!(
                        "{FILE}:{}:{}: the lock pins images for environment `{env}`, which the spec does not have",
                        pin.line, pin.column
                    ),
                )
                .help("remove the environment from the lock, or fix its name"),
            ));
        }
    }
}

fn warning(d: Diagnostic) -> Diagnostic {
    Diagnostic {
        severity: crate::diag::Severity::Warning,
        ..d
    }
}
