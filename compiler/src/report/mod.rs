//! Reports: what a command found, rendered for people and for machines.
//!
//! Takes: results as data (diagnostics with their file, a checked spec's stale files,
//! validated manifest documents, the writer's report). Gives: text, one module per format:
//! [`text`] for people, [`json`] for scripts, [`github`] annotations, [`sarif`] 2.1.0 for code
//! scanning, [`junit`] XML for CI test reports. Like [`crate::diag::render`], this formats;
//! only the CLI prints.

mod github;
pub mod json;
mod junit;
mod sarif;
pub mod text;

pub use github::github;
pub use junit::junit;
pub use sarif::sarif;

/// What to do about a document skipped for want of a schema, in every format that says why.
const CRD_HINT: &str = "pass its CRD with --crd";

use crate::diag::Diagnostic;
use crate::source::SourceFile;
use std::path::Path;

/// One checked spec: its diagnostics and the output files that are stale.
pub struct Checked<'a> {
    pub file: &'a SourceFile,
    pub diagnostics: &'a [Diagnostic],
    /// (output path, reason)
    pub stale: &'a [(String, &'static str)],
    /// The output folder the stale paths are relative to.
    pub out: &'a Path,
    /// Whether the spec compiled.
    pub valid: bool,
}

impl Checked<'_> {
    /// Compiled, and the committed tree is what it compiles to.
    pub fn ok(&self) -> bool {
        self.valid && self.stale.is_empty()
    }
}
