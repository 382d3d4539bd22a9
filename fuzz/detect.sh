#!/usr/bin/env bash
# For every design switch that breaks an invariant: turn it on in the implementation only
# (CONFORM_IMPL_SWITCHES) and run the `migrate` fuzzer from the committed seeds
# (fuzz/corpus/migrate/seed-*) until the first crash or the time limit; print seconds and
# executions to detection. Built with -s none (no AddressSanitizer) for speed.
#
#   fuzz/detect.sh [seconds-per-switch] [seeds|empty] [runs]   (default 60 seeds 1)
# SWITCHES="a b" limits the run to those switches.
# `empty` starts from an empty corpus (no seed inputs): detection by mutation alone.
# `runs` > 1 repeats each switch with libFuzzer seeds 1..runs and prints the median time
# (a run that does not detect counts as the time limit) and how many runs detected.
set -uo pipefail
secs="${1:-60}"
mode="${2:-seeds}"
runs="${3:-1}"
cd "$(dirname "$0")"
switches="${SWITCHES:-reopen-files notify-target-first client-offsets no-vm-flush no-block-flush local-time local-pids wait-on-current lazy-vm per-slot-exchange}"
echo "| switch | detected (runs) | median seconds | seconds per run | executions per run |"
echo "| --- | --- | --- | --- | --- |"
for sw in $switches; do
  times=()
  execs_all=()
  found=0
  for seed in $(seq 1 "$runs"); do
    work=$(mktemp -d)
    mkdir -p "$work/corpus"
    if [ "$mode" = seeds ]; then cp corpus/migrate/seed-* "$work/corpus/"; fi
    start=$(date +%s.%N)
    CONFORM_IMPL_SWITCHES="$sw" cargo fuzz run -s none migrate "$work/corpus" -- \
      -max_total_time="$secs" -seed="$seed" -artifact_prefix="$work/" -print_final_stats=1 \
      > "$work/log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    execs=$(grep -Eo '^#[0-9]+' "$work/log" | tail -1 | tr -d '#')
    execs_all+=("${execs:-seeds}")
    t=$(printf '%.1f' "$(echo "$end - $start" | bc)")
    if [ $rc -ne 0 ] && grep -q MISMATCH "$work/log"; then
      found=$((found + 1))
      times+=("$t")
    else
      times+=("$secs")
    fi
    rm -rf "$work"
  done
  median=$(printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  echo "| $sw | $found/$runs | $median | ${times[*]} | ${execs_all[*]} |"
done
