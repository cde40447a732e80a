//! Transcripts of `mlship` runs, compared with committed snapshots (in the way of ruff's CLI
//! tests). A [`Session`] runs the binary in one folder and records, for every run, the command,
//! the exit code, stdout and stderr; [`Session::snapshot`] compares the whole record with
//! tests/snapshots/<name>.txt, or rewrites it when `UPDATE_GOLDEN=1` is set.
//!
//! A transcript is the same on every run and every machine: the session's folder is written
//! `[TEMP]`, bytes that are not UTF-8 `�`, control characters other than newline and tab as
//! `\u{..}` escapes, and a line longer than [`LONG_LINE`] characters is cut, with the number
//! of characters left out. Nothing else is filtered: a time or another
//! absolute path in the output would make the snapshot fail on the next run or machine.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Lines longer than this are cut to their first [`KEEP`] characters.
pub const LONG_LINE: usize = 2000;
const KEEP: usize = 200;

/// One run of the binary.
pub struct Run {
    /// The exit code (-1 when the process was killed by a signal).
    pub code: i32,
    /// Stdout, filtered as in the transcript.
    pub stdout: String,
    /// Stderr, filtered as in the transcript.
    pub stderr: String,
}

/// Runs of `mlship` in one folder, recorded in order.
pub struct Session {
    dir: PathBuf,
    text: String,
}

impl Session {
    /// A session whose runs start in `dir` (which `[TEMP]` stands for in the transcript).
    pub fn new(dir: &Path) -> Self {
        Session {
            dir: dir.to_path_buf(),
            text: String::new(),
        }
    }

    /// Run `mlship args` in the session's folder.
    pub fn run(&mut self, args: &[&str]) -> Run {
        self.run_in("", args)
    }

    /// Run `mlship args` in the subfolder `sub` of the session's folder.
    pub fn run_in(&mut self, sub: &str, args: &[&str]) -> Run {
        let o = Command::new(env!("CARGO_BIN_EXE_mlship"))
            .args(args)
            .current_dir(self.dir.join(sub))
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let run = Run {
            code: o.status.code().unwrap_or(-1),
            stdout: self.filter(&o.stdout),
            stderr: self.filter(&o.stderr),
        };
        let at = if sub.is_empty() {
            String::new()
        } else {
            format!("{sub}/ ")
        };
        let _ = write!(
            self.text,
            "{at}$ mlship {}\nexit: {}\n----- stdout -----\n{}----- stderr -----\n{}\n",
            args.join(" "),
            run.code,
            ended(&run.stdout),
            ended(&run.stderr)
        );
        run
    }

    /// Add a line that says what the test did between two runs.
    pub fn note(&mut self, what: &str) {
        let _ = writeln!(self.text, "# {what}\n");
    }

    /// Write `bytes` to `file` (relative to the session's folder), and note it.
    pub fn write(&mut self, file: &str, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        let path = self.dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
        self.note(&format!("write {file} ({} bytes)", bytes.len()));
    }

    /// Replace the first `from` in `file` (relative to the session's folder) by `to`, and note
    /// the edit. Panics when `file` does not hold `from`.
    pub fn edit(&mut self, file: &str, from: &str, to: &str) {
        let path = self.dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} does not hold {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        self.note(&format!("edit {file}: {from:?} -> {to:?}"));
    }

    /// The transcript so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Compare the transcript with tests/snapshots/<name>.txt (or rewrite it when updating).
    pub fn snapshot(&self, name: &str) {
        let path = super::root().join("tests/snapshots").join(format!("{name}.txt"));
        if let Err(e) = super::expect_file(&path, self.text.as_bytes()) {
            panic!("{e}\nIf the change is intended: bash scripts/regen.sh, then review the diff");
        }
    }

    fn filter(&self, bytes: &[u8]) -> String {
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        let dir = self.dir.to_string_lossy().into_owned();
        if let Ok(real) = self.dir.canonicalize() {
            text = text.replace(real.to_string_lossy().as_ref(), "[TEMP]");
        }
        text = text.replace(&dir, "[TEMP]");
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            let (body, end) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
            let chars = body.chars().count();
            for c in body.chars().take(if chars > LONG_LINE { KEEP } else { chars }) {
                if c.is_control() && c != '\t' {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                } else {
                    out.push(c);
                }
            }
            if chars > LONG_LINE {
                let _ = write!(out, "[... {} more characters]", chars - KEEP);
            }
            out.push_str(end);
        }
        out
    }
}

/// `text` with a final newline; a missing one is marked, so that it shows in a diff.
fn ended(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n[no newline at end]\n")
    }
}
