#!/usr/bin/env bash
# Runs the real pre-commit framework (pinned in .venv by tests/tools.sh) against a temporary
# git repository that uses this repository as its hook source: a fresh tree passes, a
# stale tree and an invalid spec fail with mlship's message. Prints `N passed, N failed`.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/tests/tools.sh" --quiet || { echo "precommit: 0 passed, 1 failed"; exit 1; }
PRE_COMMIT="$ROOT/.venv/bin/pre-commit"
REV="$(git -C "$ROOT" rev-parse HEAD)"
if [[ -n "$(git -C "$ROOT" status --porcelain -- compiler Cargo.toml Cargo.lock stdlib .pre-commit-hooks.yaml)" ]]; then
    echo "note: pre-commit installs the hook from the committed HEAD ($REV), not from uncommitted changes"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PRE_COMMIT_HOME="${PRE_COMMIT_HOME:-$ROOT/target/pre-commit-cache}"
export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
passed=0 failed=0
result() { if [[ "$1" == ok ]]; then echo "PASS  $2"; passed=$((passed + 1)); else echo "FAIL  $2"; failed=$((failed + 1)); fi; }

cd "$WORK" && git init -q project && cd project
cp -r "$ROOT/examples/minimal/." .
rm -f mlship.kdl
cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: $ROOT
    rev: $REV
    hooks:
      - id: mlship-check
YAML
# Build the tree with the same mlship the hook installs.
"$PRE_COMMIT" install-hooks >/dev/null 2>&1 || { echo "pre-commit could not install the hook"; "$PRE_COMMIT" install-hooks; }
MLSHIP="$(find "$PRE_COMMIT_HOME" -path '*/bin/mlship' -type f | head -1)"
[[ -x "$MLSHIP" ]] || { echo "no mlship binary in the pre-commit cache"; echo "precommit: 0 passed, 1 failed"; exit 1; }
"$MLSHIP" build mlship.yaml >/dev/null 2>&1
git add -A && git commit -qm "fresh tree"

out="$("$PRE_COMMIT" run --all-files 2>&1)" && result ok "fresh tree passes" || { echo "$out"; result fail "fresh tree passes"; }

sed -i 's/port: 8080/port: 9090/' mlship.yaml && git add mlship.yaml
out="$("$PRE_COMMIT" run --all-files 2>&1)"
if [[ $? -ne 0 && "$out" == *"stale"* && "$out" == *"run \`mlship build"* ]]; then result ok "stale tree fails"; else echo "$out"; result fail "stale tree fails"; fi

sed -i 's/port: 9090/port: 99999/' mlship.yaml && git add mlship.yaml
out="$("$PRE_COMMIT" run --all-files 2>&1)"
if [[ $? -ne 0 && "$out" == *"error[E026]: port 99999 is out of range"* ]]; then result ok "invalid spec fails"; else echo "$out"; result fail "invalid spec fails"; fi

git reset -q --hard
# A file the spec names: its project is checked (and a stale tree is found from there).
sed -i 's/port: 8080/port: 9090/' mlship.yaml
echo "# touched" >> requirements.txt && git add -A
out="$("$PRE_COMMIT" run --files requirements.txt 2>&1)"
if [[ $? -ne 0 && "$out" == *"stale"* ]]; then result ok "a named file checks its project"; else echo "$out"; result fail "a named file checks its project"; fi
git reset -q --hard

# The system hook: the mlship on PATH, nothing built.
cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: $ROOT
    rev: $REV
    hooks:
      - id: mlship-check-system
YAML
git add -A
out="$(PATH="$(dirname "$MLSHIP"):$PATH" "$PRE_COMMIT" run --all-files 2>&1)" && result ok "system hook passes a fresh tree" || { echo "$out"; result fail "system hook passes a fresh tree"; }
sed -i 's/port: 8080/port: 9090/' mlship.yaml && git add mlship.yaml
out="$(PATH="$(dirname "$MLSHIP"):$PATH" "$PRE_COMMIT" run --all-files 2>&1)"
if [[ $? -ne 0 && "$out" == *"stale"* ]]; then result ok "system hook fails a stale tree"; else echo "$out"; result fail "system hook fails a stale tree"; fi

echo "precommit: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
