//! Bytes → the files a spec names: requirements, Dockerfile templates, extra manifests,
//! SealedSecret and SOPS files, read through `MemProject` by a fixed spec that names them.
//!
//! The first byte picks which file the rest of the input is (0 requirements, 1 template,
//! 2 extra manifest, 3 SealedSecret, 4 SOPS Secret; others wrap). Checks: nothing panics, hangs
//! or runs out of memory; a failed compile says why; a compiled output never carries the
//! input's plaintext secret values outside the provider forms (the golden tests hold the
//! rule; here, that the pipeline survives any file).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlship::project::MemProject;

const SPEC: &str = "apiVersion: mlship/v1
project: fz
namespace: fz
registry: ghcr.io/acme/fz
tag: \"1\"
stdlib: lib
images:
  app: {stack: fastapi, requirements: requirements.txt, template: app.Dockerfile.j2}
secrets:
  sealed: {provider: sealed-secrets, file: sealed.yaml}
  sops: {provider: sops, file: sops.yaml}
manifests: [extra.yaml]
services:
  api: {image: app, port: 8080, secrets: [sealed, sops]}
";

const FILES: [&str; 5] = ["requirements.txt", "app.Dockerfile.j2", "extra.yaml", "sealed.yaml", "sops.yaml"];

fuzz_target!(init: mlship_fuzz::catch_stack_overflow(), |data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let which = FILES[usize::from(selector) % FILES.len()];
    let mut files: std::collections::BTreeMap<String, Vec<u8>> = FILES
        .iter()
        .map(|f| (f.to_string(), Vec::new()))
        .collect();
    files.insert(which.to_string(), body.to_vec());
    let project = MemProject(files);
    let c = mlship::compile("mlship.yaml", SPEC.as_bytes(), &project);
    if c.output.is_none() {
        assert!(
            c.diagnostics.iter().any(|d| d.is_error()),
            "compile failed without an error diagnostic: {:?}",
            c.diagnostics
        );
    }
});
