//! Valid contents for every kind of file a spec names, and the checks of a compiled output.
//!
//! The `project` target fuzzes one of these files at a time and keeps the others as they are
//! here, so a failed compile is the fuzzed file's doing; the `compile` target's generated
//! specs name these files too. [`baseline`] compiles (tested in `lib.rs`).

use mlship::emit::Output;
use mlship::project::MemProject;
use std::collections::BTreeMap;

/// Sealed ciphertext: base64 of 120 random bytes, as kubeseal writes values (the value of
/// tests/common/gen.rs).
pub const SEALED_VALUE: &str = "qeeKjOjgTBYHaY0jtbSydJnUVw8sbSAf+9SCW5ldRsIG6xHvSRL4aOH5a2tlceosiNA5XtTo1gU4ECtC9VsdKAUTb1/aId0lTWe6xMjKH2QK40TrlOkSrHNK4fI8hoQuCLw2KB5EjnOCmOHkdFs3urwsBVW3VfnL";

/// A SOPS value: random-looking ciphertext, a 16-byte IV and a 16-byte tag.
pub const SOPS_VALUE: &str = "ENC[AES256_GCM,data:1dwwYRY7M7UeQ3uvuUezW9IBR/6lWocj,iv:WoQFF1JwQQnrkU23IubcAE2FO8EVZKJ2H720eBAAjZQ=,tag:P3ZUaw4nrsdMTRbu8okuYw==,type:str]";

pub const REQUIREMENTS: &str = "numpy==2.1.3\nrequests>=2.32,<3\n# a comment\n";

/// A project template that extends the stdlib Dockerfile and fills one block.
pub const TEMPLATE: &str =
    "{% extends \"Dockerfile\" %}\n{% block after_dependencies %}\nRUN echo extra-layer\n{% endblock %}\n";

/// An extra manifest: two plain objects.
pub fn extra_manifest(project: &str) -> String {
    format!(
        "# Extra objects, added to every environment.\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {project}-extra\ndata:\n  LOG_LEVEL: info\n  WORKERS: \"4\"\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: {project}-quota\nspec:\n  hard:\n    requests.cpu: \"64\"\n    requests.memory: 256Gi\n"
    )
}

/// A SealedSecret named `name` whose `spec.encryptedData` holds `keys`. Without a namespace:
/// the compiler sets the environment's.
pub fn sealed_secret(name: &str, keys: &[&str]) -> String {
    let mut s = format!(
        "# Produced by `kubeseal --format yaml`.\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\nspec:\n  encryptedData:\n"
    );
    for k in keys {
        s.push_str(&format!("    {k}: {SEALED_VALUE}\n"));
    }
    s.push_str(&format!(
        "  template:\n    metadata:\n      name: {name}\n    type: Opaque\n"
    ));
    s
}

/// A SOPS-encrypted Secret named `name` for `namespace` (SOPS files must name it), with its
/// `sops:` metadata: a MAC and an age key entry.
pub fn sops_secret(name: &str, namespace: &str, keys: &[&str]) -> String {
    let mut s = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\ntype: Opaque\nstringData:\n"
    );
    for k in keys {
        s.push_str(&format!("  {k}: {SOPS_VALUE}\n"));
    }
    s.push_str(
        "sops:
  age:
    - recipient: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq
      enc: |
        -----BEGIN AGE ENCRYPTED FILE-----
        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBleGFtcGxlZXhhbXBsZQpl
        -----END AGE ENCRYPTED FILE-----
  lastmodified: \"2025-01-01T00:00:00Z\"
  mac: ENC[AES256_GCM,data:aH+m3/YsRHKN/wEq+wBGq4oUSq9IOaR2DluyN9G/kz0=,iv:WoQFF1JwQQnrkU23IubcAE2FO8EVZKJ2H720eBAAjZQ=,tag:P3ZUaw4nrsdMTRbu8okuYw==,type:str]
  version: 3.9.0
",
    );
    s
}

