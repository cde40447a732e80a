//! Project readers: the files next to a spec, read through one trait.
//!
//! Takes: a path relative to the spec's folder. Gives: its bytes, or whether it exists. The
//! compiler never opens a file itself; it asks a [`Project`] (typst's `World`), so every
//! stage runs the same on disk, at a git revision, and in memory:
//!
//! - [`DirProject`]: a folder on disk. Refuses any path that leads outside it, through `..`,
//!   an absolute path or a symlink (docs/security.md).
//! - [`GitProject`]: the files as they were at a git revision, without a checkout.
//! - [`MemProject`]: files held in memory, for tests and the fuzzers.
//!
//! Readers only: this module never writes and never prints. It sits below every stage and
//! uses none of them.

mod dir;
mod git;

pub use dir::DirProject;
pub use git::GitProject;

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path};

/// Read access to files next to the spec. Paths are relative and already checked.
pub trait Project {
    /// The bytes of a file.
    fn read(&self, rel: &str) -> io::Result<Vec<u8>>;
    /// Whether a file or folder exists inside the project: `NotFound` when it does not,
    /// `PermissionDenied` when it (through a symlink) leads outside.
    fn exists(&self, rel: &str) -> io::Result<()>;
}

/// Files held in memory, for tests and the fuzzers.
#[derive(Default)]
pub struct MemProject(pub BTreeMap<String, Vec<u8>>);

impl Project for MemProject {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        self.0
            .get(rel)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not found"))
    }

    fn exists(&self, rel: &str) -> io::Result<()> {
        let dir = format!("{}/", rel.trim_end_matches('/'));
        if self.0.contains_key(rel) || self.0.keys().any(|k| k.starts_with(&dir)) {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "not found"))
        }
    }
}

/// The error of a path that leads outside the project.
fn outside() -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, "the path leads outside the project")
}

/// Refuses, before anything is read, a path that is absolute or whose `..` climbs above the
/// project's folder. `a/../b` stays inside and passes; symlinks are the readers' business.
fn lexically_inside(rel: &str) -> io::Result<()> {
    let mut depth = 0usize;
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => depth = depth.checked_sub(1).ok_or_else(outside)?,
            Component::RootDir | Component::Prefix(_) => return Err(outside()),
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn lexical_guard() {
        for ok in ["a", "a/b", "./a", "a/../b", "a/", "", "."] {
            assert!(lexically_inside(ok).is_ok(), "{ok}");
        }
        for bad in ["..", "../a", "a/../..", "a/../../b", "/etc/passwd", "/"] {
            let e = lexically_inside(bad).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{bad}");
        }
    }

    #[test]
    fn memory_project_answers_for_files_and_folders() {
        let p = MemProject([("app/main.py".to_string(), b"x".to_vec())].into());
        assert_eq!(p.read("app/main.py").unwrap(), b"x");
        assert!(p.exists("app").is_ok() && p.exists("app/").is_ok());
        assert_eq!(p.exists("ap").unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(p.read("app").unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
