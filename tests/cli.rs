//! The `mlship` binary end to end: exit codes, messages, and the hostile inputs of the
//! foundation issue, each in a temporary folder.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

fn mlship(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlship"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn copy_example(name: &str, to: &Path) {
    common::copy_tree(&common::root().join("examples").join(name), to, |_| true);
}

#[test]
fn init_writes_a_spec_that_validates_and_builds() {
    let dir = tempfile::tempdir().unwrap();
    let o = mlship(dir.path(), &["init", "--name", "demo"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = mlship(dir.path(), &["validate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("mlship.yaml: valid"));
    // Refuses to overwrite.
    assert_eq!(mlship(dir.path(), &["init", "--name", "demo"]).status.code(), Some(2));
}

#[test]
fn build_writes_then_writes_nothing_and_check_sees_staleness() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("fraud-detection", dir.path());
    let o = mlship(dir.path(), &["build", "mlship.yaml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("deploy/envs/prod/kustomization.yaml").exists());
    let o = mlship(dir.path(), &["build", "mlship.yaml"]);
    assert!(stderr(&o).contains("wrote 0 files, removed 0"), "{}", stderr(&o));
    assert!(mlship(dir.path(), &["check", "mlship.yaml"]).status.success());

    // A config change makes the committed tree stale; check says so and build fixes it.
    let spec = dir.path().join("mlship.yaml");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("MIN_AUC: \"0.85\"", "MIN_AUC: \"0.9\"");
    std::fs::write(&spec, text).unwrap();
    let o = mlship(dir.path(), &["check", "mlship.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("run `mlship build"), "{}", stderr(&o));
    let o = mlship(dir.path(), &["build", "mlship.yaml"]);
    // Two ConfigMaps and the six Jobs that read them are replaced (the Jobs run again).
    assert!(stderr(&o).contains("removed 8"), "{}", stderr(&o));
    assert!(mlship(dir.path(), &["check", "mlship.yaml"]).status.success());
}

#[test]
fn invalid_spec_exits_1_with_located_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("minimal", dir.path());
    let spec = dir.path().join("mlship.yaml");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("port: 8080", "prot: 8080");
    std::fs::write(&spec, text).unwrap();
    let o = mlship(dir.path(), &["build", "mlship.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("error[E011]: unknown key `prot`"), "{err}");
    assert!(err.contains("mlship.yaml:17:5"), "{err}");
    assert!(err.contains("did you mean `port`?"), "{err}");
    assert!(!dir.path().join("deploy").exists());
}

#[test]
fn json_format_gives_one_object_per_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mlship.yaml"),
        "apiVersion: mlship/v1\nproject: Bad_Name\nregistry: r\n",
    )
    .unwrap();
    let o = mlship(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(first["code"], "E022");
    assert_eq!(first["line"], 2);
    assert_eq!(first["column"], 10);
}

#[test]
fn missing_file_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(mlship(dir.path(), &["validate", "nope.yaml"]).status.code(), Some(2));
    assert_eq!(mlship(dir.path(), &["validate"]).status.code(), Some(2));
    assert_eq!(mlship(dir.path(), &["frobnicate"]).status.code(), Some(2));
}

/// Hostile inputs: each is a located error with exit 1, fast, never a crash.
#[test]
fn hostile_inputs_fail_cleanly_and_fast() {
    let dir = tempfile::tempdir().unwrap();
    let deep_yaml = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let deep_kdl = format!("a {}{}\n", "{ b ".repeat(10_000), "}".repeat(10_000));
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.yaml", Vec::new(), "E004"),
        (
            "garbage.yaml",
            (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
            "E00",
        ),
        ("latin1.yaml", b"project: caf\xe9\n".to_vec(), "E004"),
        ("deep.yaml", deep_yaml.into_bytes(), "E002"),
        ("deep.kdl", deep_kdl.into_bytes(), "E002"),
        ("bomb.yaml", bomb.into_bytes(), "E002"),
        ("dup.yaml", b"project: a\nproject: b\n".to_vec(), "E003"),
        (
            "types.yaml",
            b"apiVersion: 1\nproject: [1]\nregistry: {a: 1}\nimages: 3\nservices: []\n".to_vec(),
            "E010",
        ),
        ("huge.yaml", vec![b'#'; 100 << 20], "E002"),
    ];
    for (name, bytes, code) in cases {
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        let start = Instant::now();
        let o = mlship(dir.path(), &["validate", name]);
        let took = start.elapsed();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(&format!("error[{code}")), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(took.as_secs() < 5, "{name} took {took:?}");
    }
}

#[test]
fn build_env_rebuilds_one_environment_and_leaves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("fraud-detection", dir.path());
    assert!(mlship(dir.path(), &["build", "mlship.yaml"]).status.success());
    let spec = dir.path().join("mlship.yaml");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("MIN_AUC: \"0.85\"", "MIN_AUC: \"0.9\"");
    std::fs::write(&spec, text).unwrap();
    let o = mlship(dir.path(), &["build", "mlship.yaml", "--env", "dev"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // dev changed, prod did not: check reports only prod's files as stale.
    let o = mlship(dir.path(), &["check", "mlship.yaml"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("envs/prod/") && !err.contains("envs/dev/"), "{err}");
    let o = mlship(dir.path(), &["build", "mlship.yaml", "--env", "staging"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no environment `staging`; the spec has dev, prod"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn completions_man_and_graph() {
    let dir = tempfile::tempdir().unwrap();
    let o = mlship(dir.path(), &["completions", "bash"]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("_mlship()"));
    let o = mlship(dir.path(), &["man"]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains(".TH mlship"));
    copy_example("fraud-detection", dir.path());
    let o = mlship(dir.path(), &["graph", "mlship.yaml"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && text.contains("training__prepare --> training__train"),
        "{text}"
    );
    let o = mlship(dir.path(), &["graph", "mlship.kdl", "--format", "dot"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("training__train -> training__evaluate;"));
}

#[test]
fn check_discovers_specs_under_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    copy_example("minimal", &dir.path().join("a"));
    std::fs::remove_file(dir.path().join("a/mlship.kdl")).unwrap();
    assert!(mlship(&dir.path().join("a"), &["build"]).status.success());
    let o = mlship(dir.path(), &["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("a/mlship.yaml: up to date"), "{}", stderr(&o));
}

#[test]
fn symlinks_out_of_the_project_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    std::fs::create_dir_all(&project).unwrap();
    copy_example("minimal", &project);
    std::fs::remove_dir_all(project.join("app")).unwrap();
    std::fs::create_dir_all(dir.path().join("outside")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside"), project.join("app")).unwrap();
    let o = mlship(&project, &["validate", "mlship.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error[E032]: `app/` leads outside the project (through a symlink)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn validate_manifests_reports_every_error_located_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replica: 2\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  A: 1\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
    )
    .unwrap();
    let o = mlship(dir.path(), &["validate", "--manifests", "."]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("app.yaml:6:3: Deployment/api: spec.replica: unknown field `replica` (did you mean `replicas`?)"),
        "{out}"
    );
    assert!(
        out.contains("app.yaml:13:6: ConfigMap/c: data.A: expected string, found integer"),
        "{out}"
    );
    assert!(
        out.contains("3 documents in 1 files: 0 valid, 2 invalid, 1 skipped"),
        "{out}"
    );
    let o = mlship(
        dir.path(),
        &["validate", "--manifests", "app.yaml", "--format", "junit"],
    );
    let xml = String::from_utf8_lossy(&o.stdout);
    assert!(
        xml.contains("tests=\"3\" failures=\"2\" skipped=\"1\"")
            && xml.contains("<failure message=\"unknown field `replica`\">"),
        "{xml}"
    );
    let o = mlship(dir.path(), &["validate", "--manifests", "app.yaml", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let problems = json[0]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["line"] == 6 && p["column"] == 3 && p["path"] == "spec.replica"),
        "{problems:?}"
    );
    let o = mlship(
        dir.path(),
        &["validate", "--manifests", "app.yaml", "--kubernetes", "1.20"],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn count_limits_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = String::from("apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nenvironments:\n");
    for i in 0..101 {
        spec.push_str(&format!("  e{i}: {{}}\n"));
    }
    std::fs::write(dir.path().join("mlship.yaml"), spec).unwrap();
    let o = mlship(dir.path(), &["validate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("error[E002]: 101 environments; the limit is 100")
            && stderr(&o).contains("mlship.yaml:5:1"),
        "{}",
        stderr(&o)
    );
}
