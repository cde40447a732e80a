//! Random valid specs for the property tests, and writers for both syntaxes.
//!
//! A spec is drawn as a blueprint (names, choices, and references as indexes, so proptest
//! can shrink it) and built into a `serde_json::Value` that follows `spec.rs`. The writers
//! turn that value into YAML (through `yamlout`, which quotes safely) or into KDL by the
//! generic rules of `syntax/kdl.rs`, with seeded choices between the equivalent KDL forms,
//! and optionally with comments and with map keys shuffled at every level.

#![allow(dead_code)]

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

pub const STACKS: &[&str] = &[
    "python",
    "pytorch",
    "tensorflow",
    "sklearn",
    "xgboost",
    "huggingface",
    "fastapi",
];
/// Stacks whose default framework release has wheels for CUDA 12.4.
const CUDA_STACKS: &[&str] = &["pytorch", "huggingface"];
/// Pythons every stack and its default framework release support.
const PYTHONS: &[&str] = &["3.10", "3.11", "3.12"];

/// Strings a YAML reader, a shell, a template engine or a KDL reader could take for
/// something else.
pub const SPECIALS: &[&str] = &[
    "on",
    "off",
    "yes",
    "no",
    "y",
    "n",
    "Y",
    "NO",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "0755",
    "0o755",
    "0x1F",
    "1e3",
    "1E3",
    "1_000",
    "12:30",
    "12:30:45",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    ".inf",
    "-.inf",
    ".nan",
    "<<",
    "=",
    "",
    " ",
    " leading",
    "trailing ",
    "two  spaces",
    "it's",
    "say \"hi\"",
    "back\\slash",
    "\\n",
    "$(rm -rf /)",
    "`id`",
    "${HOME}",
    "$HOME",
    "{{ x }}",
    "{% raw %}",
    "{# c #}",
    "# not a comment",
    "a #b",
    "a# b",
    "key: value",
    "key:",
    ": x",
    "- item",
    "-",
    "--",
    "---",
    "...",
    "[a, b]",
    "{a: b}",
    "? q",
    "| block",
    "> folded",
    "&anchor",
    "*alias",
    "!tag",
    "!!str x",
    "%YAML 1.1",
    "@at",
    "é",
    "Ωμέγα",
    "日本語",
    "🚀 emoji",
    "--flag=1",
    "a=b",
    "x;y",
    "/path/to",
    "http://example.com/a?b=c#d",
    "0",
    "-1",
    "+1",
    "1.0",
    "0.8",
    ".5",
    ":",
    "::",
    "'",
    "\"",
    "\\",
    "%",
    "`",
    ",",
    "#",
    "/*",
    "//",
    "/-",
    "#null",
    "#true",
    "r#\"raw\"#",
    "\"\"\"",
    "a\\\"b",
    "tab\u{a0}nbsp",
    "zero\u{200b}width",
];

/// Strings that must never reach the output unescaped: control characters and line
/// separators, for the injection property.
pub const HOSTILE: &[&str] = &[
    "x\nkind: Secret",
    "\n---\nkind: Secret",
    "x\n---\napiVersion: v1\nkind: Secret",
    "x\r\nkind: Secret",
    "x\rkind: Secret",
    "x\u{2028}kind: Secret",
    "x\u{2029}kind: Secret",
    "x\u{85}kind: Secret",
    "\u{feff}kind: Secret",
    "tab\there",
    "nul\u{0}byte",
    "bell\u{7}",
    "esc\u{1b}[31mred",
    "del\u{7f}",
    "vt\u{b}ff\u{c}",
    "\u{200e}ltr\u{202e}rtl\u{2066}",
    "line\n",
    "\n",
    "a\\\nb",
    "RUN rm -rf /\nRUN x",
    "x\"\nkind: Secret\n\"",
];

fn lit<T: Clone + std::fmt::Debug + 'static>(s: &[T]) -> impl Strategy<Value = T> + use<T> {
    select(s.to_vec())
}

/// Any printable string: no control characters and no line separators.
pub fn printable() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => lit(SPECIALS).prop_map(String::from),
        3 => "[ -~]{0,16}",
        2 => "\\PC{0,12}",
        1 => (lit(SPECIALS), lit(SPECIALS), "[ -~]{0,4}").prop_map(|(a, b, c)| format!("{a}{c}{b}")),
    ]
    .prop_filter("printable", |s| mlship::names::is_plain_text(s))
}

/// A printable value that plain config may hold (the credential check refuses the rest).
pub fn config_value() -> impl Strategy<Value = String> {
    printable().prop_filter("no credential", |s| {
        mlship::secrets::looks_like_credential("VALUE", s).is_none()
    })
}

/// Any string at all, control characters included, for the injection property.
pub fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => printable(),
        3 => lit(HOSTILE).prop_map(String::from),
        2 => "(?s).{0,16}",
        2 => (lit(HOSTILE), lit(SPECIALS)).prop_map(|(a, b)| format!("{b}{a}{b}")),
    ]
}

/// An environment variable name that does not look like a credential's.
pub fn env_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Z_][A-Z0-9_]{0,10}",
        1 => "[a-z_][a-zA-Z0-9_]{0,8}",
        1 => lit(&["on", "no", "y", "n", "true", "null", "NULL", "True", "yes", "off", "inf", "nan", "_"])
            .prop_map(String::from),
    ]
    .prop_filter("not a credential name", |k| {
        mlship::secrets::looks_like_credential(k, "x").is_none()
    })
}

const NAME_POOL: &[&str] = &[
    "train", "serve", "api", "data", "model", "prep", "eval", "web", "batch", "x", "a-b", "db",
];

/// A DNS label of at most 8 characters. Often one of a few common names, so that names
/// meet across sections (an image, a volume, a secret and a service all named `train`;
/// a pipeline and a service may not share one, `build` drops such a service).
pub fn name8() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => lit(&["train", "serve", "api", "x"]).prop_map(String::from),
        1 => lit(NAME_POOL).prop_map(String::from),
        2 => "[a-z][a-z0-9-]{0,6}[a-z0-9]",
        1 => "[a-z0-9]",
    ]
}

/// A project name: a DNS label starting with a letter, at most 12 characters.
pub fn project_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]([a-z0-9-]{0,10}[a-z0-9])?",
        lit(&["fraud-detection", "p"]).prop_map(|s| s[..s.len().min(12)].trim_end_matches('-').to_string()),
    ]
}

