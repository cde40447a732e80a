//! The `mlship` binary end to end: exit codes, messages, and the hostile inputs of the
//! foundation issue, each in a temporary folder. Every test records its runs (command, exit
//! code, stdout, stderr) and compares the whole transcript with tests/snapshots/cli/<test>.txt.
//! Refresh with `UPDATE_GOLDEN=1 cargo test --test cli` and review the diff.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

use common::transcript::Session;
use std::path::Path;
use std::time::Instant;

fn copy_example(name: &str, to: &Path) {
    common::copy_tree(&common::root().join("examples").join(name), to, |_| true);
}

#[test]
fn init_writes_a_spec_that_validates_and_builds() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(dir.path());
    s.run(&["init", "--name", "demo"]);
    s.run(&["validate"]);
    s.run(&["build"]);
    // Refuses to overwrite.
    s.run(&["init", "--name", "demo"]);
    s.snapshot("cli/init");
}

#[test]
fn build_writes_then_writes_nothing_and_check_sees_staleness() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("fraud-detection", dir.path());
    let mut s = Session::new(dir.path());
    s.run(&["build", "mlship.yaml"]);
    assert!(dir.path().join("deploy/envs/prod/kustomization.yaml").exists());
    s.run(&["build", "mlship.yaml"]);
    s.run(&["check", "mlship.yaml"]);
    // A config change makes the committed tree stale; check says so and build fixes it: two
    // ConfigMaps and the six Jobs that read them are replaced (the Jobs run again).
    s.edit("mlship.yaml", "MODEL_NAME: fraud-xgb", "MODEL_NAME: fraud-xgb-v2");
    s.run(&["check", "mlship.yaml"]);
    s.run(&["build", "mlship.yaml"]);
    s.run(&["check", "mlship.yaml"]);
    s.snapshot("cli/build-and-check");
}

#[test]
fn invalid_spec_exits_1_with_located_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("minimal", dir.path());
    let mut s = Session::new(dir.path());
    s.edit("mlship.yaml", "port: 8080", "prot: 8080");
    s.run(&["build", "mlship.yaml"]);
    assert!(!dir.path().join("deploy").exists());
    s.snapshot("cli/invalid-spec");
}

#[test]
fn json_format_gives_one_object_per_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(dir.path());
    s.write("mlship.yaml", "apiVersion: mlship/v1\nproject: Bad_Name\nregistry: r\n");
    s.run(&["validate", "--format", "json"]);
    s.snapshot("cli/json-format");
}

#[test]
fn missing_file_and_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(dir.path());
    s.run(&["validate", "nope.yaml"]);
    s.run(&["validate"]);
    s.run(&["frobnicate"]);
    // The flag was silently ignored for specs.
    s.run(&["validate", "--kubernetes", "1.99", "mlship.yaml"]);
    s.write("mlship.yaml", "");
    s.write("mlship.yml", "");
    // The message named mlship.kdl, which is not there.
    s.run(&["validate"]);
    s.snapshot("cli/usage-errors");
}

/// `diff` on an invalid spec is exit 1 (invalid spec), as the docs say, not 2.
#[test]
fn diff_of_an_invalid_spec_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(dir.path());
    s.write("mlship.yaml", "apiVersion: mlship/v1\nproject: [\n");
    s.run(&["diff"]);
    s.snapshot("cli/diff-invalid-spec");
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
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.yaml", Vec::new()),
        ("garbage.yaml", (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect()),
        ("latin1.yaml", b"project: caf\xe9\n".to_vec()),
        ("deep.yaml", deep_yaml.into_bytes()),
        ("deep.kdl", deep_kdl.into_bytes()),
        ("bomb.yaml", bomb.into_bytes()),
        ("dup.yaml", b"project: a\nproject: b\n".to_vec()),
        (
            "types.yaml",
            b"apiVersion: 1\nproject: [1]\nregistry: {a: 1}\nimages: 3\nservices: []\n".to_vec(),
        ),
        ("huge.yaml", vec![b'#'; 100 << 20]),
        // Issue 14: 5.5 million arguments on one node (11 MB) passed a limit that counted
        // nodes, after 40 s and 6.6 GB in the KDL parser.
        ("arguments.kdl", format!("x{}\n", " 1".repeat(5_500_000)).into_bytes()),
    ];
    let mut s = Session::new(dir.path());
    for (name, bytes) in cases {
        s.write(name, &bytes);
        let start = Instant::now();
        let run = s.run(&["validate", name]);
        let took = start.elapsed();
        // Checked here too, so that a crash is never taken into a snapshot by an update.
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        // A guard against reading without bound, not a speed claim (a debug build on a busy
        // machine is slow; a read forever never ends).
        assert!(took.as_secs() < 60, "{name} took {took:?}");
    }
    // Issue 14: a spec that is a symlink to /dev/zero claims no length; it was read forever.
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
    s.note("zero.yaml is a symlink to /dev/zero");
    let start = Instant::now();
    s.run(&["validate", "zero.yaml"]);
    assert!(start.elapsed().as_secs() < 60, "zero.yaml took {:?}", start.elapsed());
    s.snapshot("cli/hostile-inputs");
}

