//! The committed schema is exactly what `mlship schema` prints.
//! Refresh with `UPDATE_GOLDEN=1 cargo test --test schema`.

mod common;

#[test]
fn committed_schema_is_fresh() {
    let path = common::root().join("schemas/mlship.schema.json");
    common::expect_file(&path, mlship::schema::schema_text().as_bytes()).unwrap();
}
