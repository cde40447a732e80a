#!/usr/bin/env python3
"""Write the JSON Schemas of the serving and training kinds (schemas/crds/) from PyPI models.

Five kinds, each from its project's own Python models (pinned in tests/tools.sh, installed in
<repo>/.venv), in the dialect of schemas/crds/crd2json.py, so that mlship's build registers
each file by its `x-mlship-crd` marker and validates the kind like any other custom resource:

  serving.kserve.io/v1beta1 InferenceService  kserve 0.21.0, kserve.models (OpenAPI generator,
  serving.kserve.io/v1alpha1 ServingRuntime   python client: `openapi_types`, `attribute_map`)
  keda.sh/v1alpha1 ScaledObject               cloudcoil-models-keda 2.16.1.0 (pydantic, from
                                              KEDA's CRDs)
  trainer.kubeflow.org/v1alpha1 TrainJob      kubeflow-trainer-api 2.3.0 (pydantic, OpenAPI
  kubeflow.org/v1beta1 Experiment             generator) and kubeflow-katib-api 0.19.0 (same)

Usage (from the repo root):
    bash tests/tools.sh --quiet                    # installs the pinned packages if needed
    .venv/bin/python scripts/ml-schemas.py          # rewrite the files
    .venv/bin/python scripts/ml-schemas.py --check  # exit 1 if a committed file differs

The rules are those of scripts/argo-schemas.py (its docstring), through the shared
scripts/crdschema.py: every model with fields is a closed definition (`additionalProperties:
false`) with `required` as the model has it, a model without fields an open object; `X | None`
is X (left out, not null); descriptions and defaults left out; IntOrString and Quantity are
`anyOf: [integer, string]`; the root has `apiVersion` and `kind` with one value and a bare
`metadata` (mlship checks it against ObjectMeta); `status` is kept. Integer formats: for
Kubernetes types from the committed schemas/k8s bundles, for the projects' own types from the
Go types, in the tables below (a new integer field stops the script until it is listed).

Per package:
- pydantic models (KEDA, Trainer, Katib): walked as hera's are. The OpenAPI generator's models
  (Trainer, Katib) add: `Strict` (says nothing of the schema), enum `field_validator`s (their
  values become `enum`), oneOf wrappers for Quantity and IntOrString (int-or-string), `float |
  int` (number), `Dict[str, Any]` (an open object: Katib's `trialSpec`), plain `datetime`
  (date-time). Kubernetes types are the package's own (the field set of the Kubernetes
  version the project generated them from). cloudcoil's `Ge`/`Le` bounds are kept.
- kserve's OpenAPI client models: `openapi_types` (type strings: 'str', 'int', 'bool',
  'float', 'object', 'datetime', 'list[X]', 'dict(str, X)', a class name), JSON names from
  `attribute_map`, required when the setter refuses None. KServe's own classes are
  definitions named as KServe's OpenAPI document does (`v1beta1.PredictorSpec`); the
  Kubernetes classes (`V1Container`, `K8sIoApiAppsV1DeploymentStrategy`, ...) are the
  definitions of the committed Kubernetes 1.36 bundle (KServe 0.21's PodSpec fields are those
  of Kubernetes 1.36: `schedulingGroup`, no `workloadRef`), converted to this dialect (null
  dropped from types, Quantity and IntOrString int-or-string, Time a date-time string).
  'object' is an open object. Special cases, said in KSERVE_TYPES: `ResourceQuantity` and
  `V1beta1MetricQuantity` (a Quantity; the latter has no class in the package) are
  int-or-string; `V1alpha1WorkerSpec` (a ServingRuntime's `workerSpec`) has no class in the
  package and stays an open object, as does Knative's `TrafficTarget` (status only, no class);
  Knative's `URL` and `VolatileTime` are strings on the wire (the package's classes describe
  Go's structs), only in `status`.
"""

