//! A project as it was at a git revision.

use super::{Project, lexically_inside};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Reads files as they were at a git revision, through `git show` (no checkout).
///
/// Git stores a symlink as its target's text and `git show` prints that text, so nothing
/// outside the repository is reached; absolute paths and `..` climbs are refused as on disk.
pub struct GitProject {
    dir: PathBuf,
    /// The commit the revision named when the project was opened.
    rev: String,
    /// The spec folder's path from the repository root, with a trailing `/` (or empty).
    prefix: String,
}

impl GitProject {
    /// The project in `dir` (the spec's folder) at `rev`: a commit, a branch or a tag.
    pub fn open(dir: &Path, rev: &str) -> Result<Self, String> {
        let commit = git(dir, &["rev-parse", "--verify", &format!("{rev}^{{commit}}")])
            .map_err(|e| format!("unknown revision `{rev}`: {e}"))?;
        let prefix = git(dir, &["rev-parse", "--show-prefix"])?;
        Ok(Self {
            dir: dir.to_path_buf(),
            rev: commit,
            prefix,
        })
    }

    fn show(&self, rel: &str) -> io::Result<Vec<u8>> {
        lexically_inside(rel)?;
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.dir)
            .arg("show")
            .arg(format!("{}:{}{rel}", self.rev, self.prefix))
            .output()?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ))
        }
    }
}

impl Project for GitProject {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        self.show(rel)
    }

    fn exists(&self, rel: &str) -> io::Result<()> {
        // `git show REV:dir` lists a tree, so it answers for files and folders alike.
        self.show(rel.trim_end_matches('/')).map(|_| ())
    }
}

/// Runs git in `dir`: its trimmed output, or its trimmed error message.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let o = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn climbs_and_absolute_paths_are_refused_without_running_git() {
        let p = GitProject {
            dir: PathBuf::from("/nonexistent"),
            rev: "HEAD".into(),
            prefix: String::new(),
        };
        for bad in ["../x", "a/../../x", "/etc/passwd"] {
            assert_eq!(
                p.read(bad).unwrap_err().kind(),
                io::ErrorKind::PermissionDenied,
                "{bad}"
            );
            assert_eq!(
                p.exists(bad).unwrap_err().kind(),
                io::ErrorKind::PermissionDenied,
                "{bad}"
            );
        }
    }
}
