//! `mlship diff` and `mlship check` end to end, snapshotted in tests/snapshots/.
//! Refresh with `UPDATE_GOLDEN=1 cargo test --test diffcheck` and review the diff.

mod common;

use std::path::Path;
use std::process::Command;

fn mlship(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_mlship"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "$ mlship {}\n{}{}exit {}\n",
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
        o.status.code().unwrap_or(-1)
    );
    (o.status.code().unwrap_or(-1), text)
}

/// A fresh copy of the fraud-detection example (YAML only), built once.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = common::root().join("examples/fraud-detection");
    common::copy_tree(&from, dir.path(), |rel| rel != "mlship.kdl");
    assert_eq!(mlship(dir.path(), &["build"]).0, 0);
    dir
}

fn edit(dir: &Path, from: &str, to: &str) {
    let spec = dir.join("mlship.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(text.contains(from), "{from}");
    std::fs::write(&spec, text.replacen(from, to, 1)).unwrap();
}

fn snapshot(name: &str, text: &str) {
    common::expect_file(
        &common::root().join("tests/snapshots").join(format!("{name}.txt")),
        text.as_bytes(),
    )
    .unwrap();
}

#[test]
fn no_change() {
    let p = project();
    let (code, diff) = mlship(p.path(), &["diff"]);
    let (check_code, check) = mlship(p.path(), &["check"]);
    assert_eq!((code, check_code), (0, 0));
    snapshot("no-change", &format!("{diff}{check}"));
}

#[test]
fn config_change_renames_the_config_map_and_restarts_pods() {
    let p = project();
    edit(p.path(), "MIN_AUC: \"0.85\"", "MIN_AUC: \"0.9\"");
    let (code, diff) = mlship(p.path(), &["diff", "--env", "prod"]);
    let (check_code, check) = mlship(p.path(), &["check"]);
    assert_eq!((code, check_code), (1, 1));
    assert!(
        diff.contains("replaces fraud-detection-config-") && diff.contains("restart (rolling update)"),
        "{diff}"
    );
    snapshot("config-change", &format!("{diff}{check}"));
}

#[test]
fn replicas_change_scales_without_restart() {
    let p = project();
    edit(p.path(), "        replicas: 1\n", "        replicas: 3\n");
    let (code, diff) = mlship(p.path(), &["diff", "--unified"]);
    assert_eq!(code, 1);
    assert!(diff.contains("scales; nothing restarts"), "{diff}");
    snapshot("replicas-change", &diff);
}

#[test]
fn new_pipeline_step_runs_one_new_job() {
    let p = project();
    edit(
        p.path(),
        "services:\n",
        "      report:\n        image: trainer\n        needs: [evaluate]\n        run: [python, -m, fraud.report]\n\nservices:\n",
    );
    let (code, diff) = mlship(p.path(), &["diff", "--env", "dev", "--format", "markdown"]);
    assert_eq!(code, 1);
    assert!(diff.contains("| + | Job |") && diff.contains("runs |"), "{diff}");
    snapshot("new-step", &diff);
}

#[test]
fn removed_service_deletes_its_objects() {
    let p = project();
    let spec = p.path().join("mlship.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let start = text.find("services:\n  api:").unwrap();
    let end = text.find("environments:").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]).replace("    services:\n      api:\n        autoscale: null\n        replicas: 1\n        expose: {host: fraud.dev.example.com}\n", "").replace("    services:\n      api:\n        autoscale: {max: 30}\n", "");
    // The patch of the service's Deployment goes with it.
    let (head, tail) = text.split_once("patches:").unwrap();
    let text = format!("{head}{}", &tail[tail.find("manifests:").unwrap()..]);
    std::fs::write(&spec, text).unwrap();
    let (code, diff) = mlship(p.path(), &["diff", "--format", "json"]);
    assert_eq!(code, 1, "{diff}");
    let json: serde_json::Value =
        serde_json::from_str(diff.split_once('\n').unwrap().1.rsplit_once("exit").unwrap().0).unwrap();
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
    snapshot("removed-service", &diff);
}

#[test]
fn a_tree_never_built_lists_the_first_stale_files_and_counts_the_rest() {
    let p = project();
    std::fs::remove_dir_all(p.path().join("deploy")).unwrap();
    let (code, text) = mlship(p.path(), &["check"]);
    assert_eq!(code, 1, "{text}");
    let missing = text.lines().filter(|l| l.ends_with(" is missing")).count();
    assert_eq!(missing, 20, "{text}");
    let total: usize = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("mlship.yaml: ")?
                .strip_suffix(" stale files; run `mlship build mlship.yaml` to update them")
        })
        .expect("summary line")
        .parse()
        .unwrap();
    assert!(total > 20, "{text}");
    assert!(
        text.contains(&format!("... and {} more (`--format json` lists them all)", total - 20)),
        "{text}"
    );
    let (_, json) = mlship(p.path(), &["check", "--format", "json"]);
    assert_eq!(
        json.lines().filter(|l| l.contains("\"stale\":\"missing\"")).count(),
        total
    );
}

#[test]
fn invalid_spec_fails_check_and_diff() {
    let p = project();
    edit(p.path(), "port: 8080", "port: 80800");
    let (code, check) = mlship(p.path(), &["check"]);
    assert_eq!(code, 1);
    let (diff_code, diff) = mlship(p.path(), &["diff"]);
    assert_eq!(diff_code, 2);
    snapshot("invalid-spec", &format!("{check}{diff}"));
    let (_, github) = mlship(p.path(), &["check", "--format", "github"]);
    assert!(github.contains("::error file=mlship.yaml,line="), "{github}");
}

#[test]
fn against_a_git_revision() {
    let p = project();
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
    edit(p.path(), "autoscale: {max: 30}", "autoscale: {max: 40}");
    let (code, diff) = mlship(p.path(), &["diff", "--against", "HEAD"]);
    assert_eq!(code, 1);
    assert!(
        diff.contains("spec.maxReplicas: 30 -> 40") && diff.contains("autoscaling bounds"),
        "{diff}"
    );
    snapshot("against-head", &diff);
    let (code, out) = mlship(p.path(), &["diff", "--against", "no-such-ref"]);
    assert_eq!(code, 2, "{out}");
}
