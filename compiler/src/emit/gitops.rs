//! GitOps objects: how Argo CD or Flux applies one environment's folder from git.
//!
//! Takes: the plan, one environment and the spec's `gitops`. Gives: an Argo CD Application
//! (automated sync with prune and self-heal), or a Flux GitRepository and Kustomizations:
//! one for the environment and one per pipeline level, each depending on the one before,
//! with `wait` (a level starts once the previous Jobs completed) and `force` (Jobs are
//! immutable, so a changed Job is recreated).

use crate::lower::{EnvPlan, Plan, gitops_namespace};
use crate::spec::{Engine, Gitops, SecretProvider};
use crate::units::parse_duration;

/// The Secret in the Flux namespace that holds the SOPS decryption key (docs/kubernetes.md).
pub const SOPS_KEY_SECRET: &str = "sops-keys";
use serde_json::{Value, json};

pub fn objects(plan: &Plan, env: &EnvPlan, g: &Gitops) -> Vec<Value> {
    let name = format!("{}-{}", plan.project, env.name);
    let ns = gitops_namespace(g);
    let root = g.path.clone().unwrap_or_else(|| "deploy".into());
    let root = root.trim_matches('/');
    let revision = g.revision.clone().unwrap_or_else(|| "main".into());
    let labels = json!({
        "app.kubernetes.io/managed-by": "mlship",
        "app.kubernetes.io/part-of": plan.project,
        "mlship.dev/environment": env.name,
    });
    let meta = |n: &str| json!({ "name": n, "namespace": ns, "labels": labels });
    match g.engine {
        Engine::Argocd => vec![json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {
                "name": name, "namespace": ns, "labels": labels,
                "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            },
            "spec": {
                "project": "default",
                "source": { "repoURL": g.repo, "targetRevision": revision, "path": format!("{root}/envs/{}", env.name) },
                "destination": { "server": "https://kubernetes.default.svc", "namespace": env.namespace },
                "syncPolicy": {
                    "automated": { "prune": true, "selfHeal": true },
                    "syncOptions": ["PruneLast=true"],
                    "retry": { "limit": 5, "backoff": { "duration": "10s", "factor": 2, "maxDuration": "3m" } },
                },
            },
        })],
        Engine::Flux => {
            let mut docs = vec![json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": meta(&name),
                "spec": { "interval": "1m", "url": g.repo, "ref": { "branch": revision } },
            })];
            let source = json!({ "kind": "GitRepository", "name": name });
            let mut base = json!({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": meta(&name),
                "spec": {
                    "interval": "10m", "path": format!("./{root}/envs/{}", env.name), "prune": true,
                    "wait": true, "timeout": "5m", "sourceRef": source,
                },
            });
            if env.secrets.values().any(|s| s.provider == SecretProvider::Sops) {
                // kustomize-controller decrypts SOPS files with the key in this Secret.
                base["spec"]["decryption"] = json!({ "provider": "sops", "secretRef": { "name": SOPS_KEY_SECRET } });
            }
            docs.push(base);
            let mut previous = name.clone();
            for (depth, steps) in env.levels.iter().enumerate() {
                let level = format!("{name}-jobs-{depth}");
                // Wait as long as the slowest step of the level may run.
                let timeout = steps
                    .iter()
                    .map(|(p, s)| {
                        env.spec.pipelines[p].steps[s]
                            .timeout
                            .as_deref()
                            .and_then(|t| parse_duration(t).ok())
                            .unwrap_or(3600)
                    })
                    .max()
                    .unwrap_or(3600);
                docs.push(json!({
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                    "kind": "Kustomization",
                    "metadata": meta(&level),
                    "spec": {
                        "interval": "10m", "path": format!("./{root}/envs/{}/jobs/level-{depth}", env.name),
                        "prune": true, "wait": true, "force": true, "timeout": format!("{timeout}s"),
                        "dependsOn": [{ "name": previous }], "sourceRef": source,
                    },
                }));
                previous = level;
            }
            docs
        }
    }
}
