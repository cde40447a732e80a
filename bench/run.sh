#!/usr/bin/env bash
# The performance bench: whole processes, measured on this machine in one run, reported as
# medians and ratios against baselines measured in the same run. See docs/performance.md.
#
#   bash bench/run.sh            # full run (under an hour on 2 cores: 38 to 56 minutes measured)
#   QUICK=1 bash bench/run.sh    # fewer runs, no N = 10,000 (a smoke test)
#   BASELINE=/path/to/old/mlship bash bench/run.sh   # also times the largest build with it
#
# Each timed write starts after `sync`, so one run's write-back does not land in the next.
# Writes bench/results.md. Installs what it needs: hyperfine and GNU time from Debian's
# packages (when missing and apt-get is available), the pinned kubectl and
# kubernetes-validate through tests/tools.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
QUICK="${QUICK:-0}"
RUNS=$([[ "$QUICK" == 1 ]] && echo 5 || echo 30)
SIZES=$([[ "$QUICK" == 1 ]] && echo "10 100 1000" || echo "10 100 1000 10000")

need() { command -v "$1" >/dev/null 2>&1 || { [[ -x /usr/bin/apt-get ]] && (apt-get update -qq && apt-get install -y -qq "$2" >/dev/null); }; }
need hyperfine hyperfine
[[ -x /usr/bin/time ]] || need /usr/bin/time time
bash tests/tools.sh --quiet
export PATH="$ROOT/.venv/bin:$PATH"
cargo build --profile dist --quiet
cargo bench --quiet --bench gen -- /dev/null 2>/dev/null || true
MLSHIP="$ROOT/target/dist/mlship"
W="$(mktemp -d)"
trap 'rm -rf "$W"' EXIT
J="$ROOT/target/bench-json" # kept after the run, for a look at the raw numbers
rm -rf "$J"
mkdir -p "$J"

hf() { # name runs prepare command...
    local name=$1 runs=$2 prepare=$3
    shift 3
    if [[ -n "$prepare" ]]; then
        hyperfine -N --style none --warmup "${WARMUP:-2}" --runs "$runs" --prepare "$prepare" --export-json "$J/$name.json" "$@" >/dev/null
    else
        hyperfine -N --style none --warmup "${WARMUP:-2}" --runs "$runs" --export-json "$J/$name.json" "$@" >/dev/null
    fi
}

echo "== examples: mlship check and build against the I/O floor"
for ex in fraud-detection llm-finetune minimal; do
    d="$W/ex/$ex"
    mkdir -p "$d" && cp -r "examples/$ex/." "$d/" && rm -f "$d/mlship.kdl"
    (cd "$d" && "$MLSHIP" build mlship.yaml >/dev/null 2>&1)
    mv "$d/deploy" "$W/tree-$ex"
    # The floor writes the same tree to the same place as the build: on ext4 creating files
    # costs several times more in a folder with a history of deletions than in a fresh one.
    cat >"$W/floor-$ex.sh" <<SH
cat "$d/mlship.yaml" >/dev/null
cp -r "$W/tree-$ex" "$d/deploy"
SH
    hf "floor-$ex" "$RUNS" "rm -rf $d/deploy && sync" "bash $W/floor-$ex.sh"
    hf "build-$ex" "$RUNS" "rm -rf $d/deploy && sync" "$MLSHIP build $d/mlship.yaml"
    hf "check-$ex" "$RUNS" "" "$MLSHIP check $d/mlship.yaml --out deploy"
    hf "noop-$ex" "$RUNS" "" "$MLSHIP build $d/mlship.yaml"
done

