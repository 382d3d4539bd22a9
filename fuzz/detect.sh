#!/usr/bin/env bash
# For every design switch that breaks an invariant: turn it on in the implementation only
# (CONFORM_IMPL_SWITCHES) and run the `migrate` fuzzer from the committed seeds
# (fuzz/corpus/migrate/seed-*) until the first crash or the time limit; print seconds and
# executions to detection. Built with -s none (no AddressSanitizer) for speed.
#
#   fuzz/detect.sh [seconds-per-switch] [seeds|empty]   (default 60 seeds)
# `empty` starts from an empty corpus (no seed inputs): detection by mutation alone.
set -uo pipefail
secs="${1:-60}"
mode="${2:-seeds}"
cd "$(dirname "$0")"
switches="reopen-files notify-target-first client-offsets no-vm-flush no-block-flush local-time direct-signals local-pids wait-on-current lazy-vm"
echo "| switch | detected | seconds | executions |"
echo "| --- | --- | --- | --- |"
for sw in $switches; do
  work=$(mktemp -d)
  mkdir -p "$work/corpus"
  if [ "$mode" = seeds ]; then cp corpus/migrate/seed-* "$work/corpus/"; fi
  start=$(date +%s.%N)
  CONFORM_IMPL_SWITCHES="$sw" cargo fuzz run -s none migrate "$work/corpus" -- \
    -max_total_time="$secs" -seed=1 -artifact_prefix="$work/" -print_final_stats=1 \
    > "$work/log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  execs=$(grep -Eo '^#[0-9]+' "$work/log" | tail -1 | tr -d '#')
  execs=${execs:-"<= seed corpus"}
  if [ $rc -ne 0 ] && grep -q MISMATCH "$work/log"; then
    printf '| %s | yes | %.1f | %s |\n' "$sw" "$(echo "$end - $start" | bc)" "${execs:-?}"
  else
    printf '| %s | no (rc %s) | %.1f | %s |\n' "$sw" "$rc" "$(echo "$end - $start" | bc)" "${execs:-?}"
  fi
  rm -rf "$work"
done
