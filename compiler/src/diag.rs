//! Diagnostics as plain data.
//!
//! Takes: problems found by any stage. Gives: [`Diagnostic`] values with a stable code, a
//! severity, a message, a primary span, secondary spans and a help line, and renderers that
//! turn them into rustc-style text or JSON. Only the CLI decides where the text goes.

use crate::source::{Path, SourceFile, Span};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Defines [`Code`] from one table: each code's doc comment is also its [`Code::describe`]
/// text, which docs/diagnostics.md lists (a test keeps the two equal).
macro_rules! codes {
    ($(#[doc = $doc:literal] $name:ident = $n:literal,)*) => {
        /// Stable diagnostic codes. Documented in docs/diagnostics.md; never renumber.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(#[doc = $doc] $name = $n,)*
        }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &[Code] = &[$(Code::$name,)*];

            /// The one-line meaning of the code.
            pub fn describe(self) -> &'static str {
                match self {
                    $(Code::$name => $doc.trim(),)*
                }
            }
        }
    };
}

codes! {
    /// The file is not valid YAML or KDL.
    Syntax = 1,
    /// The file breaks a size, depth or expansion limit.
    Limit = 2,
    /// A mapping key appears twice.
    DuplicateKey = 3,
    /// The file is not UTF-8 or is empty.
    Encoding = 4,
    /// A value has the wrong type.
    Type = 10,
    /// A key the spec does not know.
    UnknownKey = 11,
    /// A required key is missing.
    MissingKey = 12,
    /// A value is not one of the allowed values.
    BadValue = 13,
    /// A number or string is out of the allowed range or shape.
    Range = 14,
    /// A reference names an image, secret, volume or step that does not exist.
    UnresolvedReference = 20,
    /// Pipeline steps depend on each other in a cycle.
    Cycle = 21,
    /// A name is not a DNS-1123 label.
    InvalidName = 22,
    /// A derived Kubernetes object name is too long.
    NameTooLong = 23,
    /// A CPU or memory quantity does not parse.
    Quantity = 24,
    /// A cron schedule does not parse.
    Schedule = 25,
    /// A port is out of range.
    Port = 26,
    /// Autoscale bounds are inconsistent.
    Autoscale = 27,
    /// A GPU workload runs an image without CUDA.
    GpuWithoutCuda = 28,
    /// An environment overrides something the base spec does not declare.
    UnknownOverride = 29,
    /// Secret material outside the provider forms: a credential in a value, an object or a Dockerfile.
    Credential = 30,
    /// The target Kubernetes version is not supported.
    KubernetesVersion = 31,
    /// A path leaves the project or is malformed.
    Path = 32,
    /// A duration does not parse.
    Duration = 33,
    /// A value is valid alone but conflicts with another.
    Conflict = 34,
    /// A stack, framework, CUDA and Python combination the stdlib does not have.
    Stack = 35,
    /// A rendered object does not validate against the target Kubernetes version's schema.
    InvalidObject = 36,
    /// A patch, manifest or waiver does not match what was rendered.
    Patch = 37,
    /// A rendered pod breaks a policy that is not waived.
    Policy = 38,
    /// A model-serving setting the serving runtime, KServe or the autoscaler cannot honour.
    Serving = 39,
    /// A file the spec names cannot be read.
    Io = 40,
    /// The image lock (images.lock.yaml) is malformed or does not fit the spec.
    Lock = 41,
}

impl Code {
    pub fn as_str(self) -> String {
        format!("E{:03}", self as u16)
    }

    /// The code `id` names (`E012`), if any.
    pub fn parse(id: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == id)
    }
}

/// A secondary location with its own message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub span: Span,
    pub message: String,
}

