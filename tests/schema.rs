//! The committed schema (which mlship reads and `mlship schema` prints) is exactly the one
//! generated from the spec's types.
//! Refresh with `bash scripts/regen.sh`, which then renders the goldens, expectations and
//! transcripts with the new schema (the library embeds the committed one when it is built).

mod common;

#[test]
fn committed_schema_is_fresh() {
    let path = common::root().join("schemas/mlship.schema.json");
    common::expect_file(&path, mlship::schema::generate().as_bytes()).unwrap();
}
