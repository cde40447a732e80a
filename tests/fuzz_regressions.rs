//! Every input the fuzzers found (tests/fuzz-regressions/) goes through the whole compiler in
//! both syntaxes without a panic, a stack overflow or an unbounded run, on stable Rust.

mod common;

#[test]
fn fuzz_findings_are_handled() {
    let dir = common::root().join("tests/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        for name in ["mlship.yaml", "mlship.kdl"] {
            let c = mlship::compile(name, &bytes, &mlship::project::MemProject::default());
            assert!(
                c.output.is_some() || !c.diagnostics.is_empty(),
                "{}: no output and no diagnostic",
                entry.path().display()
            );
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs");
}
