//! Structure-aware inputs for the `compile` target: a small typed model of a spec (images,
//! config, secrets, volumes, pipelines and their steps, services, extra manifests,
//! environments, GitOps), drawn from the fuzzer's bytes with `arbitrary::Unstructured`, built
//! into the spec's JSON form, written as YAML or KDL, with every project file it names.
//!
//! Modelled on tests/common/gen.rs (the property tests' generator): names and values come
//! mostly from small pools, so they meet across sections, and references are indexes into
//! what was drawn before, so most specs are valid and reach lowering and emitting. Some
//! choices are invalid on purpose (an unknown reference, a bad quantity, a name too long) at
//! a low rate. Every list and string is bounded, and an exhausted `Unstructured` gives zeros,
//! so building a spec takes a bounded, small amount of work.

use crate::files;
use arbitrary::{Result, Unstructured};
use mlship::project::MemProject;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const STACKS: &[&str] = &[
    "python",
    "pytorch",
    "tensorflow",
    "sklearn",
    "xgboost",
    "huggingface",
    "fastapi",
];
const CUDA_STACKS: &[&str] = &["pytorch", "huggingface"];
const PYTHONS: &[&str] = &["3.10", "3.11", "3.12"];
const NAMES: &[&str] = &[
    "train", "serve", "api", "data", "model", "prep", "eval", "web", "batch", "x", "a-b", "db",
];
const ENV_KEYS: &[&str] = &[
    "LOG_LEVEL",
    "MODE",
    "WORKERS",
    "A",
    "_",
    "on",
    "y",
    "null",
    "PORT_NUMBER",
    "batchSize",
    "HF_HOME",
];
/// Values that quoting must keep as strings, and plain ones.
const VALUES: &[&str] = &[
    "info",
    "1",
    "0755",
    "yes",
    "off",
    "null",
    "~",
    "1e3",
    "12:30",
    "",
    " ",
    "it's",
    "say \"hi\"",
    "a #b",
    "key: value",
    "- item",
    "[a, b]",
    "{a: b}",
    "*alias",
    "&anchor",
    "!tag",
    "%",
    "{{ x }}",
    "$(id)",
    "${HOME}",
    "é",
    "日本語",
    "/path/to",
    "http://example.com/a?b=c#d",
    "--flag=1",
    "#null",
    "r#\"raw\"#",
    "back\\slash",
    "zero\u{200b}width",
    "Ωμέγα",
];
/// Values the checks refuse (control characters and line breaks), drawn rarely.
const HOSTILE: &[&str] = &[
    "tab\there",
    "x\nkind: Secret",
    "x\u{2028}y",
    "nul\u{0}",
    "esc\u{1b}[31m",
];
const PACKAGES: &[&str] = &["libgomp1", "curl", "libpq5=15.8-0+deb12u1", "git"];
const CPUS: &[&str] = &["100m", "250m", "500m", "1", "1500m", "2", "4", "8"];
const MEMORY: &[&str] = &["256Mi", "512Mi", "1Gi", "8Gi", "1G", "1.5Gi"];
const SIZES: &[&str] = &["1Gi", "50Gi", "500Mi", "1G", "2Ti", "100M"];
const ACCESS: &[&str] = &["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany", "ReadWriteOncePod"];
const SCHEDULES: &[&str] = &[
    "0 3 * * 0",
    "*/15 * * * *",
    "@daily",
    "@hourly",
    "30 2 1 * *",
    "0 0 * * 1-5",
];
const TIMEOUTS: &[&str] = &["4h", "30m", "1h30m", "90s", "2h"];
const ENVS: &[&str] = &["dev", "staging", "prod", "qa", "e2e", "canary"];
const REGISTRIES: &[&str] = &[
    "ghcr.io/acme",
    "registry.example.com:5000/ml/team",
    "localhost:5000/x",
    "docker.io/org",
];
const TAGS: &[&str] = &["1.4.2", "dev", "v1", "2024.01.15", "sha-abc123", "latest"];
const KUBERNETES: &[&str] = &["1.33", "1.34", "1.35", "1.36", "1.37"];

