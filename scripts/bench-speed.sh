#!/usr/bin/env bash
# Speed of `unspin restore` on the embedded default model, on one core.
#
#   scripts/bench-speed.sh            prints a Markdown section to stdout
#
# Builds spun documents of 1k, 10k, 100k and 1M words from the held-out corpus
# (data/corpus/heldout.txt spun with `unspin spin --profile news --seed 1`,
# paragraphs in one fixed pseudo-random order so every size mixes the domains
# alike; the 1M-word document goes round the corpus twice, rotated), then
# measures, with every run pinned to one core (taskset -c 0):
#   - wall and CPU time of `unspin restore DOC > /dev/null` (median of runs),
#   - start-up: `unspin restore` on a one-word input (hyperfine when present;
#     the script installs it with apt-get when it can, else a timed loop),
#   - peak resident memory (GNU time's maximum RSS; Debian package `time`),
# and fits time = start-up + words / rate to show that time grows linearly.
# CPU time (user + system) is reported next to wall time because it is less
# disturbed by other work on a shared machine; the load average is printed.
#
# Environment: UNSPIN_BIN (default: ${CARGO_TARGET_DIR:-target}/release/unspin),
# UNSPIN_SPEED_RUNS_SCALE (default 1: multiplies the run counts).
# Needs bash, python3 and taskset (util-linux); installs `time` and
# `hyperfine` with apt-get when missing and running as root.
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
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

log "spinning $(basename "$corpus") with the news profile"
"$bin" spin --profile news --seed 1 "$corpus" >"$work/spun.txt"
printf 'Hello\n' >"$work/one.txt"

sizes=(1000 10000 100000 1000000)
python3 - "$work/spun.txt" "$work" "${sizes[@]}" <<'PY'
import random, sys
src, out, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
paras = [l.split() for l in open(src, encoding="utf-8") if l.strip()]
order = list(range(len(paras)))
random.Random(1).shuffle(order)
for n in sizes:
    lines, words, k = [], 0, 0
    while words < n:
        # Pass p starts p*37 paragraphs further on, so repeated passes join
        # different paragraphs.
        p, i = divmod(k, len(order))
        w = paras[order[(i + 37 * p) % len(order)]][: n - words]
        lines.append(" ".join(w))
        words += len(w)
        k += 1
    with open(f"{out}/doc-{n}.txt", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
PY

# One timed run of restore: prints "wall_ns cpu_seconds max_rss_kib".
run_once() {
    local t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$work/time" "${pin[@]}" "$bin" restore "$1" >/dev/null
    t1=$(date +%s%N)
    read -r user sys rss <"$work/time"
    echo "$((t1 - t0)) $(python3 -c "print($user + $sys)") $rss"
}

results=$work/results.tsv
: >"$results"
for n in "${sizes[@]}"; do
    case $n in
        1000) runs=10 ;;
        10000) runs=5 ;;
        100000) runs=3 ;;
        *) runs=2 ;;
    esac
    runs=$((runs * scale))
    doc=$work/doc-$n.txt
    words=$(wc -w <"$doc")
    bytes=$(wc -c <"$doc")
    log "restore $n words x $runs runs"
    cat "$doc" >/dev/null # page cache
    for ((r = 0; r < runs; r++)); do
        echo "$n $words $bytes $(run_once "$doc")" >>"$results"
    done
done

log "start-up on a one-word input"
startup=$work/startup.txt
hf=""
if command -v hyperfine >/dev/null; then
    hf=$(hyperfine --version)
    hyperfine -N --style none --warmup 3 --runs $((30 * scale)) \
        --export-json "$work/startup.json" \
        "${pin[*]} $bin restore $work/one.txt" >/dev/null 2>&1
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
startup_cpu=()
for ((r = 0; r < 5; r++)); do
    startup_cpu+=("$(run_once "$work/one.txt")")
done
printf '%s\n' "${startup_cpu[@]}" >"$work/startup_cpu.txt"

cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
mem=$(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$results" "$startup" "$work/startup_cpu.txt" "$(nproc)" "${cpu:-unknown CPU}" "$mem" \
    "$("$bin" --version)" "$hf" "$load_before" "$load_after" <<'PY'
import datetime, statistics as st, sys
results, startup, startup_cpu, nproc, cpu, mem, version, hf, load0, load1 = sys.argv[1:11]
rows = {}
for line in open(results):
    n, words, size, ns, cpu_s, rss = line.split()
    r = rows.setdefault(int(n), {"words": int(words), "bytes": int(size), "t": [], "cpu": [], "rss": []})
    r["t"].append(int(ns) / 1e9)
    r["cpu"].append(float(cpu_s))
    r["rss"].append(int(rss))
tool, *times = open(startup).read().split()
su = [int(t) / 1e9 for t in times]
su_med = st.median(su)
su_runs = [l.split() for l in open(startup_cpu) if l.strip()]
su_cpu = st.median(float(x[1]) for x in su_runs)
su_rss = max(int(x[2]) for x in su_runs) / 1024
sizes = sorted(rows)

def fit(ys):
    xs = [rows[n]["words"] for n in sizes]
    mx, my = st.mean(xs), st.mean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    a = my - b * mx
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
    ss_tot = sum((y - my) ** 2 for y in ys)
    return a, b, (1 - ss_res / ss_tot if ss_tot > 0 else 1.0)

wall = [st.median(rows[n]["t"]) for n in sizes]
cpu_t = [st.median(rows[n]["cpu"]) for n in sizes]
fw, fc = fit(wall), fit(cpu_t)
peak = max(max(r["rss"]) for r in rows.values()) / 1024
big = rows[sizes[-1]]
big_wall = big["words"] / st.median(big["t"])
big_cpu = big["words"] / st.median(big["cpu"])

def fmt(n):
    return f"{n:,.0f}"

now = datetime.datetime.now(datetime.timezone.utc)
print(f"- Date: {now:%Y-%m-%d %H:%M} UTC")
print(f"- Machine: {nproc} CPUs ({cpu}), {mem} memory; load average {load0} before, {load1} after; every run pinned to one core (`taskset -c 0`)")
print(f"- Binary: {version}, release build, embedded default model, default options; each run: `unspin restore DOC > /dev/null`, start-up included")
print("- Documents: the held-out corpus spun with `unspin spin --profile news --seed 1`, paragraphs in one fixed shuffled order, cut (or, for 1M words, repeated with a rotation) to each size; words are whitespace-separated")
print()
print("| words | input | runs | wall time (median) | CPU time (median) | words/s, wall | words/s, CPU | CPU ms per 1k words, start-up excluded | peak RSS |")
print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for n, t, c in zip(sizes, wall, cpu_t):
    r = rows[n]
    # CPU times have 10 ms resolution: too coarse for the small documents.
    per_k = f"{(c - su_cpu) / r['words'] * 1e6:.1f}" if c - su_cpu >= 0.1 else "-"
    print(
        f"| {fmt(r['words'])} | {r['bytes'] / 1e6:.2f} MB | {len(r['t'])} | {t:.3f} s | {c:.2f} s"
        f" | {fmt(r['words'] / t)} | {fmt(r['words'] / c)} | {per_k} | {max(r['rss']) / 1024:.0f} MiB |"
    )
print()
how = f"{hf}" if tool == "hyperfine" else "a `date +%s%N` loop"
print(f"- Start-up (`unspin restore` on a one-word file; wall time over {len(su)} runs by {how}): median {su_med * 1000:.0f} ms (min {min(su) * 1000:.0f}, max {max(su) * 1000:.0f}); CPU {su_cpu * 1000:.0f} ms; peak RSS {su_rss:.0f} MiB")
print(f"- Linear fit over the four sizes: wall = {fw[0] * 1000:.0f} ms + words / {fmt(1 / fw[1])} words/s (R² = {fw[2]:.4f}); CPU = {fc[0] * 1000:.0f} ms + words / {fmt(1 / fc[1])} words/s (R² = {fc[2]:.4f})")
print(f"- Peak memory over all runs: {peak:.0f} MiB = {peak * 1.048576:.0f} MB (maximum resident set size from GNU time)")
ok = lambda c: "met" if c else "NOT met"
print(
    f"- Targets: >= 100,000 words/s on one core: {fmt(big_wall)} wall, {fmt(big_cpu)} CPU on 1M words ({ok(big_wall >= 100_000)}); "
    f"start-up < 1 s: {su_med * 1000:.0f} ms ({ok(su_med < 1)}); peak memory < 300 MB: {peak * 1.048576:.0f} MB ({ok(peak * 1.048576 < 300)})"
)
PY
