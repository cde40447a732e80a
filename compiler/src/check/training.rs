//! Rules for training at scale: Kueue's queue and priority on pipelines and steps.

use super::Checker;
use crate::diag::Code;
use crate::names;
use crate::source::Path;
use crate::spec::{Pipeline, Queue};

impl Checker<'_> {
    pub(super) fn kueue(&mut self, at: &Path, pipe: &Pipeline) {
        self.queue(at, &pipe.queue, &Queue::default());
        for (sname, step) in &pipe.steps {
            let sat = at.key("steps").key(sname);
            self.queue(&sat, &step.queue, &pipe.queue);
            if pipe.schedule.is_some() && (step.queue.queue.is_some() || step.queue.workload_priority.is_some()) {
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
