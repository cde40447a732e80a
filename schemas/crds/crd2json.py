#!/usr/bin/env python3
"""Convert upstream CustomResourceDefinitions into the JSON Schemas of schemas/crds/.

The committed JSON files are the source of truth: CI has no network, and this script is
only run by hand when a schema is refreshed (schemas/crds/SOURCES.md says from which
upstream files and versions). Steps:

  1. Download the CRD YAML files listed in SOURCES.md, at the pinned tag or commit, into a
     folder, under the file names listed there (the `input` column below).
  2. python3 schemas/crds/crd2json.py FOLDER          # rewrites schemas/crds/*.json
     python3 schemas/crds/crd2json.py FOLDER --check  # exit 1 if a committed file differs

Needs PyYAML (tests/tools.sh installs it in .venv, with kubernetes-validate).

What it does to the served version's `openAPIV3Schema`, so that the `jsonschema` crate
checks what the API server checks:

- drops annotation-only keywords: `description`, `default`, `example`, `title`,
  `externalDocs`, `x-kubernetes-list-type`, `x-kubernetes-list-map-keys`,
  `x-kubernetes-map-type`, `x-kubernetes-embedded-resource`, and the CEL rules
  `x-kubernetes-validations` (not checked offline);
- `nullable: true` adds "null" to the type;
- `x-kubernetes-int-or-string: true` becomes `anyOf: [integer, string]`;
- every object schema with `properties` is closed with `additionalProperties: false`,
  unless it has `x-kubernetes-preserve-unknown-fields: true` (then it stays open);
- `apiVersion` and `kind` get a one-value enum;
- the kind's `apiVersion`, `kind` and `scope` (`Namespaced` or `Cluster`, from the CRD's
  `spec.scope`) go in `x-mlship-crd`: mlship's build registers every file by it;
- keeps types, `required`, `enum`, `pattern`, `format`, lengths, bounds, `items`,
  `additionalProperties` maps;
- for kinds that repeat a structure many times (Argo CD's Application repeats its source
  a dozen times), moves the listed sub-schemas to `$defs` and refers to them with `$ref`:
  every sub-schema equal to a listed one is replaced, so the meaning is unchanged.

Output: pretty-printed JSON (indent 1, sorted keys), one file per kind.
"""

import argparse
import json
import pathlib
import sys

import yaml

HERE = pathlib.Path(__file__).resolve().parent

# output file, input file, apiVersion, kind, $defs to factor out (name, path), innermost first.
KINDS = [
    (
        "external-secrets.io_v1_externalsecret.json",
        "external-secrets.io_externalsecrets.yaml",
        "external-secrets.io/v1",
        "ExternalSecret",
        [],
    ),
    (
        "bitnami.com_v1alpha1_sealedsecret.json",
        "bitnami.com_sealedsecrets.yaml",
        "bitnami.com/v1alpha1",
        "SealedSecret",
        [],
    ),
    (
        "argoproj.io_v1alpha1_application.json",
        "application-crd.yaml",
        "argoproj.io/v1alpha1",
        "Application",
        [
            ("ApplicationSourceDirectory", "spec.source.directory"),
            ("ApplicationSourceHelm", "spec.source.helm"),
            ("ApplicationSourceKustomize", "spec.source.kustomize"),
            ("ApplicationSourcePlugin", "spec.source.plugin"),
            ("ApplicationSource", "spec.source"),
            ("ApplicationDestination", "spec.destination"),
            ("ResourceIgnoreDifferences", "spec.ignoreDifferences[]"),
            ("NameValue", "spec.info[]"),
            ("ManagedNamespaceMetadata", "spec.syncPolicy.managedNamespaceMetadata"),
            ("RetryStrategy", "spec.syncPolicy.retry"),
            ("OperationInitiator", "operation.initiatedBy"),
            ("Operation", "operation"),
            ("SourceHydrator", "spec.sourceHydrator"),
        ],
    ),
    (
        "source.toolkit.fluxcd.io_v1_gitrepository.json",
        "source.toolkit.fluxcd.io_gitrepositories.yaml",
        "source.toolkit.fluxcd.io/v1",
        "GitRepository",
        [],
    ),
    (
        "kustomize.toolkit.fluxcd.io_v1_kustomization.json",
        "kustomize.toolkit.fluxcd.io_kustomizations.yaml",
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        [],
    ),
]

