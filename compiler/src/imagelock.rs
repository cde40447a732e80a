//! The image lock: which build of each image every environment deploys.
//!
//! Takes: the text of `images.lock.yaml` (committed beside the spec), or a `docker buildx bake
//! --metadata-file` file. Gives: the pins by environment and image, each a full reference
//! `repository:tag@sha256:...` with its line and column, located problems, the file's one
//! canonical text, and each bake target's image names and digest. `mlship lock fill` and
//! `mlship lock promote` write the file; lowering pins every image it names, so a build stays a
//! pure function of what is committed (docs/ci.md, "Build once, promote by digest").
//!
//! Pure: reads and writes nothing.

use crate::source::SourceFile;
use crate::syntax;
use crate::tree::{Node, Value};
use std::collections::BTreeMap;

/// The lock's file name, in the spec's folder.
pub const FILE: &str = "images.lock.yaml";

/// One image's pin in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// `repository:tag@sha256:<64 hex>`: the reference as it was built, and its digest.
    pub reference: String,
    /// Where it is in the file (1-based); 0 for a pin not read from a file.
    pub line: usize,
    pub column: usize,
}

impl Pin {
    pub fn new(reference: String) -> Self {
        Pin {
            reference,
            line: 0,
            column: 0,
        }
    }
}

/// The pins by environment, then image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    pub envs: BTreeMap<String, BTreeMap<String, Pin>>,
}

/// A problem in the lock file, at its line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub help: &'static str,
}

impl Problem {
    /// How to mend a lock file.
    pub const HELP: &'static str = HELP;
}

const HELP: &str = "the lock is written by `mlship lock fill` and `mlship lock promote` (docs/ci.md); fix the line or delete the file and fill it again";

/// Whether `d` is `sha256:` and 64 lowercase hex digits.
pub fn is_digest(d: &str) -> bool {
    d.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)))
}

/// A reference without its digest and tag: `ghcr.io/acme/api:1.2@sha256:...` gives
/// `ghcr.io/acme/api` (a registry's port, `host:5000/x`, is not a tag).
pub fn repository(reference: &str) -> &str {
    let base = reference.split('@').next().unwrap_or(reference);
    let last = base.rfind('/').map_or(0, |i| i + 1);
    match base[last..].find(':') {
        Some(i) => &base[..last + i],
        None => base,
    }
}

/// Read the lock file's text; every problem at its line and column.
pub fn parse(text: &str) -> Result<Lock, Vec<Problem>> {
    let file = SourceFile::new(FILE, text);
    let at = |offset: usize, message: String| {
        let (line, column) = file.line_col(offset);
        Problem {
            line,
            column,
            message,
            help: HELP,
        }
    };
    let tree = syntax::yaml::parse(&file).map_err(|diags| {
        diags
            .into_iter()
            .map(|d| at(d.span.map_or(0, |s| s.start), d.message))
            .collect::<Vec<_>>()
    })?;
    let mut problems = Vec::new();
    let mut lock = Lock::default();
    let entries = |node: &Node, what: &str, problems: &mut Vec<Problem>| match &node.value {
        Value::Map(entries) => entries.clone(),
        Value::Null => Vec::new(),
        _ => {
            problems.push(at(node.span.start, format!("{what} must be a mapping")));
            Vec::new()
        }
    };
    for top in entries(&tree, "the lock", &mut problems) {
        match top.key.as_str() {
            "version" if top.value.value == Value::Int(1) => {}
            "version" => problems.push(at(top.value.span.start, "this mlship reads lock version 1".into())),
            "environments" => {
                for env in entries(&top.value, "`environments`", &mut problems) {
                    let pins = lock.envs.entry(env.key.clone()).or_default();
                    for image in entries(&env.value, &format!("environment `{}`", env.key), &mut problems) {
                        let Value::Str(reference) = &image.value.value else {
                            problems.push(at(
                                image.value.span.start,
                                format!("the pin of `{}` must be a string", image.key),
                            ));
                            continue;
                        };
                        match reference.split_once('@') {
                            Some((base, digest)) if !base.is_empty() && !base.contains(char::is_whitespace) && is_digest(digest) => {
                                let (line, column) = file.line_col(image.value.span.start);
                                pins.insert(
                                    image.key.clone(),
                                    Pin {
                                        reference: reference.clone(),
                                        line,
                                        column,
                                    },
                                );
                            }
                            _ => problems.push(at(
                                image.value.span.start,
                                format!("`{reference}` is not a pinned reference: write repository:tag@sha256:<64 hex digits>"),
                            )),
                        }
                    }
                }
            }
            other => problems.push(at(
                top.key_span.start,
                format!("unknown key `{other}`: a lock has `version` and `environments`"),
            )),
        }
    }
    lock.envs.retain(|_, pins| !pins.is_empty());
    if problems.is_empty() { Ok(lock) } else { Err(problems) }
}

