#!/usr/bin/env bash
# Speed of `unspin restore` on the embedded default model, on one core.
#
#   scripts/bench-speed.sh            prints a Markdown section to stdout
#
# Builds spun documents of 1k, 10k, 100k and 1M words from the held-out corpus
# (data/corpus/heldout.txt, spun with `unspin spin --profile news --seed 1`;
# the 1M-word document repeats the corpus with the paragraphs rotated on each
# pass), then measures, with the process pinned to one core (taskset -c 0):
#   - wall time of `unspin restore DOC > /dev/null` (median of several runs),
#   - start-up: `unspin restore` on a one-word input (hyperfine when present;
#     the script installs it with apt-get when it can, else a timed loop),
#   - peak resident memory (GNU time's maximum RSS; Debian package `time`),
# and fits time = start-up + words / rate to show that time grows linearly.
#
# Environment: UNSPIN_BIN (default: $CARGO_TARGET_DIR or target, /release/unspin),
# UNSPIN_SPEED_RUNS_SCALE (default 1: multiply the run counts).
# Needs bash, python3, taskset (util-linux); runs as root on a fresh Debian machine.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${UNSPIN_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/unspin}
corpus=$root/data/corpus/heldout.txt
scale=${UNSPIN_SPEED_RUNS_SCALE:-1}

log() { printf 'bench-speed: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -x $bin ]] || die "$bin not found: run \`cargo build --release\` first (or set UNSPIN_BIN)"
[[ -s $corpus ]] || die "$corpus not found: run \`bash scripts/build-corpus.sh\` first"
command -v python3 >/dev/null || die "python3 not found"

apt_install() {
    command -v apt-get >/dev/null && [[ $(id -u) == 0 ]] || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1 && return 0
    log "apt-get update (to install $1)"
    apt-get update -q >/dev/null 2>&1 || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >/dev/null 2>&1
}
if [[ ! -x /usr/bin/time ]]; then
    log "installing GNU time"
    apt_install time || die "GNU time (/usr/bin/time) is missing and could not be installed"
fi
if ! command -v hyperfine >/dev/null; then
    log "installing hyperfine"
    apt_install hyperfine || log "hyperfine not available; timing start-up with a loop"
fi
pin=()
if command -v taskset >/dev/null; then
    pin=(taskset -c 0)
else
    log "taskset not found: runs are not pinned to one core"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/unspin-speed.XXXXXX")
trap 'rm -rf "$work"' EXIT

log "spinning $(basename "$corpus") with the news profile"
"$bin" spin --profile news --seed 1 "$corpus" >"$work/spun.txt"
printf 'Hello\n' >"$work/one.txt"

sizes=(1000 10000 100000 1000000)
python3 - "$work/spun.txt" "$work" "${sizes[@]}" <<'EOF'
import sys
src, out, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
paras = [l.split() for l in open(src, encoding="utf-8") if l.strip()]
for n in sizes:
    lines, words, k = [], 0, 0
    while words < n:
        # Pass p starts p*37 paragraphs further on, so repeated passes join
        # different paragraphs.
        p, i = divmod(k, len(paras))
        w = paras[(i + 37 * p) % len(paras)][: n - words]
        lines.append(" ".join(w))
        words += len(w)
        k += 1
    with open(f"{out}/doc-{n}.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
EOF

# One timed run: prints "nanoseconds max_rss_kib".
run_once() {
    local doc=$1 t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/rss" "${pin[@]}" "$bin" restore "$doc" >/dev/null
    t1=$(date +%s%N)
    echo "$((t1 - t0)) $(tail -n 1 "$work/rss")"
}

results=$work/results.tsv
: >"$results"
for n in "${sizes[@]}"; do
    case $n in
        1000) runs=10 ;;
        10000) runs=7 ;;
        100000) runs=5 ;;
        *) runs=3 ;;
    esac
    runs=$((runs * scale))
    doc=$work/doc-$n.txt
    words=$(wc -w <"$doc")
    bytes=$(wc -c <"$doc")
    log "restore $n words x $runs runs"
    run_once "$doc" >/dev/null # warm the page cache
    for ((r = 0; r < runs; r++)); do
        echo "$n $words $bytes $(run_once "$doc")" >>"$results"
    done
done

