//! The spanned document tree both syntaxes parse into.
//!
//! Takes: nothing (built by `syntax::yaml` and `syntax::kdl`). Gives: [`Node`], a JSON-like
//! value where every key and value remembers its span, lookups from a [`Path`] back to the
//! span, the conversion to `serde_json::Value` for schema checking and typing, and the deep
//! merge used by environments.

use crate::source::{Path, Seg, Span};
use serde_json::Value as Json;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

/// Finds an earlier entry with a key while a mapping is built, for duplicate-key errors: a
/// scan while the mapping is small, a hash index once it grows (a spec may hold thousands of
/// services, and a scan per key would be quadratic).
#[derive(Default)]
pub struct KeyIndex {
    index: std::collections::HashMap<String, Span>,
    indexed: usize,
}

impl KeyIndex {
    const SCAN: usize = 32;

    /// The key span of the first entry of `entries` whose key is `key`.
    pub fn find(&mut self, entries: &[Entry], key: &str) -> Option<Span> {
        if entries.len() <= Self::SCAN {
            return entries.iter().find(|e| e.key == key).map(|e| e.key_span);
        }
        for e in &entries[self.indexed..] {
            self.index.entry(e.key.clone()).or_insert(e.key_span);
        }
        self.indexed = entries.len();
        self.index.get(key).copied()
    }
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node { value, span }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn entry_mut(&mut self, key: &str) -> Option<&mut Entry> {
        match &mut self.value {
            Value::Map(entries) => entries.iter_mut().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The node at `path`, if the document has it.
    pub fn lookup(&self, path: &Path) -> Option<&Node> {
        path.0.iter().try_fold(self, |node, seg| match (seg, &node.value) {
            (Seg::Key(k), _) => node.get(k),
            (Seg::Index(i), Value::Seq(items)) => items.get(*i),
            _ => None,
        })
    }

    /// The best span for a diagnostic at `path`: the value if it exists, else the nearest
    /// ancestor that does. `key` asks for the key's span instead of the value's.
    pub fn span_of(&self, path: &Path, key: bool) -> Span {
        let mut node = self;
        // The whole document is no useful place to point: use its first line instead.
        let mut best = self.entries().first().map_or(Span::new(0, 0), |e| e.key_span);
        for (i, seg) in path.0.iter().enumerate() {
            let last = i + 1 == path.0.len();
            match (seg, &node.value) {
                (Seg::Key(k), Value::Map(_)) => match node.entry(k) {
                    Some(e) => {
                        best = if last && key { e.key_span } else { e.value.span };
                        node = &e.value;
                    }
                    None => return best,
                },
                (Seg::Index(idx), Value::Seq(items)) => match items.get(*idx) {
                    Some(item) => {
                        best = item.span;
                        node = item;
                    }
                    None => return best,
                },
                _ => return best,
            }
        }
        best
    }

    pub fn to_json(&self) -> Json {
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            // 8080.0 is the integer 8080, as JSON Schema says; serde would refuse it otherwise.
            #[allow(clippy::cast_possible_truncation, reason = "a whole number below 2^53 is exact")]
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9e15 => Json::from(*f as i64),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.clone()),
            Value::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => Json::Object(entries.iter().map(|e| (e.key.clone(), e.value.to_json())).collect()),
        }
    }

    /// Deep-merge `over` into `self`: maps merge key by key, `null` removes the key, and
    /// anything else (scalars, lists) replaces. Spans follow the value that wins.
    pub fn merge(&mut self, over: &Node) {
        match (&mut self.value, &over.value) {
            (Value::Map(base), Value::Map(over_entries)) => {
                // Each key found in an index, and removals done at the end, in one pass: a
                // scan per key was quadratic (an environment that overrode each of 20,000
                // services took 13 s to merge).
                let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
                for (i, e) in base.iter().enumerate() {
                    at.entry(e.key.clone()).or_insert(i);
                }
                let mut removed = vec![false; base.len()];
                for o in over_entries {
                    let pos = at.get(&o.key).copied().filter(|&i| !removed[i]);
                    match (pos, &o.value.value) {
                        (Some(i), Value::Null) => removed[i] = true,
                        (Some(i), _) => base[i].value.merge(&o.value),
                        (None, Value::Null) => {}
                        (None, _) => {
                            at.insert(o.key.clone(), base.len());
                            removed.push(false);
                            base.push(o.clone());
                        }
                    }
                }
                if removed.contains(&true) {
                    let mut i = 0;
                    base.retain(|_| {
                        i += 1;
                        !removed[i - 1]
                    });
                }
            }
            _ => *self = over.clone(),
        }
    }

    /// Remove the entry `key` from a map node.
    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        match &mut self.value {
            Value::Map(entries) => entries.iter().position(|e| e.key == key).map(|i| entries.remove(i)),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::new(
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Entry {
                        key: k.into(),
                        key_span: Span::default(),
                        value: v,
                    })
                    .collect(),
            ),
            Span::default(),
        )
    }
    fn int(i: i64, at: usize) -> Node {
        Node::new(Value::Int(i), Span::new(at, at + 1))
    }

    #[test]
    fn merge_replaces_scalars_merges_maps_and_null_removes() {
        let mut base = map(vec![
            ("a", int(1, 0)),
            ("m", map(vec![("x", int(1, 1)), ("y", int(2, 2))])),
        ]);
        let over = map(vec![
            ("a", int(5, 10)),
            (
                "m",
                map(vec![("y", Node::new(Value::Null, Span::default())), ("z", int(3, 12))]),
            ),
        ]);
        base.merge(&over);
        assert_eq!(base.to_json(), serde_json::json!({"a": 5, "m": {"x": 1, "z": 3}}));
        assert_eq!(base.span_of(&Path::of(&["a"]), false), Span::new(10, 11));
        assert_eq!(base.span_of(&Path::of(&["m", "x"]), false), Span::new(1, 2));
        // A path that goes missing falls back to the nearest ancestor.
        assert_eq!(base.span_of(&Path::of(&["a", "deeper"]), false), Span::new(10, 11));
        // Removed, then added again; kept in order, added at the end.
        let null = || Node::new(Value::Null, Span::default());
        let mut base = map(vec![("a", int(1, 0)), ("b", int(2, 0)), ("c", int(3, 0))]);
        base.merge(&map(vec![
            ("a", null()),
            ("d", int(4, 0)),
            ("a", int(5, 0)),
            ("c", null()),
        ]));
        assert_eq!(base.to_json(), serde_json::json!({"b": 2, "d": 4, "a": 5}));
    }

    /// Issue 14: each key of an override was looked for by a scan of the base, so an
    /// environment that set each of 200,000 config keys (within every limit) took minutes to
    /// merge. Indexed, every key is merged once. Its time is that of loading such a spec, in
    /// the `linear` group of benches/stages.rs; a timed test fails on a busy machine.
    #[test]
    fn merging_200000_overrides_merges_every_key() {
        let n = 200_000;
        let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        let mut base = map(names
            .iter()
            .map(|k| (k.as_str(), map(vec![("port", int(80, 0))])))
            .collect());
        let over = map(names
            .iter()
            .map(|k| (k.as_str(), map(vec![("replicas", int(2, 0))])))
            .collect());
        base.merge(&over);
        assert_eq!(base.entries().len(), n);
        assert_eq!(
            base.to_json()["s199999"],
            serde_json::json!({"port": 80, "replicas": 2})
        );
    }
}