/// One problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where in the document; resolved to a span against the parsed tree.
    pub path: Option<Path>,
    /// Whether the problem is the key at `path` (a name), not its value.
    pub key: bool,
    pub span: Option<Span>,
    /// Text under the caret.
    pub label: Option<String>,
    pub notes: Vec<Note>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            path: None,
            key: false,
            span: None,
            label: None,
            notes: Vec::new(),
            help: None,
        }
    }
    pub fn at(mut self, path: Path) -> Self {
        self.path = Some(path);
        self
    }
    /// At the key of the entry at `path`: the problem is its name.
    pub fn at_key(mut self, path: Path) -> Self {
        self.path = Some(path);
        self.key = true;
        self
    }
    pub fn span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn note(mut self, span: Span, message: impl Into<String>) -> Self {
        self.notes.push(Note {
            span,
            message: message.into(),
        });
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sort diagnostics by position and drop exact duplicates (the same problem seen again
/// through an environment merge).
pub fn normalize(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        (a.span.map(|s| s.start), a.code, &a.message).cmp(&(b.span.map(|s| s.start), b.code, &b.message))
    });
    diags.dedup_by(|a, b| a.span == b.span && a.code == b.code && a.message == b.message);
}

/// A source file as codespan reads it, through the line index the file already holds:
/// codespan's `SimpleFile` indexes the whole text again for each diagnostic, so 20,000
/// diagnostics in a 2 MB spec took 13 s to render. Lines are found as `SimpleFile` finds them.
struct Indexed<'a>(&'a SourceFile);

impl Indexed<'_> {
    fn line_start(&self, line: usize) -> Result<usize, codespan_reporting::files::Error> {
        let starts = self.0.line_starts();
        match line.cmp(&starts.len()) {
            std::cmp::Ordering::Less => Ok(starts[line]),
            std::cmp::Ordering::Equal => Ok(self.0.text.len()),
            std::cmp::Ordering::Greater => Err(codespan_reporting::files::Error::LineTooLarge {
                given: line,
                max: starts.len() - 1,
            }),
        }
    }
}

impl<'a> codespan_reporting::files::Files<'a> for Indexed<'a> {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, codespan_reporting::files::Error> {
        Ok(self.0.name.as_str())
    }

    fn source(&'a self, (): ()) -> Result<&'a str, codespan_reporting::files::Error> {
        Ok(self.0.text.as_str())
    }

    fn line_index(&'a self, (): (), byte: usize) -> Result<usize, codespan_reporting::files::Error> {
        Ok(self
            .0
            .line_starts()
            .binary_search(&byte)
            .unwrap_or_else(|next| next - 1))
    }

    fn line_range(&'a self, (): (), line: usize) -> Result<std::ops::Range<usize>, codespan_reporting::files::Error> {
        Ok(self.line_start(line)?..self.line_start(line + 1)?)
    }
}

/// Lines longer than this are not shown under a diagnostic: the renderer's cost grows with
/// the line, and a megabyte on one line says nothing to a reader. The location stays.
pub const MAX_SHOWN_LINE: usize = 1000;

/// Whether the line that holds byte `at` is too long to show.
fn long_line(text: &str, at: usize) -> bool {
    let at = at.min(text.len());
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    end - start > MAX_SHOWN_LINE
}

/// Render like rustc: `error[E020]: message`, `--> file:line:col`, the source line, a caret.
pub fn render(diag: &Diagnostic, file: &SourceFile, color: bool) -> String {
    let too_long = diag
        .span
        .iter()
        .map(|s| s.start)
        .chain(diag.notes.iter().map(|n| n.span.start))
        .any(|at| file.text.is_char_boundary(at.min(file.text.len())) && long_line(&file.text, at));
    if too_long {
        let mut plain = diag.clone();
        let at = plain.span.take().map(|s| file.line_col(s.start));
        plain.notes.clear();
        let mut text = render(&plain, &SourceFile::new(file.name.as_str(), ""), color);
        if let Some((line, col)) = at {
            text = text.replacen(
                &format!("= in {}", file.name),
                &format!("= at {}:{line}:{col} (the line is too long to show)", file.name),
                1,
            );
        }
        return text;
    }
    let files = Indexed(file);
    let d = to_codespan(diag, &file.name);
    let config = term::Config::default();
    if color {
        let mut buf = termcolor::Buffer::ansi();
        let _ = term::emit_to_write_style(&mut buf, &config, &files, &d);
        String::from_utf8_lossy(buf.as_slice()).into_owned()
    } else {
        term::emit_into_string(&config, &files, &d)
            .unwrap_or_else(|_| format!("{}: {}\n", diag.code.as_str(), diag.message))
    }
}