/// Issue 14: a spec that is a symlink to /dev/zero, under a folder that `check` searches, was
/// left out of the search (it is not a regular file), so `check` passed without it; read, it
/// would have been read without bound. A named pipe would have made `check` wait forever.
/// Each is found, read at most to the limit or not opened, and reported by name, fast.
#[test]
fn check_finds_a_spec_symlinked_to_dev_zero_and_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("minimal", &dir.path().join("ok"));
    std::fs::remove_file(dir.path().join("ok/mlship.kdl")).unwrap();
    std::fs::create_dir_all(dir.path().join("zero")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero/mlship.yaml")).unwrap();
    let mut s = Session::new(dir.path());
    s.note("copy examples/minimal to ok/, without mlship.kdl; zero/mlship.yaml is a symlink to /dev/zero");
    s.run_in("ok", &["build"]);
    let start = Instant::now();
    s.run(&["check"]);
    assert!(start.elapsed().as_secs() < 60, "check took {:?}", start.elapsed());
    std::fs::remove_file(dir.path().join("zero/mlship.yaml")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("zero/mlship.yaml"))
        .status()
        .unwrap();
    assert!(made.success());
    s.note("zero/mlship.yaml is a named pipe");
    let start = Instant::now();
    s.run(&["check"]);
    assert!(start.elapsed().as_secs() < 60, "check took {:?}", start.elapsed());
    s.snapshot("cli/check-dev-zero");
}

/// Issue 14: the limits multiplied. 20,000 services and 100 environments are each within their
/// limit, but every environment repeats the spec: such a spec (1.5 MB) took 377 s and 17.7 GB to
/// validate. The total is bounded, counted before any environment is merged, and refused at
/// `environments`, in both syntaxes, in well under a second (a debug build).
#[test]
fn twenty_thousand_services_in_a_hundred_environments_are_refused_before_any_is_merged() {
    let dir = tempfile::tempdir().unwrap();
    let head = "apiVersion: mlship/v1\nproject: big\nregistry: ghcr.io/acme/big\ntag: \"1\"\nimages:\n  app: {stack: fastapi}\n";
    let mut yaml = format!("{head}services:\n");
    let mut kdl = String::from(
        "apiVersion \"mlship/v1\"\nproject \"big\"\nregistry \"ghcr.io/acme/big\"\ntag \"1\"\nimages \"app\" stack=\"fastapi\"\n",
    );
    for i in 0..mlship::syntax::MAX_SERVICES {
        yaml.push_str(&format!("  s{i}: {{image: app, port: 8080}}\n"));
        kdl.push_str(&format!("services \"s{i}\" image=\"app\" port=8080\n"));
    }
    yaml.push_str("environments:\n");
    for e in 0..mlship::syntax::MAX_ENVIRONMENTS {
        yaml.push_str(&format!("  e{e}: {{namespace: big-e{e}}}\n"));
        kdl.push_str(&format!("environments \"e{e}\" namespace=\"big-e{e}\"\n"));
    }
    let mut s = Session::new(dir.path());
    s.write("mlship.yaml", &yaml);
    s.write("mlship.kdl", &kdl);
    s.note("mlship.yaml and mlship.kdl: 20,000 services, 100 environments");
    for spec in ["mlship.yaml", "mlship.kdl"] {
        let start = Instant::now();
        s.run(&["validate", spec]);
        let took = start.elapsed();
        // A guard against a hang or a quadratic walk, not a speed claim: bench/limits.py
        // measures the time (on a loaded machine a debug build takes several seconds).
        assert!(took.as_secs() < 60, "{spec} took {took:?}");
    }
    s.snapshot("cli/limits-multiply");
}