import argparse
import importlib
import importlib.metadata
import importlib.util
import inspect
import os
import pkgutil
import re
import sys
import types

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing crdschema
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crdschema import (  # noqa: E402  (shared with argo-schemas.py)
    INTSTR,
    K8S_PREFIX,
    OUT,
    QUANTITY,
    TIMES,
    Walk,
    bundle_format,
    document,
    fail,
    int_or_string,
    integer,
    k8s_bundles,
    root_object,
    write,
)

PINS = {  # keep in step with tests/tools.sh
    "kserve": "0.21.0",
    "cloudcoil-models-keda": "2.16.1.0",
    "kubeflow-trainer-api": "2.3.0",
    "kubeflow-katib-api": "0.19.0",
}
SCOPE = "Namespaced"  # all five kinds

# --- KServe (kserve.models) --------------------------------------------------------------

KSERVE_KINDS = [
    ("serving.kserve.io_v1beta1_inferenceservice.json", "V1beta1InferenceService", "serving.kserve.io/v1beta1", "InferenceService"),
    ("serving.kserve.io_v1alpha1_servingruntime.json", "V1alpha1ServingRuntime", "serving.kserve.io/v1alpha1", "ServingRuntime"),
]
K8S_BUNDLE = "v1.36"  # the Kubernetes types KServe 0.21's models refer to (see the docstring)

# Type names of openapi_types that are not a class of kserve.models, or not as the class says.
KSERVE_TYPES = {
    "ResourceQuantity": int_or_string(),
    "V1beta1MetricQuantity": int_or_string(),  # Go: MetricQuantity, a Quantity; no class
    "V1alpha1WorkerSpec": {"type": "object"},  # no class in kserve 0.21.0: left open
    "V1Time": {"type": "string", "format": "date-time"},
    "KnativeURL": {"type": "string"},  # knative.dev/pkg/apis.URL marshals to a string
    "KnativeVolatileTime": {"type": "string", "format": "date-time"},
    "KnativeDevServingPkgApisServingV1TrafficTarget": {"type": "object"},  # status; no class: open
}

# KServe's classes that inline a Kubernetes type (`PodSpec json:",inline"` in Go): their
# integer fields of that type take the bundle's format.
KSERVE_INLINES = {
    "V1beta1PredictorSpec": "io.k8s.api.core.v1.PodSpec",
    "V1beta1ExplainerSpec": "io.k8s.api.core.v1.PodSpec",
    "V1beta1TransformerSpec": "io.k8s.api.core.v1.PodSpec",
    "V1beta1WorkerSpec": "io.k8s.api.core.v1.PodSpec",
}

