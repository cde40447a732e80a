//! Argo CD: one Application per environment.
//!
//! Takes: the plan's GitOps settings and one environment. Gives: an Application that syncs the
//! environment's folder from git with automated prune and self-heal, pruning last, and retries
//! with backoff. Pipeline Jobs are ordered by their sync waves (see `batch`). An environment
//! with notebooks gets a second Application for its `notebooks` folder: a notebook waiting
//! for a GPU must not hold back the waves of pipelines, nor a failed pipeline the notebook.

use super::{Emit, Kind, Target};
use crate::plan::{Cluster, EnvPlan, GitopsPlan, Plan};
use crate::spec::Engine;
use serde_json::{Value, json};

pub const TARGET: Target = Target {
    name: "argocd",
    kinds: &[Kind::new("argoproj.io/v1alpha1", "Application")],
    emit: Emit::Gitops(Engine::Argocd, objects),
};

/// The environment's cluster (Argo CD's own when the spec names none) and namespace.
fn destination(env: &EnvPlan) -> Value {
    match &env.cluster {
        None => json!({ "server": IN_CLUSTER, "namespace": env.namespace }),
        Some(Cluster::Server(url)) => json!({ "server": url, "namespace": env.namespace }),
        Some(Cluster::Name(name)) => json!({ "name": name, "namespace": env.namespace }),
    }
}

/// The API server of the cluster Argo CD runs in.
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

fn objects(plan: &Plan, env: &EnvPlan, g: &GitopsPlan) -> Vec<Value> {
    let mut apps = vec![application(plan, env, g, "")];
    if !env.notebooks.is_empty() {
        apps.push(application(plan, env, g, "notebooks"));
    }
    apps
}

fn application(plan: &Plan, env: &EnvPlan, g: &GitopsPlan, folder: &str) -> Value {
    let (name, path) = if folder.is_empty() {
        (
            format!("{}-{}", plan.project, env.name),
            format!("{}/envs/{}", g.root, env.name),
        )
    } else {
        (
            format!("{}-{}-{folder}", plan.project, env.name),
            format!("{}/envs/{}/{folder}", g.root, env.name),
        )
    };
    let mut app = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name, "namespace": g.namespace, "labels": env.labels(None, None),
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": "default",
            "source": { "repoURL": g.repo, "targetRevision": g.revision, "path": path },
            "destination": destination(env),
            "syncPolicy": {
                "automated": { "prune": true, "selfHeal": true },
                "syncOptions": ["PruneLast=true"],
                "retry": { "limit": g.retry.0, "backoff": { "duration": g.retry.1, "factor": g.retry.2, "maxDuration": g.retry.3 } },
            },
        },
    });
    // The Trainer's webhook stamps each runtime patch with the time it last wrote it: a
    // field git cannot hold, so Argo CD must not compare it.
    if folder.is_empty() && env.steps.iter().any(|s| s.train.is_some()) {
        app["spec"]["ignoreDifferences"] = json!([{
            "group": "trainer.kubeflow.org",
            "kind": "TrainJob",
            "jqPathExpressions": [".spec.runtimePatches[].time"],
        }]);
    }
    app
}
