#!/usr/bin/env bash
# Conformance checks for the committed `mlship build` output under golden/.
#
# Usage: bash tests/conformance.sh [GOLDEN_DIR]      (default: <repo>/golden)
#
# Uses the pinned tools from tests/tools.sh (<repo>/.venv, created on demand).
# For every golden/<name>/ tree:
#   envs/<env>/ and every nested folder with files (e.g. envs/<env>/jobs/level-0/)
#     kustomize build         `kubectl kustomize <dir>` succeeds (venv kubectl)
#     kustomization lists     every other file of the folder is referenced
#     kubernetes-validate     --strict, per YAML file, for the lock's version
#     checkov kubernetes      on the rendered objects, zero failed checks
#   gitops/<env>.yaml         parses; every document has apiVersion, kind,
#                             metadata.name; envs/<env>/ exists
#   images/<image>/
#     dockerignore            Dockerfile.dockerignore exists
#     hadolint                failure threshold "warning", pragmas disabled
#     checkov dockerfile      zero failed checks
# Each check prints one PASS/FAIL/SKIP line; the last line is
# "conformance: N passed, N failed, N skipped". Exit status 1 on any failure.
#
# Skips: only the checks listed in tests/checkov-skips.txt (Kubernetes),
# tests/checkov-notebook-skips.txt (added for envs/*/notebooks/, the notebook
# security profile) and tests/checkov-dockerfile-skips.txt (Dockerfiles) are skipped, via
# `checkov --skip-check`; inline suppressions in the generated files fail.
# Hadolint rules can only be ignored in .hadolint.yaml.
# MLSHIP_CHECKOV_SKIPS / MLSHIP_CHECKOV_DOCKERFILE_SKIPS override the two skip
# file paths (for testing this script).
#
# kubernetes-validate and CRDs: kubernetes-validate only ships JSON schemas for
# the built-in Kubernetes API. For any other kind it prints
# "WARN ... Couldn't find schema ..." and still exits 0 (--no-warn only hides
# the line), and it has no option to list or skip kinds. That behaviour would
# also let a typo such as `apps/v2` or a removed API pass silently. So this
# script filters by apiVersion itself: documents whose API group is one of the
# built-in groups (CORE_GROUPS below) are validated, and any WARN for them is
# a failure; documents of any other group (ExternalSecret, SealedSecret,
# Argo CD, Flux, Gateway API, ...) are not sent to kubernetes-validate and the
# file is reported as SKIP when it holds nothing else. --strict makes every
# object schema reject properties it does not define (typos like
# `metadata.annotaions`); required fields and types are checked either way.
# A SOPS-encrypted Secret carries a top-level `sops:` block that the API
# server never sees (Flux / KSOPS decrypt first), so that block is removed
# before validation and the rest of the Secret is validated strictly.

set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GOLDEN="$(cd "${1:-$ROOT/golden}" 2>/dev/null && pwd || echo "${1:-$ROOT/golden}")"
K8S_SKIPS="${MLSHIP_CHECKOV_SKIPS:-$ROOT/tests/checkov-skips.txt}"
DOCKER_SKIPS="${MLSHIP_CHECKOV_DOCKERFILE_SKIPS:-$ROOT/tests/checkov-dockerfile-skips.txt}"
NOTEBOOK_SKIPS="${MLSHIP_CHECKOV_NOTEBOOK_SKIPS:-$ROOT/tests/checkov-notebook-skips.txt}"
DEFAULT_K8S_VERSION=1.33

rel() { local p="${1#"$ROOT"/}"; printf '%s' "${p%/}"; }

