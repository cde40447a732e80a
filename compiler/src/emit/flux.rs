//! Flux: a GitRepository and Kustomizations per environment.
//!
//! Takes: the plan's GitOps settings and one environment. Gives: a GitRepository, a
//! Kustomization for the environment's folder (with SOPS decryption when it has SOPS secrets),
//! and one Kustomization per pipeline level, each depending on the one before, with `wait` (a
//! level starts once the previous Jobs completed), `force` (Jobs are immutable, so a changed Job
//! is recreated) and a timeout as long as the level's slowest step; and for run-once Argo
//! Workflows a Kustomization that waits, by `healthCheckExprs` on the phase, until they
//! succeeded; for notebooks a Kustomization of their own, which nothing depends on, so a
//! notebook waiting for a GPU holds back no pipeline.

use super::{Emit, Kind, Target};
use crate::plan::{Cluster, EnvPlan, GitopsPlan, Plan};
use crate::spec::Engine;
use serde_json::{Value, json};

/// The Secret in the Flux namespace that holds the SOPS decryption key (docs/kubernetes.md).
pub const SOPS_KEY_SECRET: &str = "sops-keys";

pub const TARGET: Target = Target {
    name: "flux",
    kinds: &[
        Kind::new("source.toolkit.fluxcd.io/v1", "GitRepository"),
        Kind::new("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
    ],
    emit: Emit::Gitops(Engine::Flux, objects),
};

fn objects(plan: &Plan, env: &EnvPlan, g: &GitopsPlan) -> Vec<Value> {
    let name = format!("{}-{}", plan.project, env.name);
    let root = &g.root;
    let meta = |n: &str| json!({ "name": n, "namespace": g.namespace, "labels": env.labels(None, None) });
    let mut docs = vec![json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": meta(&name),
        "spec": { "interval": g.fetch_interval, "url": g.repo, "ref": { "branch": g.revision } },
    })];
    let source = json!({ "kind": "GitRepository", "name": name });
    let mut base = json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": meta(&name),
        "spec": {
            "interval": g.sync_interval, "path": format!("./{root}/envs/{}", env.name), "prune": true,
            "wait": true, "timeout": g.ready_timeout, "sourceRef": source,
        },
    });
    if env.has_sops() {
        // kustomize-controller decrypts SOPS files with the key in this Secret.
        base["spec"]["decryption"] = json!({ "provider": "sops", "secretRef": { "name": SOPS_KEY_SECRET } });
    }
    docs.push(base);
    let mut previous = name.clone();
    for (depth, timeout) in env.level_timeouts.iter().enumerate() {
        let level = format!("{name}-jobs-{depth}");
        let folder = format!("jobs/level-{depth}");
        let mut doc = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": meta(&level),
            "spec": {
                "interval": g.sync_interval, "path": format!("./{root}/envs/{}/{folder}", env.name),
                "prune": true, "wait": true, "force": true, "timeout": format!("{timeout}s"),
                "dependsOn": [{ "name": previous }], "sourceRef": source,
            },
        });
        // kstatus calls an Experiment or a TrainJob ready once it exists; the level waits for
        // Katib's or the Trainer's verdict instead.
        let here = || env.steps.iter().filter(|s| s.folder == folder);
        let mut exprs = Vec::new();
        if here().any(|s| s.tune.is_some()) {
            exprs.push(json!({
                "apiVersion": "kubeflow.org/v1beta1",
                "kind": "Experiment",
                "current": condition("Succeeded"),
                "failed": condition("Failed"),
            }));
        }
        if here().any(|s| s.train.is_some()) {
            exprs.push(json!({
                "apiVersion": "trainer.kubeflow.org/v1alpha1",
                "kind": "TrainJob",
                "current": condition("Complete"),
                "failed": condition("Failed"),
            }));
        }
        if !exprs.is_empty() {
            doc["spec"]["healthCheckExprs"] = json!(exprs);
        }
        docs.push(doc);
        previous = level;
    }
    // Run-once Workflows: applied once the base (their templates) is ready, and healthy
    // once they succeeded; kstatus alone would call a Workflow ready as soon as it exists.
    let runs = env.workflows.iter().filter(|w| w.cron.is_none());
    if let Some(deadline) = runs.map(|w| w.active_deadline).max() {
        docs.push(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": meta(&format!("{name}-workflows")),
            "spec": {
                "interval": g.sync_interval, "path": format!("./{root}/envs/{}/workflows", env.name),
                "prune": true, "wait": true, "timeout": format!("{deadline}s"),
                "dependsOn": [{ "name": name }], "sourceRef": source,
                "healthCheckExprs": [{
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Workflow",
                    "current": "has(status.phase) && status.phase == 'Succeeded'",
                    "failed": "has(status.phase) && status.phase in ['Failed', 'Error']",
                }],
            },
        }));
    }
    if !env.notebooks.is_empty() {
        docs.push(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": meta(&format!("{name}-notebooks")),
            "spec": {
                "interval": g.sync_interval, "path": format!("./{root}/envs/{}/notebooks", env.name),
                "prune": true, "wait": true, "timeout": g.ready_timeout,
                "dependsOn": [{ "name": name }], "sourceRef": source,
            },
        }));
    }
    // A remote cluster: every Kustomization applies there, with its kubeconfig Secret.
    if let Some(Cluster::Name(cluster)) = &env.cluster {
        for doc in docs.iter_mut().filter(|d| d["kind"] == "Kustomization") {
            doc["spec"]["kubeConfig"] = json!({ "secretRef": { "name": format!("{cluster}-kubeconfig") } });
        }
    }
    docs
}

/// A CEL expression true once the object has condition `kind` with status True.
fn condition(kind: &str) -> String {
    format!("has(status.conditions) && status.conditions.exists(c, c.type == '{kind}' && c.status == 'True')")
}
