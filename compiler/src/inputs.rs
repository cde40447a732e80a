//! A command's inputs on disk: the spec in a folder, every spec under one, the manifests
//! and CRD files under folders, a spec file's bytes within the input limit.
//!
//! Folder walks go through the `ignore` crate: they skip what `.gitignore` (and git's other
//! exclude files) ignore, with or without a repository, skip hidden folders, survive symlink
//! loops, and return their paths sorted, so the order never depends on the file system. Reads
//! only; the files a spec names are read through [`crate::project`].

use ignore::WalkBuilder;
use std::path::{Path, PathBuf};

const SPEC_NAMES: [&str; 3] = ["mlship.yaml", "mlship.yml", "mlship.kdl"];

fn is_spec(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| SPEC_NAMES.contains(&n))
}

/// The specs of the projects that changed files belong to: a spec itself, or the spec of
/// the nearest folder above the file that has one (a file the spec names, its rendered
/// tree). Files of no project, and deleted specs, give none. Sorted, each once.
pub fn enclosing_specs(changed: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = std::collections::BTreeSet::new();
    for path in changed {
        // A deleted spec (a project removed in the commit) has nothing left to check.
        if is_spec(path) {
            if path.is_file() {
                out.insert(path.clone());
            }
            continue;
        }
        for dir in path.ancestors().skip(1) {
            let here: Vec<PathBuf> = SPEC_NAMES.iter().map(|n| dir.join(n)).filter(|p| p.is_file()).collect();
            if !here.is_empty() {
                out.extend(here);
                break;
            }
        }
    }
    out.into_iter().collect()
}

/// The one spec in the current folder.
pub fn default_spec() -> Result<PathBuf, String> {
    let found: Vec<PathBuf> = SPEC_NAMES.iter().map(PathBuf::from).filter(|p| p.exists()).collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("no mlship.yaml or mlship.kdl in this folder; name the spec file, or run `mlship init`".into()),
        several => {
            let names: Vec<String> = several.iter().map(|p| p.display().to_string()).collect();
            let all = if names.len() == 2 { "both" } else { "all" };
            Err(format!("{} are {all} here; name the one to use", names.join(" and ")))
        }
    }
}

/// The folder a spec's relative paths start from: the one holding it.
pub fn spec_dir(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// A spec file's bytes, at most one byte past the input limit: the read itself is bounded,
/// not the length the file claims (a symlink to `/dev/zero` or a file in `/proc` claims
/// none), so the loader sees a file past the limit and words the error. A named pipe or a
/// socket is refused before it is opened: opening a pipe waits for a writer, maybe forever.
pub fn read_spec(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let max = crate::syntax::LIMITS.max_bytes as u64;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let kind = std::fs::metadata(path).map_err(cannot)?.file_type();
    if kind.is_fifo() || kind.is_socket() {
        let what = if kind.is_fifo() { "a named pipe" } else { "a socket" };
        return Err(format!("cannot read {}: it is {what}, not a file", path.display()));
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(cannot)?;
    Ok(bytes)
}

/// The walker both searches use: git's ignore rules, applied even outside a repository.
fn walker(root: &Path, follow_links: bool) -> WalkBuilder {
    let mut w = WalkBuilder::new(root);
    w.standard_filters(true)
        // `.ignore` files are ripgrep's convention, not git's.
        .ignore(false)
        .require_git(false)
        .follow_links(follow_links)
        .sort_by_file_name(|a, b| a.cmp(b));
    w
}

/// Whether a walk error is a symlink loop: the walk has seen that folder already.
fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => is_loop(err),
        _ => false,
    }
}

/// Every spec file under `root` that git does not ignore, as paths relative to `root`, sorted.
/// Symlinked folders are not followed (git does not follow them either). Anything named as a
/// spec but a folder is one, so that a spec that cannot be read (a symlink to `/dev/zero`, a
/// dangling symlink, a pipe) is reported by name, never silently left out.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let mut walk = walker(root, false);
    // A rendered tree (its lock file at its root) holds no spec: at a monorepo's root, its
    // files are most of what there is to walk.
    walk.filter_entry(|e| {
        let has = |name: &str| std::fs::symlink_metadata(e.path().join(name)).is_ok();
        !(e.file_type().is_some_and(|t| t.is_dir())
            && e.depth() > 0
            && has(crate::names::TREE_LOCK)
            && !SPEC_NAMES.iter().any(|n| has(n)))
    });
    for entry in walk.build() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if is_loop(&e) => continue,
            Err(e) => return Err(e.to_string()),
        };
        let path = entry.path();
        if is_spec(path) && !path.is_dir() {
            found.push(path.strip_prefix(root).unwrap_or(path).to_path_buf());
        }
    }
    found.sort();
    if found.is_empty() {
        return Err("no mlship.yaml or mlship.kdl under this folder".into());
    }
    Ok(found)
}

