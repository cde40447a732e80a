//! After the objects are built: extra manifests, patches, validation, policies, secrets.
//!
//! Takes: one environment's rendered objects and the plan's extra manifests, patches and
//! waivers. Gives: the final objects, or diagnostics: a patch that matches nothing or that
//! changes a SOPS file, an object that does not validate against the target Kubernetes
//! version's schema (located at the patch that broke it), pods that break a policy no waiver
//! covers, and secret material outside the provider forms ([`super::leaks`]).

use super::{Object, Origin};
use crate::diag::{Code, Diagnostic, Severity};
use crate::names;
use crate::plan::{EnvPlan, Plan};
use crate::source::Path;
use crate::spec::Policy;
use crate::validate::Scope;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// One environment's post-processing, fed its objects a group at a time (the objects of one
/// workload: a service, a pipeline, a notebook), so that an environment's objects are never
/// all in memory at once. Every pass is per object but three, which keep what they need of
/// the objects already seen: the patches that matched (and, for the help of one that matches
/// nothing, the names of the kinds patches name), the file names an extra manifest must not
/// clash with, and the naming of objects by their content, which each group brings for
/// itself ([`super::Sink`]). The diagnostics come out pass by pass, each in the order of the
/// objects, as if the passes had run over all the objects in turn.
pub struct Post<'a> {
    plan: &'a Plan,
    env: &'a EnvPlan,
    /// This environment's patches by the kind and name they match, in the spec's order.
    patches: HashMap<(&'a str, &'a str), Vec<usize>>,
    matched: Vec<bool>,
    /// For the help of a patch that matches nothing: the stable names of each kind a patch names.
    known: HashMap<&'a str, Vec<String>>,
    /// The file name of every object so far, and its object's name; kept only when the spec
    /// has extra manifests, which must not clash with them.
    file_names: HashMap<String, String>,
    /// The target Kubernetes version's schemas, found once for the environment.
    schemas: Option<&'static crate::validate::Schemas>,
    /// Each patch's diagnostics, in the spec's order.
    patch_diags: Vec<Vec<Diagnostic>>,
    /// Each pass's diagnostics, in the order the passes ran in before: extra manifests,
    /// (patches), unregistered kinds, pods, API server rules, validation, policies, secrets.
    passes: [Vec<Diagnostic>; 7],
    used_waivers: BTreeSet<usize>,
}