/// The `project` target's fixed spec: one image with requirements and a template, a sealed and
/// a SOPS secret, one extra manifest, one service that uses both secrets.
pub const PROJECT_SPEC: &str = "apiVersion: mlship/v1
project: fz
namespace: fz
registry: ghcr.io/acme/fz
tag: \"1\"
images:
  app: {stack: fastapi, requirements: requirements.txt, template: app.Dockerfile.j2}
secrets:
  sealed: {provider: sealed-secrets, file: sealed.yaml}
  sops: {provider: sops, file: sops.yaml}
manifests: [extra.yaml]
services:
  api: {image: app, port: 8080, secrets: [sealed, sops]}
";

/// The files the `project` target's spec names, in the order its selector byte picks them.
pub const PROJECT_FILES: [&str; 5] = [
    "requirements.txt",
    "app.Dockerfile.j2",
    "extra.yaml",
    "sealed.yaml",
    "sops.yaml",
];

/// Valid contents for every file of [`PROJECT_SPEC`].
pub fn baseline() -> BTreeMap<String, Vec<u8>> {
    let contents = [
        REQUIREMENTS.to_string(),
        TEMPLATE.to_string(),
        extra_manifest("fz"),
        sealed_secret("fz-sealed", &["DB_PASSWORD", "DB_USER"]),
        sops_secret("fz-sops", "fz", &["API_TOKEN"]),
    ];
    PROJECT_FILES
        .iter()
        .zip(contents)
        .map(|(f, c)| (f.to_string(), c.into_bytes()))
        .collect()
}

/// The `project` target's input: the first byte picks the file (wrapping), the rest replaces
/// its valid contents.
pub fn project_input(data: &[u8]) -> Option<MemProject> {
    let (&selector, body) = data.split_first()?;
    let which = PROJECT_FILES[usize::from(selector) % PROJECT_FILES.len()];
    let mut files = baseline();
    files.insert(which.to_string(), body.to_vec());
    Some(MemProject(files))
}

/// Whether a YAML document holds nothing but comments, blank lines and markers.
fn blank(chunk: &str) -> bool {
    chunk.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

/// Every YAML document of every `.yaml` output file, as Kubernetes reads it. Panics (a
/// finding) when an output file is not UTF-8 or a document does not parse.
pub fn output_documents(out: &Output) -> Vec<(String, serde_json::Value)> {
    let mut docs = Vec::new();
    for (name, bytes) in &out.files {
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("output file {name} is not UTF-8: {e}"));
        for (offset, chunk) in mlship::validate::split_documents(text) {
            if blank(chunk) {
                continue;
            }
            let sub = mlship::source::SourceFile::new(name.as_str(), chunk);
            let tree = mlship::syntax::yaml::parse(&sub).unwrap_or_else(|d| {
                panic!(
                    "output file {name}: the document at byte {offset} does not parse: {:?}\n{chunk}",
                    d.first().map(|d| &d.message)
                )
            });
            docs.push((name.clone(), mlship::validate::kubernetes_json(&tree, chunk)));
        }
    }
    docs
}

/// The rule the pipeline's leak check holds, checked again on what it let through: no output
/// object carries secret material outside the provider forms (`mlship::secrets::scan`
/// finds nothing), and no Dockerfile line does (`mlship::secrets::in_text`). Only for specs
/// without waivers and without credential-looking values of their own (both fuzz targets'
/// specs): then the compiler must refuse every such leak.
pub fn assert_no_leaks(out: &Output) {
    for (name, doc) in output_documents(out) {
        let leaks = mlship::secrets::scan(&doc);
        assert!(
            leaks.is_empty(),
            "the output leaks secret material in {name} ({}/{}): {:?}",
            doc["kind"],
            doc["metadata"]["name"],
            leaks.iter().map(|l| &l.message).collect::<Vec<_>>()
        );
    }
    for (name, bytes) in &out.files {
        if !name.ends_with("Dockerfile") {
            continue;
        }
        let text = String::from_utf8_lossy(bytes);
        for (n, line) in text.lines().enumerate() {
            if let Some(f) = mlship::secrets::in_text(line) {
                panic!(
                    "{name}:{}: the Dockerfile carries secret material ({}): {line}",
                    n + 1,
                    f.why
                );
            }
        }
    }
}
