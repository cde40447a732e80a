//! The stdlib: stacks, the CUDA matrix and the Dockerfile templates, embedded in the binary.
//!
//! Takes: a stack name, and read access to the project for its own overrides (the spec's
//! `stdlib:` folder may hold `stacks/<name>.yaml` and `templates/Dockerfile.j2`). Gives:
//! typed stacks and the matrix. Embedded data is checked by the tests below.

use crate::project::Project;
use crate::source::SourceFile;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

pub const STACKS: &[(&str, &str)] = &[
    ("fastapi", include_str!("../../stdlib/stacks/fastapi.yaml")),
    ("huggingface", include_str!("../../stdlib/stacks/huggingface.yaml")),
    ("python", include_str!("../../stdlib/stacks/python.yaml")),
    ("pytorch", include_str!("../../stdlib/stacks/pytorch.yaml")),
    ("sklearn", include_str!("../../stdlib/stacks/sklearn.yaml")),
    ("tensorflow", include_str!("../../stdlib/stacks/tensorflow.yaml")),
    ("xgboost", include_str!("../../stdlib/stacks/xgboost.yaml")),
];
pub const DOCKERFILE: &str = include_str!("../../stdlib/templates/Dockerfile.j2");
pub const DOCKERIGNORE: &str = include_str!("../../stdlib/templates/Dockerfile.dockerignore.j2");
const MATRIX: &str = include_str!("../../stdlib/cuda.yaml");
const NOTEBOOKS: &str = include_str!("../../stdlib/notebooks.yaml");

/// A notebook server a project image's notebook variant installs (`stdlib/notebooks.yaml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotebookServer {
    pub packages: Vec<String>,
    pub command: String,
}

pub static NOTEBOOK_DATA: LazyLock<BTreeMap<String, NotebookServer>> =
    LazyLock::new(|| parse("stdlib/notebooks.yaml", NOTEBOOKS).expect("stdlib/notebooks.yaml is valid"));

/// The notebook servers a project image's variant can install, by kind (`jupyterlab`).
pub fn notebook_servers() -> &'static BTreeMap<String, NotebookServer> {
    &NOTEBOOK_DATA
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    pub description: String,
    pub python: PythonRange,
    #[serde(default)]
    pub framework: Option<FrameworkRef>,
    #[serde(default)]
    pub packages: Vec<String>,
    #[serde(default)]
    pub system_packages: Vec<String>,
    pub command: Vec<String>,
    #[serde(default)]
    pub serving: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonRange {
    pub default: String,
    pub supported: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkRef {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    pub frameworks: BTreeMap<String, BTreeMap<String, Release>>,
    pub cuda_images: BTreeMap<String, CudaImages>,
    pub python_images: BTreeMap<String, String>,
    pub uv_image: String,
}

/// One framework release: the Pythons it supports, and how to install it per target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    pub python: Vec<String>,
    pub cpu: Install,
    pub cuda: BTreeMap<String, Install>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Install {
    pub packages: Vec<String>,
    #[serde(default)]
    pub index: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CudaImages {
    pub devel: String,
    pub runtime: String,
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, String> {
    let tree = crate::syntax::yaml::parse(&SourceFile::new(name, text)).map_err(|d| d[0].message.clone())?;
    serde_json::from_value(tree.to_json()).map_err(|e| e.to_string())
}

pub static MATRIX_DATA: LazyLock<Matrix> =
    LazyLock::new(|| parse("stdlib/cuda.yaml", MATRIX).expect("stdlib/cuda.yaml is valid"));

pub fn matrix() -> &'static Matrix {
    &MATRIX_DATA
}

/// A stack by name: the project's own (under `stdlib_dir`) first, then the embedded one.
pub fn stack(name: &str, stdlib_dir: Option<&str>, project: &dyn Project) -> Result<Stack, String> {
    if let Some(dir) = stdlib_dir {
        let path = format!("{}/stacks/{name}.yaml", dir.trim_end_matches('/'));
        if let Ok(bytes) = project.read(&path) {
            let text = String::from_utf8(bytes).map_err(|_| format!("`{path}` is not UTF-8"))?;
            return parse(&path, &text).map_err(|e| format!("`{path}`: {e}"));
        }
    }
    match STACKS.iter().find(|(n, _)| *n == name) {
        Some((n, text)) => Ok(parse(n, text).expect("embedded stacks are valid")),
        None => Err(format!("unknown stack `{name}`")),
    }
}

pub fn stack_names() -> Vec<&'static str> {
    STACKS.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use crate::project::MemProject;

    #[test]
    fn embedded_data_parses_and_is_consistent() {
        let m = matrix();
        for (name, _) in STACKS {
            let s = stack(name, None, &MemProject::default()).unwrap();
            assert!(s.python.supported.contains(&s.python.default), "{name}");
            for py in &s.python.supported {
                assert!(m.python_images.contains_key(py), "{name}: no image for Python {py}");
            }
            if let Some(f) = &s.framework {
                assert!(
                    m.frameworks[&f.name].contains_key(&f.version),
                    "{name}: {} {}",
                    f.name,
                    f.version
                );
            }
        }
        for releases in m.frameworks.values() {
            for r in releases.values() {
                for cuda in r.cuda.keys() {
                    assert!(m.cuda_images.contains_key(cuda), "no base image for CUDA {cuda}");
                }
            }
        }
    }

    #[test]
    fn notebook_servers_are_pinned() {
        let servers = notebook_servers();
        let lab = &servers["jupyterlab"];
        assert!(lab.packages.iter().all(|p| p.contains("==")), "{:?}", lab.packages);
        assert!(lab.command.contains("--port=8888") && lab.command.contains("NB_PREFIX"));
    }

    #[test]
    fn project_stacks_override_embedded_ones() {
        let mut files = MemProject::default();
        files.0.insert(
            "ml/stacks/python.yaml".into(),
            b"description: ours\npython: {default: \"3.12\", supported: [\"3.12\"]}\ncommand: [python3]\n".to_vec(),
        );
        let s = stack("python", Some("ml"), &files).unwrap();
        assert_eq!(s.description, "ours");
        assert!(stack("nope", Some("ml"), &files).is_err());
    }
}
