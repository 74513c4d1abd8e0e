#!/usr/bin/env bash
# Cancellation and SIGTERM (issue 17; docs/BENCHMARKS.md, "Cancellation and
# SIGTERM"): how long after its 503 a timed-out `quality: "best"` restore
# of 200 KB still holds its worker, and how long `unspin serve` takes to
# exit after SIGTERM with such requests in flight.
#
#   cargo build --release -p unspin-cli
#   bash scripts/install-neural-model.sh      # the best mode's model
#   bash scripts/bench-cancel.sh [TIMEOUT_S]  # default 10, as in the issue
#
# Needs curl. The text: the first 200 KB of data/corpus/heldout.txt run
# through the news spinner (seed 1), or the repository's sample repeated
# when the corpus is not built.
set -euo pipefail
cd "$(dirname "$0")/.."
timeout_s=${1:-10}
bin=target/release/unspin
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

if [[ -f data/corpus/heldout.txt ]]; then
    head -c 204800 data/corpus/heldout.txt | "$bin" spin --seed 1 >"$work/spun.txt"
else
    while [[ $(stat -c %s "$work/spun.txt" 2>/dev/null || echo 0) -lt 204800 ]]; do
        cat examples/spun-news.txt >>"$work/spun.txt"
    done
fi
python3 -c 'import json,sys; print(json.dumps({"text": open(sys.argv[1]).read(), "quality": "best"}))' \
    "$work/spun.txt" >"$work/best.json"
echo "text: $(wc -c <"$work/spun.txt") bytes, $(wc -w <"$work/spun.txt") words"

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
running() { curl -s "http://$addr/metrics" | awk '$1 == "unspin_jobs_running" {print $2}'; }
rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$pid/status"; }

start_server() {
    "$bin" serve --addr 127.0.0.1:0 --workers 2 --timeout "$timeout_s" 2>"$work/log" &
    pid=$!
    for _ in $(seq 100); do
        addr=$(grep -o '"url":"http://[^/]*' "$work/log" 2>/dev/null | head -1 | sed 's|.*//||') || true
        [[ -n "$addr" ]] && break
        sleep 0.1
    done
    # Load the neural model before timing anything.
    curl -s -o /dev/null -H 'Content-Type: application/json' \
        -d '{"text": "helium said so.", "quality": "best"}' "http://$addr/v1/restore"
}

echo "== timed-out best-mode restores (two at once, --timeout $timeout_s, --workers 2)"
start_server
echo "RSS before: $(rss_mb) MB"
t0=$(now)
clients=()
for i in 1 2; do
    curl -s -o "$work/out$i" -w '%{http_code}\n' -H 'Content-Type: application/json' \
        --data-binary @"$work/best.json" "http://$addr/v1/restore" >"$work/code$i" &
    clients+=($!)
done
wait "${clients[@]}"
answered=$(now)
echo "answers: $(cat "$work/code1") $(cat "$work/code2") after $(since "$t0" "$answered") s"
while [[ "$(running)" != "0" ]]; do sleep 0.01; done
freed=$(now)
echo "workers free $(since "$answered" "$freed") s after the answers"
echo "RSS after: $(rss_mb) MB"
curl -s "http://$addr/metrics" | grep -E '^unspin_(jobs_cancelled_total|http_rejected_total)'

echo "== SIGTERM with two best-mode restores in flight"
sleep 1
for i in 1 2; do
    curl -s -o /dev/null -H 'Content-Type: application/json' \
        --data-binary @"$work/best.json" "http://$addr/v1/restore" &
done
sleep 2
kill -TERM "$pid"
t0=$(now)
code=0
wait "$pid" || code=$?
echo "exit $code $(since "$t0" "$(now)") s after SIGTERM (--timeout $timeout_s)"
tail -3 "$work/log"
