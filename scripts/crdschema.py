"""Shared by the scripts that write schemas/crds/ from a PyPI package's models.

scripts/argo-schemas.py (hera) and scripts/ml-schemas.py (KServe, KEDA, Kubeflow Trainer,
Katib) import it. It holds what the dialect of schemas/crds/crd2json.py asks of every such
file, whatever the models: the committed Kubernetes bundles (integer formats, and KServe's
Kubernetes types), the walk of pydantic models into closed definitions (`Walk`), the root of a
kind, the document with its `x-mlship-crd` marker, and the write-or-`--check` loop. The rules
are those of argo-schemas.py's docstring; what each package needs besides is said where it is
handled below.
"""

import ast
import enum
import glob
import inspect
import json
import os
import re
import sys
import types
import typing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "schemas", "crds")
K8S_PREFIX = "io.k8s."
INTSTR = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# Root models (or an OpenAPI generator's oneOf wrappers) written as int-or-string whatever the
# package says: a Quantity is a string in most models, a number or a string in Go and in CRDs.
AS_INT_OR_STRING = {INTSTR, QUANTITY}
TIMES = {"io.k8s.apimachinery.pkg.apis.meta.v1.Time", "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"}


def int_or_string():
    return {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def fail(message):
    sys.exit(f"{os.path.basename(sys.argv[0]).removesuffix('.py')}: {message}")


def k8s_bundles():
    """The committed Kubernetes bundles' definitions, oldest version first: [(version, $defs)]."""
    paths = glob.glob(os.path.join(ROOT, "schemas", "k8s", "v*.json"))
    key = lambda p: tuple(int(x) for x in os.path.basename(p)[1:-5].split("."))  # noqa: E731
    out = []
    for path in sorted(paths, key=key):
        with open(path, encoding="utf-8") as f:
            out.append((os.path.basename(path)[:-5], json.load(f)["$defs"]))
    if not out:
        fail("no schemas/k8s/v*.json")
    return out


def bundle_property(bundles, def_name, prop):
    """The property's schema in the oldest Kubernetes bundle that has it, or None."""
    for _, defs in bundles:
        d = defs.get(def_name)
        if d and prop in d.get("properties", {}):
            return d["properties"][prop]
    return None


def bundle_format(bundles, def_name, prop, where):
    """`int32` or `int64`: the Kubernetes bundles' format of an integer property."""
    hint = bundle_property(bundles, def_name, prop)
    fmt = hint.get("format") if isinstance(hint, dict) else None
    if fmt not in ("int32", "int64"):
        fail(f"{where}: an integer whose format the Kubernetes bundles do not give")
    return fmt


def integer(fmt):
    """An integer of a Go type (`int32`, `int64`; `uint64`, `uint16`: unsigned)."""
    if fmt == "uint64":
        return {"type": "integer", "format": fmt, "minimum": 0}
    if fmt == "uint16":
        return {"type": "integer", "minimum": 0, "maximum": 65535}
    if fmt not in ("int32", "int64"):
        fail(f"unknown integer format {fmt!r}")
    return {"type": "integer", "format": fmt}


def validator_enums(cls):
    """{field alias or name: values} of an OpenAPI generator's enum validators (a pydantic
    `field_validator` whose body is `if value not in set([...])`, or `for i in value: ...` for
    a list, which gives the items' values)."""
    out = {}
    decorators = getattr(cls, "__pydantic_decorators__", None)
    for dec in (decorators.field_validators.values() if decorators else []):
        source = inspect.getsource(dec.func)
        m = re.search(r"not in set\((\[.*?\])\)", source, re.S)
        if not m:
            fail(f"{cls.__name__}: a field validator that is not an enumeration: {dec.cls_var_name}")
        values = ast.literal_eval(m.group(1))
        for field in dec.info.fields:
            out[field] = (values, "for i in value" in source)
    return out


class Walk:
    """Definitions reached from pydantic models. `name(cls)` gives a model's definition name
    (as upstream names it); `own_formats` the Go integer format of each `Type.field` of the
    project's own types (`own_prefix` + the key is the definition and field), Kubernetes types'
    integers take the bundles'."""

    def __init__(self, bundles, name, own_prefix, own_formats):
        from pydantic import Base64Str, BaseModel, RootModel

        self.BaseModel, self.RootModel, self.Base64Str = BaseModel, RootModel, Base64Str
        self.bundles, self.name = bundles, name
        self.own_prefix, self.own_formats = own_prefix, own_formats
        self.defs = {}
        self.classes = {}
        self.formats_used = set()
        self.widened = []

    def int_format(self, where, hint):
        """`where` is `<definition>.<field>`; `hint` the bundle's schema at this place."""
        if where.startswith(self.own_prefix):
            short = where[len(self.own_prefix):]
            if short not in self.own_formats:
                fail(f"{where}: an integer without a Go type in the script's table of integer formats")
            self.formats_used.add(short)
            return self.own_formats[short]
        fmt = hint.get("format") if isinstance(hint, dict) else None
        if fmt not in ("int32", "int64"):
            fail(f"{where}: an integer whose format the Kubernetes bundles do not give")
        return fmt

    @staticmethod
    def bounds(metadata, where):
        """JSON Schema bounds of annotated_types' Ge/Le/Gt/Lt; anything else stops the script.
        pydantic's `Strict` (no coercion, as Go's JSON decoding) says nothing of the schema."""
        out = {}
        for a in metadata:
            kind = type(a).__name__
            if kind == "Strict":
                continue
            if kind in ("Ge", "Le", "Gt", "Lt"):
                key = {"Ge": "minimum", "Le": "maximum", "Gt": "exclusiveMinimum", "Lt": "exclusiveMaximum"}[kind]
                out[key] = getattr(a, kind.lower())
                continue
            fail(f"{where}: constraint {a!r} is not converted")
        return out

    def strip(self, tp):
        """A type without its Annotated wrapper (and its bounds)."""
        if typing.get_origin(tp) is typing.Annotated:
            return typing.get_args(tp)[0]
        return tp

    def schema(self, tp, where, hint=None):
        origin = typing.get_origin(tp)
        if tp == self.Base64Str:
            return {"type": "string", "format": "byte"}
        if origin is typing.Annotated:
            args = typing.get_args(tp)
            extra = [a for a in args[1:] if type(a).__name__ != "FieldInfo" or a.metadata]
            extra = [m for a in extra for m in (a.metadata if type(a).__name__ == "FieldInfo" else [a])]
            out = self.schema(args[0], where, hint)
            bounds = self.bounds(extra, where)
            if bounds:
                out = dict(out, **bounds)
            return out
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                return self.schema(args[0], where, hint)
            plain = {self.strip(a) for a in args}
            if plain == {int, str}:
                return int_or_string()
            if plain == {int, float}:
                return {"type": "number"}
            # A Quantity of KEDA's tolerance: a string or an int-or-string root model.
            fail(f"{where}: a union of {args!r}")
        if origin is typing.Literal:
            return {"enum": list(typing.get_args(tp))}
        if origin is list:
            (item,) = typing.get_args(tp)
            return {"type": "array", "items": self.schema(item, where, (hint or {}).get("items"))}
        if origin is dict:
            key, value = typing.get_args(tp)
            if key is not str:
                fail(f"{where}: a map with {key!r} keys")
            if value is typing.Any:
                return {"type": "object"}  # free-form (Katib's trialSpec, FieldsV1)
            return {"type": "object", "additionalProperties": self.schema(value, where, (hint or {}).get("additionalProperties"))}
        if tp is str:
            return {"type": "string"}
        if tp is bool:
            return {"type": "boolean"}
        if tp is int:
            if isinstance(hint, dict) and hint.get("$ref") == "#/$defs/" + INTSTR:
                # HTTPGetAction.port: an int in Argo's schema, IntOrString in Kubernetes.
                self.widened.append(where)
                return int_or_string()
            return integer(self.int_format(where, hint))
        if tp is float:
            return {"type": "number"}
        if tp is typing.Any:
            return {}
        if getattr(tp, "__name__", None) in ("AwareDatetime", "datetime"):
            return {"type": "string", "format": "date-time"}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return {"enum": [m.value for m in tp]}
        if isinstance(tp, type) and issubclass(tp, self.BaseModel):
            name = self.name(tp)
            if name in AS_INT_OR_STRING:
                return int_or_string()
            if issubclass(tp, self.RootModel):
                return self.schema(tp.model_fields["root"].annotation, name, hint)
            if "actual_instance" in tp.model_fields:
                fail(f"{where}: a oneOf of {name} is not converted")
            self.definition(name, tp)
            return {"$ref": f"#/$defs/{name}"}
        fail(f"{where}: type {tp!r} is not converted")

    def definition(self, name, cls):
        if name in self.defs:
            if self.classes[name] is not cls:
                fail(f"two models are named {name}")
            return
        self.defs[name] = None  # recursion guard (Template reaches Template)
        self.classes[name] = cls
        enums = validator_enums(cls)
        props, required = {}, []
        for field_name, field in cls.model_fields.items():
            key = field.alias or field_name
            hint = bundle_property(self.bundles, name, key) if name.startswith(K8S_PREFIX) else None
            s = self.schema(field.annotation, f"{name}.{key}", hint)
            bounds = self.bounds(field.metadata, f"{name}.{key}")
            if bounds:
                s = dict(s, **bounds)
            values = enums.get(field_name) or enums.get(key)
            if values:
                values, of_items = values
                if of_items:
                    s = dict(s, items=dict(s["items"], enum=values))
                else:
                    s = dict(s, enum=values)
            props[key] = s
            if field.is_required():
                required.append(key)
        d = {"type": "object"}
        if props:
            d["properties"] = props
            d["additionalProperties"] = False
        if required:
            d["required"] = sorted(required)
        self.defs[name] = d

    def root(self, cls, api_version, kind):
        """The kind's own object: its model, with the root conventions of crd2json.py."""
        self.definition(self.name(cls), cls)
        return root_object(self.defs.pop(self.name(cls)), api_version, kind)


def root_object(definition, api_version, kind):
    """`apiVersion` and `kind` with a one-value enum, `metadata` a bare object (mlship checks it
    against the Kubernetes version's ObjectMeta, as for every custom resource)."""
    doc = dict(definition)
    props = dict(doc["properties"])
    props["apiVersion"] = {"type": "string", "enum": [api_version]}
    props["kind"] = {"type": "string", "enum": [kind]}
    props["metadata"] = {"type": "object"}
    doc["properties"] = props
    return doc


def reachable(node, defs, seen):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref[len("#/$defs/"):]
            if name not in seen:
                seen.add(name)
                reachable(defs[name], defs, seen)
        for value in node.values():
            reachable(value, defs, seen)
    elif isinstance(node, list):
        for value in node:
            reachable(value, defs, seen)
    return seen


def document(file_name, api_version, kind, scope, root, defs):
    """The file's text: the marker, the root, and every definition the root reaches."""
    used = reachable(root, defs, set())
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://mlship.dev/schemas/crds/{file_name}",
        "x-mlship-crd": {"apiVersion": api_version, "kind": kind, "scope": scope},
    }
    doc.update(root)
    doc["$defs"] = {name: defs[name] for name in sorted(used)}
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write(files, out, check, source):
    """Write the files that differ (or, with `check`, list them and return 1)."""
    tool = os.path.basename(sys.argv[0]).removesuffix(".py")
    stale = []
    for name, text in files.items():
        path = os.path.join(out, name)
        try:
            with open(path, encoding="utf-8") as f:
                same = f.read() == text
        except OSError:
            same = False
        if same:
            continue
        if check:
            stale.append(name)
            continue
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"{tool}: wrote {os.path.relpath(path, ROOT)} ({len(text.encode())} bytes)")
    if check:
        if stale:
            print(f"{tool}: stale: {', '.join(stale)}; run .venv/bin/python scripts/{tool}.py", file=sys.stderr)
            return 1
        print(f"{tool}: schemas/crds is up to date with {source}")
    return 0
