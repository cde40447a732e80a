//! Shared helpers for the tests: the repository root, the one tree walker, compiling from
//! disk, and comparing with a committed expectation (rewritten when `UPDATE_GOLDEN=1` is set).

#![allow(dead_code)]

pub mod transcript;

use mlship::project::Project;
use std::path::{Path, PathBuf};

/// The repository root (the folder of Cargo.toml).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `path` relative to the repository root, with `/` separators (as names in messages).
pub fn rel(path: &Path) -> String {
    slashed(path.strip_prefix(root()).unwrap_or(path))
}

fn slashed(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// Every file under `dir`, at any depth, as paths relative to `dir` with `/` separators,
/// sorted. Folders are not listed and symlinks are not followed (a symlink is listed like a
/// file). A `dir` that does not exist holds no files.
pub fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && d == dir => break,
            Err(e) => panic!("{}: {e}", d.display()),
        };
        for e in entries {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(slashed(e.path().strip_prefix(dir).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The examples (folders of examples/ with an mlship.yaml), sorted by name.
pub fn examples() -> Vec<String> {
    walk(&root().join("examples"))
        .iter()
        .filter_map(|f| f.strip_suffix("/mlship.yaml"))
        .filter(|name| !name.contains('/'))
        .map(str::to_string)
        .collect()
}

/// Copy every file under `from` whose relative path `keep` accepts to the same place under
/// `to`, creating folders as needed.
pub fn copy_tree(from: &Path, to: &Path, keep: impl Fn(&str) -> bool) {
    for rel in walk(from).into_iter().filter(|r| keep(r)) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), dest).unwrap();
    }
}

pub fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Project files read from a folder, as the CLI does (without the symlink guard).
pub struct Dir(pub PathBuf);

impl Project for Dir {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.0.join(rel))
    }

    fn exists(&self, rel: &str) -> std::io::Result<()> {
        std::fs::metadata(self.0.join(rel)).map(|_| ())
    }
}

/// Compile a spec file, naming it by its path relative to the repository root.
pub fn compile(path: &Path) -> mlship::Compiled {
    let bytes = std::fs::read(path).unwrap();
    mlship::compile(&rel(path), &bytes, &Dir(path.parent().unwrap().to_path_buf()))
}

/// Render every diagnostic as the CLI does, without colour.
pub fn rendered(c: &mlship::Compiled) -> String {
    c.diagnostics
        .iter()
        .map(|d| mlship::diag::render(d, &c.file, false))
        .collect()
}

/// Compare `actual` with the file at `expected`, or rewrite it when updating.
pub fn expect_file(expected: &Path, actual: &[u8]) -> Result<(), String> {
    if updating() {
        // An unchanged file is left alone: tests that read the golden trees run alongside,
        // and would read a file that is being rewritten as empty.
        if std::fs::read(expected).is_ok_and(|b| b == actual) {
            return Ok(());
        }
        std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
        std::fs::write(expected, actual).unwrap();
        return Ok(());
    }
    let want =
        std::fs::read(expected).map_err(|_| format!("{} is missing; run bash scripts/regen.sh", expected.display()))?;
    if want == actual {
        return Ok(());
    }
    let (w, a) = (String::from_utf8_lossy(&want), String::from_utf8_lossy(actual));
    let diff = similar::TextDiff::from_lines(w.as_ref(), a.as_ref());
    Err(format!(
        "{} differs (- committed, + now):\n{}",
        expected.display(),
        diff.unified_diff().context_radius(2)
    ))
}
