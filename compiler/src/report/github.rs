//! GitHub Actions annotations (workflow commands), one line per diagnostic and stale file.

use super::Checked;
use crate::diag::Severity;

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
