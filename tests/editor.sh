#!/usr/bin/env bash
# The editor schema, checked with the real yaml-language-server (pinned, from npm): every
# example spec's `$schema` modeline resolves offline and the server reports no problem; the
# spec `mlship init` writes does too, with the schema file beside it; and a spec with an
# unknown key gets the problem at that key's line. Prints "editor: N passed, N failed".
#
# Usage: bash tests/editor.sh   (needs node and npm; installs into target/editor-tools)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VERSION=1.19.2 # the last release for Node 20 (2.x needs Node 22)
TOOLS="$ROOT/target/editor-tools"
SERVER="$TOOLS/node_modules/yaml-language-server/bin/yaml-language-server"
if [[ ! -x "$SERVER" || "$(cat "$TOOLS/.version" 2>/dev/null)" != "$VERSION" ]]; then
    rm -rf "$TOOLS" && mkdir -p "$TOOLS"
    npm install --prefix "$TOOLS" --no-audit --no-fund --silent "yaml-language-server@$VERSION" >/dev/null
    echo "$VERSION" >"$TOOLS/.version"
fi
passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'PASS  %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n%s\n' "$1" "$2"; }
cargo build --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. Every example, as committed.
for spec in examples/*/mlship.yaml; do
    out="$(node tests/editor/lsp.mjs "$SERVER" "$spec")"
    if [[ "$out" == *'"diagnostics":[]'* && "$out" == *'"timedOut":false'* ]]; then
        pass "$spec"
    else
        fail "$spec" "$out"
    fi
done

# 2. A new project, and the same spec with a misspelt key on line 7.
target/debug/mlship init "$work/new" --name demo 2>/dev/null
out="$(node tests/editor/lsp.mjs "$SERVER" "$work/new/mlship.yaml")"
if [[ "$out" == *'"diagnostics":[]'* ]]; then pass "mlship init"; else fail "mlship init" "$out"; fi
awk 'NR == 7 { print "servces: {}" } { print }' "$work/new/mlship.yaml" >"$work/new/typo.yaml"
out="$(node tests/editor/lsp.mjs "$SERVER" "$work/new/typo.yaml")"
if [[ "$out" == *'"line":7,"character":1,"message":"Property servces is not allowed."'* ]]; then
    pass "unknown key reported at its line"
else
    fail "unknown key reported at its line" "$out"
fi

# 3. A modeline whose schema is missing is reported, not silently ignored.
sed '1s#.*#\# yaml-language-server: $schema=./missing.schema.json#' "$work/new/mlship.yaml" >"$work/new/missing.yaml"
out="$(node tests/editor/lsp.mjs "$SERVER" "$work/new/missing.yaml")"
if [[ "$out" == *'Unable to load schema'* ]]; then pass "missing schema reported"; else fail "missing schema reported" "$out"; fi

# 4. An existing project gets the schema file from `mlship schema --out`.
mkdir -p "$work/old"
sed '1s#.*#\# yaml-language-server: $schema=./mlship.schema.json#' examples/minimal/mlship.yaml >"$work/old/mlship.yaml"
target/debug/mlship schema --out "$work/old/mlship.schema.json" 2>/dev/null
out="$(node tests/editor/lsp.mjs "$SERVER" "$work/old/mlship.yaml")"
if [[ "$out" == *'"diagnostics":[]'* ]]; then pass "mlship schema --out"; else fail "mlship schema --out" "$out"; fi

echo "editor: $passed passed, $failed failed"
((failed == 0))
