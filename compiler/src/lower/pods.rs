//! What services and steps add to their pods besides the main container: probes,
//! configuration files, init containers and native sidecars.
//!
//! Takes: a service's or step's spec and its main container, as `Cx::container` made it.
//! Gives: the probes (with the model-loading defaults, docs/kubernetes.md "Probes"), the
//! volumes and mounts of the files it lists, and its helper containers, which share the main
//! container's environment, config, secrets and mounts.

use super::workloads::Cx;
use crate::plan::{ContainerPlan, FilePlan, MountPlan, PortPlan, ProbeCheck, ProbePlan, VolumePlan, VolumeSource};
use crate::source::Path;
use crate::spec::{CheckKind, Helper, Service};
use std::collections::BTreeMap;

/// Probe defaults (docs/kubernetes.md, "Probes").
pub const HEALTH_PATH: &str = "/healthz";
pub const LIVENESS_DELAY: u32 = 10;
pub const PROBE_PERIOD: u32 = 10;
pub const PROBE_TIMEOUT: u32 = 2;
pub const PROBE_FAILURES: u32 = 3;
/// A startup probe's checks: 180 × 10 s = 30 minutes for a server with GPUs to load its
/// model (a 70B model from a cold cache), 30 × 10 s = 5 minutes for one that asks for it.
pub const STARTUP_FAILURES_GPU: u32 = 180;
pub const STARTUP_FAILURES: u32 = 30;
/// Helper containers' requests and limits when they give none.
pub const HELPER_CPU: &str = "100m";
pub const HELPER_MEMORY: &str = "256Mi";

/// (liveness, readiness, startup) probes of a service.
pub(super) type Probes = (Option<ProbePlan>, Option<ProbePlan>, Option<ProbePlan>);

impl Cx<'_> {
    /// A service's probes. `ports` are its container's named ports (`http` first).
    pub(super) fn probes(&mut self, at: &Path, svc: &Service, ports: &[PortPlan]) -> Probes {
        let h = svc.health.clone().unwrap_or_default();
        let kind = h.check.unwrap_or(CheckKind::Http);
        if kind == CheckKind::None {
            return (None, None, None);
        }
        let port = h.port.clone().unwrap_or_else(|| {
            let grpc = kind == CheckKind::Grpc && ports.iter().any(|p| p.name == "grpc");
            if grpc { "grpc" } else { "http" }.to_string()
        });
        // An unknown port name was reported by the checks.
        let number = ports.iter().find(|p| p.name == port).map_or(0, |p| p.port);
        let check = |path: &str| match kind {
            CheckKind::Http | CheckKind::None => ProbeCheck::Http {
                path: path.to_string(),
                port: port.clone(),
            },
            CheckKind::Tcp => ProbeCheck::Tcp { port: port.clone() },
            CheckKind::Grpc => ProbeCheck::Grpc {
                port: number,
                service: h.grpc_service.clone(),
            },
            CheckKind::Exec => ProbeCheck::Exec {
                command: h.command.clone(),
            },
        };
        let live = h.path.clone().unwrap_or_else(|| HEALTH_PATH.into());
        let ready = h.ready.clone().unwrap_or_else(|| live.clone());
        let gpu = svc.resources.gpu.is_some_and(|g| g > 0);
        let s = h.startup.clone().unwrap_or_default();
        let default_failures = if gpu { STARTUP_FAILURES_GPU } else { STARTUP_FAILURES };
        let startup_failures = s.failures.unwrap_or(default_failures);
        let has_startup = (h.startup.is_some() || gpu) && startup_failures > 0;
        let sat = at.key("startup");
        let startup = has_startup.then(|| ProbePlan {
            check: check(&live),
            initial_delay: 0,
            period: self.int(sat.key("period"), s.period.unwrap_or(PROBE_PERIOD).into()),
            timeout: self.int(sat.key("timeout"), s.timeout.unwrap_or(PROBE_TIMEOUT).into()),
            failure_threshold: self.int(sat.key("failures"), startup_failures.into()),
        });
        // A startup probe holds liveness back until the server is up: no delay is needed.
        let delay = h.initial_delay.unwrap_or(if has_startup { 0 } else { LIVENESS_DELAY });
        let delay = self.int(at.key("initial_delay"), delay.into());
        let period = self.int(at.key("period"), h.period.unwrap_or(PROBE_PERIOD).into());
        let timeout = self.int(at.key("timeout"), h.timeout.unwrap_or(PROBE_TIMEOUT).into());
        let failures = self.int(at.key("failures"), h.failures.unwrap_or(PROBE_FAILURES).into());
        let probe = |check, initial_delay, failure_threshold| ProbePlan {
            check,
            initial_delay,
            period,
            timeout,
            failure_threshold,
        };
        let readiness = probe(check(&ready), 0, PROBE_FAILURES.cast_signed());
        (Some(probe(check(&live), delay, failures)), Some(readiness), startup)
    }

    /// The volumes of the configuration files a workload lists (one ConfigMap each).
    pub(super) fn file_volumes(&self, files: &[String]) -> Vec<VolumePlan> {
        self.listed(files)
            .map(|(name, plan)| VolumePlan {
                name: file_volume(name),
                source: VolumeSource::ConfigMap(plan.name.clone()),
            })
            .collect()
    }

    /// Read-only mounts of the listed files at their paths.
    pub(super) fn file_mounts(&self, files: &[String]) -> Vec<MountPlan> {
        self.listed(files)
            .map(|(name, plan)| MountPlan {
                volume: file_volume(name),
                path: self.spec.files[name].path.clone(),
                read_only: true,
                sub_path: Some(plan.key.clone()),
            })
            .collect()
    }

    fn listed<'f>(&'f self, files: &'f [String]) -> impl Iterator<Item = (&'f String, &'f FilePlan)> {
        // A file missing from `self.files` failed to read and was reported.
        files.iter().filter_map(|f| Some((f, self.files.get(f)?)))
    }

    /// A workload's sidecars (native: init containers with `restartPolicy: Always`, started
    /// first, so the init containers can use them too, and stopped after the main container,
    /// so a step's Job still ends), then its init containers, each in name order. Each shares
    /// `main`'s environment and mounts.
    pub(super) fn helpers(
        &self,
        init: &BTreeMap<String, Helper>,
        sidecars: &BTreeMap<String, Helper>,
        main: &ContainerPlan,
    ) -> Vec<ContainerPlan> {
        let mut out = Vec::new();
        for (helpers, restart) in [(sidecars, Some("Always")), (init, None)] {
            for (name, h) in helpers {
                let resources = BTreeMap::from([
                    (
                        "cpu".to_string(),
                        super::workloads::canonical_or(h.cpu.as_ref(), HELPER_CPU),
                    ),
                    (
                        "memory".to_string(),
                        super::workloads::canonical_or(h.memory.as_ref(), HELPER_MEMORY),
                    ),
                ]);
                let mut env = main.env.clone();
                env.extend(h.env.clone());
                out.push(ContainerPlan {
                    name: name.clone(),
                    image: self.images[&h.image].clone(),
                    command: h.command.clone(),
                    env,
                    env_refs: main.env_refs.clone(),
                    env_from: main.env_from.clone(),
                    requests: resources.clone(),
                    limits: resources,
                    mounts: main.mounts.clone(),
                    ports: Vec::new(),
                    liveness: None,
                    readiness: None,
                    startup: None,
                    restart_policy: restart.map(str::to_string),
                });
            }
        }
        out
    }
}

/// The pod volume of configuration file `name`.
pub fn file_volume(name: &str) -> String {
    format!("file-{name}")
}
