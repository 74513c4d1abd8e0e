#!/usr/bin/env bash
# Time per 1,000-word article of `unspin restore --quality best` (issue 6),
# the whole command as a user runs it: model loads included.
#
#   scripts/bench-best-article.sh        prints a Markdown section to stdout
#
# Articles: two per domain of the held-out corpus (data/corpus/heldout.jsonl):
# consecutive documents of one source joined until they reach 1,000 words,
# cut there (whitespace kept), spun with `unspin spin --profile news --seed 0`. Each article is restored RUNS times
# (default 3) with GNU time; the table gives the median wall and CPU time and
# the peak resident memory, and the default mode's wall time on the same file.
# Prints the load average: wall times on a busy machine are not comparable.
#
# Environment: UNSPIN_BIN (default: ${CARGO_TARGET_DIR:-target}/release/unspin),
# RUNS (default 3), SPIN_ARGS (default "--profile news --seed 0"; for example
# "--profile synonym --rate 0.3 --seed 0", or "none" to time clean articles). Needs the neural model (scripts/install-neural-model.sh),
# the corpus (scripts/build-corpus.sh), python3 and GNU time (Debian `time`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${UNSPIN_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/unspin}
runs=${RUNS:-3}
spin_args=${SPIN_ARGS:-"--profile news --seed 0"}
corpus=$root/data/corpus/heldout.jsonl

[[ -x $bin ]] || { echo "bench-best-article: $bin not found (cargo build --release -p unspin-cli)" >&2; exit 2; }
[[ -f $corpus ]] || { echo "bench-best-article: $corpus not found (bash scripts/build-corpus.sh)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench-best-article: GNU time not found (apt-get install time)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$corpus" "$work" <<'EOF'
import json, re, sys
corpus, work = sys.argv[1], sys.argv[2]
# Consecutive documents of one source, joined by a blank line until they
# reach 1,000 words, then cut there: the first two such articles per domain.
made, cur, cur_src = {}, [], None
def flush():
    text = "\n\n".join(d["text"] for d in cur)
    words = list(re.finditer(r"\S+", text))
    dom = cur[0]["domain"]
    if len(words) >= 1000 and made.get(dom, 0) < 2:
        made[dom] = made.get(dom, 0) + 1
        with open(f"{work}/{dom}-{made[dom]}-{cur[0]['id']}.txt", "w", encoding="utf-8") as f:
            f.write(text[: words[999].end()] + "\n")
for line in open(corpus, encoding="utf-8"):
    d = json.loads(line)
    if cur and (d["source"] != cur_src or sum(len(x["text"].split()) for x in cur) >= 1000):
        flush()
        cur = []
    cur.append(d)
    cur_src = d["source"]
if cur:
    flush()
if not made:
    sys.exit("bench-best-article: no held-out source has 1,000 words")
EOF

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "## Time per 1,000-word article, \`--quality best\`"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
echo "- Binary: $("$bin" --version), commit $(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown); command: \`unspin restore --quality best ARTICLE > /dev/null\`, $runs runs each, medians"
echo "- Articles: per domain of the held-out corpus, the first two runs of consecutive documents of one source that reach 1,000 words, cut to 1,000 words, $([[ $spin_args == none ]] && echo "not spun" || echo "spun with \`unspin spin $spin_args\`")"
echo
echo "| article | wall (s) | CPU (s) | peak RSS (MB) | default mode wall (s) |"
echo "|---|--:|--:|--:|--:|"
all_wall=()
for doc in "$work"/*.txt; do
    name=$(basename "$doc" .txt)
    spun=$work/$name.spun
    if [[ $spin_args == none ]]; then
        cp "$doc" "$spun"
    else
        # shellcheck disable=SC2086 # the flags are meant to split
        "$bin" spin $spin_args "$doc" > "$spun"
    fi
    walls=() cpus=() rss=() dwalls=()
    for _ in $(seq "$runs"); do
        out=$( { /usr/bin/time -f '%e %U %S %M' "$bin" restore --quality best "$spun" > /dev/null; } 2>&1 | tail -1)
        read -r w u s m <<< "$out"
        walls+=("$w"); cpus+=("$(python3 -c "print($u + $s)")"); rss+=("$m")
        out=$( { /usr/bin/time -f '%e' "$bin" restore "$spun" > /dev/null; } 2>&1 | tail -1)
        dwalls+=("$out")
    done
    med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    mw=$(med "${walls[@]}"); all_wall+=("$mw")
    printf '| %s | %.2f | %.2f | %.0f | %.2f |\n' "$name" "$mw" "$(med "${cpus[@]}")" \
        "$(python3 -c "print($(printf '%s\n' "${rss[@]}" | sort -g | tail -1) * 1024 / 1e6)")" "$(med "${dwalls[@]}")"
done
echo
echo "- Load average: $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after"
worst=$(printf '%s\n' "${all_wall[@]}" | sort -g | tail -1)
echo "- Target (issue 6): at most 3 s per 1,000-word article: slowest median $worst s ($(python3 -c "print('met' if $worst <= 3.0 else 'missed')"))"
