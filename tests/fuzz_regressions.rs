//! Every input the fuzzers found (tests/fuzz-regressions/) goes through the whole compiler in
//! both syntaxes without a panic, a stack overflow or an unbounded run, on stable Rust.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

#[test]
fn fuzz_findings_are_handled() {
    let dir = common::root().join("tests/fuzz-regressions");
    let mut n = 0;
    for file in common::walk(&dir) {
        let bytes = std::fs::read(dir.join(&file)).unwrap();
        for name in ["mlship.yaml", "mlship.kdl"] {
            let c = mlship::compile(name, &bytes, &mlship::project::MemProject::default());
            assert!(
                c.output.is_some() || !c.diagnostics.is_empty(),
                "tests/fuzz-regressions/{file}: no output and no diagnostic"
            );
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs");
}
