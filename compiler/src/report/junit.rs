//! JUnit XML for `validate --manifests`: one test case per document, a failure per problem,
//! documents without a schema skipped, for CI test reports.

use crate::validate::{Document, Outcome, summary};

/// A JUnit XML report: one test suite, one test case per document.
pub fn junit(docs: &[Document], version: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let s = summary(docs);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"mlship validate (Kubernetes {version})\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
        docs.len(),
        s.invalid,
        s.skipped
    );
    for d in docs {
        let name = d
            .object
            .as_ref()
            .map_or_else(|| format!("document {}", d.number), |o| o.to_string());
        out.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            esc(&d.file),
            esc(&name)
        ));
        match &d.outcome {
            Outcome::Valid => out.push_str("/>\n"),
            // junit-4.xsd's `skipped` is a plain string element: the reason is its text, not a
            // `message` attribute (which that schema refuses).
            Outcome::Skipped(u) => out.push_str(&format!(
                ">\n      <skipped>{}</skipped>\n    </testcase>\n",
                esc(&u.to_string())
            )),
            Outcome::Invalid(problems) => {
                out.push_str(">\n");
                for p in problems {
                    out.push_str(&format!(
                        "      <failure message=\"{}\">{}:{}:{}: {}</failure>\n",
                        esc(&p.violation.message),
                        esc(&d.file),
                        p.line,
                        p.column,
                        esc(&p.to_string())
                    ));
                }
                out.push_str("    </testcase>\n");
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
