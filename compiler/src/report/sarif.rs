//! SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.

use super::Checked;
use crate::diag::{Code, Severity};
use serde_json::{Value, json};

const RULE_STALE: &str = "stale";

/// The SARIF log of every diagnostic and stale file, one rule per diagnostic code.
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
