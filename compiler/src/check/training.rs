//! Rules for training at scale: Kueue's queue and priority on pipelines and steps, and a
//! step's Katib search (the engine that can run it, its parameters and their references in
//! `run`, the counts, the collector).

use super::Checker;
use crate::diag::Code;
use crate::names;
use crate::schema_common::closest;
use crate::source::Path;
use crate::spec::references;
use crate::spec::{Algorithm, Collector, ParameterType, Pipeline, Queue, SecretProvider, Spec, Step, Tune};

impl Checker<'_> {
    pub(super) fn kueue(&mut self, s: &Spec, at: &Path, pipe: &Pipeline) {
        self.queue(at, &pipe.queue, &Queue::default());
        for (sname, step) in &pipe.steps {
            let sat = at.key("steps").key(sname);
            self.queue(&sat, &step.queue, &pipe.queue);
            if let Some(t) = &step.tune {
                if one_pod(s, pipe) {
                    self.err(
                        Code::Conflict,
                        sat.key("tune"),
                        "a scheduled pipeline runs its steps in one pod, which cannot be a Katib experiment".into(),
                        "run the pipeline on argo-workflows, whose CronWorkflow gives each step its own pods, or without `schedule`",
                    );
                }
                self.tune(&sat, step, t);
            }
            self.distributed(s, &sat, pipe, step);
            if step.tune.is_some() || step.nodes.is_some() {
                // A resource template has no files to read outputs from or inputs into.
                for (key, set) in [
                    ("outputs", !step.outputs.is_empty()),
                    ("inputs", !step.inputs.is_empty()),
                ] {
                    if set {
                        self.err(
                            Code::Conflict,
                            sat.key(key),
                            format!("a tuned or distributed step has no `{key}`: Argo creates its object and waits"),
                            "pass data through a volume the steps mount, or move the outputs to a step after it",
                        );
                    }
                }
            }
            if one_pod(s, pipe) && (step.queue.queue.is_some() || step.queue.workload_priority.is_some()) {
                let key = if step.queue.queue.is_some() {
                    "queue"
                } else {
                    "workload_priority"
                };
                self.err(
                    Code::Conflict,
                    sat.key(key),
                    "a scheduled pipeline runs its steps in one Job, which waits in one queue".into(),
                    "set `queue` and `workload_priority` on the pipeline",
                );
            }
        }
    }

    /// A workload's queue and priority names, and a priority only with a queue (its own or
    /// the pipeline's).
    fn queue(&mut self, at: &Path, q: &Queue, pipeline: &Queue) {
        for (key, value, kind) in [
            ("queue", &q.queue, "LocalQueue"),
            ("workload_priority", &q.workload_priority, "WorkloadPriorityClass"),
        ] {
            if let Some(v) = value
                && !names::is_dns_label(v)
            {
                self.err(
                    Code::InvalidName,
                    at.key(key),
                    format!("`{v}` is not a valid {kind} name"),
                    "Kueue's names are lowercase DNS labels (a label value), such as gpu-team-a",
                );
            }
        }
        if q.workload_priority.is_some() && q.queue.is_none() && pipeline.queue.is_none() {
            self.err(
                Code::MissingKey,
                at.key("workload_priority"),
                "a Kueue priority without a queue: Kueue does not manage the workload".into(),
                "name the LocalQueue too, `queue: <name>`, here or on the pipeline",
            );
        }
    }
}

/// Whether the pipeline's steps all run in one pod: a scheduled pipeline on jobs (a CronJob).
fn one_pod(s: &Spec, pipe: &Pipeline) -> bool {
    pipe.schedule.is_some() && s.engine_of(pipe) == crate::spec::PipelineEngine::Jobs
}

