#!/usr/bin/env bash
# The model's throughput beside stateright's own two-phase-commit example (8 resource
# managers), measured in the same run on the same machine with the same thread count
# (both use every core and search depth first). The example is built from the stateright
# source cargo already downloaded (a scratch copy outside the repository: its examples
# are not part of the published library).
#
#   model/benches/vs_2pc.sh [CONFIG]     # default: open-files
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
config=${1:-open-files}
manifest=$(cargo metadata --format-version 1 --manifest-path "$root/Cargo.toml" |
  python3 -c 'import json,sys; print(next(p["manifest_path"] for p in json.load(sys.stdin)["packages"] if p["name"]=="stateright"))')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$(dirname "$manifest")" "$work/stateright"
(cd "$work/stateright" && CARGO_TARGET_DIR="$work/target" cargo build --release --example 2pc -q)
(cd "$root" && cargo build --release --bin check -q)

threads=$(nproc)
echo "== stateright 2pc, 8 resource managers ($threads threads, depth first)"
start=$(date +%s.%N)
"$work/target/release/examples/2pc" check 8 | tee "$work/2pc.out" | tail -1
end=$(date +%s.%N)
unique_2pc=$(grep -o 'unique=[0-9]*' "$work/2pc.out" | tail -1 | cut -d= -f2)
secs_2pc=$(python3 -c "print($end - $start)")

echo "== model, $config ($threads threads, depth first)"
"$root/target/release/check" --config "$config" --no-alternatives --search dfs --json 2>/dev/null >"$work/model.json" || true
read -r unique_model secs_model < <(python3 -c '
import json,sys
r=json.load(open(sys.argv[1]))["configurations"][0]
print(r["unique_states"], r["seconds"])' "$work/model.json")

python3 - "$unique_2pc" "$secs_2pc" "$unique_model" "$secs_model" <<'PY'
import sys
u2, s2, um, sm = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
r2, rm = u2 / s2, um / sm
print(f"2pc   : {u2:>12,} unique states in {s2:6.2f} s = {r2:>10,.0f} unique/s")
print(f"model : {um:>12,} unique states in {sm:6.2f} s = {rm:>10,.0f} unique/s")
print(f"model / 2pc = {rm / r2:.2f} (the aim: at least 0.5)")
PY