impl<'a> Post<'a> {
    pub fn new(plan: &'a Plan, env: &'a EnvPlan) -> Post<'a> {
        let mut post = Post {
            plan,
            env,
            patches: HashMap::new(),
            matched: vec![false; plan.patches.len()],
            known: HashMap::new(),
            file_names: HashMap::new(),
            schemas: crate::validate::schemas(&plan.kubernetes).ok(),
            patch_diags: vec![Vec::new(); plan.patches.len()],
            passes: Default::default(),
            used_waivers: BTreeSet::new(),
        };
        for (i, p) in plan.patches.iter().enumerate() {
            let at = Path::of(&["patches"]).index(i);
            if !p.environments.is_empty() && !p.environments.contains(&env.name) {
                continue;
            }
            if !p.patch.is_object() {
                post.patch_diags[i].push(
                    Diagnostic::error(Code::Patch, "a patch must be a mapping".to_string())
                        .at(at.key("patch"))
                        .help(
                            "write the fields to change, e.g. patch: {spec: {template: {spec: {priorityClassName: high}}}}",
                        ),
                );
                continue;
            }
            if p.kind == "ConfigMap" {
                post.patch_diags[i].push(
                    Diagnostic::error(
                        Code::Patch,
                        "ConfigMaps are named by their content and cannot be patched".to_string(),
                    )
                    .at(at.key("kind"))
                    .help("change `config` in the spec instead"),
                );
                continue;
            }
            post.patches.entry((&p.kind, &p.name)).or_default().push(i);
            post.known.entry(&p.kind).or_default();
        }
        post
    }

    /// Post-processes one group of a target's objects, with the group's own `rename`.
    pub fn group(&mut self, mut objects: Vec<Object>, rename: &dyn Fn(&mut [Object])) -> Vec<Object> {
        if !self.plan.manifests.is_empty() {
            for o in &objects {
                self.file_names
                    .entry(o.file_name())
                    .or_insert_with(|| o.name().to_string());
            }
        }
        self.patch(&mut objects);
        // Objects named by their content (Jobs, run-once Workflows) are renamed after patches:
        // a patched Job is a new Job, and so are those after it.
        rename(&mut objects);
        self.check(&objects);
        objects
    }

    /// The spec's extra manifests, once every target's objects have been through [`Post::group`]:
    /// each in the environment's namespace when its kind is namespaced, unless it clashes with
    /// an object rendered or read before it.
    pub fn extras(&mut self) -> Vec<Object> {
        let (plan, env, schemas) = (self.plan, self.env, self.schemas);
        let mut objects = Vec::new();
        for extra in &plan.manifests {
            let mut value = extra.value.clone();
            let api_version = value["apiVersion"].as_str().unwrap_or_default();
            let kind = value["kind"].as_str().unwrap_or_default();
            let scope = plan
                .crds
                .scope(api_version, kind)
                .or_else(|| schemas.and_then(|s| s.scope(api_version, kind)));
            if value["metadata"].is_object() && value["metadata"]["namespace"].is_null() {
                match scope {
                    Some(Scope::Namespaced) => value["metadata"]["namespace"] = json!(env.namespace),
                    Some(Scope::Cluster) => {}
                    None => self.passes[0].push(Diagnostic {
                        severity: Severity::Warning,
                        ..Diagnostic::error(
                            Code::Patch,
                            format!(
                                "{}:{}: mlship does not know whether {api_version} {kind} lives in a namespace; it is applied as the file says, without one",
                                extra.file, extra.line
                            ),
                        )
                        .at(Path::of(&["manifests"]).index(extra.index))
                        .help(format!(
                            "list the kind's CRD file in `crds`, or set metadata.namespace: {} in the file if the kind is namespaced",
                            env.namespace
                        ))
                    }),
                }
            }
            canonical_quantities(&mut value);
            let obj = Object {
                folder: String::new(),
                value,
                origin: Origin::Extra(extra.index),
                patched_by: None,
            };
            if let Some(clash) = self.file_names.get(&obj.file_name()) {
                self.passes[0].push(
                    Diagnostic::error(
                        Code::Patch,
                        format!(
                            "{}:{}: {}/{} clashes with an object mlship renders",
                            extra.file,
                            extra.line,
                            obj.kind(),
                            clash
                        ),
                    )
                    .at(Path::of(&["manifests"]).index(extra.index))
                    .help("rename the object, or change it with `patches` instead"),
                );
                continue;
            }
            self.file_names.insert(obj.file_name(), obj.name().to_string());
            objects.push(obj);
        }
        self.patch(&mut objects);
        self.check(&objects);
        objects
    }

    /// The diagnostics of every pass, and the waivers that were used.
    pub fn finish(mut self) -> (Vec<Diagnostic>, BTreeSet<usize>) {
        for (i, p) in self.plan.patches.iter().enumerate() {
            if self.matched[i] || !self.patches.contains_key(&(p.kind.as_str(), p.name.as_str())) {
                continue;
            }
            let known = self.known.get(p.kind.as_str()).map_or(&[][..], Vec::as_slice);
            let help = match crate::check::closest(&p.name, known.iter().map(String::as_str)) {
                Some(n) => format!("did you mean `{n}`?"),
                None if known.is_empty() => format!("environment `{}` renders no {}", self.env.name, p.kind),
                // At most ten: the help of every such patch would otherwise list them all.
                None if known.len() > 10 => format!(
                    "{} objects here: {}, and {} more",
                    p.kind,
                    known[..10].join(", "),
                    known.len() - 10
                ),
                None => format!("{} objects here: {}", p.kind, known.join(", ")),
            };
            self.patch_diags[i].push(
                Diagnostic::error(
                    Code::Patch,
                    format!(
                        "the patch matches no {} named `{}` in environment `{}`",
                        p.kind, p.name, self.env.name
                    ),
                )
                .at(Path::of(&["patches"]).index(i))
                .help(help),
            );
        }
        let [extras, rest @ ..] = self.passes;
        let mut diags = extras;
        diags.extend(self.patch_diags.into_iter().flatten());
        diags.extend(rest.into_iter().flatten());
        (diags, self.used_waivers)
    }

    /// Applies the patches that name an object, in the spec's order.
    fn patch(&mut self, objects: &mut [Object]) {
        // With no patch for this environment there is nothing to apply, and no kind's names to
        // keep for the help of one that matches nothing.
        if self.patches.is_empty() {
            return;
        }
        let plan = self.plan;
        let identity = |v: &Value| {
            (
                v["apiVersion"].clone(),
                v["kind"].clone(),
                v["metadata"]["name"].clone(),
                v["metadata"]["namespace"].clone(),
            )
        };
        for obj in objects.iter_mut() {
            let stable = names::stable_name(obj.kind(), obj.name());
            if let Some(names) = self.known.get_mut(obj.kind()) {
                names.push(stable.clone());
            }
            // By its name, and by its stable name (a Job's without its hash).
            let mut found: Vec<usize> = self.patches.get(&(obj.kind(), obj.name())).cloned().unwrap_or_default();
            if stable != obj.name() {
                found.extend(self.patches.get(&(obj.kind(), stable.as_str())).into_iter().flatten());
            }
            found.sort_unstable();
            for i in found {
                let p = &plan.patches[i];
                let at = Path::of(&["patches"]).index(i);
                self.matched[i] = true;
                if !obj.value["sops"].is_null() {
                    self.patch_diags[i].push(
                        Diagnostic::error(
                            Code::Credential,
                            format!("the patch changes {}/{}, a SOPS-encrypted file", p.kind, p.name),
                        )
                        .at(at.key("patch"))
                        .help("SOPS signs every value of the file (its MAC), so a patched file no longer decrypts, and what a patch adds is plaintext; change the file and encrypt it again with `sops`"),
                    );
                    continue;
                }
                let before = identity(&obj.value);
                // Sorted, so the order the spec writes a patch's keys in changes nothing.
                merge_patch(&mut obj.value, &names::sorted_json(&p.patch));
                if identity(&obj.value) != before {
                    self.patch_diags[i].push(
                        Diagnostic::error(
                            Code::Patch,
                            format!("the patch changes the identity of {}/{}", p.kind, p.name),
                        )
                        .at(at.key("patch"))
                        .help("a patch may not change apiVersion, kind, metadata.name or metadata.namespace"),
                    );
                    continue;
                }
                canonical_quantities(&mut obj.value);
                canonical_order(&mut obj.value);
                obj.patched_by = Some(i);
            }
        }
    }

    /// The per-object passes, each into its own list.
    fn check(&mut self, objects: &[Object]) {
        let (plan, env) = (self.plan, self.env);
        let [_, unregistered_, pods, api, valid, policy, secrets] = &mut self.passes;
        unregistered(objects, unregistered_);
        pods_present(objects, pods);
        api_server_rules(plan, objects, api);
        validate(plan, self.schemas, objects, valid);
        policies(plan, env, objects, &mut self.used_waivers, policy);
        super::leaks::objects(plan, env, objects, &mut self.used_waivers, secrets);
    }
}

