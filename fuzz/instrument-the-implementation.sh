#!/usr/bin/env bash
# rustc wrapper (set in .cargo/config.toml): in a fuzz build, only the code under test
# carries libFuzzer's coverage instrumentation.
#
# cargo calls it as `instrument-the-implementation.sh <rustc> <args...>`. Any build that is
# not a cargo-fuzz build (no `--cfg fuzzing` among the arguments) runs rustc unchanged.
# In a fuzz build, the implementation (`sprite`) and the fuzz targets keep every flag;
# every other crate (the model, the one-machine Unix, the conformance harness, the
# vocabulary, and registry crates such as stateright and serde) is compiled without the
# `sancov-module` pass, so it has no coverage counters and no comparison tracing. The
# sanitizer (`-Zsanitizer=...`), `--cfg fuzzing` and debug assertions are kept for every
# crate.
#
# Why: after each input libFuzzer visits every counter the input set and updates its
# feature tables; with the harness instrumented, most of those counters were the model's
# and the checker's, and that bookkeeping plus comparison tracing took over half of a
# `migrate` run. The feedback libFuzzer needs is the implementation's own coverage.
# Measurements: fuzz/README.md ("Measurements").
set -euo pipefail
rustc="$1"
shift
case " $* " in
  *" --cfg fuzzing "*) ;;
  *) exec "$rustc" "$@" ;;
esac
crate=
prev=
for arg in "$@"; do
  if [ "$prev" = "--crate-name" ]; then crate="$arg"; fi
  prev="$arg"
done
case "$crate" in
  sprite | migrate | migrate_events | codec | scenario) exec "$rustc" "$@" ;;
esac
args=()
for arg in "$@"; do
  [ "$arg" = "-Cpasses=sancov-module" ] || args+=("$arg")
done
exec "$rustc" "${args[@]}"
