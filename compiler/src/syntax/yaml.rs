//! YAML to [`Node`], with spans.
//!
//! Takes: a source file. Gives: the tree of its single document, resolved with the YAML 1.2
//! core schema (so `on` and `no` are strings, as Kubernetes' own YAML 1.2 reading would not
//! do but a human means). Duplicate keys, non-scalar keys, unknown tags, several documents,
//! and inputs past [`LIMITS`] are located errors.

use super::{Budget, LIMITS, check_string};
use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use crate::tree::{Entry, KeyIndex, Node, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span as YSpan, StrInput};
use std::collections::HashMap;

pub fn parse(file: &SourceFile) -> Result<Node, Vec<Diagnostic>> {
    let mut b = Builder {
        file,
        parser: Parser::new_from_str(&file.text).keep_tags(true),
        anchors: HashMap::new(),
        budget: Budget::default(),
    };
    b.document().map_err(|d| vec![*d])
}

type R<T> = Result<T, Box<Diagnostic>>;

struct Builder<'a> {
    file: &'a SourceFile,
    parser: Parser<'a, StrInput<'a>>,
    anchors: HashMap<usize, Node>,
    budget: Budget,
}

impl<'a> Builder<'a> {
    fn span(&self, s: YSpan) -> Span {
        let start = self.file.offset_of(s.start.line(), s.start.col());
        let end = self.file.offset_of(s.end.line(), s.end.col());
        Span::new(start, end)
    }

    fn scan_error(&self, e: &ScanError) -> Box<Diagnostic> {
        let m = e.marker();
        let mut at = self.file.offset_of(m.line(), m.col());
        let mut help = "check indentation, quoting and the `key: value` shape around this point";
        if e.info().contains("tab") {
            at = indenting_tab(&self.file.text, at).unwrap_or(at);
            help = "indent with spaces: YAML does not allow tabs in indentation";
        }
        if e.info().contains("recursion limit") {
            return Box::new(
                Diagnostic::error(Code::Limit, format!("nesting deeper than {} levels", LIMITS.max_depth))
                    .span(Span::new(at, at + 1)),
            );
        }
        Box::new(
            Diagnostic::error(Code::Syntax, format!("invalid YAML: {}", e.info()))
                .span(Span::new(at, at + 1))
                .help(help),
        )
    }

    fn next(&mut self) -> R<(Event<'a>, Span)> {
        match self.parser.next_event() {
            Some(Ok((ev, sp))) => {
                let sp = self.span(sp);
                Ok((ev, sp))
            }
            Some(Err(e)) => Err(self.scan_error(&e)),
            None => {
                let end = self.file.text.len();
                Err(Box::new(
                    Diagnostic::error(Code::Syntax, "unexpected end of YAML").span(Span::new(end, end)),
                ))
            }
        }
    }

    fn document(&mut self) -> R<Node> {
        let mut root = None;
        loop {
            let (ev, sp) = self.next()?;
            match ev {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => break,
                Event::DocumentStart(_) if root.is_some() => {
                    return Err(Box::new(
                        Diagnostic::error(Code::Syntax, "a spec file holds one YAML document")
                            .span(sp)
                            .label("second document starts here")
                            .help("remove the `---` line and everything after it, or split the file"),
                    ));
                }
                Event::DocumentStart(_) => {
                    let (ev, sp) = self.next()?;
                    root = Some(self.node(ev, sp, 0)?);
                }
                _ => {
                    return Err(Box::new(
                        Diagnostic::error(Code::Syntax, "unexpected YAML event").span(sp),
                    ));
                }
            }
        }
        match root {
            Some(
                n @ Node {
                    value: Value::Map(_), ..
                },
            ) => Ok(n),
            Some(n) if matches!(n.value, Value::Null) => Err(Box::new(super::no_content(n.span))),
            Some(n) => Err(Box::new(
                Diagnostic::error(
                    Code::Type,
                    format!("the spec must be a mapping, found a {}", n.type_name()),
                )
                .span(n.span)
                .help("start the file with `apiVersion: mlship/v1`"),
            )),
            None => Err(Box::new(super::no_content(Span::new(0, 0)))),
        }
    }

