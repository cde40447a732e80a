//! The multi-document YAML reader: manifest files in, one result per object out.
//!
//! Takes: the text of YAML files (`---` separated documents) and which files to read
//! ([`is_manifest`]). Gives: a [`Document`] per non-empty document: valid, invalid with its
//! [`Problem`]s at lines and columns of the file, or skipped (a kind without a schema); and
//! [`summary`] counts. Values read as Kubernetes reads them (YAML 1.1 booleans such as `yes`).

use super::messages::{Found, Violation, path_string, show};
use super::{Schemas, UnknownKind, UserCrds};
use crate::diag::Code;
use crate::source::{Path, SourceFile, Span};
use crate::tree::{Node, Value as TreeValue};
use serde_json::Value as Json;
use std::fmt;

/// Whether a file found while walking a directory is a manifest to validate: `*.yaml`,
/// `*.yml` and `*.json` (kubectl reads all three), except kustomization files.
pub fn is_manifest(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    (lower.ends_with(".yaml") || lower.ends_with(".yml") || lower.ends_with(".json"))
        && !matches!(base, "kustomization.yaml" | "kustomization.yml")
}

impl Schemas {
    /// Validate every document of one YAML file (`---` separated). Empty documents are
    /// skipped; a document that is not valid YAML is an invalid document with the parser's
    /// error. Line and column are 1-based, in `text`.
    pub fn validate_yaml(&self, name: &str, text: &str) -> Vec<Document> {
        self.validate_yaml_with(name, text, &UserCrds::default())
    }

    /// [`Schemas::validate_yaml`], with the users' own custom resources: objects of their
    /// kinds are validated against their CRDs' schemas (which win over a bundled schema).
    pub fn validate_yaml_with(&self, name: &str, text: &str, crds: &UserCrds) -> Vec<Document> {
        objects(name, text, |o| match self.check(o.json, crds) {
            Err(unknown) => Outcome::Skipped(unknown),
            Ok(found) if found.is_empty() => Outcome::Valid,
            Ok(found) => Outcome::Invalid(o.locate(found)),
        })
    }

    /// Validate the manifests among `(name, text)` pairs, in the order given: files for which
    /// [`is_manifest`] is false (kustomization files, non-YAML) are left out. Meant for the
    /// files found by walking directories; the caller reads and sorts them.
    pub fn validate_files<'a>(&self, files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Document> {
        let mut docs: Vec<Document> = files
            .into_iter()
            .filter(|(name, _)| is_manifest(name))
            .flat_map(|(name, text)| self.validate_yaml(name, text))
            .collect();
        mark_duplicates(&mut docs);
        docs
    }
}

/// One object of a YAML file, as [`objects`] hands it to its judge.
pub(super) struct Object<'a> {
    /// The object as Kubernetes reads it.
    pub(super) json: &'a Json,
    /// The document it is in, and the object's path there (`items[2]` in a `kind: List`).
    tree: &'a Node,
    prefix: Path,
    /// The paths of plain YAML 1.1 booleans (`yes`), in the document.
    booleans: &'a [Path],
    /// Line and column in the file of a span of the document.
    at: &'a dyn Fn(Span) -> (usize, usize),
}

impl Object<'_> {
    /// Line and column in the file of the value at `path` in the object.
    pub(super) fn line_col(&self, path: &Path) -> (usize, usize) {
        let mut full = self.prefix.clone();
        full.0.extend(path.0.iter().cloned());
        (self.at)(self.tree.span_of(&full, false))
    }

    /// Problems found at paths in the object, located in the file and sorted by position.
    pub(super) fn locate(&self, found: Vec<Found>) -> Vec<Problem> {
        let mut problems: Vec<(Span, Problem)> = found
            .into_iter()
            .map(|mut f| {
                let mut full = self.prefix.clone();
                full.0.extend(f.path.0.iter().cloned());
                if f.help.is_none() && self.booleans.contains(&full) {
                    let word = self.tree.lookup(&full).map(|n| show(&n.to_json())).unwrap_or_default();
                    f.help = Some(format!(
                        "Kubernetes reads YAML 1.1, where {word} is a boolean; quote it"
                    ));
                }
                let span = self.tree.span_of(&full, f.key);
                let (line, column) = (self.at)(span);
                let problem = Problem {
                    line,
                    column,
                    violation: Violation {
                        path: path_string(&f.path),
                        message: f.message,
                        help: f.help,
                    },
                };
                (span, problem)
            })
            .collect();
        problems.sort_by_key(|(span, p)| (span.start, p.violation.path.clone(), p.violation.message.clone()));
        problems.into_iter().map(|(_, p)| p).collect()
    }
}

