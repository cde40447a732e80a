#!/usr/bin/env bash
# Regenerate, in one run, every committed file the tests compare the compiler with:
# schemas/mlship.schema.json, the golden trees (golden/), the invalid-spec expectations
# (tests/invalid/*.expected) and the CLI transcripts (tests/snapshots/).
#
# Why three steps: the library embeds the committed schema at compile time
# (`include_str!` in compiler/src/schema.rs) and checks every spec against it, while
# tests/schema.rs writes the schema generated from the spec's types. In a single
# `UPDATE_GOLDEN=1 cargo test` every test binary is built before any runs, so the goldens,
# expectations and transcripts are rendered with the old schema, embedded before schema.rs
# rewrote the file (its binary even runs after theirs). So:
#   1. rewrite the schema alone;
#   2. rewrite everything else: cargo sees the new schema file and rebuilds the library
#      and the binary first;
#   3. run the same tests without UPDATE_GOLDEN: they must pass, so nothing is left to
#      update (a second run of this script changes nothing).
# Only the tests that compare with committed files run here; `cargo test` runs the rest.
#
# Usage (from anywhere): bash scripts/regen.sh, then review `git diff` as you would a
# colleague's change. Other generated files have their own scripts: scripts/k8s-schemas.py
# (Kubernetes schemas) and scripts/yaml-oracle.py (the YAML oracle table).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*"; }

# The tests that compare with committed files: those that call `expect_file` or
# `snapshot` (tests/common/). The others have nothing to refresh and are left to
# `cargo test`.
targets=()
for f in $(grep -l -e 'expect_file(' -e '\.snapshot(' tests/*.rs); do
    targets+=(--test "$(basename "$f" .rs)")
done

step "1/3 schemas/mlship.schema.json from the spec's types"
UPDATE_GOLDEN=1 cargo test --quiet --test schema

step "2/3 golden trees, invalid-spec expectations and transcripts, with the new schema (${targets[*]})"
UPDATE_GOLDEN=1 cargo test --quiet "${targets[@]}"

step "3/3 check: the same tests pass without UPDATE_GOLDEN"
cargo test --quiet "${targets[@]}"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    step "changed files (review them)"
    git status --short -- schemas/mlship.schema.json golden tests
fi
