//! Files the spec names besides its images: CRD files, extra manifests and encrypted secrets.
//!
//! Takes: the spec and the project's files. Gives: the kinds of the CRD files; the extra
//! manifests' objects, validated (those kinds too) and located in their own files, and each SealedSecret or SOPS file, parsed and refused when it
//! carries plaintext: the same rules as every output object ([`crate::secrets::scan`]), with no
//! waiver, since everything outside the encrypted values of such a file is plaintext.

use crate::diag::{Code, Diagnostic};
use crate::plan::ExtraObject;
use crate::project::Project;
use crate::source::Path;
use crate::spec::{SecretProvider, Spec};
use crate::syntax;
use crate::tree::{Node, Value};

/// A leak's field as a document path.
fn leak_path(leak: &crate::secrets::Leak) -> Path {
    use crate::secrets::Part;
    Path(
        leak.at
            .iter()
            .map(|p| match p {
                Part::Key(k) => crate::source::Seg::Key(k.clone()),
                Part::Index(i) => crate::source::Seg::Index(*i),
            })
            .collect(),
    )
}

/// A file the spec names (in `manifests` or `crds`, at `at`), as text; a missing, non-UTF-8
/// or outside file is a diagnostic.
fn read_text(project: &dyn Project, file: &str, at: &Path, diags: &mut Vec<Diagnostic>) -> Option<String> {
    match project.read(file).map(String::from_utf8) {
        Ok(Ok(t)) => Some(t),
        Ok(Err(_)) => {
            diags.push(Diagnostic::error(Code::Io, format!("`{file}` is not UTF-8")).at(at.clone()));
            None
        }
        Err(e) => {
            let what = if e.kind() == std::io::ErrorKind::PermissionDenied {
                "leads outside the project"
            } else {
                "does not exist"
            };
            diags.push(
                Diagnostic::error(Code::Io, format!("`{file}` {what}"))
                    .at(at.clone())
                    .help("list manifest files relative to the spec's folder"),
            );
            None
        }
    }
}

/// Every located problem of `docs` (of `file`, named at `at`) as a diagnostic.
fn problems(docs: &[crate::validate::Document], file: &str, version: &str, at: &Path, diags: &mut Vec<Diagnostic>) {
    for doc in docs {
        for p in doc.problems() {
            let v = &p.violation;
            let mut d = Diagnostic::error(
                Code::InvalidObject,
                format!("{file}:{}:{}: {}", p.line, p.column, v.what()),
            )
            .at(at.clone())
            .label(format!("in this file, for Kubernetes {version}"));
            if let Some(h) = &v.help {
                d = d.help(h.clone());
            }
            diags.push(d);
        }
    }
}

/// Read the spec's CRD files (`crds`): the kinds they define. A file that is not a valid
/// CustomResourceDefinition, or has none, is a diagnostic located in it.
pub(super) fn crds(
    s: &Spec,
    version: &str,
    project: &dyn Project,
    diags: &mut Vec<Diagnostic>,
) -> crate::validate::UserCrds {
    let mut out = crate::validate::UserCrds::default();
    let Ok(schemas) = crate::validate::schemas(version) else {
        return out;
    };
    for (index, file) in s.crds.iter().enumerate() {
        let at = Path::of(&["crds"]).index(index);
        let Some(text) = read_text(project, file, &at, diags) else {
            continue;
        };
        match out.read(schemas, file, &text) {
            Ok(0) => diags.push(
                Diagnostic::error(
                    Code::InvalidObject,
                    format!("`{file}` has no CustomResourceDefinition (`apiextensions.k8s.io/v1`)"),
                )
                .at(at)
                .help("list CRD files in `crds`, and the objects that use them in `manifests`"),
            ),
            Ok(_) => {}
            Err(docs) => problems(&docs, file, version, &at, diags),
        }
    }
    out
}

