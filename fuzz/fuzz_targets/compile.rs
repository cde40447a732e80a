//! Bytes → `mlship::compile`, the whole pipeline except the writer, plus what the CLI does
//! with the result (rendering diagnostics, diffing outputs).
//!
//! The first byte picks the file name and is not part of the spec: even → `mlship.yaml`, odd →
//! `mlship.kdl` (tests/fuzz.sh seeds YAML with a leading 0x00 byte and KDL with 0x01). Checks:
//! - nothing panics, hangs or runs out of memory;
//! - a failed compile says why (at least one error diagnostic), and every diagnostic renders
//!   (text, colour and JSON, as the CLI prints them);
//! - a compiled output diffs empty against itself;
//! - compiling again gives the same output and the same diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlship::diag::{self, JsonDiagnostic};
use mlship::project::MemProject;

fuzz_target!(init: mlship_fuzz::catch_stack_overflow(), |data: &[u8]| {
    let Some((&selector, spec)) = data.split_first() else { return };
    let name = if selector & 1 == 0 { "mlship.yaml" } else { "mlship.kdl" };
    let project = MemProject::default();
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
    let report = mlship::diff::diff(out, out, None);
    assert!(report.is_empty(), "diff of an output with itself is not empty: {report:?}");
    let b = mlship::compile(name, spec, &project);
    assert!(b.output.as_ref() == Some(out), "compiling the same input twice gave different outputs");
    assert_eq!(a.diagnostics, b.diagnostics, "compiling twice gave different diagnostics");
});