    fn node(&mut self, ev: Event<'a>, sp: Span, depth: usize) -> R<Node> {
        if depth > LIMITS.max_depth {
            return Err(Box::new(
                Diagnostic::error(Code::Limit, format!("nesting deeper than {} levels", LIMITS.max_depth)).span(sp),
            ));
        }
        self.budget.spend(1, sp)?;
        let (node, anchor) = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                check_string(&text, sp)?;
                let tag = tag.map(|t| {
                    if t.is_yaml_core_schema() {
                        t.suffix.clone()
                    } else {
                        format!("{}{}", t.handle, t.suffix)
                    }
                });
                (Node::new(self.scalar(&text, style, tag.as_deref(), sp)?, sp), anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                let end = loop {
                    let (ev, isp) = self.next()?;
                    if let Event::SequenceEnd = ev {
                        break isp.end;
                    }
                    items.push(self.node(ev, isp, depth + 1)?);
                };
                (Node::new(Value::Seq(items), Span::new(sp.start, end)), anchor)
            }
            Event::MappingStart(anchor, _) => {
                let mut entries: Vec<Entry> = Vec::new();
                let mut keys = KeyIndex::default();
                let end = loop {
                    let (ev, ksp) = self.next()?;
                    let key = match ev {
                        Event::MappingEnd => break ksp.end,
                        Event::Scalar(text, ..) => {
                            check_string(&text, ksp)?;
                            text.into_owned()
                        }
                        Event::Alias(_) => {
                            return Err(Box::new(
                                Diagnostic::error(Code::Syntax, "an alias cannot be a mapping key").span(ksp),
                            ));
                        }
                        _ => {
                            return Err(Box::new(
                                Diagnostic::error(Code::Syntax, "mapping keys must be plain strings")
                                    .span(ksp)
                                    .help("write the key as a simple word such as `name:`"),
                            ));
                        }
                    };
                    if let Some(first) = keys.find(&entries, &key) {
                        return Err(Box::new(
                            Diagnostic::error(Code::DuplicateKey, format!("duplicate key `{key}`"))
                                .span(ksp)
                                .label("defined again here")
                                .note(first, "first defined here")
                                .help("remove one of the two entries; YAML readers disagree on which wins"),
                        ));
                    }
                    let (ev, vsp) = self.next()?;
                    let value = self.node(ev, vsp, depth + 1)?;
                    entries.push(Entry {
                        key,
                        key_span: ksp,
                        value,
                    });
                };
                (Node::new(Value::Map(entries), Span::new(sp.start, end)), anchor)
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(Box::new(
                        Diagnostic::error(Code::Syntax, "alias to an unknown anchor").span(sp),
                    ));
                };
                self.budget.spend(count_nodes(&target), sp)?;
                return Ok(Node::new(target.value, sp));
            }
            _ => {
                return Err(Box::new(
                    Diagnostic::error(Code::Syntax, "unexpected YAML event").span(sp),
                ));
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn scalar(&self, text: &str, style: ScalarStyle, tag: Option<&str>, sp: Span) -> R<Value> {
        let quoted = !matches!(style, ScalarStyle::Plain);
        Ok(match tag {
            Some("str") => Value::Str(text.to_string()),
            None if quoted => Value::Str(text.to_string()),
            None | Some("int" | "float" | "bool" | "null") => resolve_plain(text),
            Some(other) => {
                return Err(Box::new(
                    Diagnostic::error(Code::Syntax, format!("unsupported YAML tag `{other}`"))
                        .span(sp)
                        .help("remove the tag; quote the value if it must be a string"),
                ));
            }
        })
    }
}

/// The tab a tab error is about. saphyr marks some of them at the start of the scalar above
/// the tab or just past it; the tab is the first one in the indentation of the marked line or
/// of a line after it.
fn indenting_tab(text: &str, marked: usize) -> Option<usize> {
    let line_start = text.get(..marked)?.rfind('\n').map_or(0, |i| i + 1);
    let mut start = line_start;
    for line in text[line_start..].split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(i) = line[..indent].find('\t') {
            return Some(start + i);
        }
        start += line.len();
    }
    None
}

fn count_nodes(n: &Node) -> usize {
    1 + match &n.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|e| count_nodes(&e.value)).sum(),
        _ => 0,
    }
}

