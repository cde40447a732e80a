#!/usr/bin/env python3
"""Write the JSON Schemas of Argo Workflows' kinds (schemas/crds/) from hera's models.

Source: the pydantic models of the PyPI package hera (pinned in tests/tools.sh, installed
in <repo>/.venv), module hera.workflows.models.io.argoproj.workflow.v1alpha1, which
datamodel-codegen generates from Argo Workflows' own JSON schema (the module's header names
the Argo release: argo-workflows-4.0.5.json for hera 7.1.0). One file per kind of KINDS below,
in the dialect of schemas/crds/crd2json.py, so that mlship's build registers it by its
`x-mlship-crd` marker and validates the kind like any other custom resource.

Usage (from the repo root):
    bash tests/tools.sh --quiet                     # installs the pinned hera if needed
    .venv/bin/python scripts/argo-schemas.py         # rewrite the files
    .venv/bin/python scripts/argo-schemas.py --check # exit 1 if a committed file differs
    .venv/bin/python scripts/argo-schemas.py --report  # hera's Kubernetes types against schemas/k8s

What it does, walking each model's fields (their aliases are the JSON names):
- a model with fields becomes a definition under `$defs`, named as upstream names it
  (`io.argoproj.workflow.v1alpha1.Template`, `io.k8s.api.core.v1.Container`: the module path
  under hera.workflows.models and the class name), closed with `additionalProperties: false`,
  with `required` as the model has it; a model without fields (a plugin's configuration,
  Argo's `none` and `zip` archive strategies, FieldsV1, ...) stays an open object, as
  crd2json.py leaves an object without `properties` open;
- `X | None` is X: an optional field may be left out, not set to null (crd2json.py refuses
  null unless the CRD says `nullable`);
- str, bool, float: string, boolean, number; `Any` (a loop item): any value; `Base64Str`:
  string, format byte; an aware datetime (Time, MicroTime): string, format date-time; lists
  and string maps: arrays and `additionalProperties`; an Enum: its values;
- int: integer with its Go type's format. hera's models have no formats (Argo's JSON schema
  has none), so they are taken from the Go types: for Kubernetes types from the committed
  schemas/k8s bundles (the same definition's same property, the oldest bundle that has it);
  for Argo's own types from ARGO_INT_FORMATS below (Argo's `pkg/apis/workflow/v1alpha1`). An
  integer found in neither is an error, so a new hera release cannot add one unbounded;
- IntOrString, and Quantity (a string in hera, a number or a string in Go and in Argo's
  CRDs, `x-kubernetes-int-or-string`): `anyOf: [integer, string]`, as crd2json.py writes
  int-or-string fields; other root models (ParallelSteps, Amount, Item) are inlined;
- the kind's root: `apiVersion` and `kind` with a one-value enum, `metadata` a bare object
  (mlship checks it against the Kubernetes version's ObjectMeta, as for every custom
  resource), `spec` and `status` as the model has them;
- descriptions, titles and defaults are left out (about 70% of the size).

A field constraint on a model (a pattern, a bound) or a type the walk does not know stops the
script: a new hera release is read, not guessed. Output: pretty-printed JSON (indent 1, sorted
keys) like crd2json.py's, one file per kind; every definition a kind reaches is in its file
(the validator compiles one document per kind).
"""

import argparse
import importlib
import importlib.metadata
import os
import sys

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing crdschema
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdschema import (  # noqa: E402  (the shared walk, root, document and --check: scripts/crdschema.py)
    AS_INT_OR_STRING,
    K8S_PREFIX,
    OUT,
    ROOT,
    Walk,
    document,
    fail,
    int_or_string,
    k8s_bundles,
    write,
)

PACKAGE = "hera"
VERSION = "7.1.0"  # keep in step with tests/tools.sh
MODELS = "hera.workflows.models"
ARGO = "hera.workflows.models.io.argoproj.workflow.v1alpha1"
API_VERSION = "argoproj.io/v1alpha1"

# output file, model class (in ARGO), kind, scope
KINDS = [
    ("argoproj.io_v1alpha1_workflowtemplate.json", "WorkflowTemplate", "WorkflowTemplate", "Namespaced"),
    ("argoproj.io_v1alpha1_cronworkflow.json", "CronWorkflow", "CronWorkflow", "Namespaced"),
    ("argoproj.io_v1alpha1_workflow.json", "Workflow", "Workflow", "Namespaced"),
]

# The Go integer type of each integer field of Argo's own types that the kinds above reach
# (pkg/apis/workflow/v1alpha1: `*int32`, `*int64`; `uint64` for a git depth; Go `int` is
# 64-bit), as JSON Schema formats. A list or map of integers is listed by its field.
ARGO_INT_FORMATS = {
    "Artifact.mode": "int32",
    "ArtifactPaths.mode": "int32",
    "CronWorkflowSpec.failedJobsHistoryLimit": "int32",
    "CronWorkflowSpec.startingDeadlineSeconds": "int64",
    "CronWorkflowSpec.successfulJobsHistoryLimit": "int32",
    "CronWorkflowStatus.failed": "int64",
    "CronWorkflowStatus.succeeded": "int64",
    "GitArtifact.depth": "uint64",
    "HTTP.timeoutSeconds": "int64",
    "NodeStatus.estimatedDuration": "int64",
    "NodeStatus.failedPodRestarts": "int32",
    "NodeStatus.resourcesDuration": "int64",
    "OSSLifecycleRule.markDeletionAfterDays": "int32",
    "OSSLifecycleRule.markInfrequentAccessAfterDays": "int32",
    "PluginArtifact.connectionTimeoutSeconds": "int32",
    "TTLStrategy.secondsAfterCompletion": "int32",
    "TTLStrategy.secondsAfterFailure": "int32",
    "TTLStrategy.secondsAfterSuccess": "int32",
    "TarStrategy.compressionLevel": "int32",
    "Template.parallelism": "int64",
    "WorkflowSpec.activeDeadlineSeconds": "int64",
    "WorkflowSpec.parallelism": "int64",
    "WorkflowSpec.priority": "int32",
    "WorkflowStatus.estimatedDuration": "int64",
    "WorkflowStatus.resourcesDuration": "int64",
}