/// Bytes to a choice: `Unstructured` with the spec's vocabulary. The flag: whether this
/// spec's strings may hold what the checks refuse (control characters, line breaks), drawn
/// once per spec so that most specs stay valid.
struct Draw<'a, 'b>(&'a mut Unstructured<'b>, bool);

impl Draw<'_, '_> {
    fn pick<T: Copy>(&mut self, from: &[T]) -> Result<T> {
        Ok(*self.0.choose(from)?)
    }
    /// True with about `percent` percent chance; false once the bytes run out (so the rare,
    /// invalid choices stay rare).
    fn chance(&mut self, percent: u8) -> Result<bool> {
        if self.0.is_empty() {
            return Ok(false);
        }
        Ok(self.0.int_in_range(0..=99u8)? < percent)
    }
    fn upto(&mut self, max: usize) -> Result<usize> {
        self.0.int_in_range(0..=max)
    }
    fn range(&mut self, lo: u32, hi: u32) -> Result<u32> {
        self.0.int_in_range(lo..=hi)
    }
    /// A DNS label of at most 12 characters, mostly from a pool.
    fn name(&mut self) -> Result<String> {
        if self.chance(75)? {
            return Ok(self.pick(NAMES)?.to_string());
        }
        let len = self.upto(10)?;
        let mut s = String::with_capacity(len + 2);
        s.push(char::from(b'a' + self.0.int_in_range(0..=25u8)?));
        for _ in 0..len {
            let c = self.pick(b"abcdefghijklmnopqrstuvwxyz0123456789-".as_slice())?;
            s.push(char::from(c));
        }
        // Now and then an invalid name (a trailing dash, or past the length limits).
        if !self.chance(3)? {
            while s.ends_with('-') {
                s.pop();
            }
        } else if self.chance(50)? {
            s.push_str(&"z".repeat(60));
        }
        Ok(s)
    }
    /// A short printable string, or (rarely) anything at all.
    fn text(&mut self) -> Result<String> {
        if self.1 && self.chance(20)? {
            return Ok(self.pick(HOSTILE)?.to_string());
        }
        if self.chance(80)? {
            return Ok(self.pick(VALUES)?.to_string());
        }
        let len = self.upto(12)?;
        let mut s = String::new();
        for _ in 0..len {
            let c = self.0.arbitrary::<char>()?;
            // A control character or line break fails the whole spec.
            s.push(if self.1 || mlship::names::is_plain_text(c.encode_utf8(&mut [0; 4])) {
                c
            } else {
                '?'
            });
        }
        Ok(s)
    }
    /// A config value that does not look like a credential (which the checks refuse).
    fn value(&mut self) -> Result<String> {
        let v = self.text()?;
        Ok(if mlship::secrets::looks_like_credential("VALUE", &v).is_some() {
            "x".into()
        } else {
            v
        })
    }
    fn env_key(&mut self) -> Result<String> {
        let k = if self.chance(85)? {
            self.pick(ENV_KEYS)?.to_string()
        } else {
            let mut s = String::from("K_");
            for _ in 0..self.upto(6)? {
                s.push(char::from(
                    self.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_".as_slice())?,
                ));
            }
            s
        };
        Ok(if mlship::secrets::looks_like_credential(&k, "x").is_some() {
            "SETTING".into()
        } else {
            k
        })
    }
    fn env(&mut self, max: usize) -> Result<Map<String, Value>> {
        let mut m = Map::new();
        for _ in 0..self.upto(max)? {
            let k = self.env_key()?;
            let v = self.value()?;
            m.insert(k, json!(v));
        }
        Ok(m)
    }
    fn strings(&mut self, lo: usize, hi: usize) -> Result<Value> {
        let n = lo + self.upto(hi - lo)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(json!(self.value()?));
        }
        Ok(Value::Array(v))
    }
    /// Up to `max` distinct entries of `names`, drawn by index.
    fn some_of(&mut self, names: &[String], max: usize) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        if names.is_empty() {
            return Ok(out);
        }
        for _ in 0..self.upto(max)? {
            let n = &names[self.upto(names.len() - 1)?];
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
        Ok(out)
    }
    /// A reference: almost always one of `names`, rarely a name that is none of them.
    fn reference(&mut self, names: &[String]) -> Result<String> {
        if names.is_empty() || self.chance(2)? {
            return Ok("missing".into());
        }
        Ok(names[self.upto(names.len() - 1)?].clone())
    }
}