/// Quantities in their canonical form, as the API server writes them back, so a patched
/// `2048Mi` or `1e16` shows no drift (and `1e16` is not written as `1e+16`, which a YAML 1.1
/// reader takes for a string). In every kind: the values of `resources.requests` and
/// `resources.limits` (containers, claims, in pod templates of any kind) and every
/// `sizeLimit` (emptyDir). In the built-in kinds that hold more: ResourceQuota `spec.hard`,
/// LimitRange `spec.limits[].{max,min,default,defaultRequest,maxLimitRequestRatio}`,
/// RuntimeClass `overhead.podFixed`. Values that do not parse are left for validation.
fn canonical_quantities(v: &mut Value) {
    fn canon(q: &mut Value) {
        let text = match &*q {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.as_u64().map_or_else(|| n.to_string(), |u| u.to_string()),
            _ => return,
        };
        if let Ok(parsed) = crate::units::Quantity::parse(&text) {
            *q = json!(parsed.canonical());
        }
    }
    fn values(m: Option<&mut Value>) {
        if let Some(Value::Object(m)) = m {
            m.values_mut().for_each(canon);
        }
    }
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    match k.as_str() {
                        "resources" if child.is_object() => {
                            values(child.get_mut("requests"));
                            values(child.get_mut("limits"));
                            walk(child);
                        }
                        "sizeLimit" => canon(child),
                        _ => walk(child),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    match (v["apiVersion"].as_str(), v["kind"].as_str()) {
        (Some("v1"), Some("ResourceQuota")) => values(v.pointer_mut("/spec/hard")),
        (Some("v1"), Some("LimitRange")) => {
            if let Some(Value::Array(limits)) = v.pointer_mut("/spec/limits") {
                for l in limits {
                    for k in ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"] {
                        values(l.get_mut(k));
                    }
                }
            }
        }
        (Some("node.k8s.io/v1"), Some("RuntimeClass")) => values(v.pointer_mut("/overhead/podFixed")),
        _ => {}
    }
    walk(v);
}

/// A patched object's keys in Kubernetes' own field order (a patch appends the keys it adds),
/// for the built-in kinds mlship emits. Only when the typed round trip keeps every field:
/// anything it would drop is left for validation to report.
fn canonical_order(v: &mut Value) {
    fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Option<Value> {
        let t: T = serde_json::from_value(v.clone()).ok()?;
        let back = serde_json::to_value(t).ok()?;
        (names::sorted_json(&back) == names::sorted_json(v)).then_some(back)
    }
    use k8s_openapi::api::{apps, autoscaling, batch, core, networking, policy};
    let ordered = match v["kind"].as_str().unwrap_or_default() {
        "Deployment" => typed::<apps::v1::Deployment>(v),
        "Job" => typed::<batch::v1::Job>(v),
        "CronJob" => typed::<batch::v1::CronJob>(v),
        "Service" => typed::<core::v1::Service>(v),
        "ServiceAccount" => typed::<core::v1::ServiceAccount>(v),
        "PersistentVolumeClaim" => typed::<core::v1::PersistentVolumeClaim>(v),
        "Namespace" => typed::<core::v1::Namespace>(v),
        "HorizontalPodAutoscaler" => typed::<autoscaling::v2::HorizontalPodAutoscaler>(v),
        "PodDisruptionBudget" => typed::<policy::v1::PodDisruptionBudget>(v),
        "NetworkPolicy" => typed::<networking::v1::NetworkPolicy>(v),
        "Ingress" => typed::<networking::v1::Ingress>(v),
        _ => None,
    };
    if let Some(o) = ordered {
        *v = o;
    }
}

/// RFC 7386 (mappings merge, null removes, anything else replaces), except that lists whose
/// items all have a `name` (containers, env, volumes, ports) merge item by item on it, as
/// kubectl's strategic merge does.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    if let (Some(t), Some(p)) = (target.as_array_mut(), patch.as_array())
        && named(t)
        && named(p)
    {
        for item in p {
            match t.iter_mut().find(|x| x["name"] == item["name"]) {
                Some(existing) => merge_patch(existing, item),
                None => t.push(item.clone()),
            }
        }
        return;
    }
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (_, Some(_)) => {
            *target = json!({});
            merge_patch(target, patch);
        }
        _ => *target = patch.clone(),
    }
}

fn named(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|i| i["name"].is_string())
}

/// Where a problem with an object is best shown: the patch that last changed it, the extra
/// manifest it came from, or nowhere (mlship's own output: a bug).
fn located(obj: &Object, d: Diagnostic) -> Diagnostic {
    match (obj.patched_by, &obj.origin) {
        (Some(i), _) => d.at(Path::of(&["patches"]).index(i).key("patch")),
        (None, Origin::Extra(i)) => d.at(Path::of(&["manifests"]).index(*i)),
        (None, Origin::Generated) => {
            d.help("this is a bug in mlship: the object it rendered is invalid; please report it with the spec")
        }
    }
}

