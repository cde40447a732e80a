//! Pictures of a project: pipelines, services and images as Mermaid or Graphviz DOT.
//!
//! Takes: a loaded spec. Gives: the text of a diagram: each pipeline a cluster of its
//! steps with `needs` edges (and its schedule), services, the images each runs, and which
//! environments run each pipeline and service.

use crate::load::Loaded;
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Mermaid,
    Dot,
}

fn id(parts: &[&str]) -> String {
    parts.join("__").replace('-', "_")
}

/// Environments that keep a pipeline or service (environments can remove them).
fn envs_running(loaded: &Loaded, section: &str, name: &str) -> String {
    let envs: Vec<&str> = loaded
        .envs
        .iter()
        .filter(|e| match section {
            "pipelines" => e.spec.pipelines.contains_key(name),
            _ => e.spec.services.contains_key(name),
        })
        .map(|e| e.name.as_str())
        .collect();
    envs.join(", ")
}

pub fn render(loaded: &Loaded, kind: Kind) -> String {
    let s = &loaded.spec;
    let mut out = String::new();
    let (open, close) = match kind {
        Kind::Mermaid => ("flowchart LR\n".to_string(), String::new()),
        Kind::Dot => (
            format!(
                "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
                s.project
            ),
            "}\n".to_string(),
        ),
    };
    out.push_str(&open);
    for (name, img) in &s.images {
        let label = match (&img.prebuilt, &img.stack, &img.cuda) {
            (Some(r), _, _) => format!("image {name}\\nprebuilt {r}"),
            (None, stack, Some(c)) => format!("image {name}\\n{} · CUDA {c}", stack.as_deref().unwrap_or_default()),
            (None, stack, None) => format!("image {name}\\n{}", stack.as_deref().unwrap_or_default()),
        };
        let _ = match kind {
            Kind::Mermaid => writeln!(
                out,
                "  {}[(\"{}\")]",
                id(&["image", name]),
                label.replace("\\n", "<br/>")
            ),
            Kind::Dot => writeln!(out, "  {} [label=\"{label}\", shape=cylinder];", id(&["image", name])),
        };
    }
    for (pname, pipe) in &s.pipelines {
        let mut title = match &pipe.schedule {
            Some(cron) => format!("pipeline {pname} · {cron}"),
            None => format!("pipeline {pname}"),
        };
        if s.engine_of(pipe) == crate::spec::PipelineEngine::ArgoWorkflows {
            title.push_str(" · Argo Workflows");
        }
        let envs = envs_running(loaded, "pipelines", pname);
        let _ = match kind {
            Kind::Mermaid => writeln!(
                out,
                "  subgraph {}[\"{title}<br/>envs: {envs}\"]",
                id(&["pipeline", pname])
            ),
            Kind::Dot => writeln!(
                out,
                "  subgraph cluster_{} {{\n    label=\"{title}\\nenvs: {envs}\";",
                id(&[pname])
            ),
        };
        for (step_name, step) in &pipe.steps {
            let mut label = step_name.clone();
            if let Some(g) = step.resources.gpu {
                label.push_str(&format!(" · {g} GPU"));
            }
            let _ = match kind {
                Kind::Mermaid => writeln!(out, "    {}[\"{label}\"]", id(&[pname, step_name])),
                Kind::Dot => writeln!(out, "    {} [label=\"{label}\"];", id(&[pname, step_name])),
            };
        }
        out.push_str(match kind {
            Kind::Mermaid => "  end\n",
            Kind::Dot => "  }\n",
        });
        for (step_name, step) in &pipe.steps {
            // A gated step's condition labels the edges into it.
            let when = step.when.as_deref().map(|w| format!("when {w}"));
            for need in &step.needs {
                let (from, to) = (id(&[pname, need]), id(&[pname, step_name]));
                let _ = match (kind, &when) {
                    (Kind::Mermaid, None) => writeln!(out, "  {from} --> {to}"),
                    (Kind::Mermaid, Some(w)) => writeln!(out, "  {from} -->|\"{}\"| {to}", w.replace('"', "#quot;")),
                    (Kind::Dot, None) => writeln!(out, "  {from} -> {to};"),
                    (Kind::Dot, Some(w)) => writeln!(out, "  {from} -> {to} [label=\"{}\"];", w.replace('"', "\\\"")),
                };
            }
            let _ = match kind {
                Kind::Mermaid => writeln!(
                    out,
                    "  {} -.-> {}",
                    id(&["image", &step.image]),
                    id(&[pname, step_name])
                ),
                Kind::Dot => writeln!(
                    out,
                    "  {} -> {} [style=dashed];",
                    id(&["image", &step.image]),
                    id(&[pname, step_name])
                ),
            };
        }
    }
    for (name, svc) in &s.services {
        let scale = match &svc.autoscale {
            Some(a) => format!("{}-{} replicas", a.min, a.max),
            None => format!("{} replicas", svc.replicas.unwrap_or(1)),
        };
        let envs = envs_running(loaded, "services", name);
        let label = format!("service {name}\\n:{} · {scale}\\nenvs: {envs}", svc.http_port());
        let _ = match kind {
            Kind::Mermaid => writeln!(
                out,
                "  {}([\"{}\"])",
                id(&["service", name]),
                label.replace("\\n", "<br/>")
            ),
            Kind::Dot => writeln!(out, "  {} [label=\"{label}\", shape=ellipse];", id(&["service", name])),
        };
        let Some(image) = &svc.image else { continue };
        let _ = match kind {
            Kind::Mermaid => writeln!(out, "  {} -.-> {}", id(&["image", image]), id(&["service", name])),
            Kind::Dot => writeln!(
                out,
                "  {} -> {} [style=dashed];",
                id(&["image", image]),
                id(&["service", name])
            ),
        };
    }
    out.push_str(&close);
    out
}