/// The parts of a spec that later parts refer to.
#[derive(Default)]
struct Ctx {
    project: String,
    namespace: String,
    images: Vec<String>,
    cuda: Vec<bool>,
    secrets: Vec<String>,
    /// SOPS secrets: their files must name each environment's namespace.
    sops: Vec<(String, Vec<&'static str>)>,
    external: Vec<String>,
    volumes: Vec<String>,
    config: Vec<String>,
    files: BTreeMap<String, Vec<u8>>,
}

fn resources(d: &mut Draw, m: &mut Map<String, Value>, cuda: bool) -> Result<()> {
    if d.chance(50)? {
        let c = d.upto(CPUS.len() - 1)?;
        m.insert("cpu".into(), json!(CPUS[c]));
        if d.chance(30)? {
            let l = (c + d.upto(3)?).min(CPUS.len() - 1);
            m.insert("cpu_limit".into(), json!(CPUS[l]));
        }
    }
    if d.chance(50)? {
        m.insert("memory".into(), json!(d.pick(MEMORY)?));
    }
    if cuda && d.chance(40)? {
        m.insert("gpu".into(), json!(d.range(1, 2)?));
    }
    if d.chance(20)? {
        let (k, v) = d.pick(&[("kubernetes.io/arch", "amd64"), ("pool", "gpu"), ("on", "yes")])?;
        m.insert("node_selector".into(), json!({ k: v }));
    }
    if d.chance(15)? {
        let t = match d.upto(2)? {
            0 => json!({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}),
            1 => json!({"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoExecute"}),
            _ => json!({"key": "dedicated", "operator": "Equal", "value": "ml"}),
        };
        m.insert("tolerations".into(), json!([t]));
    }
    Ok(())
}

fn refs(d: &mut Draw, m: &mut Map<String, Value>, cx: &Ctx) -> Result<()> {
    let mounts = d.some_of(&cx.volumes, 2)?;
    if !mounts.is_empty() {
        let mm: Map<String, Value> = mounts.iter().map(|v| (v.clone(), json!(format!("/mnt/{v}")))).collect();
        m.insert("mounts".into(), Value::Object(mm));
    }
    let env = d.env(2)?;
    if !env.is_empty() {
        m.insert("env".into(), Value::Object(env));
    }
    let secrets = d.some_of(&cx.secrets, 2)?;
    if !secrets.is_empty() {
        m.insert("secrets".into(), json!(secrets));
    }
    Ok(())
}

fn images(d: &mut Draw, s: &mut Map<String, Value>, cx: &mut Ctx) -> Result<()> {
    let mut all = Map::new();
    for _ in 0..1 + d.upto(2)? {
        let name = d.name()?;
        if all.contains_key(&name) {
            continue;
        }
        let stack = d.pick(STACKS)?;
        let cuda = CUDA_STACKS.contains(&stack) && d.chance(40)?;
        let mut m = Map::new();
        m.insert("stack".into(), json!(stack));
        if d.chance(40)? {
            m.insert("python".into(), json!(d.pick(PYTHONS)?));
        }
        if cuda {
            m.insert("cuda".into(), json!("12.4"));
        }
        if d.chance(60)? {
            m.insert("requirements".into(), json!("requirements.txt"));
        }
        if d.chance(40)? {
            m.insert("copy".into(), json!(["src/"]));
        }
        if d.chance(25)? {
            let file = format!("docker/{name}.Dockerfile.j2");
            cx.files.insert(file.clone(), files::TEMPLATE.as_bytes().to_vec());
            m.insert("template".into(), json!(file));
        }
        if d.chance(25)? {
            let mut pkgs = vec![d.pick(PACKAGES)?];
            let more = d.pick(PACKAGES)?;
            if !pkgs.contains(&more) {
                pkgs.push(more);
            }
            m.insert("system_packages".into(), json!(pkgs));
        }
        if d.chance(30)? {
            m.insert("command".into(), d.strings(1, 3)?);
        }
        if d.chance(10)? {
            m.insert("index_url".into(), json!("https://pypi.example.com/simple"));
        }
        let env = d.env(2)?;
        if !env.is_empty() {
            m.insert("env".into(), Value::Object(env));
        }
        if d.chance(15)? {
            m.insert(
                "digest".into(),
                json!(format!("sha256:{}", "4b825dc642cb6eb9".repeat(4))),
            );
        }
        all.insert(name.clone(), Value::Object(m));
        cx.images.push(name);
        cx.cuda.push(cuda);
    }
    s.insert("images".into(), Value::Object(all));
    Ok(())
}

fn secrets(d: &mut Draw, s: &mut Map<String, Value>, cx: &mut Ctx, argocd: bool) -> Result<()> {
    let mut all = Map::new();
    for _ in 0..d.upto(3)? {
        let name = d.name()?;
        if all.contains_key(&name) {
            continue;
        }
        let keys: &[&'static str] = d.pick(&[&["DB_PASSWORD"][..], &["API_TOKEN", "DB_USER"], &["HF_TOKEN"]])?;
        let mut m = Map::new();
        // Argo CD does not decrypt SOPS files: no SOPS secrets under it, but rarely.
        let provider = match d.upto(2)? {
            2 if !argocd || d.chance(5)? => "sops",
            1 => "sealed-secrets",
            _ => "external-secrets",
        };
        m.insert("provider".into(), json!(provider));
        let object = format!("{}-{name}", cx.project);
        match provider {
            "sops" => {
                let file = format!("secrets/{name}.sops.yaml");
                cx.files.insert(
                    file.clone(),
                    files::sops_secret(&object, &cx.namespace, keys).into_bytes(),
                );
                m.insert("file".into(), json!(file));
                cx.sops.push((name.clone(), keys.to_vec()));
            }
            "sealed-secrets" => {
                let file = format!("secrets/{name}.sealed.yaml");
                cx.files
                    .insert(file.clone(), files::sealed_secret(&object, keys).into_bytes());
                m.insert("file".into(), json!(file));
            }
            _ => {
                m.insert("store".into(), json!(d.name()?));
                if d.chance(30)? {
                    m.insert(
                        "store_kind".into(),
                        json!(d.pick(&["SecretStore", "ClusterSecretStore"])?),
                    );
                }
                let km: Map<String, Value> = keys
                    .iter()
                    .map(|k| (k.to_string(), json!(format!("{name}/{}", k.to_lowercase()))))
                    .collect();
                m.insert("keys".into(), Value::Object(km));
                cx.external.push(name.clone());
            }
        }
        if d.chance(25)? {
            m.insert("mount".into(), json!(format!("/secrets/{name}")));
        }
        all.insert(name.clone(), Value::Object(m));
        cx.secrets.push(name);
    }
    if !all.is_empty() {
        s.insert("secrets".into(), Value::Object(all));
    }
    Ok(())
}

fn volumes(d: &mut Draw, s: &mut Map<String, Value>, cx: &mut Ctx) -> Result<()> {
    let mut all = Map::new();
    for _ in 0..d.upto(2)? {
        let name = d.name()?;
        if all.contains_key(&name) {
            continue;
        }
        let mut m = Map::new();
        m.insert(
            "size".into(),
            if d.chance(80)? {
                json!(d.pick(SIZES)?)
            } else {
                json!(d.range(1, 100)? * 1024)
            },
        );
        if d.chance(50)? {
            m.insert("access".into(), json!(d.pick(ACCESS)?));
        }
        if d.chance(30)? {
            m.insert("storage_class".into(), json!(d.pick(&["standard", "fast-ssd", "gp3"])?));
        }
        all.insert(name.clone(), Value::Object(m));
        cx.volumes.push(name);
    }
    if !all.is_empty() {
        s.insert("volumes".into(), Value::Object(all));
    }
    Ok(())
}

/// Pipelines: their names and steps, for the environments.
fn pipelines(d: &mut Draw, s: &mut Map<String, Value>, cx: &Ctx) -> Result<Vec<(String, Vec<String>)>> {
    let mut all = Map::new();
    let mut out = Vec::new();
    for _ in 0..d.upto(2)? {
        let name = d.name()?;
        if all.contains_key(&name) {
            continue;
        }
        let mut m = Map::new();
        if d.chance(40)? {
            m.insert("schedule".into(), json!(d.pick(SCHEDULES)?));
        }
        let mut steps = Map::new();
        let mut names: Vec<String> = Vec::new();
        for _ in 0..1 + d.upto(2)? {
            let step = d.name()?;
            if steps.contains_key(&step) {
                continue;
            }
            let mut sm = Map::new();
            let img = d.upto(cx.images.len() - 1)?;
            sm.insert("image".into(), json!(cx.images[img]));
            sm.insert("run".into(), d.strings(1, 3)?);
            // Earlier steps only, so the graph stays acyclic; rarely a cycle or an unknown step.
            let needs = if d.chance(1)? {
                vec![step.clone()]
            } else {
                d.some_of(&names, 2)?
            };
            if !needs.is_empty() {
                sm.insert("needs".into(), json!(needs));
            }
            if d.chance(20)? {
                sm.insert("retries".into(), json!(d.range(0, 4)?));
            }
            if d.chance(20)? {
                sm.insert("timeout".into(), json!(d.pick(TIMEOUTS)?));
            }
            refs(d, &mut sm, cx)?;
            resources(d, &mut sm, cx.cuda[img])?;
            steps.insert(step.clone(), Value::Object(sm));
            names.push(step);
        }
        m.insert("steps".into(), Value::Object(steps));
        all.insert(name.clone(), Value::Object(m));
        out.push((name, names));
    }
    if !all.is_empty() {
        s.insert("pipelines".into(), Value::Object(all));
    }
    Ok(out)
}

fn services(
    d: &mut Draw,
    s: &mut Map<String, Value>,
    cx: &Ctx,
    pipelines: &[(String, Vec<String>)],
) -> Result<Vec<String>> {
    let mut all = Map::new();
    let mut out = Vec::new();
    for _ in 0..d.upto(2)? {
        let name = d.name()?;
        // A service and a pipeline may not share a name (rarely they do).
        if all.contains_key(&name) || (pipelines.iter().any(|(p, _)| *p == name) && !d.chance(5)?) {
            continue;
        }
        let mut m = Map::new();
        let img = if d.chance(2)? {
            None
        } else {
            Some(d.upto(cx.images.len() - 1)?)
        };
        m.insert(
            "image".into(),
            json!(img.map_or_else(|| "missing".to_string(), |i| cx.images[i].clone())),
        );
        let port = if d.chance(70)? {
            d.pick(&[8080u32, 8000, 80, 443, 9000])?
        } else {
            d.range(1, 65535)?
        };
        m.insert("port".into(), json!(port));
        if d.chance(25)? {
            m.insert("command".into(), d.strings(1, 3)?);
        }
        if d.chance(40)? {
            let mut h = Map::new();
            if d.chance(70)? {
                h.insert("path".into(), json!("/healthz"));
            }
            if d.chance(50)? {
                h.insert("ready".into(), json!("/readyz"));
            }
            if d.chance(30)? {
                h.insert("initial_delay".into(), json!(d.range(0, 120)?));
            }
            m.insert("health".into(), Value::Object(h));
        }
        if d.chance(30)? {
            m.insert("replicas".into(), json!(d.range(1, 4)?));
        } else if d.chance(25)? {
            let min = d.range(1, 3)?;
            let mut a = Map::new();
            a.insert("min".into(), json!(min));
            a.insert("max".into(), json!(min + d.range(0, 7)?));
            if d.chance(50)? {
                a.insert("cpu".into(), json!(d.range(50, 90)?));
            }
            m.insert("autoscale".into(), Value::Object(a));
        }
        if d.chance(35)? {
            let mut e = Map::new();
            if d.chance(30)? {
                e.insert("port".into(), json!(d.pick(&[80u32, 8080, 443])?));
            }
            if d.chance(60)? {
                e.insert("host".into(), json!(format!("{name}.{}.example.com", cx.project)));
                if d.chance(40)? {
                    e.insert("path".into(), json!(d.pick(&["/", "/api", "/v1/predict"])?));
                }
                if d.chance(30)? {
                    e.insert("ingress_class".into(), json!(d.pick(&["nginx", "traefik"])?));
                }
                if d.chance(30)? {
                    e.insert("tls_secret".into(), json!(format!("{name}-tls")));
                }
            }
            m.insert("expose".into(), Value::Object(e));
        }
        refs(d, &mut m, cx)?;
        resources(d, &mut m, img.is_some_and(|i| cx.cuda[i]))?;
        all.insert(name.clone(), Value::Object(m));
        out.push(name);
    }
    if !all.is_empty() {
        s.insert("services".into(), Value::Object(all));
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn environments(
    d: &mut Draw,
    s: &mut Map<String, Value>,
    cx: &mut Ctx,
    base_tag: bool,
    pipelines: &[(String, Vec<String>)],
    services: &[String],
) -> Result<()> {
    let mut all = Map::new();
    for i in 0..d.upto(3)? {
        let name = if d.chance(70)? {
            d.pick(ENVS)?.to_string()
        } else {
            d.name()?
        };
        if all.contains_key(&name) {
            continue;
        }
        let mut m = Map::new();
        // At most one environment in the project's namespace: two would share it.
        let namespace = if i > 0 || d.chance(50)? {
            let ns = format!("{}-{name}", cx.project);
            m.insert("namespace".into(), json!(ns));
            ns
        } else {
            cx.namespace.clone()
        };
        if d.chance(15)? {
            m.insert("registry".into(), json!(format!("registry.example.com/{}", cx.project)));
        }
        if !base_tag || d.chance(40)? {
            // `latest` is refused: rarely.
            let tag = if d.chance(2)? {
                "latest".to_string()
            } else if d.chance(60)? {
                name.clone()
            } else {
                d.pick(&TAGS[..5])?.to_string()
            };
            m.insert("tag".into(), json!(tag));
        }
        let mut config = Map::new();
        for _ in 0..d.upto(2)? {
            if !cx.config.is_empty() && d.chance(60)? {
                let k = cx.config[d.upto(cx.config.len() - 1)?].clone();
                let v = if d.chance(20)? { Value::Null } else { json!(d.value()?) };
                config.insert(k, v);
            } else {
                let k = d.env_key()?;
                config.insert(k, json!(d.value()?));
            }
        }
        if !config.is_empty() {
            m.insert("config".into(), Value::Object(config));
        }
        let mut secrets = Map::new();
        // A SOPS file names its namespace: each environment elsewhere needs its own file.
        if namespace != cx.namespace {
            for (secret, keys) in &cx.sops {
                let file = format!("secrets/{secret}.{name}.sops.yaml");
                let object = format!("{}-{secret}", cx.project);
                cx.files
                    .insert(file.clone(), files::sops_secret(&object, &namespace, keys).into_bytes());
                secrets.insert(secret.clone(), json!({ "file": file }));
            }
        }
        for secret in d.some_of(&cx.external, 1)? {
            secrets.insert(secret, json!({ "store": format!("{name}-store") }));
        }
        if !secrets.is_empty() {
            m.insert("secrets".into(), Value::Object(secrets));
        }
        if d.chance(20)? {
            let img = d.reference(&cx.images)?;
            m.insert(
                "images".into(),
                json!({ img: { "digest": format!("sha256:{}", "0123456789abcdef".repeat(4)) } }),
            );
        }
        for v in d.some_of(&cx.volumes, 1)? {
            m.insert("volumes".into(), json!({ v: { "size": "100Gi" } }));
        }
        if !pipelines.is_empty() && d.chance(40)? {
            let (p, steps) = &pipelines[d.upto(pipelines.len() - 1)?];
            let v = match d.upto(3)? {
                0 => Value::Null,
                1 => json!({ "schedule": "@daily" }),
                2 => json!({ "schedule": null }),
                _ => json!({ "steps": { (steps[0].clone()): { "retries": 3, "memory": "3Gi" } } }),
            };
            m.insert("pipelines".into(), json!({ p: v }));
        }
        if !services.is_empty() && d.chance(40)? {
            let svc = &services[d.upto(services.len() - 1)?];
            let n = d.range(1, 5)?;
            let v = match d.upto(5)? {
                0 => Value::Null,
                1 => json!({ "replicas": n }),
                2 => json!({ "autoscale": null }),
                3 => json!({ "expose": { "host": format!("{name}.{svc}.example.com") } }),
                4 => json!({ "memory": format!("{n}Gi") }),
                _ => json!({ "env": { "EXTRA_SETTING": format!("value {n}") } }),
            };
            m.insert("services".into(), json!({ svc: v }));
        }
        all.insert(name, Value::Object(m));
    }
    if !all.is_empty() {
        s.insert("environments".into(), Value::Object(all));
    }
    Ok(())
}

/// A spec's JSON form and the project files it names.
pub fn spec(u: &mut Unstructured) -> Result<(Value, MemProject)> {
    let hostile = !u.is_empty() && u.int_in_range(0..=99u8)? < 5;
    let d = &mut Draw(u, hostile);
    let mut cx = Ctx::default();
    let mut s = Map::new();
    s.insert("apiVersion".into(), json!("mlship/v1"));
    cx.project = if d.chance(70)? {
        d.pick(&["fz", "fraud-detection", "p", "ml"])?.to_string()
    } else {
        d.name()?
    };
    s.insert("project".into(), json!(cx.project));
    cx.namespace = cx.project.clone();
    if d.chance(50)? {
        cx.namespace = format!("{}-ns", cx.project);
        s.insert("namespace".into(), json!(cx.namespace));
    }
    s.insert(
        "registry".into(),
        json!(format!("{}/{}", d.pick(REGISTRIES)?, cx.project)),
    );
    let base_tag = d.chance(60)?;
    if base_tag {
        s.insert("tag".into(), json!(d.pick(&TAGS[..5])?));
    }
    if d.chance(30)? {
        s.insert("kubernetes".into(), json!(d.pick(KUBERNETES)?));
    }
    // Drawn first: whether SOPS secrets may be used depends on it.
    let gitops = if d.chance(30)? {
        Some(d.pick(&["argocd", "flux"])?)
    } else {
        None
    };
    cx.files
        .insert("requirements.txt".into(), files::REQUIREMENTS.as_bytes().to_vec());
    cx.files.insert("src/app.py".into(), b"print('hi')\n".to_vec());
    images(d, &mut s, &mut cx)?;
    let config = d.env(4)?;
    cx.config = config.keys().cloned().collect();
    if !config.is_empty() {
        s.insert("config".into(), Value::Object(config));
    }
    secrets(d, &mut s, &mut cx, gitops == Some("argocd"))?;
    volumes(d, &mut s, &mut cx)?;
    let pipelines = pipelines(d, &mut s, &cx)?;
    let services = services(d, &mut s, &cx, &pipelines)?;
    if d.chance(25)? {
        cx.files
            .insert("k8s/extra.yaml".into(), files::extra_manifest(&cx.project).into_bytes());
        s.insert("manifests".into(), json!(["k8s/extra.yaml"]));
    }
    if d.chance(5)? {
        // A file that is not there.
        s.insert("manifests".into(), json!(["k8s/missing.yaml"]));
    }
    environments(d, &mut s, &mut cx, base_tag, &pipelines, &services)?;
    if !base_tag && !s.contains_key("environments") {
        // Without environments the base spec is deployed as is: it needs its tag.
        s.insert("tag".into(), json!("1.0.0"));
    }
    if let Some(engine) = gitops {
        let mut g = Map::new();
        g.insert("engine".into(), json!(engine));
        g.insert(
            "repo".into(),
            json!(format!("https://git.example.com/acme/{}.git", cx.project)),
        );
        if d.chance(50)? {
            g.insert("path".into(), json!(format!("deploy/{}", cx.project)));
        }
        if d.chance(40)? {
            g.insert("revision".into(), json!(d.pick(&["main", "v1.2.0", "release/1.x"])?));
        }
        s.insert("gitops".into(), Value::Object(g));
    }
    Ok((Value::Object(s), MemProject(cx.files)))
}

// ---------------------------------------------------------------------------------------
// KDL, by the generic rules of compiler/src/syntax/kdl.rs (docs/spec.md, "KDL form")

fn kdl_string(s: &str) -> String {
    let mut q = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') =>
            {
                q.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn kdl_ident(s: &str) -> String {
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

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

/// KDL text of a spec value. `keyed` chooses, per map of maps, between keyed nodes
/// (`images "app" stack=python`) and a nested block; scalars are properties of keyed nodes.
pub fn to_kdl(v: &Value, keyed: &mut dyn FnMut() -> bool) -> String {
    let mut out = String::new();
    if let Value::Object(m) = v {
        kdl_block(&mut out, m, 0, keyed);
    }
    out
}

fn kdl_block(out: &mut String, m: &Map<String, Value>, indent: usize, keyed: &mut dyn FnMut() -> bool) {
    for (k, v) in m {
        match v {
            Value::Object(inner) if !inner.is_empty() && inner.values().all(Value::is_object) && keyed() => {
                for (ek, ev) in inner {
                    let Value::Object(em) = ev else { unreachable!("checked") };
                    kdl_node(out, indent, k, Some(ek), em, keyed);
                }
            }
            Value::Object(inner) => kdl_node(out, indent, k, None, inner, keyed),
            Value::Array(items) => kdl_list(out, indent, k, items, keyed),
            scalar => out.push_str(&format!(
                "{}{} {}\n",
                "    ".repeat(indent),
                kdl_ident(k),
                kdl_scalar(scalar)
            )),
        }
    }
}

fn kdl_list(out: &mut String, indent: usize, k: &str, items: &[Value], keyed: &mut dyn FnMut() -> bool) {
    let pad = "    ".repeat(indent);
    out.push_str(&pad);
    out.push_str(&kdl_ident(k));
    if items.iter().all(is_scalar) {
        for i in items {
            out.push(' ');
            out.push_str(&kdl_scalar(i));
        }
        out.push('\n');
        return;
    }
    out.push_str(" {\n");
    for i in items {
        match i {
            Value::Object(m) => kdl_node(out, indent + 1, "-", None, m, keyed),
            scalar => out.push_str(&format!("{pad}    - {}\n", kdl_scalar(scalar))),
        }
    }
    out.push_str(&pad);
    out.push_str("}\n");
}

fn kdl_node(
    out: &mut String,
    indent: usize,
    name: &str,
    key: Option<&str>,
    m: &Map<String, Value>,
    keyed: &mut dyn FnMut() -> bool,
) {
    let pad = "    ".repeat(indent);
    let mut props = Vec::new();
    let mut children = Map::new();
    for (k, v) in m {
        if is_scalar(v) && key.is_some() {
            props.push(format!("{}={}", kdl_ident(k), kdl_scalar(v)));
        } else {
            children.insert(k.clone(), v.clone());
        }
    }
    out.push_str(&pad);
    out.push_str(&if name == "-" { "-".to_string() } else { kdl_ident(name) });
    if let Some(key) = key {
        out.push(' ');
        out.push_str(&kdl_string(key));
    }
    for p in &props {
        out.push(' ');
        out.push_str(p);
    }
    // A keyed node needs properties or children; an empty map gets an empty block.
    if !children.is_empty() || props.is_empty() {
        out.push_str(" {\n");
        kdl_block(out, &children, indent + 1, keyed);
        out.push_str(&pad);
        out.push('}');
    }
    out.push('\n');
}

/// The `compile` target's input. The first byte is not part of the spec: bit 0 picks the
/// syntax (0 YAML, 1 KDL) and bit 1 the mode: 0 the rest is the spec's raw bytes, compiled
/// with an empty project (the seeds: YAML with 0x00 in front, KDL with 0x01); 1 the rest
/// drives the spec generator, which also gives the project files. Gives the file name, the
/// spec's bytes and the project.
pub fn compile_input(data: &[u8]) -> Option<(&'static str, Vec<u8>, MemProject)> {
    let (&selector, rest) = data.split_first()?;
    let name = if selector & 1 == 0 { "mlship.yaml" } else { "mlship.kdl" };
    if selector & 2 == 0 {
        return Some((name, rest.to_vec(), MemProject::default()));
    }
    let mut u = Unstructured::new(rest);
    // An exhausted `Unstructured` gives zeros and defaults, never an error; keep the rule.
    let (value, project) = spec(&mut u).ok()?;
    let text = if selector & 1 == 0 {
        mlship::yamlout::to_yaml(&value)
    } else {
        // What the spec left of the bytes picks the KDL forms.
        let mut forms = Unstructured::new(u.take_rest());
        let mut keyed = move || forms.arbitrary::<bool>().unwrap_or(true);
        to_kdl(&value, &mut keyed)
    };
    Some((name, text.into_bytes(), project))
}