# The Go type of each other integer field KServe's kinds reach (kserve/kserve
# pkg/apis/serving/v1beta1: component.go ComponentExtensionSpec, inference_service.go Batcher,
# predictor.go WorkerSpec, inference_service_status.go; v1alpha1/servingruntime_types.go).
# Go `int` is 64-bit. Read in the Go source: minReplicas, maxReplicas, scaleTarget (`int`),
# containerConcurrency, timeout, canaryTrafficPercent (`*int64`), Batcher (`*int`),
# WorkerSpec (`*int`), ModelCopies (`int`), FailureInfo.exitCode (`int32`),
# SupportedModelFormat.priority (`*int32`), ServingRuntimeSpec.replicas (`*uint16`),
# BuiltInAdapter (`int`). Not found in the source read, from the pattern of their neighbours:
# CanarySpec/CanaryStatus.trafficPercent (as canaryTrafficPercent, int64),
# LoggerSpec.batchSize (as Batcher, int), MetricTarget.averageUtilization (as
# autoscaling/v2's, int32), status.observedGeneration (Knative's duckv1.Status, int64).
KSERVE_INT_FORMATS = {
    "V1alpha1BuiltInAdapter.memBufferBytes": "int64",
    "V1alpha1BuiltInAdapter.modelLoadingTimeoutMillis": "int64",
    "V1alpha1BuiltInAdapter.runtimeManagementPort": "int64",
    "V1alpha1ServingRuntimeSpec.replicas": "uint16",
    "V1alpha1SupportedModelFormat.priority": "int32",
    "V1beta1Batcher.maxBatchSize": "int64",
    "V1beta1Batcher.maxLatency": "int64",
    "V1beta1Batcher.timeout": "int64",
    "V1beta1CanarySpec.trafficPercent": "int64",
    "V1beta1CanaryStatus.trafficPercent": "int64",
    "V1beta1FailureInfo.exitCode": "int32",
    "V1beta1InferenceServiceStatus.observedGeneration": "int64",
    "V1beta1LoggerSpec.batchSize": "int64",
    "V1beta1MetricTarget.averageUtilization": "int32",
    "V1beta1ModelCopies.failedCopies": "int64",
    "V1beta1ModelCopies.totalCopies": "int64",
    "V1beta1WorkerSpec.pipelineParallelSize": "int64",
    "V1beta1WorkerSpec.tensorParallelSize": "int64",
}
for _c in ("V1beta1PredictorSpec", "V1beta1ExplainerSpec", "V1beta1TransformerSpec"):
    KSERVE_INT_FORMATS.update({
        f"{_c}.minReplicas": "int64",
        f"{_c}.maxReplicas": "int64",
        f"{_c}.scaleTarget": "int64",
        f"{_c}.containerConcurrency": "int64",
        f"{_c}.timeout": "int64",
        f"{_c}.canaryTrafficPercent": "int64",
    })

# --- the pydantic packages ---------------------------------------------------------------

# output file, module, class, apiVersion, kind, definition-name prefix of the project's types
PYDANTIC_KINDS = [
    ("keda.sh_v1alpha1_scaledobject.json", "cloudcoil.models.keda.v1alpha1", "ScaledObject", "keda.sh/v1alpha1", "ScaledObject", "keda.sh.v1alpha1."),
    ("trainer.kubeflow.org_v1alpha1_trainjob.json", "kubeflow_trainer_api.models", "TrainerV1alpha1TrainJob", "trainer.kubeflow.org/v1alpha1", "TrainJob", "trainer.v1alpha1."),
    ("kubeflow.org_v1beta1_experiment.json", "kubeflow_katib_api.models", "V1beta1Experiment", "kubeflow.org/v1beta1", "Experiment", "v1beta1."),
]

# KEDA's Go types (kedacore/keda apis/keda/v1alpha1 scaledobject_types.go: pollingInterval,
# cooldownPeriod, initialCooldownPeriod, idleReplicaCount, min/maxReplicaCount, fallback's
# failureThreshold and replicas, status' originalReplicaCount, pausedReplicaCount and a
# health's numberOfFailures are `int32`/`*int32`); `advanced.horizontalPodAutoscalerConfig.
# behavior` is k8s.io/api autoscaling/v2's HorizontalPodAutoscalerBehavior (HPAScalingRules'
# stabilizationWindowSeconds, HPAScalingPolicy's value and periodSeconds: int32), which
# cloudcoil names after KEDA's CRD (ScaleUp, ScaleDown, Policy).
KEDA_INT_FORMATS = {
    "Fallback.failureThreshold": "int32",
    "Fallback.replicas": "int32",
    "Health.numberOfFailures": "int32",
    "Policy.periodSeconds": "int32",
    "Policy.value": "int32",
    "ScaleDown.stabilizationWindowSeconds": "int32",
    "ScaleUp.stabilizationWindowSeconds": "int32",
    "ScaledObjectSpec.cooldownPeriod": "int32",
    "ScaledObjectSpec.idleReplicaCount": "int32",
    "ScaledObjectSpec.initialCooldownPeriod": "int32",
    "ScaledObjectSpec.maxReplicaCount": "int32",
    "ScaledObjectSpec.minReplicaCount": "int32",
    "ScaledObjectSpec.pollingInterval": "int32",
    "ScaledObjectStatus.originalReplicaCount": "int32",
    "ScaledObjectStatus.pausedReplicaCount": "int32",
}

