//! Writing to stdout: a reader that closed the pipe ends the program quietly (exit 0); any
//! other write error is an error with a message (exit 2).

#![allow(
    clippy::disallowed_methods,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "tests and benches set up fixtures on disk and report what they measured"
)]

use std::process::{Command, Output, Stdio};

fn mlship_into(stdout: impl Into<Stdio>, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mlship"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    for args in [&["schema"][..], &["man"], &["completions", "bash"]] {
        // A pipe whose reader is gone before mlship writes: every write fails with EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = mlship_into(writer, args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&o.stderr), "", "{args:?}");
    }
}

#[test]
fn another_write_error_exits_2_with_a_message() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let o = mlship_into(full, &["schema"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: writing to stdout: No space left on device (os error 28)\n"
    );
}

/// The same for diagnostics on stderr: a closed pipe keeps the command's exit code (1 for an
/// invalid spec), a full device exits 2; neither panics (exit 101).
#[test]
fn stderr_that_is_closed_or_full_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("mlship.yaml");
    std::fs::write(&spec, "apiVersion: mlship/v1\nproject: Bad_Name\n").unwrap();
    let spec = spec.to_str().unwrap();
    let run = |stderr: Stdio| {
        Command::new(env!("CARGO_BIN_EXE_mlship"))
            .args(["validate", spec])
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(stderr)
            .status()
            .unwrap()
            .code()
    };
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    assert_eq!(run(writer.into()), Some(1), "closed stderr");
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    assert_eq!(run(full.into()), Some(2), "full stderr");
}