echo "== N services and N steps: mlship build against kubectl kustomize, and peak memory"
cargo bench --quiet --bench gen -- "$W/gen" $SIZES >/dev/null
sync # the generated specs' write-back would otherwise land inside the first measurements
for n in $SIZES; do
    d="$W/gen/n$n"
    runs=$RUNS
    ((n >= 1000)) && runs=$(( RUNS > 10 ? 10 : RUNS ))
    ((n >= 10000)) && runs=3
    hf "build-n$n" "$runs" "rm -rf $d/deploy && sync" "$MLSHIP build $d/mlship.yaml"
    # KDL specs are limited to 1 MiB (docs/security.md): the N = 10,000 one is 2.5 MB.
    if (( $(stat -c %s "$d/mlship.kdl") <= 1048576 )); then
        hf "buildkdl-n$n" "$runs" "rm -rf $d/deploy && sync" "$MLSHIP build $d/mlship.kdl"
    fi
    (cd "$d" && "$MLSHIP" build mlship.yaml >/dev/null 2>&1)
    # The I/O floor: copying the tree mlship wrote (as many files, as many bytes) to where it
    # wrote it.
    mv "$d/deploy" "$W/tree-n$n"
    hf "floor-n$n" "$runs" "rm -rf $d/deploy && sync" "cp -r $W/tree-n$n $d/deploy"
    rm -rf "$W/tree-n$n"
    # kubectl kustomize grows worse than linearly (minutes per run at N = 1,000): one run there,
    # none at 10,000.
    if ((n < 1000)); then
        hf "kustomize-n$n" "$runs" "" "kubectl kustomize $d/deploy/envs/prod"
    elif ((n == 1000)); then
        WARMUP=0 hf "kustomize-n$n" 1 "" "kubectl kustomize $d/deploy/envs/prod"
    fi
    rm -rf "$d/deploy"
    /usr/bin/time -f "%M" -o "$J/mem-n$n.txt" "$MLSHIP" build "$d/mlship.yaml" >/dev/null 2>&1
    find "$d/deploy/envs/prod" -name '*.yaml' ! -name kustomization.yaml | wc -l >"$J/objects-n$n.txt"
    find "$d/deploy" -type f | wc -l >"$J/files-n$n.txt"
    # Before and after in one run: BASELINE=<an earlier mlship binary> builds the largest spec
    # too (into another folder), timed and measured the same way.
    if [[ -n "${BASELINE:-}" && "$n" == "${SIZES##* }" ]]; then
        hf "buildbase-n$n" "$runs" "rm -rf $d/deploy-base && sync" "$BASELINE build $d/mlship.yaml --out $d/deploy-base"
        rm -rf "$d/deploy-base"
        /usr/bin/time -f "%M" -o "$J/membase-n$n.txt" "$BASELINE" build "$d/mlship.yaml" --out "$d/deploy-base" >/dev/null 2>&1
        rm -rf "$d/deploy-base"
        echo "$BASELINE" >"$J/baseline.txt"
    fi
done

echo "== validation: mlship validate --manifests against kubernetes-validate on the same objects"
v="$W/gen/n1000/deploy/envs/prod"
hf "validate-mlship" "$(( RUNS > 10 ? 10 : RUNS ))" "" "$MLSHIP validate --manifests $v --kubernetes 1.33"
mkdir -p "$W/sample"
find "$v" -name '*.yaml' ! -name kustomization.yaml ! -name 'externalsecret-*' | sort >"$W/all.txt"
head -n 100 "$W/all.txt" | while read -r f; do cp "$f" "$W/sample/"; done
ls "$W/sample" | wc -l >"$J/sample-count.txt"
hf "validate-kv" 3 "" "kubernetes-validate --strict --quiet -k 1.33 $(ls -d "$W"/sample/*.yaml | tr '\n' ' ')"
hf "validate-mlship-sample" "$RUNS" "" "$MLSHIP validate --manifests $W/sample --kubernetes 1.33"

