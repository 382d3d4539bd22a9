#!/usr/bin/env bash
# Line coverage of the implementation's protocol core after a fuzz run of `migrate` from
# the committed seeds (issue: "coverage after a 5-minute fuzz run from the committed
# corpus"). For people to run, not CI: it takes the fuzzing time plus about 5 minutes of
# building.
#
#   fuzz/coverage.sh [seconds] [corpus-dir]
#
# seconds     fuzzing time, default 300; 0 skips fuzzing and measures the corpus as it is
# corpus-dir  where the corpus grows, default a new scratch directory holding a copy of
#             fuzz/corpus/migrate/seed-*
#
# Steps: `cargo fuzz run -s none migrate <corpus> -- -max_total_time=<seconds> -seed=1`;
# `cargo fuzz coverage -s none migrate <corpus>` (runs every input of the corpus once in a
# build with -Cinstrument-coverage); `llvm-profdata merge`; `llvm-cov report`, of which it
# prints the protocol core's files (the kernels, the file server and its pipes, the
# migration modules, the message codec; not the simulator, which also holds the
# host-selection layer the harness does not use) and their total, and writes the
# uncovered lines of those files to <corpus>.uncovered.txt.
#
# The LLVM tools: cargo-fuzz's merge uses rustup's llvm-tools-preview component, which
# needs the network to install. Debian's llvm-19 (`apt-get install llvm-19`) reads the
# profiles of this repository's toolchains (LLVM 22) as well, and is used when the
# component is missing.
set -euo pipefail
secs="${1:-300}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
corpus="${2:-}"
if [ -z "$corpus" ]; then
  corpus="$(mktemp -d /tmp/sprite-cov-XXXXXX)"
  cp fuzz/corpus/migrate/seed-* "$corpus/"
fi
sysroot="$(rustc --print sysroot)"
tools="$sysroot/lib/rustlib/x86_64-unknown-linux-gnu/bin"
if [ ! -x "$tools/llvm-profdata" ]; then tools=/usr/lib/llvm-19/bin; fi
if [ ! -x "$tools/llvm-profdata" ]; then
  echo "no llvm-profdata: rustup component add llvm-tools-preview, or apt-get install llvm-19" >&2
  exit 2
fi
if [ "$secs" -gt 0 ]; then
  echo "== fuzzing migrate for ${secs}s from $(ls "$corpus" | wc -l) inputs in $corpus"
  cargo fuzz run -s none migrate "$corpus" -- -max_total_time="$secs" -seed=1 \
    -print_final_stats=1 2>&1 | grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)"
fi
echo "== coverage of $(ls "$corpus" | wc -l) inputs"
rm -rf fuzz/coverage/migrate
# cargo-fuzz ends with an error when rustup's LLVM tools are missing, after the raw
# profiles are written; the merge below does its work then.
cargo fuzz coverage -s none migrate "$corpus" >/dev/null 2>&1 || true
raw=(fuzz/coverage/migrate/raw/*.profraw)
[ -e "${raw[0]}" ] || { echo "cargo fuzz coverage wrote no profiles" >&2; exit 1; }
"$tools/llvm-profdata" merge -sparse "${raw[@]}" -o fuzz/coverage/migrate/coverage.profdata
bin=target/x86_64-unknown-linux-gnu/coverage/x86_64-unknown-linux-gnu/release/migrate
core='impl/src/(kernel|kernel/[a-z_]+|fs|fs/[a-z_]+|vm|msg|migrate/[a-z_]+)\.rs$'
"$tools/llvm-cov" report "$bin" -instr-profile=fuzz/coverage/migrate/coverage.profdata \
  | awk -v core="$core" '
      $1 ~ core { sub(/.*impl\/src\//, "impl/src/", $1); lines += $8; missed += $9;
                  printf "%-32s %6d lines %6d missed %8s\n", $1, $8, $9, $10 }
      END { printf "%-32s %6d lines %6d missed %7.2f%%\n", "protocol core", lines, missed,
                   100 * (lines - missed) / lines }'
files=$(ls impl/src/*.rs impl/src/*/*.rs | grep -E "$core")
# shellcheck disable=SC2086
"$tools/llvm-cov" show "$bin" -instr-profile=fuzz/coverage/migrate/coverage.profdata \
  -show-line-counts -use-color=false $files >"$corpus.uncovered.txt.full"
# Keep the lines that were never run (count 0), with their file.
awk '/^\/.*\.rs:$/ { f = $0 } /^ *[0-9]+\| *0\|/ { print f " " $0 }' \
  "$corpus.uncovered.txt.full" >"$corpus.uncovered.txt"
rm -f "$corpus.uncovered.txt.full"
echo "uncovered lines: $corpus.uncovered.txt"
