#!/usr/bin/env bash
# Short smoke run of every fuzz target, for CI: each target starts from its corpus
# directory fuzz/corpus/<target> (the committed seed-* files, plus whatever earlier runs
# added there) and runs for a bounded time. Exits non-zero on the first
# crash (the artifact is in fuzz/artifacts/<target>/; see fuzz/README.md to replay it).
# Built without AddressSanitizer (-s none): the code under test is safe Rust, and the
# build and the runs are several times faster.
#
#   fuzz/smoke.sh [seconds-per-target]      (default 20)
set -euo pipefail
secs="${1:-20}"
cd "$(dirname "$0")"   # fuzz/ (the root rust-toolchain.toml, seen from here too, selects nightly)
status=0
for t in migrate migrate_events codec scenario; do
  mkdir -p "corpus/$t"
  echo "== fuzz target $t for ${secs}s"
  log=$(mktemp)
  if cargo fuzz run -s none "$t" "corpus/$t" -- \
    -max_total_time="$secs" -seed=1 -print_final_stats=1 >"$log" 2>&1; then
    grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)" "$log" || true
  else
    # The report (for migrate: with a replay command) and libFuzzer's summary.
    grep -v -E "^(#[0-9]+|INFO:)" "$log" | tail -60
    echo "== $t FAILED (artifact in fuzz/artifacts/$t/)"
    status=1
  fi
  rm -f "$log"
done
exit $status
