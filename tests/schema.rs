//! The committed schema (which mlship reads and `mlship schema` prints) is exactly the one
//! generated from the spec's types.
//! Refresh with `UPDATE_GOLDEN=1 cargo test --test schema`.

mod common;

#[test]
fn committed_schema_is_fresh() {
    let path = common::root().join("schemas/mlship.schema.json");
    common::expect_file(&path, mlship::schema::generate().as_bytes()).unwrap();
}