#[test]
fn build_env_rebuilds_one_environment_and_leaves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("fraud-detection", dir.path());
    let mut s = Session::new(dir.path());
    s.run(&["build", "mlship.yaml"]);
    s.edit("mlship.yaml", "MODEL_NAME: fraud-xgb", "MODEL_NAME: fraud-xgb-v2");
    s.run(&["build", "mlship.yaml", "--env", "dev"]);
    // dev changed, prod did not: check reports only prod's files as stale.
    s.run(&["check", "mlship.yaml"]);
    s.run(&["build", "mlship.yaml", "--env", "staging"]);
    s.snapshot("cli/build-env");
}

#[test]
fn completions_man_and_graph() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(dir.path());
    s.run(&["completions", "bash"]);
    s.run(&["man"]);
    copy_example("fraud-detection", dir.path());
    s.note("copy examples/fraud-detection");
    s.run(&["graph", "mlship.yaml"]);
    s.run(&["graph", "mlship.kdl", "--format", "dot"]);
    s.snapshot("cli/completions-man-graph");
}

#[test]
fn check_discovers_specs_under_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("minimal", &dir.path().join("a"));
    std::fs::remove_file(dir.path().join("a/mlship.kdl")).unwrap();
    let mut s = Session::new(dir.path());
    s.note("copy examples/minimal to a/, without mlship.kdl");
    s.run_in("a", &["build"]);
    s.run(&["check"]);
    s.snapshot("cli/check-discovers");
}

/// The pre-commit hook passes whatever files changed: `check --changed` checks the specs of
/// the projects they are in, and nothing for files of no project.
#[test]
fn check_changed_checks_the_projects_of_the_changed_files() {
    let dir = tempfile::tempdir().unwrap();
    for p in ["a", "b"] {
        copy_example("minimal", &dir.path().join(p));
        std::fs::remove_file(dir.path().join(p).join("mlship.kdl")).unwrap();
    }
    let mut s = Session::new(dir.path());
    s.note("copy examples/minimal to a/ and b/, without mlship.kdl; build both; README.md is in no project");
    s.run_in("a", &["build"]);
    s.run_in("b", &["build"]);
    s.write("README.md", "# repo\n");
    s.run(&["check", "--changed", "README.md"]);
    s.write(
        "b/mlship.yaml",
        std::fs::read_to_string(dir.path().join("b/mlship.yaml"))
            .unwrap()
            .replace("port: 8080", "port: 9090"),
    );
    s.note("b/mlship.yaml: port 8080 -> 9090");
    s.run(&["check", "--changed", "README.md", "a/requirements.txt"]);
    s.run(&["check", "--changed", "b/app/main.py", "b/mlship.yaml"]);
    s.run(&["check", "--changed", "gone/mlship.yaml"]);
    s.snapshot("cli/check-changed");
}

#[test]
fn symlinks_out_of_the_project_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    copy_example("minimal", &project);
    std::fs::remove_dir_all(project.join("app")).unwrap();
    std::fs::create_dir_all(dir.path().join("outside")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("outside"), project.join("app")).unwrap();
    let mut s = Session::new(dir.path());
    s.note("copy examples/minimal to p/; p/app is a symlink to outside/");
    s.run_in("p", &["validate", "mlship.yaml"]);
    s.snapshot("cli/symlink-out-of-project");
}

#[test]
fn validate_manifests_reports_every_error_located_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(dir.path());
    s.write(
        "app.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replica: 2\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  A: 1\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
    );
    s.run(&["validate", "--manifests", "."]);
    s.run(&["validate", "--manifests", "app.yaml", "--format", "junit"]);
    s.run(&["validate", "--manifests", "app.yaml", "--format", "json"]);
    s.run(&["validate", "--manifests", "app.yaml", "--kubernetes", "1.20"]);
    s.snapshot("cli/validate-manifests");
}

/// A RayService CRD, as a user keeps it beside their manifests (trimmed).
const RAY_CRD: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: rayservices.ray.io
spec:
  group: ray.io
  names: {kind: RayService, plural: rayservices}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [serveConfigV2]
            properties:
              serveConfigV2: {type: string}
              upgradeStrategy:
                type: object
                properties:
                  type: {type: string, enum: [NewCluster, None]}
              rayClusterConfig: {type: object, x-kubernetes-preserve-unknown-fields: true}
";