log "start-up on a one-word input"
startup=$work/startup.txt
if command -v hyperfine >/dev/null; then
    hyperfine -N --style none --warmup 3 --runs $((30 * scale)) \
        --export-json "$work/startup.json" \
        "${pin[*]} $bin restore $work/one.txt" >/dev/null 2>&1 || hyperfine --style none --warmup 3 --runs $((30 * scale)) \
        --export-json "$work/startup.json" \
        "${pin[*]} $bin restore $work/one.txt >/dev/null" >/dev/null
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("hyperfine", " ".join(str(int(t * 1e9)) for t in r["times"]))
' "$work/startup.json" >"$startup"
else
    {
        printf 'loop'
        for ((r = 0; r < 30 * scale; r++)); do
            t0=$(date +%s%N)
            "${pin[@]}" "$bin" restore "$work/one.txt" >/dev/null
            t1=$(date +%s%N)
            printf ' %s' $((t1 - t0))
        done
        echo
    } >"$startup"
fi
startup_rss=$(/usr/bin/time -f '%M' "${pin[@]}" "$bin" restore "$work/one.txt" 2>&1 >/dev/null | tail -n 1)

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
hf=$(command -v hyperfine >/dev/null && hyperfine --version || echo "")
python3 - "$results" "$startup" "$startup_rss" "$(nproc)" "${cpu:-unknown CPU}" "$mem" "$("$bin" --version)" "$hf" <<'EOF'
import statistics as st, sys
results, startup, startup_rss, nproc, cpu, mem, version, hf = sys.argv[1:9]
rows = {}
for line in open(results):
    n, words, size, ns, rss = (int(x) for x in line.split())
    r = rows.setdefault(n, {"words": words, "bytes": size, "t": [], "rss": []})
    r["t"].append(ns / 1e9)
    r["rss"].append(rss)
tool, *times = open(startup).read().split()
su = [int(t) / 1e9 for t in times]
su_med = st.median(su)
sizes = sorted(rows)
xs = [rows[n]["words"] for n in sizes]
ys = [st.median(rows[n]["t"]) for n in sizes]
# Least squares t = a + b * words.
mx, my = st.mean(xs), st.mean(ys)
b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
a = my - b * mx
ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
ss_tot = sum((y - my) ** 2 for y in ys)
r2 = 1 - ss_res / ss_tot if ss_tot > 0 else 1.0
peak = max(max(r["rss"]) for r in rows.values()) / 1024
big = rows[sizes[-1]]
big_rate = big["words"] / st.median(big["t"])

def fmt(n):
    return f"{n:,.0f}"

print(f"- Date: {__import__('datetime').datetime.now(__import__('datetime').timezone.utc):%Y-%m-%d %H:%M} UTC")
print(f"- Machine: {nproc} CPUs ({cpu}), {mem} memory; every run pinned to one core (`taskset -c 0`)")
print(f"- Binary: {version}, release build, embedded default model, default options; command: `unspin restore DOC > /dev/null`")
print("- Documents: held-out corpus spun with `unspin spin --profile news --seed 1`, cut or repeated (paragraphs rotated on each pass) to each size; words are whitespace-separated")
print()
print("| words | input | runs | wall time (median) | min .. max | words/s incl. start-up | words/s excl. start-up | time per 1k words | peak RSS |")
print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for n in sizes:
    r = rows[n]
    t = st.median(r["t"])
    net = t - su_med
    print(
        f"| {fmt(r['words'])} | {r['bytes'] / 1e6:.2f} MB | {len(r['t'])} | {t:.3f} s | {min(r['t']):.3f} .. {max(r['t']):.3f} s"
        f" | {fmt(r['words'] / t)} | {fmt(r['words'] / net) if net > 0 else '-'} | {1000 * t / r['words'] * 1000:.2f} ms"
        f" | {max(r['rss']) / 1024:.0f} MiB |"
    )
print()
how = f"hyperfine {hf.split()[-1]}" if tool == "hyperfine" else "a `date +%s%N` loop"
print(f"- Start-up (`unspin restore` on a one-word file, {len(su)} runs by {how}): median {su_med * 1000:.0f} ms, min {min(su) * 1000:.0f} ms, max {max(su) * 1000:.0f} ms; peak RSS {int(startup_rss) / 1024:.0f} MiB")
print(f"- Linear fit over the four sizes: time = {a * 1000:.0f} ms + words / {fmt(1 / b)} words/s (R² = {r2:.5f}); the time per 1k words above stays flat from 10k to 1M words")
print(f"- Peak memory over all runs: {peak:.0f} MiB (maximum resident set size from GNU time)")
ok = lambda c: "met" if c else "NOT met"
print(
    f"- Targets: >= 100,000 words/s on one core: {fmt(big_rate)} on 1M words ({ok(big_rate >= 100_000)}); "
    f"start-up < 1 s: {su_med * 1000:.0f} ms ({ok(su_med < 1)}); peak memory < 300 MB: {peak * 1.048576:.0f} MB ({ok(peak * 1.048576 < 300)})"
)
EOF