# Kubeflow Trainer's Go types (kubeflow/trainer pkg/apis/trainer/v1alpha1
# trainjob_types.go): activeDeadlineSeconds `*int64`, numNodes and numProcPerNode `*int32`,
# the JobStatus counts `int32` (as JobSet's ReplicatedJobStatus), the trainer status'
# progressPercentage `*int32` and estimatedRemainingSeconds `*int32`; a pod patch's
# terminationGracePeriodSeconds `*int64` (as PodSpec's).
TRAINER_INT_FORMATS = {
    "JobStatus.active": "int32",
    "JobStatus.failed": "int32",
    "JobStatus.ready": "int32",
    "JobStatus.succeeded": "int32",
    "JobStatus.suspended": "int32",
    "PodSpecPatch.terminationGracePeriodSeconds": "int64",
    "TrainJobSpec.activeDeadlineSeconds": "int64",
    "Trainer.numNodes": "int32",
    "Trainer.numProcPerNode": "int32",
    "TrainerStatus.estimatedRemainingSeconds": "int32",
    "TrainerStatus.progressPercentage": "int32",
}

# Katib's Go types (kubeflow/katib pkg/apis/controller/experiments/v1beta1
# experiment_types.go: parallelTrialCount, maxTrialCount, maxFailedTrialCount `*int32`, the
# status' trial counts `int32`; common/v1beta1 GraphConfig: numLayers `*int32`, inputSizes and
# outputSizes `[]int32`).
KATIB_INT_FORMATS = {
    "ExperimentSpec.maxFailedTrialCount": "int32",
    "ExperimentSpec.maxTrialCount": "int32",
    "ExperimentSpec.parallelTrialCount": "int32",
    "ExperimentStatus.trialMetricsUnavailable": "int32",
    "ExperimentStatus.trials": "int32",
    "ExperimentStatus.trialsEarlyStopped": "int32",
    "ExperimentStatus.trialsFailed": "int32",
    "ExperimentStatus.trialsKilled": "int32",
    "ExperimentStatus.trialsPending": "int32",
    "ExperimentStatus.trialsRunning": "int32",
    "ExperimentStatus.trialsSucceeded": "int32",
    "GraphConfig.inputSizes": "int32",
    "GraphConfig.numLayers": "int32",
    "GraphConfig.outputSizes": "int32",
}

INT_FORMATS = {
    "ScaledObject": KEDA_INT_FORMATS,
    "TrainJob": TRAINER_INT_FORMATS,
    "Experiment": KATIB_INT_FORMATS,
}


def check_pins():
    for package, version in PINS.items():
        try:
            installed = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            fail(f"{package} is not installed; run `bash tests/tools.sh` and use .venv/bin/python")
        if installed != version:
            fail(f"{package} {installed} is installed, the schemas are pinned to {version} (tests/tools.sh)")


def load_kserve_models():
    """kserve.models without kserve/__init__.py (which starts the model server's imports:
    fastapi, grpc, numpy, ...; kserve is installed without its dependencies): {class name:
    class} of every generated model."""
    if "kserve" not in sys.modules:
        spec = importlib.util.find_spec("kserve")
        if spec is None:
            fail("kserve is not installed; run `bash tests/tools.sh`")
        package = types.ModuleType("kserve")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["kserve"] = package
    models = importlib.import_module("kserve.models")
    out = {}
    for info in pkgutil.iter_modules(models.__path__):
        module = importlib.import_module(f"kserve.models.{info.name}")
        for name, cls in vars(module).items():
            if isinstance(cls, type) and cls.__module__ == module.__name__ and hasattr(cls, "openapi_types"):
                out[name] = cls
    return out


