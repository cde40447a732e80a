#!/usr/bin/env python3
"""A second check of the custom resources mlship emits: the upstream SDK's own models.

mlship validates its custom resources against the JSON Schemas of schemas/crds/. This script
checks the same objects another way, with the models of the projects' Python SDKs (pinned in
tests/tools.sh), so that a mistake in a schema, or in the script that wrote it, shows up as a
disagreement. It reads:

  golden/*/envs/**/*.yaml              every object must parse, and so must the objects the
                                       Argo resource templates create (their `manifest`)
  tests/manifests/crds/valid/*.yaml    every object must parse
  tests/manifests/crds/broken/*.yaml   every object must be refused, at the same paths as
                                       mlship's (broken/expected.tsv), but for the bounds
                                       of int32/int64 fields, which the models do not have

and, for each object whose apiVersion and kind are in MODELS, parses it with the model. Other
objects are not counted. Prints one line per problem and last
"sdk-check: N checked, N failed"; exits 1 on any failure.

Usage (from the repo root): bash tests/tools.sh --quiet && .venv/bin/python tests/sdk-check.py

How a model parses. Pydantic (hera's Argo Workflows kinds; KEDA's ScaledObject, from
cloudcoil-models-keda): the JSON of the object (YAML read as Kubernetes reads it: YAML 1.1,
timestamps kept as strings), in pydantic's strict mode (no "3" for 3, as Go's JSON decoding),
by the JSON field names only, extra fields forbidden (the generated models ignore them by
default: their base class is switched to `extra="forbid"` before they load). OpenApiPydantic
(Kubeflow Trainer's TrainJob, Katib's Experiment: the OpenAPI generator's pydantic models) the
same, with pydantic's BaseModel made strict while the package loads, and the generator's oneOf
wrappers of Quantity and IntOrString validating a string or a number. OpenApiClient (KServe's
InferenceService and ServingRuntime: kserve.models, OpenAPI client classes, with the
`kubernetes` client's for the Kubernetes types): the object walked along `openapi_types`,
refusing unknown fields, missing required ones and values of another JSON type.

Not here: Kubeflow's Notebook (kubeflow.org/v1). No package registry has models of it (PyPI
`kubeflow` is the Trainer and Optimizer SDK; Kubeflow's web app builds Notebooks as plain
dictionaries), so its schema (scripts/notebook-schema.py) is checked by hand against the
upstream CRD, as schemas/crds/SOURCES.md says.

To add a kind: pin its SDK in tests/tools.sh and add a row to MODELS, with an adapter:
`Pydantic` for pydantic v2 models with a base class of their own, `OpenApiPydantic` for the
OpenAPI generator's pydantic models, `OpenApiClient` for its older client classes, or a new
class with the same `refusals(obj)` method.
"""

import importlib
import importlib.util
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Pydantic:
    """A pydantic v2 model class `name` of `module`; `base` is the generated models' base
    class (`module:Class`), switched to extra="forbid" before the module is imported."""

    strict_bases = set()

    def __init__(self, module, name, base):
        self.module, self.name, self.base = module, name, base
        self.model = None

    def load(self):
        if self.model is None:
            if self.base not in Pydantic.strict_bases:
                if self.module in sys.modules:
                    fail(f"{self.module} was imported before its base class was made strict")
                base_module, base_name = self.base.split(":")
                base = getattr(importlib.import_module(base_module), base_name)
                base.model_config["extra"] = "forbid"
                Pydantic.strict_bases.add(self.base)
            self.model = getattr(importlib.import_module(self.module), self.name)
            if self.model.model_config.get("extra") != "forbid":
                fail(f"{self.module}.{self.name} does not forbid extra fields")
        return self.model

    def refusals(self, obj):
        """(path, error type, message) for each reason the model refuses `obj`."""
        import pydantic

        try:
            self.load().model_validate_json(json.dumps(obj), strict=True, by_alias=True, by_name=False)
            return []
        except pydantic.ValidationError as e:
            out = []
            for err in e.errors():
                loc = list(err["loc"])
                # A union member's error names the member last (`limit.str`, `limit.int`).
                if err["type"] in ("string_type", "int_type", "float_type", "bool_type") and loc and loc[-1] in ("str", "int", "float", "bool"):
                    loc = loc[:-1]
                out.append((path_string(loc), err["type"], err["msg"]))
            return out


