//! JUnit XML for `validate --manifests`: one test case per document, a failure per problem,
//! documents without a schema skipped, for CI test reports.

use crate::validate::{Document, Outcome, summary};

/// Text for XML attributes and elements. XML 1.0 has no way to write the other control
/// characters, even as references, so they are shown as `\u{7}`; tabs and line ends are
/// references, which attribute normalisation would otherwise turn into spaces.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if c.is_control() && (c < ' ' || c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c)) => {
                out.push_str(&c.escape_unicode().to_string());
            }
            '\u{fffe}' | '\u{ffff}' => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out
}

/// A JUnit XML report: one test suite, one test case per document.
pub fn junit(docs: &[Document], version: &str) -> String {
    let esc = escape;
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

#[cfg(test)]
mod tests {
    /// Issue 15: a control character in a message made the report ill-formed XML.
    #[test]
    fn control_characters_are_shown_not_written() {
        assert_eq!(
            super::escape("a\u{7}b<\"&>\tc\n"),
            "a\\u{7}b&lt;&quot;&amp;&gt;&#9;c&#10;"
        );
        assert_eq!(super::escape("é ü"), "é ü");
    }
}