def openapi_required(cls):
    """The attributes whose setter refuses None (the OpenAPI generator's required fields)."""
    out = []
    for attr in cls.openapi_types:
        prop = getattr(cls, attr, None)
        if isinstance(prop, property) and "must not be `None`" in inspect.getsource(prop.fset):
            out.append(attr)
    return out


def k8s_name(type_name, bundle):
    """The bundle definition of an OpenAPI client's Kubernetes class name, or None:
    `V1Container` (core/v1, else meta/v1), `K8sIoApiAppsV1DeploymentStrategy`."""
    m = re.fullmatch(r"K8sIoApi([A-Z][a-z]+)(V\d+(?:alpha\d+|beta\d+)?)(\w+)", type_name)
    if m:
        name = f"io.k8s.api.{m.group(1).lower()}.{m.group(2).lower()}.{m.group(3)}"
        return name if name in bundle else None
    m = re.fullmatch(r"V1([A-Z]\w+)", type_name)
    if m:
        for prefix in ("io.k8s.api.core.v1.", "io.k8s.apimachinery.pkg.apis.meta.v1."):
            if prefix + m.group(1) in bundle:
                return prefix + m.group(1)
    return None


def from_bundle(node):
    """A bundle schema in this dialect: no null in types (an optional field may be left out,
    not set to null), Quantity and IntOrString int-or-string, Time a date-time string."""
    if isinstance(node, list):
        return [from_bundle(x) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref", "")[len("#/$defs/"):]
    if ref in (QUANTITY, INTSTR):
        return int_or_string()
    if ref in TIMES:
        return {"type": "string", "format": "date-time"}
    out = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, list):
            value = [t for t in value if t != "null"]
            value = value[0] if len(value) == 1 else value
        elif key == "properties":
            value = {k: from_bundle(v) for k, v in value.items()}
        elif key == "enum":
            value = [v for v in value if v is not None]
        else:
            value = from_bundle(value)
        out[key] = value
    return out


class OpenApiWalk:
    """Definitions reached from kserve's OpenAPI client models (see the docstring)."""

    def __init__(self, classes, bundles):
        self.classes, self.bundles = classes, bundles
        self.bundle = dict(bundles)[K8S_BUNDLE]
        self.defs = {}
        self.formats_used = set()

    @staticmethod
    def name(type_name):
        m = re.fullmatch(r"(V\d+(?:alpha\d+|beta\d+)?)(\w+)", type_name)
        return f"{m.group(1).lower()}.{m.group(2)}" if m else type_name

    def k8s(self, name):
        """A bundle definition and every definition it refers to, converted."""
        if name in self.defs:
            return
        self.defs[name] = from_bundle(self.bundle[name])
        for ref in re.findall(r'"#/\$defs/([^"]+)"', str(self.bundle[name]).replace("'", '"')):
            if ref not in (QUANTITY, INTSTR) and ref not in TIMES:
                self.k8s(ref)

    def schema(self, t, where):
        if t.startswith("list["):
            return {"type": "array", "items": self.schema(t[5:-1], where)}
        if t.startswith("dict("):
            key, value = re.fullmatch(r"dict\(([^,]+), (.+)\)", t).groups()
            if key != "str":
                fail(f"{where}: a map with {key} keys")
            return {"type": "object", "additionalProperties": self.schema(value, where)}
        simple = {"str": {"type": "string"}, "bool": {"type": "boolean"}, "float": {"type": "number"},
                  "object": {"type": "object"}, "datetime": {"type": "string", "format": "date-time"}}
        if t in simple:
            return dict(simple[t])
        if t == "int":
            cls_name, field = where.split(".", 1)
            if where in KSERVE_INT_FORMATS:
                self.formats_used.add(where)
                return integer(KSERVE_INT_FORMATS[where])
            inline = KSERVE_INLINES.get(cls_name)
            if inline:
                return integer(bundle_format([(K8S_BUNDLE, self.bundle)], inline, field, where))
            fail(f"{where}: an integer without a Go type in KSERVE_INT_FORMATS")
        if t in KSERVE_TYPES:
            return dict(KSERVE_TYPES[t])
        if t in self.classes:
            self.definition(t)
            return {"$ref": f"#/$defs/{self.name(t)}"}
        k8s = k8s_name(t, self.bundle)
        if k8s:
            self.k8s(k8s)
            return {"$ref": f"#/$defs/{k8s}"}
        fail(f"{where}: type {t!r} is not converted")

    def definition(self, type_name):
        name = self.name(type_name)
        if name in self.defs:
            return
        self.defs[name] = None  # recursion guard
        cls = self.classes[type_name]
        props = {cls.attribute_map[a]: self.schema(t, f"{type_name}.{cls.attribute_map[a]}") for a, t in cls.openapi_types.items()}
        d = {"type": "object"}
        if props:
            d["properties"] = props
            d["additionalProperties"] = False
        required = sorted(cls.attribute_map[a] for a in openapi_required(cls))
        if required:
            d["required"] = required
        self.defs[name] = d

    def root(self, type_name, api_version, kind):
        self.definition(type_name)
        return root_object(self.defs.pop(self.name(type_name)), api_version, kind)


