//! The pod builder every target shares, with mlship's pod-security baseline.
//!
//! Takes: a [`PodPlan`] or [`ContainerPlan`]. Gives: the k8s-openapi pod template, pod spec
//! or container, each with the same baseline: non-root with a fixed UID and GID, read-only
//! root filesystem, no privilege escalation, every capability dropped, the RuntimeDefault
//! seccomp profile, no service account token, and requests and limits on every container.
//! A Deployment, a Job, or any later target's pod (a model server, a workflow step, a
//! training node) gets its pod from here, so the baseline cannot differ between targets.

use crate::plan::{
    ContainerPlan, EnvFrom, EnvRef, NOTEBOOK_GID, NOTEBOOK_UID, PodPlan, ProbeCheck, ProbePlan, RUN_AS, TemplatePlan,
    VolumeSource,
};
use k8s_openapi::api::core::v1::{
    CSIVolumeSource, Capabilities, ConfigMapEnvSource, ConfigMapKeySelector, ConfigMapVolumeSource, Container,
    ContainerPort, EmptyDirVolumeSource, EnvFromSource, EnvVar, EnvVarSource, EphemeralVolumeSource, ExecAction,
    GRPCAction, HTTPGetAction, ObjectFieldSelector, PersistentVolumeClaimSpec, PersistentVolumeClaimTemplate,
    PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SeccompProfile, SecretEnvSource, SecretKeySelector, SecretVolumeSource, SecurityContext, TCPSocketAction,
    Toleration, TopologySpreadConstraint, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// A pod template: labels, annotations, and the pod.
pub fn template(t: &TemplatePlan) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(t.labels.clone()),
            annotations: (!t.annotations.is_empty()).then(|| t.annotations.clone()),
            ..Default::default()
        }),
        spec: Some(pod(&t.pod)),
    }
}

/// The pod-level half of the baseline.
pub fn pod_security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS),
        run_as_group: Some(RUN_AS),
        fs_group: Some(RUN_AS),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The container-level half of the baseline.
pub fn security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Default::default()
        }),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS),
        run_as_group: Some(RUN_AS),
        ..Default::default()
    }
}

/// The notebook profile's pod-level half: the baseline, as Kubeflow's images' user (UID 1000,
/// group `users`, which also owns the workspace claim's files).
pub fn notebook_pod_security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_user: Some(NOTEBOOK_UID),
        run_as_group: Some(NOTEBOOK_GID),
        fs_group: Some(NOTEBOOK_GID),
        ..pod_security_context()
    }
}

/// The notebook profile's container-level half: the baseline with a writable root filesystem
/// (interactive work installs packages), as Kubeflow's images' user. docs/security.md, "The
/// notebook profile", says what stays and why.
pub fn notebook_security_context() -> SecurityContext {
    SecurityContext {
        read_only_root_filesystem: Some(false),
        run_as_user: Some(NOTEBOOK_UID),
        run_as_group: Some(NOTEBOOK_GID),
        ..security_context()
    }
}

/// A pod under the notebook profile.
pub fn notebook_pod(p: &PodPlan) -> PodSpec {
    let mut spec = pod(p);
    spec.security_context = Some(notebook_pod_security_context());
    for c in &mut spec.containers {
        c.security_context = Some(notebook_security_context());
    }
    spec
}

