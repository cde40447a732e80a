//! The front end: bytes to checked, typed specs, one per environment.
//!
//! Takes: a spec file's name and bytes. Gives: the base [`Spec`] and each environment's
//! merged spec with the tree it came from, or every diagnostic found (parse, schema,
//! semantic, per environment), each located in the file.

use crate::diag::{self, Code, Diagnostic};
use crate::source::{Path, Seg, SourceFile};
use crate::spec::Spec;
use crate::tree::{Node, Value};
use crate::{check, schema, syntax};

/// A spec that passed every check.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: SourceFile,
    pub spec: Spec,
    pub envs: Vec<EnvSpec>,
}

/// One environment: the base spec with the environment's overrides merged in.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    pub name: String,
    pub spec: Spec,
}

/// Name of the implicit environment of a spec that declares none.
pub const DEFAULT_ENV: &str = "default";

/// Parse and check. Errors stop the result; warnings travel with it.
pub fn load(name: &str, bytes: &[u8]) -> (SourceFile, Option<Loaded>, Vec<Diagnostic>) {
    let file = match syntax::decode(name, bytes) {
        Ok(f) => f,
        Err(e) => {
            let (f, d) = *e;
            return (f, None, vec![d]);
        }
    };
    let tree = match parse(&file) {
        Ok(t) => t,
        Err(d) => return (file, None, d),
    };
    let (loaded, mut diags) = check_tree(&file, &tree);
    diag::normalize(&mut diags);
    let ok = !diags.iter().any(Diagnostic::is_error);
    (file.clone(), loaded.filter(|_| ok), diags)
}

/// The spec's [`syntax::Shape`]: lists where the spec's schema expects them. An environment's
/// overrides are merged over the base spec, so each has the shape of the base spec's value at
/// the same place (`environments.prod.services.api.command` is a list as `services.api.command`
/// is), which the schema of environments, open below their sections, does not say.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpecShape;

impl syntax::Shape for SpecShape {
    fn expects_list(&self, path: &Path) -> bool {
        match path.0.as_slice() {
            [Seg::Key(section), _, rest @ ..] if section == "environments" && !rest.is_empty() => {
                schema::expects_array(&Path(rest.to_vec()))
            }
            _ => schema::expects_array(path),
        }
    }
}

/// Parse a decoded spec file (YAML or KDL, by its name) into its tree.
pub fn parse(file: &SourceFile) -> Result<Node, Vec<Diagnostic>> {
    syntax::parse(file, &SpecShape)
}

