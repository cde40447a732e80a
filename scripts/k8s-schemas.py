#!/usr/bin/env python3
"""Rebuild schemas/k8s/ (the Kubernetes schemas `mlship::validate` embeds).

Source: the JSON schemas shipped inside the PyPI package kubernetes-validate
(pinned in tests/tools.sh, installed in <repo>/.venv), directory
kubernetes_validate/kubernetes-json-schema/v<version>.0-local-strict/, which is
what `kubernetes-validate --strict` validates against.

For each Kubernetes version this writes schemas/k8s/v<version>.json holding:
  "x-mlship-kinds"  apiVersion -> kind -> definition name, for every object kind
                    of the built-in API (List kinds and the apimachinery meta
                    types such as Status and WatchEvent left out);
  "$defs"           the definitions reachable from those kinds, unchanged except
                    that annotation-only keywords are dropped (description and
                    x-kubernetes-*; the names of properties are never touched).
One definition per line, keys sorted: small, and a diff shows which types changed.
The layout is part of the format: mlship finds each definition by its line (after
the `"$defs":{` line) and parses only those it needs (`Bundle` in compiler/src/validate/bundle.rs).

Usage (from the repo root; any Python 3.9+ works, only the stdlib is used):
    bash tests/tools.sh --quiet            # installs the pinned package if needed
    python3 scripts/k8s-schemas.py         # rewrite schemas/k8s/
    python3 scripts/k8s-schemas.py --check # exit 1 if schemas/k8s/ is stale
Options: --versions 1.33,1.34,...  --source DIR (a kubernetes-json-schema
directory; default: the one in .venv)  --out DIR (default: schemas/k8s).
A new Kubernetes version: bump the kubernetes-validate pin in tests/tools.sh,
rerun tools.sh and this script with the new --versions (or edit VERSIONS
below), then add the file to `BUNDLES` in compiler/src/validate/bundle.rs.
"""

import argparse
import glob
import json
import os
import re
import sys

