#!/usr/bin/env bash
# rustc wrapper (set in .cargo/config.toml): in a fuzz build, only the code under test
# carries libFuzzer's coverage instrumentation.
#
# cargo calls it as `instrument-the-implementation.sh <rustc> <args...>`. Any build that is
# not a cargo-fuzz build (no `--cfg fuzzing` among the arguments) runs rustc unchanged.
# In a fuzz build, the implementation (package `sprite`) and the fuzz targets (package
# `sprite-fuzz`) keep every flag;
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
# cargo names the package being compiled in CARGO_PKG_NAME: the implementation, and the
# fuzz package (its targets, whatever their names), keep every flag.
case "${CARGO_PKG_NAME:-}" in
  sprite | sprite-fuzz) exec "$rustc" "$@" ;;
esac
args=()
for arg in "$@"; do
  [ "$arg" = "-Cpasses=sancov-module" ] || args+=("$arg")
done
exec "$rustc" "${args[@]}"