/// Read, split and validate the extra manifest files; problems are located in those files.
/// Objects of the kinds of `crds` are validated against their schemas.
pub(super) fn manifests(
    s: &Spec,
    version: &str,
    crds: &crate::validate::UserCrds,
    project: &dyn Project,
    diags: &mut Vec<Diagnostic>,
) -> Vec<ExtraObject> {
    let mut out = Vec::new();
    for (index, file) in s.manifests.iter().enumerate() {
        let at = Path::of(&["manifests"]).index(index);
        let Some(text) = read_text(project, file, &at, diags) else {
            continue;
        };
        let docs = crate::validate::schemas(version)
            .map(|schemas| schemas.validate_yaml_with(file, &text, crds))
            .unwrap_or_default();
        problems(&docs, file, version, &at, diags);
        for (offset, chunk) in crate::validate::split_documents(&text) {
            let sub = crate::source::SourceFile::new(file.as_str(), chunk);
            let Ok(tree) = syntax::yaml::parse(&sub) else { continue };
            let line = text[..offset].matches('\n').count() + 1;
            // The name becomes a file name in the tree: it must be a name Kubernetes accepts.
            let name_at = Path::of(&["metadata", "name"]);
            if let Some(node) = tree.lookup(&name_at)
                && let Value::Str(name) = &node.value
                && !(name.len() <= 253 && crate::names::is_dns_subdomain(name))
            {
                let (l, c) = sub.line_col(node.span.start);
                diags.push(
                    Diagnostic::error(
                        Code::InvalidName,
                        format!(
                            "{file}:{}:{c}: metadata.name `{name}` is not a Kubernetes object name",
                            line + l - 1
                        ),
                    )
                    .at(at.clone())
                    .help("use lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit (at most 253)"),
                );
                continue;
            }
            out.push(ExtraObject {
                index,
                file: file.clone(),
                line,
                // As kubectl reads it: `0440` is octal, `yes` a boolean, `<<` merges.
                value: crate::validate::kubernetes_json(&tree, chunk),
                tree,
                source: sub,
            });
        }
    }
    out
}

/// Read a SealedSecret or SOPS-encrypted Secret, refusing anything that carries plaintext.
pub(super) fn read_encrypted(
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
        }
        SecretProvider::ExternalSecrets | SecretProvider::Existing => {
            unreachable!("only sealed-secrets and sops secrets have a file")
        }
    }
    let mut json = tree.to_json();
    if let Some(leak) = crate::secrets::scan(&json).first() {
        let (line, column) = src.line_col(tree.span_of(&leak_path(leak), false).start);
        return Err(format!("{file}:{line}:{column}: {}", leak.message));
    }
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

/// The most text one configuration file may hold: a ConfigMap holds at most 1 MiB.
pub const MAX_FILE_BYTES: usize = 1 << 20;
/// Under Argo CD, which applies client-side and so copies the whole object into its
/// `last-applied-configuration` annotation (annotations hold at most 256 KiB in all), a
/// file must leave room for the rest of the object.
pub const MAX_FILE_BYTES_ARGOCD: usize = 240 << 10;

