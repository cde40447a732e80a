//! The output folder as a pull request may leave it: `mlship build` end to end against
//! committed symlinks, an edited lock and a committed journal. Nothing outside the output
//! folder is read, written or removed, and the build says which file stopped it. Every test
//! records its runs and compares the whole transcript with tests/snapshots/output/<test>.txt.
//! Refresh with `UPDATE_GOLDEN=1 cargo test --test output_folder` and review the diff.

#![allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]

mod common;

use common::transcript::Session;
use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;

/// The minimal example in `p/`, built, and a folder `outside/` beside it holding a file.
fn built_project(dir: &Path, s: &mut Session) {
    common::copy_tree(&common::root().join("examples/minimal"), &dir.join("p"), |f| {
        f != "mlship.kdl"
    });
    std::fs::create_dir(dir.join("outside")).unwrap();
    std::fs::write(dir.join("outside/notes.txt"), "mine").unwrap();
    s.note("copy examples/minimal (its YAML spec) to p/; outside/notes.txt holds \"mine\"");
    let run = s.run_in("p", &["build", "mlship.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

/// Every file under `dir` with its bytes; symlinks not followed (listed with their target).
fn everything(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    common::walk(dir)
        .into_iter()
        .map(|rel| {
            let path = dir.join(&rel);
            let bytes = match std::fs::read_link(&path) {
                Ok(to) => format!("-> {}", to.display()).into_bytes(),
                Err(_) => std::fs::read(&path).unwrap(),
            };
            (rel, bytes)
        })
        .collect()
}

/// The lock in `deploy`, with `extra` (file, the text it should hold) listed as well.
fn edit_lock(deploy: &Path, extra: &[(&str, &str)]) {
    let path = deploy.join("mlship.lock.json");
    let mut lock: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for (file, text) in extra {
        lock["files"][*file] = serde_json::json!(mlship::names::sha256(text.as_bytes()));
    }
    std::fs::write(&path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
}

#[test]
fn a_committed_symlink_and_an_edited_lock_do_not_make_build_reach_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut s = Session::new(dir);
    built_project(dir, &mut s);
    let deploy = dir.join("p/deploy");

    // A folder the build writes into is replaced by a symlink out of the tree.
    std::fs::remove_dir_all(deploy.join("envs/default")).unwrap();
    symlink("../../../outside", deploy.join("envs/default")).unwrap();
    s.note("p/deploy/envs/default is a symlink to outside/");
    let before = everything(dir);
    s.run_in("p", &["build", "mlship.yaml"]);
    s.run_in("p", &["check", "mlship.yaml"]);
    assert_eq!(everything(dir), before, "nothing changed, inside or out");

    // A folder the build writes nothing into, with a lock that lists a file "in" it.
    std::fs::remove_file(deploy.join("envs/default")).unwrap();
    s.run_in("p", &["build", "mlship.yaml"]);
    symlink("../../outside", deploy.join("escape")).unwrap();
    edit_lock(&deploy, &[("escape/notes.txt", "mine")]);
    s.note("p/deploy/escape is a symlink to outside/; the lock lists escape/notes.txt with its hash");
    let before = everything(dir);
    s.run_in("p", &["build", "mlship.yaml"]);
    s.run_in("p", &["diff", "mlship.yaml"]);
    assert_eq!(everything(dir), before, "nothing changed, inside or out");
    s.snapshot("output/symlink-and-edited-lock");
}

#[test]
fn a_committed_journal_does_not_make_recovery_reach_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut s = Session::new(dir);
    built_project(dir, &mut s);
    let deploy = dir.join("p/deploy");

    symlink("../../outside", deploy.join("escape")).unwrap();
    std::fs::create_dir_all(deploy.join(".mlship-staging/escape")).unwrap();
    std::fs::write(deploy.join(".mlship-staging/escape/notes.txt"), "attacker's").unwrap();
    let journal = serde_json::json!({
        "moves": ["escape/notes.txt"],
        "removes": [],
        "hashes": { "escape/notes.txt": mlship::names::sha256(b"mine") },
    });
    std::fs::write(deploy.join(".mlship-journal.json"), journal.to_string()).unwrap();
    s.note(
        "p/deploy/escape is a symlink to outside/; a journal moves .mlship-staging/escape/notes.txt \
         (\"attacker's\") to escape/notes.txt",
    );
    let before = everything(dir);
    s.run_in("p", &["build", "mlship.yaml"]);
    assert_eq!(everything(dir), before, "nothing changed, inside or out");

    // The build is not stuck: without the journal, the next one drops the staging.
    std::fs::remove_file(deploy.join(".mlship-journal.json")).unwrap();
    s.note("delete p/deploy/.mlship-journal.json");
    s.run_in("p", &["build", "mlship.yaml"]);
    assert!(!deploy.join(".mlship-staging").exists());
    assert_eq!(std::fs::read_to_string(dir.join("outside/notes.txt")).unwrap(), "mine");
    s.snapshot("output/committed-journal");
}
