//! Bytes → the files a spec names: requirements, Dockerfile templates, extra manifests,
//! SealedSecret and SOPS files, read through `MemProject` by a fixed spec that names them
//! (`mlship_fuzz::files::PROJECT_SPEC`).
//!
//! The first byte picks which file the rest of the input is (0 requirements, 1 template,
//! 2 extra manifest, 3 SealedSecret, 4 SOPS Secret; others wrap); the other four files keep
//! valid contents (`mlship_fuzz::files::baseline`, which compiles: tested in src/lib.rs), so a
//! failed compile is the fuzzed file's doing, and templates are rendered and extra manifests
//! reach patches, policies and the leak check. Checks: nothing panics, hangs or runs out of
//! memory; a failed compile says why (at least one error diagnostic); a compiled output's
//! YAML parses, and it carries no secret material outside the provider forms: no output
//! object in which `mlship::secrets::scan` finds a leak (plaintext Secret data, a SealedSecret
//! with plaintext or unsealed values, a malformed SOPS value or `sops:` block, a credential in
//! a ConfigMap, an env value or a string), and no Dockerfile line in which
//! `mlship::secrets::in_text` finds one. The spec has no waivers and no credential values of
//! its own, so the compiler must refuse every such leak the fuzzed file brings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlship_fuzz::files;

fuzz_target!(init: mlship_fuzz::catch_stack_overflow(), |data: &[u8]| {
    let Some(project) = files::project_input(data) else { return };
    let c = mlship::compile("mlship.yaml", files::PROJECT_SPEC.as_bytes(), &project);
    match &c.output {
        None => assert!(
            c.diagnostics.iter().any(|d| d.is_error()),
            "compile failed without an error diagnostic: {:?}",
            c.diagnostics
        ),
        Some(out) => files::assert_no_leaks(out),
    }
});