/// Every object of one YAML file (`---` separated), each judged by `judge`: one [`Document`]
/// per object, a `kind: List`'s items one by one (kubectl applies them so), and one invalid
/// document for each document that is not valid YAML. Empty documents are left out.
pub(super) fn objects(name: &str, text: &str, mut judge: impl FnMut(&Object<'_>) -> Outcome) -> Vec<Document> {
    let file = SourceFile::new(name, text);
    let mut out = Vec::new();
    for (offset, chunk) in split_documents(text) {
        if is_blank(chunk) {
            continue;
        }
        let sub = SourceFile::new(name, chunk);
        // An error at the end of the document (an unclosed bracket) points just after its
        // last content, not at the next document's `---`.
        let end = chunk.trim_end().len();
        let at = |span: Span| file.line_col(offset + span.start.min(end));
        let number = out.len() + 1;
        let first_line = file.line_col(offset + first_content(chunk)).0;
        let doc = match crate::syntax::yaml::parse(&sub) {
            Err(diags) if diags.iter().all(|d| d.code == Code::Encoding) => continue,
            Err(diags) => Document {
                file: name.to_string(),
                number,
                line: first_line,
                object: None,
                outcome: Outcome::Invalid(
                    diags
                        .into_iter()
                        .map(|d| {
                            let (line, column) = at(d.span.unwrap_or_default());
                            let (message, help) = match d.code {
                                Code::Type => (d.message.replace("the spec must be", "an object must be"), None),
                                Code::Syntax => (d.message, d.help),
                                _ => (d.message, None),
                            };
                            Problem {
                                line,
                                column,
                                violation: Violation {
                                    path: String::new(),
                                    message,
                                    help,
                                },
                            }
                        })
                        .collect(),
                ),
            },
            Ok(tree) => {
                let mut booleans = Vec::new();
                let json = as_kubernetes_reads(&tree, chunk, &Path::root(), &mut booleans);
                let object = |json, prefix| Object {
                    json,
                    tree: &tree,
                    prefix,
                    booleans: &booleans,
                    at: &at,
                };
                // A `kind: List` is applied item by item, so each item is a document.
                if let (Some("List"), Some(items)) = (json["kind"].as_str(), json["items"].as_array()) {
                    for (i, item) in items.iter().enumerate() {
                        let prefix = Path::of(&["items"]).index(i);
                        let start = tree.lookup(&prefix).map_or(0, |n| n.span.start);
                        out.push(Document {
                            file: name.to_string(),
                            number: out.len() + 1,
                            line: file.line_col(offset + start).0,
                            object: ObjectRef::of(item),
                            outcome: judge(&object(item, prefix)),
                        });
                    }
                    continue;
                }
                Document {
                    file: name.to_string(),
                    number,
                    line: first_line,
                    object: ObjectRef::of(&json),
                    outcome: judge(&object(&json, Path::root())),
                }
            }
        };
        out.push(doc);
    }
    out
}

/// Two documents of one kind, namespace and name: kubectl applies both, and the later one
/// silently replaces the earlier. The later one is invalid, pointing at the first.
pub fn mark_duplicates(docs: &mut [Document]) {
    // (API group, kind, namespace, name) to where it was first seen.
    type Identity = (String, String, Option<String>, String);
    let mut seen: std::collections::BTreeMap<Identity, (String, usize)> = std::collections::BTreeMap::new();
    for d in docs.iter_mut() {
        let Some(o) = &d.object else { continue };
        let Some(name) = &o.name else { continue };
        let group = o.api_version.rsplit_once('/').map_or("", |(g, _)| g).to_string();
        let key = (group, o.kind.clone(), o.namespace.clone(), name.clone());
        match seen.get(&key) {
            None => {
                seen.insert(key, (d.file.clone(), d.line));
            }
            Some((file, line)) => {
                let problem = Problem {
                    line: d.line,
                    column: 1,
                    violation: Violation {
                        path: String::new(),
                        message: format!("{o} is defined twice; the first is at {file}:{line}"),
                        help: Some("kubectl would apply both, and the later one replaces the earlier: keep one".into()),
                    },
                };
                match &mut d.outcome {
                    Outcome::Invalid(problems) => problems.push(problem),
                    other => *other = Outcome::Invalid(vec![problem]),
                }
            }
        }
    }
}

impl Document {
    /// A file that could not be read as text (not UTF-8), reported as one invalid document.
    pub fn unreadable(file: &str, message: String) -> Document {
        Document {
            file: file.to_string(),
            number: 1,
            line: 1,
            object: None,
            outcome: Outcome::Invalid(vec![Problem {
                line: 1,
                column: 1,
                violation: Violation {
                    path: String::new(),
                    message,
                    help: Some("save the file as UTF-8, as kubectl requires".into()),
                },
            }]),
        }
    }
}

/// One YAML document's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The file name as given.
    pub file: String,
    /// 1-based position among the file's non-empty documents.
    pub number: usize,
    /// 1-based line of the document's first content.
    pub line: usize,
    /// Its apiVersion, kind, namespace and name, when they are strings.
    pub object: Option<ObjectRef>,
    pub outcome: Outcome,
}

