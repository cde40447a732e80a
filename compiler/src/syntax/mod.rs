//! Parsing: YAML or KDL text into the spanned [`Node`](crate::tree::Node) tree.
//!
//! Takes: a [`SourceFile`]. Gives: the tree, or diagnostics. Parsing never panics and holds
//! the limits in [`Limits`] on any input, so hostile files fail fast with a located error.

pub mod kdl;
pub mod yaml;

use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use crate::tree::Node;

/// Bounds that keep parsing fast and small on hostile input. Documented in docs/spec.md.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest spec file, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of mappings and lists.
    pub max_depth: usize,
    /// Most nodes in the document after alias expansion.
    pub max_nodes: usize,
    /// Longest string value, in bytes.
    pub max_string: usize,
}

pub const LIMITS: Limits = Limits {
    max_bytes: 4 << 20,
    max_depth: 64,
    max_nodes: 200_000,
    max_string: 64 << 10,
};

/// The two spec syntaxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Yaml,
    Kdl,
}

impl Syntax {
    /// `.kdl` files are KDL; everything else is YAML.
    pub fn of(name: &str) -> Syntax {
        if name.ends_with(".kdl") {
            Syntax::Kdl
        } else {
            Syntax::Yaml
        }
    }
}

/// Check raw bytes (size, UTF-8, emptiness) and turn them into a source file.
pub fn decode(name: &str, bytes: &[u8]) -> Result<SourceFile, Box<(SourceFile, Diagnostic)>> {
    if bytes.len() > LIMITS.max_bytes {
        let file = SourceFile::new(name, "");
        let d = Diagnostic::error(
            Code::Limit,
            format!(
                "spec file is {} bytes; the limit is {} bytes",
                bytes.len(),
                LIMITS.max_bytes
            ),
        )
        .help("a spec describes one project; split very large projects into several specs");
        return Err(Box::new((file, d)));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let file = SourceFile::new(name, text);
            if text.trim().is_empty() {
                let d = Diagnostic::error(Code::Encoding, "spec file is empty")
                    .span(Span::new(0, 0))
                    .help("run `mlship init` to write a starter spec");
                return Err(Box::new((file, d)));
            }
            Ok(file)
        }
        Err(e) => {
            let good = e.valid_up_to();
            let file = SourceFile::new(name, String::from_utf8_lossy(bytes).into_owned());
            let at = String::from_utf8_lossy(&bytes[..good]).len();
            let d = Diagnostic::error(Code::Encoding, "spec file is not valid UTF-8")
                .span(Span::new(at, at + 1))
                .label("invalid byte here")
                .help("save the file as UTF-8 text");
            Err(Box::new((file, d)))
        }
    }
}

/// The error for a file that holds only comments or white space.
pub fn no_content(span: Span) -> Diagnostic {
    Diagnostic::error(Code::Encoding, "spec file has no content")
        .span(span)
        .help("run `mlship init` to write a starter spec")
}

/// Parse a decoded file with the syntax its name implies.
pub fn parse(file: &SourceFile) -> Result<Node, Vec<Diagnostic>> {
    match Syntax::of(&file.name) {
        Syntax::Yaml => yaml::parse(file),
        Syntax::Kdl => kdl::parse(file),
    }
}
