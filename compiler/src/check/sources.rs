//! Rules for where workloads' data comes from: secrets (by provider, with their variable
//! mapping), volumes (a shared claim, an existing one, a claim per pod, an inline CSI
//! volume), single environment variables from the pod, config or a secret, and which pods
//! may hold one ReadWriteOnce claim at a time.

use super::{Checker, p};
use crate::diag::Code;
use crate::names;
use crate::source::Path;
use crate::spec::{Engine, Secret, SecretProvider, Spec};
use std::collections::BTreeMap;

impl Checker<'_> {
    pub(super) fn secrets(&mut self, s: &Spec) {
        for (name, sec) in &s.secrets {
            let at = p(&["secrets", name]);
            self.name(&at, name, "secret");
            self.object_name(&at, &format!("{}-{name}", s.project), 253);
            // Pods mount it as a volume named `secret-<name>`.
            if names::is_dns_label(name) {
                self.object_name(&at, &format!("secret-{name}"), 63);
            }
            if sec.provider == SecretProvider::Sops && s.gitops.as_ref().is_some_and(|g| g.engine == Engine::Argocd) {
                self.err(
                    Code::Conflict,
                    at.key("provider"),
                    format!("Argo CD does not decrypt SOPS files: secret `{name}` would reach the cluster still encrypted"),
                    "use external-secrets or sealed-secrets; or decrypt in Argo CD with KSOPS or a config management plugin and add the file there instead of under `secrets:`",
                );
            }
            let external = sec.provider == SecretProvider::ExternalSecrets;
            if !external && (!sec.keys.is_empty() || sec.store.is_some() || sec.store_kind.is_some()) {
                self.err(
                    Code::Conflict,
                    at.clone(),
                    "`keys`, `store` and `store_kind` are for external-secrets".into(),
                    "remove them; the Secret itself holds the keys (map variables to its keys with `env`)",
                );
            }
            if sec.name.is_some() && sec.provider != SecretProvider::Existing {
                self.err(
                    Code::Conflict,
                    at.key("name"),
                    "`name` is for secrets created outside the spec (`provider: existing`)".into(),
                    "remove `name`: mlship names the Secret it manages `<project>-<secret>`",
                );
            }
            match sec.provider {
                SecretProvider::ExternalSecrets => {
                    if let Some(store) = sec
                        .store
                        .as_ref()
                        .filter(|st| !names::is_dns_subdomain(st) || st.len() > 253)
                    {
                        self.err(
                            Code::InvalidName,
                            at.key("store"),
                            format!("`{store}` is not a valid store name"),
                            "SecretStore names are lowercase DNS names, such as vault-kv",
                        );
                    }
                    if sec.store.is_none() {
                        self.err(
                            Code::MissingKey,
                            at.clone(),
                            format!("secret `{name}` needs a `store`"),
                            "name the SecretStore or ClusterSecretStore that holds the values",
                        );
                    }
                    if sec.keys.is_empty() {
                        self.err(
                            Code::MissingKey,
                            at.clone(),
                            format!("secret `{name}` needs `keys`"),
                            "map each variable to its remote reference: `DB_PASSWORD: fraud/db#password`",
                        );
                    }
                    if sec.file.is_some() {
                        self.err(
                            Code::Conflict,
                            at.key("file"),
                            "`file` is for sealed-secrets and sops secrets".into(),
                            "remove `file`, or change the provider",
                        );
                    }
                    for (k, r) in &sec.keys {
                        self.env_name(&at.key("keys").key(k), k);
                        if r.is_empty() || r.starts_with('#') || r.ends_with('#') {
                            self.err(
                                Code::BadValue,
                                at.key("keys").key(k),
                                format!("`{r}` is not a remote reference"),
                                "write `path` or `path#property`",
                            );
                        }
                    }
                }
                SecretProvider::SealedSecrets | SecretProvider::Sops => match &sec.file {
                    None => self.err(
                        Code::MissingKey,
                        at.clone(),
                        format!("secret `{name}` needs a `file`"),
                        "commit the encrypted manifest and name it here",
                    ),
                    Some(f) => self.rel_path(&at.key("file"), f),
                },
                SecretProvider::Existing => {
                    match &sec.name {
                        None => self.err(
                            Code::MissingKey,
                            at.clone(),
                            format!("secret `{name}` needs the `name` of the existing Secret"),
                            "write `name: hf-token`: a Secret in the environment's namespace that mlship does not manage",
                        ),
                        Some(n) if !names::is_dns_subdomain(n) || n.len() > 253 => self.err(
                            Code::InvalidName,
                            at.key("name"),
                            format!("`{n}` is not a valid Secret name"),
                            "Secret names are lowercase DNS names of at most 253 characters, such as hf-token",
                        ),
                        Some(n) if *n == names::workload(&s.project, name) => self.err(
                            Code::Conflict,
                            at.key("name"),
                            format!("`{n}` is the Secret mlship makes for secret `{name}`: as an existing one it would be pruned"),
                            "keep the provider that makes it, or give the existing Secret another name",
                        ),
                        Some(_) => {}
                    }
                    if sec.file.is_some() {
                        self.err(
                            Code::Conflict,
                            at.key("file"),
                            "an existing Secret has no `file`".into(),
                            "remove `file`, or use provider sealed-secrets or sops to commit it",
                        );
                    }
                }
            }
            for (var, key) in &sec.env {
                let kat = at.key("env").key(var);
                self.env_name(&kat, var);
                self.secret_key(kat, key, Some(sec));
            }
            if let Some(m) = &sec.mount {
                self.abs_path(&at.key("mount"), m);
                if !sec.env.is_empty() {
                    self.err(
                        Code::Conflict,
                        at.key("env"),
                        format!("secret `{name}` is mounted as files, so it sets no variables"),
                        "remove `env` or `mount`",
                    );
                }
            }
        }
    }

    pub(super) fn volumes(&mut self, s: &Spec) {
        for (name, v) in &s.volumes {
            let at = p(&["volumes", name]);
            self.name(&at, name, "volume");
            self.object_name(&at, &format!("{}-{name}", s.project), 253);
            // Pods mount it as a volume named `vol-<name>`.
            if names::is_dns_label(name) {
                self.object_name(&at, &format!("vol-{name}"), 63);
            }
            if let Some(size) = &v.size {
                self.quantity(&at.key("size"), &size.text(), false);
            }
            let refuse = |c: &mut Self, key: &str, set: bool, kind: &str| {
                if set {
                    c.err(
                        Code::Conflict,
                        at.key(key),
                        format!("`{key}` does not apply to {kind}"),
                        format!("remove `{key}`"),
                    );
                }
            };
            if let Some(csi) = &v.csi {
                let kind = "an inline CSI volume";
                refuse(self, "claim", v.claim.is_some(), kind);
                refuse(self, "size", v.size.is_some(), kind);
                refuse(self, "access", v.access.is_some(), kind);
                refuse(self, "storage_class", v.storage_class.is_some(), kind);
                refuse(self, "per_pod", v.per_pod, kind);
                if !names::is_dns_subdomain(&csi.driver) || csi.driver.len() > 63 {
                    self.err(
                        Code::BadValue,
                        at.key("csi").key("driver"),
                        format!("`{}` is not a CSI driver name", csi.driver),
                        "driver names are lowercase DNS names of at most 63 characters, such as gcsfuse.csi.storage.gke.io",
                    );
                }
                for (k, val) in &csi.attributes {
                    self.plain_text(&at.key("csi").key("attributes").key(k), val);
                    self.text_credential(&at.key("csi").key("attributes").key(k), val, None, Some(k));
                }
            } else if let Some(claim) = &v.claim {
                let kind = "an existing claim, whose size and class are set where it was created";
                refuse(self, "size", v.size.is_some(), kind);
                refuse(self, "storage_class", v.storage_class.is_some(), kind);
                refuse(self, "per_pod", v.per_pod, kind);
                if !names::is_dns_subdomain(claim) || claim.len() > 253 {
                    self.err(
                        Code::InvalidName,
                        at.key("claim"),
                        format!("`{claim}` is not a valid claim name"),
                        "claim names are lowercase DNS names, such as model-store",
                    );
                } else if *claim == names::workload(&s.project, name) {
                    self.err(
                        Code::Conflict,
                        at.key("claim"),
                        format!("`{claim}` is the claim mlship makes for volume `{name}`: with `claim`, mlship stops managing it, and the GitOps engine prunes it with its data"),
                        "keep `size` to keep the claim mlship manages; to hand it over, first remove it from the tree without deleting it (Argo CD: annotate it argocd.argoproj.io/sync-options: Prune=false; Flux: kustomize.toolkit.fluxcd.io/prune: disabled)",
                    );
                }
            } else if v.size.is_none() {
                self.err(
                    Code::MissingKey,
                    at.clone(),
                    format!("volume `{name}` needs a `size`, an existing `claim` or `csi`"),
                    "write `size: 50Gi` for a claim mlship creates (add `per_pod: true` for one per pod)",
                );
            }
        }
    }

    /// Single environment variables from the pod, config or a secret (`env_from`), and the
    /// rule that every variable of a container is set once: by `env`, by `env_from` or by a
    /// listed secret's `env` mapping.
    pub(super) fn env_sources(
        &mut self,
        s: &Spec,
        at: &Path,
        env: &BTreeMap<String, String>,
        secrets: &[String],
        from: &BTreeMap<String, crate::spec::EnvSource>,
    ) {
        let mut set: BTreeMap<&str, Path> = env.keys().map(|k| (k.as_str(), at.key("env").key(k))).collect();
        for (var, src) in from {
            let vat = at.key("env_from").key(var);
            self.env_name(&vat, var);
            let given = [src.pod.is_some(), src.config.is_some(), src.secret.is_some()];
            if given.iter().filter(|g| **g).count() != 1 {
                self.err(
                    Code::BadValue,
                    vat.clone(),
                    format!("`{var}` needs exactly one source"),
                    "write `{pod: name}`, `{config: KEY}` or `{secret: NAME, key: KEY}`",
                );
            }
            if let Some(k) = &src.config
                && !s.config.contains_key(k)
            {
                self.unresolved(vat.key("config"), "config key", k, s.config.keys());
            }
            match (&src.secret, &src.key) {
                (Some(sec), key) => {
                    if !s.secrets.contains_key(sec) {
                        self.unresolved(vat.key("secret"), "secret", sec, s.secrets.keys());
                    }
                    match key {
                        None => self.err(
                            Code::MissingKey,
                            vat.clone(),
                            format!("`{var}` names secret `{sec}` but no `key`"),
                            "add the key of the Secret that holds the value, such as `key: token`",
                        ),
                        Some(k) => self.secret_key(vat.key("key"), k, s.secrets.get(sec)),
                    }
                }
                (None, Some(_)) => self.err(
                    Code::Conflict,
                    vat.key("key"),
                    "`key` goes with `secret`".into(),
                    "name the secret, or remove `key`",
                ),
                (None, None) => {}
            }
            if let Some(first) = set.insert(var, vat.clone()) {
                self.twice(vat, var, &first);
            }
        }
        for (i, sec) in secrets.iter().enumerate() {
            let Some(sc) = s.secrets.get(sec) else { continue };
            for var in sc.env.keys() {
                let here = p(&["secrets", sec, "env", var]);
                match set.get(var.as_str()) {
                    // Set by `env` or `env_from`: reported there.
                    Some(first) if !first.to_string().starts_with("secrets.") => {
                        let first = first.clone();
                        self.twice(first, var, &here);
                    }
                    // Mapped by an earlier secret of the list: reported at this one.
                    Some(first) => {
                        let first = first.clone();
                        self.twice(at.key("secrets").index(i), var, &first);
                    }
                    None => {
                        set.insert(var, here);
                    }
                }
            }
        }
    }

    /// A key of a secret's Secret: a data key, and for external-secrets one it fetches.
    fn secret_key(&mut self, at: Path, key: &str, sec: Option<&Secret>) {
        if !is_secret_key(key) {
            self.err(
                Code::BadValue,
                at,
                format!("`{key}` is not a Secret key"),
                "keys are letters, digits, `-`, `_` and `.`, such as token",
            );
        } else if let Some(sec) = sec.filter(|s| s.provider == SecretProvider::ExternalSecrets)
            && !sec.keys.contains_key(key)
        {
            self.unresolved(at, "key", key, sec.keys.keys());
        }
    }

    fn twice(&mut self, at: Path, var: &str, first: &Path) {
        self.err(
            Code::Conflict,
            at,
            format!("variable `{var}` is set twice (also at {first})"),
            "set each variable once: in `env`, in `env_from`, or by a secret's `env`",
        );
    }

    /// ReadWriteOnce claims that more than one pod may mount at once: several replicas, two
    /// workloads, or a rolling update's extra pod. Pods on one node share such a claim, but
    /// on two nodes the second pod waits forever; warn where it can happen.
    pub(super) fn shared_claims(&mut self, s: &Spec) {
        let once = |vol: &str| s.volumes.get(vol).is_some_and(crate::spec::Volume::one_node);
        // Long-running holders, by volume: (path of the mount, what holds it).
        let mut holders: BTreeMap<&str, Vec<(Path, String)>> = BTreeMap::new();
        for (name, svc) in &s.services {
            for vol in svc.mounts.keys().filter(|v| once(v)) {
                let at = p(&["services", name, "mounts", vol]);
                let pods = if svc.autoscale.is_some() {
                    svc.autoscale.as_ref().map_or(1, |a| a.max)
                } else {
                    svc.replicas.unwrap_or(1)
                };
                if pods > 1 {
                    self.warn(
                        Code::Conflict,
                        at.clone(),
                        format!("service `{name}` runs up to {pods} pods, and ReadWriteOnce volume `{vol}` mounts on one node only"),
                        "use access ReadWriteMany, `per_pod: true` for a cache, or one replica",
                    );
                } else if svc.rollout == Some(crate::spec::Rollout::Rolling) {
                    self.warn(
                        Code::Conflict,
                        p(&["services", name, "rollout"]),
                        format!("a rolling update starts a second pod of `{name}` while the first holds ReadWriteOnce volume `{vol}`"),
                        "remove `rollout` (a single pod with such a volume is recreated), or use ReadWriteMany",
                    );
                } else if svc.rollout.is_none() {
                    self.warn(
                        Code::Conflict,
                        at.clone(),
                        format!("service `{name}` rolls out with Recreate: its one pod holds ReadWriteOnce volume `{vol}`, which a new pod could not mount beside it"),
                        "expect a short outage per rollout; write `rollout: recreate` to accept it, or use ReadWriteMany",
                    );
                }
                holders.entry(vol).or_default().push((at, format!("service `{name}`")));
            }
        }
        for (name, nb) in &s.notebooks {
            for vol in nb.mounts.keys().filter(|v| once(v)) {
                let at = p(&["notebooks", name, "mounts", vol]);
                holders.entry(vol).or_default().push((at, format!("notebook `{name}`")));
            }
        }
        // Steps of one pipeline usually run one after another; of two pipelines, at any time.
        for (pname, pipe) in &s.pipelines {
            let mut seen = std::collections::BTreeSet::new();
            for (sname, step) in &pipe.steps {
                for vol in step.mounts.keys().filter(|v| once(v)) {
                    if seen.insert(vol.as_str()) {
                        let at = p(&["pipelines", pname, "steps", sname, "mounts", vol]);
                        holders
                            .entry(vol)
                            .or_default()
                            .push((at, format!("pipeline `{pname}`")));
                    }
                }
            }
        }
        for (vol, list) in holders {
            if let [(_, first), rest @ ..] = list.as_slice() {
                for (at, other) in rest {
                    self.warn(
                        Code::Conflict,
                        at.clone(),
                        format!("{other} and {first} both mount ReadWriteOnce volume `{vol}`; pods on two nodes cannot share it"),
                        "use access ReadWriteMany, or give each workload its own volume",
                    );
                }
            }
        }
    }
}

