//! Rules for what services and steps add to their pods, and for a service's probes, ports and
//! exposure: configuration files, helper containers, pod labels and annotations,
//! ServiceAccount annotations.

use super::Checker;
use crate::diag::Code;
use crate::names;
use crate::source::Path;
use crate::spec::{CheckKind, Expose, Health, PodExtras, Service, Spec};
use std::collections::BTreeMap;

/// Label prefixes mlship sets itself (selectors rely on them).
const RESERVED_LABELS: &[&str] = &["app.kubernetes.io/", "mlship.dev/"];

impl Checker<'_> {
    /// The project's configuration files.
    pub(super) fn files(&mut self, s: &Spec) {
        for (name, f) in &s.files {
            let at = Path::of(&["files", name]);
            self.name(&at, name, "file");
            if names::is_dns_label(name) {
                self.object_name(&at, &format!("file-{name}"), 63);
                self.object_name(&at, &format!("{}-file-{name}-00000000", s.project), 253);
            }
            self.abs_path(&at.key("path"), &f.path);
            let key = f.path.rsplit('/').next().unwrap_or_default();
            let key_ok = !key.is_empty()
                && key.len() <= 253
                && key.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
            if f.path.starts_with('/') && !key_ok {
                self.err(
                    Code::Path,
                    at.key("path"),
                    format!("`{key}` cannot be a ConfigMap key"),
                    "end the path with a file name of letters, digits, `-`, `.` and `_`, such as /etc/train/config.yaml",
                );
            }
            match (&f.content, &f.from) {
                (None, None) => self.err(
                    Code::MissingKey,
                    at.clone(),
                    format!("file `{name}` needs `content` or `from`"),
                    "give its text (`content: |`) or a project file to read it from (`from: configs/train.yaml`)",
                ),
                (Some(_), Some(_)) => self.err(
                    Code::Conflict,
                    at.key("from"),
                    format!("file `{name}` has both `content` and `from`"),
                    "keep one: the text in the spec, or the project file",
                ),
                (Some(text), None) => {
                    let object = format!("ConfigMap/{}-file-{name}", s.project);
                    self.text_credential(&at.key("content"), text, Some(&object), None);
                }
                (None, Some(rel)) => self.rel_path(&at.key("from"), rel),
            }
        }
    }

    /// A service's or step's pod extras; `main` is the main container's name, `taken` the
    /// paths its volumes, scratch folders and secrets mount at (a file may not land on one,
    /// nor on another file).
    pub(super) fn pod_extras(
        &mut self,
        s: &Spec,
        at: &Path,
        x: &PodExtras,
        (main, taken): (&str, &[(&str, bool)]),
        object: &str,
    ) {
        for (i, f) in x.files.iter().enumerate() {
            let fat = at.key("files").index(i);
            match s.files.get(f) {
                None => self.unresolved(fat, "file", f, s.files.keys()),
                Some(file) if x.files[..i].contains(f) => self.err(
                    Code::Conflict,
                    fat,
                    format!("file `{f}` is listed twice"),
                    format!("remove one; it is mounted at {}", file.path),
                ),
                Some(file) => {
                    let earlier = x.files[..i]
                        .iter()
                        .filter_map(|g| s.files.get(g))
                        .any(|g| g.path == file.path);
                    // The runtime makes the file's mount point inside a read-only mount: it cannot.
                    let under_read_only = taken
                        .iter()
                        .find(|(p, ro)| *ro && file.path.starts_with(&format!("{}/", p.trim_end_matches('/'))));
                    if let Some((folder, _)) = under_read_only {
                        self.err(
                            Code::Conflict,
                            fat.clone(),
                            format!(
                                "file `{f}` would be mounted at `{}`, inside read-only `{folder}`",
                                file.path
                            ),
                            "the container could not start: give the file a `path` outside read-only mounts",
                        );
                    }
                    if earlier || taken.iter().any(|(p, _)| *p == file.path) {
                        self.err(
                            Code::Conflict,
                            fat,
                            format!(
                                "file `{f}` would be mounted at `{}`, where something else is",
                                file.path
                            ),
                            "give the file a `path` of its own; it may lie inside a mounted folder",
                        );
                    }
                }
            }
        }
        for (key, helpers) in [("init_containers", &x.init_containers), ("sidecars", &x.sidecars)] {
            for (name, h) in helpers {
                let hat = at.key(key).key(name);
                self.name(&hat, name, "container");
                if name == main || (key == "init_containers" && x.sidecars.contains_key(name)) {
                    self.err(
                        Code::Conflict,
                        hat.clone(),
                        format!("`{name}` names two containers of the pod"),
                        "give every container of a pod its own name",
                    );
                }
                self.image_ref(s, &hat.key("image"), &h.image);
                for (i, arg) in h.command.iter().enumerate() {
                    self.plain_text(&hat.key("command").index(i), arg);
                    self.text_credential(&hat.key("command").index(i), arg, Some(object), None);
                }
                self.env_values(&hat.key("env"), &h.env, Some(object));
                if let Some(q) = &h.cpu {
                    self.quantity(&hat.key("cpu"), &q.text(), true);
                }
                if let Some(q) = &h.memory {
                    self.quantity(&hat.key("memory"), &q.text(), false);
                }
            }
        }
        self.labels(&at.key("pod_labels"), &x.pod_labels, true);
        self.annotations(&at.key("pod_annotations"), &x.pod_annotations, object);
        // mlship writes `mlship.dev/config` on the pods, which rolls them when config changes.
        for k in x.pod_annotations.keys().filter(|k| k.starts_with("mlship.dev/")) {
            self.out.push(
                crate::diag::Diagnostic::error(Code::Conflict, format!("annotation `{k}` is mlship's own"))
                    .at_key(at.key("pod_annotations").key(k))
                    .help("choose a key under a prefix of your own, such as acme.com/"),
            );
        }
    }

    /// Label keys and values; with `ours_reserved`, mlship's own keys are refused.
    fn labels(&mut self, at: &Path, labels: &BTreeMap<String, String>, ours_reserved: bool) {
        for (k, v) in labels {
            if !names::is_label_key(k) {
                self.out.push(
                    crate::diag::Diagnostic::error(Code::InvalidName, format!("`{k}` is not a valid label key"))
                        .at_key(at.key(k))
                        .help("use an optional DNS prefix and a name of letters, digits, `-`, `_` and `.`, such as team or example.com/team"),
                );
            } else if ours_reserved && RESERVED_LABELS.iter().any(|p| k.starts_with(p)) {
                self.out.push(
                    crate::diag::Diagnostic::error(Code::Conflict, format!("label `{k}` is mlship's own"))
                        .at_key(at.key(k))
                        .help("mlship sets the app.kubernetes.io/ and mlship.dev/ labels (selectors use them); choose another key"),
                );
            } else if !names::is_label_value(v) {
                self.err(
                    Code::BadValue,
                    at.key(k),
                    format!("`{v}` is not a valid label value"),
                    "use at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
                );
            }
        }
    }

    /// Annotation keys (label key syntax); values are free text on one line or more, but
    /// checked for credentials.
    pub(super) fn annotations(&mut self, at: &Path, annotations: &BTreeMap<String, String>, object: &str) {
        for (k, v) in annotations {
            if !names::is_label_key(k) {
                self.out.push(
                    crate::diag::Diagnostic::error(Code::InvalidName, format!("`{k}` is not a valid annotation key"))
                        .at_key(at.key(k))
                        .help("use an optional DNS prefix and a name, such as prometheus.io/scrape"),
                );
            }
            self.text_credential(&at.key(k), v, Some(object), Some(k));
        }
    }

    /// A service's named ports, probes, exposure and ServiceAccount.
    /// A service's ports, probes, exposure and ServiceAccount; `object` is its Deployment.
    pub(super) fn serving(&mut self, at: &Path, svc: &Service, object: &str) {
        for (name, port) in &svc.ports {
            let pat = at.key("ports").key(name);
            let ok = !name.is_empty()
                && name.len() <= 15
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && name.chars().any(|c| c.is_ascii_lowercase())
                && !name.starts_with('-')
                && !name.ends_with('-')
                && !name.contains("--");
            if !ok {
                self.out.push(
                    crate::diag::Diagnostic::error(Code::InvalidName, format!("`{name}` is not a valid port name"))
                        .at_key(pat.clone())
                        .help(
                            "use at most 15 lowercase letters, digits and `-`, with a letter, such as grpc or metrics",
                        ),
                );
            } else if name == "http" {
                self.out.push(
                    crate::diag::Diagnostic::error(Code::Conflict, "`http` is the name of `port`".to_string())
                        .at_key(pat.clone())
                        .help("set the main port with `port`; name the others, such as grpc or metrics"),
                );
            }
            self.port(&pat, *port);
            let service_port = svc.expose.as_ref().and_then(|e| e.port).unwrap_or(svc.http_port());
            if *port == svc.http_port() || *port == service_port || svc.ports.iter().any(|(n, p)| p == port && n < name)
            {
                self.err(
                    Code::Port,
                    pat,
                    format!("port {port} is given twice"),
                    "give each named port its own number",
                );
            }
        }
        if let Some(h) = &svc.health {
            self.health(&at.key("health"), h, svc);
        }
        // Waivers name the object a value is written to: the Ingress, the ServiceAccount.
        let name = object.split_once('/').map_or(object, |(_, n)| n);
        if let Some(e) = &svc.expose {
            self.expose(&at.key("expose"), e, &format!("Ingress/{name}"));
        }
        if let Some(a) = &svc.service_account {
            let account = format!("ServiceAccount/{name}");
            self.annotations(&at.key("service_account").key("annotations"), &a.annotations, &account);
        }
    }

    fn health(&mut self, at: &Path, h: &Health, svc: &Service) {
        let kind = h.check.unwrap_or(CheckKind::Http);
        for (k, v) in [("path", &h.path), ("ready", &h.ready)] {
            if let Some(v) = v {
                self.url_path(&at.key(k), v);
                if kind != CheckKind::Http {
                    self.not_for(at, k, kind);
                }
            }
        }
        if let Some(port) = &h.port
            && port != "http"
            && !svc.ports.contains_key(port)
        {
            self.unresolved(at.key("port"), "port", port, svc.ports.keys());
        }
        match kind {
            CheckKind::Exec if h.command.is_empty() => self.err(
                Code::MissingKey,
                at.key("check"),
                "an exec check needs `command`".into(),
                "give the command to run in the container, such as [python, -m, app.health]",
            ),
            CheckKind::Exec => {
                for (i, arg) in h.command.iter().enumerate() {
                    self.plain_text(&at.key("command").index(i), arg);
                }
            }
            _ if !h.command.is_empty() => self.not_for(at, "command", kind),
            _ => {}
        }
        if h.grpc_service.is_some() && kind != CheckKind::Grpc {
            self.not_for(at, "grpc_service", kind);
        }
        for (k, v) in [("period", h.period), ("timeout", h.timeout), ("failures", h.failures)] {
            if v == Some(0) {
                self.err(
                    Code::Range,
                    at.key(k),
                    format!("`{k}` must be at least 1"),
                    "Kubernetes counts probe seconds and failures from 1",
                );
            }
        }
        if let Some(st) = &h.startup {
            for (k, v) in [("period", st.period), ("timeout", st.timeout)] {
                if v == Some(0) {
                    self.err(
                        Code::Range,
                        at.key("startup").key(k),
                        format!("`{k}` must be at least 1"),
                        "Kubernetes counts probe seconds from 1; `failures: 0` turns the startup probe off",
                    );
                }
            }
        }
    }

    fn not_for(&mut self, at: &Path, key: &str, kind: CheckKind) {
        let kind = format!("{kind:?}").to_lowercase();
        self.err(
            Code::Conflict,
            at.key(key),
            format!("`{key}` does not apply to a {kind} check"),
            "remove it, or choose the `check` it belongs to",
        );
    }

    fn expose(&mut self, at: &Path, e: &Expose, object: &str) {
        if let Some(port) = e.port {
            self.port(&at.key("port"), port);
        }
        for (key, path) in e
            .path
            .iter()
            .map(|p| (at.key("path"), p))
            .chain(e.paths.iter().enumerate().map(|(i, p)| (at.key("paths").index(i), p)))
        {
            self.url_path(&key, path);
        }
        for (i, host) in e.hosts.iter().enumerate() {
            if !names::is_dns_subdomain(host) || Some(host) == e.host.as_ref() || e.hosts[..i].contains(host) {
                self.err(
                    Code::BadValue,
                    at.key("hosts").index(i),
                    format!("`{host}` is not a new host name"),
                    "list each host once, as a lowercase DNS name such as api.example.com",
                );
            }
        }
        let ingress = e.path.is_some()
            || !e.paths.is_empty()
            || e.tls_secret.is_some()
            || e.ingress_class.is_some()
            || !e.annotations.is_empty();
        if e.host.is_none() && e.hosts.is_empty() && ingress {
            self.err(
                Code::MissingKey,
                at.clone(),
                "an Ingress needs `host`".into(),
                "add `host: api.example.com`, or remove path, paths, annotations, tls_secret and ingress_class",
            );
        }
        self.annotations(&at.key("annotations"), &e.annotations, object);
    }
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;

    /// The codes and paths of the diagnostics of a spec with `body` after its images.
    fn check(body: &str) -> Vec<(Code, String)> {
        let yaml = format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: fastapi}}\n  \
             vllm: {{prebuilt: \"vllm/vllm-openai:v0.8.5\"}}\n{body}"
        );
        let (_, _, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        diags
            .iter()
            .map(|d| (d.code, d.path.as_ref().map(ToString::to_string).unwrap_or_default()))
            .collect()
    }

    fn service(fields: &str) -> Vec<(Code, String)> {
        check(&format!("services:\n  web: {{image: app, port: 8080, {fields}}}\n"))
    }

    #[test]
    fn a_prebuilt_image_names_one_version_and_has_nothing_to_build() {
        assert!(check("").is_empty(), "{:?}", check(""));
        for (image, at) in [
            ("{prebuilt: \"vllm/vllm-openai:latest\"}", "images.x.prebuilt"),
            ("{prebuilt: vllm/vllm-openai}", "images.x.prebuilt"),
            (
                "{prebuilt: \"vllm/vllm-openai:v1\", python: \"3.11\"}",
                "images.x.python",
            ),
            (
                "{prebuilt: \"vllm/vllm-openai:v1\", requirements: r.txt}",
                "images.x.requirements",
            ),
            (
                "{prebuilt: \"vllm/vllm-openai:v1\", command: [serve]}",
                "images.x.command",
            ),
            (
                "{prebuilt: \"vllm/vllm-openai:v1\", stack: fastapi}",
                "images.x.prebuilt",
            ),
            ("{python: \"3.11\"}", "images.x"),
        ] {
            let found = check(&format!("  x: {image}\n"));
            assert!(found.iter().any(|(_, p)| p == at), "{image}: {found:?}");
        }
        let pinned = format!(
            "{{prebuilt: \"r.io/x@sha256:{}\", digest: \"sha256:{}\"}}",
            "a".repeat(64),
            "b".repeat(64)
        );
        assert_eq!(
            check(&format!("  x: {pinned}\n")),
            [(Code::Conflict, "images.x.digest".into())]
        );
    }

    #[test]
    fn a_notebook_cannot_build_its_variant_from_a_prebuilt_image() {
        let found = check("notebooks:\n  lab: {image: vllm, environments: [default]}\n");
        assert_eq!(found, [(Code::Conflict, "notebooks.lab.image".into())]);
    }

    #[test]
    fn probes_name_known_ports_and_only_their_own_fields() {
        assert!(service("ports: {grpc: 8081}, health: {check: grpc}").is_empty());
        for (fields, at) in [
            ("health: {port: grpc}", "services.web.health.port"),
            ("health: {check: exec}", "services.web.health.check"),
            ("health: {check: tcp, path: /x}", "services.web.health.path"),
            ("health: {command: [\"true\"]}", "services.web.health.command"),
            ("health: {grpc_service: x}", "services.web.health.grpc_service"),
            ("health: {period: 0}", "services.web.health.period"),
            ("health: {startup: {timeout: 0}}", "services.web.health.startup.timeout"),
            ("ports: {http: 9000}", "services.web.ports.http"),
            ("expose: {port: 80}, ports: {metrics: 80}", "services.web.ports.metrics"),
            ("ports: {metrics: 8080}", "services.web.ports.metrics"),
            ("ports: {Metrics_Port: 9000}", "services.web.ports.Metrics_Port"),
        ] {
            let found = service(fields);
            assert!(found.iter().any(|(_, p)| p == at), "{fields}: {found:?}");
        }
    }

    #[test]
    fn exposure_labels_and_annotations_are_checked_where_they_are_written() {
        for (fields, at) in [
            ("expose: {annotations: {a: b}}", "services.web.expose"),
            (
                "expose: {host: a.example.com, hosts: [a.example.com]}",
                "services.web.expose.hosts[0]",
            ),
            (
                "expose: {host: a.example.com, paths: [v1]}",
                "services.web.expose.paths[0]",
            ),
            (
                "pod_labels: {app.kubernetes.io/name: x}",
                "services.web.pod_labels.app.kubernetes.io/name",
            ),
            ("pod_labels: {team: \"not ok\"}", "services.web.pod_labels.team"),
            (
                "pod_annotations: {\"bad key!\": x}",
                "services.web.pod_annotations.bad key!",
            ),
            (
                "pod_annotations: {mlship.dev/config: x}",
                "services.web.pod_annotations.mlship.dev/config",
            ),
            ("files: [nope]", "services.web.files[0]"),
            ("sidecars: {server: {image: app}}", "services.web.sidecars.server"),
            (
                "init_containers: {fetch: {image: nope}}",
                "services.web.init_containers.fetch.image",
            ),
        ] {
            let found = service(fields);
            assert!(found.iter().any(|(_, p)| p == at), "{fields}: {found:?}");
        }
    }

    #[test]
    fn a_file_is_mounted_at_a_path_of_its_own() {
        let files = "files:\n  a: {path: /data/a.yaml, content: x}\n  b: {path: /data/a.yaml, content: y}\n  \
                     c: {path: /cache, content: z}\nvolumes:\n  v: {size: 1Gi}\n";
        let web = |fields: &str| {
            check(&format!(
                "{files}services:\n  web: {{image: app, port: 8080, {fields}}}\n"
            ))
        };
        // Inside a mounted folder is fine.
        assert!(web("files: [a], mounts: {v: /data}, rollout: recreate").is_empty());
        assert_eq!(web("files: [a, b]"), [(Code::Conflict, "services.web.files[1]".into())]);
        assert_eq!(
            web("files: [c], mounts: {v: /cache}, rollout: recreate"),
            [(Code::Conflict, "services.web.files[0]".into())]
        );
        assert_eq!(
            web("files: [c], scratch: {/cache: {size: 1Gi}}"),
            [(Code::Conflict, "services.web.files[0]".into())]
        );
        // Not inside a read-only mount: the runtime cannot make the mount point there.
        let ro = "secrets:\n  s: {provider: existing, name: certs, mount: /data}\n";
        let found = check(&format!(
            "{files}{ro}services:\n  web: {{image: app, port: 8080, files: [a], secrets: [s]}}\n"
        ));
        assert_eq!(found, [(Code::Conflict, "services.web.files[0]".into())]);
    }

    #[test]
    fn a_configuration_file_has_one_source_and_a_path_that_names_a_key() {
        assert!(check("files:\n  f: {path: /etc/a/f.yaml, content: \"a: 1\\n\"}\n").is_empty());
        for (file, at) in [
            ("{path: /etc/a/f.yaml}", "files.f"),
            ("{path: /etc/a/f.yaml, content: x, from: f.yaml}", "files.f.from"),
            ("{path: etc/f.yaml, content: x}", "files.f.path"),
            ("{path: \"/etc/a/f b\", content: x}", "files.f.path"),
            ("{path: /etc/f, from: ../f}", "files.f.from"),
        ] {
            let found = check(&format!("files:\n  f: {file}\n"));
            assert!(found.iter().any(|(_, p)| p == at), "{file}: {found:?}");
        }
    }
}