#[test]
fn validate_manifests_validates_custom_resources_with_their_crds() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(dir.path());
    s.write("crds/rayservice.yaml", RAY_CRD);
    s.write("crds/kustomization.yaml", "resources: [rayservice.yaml]\n");
    s.write(
        "app/ray.yaml",
        "apiVersion: ray.io/v1\nkind: RayService\nmetadata:\n  name: llm\nspec:\n  serveConfigV2: |\n    applications: []\n  rayClusterConfig: {headGroupSpec: {}}\n---\napiVersion: kueue.x-k8s.io/v1beta1\nkind: LocalQueue\nmetadata:\n  name: team-a\n",
    );
    s.write(
        "app/broken.yaml",
        "apiVersion: ray.io/v1\nkind: RayService\nmetadata:\n  name: bad\nspec:\n  serveConfigV2: 3\n  upgradeStrategy:\n    type: BlueGreen\n    tpye: x\n---\napiVersion: ray.io/v1alpha1\nkind: RayService\nmetadata:\n  name: old\nspec:\n  serveConfigV2: \"\"\n",
    );
    // Without the CRD: every RayService is skipped, each named with why.
    s.run(&["validate", "--manifests", "app/ray.yaml"]);
    // With it (a folder: its *.yaml files; the kustomization has no CRD and is left out).
    s.run(&["validate", "--manifests", "app/ray.yaml", "--crd", "crds"]);
    // A wrong type, an enum, an unknown field and an apiVersion the CRD does not serve, located.
    s.run(&[
        "validate",
        "--manifests",
        "app",
        "--crd",
        "crds/rayservice.yaml",
        "--format",
        "json",
    ]);
    s.run(&[
        "validate",
        "--manifests",
        "app/broken.yaml",
        "--crd",
        "crds/rayservice.yaml",
    ]);
    // The CRD files are manifests too.
    s.run(&["validate", "--manifests", "crds", "--crd", "crds"]);
    // A broken CRD: exit 2, each problem at its line and column, nothing validated.
    s.write(
        "bad-crd.yaml",
        RAY_CRD
            .replace("serveConfigV2: {type: string}", "serveConfigV2: {type: 7}")
            .replace("served: true", "served: yes please"),
    );
    s.run(&["validate", "--manifests", "app/ray.yaml", "--crd", "bad-crd.yaml"]);
    s.write(
        "not-a-crd.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    s.run(&["validate", "--manifests", "app/ray.yaml", "--crd", "not-a-crd.yaml"]);
    s.write(
        "unclosed.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: [CustomResourceDefinition\n",
    );
    s.run(&["validate", "--manifests", "app/ray.yaml", "--crd", "unclosed.yaml"]);
    s.run(&["validate", "--crd", "crds", "mlship.yaml"]);
    s.snapshot("cli/validate-manifests-crd");
}

#[test]
fn a_spec_validates_its_extra_custom_resources_with_its_crds() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Session::new(dir.path());
    s.write("k8s/rayservice-crd.yaml", RAY_CRD);
    s.write(
        "k8s/ray.yaml",
        "apiVersion: ray.io/v1\nkind: RayService\nmetadata:\n  name: llm\nspec:\n  serveConfigV2: \"applications: []\"\n  upgradeStrategy: {type: Blue}\n",
    );
    let head = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nmanifests: [k8s/ray.yaml]\n";
    s.write("mlship.yaml", format!("{head}crds: [k8s/rayservice-crd.yaml]\n"));
    s.run(&["validate", "mlship.yaml"]);
    s.edit("k8s/ray.yaml", "{type: Blue}", "{type: NewCluster}");
    // Valid now, and namespaced as its CRD says.
    s.run(&["build", "mlship.yaml"]);
    assert!(
        std::fs::read_to_string(dir.path().join("deploy/envs/default/rayservice-llm.yaml"))
            .unwrap()
            .contains("namespace: p"),
    );
    s.write(
        "mlship.kdl",
        "apiVersion \"mlship/v1\"\nproject \"p\"\nregistry \"r.io/p\"\ntag \"1\"\nmanifests \"k8s/ray.yaml\"\ncrds \"k8s/missing.yaml\"\n",
    );
    s.run(&["validate", "mlship.kdl"]);
    s.snapshot("cli/spec-crds");
}

#[test]
fn count_limits_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = String::from("apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nenvironments:\n");
    for i in 0..101 {
        spec.push_str(&format!("  e{i}: {{}}\n"));
    }
    let mut s = Session::new(dir.path());
    s.write("mlship.yaml", spec);
    s.run(&["validate"]);
    s.snapshot("cli/count-limits");
}