ARGO_PREFIX = "io.argoproj.workflow.v1alpha1."


def load_hera():
    try:
        installed = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        fail(f"{PACKAGE} is not installed; run `bash tests/tools.sh` and use .venv/bin/python")
    if installed != VERSION:
        fail(f"{PACKAGE} {installed} is installed, the schemas are pinned to {VERSION} (tests/tools.sh)")
    return importlib.import_module(ARGO)


def upstream_source(module):
    """The Argo schema file datamodel-codegen read (the module's header says)."""
    with open(module.__file__, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#   filename:"):
                return line.split(":", 1)[1].strip()
            if not line.startswith("#"):
                break
    return "unknown"


def model_name(cls):
    """Upstream's definition name: the module path under hera.workflows.models and the class."""
    module = cls.__module__
    if not module.startswith(MODELS + "."):
        fail(f"{module}.{cls.__name__} is not one of hera's generated models")
    return f"{module[len(MODELS) + 1:]}.{cls.__name__}"


def build(module, bundles):
    walk = Walk(bundles, model_name, ARGO_PREFIX, ARGO_INT_FORMATS)
    out = {}
    for file_name, model, kind, scope in KINDS:
        root = walk.root(getattr(module, model), API_VERSION, kind)
        out[file_name] = document(file_name, API_VERSION, kind, scope, root, walk.defs)
    unused = sorted(set(ARGO_INT_FORMATS) - walk.formats_used)
    if unused:
        fail("ARGO_INT_FORMATS lists fields the models no longer have: " + ", ".join(unused))
    return out, walk


def shape(s):
    """A schema's type in a few words, the same for ours and the bundles' (for --report)."""
    if not isinstance(s, dict):
        return repr(s)
    ref = s.get("$ref", "")[len("#/$defs/"):]
    if ref in AS_INT_OR_STRING or s.get("anyOf") == int_or_string()["anyOf"]:
        return "int-or-string"
    if ref == "io.k8s.apimachinery.pkg.apis.meta.v1.Time" or s.get("format") == "date-time":
        return "date-time"
    if ref:
        return ref
    t = s.get("type")
    t = [x for x in t if x != "null"] if isinstance(t, list) else [t]
    t = t[0] if len(t) == 1 else t
    if t == "array":
        return "array of " + shape(s.get("items"))
    if t == "object" and isinstance(s.get("additionalProperties"), dict):
        return "map of " + shape(s["additionalProperties"])
    if t == "integer":
        return f"integer {s.get('format')}"
    if t == "string" and s.get("format") == "byte":
        return "string byte"
    return str(t)


def report(walk, bundles):
    """hera's Kubernetes types against the committed bundles' definitions of the same name:
    fields only one side has, and fields of another type."""
    for name in sorted(walk.defs):
        if not name.startswith(K8S_PREFIX):
            continue
        mine = walk.defs[name].get("properties", {})
        line = []
        for version, defs in bundles:
            theirs = defs.get(name)
            if theirs is None:
                line.append(f"{version}: no such definition")
                continue
            theirs = theirs.get("properties", {})
            diff = []
            if set(mine) - set(theirs):
                diff.append("only hera: " + ", ".join(sorted(set(mine) - set(theirs))))
            if set(theirs) - set(mine):
                diff.append("only Kubernetes: " + ", ".join(sorted(set(theirs) - set(mine))))
            req_a = set(walk.defs[name].get("required", []))
            req_b = set(defs[name].get("required", []))
            if req_a != req_b:
                diff.append(f"required {sorted(req_a)} here, {sorted(req_b)} in Kubernetes")
            for key in sorted(set(mine) & set(theirs)):
                a, b = shape(mine[key]), shape(theirs[key])
                if a != b:
                    diff.append(f"{key} is {a} here, {b} in Kubernetes")
            if diff:
                line.append(f"{version}: " + "; ".join(diff))
        if line:
            print(f"{name}\n  " + "\n  ".join(line))
    for where in walk.widened:
        print(f"{where}: an integer in hera, IntOrString in Kubernetes: written as int-or-string")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    p.add_argument("--report", action="store_true", help="compare hera's Kubernetes types with schemas/k8s")
    p.add_argument("--out", default=OUT)
    args = p.parse_args()
    module = load_hera()
    bundles = k8s_bundles()
    files, walk = build(module, bundles)
    source = f"{PACKAGE} {VERSION} ({ARGO}, generated from {upstream_source(module)})"
    if args.report:
        report(walk, bundles)
        return 0
    return write(files, args.out, args.check, source)


if __name__ == "__main__":
    sys.exit(main())
