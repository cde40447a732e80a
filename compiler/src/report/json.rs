//! JSON for scripts: one object per line for streams of findings, one document otherwise.

use super::Checked;
use crate::diag::{Diagnostic, JsonDiagnostic};
use crate::source::SourceFile;
use crate::validate::{Document, Outcome};
use crate::writer::Report;
use serde_json::json;

fn line(out: &mut String, value: &impl serde::Serialize) {
    out.push_str(&serde_json::to_string(value).expect("JSON serializes"));
    out.push('\n');
}

/// One line per diagnostic.
pub fn diagnostics(diags: &[Diagnostic], file: &SourceFile) -> String {
    let mut out = String::new();
    for d in diags {
        line(&mut out, &JsonDiagnostic::new(d, file));
    }
    out
}

/// One line per stale output file of a checked spec.
pub fn stale(c: &Checked) -> String {
    let mut out = String::new();
    for (file, why) in c.stale {
        line(
            &mut out,
            &json!({ "spec": c.file.name, "file": c.out.join(file), "stale": why }),
        );
    }
    out
}

/// What a build wrote, removed and left alone, on one line.
pub fn written(r: &Report) -> String {
    let mut out = String::new();
    line(
        &mut out,
        &json!({ "written": r.written, "removed": r.removed, "unchanged": r.unchanged }),
    );
    out
}

/// Every validated manifest document with its status and located problems.
pub fn manifests(docs: &[Document]) -> String {
    let docs: Vec<serde_json::Value> = docs
        .iter()
        .map(|d| {
            let status = match d.outcome {
                Outcome::Valid => "valid",
                Outcome::Invalid(_) => "invalid",
                Outcome::Skipped(_) => "skipped",
            };
            let mut doc = json!({
                "file": d.file, "line": d.line,
                "kind": d.object.as_ref().map(|o| o.kind.clone()),
                "name": d.object.as_ref().and_then(|o| o.name.clone()),
                "status": status,
                "problems": d.problems().iter().map(|p| json!({
                    "line": p.line, "column": p.column, "path": p.violation.path,
                    "message": p.violation.message, "help": p.violation.help,
                })).collect::<Vec<_>>(),
            });
            // Why a document was not validated, as the human report says it.
            if let Outcome::Skipped(u) = &d.outcome {
                doc["reason"] = json!(format!("{u}; {}", super::CRD_HINT));
            }
            doc
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&docs).expect("JSON serializes");
    out.push('\n');
    out
}