MONO=$([[ "$QUICK" == 1 ]] && echo 100 || echo 500)
echo "== monorepo: one mlship check at the root of $MONO projects against one process per spec"
m="$W/mono"
mkdir -p "$m"
cp -r examples/fraud-detection "$W/mono-one" && rm -f "$W/mono-one/mlship.kdl"
(cd "$W/mono-one" && "$MLSHIP" build mlship.yaml >/dev/null 2>&1)
for i in $(seq -w 1 "$MONO"); do cp -r "$W/mono-one" "$m/p$i"; done
echo "$MONO" >"$J/mono-count.txt"
find "$m" -name mlship.yaml | sort >"$W/mono-specs.txt"
cat >"$W/mono-loop.sh" <<SH
while read -r spec; do "$MLSHIP" check "\$spec" >/dev/null 2>&1 || exit 1; done <"$W/mono-specs.txt"
SH
mono_runs=$(( RUNS > 10 ? 10 : RUNS ))
hf "mono-root" "$mono_runs" "" "bash -c 'cd $m && $MLSHIP check'"
hf "mono-one-thread" "$mono_runs" "" "bash -c 'cd $m && taskset -c 0 $MLSHIP check'"
WARMUP=1 hf "mono-loop" 3 "" "bash $W/mono-loop.sh"
rm -rf "$m"

# The hook's first run on a fresh cache builds mlship; measured once each, from a cold target
# folder with the crates already downloaded: the real pre-commit framework installing the
# `mlship-check` hook (`cargo install`, the release profile), against a build with the fat-LTO
# `dist` profile, which is what the hook built before the profiles were split.
if [[ "$QUICK" != 1 ]]; then
    echo "== pre-commit: the hook's cold install against a fat-LTO build"
    [[ -z "$(git status --porcelain -- compiler Cargo.toml Cargo.lock stdlib .pre-commit-hooks.yaml)" ]] ||
        echo "note: pre-commit installs the hook from the committed HEAD, not from uncommitted changes"
    pc="$W/precommit"
    git init -q "$pc"
    printf 'repos:\n  - repo: %s\n    rev: %s\n    hooks:\n      - id: mlship-check\n' "$ROOT" "$(git rev-parse HEAD)" >"$pc/.pre-commit-config.yaml"
    elapsed_ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || return 1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
    sync
    (cd "$pc" && unset CARGO_TARGET_DIR && PRE_COMMIT_HOME="$W/precommit-home" elapsed_ms pre-commit install-hooks) >"$J/precommit-cold.txt" &&
        find "$W/precommit-home" -path '*/bin/mlship' -type f | grep -q . ||
        { echo "pre-commit did not install the hook: no figures"; rm -f "$J/precommit-cold.txt"; }
    rm -rf "$W/precommit-home"
    sync
    CARGO_TARGET_DIR="$W/dist-cold" elapsed_ms cargo build --profile dist --locked --quiet >"$J/dist-cold.txt" ||
        { echo "the dist build failed: no figures"; rm -f "$J/dist-cold.txt"; }
    rm -rf "$W/dist-cold"
fi

python3 - "$J" "$SIZES" >bench/results.md <<'PY'
import json, os, statistics, subprocess, sys
J, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split()]
def med(name):
    return statistics.median(json.load(open(f"{J}/{name}.json"))["results"][0]["times"])
def ms(x): return f"{x*1000:.1f} ms" if x < 10 else f"{x:.2f} s"
def peak(name): return int(open(f"{J}/{name}.txt").read().split()[-1]) / 1024  # GNU time's KB, in MB
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
out = [f"Machine: {os.cpu_count()} cores, {cpu}. Medians of whole processes (hyperfine), one run of bench/run.sh.", ""]
out += ["| example | check | build (fresh dir) | build (no change) | floor: read spec + cp -r tree | check / floor | build / floor |", "|---|---|---|---|---|---|---|"]
for ex in ["fraud-detection", "llm-finetune", "minimal"]:
    f, c, b, n = med(f"floor-{ex}"), med(f"check-{ex}"), med(f"build-{ex}"), med(f"noop-{ex}")
    out.append(f"| {ex} | {ms(c)} | {ms(b)} | {ms(n)} | {ms(f)} | {c/f:.1f}x | {b/f:.1f}x |")
