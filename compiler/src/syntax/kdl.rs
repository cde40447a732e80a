//! KDL to [`Node`], by one set of generic rules (docs/spec.md, "KDL form").
//!
//! Takes: a source file. Gives: the same tree the YAML form of the spec gives.
//! The rules, applied to every node alike:
//! 1. A document (or a node's children block) is a mapping; each node adds one entry.
//! 2. `name key=value { child ... }`: properties and children form a mapping.
//! 3. `name "a"`: one argument is a scalar; `name "a" "b"`: several form a list. Where the
//!    [`Shape`] (the spec's schema) expects a list, one argument (or none) is a list too.
//! 4. `name "key" prop=... { ... }`: one argument plus properties or children is an entry
//!    `key` inside the mapping `name`; several such nodes fill the same mapping.
//! 5. A children block whose nodes are all named `-` is a list of their values.
//! 6. `#null` is null (in environments it removes what the base spec set).
//!
//! Before the KDL parser runs, the text is held to the nesting and value limits (the parser
//! recurses per block and builds the whole document); strings are held to theirs as they
//! are converted.

use super::{Budget, LIMITS, Shape, check_string};
use crate::diag::{Code, Diagnostic};
use crate::source::{Path, SourceFile, Span};
use crate::tree::{Entry, KeyIndex, Node, Value};
use kdl::{KdlDocument, KdlNode, KdlValue};

/// The `kdl` parser recovers from a syntax error by calling itself once per character it
/// skips at the top level (kdl 6.7, `v2_parser::document`): a malformed file of N such
/// characters recurses N deep (10,000 overflowed the main thread's stack, an abort). So it
/// runs on a thread of its own whose stack holds that depth for a file up to
/// [`MAX_KDL_BYTES`]. The stack is only reserved; a valid file touches little of it.
const PARSER_STACK: usize = if cfg!(debug_assertions) { 3 << 30 } else { 1 << 30 };
/// The largest KDL spec (YAML specs may be 16 MiB): one recursion per byte fits the stack.
pub const MAX_KDL_BYTES: usize = 1 << 20;
/// A malformed file reports its first syntax errors only.
pub const MAX_SYNTAX_ERRORS: usize = 20;

fn parse_document(file: &SourceFile) -> Result<Result<KdlDocument, kdl::KdlError>, Vec<Diagnostic>> {
    let text = file.text.as_str();
    if text.len() > MAX_KDL_BYTES {
        return Err(vec![
            Diagnostic::error(
                Code::Limit,
                format!(
                    "a KDL spec may be at most {} KiB; this one is {} KiB",
                    MAX_KDL_BYTES >> 10,
                    text.len().div_ceil(1024)
                ),
            )
            .span(Span::new(0, 0))
            .help("split the project into several specs, or write it in YAML, which may be up to 16 MiB"),
        ]);
    }
    let parsed = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("kdl-parser".into())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, || text.parse::<KdlDocument>())
            .map(|handle| handle.join())
    });
    match parsed {
        Ok(Ok(result)) => Ok(result),
        Ok(Err(_)) | Err(_) => Err(vec![
            Diagnostic::error(Code::Syntax, "invalid KDL: the parser failed on this file".to_string())
                .span(Span::new(0, 0))
                .help("check the file's syntax; a parser that fails instead of reporting an error is a bug, please report it with the file"),
        ]),
    }
}

