#!/usr/bin/env bash
# Fuzzing benchmark (not a test, and not part of scripts/test.sh): the cargo-fuzz targets in
# fuzz/ for what users upload or type, each run for a stated time:
#   import_xlsx        an upload named .xlsx, as bytes (zip and workbook layers)
#   import_xlsx_parts  an .xlsx zipped by the harness from fuzzed XML parts (cells, styles, merges)
#   import_csv         an upload named .csv/.tsv/.txt in UTF-8, GBK or UTF-16 (and the encodings
#                      must not change the result)
#   datetime           parse_date, parse_datetime, OfficeHours::parse and the working-time
#                      arithmetic the parsed values go into
#   holiday_json       a holiday-cn year file
# Each harness checks properties of the result (rows in order, required/choice columns
# reported, dates that print back as themselves, ...), not only that nothing panics.
#
#   bash scripts/fuzz.sh [seconds-per-target, default 60] [target ...]
#
# Installs cargo-fuzz when missing (crates.io), builds with the nightly toolchain when it works
# (else stable with RUSTC_BOOTSTRAP=1), writes seed corpora with the project's own writers
# (fuzz/examples/make_seeds.rs), runs the targets one after another and prints executions,
# exec/s, coverage and crashes per target. Exits non-zero when anything crashed, timed out or
# ran out of memory, naming the input it saved under fuzz/artifacts/<target>/; reproduce with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
# and turn it into a test in crates/*/tests/fuzz_regressions.rs once fixed.
# The corpora in fuzz/corpus/ grow from run to run; FUZZ_FRESH=1 starts from the seeds alone.
# FUZZ_SANITIZER=none runs without AddressSanitizer. Builds use one job (CARGO_BUILD_JOBS).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SECS="${1:-60}"
if [ $# -gt 0 ]; then shift; fi
if ! [[ "$SECS" =~ ^[0-9]+$ ]] || [ "$SECS" -lt 1 ]; then
  echo "usage: bash scripts/fuzz.sh [seconds-per-target] [target ...]" >&2
  exit 2
fi
ALL=(import_xlsx import_xlsx_parts import_csv datetime holiday_json)
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=("${ALL[@]}"); fi
for t in "${TARGETS[@]}"; do
  if [ ! -f "fuzz/fuzz_targets/$t.rs" ]; then
    echo "unknown target '$t' (targets: ${ALL[*]})" >&2
    exit 2
  fi
done
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
SAN="${FUZZ_SANITIZER:-address}"

step() { printf '\n==> %s\n' "$*"; }

# --- toolchain and cargo-fuzz -------------------------------------------------------------------
step "Toolchain"
if cargo +nightly --version >/dev/null 2>&1 && rustc +nightly --version >/dev/null 2>&1; then
  TC=(+nightly)
  echo "$(cargo +nightly --version)"
else
  # cargo-fuzz passes -Z flags; a stable compiler takes them with RUSTC_BOOTSTRAP=1.
  TC=()
  export RUSTC_BOOTSTRAP=1
  echo "$(cargo --version) with RUSTC_BOOTSTRAP=1 (no working nightly toolchain)"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  step "Installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
echo "$(cargo fuzz --version), sanitizer: $SAN"
TRIPLE=$(rustc "${TC[@]}" -vV | sed -n 's/^host: //p')

# --- build --------------------------------------------------------------------------------------
step "Building the targets (release, debug assertions, sanitizer $SAN)"
for t in "${TARGETS[@]}"; do
  cargo "${TC[@]}" fuzz build -s "$SAN" "$t"
done
# The seed writer is an ordinary program: no fuzzer instrumentation, its own target directory.
cargo "${TC[@]}" build --quiet --manifest-path fuzz/Cargo.toml --example make_seeds --target-dir fuzz/target/seeds

# --- seeds --------------------------------------------------------------------------------------
step "Seeds"
if [ "${FUZZ_FRESH:-0}" = 1 ]; then
  for t in "${TARGETS[@]}"; do rm -rf "fuzz/corpus/$t"; done
fi
fuzz/target/seeds/debug/examples/make_seeds fuzz/corpus

# --- run ----------------------------------------------------------------------------------------
LOGS="fuzz/target/logs"
mkdir -p "$LOGS"
SUMMARY=()
FAILED=()
for t in "${TARGETS[@]}"; do
  step "Fuzzing $t for ${SECS}s"
  ART="fuzz/artifacts/$t"
  mkdir -p "$ART" "fuzz/corpus/$t"
  START_CORPUS=$(find "fuzz/corpus/$t" -type f | wc -l)
  STAMP=$(mktemp)
  LOG="$LOGS/$t.log"
  # One process (two cores, and others compile here too); -timeout: an input taking longer than
  # 10 s counts as a hang; -rss_limit_mb: more than 2 GB as running out of memory.
  set +e
  "fuzz/target/$TRIPLE/release/$t" "fuzz/corpus/$t" \
    -artifact_prefix="$ART/" -dict="fuzz/dict/$t.dict" -max_total_time="$SECS" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 > "$LOG" 2>&1
  RC=$?
  set -e
  NEW=$(find "$ART" -type f -newer "$STAMP" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | sort)
  rm -f "$STAMP"
  final_stat() { sed -n "s/^stat::$1: *//p" "$LOG" | tail -1; }
  LAST=$(grep -E '^#[0-9]+.*cov: ' "$LOG" | tail -1 || true)
  field() { sed -n "s/.* $1: \([0-9/]*\).*/\1/p" <<<"$LAST"; }
  EXECS=$(final_stat number_of_executed_units)
  RATE=$(final_stat average_exec_per_sec)
  RSS=$(final_stat peak_rss_mb)
  COV=$(field cov)
  FT=$(field ft)
  CORP=$(field corp | cut -d/ -f1)
  N=$(printf '%s' "$NEW" | grep -c . || true)
  if [ "$RC" -ne 0 ] && [ "$N" -eq 0 ]; then N=1; fi # died without saving an input: still a failure
  printf '%s: %s executions, %s exec/s, coverage %s edges / %s features, corpus %s files at start, %s units at end, peak RSS %s MB, crashes %s\n' \
    "$t" "${EXECS:-?}" "${RATE:-?}" "${COV:-?}" "${FT:-?}" "$START_CORPUS" "${CORP:-?}" "${RSS:-?}" "$N"
  SUMMARY+=("$(printf '%-18s %6ss %11s %8s %7s %8s %7s %8s %8s' "$t" "$SECS" "${EXECS:-?}" "${RATE:-?}" "${COV:-?}" "${FT:-?}" "${CORP:-?}" "${RSS:-?}" "$N")")
  if [ "$N" -gt 0 ]; then
    FAILED+=("$t")
    # The panic and its message (the line after), or what the sanitizer or libFuzzer reported.
    grep -E -A3 "panicked at|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)" "$LOG" | grep -v -E "^stack backtrace|^ +[0-9]+: |^--$" | head -12 | sed 's/^/    /' || true
    for f in $NEW; do echo "    input saved: $ROOT/$f"; done
    if [ -z "$NEW" ]; then echo "    exit status $RC without a saved input; see $ROOT/$LOG"; fi
    echo "    full log: $ROOT/$LOG"
  fi
done

step "Summary (${SECS}s per target, $(nproc) cores, sanitizer $SAN)"
printf '%-18s %7s %11s %8s %7s %8s %7s %8s %8s\n' target time executions exec/s cov ft corpus rss_mb crashes
printf '%s\n' "${SUMMARY[@]}"
if [ ${#FAILED[@]} -gt 0 ]; then
  echo
  echo "FAILED: ${FAILED[*]} (inputs under $ROOT/fuzz/artifacts/)"
  exit 1
fi
echo
echo "No crashes."
