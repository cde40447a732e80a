#!/usr/bin/env python3
"""Write schemas/crds/kubeflow.org_v1_notebook.json, the Kubeflow Notebook's schema.

Kubeflow's notebook-controller CRD (kubeflow/notebooks, Apache-2.0; SOURCES.md gives the
commit) is a NotebookSpec whose `template.spec` is the PodSpec of the controller's
k8s.io/api, v0.24.1 (its go.mod), rendered by controller-gen, and a NotebookStatus. This
script writes the same schema, in the dialect of crd2json.py, from packages on PyPI:

- the PodSpec's field set and required fields from the Kubernetes 1.24 models of the
  `kubernetes` Python client 24.2.0 (generated from the Kubernetes 1.24 OpenAPI document,
  the one k8s.io/api v0.24.1 belongs to): each model's `openapi_types` and `attribute_map`,
  and as required the fields whose setter refuses None;
- integer formats, quantities and int-or-string fields from the same definitions in
  kubernetes-validate's v1.25 strict schemas (tests/tools.sh pins it; 1.25 is its oldest),
  by definition and field name: 1.25 added fields but changed none of these;
- the envelope (apiVersion, kind, `metadata` as an open object, `spec.template` with only
  `spec`, the status) from the upstream CRD, as `ENVELOPE` below writes it.

As controller-gen renders them: a quantity is an integer or a string with Kubernetes'
quantity pattern, an int-or-string an integer or a string, a map of strings an object of
strings, a date-time a string with format date-time, an embedded ObjectMeta (an ephemeral
volume's claim template) an open object; no field is nullable. As crd2json.py writes
schemas: every object with properties is closed, apiVersion and kind are one-value enums,
and `x-mlship-crd` registers the file.

Usage: python3 scripts/notebook-schema.py MODELS DEFS [--check]
  MODELS: the `kubernetes/client/models` folder of the kubernetes 24.2.0 wheel, unpacked
          (pip download --no-deps kubernetes==24.2.0; python3 -m zipfile -e <wheel> DIR)
  DEFS:   kubernetes_validate/kubernetes-json-schema/v1.25.0-local-strict/_definitions.json
          in .venv
"""

import argparse
import ast
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "schemas/crds/kubeflow.org_v1_notebook.json"
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?"
    r"(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


class Models:
    def __init__(self, folder, defs):
        self.folder = pathlib.Path(folder)
        self.defs = defs
        # `from kubernetes.client.models.v1_http_get_action import V1HTTPGetAction`
        init = (self.folder / "__init__.py").read_text()
        self.files = dict(
            (cls, module) for module, cls in re.findall(r"^from kubernetes\.client\.models\.(\w+) import (\w+)$", init, re.M)
        )

    def model(self, cls):
        """(openapi_types, attribute_map, required attribute names) of a model class."""
        path = self.folder / (self.files[cls] + ".py")
        tree = ast.parse(path.read_text())
        klass = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
        found = {}
        required = set()
        for node in klass.body:
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                if node.targets[0].id in ("openapi_types", "attribute_map"):
                    found[node.targets[0].id] = ast.literal_eval(node.value)
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Attribute) and d.attr == "setter" for d in node.decorator_list
            ):
                if "must not be `None`" in ast.unparse(node):
                    required.add(node.name)
        return found["openapi_types"], found["attribute_map"], required

    def definition(self, cls):
        """The 1.25 definition of a model class (core/v1 first)."""
        short = cls[2:]
        names = [n for n in self.defs if n.rsplit(".", 1)[1] == short]
        names.sort(key=lambda n: (".core.v1." not in n, ".meta.v1." not in n, n))
        return self.defs[names[0]] if names else None

    def schema(self, typ, prop=None):
        """The schema of a field's Python type; `prop` is its 1.25 definition, for formats."""
        prop = prop or {}
        ref = prop.get("$ref", "").removeprefix("#/$defs/")
        if ref == QUANTITY or (prop.get("type") is None and ref == QUANTITY):
            return {"anyOf": [{"type": "integer"}, {"type": "string"}], "pattern": QUANTITY_PATTERN}
        if ref == INT_OR_STRING:
            return {"anyOf": [{"type": "integer"}, {"type": "string"}]}
        m = re.fullmatch(r"list\[(.+)\]", typ)
        if m:
            return {"items": self.schema(m.group(1), prop.get("items")), "type": "array"}
        m = re.fullmatch(r"dict\(str, (.+)\)", typ)
        if m:
            return {"additionalProperties": self.schema(m.group(1), prop.get("additionalProperties")), "type": "object"}
        if typ == "str":
            return {"type": "string"}
        if typ == "bool":
            return {"type": "boolean"}
        if typ == "float":
            return {"format": "double", "type": "number"}
        if typ == "datetime":
            return {"format": "date-time", "type": "string"}
        if typ == "int":
            fmt = prop.get("format")
            if fmt not in ("int32", "int64"):
                sys.exit(f"no integer format for a field of {typ}: {prop}")
            return {"format": fmt, "type": "integer"}
        if typ == "V1ObjectMeta":
            return {"type": "object"}
        if typ.startswith("V1"):
            return self.object(typ)
        sys.exit(f"unknown type {typ}")

    def object(self, cls):
        types, names, required = self.model(cls)
        definition = self.definition(cls) or {}
        props = definition.get("properties", {})
        out = {"additionalProperties": False, "properties": {}, "type": "object"}
        for attr, typ in types.items():
            key = names[attr]
            out["properties"][key] = self.schema(typ, props.get(key))
        req = sorted(names[a] for a in required)
        if req:
            out["required"] = req
        return out


def condition():
    return {
        "additionalProperties": False,
        "properties": {
            "lastProbeTime": {"format": "date-time", "type": "string"},
            "lastTransitionTime": {"format": "date-time", "type": "string"},
            "message": {"type": "string"},
            "reason": {"type": "string"},
            "status": {"type": "string"},
            "type": {"type": "string"},
        },
        "required": ["status", "type"],
        "type": "object",
    }


def envelope(models):
    """The Notebook as the upstream CRD's `v1` version writes it, the PodSpec inlined."""
    return {
        "$id": "https://mlship.dev/schemas/crds/kubeflow.org_v1_notebook.json",
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"enum": ["kubeflow.org/v1"], "type": "string"},
            "kind": {"enum": ["Notebook"], "type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "additionalProperties": False,
                "properties": {
                    "template": {
                        "additionalProperties": False,
                        "properties": {"spec": models.object("V1PodSpec")},
                        "type": "object",
                    }
                },
                "type": "object",
            },
            "status": {
                "additionalProperties": False,
                "properties": {
                    "conditions": {"items": condition(), "type": "array"},
                    "containerState": models.object("V1ContainerState"),
                    "readyReplicas": {"format": "int32", "type": "integer"},
                },
                "required": ["conditions", "containerState", "readyReplicas"],
                "type": "object",
            },
        },
        "type": "object",
        "x-mlship-crd": {"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "scope": "Namespaced"},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models")
    ap.add_argument("defs")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    defs = json.loads(pathlib.Path(args.defs).read_text())["$defs"]
    text = json.dumps(envelope(Models(args.models, defs)), indent=1, sort_keys=True) + "\n"
    if args.check:
        if OUT.read_text() != text:
            sys.exit(f"{OUT.relative_to(ROOT)} differs from what the sources give")
        print(f"{OUT.relative_to(ROOT)} is up to date")
        return
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