pub fn parse(file: &SourceFile, shape: &dyn Shape) -> Result<Node, Vec<Diagnostic>> {
    depth_guard(file)?;
    value_guard(file).map_err(|d| vec![*d])?;
    let doc: KdlDocument = parse_document(file)?.map_err(|e: kdl::KdlError| {
        let more = e.diagnostics.len().saturating_sub(MAX_SYNTAX_ERRORS);
        let mut diags = e
            .diagnostics
            .iter()
            .take(MAX_SYNTAX_ERRORS)
            .map(|d| {
                let start = d.span.offset().min(file.text.len());
                let span = Span::new(start, start + d.span.len().max(1));
                let mut diag = Diagnostic::error(
                    Code::Syntax,
                    format!("invalid KDL: {}", d.message.as_deref().unwrap_or("syntax error")),
                )
                .span(span);
                if let Some(label) = &d.label {
                    diag = diag.label(label.clone());
                }
                if let Some(help) = v1_keyword(file, span).or(d.help.clone()) {
                    diag = diag.help(help);
                }
                diag
            })
            .collect::<Vec<_>>();
        if more > 0
            && let Some(last) = diags.last_mut()
        {
            last.notes.push(crate::diag::Note {
                span: last.span.unwrap_or(Span::new(0, 0)),
                message: format!("{more} more syntax errors follow; fix these first"),
            });
        }
        diags
    })?;
    if doc.nodes().is_empty() {
        return Err(vec![super::no_content(Span::new(0, 0))]);
    }
    let mut conv = Converter { shape };
    let span = Span::new(0, file.text.len());
    conv.document(&doc, &Path::root(), span, 0).map_err(|d| vec![*d])
}

/// The fix for a KDL 1 keyword where KDL 2 wants `#`: bare `null`, `true`, `false`, `inf`,
/// `-inf` and `nan` are not identifiers in KDL 2, and the parser says only that.
fn v1_keyword(file: &SourceFile, at: Span) -> Option<String> {
    let word = file.text.get(at.start..at.end)?;
    ["null", "true", "false", "inf", "-inf", "nan"]
        .contains(&word)
        .then(|| format!("KDL 2.0 writes `#{word}`; quote it (`\"{word}\"`) for the string"))
}