out += ["", "| N (services and steps) | objects (prod env) | files (3 envs) | mlship build (YAML) | mlship build (KDL) | floor: cp -r tree | build / floor | kubectl kustomize (prod env only) | kustomize / build | peak memory |", "|---|---|---|---|---|---|---|---|---|---|"]
prev = None
for n in sizes:
    b = med(f"build-n{n}")
    kd = med(f"buildkdl-n{n}") if os.path.exists(f"{J}/buildkdl-n{n}.json") else None
    k = med(f"kustomize-n{n}") if os.path.exists(f"{J}/kustomize-n{n}.json") else None
    mem = peak(f"mem-n{n}")
    objs = open(f"{J}/objects-n{n}.txt").read().strip()
    files = int(open(f"{J}/files-n{n}.txt").read())
    fl = med(f"floor-n{n}")
    kcell, ratio = (ms(k), f"{k/b:.0f}x") if k else ("not run (too slow)", "-")
    kdl = ms(kd) if kd else "over the KDL size limit"
    out.append(f"| {n:,} | {objs} | {files:,} | {ms(b)} | {kdl} | {ms(fl)} | {b/fl:.1f}x | {kcell} | {ratio} | {mem:.0f} MB |")
if os.path.exists(f"{J}/baseline.txt"):
    n = sizes[-1]
    base, now = med(f"buildbase-n{n}"), med(f"build-n{n}")
    mbase, mnow = peak(f"membase-n{n}"), peak(f"mem-n{n}")
    out += ["", f"| N = {n:,}, before and after (this run) | mlship build | peak memory |", "|---|---|---|",
            f"| before: `{open(f'{J}/baseline.txt').read().strip()}` | {ms(base)} | {mbase:.0f} MB |",
            f"| after: this build | {ms(now)} ({now/base:.2f}x) | {mnow:.0f} MB ({mnow/mbase:.2f}x) |"]
if 1000 in sizes and 10000 in sizes:
    out += ["", f"Growth: build at N = 10,000 takes {med('build-n10000')/med('build-n1000'):.1f}x the time at N = 1,000."]
sample = int(open(f"{J}/sample-count.txt").read())
kv, ml = med("validate-kv"), med("validate-mlship-sample")
full = med("validate-mlship")
objs = int(open(f"{J}/objects-n1000.txt").read())
out += ["", "| validation | objects | time | objects per second |", "|---|---|---|---|",
        f"| kubernetes-validate --strict (one process, {sample} files) | {sample} | {ms(kv)} | {sample/kv:,.0f} |",
        f"| mlship validate --manifests (same {sample} files) | {sample} | {ms(ml)} | {sample/ml:,.0f} |",
        f"| mlship validate --manifests (N = 1,000 prod tree) | {objs} | {ms(full)} | {objs/full:,.0f} |",
        "", f"mlship validates {kv/ml:.0f}x faster than kubernetes-validate on the same {sample} objects (whole processes)."]
mono = int(open(f"{J}/mono-count.txt").read())
root, one, loop = med("mono-root"), med("mono-one-thread"), med("mono-loop")
out += ["", f"| monorepo: {mono} copies of fraud-detection, each with its tree | time | per spec | vs one process per spec |", "|---|---|---|---|",
        f"| one `mlship check` at the root ({os.cpu_count()} threads) | {ms(root)} | {ms(root/mono)} | {loop/root:.0f}x |",
        f"| one `mlship check` at the root, on one core | {ms(one)} | {ms(one/mono)} | {loop/one:.0f}x |",
        f"| `mlship check <spec>`, one process per spec | {ms(loop)} | {ms(loop/mono)} | 1x |"]
if all(os.path.exists(f"{J}/{n}.txt") for n in ("precommit-cold", "dist-cold")):
    hook, lto = (int(open(f"{J}/{n}.txt").read()) / 1000 for n in ("precommit-cold", "dist-cold"))
    out += ["", "| pre-commit, first run on a fresh cache (cold target folder, crates downloaded) | time |", "|---|---|",
            f"| `pre-commit install-hooks`: the `mlship-check` hook's `cargo install` (release profile) | {hook:.0f} s |",
            f"| `cargo build --profile dist` (fat LTO, one codegen unit: what the hook built before) | {lto:.0f} s ({hook/lto:.2f}x) |"]
print("\n".join(out))
PY
cat bench/results.md
