//! Deterministic YAML for Kubernetes objects.
//!
//! Takes: a `serde_json::Value` (an object as the emitter built it). Gives: block-style YAML
//! text that every YAML 1.1 and 1.2 reader reads back as the same value: any string a reader
//! could take for a boolean, number, null, date or merge key ("on", "NO", "0755", "1e3",
//! "1_000", "12:30", "~", "<<") is quoted, as is anything with special characters; control
//! and line-separator characters are escaped. Map order is the value's own order.

use serde_json::Value;
use std::fmt::Write;

/// Serialize one document (no `---`), ending with a newline.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    for (k, v) in m {
        pad(out, indent);
        out.push_str(&scalar_str(k));
        out.push(':');
        write_child(out, v, indent);
    }
}

fn write_seq(out: &mut String, a: &[Value], indent: usize) {
    for v in a {
        pad(out, indent);
        out.push('-');
        match v {
            Value::Object(m) if !m.is_empty() => {
                // The first entry shares the dash's line; the rest align under it.
                let mut first = String::new();
                write_map(&mut first, m, indent + 2);
                out.push(' ');
                out.push_str(&first[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn write_child(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn inline(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_str(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string as a YAML scalar: plain when no reader could misread it, else quoted.
pub fn scalar_str(s: &str) -> String {
    if is_plain_safe(s) {
        return s.to_string();
    }
    if s.chars()
        .all(|c| !c.is_control() && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{feff}'))
    {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{feff}') => {
                let _ = write!(q, "\\u{:04X}", c as u32);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

const YAML11_WORDS: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE", "on",
    "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "<<", "=",
];

fn is_plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if (b.len() <= 5 && YAML11_WORDS.contains(&s)) || last == b' ' || last == b':' {
        return false;
    }
    // Anything that starts like a number (or .inf/.nan) could be read as one by some reader:
    // only characters that occur in YAML 1.1 ints, floats, sexagesimals and timestamps.
    let starts_like_number = first.is_ascii_digit()
        || (matches!(first, b'-' | b'+' | b'.') && b.get(1).is_some_and(|c| c.is_ascii_digit() || *c == b'.'));
    if starts_like_number && b.iter().all(|c| c.is_ascii_hexdigit() || b"_.:+- xXoOtTzZ".contains(c)) {
        return false;
    }
    let unsigned = s.trim_start_matches(['-', '+']);
    if unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan") {
        return false;
    }
    let dash_word = first == b'-' && b.len() > 1 && b[1] != b' ';
    if !(first.is_ascii_alphanumeric() || dash_word || matches!(first, b'/' | b'_' | b'.' | b'$')) {
        return false;
    }
    // One pass: only safe characters, and no `: `, ` #` or double space.
    let mut prev = 0u8;
    for &c in b {
        let safe = c.is_ascii_alphanumeric() || b" _-./:@%+=,()$".contains(&c);
        if !safe || (prev == b':' && c == b' ') || (prev == b' ' && (c == b'#' || c == b' ')) {
            return false;
        }
        prev = c;
    }
    true
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "on",
            "NO",
            "0755",
            "1e3",
            "null",
            "~",
            "y",
            "1_000",
            "12:30",
            "",
            "<<",
            "2001-12-14",
            ".5",
            "-1",
            "x: y",
            "#c",
            "- x",
            "a #b",
            "true",
        ] {
            assert!(scalar_str(s).starts_with(['\'', '"']), "{s} must be quoted");
        }
        for s in [
            "api",
            "--host",
            "25%",
            "1Gi",
            "10s",
            "fraud-detection",
            "ghcr.io/acme/fraud:1.4.2",
            "/healthz",
            "500m",
            "8Gi",
            "app.kubernetes.io/name",
            "uvicorn",
        ] {
            assert_eq!(scalar_str(s), s);
        }
    }

    #[test]
    fn control_and_separator_characters_are_escaped() {
        assert_eq!(scalar_str("a\nb"), "\"a\\nb\"");
        assert_eq!(scalar_str("x\u{2028}y"), "\"x\\u2028y\"");
        assert_eq!(scalar_str("it's"), "'it''s'");
    }

    #[test]
    fn output_reads_back_as_the_same_value() {
        let tricky = [
            "on",
            "NO",
            "0755",
            "1e3",
            "1_000",
            "12:30",
            "~",
            "null",
            "<<",
            "",
            " x",
            "a: b",
            "it's",
            "x\u{2028}y",
            "tab\there",
            "multi\nline\n",
            "#c",
            "- x",
            "--flag",
            "é",
            "\"q\"",
            "back\\slash",
            "$(rm -rf /)",
            "`id`",
            "2001-12-14",
        ];
        let v =
            json!({"data": tricky, "nested": {"on": "yes", "list": [[1, "2"], {"k": "v"}], "empty": {}, "n": -1.5}});
        let text = to_yaml(&v);
        let back = crate::syntax::yaml::parse(&crate::source::SourceFile::new("t.yaml", text.clone())).unwrap();
        assert_eq!(back.to_json(), v, "{text}");
    }

    #[test]
    fn layout() {
        let v = json!({"a": 1, "b": {"c": [1, {"d": "x", "e": []}], "f": {}}, "g": [[1]]});
        assert_eq!(
            to_yaml(&v),
            "a: 1\nb:\n  c:\n  - 1\n  - d: x\n    e: []\n  f: {}\ng:\n-\n  - 1\n"
        );
    }
}
