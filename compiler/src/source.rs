//! Source files and spans.
//!
//! Takes: a file's name and bytes. Gives: a [`SourceFile`] that maps byte offsets to
//! 1-based line and column numbers, and the [`Span`] type every later stage uses.

use std::fmt;

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }
}

/// A file the compiler read, with its text and a line index.
///
/// Every conversion between byte offsets and (line, character column) takes time bounded by
/// [`CHUNK`] plus a binary search, never by the length of a line: parsers ask once per event,
/// and a hostile file may put all its events on one line.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
    /// Byte offset of every [`CHUNK`]th character; empty when the text is ASCII (a character
    /// is then a byte).
    chunk_starts: Vec<usize>,
}

/// Characters between two entries of the character index.
const CHUNK: usize = 64;

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let chunk_starts = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().step_by(CHUNK).map(|(i, _)| i).collect()
        };
        SourceFile {
            name: name.into(),
            text,
            line_starts,
            chunk_starts,
        }
    }

    /// The byte offset where each line starts (the first is 0).
    pub fn line_starts(&self) -> &[usize] {
        &self.line_starts
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = if self.text.is_char_boundary(offset) {
            self.char_index(offset) - self.char_index(start)
        } else {
            offset - start
        };
        (line + 1, col + 1)
    }

    /// Byte offset of a 1-based line and 0-based character column (as YAML parsers report).
    /// A column past the end of its line gives the end of the line.
    pub fn offset_of(&self, line: usize, char_col: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let line_end = self
            .line_starts
            .get(line.max(1))
            .map_or(self.text.len(), |next| next - 1);
        let at = self.char_index(start).saturating_add(char_col);
        self.byte_offset(at).min(line_end)
    }

    /// How many characters precede a byte offset (on a character boundary).
    fn char_index(&self, offset: usize) -> usize {
        if self.chunk_starts.is_empty() {
            return offset;
        }
        let chunk = self.chunk_starts.partition_point(|&s| s <= offset) - 1;
        let from = self.chunk_starts[chunk];
        chunk * CHUNK + self.text[from..offset].chars().count()
    }

    /// The byte offset of the character at `index`, or the text's length past its end.
    fn byte_offset(&self, index: usize) -> usize {
        if self.chunk_starts.is_empty() {
            return index.min(self.text.len());
        }
        let Some(&from) = self.chunk_starts.get(index / CHUNK) else {
            return self.text.len();
        };
        self.text[from..]
            .char_indices()
            .nth(index % CHUNK)
            .map_or(self.text.len(), |(i, _)| from + i)
    }
}

/// A path into a spec document, such as `services.api.autoscale.min`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Path(pub Vec<Seg>);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl Path {
    pub fn root() -> Self {
        Path(Vec::new())
    }
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    /// Build from dotted keys: `Path::of(&["services", "api", "port"])`.
    pub fn of(keys: &[&str]) -> Self {
        Path(keys.iter().map(|k| Seg::Key((*k).to_string())).collect())
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let f = SourceFile::new("x", "ab\nçd: e\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 2)); // after the two-byte ç
        assert_eq!(f.offset_of(2, 1), 5);
    }

    /// The index agrees with a plain scan of each line, across chunk borders, on ASCII and
    /// non-ASCII text, for columns past the end of a line and lines past the end of the file.
    #[test]
    fn offsets_and_columns_agree_with_a_scan() {
        let scan = |text: &str, line: usize, col: usize| -> usize {
            let starts: Vec<usize> = std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            let Some(&start) = starts.get(line - 1) else {
                return text.len();
            };
            let rest = &text[start..];
            let end = rest.find('\n').unwrap_or(rest.len());
            rest[..end]
                .char_indices()
                .nth(col)
                .map_or(start + end, |(i, _)| start + i)
        };
        let long: String = (0..300).map(|i| if i % 7 == 0 { 'é' } else { 'a' }).collect();
        for text in [
            "ab\ncd\n".to_string(),
            format!("x: {long}\n{long}\n\nç\n{long}"),
            format!("{}\n{}", "a".repeat(200), "ß".repeat(200)),
        ] {
            let f = SourceFile::new("x", text.clone());
            let lines = text.split('\n').count();
            for line in 1..=lines + 1 {
                for col in 0..320 {
                    let at = f.offset_of(line, col);
                    assert_eq!(at, scan(&text, line, col), "line {line} col {col}");
                    if line <= lines && at < text.len() && text.as_bytes()[at] != b'\n' {
                        assert_eq!(f.line_col(at), (line, col + 1), "line {line} col {col}");
                    }
                }
            }
        }
    }

    #[test]
    fn path_display() {
        let p = Path::of(&["services", "api"]).key("command").index(2);
        assert_eq!(p.to_string(), "services.api.command[2]");
    }
}