def pydantic_name(prefix, cls):
    """Upstream's definition names: a Kubernetes class of the OpenAPI generator
    (`IoK8sApiCoreV1Container`) by the bundles' names, cloudcoil's ObjectMeta as meta/v1's,
    the project's own types `prefix` + the class name less its generator prefix."""
    name = cls.__name__
    if name.startswith("IoK8s"):
        return K8S_NAMES.get(name) or fail(f"{name}: no Kubernetes definition of that name in schemas/k8s")
    if cls.__module__.startswith("cloudcoil.apimachinery"):
        return f"io.k8s.apimachinery.pkg.apis.meta.v1.{name}"
    for generated in ("TrainerV1alpha1", "V1beta1"):
        if name.startswith(generated) and prefix in ("trainer.v1alpha1.", "v1beta1."):
            return prefix + name[len(generated):]
    return prefix + name


K8S_NAMES = {}


def build():
    bundles = k8s_bundles()
    for _, defs in bundles:
        for name in defs:
            K8S_NAMES["".join(p[:1].upper() + p[1:] for p in re.split(r"[.-]", name))] = name
    files = {}
    kserve = OpenApiWalk(load_kserve_models(), bundles)
    for file_name, cls, api_version, kind in KSERVE_KINDS:
        root = kserve.root(cls, api_version, kind)
        files[file_name] = document(file_name, api_version, kind, SCOPE, root, kserve.defs)
    unused = sorted(set(KSERVE_INT_FORMATS) - kserve.formats_used)
    if unused:
        fail("KSERVE_INT_FORMATS lists fields the models no longer have: " + ", ".join(unused))
    for file_name, module, cls, api_version, kind, prefix in PYDANTIC_KINDS:
        formats = INT_FORMATS[kind]
        walk = Walk(bundles, lambda c, p=prefix: pydantic_name(p, c), prefix, formats)
        model = getattr(importlib.import_module(module), cls)
        root = walk.root(model, api_version, kind)
        files[file_name] = document(file_name, api_version, kind, SCOPE, root, walk.defs)
        unused = sorted(set(formats) - walk.formats_used)
        if unused:
            fail(f"the {kind} table of integer formats lists fields the models no longer have: " + ", ".join(unused))
    return files


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    p.add_argument("--out", default=OUT)
    args = p.parse_args()
    check_pins()
    files = build()
    source = ", ".join(f"{k} {v}" for k, v in PINS.items()) + f" and Kubernetes {K8S_BUNDLE[1:]} (schemas/k8s)"
    return write(files, args.out, args.check, source)


if __name__ == "__main__":
    sys.exit(main())
