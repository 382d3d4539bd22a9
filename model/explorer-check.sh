#!/usr/bin/env bash
# Checks the stateright Explorer (`check explore`) in a real headless browser.
#
# Starts the Explorer on a free loopback port for the `local-pids` counterexample's
# configuration, walks to the counterexample's last step (configuration, switch and path
# are read from the replay command in specs/counterexamples/local-pids.md, which a test
# keeps current; the expected texts are that figure's last action and broken invariant),
# and checks:
#   - the JSON the page loads (/.states/...) holds the formatted step (`format_step`),
#     the state's fingerprint and the sequence diagram (`as_svg`);
#   - the page as Chromium renders it shows the step's text and an <svg> that ends with
#     the broken invariants.
# Leaves target/explorer-screenshot.png and target/explorer-dom.html, and no process.
#
# Needs chromium (Debian: apt-get install -y chromium) and curl. Exit 0 if all is well,
# 1 with a message saying what differs otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

fail() {
    echo "explorer-check: FAIL: $*" >&2
    exit 1
}

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || fail "no chromium found (install it: apt-get install -y chromium; or set CHROMIUM)"
command -v curl >/dev/null || fail "curl is needed"

echo "explorer-check: building check"
nice cargo build --release -q -p model --bin check
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
check="$target_dir/release/check"
[ -x "$check" ] || fail "no binary at $check"

# The counterexample's path, as the figure's replay command gives it.
figure=specs/counterexamples/local-pids.md
replay=$(grep -m1 -- '-- replay --config ' "$figure" || true)
config=$(sed -n 's/.* --config \([a-z0-9-]*\).*/\1/p' <<<"$replay")
switch=$(sed -n 's/.* --switch \([a-z0-9-]*\).*/\1/p' <<<"$replay")
indices=$(sed -n 's/.* --path \([0-9,]*\).*/\1/p' <<<"$replay")
[ -n "$config" ] && [ -n "$switch" ] && [ -n "$indices" ] ||
    fail "no replay command (--config, --switch, --path) in $figure"
steps=$(tr ',' '\n' <<<"$indices" | wc -l)
# What the last step must show: its action (the figure's line `  N. action`) and the
# first broken invariant (the figure's `!! ...` line, its first 60 characters).
action=$(sed -n "s/^ *$steps\. \(.*\)$/\1/p" "$figure" | head -n1)
broken=$(sed -n 's/^ *\(!! .*\)$/\1/p' "$figure" | head -n1 | cut -c1-60)
[ -n "$action" ] && [ -n "$broken" ] || fail "no step $steps or no broken invariant in $figure"
json_text() { sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' <<<"$1"; }
html_text() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' <<<"$1"; }
# The Explorer's paths are the initial state's index (0), then an action index per step.
path="/0/${indices//,//}"
parent="${path%/*}"
last="${path##*/}"

server=""
profile=$(mktemp -d)
log=$(mktemp)
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    # Browser helpers that outlived the browser, found by this run's own profile folder.
    for pid in $(pgrep -f -- "--user-data-dir=$profile" || true); do
        kill "$pid" 2>/dev/null || true
    done
    rm -rf "$profile" "$log"
}
trap cleanup EXIT

# A free loopback port: one nothing answers on, then a server that did start on it.
port=""
for try in $(seq 1 20); do
    p=$((20000 + (RANDOM % 20000)))
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        continue
    fi
    "$check" explore --config "$config" --switch "$switch" --addr "127.0.0.1:$p" >"$log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do
        if curl -sf "http://127.0.0.1:$p/.status" >/dev/null 2>&1; then
            port=$p
            break
        fi
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] && break
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    server=""
done
[ -n "$port" ] || fail "the Explorer did not start (last log: $(cat "$log"))"
base="http://127.0.0.1:$port"
echo "explorer-check: Explorer on $base, path $path ($steps steps)"

# The JSON the page loads for the last step's choices.
json=$(curl -sf "$base/.states$parent") || fail "GET /.states$parent failed"
want_json=(
    "\"actionIndex\":$last"
    "\"action\":\"$(json_text "$action")\""
    "\"outcome\":\"$(json_text "$action")\\n"
    "$(json_text "$broken")"
    'State after this step:'
    '"fingerprint":"'
    '"svg":"<svg xmlns=\"http://www.w3.org/2000/svg\"'
    "BROKEN after step $steps:"
)
for w in "${want_json[@]}"; do
    grep -qF -- "$w" <<<"$json" || fail "/.states$parent lacks: $w"
done
# The initial state has a diagram too (lifelines only).
curl -sf "$base/.states" | grep -qF 'initial state: no step yet' ||
    fail "/.states: the initial state's diagram is missing"

browse() {
    timeout --kill-after=5 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$profile" --virtual-time-budget=10000 \
        --window-size=1500,1800 "$@" "$base/#/steps$path" 2>/dev/null
}

mkdir -p "$target_dir"
dom="$target_dir/explorer-dom.html"
shot="$target_dir/explorer-screenshot.png"
browse --dump-dom >"$dom" || fail "chromium --dump-dom failed"
want_dom=(
    '<svg xmlns="http://www.w3.org/2000/svg"'
    "$(html_text "$action")"
    "$(html_text "$broken")"
    "BROKEN after step $steps:"
    'State after this step:'
)
for w in "${want_dom[@]}"; do
    grep -qF -- "$w" "$dom" || fail "the page (saved in $dom) does not show: $w"
done
rm -f "$shot"
browse --screenshot="$shot" >/dev/null || fail "chromium --screenshot failed"
[ -s "$shot" ] || fail "no screenshot written to $shot"

echo "explorer-check: ok in $((SECONDS - start)) s (screenshot $shot, page $dom)"
