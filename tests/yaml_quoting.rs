//! mlship's YAML writer (`mlship::yamlout::to_yaml`) against an oracle: tests/yaml/oracle.tsv
//! says, for each string, how PyYAML (a YAML 1.1 reader), the YAML 1.1 type repository and
//! the YAML 1.2 core schema read it when it is written plain. Every string that one of them
//! would not read back as the same string is quoted, as a value, as a key and as a list item;
//! and every string of the table, quoted or not, reads back as itself through mlship's own
//! reader and through serde_norway (libyaml). The table is written by scripts/yaml-oracle.py.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

mod common;

use serde_json::{Value, json};

struct Row {
    scalar: String,
    pyyaml: String,
    yaml11: String,
    yaml12: String,
}

impl Row {
    /// Some reader would not read the plain string back as this string.
    fn misread(&self) -> bool {
        [&self.pyyaml, &self.yaml11, &self.yaml12].iter().any(|t| *t != "str")
    }
}

fn table() -> Vec<Row> {
    let text = std::fs::read_to_string(common::root().join("tests/yaml/oracle.tsv")).unwrap();
    let rows: Vec<Row> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            assert_eq!(cols.len(), 4, "oracle.tsv: four tab-separated columns: {line:?}");
            Row {
                scalar: serde_json::from_str(cols[0]).unwrap_or_else(|e| panic!("{line:?}: {e}")),
                pyyaml: cols[1].to_string(),
                yaml11: cols[2].to_string(),
                yaml12: cols[3].to_string(),
            }
        })
        .collect();
    assert!(rows.len() > 100, "oracle.tsv has only {} rows", rows.len());
    rows
}

/// Strings that only the letter of the YAML 1.1 type repository makes floats (a point with no
/// digit around it, or only `_`): PyYAML, go-yaml and the YAML 1.2 core schema read them as
/// strings, and mlship's writer leaves them plain. The test fails once one of them is quoted,
/// so that this list only ever shrinks.
const KNOWN_GAPS: &[&str] = &[".", "._", "._5"];

fn quoted(text: &str) -> bool {
    text.starts_with(['\'', '"'])
}

#[test]
fn the_table_holds_the_known_traps() {
    let rows = table();
    let has = |s: &str| rows.iter().any(|r| r.scalar == s);
    for s in [
        "y",
        "Y",
        "yes",
        "no",
        "on",
        "off",
        "~",
        "null",
        "",
        "0o12",
        "012",
        "0x1F",
        "1e3",
        "1_000",
        ".inf",
        ".nan",
        "12:30",
        "2024-01-01",
        "=",
        "<<",
    ] {
        assert!(has(s), "oracle.tsv has no row for {s:?}");
    }
    // The columns say what they should: PyYAML reads `y` as a string, but YAML 1.1 does not.
    let y = rows.iter().find(|r| r.scalar == "y").unwrap();
    assert_eq!(
        (y.pyyaml.as_str(), y.yaml11.as_str(), y.yaml12.as_str()),
        ("str", "bool", "str")
    );
}

#[test]
fn every_string_some_reader_would_misread_is_quoted() {
    let mut failures = Vec::new();
    for row in table().iter().filter(|r| r.misread()) {
        let s = row.scalar.as_str();
        let why = format!(
            "{s:?} (pyyaml {}, yaml11 {}, yaml12 {})",
            row.pyyaml, row.yaml11, row.yaml12
        );
        let value = mlship::yamlout::to_yaml(&json!({ "k": s }));
        let key = mlship::yamlout::to_yaml(&json!({ s: "v" }));
        let item = mlship::yamlout::to_yaml(&json!([s]));
        let forms = [
            ("value", value.strip_prefix("k: ").is_some_and(quoted), value),
            ("key", quoted(&key), key),
            ("list item", item.strip_prefix("- ").is_some_and(quoted), item),
        ];
        for (form, is_quoted, text) in forms {
            if KNOWN_GAPS.contains(&s) {
                if is_quoted {
                    failures.push(format!("{form} {why} is quoted now: remove it from KNOWN_GAPS"));
                }
            } else if !is_quoted {
                failures.push(format!("{form} {why}: {text:?}"));
            }
        }
    }
    assert!(
        KNOWN_GAPS
            .iter()
            .all(|g| table().iter().any(|r| r.scalar == *g && r.misread())),
        "every entry of KNOWN_GAPS is a row that some reader misreads"
    );
    assert!(
        failures.is_empty(),
        "quoting differs from the oracle:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_string_reads_back_as_itself() {
    let mut failures = Vec::new();
    for row in table() {
        let s = row.scalar.as_str();
        let doc = json!({ "k": s, "list": [s], "keys": { s: "v" } });
        let text = mlship::yamlout::to_yaml(&doc);
        let ours = mlship::syntax::yaml::parse(&mlship::source::SourceFile::new("t.yaml", text.clone()))
            .map(|tree| tree.to_json());
        if ours.as_ref().ok() != Some(&doc) {
            failures.push(format!("mlship reads {s:?} back differently from:\n{text}"));
        }
        let theirs: Result<Value, _> = serde_norway::from_str(&text);
        if theirs.as_ref().ok() != Some(&doc) {
            failures.push(format!("serde_norway reads {s:?} back differently from:\n{text}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
