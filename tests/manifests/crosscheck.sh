#!/usr/bin/env bash
# Cross-check the manifests of tests/manifests/ against kubernetes-validate,
# the reference mlship's `validate` module mirrors (docs/validation.md).
#
#   broken/   every YAML file is listed in broken/expected.tsv, every listed file
#             exists, and `kubernetes-validate --strict -k 1.33 FILE` rejects it
#             (exit 1) with the message part of each row that names one.
#   valid/    every YAML file passes (exit 0; a WARN for a custom resource is fine).
#
# mlship's own side is tests/validate.rs (same table, exact line:col, path and
# message). Once the CLI has `mlship validate`, set MLSHIP_VALIDATE to a command
# that takes the file last, for example
#   MLSHIP_VALIDATE="target/debug/mlship validate --kubernetes 1.33 --manifests"
# and this script also checks that it rejects each broken file, printing the
# row's line:col and message, and accepts each valid one.
#
# Uses the pinned tools from tests/tools.sh (<repo>/.venv, created on demand).
# Prints one PASS/FAIL line per check, then "crosscheck: N passed, N failed";
# exit status 1 on any failure.

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VERSION=1.33
TABLE="$HERE/broken/expected.tsv"

if ! bash "$ROOT/tests/tools.sh" --quiet; then
    echo "crosscheck: cannot set up the pinned tools (tests/tools.sh)"
    exit 1
fi
KV="$ROOT/.venv/bin/kubernetes-validate"

passed=0
failed=0
pass() {
    echo "PASS $1"
    passed=$((passed + 1))
}
fail() {
    echo "FAIL $1"
    if [[ -n "${2:-}" ]]; then
        while IFS= read -r l; do echo "    $l"; done <<<"$2"
    fi
    failed=$((failed + 1))
}

# The table: file, line:col, path, mlship message, kubernetes-validate message.
declare -A listed=()
rows=()
while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    IFS=$'\t' read -r file _pos _path _message kv_message <<<"$line"
    if [[ -z "${kv_message:-}" ]]; then
        fail "expected.tsv: five tab-separated columns" "$line"
        continue
    fi
    listed["$file"]=1
    rows+=("$line")
done <"$TABLE"

shopt -s nullglob
for f in "$HERE"/broken/*.yaml "$HERE"/broken/*.yml; do
    name="$(basename "$f")"
    if [[ -z "${listed[$name]:-}" ]]; then
        fail "broken/$name is listed in expected.tsv"
    fi
done
for name in "${!listed[@]}"; do
    [[ -f "$HERE/broken/$name" ]] || fail "broken/$name (listed in expected.tsv) exists"
done

for name in $(printf '%s\n' "${!listed[@]}" | sort); do
    file="$HERE/broken/$name"
    [[ -f "$file" ]] || continue
    out="$("$KV" --strict -k "$VERSION" "$file" 2>&1)"
    rc=$?
    if ((rc != 1)); then
        fail "kubernetes-validate rejects broken/$name (exit $rc, want 1)" "$out"
        continue
    fi
    ok=1
    for row in "${rows[@]}"; do
        IFS=$'\t' read -r rfile _pos _path _message kv_message <<<"$row"
        [[ "$rfile" == "$name" && "$kv_message" != "-" ]] || continue
        if ! grep -qF -- "$kv_message" <<<"$out"; then
            fail "kubernetes-validate says \"$kv_message\" for broken/$name" "$out"
            ok=0
        fi
    done
    ((ok)) && pass "kubernetes-validate rejects broken/$name"

    if [[ -n "${MLSHIP_VALIDATE:-}" ]]; then
        # shellcheck disable=SC2086 # a command with its arguments
        mout="$($MLSHIP_VALIDATE "$file" 2>&1)"
        mrc=$?
        mok=1
        ((mrc != 0)) || {
            fail "mlship rejects broken/$name (exit 0)" "$mout"
            mok=0
        }
        for row in "${rows[@]}"; do
            IFS=$'\t' read -r rfile pos _path message _kv_message <<<"$row"
            [[ "$rfile" == "$name" ]] || continue
            if ! grep -F -- ":$pos:" <<<"$mout" | grep -qF -- "$message"; then
                fail "mlship says \"$pos ... $message\" for broken/$name" "$mout"
                mok=0
            fi
        done
        ((mok)) && pass "mlship rejects broken/$name"
    fi
done

for f in "$HERE"/valid/*.yaml "$HERE"/valid/*.yml; do
    name="$(basename "$f")"
    out="$("$KV" --strict -k "$VERSION" "$f" 2>&1)"
    rc=$?
    if ((rc == 0)) && ! grep -q '^ERROR' <<<"$out"; then
        pass "kubernetes-validate accepts valid/$name"
    else
        fail "kubernetes-validate accepts valid/$name (exit $rc)" "$out"
    fi
    if [[ -n "${MLSHIP_VALIDATE:-}" ]]; then
        # shellcheck disable=SC2086
        if mout="$($MLSHIP_VALIDATE "$f" 2>&1)"; then
            pass "mlship accepts valid/$name"
        else
            fail "mlship accepts valid/$name" "$mout"
        fi
    fi
done

echo "crosscheck: $passed passed, $failed failed"
((failed == 0))