fn to_codespan(diag: &Diagnostic, file_name: &str) -> cs::Diagnostic<()> {
    let severity = match diag.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let mut labels = Vec::new();
    if let Some(span) = diag.span {
        labels.push(cs::Label::primary((), span.start..span.end).with_message(diag.label.clone().unwrap_or_default()));
    }
    for note in &diag.notes {
        labels.push(cs::Label::secondary((), note.span.start..note.span.end).with_message(&note.message));
    }
    let mut notes = Vec::new();
    if diag.span.is_none() {
        notes.push(format!("in {file_name}"));
    }
    if let Some(help) = &diag.help {
        notes.push(format!("help: {help}"));
    }
    cs::Diagnostic::new(severity)
        .with_code(diag.code.as_str())
        .with_message(&diag.message)
        .with_labels(labels)
        .with_notes(notes)
}

/// The JSON form of a diagnostic, for `--format json`.
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub code: String,
    pub severity: Severity,
    pub message: &'a str,
    pub file: &'a str,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub path: Option<String>,
    pub help: Option<&'a str>,
}

impl<'a> JsonDiagnostic<'a> {
    pub fn new(diag: &'a Diagnostic, file: &'a SourceFile) -> Self {
        let start = diag.span.map(|s| file.line_col(s.start));
        let end = diag.span.map(|s| file.line_col(s.end));
        JsonDiagnostic {
            code: diag.code.as_str(),
            severity: diag.severity,
            message: &diag.message,
            file: &file.name,
            line: start.map(|p| p.0),
            column: start.map(|p| p.1),
            end_line: end.map(|p| p.0),
            end_column: end.map(|p| p.1),
            path: diag.path.as_ref().map(ToString::to_string),
            help: diag.help.as_deref(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn the_docs_list_every_code_with_its_meaning() {
        let docs = include_str!("../../docs/diagnostics.md");
        let table: Vec<&str> = docs.lines().filter(|l| l.starts_with("| E")).collect();
        let expected: Vec<String> = Code::ALL
            .iter()
            .map(|c| format!("| {} | {} |", c.as_str(), c.describe()))
            .collect();
        assert_eq!(table, expected, "docs/diagnostics.md is out of step with diag::Code");
        assert_eq!(Code::parse("E036"), Some(Code::InvalidObject));
        assert_eq!(Code::parse("E999"), None);
    }

    /// Issue 14: each diagnostic's rendering indexed the lines of the whole file again, so
    /// 20,000 diagnostics in a 2 MB spec (an override per service, each warned about) took
    /// 13 s to print. They are rendered through the file's own index, and the text is what
    /// codespan's `SimpleFile` gives. The time is measured in the `linear` group of benches/stages.rs, at two sizes ten times apart, not
    /// here: a timed test fails on a busy machine.
    #[test]
    fn rendering_20000_diagnostics_through_the_files_index_matches_codespan() {
        let mut text = "#\n".repeat(200_000);
        let mut diags = Vec::new();
        for i in 0..20_000 {
            let at = text.len() + 2;
            text.push_str(&format!(
                "  svc{i}: {{replicas: 2, cpu: 250m, memory: 512Mi, port: 8080, image: server}}\n"
            ));
            diags.push(
                Diagnostic::error(Code::Conflict, "`replicas` is ignored")
                    .span(Span::new(at, at + 3))
                    .help("remove it"),
            );
        }
        let file = SourceFile::new("mlship.yaml", text.as_str());
        let out: Vec<String> = diags.iter().map(|d| render(d, &file, false)).collect();
        let config = term::Config::default();
        let simple = codespan_reporting::files::SimpleFile::new(file.name.as_str(), file.text.as_str());
        for (d, ours) in [(&diags[0], &out[0]), (&diags[19_999], &out[19_999])] {
            let mut again = d.clone();
            again.notes.push(Note {
                span: Span::new(text.len(), text.len()),
                message: "at the end".into(),
            });
            let expected = term::emit_into_string(&config, &simple, &to_codespan(d, &file.name)).unwrap();
            assert_eq!(ours, &expected);
            let expected = term::emit_into_string(&config, &simple, &to_codespan(&again, &file.name)).unwrap();
            assert_eq!(render(&again, &file, false), expected);
        }
    }
}
