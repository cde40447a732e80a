//! `mlship explain`: where a value of the rendered tree came from.
//!
//! Takes: the spec's source file, its compiled [`Output`], a rendered file (with `#N` or
//! `#name` for one object of a multi-document file) and a field path in it
//! (`spec.template.spec.containers[0].resources.limits.memory`, `containers[name=server]`,
//! `labels["app.kubernetes.io/name"]`). Gives: the value and its cause, as text: the patch
//! that set it; the spec value that set it, in the base spec or in an environment's override
//! (the environment's merge keeps each value's span, so the winner says where it was
//! written), located as `file:line:col` with its document path, which reads the same in
//! both syntaxes; or the default and the rule that chose it.
//!
//! Found after the fact, not recorded by lowering: the fields whose spec keys and defaults
//! are known (the table `RULES`) are looked up at those keys; any other field is matched by value
//! against the spec values of the workload the object was rendered from (then its image,
//! then the spec's top-level values), which is a heuristic, and said to be one when more than
//! one value fits.

use crate::emit::{Output, env_of};
use crate::imagelock::Lock;
use crate::source::{Path, Seg, SourceFile, Span};
use crate::tree::{Node, Value};
use serde_json::Value as Json;
use std::fmt::Write;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
    /// `[key=value]`: the item of a list whose `key` is `value`.
    Select(String, String),
}

const FIELD_HELP: &str = "write the field as keys and indices: spec.template.spec.containers[0].image, containers[name=server], labels[\"app.kubernetes.io/name\"]";

/// Parse a field path: `a.b[0].c`, `a[name=x]`, `a["key.with.dots"]`.
pub fn parse_field(text: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| format!("field `{text}`: {why}\n  help: {FIELD_HELP}");
    let chars: Vec<char> = text.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    let mut expect_key = true;
    while i < chars.len() {
        match chars[i] {
            '[' => {
                let Some(close) = closing(&chars, i + 1) else {
                    return Err(bad("a `[` is not closed"));
                };
                let inner: String = chars[i + 1..close].iter().collect();
                let inner = inner.trim();
                if let Some(key) = unquote(inner) {
                    steps.push(Step::Key(key));
                } else if let Ok(n) = inner.parse::<usize>() {
                    steps.push(Step::Index(n));
                } else if let Some((k, v)) = inner.split_once('=') {
                    let v = v.trim();
                    steps.push(Step::Select(
                        k.trim().to_string(),
                        unquote(v).unwrap_or_else(|| v.to_string()),
                    ));
                } else {
                    return Err(bad(&format!(
                        "`[{inner}]` is neither an index, a quoted key nor a `[key=value]` selection"
                    )));
                }
                i = close + 1;
                expect_key = false;
            }
            '.' if !expect_key => {
                i += 1;
                expect_key = true;
                if i == chars.len() {
                    return Err(bad("it ends with `.`"));
                }
            }
            '.' => return Err(bad("a key is empty")),
            _ => {
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                steps.push(Step::Key(chars[start..i].iter().collect()));
                expect_key = false;
            }
        }
    }
    if steps.is_empty() {
        return Err(bad("it is empty"));
    }
    Ok(steps)
}

/// The `]` that closes a bracket opened before `from`, past a quoted key.
fn closing(chars: &[char], from: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &c) in chars.iter().enumerate().skip(from) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, ']') => return Some(i),
            _ => {}
        }
    }
    None
}

fn unquote(s: &str) -> Option<String> {
    let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    (s.len() >= 2 && s.ends_with(q)).then(|| s[1..s.len() - 1].to_string())
}

/// A rendered path as the user would write it again.
fn show(path: &Path) -> String {
    let mut out = String::new();
    for seg in &path.0 {
        match seg {
            Seg::Key(k) if k.contains(['.', '[', ']', '=']) || k.is_empty() => {
                let _ = write!(out, "[\"{k}\"]");
            }
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                let _ = write!(out, ".{k}");
            }
            Seg::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
        }
    }
    out
}