/// The KDL parser builds every node and entry of a document before it returns, even past a
/// syntax error, so the value limit is held on the text before it runs: each word (a run of
/// characters between white space, `;`, `{` and `}`) counts as one value, since every node,
/// argument and property is written with a word of its own at least. Words in comments and
/// strings count too; only a spec with about a million of them could be refused wrongly.
fn value_guard(file: &SourceFile) -> Result<(), Box<Diagnostic>> {
    let mut budget = Budget::default();
    let mut word = None;
    for (i, c) in file.text.char_indices().chain([(file.text.len(), ' ')]) {
        let between = c.is_whitespace() || matches!(c, ';' | '{' | '}' | '\u{feff}');
        match (between, word) {
            (false, None) => word = Some(i),
            (true, Some(start)) => {
                budget.spend(1, Span::new(start, i))?;
                word = None;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The KDL parser recurses per block and per nested `/* */` comment; refuse absurd nesting
/// before it runs. The real parser may read a malformed file differently from any quick scan
/// (a stray quote, a brace in a comment), so the file is scanned three ways (strings and
/// comments honoured; comments only; neither) and refused if any reading nests too deep. Only a
/// spec with more than 64 unbalanced braces inside strings could be refused wrongly.
fn depth_guard(file: &SourceFile) -> Result<(), Vec<Diagnostic>> {
    for (strings, comments) in [(true, true), (false, true), (false, false)] {
        if let Some(at) = too_deep(file.text.as_bytes(), strings, comments) {
            return Err(vec![
                Diagnostic::error(Code::Limit, format!("nesting deeper than {} levels", LIMITS.max_depth))
                    .span(Span::new(at, at + 1))
                    .help("a spec needs a few levels; flatten the structure"),
            ]);
        }
    }
    Ok(())
}

/// The offset where braces (or nested block comments) first go deeper than the limit.
fn too_deep(b: &[u8], strings: bool, comments: bool) -> Option<usize> {
    let (mut depth, mut comment_depth, mut i) = (0usize, 0usize, 0usize);
    let next = |i: usize| b.get(i + 1).copied();
    while i < b.len() {
        let c = b[i];
        if comment_depth > 0 {
            if c == b'/' && next(i) == Some(b'*') {
                comment_depth += 1;
                if comment_depth > LIMITS.max_depth {
                    return Some(i);
                }
                i += 1;
            } else if c == b'*' && next(i) == Some(b'/') {
                comment_depth -= 1;
                i += 1;
            }
        } else if comments && c == b'/' && next(i) == Some(b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if comments && c == b'/' && next(i) == Some(b'*') {
            comment_depth = 1;
            i += 1;
        } else if strings && (c == b'"' || (c == b'#' && matches!(next(i), Some(b'#' | b'"')))) {
            // A quoted string (escapes skipped) or a raw string `#"..."#` with its hashes.
            let hashes = b[i..].iter().take_while(|x| **x == b'#').count();
            i += hashes + 1;
            while i < b.len() {
                if hashes == 0 && b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == b'"' && b[i + 1..].iter().take(hashes).filter(|x| **x == b'#').count() == hashes {
                    i += hashes;
                    break;
                }
                i += 1;
            }
        } else if c == b'{' {
            depth += 1;
            if depth > LIMITS.max_depth {
                return Some(i);
            }
        } else if c == b'}' {
            depth = depth.saturating_sub(1);
        }
        i += 1;
    }
    None
}

type R<T> = Result<T, Box<Diagnostic>>;

struct Converter<'a> {
    shape: &'a dyn Shape,
}

fn span_of(s: miette::SourceSpan) -> Span {
    Span::new(s.offset(), s.offset() + s.len())
}

/// One value as a leaf of the tree, within the string limit.
fn leaf(v: &KdlValue, span: Span) -> R<Node> {
    if let KdlValue::String(s) = v {
        check_string(s, span)?;
    }
    Ok(Node::new(scalar(v), span))
}

impl Converter<'_> {
    fn document(&mut self, doc: &KdlDocument, path: &Path, span: Span, depth: usize) -> R<Node> {
        if depth > LIMITS.max_depth {
            return Err(Box::new(
                Diagnostic::error(Code::Limit, format!("nesting deeper than {} levels", LIMITS.max_depth)).span(span),
            ));
        }
        let nodes = doc.nodes();
        if !nodes.is_empty() && nodes.iter().all(|n| n.name().value() == "-") {
            let mut items = Vec::new();
            for (i, n) in nodes.iter().enumerate() {
                items.push(self.value(n, &path.index(i), depth + 1)?);
            }
            return Ok(Node::new(Value::Seq(items), span));
        }
        let mut entries: Vec<Entry> = Vec::new();
        let mut keys = KeyIndex::default();
        let mut inner_keys: std::collections::HashMap<&str, KeyIndex> = std::collections::HashMap::new();
        for n in nodes {
            let name = n.name().value();
            let name_span = span_of(n.name().span());
            check_string(name, name_span)?;
            if name == "-" {
                return Err(Box::new(
                    Diagnostic::error(Code::Syntax, "`-` list items cannot be mixed with named entries")
                        .span(name_span)
                        .help("put the list items in a block of their own: `name { - ...; - ... }`"),
                ));
            }
            let args: Vec<_> = n.entries().iter().filter(|e| e.name().is_none()).collect();
            let keyed = args.len() == 1 && (has_props(n) || n.children().is_some());
            if keyed {
                let key = match args[0].value() {
                    KdlValue::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let key_span = span_of(args[0].span());
                check_string(&key, key_span)?;
                let child_path = path.key(name).key(&key);
                let value = self.mapping(n, &child_path, depth + 2)?;
                let pos = entries.iter().position(|e| e.key == name);
                let outer = match pos {
                    Some(i) => &mut entries[i],
                    None => {
                        entries.push(Entry {
                            key: name.to_string(),
                            key_span: name_span,
                            value: Node::new(Value::Map(Vec::new()), span_of(n.span())),
                        });
                        entries.last_mut().expect("just pushed")
                    }
                };
                let Value::Map(inner) = &mut outer.value.value else {
                    return Err(Box::new(duplicate(name, name_span, outer.key_span)));
                };
                if let Some(first) = inner_keys.entry(name).or_default().find(inner, &key) {
                    return Err(Box::new(duplicate(&format!("{name} \"{key}\""), key_span, first)));
                }
                inner.push(Entry { key, key_span, value });
                outer.value.span = Span::new(outer.value.span.start.min(value_start(n)), span_of(n.span()).end);
                continue;
            }
            if let Some(first) = keys.find(&entries, name) {
                return Err(Box::new(duplicate(name, name_span, first)));
            }
            let value = self.value(n, &path.key(name), depth + 1)?;
            entries.push(Entry {
                key: name.to_string(),
                key_span: name_span,
                value,
            });
        }
        Ok(Node::new(Value::Map(entries), span))
    }

    /// The value one node stands for (rules 2, 3, 5, 6).
    fn value(&mut self, n: &KdlNode, path: &Path, depth: usize) -> R<Node> {
        let span = span_of(n.span());
        let args: Vec<_> = n.entries().iter().filter(|e| e.name().is_none()).collect();
        if has_props(n) || n.children().is_some() {
            if !args.is_empty() {
                return Err(Box::new(
                    Diagnostic::error(
                        Code::Syntax,
                        "a node cannot have both arguments and properties or children here",
                    )
                    .span(span_of(args[0].span()))
                    .help("use `name key=value` for a mapping, or `name \"a\" \"b\"` for a list"),
                ));
            }
            return self.mapping(n, path, depth);
        }
        let list = args.len() > 1 || self.shape.expects_list(path);
        if list {
            let items = args
                .iter()
                .map(|a| leaf(a.value(), span_of(a.span())))
                .collect::<R<_>>()?;
            return Ok(Node::new(Value::Seq(items), span));
        }
        match args.first() {
            Some(a) => leaf(a.value(), span_of(a.span())),
            None => Ok(Node::new(Value::Map(Vec::new()), span)),
        }
    }

    /// Properties and children of a node as one mapping (or a list, rule 5).
    fn mapping(&mut self, n: &KdlNode, path: &Path, depth: usize) -> R<Node> {
        let span = span_of(n.span());
        let children = match n.children() {
            Some(doc) => self.document(doc, path, span, depth + 1)?,
            None => Node::new(Value::Map(Vec::new()), span),
        };
        let Value::Map(mut entries) = children.value else {
            if has_props(n) {
                return Err(Box::new(
                    Diagnostic::error(Code::Syntax, "a list block cannot have properties").span(span),
                ));
            }
            return Ok(children);
        };
        let mut props = Vec::new();
        for e in n.entries() {
            let Some(name) = e.name() else { continue };
            let key_span = span_of(name.span());
            check_string(name.value(), key_span)?;
            if let Some(first) = props
                .iter()
                .chain(entries.iter())
                .find(|x: &&Entry| x.key == name.value())
            {
                return Err(Box::new(duplicate(name.value(), key_span, first.key_span)));
            }
            let vspan = Span::new(key_span.end + 1, span_of(e.span()).end);
            let mut value = leaf(e.value(), vspan)?;
            if matches!(value.value, Value::Str(_)) && self.shape.expects_list(&path.key(name.value())) {
                value = Node::new(Value::Seq(vec![value]), vspan);
            }
            props.push(Entry {
                key: name.value().to_string(),
                key_span,
                value,
            });
        }
        props.append(&mut entries);
        Ok(Node::new(Value::Map(props), span))
    }
}

fn has_props(n: &KdlNode) -> bool {
    n.entries().iter().any(|e| e.name().is_some())
}

fn value_start(n: &KdlNode) -> usize {
    n.span().offset()
}

fn duplicate(name: &str, at: Span, first: Span) -> Diagnostic {
    Diagnostic::error(Code::DuplicateKey, format!("duplicate key `{name}`"))
        .span(at)
        .label("defined again here")
        .note(first, "first defined here")
        .help("remove one of the two entries")
}

fn scalar(v: &KdlValue) -> Value {
    match v {
        KdlValue::String(s) => Value::Str(s.clone()),
        KdlValue::Integer(i) => i64::try_from(*i).map_or_else(|_| Value::Float(*i as f64), Value::Int),
        KdlValue::Float(f) if f.is_finite() => Value::Float(*f),
        KdlValue::Float(f) => Value::Str(f.to_string()),
        KdlValue::Bool(b) => Value::Bool(*b),
        KdlValue::Null => Value::Null,
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use serde_json::json;

    /// Lists where the spec has them, for the keys these tests use.
    fn shape(path: &Path) -> bool {
        matches!(path.0.last(), Some(crate::source::Seg::Key(k)) if ["command", "run", "needs"].contains(&k.as_str()))
    }

    fn parse(file: &SourceFile) -> Result<Node, Vec<Diagnostic>> {
        super::parse(file, &shape)
    }

    fn to_json(s: &str) -> serde_json::Value {
        parse(&SourceFile::new("t.kdl", s)).unwrap().to_json()
    }

    #[test]
    fn a_long_run_of_characters_no_node_can_start_with_is_refused_not_a_stack_overflow() {
        // The kdl crate recurses once per such character: this overflowed the stack (abort).
        let at_limit = MAX_KDL_BYTES - 3;
        let text = format!("x {}\n", "=".repeat(at_limit));
        let errs = parse(&SourceFile::new("t.kdl", &text)).expect_err("malformed");
        assert_eq!(errs[0].code, Code::Syntax, "{errs:?}");
        assert!(errs[0].message.starts_with("invalid KDL"), "{errs:?}");
        assert!(errs.len() <= MAX_SYNTAX_ERRORS, "{}", errs.len());
        let past = "x\n".repeat(MAX_KDL_BYTES / 2 + 1);
        let errs = parse(&SourceFile::new("t.kdl", &past)).expect_err("too large");
        assert_eq!(errs[0].code, Code::Limit, "{errs:?}");
    }

    #[test]
    fn generic_rules() {
        let v = to_json(
            r#"
            project "x"
            services "api" image="server" port=8080 {
                command "uvicorn" "app:app"
                autoscale min=2 max=10
                tolerations {
                    - key="gpu" effect="NoSchedule"
                }
            }
            services "web" image="server" port=80
            environments "dev" { services "api" autoscale=#null }
            "#,
        );
        assert_eq!(
            v,
            json!({
                "project": "x",
                "services": {
                    "api": {"image": "server", "port": 8080, "command": ["uvicorn", "app:app"],
                            "autoscale": {"min": 2, "max": 10},
                            "tolerations": [{"key": "gpu", "effect": "NoSchedule"}]},
                    "web": {"image": "server", "port": 80}
                },
                "environments": {"dev": {"services": {"api": {"autoscale": null}}}}
            })
        );
    }

    #[test]
    fn one_argument_is_a_list_where_the_shape_wants_one() {
        let v = to_json("pipelines \"p\" { steps \"s\" image=\"i\" { run \"train\"; needs \"a\" } }");
        assert_eq!(v["pipelines"]["p"]["steps"]["s"]["run"], json!(["train"]));
        assert_eq!(v["pipelines"]["p"]["steps"]["s"]["needs"], json!(["a"]));
        assert_eq!(v["pipelines"]["p"]["steps"]["s"]["image"], json!("i"));
        // A property too; without a shape, one argument is a scalar.
        let f = SourceFile::new("t.kdl", "s run=\"train\"\nt { needs \"a\"; }\n");
        assert_eq!(
            parse(&f).unwrap().to_json(),
            json!({"s": {"run": ["train"]}, "t": {"needs": ["a"]}})
        );
        let scalar = super::parse(&f, &|_: &Path| false).unwrap().to_json();
        assert_eq!(scalar, json!({"s": {"run": "train"}, "t": {"needs": "a"}}));
    }

    #[test]
    fn duplicates_and_syntax_errors_are_located() {
        let f = SourceFile::new("t.kdl", "project \"a\"\nproject \"b\"\n");
        let e = parse(&f).unwrap_err();
        assert_eq!(e[0].code, Code::DuplicateKey);
        assert_eq!(f.line_col(e[0].span.unwrap().start), (2, 1));
        let e = parse(&SourceFile::new("t.kdl", "project \"a\n")).unwrap_err();
        assert_eq!(e[0].code, Code::Syntax);
        // Many keyed children (`services "name" { ... }`): past the size where keys are indexed.
        let big: String = (0..100)
            .map(|i| format!("services \"s{i}\" {{ port {i}; }}\n"))
            .collect();
        assert!(parse(&SourceFile::new("t.kdl", big.clone())).is_ok());
        let f = SourceFile::new("t.kdl", format!("{big}services \"s42\" {{ port 1; }}\n"));
        let e = parse(&f).unwrap_err();
        assert_eq!(e[0].code, Code::DuplicateKey);
        assert_eq!(f.line_col(e[0].span.unwrap().start), (101, 10));
        assert_eq!(f.line_col(e[0].notes[0].span.start), (43, 10));
    }

    /// Issue 14: the value limit counted nodes, so 5.5 million arguments on one node passed it,
    /// after 40 s and 6.6 GB in the parser. Arguments and properties count, and the limit is
    /// held before the parser runs: a million and one values are refused with the limit's
    /// error, not parsed.
    #[test]
    fn many_arguments_and_properties_on_one_node_are_refused_before_parsing() {
        let half = LIMITS.max_values / 2;
        let args = "1 ".repeat(half);
        let props: String = (0..=half).map(|i| format!("p{i}=1 ")).collect();
        let f = SourceFile::new("t.kdl", format!("project \"x\"\nx {args}{props}\n"));
        let e = parse(&f).unwrap_err();
        assert_eq!(e[0].code, Code::Limit);
        assert_eq!(
            e[0].message,
            format!("document has more than {} values", LIMITS.max_values)
        );
        // At the property that passes the limit: `project "x"`, `x` and the arguments are
        // 3 + half words, so the limit is passed at property number max - 3 - half.
        let last = format!(" p{}=1 ", LIMITS.max_values - 3 - half);
        let at = f.text.find(&last).unwrap() + 1;
        let last = last.trim();
        assert_eq!(e[0].span, Some(Span::new(at, at + last.len())));
        // Within the limit, the same node is read.
        let f = SourceFile::new("t.kdl", format!("x {}\n", "1 ".repeat(1000)));
        assert_eq!(parse(&f).unwrap().to_json()["x"].as_array().map(Vec::len), Some(1000));
    }

    /// Issue 15: the KDL string limit (64 KiB) was not enforced, though YAML's was.
    #[test]
    fn kdl_strings_past_the_limit_are_refused_where_they_are() {
        let long = "a".repeat(LIMITS.max_string + 1);
        for text in [
            format!("project \"{long}\"\n"),
            format!("x 1 \"{long}\"\n"),
            format!("services \"api\" image=\"{long}\"\n"),
            format!("x {{ \"{long}\" 1; }}\n"),
            format!("x {long}=1\n"),
            format!("services \"{long}\" port=1\n"),
        ] {
            let f = SourceFile::new("t.kdl", text.as_str());
            let e = parse(&f).unwrap_err();
            assert_eq!(e[0].code, Code::Limit, "{}", &text[..20]);
            assert_eq!(e[0].message, format!("string longer than {} bytes", LIMITS.max_string));
            let span = e[0].span.unwrap();
            assert!(f.text[span.start..span.end].contains(&long), "{}", &text[..20]);
        }
        let at_limit = "a".repeat(LIMITS.max_string);
        assert!(parse(&SourceFile::new("t.kdl", format!("project \"{at_limit}\"\n"))).is_ok());
    }

    /// Issue 15: KDL 1 `null`, `true` and `false` gave "Expected identifier string" and no way
    /// out; the help names the KDL 2 form.
    #[test]
    fn kdl_v1_keywords_get_the_kdl_2_form_as_help() {
        for (text, word) in [
            ("services \"api\" health=null\n", "null"),
            ("x true\n", "true"),
            ("x { y false; }\n", "false"),
        ] {
            let f = SourceFile::new("t.kdl", text);
            let e = parse(&f).unwrap_err();
            let d = e
                .iter()
                .find(|d| d.help.as_deref().is_some_and(|h| h.contains('#')))
                .unwrap();
            assert_eq!(d.code, Code::Syntax);
            let span = d.span.unwrap();
            assert_eq!(&text[span.start..span.end], word);
            assert_eq!(
                d.help.as_deref(),
                Some(format!("KDL 2.0 writes `#{word}`; quote it (`\"{word}\"`) for the string").as_str())
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let s = format!("a {}{}", "{ b ".repeat(10_000), "}".repeat(10_000));
        assert_eq!(parse(&SourceFile::new("t.kdl", &s)).unwrap_err()[0].code, Code::Limit);
    }
}
