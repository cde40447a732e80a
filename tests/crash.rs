//! Crash safety: `mlship build` is killed (SIGKILL) at many points while it rewrites a large
//! tree. After each kill the folder holds the complete old tree or the complete new one, or
//! a journal that the next build rolls forward to the new one; the lock always matches; no
//! file outside the tree is touched. Builds run at the same time take turns.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// A spec with `n` services: a few thousand files.
fn spec(n: usize, min_auc: &str) -> String {
    let mut s = format!(
        "apiVersion: mlship/v1\nproject: big\nregistry: ghcr.io/acme/big\ntag: \"1.0.0\"\nconfig: {{MIN_AUC: \"{min_auc}\"}}\nimages:\n  app: {{stack: python}}\nservices:\n"
    );
    for i in 0..n {
        s.push_str(&format!(
            "  svc{i}: {{image: app, port: 8080, autoscale: {{min: 2, max: 4}}}}\n"
        ));
    }
    s.push_str("environments:\n  dev: {tag: dev, namespace: crash-dev}\n  prod: {production: false}\n");
    s
}

fn expected(text: &str) -> BTreeMap<String, Vec<u8>> {
    mlship::compile("mlship.yaml", text.as_bytes(), &mlship::project::MemProject::default())
        .output
        .unwrap()
        .files
}

fn on_disk(out: &Path) -> BTreeMap<String, Vec<u8>> {
    mlship::writer::read_previous(out)
        .into_iter()
        .chain(
            std::fs::read(out.join("mlship.lock.json"))
                .ok()
                .map(|b| ("mlship.lock.json".to_string(), b)),
        )
        .collect()
}

fn build(dir: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_mlship"))
        .args(["build", "mlship.yaml"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn sigkill_during_build_leaves_old_or_new_tree() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("deploy");
    let (old_text, new_text) = (spec(100, "0.8"), spec(100, "0.9"));
    let (old, new) = (expected(&old_text), expected(&new_text));
    std::fs::write(dir.path().join("outside.txt"), "mine").unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("README.md"), "not mlship's").unwrap();

    // How long one full rewrite takes, to spread the kills across it.
    std::fs::write(dir.path().join("mlship.yaml"), &old_text).unwrap();
    assert!(build(dir.path()).wait().unwrap().success());
    std::fs::write(dir.path().join("mlship.yaml"), &new_text).unwrap();
    let start = Instant::now();
    assert!(build(dir.path()).wait().unwrap().success());
    let full = start.elapsed();
    assert_eq!(on_disk(&out), new);

    let (mut saw_old, mut saw_new, mut saw_journal) = (0, 0, 0);
    for i in 0..80u32 {
        if i >= 20 && saw_old > 0 && saw_new + saw_journal > 0 {
            break;
        }
        // Back to the old tree, then kill a rewrite to the new one part way through.
        std::fs::write(dir.path().join("mlship.yaml"), &old_text).unwrap();
        assert!(build(dir.path()).wait().unwrap().success());
        assert_eq!(on_disk(&out), old);
        std::fs::write(dir.path().join("mlship.yaml"), &new_text).unwrap();
        let mut child = build(dir.path());
        // Later kills wait longer, until they land after the switch too (load varies).
        std::thread::sleep(full.mul_f64(f64::from(i) / 12.0));
        let _ = child.kill();
        let _ = child.wait();

        let journal = out.join(".mlship-journal.json").exists();
        let tree = on_disk(&out);
        if journal {
            saw_journal += 1;
        } else if tree == old {
            saw_old += 1;
        } else if tree == new {
            saw_new += 1;
        } else {
            panic!("kill {i}: the folder holds neither tree and no journal");
        }
        // The next build recovers whatever it finds and ends at the new tree.
        assert!(
            build(dir.path()).wait().unwrap().success(),
            "kill {i}: the next build failed"
        );
        assert_eq!(on_disk(&out), new, "kill {i}: not recovered");
        assert!(!out.join(".mlship-staging").exists() && !out.join(".mlship-journal.json").exists());
        assert_eq!(std::fs::read_to_string(out.join("README.md")).unwrap(), "not mlship's");
        assert_eq!(std::fs::read_to_string(dir.path().join("outside.txt")).unwrap(), "mine");
    }
    eprintln!("full rewrite {full:?}; after kills: old {saw_old}, new {saw_new}, journal {saw_journal}");
    assert!(
        saw_old > 0 && saw_new > 0,
        "the kills should land both before and after the switch"
    );
}

/// Two first builds at once into one folder: each ends with the whole tree (one exited 0 while
/// `deploy/` held part of it, and `.deploy.mlship-new/` was left behind).
#[test]
fn two_concurrent_first_builds_never_report_success_with_a_partial_tree() {
    let text = spec(30, "0.8");
    let want = expected(&text);
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mlship.yaml"), &text).unwrap();
        let out = dir.path().join("deploy");
        let run = || {
            Command::new(env!("CARGO_BIN_EXE_mlship"))
                .args(["build", "mlship.yaml"])
                .current_dir(dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let builds = [run(), run()];
        for child in builds {
            let done = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&done.stderr);
            assert!(done.status.success(), "round {round}: {stderr}");
            // The other build may still be running: whatever it does, this one said it wrote
            // the tree, so the whole tree is there now.
            assert!(
                on_disk(&out) == want,
                "round {round}: exit 0 with a partial tree: {stderr}"
            );
        }
        let left: Vec<String> = common::walk(dir.path())
            .into_iter()
            .filter(|f| f != "mlship.yaml" && !f.starts_with("deploy/"))
            .collect();
        assert!(left.is_empty(), "round {round}: left behind: {left:?}");
        assert!(!dir.path().join(".deploy.mlship-new").exists(), "round {round}");
        assert!(!out.join(".mlship-staging").exists() && !out.join(".mlship-journal.json").exists());
    }
}
