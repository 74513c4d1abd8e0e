#!/usr/bin/env bash
# Golden check: record the output of restore, detect (JSON), spin and trace
# on the example and the held-out corpus, or compare it byte for byte with
# an earlier record. For refactors that must not change behaviour.
#
#   scripts/golden-check.sh DIR          record into DIR if it is missing or
#                                        empty, else record afresh and compare
#   UNSPIN=path/to/unspin scripts/golden-check.sh DIR
#
# Uses the binary in $UNSPIN (default target/release/unspin; build it first
# with `cargo build --release -p unspin-cli`). Needs no network. Exit 0 when
# recorded or identical, 1 when an output differs (a diff summary is printed).
set -euo pipefail

usage() { echo "usage: $0 DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
mkdir -p "$1"
dir=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${UNSPIN:-$root/target/release/unspin}
[ -x "$bin" ] || { echo "golden-check: no binary at $bin (cargo build --release -p unspin-cli)" >&2; exit 2; }
heldout=$root/data/corpus/heldout.jsonl
example=$root/examples/spun-news.txt

record() {
    local out=$1
    local work
    work=$(mktemp -d)
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    # Paths in the outputs are relative to the work folder, so that they do
    # not depend on the temporary folder's name.
    cp "$example" "$work/spun-news.txt"
    cd "$work"
    # Every command's stdout and exit status; stderr (progress) is dropped.
    run() {
        local name=$1; shift
        local rc=0
        "$@" >"$out/$name" 2>/dev/null || rc=$?
        echo "$rc" >"$out/$name.rc"
    }
    run detect-example.json "$bin" detect --format json --no-progress spun-news.txt
    run restore-example.json "$bin" restore --format json --no-progress spun-news.txt
    run detect-example.txt "$bin" detect --color never --no-progress spun-news.txt
    if [ -f "$heldout" ]; then
        cp "$heldout" heldout.jsonl
        head -n 200 "$heldout" >"heldout200.jsonl"
        head -n 20 "$heldout" >"heldout20.jsonl"
        run detect-heldout200.json "$bin" detect --jsonl --format json --jobs 2 --no-progress "heldout200.jsonl"
        # Spun copies (news and synonym profiles) of 20 documents, detected
        # and restored.
        python3 - "heldout20.jsonl" "texts" <<'EOF'
import json, os, sys
os.makedirs(sys.argv[2], exist_ok=True)
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    with open(os.path.join(sys.argv[2], "%02d.txt" % i), "w", encoding="utf-8") as f:
        f.write(json.loads(line)["text"])
EOF
        mkdir -p "spun"
        for f in texts/*.txt; do
            b=$(basename "$f" .txt)
            "$bin" spin --seed 7 "$f" >"spun/news-$b.txt"
            "$bin" spin --profile synonym --seed 7 "$f" >"spun/syn-$b.txt"
        done
        cat spun/*.txt >"$out/spin-heldout20.txt"
        python3 - "spun" "spun.jsonl" <<'EOF'
import json, os, sys
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for name in sorted(os.listdir(sys.argv[1])):
        text = open(os.path.join(sys.argv[1], name), encoding="utf-8").read()
        out.write(json.dumps({"id": name, "text": text}) + "\n")
EOF
        run detect-spun.json "$bin" detect --jsonl --format json --jobs 2 --no-progress "spun.jsonl"
        run detect-spun-restore.json "$bin" detect --jsonl --restore --format json --jobs 2 --no-progress "spun.jsonl"
        run restore-spun.json "$bin" restore --jsonl --format json --jobs 2 --no-progress "spun.jsonl"
        # Trace: an index of the 200 documents, queried with the spun copies.
        "$bin" index add --help >/dev/null 2>&1 && {
            run index-add.txt "$bin" index add --no-progress "index.redb" "heldout200.jsonl"
            run trace-spun.json "$bin" trace --index "index.redb" --jsonl --format json "spun.jsonl"
            # The index keeps absolute paths of the documents.
            sed -i "s#$(pwd -P)/##g" "$out/trace-spun.json"
        }
        # The benchmark's quality part (speed lines vary and are dropped).
        "$bin" detect-bench --corpus heldout.jsonl --lengths 50,200 --max-pieces 40 \
            --speed-seconds 0 --jobs 2 2>/dev/null \
            | grep -vE 'words/s| in [0-9.]+(ns|µs|ms|s)$' >"$out/detect-bench.txt" || true
    fi
    cd "$root"
    rm -rf "$work"
}

if [ -n "$(ls -A "$dir")" ]; then
    fresh=$(mktemp -d)
    record "$fresh"
    if diff -r -q "$dir" "$fresh"; then
        echo "golden-check: identical ($(ls "$dir" | wc -l) files)"
        rm -rf "$fresh"
    else
        echo "golden-check: DIFFERENT; new outputs kept in $fresh" >&2
        exit 1
    fi
else
    record "$dir"
    echo "golden-check: recorded $(ls "$dir" | wc -l) files in $dir"
fi