/// The bake metadata `docker buildx bake --metadata-file` writes for `images` (name, tag),
/// with digests derived from `seed` so that two builds differ.
fn bake_metadata(registry: &str, tag: &str, images: &[&str], seed: &str) -> String {
    let targets: serde_json::Map<String, serde_json::Value> = images
        .iter()
        .map(|image| {
            let digest = format!("sha256:{}", mlship::names::sha256(format!("{seed}/{image}").as_bytes()));
            let value = serde_json::json!({
                "containerimage.digest": digest,
                "image.name": format!("{registry}/{image}:{tag}"),
            });
            (image.to_string(), value)
        })
        .collect();
    serde_json::to_string_pretty(&targets).unwrap()
}

#[test]
fn the_image_lock_is_filled_from_bake_metadata_promoted_and_built() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("fraud-detection", dir.path());
    std::fs::remove_file(dir.path().join("images.lock.yaml")).unwrap();
    let mut s = Session::new(dir.path());
    s.note("no image lock: prod refuses its unpinned images, and nothing is written");
    s.run(&["build", "mlship.yaml"]);
    assert!(!dir.path().join("deploy").exists());
    let dev = ["server", "trainer", "trainer-jupyterlab"];
    s.write("bake.json", bake_metadata("ghcr.io/acme/fraud", "dev", &dev, "build-1"));
    s.run(&["lock", "fill", "mlship.yaml", "--metadata", "bake.json", "--env", "dev"]);
    s.note("dev is pinned; prod still is not");
    s.run(&["build", "mlship.yaml"]);
    s.run(&["lock", "promote", "mlship.yaml", "--from", "dev", "--to", "prod"]);
    s.run(&["build", "mlship.yaml"]);
    let deployment =
        std::fs::read_to_string(dir.path().join("deploy/envs/prod/deployment-fraud-detection-api.yaml")).unwrap();
    let lock = std::fs::read_to_string(dir.path().join("images.lock.yaml")).unwrap();
    let pinned = lock
        .lines()
        .find(|l| l.contains("server: "))
        .unwrap()
        .trim()
        .trim_start_matches("server: ");
    assert!(deployment.contains(&format!("image: {pinned}")), "{deployment}");
    s.run(&["lock", "promote", "mlship.yaml", "--from", "dev", "--to", "prod"]);
    s.note("a new build of dev; promote only the server");
    s.write("bake.json", bake_metadata("ghcr.io/acme/fraud", "dev", &dev, "build-2"));
    s.run(&["lock", "fill", "mlship.yaml", "--metadata", "bake.json", "--env", "dev"]);
    s.run(&[
        "lock",
        "promote",
        "mlship.yaml",
        "--from",
        "dev",
        "--to",
        "prod",
        "--image",
        "server",
    ]);
    s.run(&["check", "mlship.yaml"]);
    s.run(&["build", "mlship.yaml"]);
    s.run(&["check", "mlship.yaml"]);
    s.note("metadata of a bake for another registry is refused, and the lock is left as it is");
    s.write(
        "other.json",
        bake_metadata("ghcr.io/other/fraud", "dev", &dev, "build-3"),
    );
    let before = std::fs::read(dir.path().join("images.lock.yaml")).unwrap();
    s.run(&[
        "lock",
        "fill",
        "mlship.yaml",
        "--metadata",
        "other.json",
        "--env",
        "dev",
    ]);
    assert_eq!(std::fs::read(dir.path().join("images.lock.yaml")).unwrap(), before);
    s.run(&["lock", "promote", "mlship.yaml", "--from", "dev", "--to", "nowhere"]);
    s.note("a digest belongs to its registry: promoting to an environment that pulls from another is refused");
    s.edit(
        "mlship.yaml",
        "  prod:\n    tag: \"1.4.2\"",
        "  prod:\n    registry: registry.example.com/fraud\n    tag: \"1.4.2\"",
    );
    let before = std::fs::read(dir.path().join("images.lock.yaml")).unwrap();
    s.run(&["lock", "promote", "mlship.yaml", "--from", "dev", "--to", "prod"]);
    assert_eq!(std::fs::read(dir.path().join("images.lock.yaml")).unwrap(), before);
    s.note("and the pins prod has are of the other registry: build says so at their lines");
    s.run(&["build", "mlship.yaml"]);
    s.edit("mlship.yaml", "    registry: registry.example.com/fraud\n", "");
    s.note("a hand-edited lock with a short digest is a located error");
    s.edit("images.lock.yaml", "@sha256:", "@sha256:0");
    s.run(&["build", "mlship.yaml"]);
    s.snapshot("cli/image-lock");
}

