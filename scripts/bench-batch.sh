#!/usr/bin/env bash
# The Dask batch job against one `unspin` process, on this machine.
#
#   bash scripts/bench-batch.sh        prints a Markdown section to stdout
#
# Steps:
#   1. spins data/corpus/heldout.jsonl with `unspin spin --profile news --seed 1`
#      (the documents joined by numbered separator lines the spinner leaves
#      alone, then split again) into a JSON Lines corpus, copied REPEAT times
#      (default 2) with new ids;
#   2. `unspin restore --jsonl --jobs W` (one process, W threads) and
#      `batch/unspin_batch.py --local-workers W` (a Dask cluster of W
#      single-threaded worker processes, 1 MB partitions), W = number of
#      cores; wall time of each, and a check that their outputs are equal;
#   3. the same for `detect --format json`.
# Needs data/corpus (bash scripts/build-corpus.sh), the job's environment
# (bash scripts/install-batch-deps.sh) and the release binary.
# Environment: UNSPIN_BIN_DIR (default: ${CARGO_TARGET_DIR:-target}/release), REPEAT.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${UNSPIN_BIN_DIR:-${CARGO_TARGET_DIR:-$root/target}/release}/unspin
python=${UNSPIN_BATCH_PYTHON:-$root/target/batch-venv/bin/python}
repeat=${REPEAT:-2}
workers=$(nproc)
[[ -x $bin ]] || { echo "bench-batch: no $bin (cargo build --release -p unspin-cli)" >&2; exit 1; }
[[ -x $python ]] || { echo "bench-batch: no $python (bash scripts/install-batch-deps.sh)" >&2; exit 1; }
[[ -f $root/data/corpus/heldout.jsonl ]] || { echo "bench-batch: no data/corpus (bash scripts/build-corpus.sh)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$root/data/corpus/heldout.jsonl" "$work/clean.txt" <<'PY'
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for i, d in enumerate(docs):
        f.write(f"\n\n=== {i} ===\n\n{d['id']}\n\n")
        f.write(d["text"].replace("\n", " "))
PY
"$bin" spin --profile news --seed 1 "$work/clean.txt" > "$work/spun.txt"
python3 - "$work/spun.txt" "$work/corpus.jsonl" "$repeat" <<'PY'
import json, re, sys
parts = re.split(r"\n\n=== (\d+) ===\n\n", open(sys.argv[1], encoding="utf-8").read())
docs = []
for k in range(1, len(parts), 2):
    doc_id, _, text = parts[k + 1].partition("\n\n")
    docs.append((doc_id, text.strip()))
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for r in range(int(sys.argv[3])):
        for doc_id, text in docs:
            f.write(json.dumps({"id": f"{doc_id}#{r}", "text": text}, ensure_ascii=False) + "\n")
PY
docs=$(wc -l < "$work/corpus.jsonl")
words=$(python3 -c "import json,sys; print(sum(len(json.loads(l)['text'].split()) for l in open(sys.argv[1])))" "$work/corpus.jsonl")

now() { date +%s.%N; }
# rate WORDS T0 T1: "seconds | words per second"
rate() { python3 -c "import sys; w,a,b=map(float,sys.argv[1:]); print(f'{b-a:.1f} s | {w/(b-a):,.0f}')" "$1" "$2" "$3"; }

echo "## Batch job (Dask)"
echo
echo "\`bash scripts/bench-batch.sh\`, $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load average before the run $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Corpus: data/corpus/heldout.jsonl spun by the news profile, $repeat copies: $docs documents, $words words."
echo
echo "| command | runner | wall | words/s | output equal |"
echo "|---|---|---:|---:|---|"
for cmd in "restore" "detect --format json"; do
    t0=$(now)
    # shellcheck disable=SC2086
    "$bin" $cmd --jsonl - --jobs "$workers" < "$work/corpus.jsonl" > "$work/one.jsonl" || [[ $? == 1 && $cmd == detect* ]]
    t1=$(now)
    rm -rf "$work/out"
    # shellcheck disable=SC2086
    "$python" "$root/batch/unspin_batch.py" --local-workers "$workers" --partition-mb 1 --unspin "$bin" \
        "$work/corpus.jsonl" --out "$work/out" -- $cmd 2> "$work/job.log"
    t2=$(now)
    same=no
    cat "$work"/out/part-*.jsonl | cmp -s - "$work/one.jsonl" && same=yes
    parts=$(ls "$work"/out/part-*.jsonl | wc -l)
    echo "| \`$cmd\` | one process, --jobs $workers | $(rate "$words" "$t0" "$t1") | — |"
    echo "| \`$cmd\` | Dask, $workers local workers, $parts partitions | $(rate "$words" "$t1" "$t2") | $same |"
done