class OpenApiPydantic(Pydantic):
    """A pydantic v2 model of the OpenAPI generator (Kubeflow Trainer, Katib). Its models have
    no base class of their own, so pydantic's BaseModel is made extra="forbid" while the
    package is imported (and only then). The generator's oneOf wrappers of Quantity and
    IntOrString (a model with `actual_instance`, filled by hand by the generator's from_dict)
    are made to validate what Kubernetes reads there, a strict string or number, and every
    model the kind reaches is rebuilt on them."""

    WRAPPERS = ("IoK8sApimachineryPkgApiResourceQuantity", "IoK8sApimachineryPkgUtilIntstrIntOrString")

    def __init__(self, module, name):
        super().__init__(module, name, None)

    def load(self):
        if self.model is None:
            import pydantic
            from pydantic_core import core_schema

            if self.module.split(".")[0] in sys.modules:
                fail(f"{self.module} was imported before extra fields were forbidden")
            config = pydantic.BaseModel.model_config
            config["extra"] = "forbid"
            try:
                models = importlib.import_module(self.module)
            finally:
                del config["extra"]
            scalar = core_schema.union_schema([
                core_schema.str_schema(strict=True),
                core_schema.int_schema(strict=True),
                core_schema.float_schema(strict=True),
            ])
            wrappers = {getattr(models, w) for w in self.WRAPPERS}
            for w in wrappers:
                w.__get_pydantic_core_schema__ = classmethod(lambda cls, source, handler: scalar)
            done = set()

            def rebuild(cls):  # the models a model refers to first
                if cls in done or cls in wrappers:
                    return
                done.add(cls)
                for field in cls.model_fields.values():
                    for t in types_in(field.annotation):
                        if isinstance(t, type) and issubclass(t, pydantic.BaseModel):
                            rebuild(t)
                cls.model_rebuild(force=True)

            self.model = getattr(models, self.name)
            rebuild(self.model)
            if self.model.model_config.get("extra") != "forbid":
                fail(f"{self.module}.{self.name} does not forbid extra fields")
        return self.model


def types_in(tp):
    import typing

    yield tp
    for arg in typing.get_args(tp):
        yield from types_in(arg)


class OpenApiClient:
    """A model class of an OpenAPI generator's Python client (kserve.models): `openapi_types`
    (type strings), `attribute_map` (JSON names), required where the setter refuses None. The
    object is walked as the client's deserializer reads it, strictly: an unknown field, a
    missing required field or a value of another JSON type is refused (types: 'str', 'int',
    'float', 'bool', 'object' (anything), 'datetime' (a string), 'list[X]', 'dict(str, X)' (the
    client writes 'dict[str, X]'), a
    class of kserve.models, else of the kubernetes client's models). KServe's types without a
    class: `ResourceQuantity` and `V1beta1MetricQuantity` (a Quantity: a string or a number),
    `V1alpha1WorkerSpec` and Knative's `TrafficTarget` (not checked)."""

    UNCHECKED = {"V1alpha1WorkerSpec", "KnativeDevServingPkgApisServingV1TrafficTarget"}
    QUANTITIES = {"ResourceQuantity", "V1beta1MetricQuantity"}

    def __init__(self, name):
        self.name = name
        self.classes = None

    def load(self):
        if self.classes is None:
            import inspect
            import pkgutil
            import types

            # kserve/__init__.py imports the model server (kserve is installed without its
            # dependencies); only kserve.models is needed.
            if "kserve" not in sys.modules:
                spec = importlib.util.find_spec("kserve")
                package = types.ModuleType("kserve")
                package.__path__ = list(spec.submodule_search_locations)
                sys.modules["kserve"] = package
            classes = {}
            import kubernetes.client.models as k8s

            for base in (k8s, importlib.import_module("kserve.models")):
                for info in pkgutil.iter_modules(base.__path__):
                    module = importlib.import_module(f"{base.__name__}.{info.name}")
                    for n, cls in vars(module).items():
                        if isinstance(cls, type) and cls.__module__ == module.__name__ and hasattr(cls, "openapi_types"):
                            classes[n] = cls  # kserve's own win over the client's of a name
            self.required = {}
            for n, cls in classes.items():
                self.required[n] = [
                    cls.attribute_map[a] for a in cls.openapi_types
                    if isinstance(getattr(cls, a, None), property)
                    and "must not be `None`" in inspect.getsource(getattr(cls, a).fset)
                ]
            self.classes = classes
        return self.classes

    def refusals(self, obj):
        out = []
        self.walk(obj, self.name, [], out)
        return out

    def walk(self, value, t, loc, out):
        classes = self.load()

        def bad(kind, message):
            out.append((path_string(loc), kind, message))

        if t.startswith("list["):
            if not isinstance(value, list):
                return bad("list_type", "Input should be a valid list")
            for i, item in enumerate(value):
                self.walk(item, t[5:-1], loc + [i], out)
        elif t.startswith(("dict(", "dict[")):  # kserve writes dict(str, X), the client dict[str, X]
            if not isinstance(value, dict):
                return bad("dict_type", "Input should be a valid dictionary")
            for k, item in value.items():
                self.walk(item, t.split(", ", 1)[1][:-1], loc + [k], out)
        elif t in ("str", "datetime"):
            if not isinstance(value, str):
                bad("string_type", "Input should be a valid string")
        elif t == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                bad("int_type", "Input should be a valid integer")
        elif t == "float":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                bad("float_type", "Input should be a valid number")
        elif t == "bool":
            if not isinstance(value, bool):
                bad("bool_type", "Input should be a valid boolean")
        elif t == "object" or t in self.UNCHECKED:
            pass
        elif t in self.QUANTITIES:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                bad("string_type", "Input should be a valid string or number")
        elif t in classes:
            cls = classes[t]
            if not isinstance(value, dict):
                return bad("model_type", f"Input should be an object ({t})")
            fields = {json_name: cls.openapi_types[attr] for attr, json_name in cls.attribute_map.items()}
            for key, item in value.items():
                if key not in fields:
                    out.append((path_string(loc + [key]), "extra_forbidden", "Extra inputs are not permitted"))
                else:
                    self.walk(item, fields[key], loc + [key], out)
            for key in self.required[t]:
                if key not in value:
                    out.append((path_string(loc + [key]), "missing", "Field required"))
        else:
            fail(f"{self.name}: no class {t!r} in kserve.models or the kubernetes client")


