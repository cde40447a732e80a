//! `mlship diff` and `mlship check` end to end: each test's transcript (command, exit code,
//! stdout, stderr) is compared with tests/snapshots/diffcheck/<name>.txt.
//! Refresh with `UPDATE_GOLDEN=1 cargo test --test diffcheck` and review the diff.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

use common::transcript::Session;
use std::process::Command;

/// A fresh copy of the fraud-detection example (YAML only), built once, and a session in it
/// whose transcript starts after that build.
fn project() -> (tempfile::TempDir, Session) {
    let dir = tempfile::tempdir().unwrap();
    let from = common::root().join("examples/fraud-detection");
    common::copy_tree(&from, dir.path(), |rel| rel != "mlship.kdl");
    let build = Session::new(dir.path()).run(&["build"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let session = Session::new(dir.path());
    (dir, session)
}

#[test]
fn no_change() {
    let (_p, mut s) = project();
    s.run(&["diff"]);
    s.run(&["check"]);
    s.snapshot("diffcheck/no-change");
}

#[test]
fn config_change_renames_the_config_map_and_restarts_pods() {
    let (_p, mut s) = project();
    s.edit("mlship.yaml", "MODEL_NAME: fraud-xgb", "MODEL_NAME: fraud-xgb-v2");
    s.run(&["diff", "--env", "prod"]);
    s.run(&["check"]);
    s.snapshot("diffcheck/config-change");
}

#[test]
fn replicas_change_scales_without_restart() {
    let (_p, mut s) = project();
    s.edit("mlship.yaml", "        replicas: 1\n", "        replicas: 3\n");
    s.run(&["diff", "--unified"]);
    s.snapshot("diffcheck/replicas-change");
}

#[test]
fn new_pipeline_step_runs_one_new_job() {
    let (_p, mut s) = project();
    s.edit(
        "mlship.yaml",
        "services:\n",
        "      report:\n        image: trainer\n        needs: [evaluate]\n        run: [python, -m, fraud.report]\n\nservices:\n",
    );
    s.run(&["diff", "--env", "dev", "--format", "markdown"]);
    s.snapshot("diffcheck/new-step");
}

#[test]
fn removed_service_deletes_its_objects() {
    let (p, mut s) = project();
    let spec = p.path().join("mlship.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let start = text.find("services:\n  api:").unwrap();
    let end = text.find("\nenvironments:").unwrap() + 1;
    let text = format!("{}{}", &text[..start], &text[end..]).replace("    services:\n      api:\n        autoscale: null\n        replicas: 1\n        expose: {host: fraud.dev.example.com}\n", "").replace("    services:\n      api:\n        autoscale: {max: 30}\n", "");
    // The patch of the service's Deployment goes with it.
    let (head, tail) = text.split_once("patches:").unwrap();
    let text = format!("{head}{}", &tail[tail.find("manifests:").unwrap()..]);
    std::fs::write(&spec, text).unwrap();
    s.note("edit mlship.yaml: remove the service api, its environment overrides and its patch");
    let run = s.run(&["diff", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let removed: Vec<&str> = json["environments"][1]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["change"] == "removed")
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        removed,
        [
            "Deployment",
            "HorizontalPodAutoscaler",
            "Ingress",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Service",
            "ServiceAccount"
        ]
    );
    s.snapshot("diffcheck/removed-service");
}

/// `check` lists the first 20 of the stale files and counts the rest; `--format json` lists
/// them all.
#[test]
fn a_tree_never_built_lists_the_first_stale_files_and_counts_the_rest() {
    let (p, mut s) = project();
    std::fs::remove_dir_all(p.path().join("deploy")).unwrap();
    s.note("remove deploy/");
    s.run(&["check"]);
    s.run(&["check", "--format", "json"]);
    s.snapshot("diffcheck/never-built");
}

#[test]
fn invalid_spec_fails_check_and_diff() {
    let (_p, mut s) = project();
    s.edit("mlship.yaml", "port: 8080", "port: 80800");
    s.run(&["check"]);
    s.run(&["diff"]);
    s.run(&["check", "--format", "github"]);
    s.snapshot("diffcheck/invalid-spec");
}

#[test]
fn against_a_git_revision() {
    let (p, mut s) = project();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(p.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@e")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@e")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    s.note("git init; git add -A; git commit");
    s.edit("mlship.yaml", "autoscale: {max: 30}", "autoscale: {max: 40}");
    s.run(&["diff", "--against", "HEAD"]);
    s.run(&["diff", "--against", "no-such-ref"]);
    s.snapshot("diffcheck/against-head");
}
