//! mlship: a declarative GitOps compiler for ML projects on Kubernetes.
//!
//! One spec file (`mlship.yaml` or `mlship.kdl`) compiles into a rendered Kubernetes tree per
//! environment, with its kustomizations and Argo CD or Flux objects. The stages, in order,
//! each in its own module and each pure except the last:
//!
//! 1. [`syntax`]: bytes to a spanned [`tree::Node`] (YAML or KDL, same tree), within limits.
//! 2. [`schema`]: the tree against the spec's JSON Schema, errors mapped back to spans.
//! 3. [`spec`]: the typed model; [`check`]: semantic rules. [`load`] runs 1-3 for the base
//!    spec and for every environment's merged spec.
//! 4. [`lower`]: every default and decision: a [`plan::Plan`] of per-workload plans.
//! 5. [`emit`]: the plan to an in-memory [`emit::Output`] ([`yamlout`] writes the YAML).
//! 6. [`writer`]: the output to disk, atomically. Only the CLI's [`commands`] call it.
//!
//! Diagnostics ([`diag`]) are plain data with codes and spans; only the CLI prints them.
//! Every file a spec names is read through a [`project::Project`]. The CLI's commands live in
//! [`commands`]: [`inputs`] finds their files, [`report`] renders what they found, and they
//! hand back a [`commands::Transcript`] that only the binary prints.

#![forbid(unsafe_code)]

pub mod check;
pub mod commands;
pub mod condition;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod explain;
pub mod graph;
pub mod imagelock;
pub mod init;
pub mod inputs;
pub mod load;
pub mod lower;
pub mod names;
pub mod plan;
pub mod project;
pub mod report;
pub mod schema;
mod schema_common;
pub mod secrets;
pub mod source;
pub mod spec;
pub mod stdlib;
pub mod syntax;
pub mod tree;
pub mod units;
pub mod validate;
pub mod work;
pub mod writer;
pub mod yamlout;

use diag::Diagnostic;
use source::SourceFile;

/// The result of compiling one spec file.
pub struct Compiled {
    pub file: SourceFile,
    pub output: Option<emit::Output>,
    pub diagnostics: Vec<Diagnostic>,
    /// How to reach what was built by hand, by environment: each notebook's
    /// `kubectl port-forward` command.
    pub access: Vec<(String, String)>,
}

/// Compile a spec file's bytes into the output tree, reading referenced files from `project`.
pub fn compile(name: &str, bytes: &[u8], project: &dyn project::Project) -> Compiled {
    let (file, loaded, mut diagnostics) = load::load(name, bytes);
    let Some(loaded) = loaded else {
        return Compiled {
            file,
            output: None,
            diagnostics,
            access: Vec::new(),
        };
    };
    let spec_hash = names::sha256(
        &serde_json::to_vec(&names::sorted_json(
            &serde_json::to_value(&loaded.spec).expect("spec serializes"),
        ))
        .expect("JSON serializes"),
    );
    let mut access = Vec::new();
    // The specs are not needed past lowering, which drops each as it is done with it.
    let lowered = lower::lower(loaded, project);
    let result = lowered.and_then(|plan| {
        for env in &plan.envs {
            for nb in &env.notebooks {
                let line = format!("notebook `{}`: {}", nb.name, emit::notebooks::port_forward(env, nb));
                access.push((env.name.clone(), line));
            }
        }
        emit::emit(plan, &spec_hash)
    });
    let (output, more) = match result {
        Ok((output, warnings)) => (Some(output), warnings),
        Err(errors) => (None, errors),
    };
    located(&file, more, &mut diagnostics);
    if output.is_none() {
        access.clear();
    }
    Compiled {
        file,
        output,
        diagnostics,
        access,
    }
}

/// Later stages report document paths; locate them in the base document.
fn located(file: &SourceFile, more: Vec<Diagnostic>, diagnostics: &mut Vec<Diagnostic>) {
    if !more.is_empty()
        && let Ok(tree) = load::parse(file)
    {
        for mut d in more {
            load::locate(&mut d, &tree);
            diagnostics.push(d);
        }
    }
    diag::normalize(diagnostics);
}

/// Image references by environment, then image name.
pub type BuiltImages = std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>;

/// The images each environment builds, by environment and image name, each as the bake file
/// tags it (`registry/name:tag`): what `mlship lock fill` and `promote` pin. The spec is
/// lowered without its image lock, which they rewrite; a spec that does not lower gives its
/// diagnostics (in a [`Compiled`] without output).
pub fn built_images(name: &str, bytes: &[u8], project: &dyn project::Project) -> Result<BuiltImages, Box<Compiled>> {
    /// The project without its image lock.
    struct WithoutLock<'a>(&'a dyn project::Project);
    impl project::Project for WithoutLock<'_> {
        fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
            match rel == imagelock::FILE {
                true => Err(std::io::ErrorKind::NotFound.into()),
                false => self.0.read(rel),
            }
        }
        fn exists(&self, rel: &str) -> std::io::Result<()> {
            self.0.exists(rel)
        }
    }
    let (file, loaded, mut diagnostics) = load::load(name, bytes);
    let failed = |file, diagnostics| {
        Box::new(Compiled {
            file,
            output: None,
            diagnostics,
            access: Vec::new(),
        })
    };
    let Some(loaded) = loaded.filter(|_| !diagnostics.iter().any(Diagnostic::is_error)) else {
        return Err(failed(file, diagnostics));
    };
    match lower::lower(loaded, &WithoutLock(project)) {
        Ok(plan) => Ok(plan.envs.into_iter().map(|e| (e.name, e.built_images)).collect()),
        Err(more) => {
            located(&file, more, &mut diagnostics);
            Err(failed(file, diagnostics))
        }
    }
}
