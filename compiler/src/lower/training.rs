//! Training at scale: a step's Katib search, as a plan.
//!
//! Takes: a step with `tune`. Gives: its [`TunePlan`], with every field Katib's webhook
//! would default written out (parallel trials, metric strategies, the collector, each
//! parameter's distribution), and the trial's command with `${name}` turned into Katib's
//! `${trialParameters.name}`. The checks (`check::training`) refused what Katib would.

use super::workloads::Cx;
use crate::plan::{ContainerPlan, TuneParameterPlan, TunePlan};
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

/// The `${name}` references of a step's argument.
pub fn references(arg: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = arg;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

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
        assert_eq!(super::references("x=${a},y=${b}"), ["a", "b"]);
    }
}