/// A file's text, or why it is not text.
pub type FileText = Result<String, String>;

/// The manifest files named by `paths`, each with its text, or why it is not text: a file as
/// given, `-` for standard input, a folder walked for `*.yaml`, `*.yml` and `*.json`
/// (symlinked folders followed, each once) in sorted order. A file that is not UTF-8 is
/// reported with the others, not fatal.
pub fn manifests(paths: &[PathBuf]) -> Result<Vec<(String, FileText)>, String> {
    let mut files = Vec::new();
    for path in paths {
        let mut found = Vec::new();
        if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            files.push(("<stdin>".to_string(), text(bytes)));
            continue;
        }
        if path.is_dir() {
            found = files_under(path, |p| crate::validate::is_manifest(&p.to_string_lossy()))?;
        } else {
            found.push(path.clone());
        }
        for f in found {
            let bytes = std::fs::read(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            files.push((f.display().to_string(), text(bytes)));
        }
    }
    Ok(files)
}

/// The files under `dir` that `keep` takes, sorted: symlinked folders followed, each once;
/// what git ignores left out.
fn files_under(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    for entry in walker(dir, true).build() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if is_loop(&e) => continue,
            Err(e) => return Err(e.to_string()),
        };
        if !entry.file_type().is_some_and(|t| t.is_dir()) && keep(entry.path()) {
            found.push(entry.into_path());
        }
    }
    found.sort();
    Ok(found)
}

/// One CRD file: its name, its text, and whether it was named (not found in a folder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrdFile {
    pub name: String,
    pub text: String,
    pub named: bool,
}

/// The CustomResourceDefinition files named by `paths` (`--crd`): a file as given, a folder
/// walked for `*.yaml` and `*.yml` (as for manifests: ignored files left out, sorted). Each
/// file once, in that order; a file that cannot be read or is not UTF-8 is an error.
pub fn crd_files(paths: &[PathBuf]) -> Result<Vec<CrdFile>, String> {
    let mut out: Vec<CrdFile> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for path in paths {
        let mut found = Vec::new();
        if path.is_dir() {
            let yaml = |p: &Path| {
                let name = p.file_name().unwrap_or_default().to_string_lossy().to_ascii_lowercase();
                name.ends_with(".yaml") || name.ends_with(".yml")
            };
            found = files_under(path, yaml)?.into_iter().map(|f| (f, false)).collect();
        } else {
            found.push((path.clone(), true));
        }
        for (f, named) in found {
            if !seen.insert(std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone())) {
                continue;
            }
            let bytes = std::fs::read(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            let text = text(bytes).map_err(|why| format!("{}: {why}", f.display()))?;
            out.push(CrdFile {
                name: f.display().to_string(),
                text,
                named,
            });
        }
    }
    Ok(out)
}