fn tag() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_][a-z0-9._-]{0,9}".prop_filter("not latest", |t| t != "latest"),
        lit(&["1.4.2", "dev", "v1", "2024.01.15", "sha-abc123"]).prop_map(String::from),
    ]
}

// ---------------------------------------------------------------------------------------
// Blueprints

#[derive(Debug, Clone)]
pub struct SpecBp {
    pub project: String,
    pub namespace: bool,
    pub registry: &'static str,
    pub tag: Option<String>,
    pub kubernetes: Option<&'static str>,
    pub images: Vec<ImageBp>,
    pub config: Vec<(String, String)>,
    pub secrets: Vec<SecretBp>,
    pub volumes: Vec<VolumeBp>,
    pub pipelines: Vec<PipelineBp>,
    pub services: Vec<ServiceBp>,
    pub envs: Vec<EnvBp>,
    pub gitops: Option<GitopsBp>,
}

#[derive(Debug, Clone)]
pub struct ImageBp {
    pub name: String,
    pub stack: &'static str,
    pub cuda: bool,
    pub python: Option<&'static str>,
    pub requirements: bool,
    pub copy: bool,
    pub system_packages: Vec<&'static str>,
    pub command: Vec<String>,
    pub env: Vec<(String, String)>,
    pub digest: Option<String>,
    pub index_url: bool,
}

#[derive(Debug, Clone)]
pub struct SecretBp {
    pub name: String,
    /// A sealed-secrets manifest in the project instead of an external-secrets reference.
    pub sealed: bool,
    pub store: String,
    pub store_kind: Option<&'static str>,
    pub keys: Vec<(String, String)>,
    pub mount: bool,
}

