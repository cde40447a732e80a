//! Notebooks of one environment, as plans.
//!
//! Takes: one environment's merged spec and a notebook that exists in it (its `environments`
//! name it). Gives: a [`NotebookPlan`]: the pod (one container named after the notebook, as
//! Kubeflow's status expects, with its config keys, secrets and volumes, the workspace claim
//! on the home folder, port 8888 and `NB_PREFIX`), the workspace claim and the annotations
//! that keep GitOps engines from pruning it, Kubeflow's server-type and routing annotations,
//! and where the notebook is reached after `kubectl port-forward`.

use super::workloads::Cx;
use super::{NOTEBOOK_CPU, NOTEBOOK_MEMORY, NOTEBOOK_WORKSPACE};
use crate::names;
use crate::plan::{
    ClaimPlan, EnvFrom, MountPlan, NOTEBOOK_HOME, NOTEBOOK_PORT, NotebookPlan, PROFILE_ANNOTATION, PortPlan,
    ProbeCheck, ProbePlan, TemplatePlan, VolumePlan, VolumeSource,
};
use crate::spec::{Engine, NotebookKind, NotebookPlatform};
use std::collections::BTreeMap;

/// The liveness probe gives a server five minutes before a restart: kernels are processes of
/// their own, so a busy kernel does not stop the server answering, but a restart loses them.
pub const LIVENESS_DELAY: i32 = 60;
pub const LIVENESS_PERIOD: i32 = 30;
pub const LIVENESS_FAILURES: i32 = 10;

/// The key of the image reference of a notebook in the lowering's image map.
pub fn image_key(notebook: &str) -> String {
    format!("notebook/{notebook}")
}

impl Cx<'_> {
    pub fn notebook(&mut self, name: &str, namespace: &str) -> NotebookPlan {
        let spec = self.spec;
        let nb = &spec.notebooks[name];
        let full_name = names::workload(&spec.project, name);
        let kubeflow = spec.platform_of(nb) == NotebookPlatform::Kubeflow;
        let prefix = format!("/notebook/{namespace}/{full_name}");
        let mut env = nb.env.clone();
        for key in &nb.config {
            if let Some(v) = spec.config.get(key) {
                env.insert(key.clone(), v.clone());
            }
        }
        // Kubeflow's controller sets NB_PREFIX to this value when the container has none;
        // writing it keeps the rendered Notebook what runs. Without Kubeflow, the server
        // serves from `/` behind port-forward.
        env.insert("NB_PREFIX".into(), if kubeflow { prefix.clone() } else { "/".into() });
        let mut container = self.container(
            &full_name,
            &image_key(name),
            &[],
            &nb.resources,
            (NOTEBOOK_CPU, NOTEBOOK_MEMORY),
            &env,
            &nb.secrets,
            &nb.mounts,
        );
        // Config comes as the keys the notebook names, not as the whole ConfigMap.
        container.env_from.retain(|f| !matches!(f, EnvFrom::ConfigMap(_)));
        // Each server's unauthenticated status page, where it serves.
        let kind = nb.kind.unwrap_or(NotebookKind::Jupyterlab);
        let health = match kind {
            NotebookKind::Jupyterlab if kubeflow => format!("{prefix}/api"),
            NotebookKind::Jupyterlab => "/api".to_string(),
            NotebookKind::CodeServer => "/healthz".to_string(),
            NotebookKind::Rstudio => "/".to_string(),
        };
        let probe = |initial_delay, period, timeout, failure_threshold| ProbePlan {
            check: ProbeCheck::Http {
                path: health.clone(),
                port: "notebook-port".into(),
            },
            initial_delay,
            period,
            timeout,
            failure_threshold,
        };
        container.readiness = Some(probe(10, 10, 2, 3));
        container.liveness = Some(probe(LIVENESS_DELAY, LIVENESS_PERIOD, 5, LIVENESS_FAILURES));
        container.ports = vec![PortPlan {
            name: "notebook-port".into(),
            port: NOTEBOOK_PORT,
        }];
        container.mounts.push(MountPlan {
            volume: "workspace".into(),
            path: NOTEBOOK_HOME.into(),
            read_only: false,
            sub_path: None,
        });
        let workspace_name = format!("{full_name}-workspace");
        let mut volumes = self.volumes(&nb.mounts, &nb.secrets, &nb.resources, NOTEBOOK_MEMORY);
        volumes.push(VolumePlan {
            name: "workspace".into(),
            source: VolumeSource::Claim(workspace_name.clone()),
        });
        let w = nb.workspace.clone().unwrap_or_default();
        let size = w.size.map_or_else(|| NOTEBOOK_WORKSPACE.to_string(), |q| q.text());
        let workspace = ClaimPlan {
            name: workspace_name,
            access_mode: "ReadWriteOnce".into(),
            size: crate::units::Quantity::parse(&size).map_or(size, |q| q.canonical()),
            storage_class: w.storage_class,
        };
        // The workspace holds the user's work: removing the notebook from the spec, or the
        // Application, must not delete it.
        let workspace_annotations = match self.engine {
            Some(Engine::Argocd) => BTreeMap::from([(
                "argocd.argoproj.io/sync-options".to_string(),
                "Prune=false,Delete=false".to_string(),
            )]),
            Some(Engine::Flux) => {
                BTreeMap::from([("kustomize.toolkit.fluxcd.io/prune".to_string(), "disabled".to_string())])
            }
            None => BTreeMap::new(),
        };
        let server_type = match kind {
            NotebookKind::Jupyterlab => "jupyter",
            NotebookKind::CodeServer => "group-one",
            NotebookKind::Rstudio => "group-two",
        };
        let mut annotations = BTreeMap::from([(PROFILE_ANNOTATION.to_string(), "notebook".to_string())]);
        if kubeflow {
            annotations.insert("notebooks.kubeflow.org/server-type".into(), server_type.into());
            // code-server and RStudio serve from `/`: Kubeflow's route rewrites the prefix,
            // and RStudio learns it from a header (as Kubeflow's web app sets them).
            if kind != NotebookKind::Jupyterlab {
                annotations.insert("notebooks.kubeflow.org/http-rewrite-uri".into(), "/".into());
            }
            if kind == NotebookKind::Rstudio {
                annotations.insert(
                    "notebooks.kubeflow.org/http-headers-request-set".into(),
                    format!("{{\"X-RStudio-Root-Path\":\"{prefix}/\"}}"),
                );
            }
        }
        let pod = self.pod(name, None, vec![container], vec![], volumes, &nb.resources);
        NotebookPlan {
            name: name.to_string(),
            full_name,
            kubeflow,
            server_type: server_type.into(),
            annotations,
            workspace,
            workspace_annotations,
            service_port: if kubeflow { 80 } else { NOTEBOOK_PORT },
            url_path: if kubeflow && kind == NotebookKind::Jupyterlab {
                format!("{prefix}/")
            } else {
                "/".into()
            },
            folder: if self.engine.is_some() {
                "notebooks".into()
            } else {
                String::new()
            },
            template: TemplatePlan {
                labels: self.labels(name, "notebook"),
                annotations: BTreeMap::new(),
                pod,
            },
        }
    }
}