HERA = "hera.workflows.models.io.argoproj.workflow.v1alpha1"
HERA_BASE = "hera.shared._pydantic:APIBaseModel"

# (apiVersion, kind) -> model. The SDK's version is the one tests/tools.sh pins.
MODELS = {
    ("argoproj.io/v1alpha1", "WorkflowTemplate"): Pydantic(HERA, "WorkflowTemplate", HERA_BASE),
    ("argoproj.io/v1alpha1", "CronWorkflow"): Pydantic(HERA, "CronWorkflow", HERA_BASE),
    ("argoproj.io/v1alpha1", "Workflow"): Pydantic(HERA, "Workflow", HERA_BASE),
    ("serving.kserve.io/v1beta1", "InferenceService"): OpenApiClient("V1beta1InferenceService"),
    ("serving.kserve.io/v1alpha1", "ServingRuntime"): OpenApiClient("V1alpha1ServingRuntime"),
    ("keda.sh/v1alpha1", "ScaledObject"): Pydantic("cloudcoil.models.keda.v1alpha1", "ScaledObject", "cloudcoil.pydantic:BaseModel"),
    ("trainer.kubeflow.org/v1alpha1", "TrainJob"): OpenApiPydantic("kubeflow_trainer_api.models", "TrainerV1alpha1TrainJob"),
    ("kubeflow.org/v1beta1", "Experiment"): OpenApiPydantic("kubeflow_katib_api.models", "V1beta1Experiment"),
}

# Where a model is narrower than what the project itself reads, and mlship's schema follows
# the project: (path pattern, error type, why). Such refusals of a valid object are printed
# as known, not counted as failures.
KNOWN = [
    (
        r"(^|\.)httpGet\.port$",
        "int_type",
        "hera's HTTPGetAction.port is an integer (Argo's JSON schema); Argo reads it into "
        "k8s.io/api's IntOrString, so a port name works, and schemas/crds takes both",
    ),
]


def fail(message):
    sys.exit(f"sdk-check: {message}")


def path_string(loc):
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class KubernetesLoader(yaml.SafeLoader):
    """YAML 1.1 as Kubernetes reads it, with timestamps left as strings (JSON has none)."""


KubernetesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def documents(path):
    """(line of the document's first node, object) for each non-empty document of a YAML file."""
    with open(path, encoding="utf-8") as f:
        loader = KubernetesLoader(f.read())
    out = []
    try:
        while loader.check_node():
            node = loader.get_node()
            obj = loader.construct_document(node)
            if obj is not None:
                out.append((node.start_mark.line + 1, obj))
    except yaml.YAMLError as e:
        fail(f"{rel(path)}: {e}")
    finally:
        loader.dispose()
    return out