pub fn pod(p: &PodPlan) -> PodSpec {
    let tolerations: Vec<Toleration> = p
        .tolerations
        .iter()
        .map(|t| Toleration {
            key: Some(t.key.clone()),
            operator: Some(t.operator.clone()),
            value: t.value.clone(),
            effect: t.effect.clone(),
            ..Default::default()
        })
        .collect();
    let volumes = p
        .volumes
        .iter()
        .map(|v| {
            let mut vol = Volume {
                name: v.name.clone(),
                ..Default::default()
            };
            match &v.source {
                VolumeSource::EmptyDir { memory, size } => {
                    vol.empty_dir = Some(EmptyDirVolumeSource {
                        medium: memory.then(|| "Memory".to_string()),
                        size_limit: size.clone().map(Quantity),
                    });
                }
                VolumeSource::Claim(claim) => {
                    vol.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim.clone(),
                        read_only: None,
                    });
                }
                VolumeSource::Ephemeral {
                    access_mode,
                    size,
                    storage_class,
                } => {
                    vol.ephemeral = Some(EphemeralVolumeSource {
                        volume_claim_template: Some(PersistentVolumeClaimTemplate {
                            metadata: None,
                            spec: PersistentVolumeClaimSpec {
                                access_modes: Some(vec![access_mode.clone()]),
                                resources: Some(VolumeResourceRequirements {
                                    requests: Some(BTreeMap::from([("storage".to_string(), Quantity(size.clone()))])),
                                    ..Default::default()
                                }),
                                storage_class_name: storage_class.clone(),
                                ..Default::default()
                            },
                        }),
                    });
                }
                VolumeSource::Csi {
                    driver,
                    attributes,
                    read_only,
                } => {
                    vol.csi = Some(CSIVolumeSource {
                        driver: driver.clone(),
                        read_only: read_only.then_some(true),
                        volume_attributes: (!attributes.is_empty()).then(|| attributes.clone()),
                        ..Default::default()
                    });
                }
                VolumeSource::ConfigMap(name) => {
                    vol.config_map = Some(ConfigMapVolumeSource {
                        name: name.clone(),
                        ..Default::default()
                    });
                }
                VolumeSource::Secret(secret) => {
                    vol.secret = Some(SecretVolumeSource {
                        secret_name: Some(secret.clone()),
                        ..Default::default()
                    });
                }
            }
            vol
        })
        .collect();
    PodSpec {
        service_account_name: Some(p.service_account.clone()),
        automount_service_account_token: Some(false),
        restart_policy: p.restart_policy.clone(),
        security_context: Some(pod_security_context()),
        containers: p.containers.iter().map(container).collect(),
        init_containers: (!p.init_containers.is_empty()).then(|| p.init_containers.iter().map(container).collect()),
        volumes: Some(volumes),
        node_selector: (!p.node_selector.is_empty()).then(|| p.node_selector.clone()),
        priority_class_name: p.priority_class.clone(),
        runtime_class_name: p.runtime_class.clone(),
        topology_spread_constraints: p.spread.as_ref().map(|(key, labels)| {
            vec![TopologySpreadConstraint {
                max_skew: 1,
                topology_key: key.clone(),
                when_unsatisfiable: "ScheduleAnyway".into(),
                label_selector: Some(LabelSelector {
                    match_labels: Some(labels.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            }]
        }),
        tolerations: (!tolerations.is_empty()).then_some(tolerations),
        ..Default::default()
    }
}

fn quantities(m: &BTreeMap<String, String>) -> BTreeMap<String, Quantity> {
    m.iter().map(|(k, v)| (k.clone(), Quantity(v.clone()))).collect()
}

fn probe(p: &ProbePlan) -> Probe {
    let mut probe = Probe::default();
    match &p.check {
        ProbeCheck::Http { path, port } => {
            probe.http_get = Some(HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::String(port.clone()),
                ..Default::default()
            });
        }
        ProbeCheck::Tcp { port } => {
            probe.tcp_socket = Some(TCPSocketAction {
                port: IntOrString::String(port.clone()),
                ..Default::default()
            });
        }
        ProbeCheck::Grpc { port, service } => {
            probe.grpc = Some(GRPCAction {
                port: *port,
                service: service.clone(),
            });
        }
        ProbeCheck::Exec { command } => {
            probe.exec = Some(ExecAction {
                command: Some(command.clone()),
            });
        }
    }
    Probe {
        initial_delay_seconds: Some(p.initial_delay),
        period_seconds: Some(p.period),
        timeout_seconds: Some(p.timeout),
        failure_threshold: Some(p.failure_threshold),
        ..probe
    }
}

pub fn container(c: &ContainerPlan) -> Container {
    let env_from: Vec<EnvFromSource> = c
        .env_from
        .iter()
        .map(|f| match f {
            EnvFrom::ConfigMap(name) => EnvFromSource {
                config_map_ref: Some(ConfigMapEnvSource {
                    name: name.clone(),
                    optional: None,
                }),
                ..Default::default()
            },
            EnvFrom::Secret(name) => EnvFromSource {
                secret_ref: Some(SecretEnvSource {
                    name: name.clone(),
                    optional: None,
                }),
                ..Default::default()
            },
        })
        .collect();
    // The values the kubelet reads come first, so that a plain value may refer to them
    // (`$(POD_IP):8000`: the kubelet expands only variables defined earlier); then the plain
    // values, each group in name order.
    let plain = c.env.iter().map(|(k, v)| {
        let var = EnvVar {
            name: k.clone(),
            value: Some(v.clone()),
            ..Default::default()
        };
        (k, var)
    });
    let refs = c.env_refs.iter().map(|(k, r)| {
        let source = match r {
            EnvRef::Field(path) => EnvVarSource {
                // The API server writes `apiVersion: v1` when it is left out.
                field_ref: Some(ObjectFieldSelector {
                    api_version: Some("v1".into()),
                    field_path: (*path).to_string(),
                }),
                ..Default::default()
            },
            EnvRef::ConfigKey { name, key } => EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name: name.clone(),
                    key: key.clone(),
                    optional: None,
                }),
                ..Default::default()
            },
            EnvRef::SecretKey { name, key } => EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: name.clone(),
                    key: key.clone(),
                    optional: None,
                }),
                ..Default::default()
            },
        };
        let var = EnvVar {
            name: k.clone(),
            value_from: Some(source),
            ..Default::default()
        };
        (k, var)
    });
    let env: Vec<EnvVar> = refs.map(|(_, v)| v).chain(plain.map(|(_, v)| v)).collect();
    let ports: Vec<ContainerPort> = c
        .ports
        .iter()
        .map(|p| ContainerPort {
            name: Some(p.name.clone()),
            container_port: p.port,
            protocol: Some("TCP".into()),
            ..Default::default()
        })
        .collect();
    Container {
        name: c.name.clone(),
        image: Some(c.image.clone()),
        image_pull_policy: Some("Always".into()),
        command: (!c.command.is_empty()).then(|| c.command.clone()),
        env: (!env.is_empty()).then_some(env),
        env_from: (!env_from.is_empty()).then_some(env_from),
        ports: (!ports.is_empty()).then_some(ports),
        liveness_probe: c.liveness.as_ref().map(probe),
        readiness_probe: c.readiness.as_ref().map(probe),
        startup_probe: c.startup.as_ref().map(probe),
        restart_policy: c.restart_policy.clone(),
        resources: Some(ResourceRequirements {
            requests: Some(quantities(&c.requests)),
            limits: Some(quantities(&c.limits)),
            ..Default::default()
        }),
        security_context: Some(security_context()),
        volume_mounts: Some(
            c.mounts
                .iter()
                .map(|m| VolumeMount {
                    name: m.volume.clone(),
                    mount_path: m.path.clone(),
                    read_only: m.read_only.then_some(true),
                    sub_path: m.sub_path.clone(),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }
}
