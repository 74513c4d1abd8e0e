#!/usr/bin/env bash
# Load test of `unspin serve` on loopback: throughput and latency with
# 1,000-word documents, then 10,000 malformed requests.
#
#   bash scripts/bench-serve.sh        prints a Markdown section to stdout
#
# Steps:
#   1. spins data/corpus/heldout.txt with `unspin spin --profile news --seed 1`
#      and cuts it into 200 documents of exactly 1,000 words (paragraphs in one
#      fixed shuffled order, so every document mixes the corpus's domains);
#   2. starts `unspin serve --addr 127.0.0.1:0` (default settings: one worker
#      per core, queue 64, JSON log to a file);
#   3. `unspin-loadgen load`: closed-loop keep-alive connections replaying the
#      documents to /v1/restore at 1, 2, 4 and 8 connections, then /v1/detect
#      and /v2/check at 4, each for UNSPIN_SERVE_SECONDS (default 15) after a
#      2 s warm-up;
#   4. `unspin-loadgen malformed`: 10,000 malformed requests of 18 kinds, 8 at
#      a time, one connection each;
#   5. checks /healthz, stops the server with SIGTERM and checks exit status 0.
# Every request goes to 127.0.0.1 only; every loop is bounded in count or time.
#
# Environment: UNSPIN_BIN_DIR (default: ${CARGO_TARGET_DIR:-target}/release),
# UNSPIN_SERVE_SECONDS (default 15), UNSPIN_MALFORMED (default 10000).
# Needs python3 and the release binaries `unspin` and `unspin-loadgen`
# (`cargo build --release -p unspin-cli -p unspin-bench`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bindir=${UNSPIN_BIN_DIR:-${CARGO_TARGET_DIR:-$root/target}/release}
bin=$bindir/unspin
loadgen=$bindir/unspin-loadgen
corpus=$root/data/corpus/heldout.txt
seconds=${UNSPIN_SERVE_SECONDS:-15}
malformed=${UNSPIN_MALFORMED:-10000}