/// Every kind mlship renders must be in the target registry, or policies and namespace
/// defaulting would pass over it without a word.
fn unregistered(objects: &[Object], diags: &mut Vec<Diagnostic>) {
    for obj in objects.iter().filter(|o| o.origin == Origin::Generated) {
        if super::kind(&obj.value).is_none() {
            diags.push(Diagnostic::error(
                Code::InvalidObject,
                format!(
                    "{}/{} is of a kind no target registers; this is a bug in mlship, please report it with the spec",
                    obj.kind(),
                    obj.name()
                ),
            ));
        }
    }
}

/// A workload whose kind has pods must still have them after patches: the schemas do not
/// require `spec`, but the API server refuses a Deployment or Job without a pod template.
fn pods_present(objects: &[Object], diags: &mut Vec<Diagnostic>) {
    for obj in objects.iter().filter(|o| o.patched_by.is_some()) {
        let Some(kind) = super::kind(&obj.value) else { continue };
        // A list of templates (`*`) may hold some without containers (an Argo DAG).
        let fixed = kind.pods.iter().filter(|p| !p.contains(&"*"));
        let found = super::pod_specs(&obj.value);
        let missing = fixed.clone().count() > 0
            && (found.len() < fixed.count()
                || found
                    .iter()
                    .any(|(_, pod)| !pod["containers"].is_array() && !pod["model"].is_object()));
        if missing {
            let d = Diagnostic::error(
                Code::InvalidObject,
                format!(
                    "{}/{} has no pod template with containers after the patch; the API server would refuse it",
                    obj.kind(),
                    obj.name()
                ),
            )
            .help("patch fields inside spec.template instead of replacing or removing them");
            diags.push(located(obj, d));
        }
    }
}

/// What the API server requires of a patched workload beyond its schema: a selector that
/// selects the pod template's labels (apps/v1 kinds), a restart policy the kind allows, and
/// a CronJob schedule the controller can parse. Each is a located error at the patch.
fn api_server_rules(plan: &Plan, objects: &[Object], diags: &mut Vec<Diagnostic>) {
    // Without a spec (or a selector) the schema or `pods_present` has said so already.
    for obj in objects
        .iter()
        .filter(|o| o.patched_by.is_some() && o.value["spec"].is_object())
    {
        let v = &obj.value;
        // Each problem with the fields of the patch that may have caused it, most likely first.
        let mut problems: Vec<(String, &[&str])> = Vec::new();
        let template = match (v["apiVersion"].as_str(), obj.kind()) {
            (Some("apps/v1"), "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
                let t = &v["spec"]["template"];
                let labels = &t["metadata"]["labels"];
                let selector = &v["spec"]["selector"];
                let match_labels = selector["matchLabels"].as_object().filter(|m| !m.is_empty());
                let expressions = selector["matchExpressions"].as_array().is_some_and(|e| !e.is_empty());
                match match_labels {
                    None if !expressions && selector.is_object() => {
                        problems.push(("its selector is empty".to_string(), &["/spec/selector"]))
                    }
                    Some(m) => {
                        for (k, want) in m {
                            if labels.get(k) != Some(want) {
                                problems.push((
                                    format!(
                                        "its selector `{k}: {}` does not select the pod template's labels",
                                        want.as_str().unwrap_or_default()
                                    ),
                                    &[
                                        "/spec/template/metadata/labels",
                                        "/spec/template/metadata",
                                        "/spec/selector",
                                    ],
                                ));
                            }
                        }
                    }
                    None => {}
                }
                Some((t, &["Always"][..]))
            }
            (Some("batch/v1"), "Job") => Some((&v["spec"]["template"], &["OnFailure", "Never"][..])),
            (Some("batch/v1"), "CronJob") => {
                if let Some(schedule) = v["spec"]["schedule"].as_str()
                    && let Err(e) = crate::units::check_cron(schedule)
                {
                    problems.push((
                        format!("its schedule `{schedule}` is not one the CronJob controller reads: {e}"),
                        &["/spec/schedule"],
                    ));
                }
                Some((
                    &v["spec"]["jobTemplate"]["spec"]["template"],
                    &["OnFailure", "Never"][..],
                ))
            }
            _ => None,
        };
        if let Some((t, allowed)) = template {
            let policy = t["spec"]["restartPolicy"].as_str();
            // Pods of apps/v1 kinds default to Always; a Job's must be set (mlship sets Never).
            let ok = match policy {
                None => allowed.contains(&"Always"),
                Some(p) => allowed.contains(&p),
            };
            if !ok && t["spec"].is_object() {
                problems.push((
                    format!(
                        "its pods' restartPolicy is {}; a {} allows {}",
                        policy.unwrap_or("not set"),
                        obj.kind(),
                        allowed.join(" or ")
                    ),
                    &[
                        "/spec/template/spec/restartPolicy",
                        "/spec/jobTemplate/spec/template/spec/restartPolicy",
                    ],
                ));
            }
        }
        let index = obj.patched_by.unwrap_or_default();
        let patch = plan.patches.get(index).map(|p| &p.patch);
        for (problem, fields) in problems {
            let d = Diagnostic::error(
                Code::InvalidObject,
                format!(
                    "{}/{} after the patch: {problem}; the API server would refuse it",
                    obj.kind(),
                    obj.name()
                ),
            )
            .help("patch what mlship leaves open; the selector, restart policy and schedule come from the spec");
            // At the patched field when the patch has it, else at the patch.
            let field = fields.iter().find(|f| patch.and_then(|p| p.pointer(f)).is_some());
            diags.push(match field {
                Some(f) => {
                    let mut at = Path::of(&["patches"]).index(index).key("patch");
                    for k in f.split('/').skip(1) {
                        at = at.key(k);
                    }
                    d.at(at)
                }
                None => located(obj, d),
            });
        }
    }
}