def rel(path):
    return os.path.relpath(path, ROOT)


def yaml_files(folder):
    out = []
    for base, dirs, files in os.walk(folder):
        dirs.sort()
        out.extend(os.path.join(base, f) for f in sorted(files) if f.endswith((".yaml", ".yml")))
    return out


def model_for(obj):
    if not isinstance(obj, dict):
        return None
    return MODELS.get((obj.get("apiVersion"), obj.get("kind")))


def name_of(obj):
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{meta.get('name') or meta.get('generateName') or '?'}"


def expected_paths(table_path):
    """broken/expected.tsv: file -> [(line, path)], a missing field at its own path."""
    out = {}
    with open(table_path, encoding="utf-8") as f:
        for raw in f:
            if raw.startswith("#") or not raw.strip():
                continue
            file_name, at, path, message = raw.rstrip("\n").split("\t")
            path = "" if path == "-" else path
            m = re.match(r"missing required field `([^`]+)`", message)
            if m:
                path = f"{path}.{m.group(1)}" if path else m.group(1)
            out.setdefault(file_name, []).append((int(at.split(":")[0]), path, message))
    return out


def with_created(docs):
    """The documents, and after each Argo Workflows kind the objects its resource templates
    create (a TrainJob, a Katib Experiment), parsed from their `manifest` strings."""
    for start, obj in docs:
        yield start, obj
        spec = (obj or {}).get("spec") or {}
        templates = spec.get("templates") or (spec.get("workflowSpec") or {}).get("templates") or []
        for t in templates:
            text = ((t or {}).get("resource") or {}).get("manifest")
            if isinstance(text, str):
                yield start, yaml.load(text, Loader=KubernetesLoader)


def main():
    checked, failed, known = 0, 0, 0

    def report(where, obj, text):
        print(f"sdk-check: FAIL {where}: {name_of(obj)}: {text}")

    # Objects that must parse.
    sections = [("golden", f) for f in sorted(p for p in yaml_files(os.path.join(ROOT, "golden")) if "/envs/" in p)]
    sections += [("valid", f) for f in yaml_files(os.path.join(ROOT, "tests", "manifests", "crds", "valid"))]
    counts = {"golden": 0, "valid": 0, "broken": 0}
    for section, path in sections:
        for start, obj in with_created(documents(path)):
            model = model_for(obj)
            if model is None:
                continue
            checked += 1
            counts[section] += 1
            bad = False
            for where, kind, message in model.refusals(obj):
                why = next((w for rx, t, w in KNOWN if t == kind and re.search(rx, where)), None)
                if why:
                    known += 1
                    print(f"sdk-check: known {rel(path)}:{start}: {name_of(obj)}: {where}: {message} ({why})")
                    continue
                bad = True
                report(f"{rel(path)}:{start}", obj, f"{where}: {message} [{kind}]")
            failed += bad

    # Objects that must be refused where mlship refuses them.
    broken = os.path.join(ROOT, "tests", "manifests", "crds", "broken")
    expected = expected_paths(os.path.join(broken, "expected.tsv"))
    for path in yaml_files(broken):
        docs = documents(path)
        rows = expected.get(os.path.basename(path), [])
        for i, (start, obj) in enumerate(docs):
            model = model_for(obj)
            if model is None:
                continue
            checked += 1
            counts["broken"] += 1
            end = docs[i + 1][0] if i + 1 < len(docs) else float("inf")
            theirs = {p for line, p, _ in rows if start <= line < end}
            bounds = {p for line, p, m in rows if start <= line < end and m.startswith(("must be at most", "must be at least"))}
            refusals = model.refusals(obj)
            ours = {where for where, _, _ in refusals}
            where = f"{rel(path)}:{start}"
            if not refusals:
                report(where, obj, "the model accepts an object mlship refuses")
                failed += 1
                continue
            only_model = sorted(ours - theirs)
            only_mlship = sorted(theirs - ours - bounds)
            if only_model or only_mlship:
                failed += 1
                if only_model:
                    report(where, obj, "refused by the model only at " + ", ".join(only_model))
                if only_mlship:
                    report(where, obj, "refused by mlship only at " + ", ".join(only_mlship))

    kinds = ", ".join(sorted({k for _, k in MODELS}))
    print(f"sdk-check: {counts['golden']} golden objects, {counts['valid']} valid and {counts['broken']} broken "
          f"fixtures of the kinds with a model ({kinds}); {known} known differences")
    print(f"sdk-check: {checked} checked, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