impl Document {
    pub fn problems(&self) -> &[Problem] {
        match &self.outcome {
            Outcome::Invalid(p) => p,
            _ => &[],
        }
    }
}

impl fmt::Display for Document {
    /// One line per problem (`file:line:col: Kind/name: path: message`), or one line saying
    /// the document is valid or skipped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = self
            .object
            .as_ref()
            .map_or_else(|| format!("document {}", self.number), ObjectRef::to_string);
        match &self.outcome {
            Outcome::Valid => write!(f, "{}:{}: {what}: valid", self.file, self.line),
            Outcome::Skipped(u) => write!(f, "{}:{}: {what}: skipped: {u}", self.file, self.line),
            Outcome::Invalid(problems) => {
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{}:{}:{}: {what}: {p}", self.file, p.line, p.column)?;
                }
                Ok(())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Valid,
    Invalid(Vec<Problem>),
    /// No schema for the kind (custom resources other than [`custom_resources`]).
    Skipped(UnknownKind),
}

/// A [`Violation`] (or a YAML error, with an empty path) at a line and column of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub violation: Violation,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.violation.fmt(f)
    }
}

/// Which object a document holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ObjectRef {
    pub(super) fn of(obj: &Json) -> Option<ObjectRef> {
        let s = |v: Option<&Json>| v.and_then(Json::as_str).map(str::to_string);
        Some(ObjectRef {
            api_version: s(obj.get("apiVersion"))?,
            kind: s(obj.get("kind"))?,
            namespace: s(obj.pointer("/metadata/namespace")),
            name: s(obj.pointer("/metadata/name")),
        })
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name.as_deref().unwrap_or("(no name)"))
    }
}

/// Counts over documents, for a summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub valid: usize,
    pub invalid: usize,
    pub skipped: usize,
}

/// How many documents are valid, invalid and skipped.
pub fn summary(docs: &[Document]) -> Summary {
    let mut s = Summary::default();
    for d in docs {
        match d.outcome {
            Outcome::Valid => s.valid += 1,
            Outcome::Invalid(_) => s.invalid += 1,
            Outcome::Skipped(_) => s.skipped += 1,
        }
    }
    s
}

