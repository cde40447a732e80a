//! Semantic checks on a typed spec.
//!
//! Takes: a [`Spec`] (the base, or one environment's merged spec). Gives: diagnostics with
//! document paths (spans are resolved later against the tree the spec came from). Checks
//! every reference, the step graph, names and the object names derived from them,
//! quantities, schedules, ports, autoscaling, GPUs, paths, and credentials in plain config.

use crate::diag::{Code, Diagnostic, Severity};
use crate::names;
/// The crate's one "did you mean", here for the callers that knew it as `check::closest`.
pub use crate::schema_common::closest;
use crate::source::{Path, Seg};
use crate::spec::{PipelineEngine, Policy, Resources, Spec, Waiver};
use crate::units::{Quantity, check_cron, parse_duration};
use std::collections::BTreeMap;

/// Kubernetes minor versions mlship targets (and has schemas for).
mod notebooks;
mod pods;
mod serving;
mod sources;
mod training;
mod workflows;
pub use notebooks::MAX_NOTEBOOK_NAME;
pub use workflows::type_of;

pub const KUBERNETES_VERSIONS: &[&str] = &["1.33", "1.34", "1.35", "1.36", "1.37"];

pub fn check(spec: &Spec) -> Vec<Diagnostic> {
    let mut c = Checker {
        out: Vec::new(),
        waivers: &spec.waivers,
    };
    c.spec(spec);
    c.out
}

struct Checker<'a> {
    out: Vec<Diagnostic>,
    waivers: &'a [Waiver],
}

fn p(keys: &[&str]) -> Path {
    Path::of(keys)
}

/// Where a workload's container mounts folders, and whether read-only: /tmp, its scratch
/// folders (and /dev/shm), its volumes (read-only CSI ones) and the secrets it mounts as
/// files (read-only).
fn mount_paths<'a>(
    s: &'a Spec,
    mounts: &'a BTreeMap<String, String>,
    secrets: &[String],
    r: &'a Resources,
) -> Vec<(&'a str, bool)> {
    let mut out = vec![("/tmp", false), ("/dev/shm", false)];
    out.extend(r.scratch.keys().map(|p| (p.as_str(), false)));
    out.extend(mounts.iter().map(|(vol, p)| {
        let read_only = s
            .volumes
            .get(vol)
            .and_then(|v| v.csi.as_ref())
            .is_some_and(|c| c.read_only);
        (p.as_str(), read_only)
    }));
    out.extend(
        secrets
            .iter()
            .filter_map(|n| Some((s.secrets.get(n)?.mount.as_deref()?, true))),
    );
    out
}

