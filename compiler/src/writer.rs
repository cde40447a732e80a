//! The writer: the only module that changes the file system.
//!
//! Takes: an [`Output`] and a folder. Gives: the folder holding exactly that tree, changed
//! atomically. New files are staged in `.mlship-staging/`, then a journal naming every move
//! and removal is written with one rename; applying it renames files into place and removes
//! the files the previous lock listed that the new tree lacks. A crash at any point leaves
//! the old tree or (after the next run rolls the journal forward) the new one. This holds
//! for process crashes (SIGKILL, OOM, Ctrl-C); only the journal is fsynced, so after a power
//! loss `mlship check` may find the tree stale and `mlship build` repairs it. Files the
//! previous lock does not list are never removed or overwritten. Nothing changed, nothing
//! written. [`create_new`] writes `mlship init`'s starter files, never over an existing one.

#![allow(
    clippy::disallowed_methods,
    reason = "the writer is the one module that changes the file system"
)]

use crate::emit::{LOCK_FILE, Output};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const STAGING: &str = ".mlship-staging";
const JOURNAL: &str = ".mlship-journal.json";

#[derive(Debug, Default, PartialEq)]
pub struct Report {
    pub written: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Journal {
    moves: Vec<String>,
    removes: Vec<String>,
}

/// Files the previous build wrote, from its lock.
pub fn previous_files(out: &Path) -> BTreeMap<String, String> {
    let Ok(text) = fs::read_to_string(out.join(LOCK_FILE)) else {
        return BTreeMap::new();
    };
    let Ok(lock) = serde_json::from_str::<serde_json::Value>(&text) else {
        return BTreeMap::new();
    };
    lock["files"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .filter(|(k, _)| safe_rel(k))
                .collect()
        })
        .unwrap_or_default()
}

/// The bytes of every file the previous build wrote that is still on disk.
pub fn read_previous(out: &Path) -> BTreeMap<String, Vec<u8>> {
    previous_files(out)
        .into_keys()
        .filter_map(|rel| fs::read(out.join(&rel)).ok().map(|b| (rel, b)))
        .collect()
}

/// A generated relative path that stays inside the output folder.
fn safe_rel(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && rel.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
        && !rel.contains('\\')
}

pub fn write(out: &Path, tree: &Output) -> io::Result<Report> {
    if let Some(bad) = tree.files.keys().find(|r| !safe_rel(r)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to write outside the output folder: {bad}"),
        ));
    }
    if let Some(r) = write_fresh(out, tree)? {
        return Ok(r);
    }
    fs::create_dir_all(out)?;
    recover(out)?;
    let previous = previous_files(out);
    let mut report = Report::default();
    let mut moves = Vec::new();
    for (rel, same) in on_disk(out, tree) {
        let target = out.join(rel);
        match same {
            Ok(true) => report.unchanged += 1,
            Ok(false) if !previous.contains_key(rel) && rel != LOCK_FILE => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} exists and was not written by mlship; move it away or delete it",
                        target.display()
                    ),
                ));
            }
            _ => moves.push(rel.clone()),
        }
    }
    let removes: Vec<String> = previous
        .keys()
        .filter(|k| !tree.files.contains_key(*k) && out.join(k).exists())
        .cloned()
        .collect();
    if moves.is_empty() && removes.is_empty() {
        return Ok(report);
    }
    // Stage every changed file, the lock last among them.
    let staging = out.join(STAGING);
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    moves.sort_by_key(|r| r == LOCK_FILE);
    let (lock, rest): (Vec<&String>, Vec<&String>) = moves.iter().partition(|r| *r == LOCK_FILE);
    for part in [rest, lock] {
        write_files(
            &staging,
            part.into_iter().map(|rel| (rel.as_str(), tree.files[rel].as_slice())),
        )?;
    }
    let journal = Journal {
        moves: moves.clone(),
        removes: removes.clone(),
    };
    let tmp = out.join(format!("{JOURNAL}.tmp"));
    write_synced(&tmp, &serde_json::to_vec(&journal).expect("journal serializes"))?;
    fs::rename(&tmp, out.join(JOURNAL))?;
    apply(out, &journal)?;
    report.written = moves;
    report.removed = removes;
    Ok(report)
}