VERSIONS = ["1.33", "1.34", "1.35", "1.36", "1.37"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Keywords that only annotate; dropping them does not change what validates.
ANNOTATIONS = re.compile(r"^(description|x-kubernetes-.*)$")
# Keywords whose value maps names (not keywords) to schemas.
NAME_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
META = "io.k8s.apimachinery.pkg.apis.meta.v1."


def default_source():
    hits = sorted(glob.glob(os.path.join(
        ROOT, ".venv", "lib", "python3*", "site-packages", "kubernetes_validate", "kubernetes-json-schema")))
    if not hits:
        sys.exit("k8s-schemas: kubernetes-validate is not installed in .venv; run `bash tests/tools.sh` first")
    return hits[-1]


def package_version(source):
    site = os.path.dirname(os.path.dirname(source))
    for meta in glob.glob(os.path.join(site, "kubernetes_validate-*.dist-info", "METADATA")):
        with open(meta) as f:
            for line in f:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
    return "unknown"


def strip(schema):
    """Drop annotation keywords from a schema, recursing through subschemas."""
    if isinstance(schema, list):
        return [strip(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if ANNOTATIONS.match(key):
            continue
        if key in NAME_MAPS and isinstance(value, dict):
            out[key] = {name: strip(s) for name, s in value.items()}
        elif key in ("enum", "const", "required", "type", "default", "examples"):
            out[key] = value
        else:
            out[key] = strip(value)
    return out


def refs(schema, found):
    if isinstance(schema, list):
        for s in schema:
            refs(s, found)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                if not value.startswith("#/$defs/"):
                    sys.exit(f"k8s-schemas: unexpected $ref {value!r}")
                found.add(value[len("#/$defs/"):])
            elif key not in ("enum", "const", "required", "type"):
                refs(value, found)


def non_null(schema):
    """The schema with "null" removed from every type list (for comparisons only)."""
    if isinstance(schema, list):
        return [non_null(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: non_null(v) for k, v in schema.items()}
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        out["type"] = types[0] if len(types) == 1 else types
    return out


def kind_file_name(api_version, kind):
    """The file kubernetes-validate reads for an object (see its utils.validate)."""
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{api}.json"


def build(source, version):
    folder = os.path.join(source, f"v{version}.0-local-strict")
    with open(os.path.join(folder, "_definitions.json")) as f:
        defs = json.load(f)["$defs"]
    kinds = {}
    mismatches = []
    for name, schema in sorted(defs.items()):
        gvks = schema.get("x-kubernetes-group-version-kind") or []
        if name.startswith(META) or len(gvks) != 1 or gvks[0]["kind"].endswith("List"):
            continue
        g = gvks[0]
        api_version = f"{g['group']}/{g['version']}" if g["group"] else g["version"]
        enum = schema.get("properties", {}).get("apiVersion", {}).get("enum")
        if enum != [api_version] or schema["properties"]["kind"].get("enum") != [g["kind"]]:
            sys.exit(f"k8s-schemas: {version} {name}: apiVersion/kind enums do not match {api_version} {g['kind']}")
        kinds.setdefault(api_version, {})[g["kind"]] = name
        # The per-kind file kubernetes-validate loads must be this very definition.
        path = os.path.join(folder, kind_file_name(api_version, g["kind"]))
        if os.path.exists(path):
            with open(path) as f:
                text = f.read().replace('"/api/_definitions.json#/$defs/', '"#/$defs/')
            own = json.loads(text)
            for key in ("$schema", "$id"):
                own.pop(key, None)
            # The one known difference: the file's root is "object", the definition's
            # ["object", "null"]; validate/bundle.rs checks that an object is an "object" besides its definition.
            if own.get("type") == "object" and schema.get("type") == ["object", "null"]:
                own["type"] = schema["type"]
            if strip(own) != strip(schema):
                # A few kind files also allow null for top-level required fields that the
                # definition does not (StorageClass.provisioner...): mlship is the stricter.
                kind = "nullability" if non_null(strip(own)) == non_null(strip(schema)) else "schema"
                mismatches.append((kind, os.path.basename(path)))
    seen, todo = set(), [n for byk in kinds.values() for n in byk.values()]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = set()
        refs(defs[name], found)
        todo.extend(found - seen)
    return kinds, {name: strip(defs[name]) for name in sorted(seen)}, mismatches


def render(version, source_label, kinds, defs):
    dump = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)  # noqa: E731
    lines = [
        "{",
        f'"$schema":"https://json-schema.org/draft/2020-12/schema",',
        f'"$id":"https://mlship.dev/schemas/k8s/v{version}.json",',
        f'"x-mlship-kubernetes":{dump(version)},',
        f'"x-mlship-source":{dump(source_label)},',
        '"x-mlship-kinds":{',
    ]
    api_versions = sorted(kinds)
    for i, api in enumerate(api_versions):
        comma = "," if i + 1 < len(api_versions) else ""
        lines.append(f"{dump(api)}:{dump(kinds[api])}{comma}")
    lines.append("},")
    lines.append('"$defs":{')
    names = sorted(defs)
    for i, name in enumerate(names):
        comma = "," if i + 1 < len(names) else ""
        lines.append(f"{dump(name)}:{dump(defs[name])}{comma}")
    lines.append("}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--versions", default=",".join(VERSIONS))
    p.add_argument("--source", default=None)
    p.add_argument("--out", default=os.path.join(ROOT, "schemas", "k8s"))
    p.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = p.parse_args()
    source = args.source or default_source()
    label = f"kubernetes-validate {package_version(source)}"
    stale = []
    total = 0
    for version in [v.strip().lstrip("v") for v in args.versions.split(",") if v.strip()]:
        kinds, defs, mismatches = build(source, version)
        text = render(version, f"{label}, kubernetes-json-schema/v{version}.0-local-strict", kinds, defs)
        out = os.path.join(args.out, f"v{version}.json")
        total += len(text.encode())
        for kind, name in mismatches:
            if kind == "schema":
                print(f"k8s-schemas: warning: v{version}: {name} differs from its _definitions.json entry")
        nullability = sorted(name for kind, name in mismatches if kind == "nullability")
        if nullability:
            print(f"k8s-schemas: note: v{version}: the kind files of kubernetes-validate allow null for top-level "
                  f"required fields where the definitions do not: {', '.join(nullability)}")
        if args.check:
            try:
                with open(out, encoding="utf-8") as f:
                    same = f.read() == text
            except OSError:
                same = False
            if not same:
                stale.append(out)
            continue
        os.makedirs(args.out, exist_ok=True)
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        n_kinds = sum(len(k) for k in kinds.values())
        print(f"k8s-schemas: wrote {os.path.relpath(out, ROOT)}: {n_kinds} kinds, {len(defs)} definitions, "
              f"{len(text.encode())} bytes")
    if args.check:
        if stale:
            print("k8s-schemas: stale: " + ", ".join(os.path.relpath(s, ROOT) for s in stale)
                  + "; run python3 scripts/k8s-schemas.py")
            sys.exit(1)
        print("k8s-schemas: schemas/k8s is up to date")
    else:
        print(f"k8s-schemas: {total} bytes in total")


if __name__ == "__main__":
    main()