#[derive(Debug, Clone)]
pub struct VolumeBp {
    pub name: String,
    pub size: Value,
    pub access: Option<&'static str>,
    pub storage_class: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct ResBp {
    pub cpu: Option<usize>,
    pub cpu_limit: Option<usize>,
    pub memory: Option<&'static str>,
    pub gpu: Option<u32>,
    pub node_selector: Vec<(&'static str, &'static str)>,
    pub tolerations: Vec<(&'static str, Option<&'static str>, Option<&'static str>)>,
}

#[derive(Debug, Clone)]
pub struct StepBp {
    pub name: String,
    pub image: usize,
    pub run: Vec<String>,
    pub needs: Vec<usize>,
    pub retries: Option<u32>,
    pub timeout: Option<&'static str>,
    pub mounts: Vec<usize>,
    pub env: Vec<(String, String)>,
    pub secrets: Vec<usize>,
    pub res: ResBp,
}

#[derive(Debug, Clone)]
pub struct PipelineBp {
    pub name: String,
    pub schedule: Option<&'static str>,
    pub steps: Vec<StepBp>,
}

#[derive(Debug, Clone)]
pub struct ServiceBp {
    pub name: String,
    pub image: usize,
    pub port: u32,
    pub command: Vec<String>,
    pub health: Option<(bool, bool, Option<u32>)>,
    pub replicas: Option<u32>,
    pub autoscale: Option<(u32, u32, Option<u32>, Option<u32>)>,
    pub expose: Option<ExposeBp>,
    pub mounts: Vec<usize>,
    pub env: Vec<(String, String)>,
    pub secrets: Vec<usize>,
    pub res: ResBp,
}

#[derive(Debug, Clone)]
pub struct ExposeBp {
    pub port: Option<u32>,
    pub host: bool,
    pub path: Option<&'static str>,
    pub ingress_class: Option<&'static str>,
    pub tls: bool,
}

#[derive(Debug, Clone)]
pub struct EnvBp {
    pub name: String,
    pub namespace: bool,
    pub registry: bool,
    pub tag: Option<String>,
    /// (base key index, new key, value): a new key adds, else the base key is set or removed.
    pub config: Vec<(usize, Option<String>, Option<String>)>,
    pub digests: Vec<(usize, String)>,
    pub stores: Vec<usize>,
    pub sizes: Vec<usize>,
    pub pipelines: Vec<(usize, u8)>,
    pub services: Vec<(usize, u8, u32)>,
}

#[derive(Debug, Clone)]
pub struct GitopsBp {
    pub engine: &'static str,
    pub path: bool,
    pub revision: Option<&'static str>,
    pub namespace: Option<&'static str>,
}

fn pairs<K: Strategy, V: Strategy>(k: K, v: V, max: usize) -> impl Strategy<Value = Vec<(K::Value, V::Value)>> {
    vec((k, v), 0..=max)
}

fn image() -> impl Strategy<Value = ImageBp> {
    (
        name8(),
        lit(STACKS),
        any::<bool>(),
        option::of(lit(PYTHONS)),
        (any::<bool>(), any::<bool>()),
        vec(lit(&["libgomp1", "curl", "libpq5=15.8-0+deb12u1", "git"]), 0..=2),
        vec(printable(), 0..=3),
        pairs(env_key(), config_value(), 2),
        option::weighted(0.2, "[0-9a-f]{64}"),
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            |(name, stack, cuda, python, (requirements, copy), system_packages, command, env, digest, index_url)| {
                ImageBp {
                    name,
                    stack,
                    cuda,
                    python,
                    requirements,
                    copy,
                    system_packages,
                    command,
                    env,
                    digest,
                    index_url,
                }
            },
        )
}

fn secret() -> impl Strategy<Value = SecretBp> {
    (
        name8(),
        name8(),
        option::of(lit(&["SecretStore", "ClusterSecretStore"])),
        vec(
            ("[A-Z_][A-Z0-9_]{0,8}", "[a-z]{1,6}/[a-z0-9-]{1,6}(#[a-z_]{1,6})?"),
            1..=3,
        ),
        proptest::bool::weighted(0.3),
        proptest::bool::weighted(0.3),
    )
        .prop_map(|(name, store, store_kind, keys, mount, sealed)| SecretBp {
            name,
            sealed,
            store,
            store_kind,
            keys,
            mount,
        })
}

fn volume() -> impl Strategy<Value = VolumeBp> {
    (
        name8(),
        prop_oneof![
            lit(&["1Gi", "50Gi", "500Mi", "1G", "2Ti", "100M"]).prop_map(Value::from),
            (1u64..100).prop_map(|n| json!(n * 1024)),
        ],
        option::of(lit(&[
            "ReadWriteOnce",
            "ReadWriteMany",
            "ReadOnlyMany",
            "ReadWriteOncePod",
        ])),
        option::of(lit(&["standard", "fast-ssd", "gp3"])),
    )
        .prop_map(|(name, size, access, storage_class)| VolumeBp {
            name,
            size,
            access,
            storage_class,
        })
}

/// CPU quantities in increasing order (strings and numbers), so a limit can be drawn above
/// a request.
fn cpus() -> Vec<Value> {
    vec![
        json!("100m"),
        json!("250m"),
        json!(0.5),
        json!("500m"),
        json!(1),
        json!("1"),
        json!(1.5),
        json!("1500m"),
        json!(2),
        json!("2"),
        json!("4"),
        json!(8),
    ]
}

fn res() -> impl Strategy<Value = ResBp> {
    (
        option::of(0..12usize),
        option::weighted(0.3, 0..4usize),
        option::of(lit(&["256Mi", "512Mi", "1Gi", "8Gi", "1G", "1.5Gi"])),
        option::weighted(0.3, 1..=2u32),
        vec(
            lit(&[
                ("kubernetes.io/arch", "amd64"),
                ("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-80GB"),
                ("pool", "gpu"),
                ("on", "yes"),
            ]),
            0..=2,
        ),
        vec(
            lit(&[
                ("nvidia.com/gpu", None, Some("NoSchedule")),
                ("gpu", Some("true"), Some("NoExecute")),
                ("dedicated", Some("ml"), None),
                ("spot", None, Some("PreferNoSchedule")),
            ]),
            0..=2,
        ),
    )
        .prop_map(|(cpu, cpu_limit, memory, gpu, node_selector, tolerations)| ResBp {
            cpu,
            cpu_limit,
            memory,
            gpu,
            node_selector,
            tolerations,
        })
}

fn step() -> impl Strategy<Value = StepBp> {
    (
        name8(),
        any::<usize>(),
        vec(printable(), 1..=3),
        vec(any::<usize>(), 0..=2),
        option::of(0..5u32),
        option::of(lit(&["4h", "30m", "1h30m", "90s", "2h"])),
        vec(any::<usize>(), 0..=2),
        pairs(env_key(), config_value(), 2),
        vec(any::<usize>(), 0..=2),
        res(),
    )
        .prop_map(
            |(name, image, run, needs, retries, timeout, mounts, env, secrets, res)| StepBp {
                name,
                image,
                run,
                needs,
                retries,
                timeout,
                mounts,
                env,
                secrets,
                res,
            },
        )
}

fn pipeline() -> impl Strategy<Value = PipelineBp> {
    (
        name8(),
        option::of(lit(&[
            "0 3 * * 0",
            "*/15 * * * *",
            "@daily",
            "@hourly",
            "30 2 1 * *",
            "0 0 * * 1-5",
        ])),
        vec(step(), 1..=4),
    )
        .prop_map(|(name, schedule, steps)| PipelineBp { name, schedule, steps })
}

fn service() -> impl Strategy<Value = ServiceBp> {
    (
        name8(),
        any::<usize>(),
        prop_oneof![lit(&[8080u32, 8000, 80, 443, 9000]), 1024..65535u32],
        vec(printable(), 0..=3),
        option::of((any::<bool>(), any::<bool>(), option::of(0..120u32))),
        option::of(1..5u32),
        option::of(
            (1..4u32, 0..8u32, option::of(50..90u32), option::of(50..90u32))
                .prop_map(|(min, extra, cpu, memory)| (min, min + extra, cpu, memory)),
        ),
        option::of(
            (
                option::of(lit(&[80u32, 8080, 443])),
                any::<bool>(),
                option::of(lit(&["/", "/api", "/v1/predict"])),
                option::of(lit(&["nginx", "traefik"])),
                any::<bool>(),
            )
                .prop_map(|(port, host, path, ingress_class, tls)| ExposeBp {
                    port,
                    host,
                    path,
                    ingress_class,
                    tls,
                }),
        ),
        (
            vec(any::<usize>(), 0..=2),
            pairs(env_key(), config_value(), 2),
            vec(any::<usize>(), 0..=2),
        ),
        res(),
    )
        .prop_map(
            |(name, image, port, command, health, replicas, autoscale, expose, (mounts, env, secrets), res)| {
                ServiceBp {
                    name,
                    image,
                    port,
                    command,
                    health,
                    replicas,
                    autoscale,
                    expose,
                    mounts,
                    env,
                    secrets,
                    res,
                }
            },
        )
}

fn env() -> impl Strategy<Value = EnvBp> {
    (
        prop_oneof![
            lit(&["dev", "staging", "prod", "qa", "e2e", "canary"]).prop_map(String::from),
            name8()
        ],
        any::<bool>(),
        proptest::bool::weighted(0.2),
        option::of(tag()),
        vec(
            (
                any::<usize>(),
                option::weighted(0.3, env_key()),
                option::weighted(0.8, config_value()),
            ),
            0..=3,
        ),
        vec((any::<usize>(), "[0-9a-f]{64}"), 0..=1),
        vec(any::<usize>(), 0..=1),
        vec(any::<usize>(), 0..=1),
        vec((any::<usize>(), 0..4u8), 0..=2),
        vec((any::<usize>(), 0..7u8, 1..6u32), 0..=2),
    )
        .prop_map(
            |(name, namespace, registry, tag, config, digests, stores, sizes, pipelines, services)| EnvBp {
                name,
                namespace,
                registry,
                tag,
                config,
                digests,
                stores,
                sizes,
                pipelines,
                services,
            },
        )
}

pub fn spec_bp() -> impl Strategy<Value = SpecBp> {
    (
        (
            project_name(),
            any::<bool>(),
            lit(&[
                "ghcr.io/acme",
                "registry.example.com:5000/ml/team",
                "localhost:5000/x",
                "docker.io/org",
            ]),
            option::of(tag()),
            option::of(lit(&["1.33", "1.34", "1.35", "1.36", "1.37"])),
        ),
        vec(image(), 1..=3),
        pairs(env_key(), config_value(), 5),
        vec(secret(), 0..=2),
        vec(volume(), 0..=2),
        vec(pipeline(), 0..=2),
        vec(service(), 0..=2),
        vec(env(), 0..=3),
        option::of(
            (
                lit(&["argocd", "flux"]),
                any::<bool>(),
                option::of(lit(&["main", "v1.2.0", "release/1.x"])),
                option::of(lit(&["argocd", "flux-system", "gitops"])),
            )
                .prop_map(|(engine, path, revision, namespace)| GitopsBp {
                    engine,
                    path,
                    revision,
                    namespace,
                }),
        ),
    )
        .prop_map(
            |(
                (project, namespace, registry, tag, kubernetes),
                images,
                config,
                secrets,
                volumes,
                pipelines,
                services,
                envs,
                gitops,
            )| {
                SpecBp {
                    project,
                    namespace,
                    registry,
                    tag,
                    kubernetes,
                    images,
                    config,
                    secrets,
                    volumes,
                    pipelines,
                    services,
                    envs,
                    gitops,
                }
            },
        )
}

/// `name` made `len` characters long (at most 63) when that is longer, still a DNS label.
fn lengthen(name: &mut String, len: usize) {
    let len = len.min(63);
    if len > name.len() + 1 {
        name.push('-');
        while name.len() < len {
            name.push('z');
        }
    }
}

/// Specs whose names may be long (up to 63 characters): the project, and the first image,
/// secret, volume, pipeline, step, service and environment. Such specs are valid or fail
/// only on name rules.
pub fn long_names_bp() -> impl Strategy<Value = SpecBp> {
    // Lengths near the limits are the interesting ones.
    (
        spec_bp(),
        prop_oneof![2 => Just(0usize), 2 => 13..=30usize, 1 => 31..=63usize],
        vec(prop_oneof![3 => Just(0usize), 2 => 48..=63usize, 1 => 1..=47usize], 8),
    )
        .prop_map(|(mut bp, project, extra)| {
            lengthen(&mut bp.project, project);
            if let Some(i) = bp.images.first_mut() {
                lengthen(&mut i.name, extra[1]);
            }
            if let Some(x) = bp.secrets.first_mut() {
                lengthen(&mut x.name, extra[2]);
            }
            if let Some(v) = bp.volumes.first_mut() {
                lengthen(&mut v.name, extra[3]);
            }
            if let Some(p) = bp.pipelines.first_mut() {
                lengthen(&mut p.name, extra[4]);
                lengthen(&mut p.steps[0].name, extra[5]);
            }
            if let Some(x) = bp.services.first_mut() {
                lengthen(&mut x.name, extra[6]);
            }
            if let Some(e) = bp.envs.first_mut() {
                lengthen(&mut e.name, extra[7]);
            }
            bp
        })
}

/// The project files any generated spec may name (`requirements`, `copy`).
pub fn project_files() -> mlship::project::MemProject {
    let mut files = std::collections::BTreeMap::new();
    files.insert("requirements.txt".to_string(), b"numpy==2.1.3\n".to_vec());
    files.insert("src/app.py".to_string(), b"print('hi')\n".to_vec());
    mlship::project::MemProject(files)
}

impl SpecBp {
    /// The project files this spec names: `project_files()` and its sealed secrets.
    pub fn project(&self) -> mlship::project::MemProject {
        let mut p = project_files();
        for x in unique(&self.secrets, |x| &x.name).into_iter().filter(|x| x.sealed) {
            let name = format!("{}-{}", self.project, x.name);
            let keys: Map<String, Value> = x.keys.iter().map(|(k, _)| (k.clone(), json!(SEALED))).collect();
            let manifest = json!({
                "apiVersion": "bitnami.com/v1alpha1",
                "kind": "SealedSecret",
                "metadata": {"name": name},
                "spec": {"encryptedData": keys, "template": {"metadata": {"name": name}}},
            });
            p.0.insert(sealed_file(&x.name), to_yaml(&manifest).into_bytes());
        }
        p
    }
}

/// Sealed ciphertext (base64 of 120 random bytes), as kubeseal writes values.
const SEALED: &str = "qeeKjOjgTBYHaY0jtbSydJnUVw8sbSAf+9SCW5ldRsIG6xHvSRL4aOH5a2tlceosiNA5XtTo1gU4ECtC9VsdKAUTb1/aId0lTWe6xMjKH2QK40TrlOkSrHNK4fI8hoQuCLw2KB5EjnOCmOHkdFs3urwsBVW3VfnL";

fn sealed_file(secret: &str) -> String {
    format!("secrets/{secret}.sealed.yaml")
}

// ---------------------------------------------------------------------------------------
// Building the spec value

/// Keep the first of each name.
fn unique<T>(items: &[T], name: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut seen = std::collections::BTreeSet::new();
    items.iter().filter(|i| seen.insert(name(i).to_string())).collect()
}

fn obj(pairs: &[(String, String)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect())
}

fn strings(v: &[String]) -> Value {
    Value::Array(v.iter().cloned().map(Value::from).collect())
}

fn pick<'a>(names: &'a [String], idx: &[usize]) -> Vec<&'a String> {
    let mut out: Vec<&String> = Vec::new();
    if names.is_empty() {
        return out;
    }
    for i in idx {
        let n = &names[i % names.len()];
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

struct Ctx {
    images: Vec<String>,
    cuda: Vec<bool>,
    secrets: Vec<String>,
    volumes: Vec<String>,
}

fn resources(m: &mut Map<String, Value>, r: &ResBp, cuda: bool) {
    let cpus = cpus();
    if let Some(c) = r.cpu {
        m.insert("cpu".into(), cpus[c].clone());
        if let Some(extra) = r.cpu_limit {
            m.insert("cpu_limit".into(), cpus[(c + extra).min(cpus.len() - 1)].clone());
        }
    }
    if let Some(mem) = r.memory {
        m.insert("memory".into(), json!(mem));
    }
    if let Some(g) = r.gpu.filter(|_| cuda) {
        m.insert("gpu".into(), json!(g));
    }
    if !r.node_selector.is_empty() {
        m.insert(
            "node_selector".into(),
            Value::Object(r.node_selector.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()),
        );
    }
    if !r.tolerations.is_empty() {
        let mut seen = Vec::new();
        let list: Vec<Value> = r
            .tolerations
            .iter()
            .filter(|t| {
                let new = !seen.contains(&t.0);
                seen.push(t.0);
                new
            })
            .map(|(key, value, effect)| {
                let mut t = Map::new();
                t.insert("key".into(), json!(key));
                match value {
                    Some(v) => {
                        t.insert("operator".into(), json!("Equal"));
                        t.insert("value".into(), json!(v));
                    }
                    None => {
                        t.insert("operator".into(), json!("Exists"));
                    }
                }
                if let Some(e) = effect {
                    t.insert("effect".into(), json!(e));
                }
                Value::Object(t)
            })
            .collect();
        m.insert("tolerations".into(), Value::Array(list));
    }
}

fn workload_refs(m: &mut Map<String, Value>, cx: &Ctx, mounts: &[usize], secrets: &[usize], env: &[(String, String)]) {
    let mounts = pick(&cx.volumes, mounts);
    if !mounts.is_empty() {
        m.insert(
            "mounts".into(),
            Value::Object(
                mounts
                    .iter()
                    .map(|v| (v.to_string(), json!(format!("/mnt/{v}"))))
                    .collect(),
            ),
        );
    }
    if !env.is_empty() {
        m.insert("env".into(), obj(env));
    }
    let secrets = pick(&cx.secrets, secrets);
    if !secrets.is_empty() {
        m.insert(
            "secrets".into(),
            Value::Array(secrets.into_iter().map(|s| json!(s)).collect()),
        );
    }
}

impl SpecBp {
    /// The spec as the JSON form of the model.
    pub fn build(&self) -> Value {
        let mut s = Map::new();
        s.insert("apiVersion".into(), json!("mlship/v1"));
        s.insert("project".into(), json!(self.project));
        if self.namespace {
            s.insert("namespace".into(), json!(format!("{}-ns", self.project)));
        }
        s.insert("registry".into(), json!(format!("{}/{}", self.registry, self.project)));
        let base_tag = self
            .tag
            .clone()
            .or_else(|| self.envs.is_empty().then(|| "1.0.0".to_string()));
        if let Some(t) = &base_tag {
            s.insert("tag".into(), json!(t));
        }
        if let Some(k) = self.kubernetes {
            s.insert("kubernetes".into(), json!(k));
        }

        let images = unique(&self.images, |i| &i.name);
        let mut cx = Ctx {
            images: Vec::new(),
            cuda: Vec::new(),
            secrets: Vec::new(),
            volumes: Vec::new(),
        };
        let mut imgs = Map::new();
        for i in &images {
            let cuda = i.cuda && CUDA_STACKS.contains(&i.stack);
            let mut m = Map::new();
            m.insert("stack".into(), json!(i.stack));
            if let Some(p) = i.python {
                m.insert("python".into(), json!(p));
            }
            if cuda {
                m.insert("cuda".into(), json!("12.4"));
            }
            if i.requirements {
                m.insert("requirements".into(), json!("requirements.txt"));
            }
            let mut pkgs = i.system_packages.clone();
            pkgs.dedup();
            if !pkgs.is_empty() {
                m.insert("system_packages".into(), json!(pkgs));
            }
            if i.copy {
                m.insert("copy".into(), json!(["src/"]));
            }
            if !i.command.is_empty() {
                m.insert("command".into(), strings(&i.command));
            }
            if i.index_url {
                m.insert("index_url".into(), json!("https://pypi.example.com/simple"));
            }
            if !i.env.is_empty() {
                m.insert("env".into(), obj(&i.env));
            }
            if let Some(d) = &i.digest {
                m.insert("digest".into(), json!(format!("sha256:{d}")));
            }
            imgs.insert(i.name.clone(), Value::Object(m));
            cx.images.push(i.name.clone());
            cx.cuda.push(cuda);
        }
        s.insert("images".into(), Value::Object(imgs));

        if !self.config.is_empty() {
            s.insert("config".into(), obj(&self.config));
        }
        let base_config: Vec<String> = unique(&self.config, |c| &c.0).iter().map(|c| c.0.clone()).collect();

        let secrets = unique(&self.secrets, |x| &x.name);
        let mut external: Vec<String> = Vec::new();
        if !secrets.is_empty() {
            let mut all = Map::new();
            for x in &secrets {
                let mut m = Map::new();
                if x.sealed {
                    m.insert("provider".into(), json!("sealed-secrets"));
                    m.insert("file".into(), json!(sealed_file(&x.name)));
                } else {
                    m.insert("provider".into(), json!("external-secrets"));
                    m.insert("store".into(), json!(x.store));
                    if let Some(k) = x.store_kind {
                        m.insert("store_kind".into(), json!(k));
                    }
                    m.insert("keys".into(), obj(&x.keys));
                    external.push(x.name.clone());
                }
                if x.mount {
                    m.insert("mount".into(), json!(format!("/secrets/{}", x.name)));
                }
                all.insert(x.name.clone(), Value::Object(m));
                cx.secrets.push(x.name.clone());
            }
            s.insert("secrets".into(), Value::Object(all));
        }

        let volumes = unique(&self.volumes, |v| &v.name);
        if !volumes.is_empty() {
            let mut all = Map::new();
            for v in &volumes {
                let mut m = Map::new();
                m.insert("size".into(), v.size.clone());
                if let Some(a) = v.access {
                    m.insert("access".into(), json!(a));
                }
                if let Some(c) = v.storage_class {
                    m.insert("storage_class".into(), json!(c));
                }
                all.insert(v.name.clone(), Value::Object(m));
                cx.volumes.push(v.name.clone());
            }
            s.insert("volumes".into(), Value::Object(all));
        }

        let pipelines = unique(&self.pipelines, |p| &p.name);
        let mut pipeline_steps: Vec<(String, Vec<String>, bool)> = Vec::new();
        if !pipelines.is_empty() {
            let mut all = Map::new();
            for p in &pipelines {
                let mut m = Map::new();
                if let Some(sch) = p.schedule {
                    m.insert("schedule".into(), json!(sch));
                }
                let mut steps = Map::new();
                let mut names: Vec<String> = Vec::new();
                for st in unique(&p.steps, |s| &s.name) {
                    let mut sm = Map::new();
                    let img = st.image % cx.images.len();
                    sm.insert("image".into(), json!(cx.images[img]));
                    sm.insert("run".into(), strings(&st.run));
                    // Only earlier steps: the graph stays acyclic.
                    let needs = pick(&names, &st.needs);
                    if !needs.is_empty() {
                        sm.insert("needs".into(), json!(needs));
                    }
                    if let Some(r) = st.retries {
                        sm.insert("retries".into(), json!(r));
                    }
                    if let Some(t) = st.timeout {
                        sm.insert("timeout".into(), json!(t));
                    }
                    workload_refs(&mut sm, &cx, &st.mounts, &st.secrets, &st.env);
                    resources(&mut sm, &st.res, cx.cuda[img]);
                    steps.insert(st.name.clone(), Value::Object(sm));
                    names.push(st.name.clone());
                }
                m.insert("steps".into(), Value::Object(steps));
                all.insert(p.name.clone(), Value::Object(m));
                pipeline_steps.push((p.name.clone(), names, p.schedule.is_some()));
            }
            s.insert("pipelines".into(), Value::Object(all));
        }

        // A service and a pipeline may not share a name (both would render a ServiceAccount
        // and a NetworkPolicy of that name).
        let services: Vec<&ServiceBp> = unique(&self.services, |x| &x.name)
            .into_iter()
            .filter(|x| !pipeline_steps.iter().any(|(p, ..)| *p == x.name))
            .collect();
        if !services.is_empty() {
            let mut all = Map::new();
            for x in &services {
                let mut m = Map::new();
                let img = x.image % cx.images.len();
                m.insert("image".into(), json!(cx.images[img]));
                m.insert("port".into(), json!(x.port));
                if !x.command.is_empty() {
                    m.insert("command".into(), strings(&x.command));
                }
                if let Some((path, ready, delay)) = x.health {
                    let mut h = Map::new();
                    if path {
                        h.insert("path".into(), json!("/healthz"));
                    }
                    if ready {
                        h.insert("ready".into(), json!("/readyz"));
                    }
                    if let Some(d) = delay {
                        h.insert("initial_delay".into(), json!(d));
                    }
                    m.insert("health".into(), Value::Object(h));
                }
                if let Some(r) = x.replicas {
                    m.insert("replicas".into(), json!(r));
                }
                if let Some((min, max, cpu, memory)) = x.autoscale {
                    let mut a = Map::new();
                    a.insert("min".into(), json!(min));
                    a.insert("max".into(), json!(max));
                    if let Some(c) = cpu {
                        a.insert("cpu".into(), json!(c));
                    }
                    if let Some(mem) = memory {
                        a.insert("memory".into(), json!(mem));
                    }
                    m.insert("autoscale".into(), Value::Object(a));
                }
                if let Some(e) = &x.expose {
                    let mut em = Map::new();
                    if let Some(p) = e.port {
                        em.insert("port".into(), json!(p));
                    }
                    if e.host {
                        em.insert("host".into(), json!(format!("{}.{}.example.com", x.name, self.project)));
                        if let Some(p) = e.path {
                            em.insert("path".into(), json!(p));
                        }
                        if let Some(c) = e.ingress_class {
                            em.insert("ingress_class".into(), json!(c));
                        }
                        if e.tls {
                            em.insert("tls_secret".into(), json!(format!("{}-tls", x.name)));
                        }
                    }
                    m.insert("expose".into(), Value::Object(em));
                }
                workload_refs(&mut m, &cx, &x.mounts, &x.secrets, &x.env);
                resources(&mut m, &x.res, cx.cuda[img]);
                all.insert(x.name.clone(), Value::Object(m));
            }
            s.insert("services".into(), Value::Object(all));
        }

        let envs = unique(&self.envs, |e| &e.name);
        if !envs.is_empty() {
            let mut all = Map::new();
            for (i, e) in envs.iter().enumerate() {
                let mut m = Map::new();
                // At most one environment in the project's namespace: two would share it.
                if e.namespace || i > 0 {
                    m.insert("namespace".into(), json!(format!("{}-{}", self.project, e.name)));
                }
                if e.registry {
                    m.insert(
                        "registry".into(),
                        json!(format!("registry.example.com/{}", self.project)),
                    );
                }
                match (&e.tag, &base_tag) {
                    (Some(t), _) => {
                        m.insert("tag".into(), json!(t));
                    }
                    (None, None) => {
                        m.insert("tag".into(), json!(e.name));
                    }
                    (None, Some(_)) => {}
                }
                if e.name == "prod" {
                    // A production environment refuses unpinned images; generated specs have
                    // no image lock (the lock has its own tests).
                    m.insert("production".into(), json!(false));
                }
                let mut config = Map::new();
                for (i, new, value) in &e.config {
                    match (new, value) {
                        (Some(k), Some(v)) => {
                            config.insert(k.clone(), json!(v));
                        }
                        (Some(_), None) => {}
                        (None, v) if !base_config.is_empty() => {
                            let k = &base_config[i % base_config.len()];
                            config.insert(k.clone(), v.clone().map_or(Value::Null, Value::from));
                        }
                        (None, _) => {}
                    }
                }
                if !config.is_empty() {
                    m.insert("config".into(), Value::Object(config));
                }
                let digests: Map<String, Value> = e
                    .digests
                    .iter()
                    .map(|(i, d)| {
                        (
                            cx.images[i % cx.images.len()].clone(),
                            json!({ "digest": format!("sha256:{d}") }),
                        )
                    })
                    .collect();
                if !digests.is_empty() {
                    m.insert("images".into(), Value::Object(digests));
                }
                let stores: Map<String, Value> = pick(&external, &e.stores)
                    .into_iter()
                    .map(|n| (n.clone(), json!({ "store": format!("{}-store", e.name) })))
                    .collect();
                if !stores.is_empty() {
                    m.insert("secrets".into(), Value::Object(stores));
                }
                let sizes: Map<String, Value> = pick(&cx.volumes, &e.sizes)
                    .into_iter()
                    .map(|n| (n.clone(), json!({ "size": "100Gi" })))
                    .collect();
                if !sizes.is_empty() {
                    m.insert("volumes".into(), Value::Object(sizes));
                }
                let mut pm = Map::new();
                if !pipeline_steps.is_empty() {
                    for (i, op) in &e.pipelines {
                        let (name, steps, _) = &pipeline_steps[i % pipeline_steps.len()];
                        let v = match op {
                            0 => Value::Null,
                            1 => json!({ "schedule": "@daily" }),
                            2 => json!({ "schedule": null }),
                            _ => json!({ "steps": { (steps[0].clone()): { "retries": 3, "memory": "3Gi" } } }),
                        };
                        pm.insert(name.clone(), v);
                    }
                }
                if !pm.is_empty() {
                    m.insert("pipelines".into(), Value::Object(pm));
                }
                let mut sm = Map::new();
                if !services.is_empty() {
                    for (i, op, n) in &e.services {
                        let svc = services[i % services.len()];
                        let v = match op {
                            0 => Value::Null,
                            1 => json!({ "replicas": n }),
                            2 => json!({ "autoscale": null }),
                            3 => match svc.autoscale {
                                Some((_, max, ..)) => json!({ "autoscale": { "max": max + n } }),
                                None => json!({ "autoscale": { "min": 1, "max": n } }),
                            },
                            4 => json!({ "expose": { "host": format!("{}.{}.example.com", e.name, svc.name) } }),
                            5 => json!({ "memory": format!("{n}Gi") }),
                            _ => json!({ "env": { "EXTRA_SETTING": format!("value {n}") } }),
                        };
                        sm.insert(svc.name.clone(), v);
                    }
                }
                if !sm.is_empty() {
                    m.insert("services".into(), Value::Object(sm));
                }
                all.insert(e.name.clone(), Value::Object(m));
            }
            s.insert("environments".into(), Value::Object(all));
        }

        if let Some(g) = &self.gitops {
            let mut m = Map::new();
            m.insert("engine".into(), json!(g.engine));
            m.insert(
                "repo".into(),
                json!(format!("https://git.example.com/acme/{}.git", self.project)),
            );
            if g.path {
                m.insert("path".into(), json!(format!("deploy/{}", self.project)));
            }
            if let Some(r) = g.revision {
                m.insert("revision".into(), json!(r));
            }
            if let Some(n) = g.namespace {
                m.insert("namespace".into(), json!(n));
            }
            s.insert("gitops".into(), Value::Object(m));
        }
        Value::Object(s)
    }
}

// ---------------------------------------------------------------------------------------
// Writers

/// A small deterministic generator for the writers' choices (splitmix64).
#[derive(Debug, Clone)]
pub struct Choices(u64);

impl Choices {
    pub fn new(seed: u64) -> Self {
        Choices(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("below n, which is a usize")
    }
}

/// The same value with the keys of every map in a random order.
pub fn shuffle_keys(v: &Value, c: &mut Choices) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            for i in (1..entries.len()).rev() {
                let j = c.below(i + 1);
                entries.swap(i, j);
            }
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), shuffle_keys(v, c)))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| shuffle_keys(x, c)).collect()),
        other => other.clone(),
    }
}