fn text(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 (an invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn touch(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn names(found: &[PathBuf]) -> Vec<String> {
        found.iter().map(|p| p.display().to_string()).collect()
    }

    /// Issue 14: a spec that is a symlink to `/dev/zero` was read without bound, because the
    /// limit was checked on the length its metadata gives (none).
    #[test]
    fn spec_symlinked_to_dev_zero_is_read_only_to_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = tmp.path().join("mlship.yaml");
        symlink("/dev/zero", &spec).unwrap();
        let bytes = read_spec(&spec).unwrap();
        assert_eq!(bytes.len(), crate::syntax::LIMITS.max_bytes + 1);
        // A regular file is read whole, and one past the limit only to one byte past it.
        touch(tmp.path(), "small.yaml", "project: x\n");
        assert_eq!(read_spec(&tmp.path().join("small.yaml")).unwrap(), b"project: x\n");
        touch(
            tmp.path(),
            "big.yaml",
            &"#".repeat(crate::syntax::LIMITS.max_bytes + 10),
        );
        assert_eq!(
            read_spec(&tmp.path().join("big.yaml")).unwrap().len(),
            crate::syntax::LIMITS.max_bytes + 1
        );
        let missing = read_spec(&tmp.path().join("nope.yaml")).unwrap_err();
        assert!(missing.starts_with("cannot read "), "{missing}");
    }

    #[test]
    fn discovery_is_sorted_and_respects_gitignore_without_git() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for rel in [
            "z/mlship.yaml",
            "a/b/mlship.kdl",
            "a/mlship.yml",
            "mlship.yaml",
            "ignored/mlship.yaml",
            "nested/ignored-too/mlship.yaml",
            ".hidden/mlship.yaml",
            "a/not-a-spec.yaml",
        ] {
            touch(root, rel, "project: x\n");
        }
        touch(root, ".gitignore", "/ignored/\n");
        touch(root, "nested/.gitignore", "ignored-too\n");
        assert!(!root.join(".git").exists());
        assert_eq!(
            names(&discover(root).unwrap()),
            ["a/b/mlship.kdl", "a/mlship.yml", "mlship.yaml", "z/mlship.yaml"]
        );
    }

    #[test]
    fn discovery_survives_symlink_loops_and_does_not_follow_folder_links() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        touch(root, "p/mlship.yaml", "project: x\n");
        symlink(root, root.join("p/loop")).unwrap();
        symlink("..", root.join("p/up")).unwrap();
        symlink("p", root.join("alias")).unwrap();
        assert_eq!(names(&discover(root).unwrap()), ["p/mlship.yaml"]);
    }

    #[test]
    fn discovery_does_not_walk_rendered_trees() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        touch(root, "p/mlship.yaml", "project: x\n");
        touch(root, "p/deploy/mlship.lock.json", "{}");
        // Nothing below a tree's root is a spec (a file named like one is not walked to).
        touch(root, "p/deploy/envs/mlship.yaml", "project: x\n");
        // A folder with a lock file and a spec is a project, walked as any other.
        touch(root, "q/mlship.lock.json", "{}");
        touch(root, "q/mlship.kdl", "project \"x\"\n");
        touch(root, "q/sub/mlship.yaml", "project: x\n");
        assert_eq!(
            names(&discover(root).unwrap()),
            ["p/mlship.yaml", "q/mlship.kdl", "q/sub/mlship.yaml"]
        );
        // The root itself is walked whatever it holds.
        assert_eq!(names(&discover(&root.join("p/deploy")).unwrap()), ["envs/mlship.yaml"]);
    }

    #[test]
    fn discovery_without_specs_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        touch(tmp.path(), "README.md", "");
        assert_eq!(
            discover(tmp.path()).unwrap_err(),
            "no mlship.yaml or mlship.kdl under this folder"
        );
    }

    #[test]
    fn manifests_walk_sorted_follows_links_once_and_skips_what_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("m");
        for rel in [
            "b.yaml",
            "a/z.yml",
            "a/y.YAML",
            "kustomization.yaml",
            "notes.txt",
            "gen/out.yaml",
        ] {
            touch(&root, rel, "kind: ConfigMap\n");
        }
        touch(&root, ".gitignore", "gen/\n");
        touch(tmp.path(), "shared/common.yaml", "kind: Secret\n");
        symlink(tmp.path().join("shared"), root.join("shared")).unwrap();
        symlink(&root, root.join("a/loop")).unwrap();
        let files = manifests(std::slice::from_ref(&root)).unwrap();
        let got: Vec<&str> = files
            .iter()
            .map(|(n, _)| n.strip_prefix(&format!("{}/", root.display())).unwrap())
            .collect();
        assert_eq!(got, ["a/y.YAML", "a/z.yml", "b.yaml", "shared/common.yaml"]);
        assert_eq!(files[3].1.as_deref(), Ok("kind: Secret\n"));
    }

    #[test]
    fn named_manifest_files_are_read_as_given_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        touch(tmp.path(), "b.yaml", "b");
        touch(tmp.path(), "a.yaml", "a");
        let paths = [tmp.path().join("b.yaml"), tmp.path().join("a.yaml")];
        let files = manifests(&paths).unwrap();
        assert_eq!(
            files.iter().map(|(_, t)| t.as_deref().unwrap()).collect::<Vec<_>>(),
            ["b", "a"]
        );
        let missing = manifests(&[tmp.path().join("nope.yaml")]).unwrap_err();
        assert!(missing.starts_with("cannot read "), "{missing}");
    }

    #[test]
    fn crd_folders_give_their_yaml_files_sorted_each_file_once() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("crds");
        for rel in ["b.yaml", "a/c.yml", "a.json", "notes.md"] {
            touch(&root, rel, "kind: CustomResourceDefinition\n");
        }
        let files = crd_files(&[root.clone(), root.join("b.yaml")]).unwrap();
        let got: Vec<(&str, bool)> = files
            .iter()
            .map(|f| (f.name.strip_prefix(&format!("{}/", root.display())).unwrap(), f.named))
            .collect();
        assert_eq!(got, [("a/c.yml", false), ("b.yaml", false)]);
        let named = crd_files(&[root.join("a.json")]).unwrap();
        assert!(named[0].named);
        assert!(
            crd_files(&[root.join("nope.yaml")])
                .unwrap_err()
                .starts_with("cannot read ")
        );
    }
}