/// A Secret or ConfigMap data key.
fn is_secret_key(k: &str) -> bool {
    !k.is_empty() && k.len() <= 253 && k.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

#[cfg(test)]
mod tests {
    use crate::diag::{Code, Severity};

    /// The severities, codes and paths of the diagnostics of a spec with `body` after its
    /// images and config.
    fn check(body: &str) -> Vec<(Severity, Code, String)> {
        let yaml = format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: fastapi}}\n\
             config: {{LOG_LEVEL: info}}\n{body}"
        );
        let (_, _, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        diags
            .iter()
            .map(|d| {
                (
                    d.severity,
                    d.code,
                    d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                )
            })
            .collect()
    }

    fn paths(body: &str) -> Vec<String> {
        check(body).into_iter().map(|(_, _, p)| p).collect()
    }

    const HF: &str = "secrets:\n  hf: {provider: existing, name: hf-token, env: {HF_TOKEN: token}}\n  \
                      hf2: {provider: existing, name: hf-other, env: {HF_TOKEN: token}}\n";

    #[test]
    fn an_existing_secret_is_named_and_maps_variables_to_its_keys() {
        assert!(check(HF).is_empty(), "{:?}", check(HF));
        for (secret, at) in [
            ("{provider: existing}", "secrets.hf"),
            ("{provider: existing, name: Bad_Name}", "secrets.hf.name"),
            ("{provider: existing, name: a, file: s.yaml}", "secrets.hf.file"),
            ("{provider: existing, name: a, store: vault}", "secrets.hf"),
            ("{provider: sealed-secrets, file: s.yaml, name: a}", "secrets.hf.name"),
            (
                "{provider: existing, name: a, env: {HF_TOKEN: \"bad key\"}}",
                "secrets.hf.env.HF_TOKEN",
            ),
            ("{provider: existing, name: a, env: {1X: token}}", "secrets.hf.env.1X"),
            (
                "{provider: existing, name: a, env: {X: token}, mount: /s}",
                "secrets.hf.env",
            ),
            ("{provider: existing, name: p-hf}", "secrets.hf.name"),
            (
                "{provider: external-secrets, store: v, keys: {A: p#a}, env: {X: B}}",
                "secrets.hf.env.X",
            ),
        ] {
            let found = paths(&format!("secrets:\n  hf: {secret}\n"));
            assert!(found.iter().any(|p| p == at), "{secret}: {found:?}");
        }
    }

    #[test]
    fn single_variables_name_one_source_that_exists_and_are_set_once() {
        let svc = |fields: &str| {
            let secrets = if fields.starts_with("secrets:") {
                ""
            } else {
                "secrets: [hf], "
            };
            paths(&format!(
                "{HF}services:\n  web: {{image: app, port: 8080, {secrets}{fields}}}\n"
            ))
        };
        let ok = "env_from: {POD: {pod: name}, LVL: {config: LOG_LEVEL}, T: {secret: hf, key: token}}";
        assert!(svc(ok).is_empty(), "{:?}", svc(ok));
        for (fields, at) in [
            ("env_from: {X: {}}", "services.web.env_from.X"),
            (
                "env_from: {X: {pod: name, config: LOG_LEVEL}}",
                "services.web.env_from.X",
            ),
            ("env_from: {X: {config: NOPE}}", "services.web.env_from.X.config"),
            (
                "env_from: {X: {secret: nope, key: k}}",
                "services.web.env_from.X.secret",
            ),
            ("env_from: {X: {secret: hf}}", "services.web.env_from.X"),
            ("env_from: {X: {pod: name, key: k}}", "services.web.env_from.X.key"),
            ("env_from: {1X: {pod: name}}", "services.web.env_from.1X"),
            ("env: {X: a}, env_from: {X: {pod: name}}", "services.web.env_from.X"),
            // The secret's own mapping sets HF_TOKEN already.
            ("env: {HF_TOKEN: a}", "services.web.env.HF_TOKEN"),
            // So does a second secret's mapping.
            ("secrets: [hf, hf2]", "services.web.secrets[1]"),
        ] {
            let found = svc(fields);
            assert!(found.iter().any(|p| p == at), "{fields}: {found:?}");
        }
    }

    #[test]
    fn a_volume_is_one_kind_of_storage() {
        for vol in [
            "{size: 1Gi}",
            "{size: 1Gi, per_pod: true, storage_class: fast}",
            "{claim: shared-models, access: ReadWriteMany}",
            "{csi: {driver: gcsfuse.csi.storage.gke.io, attributes: {bucketName: m}, read_only: true}}",
        ] {
            assert!(check(&format!("volumes:\n  v: {vol}\n")).is_empty(), "{vol}");
        }
        for (vol, at) in [
            ("{}", "volumes.v"),
            ("{per_pod: true}", "volumes.v"),
            ("{claim: c, size: 1Gi}", "volumes.v.size"),
            ("{claim: c, per_pod: true}", "volumes.v.per_pod"),
            ("{claim: Not_A_Name}", "volumes.v.claim"),
            // The claim mlship makes for `v`: handed over this way, it would be pruned.
            ("{claim: p-v}", "volumes.v.claim"),
            ("{csi: {driver: d.io}, size: 1Gi}", "volumes.v.size"),
            ("{csi: {driver: d.io}, access: ReadWriteMany}", "volumes.v.access"),
            ("{csi: {driver: \"Bad Driver\"}}", "volumes.v.csi.driver"),
        ] {
            let found = paths(&format!("volumes:\n  v: {vol}\n"));
            assert!(found.iter().any(|p| p == at), "{vol}: {found:?}");
        }
    }

    #[test]
    fn read_write_once_claims_warn_where_two_pods_may_hold_them() {
        let warned = |body: &str| -> Vec<String> {
            check(body)
                .into_iter()
                .filter(|(s, _, _)| *s == Severity::Warning)
                .map(|(_, _, p)| p)
                .collect()
        };
        let vols = "volumes:\n  rwo: {size: 1Gi}\n  rwx: {size: 1Gi, access: ReadWriteMany}\n  \
                    cache: {size: 1Gi, per_pod: true}\n";
        let svc = |fields: &str| {
            warned(&format!(
                "{vols}services:\n  web: {{image: app, port: 8080, {fields}}}\n"
            ))
        };
        // One pod: recreated, and said so unless the spec says it.
        assert_eq!(svc("mounts: {rwo: /d}"), ["services.web.mounts.rwo"]);
        assert!(svc("mounts: {rwo: /d}, rollout: recreate").is_empty());
        assert_eq!(svc("mounts: {rwo: /d}, rollout: rolling"), ["services.web.rollout"]);
        assert_eq!(svc("mounts: {rwo: /d}, replicas: 2"), ["services.web.mounts.rwo"]);
        assert_eq!(
            svc("mounts: {rwo: /d}, autoscale: {min: 1, max: 3}"),
            ["services.web.mounts.rwo"]
        );
        assert!(svc("mounts: {rwx: /d, cache: /c}, replicas: 3").is_empty());
        // Two workloads.
        let two = warned(&format!(
            "{vols}services:\n  a: {{image: app, port: 8080, mounts: {{rwo: /d}}, rollout: recreate}}\n\
             pipelines:\n  train:\n    steps:\n      s1: {{image: app, run: [x], mounts: {{rwo: /d}}}}\n      \
             s2: {{image: app, run: [y], needs: [s1], mounts: {{rwo: /d}}}}\n"
        ));
        assert_eq!(two, ["pipelines.train.steps.s1.mounts.rwo"], "one warning per pipeline");
    }

    #[test]
    fn an_artifact_volume_is_shared_by_the_steps() {
        let pipe = |vol: &str| {
            paths(&format!(
                "volumes:\n  a: {vol}\npipelines:\n  p:\n    engine: argo-workflows\n    artifact_volume: a\n    \
                 steps:\n      s: {{image: app, run: [x]}}\n"
            ))
        };
        assert!(pipe("{size: 1Gi, access: ReadWriteMany}").is_empty());
        assert_eq!(pipe("{size: 1Gi, per_pod: true}"), ["pipelines.p.artifact_volume"]);
        assert_eq!(
            pipe("{csi: {driver: d.io, read_only: true}}"),
            ["pipelines.p.artifact_volume"]
        );
    }

    #[test]
    fn priority_and_runtime_classes_are_object_names() {
        let svc = |fields: &str| paths(&format!("services:\n  web: {{image: app, port: 8080, {fields}}}\n"));
        assert!(svc("priority_class: serving-high, runtime_class: nvidia, spread: zone").is_empty());
        assert_eq!(svc("priority_class: High"), ["services.web.priority_class"]);
        assert_eq!(svc("runtime_class: \"a b\""), ["services.web.runtime_class"]);
        assert_eq!(
            svc("priority_class: system-node-critical"),
            ["services.web.priority_class"]
        );
    }
}