/// The object as Kubernetes reads the YAML: sigs.k8s.io/yaml (go-yaml v2) resolves plain
/// scalars with YAML 1.1, where `yes`, `no`, `on`, `off`, `y` and `n` are booleans; mlship's
/// reader (YAML 1.2 core) keeps them strings. Such values become booleans, their paths noted.
fn as_kubernetes_reads(node: &Node, text: &str, path: &Path, booleans: &mut Vec<Path>) -> Json {
    match &node.value {
        TreeValue::Map(entries) => {
            let mut out: serde_json::Map<String, Json> = entries
                .iter()
                .filter(|e| e.key != "<<")
                .map(|e| {
                    (
                        e.key.clone(),
                        as_kubernetes_reads(&e.value, text, &path.key(&e.key), booleans),
                    )
                })
                .collect();
            // YAML merge keys (`<<: *defaults`), which kubectl's reader honours: the mapping's
            // own keys win, then the merged mappings in order.
            if let Some(merge) = entries.iter().find(|e| e.key == "<<") {
                let sources: Vec<&Node> = match &merge.value.value {
                    TreeValue::Seq(items) => items.iter().collect(),
                    _ => vec![&merge.value],
                };
                for src in sources {
                    if let Json::Object(m) = as_kubernetes_reads(src, text, path, booleans) {
                        for (k, v) in m {
                            out.entry(k).or_insert(v);
                        }
                    }
                }
            }
            Json::Object(out)
        }
        // YAML 1.1, as kubectl reads it: `0440` is octal (288), not the decimal 440.
        TreeValue::Int(_)
            if let Some(n) = octal_value(text.get(node.span.start..node.span.end).unwrap_or_default()) =>
        {
            Json::from(n)
        }
        TreeValue::Seq(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, n)| as_kubernetes_reads(n, text, &path.index(i), booleans))
                .collect(),
        ),
        // Plain scalars only: a quoted or block scalar's span is longer than its value.
        TreeValue::Str(s) if text.get(node.span.start..node.span.end) == Some(s.as_str()) => match s.as_str() {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
                booleans.push(path.clone());
                Json::Bool(true)
            }
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
                booleans.push(path.clone());
                Json::Bool(false)
            }
            _ => node.to_json(),
        },
        _ => node.to_json(),
    }
}

/// A parsed YAML document as kubectl reads it: YAML 1.1 booleans (`yes`, `on`) and octal
/// integers (`0440`), merge keys. `text` is the document's text.
pub fn kubernetes_json(tree: &Node, text: &str) -> Json {
    as_kubernetes_reads(tree, text, &Path::root(), &mut Vec::new())
}

/// The value of a YAML 1.1 octal integer, as kubectl reads it: a sign, a leading zero and
/// octal digits (`0440` is 288; `0`, `0o440` and `0448` are not octal).
pub fn octal_value(scalar: &str) -> Option<i64> {
    let d = scalar.trim_start_matches(['+', '-']);
    let octal = d.len() > 1 && d.starts_with('0') && d.bytes().all(|b| (b'0'..=b'7').contains(&b));
    let n = i64::from_str_radix(d, 8).ok().filter(|_| octal)?;
    Some(if scalar.starts_with('-') { -n } else { n })
}

/// Split YAML text into documents at `---` and after `...` lines: `(byte offset, text)`.
/// Document markers at the start of a line end any scalar, so a line split is exact.
pub fn split_documents(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let marker = |m: &str| {
            line.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
        };
        if marker("---") && pos > start {
            out.push((start, &text[start..pos]));
            start = pos;
        }
        pos += line.len();
        if marker("...") {
            out.push((start, &text[start..pos]));
            start = pos;
        }
    }
    if pos > start {
        out.push((start, &text[start..pos]));
    }
    out
}

