//! Checks of the notebooks.
//!
//! Takes: one notebook of a spec. Gives: diagnostics at the field: its name and the object
//! names derived from it (Kubeflow's StatefulSet names its pods' revision label after the
//! notebook, so at most 52 characters), exactly one of `image` and `prebuilt`, a prebuilt
//! reference that names a version, a project image only for JupyterLab (the variant installs
//! a Python server), GPUs only on an image with CUDA, at least one environment (`lower` checks that each
//! exists: an environment's merged spec no longer lists them),
//! its config keys, secrets and volumes declared, and mounts clear of its home folder.

use super::Checker;
use crate::diag::Code;
use crate::names;
use crate::spec::{NOTEBOOK_HOME, Notebook, NotebookKind, NotebookPlatform, Spec};

/// Kubeflow's StatefulSet labels its pods with `<name>-<10-character hash>`, a label value.
pub const MAX_NOTEBOOK_NAME: usize = 52;

impl Checker<'_> {
    pub(super) fn notebook(&mut self, s: &Spec, name: &str, nb: &Notebook) {
        let at = super::p(&["notebooks", name]);
        let full = names::workload(&s.project, name);
        self.name(&at, name, "notebook");
        self.object_name(&at, &full, MAX_NOTEBOOK_NAME);
        let object = match s.platform_of(nb) {
            NotebookPlatform::Kubeflow => format!("Notebook/{full}"),
            NotebookPlatform::Plain => format!("StatefulSet/{full}"),
        };
        for (what, taken) in [
            ("service", s.services.contains_key(name)),
            ("pipeline", s.pipelines.contains_key(name)),
        ] {
            if taken {
                self.err(
                    Code::Conflict,
                    at.clone(),
                    format!("`{name}` names both a notebook and a {what}"),
                    "both would render a ServiceAccount and a NetworkPolicy with the same name; rename one",
                );
            }
        }
        let kind = nb.kind.unwrap_or(NotebookKind::Jupyterlab);
        match (&nb.image, &nb.prebuilt) {
            (None, None) => self.err(
                Code::MissingKey,
                at.clone(),
                format!("notebook `{name}` needs an image"),
                "name a project image (`image: trainer`, its notebook variant is built) or a prebuilt notebook image (`prebuilt: registry/name:tag`)",
            ),
            (Some(_), Some(_)) => self.err(
                Code::Conflict,
                at.key("prebuilt"),
                "`image` and `prebuilt` are two ways to choose the notebook's image; give one".into(),
                "keep `image` to run the project's libraries, or `prebuilt` for a ready notebook image",
            ),
            (Some(image), None) => {
                self.image_ref(s, &at.key("image"), image);
                if let Some(reference) = s.images.get(image).and_then(|i| i.prebuilt.as_ref()) {
                    self.err(
                        Code::Conflict,
                        at.key("image"),
                        format!("image `{image}` is prebuilt; a notebook's `image` is built with the notebook server added"),
                        format!("run a prebuilt notebook image with `prebuilt:` on the notebook, or name an image mlship builds (not `{reference}`)"),
                    );
                }
                if kind != NotebookKind::Jupyterlab {
                    let server = if kind == NotebookKind::CodeServer {
                        "code-server is a Node.js application"
                    } else {
                        "RStudio Server is an R application"
                    };
                    self.err(
                        Code::Conflict,
                        at.key("image"),
                        format!("a project image's notebook variant runs JupyterLab; {server}, not a package of the image's Python stack"),
                        "use `kind: jupyterlab` with `image`, or a prebuilt image of that server (`prebuilt:`), such as Kubeflow's codeserver-python or rstudio-tidyverse",
                    );
                }
            }
            (None, Some(reference)) => self.prebuilt(
                &at.key("prebuilt"),
                reference,
                "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0",
            ),
        }
        let image = nb.image.as_deref().unwrap_or_default();
        self.resources(s, &at, image, &nb.resources, &object);
        self.refs(s, &at, &nb.secrets, &nb.mounts);
        for (vol, path) in &nb.mounts {
            if path == NOTEBOOK_HOME
                || path.starts_with(&format!("{NOTEBOOK_HOME}/"))
                || NOTEBOOK_HOME.starts_with(&format!("{path}/"))
            {
                self.err(
                    Code::Conflict,
                    at.key("mounts").key(vol),
                    format!("`{path}` overlaps the home folder {NOTEBOOK_HOME}, which is the workspace claim"),
                    "mount the volume somewhere else, such as /data",
                );
            }
        }
        for (i, key) in nb.config.iter().enumerate() {
            if !s.config.contains_key(key) {
                self.unresolved(at.key("config").index(i), "config key", key, s.config.keys());
            }
        }
        self.env_values(&at.key("env"), &nb.env, Some(&object));
        if nb.environments.is_empty() {
            self.err(
                Code::MissingKey,
                at.key("environments"),
                format!("notebook `{name}` exists in no environment"),
                "name the environments it is for, usually the development one: environments: [dev]",
            );
        }
        if let Some(w) = &nb.workspace {
            if let Some(size) = &w.size {
                self.quantity(&at.key("workspace").key("size"), &size.text(), false);
            }
            if let Some(class) = w.storage_class.as_ref().filter(|c| !names::is_dns_subdomain(c)) {
                self.err(
                    Code::InvalidName,
                    at.key("workspace").key("storage_class"),
                    format!("`{class}` is not a valid storage class name"),
                    "storage class names are lowercase DNS names, such as fast-nfs",
                );
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use crate::diag::Code;

    /// The codes and paths of a notebook's diagnostics.
    fn check(notebook: &str) -> Vec<(Code, String)> {
        let yaml = format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  trainer: {{stack: sklearn}}\n\
             config: {{A: a}}\nnotebooks:\n  lab: {notebook}\n"
        );
        let (_, _, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        diags
            .iter()
            .map(|d| (d.code, d.path.as_ref().map(ToString::to_string).unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_prebuilt_image_names_one_build() {
        let at = "notebooks.lab.prebuilt".to_string();
        for ok in [
            "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0",
            "localhost:5000/nb:1",
            "ghcr.io/x/nb@sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904b5f1a3e0f8c2d1e0a9b8c7d6",
            "ghcr.io/x/nb:v1@sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904b5f1a3e0f8c2d1e0a9b8c7d6",
        ] {
            assert_eq!(
                check(&format!("{{prebuilt: \"{ok}\", environments: [default]}}")),
                [],
                "{ok}"
            );
        }
        for bad in [
            "ghcr.io/x/nb",
            "localhost:5000/nb",
            "ghcr.io/x/nb:latest",
            "ghcr.io/x/nb@sha256:abc",
            "GHCR.io/x/nb:1",
        ] {
            assert_eq!(
                check(&format!("{{prebuilt: \"{bad}\", environments: [default]}}")),
                [(Code::BadValue, at.clone())],
                "{bad}"
            );
        }
    }

    #[test]
    fn a_notebook_has_one_image_an_environment_and_declared_config() {
        assert_eq!(
            check("{environments: [default]}"),
            [(Code::MissingKey, "notebooks.lab".into())]
        );
        assert_eq!(
            check("{image: trainer, prebuilt: \"r/x:1\", environments: [default]}"),
            [(Code::Conflict, "notebooks.lab.prebuilt".into())]
        );
        assert_eq!(
            check("{image: trainer, environments: []}"),
            [(Code::MissingKey, "notebooks.lab.environments".into())]
        );
        assert_eq!(
            check("{image: trainer, environments: [default], config: [A, B]}"),
            [(Code::UnresolvedReference, "notebooks.lab.config[1]".into())]
        );
        assert_eq!(
            check("{image: trainer, environments: [default], kind: rstudio}"),
            [(Code::Conflict, "notebooks.lab.image".into())]
        );
    }

    #[test]
    fn the_statefulsets_revision_label_bounds_the_name() {
        // `p-` and 50 letters are 52 characters; one more is too long.
        let long = "n".repeat(super::MAX_NOTEBOOK_NAME - 1);
        let yaml = |name: &str| {
            format!(
                "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  t: {{stack: sklearn}}\n\
                 notebooks:\n  {name}: {{image: t, environments: [default]}}\n"
            )
        };
        let (_, _, diags) = crate::load::load("mlship.yaml", yaml(&long[..long.len() - 1]).as_bytes());
        assert!(diags.is_empty(), "{diags:?}");
        let (_, _, diags) = crate::load::load("mlship.yaml", yaml(&long).as_bytes());
        assert_eq!(diags.iter().map(|d| d.code).collect::<Vec<_>>(), [Code::NameTooLong]);
    }
}
