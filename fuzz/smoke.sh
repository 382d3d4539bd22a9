#!/usr/bin/env bash
# Short smoke run of every fuzz target, for CI: each target starts from its committed seed
# corpus (fuzz/seeds/<target>) and runs for a bounded time. Exits non-zero on the first
# crash (the artifact is in fuzz/artifacts/<target>/; see fuzz/README.md to replay it).
# Built without AddressSanitizer (-s none): the code under test is safe Rust, and the
# build and the runs are several times faster.
#
#   fuzz/smoke.sh [seconds-per-target]      (default 20)
set -euo pipefail
secs="${1:-20}"
cd "$(dirname "$0")"   # fuzz/: its rust-toolchain.toml selects nightly for cargo-fuzz
for t in migrate codec scenario; do
  mkdir -p "corpus/$t"
  echo "== fuzz target $t for ${secs}s"
  cargo fuzz run -s none "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -seed=1 -print_final_stats=1 2>&1 |
    grep -E "^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::average_exec_per_sec|==|SUMMARY|thread|MISMATCH|Done)" || true
  # grep hides libFuzzer's progress lines; the exit status is cargo-fuzz's:
  test "${PIPESTATUS[0]}" -eq 0
done
