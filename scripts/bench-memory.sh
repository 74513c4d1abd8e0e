#!/usr/bin/env bash
# Peak memory of every command and output format on a 20 MB and a 100 MB
# input: the bound on memory must not grow with the input (issue #17: the
# two peaks within 10% of each other).
#
#   bash scripts/bench-memory.sh [SMALL_MB LARGE_MB]      (default 20 100)
#   UNSPIN_BIN=path/to/unspin bash scripts/bench-memory.sh
#   UNSPIN_MEMORY_ONLY='^detect' bash scripts/bench-memory.sh   (rows matching a regex)
#
# Inputs are spun held-out news (`unspin spin` over data/corpus/heldout.jsonl,
# built by scripts/build-corpus.sh), repeated to size: one plain-text file,
# and the same text as JSON Lines of about 5 KB per document. Peak resident
# memory is GNU time's %M (Debian package `time`). Prints a Markdown table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${UNSPIN_BIN:-$root/target/release/unspin}
small=${1:-20}
large=${2:-100}
[ -x "$bin" ] || { echo "bench-memory: no binary at $bin (cargo build --release -p unspin-cli)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench-memory: needs GNU time (apt-get install time)" >&2; exit 2; }
heldout=$root/data/corpus/heldout.jsonl
[ -f "$heldout" ] || bash "$root/scripts/build-corpus.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$heldout" "$work/seed.txt" <<'EOF'
import json, sys
texts = []
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        texts.append(json.loads(line)["text"])
    except (ValueError, KeyError):
        pass
open(sys.argv[2], "w", encoding="utf-8").write("\n\n".join(texts) + "\n")
EOF
"$bin" spin --seed 1 "$work/seed.txt" > "$work/seed-spun.txt"

make_inputs() { # MB -> $work/MB.txt and $work/MB.jsonl
    python3 - "$work/seed-spun.txt" "$1" "$work/$1" <<'EOF'
import json, sys
seed = open(sys.argv[1], encoding="utf-8").read()
want = int(sys.argv[2]) * 1000 * 1000
out = sys.argv[3]
with open(out + ".txt", "w", encoding="utf-8") as t, open(out + ".jsonl", "w", encoding="utf-8") as j:
    size, k, doc = 0, 0, []
    while size < want:
        for para in seed.split("\n\n"):
            t.write(para + "\n\n")
            size += len(para.encode()) + 2
            doc.append(para)
            if sum(len(p) for p in doc) > 5000:
                k += 1
                j.write(json.dumps({"id": k, "text": "\n\n".join(doc)}) + "\n")
                doc = []
            if size >= want:
                break
    if doc:
        j.write(json.dumps({"id": k + 1, "text": "\n\n".join(doc)}) + "\n")
EOF
}
make_inputs "$small"
make_inputs "$large"

# One row per case: NAME, then the command with IN standing for the input
# stem ($work/MB).
cases=(
    "restore|restore IN.txt"
    "restore --format json|restore --format json IN.txt"
    "restore --format diff|restore --format diff IN.txt"
    "restore --format html|restore --format html IN.txt"
    "restore --out-dir|restore --out-dir OUT IN.txt"
    "restore --jsonl|restore --jsonl IN.jsonl"
    "restore --jsonl --format json|restore --jsonl --format json IN.jsonl"
    "detect|detect IN.txt"
    "detect --format json|detect --format json IN.txt"
    "detect --format html|detect --format html IN.txt"
    "detect --jsonl --format json|detect --jsonl --format json IN.jsonl"
    "spin|spin --alignment OUT.al IN.txt"
    "trace --jsonl|trace --index IDX --jsonl IN.jsonl"
    "index add (JSON Lines)|index add OUT.idx IN.jsonl"
)
"$bin" index add "$work/idx" "$work/seed.txt" >/dev/null 2>&1

peak() { # MB CMD... -> peak KiB and seconds
    local mb=$1; shift
    local args=()
    for a in "$@"; do
        a=${a//IN/$work/$mb}
        a=${a//OUT/$work/out-$mb}
        a=${a//IDX/$work/idx}
        args+=("$a")
    done
    rm -rf "$work/out-$mb" "$work/out-$mb.al" "$work/out-$mb.idx"
    /usr/bin/time -f '%M %e' -o "$work/time" "$bin" "${args[@]}" >/dev/null 2>"$work/err" || {
        local rc=$?
        # detect exits 0 (spun found) or 1 (none); trace 1 when no source.
        [ $rc -le 1 ] || { echo "bench-memory: ${args[*]} failed ($rc): $(tail -1 "$work/err")" >&2; exit 1; }
    }
    cat "$work/time"
}

echo "| command | peak ${small} MB | peak ${large} MB | difference | time ${small} / ${large} MB |"
echo "|---|---|---|---|---|"
for c in "${cases[@]}"; do
    name=${c%%|*}
    [[ -n ${UNSPIN_MEMORY_ONLY:-} && ! $name =~ $UNSPIN_MEMORY_ONLY ]] && continue
    read -r -a cmd <<< "${c#*|}"
    read -r ks ts <<< "$(peak "$small" "${cmd[@]}")"
    read -r kl tl <<< "$(peak "$large" "${cmd[@]}")"
    python3 -c "
ks, kl = $ks, $kl
print(f'| \`$name\` | {ks/1024:.0f} MB | {kl/1024:.0f} MB | {100*(kl-ks)/ks:+.1f}% | $ts s / $tl s |')"
done