/// Finish a build that stopped after writing its journal; drop staging of one that did not.
pub fn recover(out: &Path) -> io::Result<()> {
    let journal_path = out.join(JOURNAL);
    match fs::read(&journal_path) {
        Ok(bytes) => match serde_json::from_slice::<Journal>(&bytes) {
            Ok(j) if j.moves.iter().chain(&j.removes).all(|r| safe_rel(r)) => apply(out, &j),
            _ => {
                fs::remove_file(&journal_path)?;
                remove_if_exists(&out.join(STAGING))
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let _ = fs::remove_file(out.join(format!("{JOURNAL}.tmp")));
            remove_if_exists(&out.join(STAGING))
        }
        Err(e) => Err(e),
    }
}

fn apply(out: &Path, j: &Journal) -> io::Result<()> {
    let staging = out.join(STAGING);
    let mut dirs = Dirs::default();
    for rel in &j.moves {
        let to = out.join(rel);
        dirs.make_parent(&to)?;
        // A move that is missing from staging was done before a crash.
        match fs::rename(staging.join(rel), &to) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    for rel in &j.removes {
        match fs::remove_file(out.join(rel)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => remove_empty_parents(out, &out.join(rel)),
        }
    }
    fs::remove_file(out.join(JOURNAL))?;
    remove_if_exists(&staging)
}

fn remove_empty_parents(out: &Path, file: &Path) {
    let mut dir: Option<PathBuf> = file.parent().map(Path::to_path_buf);
    while let Some(d) = dir {
        if d == out || fs::remove_dir(&d).is_err() {
            break;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
}

fn remove_if_exists(p: &Path) -> io::Result<()> {
    match fs::remove_dir_all(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Each file of `tree` with whether the file on disk has the same bytes (an error when it
/// cannot be read), compared on several threads.
fn on_disk<'a>(out: &Path, tree: &'a Output) -> Vec<(&'a String, io::Result<bool>)> {
    let files: Vec<(&String, &Vec<u8>)> = tree.files.iter().collect();
    let same = each(&files, |(rel, bytes)| fs::read(out.join(rel)).map(|b| b == **bytes));
    files.into_iter().map(|(rel, _)| rel).zip(same).collect()
}

/// Write `files` (relative path, bytes) under `root`: each parent folder is created once, then
/// the files are written on several threads, since creating many small files is the slow part
/// of a large build.
fn write_files<'a>(root: &Path, files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> io::Result<()> {
    let mut dirs = Dirs::default();
    let files: Vec<(PathBuf, &[u8])> = files.into_iter().map(|(rel, bytes)| (root.join(rel), bytes)).collect();
    for (path, _) in &files {
        dirs.make_parent(path)?;
    }
    each(&files, |(path, bytes)| fs::File::create(path)?.write_all(bytes))
        .into_iter()
        .collect()
}

/// `f` of every item, in order. Many items are split across up to four threads; few are done
/// on this one, where a thread would cost more than it saves.
fn each<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const PER_THREAD: usize = 256;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4)
        .min(items.len().div_ceil(PER_THREAD));
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let chunks: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        chunks
            .into_iter()
            .flat_map(|h| h.join().expect("a writer thread does not panic"))
            .collect()
    })
}

/// Creates each parent folder once.
#[derive(Default)]
struct Dirs(std::collections::HashSet<PathBuf>);

impl Dirs {
    fn make_parent(&mut self, path: &Path) -> io::Result<()> {
        if let Some(parent) = path.parent()
            && !self.0.contains(parent)
        {
            fs::create_dir_all(parent)?;
            self.0.insert(parent.to_path_buf());
        }
        Ok(())
    }
}

/// A first build into a folder that does not exist: write the tree beside it, then rename
/// it into place, so the folder appears complete or not at all.
fn write_fresh(out: &Path, tree: &Output) -> io::Result<Option<Report>> {
    if out.exists() {
        return Ok(None);
    }
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "deploy".into());
    let tmp = out.with_file_name(format!(".{name}.mlship-new"));
    remove_if_exists(&tmp)?;
    write_files(
        &tmp,
        tree.files.iter().map(|(rel, bytes)| (rel.as_str(), bytes.as_slice())),
    )?;
    fs::rename(&tmp, out)?;
    Ok(Some(Report {
        written: tree.files.keys().cloned().collect(),
        removed: Vec::new(),
        unchanged: 0,
    }))
}

/// The journal is the commit point, so it alone is flushed to disk before the rename.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Files on disk that differ from the tree: (path, reason). Empty means up to date.
pub fn stale(out: &Path, tree: &Output) -> Vec<(String, &'static str)> {
    let previous = previous_files(out);
    let mut diffs = Vec::new();
    for (rel, same) in on_disk(out, tree) {
        match same {
            Ok(true) => {}
            Ok(false) => diffs.push((rel.clone(), "changed")),
            Err(_) => diffs.push((rel.clone(), "missing")),
        }
    }
    for rel in previous.keys().filter(|k| !tree.files.contains_key(*k)) {
        if out.join(rel).exists() {
            diffs.push((rel.clone(), "no longer generated"));
        }
    }
    diffs
}