impl Checker<'_> {
    fn err(&mut self, code: Code, path: Path, message: String, help: impl Into<String>) {
        self.out.push(Diagnostic::error(code, message).at(path).help(help));
    }

    fn warn(&mut self, code: Code, path: Path, message: String, help: impl Into<String>) {
        self.out.push(
            Diagnostic {
                severity: Severity::Warning,
                ..Diagnostic::error(code, message)
            }
            .at(path)
            .help(help),
        );
    }

    fn spec(&mut self, s: &Spec) {
        self.rules(s);
        self.every_string(s);
    }

    /// Every other string of the spec that reaches the output (remote references, paths,
    /// names, tags): no key format, private key or password in a URL. Config, env, commands,
    /// node selectors and the repository were judged by their own rules; patches are judged in
    /// the objects they patch, and environments in their merged specs.
    fn every_string(&mut self, s: &Spec) {
        /// The strings with a credential in them, at their paths: one path is kept while
        /// walking, and copied only for a finding (nearly every string has none).
        fn walk(v: &serde_json::Value, at: &mut Path, out: &mut Vec<(Path, String)>) {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, child) in m {
                        if at.0.is_empty() && ["patches", "waivers", "environments"].contains(&k.as_str()) {
                            continue;
                        }
                        at.0.push(Seg::Key(k.clone()));
                        walk(child, at, out);
                        at.0.pop();
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        at.0.push(Seg::Index(i));
                        walk(item, at, out);
                        at.0.pop();
                    }
                }
                serde_json::Value::String(text) => {
                    if let Some(f) = crate::secrets::in_text(text).filter(|f| !f.waivable) {
                        out.push((at.clone(), f.why));
                    }
                }
                _ => {}
            }
        }
        let mut found = Vec::new();
        walk(
            &serde_json::to_value(s).unwrap_or_default(),
            &mut Path::root(),
            &mut found,
        );
        if found.is_empty() {
            return;
        }
        let judged: std::collections::BTreeSet<Path> = self
            .out
            .iter()
            .filter(|d| d.code == Code::Credential)
            .filter_map(|d| d.path.clone())
            .collect();
        for (at, why) in found {
            if judged.contains(&at) {
                continue;
            }
            self.err(
                Code::Credential,
                at,
                format!("this value looks like a credential ({why}); it would be written into the output"),
                "keep credentials out of the spec: declare them under `secrets:` and list them on the workload",
            );
        }
    }

    fn rules(&mut self, s: &Spec) {
        use crate::syntax::{MAX_ENVIRONMENTS, MAX_IMAGES, MAX_SERVICES, MAX_STEPS};
        let steps: usize = s.pipelines.values().map(|p| p.steps.len()).sum();
        for (key, count, max) in [
            ("images", s.images.len(), MAX_IMAGES),
            ("services", s.services.len(), MAX_SERVICES),
            ("notebooks", s.notebooks.len(), MAX_SERVICES),
            ("pipelines", steps, MAX_STEPS),
            ("environments", s.environments.len(), MAX_ENVIRONMENTS),
        ] {
            if count > max {
                let what = if key == "pipelines" { "pipeline steps" } else { key };
                self.err(
                    Code::Limit,
                    p(&[key]),
                    format!("{count} {what}; the limit is {max}"),
                    "split the project into several specs",
                );
            }
        }
        self.name(&p(&["project"]), &s.project, "project");
        if !s.project.starts_with(|c: char| c.is_ascii_lowercase()) && names::is_dns_label(&s.project) {
            self.err(
                Code::InvalidName,
                p(&["project"]),
                format!("project `{}` must start with a letter", s.project),
                "start the project name with a letter; Kubernetes Service names derived from it must (DNS-1035)",
            );
        }
        if let Some(ns) = &s.namespace {
            self.name(&p(&["namespace"]), ns, "namespace");
        }
        if let Some(v) = &s.kubernetes
            && !KUBERNETES_VERSIONS.contains(&v.as_str())
        {
            self.err(
                Code::KubernetesVersion,
                p(&["kubernetes"]),
                format!("Kubernetes {v} is not supported"),
                format!("use one of {}", KUBERNETES_VERSIONS.join(", ")),
            );
        }
        if let Some(tag) = &s.tag {
            self.tag(&p(&["tag"]), tag);
        }
        for (name, img) in &s.images {
            let at = p(&["images", name]);
            self.name(&at, name, "image");
            self.image_source(&at, name, img);
            if let Some(req) = &img.requirements {
                self.rel_path(&at.key("requirements"), req);
            }
            for (i, c) in img.copy.iter().enumerate() {
                self.rel_path(&at.key("copy").index(i), c);
            }
            for (key, d) in [
                ("digest", &img.digest),
                ("base_digest", &img.base_digest),
                ("builder_digest", &img.builder_digest),
            ] {
                if let Some(d) = d {
                    self.digest(&at.key(key), d);
                }
            }
            if let Some(t) = &img.template {
                self.rel_path(&at.key("template"), t);
            }
            for (i, pkg) in img.system_packages.iter().enumerate() {
                if !names::is_debian_package(pkg) {
                    self.err(
                        Code::BadValue,
                        at.key("system_packages").index(i),
                        format!("`{pkg}` is not a Debian package name"),
                        "use a name such as libgomp1, optionally pinned as libgomp1=12.2.0-14",
                    );
                }
            }
            if let Some(url) = &img.index_url {
                if !url.starts_with("https://")
                    || !url
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ":/._~%-?=&+@".contains(c))
                {
                    self.err(
                        Code::BadValue,
                        at.key("index_url"),
                        format!("`{url}` is not an https URL"),
                        "use https://host/simple; credentials come from the build secret `netrc`",
                    );
                } else if let Some(why) = crate::secrets::looks_like_credential("index_url", url) {
                    self.err(
                        Code::Credential,
                        at.key("index_url"),
                        format!("`index_url` carries a credential ({why})"),
                        "remove the user and password; give them to the build as the secret `netrc`",
                    );
                }
            }
            for (i, arg) in img.command.iter().enumerate() {
                self.plain_text(&at.key("command").index(i), arg);
                self.text_credential(&at.key("command").index(i), arg, None, None);
            }
            self.env_values(&at.key("env"), &img.env, None);
        }
        let config_map = format!("ConfigMap/{}-config", s.project);
        self.env_values(&p(&["config"]), &s.config, Some(&config_map));
        self.secrets(s);
        self.volumes(s);
        self.shared_claims(s);
        self.files(s);
        for (pname, pipe) in &s.pipelines {
            self.pipeline(s, pname, pipe);
            if let Some(a) = &pipe.service_account {
                let object = format!("ServiceAccount/{}", names::workload(&s.project, pname));
                self.annotations(
                    &p(&["pipelines", pname, "service_account", "annotations"]),
                    &a.annotations,
                    &object,
                );
            }
        }
        for name in s.pipelines.keys().filter(|n| s.services.contains_key(*n)) {
            self.err(
                Code::Conflict,
                p(&["pipelines", name]),
                format!("`{name}` names both a pipeline and a service"),
                "both would render a ServiceAccount and a NetworkPolicy with the same name; rename one",
            );
        }
        for (name, svc) in &s.services {
            let at = p(&["services", name]);
            let object = format!("Deployment/{}", names::workload(&s.project, name));
            self.name(&at, name, "service");
            self.object_name(&at, &format!("{}-{name}", s.project), 63);
            if let Some(image) = &svc.image {
                self.image_ref(s, &at.key("image"), image);
            }
            self.resources(
                s,
                &at,
                svc.image.as_deref().unwrap_or_default(),
                &svc.resources,
                &object,
            );
            self.refs(s, &at, &svc.secrets, &svc.mounts);
            self.env_values(&at.key("env"), &svc.env, Some(&object));
            if let Some(port) = svc.port {
                self.port(&at.key("port"), port);
            }
            self.model_serving(s, &at, svc);
            for (i, arg) in svc.command.iter().enumerate() {
                self.plain_text(&at.key("command").index(i), arg);
                self.text_credential(&at.key("command").index(i), arg, Some(&object), None);
            }
            self.serving(&at, svc, &object);
            let taken = mount_paths(s, &svc.mounts, &svc.secrets, &svc.resources);
            self.pod_extras(s, &at, &svc.pod, ("server", &taken), &object);
            self.env_sources(s, &at, &svc.env, &svc.secrets, &svc.pod.env_from);
            if let Some(a) = &svc.autoscale {
                let aat = at.key("autoscale");
                if a.min > a.max {
                    self.err(
                        Code::Autoscale,
                        aat.key("min"),
                        format!("autoscale `min` ({}) is greater than `max` ({})", a.min, a.max),
                        "make `min` less than or equal to `max`",
                    );
                }
                for (k, v) in [("cpu", a.cpu), ("memory", a.memory)] {
                    if let Some(v) = v.filter(|v| !(1..=1000).contains(v)) {
                        self.err(
                            Code::Autoscale,
                            aat.key(k),
                            format!("target utilisation {v}% is out of range"),
                            "use a percentage of the request between 1 and 1000, typically 60 to 80",
                        );
                    }
                }
                if svc.replicas.is_some() {
                    self.warn(
                        Code::Conflict,
                        at.key("replicas"),
                        "`replicas` is ignored while `autoscale` is set".into(),
                        "remove `replicas`; the autoscaler owns the replica count",
                    );
                }
            }
        }
        for (name, nb) in &s.notebooks {
            self.notebook(s, name, nb);
        }
        for (name, env) in &s.environments {
            self.name(&p(&["environments", name]), name, "environment");
            if let Some(tag) = &env.tag {
                self.tag(&p(&["environments", name, "tag"]), tag);
            }
        }
        for (i, w) in s.waivers.iter().enumerate() {
            if w.key.is_some() && w.policy != Policy::NoPlaintextSecrets {
                self.err(
                    Code::Conflict,
                    p(&["waivers"]).index(i).key("key"),
                    "`key` is only for waivers of `no-plaintext-secrets`".into(),
                    "remove `key`; other policies are waived for the whole object",
                );
            }
        }
        if let Some(dir) = &s.stdlib {
            self.rel_path(&p(&["stdlib"]), dir);
        }
        if !names::is_registry(&s.registry) {
            self.err(
                Code::BadValue,
                p(&["registry"]),
                format!("`{}` is not an image repository", s.registry),
                "write host/path in lowercase, such as ghcr.io/acme/fraud",
            );
        }
        if let Some(g) = &s.gitops {
            if let Some(path) = &g.path {
                self.rel_path(&p(&["gitops", "path"]), path);
            }
            if !(g.repo.starts_with("https://")
                || g.repo.starts_with("ssh://")
                || g.repo.starts_with("git@")
                || g.repo.starts_with("http://"))
            {
                self.err(
                    Code::BadValue,
                    p(&["gitops", "repo"]),
                    format!("`{}` is not a git URL", g.repo),
                    "use https://, ssh:// or git@host:org/repo.git",
                );
            } else if let Some(f) = crate::secrets::in_text(&g.repo) {
                self.err(
                    Code::Credential,
                    p(&["gitops", "repo"]),
                    format!(
                        "`gitops.repo` carries a credential ({}); it would be written into gitops/*.yaml and into every image's source label",
                        f.why
                    ),
                    "remove it from the URL; give the engine read access with a repository Secret (Argo CD) or the GitRepository's `secretRef` (Flux)",
                );
            } else if g.engine == crate::spec::Engine::Flux && g.repo.starts_with("git@") {
                let ssh = g.repo.replacen(':', "/", 1).replacen("git@", "ssh://git@", 1);
                self.err(
                    Code::BadValue,
                    p(&["gitops", "repo"]),
                    format!("Flux does not accept the scp-style address `{}`", g.repo),
                    format!("write it as a URL: {ssh}"),
                );
            }
        }
    }

    fn pipeline(&mut self, s: &Spec, pname: &str, pipe: &crate::spec::Pipeline) {
        let at = p(&["pipelines", pname]);
        self.name(&at, pname, "pipeline");
        if pipe.steps.is_empty() {
            self.err(
                Code::MissingKey,
                at.key("steps"),
                format!("pipeline `{pname}` has no steps"),
                "add at least one step",
            );
        }
        if let Some(sched) = &pipe.schedule {
            if let Err(e) = check_cron(sched) {
                self.err(
                    Code::Schedule,
                    at.key("schedule"),
                    e,
                    "for example \"0 3 * * 0\" runs on Sundays at 03:00, \"@daily\" at midnight",
                );
            }
            self.object_name(&at, &names::cronjob(&s.project, pname), 52);
        }
        let argo = s.engine_of(pipe) == PipelineEngine::ArgoWorkflows;
        self.workflow_fields(s, pname, pipe, argo);
        self.kueue(s, &at, pipe);
        for (sname, step) in &pipe.steps {
            let sat = at.key("steps").key(sname);
            self.name(&sat, sname, "step");
            if pipe.schedule.is_none() && !argo {
                self.object_name(&sat, &names::job(&s.project, pname, sname, "00000000"), 63);
            }
            let object = if argo {
                format!("WorkflowTemplate/{}", names::workload(&s.project, pname))
            } else if pipe.schedule.is_some() {
                format!("CronJob/{}", names::cronjob(&s.project, pname))
            } else {
                let job = names::job(&s.project, pname, sname, "00000000");
                format!("Job/{}", names::stable_name("Job", &job))
            };
            self.image_ref(s, &sat.key("image"), &step.image);
            self.resources(s, &sat, &step.image, &step.resources, &object);
            self.refs(s, &sat, &step.secrets, &step.mounts);
            self.env_values(&sat.key("env"), &step.env, Some(&object));
            let main = if argo { "main" } else { sname.as_str() };
            let taken = mount_paths(s, &step.mounts, &step.secrets, &step.resources);
            self.pod_extras(s, &sat, &step.pod, (main, &taken), &object);
            self.env_sources(s, &sat, &step.env, &step.secrets, &step.pod.env_from);
            for (i, arg) in step.run.iter().enumerate() {
                self.plain_text(&sat.key("run").index(i), arg);
                self.text_credential(&sat.key("run").index(i), arg, Some(&object), None);
            }
            if step.run.is_empty() {
                self.err(
                    Code::MissingKey,
                    sat.key("run"),
                    format!("step `{sname}` has an empty `run`"),
                    "give the command to run, e.g. [python, -m, pkg.train]",
                );
            }
            if let Some(t) = &step.timeout
                && let Err(e) = parse_duration(t)
            {
                self.err(
                    Code::Duration,
                    sat.key("timeout"),
                    e,
                    "write a duration such as 30m, 4h or 1h30m",
                );
            }
            for (i, need) in step.needs.iter().enumerate() {
                if !pipe.steps.contains_key(need) {
                    self.unresolved(sat.key("needs").index(i), "step", need, pipe.steps.keys());
                } else if need == sname {
                    self.err(
                        Code::Cycle,
                        sat.key("needs").index(i),
                        format!("step `{sname}` needs itself"),
                        "remove it from its own `needs`",
                    );
                }
            }
        }
        if let Some(cycle) = find_cycle(&pipe.steps) {
            let first = &cycle[0];
            let idx = pipe.steps[first].needs.iter().position(|n| *n == cycle[1]).unwrap_or(0);
            self.err(
                Code::Cycle,
                at.key("steps").key(first).key("needs").index(idx),
                format!("steps depend on each other in a cycle: {}", cycle.join(" -> ")),
                "remove one of these `needs` so the steps can run in order",
            );
        }
    }

    fn resources(&mut self, s: &Spec, at: &Path, image: &str, r: &Resources, object: &str) {
        for (key, class, kind) in [
            ("priority_class", &r.priority_class, "PriorityClass"),
            ("runtime_class", &r.runtime_class, "RuntimeClass"),
        ] {
            let Some(class) = class else { continue };
            if !names::is_dns_subdomain(class) || class.len() > 253 {
                self.err(
                    Code::InvalidName,
                    at.key(key),
                    format!("`{class}` is not a valid {kind} name"),
                    "class names are lowercase DNS names, such as serving-high or nvidia",
                );
            } else if key == "priority_class" && class.starts_with("system-") {
                self.err(
                    Code::Conflict,
                    at.key(key),
                    format!("`{class}` is reserved for the cluster's own pods in kube-system"),
                    "ask the cluster admins for a PriorityClass for workloads, such as serving-high",
                );
            }
        }
        if let Some(cpu) = &r.cpu {
            self.quantity(&at.key("cpu"), &cpu.text(), true);
        }
        if let Some(cpu) = &r.cpu_limit {
            self.quantity(&at.key("cpu_limit"), &cpu.text(), true);
            let req = r.cpu.as_ref().and_then(|c| Quantity::parse(&c.text()).ok());
            if let (Some(req), Ok(lim)) = (req, Quantity::parse(&cpu.text()))
                && lim.milli < req.milli
            {
                self.err(
                    Code::Conflict,
                    at.key("cpu_limit"),
                    "`cpu_limit` is lower than `cpu`".into(),
                    "the limit must be at least the request",
                );
            }
        }
        if let Some(m) = &r.memory {
            self.quantity(&at.key("memory"), &m.text(), false);
        }
        if let Some(lim) = &r.memory_limit {
            self.quantity(&at.key("memory_limit"), &lim.text(), false);
            let req = r.memory.as_ref().and_then(|m| Quantity::parse(&m.text()).ok());
            if let (Some(req), Ok(l)) = (req, Quantity::parse(&lim.text()))
                && l.milli < req.milli
            {
                self.err(
                    Code::Conflict,
                    at.key("memory_limit"),
                    "`memory_limit` is lower than `memory`".into(),
                    "the limit must be at least the request",
                );
            }
        }
        if let Some(e) = &r.ephemeral_storage {
            self.quantity(&at.key("ephemeral_storage"), &e.text(), false);
        }
        if let Some(crate::spec::Shm::Size(size)) = &r.shm {
            self.quantity(&at.key("shm"), &size.text(), false);
        }
        for (path, scratch) in &r.scratch {
            let sat = at.key("scratch").key(path);
            self.abs_path(&sat, path);
            self.quantity(&sat.key("size"), &scratch.size.text(), false);
            if path == "/tmp" || path == "/dev/shm" {
                self.err(
                    Code::Conflict,
                    sat,
                    format!("`{path}` is already a scratch folder of every pod"),
                    "choose another path, such as /cache; size /dev/shm with `shm`",
                );
            }
        }
        if r.gpu.is_some_and(|g| g > 0)
            && let Some(img) = s.images.get(image)
            && img.stack.is_some()
            && img.cuda.is_none()
        {
            self.out.push(
                Diagnostic::error(
                    Code::GpuWithoutCuda,
                    format!("this workload asks for GPUs but image `{image}` has no CUDA"),
                )
                .at(at.key("gpu"))
                .help(format!(
                    "set `cuda:` on image `{image}`, e.g. cuda: \"12.4\", or remove `gpu`"
                )),
            );
        }
        for (k, v) in &r.node_selector {
            if !names::is_label_key(k) || !names::is_label_value(v) {
                let here = at.key("node_selector").key(k);
                let d = Diagnostic::error(Code::BadValue, format!("`{k}: {v}` is not a valid node label"));
                let d = if names::is_label_key(k) {
                    d.at(here)
                } else {
                    d.at_key(here)
                };
                self.out.push(d.help("keys are `[prefix/]name`, values at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"));
            }
            self.text_credential(&at.key("node_selector").key(k), v, Some(object), Some(k));
        }
        for (i, t) in r.tolerations.iter().enumerate() {
            let here = at.key("tolerations").index(i);
            if !t.key.is_empty() && !names::is_label_key(&t.key) {
                self.err(
                    Code::BadValue,
                    here.key("key"),
                    format!("`{}` is not a valid taint key", t.key),
                    "use a label key such as nvidia.com/gpu",
                );
            }
            if let Some(v) = &t.value {
                self.text_credential(&here.key("value"), v, Some(object), None);
                if !names::is_label_value(v) {
                    self.err(
                        Code::BadValue,
                        here.key("value"),
                        format!("`{v}` is not a valid taint value"),
                        "at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
                    );
                }
                if t.operator == Some(crate::spec::TolerationOperator::Exists) {
                    self.err(
                        Code::Conflict,
                        here.key("value"),
                        "operator `Exists` takes no value".into(),
                        "remove `value`, or use operator `Equal`",
                    );
                }
            }
        }
    }

    fn refs(&mut self, s: &Spec, at: &Path, secrets: &[String], mounts: &BTreeMap<String, String>) {
        for (i, name) in secrets.iter().enumerate() {
            if !s.secrets.contains_key(name) {
                self.unresolved(at.key("secrets").index(i), "secret", name, s.secrets.keys());
            }
        }
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (vol, path) in mounts {
            if !s.volumes.contains_key(vol) {
                self.unresolved(at.key("mounts").key(vol), "volume", vol, s.volumes.keys());
            }
            self.abs_path(&at.key("mounts").key(vol), path);
            if path == "/tmp" {
                self.err(
                    Code::Conflict,
                    at.key("mounts").key(vol),
                    "`/tmp` is reserved for the scratch volume".into(),
                    "mount the volume somewhere else, such as /data",
                );
            }
            if let Some(other) = seen.insert(path, vol) {
                self.err(
                    Code::Conflict,
                    at.key("mounts").key(vol),
                    format!("volumes `{other}` and `{vol}` mount at the same path `{path}`"),
                    "give each mount its own path",
                );
            }
        }
    }

    /// Exactly one of `stack` and `prebuilt`; a prebuilt image names one version and has
    /// nothing to build.
    fn image_source(&mut self, at: &Path, name: &str, img: &crate::spec::Image) {
        let Some(reference) = &img.prebuilt else {
            if img.stack.is_none() {
                self.err(
                    Code::MissingKey,
                    at.clone(),
                    format!("image `{name}` needs a `stack` or a `prebuilt` reference"),
                    "build it from a stdlib stack (`stack: fastapi`) or run an upstream image as it is (`prebuilt: vllm/vllm-openai:v0.8.5`)",
                );
            }
            return;
        };
        if img.stack.is_some() {
            self.err(
                Code::Conflict,
                at.key("prebuilt"),
                format!("image `{name}` has both a `stack` and a `prebuilt` reference"),
                "keep `stack` to build the image, or `prebuilt` to run an upstream image as it is",
            );
        }
        self.prebuilt(&at.key("prebuilt"), reference, "vllm/vllm-openai:v0.8.5");
        if reference.contains('@') && img.digest.is_some() {
            self.err(
                Code::Conflict,
                at.key("digest"),
                "the `prebuilt` reference already names a digest".into(),
                "keep one: the digest in the reference, or `digest` (which environments can set)",
            );
        }
        let build = [
            ("python", img.python.is_some()),
            ("cuda", img.cuda.is_some()),
            ("framework", img.framework.is_some()),
            ("requirements", img.requirements.is_some()),
            ("system_packages", !img.system_packages.is_empty()),
            ("copy", !img.copy.is_empty()),
            ("command", !img.command.is_empty()),
            ("index_url", img.index_url.is_some()),
            ("template", img.template.is_some()),
            ("env", !img.env.is_empty()),
            ("base_digest", img.base_digest.is_some()),
            ("builder_digest", img.builder_digest.is_some()),
        ];
        for (key, _) in build.iter().filter(|(_, set)| *set) {
            let help = match *key {
                "command" => "give the command in the `command` of the services (or `run` of the steps) that use it",
                "env" => "set runtime variables in the `env` of the services and steps that use it",
                _ => "remove it: mlship writes no Dockerfile for a prebuilt image",
            };
            self.err(
                Code::Conflict,
                at.key(key),
                format!("image `{name}` is prebuilt; `{key}` applies only to images mlship builds"),
                help,
            );
        }
    }

    fn image_ref(&mut self, s: &Spec, at: &Path, image: &str) {
        if !s.images.contains_key(image) {
            self.unresolved(at.clone(), "image", image, s.images.keys());
        }
    }

    fn unresolved<'a>(&mut self, at: Path, what: &str, name: &str, known: impl Iterator<Item = &'a String>) {
        let known: Vec<&String> = known.collect();
        let help = match (closest(name, known.iter().map(|k| k.as_str())), known.is_empty()) {
            (Some(k), _) => format!("did you mean `{k}`?"),
            (None, true) => format!("declare it under `{what}s:` first"),
            (None, false) => format!(
                "known {what}s: {}",
                known.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            ),
        };
        self.out.push(
            Diagnostic::error(Code::UnresolvedReference, format!("unknown {what} `{name}`"))
                .at(at)
                .label(format!("no {what} of this name"))
                .help(help),
        );
    }

    fn name(&mut self, at: &Path, name: &str, what: &str) {
        if !names::is_dns_label(name) {
            self.out.push(
                Diagnostic::error(Code::InvalidName, format!("{what} name `{name}` is not a valid Kubernetes name"))
                    .at(at.clone())
                    .help(format!("use lowercase letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters (e.g. `{}`)", names::suggest(name))),
            );
        }
    }

    fn object_name(&mut self, at: &Path, derived: &str, limit: usize) {
        if derived.len() > limit
            && derived
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            self.out.push(
                Diagnostic::error(
                    Code::NameTooLong,
                    format!(
                        "the derived object name `{derived}` is {} characters; Kubernetes allows {limit}",
                        derived.len()
                    ),
                )
                .at(at.clone())
                .help("shorten the project or this name"),
            );
        }
    }

    fn quantity(&mut self, at: &Path, text: &str, cpu: bool) {
        match Quantity::parse(text) {
            Err(e) => self.err(
                Code::Quantity,
                at.clone(),
                e,
                if cpu {
                    "write cores (\"2\", 0.5) or millicores (\"500m\")"
                } else {
                    "write bytes with a suffix, such as \"512Mi\" or \"8Gi\""
                },
            ),
            Ok(q) if q.milli == 0 => self.err(
                Code::Quantity,
                at.clone(),
                format!("`{text}` is zero"),
                "give a positive amount",
            ),
            Ok(q) if !cpu && q.milli % 1000 != 0 => self.err(
                Code::Quantity,
                at.clone(),
                format!("`{text}` is a fraction of a byte"),
                "memory and sizes use whole bytes, such as \"512Mi\"",
            ),
            Ok(_) => {}
        }
    }

    fn port(&mut self, at: &Path, port: u32) {
        if !(1..=65535).contains(&port) {
            self.err(
                Code::Port,
                at.clone(),
                format!("port {port} is out of range"),
                "use a port from 1 to 65535 (1024 or above, since containers run as non-root)",
            );
        }
    }

    fn tag(&mut self, at: &Path, tag: &str) {
        if tag == "latest" {
            self.err(
                Code::BadValue,
                at.clone(),
                "the `latest` tag is not allowed".into(),
                "use a version such as \"1.4.2\" or a commit id; GitOps needs a tag that names one build",
            );
        } else if tag.is_empty()
            || tag.len() > 128
            || !tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            || !tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            self.err(
                Code::BadValue,
                at.clone(),
                format!("`{tag}` is not a valid image tag"),
                "use letters, digits, `_`, `.` and `-`, at most 128 characters",
            );
        }
    }

    /// A prebuilt image (an `images` entry, or a notebook's): `host/path:tag` (not `latest`) or `host/path@sha256:<64 hex>`.
    fn prebuilt(&mut self, at: &Path, reference: &str, example: &str) {
        let (repo, version) = match reference.split_once('@') {
            Some((repo, digest)) => {
                self.digest(at, digest);
                (
                    repo.rsplit_once(':')
                        .filter(|(_, t)| !t.contains('/'))
                        .map_or(repo, |(r, _)| r),
                    None,
                )
            }
            None => match reference.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
                Some((repo, tag)) => (repo, Some(tag)),
                None => {
                    self.err(
                        Code::BadValue,
                        at.clone(),
                        format!("`{reference}` names no version"),
                        "add a tag (such as :v1.10.0) or a digest (@sha256:...); GitOps needs a reference that names one build",
                    );
                    return;
                }
            },
        };
        if let Some(tag) = version {
            self.tag(at, tag);
        }
        if !names::is_registry(repo) {
            self.err(
                Code::BadValue,
                at.clone(),
                format!("`{repo}` is not an image repository"),
                format!("write host/path in lowercase, such as {example}"),
            );
        }
    }

    fn digest(&mut self, at: &Path, d: &str) {
        let ok = d
            .strip_prefix("sha256:")
            .is_some_and(|h| h.len() == 64 && h.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        if !ok {
            self.err(
                Code::BadValue,
                at.clone(),
                format!("`{d}` is not an image digest"),
                "write `sha256:` followed by 64 lowercase hex digits",
            );
        }
    }

    fn url_path(&mut self, at: &Path, path: &str) {
        if !path.starts_with('/') || !path.chars().all(|c| c.is_ascii_alphanumeric() || "/._~-".contains(c)) {
            self.err(
                Code::Path,
                at.clone(),
                format!("`{path}` is not an HTTP path"),
                "start with `/` and use letters, digits and / . _ ~ -, such as /healthz",
            );
        }
    }

    fn rel_path(&mut self, at: &Path, path: &str) {
        if let Err(e) = names::check_relative_path(path) {
            self.err(
                Code::Path,
                at.clone(),
                e,
                "use a path relative to the spec's folder that stays inside the project",
            );
        }
    }

    fn abs_path(&mut self, at: &Path, path: &str) {
        let ok = path.starts_with('/')
            && path.len() > 1
            && !path.split('/').any(|c| c == "..")
            && !path.chars().any(|c| c.is_control() || c == ':');
        if !ok {
            self.err(
                Code::Path,
                at.clone(),
                format!("`{path}` is not an absolute container path"),
                "use an absolute path such as /artifacts",
            );
        }
    }

    /// Text that reaches a Dockerfile or a manifest: no control or line-separator characters.
    fn plain_text(&mut self, at: &Path, text: &str) {
        if !names::is_plain_text(text) {
            self.err(
                Code::BadValue,
                at.clone(),
                "the value contains a newline or another control character".into(),
                "write it on one line; control characters could inject Dockerfile instructions",
            );
        }
    }

    fn env_name(&mut self, at: &Path, name: &str) {
        let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            self.out.push(
                Diagnostic::error(
                    Code::InvalidName,
                    format!("`{name}` is not a valid environment variable name"),
                )
                .at_key(at.clone())
                .help("use letters, digits and `_`, not starting with a digit, such as MODEL_NAME"),
            );
        }
    }

    /// Variables: names and values. `object` is the rendered object they land in (what a
    /// waiver names); values baked into an image (`None`) cannot be waived.
    fn env_values(&mut self, at: &Path, vars: &BTreeMap<String, String>, object: Option<&str>) {
        for (k, v) in vars {
            let here = at.key(k);
            self.env_name(&here, k);
            self.plain_text(&here, v);
            if let Some(f) = crate::secrets::credential(k, v) {
                self.credential(
                    here,
                    format!(
                        "`{k}` looks like a credential ({}); plain config is not the place for it",
                        f.why
                    ),
                    f,
                    object,
                    Some(k),
                );
            }
        }
    }

    /// A command argument or another free text: known key formats, passwords in URLs,
    /// `NAME=value` pairs with a credential's name, random-looking tokens.
    fn text_credential(&mut self, at: &Path, text: &str, object: Option<&str>, key: Option<&str>) {
        if let Some(f) = crate::secrets::in_text(text) {
            let what = match key {
                Some(k) => format!("`{k}`"),
                None => "this argument".to_string(),
            };
            self.credential(
                at.clone(),
                format!(
                    "{what} looks like a credential ({}); it would be written into the output in plain text",
                    f.why
                ),
                f,
                object,
                key,
            );
        }
    }

    fn credential(
        &mut self,
        at: Path,
        message: String,
        f: crate::secrets::Finding,
        object: Option<&str>,
        key: Option<&str>,
    ) {
        let waivable = object.filter(|_| f.waivable);
        if let Some(object) = waivable
            && self.waivers.iter().any(|w| {
                w.policy == Policy::NoPlaintextSecrets
                    && w.object == object
                    && w.key.as_deref().is_none_or(|k| Some(k) == key)
            })
        {
            return;
        }
        let mut help = "declare it under `secrets:` (external-secrets, sealed-secrets or sops) and list that secret on the workload".to_string();
        match waivable {
            Some(object) => {
                let key = key.map(|k| format!(", key: {k}")).unwrap_or_default();
                help.push_str(&format!(
                    "; if it is not a credential, waive the rule with a reason: waivers: [{{policy: no-plaintext-secrets, object: {object}{key}, reason: \"...\"}}]"
                ));
            }
            None if object.is_none() && f.waivable => help.push_str("; values baked into an image cannot be waived"),
            None => {}
        }
        self.out
            .push(Diagnostic::error(Code::Credential, message).at(at).help(help));
    }
}