/// The spec's name and `line:col` left out of `explain`'s output, which is otherwise the same
/// for a spec and its twin in the other syntax.
fn without_spec_locations(text: &str, spec: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(spec) {
        out.push_str(&rest[..at]);
        out.push_str("SPEC");
        rest = &rest[at + spec.len()..];
        // `:line:col`
        for _ in 0..2 {
            if let Some(r) = rest.strip_prefix(':') {
                let digits = r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                rest = &r[digits..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn explain_says_where_a_rendered_value_came_from_in_both_syntaxes() {
    let dir = tempfile::tempdir().unwrap();
    copy_example("fraud-detection", dir.path());
    let mut s = Session::new(dir.path());
    let deployment = "envs/prod/deployment-fraud-detection-api.yaml";
    let hpa = "envs/prod/horizontalpodautoscaler-fraud-detection-api.yaml";
    let container = "spec.template.spec.containers[0]";
    let memory = format!("{container}.resources.limits.memory");
    let period = format!("{container}.livenessProbe.periodSeconds");
    let image = "spec.template.spec.containers[name=server].image";
    // A Job's name ends in its content hash: the committed tree's.
    let job = std::fs::read_dir(common::root().join("golden/fraud-detection/envs/prod"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|f| f.starts_with("job-fraud-detection-tuning-prepare-"))
        .map(|f| format!("envs/prod/{f}"))
        .unwrap();
    let queries: Vec<Vec<&str>> = vec![
        // Set in the base spec.
        vec![deployment, &memory],
        // Set by an environment's override, over the base spec's value.
        vec![hpa, "spec.maxReplicas"],
        // By the file's name in the environment, with a value the base spec does not set.
        vec!["--env", "dev", "deployment-fraud-detection-api.yaml", "spec.replicas"],
        // A default, and the rule that chose it.
        vec![deployment, &period],
        vec![deployment, "spec.template.spec.securityContext.runAsUser"],
        // A patch.
        vec![deployment, "spec.template.spec.priorityClassName"],
        // Composed of several spec values.
        vec![deployment, image],
        // Composed: a name and its content hash, and one object of a file of several.
        vec![
            "--env",
            "dev",
            "configmap-fraud-detection-config-015aec94.yaml",
            "data.THRESHOLD",
        ],
        vec![&job, "metadata.name"],
        vec!["gitops/dev.yaml#fraud-detection-dev", "spec.source.path"],
        // A path under the output folder, and a pipeline step's template picked by name.
        vec![
            "deploy/envs/prod/workflowtemplate-fraud-detection-training.yaml",
            "spec.templates[name=train].activeDeadlineSeconds",
        ],
    ];
    let mut outputs = Vec::new();
    for spec in ["mlship.yaml", "mlship.kdl"] {
        let mut text = String::new();
        for q in &queries {
            let mut args = vec!["explain", spec];
            args.extend(q);
            let run = s.run(&args);
            assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
            text.push_str(&run.stdout);
        }
        outputs.push(without_spec_locations(&text, spec));
    }
    assert_eq!(outputs[0], outputs[1], "the YAML and KDL twins explain differently");
    s.note("errors: an unknown field, file and environment, a file of another environment, a bad field, a file of two objects");
    for args in [
        vec![
            "explain",
            "mlship.yaml",
            deployment,
            "spec.template.spec.containers[0].resource.limits",
        ],
        vec!["explain", "mlship.yaml", deployment, "spec.template.spec.containers[3]"],
        vec![
            "explain",
            "mlship.yaml",
            "envs/prod/deployment-fraud-detection-apu.yaml",
            "spec",
        ],
        vec!["explain", "mlship.yaml", "--env", "staging", deployment, "spec"],
        vec!["explain", "mlship.yaml", "--env", "dev", deployment, "spec"],
        vec!["explain", "mlship.yaml", deployment, "spec..replicas"],
        vec!["explain", "mlship.yaml", "gitops/dev.yaml", "spec"],
    ] {
        assert_eq!(s.run(&args).code, 2, "{args:?}");
    }
    s.snapshot("cli/explain");
}
