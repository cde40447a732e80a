//! Machine-readable reports of diagnostics and stale files: GitHub annotations and SARIF.
//!
//! Takes: per spec file its diagnostics and stale output files. Gives: text for the CI
//! system. Like [`crate::diag::render`], this formats; only the CLI prints.

use crate::diag::{Code, Diagnostic, Severity};
use crate::source::SourceFile;
use serde_json::{Value, json};

/// One checked spec: its diagnostics and the output files that are stale.
pub struct Checked<'a> {
    pub file: &'a SourceFile,
    pub diagnostics: &'a [Diagnostic],
    /// (output path, reason)
    pub stale: &'a [(String, &'static str)],
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_prop(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: `::error file=...,line=...::message`.
pub fn github(checked: &[Checked]) -> String {
    let mut out = String::new();
    for c in checked {
        for d in c.diagnostics {
            let level = if d.severity == Severity::Error {
                "error"
            } else {
                "warning"
            };
            let mut props = vec![format!("file={}", escape_prop(&c.file.name))];
            if let Some(span) = d.span {
                let (l, col) = c.file.line_col(span.start);
                let (el, ecol) = c.file.line_col(span.end);
                props.push(format!("line={l},col={col},endLine={el},endColumn={ecol}"));
            }
            props.push(format!("title={}", escape_prop(&d.code.as_str())));
            let help = d.help.as_ref().map(|h| format!("\nhelp: {h}")).unwrap_or_default();
            out.push_str(&format!(
                "::{level} {}::{}\n",
                props.join(","),
                escape_data(&format!("{}{help}", d.message))
            ));
        }
        for (path, why) in c.stale {
            out.push_str(&format!(
                "::error file={},line=1,title=stale::{}\n",
                escape_prop(&c.file.name),
                escape_data(&format!(
                    "{path} is {why}; run `mlship build {}` and commit the result",
                    c.file.name
                ))
            ));
        }
    }
    out
}

const RULE_STALE: &str = "stale";

/// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
pub fn sarif(checked: &[Checked]) -> String {
    let mut rules: Vec<String> = Vec::new();
    let mut results = Vec::new();
    for c in checked {
        for d in c.diagnostics {
            let id = d.code.as_str();
            if !rules.contains(&id) {
                rules.push(id.clone());
            }
            let mut location = json!({ "physicalLocation": { "artifactLocation": { "uri": c.file.name } } });
            if let Some(span) = d.span {
                let (l, col) = c.file.line_col(span.start);
                let (el, ecol) = c.file.line_col(span.end.max(span.start + 1));
                location["physicalLocation"]["region"] =
                    json!({ "startLine": l, "startColumn": col, "endLine": el, "endColumn": ecol });
            }
            let text = match &d.help {
                Some(h) => format!("{} (help: {h})", d.message),
                None => d.message.clone(),
            };
            results.push(json!({
                "ruleId": id,
                "level": if d.severity == Severity::Error { "error" } else { "warning" },
                "message": { "text": text },
                "locations": [location],
            }));
        }
        for (path, why) in c.stale {
            if !rules.iter().any(|r| r == RULE_STALE) {
                rules.push(RULE_STALE.into());
            }
            results.push(json!({
                "ruleId": RULE_STALE,
                "level": "error",
                "message": { "text": format!("{path} is {why}; run `mlship build {}` and commit the result", c.file.name) },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": c.file.name }, "region": { "startLine": 1 } } }],
            }));
        }
    }
    rules.sort();
    let rules: Vec<Value> = rules
        .iter()
        .map(|id| {
            let text = if id == RULE_STALE {
                "The committed output tree is not what the spec compiles to."
            } else {
                Code::parse(id).map_or("An mlship diagnostic.", Code::describe)
            };
            json!({ "id": id, "shortDescription": { "text": text } })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "mlship",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://mlship.dev",
                "rules": rules,
            } },
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    text.push('\n');
    text
}