/// A cycle in the step graph, as the list of steps around it (first repeated at the end).
fn find_cycle(steps: &BTreeMap<String, crate::spec::Step>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut mark: BTreeMap<&str, Mark> = steps.keys().map(|k| (k.as_str(), Mark::New)).collect();
    for start in steps.keys() {
        if mark[start.as_str()] != Mark::New {
            continue;
        }
        // Iterative depth-first search; `stack` holds (step, next dependency index).
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        mark.insert(start, Mark::Active);
        while let Some((node, i)) = stack.last_mut() {
            let needs = &steps[*node].needs;
            if *i >= needs.len() {
                mark.insert(node, Mark::Done);
                stack.pop();
                continue;
            }
            let next = needs[*i].as_str();
            *i += 1;
            match mark.get(next) {
                Some(Mark::New) => {
                    mark.insert(next, Mark::Active);
                    stack.push((next, 0));
                }
                Some(Mark::Active) => {
                    let from = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                    let mut cycle: Vec<String> = stack[from..].iter().map(|(n, _)| (*n).to_string()).collect();
                    if cycle.len() < 2 {
                        continue; // a step needing itself is reported on its own
                    }
                    cycle.push(next.to_string());
                    return Some(cycle);
                }
                _ => {}
            }
        }
    }
    None
}
