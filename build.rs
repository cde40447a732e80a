//! Build script: the table of custom resources with a schema.
//!
//! Takes: the files `schemas/crds/*.json`, each with an `x-mlship-crd` marker naming its
//! `apiVersion`, `kind` and `scope` (written by `schemas/crds/crd2json.py`). Gives:
//! `$OUT_DIR/crds.rs`, one `Crd` per file in file name order, each embedding its file, which
//! `compiler/src/validate/crd.rs` includes. Adding a schema is adding a file (and its line in
//! `schemas/crds/SOURCES.md`); nothing in the code lists them.
//!
//! The marker is read without a JSON parser (the build has no dependencies): it is a flat
//! object of plain strings. A unit test of `validate::crd` checks the table against a full
//! parse of every file.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    reason = "a build script writes its table into OUT_DIR and speaks to cargo on stdout"
)]

use std::fmt::Write as _;
use std::path::Path;

const DIR: &str = "schemas/crds";
const MARKER: &str = "\"x-mlship-crd\"";

fn main() {
    println!("cargo:rerun-if-changed={DIR}");
    let mut names: Vec<String> = std::fs::read_dir(DIR)
        .unwrap_or_else(|e| panic!("{DIR}: {e}"))
        .map(|entry| entry.unwrap_or_else(|e| panic!("{DIR}: {e}")).file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    let mut table = String::from("// Written by build.rs from schemas/crds/*.json, in file name order.\n[\n");
    for name in &names {
        let path = Path::new(DIR).join(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let marker = marker(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let field = |key: &str| {
            marker
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{}: `x-mlship-crd` has no `{key}`", path.display()))
        };
        let (api_version, kind) = (field("apiVersion"), field("kind"));
        let scope = match field("scope") {
            "Namespaced" => "Namespaced",
            "Cluster" => "Cluster",
            other => panic!(
                "{}: scope `{other}` is neither `Namespaced` nor `Cluster`",
                path.display()
            ),
        };
        writeln!(
            table,
            "    Crd {{ file: {name:?}, api_version: {api_version:?}, kind: {kind:?}, scope: Scope::{scope}, \
             text: include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{DIR}/\", {name:?})) }},"
        )
        .expect("writing to a string");
    }
    table.push_str("]\n");
    let out_dir = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir).join("crds.rs");
    std::fs::write(&out, table).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}

/// The `"x-mlship-crd": {"key": "value", ...}` object of a schema file, as pairs.
fn marker(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut found = text.match_indices(MARKER);
    let (at, _) = found.next().ok_or("no `x-mlship-crd` marker")?;
    if found.next().is_some() {
        return Err("more than one `x-mlship-crd` marker".into());
    }
    let mut rest = text[at + MARKER.len()..].trim_start();
    rest = rest
        .strip_prefix(':')
        .ok_or("`x-mlship-crd` is not followed by `:`")?
        .trim_start();
    rest = rest.strip_prefix('{').ok_or("`x-mlship-crd` is not an object")?;
    let mut pairs = Vec::new();
    loop {
        rest = rest.trim_start();
        if rest.starts_with('}') {
            return Ok(pairs);
        }
        if !pairs.is_empty() {
            rest = rest
                .strip_prefix(',')
                .ok_or("expected `,` or `}` in `x-mlship-crd`")?
                .trim_start();
        }
        let (key, after) = string(rest)?;
        rest = after
            .trim_start()
            .strip_prefix(':')
            .ok_or("expected `:` in `x-mlship-crd`")?
            .trim_start();
        let (value, after) = string(rest)?;
        rest = after;
        pairs.push((key, value));
    }
}

/// A JSON string without escapes at the start of `text`, and what follows it.
fn string(text: &str) -> Result<(String, &str), String> {
    let body = text.strip_prefix('"').ok_or("expected a string in `x-mlship-crd`")?;
    let end = body.find('"').ok_or("unterminated string in `x-mlship-crd`")?;
    let s = &body[..end];
    if s.contains('\\') || s.chars().any(char::is_control) {
        return Err(format!("`x-mlship-crd` holds {s:?}: only plain strings are read"));
    }
    Ok((s.to_string(), &body[end + 1..]))
}
