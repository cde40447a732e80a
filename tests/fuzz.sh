#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers and the whole compiler (cargo-fuzz / libFuzzer).
#
#   bash tests/fuzz.sh [SECONDS]     # SECONDS of fuzzing per target, default 60; 0 = replay only
#
# Targets (fuzz/fuzz_targets/): yaml (decode + YAML parse), kdl (decode + KDL parse), compile
# (the whole pipeline; the input's first byte picks the syntax: even YAML, odd KDL), project (the
# files a spec names: requirements, templates, extra manifests, SealedSecret and SOPS files; the
# first byte picks which).
# For each target: replay tests/fuzz-regressions/* and the seed corpus, then fuzz for SECONDS.
# Any panic, failed assertion, timeout (-timeout), or memory past -rss_limit_mb fails the
# target; the input is saved under fuzz/artifacts/<target>/. To keep a finding, minimize it
# (`RUSTC_BOOTSTRAP=1 cargo fuzz tmin --sanitizer none -O -a <target> <artifact>`) and commit it as
# tests/fuzz-regressions/<target>-<short-name>.
#
# Only stable Rust is installed: cargo-fuzz needs nightly flags (-Zsanitizer, -Cpasses), so the
# build runs with RUSTC_BOOTSTRAP=1. Sanitizer: none (the code is safe Rust; ASan would only
# slow the build and the runs). Release with debug assertions, so overflows panic.
# FUZZ_TARGETS="yaml kdl" runs a subset. FUZZ_KEEP_GOING=1 fuzzes on past crashes, timeouts and
# OOMs (libFuzzer -fork=1 -ignore_*), to collect several findings in one run; the target still
# fails if any input was saved. Targets run one at a time (the machine has 2 cores).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

SECS="${1:-60}"
if ! [[ "$SECS" =~ ^[0-9]+$ ]]; then
    echo "usage: bash tests/fuzz.sh [SECONDS]" >&2
    exit 2
fi
CARGO_FUZZ_VERSION="0.13.2"
read -r -a TARGETS <<<"${FUZZ_TARGETS:-yaml kdl compile project}"
RSS_MB=512
TIMEOUT_S=5
MAX_LEN=16384 # for the fuzzing phase; replay runs every input whole
BUILD_FLAGS=(--sanitizer none --release --debug-assertions)
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=never
export RUST_BACKTRACE=1 # printed only when a target panics
KEEP_GOING=()
if [[ "${FUZZ_KEEP_GOING:-0}" == 1 ]]; then
    KEEP_GOING=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi

step() { printf '\n==> %s\n' "$*"; }

step "cargo-fuzz $CARGO_FUZZ_VERSION"
if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked || exit 1
fi
cargo fuzz --version

step "cargo fuzz build ${BUILD_FLAGS[*]}"
start=$SECONDS
cargo fuzz build "${BUILD_FLAGS[@]}" || exit 1
echo "built in $((SECONDS - start)) s"
BIN=fuzz/target/x86_64-unknown-linux-gnu/release

# Seeds, copied in when absent (the corpus itself is not in git). YAML seeds for yaml, KDL
# seeds for kdl, both for compile with the selector byte in front.
seed() { # seed TARGET PREFIX_BYTE FILE...
    local target=$1 prefix=$2 f dst
    shift 2
    mkdir -p "fuzz/corpus/$target"
    for f in "$@"; do
        [[ -f "$f" ]] || continue
        dst="fuzz/corpus/$target/seed-$(printf '%s' "$f" | tr '/' '_')"
        [[ -e "$dst" ]] && continue
        if [[ -n "$prefix" ]]; then
            { printf "%b" "\\x$prefix"; cat "$f"; } >"$dst"
        else
            cp "$f" "$dst"
        fi
    done
}
shopt -s nullglob
YAML_SEEDS=(examples/*/mlship.yaml stdlib/init/mlship.yaml tests/invalid/*.yaml)
KDL_SEEDS=(examples/*/mlship.kdl tests/invalid/*.kdl)
seed yaml "" "${YAML_SEEDS[@]}"
seed kdl "" "${KDL_SEEDS[@]}"
seed compile 00 "${YAML_SEEDS[@]}"
seed compile 01 "${KDL_SEEDS[@]}"
seed project 02 examples/fraud-detection/k8s/*.yaml
seed project 03 examples/llm-finetune/secrets/*.sealed.yaml
seed project 04 examples/llm-finetune/secrets/*.sops.yaml
seed project 00 examples/*/requirements*.txt examples/*/requirements/*.txt
cat fuzz/yaml.dict fuzz/kdl.dict >fuzz/target/compile.dict
dict_of() {
    case $1 in
    yaml) echo fuzz/yaml.dict ;;
    kdl) echo fuzz/kdl.dict ;;
    *) echo fuzz/target/compile.dict ;;
    esac
}
REGRESSIONS=(tests/fuzz-regressions/*)

passed=0
failed=0
for t in "${TARGETS[@]}"; do
    mkdir -p "fuzz/artifacts/$t"
    common=("-rss_limit_mb=$RSS_MB" "-timeout=$TIMEOUT_S" "-artifact_prefix=fuzz/artifacts/$t/" -print_final_stats=1)
    ok=1

    step "$t: replay ${#REGRESSIONS[@]} regression files"
    # Files given one by one are each run once; a crash stops the run with a non-zero exit.
    if ((${#REGRESSIONS[@]})) && ! "$BIN/$t" "${common[@]}" "${REGRESSIONS[@]}" >"fuzz/artifacts/$t.replay.log" 2>&1; then
        tail -n 60 "fuzz/artifacts/$t.replay.log"
        ok=0
    fi

    step "$t: replay the corpus ($(find "fuzz/corpus/$t" -type f | wc -l) inputs)"
    if ((ok || ${#KEEP_GOING[@]})) && ! "$BIN/$t" "${common[@]}" -runs=0 "fuzz/corpus/$t" >"fuzz/artifacts/$t.corpus.log" 2>&1; then
        tail -n 60 "fuzz/artifacts/$t.corpus.log"
        ok=0
    fi
    grep -m1 -E '(INITED|DONE) ' "fuzz/artifacts/$t.corpus.log" 2>/dev/null

    if (((ok || ${#KEEP_GOING[@]}) && SECS > 0)); then
        step "$t: fuzz for $SECS s"
        before=$(find "fuzz/artifacts/$t" -type f | wc -l)
        if "$BIN/$t" "${common[@]}" "${KEEP_GOING[@]}" -max_total_time="$SECS" -max_len=$MAX_LEN \
            -dict="$(dict_of "$t")" "fuzz/corpus/$t" >"fuzz/artifacts/$t.fuzz.log" 2>&1 &&
            (($(find "fuzz/artifacts/$t" -type f | wc -l) == before)); then
            grep -E '^#[0-9]+([[:space:]]+DONE|: cov)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
                "fuzz/artifacts/$t.fuzz.log" | tail -n 4
        else
            find "fuzz/artifacts/$t" -type f -newer "fuzz/artifacts/$t.corpus.log" -printf 'saved: %p\n'
            tail -n 60 "fuzz/artifacts/$t.fuzz.log"
            ok=0
        fi
    fi

    if ((ok)); then
        echo "$t: ok"
        passed=$((passed + 1))
    else
        echo "$t: FAILED (logs and the failing input in fuzz/artifacts/$t/)"
        failed=$((failed + 1))
    fi
done

echo "fuzz: $passed passed, $failed failed"
((failed == 0))