/// The lock's canonical text: sorted, one pin a line, with a header saying what it is.
pub fn render(lock: &Lock) -> String {
    let mut out = String::from(
        "# The image builds each environment deploys, pinned by digest. Written by `mlship lock fill`\n\
         # (from `docker buildx bake --metadata-file`) and `mlship lock promote`; `mlship build` pins\n\
         # every image named here. Commit it beside the spec (docs/ci.md).\n\
         version: 1\n",
    );
    let envs: Vec<_> = lock.envs.iter().filter(|(_, pins)| !pins.is_empty()).collect();
    if envs.is_empty() {
        out.push_str("environments: {}\n");
    } else {
        out.push_str("environments:\n");
    }
    for (env, pins) in envs {
        out.push_str(&format!("  {env}:\n"));
        for (image, pin) in pins {
            out.push_str(&format!("    {image}: {}\n", pin.reference));
        }
    }
    out
}

/// One target of a bake metadata file: the image names it was pushed as, and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub names: Vec<String>,
    pub digest: String,
}

/// The targets of a `docker buildx bake --metadata-file` file that built an image: by target
/// name, `image.name` (comma-separated) and `containerimage.digest`.
pub fn bake_metadata(text: &str) -> Result<BTreeMap<String, Built>, String> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON ({e}); pass the file `docker buildx bake --metadata-file` wrote"))?;
    let targets = json
        .as_object()
        .ok_or("not a bake metadata file: its top level is not an object of targets")?;
    let mut out = BTreeMap::new();
    for (target, meta) in targets {
        let Some(digest) = meta.get("containerimage.digest").and_then(|d| d.as_str()) else {
            continue; // `buildx.build.warnings` and targets that built no image
        };
        if !is_digest(digest) {
            return Err(format!("target `{target}`: `{digest}` is not a sha256 digest"));
        }
        let names = meta
            .get("image.name")
            .and_then(|n| n.as_str())
            .unwrap_or_default()
            .split(',')
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty())
            .collect();
        out.insert(
            target.clone(),
            Built {
                names,
                digest: digest.to_string(),
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904b5f1a3e0f8c2d1e0a9b8c7d6";

    #[test]
    fn render_and_parse_are_inverse() {
        let mut lock = Lock::default();
        lock.envs
            .entry("prod".into())
            .or_default()
            .insert("api".into(), Pin::new(format!("r.io/p/api:1.2@{D}")));
        lock.envs
            .entry("dev".into())
            .or_default()
            .insert("api".into(), Pin::new(format!("r.io:5000/p/api:dev@{D}")));
        let text = render(&lock);
        let back = parse(&text).unwrap();
        assert_eq!(back.envs["prod"]["api"].reference, format!("r.io/p/api:1.2@{D}"));
        assert_eq!((back.envs["dev"]["api"].line, back.envs["dev"]["api"].column), (7, 10));
        assert!(text.find("  dev:").unwrap() < text.find("  prod:").unwrap(), "{text}");
        assert_eq!(render(&back), text);
        assert_eq!(render(&Lock::default()).lines().last(), Some("environments: {}"));
    }

    #[test]
    fn problems_are_located() {
        let text =
            format!("version: 1\nenvironments:\n  prod:\n    api: r.io/p/api:1.2\n    web: r.io/p/web@{D}\nextra: 1\n");
        let problems = parse(&text).unwrap_err();
        let at: Vec<_> = problems.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(at, [(4, 10), (6, 1)], "{problems:?}");
        assert!(problems[0].message.contains("not a pinned reference"));
        assert!(parse("version: 2\n").unwrap_err()[0].message.contains("version 1"));
        assert!(parse("environments: [a]\n").unwrap_err()[0].message.contains("mapping"));
        assert!(parse("a: [\n").is_err());
        assert!(!is_digest("sha256:ABC"));
        assert!(!is_digest(&D.replace('4', "G")));
    }

    #[test]
    fn repositories_drop_tag_and_digest_but_not_the_port() {
        assert_eq!(repository(&format!("r.io:5000/p/api:1.2@{D}")), "r.io:5000/p/api");
        assert_eq!(repository("r.io/p/api"), "r.io/p/api");
        assert_eq!(repository("api:1"), "api");
    }

    #[test]
    fn bake_metadata_gives_names_and_digests() {
        let text = format!(
            r#"{{"buildx.build.warnings": [], "api": {{"containerimage.digest": "{D}", "image.name": "r.io/p/api:1.2,r.io/p/api:dev"}}, "lint": {{"buildx.build.ref": "x"}}}}"#
        );
        let m = bake_metadata(&text).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["api"]);
        assert_eq!(m["api"].names, ["r.io/p/api:1.2", "r.io/p/api:dev"]);
        assert!(bake_metadata("[]").is_err());
        assert!(
            bake_metadata(r#"{"a": {"containerimage.digest": "md5:1"}}"#)
                .unwrap_err()
                .contains("`a`")
        );
    }
}