fn validate(plan: &Plan, schemas: Option<&crate::validate::Schemas>, objects: &[Object], diags: &mut Vec<Diagnostic>) {
    let Some(schemas) = schemas else {
        return;
    };
    for obj in objects {
        // Extra objects were validated, with file positions, when they were read.
        if matches!(obj.origin, Origin::Extra(_)) && obj.patched_by.is_none() {
            continue;
        }
        // The objects Argo's resource templates create are checked as strictly as the rest.
        for (template, manifest) in resource_manifests(&obj.value) {
            let Ok(violations) = schemas.validate_with(&manifest, &plan.crds) else {
                continue;
            };
            for v in violations {
                let kind = manifest["kind"].as_str().unwrap_or("object");
                let d = Diagnostic::error(
                    Code::InvalidObject,
                    format!(
                        "the {kind} that template `{template}` of {}/{} creates is invalid for Kubernetes {}: {}: {}",
                        obj.kind(),
                        obj.name(),
                        plan.kubernetes,
                        v.path,
                        v.message
                    ),
                );
                diags.push(located(obj, d));
            }
        }
        let Ok(violations) = schemas.validate_with(&obj.value, &plan.crds) else {
            continue;
        };
        for v in violations {
            let mut d = Diagnostic::error(
                Code::InvalidObject,
                format!(
                    "{}/{} is invalid for Kubernetes {}: {}",
                    obj.kind(),
                    obj.name(),
                    plan.kubernetes,
                    v.what()
                ),
            );
            if let Some(h) = v.help.clone() {
                d = d.help(h);
            }
            let d = located(obj, d);
            // Point at the field in the patch when the patch wrote it.
            let d = match (obj.patched_by, field_path(&v.path)) {
                (Some(i), Some(field)) => {
                    let mut at = Path::of(&["patches"]).index(i).key("patch");
                    at.0.extend(field.0);
                    d.at(at)
                }
                (Some(i), None) => d.at(Path::of(&["patches"]).index(i).key("patch")),
                _ => d,
            };
            diags.push(d);
        }
    }
}

/// The objects an Argo Workflows kind's resource templates create: template name and object.
pub fn resource_manifests(v: &Value) -> Vec<(String, Value)> {
    let templates = v["spec"]["templates"]
        .as_array()
        .or_else(|| v["spec"]["workflowSpec"]["templates"].as_array());
    templates
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let text = t["resource"]["manifest"].as_str()?;
            let file = crate::syntax::decode("manifest.yaml", text.as_bytes()).ok()?;
            let manifest = crate::syntax::yaml::parse(&file).ok()?.to_json();
            Some((t["name"].as_str().unwrap_or("?").to_string(), manifest))
        })
        .collect()
}

/// A validator path (`spec.template.spec.containers[0].image`, `metadata.labels["a/b"]`) as a
/// document path.
fn field_path(path: &str) -> Option<Path> {
    let mut out = Path::root();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[\"") {
            let end = r.find("\"]")?;
            out = out.key(&r[..end]);
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out = out.index(r[..end].parse().ok()?);
            rest = &r[end + 1..];
        } else {
            let r = rest.strip_prefix('.').unwrap_or(rest);
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out = out.key(&r[..end]);
            rest = &r[end..];
        }
    }
    Some(out)
}

/// Every policy violation of one pod spec: (policy, what is wrong).
/// `shared` is the security context the object's pods share, if its kind has one;
/// `production` whether images must be pinned by digest.
pub fn violations(pod: &Value, shared: Option<&Value>, production: bool) -> Vec<(Policy, String)> {
    let mut out = Vec::new();
    let psc = match shared {
        Some(s) if pod["securityContext"].is_null() => s,
        _ => &pod["securityContext"],
    };
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod[key] == json!(true) {
            out.push((Policy::NoHostNamespaces, format!("`{key}` is true")));
        }
    }
    for vol in pod["volumes"].as_array().into_iter().flatten() {
        if !vol["hostPath"].is_null() {
            out.push((
                Policy::NoHostPath,
                format!("volume `{}` is a hostPath", vol["name"].as_str().unwrap_or("?")),
            ));
        }
    }
    // Argo templates have one `container`, and maybe sidecars; a KServe predictor a `model`
    // (its ServingRuntime's container, which names the image).
    let containers = ["initContainers", "containers", "sidecars"]
        .iter()
        .flat_map(|k| pod[*k].as_array().into_iter().flatten())
        .chain(
            ["container", "model"]
                .iter()
                .map(|k| &pod[*k])
                .filter(|c| c.is_object()),
        )
        .collect::<Vec<_>>();
    for c in containers {
        let name = c["name"].as_str().unwrap_or("?");
        let sc = &c["securityContext"];
        let either = |key: &str| if sc[key].is_null() { &psc[key] } else { &sc[key] };
        if *either("runAsNonRoot") != json!(true) {
            out.push((Policy::RunAsNonRoot, format!("container `{name}` may run as root")));
        }
        if sc["readOnlyRootFilesystem"] != json!(true) {
            out.push((
                Policy::ReadOnlyRootFilesystem,
                format!("container `{name}` has a writable root filesystem"),
            ));
        }
        if sc["allowPrivilegeEscalation"] != json!(false) {
            out.push((
                Policy::NoPrivilegeEscalation,
                format!("container `{name}` allows privilege escalation"),
            ));
        }
        if !sc["capabilities"]["drop"]
            .as_array()
            .is_some_and(|d| d.iter().any(|x| x == "ALL"))
        {
            out.push((
                Policy::DropAllCapabilities,
                format!("container `{name}` keeps capabilities"),
            ));
        }
        let seccomp = either("seccompProfile")["type"].as_str().unwrap_or_default();
        if !matches!(seccomp, "RuntimeDefault" | "Localhost") {
            out.push((
                Policy::Seccomp,
                format!("container `{name}` has no RuntimeDefault seccomp profile"),
            ));
        }
        if sc["privileged"] == json!(true) {
            out.push((Policy::NoPrivileged, format!("container `{name}` is privileged")));
        }
        for part in ["requests", "limits"] {
            for res in ["cpu", "memory"] {
                if c["resources"][part][res].is_null() {
                    out.push((
                        Policy::ResourceLimits,
                        format!("container `{name}` has no {res} {}", &part[..part.len() - 1]),
                    ));
                }
            }
        }
        if c["modelFormat"].is_object() {
            continue; // a KServe model: its ServingRuntime names the image
        }
        let image = c["image"].as_str().unwrap_or_default();
        let last = image.rsplit('/').next().unwrap_or_default();
        if !image.contains('@') && (last.ends_with(":latest") || !last.contains(':')) {
            out.push((
                Policy::NoLatestTag,
                format!("container `{name}` runs `{image}` without a version tag"),
            ));
        }
        if production && !image.contains('@') {
            out.push((
                Policy::PinnedImages,
                format!("container `{name}` runs `{image}`, which no digest pins"),
            ));
        }
    }
    out
}

