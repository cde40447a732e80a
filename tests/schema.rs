//! The committed schema (which mlship reads and `mlship schema` prints) is exactly the one
//! generated from the spec's types.
//! Refresh with `bash scripts/regen.sh`, which then renders the goldens, expectations and
//! transcripts with the new schema (the library embeds the committed one when it is built).

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

#[test]
fn committed_schema_is_fresh() {
    let path = common::root().join("schemas/mlship.schema.json");
    common::expect_file(&path, mlship::schema::generate().as_bytes()).unwrap();
}
