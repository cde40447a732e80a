//! Shared helpers for the data-driven tests: compile from disk, compare with a committed
//! expectation, and rewrite it when `UPDATE_GOLDEN=1` is set.

#![allow(dead_code)]

use mlship::project::Project;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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
    let name = path.strip_prefix(root()).unwrap_or(path).display().to_string();
    mlship::compile(&name, &bytes, &Dir(path.parent().unwrap().to_path_buf()))
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
        std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
        std::fs::write(expected, actual).unwrap();
        return Ok(());
    }
    let want = std::fs::read(expected)
        .map_err(|_| format!("{} is missing; run UPDATE_GOLDEN=1 cargo test", expected.display()))?;
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
