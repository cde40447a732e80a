//! No secret material in the output except through the provider forms mlship knows.
//!
//! Takes: one environment's final objects (after extra manifests and patches), the GitOps
//! objects and the Dockerfiles. Gives: a located error for every piece of secret material
//! [`crate::secrets::scan`] finds in them: at the patch field that wrote it, at the extra
//! manifest's line and column, at the spec value a Dockerfile line came from; and for SOPS
//! files under Argo CD, which nothing would decrypt. The spec's own values were judged, with
//! the same rules, by `check`; in mlship's own objects only what no waiver may cover is
//! reported again here, as a bug.

use super::{Files, Object, Origin};
use crate::diag::{Code, Diagnostic};
use crate::names;
use crate::plan::{EnvPlan, ExtraObject, Plan};
use crate::secrets::Part;
use crate::source::{Path, Seg};
use crate::spec::{Engine, Policy};
use serde_json::Value;
use std::collections::BTreeSet;

const HELP: &str = "keep secret values in the cluster's stores: declare them under `secrets:` (external-secrets, sealed-secrets or sops) and list them on the workload";

/// Where a leak came from.
enum Source<'a> {
    /// The field of the patch that wrote it.
    Patch(Path),
    Manifest(&'a ExtraObject),
    /// mlship's own rendering of the spec.
    Generated,
}

pub fn objects(
    plan: &Plan,
    env: &EnvPlan,
    objects: &[Object],
    used_waivers: &mut BTreeSet<usize>,
    diags: &mut Vec<Diagnostic>,
) {
    let argocd = plan.gitops.as_ref().is_some_and(|g| g.engine == Engine::Argocd);
    for obj in objects {
        let id = format!("{}/{}", obj.kind(), obj.name());
        let stable = format!("{}/{}", obj.kind(), names::stable_name(obj.kind(), obj.name()));
        if argocd && !obj.value["sops"].is_null() {
            let d = Diagnostic::error(
                Code::Conflict,
                format!("{id} is a SOPS file, which Argo CD does not decrypt: it would reach the cluster still encrypted"),
            )
            .help("use an ExternalSecret or a SealedSecret; or decrypt in Argo CD with KSOPS or a config management plugin and keep the file out of mlship's manifests");
            diags.push(locate(&Source::of(plan, env, obj, &[]), d, &id, &Path::root()));
        }
        for leak in crate::secrets::scan(&obj.value) {
            let source = Source::of(plan, env, obj, &leak.at);
            if leak.waivable
                && let Some(w) = plan.waivers.iter().position(|w| {
                    w.policy == Policy::NoPlaintextSecrets
                        && (w.object == id || w.object == stable)
                        && w.key.as_ref().is_none_or(|k| leak.key.as_ref() == Some(k))
                })
            {
                used_waivers.insert(w);
                continue;
            }
            if leak.waivable && matches!(source, Source::Generated) {
                continue; // a spec value, which `check` judged where it was written
            }
            let mut help = HELP.to_string();
            if leak.waivable {
                let key = leak.key.as_ref().map(|k| format!(", key: {k}")).unwrap_or_default();
                help.push_str(&format!(
                    "; if it is not a credential, waive the rule with a reason: waivers: [{{policy: no-plaintext-secrets, object: {stable}{key}, reason: \"...\"}}]"
                ));
            }
            let d = Diagnostic::error(Code::Credential, leak.message.clone()).help(help);
            diags.push(locate(&source, d, &id, &path_of(&leak.at)));
        }
    }
}

