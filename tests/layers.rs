//! The library's layer order, enforced: a module may use modules of lower layers only.
//!
//! Reads every file under compiler/src, takes the `crate::<module>` paths its code names
//! (comments aside), and fails on an arrow that points up or sideways, and on a module that
//! has no layer. Modules of one layer are independent of each other; a module's own files
//! (`lower/images.rs` is `lower`) may use each other.

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

use std::collections::BTreeMap;
use std::path::Path;

/// Lowest first. A module may use any module of an earlier line.
const LAYERS: &[&[&str]] = &[
    &["source", "names", "units", "secrets", "spec", "project"],
    &["diag", "tree", "condition"],
    &["syntax", "schema_common"],
    &["yamlout", "validate", "work", "imagelock"],
    &["schema", "check"],
    &["load", "inputs"],
    &["stdlib"],
    &["plan"],
    &["lower", "emit"],
    // `lib` is the crate root's own items: `compile` runs load, lower and emit, and
    // `built_images` load and lower.
    &["lib"],
    &["diff", "explain", "graph", "writer"],
    &["report", "init"],
    &["commands"],
];

/// Items of the crate root that code names as `crate::<item>`.
const LIB_ITEMS: &[&str] = &["compile", "built_images", "BuiltImages"];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The modules a file's code names through `crate::` (not in comments), with line numbers.
fn uses(text: &str) -> Vec<(usize, String)> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let line_at = |at: usize| code[..at].matches('\n').count() + 1;
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a::X, b}`: the top-level items of the group, nested braces skipped.
            let (mut depth, mut item) = (0, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push((line_at(at), std::mem::take(&mut item)));
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            out.push((line_at(at), item));
        } else {
            out.push((line_at(at), rest.to_string()));
        }
    }
    out.into_iter()
        .map(|(l, item)| {
            let name: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (l, name)
        })
        .filter(|(_, n)| n.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .collect()
}

/// Every upward or sideways arrow, and every file of a module without a layer.
fn violations(files: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (rel, text) in files {
        let module = rel.trim_end_matches(".rs").split('/').next().unwrap_or_default();
        if matches!(module, "lib" | "main") {
            continue;
        }
        // Unit tests may use anything; they sit at the end of their file.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let Some(own) = layer_of(module) else {
            out.push(format!("{rel}: module `{module}` has no layer in tests/layers.rs"));
            continue;
        };
        for (line, used) in uses(text) {
            let used = if LIB_ITEMS.contains(&used.as_str()) {
                "lib".to_string()
            } else {
                used
            };
            if used == module {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => {}
                Some(_) => out.push(format!(
                    "{rel}:{line}: `{module}` (layer {own}) uses `{used}` (layer {}), which is not below it",
                    layer_of(&used).unwrap_or_default()
                )),
                None => out.push(format!("{rel}:{line}: `{module}` uses `{used}`, which has no layer")),
            }
        }
    }
    out
}

fn library() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("compiler/src");
    let mut files = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("compiler/src reads") {
            let path = entry.expect("entry reads").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(&root)
                    .expect("inside")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(rel, std::fs::read_to_string(&path).expect("source reads"));
            }
        }
    }
    files
}

#[test]
fn no_module_uses_a_module_above_it() {
    let problems = violations(&library());
    assert!(problems.is_empty(), "layer violations:\n{}", problems.join("\n"));
}

#[test]
fn the_layer_check_fails_on_an_upward_use() {
    let mut files = library();
    let before = violations(&files).len();
    files
        .get_mut("syntax/mod.rs")
        .expect("syntax/mod.rs exists")
        .push_str("\nuse crate::emit::Output;\n");
    let after = violations(&files);
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert!(
        after.iter().any(|p| p.contains("`syntax` (layer 2) uses `emit`")),
        "{after:?}"
    );
    files.insert("target9.rs".into(), String::new());
    assert!(violations(&files).iter().any(|p| p.contains("`target9` has no layer")));
}

#[test]
fn uses_reads_paths_and_groups_but_not_comments() {
    let found = uses(
        "use crate::{diag::{Code, X}, names};\n// crate::emit\nlet x = crate::units::parse(s);\nuse crate::{\n    tree,\n};\n",
    );
    let names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["diag", "names", "units", "tree"]);
}