DROP = {
    "description",
    "default",
    "example",
    "title",
    "externalDocs",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-validations",
}


def convert(s):
    """One openAPIV3Schema node, converted (see the module docstring)."""
    if not isinstance(s, dict):
        return s
    out = {k: v for k, v in s.items() if k not in DROP}
    preserve = out.pop("x-kubernetes-preserve-unknown-fields", False)
    int_or_string = out.pop("x-kubernetes-int-or-string", False)
    nullable = out.pop("nullable", False)
    if "properties" in out:
        out["properties"] = {k: convert(v) for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = convert(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = convert(out["additionalProperties"])
    for key in ("anyOf", "allOf", "oneOf"):
        if key in out:
            out[key] = [convert(x) for x in out[key]]
    if "not" in out:
        out["not"] = convert(out["not"])
    if int_or_string:
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}] + ([{"type": "null"}] if nullable else [])
    elif nullable and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if "properties" in out and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def at(schema, path):
    """The sub-schema at a dotted path of property names; `[]` steps into `items`."""
    node = schema
    for part in path.split("."):
        items = part.endswith("[]")
        node = node["properties"][part[:-2] if items else part]
        if items:
            node = node["items"]
    return node


def replace_equal(node, target, ref):
    """Replace, below `node`, every sub-schema equal to `target` by `ref`."""
    if isinstance(node, dict):
        for k, v in list(node.items()):
            if v == target:
                node[k] = dict(ref)
            else:
                replace_equal(v, target, ref)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if v == target:
                node[i] = dict(ref)
            else:
                replace_equal(v, target, ref)


def factor(schema, plan):
    defs = {}
    for name, path in plan:
        target = json.loads(json.dumps(at(schema, path)))
        ref = {"$ref": f"#/$defs/{name}"}
        replace_equal(schema, target, ref)
        replace_equal(defs, target, ref)
        defs[name] = target
    return defs


def served_schema(crd_text, api_version, kind):
    """The served version's openAPIV3Schema and the CRD's scope."""
    group, version = api_version.split("/")
    for doc in yaml.safe_load_all(crd_text):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        if spec["group"] != group or spec["names"]["kind"] != kind:
            continue
        scope = spec["scope"]
        if scope not in ("Namespaced", "Cluster"):
            raise SystemExit(f"{api_version} {kind}: unknown scope {scope!r}")
        for v in spec["versions"]:
            if v["name"] == version:
                if not v.get("served", False):
                    raise SystemExit(f"{api_version} {kind}: version {version} is not served")
                return v["schema"]["openAPIV3Schema"], scope
        raise SystemExit(f"{api_version} {kind}: no version {version} in the CRD")
    raise SystemExit(f"{api_version} {kind}: no such CustomResourceDefinition")


def build(crd_text, out_name, api_version, kind, plan):
    served, scope = served_schema(crd_text, api_version, kind)
    schema = convert(served)
    schema["properties"]["apiVersion"]["enum"] = [api_version]
    schema["properties"]["kind"]["enum"] = [kind]
    defs = factor(schema, plan)
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://mlship.dev/schemas/crds/{out_name}",
        "x-mlship-crd": {"apiVersion": api_version, "kind": kind, "scope": scope},
    }
    doc.update(schema)
    if defs:
        doc["$defs"] = defs
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=pathlib.Path, help="folder with the upstream CRD YAML files")
    ap.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = ap.parse_args()
    stale = []
    for out_name, in_name, api_version, kind, plan in KINDS:
        text = (args.folder / in_name).read_text(encoding="utf-8")
        new = build(text, out_name, api_version, kind, plan)
        path = HERE / out_name
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == new:
            continue
        if args.check:
            stale.append(out_name)
        else:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {path.relative_to(HERE.parent.parent)} ({len(new.encode())} bytes)")
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
