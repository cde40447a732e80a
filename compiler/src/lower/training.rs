//! Training at scale: a step's Katib search and its Trainer TrainJob, as plans.
//!
//! Takes: a step with `tune` or `nodes`. Gives: its [`TrainPlan`] (the runtime, the node
//! count, the config and secret keys the Trainer's `env` takes one by one), or its [`TunePlan`], with every field Katib's webhook
//! would default written out (parallel trials, metric strategies, the collector, each
//! parameter's distribution), and the trial's command with `${name}` turned into Katib's
//! `${trialParameters.name}`. The checks (`check::training`) refused what Katib would.

use super::workloads::Cx;
use crate::plan::{ContainerPlan, SecretSource, TrainPlan, TuneParameterPlan, TunePlan};
use crate::source::Path;
use crate::spec::{Collector, Objective, Tune};

/// Katib's default number of parallel trials.
pub const PARALLEL_TRIALS: u32 = 3;
/// Where Katib's file collector reads by default.
pub const METRICS_FILE: &str = "/var/log/katib/metrics.log";

impl Cx<'_> {
    pub(super) fn tune(&mut self, at: &Path, t: &Tune, container: &mut ContainerPlan) -> TunePlan {
        for arg in &mut container.command {
            *arg = trial_arg(arg);
        }
        let (objective, strategy) = match t.objective {
            Objective::Maximize => ("maximize", "max"),
            Objective::Minimize => ("minimize", "min"),
        };
        let number = |v: Option<f64>| v.map(|v| format!("{v}"));
        TunePlan {
            objective: objective.into(),
            metric: t.metric.clone(),
            goal: t.goal,
            additional: t.metrics.clone(),
            strategy: strategy.into(),
            algorithm: format!("{:?}", t.algorithm.unwrap_or_default()).to_lowercase(),
            settings: t.settings.clone(),
            parallel: self.int(at.key("parallel"), t.parallel.unwrap_or(PARALLEL_TRIALS).into()),
            max: self.int(at.key("trials"), t.trials.into()),
            max_failed: t.max_failed.map(|m| self.int(at.key("max_failed"), m.into())),
            collector: match t.collector.unwrap_or_default() {
                Collector::Stdout => "StdOut",
                Collector::File => "File",
                Collector::Push => "Push",
            }
            .into(),
            metrics_file: (t.collector == Some(Collector::File))
                .then(|| t.metrics_file.clone().unwrap_or_else(|| METRICS_FILE.into())),
            parameters: t
                .parameters
                .iter()
                .map(|(name, p)| {
                    TuneParameterPlan {
                        name: name.clone(),
                        kind: format!("{:?}", p.kind).to_lowercase(),
                        min: number(p.min),
                        max: number(p.max),
                        step: number(p.step),
                        list: p.values.clone(),
                        // Katib's webhook gives every parameter a distribution, uniform by
                        // default, categorical ones too.
                        distribution: if p.log { "logUniform" } else { "uniform" }.into(),
                    }
                })
                .collect(),
            container: container.name.clone(),
        }
    }
}

/// `${name}` references in a step's argument, as Katib's `${trialParameters.name}`.
pub fn trial_arg(arg: &str) -> String {
    let mut out = String::new();
    let mut rest = arg;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push_str(&format!("${{trialParameters.{}}}", &after[..end]));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl Cx<'_> {
    /// A distributed step's TrainJob plan. The Trainer's `env` has no `envFrom`: the config and
    /// the Secrets the step reads whole are given key by key.
    pub(super) fn train(&mut self, at: &Path, step: &crate::spec::Step, nodes: u32) -> TrainPlan {
        let config_env = self
            .config
            .map(|c| c.data.keys().map(|k| (k.clone(), c.name.clone(), k.clone())).collect())
            .unwrap_or_default();
        let mut secret_env = Vec::new();
        for s in &step.secrets {
            let sec = &self.spec.secrets[s];
            let Some(plan) = self.secrets.get(s) else { continue };
            if sec.mount.is_some() || !sec.env.is_empty() {
                continue; // files, or keys mapped one by one already
            }
            // The checks allow only external-secrets here, whose keys the spec names.
            if let SecretSource::External { keys, .. } = &plan.source {
                for (var, _, _) in keys {
                    secret_env.push((var.clone(), plan.secret_name.clone(), var.clone()));
                }
            }
        }
        TrainPlan {
            runtime: step.trainer.clone().unwrap_or_else(|| TRAINER_RUNTIME.into()),
            nodes: self.int(at.key("nodes"), nodes.into()),
            config_env,
            secret_env,
        }
    }
}

/// The Trainer's ClusterTrainingRuntime when the step names none.
pub const TRAINER_RUNTIME: &str = "torch-distributed";

#[cfg(test)]
mod tests {
    #[test]
    fn trial_arguments_name_katibs_trial_parameters() {
        assert_eq!(super::trial_arg("--lr=${lr}"), "--lr=${trialParameters.lr}");
        assert_eq!(
            super::trial_arg("${a}/${b}"),
            "${trialParameters.a}/${trialParameters.b}"
        );
        assert_eq!(super::trial_arg("$(ENV) ${open"), "$(ENV) ${open");
        assert_eq!(crate::spec::references("x=${a},y=${b}"), ["a", "b"]);
    }
}
