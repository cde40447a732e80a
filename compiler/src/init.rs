//! The starter project of `mlship init`: a commented spec named after its folder, and the
//! files that spec names (requirements.txt, app/main.py), embedded in the binary.
//!
//! Takes: the folder and an optional project name. Gives: the files to create, each with its
//! path and text; [`crate::writer::create_new`] writes them. Never writes itself.

use crate::names;
use std::path::{Path, PathBuf};

const SPEC: &str = include_str!("../../stdlib/init/mlship.yaml");
const REQUIREMENTS: &str = include_str!("../../stdlib/init/requirements.txt");
const MAIN_PY: &str = include_str!("../../stdlib/init/app/main.py");
/// The spec's JSON Schema beside it, which the starter's `$schema` modeline names.
pub const SCHEMA_FILE: &str = "mlship.schema.json";

/// The files of a new project. The spec comes first; the others are for the writer to create
/// unless the project has them already.
pub struct Starter {
    /// The new spec: `mlship.yaml` in the folder.
    pub spec: PathBuf,
    pub files: Vec<(PathBuf, String)>,
}

/// The starter files for `dir`. Refuses a folder that has a spec already, and a name (given,
/// or derived from the folder's name) that is not a DNS label.
pub fn starter(dir: &Path, name: Option<String>) -> Result<Starter, String> {
    let spec = dir.join("mlship.yaml");
    if spec.exists() {
        return Err(format!("{} already exists; not overwriting it", spec.display()));
    }
    let name = match name {
        Some(n) => n,
        None => {
            let abs = std::path::absolute(dir).map_err(|e| e.to_string())?;
            names::suggest(
                &abs.file_name()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        }
    };
    if !names::is_dns_label(&name) {
        return Err(format!(
            "`{name}` is not a valid project name; pass --name, e.g. --name {}",
            names::suggest(&name)
        ));
    }
    let files = [
        ("mlship.yaml", SPEC.replace("{{project}}", &name)),
        ("requirements.txt", REQUIREMENTS.to_string()),
        ("app/main.py", MAIN_PY.to_string()),
        // What the spec's modeline points editors at: offline, and the binary's own version.
        (SCHEMA_FILE, crate::schema::schema_text().to_string()),
    ]
    .into_iter()
    .map(|(rel, text)| (dir.join(rel), text))
    .collect();
    Ok(Starter { spec, files })
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn the_starter_is_named_and_its_spec_compiles() {
        let s = starter(Path::new("/nonexistent/Fraud_Model"), None).unwrap();
        assert_eq!(s.spec, Path::new("/nonexistent/Fraud_Model/mlship.yaml"));
        let (path, text) = &s.files[0];
        assert_eq!(path, &s.spec);
        assert!(
            text.contains(&format!("project: {}", names::suggest("Fraud_Model"))),
            "{text}"
        );
        let project = crate::project::MemProject(
            s.files
                .iter()
                .skip(1)
                .map(|(p, t)| {
                    let rel = p.strip_prefix("/nonexistent/Fraud_Model").unwrap();
                    (rel.display().to_string(), t.clone().into_bytes())
                })
                .collect(),
        );
        let c = crate::compile("mlship.yaml", text.as_bytes(), &project);
        assert!(c.output.is_some(), "{:?}", c.diagnostics);
    }

    #[test]
    fn bad_names_and_existing_specs_are_refused() {
        let e = starter(Path::new("/nonexistent"), Some("Bad_Name".into()))
            .err()
            .unwrap();
        assert_eq!(
            e,
            "`Bad_Name` is not a valid project name; pass --name, e.g. --name bad-name"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mlship.yaml"), "").unwrap();
        let e = starter(dir.path(), Some("demo".into())).err().unwrap();
        assert!(e.ends_with("mlship.yaml already exists; not overwriting it"), "{e}");
    }
}