#[cfg(test)]
#[allow(clippy::disallowed_methods, reason = "tests set up their fixtures on disk")]
mod tests {
    use super::*;

    #[test]
    fn mermaid_and_dot_show_steps_dependencies_and_services() {
        let text = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages: {t: {stack: python}}\npipelines:\n  train:\n    schedule: \"0 3 * * 0\"\n    steps:\n      a: {image: t, run: [x]}\n      b: {image: t, run: [y], needs: [a]}\nservices:\n  api: {image: t, port: 8080}\n";
        let (_, loaded, d) = crate::load::load("mlship.yaml", text.as_bytes());
        let loaded = loaded.unwrap_or_else(|| panic!("{d:?}"));
        let m = render(&loaded, Kind::Mermaid);
        assert!(m.starts_with("flowchart LR\n"), "{m}");
        assert!(m.contains("  train__a --> train__b\n"), "{m}");
        assert!(m.contains("pipeline train · 0 3 * * 0<br/>envs: default"), "{m}");
        assert!(
            m.contains("service__api([\"service api<br/>:8080 · 1 replicas<br/>envs: default\"])"),
            "{m}"
        );
        let d = render(&loaded, Kind::Dot);
        assert!(d.contains("  train__a -> train__b;\n") && d.ends_with("}\n"), "{d}");
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;

    #[test]
    fn a_gated_step_shows_its_condition_on_the_edges_into_it() {
        let text = "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages: {t: {stack: python}}\npipelines:\n  train:\n    engine: argo-workflows\n    steps:\n      a: {image: t, run: [x], outputs: {auc: {path: /tmp/auc, type: number}}}\n      b: {image: t, run: [y], needs: [a], when: \"a.auc > 0.5\"}\n";
        let (_, loaded, d) = crate::load::load("mlship.yaml", text.as_bytes());
        let loaded = loaded.unwrap_or_else(|| panic!("{d:?}"));
        let m = render(&loaded, Kind::Mermaid);
        assert!(m.contains("  train__a -->|\"when a.auc > 0.5\"| train__b\n"), "{m}");
        assert!(m.contains("pipeline train · Argo Workflows"), "{m}");
        let d = render(&loaded, Kind::Dot);
        assert!(
            d.contains("  train__a -> train__b [label=\"when a.auc > 0.5\"];\n"),
            "{d}"
        );
    }
}