/// Resolve a plain scalar with the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = text.parse::<i64>()
    {
        return Value::Int(i);
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Int(i);
    }
    let looks_float = digits.bytes().any(|b| b.is_ascii_digit())
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_float
        && let Ok(f) = text.parse::<f64>()
        && f.is_finite()
    {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Node, Vec<Diagnostic>> {
        parse(&SourceFile::new("t.yaml", s))
    }

    #[test]
    fn core_schema_resolution() {
        let n = parse_str("a: on\nb: 1\nc: '1'\nd: 1.5\ne: ~\nf: true\ng: 0755\nh: 1e3\n").unwrap();
        assert_eq!(
            n.to_json(),
            serde_json::json!({"a": "on", "b": 1, "c": "1", "d": 1.5, "e": null, "f": true, "g": 755, "h": 1000})
        );
    }

    #[test]
    fn spans_point_at_values_and_keys() {
        let f = SourceFile::new("t.yaml", "project: x\nservices:\n  api:\n    port: 8080\n");
        let n = parse(&f).unwrap();
        let port = crate::source::Path::of(&["services", "api", "port"]);
        assert_eq!(f.line_col(n.span_of(&port, false).start), (4, 11));
        assert_eq!(f.line_col(n.span_of(&port, true).start), (4, 5));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = parse_str("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e[0].code, Code::DuplicateKey);
        assert_eq!(e[0].notes.len(), 1);
        // Past the size where keys are looked up in an index rather than scanned.
        let big: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
        assert!(parse_str(&big).is_ok());
        let f = SourceFile::new("t.yaml", format!("{big}k7: again\n"));
        let e = parse(&f).unwrap_err();
        assert_eq!(e[0].message, "duplicate key `k7`");
        assert_eq!(f.line_col(e[0].span.unwrap().start), (101, 1));
        assert_eq!(f.line_col(e[0].notes[0].span.start), (8, 1));
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            s.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_str(&s).unwrap_err();
        assert_eq!(e[0].code, Code::Limit);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let s = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse_str(&s).unwrap_err()[0].code, Code::Limit);
    }

    /// Issue 14: a flow collection on one line took quadratic time (each event's position was
    /// found by rescanning its line): 80,000 items took 33 s in a release build. The time is measured in the `linear` group of benches/stages.rs, at two sizes ten times apart, not
    /// here: a timed test fails on a busy machine.
    #[test]
    fn flow_collections_of_tens_of_thousands_of_items_on_one_line_parse() {
        let list: Vec<String> = (0..80_000).map(|i| format!("a{i}")).collect();
        let map: Vec<String> = (0..40_000).map(|i| format!("k{i}: é{i}")).collect();
        for text in [
            format!("x: [{}]\n", list.join(", ")),
            format!("x: {{{}}}\n", map.join(", ")),
        ] {
            let n = parse_str(&text).unwrap();
            assert!(n.to_json()["x"].as_array().map_or(40_000, Vec::len) >= 40_000);
        }
    }

    /// Issue 15: a tab in the indentation was reported at the start of the value on the line
    /// above (or just past the tab); it is reported at the tab, with the fix.
    #[test]
    fn tab_indent_error_points_at_the_tab() {
        for (text, line_col) in [
            ("services:\n  api:\n    image: server\n\tport: 8080\n", (4, 1)),
            ("services:\n  api:\n\timage: server\n", (3, 1)),
            ("a:\n  b: 1\n \tc: 2\n", (3, 2)),
            ("a:\n  b: |\n\tx\n", (3, 1)),
            ("a:\n  - \"x\n\ty\"\n", (3, 1)),
        ] {
            let f = SourceFile::new("t.yaml", text);
            let e = parse(&f).unwrap_err();
            let span = e[0].span.unwrap();
            assert_eq!(
                (f.line_col(span.start), &text[span.start..span.end]),
                (line_col, "\t"),
                "{text:?}"
            );
            assert_eq!(
                e[0].help.as_deref(),
                Some("indent with spaces: YAML does not allow tabs in indentation")
            );
        }
    }

    /// Keys are strings too: the string limit holds for them as for values.
    #[test]
    fn keys_past_the_string_limit_are_refused() {
        let long = "k".repeat(crate::syntax::LIMITS.max_string + 1);
        let f = SourceFile::new("t.yaml", format!("a: 1\n? {long}\n: 2\n"));
        let e = parse(&f).unwrap_err();
        assert_eq!(e[0].code, Code::Limit);
        assert_eq!(f.line_col(e[0].span.unwrap().start), (2, 3));
    }

    #[test]
    fn several_documents_are_refused() {
        assert_eq!(parse_str("a: 1\n---\nb: 2\n").unwrap_err()[0].code, Code::Syntax);
    }
}