impl Checker<'_> {
    /// A step on several nodes: where a TrainJob can run, and what its runtime patch cannot
    /// carry.
    fn distributed(&mut self, s: &Spec, sat: &Path, pipe: &Pipeline, step: &Step) {
        if step.trainer.is_some() && step.nodes.is_none() {
            self.err(
                Code::Conflict,
                sat.key("trainer"),
                "`trainer` names the runtime of a step on several `nodes`".into(),
                "add `nodes:`, or remove `trainer`",
            );
        }
        let Some(nodes) = step.nodes else { return };
        if let Some(r) = step.trainer.as_ref().filter(|r| !names::is_dns_subdomain(r)) {
            self.err(
                Code::InvalidName,
                sat.key("trainer"),
                format!("`{r}` is not a ClusterTrainingRuntime name"),
                "name a runtime the cluster has, such as torch-distributed",
            );
        }
        if nodes == 0 {
            self.err(
                Code::Range,
                sat.key("nodes"),
                "`nodes: 0` trains nowhere".into(),
                "use 1 or more",
            );
        }
        if one_pod(s, pipe) {
            self.err(
                Code::Conflict,
                sat.key("nodes"),
                "a scheduled pipeline runs its steps in one pod, which cannot span nodes".into(),
                "run the pipeline on argo-workflows, whose CronWorkflow gives each step its own pods, or without `schedule`",
            );
        }
        if step.tune.is_some() {
            self.err(
                Code::Conflict,
                sat.key("nodes"),
                "a step is either a Katib search or a TrainJob".into(),
                "tune on one node per trial, then train the best values on several nodes in a step after it",
            );
        }
        // What the Trainer's runtime patch cannot set (docs/training.md).
        let r = &step.resources;
        for (key, set) in [
            ("init_containers", !step.pod.init_containers.is_empty()),
            ("sidecars", !step.pod.sidecars.is_empty()),
            ("priority_class", r.priority_class.is_some()),
            ("runtime_class", r.runtime_class.is_some()),
        ] {
            if set {
                self.err(
                    Code::Conflict,
                    sat.key(key),
                    format!("a TrainJob cannot set `{key}`: the Trainer's runtime patch does not reach it"),
                    "set it in the ClusterTrainingRuntime, or run the step on one node",
                );
            }
        }
        for (i, name) in step.secrets.iter().enumerate() {
            let Some(sec) = s.secrets.get(name) else { continue };
            if sec.mount.is_none() && sec.env.is_empty() && sec.provider != SecretProvider::ExternalSecrets {
                self.err(
                    Code::Conflict,
                    sat.key("secrets").index(i),
                    format!(
                        "a TrainJob reads variables one by one, and the keys of secret `{name}` are not in the spec"
                    ),
                    "map its keys to variables with the secret's `env`, or `mount` it as files",
                );
            }
        }
    }

    fn tune(&mut self, sat: &Path, step: &Step, t: &Tune) {
        let at = sat.key("tune");
        if t.parameters.is_empty() {
            self.err(
                Code::MissingKey,
                at.key("parameters"),
                "the search has no parameters".into(),
                "add one, such as `lr: {type: double, min: 0.0001, max: 0.1, log: true}`, and use it in `run` as ${lr}",
            );
        }
        // Every reference in `run` names a parameter, and every parameter is used there
        // (Katib refuses a trial parameter its trial does not use).
        let mut used = std::collections::BTreeSet::new();
        for (i, arg) in step.run.iter().enumerate() {
            for r in references(arg) {
                used.insert(r.to_string());
                if !t.parameters.contains_key(r) {
                    let help = match closest(r, t.parameters.keys().map(String::as_str)) {
                        Some(c) => format!("did you mean `${{{c}}}`?"),
                        None => format!(
                            "declare it under `tune.parameters`, such as `{r}: {{type: double, min: 0, max: 1}}`"
                        ),
                    };
                    self.err(
                        Code::UnresolvedReference,
                        sat.key("run").index(i),
                        format!("`${{{r}}}` is not a parameter of the search"),
                        help,
                    );
                }
            }
        }
        for (name, p) in &t.parameters {
            let pat = at.key("parameters").key(name);
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                self.err(
                    Code::InvalidName,
                    pat.clone(),
                    format!("`{name}` is not a parameter name Katib takes"),
                    "use letters, digits, `_` and `-`, such as lr or num_layers",
                );
            }
            if !used.contains(name) {
                self.err(
                    Code::Conflict,
                    pat.clone(),
                    format!("parameter `{name}` is not used in `run`"),
                    format!("pass it to the step, such as `--{name}=${{{name}}}` in `run`, or remove it"),
                );
            }
            match p.kind {
                ParameterType::Categorical => {
                    if p.values.is_empty() {
                        self.err(
                            Code::MissingKey,
                            pat.clone(),
                            "a categorical parameter has no `values`".into(),
                            "list the values to try, such as values: [gbtree, dart]",
                        );
                    }
                    for key in ["min", "max", "step"].iter().filter(|k| match **k {
                        "min" => p.min.is_some(),
                        "max" => p.max.is_some(),
                        _ => p.step.is_some(),
                    }) {
                        self.err(
                            Code::Conflict,
                            pat.key(key),
                            format!("`{key}` is for double and int parameters"),
                            "list the values of a categorical parameter in `values`",
                        );
                    }
                }
                ParameterType::Double | ParameterType::Int => {
                    if !p.values.is_empty() {
                        self.err(
                            Code::Conflict,
                            pat.key("values"),
                            "`values` is for categorical parameters".into(),
                            "give a number range with `min` and `max`",
                        );
                    }
                    match (p.min, p.max) {
                        (Some(min), Some(max)) if min > max => self.err(
                            Code::Range,
                            pat.key("min"),
                            format!("`min` ({min}) is above `max` ({max})"),
                            "make `min` at most `max`",
                        ),
                        (Some(_), Some(_)) => {}
                        _ => self.err(
                            Code::MissingKey,
                            pat.clone(),
                            format!("parameter `{name}` needs `min` and `max`"),
                            "give the range to search, such as min: 1, max: 10",
                        ),
                    }
                    if p.kind == ParameterType::Int {
                        for (key, v) in [("min", p.min), ("max", p.max), ("step", p.step)] {
                            if v.is_some_and(|v| v.fract() != 0.0) {
                                self.err(
                                    Code::Type,
                                    pat.key(key),
                                    format!("an int parameter's `{key}` is a whole number"),
                                    "use a whole number, or `type: double`",
                                );
                            }
                        }
                    }
                    if p.log && (p.kind == ParameterType::Int || p.min.is_some_and(|m| m <= 0.0)) {
                        self.err(
                            Code::Range,
                            pat.key("log"),
                            "a log-uniform range is of doubles above 0".into(),
                            "use `type: double` with `min` above 0, or remove `log`",
                        );
                    }
                    if p.step.is_some_and(|s| s <= 0.0) {
                        self.err(
                            Code::Range,
                            pat.key("step"),
                            "`step` must be above 0".into(),
                            "use a positive step",
                        );
                    }
                    if t.algorithm == Some(Algorithm::Grid) && p.kind == ParameterType::Double && p.step.is_none() {
                        self.err(
                            Code::MissingKey,
                            pat.clone(),
                            "a grid search needs the `step` of a double parameter".into(),
                            "add `step:`, such as step: 0.01, or use another algorithm",
                        );
                    }
                }
            }
        }
        if t.trials == 0 {
            self.err(
                Code::Range,
                at.key("trials"),
                "`trials: 0` runs nothing".into(),
                "use 1 or more",
            );
        }
        if let Some(p) = t.parallel
            && (p == 0 || p > t.trials)
        {
            self.err(
                Code::Range,
                at.key("parallel"),
                format!("{p} parallel trials of {} in all", t.trials),
                "use 1 up to `trials`",
            );
        }
        if t.metric.trim().is_empty() || t.metrics.contains(&t.metric) {
            self.err(
                Code::BadValue,
                at.key("metric"),
                "the objective's metric is empty or also in `metrics`".into(),
                "name the metric once, such as metric: auc, and the others in `metrics`",
            );
        }
        if t.metrics_file.is_some() && t.collector != Some(Collector::File) {
            self.err(
                Code::Conflict,
                at.key("metrics_file"),
                "`metrics_file` is for `collector: file`".into(),
                "set `collector: file`, or remove `metrics_file`",
            );
        }
        if let Some(f) = t.metrics_file.as_ref().filter(|f| !f.starts_with('/')) {
            self.err(
                Code::Path,
                at.key("metrics_file"),
                format!("`{f}` is not an absolute path"),
                "give the file's absolute path in the container, such as /var/log/katib/metrics.log",
            );
        }
        if t.algorithm == Some(Algorithm::Hyperband) {
            for key in ["resource_name", "r_l"] {
                if !t.settings.contains_key(key) {
                    self.err(
                        Code::MissingKey,
                        at.key("settings"),
                        format!("hyperband needs the setting `{key}`"),
                        "hyperband's settings: resource_name (the parameter it grows, such as epochs), r_l and eta",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    fn paths(step: &str, pipeline: &str) -> Vec<String> {
        let yaml = format!(
            "apiVersion: mlship/v1\nproject: p\nregistry: r.io/p\ntag: \"1\"\nimages:\n  app: {{stack: python}}\n\
             pipelines:\n  ml:\n{pipeline}    steps:\n      s: {step}\n"
        );
        let (_, _, diags) = crate::load::load("mlship.yaml", yaml.as_bytes());
        diags
            .iter()
            .map(|d| d.path.as_ref().map(ToString::to_string).unwrap_or_default())
            .collect()
    }

    fn tuned(run: &str, tune: &str) -> Vec<String> {
        paths(
            &format!("{{image: app, run: {run}, tune: {{metric: auc, objective: maximize, trials: 4, {tune}}}}}"),
            "",
        )
    }

    #[test]
    fn a_search_is_refused_where_katib_would_refuse_it() {
        let lr = "parameters: {lr: {type: double, min: 0.01, max: 0.1}}";
        assert!(
            tuned("[t, \"${lr}\"]", lr).is_empty(),
            "{:?}",
            tuned("[t, \"${lr}\"]", lr)
        );
        for (run, tune, want) in [
            ("[t, \"${lrr}\"]", lr, "pipelines.ml.steps.s.run[1]"),
            ("[t]", lr, "pipelines.ml.steps.s.tune.parameters.lr"),
            (
                "[t, \"${lr}\"]",
                "parameters: {lr: {type: double, min: 1, max: 0.1}}",
                "pipelines.ml.steps.s.tune.parameters.lr.min",
            ),
            (
                "[t, \"${lr}\"]",
                "parameters: {lr: {type: double, max: 0.1}}",
                "pipelines.ml.steps.s.tune.parameters.lr",
            ),
            (
                "[t, \"${lr}\"]",
                "parameters: {lr: {type: int, min: 1.5, max: 3}}",
                "pipelines.ml.steps.s.tune.parameters.lr.min",
            ),
            (
                "[t, \"${lr}\"]",
                "parameters: {lr: {type: double, min: 0, max: 1, log: true}}",
                "pipelines.ml.steps.s.tune.parameters.lr.log",
            ),
            (
                "[t, \"${lr}\"]",
                "parameters: {lr: {type: categorical}}",
                "pipelines.ml.steps.s.tune.parameters.lr",
            ),
            (
                "[t, \"${lr}\"]",
                "parameters: {lr: {type: categorical, values: [a], min: 1}}",
                "pipelines.ml.steps.s.tune.parameters.lr.min",
            ),
            (
                "[t, \"${lr}\"]",
                &format!("algorithm: grid, {lr}"),
                "pipelines.ml.steps.s.tune.parameters.lr",
            ),
            (
                "[t, \"${lr}\"]",
                &format!("algorithm: hyperband, {lr}"),
                "pipelines.ml.steps.s.tune.settings",
            ),
            (
                "[t, \"${lr}\"]",
                &format!("parallel: 5, {lr}"),
                "pipelines.ml.steps.s.tune.parallel",
            ),
            (
                "[t, \"${lr}\"]",
                &format!("metrics_file: /m, {lr}"),
                "pipelines.ml.steps.s.tune.metrics_file",
            ),
            (
                "[t, \"${lr}\"]",
                &format!("metrics: [auc], {lr}"),
                "pipelines.ml.steps.s.tune.metric",
            ),
            ("[t]", "parameters: {}", "pipelines.ml.steps.s.tune.parameters"),
        ] {
            let found = tuned(run, tune);
            assert!(found.iter().any(|p| p == want), "{run} {tune}: {found:?}");
        }
        let cron = paths(
            &format!(
                "{{image: app, run: [t, \"${{lr}}\"], tune: {{metric: auc, objective: maximize, trials: 4, {lr}}}}}"
            ),
            "    schedule: \"@daily\"\n",
        );
        assert_eq!(cron, ["pipelines.ml.steps.s.tune"]);
    }

    #[test]
    fn a_distributed_step_asks_only_what_a_trainjob_can_carry() {
        assert!(paths("{image: app, run: [t], nodes: 2, trainer: torch-distributed}", "").is_empty());
        for (step, pipeline, want) in [
            (
                "{image: app, run: [t], nodes: 2}",
                "    schedule: \"@daily\"\n",
                "pipelines.ml.steps.s.nodes",
            ),
            ("{image: app, run: [t], nodes: 0}", "", "pipelines.ml.steps.s.nodes"),
            (
                "{image: app, run: [t], trainer: torch-distributed}",
                "",
                "pipelines.ml.steps.s.trainer",
            ),
            (
                "{image: app, run: [t], nodes: 2, trainer: Torch_Distributed}",
                "",
                "pipelines.ml.steps.s.trainer",
            ),
            (
                "{image: app, run: [t], nodes: 2, priority_class: high}",
                "",
                "pipelines.ml.steps.s.priority_class",
            ),
            (
                "{image: app, run: [t], nodes: 2, sidecars: {log: {image: app}}}",
                "",
                "pipelines.ml.steps.s.sidecars",
            ),
            (
                "{image: app, run: [t], nodes: 2, outputs: {m: {path: /tmp/m}}}",
                "    engine: argo-workflows\n",
                "pipelines.ml.steps.s.outputs",
            ),
        ] {
            let found = paths(step, pipeline);
            assert!(found.iter().any(|p| p == want), "{step}: {found:?}");
        }
        // A scheduled pipeline on Argo Workflows runs each step in its own pod.
        let argo = "    engine: argo-workflows\n    schedule: \"@daily\"\n";
        assert!(paths("{image: app, run: [t], nodes: 2}", argo).is_empty());
    }
}
