//! A project folder on disk, behind the symlink guard.

use super::{Project, lexically_inside, outside};
use std::io;
use std::path::PathBuf;

/// Reads files next to the spec, refusing anything (symlinks too) that leads outside.
///
/// A path is refused without touching the disk when it is absolute or its `..` climbs out;
/// otherwise it is resolved with every symlink followed and refused unless the result lies
/// inside the project's own resolved folder. Missing files are `NotFound`, refused ones
/// `PermissionDenied`, symlink loops their own error.
pub struct DirProject {
    root: PathBuf,
}

impl DirProject {
    /// The project in `root` (the spec's folder; it may itself be reached through a symlink).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn resolve(&self, rel: &str) -> io::Result<PathBuf> {
        lexically_inside(rel)?;
        let root = self.root.canonicalize()?;
        let path = root.join(rel).canonicalize()?;
        if !path.starts_with(&root) {
            return Err(outside());
        }
        Ok(path)
    }
}

impl Project for DirProject {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.resolve(rel)?)
    }

    fn exists(&self, rel: &str) -> io::Result<()> {
        self.resolve(rel).map(|_| ())
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// A temporary folder with `project/` (holding `app/main.py`) and, beside it,
    /// `outside/secret.txt`.
    fn layout() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().join("project");
        fs::create_dir_all(project.join("app")).unwrap();
        fs::write(project.join("app/main.py"), "print()\n").unwrap();
        fs::create_dir_all(tmp.path().join("outside")).unwrap();
        fs::write(tmp.path().join("outside/secret.txt"), "secret\n").unwrap();
        (tmp, project)
    }

    fn kind<T: std::fmt::Debug>(r: io::Result<T>) -> io::ErrorKind {
        r.unwrap_err().kind()
    }

    fn refused(p: &DirProject, rel: &str) {
        assert_eq!(kind(p.read(rel)), io::ErrorKind::PermissionDenied, "read {rel}");
        assert_eq!(kind(p.exists(rel)), io::ErrorKind::PermissionDenied, "exists {rel}");
    }

    #[test]
    fn files_inside_are_read_and_missing_ones_are_not_found() {
        let (_tmp, root) = layout();
        let p = DirProject::new(&root);
        assert_eq!(p.read("app/main.py").unwrap(), b"print()\n");
        assert_eq!(p.read("./app/../app/main.py").unwrap(), b"print()\n");
        assert!(p.exists("app").is_ok() && p.exists("app/").is_ok());
        assert_eq!(kind(p.read("nope.txt")), io::ErrorKind::NotFound);
        assert_eq!(kind(p.exists("app/nope/")), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_symlink_to_outside_is_refused() {
        let (tmp, root) = layout();
        symlink(tmp.path().join("outside/secret.txt"), root.join("link.txt")).unwrap();
        // A relative link target is resolved the same way.
        symlink("../outside/secret.txt", root.join("relative.txt")).unwrap();
        let p = DirProject::new(&root);
        refused(&p, "link.txt");
        refused(&p, "relative.txt");
    }

    #[test]
    fn a_symlinked_parent_folder_that_leads_outside_is_refused() {
        let (tmp, root) = layout();
        symlink(tmp.path().join("outside"), root.join("data")).unwrap();
        let p = DirProject::new(&root);
        refused(&p, "data");
        refused(&p, "data/");
        refused(&p, "data/secret.txt");
    }

    #[test]
    fn symlinks_that_stay_inside_are_followed() {
        let (_tmp, root) = layout();
        symlink(root.join("app"), root.join("src")).unwrap();
        symlink("app/main.py", root.join("main.py")).unwrap();
        let p = DirProject::new(&root);
        assert_eq!(p.read("src/main.py").unwrap(), b"print()\n");
        assert_eq!(p.read("main.py").unwrap(), b"print()\n");
        assert!(p.exists("src/").is_ok());
    }

    #[test]
    fn a_project_folder_reached_through_a_symlink_still_reads() {
        let (tmp, root) = layout();
        symlink(&root, tmp.path().join("alias")).unwrap();
        let p = DirProject::new(tmp.path().join("alias"));
        assert_eq!(p.read("app/main.py").unwrap(), b"print()\n");
        // The guard compares resolved paths: the alias does not widen the project.
        refused(&p, "../outside/secret.txt");
    }

    #[test]
    fn a_symlink_loop_is_an_error_not_a_hang() {
        let (_tmp, root) = layout();
        symlink("b", root.join("a")).unwrap();
        symlink("a", root.join("b")).unwrap();
        symlink("self", root.join("self")).unwrap();
        let p = DirProject::new(&root);
        for rel in ["a", "b", "self", "a/x"] {
            assert!(p.read(rel).is_err(), "{rel}");
            assert!(p.exists(rel).is_err(), "{rel}");
        }
    }

    #[test]
    fn dot_dot_is_refused_before_the_disk_is_asked() {
        let (tmp, root) = layout();
        let p = DirProject::new(&root);
        // It exists out there, and it does not: the answer is the same, so a spec cannot
        // probe the disk outside the project.
        refused(&p, "../outside/secret.txt");
        refused(&p, "../outside/nope.txt");
        refused(&p, "app/../../outside/secret.txt");
        refused(&p, "..");
        assert!(tmp.path().join("outside/secret.txt").exists());
    }

    #[test]
    fn absolute_paths_are_refused_even_inside_the_project() {
        let (tmp, root) = layout();
        let p = DirProject::new(&root);
        refused(&p, &tmp.path().join("outside/secret.txt").display().to_string());
        refused(&p, &root.join("app/main.py").display().to_string());
        refused(&p, "/");
        refused(&p, "/etc/passwd");
    }

    #[test]
    fn a_dangling_symlink_is_not_found() {
        let (_tmp, root) = layout();
        symlink("gone.txt", root.join("dangling.txt")).unwrap();
        let p = DirProject::new(&root);
        assert_eq!(kind(p.read("dangling.txt")), io::ErrorKind::NotFound);
    }
}
