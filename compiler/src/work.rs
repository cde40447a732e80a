//! The total work a spec asks for, bounded before any environment is merged.
//!
//! Takes: a spec's parsed tree. Gives: an error (E002) for each bound the spec passes, located
//! at `environments`, or none. The parse limits and the entry counts bound each dimension of a
//! spec, but every environment repeats the whole spec: it is merged, checked, lowered, emitted
//! and validated on its own. So 20,000 services and 100 environments, each within its limit,
//! asked for 2,000,000 workloads (377 s and 17.7 GB). These bounds are on the products, and are
//! counted in one walk of the tree, so that a spec past them costs no more than its parse.
//! The time and memory they keep accepted specs within are stated in docs/security.md.

use crate::diag::{Code, Diagnostic};
use crate::tree::{Node, Value};

/// The bounds on what the environments' merged specs hold together.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Services and pipeline steps, times environments: what is lowered and emitted.
    pub workloads: usize,
    /// Values of the tree, times environments: what is merged, schema-checked and typed.
    pub values: usize,
    /// Bytes of keys and strings, times environments.
    pub bytes: usize,
    /// Patches, times environments: each is applied (or its target looked for) per environment.
    pub patches: usize,
}

pub const BOUNDS: Bounds = Bounds {
    workloads: 100_000,
    values: 5_000_000,
    bytes: 256 << 20,
    patches: 10_000,
};

/// What one spec asks for, counted on its tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Services and pipeline steps.
    pub workloads: usize,
    /// Declared environments (a spec without any has one, `default`).
    pub environments: usize,
    pub patches: usize,
    /// Values and bytes outside `environments`, which every environment repeats.
    pub values: usize,
    pub bytes: usize,
    /// Values and bytes of the overrides under `environments`, each merged once.
    pub override_values: usize,
    pub override_bytes: usize,
}

impl Work {
    pub fn of(tree: &Node) -> Work {
        let len = |n: Option<&Node>| match n.map(|n| &n.value) {
            Some(Value::Map(entries)) => entries.len(),
            Some(Value::Seq(items)) => items.len(),
            _ => 0,
        };
        let steps = tree
            .get("pipelines")
            .map_or(0, |p| p.entries().iter().map(|e| len(e.value.get("steps"))).sum());
        let (mut w, mut o) = ((0, 0), (0, 0));
        for e in tree.entries() {
            let (values, bytes) = size(&e.value);
            let at = if e.key == "environments" { &mut o } else { &mut w };
            at.0 += values;
            at.1 += bytes + e.key.len();
        }
        Work {
            workloads: len(tree.get("services")) + steps,
            environments: len(tree.get("environments")),
            patches: len(tree.get("patches")),
            values: w.0,
            bytes: w.1,
            override_values: o.0,
            override_bytes: o.1,
        }
    }

    /// How many merged specs the spec makes.
    pub fn copies(&self) -> usize {
        self.environments.max(1)
    }
}

/// Values (nodes) and bytes (keys and strings) of a subtree, without recursion.
fn size(node: &Node) -> (usize, usize) {
    let (mut values, mut bytes) = (0usize, 0usize);
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        values += 1;
        match &n.value {
            Value::Str(s) => bytes += s.len(),
            Value::Seq(items) => stack.extend(items),
            Value::Map(entries) => {
                for e in entries {
                    bytes += e.key.len();
                    stack.push(&e.value);
                }
            }
            _ => {}
        }
    }
    (values, bytes)
}

/// Every bound the spec passes, as a located error.
pub fn check(tree: &Node) -> Vec<Diagnostic> {
    let w = Work::of(tree);
    let n = w.copies();
    let rows = [
        (
            w.workloads.saturating_mul(n),
            BOUNDS.workloads,
            format!("{} services and pipeline steps", w.workloads),
            "workloads to lower and emit",
        ),
        (
            w.values.saturating_mul(n).saturating_add(w.override_values),
            BOUNDS.values,
            format!("{} values", w.values),
            "values to merge and check",
        ),
        (
            w.bytes.saturating_mul(n).saturating_add(w.override_bytes),
            BOUNDS.bytes,
            format!("{} bytes of text", w.bytes),
            "bytes to merge and check",
        ),
        (
            w.patches.saturating_mul(n),
            BOUNDS.patches,
            format!("{} patches", w.patches),
            "patches to apply",
        ),
    ];
    let at = tree.entry("environments").map(|e| e.key_span);
    let mut out = Vec::new();
    for (total, max, what, unit) in rows {
        if total <= max {
            continue;
        }
        let mut d = Diagnostic::error(
            Code::Limit,
            format!("{what} in {n} environments are {total} {unit}; the limit is {max}"),
        )
        .help("every environment repeats the whole spec: declare fewer environments here, or split the project into several specs");
        if let Some(span) = at {
            d = d.span(span).label("each environment is a copy of the spec");
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn tree(yaml: &str) -> Node {
        crate::syntax::parse(&SourceFile::new("mlship.yaml", yaml), &|_: &crate::source::Path| false).unwrap()
    }

    #[test]
    fn counts_what_every_environment_repeats() {
        let t = tree(
            "project: p\nservices:\n  a: {image: i}\n  b: {image: i}\npipelines:\n  p: {steps: {s: {image: i}, t: {image: i}, u: {image: i}}}\n\
             patches: [{kind: Deployment, name: p-a, patch: {}}]\nenvironments:\n  dev: {}\n  prod: {tag: \"1\"}\n",
        );
        let w = Work::of(&t);
        assert_eq!((w.workloads, w.environments, w.patches, w.copies()), (5, 2, 1, 2));
        // prod's override: the mapping and its one string; dev's: its mapping; and their parent.
        assert_eq!(w.override_values, 4);
        assert_eq!(
            w.override_bytes,
            "environments".len() + "dev".len() + "prod".len() + "tag".len() + 1
        );
        assert!(check(&t).is_empty());
        assert_eq!(Work::of(&tree("project: p\n")).copies(), 1);
    }

    #[test]
    fn each_bound_is_an_error_at_environments() {
        let envs: String = (0..100).map(|i| format!("  e{i}: {{}}\n")).collect();
        let services: String = (0..1_001).map(|i| format!("  s{i}: {{image: i}}\n")).collect();
        let yaml = format!("project: p\nservices:\n{services}environments:\n{envs}");
        let diags = check(&tree(&yaml));
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, Code::Limit);
        assert_eq!(
            diags[0].message,
            "1001 services and pipeline steps in 100 environments are 100100 workloads to lower and emit; the limit is 100000"
        );
        let span = diags[0].span.unwrap();
        assert_eq!(&yaml[span.start..span.end], "environments");
        let patches: String = (0..101)
            .map(|i| format!("  - {{kind: Deployment, name: p-{i}, patch: {{}}}}\n"))
            .collect();
        let diags = check(&tree(&format!("project: p\npatches:\n{patches}environments:\n{envs}")));
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0]
                .message
                .starts_with("101 patches in 100 environments are 10100 patches")
        );
        let big = "x".repeat(60_000);
        let config: String = (0..50).map(|i| format!("  K{i}: {big}\n")).collect();
        let diags = check(&tree(&format!("project: p\nconfig:\n{config}environments:\n{envs}")));
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0].message.contains("bytes of text in 100 environments"),
            "{}",
            diags[0].message
        );
    }
}
