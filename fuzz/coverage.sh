#!/usr/bin/env bash
# Line coverage of the implementation's protocol core after fuzz runs of the conformance
# targets, `migrate` from its committed seeds and `migrate_events` (crashes and events in
# the middle of migrations and calls) from its empty corpus. For people to run, not CI: it
# takes twice the fuzzing time plus about 10 minutes of building.
#
#   fuzz/coverage.sh [seconds] [work-dir]
#
# seconds   fuzzing time per target, default 300; 0 measures the corpora as they are
# work-dir  where the corpora grow (<work-dir>/migrate, <work-dir>/migrate_events), default
#           a new scratch directory; migrate's starts as a copy of fuzz/corpus/migrate/seed-*
#
# Steps, per target: `cargo fuzz run -s none <target> <corpus> -- -max_total_time=<seconds>
# -seed=1`, then `cargo fuzz coverage -s none <target> <corpus>` (every input of the corpus
# run once in a build with -Cinstrument-coverage). Then both targets' profiles are merged
# (`llvm-profdata merge`) and `llvm-cov report` is taken over both binaries. It prints the
# protocol core's files (the kernels, the file server and its pipes, the migration modules,
# the message codec; not the simulator, which also holds the host-selection layer the
# harness does not use), each target's share, and their total, and writes the lines never
# run to <work-dir>/uncovered.txt and the per-function figures to <work-dir>/functions.txt.
#
# The LLVM tools: cargo-fuzz's own merge uses rustup's llvm-tools-preview component, which
# needs the network to install. Debian's llvm-19 (`apt-get install llvm-19`) reads the
# profiles of this repository's toolchains (LLVM 22) as well, and is used when the
# component is missing.
set -euo pipefail
secs="${1:-300}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="${2:-$(mktemp -d /tmp/sprite-cov-XXXXXX)}"
mkdir -p "$work/migrate" "$work/migrate_events"
if [ -z "$(ls -A "$work/migrate")" ]; then cp fuzz/corpus/migrate/seed-* "$work/migrate/"; fi
sysroot="$(rustc --print sysroot)"
tools="$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin"
if [ ! -x "$tools/llvm-profdata" ]; then tools=/usr/lib/llvm-19/bin; fi
if [ ! -x "$tools/llvm-profdata" ]; then
  echo "no llvm-profdata: rustup component add llvm-tools-preview, or apt-get install llvm-19" >&2
  exit 2
fi
core='impl/src/(kernel|kernel/[a-z_]+|fs|fs/[a-z_]+|vm|msg|migrate/[a-z_]+)\.rs$'
files=$(ls impl/src/*.rs impl/src/*/*.rs | grep -E "$core")
bindir=target/x86_64-unknown-linux-gnu/coverage/x86_64-unknown-linux-gnu/release
# The per-file table of `llvm-cov report` for the protocol core, and its total.
table() {
  awk -v core="$core" '
      $1 ~ core { sub(/.*impl\/src\//, "impl/src/", $1); lines += $8; missed += $9;
                  printf "%-32s %6d lines %6d missed %8s\n", $1, $8, $9, $10 }
      END { printf "%-32s %6d lines %6d missed %7.2f%%\n", "protocol core", lines, missed,
                   100 * (lines - missed) / lines }'
}
profiles=()
for t in migrate migrate_events; do
  if [ "$secs" -gt 0 ]; then
    echo "== fuzzing $t for ${secs}s from $(ls "$work/$t" | wc -l) inputs in $work/$t"
    cargo fuzz run -s none "$t" "$work/$t" -- -max_total_time="$secs" -seed=1 \
      -print_final_stats=1 2>&1 | grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)"
  fi
  echo "== coverage of the $(ls "$work/$t" | wc -l) inputs of $t"
  rm -rf "fuzz/coverage/$t"
  # cargo-fuzz ends with an error when rustup's LLVM tools are missing, after the raw
  # profiles are written; the merge below does its work then.
  cargo fuzz coverage -s none "$t" "$work/$t" >/dev/null 2>&1 || true
  raw=(fuzz/coverage/"$t"/raw/*.profraw)
  [ -e "${raw[0]}" ] || { echo "cargo fuzz coverage wrote no profiles for $t" >&2; exit 1; }
  "$tools/llvm-profdata" merge -sparse "${raw[@]}" -o "$work/$t.profdata"
  "$tools/llvm-cov" report "$bindir/$t" -instr-profile="$work/$t.profdata" | table | tail -1 \
    | sed "s/^protocol core   */$t alone: /"
  profiles+=("$work/$t.profdata")
done
"$tools/llvm-profdata" merge -sparse "${profiles[@]}" -o "$work/both.profdata"
echo "== both targets"
cov="$tools/llvm-cov"
objects=("$bindir/migrate" -object "$bindir/migrate_events")
"$cov" report "${objects[@]}" -instr-profile="$work/both.profdata" | table
# shellcheck disable=SC2086  # $files: one argument per source file
"$cov" report "${objects[@]}" -instr-profile="$work/both.profdata" -show-functions $files \
  >"$work/functions.txt"
# shellcheck disable=SC2086
"$cov" show "${objects[@]}" -instr-profile="$work/both.profdata" -show-line-counts \
  -use-color=false $files \
  | awk '/^\/.*\.rs:$/ { f = $0 } /^ *[0-9]+\| *0\|/ { print f " " $0 }' >"$work/uncovered.txt"
echo "lines never run: $work/uncovered.txt; per function: $work/functions.txt"
