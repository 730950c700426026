#!/usr/bin/env bash
# check.sh — runs the test suites that `make check` built and prints one closing line,
# "N passed, M failed", counting every cmocka test, simulator seed, fuzz corpus, man page and
# integration scenario. Usage: check.sh [unit|sim|fuzz|man|integration]... (default: all).
set -uo pipefail
cd "$(dirname "$0")/.."

SEEDS=${SEEDS:-1000}
B=${BUILD:-build}
SIM_DIR=${SIM_DIR:-$B/asan/tests}
suites=("$@")
((${#suites[@]})) || suites=(unit sim fuzz man integration)

passed=0
failed=0
failures=()
log_dir=$B/test-logs
mkdir -p "$log_dir"

# Adds a suite's counts, read from its output, to the totals.
count() { # name passed failed
  passed=$((passed + $2)); failed=$((failed + $3))
  ((${3} > 0)) && failures+=("$1")
  return 0
}

run_unit() {
  for t in $B/asan/tests/test_*; do
    [[ -x $t ]] || continue
    local name; name=$(basename "$t") out="$log_dir/$(basename "$t").log"
    "$t" >"$out" 2>&1; local rc=$?
    local p f
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
    if ((rc != 0 && f == 0)); then f=1; fi   # crashed or sanitizer abort: count it
    echo "unit  $name: $p passed, $f failed"
    ((f > 0)) && tail -n 30 "$out"
    count "$name" "$p" "$f"
  done
}

run_sim() {
  for s in "$SIM_DIR"/sim_*; do
    [[ -x $s ]] || continue
    # SIMS="raft gossip" (default: all) picks simulators by name.
    [[ -z ${SIMS:-} || " $SIMS " == *" ${s##*/sim_} "* ]] || continue
    local name; name=$(basename "$s") out="$log_dir/$(basename "$s").log"
    "$s" -seeds "$SEEDS" >"$out" 2>&1; local rc=$?
    local last p f
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    p=${last%% passed*}; f=${last#*, }; f=${f%% failed*}
    [[ -n $last ]] || { p=0; f=1; }
    if ((rc != 0 && f == 0)); then f=1; fi
    echo "sim   $name: $p passed, $f failed ($SEEDS seeds)"
    ((f > 0)) && tail -n 30 "$out"
    count "$name" "$p" "$f"
  done
}

run_fuzz() {
  for z in $B/fuzz/fuzz_*; do
    [[ -x $z ]] || continue
    local name; name=$(basename "$z") corpus="tests/fuzz/corpus/$(basename "$z")" out="$log_dir/$(basename "$z").log"
    if [[ ! -d $corpus ]] || [[ -z $(ls -A "$corpus") ]]; then
      echo "fuzz  $name: no seed corpus in $corpus"; count "$name" 0 1; continue
    fi
    # Given files, a libFuzzer binary runs each input once: a regression run of the corpus.
    if "$z" "$corpus"/* >"$out" 2>&1; then
      echo "fuzz  $name: corpus of $(ls "$corpus" | wc -l) inputs ok"; count "$name" 1 0
    else
      echo "fuzz  $name: FAILED"; tail -n 30 "$out"; count "$name" 0 1
    fi
  done
}

run_man() {
  for m in man/*.[17]; do
    [[ -e $m ]] || continue
    local out
    out=$(mandoc -Tlint -W warning "$m" 2>&1)
    if [[ -z $out ]]; then count "$m" 1 0; else echo "man   $m:"; echo "$out"; count "$m" 0 1; fi
  done
  echo "man   pages linted"
}

run_integration() {
  for t in tests/integration/test_*.sh; do
    [[ -e $t ]] || continue
    local name; name=$(basename "$t" .sh) out="$log_dir/$(basename "$t" .sh).log"
    TRIBUNE=${TRIBUNE:-$PWD/$B/asan/tribune} bash "$t" >"$out" 2>&1; local rc=$?
    local last p f
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
    p=${last%% passed*}; f=${last#*, }; f=${f%% failed*}
    [[ -n $last ]] || { p=0; f=1; }
    if ((rc != 0 && f == 0)); then f=1; fi
    echo "integ $name: $p passed, $f failed"
    ((f > 0)) && tail -n 40 "$out"
    count "$name" "$p" "$f"
  done
}

for s in "${suites[@]}"; do
  case $s in
    unit|sim|fuzz|man|integration) "run_$s" ;;
    *) echo "check.sh: unknown suite '$s'" >&2; exit 2 ;;
  esac
done

if ((${#failures[@]})); then
  echo "failed: ${failures[*]} (logs in $log_dir)"
fi
echo "$passed passed, $failed failed"
((failed == 0))