/// A value, short: strings as they are (quoted when they would not read back), the rest as
/// compact JSON.
fn value_text(v: &Json) -> String {
    let text = match v {
        // A string a reader would take for another type is quoted, as the rendered YAML does.
        Json::String(s) if !s.is_empty() && s.trim() == s && !s.contains('\n') && !looks_typed(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 120 {
        format!("{}...", text.chars().take(117).collect::<String>())
    } else {
        text
    }
}

/// Whether a plain YAML scalar with this text would not be a string.
fn looks_typed(s: &str) -> bool {
    s.parse::<f64>().is_ok()
        || matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
}

/// One object of a rendered file.
struct Doc {
    node: Node,
    file: SourceFile,
    /// The line of the whole file where the document starts (0 for the first).
    first_line: usize,
}

/// The rendered file a command-line path names, and its environment.
fn find_file<'a>(
    output: &'a Output,
    arg: &str,
    env: Option<&str>,
    envs: &[String],
) -> Result<(&'a str, &'a [u8]), String> {
    let arg = arg.trim_start_matches("./");
    // `deploy/envs/prod/x.yaml` is in environment `prod` too.
    let env = env.or_else(|| arg.find("envs/").and_then(|i| env_of(&arg[i..])));
    let mut tries: Vec<String> = Vec::new();
    let mut rest = arg;
    loop {
        tries.push(rest.to_string());
        match rest.split_once('/') {
            Some((_, r)) if !r.is_empty() => rest = r,
            _ => break,
        }
    }
    if let Some(env) = env {
        tries.push(format!("envs/{env}/{arg}"));
        tries.push(format!("envs/{env}/notebooks/{arg}"));
    }
    for t in &tries {
        if let Some((k, v)) = output.files.get_key_value(t.as_str()) {
            return Ok((k.as_str(), v.as_slice()));
        }
    }
    // A file of the environment by its name alone, in any subfolder.
    let base = arg.rsplit('/').next().unwrap_or(arg);
    let in_env = |k: &str| env.is_none_or(|e| env_of(k) == Some(e));
    let found: Vec<(&String, &Vec<u8>)> = output
        .files
        .iter()
        .filter(|(k, _)| in_env(k) && k.rsplit('/').next() == Some(base))
        .collect();
    match found.as_slice() {
        [(k, v)] => return Ok((k.as_str(), v.as_slice())),
        [] => {}
        several => {
            let list: Vec<&str> = several.iter().map(|(k, _)| k.as_str()).collect();
            return Err(format!(
                "`{arg}` is a file of several environments: {}\n  help: name one of them, or pick the environment with --env",
                list.join(", ")
            ));
        }
    }
    let files: Vec<&str> = output.files.keys().map(String::as_str).filter(|k| in_env(k)).collect();
    let names: Vec<&str> = files.iter().filter_map(|k| k.rsplit('/').next()).collect();
    let help = match crate::check::closest(base, names.iter().copied()) {
        Some(near) => {
            let full = files
                .iter()
                .find(|k| k.rsplit('/').next() == Some(near))
                .copied()
                .unwrap_or(near);
            format!("did you mean `{full}`?")
        }
        None => {
            let env = env.map_or_else(|| envs.first().cloned().unwrap_or_default(), str::to_string);
            format!(
                "name a file of the rendered tree, such as envs/{env}/<kind>-<name>.yaml (`mlship build` writes the tree to deploy/)"
            )
        }
    };
    let scope = env.map_or_else(String::new, |e| format!(" in environment `{e}`"));
    Err(format!("no rendered file `{arg}`{scope}\n  help: {help}"))
}

/// Split a multi-document file, and pick the document `sel` names (`N` or an object's name).
fn pick_doc(name: &str, text: &str, sel: Option<&str>) -> Result<Doc, String> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pieces: Vec<(usize, &str)> = Vec::new();
    for (at, _) in text.match_indices("\n---\n") {
        pieces.push((start, &text[start..=at]));
        start = at + 5;
    }
    pieces.push((start, &text[start..]));
    for (offset, piece) in pieces {
        if piece.trim().is_empty() {
            continue;
        }
        let file = SourceFile::new(name, piece);
        let node = crate::syntax::yaml::parse(&file)
            .map_err(|_| format!("{name}: not a YAML file mlship can read\n  help: explain reads the Kubernetes objects of the rendered tree, not Dockerfiles or other files"))?;
        let first_line = text[..offset].matches('\n').count();
        docs.push(Doc { node, file, first_line });
    }
    let label = |d: &Doc| {
        let v = d.node.to_json();
        format!(
            "{}/{}",
            v["kind"].as_str().unwrap_or("?"),
            v["metadata"]["name"].as_str().unwrap_or("?")
        )
    };
    let list = |docs: &[Doc]| {
        docs.iter()
            .enumerate()
            .map(|(i, d)| format!("#{i} {}", label(d)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match sel {
        None if docs.len() == 1 => Ok(docs.remove(0)),
        None if docs.is_empty() => Err(format!("{name}: the file holds no object")),
        None => Err(format!(
            "{name} holds {} objects\n  help: pick one: {name}#N or {name}#<name> ({})",
            docs.len(),
            list(&docs)
        )),
        Some(sel) => {
            if let Ok(n) = sel.parse::<usize>() {
                if n < docs.len() {
                    return Ok(docs.remove(n));
                }
                return Err(format!(
                    "{name}#{n}: the file holds {} object(s), from #0\n  help: {}",
                    docs.len(),
                    list(&docs)
                ));
            }
            let at = docs.iter().position(|d| {
                let v = d.node.to_json();
                v["metadata"]["name"].as_str() == Some(sel) || label(d) == sel
            });
            match at {
                Some(i) => Ok(docs.remove(i)),
                None => Err(format!(
                    "{name}#{sel}: no object named `{sel}` in the file\n  help: {}",
                    list(&docs)
                )),
            }
        }
    }
}

/// The node at a field path, its concrete path, and the `name`s of the list items on the way.
fn resolve<'a>(doc: &'a Node, steps: &[Step]) -> Result<(Path, &'a Node, Vec<String>), (String, Span)> {
    let mut node = doc;
    let mut path = Path::root();
    let mut names = Vec::new();
    for step in steps {
        let at = if path.0.is_empty() {
            "the object".to_string()
        } else {
            format!("`{}`", show(&path))
        };
        let next = match (step, &node.value) {
            (Step::Key(k), Value::Map(entries)) => match entries.iter().find(|e| &e.key == k) {
                Some(e) => {
                    path = path.key(k);
                    &e.value
                }
                None => {
                    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
                    let help = match crate::check::closest(k, keys.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`? {at} has {}", keys.join(", ")),
                        None => format!("{at} has {}", keys.join(", ")),
                    };
                    return Err((format!("{at} has no field `{k}`\n  help: {help}"), node.span));
                }
            },
            (Step::Index(i), Value::Seq(items)) => match items.get(*i) {
                Some(item) => {
                    path = path.index(*i);
                    item
                }
                None => {
                    return Err((
                        format!(
                            "{at} has {} item(s); there is no [{i}]\n  help: items count from [0]{}",
                            items.len(),
                            named_items(items)
                        ),
                        node.span,
                    ));
                }
            },
            (Step::Select(k, v), Value::Seq(items)) => {
                let hit = items.iter().position(|it| {
                    it.get(k).is_some_and(|n| match &n.value {
                        Value::Str(s) => s == v,
                        _ => serde_json::from_str::<Json>(v).is_ok_and(|x| x == n.to_json()),
                    })
                });
                match hit {
                    Some(i) => {
                        path = path.index(i);
                        &items[i]
                    }
                    None => {
                        return Err((
                            format!(
                                "{at} has no item with {k}={v}\n  help: pick an item by its index or its name{}",
                                named_items(items)
                            ),
                            node.span,
                        ));
                    }
                }
            }
            (Step::Key(k), _) => {
                let what = node.type_name();
                let help = if matches!(node.value, Value::Seq(_)) {
                    format!(
                        "pick an item first: {}[0].{k} or {}[name=...].{k}",
                        show(&path),
                        show(&path)
                    )
                } else {
                    format!("{at} is a {what}; end the field there")
                };
                return Err((
                    format!("{at} is a {what}, with no field `{k}`\n  help: {help}"),
                    node.span,
                ));
            }
            (Step::Index(_) | Step::Select(..), _) => {
                return Err((
                    format!(
                        "{at} is a {}, not a list\n  help: use `.key` for the fields of a mapping",
                        node.type_name()
                    ),
                    node.span,
                ));
            }
        };
        if let Some(n) = next.get("name").and_then(|n| match &n.value {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        }) && matches!(step, Step::Index(_) | Step::Select(..))
        {
            names.push(n);
        }
        node = next;
    }
    Ok((path, node, names))
}

fn named_items(items: &[Node]) -> String {
    let names: Vec<String> = items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| match it.get("name").map(|n| &n.value) {
            Some(Value::Str(s)) => Some(format!("[{i}] is [name={s}]")),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!("; {}", names.join(", "))
    }
}

/// A rule of what sets a rendered field: the spec keys (relative to the workload the object
/// was rendered from; `$` for the spec's top level) and, when none is set, the default.
struct Rule {
    /// A suffix of the rendered path, `*` for any one index; `^` anchors it at the root.
    field: &'static str,
    /// The spec keys that set it, the first found winning.
    spec: &'static [&'static str],
    rule: &'static str,
    /// What mlship does when the spec does not say.
    default: &'static str,
}

const BASELINE: &str = "mlship's pod-security baseline (emit::pod), the same for every pod: non-root with a fixed UID and GID, a read-only root filesystem (writable /tmp), no privilege escalation, every capability dropped, the RuntimeDefault seccomp profile, no service account token; a `patches:` entry changes it (and a `waivers:` entry lets a pod break the policy that checks it)";

/// The fields whose spec keys and defaults are known.
const RULES: &[Rule] = &[
    Rule {
        field: "securityContext.runAsNonRoot",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "securityContext.runAsUser",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "securityContext.runAsGroup",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "securityContext.fsGroup",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "securityContext.seccompProfile.type",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "securityContext.allowPrivilegeEscalation",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "securityContext.capabilities.drop",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "securityContext.capabilities.drop.*",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "securityContext.privileged",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "securityContext.readOnlyRootFilesystem",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "automountServiceAccountToken",
        spec: &[],
        rule: "pod-security-baseline",
        default: BASELINE,
    },
    Rule {
        field: "livenessProbe.httpGet.path",
        spec: &["health.path"],
        rule: "probe-defaults",
        default: "/healthz (lower::pods::HEALTH_PATH; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "readinessProbe.httpGet.path",
        spec: &["health.ready", "health.path"],
        rule: "probe-defaults",
        default: "the liveness path, /healthz unless `health.path` says (docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "startupProbe.httpGet.path",
        spec: &["health.path"],
        rule: "probe-defaults",
        default: "the liveness path, /healthz unless `health.path` says (docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "Probe.httpGet.port",
        spec: &["health.port"],
        rule: "probe-defaults",
        default: "the port named `http` (`grpc` for a gRPC check) (docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "livenessProbe.initialDelaySeconds",
        spec: &["health.initial_delay"],
        rule: "probe-defaults",
        default: "10 s (lower::pods::LIVENESS_DELAY), 0 when a startup probe holds liveness back (docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "readinessProbe.initialDelaySeconds",
        spec: &[],
        rule: "probe-defaults",
        default: "always 0: readiness only routes traffic (docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "startupProbe.initialDelaySeconds",
        spec: &[],
        rule: "probe-defaults",
        default: "always 0 (docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "livenessProbe.periodSeconds",
        spec: &["health.period"],
        rule: "probe-defaults",
        default: "10 s (lower::pods::PROBE_PERIOD; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "readinessProbe.periodSeconds",
        spec: &["health.period"],
        rule: "probe-defaults",
        default: "10 s (lower::pods::PROBE_PERIOD; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "startupProbe.periodSeconds",
        spec: &["health.startup.period"],
        rule: "probe-defaults",
        default: "10 s (lower::pods::PROBE_PERIOD; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "livenessProbe.timeoutSeconds",
        spec: &["health.timeout"],
        rule: "probe-defaults",
        default: "2 s (lower::pods::PROBE_TIMEOUT; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "readinessProbe.timeoutSeconds",
        spec: &["health.timeout"],
        rule: "probe-defaults",
        default: "2 s (lower::pods::PROBE_TIMEOUT; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "startupProbe.timeoutSeconds",
        spec: &["health.startup.timeout"],
        rule: "probe-defaults",
        default: "2 s (lower::pods::PROBE_TIMEOUT; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "livenessProbe.failureThreshold",
        spec: &["health.failures"],
        rule: "probe-defaults",
        default: "3 checks (lower::pods::PROBE_FAILURES; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "readinessProbe.failureThreshold",
        spec: &[],
        rule: "probe-defaults",
        default: "always 3 checks (lower::pods::PROBE_FAILURES; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "startupProbe.failureThreshold",
        spec: &["health.startup.failures"],
        rule: "probe-defaults",
        default: "180 checks for a server with GPUs, 30 otherwise (lower::pods::STARTUP_FAILURES_GPU, STARTUP_FAILURES; docs/kubernetes.md, \"Probes\")",
    },
    Rule {
        field: "^spec.replicas",
        spec: &["replicas"],
        rule: "replicas",
        default: "1 replica for a service without `replicas` or `autoscale` (lower::workloads)",
    },
    Rule {
        field: "^spec.minReplicas",
        spec: &["autoscale.min"],
        rule: "autoscale",
        default: "`autoscale.min` is required",
    },
    Rule {
        field: "^spec.maxReplicas",
        spec: &["autoscale.max"],
        rule: "autoscale",
        default: "`autoscale.max` is required",
    },
    Rule {
        field: "target.averageUtilization",
        spec: &["autoscale.cpu", "autoscale.memory"],
        rule: "autoscale",
        default: "the autoscaler's metric default (lower::serving)",
    },
    Rule {
        field: "^spec.revisionHistoryLimit",
        spec: &[],
        rule: "rollout-defaults",
        default: "5 old ReplicaSets kept (lower::workloads)",
    },
    Rule {
        field: "^spec.strategy.type",
        spec: &["rollout"],
        rule: "rollout-defaults",
        default: "RollingUpdate unless `rollout: recreate` (lower::workloads)",
    },
    Rule {
        field: "^spec.strategy.rollingUpdate.maxSurge",
        spec: &[],
        rule: "rollout-defaults",
        default: "25% extra pods during a rollout (lower::workloads)",
    },
    Rule {
        field: "^spec.strategy.rollingUpdate.maxUnavailable",
        spec: &[],
        rule: "rollout-defaults",
        default: "0: no pod stops before its replacement is ready (lower::workloads)",
    },
    Rule {
        field: "retryStrategy.limit",
        spec: &["retries"],
        rule: "retries",
        default: "a step is not retried unless `retries` says (lower::workflows)",
    },
    Rule {
        field: "backoffLimit",
        spec: &["retries"],
        rule: "retries",
        default: "0: a failed step is not retried unless `retries` says; a Job of several steps takes the largest (lower::workloads)",
    },
    Rule {
        field: "activeDeadlineSeconds",
        spec: &["timeout"],
        rule: "timeouts",
        default: "a step without `timeout` has no deadline of its own and counts 1 h in its level (lower::LEVEL_TIMEOUT); a pipeline on Argo Workflows without `timeout` gets the sum over its levels of each level's longest step (lower::workflows)",
    },
    Rule {
        field: "ports.*.protocol",
        spec: &[],
        rule: "ports",
        default: "TCP for every port mlship declares (emit::pod, emit::core)",
    },
    Rule {
        field: "imagePullPolicy",
        spec: &[],
        rule: "image-pull-policy",
        default: "Always, for every container mlship renders (emit::pod)",
    },
    Rule {
        field: "resources.limits.cpu",
        spec: &["cpu"],
        rule: "resource-defaults",
        default: RESOURCES,
    },
    Rule {
        field: "resources.requests.cpu",
        spec: &["cpu"],
        rule: "resource-defaults",
        default: RESOURCES,
    },
    Rule {
        field: "resources.limits.memory",
        spec: &["memory"],
        rule: "resource-defaults",
        default: RESOURCES,
    },
    Rule {
        field: "resources.requests.memory",
        spec: &["memory"],
        rule: "resource-defaults",
        default: RESOURCES,
    },
    Rule {
        field: "resources.limits.nvidia.com/gpu",
        spec: &["gpu"],
        rule: "resource-defaults",
        default: "no GPU unless `gpu` asks",
    },
    Rule {
        field: "^metadata.namespace",
        spec: &["$namespace"],
        rule: "namespace",
        default: "the project's name when the spec and the environment set no `namespace` (lower)",
    },
    Rule {
        field: "containers.*.image",
        spec: &[],
        rule: "image-reference",
        default: "",
    },
    Rule {
        field: "initContainers.*.image",
        spec: &[],
        rule: "image-reference",
        default: "",
    },
];

const RESOURCES: &str = "requests equal to limits, from lower's stdlib defaults when the workload does not say: services 250m CPU and 512Mi, steps 1 CPU and 2Gi, notebooks 1 CPU and 4Gi, helper containers 100m and 256Mi (docs/kubernetes.md)";

/// The rule for a rendered path, if one names it.
fn rule_for(path: &Path) -> Option<&'static Rule> {
    let segs: Vec<String> = path
        .0
        .iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(_) => "*".to_string(),
        })
        .collect();
    RULES.iter().find(|r| {
        let (anchored, field) = r.field.strip_prefix('^').map_or((false, r.field), |f| (true, f));
        // `nvidia.com/gpu` is one key.
        let pat: Vec<&str> = match field.strip_suffix(".nvidia.com/gpu") {
            Some(head) => head.split('.').chain(["nvidia.com/gpu"]).collect(),
            None => field.split('.').collect(),
        };
        if anchored {
            return segs.len() == pat.len() && segs.iter().zip(&pat).all(|(s, p)| s == p);
        }
        if segs.len() < pat.len() {
            return false;
        }
        let tail = &segs[segs.len() - pat.len()..];
        tail.iter().zip(&pat).enumerate().all(|(i, (s, p))| {
            // `Probe.httpGet.port`: any of the three probes.
            if i == 0 && *p == "Probe" {
                s.ends_with("Probe")
            } else {
                s == p
            }
        })
    })
}

/// What the object was rendered from: its workload's path in the spec, and a step's.
struct Scope {
    section: &'static str,
    workload: Option<Path>,
    step: Option<Path>,
    /// The image the workload (or step) names.
    image: Option<Path>,
    /// Not rendered by mlship: an extra manifest, or an encrypted secret file.
    extra: bool,
}

fn scope_of(obj: &Json, merged: &Node, item_names: &[String]) -> Scope {
    let labels = &obj["metadata"]["labels"];
    let name = labels["app.kubernetes.io/name"].as_str();
    let component = labels["app.kubernetes.io/component"].as_str().unwrap_or_default();
    let order: &[&'static str] = match component {
        "serving" => &["services", "pipelines", "notebooks"],
        "pipeline" => &["pipelines", "services", "notebooks"],
        _ => &["notebooks", "services", "pipelines"],
    };
    let mut scope = Scope {
        section: "",
        workload: None,
        step: None,
        image: None,
        extra: labels["app.kubernetes.io/managed-by"].as_str() != Some("mlship"),
    };
    if let Some(name) = name
        && let Some(section) = order.iter().find(|s| merged.get(s).and_then(|n| n.get(name)).is_some())
    {
        let at = Path::of(&[section, name]);
        scope.section = section;
        let steps = merged.lookup(&at.key("steps"));
        let step = labels["mlship.dev/step"]
            .as_str()
            .into_iter()
            .chain(item_names.iter().map(String::as_str))
            .find(|s| steps.is_some_and(|n| n.get(s).is_some()));
        // A pipeline of one step (a CronJob) is that step's.
        let only = steps
            .map(Node::entries)
            .filter(|e| e.len() == 1)
            .map(|e| e[0].key.as_str());
        scope.step = step.or(only).map(|s| at.key("steps").key(s));
        scope.workload = Some(at);
    }
    let owner = scope.step.as_ref().or(scope.workload.as_ref());
    if let Some(Value::Str(img)) = owner.and_then(|p| merged.lookup(&p.key("image"))).map(|n| &n.value)
        && merged.get("images").and_then(|i| i.get(img)).is_some()
    {
        scope.image = Some(Path::of(&["images", img]));
    }
    scope
}

/// Where a value of the environment's merged spec was written.
struct Located {
    /// Its document path in the file (`environments.prod.…` for an override).
    path: Path,
    span: Span,
    value: Json,
    /// The environment, for an override.
    env: Option<String>,
}

/// The source of a value of the merged spec at `path`: the environment's override when the
/// merge kept its node, else the base spec.
fn locate(tree: &Node, merged: &Node, env: &str, path: &Path) -> Option<Located> {
    let node = merged.lookup(path)?;
    let mut in_env = Path::of(&["environments", env]);
    in_env.0.extend(path.0.iter().cloned());
    if let Some(n) = tree.lookup(&in_env)
        && n.span == node.span
    {
        return Some(Located {
            path: in_env,
            span: n.span,
            value: n.to_json(),
            env: Some(env.to_string()),
        });
    }
    Some(Located {
        path: path.clone(),
        span: node.span,
        value: node.to_json(),
        env: None,
    })
}

/// Explain `field` of the rendered `file` (with `#N` or `#name`) in environment `env`.
/// `spec` is the spec the output was compiled from, `lock` the image lock it was compiled
/// with.
pub fn explain(
    spec: &SourceFile,
    lock: &Lock,
    output: &Output,
    env: Option<&str>,
    file: &str,
    field: &str,
) -> Result<String, String> {
    let tree = crate::load::parse(spec).map_err(|_| format!("{}: the spec does not parse", spec.name))?;
    let envs: Vec<String> = match tree.get("environments") {
        Some(e) if !e.entries().is_empty() => e.entries().iter().map(|e| e.key.clone()).collect(),
        _ => vec![crate::load::DEFAULT_ENV.to_string()],
    };
    if let Some(e) = env
        && !envs.iter().any(|x| x == e)
    {
        let help = match crate::check::closest(e, envs.iter().map(String::as_str)) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("use one of {}", envs.join(", ")),
        };
        let at = match tree.entry("environments") {
            Some(entry) => {
                let (l, c) = spec.line_col(entry.key_span.start);
                format!("{}:{l}:{c}", spec.name)
            }
            None => spec.name.clone(),
        };
        return Err(format!(
            "{at}: no environment `{e}`; the spec has {}\n  help: {help}",
            envs.join(", ")
        ));
    }
    let steps = parse_field(field)?;
    let (file_arg, sel) = match file.rsplit_once('#') {
        Some((f, s)) => (f, Some(s)),
        None => (file, None),
    };
    let (name, bytes) = find_file(output, file_arg, env, &envs)?;
    let file_env = env_of(name);
    if let (Some(want), Some(has)) = (env, file_env)
        && want != has
    {
        return Err(format!(
            "{name} is a file of environment `{has}`, not `{want}`\n  help: drop --env, or name envs/{want}/{}",
            name.rsplit('/').next().unwrap_or(name)
        ));
    }
    let env = file_env.or(env).ok_or_else(|| {
        format!("{name} belongs to no environment\n  help: explain reads the objects under envs/<env>/ and gitops/<env>.yaml")
    })?;
    let text = String::from_utf8_lossy(bytes);
    let doc = pick_doc(name, &text, sel)?;
    let (path, node, item_names) = resolve(&doc.node, &steps).map_err(|(e, span)| {
        let (l, c) = doc.file.line_col(span.start);
        format!("{name}:{}:{c}: {e}", l + doc.first_line)
    })?;
    let value = node.to_json();
    let (line, col) = doc.file.line_col(node.span.start);
    let obj = doc.node.to_json();

    let mut merged = tree.clone();
    if let Some(e) = merged.remove("environments")
        && let Some(over) = e.value.get(env)
    {
        merged.merge(over);
    }
    let scope = scope_of(&obj, &merged, &item_names);
    let at = |span: Span| {
        let (l, c) = spec.line_col(span.start);
        format!("{}:{l}:{c}", spec.name)
    };
    let shown = |l: &Located| format!("{} {}: {}", at(l.span), show(&l.path), value_text(&l.value));

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{name}:{}:{col} {}: {}",
        line + doc.first_line,
        show(&path),
        value_text(&value)
    );
    let kind = obj["kind"].as_str().unwrap_or("object");
    let oname = obj["metadata"]["name"].as_str().unwrap_or("unnamed");
    let from = match (&scope.step, &scope.workload) {
        (Some(s), _) | (None, Some(s)) => format!(", rendered from {}", show(s)),
        _ => String::new(),
    };
    let _ = writeln!(out, "  object: {kind} {oname} in environment `{env}`{from}");

    // 1. A patch, applied last, wins.
    if let Some((ppath, pnode)) = patch_for(&merged, kind, oname, env, &path) {
        let l = locate(&tree, &merged, env, &ppath).unwrap_or(Located {
            path: ppath,
            span: pnode.span,
            value: pnode.to_json(),
            env: None,
        });
        let _ = writeln!(out, "  set by a patch: {}", shown(&l));
        return Ok(out);
    }
    if scope.extra {
        // A SOPS or sealed secret is its file, as the tool that encrypted it wrote it.
        let project = merged.get("project").map(Node::to_json);
        let secret = merged
            .get("secrets")
            .map(Node::entries)
            .unwrap_or_default()
            .iter()
            .find(|e| {
                project
                    .as_ref()
                    .and_then(Json::as_str)
                    .map(|p| crate::names::workload(p, &e.key))
                    .as_deref()
                    == Some(oname)
                    && e.value.get("file").is_some()
            });
        if let Some(e) = secret
            && let Some(l) = locate(&tree, &merged, env, &Path::of(&["secrets", e.key.as_str(), "file"]))
        {
            let origin = l
                .env
                .as_ref()
                .map_or_else(String::new, |e| format!(" (environment `{e}`)"));
            let _ = writeln!(
                out,
                "  from the secret's encrypted file: {}{origin}, taken from that file as it was encrypted",
                shown(&l)
            );
            return Ok(out);
        }
        if let Some(m) = merged.get("manifests") {
            let _ = writeln!(
                out,
                "  from an extra manifest: the object is a file the spec lists in `manifests` ({}), taken as it is written there (with the environment's namespace when it names none)",
                at(m.span)
            );
            return Ok(out);
        }
    }
    let owner = scope.step.clone().or_else(|| scope.workload.clone());

    // 2. A field whose spec keys are known.
    if let Some(rule) = rule_for(&path) {
        if rule.rule == "image-reference" {
            // A pin of the image lock replaces the tag the spec composes.
            let pin = lock
                .envs
                .get(env)
                .into_iter()
                .flatten()
                .find(|(_, pin)| value.as_str() == Some(pin.reference.as_str()));
            if let Some((image, pin)) = pin {
                let _ = writeln!(
                    out,
                    "  pinned by the image lock (rule `image-lock`): {}:{}:{} environments.{env}.{image}, written by `mlship lock fill` or `mlship lock promote` (docs/ci.md)",
                    crate::imagelock::FILE,
                    pin.line,
                    pin.column
                );
                return Ok(out);
            }
            return Ok(image_reference(out, &tree, &merged, env, &scope, &value, &shown));
        }
        let mut found = None;
        for key in rule.spec {
            let p = match key.strip_prefix('$') {
                Some(top) => Some(Path::of(&top.split('.').collect::<Vec<_>>())),
                None => owner.as_ref().map(|o| {
                    let mut p = o.clone();
                    p.0.extend(key.split('.').map(|k| Seg::Key(k.to_string())));
                    p
                }),
            };
            let Some(p) = p else { continue };
            if let Some(l) = locate(&tree, &merged, env, &p) {
                // Of several keys that could set it, the one with the value.
                if rule.spec.len() > 1 && rule.rule == "autoscale" && !same(&value, &l.value, key) {
                    continue;
                }
                found = Some(l);
                break;
            }
        }
        if let Some(l) = found {
            say_set(&mut out, &tree, env, &l, &shown);
            return Ok(out);
        }
        let _ = writeln!(out, "  default (rule `{}`): {}", rule.rule, rule.default);
        if let Some(key) = rule.spec.first() {
            let target = match key.strip_prefix('$') {
                Some(top) => Some(top.to_string()),
                None => owner.as_ref().map(|o| format!("{}.{key}", show(o))),
            };
            match target {
                Some(t) if tree.get("environments").is_some() => {
                    let _ = writeln!(
                        out,
                        "  to change it: set `{t}` (or `environments.{env}.{t}` for this environment only)"
                    );
                }
                Some(t) => {
                    let _ = writeln!(out, "  to change it: set `{t}`");
                }
                None => {}
            }
        }
        return Ok(out);
    }
    if let Some(Seg::Key(k)) = path.0.last()
        && path.0.len() >= 2
        && matches!(&path.0[path.0.len() - 2], Seg::Key(p) if p == "labels" || p == "matchLabels" || p == "annotations")
        && (k.starts_with("app.kubernetes.io/") || k.starts_with("mlship.dev/"))
    {
        let _ = writeln!(
            out,
            "  default (rule `mlship-labels`): mlship's own labels and annotations, from the project's and the workload's names and the environment (lower::workloads; `mlship.dev/config` names the ConfigMap the pods read); a workload's `labels` cannot set these prefixes"
        );
        return Ok(out);
    }
    if matches!(path.0.as_slice(), [Seg::Key(k)] if k == "kind" || k == "apiVersion") {
        let _ = writeln!(
            out,
            "  default (rule `targets`): the kind and API version of the object mlship renders for this part of the spec (emit::TARGETS; docs/kubernetes.md)"
        );
        return Ok(out);
    }

    // 3. Any other field: the spec values that equal it, nearest the object first.
    let matches = by_value(&merged, &scope, &path, &value);
    if !matches.is_empty() {
        let located: Vec<Located> = matches.iter().filter_map(|p| locate(&tree, &merged, env, p)).collect();
        if located.len() == 1 {
            say_set(&mut out, &tree, env, &located[0], &shown);
        } else {
            let _ = writeln!(
                out,
                "  set in the spec, by one of these equal values (matched by value, nearest the object first):"
            );
            for l in &located {
                let origin = l
                    .env
                    .as_ref()
                    .map_or_else(String::new, |e| format!(" (environment `{e}`)"));
                let _ = writeln!(out, "    {}{origin}", shown(l));
            }
        }
        return Ok(out);
    }
    let parts = composed(&merged, &scope, env, &value);
    if !parts.is_empty() || hashed(&value) {
        let _ = writeln!(
            out,
            "  composed by mlship of these parts of the spec (matched by their text):"
        );
        for (p, is_name) in &parts {
            if *is_name {
                let _ = writeln!(out, "    {} {} (a name)", at(tree.span_of(p, true)), show(p));
            } else if let Some(l) = locate(&tree, &merged, env, p) {
                let origin = l
                    .env
                    .as_ref()
                    .map_or_else(String::new, |e| format!(" (environment `{e}`)"));
                let _ = writeln!(out, "    {}{origin}", shown(&l));
            }
        }
        if hashed(&value) {
            let _ = writeln!(
                out,
                "    and a hash of the named object's content (rule `content-names`: ConfigMaps, Jobs, run-once Workflows, Experiments and TrainJobs are named by what they hold, so a change makes a new object)"
            );
        }
        return Ok(out);
    }
    let _ = writeln!(
        out,
        "  derived by mlship: no spec value equals it and no rule of `explain` names the field (docs/cli.md, \"How it knows\"; docs/kubernetes.md says what mlship emits and why)"
    );
    Ok(out)
}

/// Say where a spec value was set, with the base value an override replaced.
fn say_set(out: &mut String, tree: &Node, env: &str, l: &Located, shown: &dyn Fn(&Located) -> String) {
    match &l.env {
        Some(e) => {
            let _ = writeln!(out, "  set by environment `{e}`: {}", shown(l));
            let base = Path(l.path.0[2..].to_vec());
            match tree.lookup(&base) {
                Some(n) => {
                    let b = Located {
                        path: base,
                        span: n.span,
                        value: n.to_json(),
                        env: None,
                    };
                    let _ = writeln!(out, "  over the base spec's: {}", shown(&b));
                }
                None => {
                    let _ = writeln!(out, "  the base spec does not set it");
                }
            }
        }
        None => {
            let _ = writeln!(out, "  set in the base spec: {}", shown(l));
            let _ = writeln!(out, "  environment `{env}` does not override it");
        }
    }
}

fn image_reference(
    mut out: String,
    tree: &Node,
    merged: &Node,
    env: &str,
    scope: &Scope,
    value: &Json,
    shown: &dyn Fn(&Located) -> String,
) -> String {
    let text = value.as_str().unwrap_or_default();
    let owner = scope.step.as_ref().or(scope.workload.as_ref());
    let mut parts: Vec<Path> = Vec::new();
    if let Some(img) = &scope.image {
        for key in ["prebuilt", "tag"] {
            parts.push(img.key(key));
        }
    }
    if let Some(o) = owner {
        parts.push(o.key("image"));
        parts.push(o.key("prebuilt"));
    }
    parts.push(Path::of(&["registry"]));
    parts.push(Path::of(&["tag"]));
    let found: Vec<Located> = parts
        .iter()
        .filter_map(|p| locate(tree, merged, env, p))
        .filter(|l| {
            l.value
                .as_str()
                .is_some_and(|s| !s.is_empty() && text.contains(s.trim_end_matches('/')))
        })
        .collect();
    let _ = writeln!(
        out,
        "  composed (rule `image-reference`): <registry>/<image>:<tag> for an image the spec builds, the reference itself for a prebuilt one (lower::images), from:"
    );
    for l in &found {
        let origin = l
            .env
            .as_ref()
            .map_or_else(String::new, |e| format!(" (environment `{e}`)"));
        let _ = writeln!(out, "    {}{origin}", shown(l));
    }
    out
}

/// The last patch of the spec that sets `path` of the object, with its path in the spec.
fn patch_for<'a>(merged: &'a Node, kind: &str, name: &str, env: &str, path: &Path) -> Option<(Path, &'a Node)> {
    let Some(Value::Seq(patches)) = merged.get("patches").map(|n| &n.value) else {
        return None;
    };
    let stable = crate::names::stable_name(kind, name);
    let mut found = None;
    for (i, p) in patches.iter().enumerate() {
        let s = |k: &str| match p.get(k).map(|n| &n.value) {
            Some(Value::Str(s)) => Some(s.as_str()),
            _ => None,
        };
        if s("kind") != Some(kind) || !(s("name") == Some(name) || s("name") == Some(stable.as_str())) {
            continue;
        }
        let envs = p.get("environments").map(|e| e.to_json());
        if let Some(Json::Array(list)) = &envs
            && !list.is_empty()
            && !list.iter().any(|e| e.as_str() == Some(env))
        {
            continue;
        }
        let Some(body) = p.get("patch") else { continue };
        let mut at = Path::of(&["patches"]).index(i).key("patch");
        let mut node = body;
        let mut ok = true;
        for seg in &path.0 {
            let next = match (seg, &node.value) {
                (Seg::Key(k), Value::Map(_)) => node.get(k),
                // A merge patch replaces a list whole: its items are the patch's.
                (Seg::Index(n), Value::Seq(items)) => items.get(*n),
                _ => None,
            };
            match next {
                Some(n) => {
                    at.0.push(seg.clone());
                    node = n;
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok && !matches!(node.value, Value::Null) {
            found = Some((at, node));
        }
    }
    found
}

/// Normalized for comparing a spec key with a rendered key.
fn norm(k: &str) -> String {
    k.chars()
        .filter(char::is_ascii_alphanumeric)
        .flat_map(|c| c.to_lowercase())
        .collect()
}

fn similar(spec_key: &str, field_key: &str) -> bool {
    let (a, b) = (norm(spec_key), norm(field_key));
    !a.is_empty() && (a == b || (a.len() >= 3 && b.contains(&a)) || (b.len() >= 3 && a.contains(&b)))
}

/// Whether a spec value is the rendered value: the same, the same text, the same quantity,
/// or a duration rendered in seconds.
fn same(rendered: &Json, spec: &Json, spec_key: &str) -> bool {
    if rendered == spec {
        return true;
    }
    match (rendered, spec) {
        (Json::Number(n), Json::String(s))
            if spec_key.contains("timeout") && crate::units::parse_duration(s).is_ok_and(|d| n.as_u64() == Some(d)) =>
        {
            true
        }
        (Json::String(r), Json::Number(n)) | (Json::Number(n), Json::String(r)) => n.to_string() == *r,
        (Json::String(r), Json::String(s)) => {
            matches!((crate::units::Quantity::parse(r), crate::units::Quantity::parse(s)), (Ok(a), Ok(b)) if a.canonical() == b.canonical())
        }
        _ => false,
    }
}

/// Whether a match by value means anything: a short number or a boolean equals many spec
/// values by chance, so it counts only when the keys are alike.
fn significant(value: &Json, spec_key: &str, field_key: &str) -> bool {
    match value {
        Json::Bool(_) | Json::Null => similar(spec_key, field_key),
        Json::Number(n) => similar(spec_key, field_key) || n.as_f64().is_some_and(|f| f.abs() >= 100.0),
        Json::String(s) => s.chars().count() >= 2 || similar(spec_key, field_key),
        _ => true,
    }
}

/// The spec paths searched for a field's value, nearest the object first.
fn tiers(merged: &Node, scope: &Scope) -> Vec<Vec<Path>> {
    let mut tiers = Vec::new();
    for p in [&scope.step, &scope.workload, &scope.image].into_iter().flatten() {
        tiers.push(vec![p.clone()]);
    }
    // The spec's own values, outside the workloads and the escape hatches.
    let rest: Vec<Path> = merged
        .entries()
        .iter()
        .filter(|e| {
            !matches!(
                e.key.as_str(),
                "services" | "pipelines" | "notebooks" | "images" | "patches" | "waivers" | "manifests" | "apiVersion"
            )
        })
        .map(|e| Path::of(&[e.key.as_str()]))
        .collect();
    tiers.push(rest);
    tiers
}

fn walk<'a>(node: &'a Node, at: Path, out: &mut Vec<(Path, &'a Node)>) {
    out.push((at.clone(), node));
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                walk(&e.value, at.key(&e.key), out);
            }
        }
        Value::Seq(items) => {
            for (i, n) in items.iter().enumerate() {
                walk(n, at.index(i), out);
            }
        }
        _ => {}
    }
}

fn last_key(path: &Path) -> &str {
    path.0
        .iter()
        .rev()
        .find_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index(_) => None,
        })
        .unwrap_or_default()
}

/// The spec paths (in the environment's merged spec) whose values equal the rendered value,
/// from the nearest tier that has any; of them, those whose keys are like the field's.
fn by_value(merged: &Node, scope: &Scope, field: &Path, value: &Json) -> Vec<Path> {
    let field_key = last_key(field);
    for tier in tiers(merged, scope) {
        let mut nodes = Vec::new();
        for p in &tier {
            if let Some(n) = merged.lookup(p) {
                walk(n, p.clone(), &mut nodes);
            }
        }
        let hits: Vec<(Path, bool)> = nodes
            .into_iter()
            .filter(|(p, n)| {
                let key = last_key(p);
                let v = n.to_json();
                // A list or mapping matches only whole.
                (value.is_array() || value.is_object()) == (v.is_array() || v.is_object())
                    && same(value, &v, key)
                    && significant(value, key, field_key)
            })
            .map(|(p, _)| {
                let alike = similar(last_key(&p), field_key);
                (p, alike)
            })
            .collect();
        if hits.is_empty() {
            continue;
        }
        let alike: Vec<Path> = hits.iter().filter(|(_, a)| *a).map(|(p, _)| p.clone()).collect();
        return if alike.is_empty() {
            hits.into_iter().map(|(p, _)| p).take(4).collect()
        } else {
            alike.into_iter().take(4).collect()
        };
    }
    Vec::new()
}

/// The strings and names of the object's own workload and of the spec's top level that a
/// rendered string is made of, each whole between separators (`-`, `/`, `:`, `.`, `_`, `@`).
fn composed(merged: &Node, scope: &Scope, env: &str, value: &Json) -> Vec<(Path, bool)> {
    let Some(text) = value.as_str() else { return Vec::new() };
    // Names (keys) the objects' names are made of: the workload's, the step's, and those of
    // the volumes and secrets it uses.
    let mut names: Vec<Path> = [&scope.step, &scope.workload].into_iter().flatten().cloned().collect();
    for section in ["volumes", "secrets"] {
        for e in merged.get(section).map(Node::entries).unwrap_or_default() {
            names.push(Path::of(&[section, e.key.as_str()]));
        }
    }
    let mut nodes = Vec::new();
    for p in [&scope.step, &scope.workload].into_iter().flatten() {
        if let Some(n) = merged.lookup(p) {
            walk(n, p.clone(), &mut nodes);
        }
    }
    for p in tiers(merged, scope).into_iter().last().unwrap_or_default() {
        if let Some(n) = merged.lookup(&p) {
            walk(n, p, &mut nodes);
        }
    }
    let sep = |c: Option<char>| c.is_none_or(|c| "-/:._@ =".contains(c));
    // Each spec string where it stands whole in the text; the longest first, and none inside
    // another (`fraud` inside `fraud-detection`).
    let mut hits: Vec<(usize, usize, Path, bool)> = Vec::new();
    let strings = nodes
        .into_iter()
        .filter_map(|(p, n)| match &n.value {
            Value::Str(s) => Some((p, s.clone(), false)),
            _ => None,
        })
        .chain(names.into_iter().map(|p| {
            let k = last_key(&p).to_string();
            (p, k, true)
        }));
    for (p, s, is_name) in strings {
        let s = s.as_str();
        // The environment's name in a path is its folder, not a value that happens to equal it.
        if s.chars().count() < if is_name { 2 } else { 3 } || s == text || s == env {
            continue;
        }
        let at = text
            .match_indices(s)
            .find(|(i, _)| sep(text[..*i].chars().next_back()) && sep(text[i + s.len()..].chars().next()));
        if let Some((i, _)) = at {
            hits.push((i, i + s.len(), p, is_name));
        }
    }
    // Of equal ones, a name first: a step's name is its own before it is another's `needs`.
    hits.sort_by(|a, b| (b.1 - b.0).cmp(&(a.1 - a.0)).then(b.3.cmp(&a.3)).then(a.0.cmp(&b.0)));
    let mut kept: Vec<(usize, usize, Path, bool)> = Vec::new();
    for h in hits {
        if !kept.iter().any(|k| h.0 < k.1 && k.0 < h.1) {
            kept.push(h);
        }
    }
    kept.sort_by_key(|k| k.0);
    kept.into_iter().map(|k| (k.2, k.3)).collect()
}

/// A name that ends in a content hash (`-0d2bdb29`).
fn hashed(value: &Json) -> bool {
    value
        .as_str()
        .and_then(|s| s.rsplit_once('-'))
        .is_some_and(|(_, h)| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;
    use crate::project::MemProject;

    #[test]
    fn fields_parse_with_indices_selections_and_quoted_keys() {
        assert_eq!(
            parse_field("spec.containers[0].resources").unwrap(),
            vec![
                Step::Key("spec".into()),
                Step::Key("containers".into()),
                Step::Index(0),
                Step::Key("resources".into())
            ]
        );
        assert_eq!(
            parse_field("containers[name=server].image").unwrap(),
            vec![
                Step::Key("containers".into()),
                Step::Select("name".into(), "server".into()),
                Step::Key("image".into())
            ]
        );
        assert_eq!(
            parse_field("metadata.labels[\"app.kubernetes.io/name\"]").unwrap(),
            vec![
                Step::Key("metadata".into()),
                Step::Key("labels".into()),
                Step::Key("app.kubernetes.io/name".into())
            ]
        );
        for bad in ["", "a.", "a..b", "a[", "a[x y]"] {
            assert!(parse_field(bad).is_err(), "{bad}");
        }
        let p = Path::of(&["metadata", "labels", "app.kubernetes.io/name"]);
        assert_eq!(show(&p), "metadata.labels[\"app.kubernetes.io/name\"]");
    }

    #[test]
    fn rules_match_suffixes_and_anchored_paths() {
        let p = |s: &str| {
            let mut path = Path::root();
            for step in parse_field(s).unwrap() {
                path = match step {
                    Step::Key(k) => path.key(&k),
                    Step::Index(i) => path.index(i),
                    Step::Select(..) => unreachable!(),
                };
            }
            path
        };
        let rule = |s: &str| rule_for(&p(s)).map(|r| (r.rule, r.spec));
        assert_eq!(
            rule("spec.template.spec.containers[0].livenessProbe.periodSeconds"),
            Some(("probe-defaults", &["health.period"][..]))
        );
        assert_eq!(
            rule("spec.template.spec.containers[0].readinessProbe.httpGet.port"),
            Some(("probe-defaults", &["health.port"][..]))
        );
        assert_eq!(rule("spec.replicas"), Some(("replicas", &["replicas"][..])));
        assert_eq!(rule("spec.template.spec.replicas"), None);
        assert_eq!(
            rule("spec.template.spec.containers[0].resources.limits[\"nvidia.com/gpu\"]"),
            Some(("resource-defaults", &["gpu"][..]))
        );
        assert_eq!(rule("spec.template.spec.priorityClassName"), None);
    }

    #[test]
    fn values_match_as_text_quantity_and_duration() {
        assert!(same(&Json::from("8080"), &Json::from(8080), "port"));
        assert!(same(&Json::from("1"), &Json::from("1000m"), "cpu"));
        assert!(same(&Json::from(14400), &Json::from("4h"), "timeout"));
        assert!(!same(&Json::from(14400), &Json::from("4h"), "retries"));
        assert!(!significant(&Json::from(2), "min", "timeoutSeconds"));
        assert!(significant(&Json::from(30), "max", "maxReplicas"));
    }

    const SPEC: &str = "apiVersion: mlship/v1\nproject: demo\nregistry: r.io/demo\ntag: \"1\"\n\
images:\n  app: {stack: fastapi}\nservices:\n  api:\n    image: app\n    port: 8080\n    memory: 1Gi\n    autoscale: {min: 2, max: 5}\n\
environments:\n  dev: {namespace: demo-dev}\n  prod:\n    services:\n      api:\n        memory: 2Gi\n\
patches:\n  - kind: Deployment\n    name: demo-api\n    environments: [prod]\n    patch: {spec: {template: {spec: {priorityClassName: high}}}}\n";

    /// prod deploys a pinned build of the image (a production environment must).
    const LOCK: &str = "version: 1\nenvironments:\n  prod:\n    app: r.io/demo/app:1@sha256:\
        4b825dc642cb6eb9a060e54bf8d69288fbee4904b5f1a3e0f8c2d1e0a9b8c7d6\n";

    fn run(env: Option<&str>, file: &str, field: &str) -> Result<String, String> {
        let project = MemProject([(crate::imagelock::FILE.to_string(), LOCK.as_bytes().to_vec())].into());
        let c = crate::compile("mlship.yaml", SPEC.as_bytes(), &project);
        let output = c.output.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
        let lock = crate::imagelock::parse(LOCK).unwrap();
        explain(&c.file, &lock, &output, env, file, field)
    }

    #[test]
    fn a_value_is_traced_to_the_base_an_override_a_default_or_a_patch() {
        let mem = "spec.template.spec.containers[0].resources.limits.memory";
        let dev = run(None, "envs/dev/deployment-demo-api.yaml", mem).unwrap();
        assert!(
            dev.contains("set in the base spec: mlship.yaml:11:13 services.api.memory: 1Gi"),
            "{dev}"
        );
        let prod = run(Some("prod"), "deployment-demo-api.yaml", mem).unwrap();
        assert!(
            prod.contains("set by environment `prod`: mlship.yaml:18:17 environments.prod.services.api.memory: 2Gi"),
            "{prod}"
        );
        assert!(
            prod.contains("over the base spec's: mlship.yaml:11:13 services.api.memory: 1Gi"),
            "{prod}"
        );
        let probe = run(
            Some("prod"),
            "deployment-demo-api.yaml",
            "spec.template.spec.containers[0].livenessProbe.periodSeconds",
        )
        .unwrap();
        assert!(probe.contains("default (rule `probe-defaults`)"), "{probe}");
        assert!(
            probe.contains("to change it: set `services.api.health.period`"),
            "{probe}"
        );
        let patch = run(
            Some("prod"),
            "deployment-demo-api.yaml",
            "spec.template.spec.priorityClassName",
        )
        .unwrap();
        assert!(patch.contains("set by a patch: mlship.yaml:23:"), "{patch}");
        let image = "spec.template.spec.containers[0].image";
        let pinned = run(Some("prod"), "deployment-demo-api.yaml", image).unwrap();
        assert!(
            pinned
                .contains("pinned by the image lock (rule `image-lock`): images.lock.yaml:4:10 environments.prod.app"),
            "{pinned}"
        );
        let tagged = run(Some("dev"), "deployment-demo-api.yaml", image).unwrap();
        assert!(tagged.contains("composed (rule `image-reference`)"), "{tagged}");
        let max = run(
            Some("prod"),
            "deployment-demo-api.yaml",
            "spec.template.spec.containers[name=server].ports[0].containerPort",
        );
        assert!(max.unwrap().contains("services.api.port: 8080"));
    }

    #[test]
    fn errors_name_the_fix() {
        let e = run(
            Some("prod"),
            "deployment-demo-api.yaml",
            "spec.template.spec.containers[0].resource",
        )
        .unwrap_err();
        assert!(
            e.contains("has no field `resource`") && e.contains("did you mean `resources`?"),
            "{e}"
        );
        let e = run(Some("staging"), "deployment-demo-api.yaml", "spec").unwrap_err();
        assert!(e.contains("no environment `staging`"), "{e}");
        let e = run(Some("prod"), "deployment-demo-apu.yaml", "spec").unwrap_err();
        assert!(e.contains("did you mean `envs/prod/deployment-demo-api.yaml`?"), "{e}");
        let e = run(None, "deployment-demo-api.yaml", "spec").unwrap_err();
        assert!(
            e.contains(
                "a file of several environments: envs/dev/deployment-demo-api.yaml, envs/prod/deployment-demo-api.yaml"
            ),
            "{e}"
        );
        let e = run(Some("dev"), "envs/prod/deployment-demo-api.yaml", "spec").unwrap_err();
        assert!(e.contains("not `dev`"), "{e}");
        // The patch is for prod only.
        let e = run(
            Some("dev"),
            "deployment-demo-api.yaml",
            "spec.template.spec.priorityClassName",
        )
        .unwrap_err();
        assert!(e.contains("has no field `priorityClassName`"), "{e}");
    }

    /// Every leaf of objects of examples/fraud-detection has an answer, and the answer for
    /// mlship.kdl is the one for mlship.yaml but for the spec's name and its lines and columns.
    #[test]
    fn every_field_of_the_example_is_explained_the_same_in_both_syntaxes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fraud-detection");
        let project = crate::project::DirProject::new(&dir);
        let compiled: Vec<_> = ["mlship.yaml", "mlship.kdl"]
            .iter()
            .map(|name| {
                let bytes = std::fs::read(dir.join(name)).unwrap();
                let c = crate::compile(name, &bytes, &project);
                let out = c.output.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
                (c.file, out)
            })
            .collect();
        let strip = |text: &str, spec: &str| {
            let mut out = String::new();
            let mut rest = text;
            while let Some(at) = rest.find(spec) {
                out.push_str(&rest[..at]);
                rest = &rest[at + spec.len()..];
                for _ in 0..2 {
                    if let Some(r) = rest.strip_prefix(':') {
                        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
                    }
                }
            }
            out.push_str(rest);
            out
        };
        let mut count = 0;
        for (name, bytes) in &compiled[0].1.files {
            // A service's, a pipeline's and the GitOps engine's objects (every object of both
            // environments takes a minute in a debug build).
            let wanted = [
                "envs/prod/deployment-",
                "envs/prod/horizontalpodautoscaler-",
                "envs/prod/workflowtemplate-",
                "envs/dev/configmap-",
                "gitops/dev.yaml",
            ];
            if !wanted.iter().any(|w| name.starts_with(w)) {
                continue;
            }
            let text = String::from_utf8_lossy(bytes);
            let docs = text.split("\n---\n").count();
            for n in 0..docs {
                let file = format!("{name}#{n}");
                let doc = pick_doc(name, &text, Some(&n.to_string())).unwrap();
                let mut leaves = Vec::new();
                walk(&doc.node, Path::root(), &mut leaves);
                for (path, node) in leaves {
                    if matches!(node.value, Value::Map(_) | Value::Seq(_)) || path.0.is_empty() {
                        continue;
                    }
                    let field = show(&path);
                    let got: Vec<String> = compiled
                        .iter()
                        .map(|(spec, out)| {
                            let r = explain(spec, &Lock::default(), out, None, &file, &field)
                                .unwrap_or_else(|e| panic!("{file} {field}: {e}"));
                            strip(&r, &spec.name)
                        })
                        .collect();
                    assert_eq!(got[0], got[1], "{file} {field}");
                    count += 1;
                }
            }
        }
        assert!(count > 300, "{count} fields");
    }
}