impl<'a> Source<'a> {
    /// The patch that wrote the field `at` (the last one that did), else the extra manifest
    /// the object came from, else mlship.
    fn of(plan: &'a Plan, env: &EnvPlan, obj: &Object, at: &[Part]) -> Source<'a> {
        if obj.patched_by.is_some() {
            let stable = names::stable_name(obj.kind(), obj.name());
            let found = plan.patches.iter().enumerate().rev().find_map(|(i, p)| {
                let applies = (p.environments.is_empty() || p.environments.contains(&env.name))
                    && p.kind == obj.kind()
                    && (p.name == obj.name() || p.name == stable);
                applies
                    .then(|| in_patch(&obj.value, &p.patch, at))
                    .flatten()
                    .map(|field| {
                        let mut path = Path::of(&["patches"]).index(i).key("patch");
                        path.0.extend(field.0);
                        Source::Patch(path)
                    })
            });
            if let Some(s) = found {
                return s;
            }
        }
        match obj.origin {
            Origin::Extra(index) => plan
                .manifests
                .iter()
                .find(|e| {
                    e.index == index
                        && e.value["kind"] == obj.value["kind"]
                        && e.value["metadata"]["name"] == obj.value["metadata"]["name"]
                })
                .map_or(Source::Generated, Source::Manifest),
            Origin::Generated => Source::Generated,
        }
    }
}

/// The diagnostic at the leak's source; `field` is the leak's field in the object.
fn locate(source: &Source, d: Diagnostic, id: &str, field: &Path) -> Diagnostic {
    match source {
        Source::Patch(path) => Diagnostic {
            message: format!("{id}: {}", d.message),
            ..d
        }
        .at(path.clone()),
        Source::Manifest(extra) => {
            let (line, column) = position(extra, field);
            Diagnostic {
                message: format!("{}:{line}:{column}: {id}: {}", extra.file, d.message),
                ..d
            }
            .at(Path::of(&["manifests"]).index(extra.index))
        }
        Source::Generated => Diagnostic {
            message: format!("{id}: {}", d.message),
            help: Some(
                "this is a bug in mlship: it rendered secret material the spec checks should have refused; please report it with the spec"
                    .into(),
            ),
            ..d
        },
    }
}

/// Line and column in the manifest file of a field of the object (of its nearest parent
/// that the file writes).
fn position(extra: &ExtraObject, field: &Path) -> (usize, usize) {
    let span = extra.tree.span_of(field, false);
    let (line, column) = extra.source.line_col(span.start);
    (extra.line + line - 1, column)
}

/// The field of a merge patch that wrote `at` in the patched object, if the patch wrote it:
/// keys are the same; in lists merged by `name`, the patch's item of the same name.
fn in_patch(obj: &Value, patch: &Value, at: &[Part]) -> Option<Path> {
    let (mut o, mut p) = (obj, patch);
    let mut out = Path::root();
    for part in at {
        match part {
            Part::Key(k) => {
                p = p.get(k)?;
                o = o.get(k)?;
                out = out.key(k);
            }
            Part::Index(i) => {
                let item = o.get(*i)?;
                let items = p.as_array()?;
                let j = match item.get("name") {
                    Some(name) if items.iter().all(|x| x["name"].is_string()) => {
                        items.iter().position(|x| x["name"] == *name)?
                    }
                    _ => *i,
                };
                p = items.get(j)?;
                o = item;
                out = out.index(j);
            }
        }
    }
    Some(out)
}

fn path_of(at: &[Part]) -> Path {
    Path(
        at.iter()
            .map(|p| match p {
                Part::Key(k) => Seg::Key(k.clone()),
                Part::Index(i) => Seg::Index(*i),
            })
            .collect(),
    )
}

/// The GitOps objects of one environment: they hold the repository URL and paths only.
pub fn gitops(plan: &Plan, env: &EnvPlan, docs: &[Value]) -> Vec<Diagnostic> {
    let repo = plan.gitops.as_ref().map(|g| g.repo.as_str()).unwrap_or_default();
    let mut out = Vec::new();
    for doc in docs {
        for leak in crate::secrets::scan(doc) {
            let value = leak.at.iter().try_fold(doc, |v, p| match p {
                Part::Key(k) => v.get(k),
                Part::Index(i) => v.get(*i),
            });
            let at = if value.and_then(Value::as_str) == Some(repo) {
                Path::of(&["gitops", "repo"])
            } else {
                Path::of(&["gitops"])
            };
            out.push(
                Diagnostic::error(
                    Code::Credential,
                    format!("gitops/{}.yaml: {}", env.name, leak.message),
                )
                .at(at)
                .help("remove credentials from the gitops settings; the engine reads the repository with its own credentials"),
            );
        }
    }
    out
}

/// The Dockerfiles: every line, with the rules for free text. A finding is located at the
/// spec value the line came from: the image's command or env, the GitOps repository (the
/// source label), else the project's template.
pub fn dockerfiles(plan: &Plan, files: &Files) -> Vec<Diagnostic> {
    use crate::secrets::{credential, in_text};
    let mut out = Vec::new();
    for img in &plan.images {
        let Some(text) = files
            .get(&format!("images/{}/Dockerfile", img.name))
            .and_then(|b| std::str::from_utf8(b).ok())
        else {
            continue;
        };
        let at = Path::of(&["images", &img.name]);
        for (n, line) in text.lines().enumerate() {
            let Some(f) = in_text(line) else { continue };
            let from = img
                .command
                .iter()
                .position(|a| in_text(a).is_some())
                .map(|i| at.key("command").index(i))
                .or_else(|| {
                    img.env
                        .iter()
                        .find(|(k, v)| credential(k, v).is_some())
                        .map(|(k, _)| at.key("env").key(k))
                })
                .or_else(|| {
                    img.source
                        .as_deref()
                        .filter(|s| in_text(s).is_some())
                        .map(|_| Path::of(&["gitops", "repo"]))
                });
            let (path, help) = match from {
                Some(p) => (p, HELP.to_string()),
                None if img.templates.iter().any(|(name, _)| name != "Dockerfile") => (
                    at.key("template"),
                    "a template's text is baked into the image, where anyone who pulls it reads it; pass credentials to the build as secrets (`RUN --mount=type=secret`) or to the pod under `secrets:`".to_string(),
                ),
                None if !img.templates.is_empty() => (
                    Path::of(&["stdlib"]),
                    "the project's Dockerfile template is baked into every image; pass credentials to the build as secrets (`RUN --mount=type=secret`)".to_string(),
                ),
                None => (
                    at.clone(),
                    "this is a bug in mlship: it rendered secret material into a Dockerfile; please report it with the spec"
                        .to_string(),
                ),
            };
            out.push(
                Diagnostic::error(
                    Code::Credential,
                    format!(
                        "images/{}/Dockerfile:{}: the line looks like it carries a credential ({}); it would be baked into the image",
                        img.name,
                        n + 1,
                        f.why
                    ),
                )
                .at(path)
                .help(help),
            );
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_leak_is_found_in_the_patch_that_wrote_it() {
        let obj = json!({"spec": {"containers": [
            {"name": "a", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "env": [{"name": "Y", "value": "2"}, {"name": "T", "value": "t"}], "args": ["p", "q"]}]}});
        let patch = json!({"spec": {"containers": [
            {"name": "b", "env": [{"name": "T", "value": "t"}], "args": ["p", "q"]}]}});
        let at = |parts: &[Part]| in_patch(&obj, &patch, parts).map(|p| p.to_string());
        let k = |s: &str| Part::Key(s.into());
        assert_eq!(
            at(&[
                k("spec"),
                k("containers"),
                Part::Index(1),
                k("env"),
                Part::Index(1),
                k("value")
            ])
            .as_deref(),
            Some("spec.containers[0].env[0].value")
        );
        assert_eq!(
            at(&[k("spec"), k("containers"), Part::Index(1), k("args"), Part::Index(1)]).as_deref(),
            Some("spec.containers[0].args[1]")
        );
        // Not written by this patch: container `a` and its variable came from elsewhere.
        assert_eq!(
            at(&[
                k("spec"),
                k("containers"),
                Part::Index(0),
                k("env"),
                Part::Index(0),
                k("value")
            ]),
            None
        );
    }
}
