//! The invalid-spec corpus: each tests/invalid/<case>.{yaml,kdl} pins its exact rendered
//! diagnostics in <case>.{yaml,kdl}.expected. Refresh with
//! `UPDATE_GOLDEN=1 cargo test --test invalid` and review every changed message.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

use common::*;

#[test]
fn invalid_specs_give_their_pinned_diagnostics() {
    let dir = root().join("tests/invalid");
    // The cases are the top-level files; files/ holds the project files they name.
    let cases: Vec<_> = walk(&dir)
        .into_iter()
        .filter(|f| !f.contains('/') && (f.ends_with(".yaml") || f.ends_with(".kdl")))
        .map(|f| dir.join(f))
        .collect();
    assert!(
        cases.len() >= 40,
        "the corpus should hold at least 40 cases, has {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let c = compile(case);
        let text = rendered(&c);
        if c.output.is_some() {
            failures.push(format!("{} compiled, but it is in the invalid corpus", case.display()));
            continue;
        }
        assert!(!text.is_empty());
        let expected = case.with_extension(format!("{}.expected", case.extension().unwrap().to_str().unwrap()));
        if let Err(e) = expect_file(&expected, text.as_bytes()) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