fn policy_name(p: Policy) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// What the notebook security profile relaxes, and why (docs/security.md, "The notebook
/// profile"). Everything else of the baseline is checked as for any pod.
pub const NOTEBOOK_PROFILE: &[(Policy, &str)] = &[(
    Policy::ReadOnlyRootFilesystem,
    "interactive work installs packages into the image's environment and writes caches and editor state outside the home folder",
)];

/// The policies an object's security profile relaxes: the notebook profile for a notebook's
/// Notebook or StatefulSet that mlship renders, which shows it in its annotation; none for
/// anything else (an extra manifest, or a patch that adds the annotation, cannot opt in).
pub fn relaxed(env: &EnvPlan, obj: &Object) -> &'static [(Policy, &'static str)] {
    let profile = obj.value["metadata"]["annotations"][crate::plan::PROFILE_ANNOTATION].as_str();
    let notebook =
        matches!(obj.kind(), "Notebook" | "StatefulSet") && env.notebooks.iter().any(|n| n.full_name == obj.name());
    match (obj.origin, profile) {
        (Origin::Generated, Some("notebook")) if notebook => NOTEBOOK_PROFILE,
        _ => &[],
    }
}

fn policies(plan: &Plan, env: &EnvPlan, objects: &[Object], used: &mut BTreeSet<usize>, diags: &mut Vec<Diagnostic>) {
    for obj in objects {
        let relaxed = relaxed(env, obj);
        let id = format!("{}/{}", obj.kind(), obj.name());
        let stable = format!("{}/{}", obj.kind(), names::stable_name(obj.kind(), obj.name()));
        let found = super::pod_specs(&obj.value)
            .into_iter()
            .flat_map(|(_, pod)| violations(pod, super::pod_defaults(&obj.value), env.production));
        for (policy, what) in found {
            if relaxed.iter().any(|(p, _)| *p == policy) {
                continue;
            }
            if let Some(w) = plan
                .waivers
                .iter()
                .position(|w| w.policy == policy && (w.object == id || w.object == stable))
            {
                used.insert(w);
                continue;
            }
            let name = policy_name(policy);
            let fix = match policy {
                Policy::PinnedImages => format!(
                    "pin the build this environment deploys: `mlship lock fill --env {env} --metadata <bake metadata>` or `mlship lock promote --from <tested environment> --to {env}` (docs/ci.md), `digest:` for a prebuilt image; or set `production: false`, or waive the policy with a reason",
                    env = env.name
                ),
                _ => "fix the object, or waive the policy with a reason".to_string(),
            };
            let message = match policy {
                Policy::PinnedImages => {
                    format!(
                        "{id} breaks policy `{name}` in production environment `{}`: {what}",
                        env.name
                    )
                }
                _ => format!("{id} breaks policy `{name}`: {what}"),
            };
            let d = Diagnostic::error(Code::Policy, message).help(format!(
                "{fix}: waivers: [{{policy: {name}, object: {stable}, reason: \"...\"}}]"
            ));
            // An unpinned image in an object mlship rendered is the environment's: no lock
            // entry, no digest (a patch that sets an image is rare; the waiver names it).
            let d = match (policy, &obj.origin) {
                (Policy::PinnedImages, Origin::Generated) => d.at(env_path(env)),
                _ => located(obj, d),
            };
            diags.push(d);
        }
    }
}

/// Where the spec makes `env` a production environment: its entry, or the top-level
/// `production` of a spec without environments.
fn env_path(env: &EnvPlan) -> Path {
    if env.name == crate::load::DEFAULT_ENV {
        Path::of(&["production"])
    } else {
        Path::of(&["environments", &env.name])
    }
}