shopt -s nullglob
trees=()
for t in "$GOLDEN"/*/; do
    if [[ -d "$t/envs" || -d "$t/images" ]]; then trees+=("${t%/}"); fi
done
if ((${#trees[@]} == 0)); then
    echo "conformance: no golden trees under $(rel "$GOLDEN") yet; nothing to check"
    exit 0
fi

# Environment variables that would change what the tools report.
for v in $(compgen -e); do
    case "$v" in
    CKV_* | BC_* | PRISMA_* | HADOLINT_* | HELM_NAMESPACE | LOG_LEVEL) unset "$v" ;;
    esac
done
export NO_COLOR=1

if ! bash "$ROOT/tests/tools.sh" --quiet; then
    echo "FAIL  tools                  could not set up $ROOT/.venv"
    echo "conformance: 0 passed, 1 failed"
    exit 1
fi
export PATH="$ROOT/.venv/bin:$PATH"
PY="$ROOT/.venv/bin/python"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/home"
HELPER="$WORK/helper.py"
cat >"$HELPER" <<'PYEOF'
import json
import os
import re
import sys

import yaml

# API groups served by kube-apiserver itself; kubernetes-validate has schemas
# for these. ("" is the core group, apiVersion "v1".) internal.apiserver.k8s.io
# is left out: kubernetes-validate files it under another name.
CORE_GROUPS = {
    "", "admissionregistration.k8s.io", "apiextensions.k8s.io",
    "apiregistration.k8s.io", "apps", "authentication.k8s.io",
    "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
    "flowcontrol.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io",
    "policy", "rbac.authorization.k8s.io", "resource.k8s.io",
    "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
}


def die(msg):
    print(msg)
    sys.exit(1)


def load_docs(path):
    try:
        with open(path) as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        die(f"cannot parse {path}: {e}")


def k8s_version(lock, default):
    if not os.path.exists(lock):
        print(f"{default}\tno lock file, default")
        return
    try:
        with open(lock) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot parse {lock}: {e}")
    v = data.get("kubernetes") if isinstance(data, dict) else None
    if v is None:
        print(f"{default}\tno \"kubernetes\" key in lock file, default")
        return
    if not isinstance(v, str) or not re.fullmatch(r"v?\d+\.\d+(\.\d+)?", v):
        die(f"{lock}: \"kubernetes\" must be a version string like \"1.33\", got {v!r}")
    print(f"{v.lstrip('v')}\tlock file")


def prepare(src, dst):
    """Write the built-in-API documents of src to dst; print status\\tdetail."""
    core, other, notes = [], [], []
    for i, doc in enumerate(load_docs(src), 1):
        if not (isinstance(doc, dict) and isinstance(doc.get("apiVersion"), str)
                and isinstance(doc.get("kind"), str)):
            die(f"document {i} is not a Kubernetes object (apiVersion and kind strings)")
        api, kind = doc["apiVersion"], doc["kind"]
        group = api.rpartition("/")[0]
        if group not in CORE_GROUPS:
            other.append(f"{kind} {api}")
            continue
        if api == "v1" and kind == "Secret" and isinstance(doc.get("sops"), dict):
            del doc["sops"]
            notes.append("sops metadata stripped")
        core.append(doc)
    if core:
        with open(dst, "w") as f:
            yaml.safe_dump_all(core, f)
        detail = ", ".join(f"{d['kind']} {d['apiVersion']}" for d in core)
        print("validate\t" + "; ".join([detail] + notes))
    else:
        print("skip\tnot a built-in API group: " + ", ".join(other) if other else "skip\tno documents")


def kustomization(path, folder):
    data = load_docs(path)
    if len(data) != 1 or not isinstance(data[0], dict):
        die(f"{path}: expected one mapping")
    strings = set()

    def walk(x):
        if isinstance(x, str):
            strings.add(x)
            strings.add(x.split("=", 1)[-1])
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(data[0])
    strings |= {s[2:] for s in strings if s.startswith("./")}
    names = sorted(n for n in os.listdir(folder)
                   if os.path.isfile(os.path.join(folder, n))
                   and n not in ("kustomization.yaml", "kustomization.yml", "Kustomization"))
    missing = [n for n in names if n not in strings]
    if missing:
        die("not referenced by the kustomization: " + ", ".join(missing))
    print(f"{len(names)} files")


def gitops(path):
    docs = load_docs(path)
    if not docs:
        die("no documents")
    kinds = []
    for i, doc in enumerate(docs, 1):
        ok = (isinstance(doc, dict) and isinstance(doc.get("apiVersion"), str)
              and isinstance(doc.get("kind"), str) and isinstance(doc.get("metadata"), dict)
              and isinstance(doc["metadata"].get("name"), str))
        if not ok:
            die(f"document {i} lacks apiVersion, kind or metadata.name")
        kinds.append(doc["kind"])
    print(", ".join(kinds))


def checkov_report(report, scanned):
    try:
        with open(report) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        die(f"checkov wrote no readable JSON report: {e}")
    reports = data if isinstance(data, list) else [data]
    total = {"passed": 0, "failed": 0, "skipped": 0, "parsing_errors": 0, "resource_count": 0}
    for r in reports:
        for k in total:
            total[k] += int(r.get("summary", {}).get(k, 0) or 0)
    line = "{passed} passed, {failed} failed, {skipped} skipped, {parsing_errors} parse errors".format(**total)
    problems = []
    if total["skipped"]:
        problems.append("inline checkov suppressions are not allowed; list the check in the skip file instead:")
        with open(scanned) as f:
            for n, text in enumerate(f, 1):
                if "checkov" in text.lower():
                    problems.append(f"  line {n}: {text.strip()}")
    if total["parsing_errors"]:
        problems.append("checkov could not parse the input")
    if total["passed"] + total["failed"] + total["skipped"] == 0:
        problems.append("checkov ran no check")
    if total["failed"]:
        problems.append("failed checks (see above)")
    if problems:
        die("checkov: " + line + "\n" + "\n".join(problems))
    print(line)


def skips(path, prefixes):
    if not os.path.exists(path):
        print("")
        return
    ids, bad = [], []
    pat = re.compile(r"(%s)_\d+" % "|".join(re.escape(p) for p in prefixes.split(",")))
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 1)
            if not pat.fullmatch(parts[0]) or len(parts) < 2:
                bad.append(f"line {n}: expected `<{prefixes.replace(',', '|')}>_NN  reason`: {raw.strip()}")
            else:
                ids.append(parts[0])
    if bad:
        die("\n".join(bad))
    print(",".join(ids))


def production(lock, env):
    try:
        with open(lock) as f:
            names = json.load(f).get("production", [])
    except (OSError, ValueError) as e:
        die(f"{lock}: {e}")
    print("yes" if env in names else "no")


cmd, args = sys.argv[1], sys.argv[2:]
{"k8s-version": k8s_version, "prepare": prepare, "kustomization": kustomization,
 "gitops": gitops, "checkov-report": checkov_report, "skips": skips,
 "production": production}[cmd](*args)
PYEOF

passed=0
failed=0
skipped=0
nfiles=0
pass() { passed=$((passed + 1)); printf 'PASS  %-22s %s\n' "$1" "$2"; }
skip() { skipped=$((skipped + 1)); printf 'SKIP  %-22s %s\n' "$1" "$2"; }
fail() {
    failed=$((failed + 1))
    printf 'FAIL  %-22s %s\n' "$1" "$2"
    if [[ -n "${3:-}" ]]; then grep -v '^[[:space:]]*$' <<<"$3" | sed 's/^/      | /'; fi
}
helper() { "$PY" "$HELPER" "$@" 2>&1; }

# Skip lists, comma-joined for --skip-check.
if ! k8s_skip_ids="$(helper skips "$K8S_SKIPS" CKV_K8S,CKV2_K8S)"; then
    fail "skip file" "$(rel "$K8S_SKIPS")" "$k8s_skip_ids"
    k8s_skip_ids=""
fi
if ! docker_skip_ids="$(helper skips "$DOCKER_SKIPS" CKV_DOCKER,CKV2_DOCKER)"; then
    fail "skip file" "$(rel "$DOCKER_SKIPS")" "$docker_skip_ids"
    docker_skip_ids=""
fi
if ! notebook_skip_ids="$(helper skips "$NOTEBOOK_SKIPS" CKV_K8S,CKV2_K8S)"; then
    fail "skip file" "$(rel "$NOTEBOOK_SKIPS")" "$notebook_skip_ids"
    notebook_skip_ids=""
fi
echo "checkov skips: kubernetes [${k8s_skip_ids:-none}], dockerfile [${docker_skip_ids:-none}], notebooks [${notebook_skip_ids:-none}]"

# checkov_scan LABEL TARGET FRAMEWORK SKIP_IDS FILE
# Runs from an empty folder with an empty HOME, so no .checkov.yaml is read.
checkov_scan() {
    local label="$1" target="$2" framework="$3" skip_ids="$4" file="$5"
    local report="$WORK/checkov-report.json" out rc=0 summary
    local -a extra=()
    if [[ -n "$skip_ids" ]]; then extra+=(--skip-check "$skip_ids"); fi
    rm -f "$report"
    if [[ "$file" == "$WORK/home/"* ]]; then file="${file#"$WORK/home/"}"; fi
    out="$(cd "$WORK/home" && HOME="$WORK/home" checkov -f "$file" --framework "$framework" \
        --quiet --compact --skip-download "${extra[@]}" \
        -o cli -o json --output-file-path "console,$report" 2>&1)" || rc=$?
    if summary="$(cd "$WORK/home" && helper checkov-report "$report" "$file")" && ((rc == 0)); then
        pass "$label" "$target ($summary)"
    else
        fail "$label" "$target (checkov exit $rc)" "$out"$'\n'"$summary"
    fi
}

# check_root DIR RENDERED: kustomize build (appended to RENDERED), the
# kustomization file list, and kubernetes-validate for each YAML file in DIR.
# Uses the globals k8s_version and version_src. Fails if the build failed.
check_root() {
    local dir="$1" rendered="$2" out built=0 f prepared status detail rc
    echo "== $(rel "$dir") (Kubernetes $k8s_version, $version_src)"

    if out="$(kubectl kustomize "$dir" 2>&1 >"$WORK/build.yaml")"; then
        pass "kustomize build" "$(rel "$dir")"
        { echo "---"; cat "$WORK/build.yaml"; } >>"$rendered"
        built=1
    else
        fail "kustomize build" "$(rel "$dir")" "$out"
    fi

    if [[ ! -f "$dir/kustomization.yaml" ]]; then
        fail "kustomization lists" "$(rel "$dir")" "no kustomization.yaml"
    elif out="$(helper kustomization "$dir/kustomization.yaml" "$dir")"; then
        pass "kustomization lists" "$(rel "$dir") ($out)"
    else
        fail "kustomization lists" "$(rel "$dir")" "$out"
    fi

    for f in "$dir"/*.yaml "$dir"/*.yml; do
        case "$(basename "$f")" in kustomization.yaml | kustomization.yml) continue ;; esac
        nfiles=$((nfiles + 1))
        prepared="$WORK/validate-$nfiles-$(basename "$f")"
        if ! out="$(helper prepare "$f" "$prepared")"; then
            fail "kubernetes-validate" "$(rel "$f")" "$out"
            continue
        fi
        status="${out%%$'\t'*}"
        detail="${out#*$'\t'}"
        if [[ "$status" == skip ]]; then
            skip "kubernetes-validate" "$(rel "$f") ($detail)"
            continue
        fi
        # --quiet prints only WARN/ERROR/FATAL lines: for built-in groups a
        # WARN ("Couldn't find schema") is a failure too.
        rc=0
        out="$(kubernetes-validate --strict --quiet -k "$k8s_version" "$prepared" 2>&1)" || rc=$?
        out="${out//"$prepared"/$(rel "$f")}"
        if ((rc == 0)) && [[ -z "$out" ]]; then
            pass "kubernetes-validate" "$(rel "$f") ($detail)"
        else
            fail "kubernetes-validate" "$(rel "$f") ($detail)" "$out"
        fi
    done
    ((built))
}

for tree in "${trees[@]}"; do
    name="$(basename "$tree")"
    if version_line="$(helper k8s-version "$tree/mlship.lock.json" "$DEFAULT_K8S_VERSION")"; then
        k8s_version="${version_line%%$'\t'*}"
        version_src="${version_line#*$'\t'}"
    else
        fail "lock file" "$(rel "$tree/mlship.lock.json")" "$version_line"
        k8s_version="$DEFAULT_K8S_VERSION"
        version_src="default"
    fi

    for env in "$tree"/envs/*/; do
        env="${env%/}"
        # A production environment pins every image by digest (policy pinned-images): its
        # objects are scanned with the digest check (CKV_K8S_43) on.
        env_skip_ids="$k8s_skip_ids"
        if [[ "$(helper production "$tree/mlship.lock.json" "$(basename "$env")")" == yes ]]; then
            env_skip_ids="$(tr ',' '\n' <<<"$k8s_skip_ids" | grep -vx CKV_K8S_43 | paste -sd, -)"
            echo "== $(rel "$env") is a production environment: checkov's digest check CKV_K8S_43 is on"
        fi
        # Kustomize roots of this env: envs/<env>/ and every nested folder
        # that holds files, such as envs/<env>/jobs/level-0/ (each is applied
        # on its own, e.g. by a separate Flux Kustomization).
        roots=()
        while IFS= read -r -d '' d; do
            if [[ "$d" == "$env" || -n "$(find "$d" -maxdepth 1 -type f -print -quit)" ]]; then
                roots+=("$d")
            fi
        done < <(find "$env" -type d -print0 | sort -z)

        # checkov scans all roots of the env together, as they are deployed
        # together: e.g. a NetworkPolicy in envs/<env>/ covers the pods of
        # jobs in envs/<env>/jobs/level-0/ (checkov check CKV2_K8S_6). The
        # notebooks folder is scanned on its own, with the notebook profile's
        # skips added (tests/checkov-notebook-skips.txt): its objects carry
        # their own NetworkPolicies and ServiceAccounts.
        env_rendered="$WORK/home/rendered/$name/envs/$(basename "$env").yaml"
        nb_rendered="$WORK/home/rendered/$name/envs/$(basename "$env")-notebooks.yaml"
        mkdir -p "${env_rendered%/*}"
        : >"$env_rendered"
        : >"$nb_rendered"
        all_built=1
        for root in "${roots[@]}"; do
            if [[ "$root" == "$env/notebooks" ]]; then
                check_root "$root" "$nb_rendered" || all_built=0
            else
                check_root "$root" "$env_rendered" || all_built=0
            fi
        done
        if [[ -s "$nb_rendered" ]] && ((all_built)); then
            checkov_scan "checkov kubernetes" "$(rel "$env")/notebooks" kubernetes \
                "${env_skip_ids:+$env_skip_ids,}$notebook_skip_ids" "$nb_rendered"
        fi

        if ((all_built)); then
            target="$(rel "$env")"
            if ((${#roots[@]} > 1)); then target+=" (+$((${#roots[@]} - 1)) nested)"; fi
            checkov_scan "checkov kubernetes" "$target" kubernetes "$env_skip_ids" "$env_rendered"
        else
            skip "checkov kubernetes" "$(rel "$env") (kustomize build failed)"
        fi
    done

    gitops_files=("$tree"/gitops/*.yaml)
    if ((${#gitops_files[@]})); then echo "== $(rel "$tree")/gitops"; fi
    for g in "${gitops_files[@]}"; do
        env_name="$(basename "$g" .yaml)"
        if ! out="$(helper gitops "$g")"; then
            fail "gitops manifest" "$(rel "$g")" "$out"
        elif [[ ! -d "$tree/envs/$env_name" ]]; then
            fail "gitops manifest" "$(rel "$g")" "no matching env folder $(rel "$tree/envs/$env_name")"
        else
            pass "gitops manifest" "$(rel "$g") ($out)"
        fi
    done

    for img in "$tree"/images/*/; do
        img="${img%/}"
        echo "== $(rel "$img")"
        df="$img/Dockerfile"
        if [[ ! -f "$df" ]]; then
            fail "Dockerfile" "$(rel "$img")" "no Dockerfile"
            continue
        fi
        if [[ -f "$img/Dockerfile.dockerignore" ]]; then
            pass "dockerignore" "$(rel "$img/Dockerfile.dockerignore")"
        else
            fail "dockerignore" "$(rel "$img/Dockerfile.dockerignore")" "missing"
        fi
        if out="$(hadolint -c "$ROOT/.hadolint.yaml" --no-color --failure-threshold warning \
            --disable-ignore-pragma "$df" 2>&1)"; then
            pass "hadolint" "$(rel "$df")"
        else
            fail "hadolint" "$(rel "$df")" "${out//"$ROOT"\//}"
        fi
        checkov_scan "checkov dockerfile" "$(rel "$df")" dockerfile "$docker_skip_ids" "$df"
    done
done

echo "conformance: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
