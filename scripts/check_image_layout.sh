#!/usr/bin/env bash
# Checks what the Dockerfile promises, on a machine with no Docker engine:
# the build stage's `citebot model fetch` fills a Hugging Face cache, and
# the run stage's layout (/app with corpus/, config/, hf/ and data/, with
# HF_HOME=/app/hf and HF_HUB_OFFLINE=1) answers `ask` with the model and
# no network at all (a new network namespace, as `docker run --network
# none`).
#
# The Hub is stood in for by a local HTTP server over ../shared/models,
# answering /{repo}/resolve/main/{file} like the real one; `model fetch`
# checks each file against its pinned sha256 as it would from the Hub.
# Needs root for `unshare -n` (skipped, with a warning, without it).
#
#   scripts/check_image_layout.sh
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}
port=${PORT:-18765}
work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --locked --bin citebot
bin=$PWD/target/release/citebot

# The stand-in Hub.
mkdir -p "$work/hub/sentence-transformers/all-MiniLM-L6-v2/resolve"
ln -s "$(realpath "$shared/models/all-MiniLM-L6-v2")" \
    "$work/hub/sentence-transformers/all-MiniLM-L6-v2/resolve/main"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/hub" >"$work/hub.log" 2>&1 &
server=$!
for _ in $(seq 50); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done

# Build stage: ENV HF_HOME=/hf, RUN citebot model fetch.
HF_HOME="$work/hf" HF_ENDPOINT="http://127.0.0.1:$port" "$bin" model fetch

# Run stage: WORKDIR /app, the binary, corpus, config and the cache.
app="$work/app"
mkdir -p "$app/data"
cp -r corpus config "$app/"
cp -r "$work/hf" "$app/hf"
run=(env -i PATH=/usr/bin:/bin HOME="$app" HF_HOME="$app/hf" HF_HUB_OFFLINE=1 "$bin")
if unshare -n true 2>/dev/null; then
    run=(unshare -n "${run[@]}")
else
    echo "warning: no network namespace (not root?); running with the network" >&2
fi
cd "$app"
"${run[@]}" model
answer=$("${run[@]}" ask --json "Why does China matter to so many countries?")
echo "$answer" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["retrieval"] == "hybrid", d["retrieval"]
assert d["answered"] and d["hits"], d
print("ok: hybrid answer with no network:", d["hits"][0]["passage_id"])
'