/// Waivers that matched nothing in any environment.
pub fn unused_waivers(plan: &Plan, used: &BTreeSet<usize>) -> Vec<Diagnostic> {
    (0..plan.waivers.len())
        .filter(|i| !used.contains(i))
        .map(|i| Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(
                Code::Patch,
                format!("the waiver for {} matches no policy violation", plan.waivers[i].object),
            )
            .at(Path::of(&["waivers"]).index(i))
            .help("remove it; waivers should only cover what needs them")
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn named_lists_merge_by_name() {
        let mut v = json!({"c": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]});
        merge_patch(
            &mut v,
            &json!({"c": [{"name": "b", "image": "z"}, {"name": "n", "image": "w"}]}),
        );
        assert_eq!(
            v,
            json!({"c": [{"name": "a", "image": "x"}, {"name": "b", "image": "z"}, {"name": "n", "image": "w"}]})
        );
        assert_eq!(
            field_path("spec.containers[0].image").unwrap().to_string(),
            "spec.containers[0].image"
        );
        assert_eq!(
            field_path("metadata.labels[\"a/b\"]").unwrap().to_string(),
            "metadata.labels.a/b"
        );
    }

    #[test]
    fn generated_objects_of_unregistered_kinds_are_refused() {
        let mut diags = Vec::new();
        let objects = [
            Object::generated(
                "",
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}}),
            ),
            Object::generated(
                "",
                json!({"apiVersion": "x.dev/v1", "kind": "Widget", "metadata": {"name": "w"}}),
            ),
        ];
        unregistered(&objects, &mut diags);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(
            diags[0]
                .message
                .starts_with("Widget/w is of a kind no target registers")
        );
    }

    #[test]
    fn policies_find_pods_through_the_registry() {
        let bad = json!({"name": "c", "image": "x:1"});
        let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [bad]}}}}}});
        let pods = crate::emit::pod_specs(&cron);
        assert_eq!(pods.len(), 1);
        assert_eq!(pods[0].0, "spec.jobTemplate.spec.template.spec");
        assert!(
            violations(pods[0].1, None, false)
                .iter()
                .any(|(p, _)| *p == Policy::RunAsNonRoot)
        );
        let unknown = json!({"apiVersion": "x.dev/v1", "kind": "Widget", "spec": {"containers": [bad]}});
        assert!(crate::emit::pod_specs(&unknown).is_empty());
    }

    #[test]
    fn extra_manifests_get_a_namespace_by_the_scope_their_schema_gives() {
        let spec =
            "apiVersion: mlship/v1\nproject: p\nnamespace: ml\nregistry: r.io/p\ntag: \"1\"\nmanifests: [extra.yaml]\n";
        let extra = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\
            apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: []\n---\n\
            apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: m}\nspec: {}\n";
        let project = crate::project::MemProject([("extra.yaml".to_string(), extra.as_bytes().to_vec())].into());
        let compiled = crate::compile("mlship.yaml", spec.as_bytes(), &project);
        let out = compiled.output.expect("builds");
        let file = |name: &str| String::from_utf8(out.files[name].clone()).expect("UTF-8");
        assert!(file("envs/default/configmap-a.yaml").contains("namespace: ml"));
        assert!(!file("envs/default/clusterrole-r.yaml").contains("namespace:"));
        assert!(!file("envs/default/servicemonitor-m.yaml").contains("namespace:"));
        let warned: Vec<&str> = compiled.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(warned[0].contains("monitoring.coreos.com/v1 ServiceMonitor lives in a namespace"));
    }

    /// An extra manifest may not take the file of an object mlship renders, nor of an extra
    /// manifest read before it; the objects are post-processed in groups, so the file names
    /// of every earlier group are what it is checked against.
    #[test]
    fn an_extra_manifest_that_clashes_with_a_rendered_or_earlier_object_is_an_error() {
        let spec = "apiVersion: mlship/v1\nproject: p\nnamespace: ml\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {stack: python}\n\
            services:\n  api: {image: app, port: 8080}\nmanifests: [extra.yaml]\n";
        let extra = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n---\n\
            apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\n\
            apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n";
        let project = crate::project::MemProject([("extra.yaml".to_string(), extra.as_bytes().to_vec())].into());
        let compiled = crate::compile("mlship.yaml", spec.as_bytes(), &project);
        assert!(compiled.output.is_none());
        let clashes: Vec<&str> = compiled
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .filter(|m| m.contains("clashes with an object mlship renders"))
            .collect();
        assert_eq!(clashes.len(), 2, "{:?}", compiled.diagnostics);
        assert!(clashes[0].contains("Namespace/ml"), "{clashes:?}");
        assert!(clashes[1].contains("ConfigMap/b"), "{clashes:?}");
    }

    #[test]
    fn patched_quantities_are_canonical() {
        let mut v = json!({"spec": {"template": {"spec": {"containers": [{"name": "c",
            "resources": {"requests": {"cpu": 1e16, "memory": "2048Mi"}, "limits": {"cpu": "1000m", "memory": "x"}}}]}}}});
        canonical_quantities(&mut v);
        let r = &v["spec"]["template"]["spec"]["containers"][0]["resources"];
        assert_eq!(
            r["requests"],
            json!({"cpu": "10P", "memory": "2Gi"}),
            "1e16 was written as 1e+16"
        );
        assert_eq!(r["limits"], json!({"cpu": "1", "memory": "x"}));
    }

    /// Issue 15: only `resources` were canonical; a patched emptyDir `sizeLimit: 1e16` and a
    /// ResourceQuota or LimitRange of the extra manifests were written as `1e+16`.
    #[test]
    fn every_quantity_field_is_canonical_not_only_resources() {
        let mut pod = json!({"spec": {"volumes": [{"name": "s", "emptyDir": {"sizeLimit": 1e16}}]}});
        canonical_quantities(&mut pod);
        assert_eq!(pod["spec"]["volumes"][0]["emptyDir"]["sizeLimit"], "10P");
        let mut quota = json!({"apiVersion": "v1", "kind": "ResourceQuota",
            "spec": {"hard": {"requests.cpu": 1e16, "requests.memory": "2048Mi", "pods": "10"}}});
        canonical_quantities(&mut quota);
        assert_eq!(
            quota["spec"]["hard"],
            json!({"requests.cpu": "10P", "requests.memory": "2Gi", "pods": "10"})
        );
        let mut range = json!({"apiVersion": "v1", "kind": "LimitRange",
            "spec": {"limits": [{"type": "Container", "max": {"memory": "1024Mi"}, "default": {"cpu": "0.5"}}]}});
        canonical_quantities(&mut range);
        assert_eq!(range["spec"]["limits"][0]["max"]["memory"], "1Gi");
        assert_eq!(range["spec"]["limits"][0]["default"]["cpu"], "500m");
        // The same keys in a kind mlship does not know hold whatever that kind means.
        let mut other = json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "spec": {"hard": {"x": "0.5"}, "limits": [{"default": {"y": "1024Mi"}}]}});
        let before = other.clone();
        canonical_quantities(&mut other);
        assert_eq!(other, before);
    }

    #[test]
    fn patched_keys_keep_kubernetes_order() {
        let mut v = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"},
            "spec": {"selector": {}, "template": {}, "replicas": 2}});
        canonical_order(&mut v);
        let keys: Vec<&String> = v["spec"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["replicas", "selector", "template"]);
        let mut odd =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a"}, "spec": {"bogus": 1}});
        let before = odd.clone();
        canonical_order(&mut odd);
        assert_eq!(odd, before, "an unknown field is kept for validation to report");
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut v = json!({"a": {"b": 1, "c": 2}, "d": [1, 2], "e": 1});
        merge_patch(&mut v, &json!({"a": {"b": null, "x": 3}, "d": [9], "e": {"f": 1}}));
        assert_eq!(v, json!({"a": {"c": 2, "x": 3}, "d": [9], "e": {"f": 1}}));
    }

    #[test]
    fn policies_catch_unsafe_pods() {
        let pod = json!({
            "hostNetwork": true,
            "volumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}],
            "containers": [{"name": "c", "image": "nginx:latest", "securityContext": {"privileged": true}}]
        });
        let found: BTreeSet<Policy> = violations(&pod, None, true).into_iter().map(|(p, _)| p).collect();
        for p in [
            Policy::NoHostNamespaces,
            Policy::NoHostPath,
            Policy::NoPrivileged,
            Policy::NoLatestTag,
            Policy::ResourceLimits,
            Policy::RunAsNonRoot,
            Policy::Seccomp,
            Policy::PinnedImages,
        ] {
            assert!(found.contains(&p), "{p:?} not found");
        }
        let pinned = json!({"containers": [{"name": "c", "image": "r.io/a:1@sha256:00"}]});
        let unpinned = json!({"containers": [{"name": "c", "image": "r.io/a:1"}]});
        let pins = |pod: &Value, production| {
            violations(pod, None, production)
                .iter()
                .any(|(p, _)| *p == Policy::PinnedImages)
        };
        assert!(pins(&unpinned, true));
        assert!(!pins(&unpinned, false));
        assert!(!pins(&pinned, true));
    }

    /// Issue 14: each patch scanned every object for its own, and a patch that matched none
    /// scanned them again for its help, which listed them all: 5,000 patches and 5,000
    /// services took 23 s to check, and 5,000 patches naming none of them 131 s (release
    /// builds). Indexed, every patch finds its object and the help of one that matches none
    /// is cut short; the time is measured in the `linear` group of benches/stages.rs, at two
    /// sizes, not here (a timed test fails on a busy machine).
    #[test]
    fn ten_thousand_patches_find_their_objects_and_the_help_of_unmatched_ones_is_cut_short() {
        let yaml = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {stack: python}\n\
                    services:\n  s: {image: app, port: 8080}\n";
        let (_, loaded, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        let loaded = loaded.unwrap_or_else(|| panic!("{diags:?}"));
        let mut plan = crate::lower::lower(loaded, &crate::project::MemProject::default()).unwrap();
        let n = 10_000;
        let deployment =
            |name: String| json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}});
        let mut objects: Vec<Object> = (0..n)
            .map(|i| Object::generated("", deployment(format!("d{i}"))))
            .collect();
        let patch = |name: String| {
            serde_json::from_value(
                json!({"kind": "Deployment", "name": name, "patch": {"metadata": {"labels": {"a": "b"}}}}),
            )
            .unwrap()
        };
        plan.patches = (0..n).map(|i| patch(format!("d{i}"))).collect();
        plan.patches
            .extend((0..1_000).map(|i| patch(format!("unknown-zzzz-{i}"))));
        let env = plan.envs[0].clone();
        // In groups, as the targets hand them over: a patch finds its object in any group,
        // and the help of one that matches nothing names the objects of every group.
        let mut post = Post::new(&plan, &env);
        for group in objects.chunks_mut(1_000) {
            post.patch(group);
        }
        let (diags, _) = post.finish();
        assert!(objects.iter().all(|o| o.value["metadata"]["labels"]["a"] == "b"));
        assert_eq!(diags.len(), 1_000, "{:?}", diags.first());
        let help = diags[0].help.as_deref().unwrap_or_default();
        assert!(help.ends_with(", and 9990 more"), "{help}");
    }
}