/// Creates one file that does not exist yet, with its parent folders: `mlship init`'s
/// starter files. Never overwrites and never follows a symlink at `path`: `Ok(false)` when
/// something is there already.
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    match fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => f.write_all(bytes).map(|()| true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Output {
        Output {
            files: files
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    fn lock_of(files: &[&str]) -> String {
        let m: serde_json::Map<String, serde_json::Value> = files
            .iter()
            .map(|f| ((*f).to_string(), serde_json::json!("x")))
            .collect();
        serde_json::json!({ "files": m }).to_string()
    }

    #[test]
    fn writes_removes_only_its_own_files_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join("README.md"), "mine").unwrap();
        let first = tree(&[
            ("envs/a/x.yaml", "1"),
            ("envs/a/y.yaml", "2"),
            (LOCK_FILE, &lock_of(&["envs/a/x.yaml", "envs/a/y.yaml"])),
        ]);
        let r = write(out, &first).unwrap();
        assert_eq!(r.written.len(), 3);
        assert_eq!(r.written.last().unwrap(), LOCK_FILE);
        let again = write(out, &first).unwrap();
        assert!(again.written.is_empty() && again.removed.is_empty());
        let second = tree(&[("envs/a/x.yaml", "1b"), (LOCK_FILE, &lock_of(&["envs/a/x.yaml"]))]);
        let r = write(out, &second).unwrap();
        assert_eq!(r.removed, vec!["envs/a/y.yaml".to_string()]);
        assert_eq!(fs::read_to_string(out.join("envs/a/x.yaml")).unwrap(), "1b");
        assert!(!out.join("envs/a/y.yaml").exists());
        assert_eq!(fs::read_to_string(out.join("README.md")).unwrap(), "mine");
        assert!(!out.join(STAGING).exists() && !out.join(JOURNAL).exists());
    }

    #[test]
    fn many_files_are_written_compared_and_found_stale_on_several_threads() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        let names: Vec<String> = (0..1000).map(|i| format!("envs/e{}/f{i}.yaml", i % 3)).collect();
        let build = |tag: &str| {
            let mut files: Vec<(String, String)> = names.iter().map(|n| (n.clone(), format!("{n} {tag}"))).collect();
            files.push((
                LOCK_FILE.into(),
                lock_of(&names.iter().map(String::as_str).collect::<Vec<_>>()),
            ));
            Output {
                files: files.into_iter().map(|(k, v)| (k, v.into_bytes())).collect(),
            }
        };
        let first = build("1");
        assert_eq!(write(&out, &first).unwrap().written.len(), 1001);
        assert!(stale(&out, &first).is_empty());
        let mut second = build("1");
        second.files.insert("envs/e1/f1.yaml".into(), b"changed".to_vec());
        assert_eq!(stale(&out, &second), vec![("envs/e1/f1.yaml".to_string(), "changed")]);
        let r = write(&out, &second).unwrap();
        assert_eq!((r.written, r.unchanged), (vec!["envs/e1/f1.yaml".to_string()], 1000));
        for (rel, bytes) in &second.files {
            assert_eq!(&fs::read(out.join(rel)).unwrap(), bytes, "{rel}");
        }
    }

    #[test]
    fn a_first_build_appears_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        fs::create_dir_all(dir.path().join(".deploy.mlship-new/stale")).unwrap(); // left by a crash
        let r = write(
            &out,
            &tree(&[("envs/a/x.yaml", "1"), (LOCK_FILE, &lock_of(&["envs/a/x.yaml"]))]),
        )
        .unwrap();
        assert_eq!(r.written.len(), 2);
        assert_eq!(fs::read_to_string(out.join("envs/a/x.yaml")).unwrap(), "1");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "only deploy/ is left");
    }

    #[test]
    fn refuses_to_overwrite_foreign_files_and_paths_that_escape() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.yaml"), "user").unwrap();
        assert!(write(dir.path(), &tree(&[("a.yaml", "ours")])).is_err());
        assert_eq!(fs::read_to_string(dir.path().join("a.yaml")).unwrap(), "user");
        assert!(write(dir.path(), &tree(&[("../evil", "x")])).is_err());
    }

    #[test]
    fn a_journal_left_by_a_crash_is_rolled_forward() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join("old.yaml"), "old").unwrap();
        write_files(&out.join(STAGING), [("new.yaml", &b"new"[..])]).unwrap();
        let j = Journal {
            moves: vec!["new.yaml".into()],
            removes: vec!["old.yaml".into()],
        };
        fs::write(out.join(JOURNAL), serde_json::to_vec(&j).unwrap()).unwrap();
        recover(out).unwrap();
        assert_eq!(fs::read_to_string(out.join("new.yaml")).unwrap(), "new");
        assert!(!out.join("old.yaml").exists() && !out.join(JOURNAL).exists() && !out.join(STAGING).exists());
    }

    #[test]
    fn create_new_makes_folders_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app/main.py");
        assert!(create_new(&path, b"first").unwrap());
        assert!(!create_new(&path, b"second").unwrap());
        assert_eq!(fs::read_to_string(&path).unwrap(), "first");
        // A dangling symlink is something there: its target is not created.
        std::os::unix::fs::symlink(dir.path().join("target.txt"), dir.path().join("link.txt")).unwrap();
        assert!(!create_new(&dir.path().join("link.txt"), b"x").unwrap());
        assert!(!dir.path().join("target.txt").exists());
    }
}