/// A patch is applied to Kubernetes objects, whose readers (kubectl, Argo CD, Flux) take
/// `0440` as YAML 1.1 octal (288), while the spec's YAML 1.2 reader takes it as 440: the
/// ambiguous form is refused where it is written (extra manifests are read as kubectl reads
/// them).
fn octal_in_patches(file: &SourceFile, tree: &Node) -> Vec<Diagnostic> {
    fn walk(node: &Node, text: &str, at: Path, out: &mut Vec<Diagnostic>) {
        match &node.value {
            Value::Map(entries) => entries.iter().for_each(|e| walk(&e.value, text, at.key(&e.key), out)),
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, n)| walk(n, text, at.index(i), out)),
            Value::Int(n) => {
                let raw = text.get(node.span.start..node.span.end).unwrap_or_default();
                if let Some(octal) = crate::validate::octal_value(raw) {
                    out.push(
                        Diagnostic::error(
                            Code::InvalidObject,
                            format!("`{raw}` is {octal} to kubectl (YAML 1.1 octal) but {n} here (YAML 1.2)"),
                        )
                        .span(node.span)
                        .at(at)
                        .help(format!("write the number in decimal: {octal} for octal {raw}, or {n}")),
                    );
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if file.name.ends_with(".kdl") {
        return out;
    }
    if let Some(Node {
        value: Value::Seq(patches),
        ..
    }) = tree.get("patches")
    {
        for (i, p) in patches.iter().enumerate() {
            if let Some(body) = p.get("patch") {
                walk(body, &file.text, Path::of(&["patches"]).index(i).key("patch"), &mut out);
            }
        }
    }
    out
}

fn check_tree(file: &SourceFile, tree: &Node) -> (Option<Loaded>, Vec<Diagnostic>) {
    // Before anything is checked or merged: what all environments ask for together.
    let over = crate::work::check(tree);
    if !over.is_empty() {
        return (None, over);
    }
    let (base, mut diags) = typed(tree);
    diags.extend(octal_in_patches(file, tree));
    let Some(base) = base else {
        return (None, diags);
    };
    let mut env_names: Vec<String> = base.environments.keys().cloned().collect();
    if env_names.is_empty() {
        env_names.push(DEFAULT_ENV.to_string());
    }
    let mut envs = Vec::new();
    for env in env_names {
        let mut merged = tree.clone();
        let over = merged.remove("environments").and_then(|e| e.value.get(&env).cloned());
        if let Some(mut over) = over {
            diags.extend(drop_unknown_overrides(tree, &env, &mut over));
            merged.merge(&over);
        }
        let (spec, more) = typed(&merged);
        diags.extend(more);
        if let Some(spec) = spec {
            envs.push(EnvSpec { name: env, spec });
        }
    }
    let loaded = Loaded {
        file: file.clone(),
        spec: base,
        envs,
    };
    (Some(loaded), diags)
}

/// Overrides must name what the base declares (new config keys excepted). Each one that
/// does not is reported and left out of the merge, so it cannot hide other problems.
fn drop_unknown_overrides(base: &Node, env: &str, over: &mut Node) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let at = Path::of(&["environments", env]);
    for section in [
        "images",
        "secrets",
        "volumes",
        "pipelines",
        "services",
        "notebooks",
        "config",
    ] {
        let declared: Vec<&str> = base
            .get(section)
            .map(|s| s.entries().iter().map(|e| e.key.as_str()).collect())
            .unwrap_or_default();
        // Found in a set: a scan per override was quadratic (100,000 config keys, set again
        // by an environment, took minutes).
        let known: std::collections::HashSet<&str> = declared.iter().copied().collect();
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = over.entry_mut(section).map(|e| &mut e.value)
        else {
            continue;
        };
        entries.retain(|e| {
            let adds_config = section == "config" && !matches!(e.value.value, Value::Null);
            if adds_config || known.contains(e.key.as_str()) {
                return true;
            }
            let what = section.trim_end_matches('s');
            let help = match crate::check::closest(&e.key, declared.iter().copied()) {
                Some(name) => format!("did you mean `{name}`?"),
                None => format!("declare `{}` under `{section}:` first, or fix the name", e.key),
            };
            diags.push(
                Diagnostic::error(
                    Code::UnknownOverride,
                    format!(
                        "environment `{env}` overrides {what} `{}`, which the base spec does not declare",
                        e.key
                    ),
                )
                .span(e.key_span)
                .at(at.key(section).key(&e.key))
                .help(help),
            );
            false
        });
    }
    diags
}

/// Schema check, typing and semantic checks of one tree, with every diagnostic located.
fn typed(tree: &Node) -> (Option<Spec>, Vec<Diagnostic>) {
    let diags = schema::check(tree);
    if !diags.is_empty() {
        return (None, diags);
    }
    let spec: Spec = match serde_json::from_value(tree.to_json()) {
        Ok(s) => s,
        Err(e) => {
            let d = Diagnostic::error(Code::Type, format!("spec does not match the model: {e}")).span(tree.span);
            return (None, vec![d]);
        }
    };
    let mut diags = check::check(&spec);
    for d in &mut diags {
        locate(d, tree);
    }
    (Some(spec), diags)
}

/// Give a path-only diagnostic its span: the key for named entries and for problems with a
/// key, else the value.
pub fn locate(d: &mut Diagnostic, tree: &Node) {
    if d.span.is_some() {
        return;
    }
    // A value of an environment's merged spec that the environment did not set came from
    // the base spec: point there.
    if let Some(path) = &mut d.path
        && let [Seg::Key(section), Seg::Key(_), rest @ ..] = path.0.as_slice()
        && section == "environments"
        && !rest.is_empty()
        && tree.lookup(path).is_none()
    {
        *path = Path(rest.to_vec());
    }
    if let Some(path) = &d.path {
        let is_named_entry = tree.lookup(path).is_some_and(|n| matches!(n.value, Value::Map(_)));
        d.span = Some(tree.span_of(path, d.key || is_named_entry));
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kdl_lists_follow_the_spec_schema() {
        let kdl = "pipelines \"p\" { steps \"s\" image=\"i\" { run \"train\"; needs \"a\"; } }\n";
        let tree = parse(&SourceFile::new("mlship.kdl", kdl)).unwrap();
        let step = &tree.to_json()["pipelines"]["p"]["steps"]["s"];
        assert_eq!(step, &json!({"image": "i", "run": ["train"], "needs": ["a"]}));
    }

    /// Issue 15: rule 3 (one argument is a one-element list where the spec has a list) did
    /// not apply inside `environments`, whose schema is open below its sections, so a YAML
    /// override of a list field had no KDL twin.
    #[test]
    fn kdl_one_argument_is_a_list_inside_environments() {
        let kdl = "environments \"prod\" {\n    services \"api\" command=\"serve\" { node_selector pool=\"a\"; }\n    pipelines \"p\" { steps \"s\" { needs \"a\"; run \"x\"; }; }\n    tag \"1\"\n}\n";
        let tree = parse(&SourceFile::new("mlship.kdl", kdl)).unwrap();
        let prod = &tree.to_json()["environments"]["prod"];
        assert_eq!(
            prod,
            &json!({
                "services": {"api": {"command": ["serve"], "node_selector": {"pool": "a"}}},
                "pipelines": {"p": {"steps": {"s": {"needs": ["a"], "run": ["x"]}}}},
                "tag": "1"
            })
        );
    }

    /// Issue 15: a config key that is not a valid variable name was reported at its value.
    #[test]
    fn a_bad_config_key_is_reported_at_the_key() {
        let yaml = "apiVersion: mlship/v1\nproject: demo\nregistry: r\ntag: \"1\"\nconfig:\n  \"bad key\": value\nenvironments:\n  prod:\n    config:\n      9LIVES: x\n";
        let kdl = "apiVersion \"mlship/v1\"\nproject \"demo\"\nregistry \"r\"\ntag \"1\"\nconfig { \"bad key\" \"value\"; }\nenvironments \"prod\" { config { \"9LIVES\" \"x\"; }; }\n";
        for (name, text, at) in [
            ("mlship.yaml", yaml, [(6, 3), (10, 7)]),
            ("mlship.kdl", kdl, [(5, 10), (6, 32)]),
        ] {
            let (file, loaded, diags) = load(name, text.as_bytes());
            assert!(loaded.is_none());
            let found: Vec<_> = diags
                .iter()
                .map(|d| (d.code, file.line_col(d.span.unwrap().start)))
                .collect();
            assert_eq!(
                found,
                [(Code::InvalidName, at[0]), (Code::InvalidName, at[1])],
                "{name}"
            );
        }
    }

    /// Issue 14: an environment's overrides were merged, and checked against what the base
    /// declares, by a scan per key: two environments that set each of 100,000 config keys
    /// (within every limit) took minutes to load. The time is measured in the `linear` group of benches/stages.rs, at two sizes ten times apart, not
    /// here: a timed test fails on a busy machine.
    #[test]
    fn overriding_100000_config_keys_in_two_environments_loads() {
        let keys: String = (0..100_000).map(|i| format!("  K{i}: a\n")).collect();
        let over: String = (0..100_000).map(|i| format!("      K{i}: b\n")).collect();
        let yaml = format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nconfig:\n{keys}\
             environments:\n  dev:\n    config:\n{over}  prod:\n    config:\n{over}"
        );
        let (_, loaded, diags) = load("mlship.yaml", yaml.as_bytes());
        let loaded = loaded.unwrap_or_else(|| panic!("{:?}", diags.first()));
        assert_eq!(loaded.envs[1].spec.config["K99999"], "b");
    }
}