/// The configuration files, each read (from the spec or the project) into its own ConfigMap,
/// named by the project, the file's name and a hash of its key and text.
pub(super) fn config_files(
    s: &Spec,
    project: &dyn Project,
    diags: &mut Vec<Diagnostic>,
) -> std::collections::BTreeMap<String, crate::plan::FilePlan> {
    let mut out = std::collections::BTreeMap::new();
    for (name, f) in &s.files {
        let at = Path::of(&["files", name]);
        let text = match (&f.content, &f.from) {
            (Some(text), _) => text.clone(),
            (None, Some(rel)) => match project.read(rel).map(String::from_utf8) {
                Ok(Ok(text)) => text,
                Ok(Err(_)) => {
                    diags.push(
                        Diagnostic::error(Code::Io, format!("`{rel}` is not UTF-8 text"))
                            .at(at.key("from"))
                            .help("a ConfigMap's data is text; convert the file, or ship binary files in the image"),
                    );
                    continue;
                }
                Err(e) => {
                    diags.push(
                        Diagnostic::error(Code::Io, format!("cannot read `{rel}`: {e}"))
                            .at(at.key("from"))
                            .help("paths are relative to the spec's folder"),
                    );
                    continue;
                }
            },
            // Neither was given: the checks reported it.
            (None, None) => continue,
        };
        let argocd = s
            .gitops
            .as_ref()
            .is_some_and(|g| g.engine == crate::spec::Engine::Argocd);
        let max = if argocd { MAX_FILE_BYTES_ARGOCD } else { MAX_FILE_BYTES };
        if text.len() > max {
            let key = if f.content.is_some() { "content" } else { "from" };
            let help = if argocd {
                "Argo CD copies the ConfigMap into an annotation of at most 256 KiB, so a file holds at most 240 KiB; mount larger files from a volume"
            } else {
                "a ConfigMap holds at most 1 MiB; mount larger files from a volume"
            };
            diags.push(
                Diagnostic::error(Code::Range, format!("file `{name}` holds {} bytes", text.len()))
                    .at(at.key(key))
                    .help(help),
            );
            continue;
        }
        // `content` was judged with the spec; a project file is judged here, by the same rule.
        if let (None, Some(rel), Some(found)) = (&f.content, &f.from, crate::secrets::in_text(&text)) {
            let object = format!("ConfigMap/{}-file-{name}", s.project);
            let waived = found.waivable
                && s.waivers.iter().any(|w| {
                    w.policy == crate::spec::Policy::NoPlaintextSecrets && w.object == object && w.key.is_none()
                });
            if !waived {
                let mut help = "keep credentials out of configuration files: declare a secret under `secrets:` and read it as a variable or at `mount`".to_string();
                if found.waivable {
                    help.push_str(&format!(
                        "; if it is not a credential, waive the rule with a reason: waivers: [{{policy: no-plaintext-secrets, object: {object}, reason: \"...\"}}]"
                    ));
                }
                diags.push(
                    Diagnostic::error(
                        Code::Credential,
                        format!(
                            "`{rel}` looks like it holds a credential ({}); it would be written into the output in plain text",
                            found.why
                        ),
                    )
                    .at(at.key("from"))
                    .help(help),
                );
                continue;
            }
        }
        let key = f.path.rsplit('/').next().unwrap_or_default().to_string();
        let mut body = key.clone().into_bytes();
        body.push(0);
        body.extend_from_slice(text.as_bytes());
        out.insert(
            name.clone(),
            crate::plan::FilePlan {
                name: format!("{}-file-{name}-{}", s.project, crate::names::short_hash(&body)),
                key,
                text,
            },
        );
    }
    out
}

/// The image lock beside the spec ([`crate::imagelock`]), if there is one; its problems are
/// located in it.
pub(super) fn image_lock(project: &dyn Project, diags: &mut Vec<Diagnostic>) -> Option<crate::imagelock::Lock> {
    use crate::imagelock::{self, FILE};
    let text = match project.read(FILE).map(String::from_utf8) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            diags.push(
                Diagnostic::error(Code::Io, format!("{FILE}: {e}"))
                    .help("the image lock is a file in the spec's folder"),
            );
            return None;
        }
        Ok(Err(_)) => {
            diags.push(
                Diagnostic::error(Code::Lock, format!("{FILE} is not UTF-8")).help("write it with `mlship lock fill`"),
            );
            return None;
        }
        Ok(Ok(text)) => text,
    };
    match imagelock::parse(&text) {
        Ok(lock) => Some(lock),
        Err(problems) => {
            for p in problems {
                diags.push(
                    Diagnostic::error(Code::Lock, format!("{FILE}:{}:{}: {}", p.line, p.column, p.message))
                        .help(p.help),
                );
            }
            None
        }
    }
}