/// Nothing but blank lines, comments, directives and document markers.
fn is_blank(chunk: &str) -> bool {
    chunk.lines().all(|line| {
        let rest = line
            .strip_prefix("---")
            .or_else(|| line.strip_prefix("..."))
            .unwrap_or(line)
            .trim();
        rest.is_empty() || rest.starts_with('#') || line.starts_with('%')
    })
}

/// Byte offset of the first line with content (not blank, comment, directive or a bare
/// document marker).
fn first_content(chunk: &str) -> usize {
    let mut pos = 0;
    for line in chunk.split_inclusive('\n') {
        if !is_blank(line) {
            return pos + (line.len() - line.trim_start().len());
        }
        pos += line.len();
    }
    0
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    fn check(text: &str) -> Vec<Document> {
        crate::validate::validate_files("1.33", [("m.yaml", text)]).expect("1.33 is bundled")
    }

    #[test]
    fn list_items_are_validated_as_kubectl_applies_them() {
        let docs = check(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data: {n: 1}\n",
        );
        assert_eq!(docs.len(), 1, "{docs:?}");
        assert_eq!(
            docs[0].to_string(),
            "m.yaml:7:13: ConfigMap/a: data.n: expected string, found integer"
        );
    }

    #[test]
    fn int32_fields_are_bounded() {
        let docs = check(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec:\n  maxReplicas: 3000000000\n  scaleTargetRef: {kind: Deployment, name: a}\n",
        );
        assert_eq!(
            docs[0].to_string(),
            "m.yaml:5:16: HorizontalPodAutoscaler/a: spec.maxReplicas: must be at most 2147483647, found `3000000000`",
            "maxReplicas: 3000000000 passed validation"
        );
    }

    #[test]
    fn merge_keys_are_read_as_kubectl_reads_them() {
        let docs = check("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  <<: {k: v}\n  z: \"2\"\n");
        assert_eq!(docs[0].outcome, Outcome::Valid, "{}", docs[0]);
    }

    #[test]
    fn yaml_1_1_octal_is_read_as_kubectl_reads_it() {
        let tree = crate::syntax::yaml::parse(&SourceFile::new("m.yaml", "mode: 0440\nten: 10\nzero: 0\n")).unwrap();
        let text = "mode: 0440\nten: 10\nzero: 0\n";
        let json = as_kubernetes_reads(&tree, text, &Path::root(), &mut Vec::new());
        assert_eq!(
            json,
            serde_json::json!({"mode": 288, "ten": 10, "zero": 0}),
            "0440 was read as decimal 440"
        );
    }

    #[test]
    fn two_objects_with_one_identity_are_reported() {
        let docs = check(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        );
        assert_eq!(docs[0].outcome, Outcome::Valid);
        assert!(
            docs[1]
                .to_string()
                .contains("ConfigMap/a is defined twice; the first is at m.yaml:1"),
            "{}",
            docs[1]
        );
        assert!(is_manifest("deploy/obj.json") && !is_manifest("deploy/kustomization.yaml"));
    }

    #[test]
    fn documents_split_at_markers() {
        let text = "# head\na: 1\n---\nb: 2\n...\n--- # c\nc: 3\n---\n";
        let docs: Vec<&str> = split_documents(text).into_iter().map(|(_, t)| t).collect();
        assert_eq!(docs, ["# head\na: 1\n", "---\nb: 2\n...\n", "--- # c\nc: 3\n", "---\n"]);
        assert!(is_blank("---\n"));
        assert!(is_blank("--- # only a comment\n\n"));
        assert!(!is_blank("--- {a: 1}\n"));
        // A line that merely starts with dashes is content.
        assert_eq!(split_documents("a: |\n  ---x\n----\n").len(), 1);
    }

    #[test]
    fn manifests_among_files() {
        assert!(is_manifest("envs/dev/deployment-api.yaml"));
        assert!(is_manifest("a.YML"));
        assert!(!is_manifest("envs/dev/kustomization.yaml"));
        assert!(!is_manifest("README.md"));
    }
}