const COMMENT_WORDS: &[&str] = &[
    "note",
    "key: value",
    "- item",
    "---",
    "\"quoted\"",
    "it's",
    "é",
    "日本",
    "{ }",
    "[x]",
    "#",
    "$(x)",
    "tab",
];

fn comment_text(c: &mut Choices) -> String {
    let n = 1 + c.below(4);
    (0..n)
        .map(|_| COMMENT_WORDS[c.below(COMMENT_WORDS.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

/// YAML text of a spec value.
pub fn to_yaml(v: &Value) -> String {
    mlship::yamlout::to_yaml(v)
}

/// YAML text of a value in randomly mixed styles: block or flow collections, plain,
/// single-quoted (through `yamlout`) or double-quoted (JSON) strings, indented or
/// unindented block sequences. Every line holds at most one scalar, so `yaml_comments` can
/// annotate it.
pub fn to_yaml_styled(v: &Value, c: &mut Choices) -> String {
    let mut out = String::new();
    let Value::Object(m) = v else { panic!("a spec is a map") };
    yaml_map(&mut out, m, 0, c);
    out
}

fn yaml_key(k: &str, c: &mut Choices) -> String {
    if c.chance(20) {
        serde_json::to_string(k).expect("strings serialize")
    } else {
        mlship::yamlout::scalar_str(k)
    }
}

fn yaml_scalar(v: &Value, c: &mut Choices) -> String {
    match v {
        Value::String(s) if c.chance(30) => serde_json::to_string(s).expect("strings serialize"),
        Value::Null if c.chance(50) => "~".into(),
        other => mlship::yamlout::to_yaml(other).trim_end_matches('\n').to_string(),
    }
}

fn yaml_flow(v: &Value, c: &mut Choices) -> String {
    match v {
        Value::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, x)| {
                    let key = yaml_key(k, c);
                    format!("{key}: {}", yaml_flow(x, c))
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(|x| yaml_flow(x, c)).collect::<Vec<_>>().join(", ")),
        // Plain scalars may not hold flow indicators inside a flow collection.
        Value::String(s) => serde_json::to_string(s).expect("strings serialize"),
        other => yaml_scalar(other, c),
    }
}

fn yaml_map(out: &mut String, m: &Map<String, Value>, indent: usize, c: &mut Choices) {
    for (i, (k, v)) in m.iter().enumerate() {
        // The first entry of a map in a sequence item shares the dash's line.
        if !(i == 0 && out.ends_with("- ")) {
            out.push_str(&" ".repeat(indent));
        }
        let key = yaml_key(k, c);
        out.push_str(&key);
        out.push(':');
        yaml_value(out, v, indent, c);
    }
}

fn yaml_value(out: &mut String, v: &Value, indent: usize, c: &mut Choices) {
    let empty = matches!(v, Value::Object(m) if m.is_empty()) || matches!(v, Value::Array(a) if a.is_empty());
    match v {
        Value::Object(m) if !empty && !c.chance(15) => {
            out.push('\n');
            yaml_map(out, m, indent + 2, c);
        }
        Value::Array(a) if !empty && !c.chance(15) => {
            out.push('\n');
            let dash = if c.chance(50) { indent } else { indent + 2 };
            for x in a {
                out.push_str(&" ".repeat(dash));
                out.push_str("- ");
                match x {
                    Value::Object(m) if !m.is_empty() => yaml_map(out, m, dash + 2, c),
                    other => {
                        let text = yaml_scalar(other, c);
                        out.push_str(&text);
                        out.push('\n');
                    }
                }
            }
        }
        Value::Object(_) | Value::Array(_) => {
            let text = yaml_flow(v, c);
            out.push(' ');
            out.push_str(&text);
            out.push('\n');
        }
        scalar => {
            let text = yaml_scalar(scalar, c);
            out.push(' ');
            out.push_str(&text);
            out.push('\n');
        }
    }
}

/// `text` with YAML comments: whole-line comments at random indents and comments after
/// values.
pub fn yaml_comments(text: &str, c: &mut Choices) -> String {
    let mut out = String::new();
    if c.chance(50) {
        out.push_str("# yaml-language-server: $schema=./mlship.schema.json\n");
    }
    for line in text.lines() {
        if c.chance(20) {
            let indent = c.below(6);
            out.push_str(&" ".repeat(indent));
            out.push_str("# ");
            out.push_str(&comment_text(c));
            out.push('\n');
        }
        if c.chance(10) {
            out.push('\n');
        }
        out.push_str(line);
        if c.chance(20) {
            out.push_str(" # ");
            out.push_str(&comment_text(c));
        }
        out.push('\n');
    }
    if c.chance(50) {
        out.push_str("# end\n");
    }
    out
}

/// Characters a KDL string must escape: control characters, newlines, and the code points
/// KDL 2.0 forbids in a document (direction marks and overrides, the BOM).
fn kdl_escaped(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// A KDL 2.0 quoted string.
pub fn kdl_string(s: &str) -> String {
    let mut q = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            '\u{8}' => q.push_str("\\b"),
            '\u{c}' => q.push_str("\\f"),
            c if kdl_escaped(c) => {
                q.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

/// A node or property name: bare when KDL allows it, else quoted.
pub fn kdl_ident(s: &str) -> String {
    let bare = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && !matches!(s, "true" | "false" | "null" | "inf" | "nan");
    if bare { s.to_string() } else { kdl_string(s) }
}

fn kdl_scalar(v: &Value) -> String {
    match v {
        Value::Null => "#null".into(),
        Value::Bool(b) => format!("#{b}"),
        Value::Number(n) => n.to_string(),
        Value::String(s) => kdl_string(s),
        _ => unreachable!("not a scalar"),
    }
}

/// A scalar in one of KDL's equivalent spellings: strings bare (`python`), raw
/// (`#"a\b"#`) or quoted; integers with `_` separators or in hex.
fn kdl_scalar_styled(v: &Value, c: &mut Choices) -> String {
    match v {
        Value::String(s) if kdl_ident(s) == *s && c.chance(30) => s.clone(),
        // `#"""#` would open a multi-line raw string.
        Value::String(s)
            if !s.contains("\"#") && !s.starts_with('"') && !s.chars().any(kdl_escaped) && c.chance(20) =>
        {
            format!("#\"{s}\"#")
        }
        Value::Number(n) if n.is_u64() && c.chance(20) => {
            let n = n.as_u64().expect("checked");
            if c.chance(50) {
                format!("0x{n:x}")
            } else {
                let d = n.to_string();
                format!("{}_{}", &d[..1], &d[1..]).trim_end_matches('_').to_string()
            }
        }
        other => kdl_scalar(other),
    }
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

/// KDL text of a spec value, by the generic rules. `c` chooses between equivalent forms
/// (keyed `name "key" ...` nodes or nested blocks, properties or child nodes) and, with
/// `comments`, adds `//`, `/* */` and `/-` comments.
pub fn to_kdl(v: &Value, c: &mut Choices, comments: bool) -> String {
    let mut w = KdlWriter {
        out: String::new(),
        c,
        comments,
    };
    if comments {
        w.out.push_str("// mlship spec in KDL\n");
    }
    let Value::Object(m) = v else { panic!("a spec is a map") };
    w.block(m, 0);
    w.out
}

struct KdlWriter<'a> {
    out: String,
    c: &'a mut Choices,
    comments: bool,
}

impl KdlWriter<'_> {
    fn indent(&mut self, n: usize) {
        self.out.push_str(&"    ".repeat(n));
    }

    fn before_node(&mut self, indent: usize) {
        if !self.comments {
            self.indent(indent);
            return;
        }
        if self.c.chance(15) {
            self.indent(indent);
            let t = comment_text(self.c);
            self.out.push_str(&format!("// {t}\n"));
        }
        if self.c.chance(8) {
            self.indent(indent);
            self.out.push_str("/-ignored \"x\" y=1 { z #null }\n");
        }
        self.indent(indent);
        if self.c.chance(8) {
            self.out.push_str("/* c */ ");
        }
    }

    fn end_node(&mut self) {
        if self.comments && self.c.chance(15) {
            let t = comment_text(self.c);
            self.out.push_str(&format!(" // {t}"));
        }
        self.out.push('\n');
    }

    /// The entries of a map, one node (or one keyed node per entry) each.
    fn block(&mut self, m: &Map<String, Value>, indent: usize) {
        for (k, v) in m {
            match v {
                Value::Object(inner)
                    if !inner.is_empty() && inner.values().all(|x| x.is_object()) && self.c.chance(60) =>
                {
                    for (ek, ev) in inner {
                        let Value::Object(em) = ev else { unreachable!() };
                        self.node(indent, k, Some(ek), em);
                    }
                }
                Value::Object(inner) => self.node(indent, k, None, inner),
                Value::Array(items) => self.list(indent, k, items),
                scalar => {
                    self.before_node(indent);
                    let text = kdl_scalar_styled(scalar, self.c);
                    self.out.push_str(&format!("{} {text}", kdl_ident(k)));
                    self.end_node();
                }
            }
        }
    }

    fn list(&mut self, indent: usize, k: &str, items: &[Value]) {
        assert!(!items.is_empty(), "the generator writes no empty lists");
        self.before_node(indent);
        self.out.push_str(&kdl_ident(k));
        if items.iter().all(is_scalar) {
            for i in items {
                self.out.push(' ');
                let text = kdl_scalar_styled(i, self.c);
                self.out.push_str(&text);
            }
            self.end_node();
            return;
        }
        self.out.push_str(" {\n");
        for i in items {
            match i {
                Value::Object(m) => self.node(indent + 1, "-", None, m),
                scalar => {
                    self.before_node(indent + 1);
                    self.out.push_str(&format!("- {}", kdl_scalar(scalar)));
                    self.end_node();
                }
            }
        }
        self.indent(indent);
        self.out.push('}');
        self.end_node();
    }

    /// `name ["key"] props... { children }`: a map as one node.
    fn node(&mut self, indent: usize, name: &str, key: Option<&str>, m: &Map<String, Value>) {
        let mut props = Vec::new();
        let mut children = Map::new();
        for (k, v) in m {
            let one_string = matches!(v, Value::Array(a) if a.len() == 1 && a[0].is_string());
            if (is_scalar(v) && self.c.chance(60)) || (one_string && self.c.chance(30)) {
                let text = match v {
                    Value::Array(a) => kdl_scalar_styled(&a[0], self.c),
                    s => kdl_scalar_styled(s, self.c),
                };
                props.push(format!("{}={text}", kdl_ident(k)));
            } else {
                children.insert(k.clone(), v.clone());
            }
        }
        self.before_node(indent);
        self.out
            .push_str(&if name == "-" { "-".to_string() } else { kdl_ident(name) });
        if let Some(key) = key {
            self.out.push(' ');
            self.out.push_str(&kdl_string(key));
        }
        for p in props.iter() {
            self.out.push(' ');
            self.out.push_str(p);
        }
        // A keyed node needs properties or children; an empty one gets an empty block.
        let empty_keyed = key.is_some() && props.is_empty() && children.is_empty();
        if !children.is_empty() || empty_keyed || (m.is_empty() && self.c.chance(50)) {
            self.out.push_str(" {\n");
            self.block(&children, indent + 1);
            self.indent(indent);
            self.out.push('}');
        }
        self.end_node();
    }
}
