//! Bytes → `mlship::compile`, the whole pipeline except the writer, plus what the CLI does
//! with the result (rendering diagnostics, diffing outputs).
//!
//! The first byte is not part of the spec: its bit 0 picks the syntax (even → `mlship.yaml`,
//! odd → `mlship.kdl`), its bit 1 the mode (`mlship_fuzz::spec::compile_input`):
//! - 0: the rest is the spec's raw bytes, compiled with an empty project (tests/fuzz.sh seeds
//!   YAML with a leading 0x00 byte and KDL with 0x01);
//! - 1: structure-aware: the rest drives a generator of valid specs (images, config, secrets
//!   of every provider, volumes, pipelines, services, extra manifests, environments,
//!   GitOps), written as YAML or KDL, with every project file it names (requirements,
//!   templates, SealedSecret and SOPS files, manifests). Most such inputs compile (about
//!   four in five), so lowering and emitting see the fuzzer's variations.
//!
//! Checks:
//! - nothing panics, hangs or runs out of memory;
//! - a failed compile says why (at least one error diagnostic), and every diagnostic renders
//!   (text, colour and JSON, as the CLI prints them);
//! - every YAML document of a compiled output parses, and (generated specs, which have no
//!   waivers and no credential values) carries no secret material outside the provider forms;
//! - a compiled output diffs empty against itself;
//! - compiling again gives the same output and the same diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlship::diag::{self, JsonDiagnostic};
use mlship_fuzz::{files, spec};

fuzz_target!(init: mlship_fuzz::catch_stack_overflow(), |data: &[u8]| {
    let Some((name, spec, project)) = spec::compile_input(data) else { return };
    let generated = data[0] & 2 != 0;
    let spec = spec.as_slice();
    let a = mlship::compile(name, spec, &project);
    for d in &a.diagnostics {
        let _ = diag::render(d, &a.file, false);
        let _ = diag::render(d, &a.file, true);
        let _ = JsonDiagnostic::new(d, &a.file);
    }
    let Some(out) = &a.output else {
        assert!(
            a.diagnostics.iter().any(|d| d.is_error()),
            "compile failed without an error diagnostic: {:?}",
            a.diagnostics
        );
        return;
    };
    if generated {
        files::assert_no_leaks(out); // parses every YAML document too
    } else {
        files::output_documents(out);
    }
    let report = mlship::diff::diff(out, out, None);
    assert!(report.is_empty(), "diff of an output with itself is not empty: {report:?}");
    let b = mlship::compile(name, spec, &project);
    assert!(b.output.as_ref() == Some(out), "compiling the same input twice gave different outputs");
    assert_eq!(a.diagnostics, b.diagnostics, "compiling twice gave different diagnostics");
});
