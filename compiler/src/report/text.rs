//! Text for people: rendered diagnostics, verdicts and counts, as the CLI shows them.

use super::Checked;
use crate::diag::{self, Diagnostic};
use crate::source::SourceFile;
use crate::validate::{Document, Outcome, summary as manifest_summary};
use crate::writer::Report;
use std::path::Path;

/// Every diagnostic rendered rustc-style, with colour when asked.
pub fn diagnostics(diags: &[Diagnostic], file: &SourceFile, color: bool) -> String {
    diags.iter().map(|d| diag::render(d, file, color)).collect()
}

/// "1 error, 2 warnings".
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}

/// `validate`'s line for one spec.
pub fn validated(name: &str, valid: bool, diags: &[Diagnostic]) -> String {
    let verdict = if valid { "valid" } else { "invalid" };
    format!("{name}: {verdict} ({})\n", summary(diags))
}

/// `build`'s line: what it wrote into `out`.
pub fn written(name: &str, r: &Report, out: &Path) -> String {
    format!(
        "{name}: wrote {} files, removed {}, {} unchanged in {}\n",
        r.written.len(),
        r.removed.len(),
        r.unchanged,
        out.display()
    )
}

/// `check`'s lines for one spec: its stale files, then its verdict. A tree that was never
/// built would list every file: past 30, the first 20 are shown.
pub fn check(c: &Checked) -> String {
    let mut out = String::new();
    let shown = if c.stale.len() > 30 { 20 } else { c.stale.len() };
    for (file, why) in &c.stale[..shown] {
        let at = c.out.join(file);
        out.push_str(&format!("{} is {why}\n", at.strip_prefix(".").unwrap_or(&at).display()));
    }
    if shown < c.stale.len() {
        out.push_str(&format!(
            "... and {} more (`--format json` lists them all)\n",
            c.stale.len() - shown
        ));
    }
    let name = &c.file.name;
    out.push_str(&match (c.valid, c.stale.is_empty()) {
        (false, _) => format!("{name}: invalid ({})\n", summary(c.diagnostics)),
        (true, true) => format!("{name}: up to date\n"),
        (true, false) => format!(
            "{name}: {} stale files; run `mlship build {name}` to update them\n",
            c.stale.len()
        ),
    });
    out
}

/// `validate --manifests`: every document with problems, then every object skipped and why,
/// then the counts; documents in the order read.
pub fn manifests(docs: &[Document], files: usize, version: &str) -> String {
    let mut out = String::new();
    for d in docs.iter().filter(|d| !d.problems().is_empty()) {
        out.push_str(&format!("{d}\n"));
    }
    for d in docs {
        if let Outcome::Skipped(u) = &d.outcome {
            let what = d
                .object
                .as_ref()
                .map_or_else(|| format!("document {}", d.number), ToString::to_string);
            out.push_str(&format!(
                "{}:{}: skipped {what} ({}): no schema; {}\n",
                d.file,
                d.line,
                u.api_version,
                super::CRD_HINT
            ));
        }
    }
    let s = manifest_summary(docs);
    out.push_str(&format!(
        "{} documents in {files} files: {} valid, {} invalid, {} skipped (no schema: custom resources) for Kubernetes {version}\n",
        docs.len(),
        s.valid,
        s.invalid,
        s.skipped
    ));
    out
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use crate::diag::Code;
    use crate::source::SourceFile;

    fn checked<'a>(file: &'a SourceFile, stale: &'a [(String, &'static str)], valid: bool) -> Checked<'a> {
        Checked {
            file,
            diagnostics: &[],
            stale,
            out: Path::new("./deploy"),
            valid,
        }
    }

    #[test]
    fn counts_are_pluralized() {
        let d = [Diagnostic::error(Code::Io, "a"), Diagnostic::error(Code::Io, "b")];
        assert_eq!(summary(&d), "2 errors, 0 warnings");
        assert_eq!(summary(&d[..1]), "1 error, 0 warnings");
    }

    #[test]
    fn check_shows_twenty_of_more_than_thirty_stale_files() {
        let file = SourceFile::new("mlship.yaml", String::new());
        let stale: Vec<(String, &str)> = (0..31).map(|i| (format!("f{i:02}.yaml"), "missing")).collect();
        let text = check(&checked(&file, &stale, true));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 22);
        assert_eq!(lines[0], "deploy/f00.yaml is missing");
        assert_eq!(lines[20], "... and 11 more (`--format json` lists them all)");
        assert_eq!(
            lines[21],
            "mlship.yaml: 31 stale files; run `mlship build mlship.yaml` to update them"
        );
        let text = check(&checked(&file, &stale[..30], true));
        assert_eq!(text.lines().count(), 31);
        assert_eq!(check(&checked(&file, &[], true)), "mlship.yaml: up to date\n");
        assert_eq!(
            check(&checked(&file, &[], false)),
            "mlship.yaml: invalid (0 errors, 0 warnings)\n"
        );
    }
}
