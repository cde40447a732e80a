//! Checks of the pipeline fields that depend on the engine.
//!
//! Takes: one pipeline and the engine that runs it. Gives: diagnostics at the field: the
//! fields only Argo Workflows can honour (conditions, outputs, retry policy and backoff, a
//! whole-run timeout) on a pipeline that runs as Jobs; and for Argo, each condition parsed
//! (the column of a syntax error), its references resolved (a step it needs, transitively,
//! an output that step declares, a parameter) and its types compared; output paths a
//! read-only root filesystem lets the step write; parameter names usable as variables.

use super::Checker;
use crate::condition::{self, Value};
use crate::diag::Code;
use crate::source::Path;
use crate::spec::{Pipeline, Scalar, Spec, ValueType};
use crate::units::parse_duration;
use std::collections::BTreeSet;

impl Checker<'_> {
    pub(super) fn workflow_fields(&mut self, s: &Spec, pname: &str, pipe: &Pipeline, argo: bool) {
        let at = super::p(&["pipelines", pname]);
        let engine_help = format!(
            "run it on Argo Workflows: `engine: argo-workflows` on pipeline `{pname}`, or `pipeline_engine: argo-workflows` for the project"
        );
        if argo && pipe.schedule.is_none() {
            // The run-once Workflow: its name labels its pods, so 63 characters at most.
            let run = format!("{}-00000000", crate::names::workload(&s.project, pname));
            self.object_name(&at, &run, 63);
        }
        if !argo && pipe.timeout.is_some() {
            self.err(
                Code::Conflict,
                at.key("timeout"),
                "a whole-pipeline `timeout` needs the argo-workflows engine; with Jobs each step has its own".into(),
                format!("give each step its `timeout`, or {engine_help}"),
            );
        }
        if let Some(t) = &pipe.timeout
            && let Err(e) = parse_duration(t)
        {
            self.err(
                Code::Duration,
                at.key("timeout"),
                e,
                "write a duration such as 12h or 90m",
            );
        }
        if let Some(v) = &pipe.artifact_volume {
            if !argo {
                self.err(
                    Code::Conflict,
                    at.key("artifact_volume"),
                    "an `artifact_volume` needs the argo-workflows engine: Jobs pass no files".into(),
                    format!("share the volume through each step's `mounts`, or {engine_help}"),
                );
            } else {
                match s.volumes.get(v) {
                    None => self.unresolved(at.key("artifact_volume"), "volume", v, s.volumes.keys()),
                    Some(vol) if vol.per_pod || vol.csi.as_ref().is_some_and(|c| c.read_only) => self.err(
                        Code::Conflict,
                        at.key("artifact_volume"),
                        format!(
                            "volume `{v}` cannot pass files between steps: {}",
                            if vol.per_pod {
                                "each pod gets its own claim, deleted with the pod"
                            } else {
                                "it is mounted read-only"
                            }
                        ),
                        "name a claim the steps share (`size`, or an existing `claim`), ideally ReadWriteMany",
                    ),
                    Some(_) => {}
                }
            }
        }
        if let Some(tz) = &pipe.timezone {
            let ok = !tz.is_empty()
                && !tz.starts_with('/')
                && !tz.contains("..")
                && tz.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-".contains(c));
            if !ok {
                self.err(
                    Code::BadValue,
                    at.key("timezone"),
                    format!("`{tz}` is not a time zone name"),
                    "use an IANA name such as Europe/Berlin, America/New_York or UTC",
                );
            }
            if pipe.schedule.is_none() {
                self.err(
                    Code::Conflict,
                    at.key("timezone"),
                    format!("pipeline `{pname}` has a `timezone` but no `schedule`"),
                    "add a schedule, or remove the time zone",
                );
            }
        }
        for name in pipe.parameters.keys() {
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                self.err(
                    Code::InvalidName,
                    at.key("parameters").key(name),
                    format!("parameter `{name}` is not an environment variable name"),
                    format!(
                        "use letters, digits and `_`, such as {}",
                        name.replace(['-', '.', ' '], "_")
                    ),
                );
            }
            for (sname, step) in &pipe.steps {
                if step.env.contains_key(name) {
                    self.err(
                        Code::Conflict,
                        at.key("steps").key(sname).key("env").key(name),
                        format!("step `{sname}` sets `{name}`, which is also a parameter of the pipeline"),
                        "remove it from the step's env (every step gets the parameter), or rename one",
                    );
                }
            }
        }
        for (sname, step) in &pipe.steps {
            let sat = at.key("steps").key(sname);
            if !argo {
                let only_argo = [
                    ("when", step.when.is_some()),
                    ("outputs", !step.outputs.is_empty()),
                    ("inputs", !step.inputs.is_empty()),
                    ("retry_policy", step.retry_policy.is_some()),
                    ("retry_backoff", step.retry_backoff.is_some()),
                ];
                for (key, _) in only_argo.iter().filter(|(_, set)| *set) {
                    self.err(
                        Code::Conflict,
                        sat.key(key),
                        format!("`{key}` of step `{sname}` needs the argo-workflows engine: Jobs run each step alone"),
                        engine_help.clone(),
                    );
                }
                continue;
            }
            if let Some(b) = &step.retry_backoff
                && let Err(e) = parse_duration(b)
            {
                self.err(
                    Code::Duration,
                    sat.key("retry_backoff"),
                    e,
                    "write a duration such as 30s or 2m",
                );
            }
            for (name, output) in &step.outputs {
                let oat = sat.key("outputs").key(name);
                // Through the artifact volume, mlship mounts the output's folder itself.
                let mounted = output.kind == Some(ValueType::File) && pipe.artifact_volume.is_some();
                if mounted {
                    self.absolute(&oat.key("path"), &output.path);
                } else {
                    self.output_path(&oat.key("path"), &output.path, &step.mounts);
                }
                if !super::names::is_dns_label(name) && !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    self.err(
                        Code::InvalidName,
                        oat,
                        format!("output `{name}` is not a valid name"),
                        "use letters, digits, `_` and `-`",
                    );
                }
            }
            if let Some(w) = &step.when {
                self.condition(&sat.key("when"), pipe, sname, w);
            }
            for (name, input) in &step.inputs {
                let iat = sat.key("inputs").key(name);
                self.absolute(&iat.key("path"), &input.path);
                self.input(&iat.key("from"), pipe, sname, &input.from);
            }
        }
    }

    fn absolute(&mut self, at: &Path, path: &str) -> bool {
        let ok = path.starts_with('/') && path.len() > 1 && !path.split('/').any(|p| p == "..");
        if !ok {
            self.err(
                Code::Path,
                at.clone(),
                format!("`{path}` is not an absolute path"),
                "write the full path, such as /tmp/model",
            );
        }
        ok
    }

    /// An input names a `file` output of a step this one needs.
    fn input(&mut self, at: &Path, pipe: &Pipeline, sname: &str, from: &str) {
        let Some((step, output)) = from.split_once('.') else {
            self.err(
                Code::BadValue,
                at.clone(),
                format!("`{from}` does not name an output"),
                "write `step.output`, such as train.model",
            );
            return;
        };
        let Some(s) = pipe.steps.get(step) else {
            self.unresolved(at.clone(), "step", step, pipe.steps.keys());
            return;
        };
        if step == sname || !ancestors(pipe, sname).contains(step) {
            self.err(
                Code::UnresolvedReference,
                at.clone(),
                format!("step `{sname}` takes an output of `{step}`, which it does not need"),
                format!("add `{step}` to the `needs` of `{sname}`, so that the file exists"),
            );
            return;
        }
        match s.outputs.get(output).map(|o| o.kind.unwrap_or(ValueType::String)) {
            None => {
                let files = s.outputs.iter().filter(|(_, o)| o.kind == Some(ValueType::File));
                let help = match super::closest(output, files.map(|(k, _)| k.as_str())) {
                    Some(k) => format!("did you mean `{step}.{k}`?"),
                    None => format!(
                        "declare it on step `{step}`: outputs: {{{output}: {{path: /tmp/{output}, type: file}}}}"
                    ),
                };
                self.err(
                    Code::UnresolvedReference,
                    at.clone(),
                    format!("step `{step}` has no output `{output}`"),
                    help,
                );
            }
            Some(ValueType::File) => {}
            Some(_) => self.err(
                Code::Type,
                at.clone(),
                format!("output `{output}` of step `{step}` is a value, not a file"),
                format!("declare it with `type: file`, or read it in a condition (`when: {step}.{output} ...`)"),
            ),
        }
    }

    /// An output file must be one the step can write: absolute, under /tmp or a mount.
    fn output_path(&mut self, at: &Path, path: &str, mounts: &std::collections::BTreeMap<String, String>) {
        let writable: Vec<&str> = std::iter::once("/tmp")
            .chain(mounts.values().map(String::as_str))
            .collect();
        let under = |root: &str| {
            path.strip_prefix(root.trim_end_matches('/'))
                .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
        };
        if self.absolute(at, path) && !writable.iter().any(|r| under(r)) {
            self.err(
                Code::Path,
                at.clone(),
                format!("the step cannot write `{path}`: its root filesystem is read-only"),
                format!("write the output under one of {}", writable.join(", ")),
            );
        }
    }

    fn condition(&mut self, at: &Path, pipe: &Pipeline, sname: &str, text: &str) {
        let expr = match condition::parse(text) {
            Ok(e) => e,
            Err(e) => {
                self.err(
                    Code::BadValue,
                    at.clone(),
                    format!("column {} of the condition: {}", e.column, e.message),
                    "write a comparison such as `evaluate.auc >= MIN_AUC`",
                );
                return;
            }
        };
        let before = ancestors(pipe, sname);
        let mut resolved = true;
        for v in expr.values() {
            match v {
                Value::Output(step, output) => {
                    let Some(s) = pipe.steps.get(step) else {
                        self.unresolved(at.clone(), "step", step, pipe.steps.keys());
                        resolved = false;
                        continue;
                    };
                    if step == sname || !before.contains(step.as_str()) {
                        self.err(
                            Code::UnresolvedReference,
                            at.clone(),
                            format!("step `{sname}` reads an output of `{step}`, which it does not need"),
                            format!("add `{step}` to the `needs` of `{sname}`, so that its outputs exist"),
                        );
                        resolved = false;
                    } else if !s.outputs.contains_key(output) {
                        let help = match super::closest(output, s.outputs.keys().map(String::as_str)) {
                            Some(k) => format!("did you mean `{step}.{k}`?"),
                            None if s.outputs.is_empty() => format!(
                                "step `{step}` has no outputs: declare one, such as outputs: {{{output}: {{path: /tmp/{output}, type: number}}}}"
                            ),
                            None => format!(
                                "step `{step}` has {}",
                                s.outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        };
                        self.err(
                            Code::UnresolvedReference,
                            at.clone(),
                            format!("step `{step}` has no output `{output}`"),
                            help,
                        );
                        resolved = false;
                    }
                }
                Value::Parameter(p) if !pipe.parameters.contains_key(p) => {
                    self.unresolved(at.clone(), "parameter", p, pipe.parameters.keys());
                    resolved = false;
                }
                _ => {}
            }
        }
        if resolved && let Err(e) = expr.check(&|v| type_of(pipe, v)) {
            self.err(
                Code::Type,
                at.clone(),
                format!("the condition compares unlike values: {e}"),
                "declare the output's `type` (string, number or bool), or compare it with a value of its type",
            );
        }
    }
}

/// A value's type: an output's declared type, or a parameter's from its default. The
/// references are known to resolve.
pub fn type_of(pipe: &Pipeline, v: &Value) -> ValueType {
    match v {
        Value::Output(step, output) => pipe.steps[step].outputs[output].kind.unwrap_or(ValueType::String),
        Value::Parameter(p) => match pipe.parameters[p] {
            Scalar::Number(_) => ValueType::Number,
            Scalar::Bool(_) => ValueType::Bool,
            Scalar::Text(_) => ValueType::String,
        },
        Value::Number(_) => ValueType::Number,
        Value::Text(_) => ValueType::String,
        Value::Bool(_) => ValueType::Bool,
    }
}

/// Every step `step` needs, directly or through others.
fn ancestors<'a>(pipe: &'a Pipeline, step: &str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&str> = pipe
        .steps
        .get(step)
        .map(|s| s.needs.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(n) = todo.pop() {
        if let Some((name, s)) = pipe.steps.get_key_value(n)
            && seen.insert(name.as_str())
        {
            todo.extend(s.needs.iter().map(String::as_str));
        }
    }
    seen
}