log() { printf 'bench-serve: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -x $bin && -x $loadgen ]] || die "$bin or $loadgen not found: run \`cargo build --release -p unspin-cli -p unspin-bench\` first"
[[ -s $corpus ]] || die "$corpus not found: run \`bash scripts/build-corpus.sh\` first"
command -v python3 >/dev/null || die "python3 not found"

work=$(mktemp -d "${TMPDIR:-/tmp}/unspin-serve.XXXXXX")
server_pid=
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

log "spinning $(basename "$corpus") with the news profile"
"$bin" spin --profile news --seed 1 "$corpus" >"$work/spun.txt"
python3 - "$work/spun.txt" "$work/docs.jsonl" <<'PY'
import json, random, sys
src, out = sys.argv[1], sys.argv[2]
paras = [l.rstrip("\n") for l in open(src, encoding="utf-8") if l.strip()]
order = list(range(len(paras)))
random.Random(1).shuffle(order)
docs, cur, n, k = [], [], 0, 0
while len(docs) < 200:
    words = paras[order[k % len(order)]].split()
    k += 1
    take = words[: 1000 - n]
    cur.append(" ".join(take))
    n += len(take)
    if n == 1000:
        docs.append("\n\n".join(cur) + "\n")
        cur, n = [], 0
with open(out, "w", encoding="utf-8") as f:
    for d in docs:
        assert len(d.split()) == 1000
        f.write(json.dumps({"text": d}) + "\n")
PY
head -c 20000 "$work/spun.txt" >"$work/sample.txt"

log "starting unspin serve"
"$bin" serve --addr 127.0.0.1:0 2>"$work/server.log" &
server_pid=$!
url=
for _ in $(seq 1 100); do
    url=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    v = json.loads(l)
    if v.get("msg") == "listening": print(v["url"].rstrip("/")); break' "$work/server.log" 2>/dev/null || true)
    [[ -n $url ]] && break
    sleep 0.1
done
[[ -n $url ]] || die "the server did not start: $(cat "$work/server.log")"
log "server at $url (pid $server_pid)"

run_load() { # name path encoding connections
    log "load: $2 ($3) at $4 connections for ${seconds}s"
    "$loadgen" load --url "$url" --path "$2" --encoding "$3" --docs "$work/docs.jsonl" \
        --connections "$4" --duration "$seconds" --warmup 2 >"$work/load-$1.json"
}
run_load restore-1 /v1/restore text 1
run_load restore-2 /v1/restore text 2
run_load restore-4 /v1/restore text 4
run_load restore-8 /v1/restore text 8
run_load restore-json-4 /v1/restore json 4
run_load detect-4 /v1/detect text 4
run_load check-4 /v2/check form 4
log "malformed: $malformed requests"
"$loadgen" malformed --url "$url" --count "$malformed" --connections 8 --seed 1 --text "$work/sample.txt" >"$work/malformed.json"

health=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=10).status)' "$url")
cpu_ticks=$(awk '{print $14 + $15}' "/proc/$server_pid/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
kill -TERM "$server_pid"
set +e
wait "$server_pid"
exit_status=$?
set -e
server_pid=
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

python3 - "$work" "$started" "$load_before" "$load_after" "$health" "$exit_status" "$cpu_ticks" "$hwm" "$seconds" "$(getconf CLK_TCK)" "$commit" <<'PY'
import json, os, sys
work, started, lb, la, health, exit_status, ticks, hwm, seconds, clk, commit = sys.argv[1:12]
def load(name):
    return json.load(open(os.path.join(work, f"load-{name}.json")))
cpu = ""
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip(); break
ncpu = os.cpu_count()
mem = int(open("/proc/meminfo").readline().split()[1]) / 1024 / 1024
print("## Serve\n")
print(f"Reproduce with `cargo build --release -p unspin-cli -p unspin-bench && bash scripts/bench-serve.sh` "
      f"(needs `bash scripts/build-corpus.sh` first).\n")
print(f"- Date: {started}")
print(f"- Machine: {ncpu} CPUs ({cpu}), {mem:.1f} GiB memory; load average {lb} before, {la} after. "
      "Server and load generator share the 2 cores (the generator is one thread).")
if max(float(lb.split()[0]), float(la.split()[0])) > 1.5:
    print("- **The machine was loaded by other work during this run** (load average above 1.5 on "
          f"{ncpu} CPUs): the throughput below understates an idle machine and the latencies overstate it.")
print(f"- Server: `unspin serve --addr 127.0.0.1:0` with its defaults: {ncpu} workers (one per core), queue 64, "
      "1 MiB body limit, 10 s timeout, JSON log line per request to a file; embedded default model; commit " + commit)
print("- Documents: 200 documents of exactly 1,000 words cut from the held-out corpus spun by "
      "`unspin spin --profile news --seed 1` (about 6 KB each), sent in turn")
print(f"- Load: `unspin-loadgen load` on loopback, closed loop (each connection sends its next request when the "
      f"previous answer is in), keep-alive, {seconds} s measured after 2 s of warm-up; latency is from the first byte "
      "sent to the last byte of the answer\n")
print("| endpoint | body | connections | requests | req/s | words/s | p50 ms | p90 ms | p99 ms | max ms | answer size | statuses |")
print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
rows = [("restore-1", "/v1/restore", "text/plain"), ("restore-2", "/v1/restore", "text/plain"),
        ("restore-4", "/v1/restore", "text/plain"), ("restore-8", "/v1/restore", "text/plain"),
        ("restore-json-4", "/v1/restore", "JSON"), ("detect-4", "/v1/detect", "text/plain"),
        ("check-4", "/v2/check", "form (LanguageTool)")]
for name, ep, body in rows:
    r = load(name)
    st = ", ".join(f"{k}: {v:,}" for k, v in r["statuses"].items())
    if r["failed"]:
        st += f", no answer: {r['failed']}"
    print(f"| `{ep}` | {body} | {r['connections']} | {r['requests']:,} | {r['rps']:.1f} | {r['rps'] * 1000:,.0f} | "
          f"{r['p50_ms']:.1f} | {r['p90_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | "
          f"{r['mean_response_bytes'] / 1024:.0f} KiB | {st} |")
m = json.load(open(os.path.join(work, "malformed.json")))
r4 = load("restore-4")
met = r4["rps"] >= 150 and r4["p99_ms"] < 100
print()
print(f"Target (restore, 4 connections): at least 150 req/s with p99 under 100 ms: "
      f"{r4['rps']:.1f} req/s, p99 {r4['p99_ms']:.1f} ms ({'met' if met else 'NOT met'}).\n")
st = ", ".join(f"{k}: {v:,}" for k, v in m["statuses"].items())
bad = sum(m["server_errors"].values()) + sum(m["accepted"].values()) + sum(m["unanswered"].values())
print(f"Malformed requests (`unspin-loadgen malformed --count {m['sent']} --connections 8 --seed 1`, 18 kinds: "
      "truncated or wrongly shaped JSON, bad options, wrong or missing content types, invalid UTF-8, binary, "
      "bodies over the limit, empty bodies, wrong methods, unknown paths, broken HTTP, bad LanguageTool fields, "
      "bodies cut short, forms without text, huge headers, bad content-type headers): "
      f"{m['sent']:,} sent in {m['seconds']:.1f} s; answers {st}; "
      f"5xx: {sum(m['server_errors'].values())}, 2xx: {sum(m['accepted'].values())}, "
      f"no answer: {sum(m['unanswered'].values())}"
      f"{' (' + json.dumps({**m['server_errors'], **m['accepted'], **m['unanswered']}) + ')' if bad else ''}. "
      f"Afterwards /healthz answered {health}; SIGTERM stopped the server with exit status {exit_status}. "
      f"Server CPU time over the whole run: {int(ticks) / int(clk):.0f} s; peak resident memory {int(hwm) / 1024:.0f} MiB.")
PY
