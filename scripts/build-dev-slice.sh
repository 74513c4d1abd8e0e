#!/usr/bin/env bash
# Builds the dev slice of the training split for tuning the default restore
# (crates/unspin/examples/tune_default.rs), never the held-out corpus:
#   target/tune/dev.jsonl        every 20th line of data/corpus/train.txt (line k with k % 20 == 10),
#                                grouped into documents of 300+ words
#   target/tune/lm-dev.unspin    the CMU model mixed (0.5) with a Kneser-Ney model of the other lines
#   target/tune/lexicon-dev.unspin  the lexicon built on that model
# Then, for example:
#   cargo run --release -p unspin --example tune_default -- target/tune/dev.jsonl 130000 \
#     target/tune/lm-dev.unspin target/tune/lexicon-dev.unspin data/clean-bench/clean-dev.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f data/corpus/train.txt ] || bash scripts/build-corpus.sh
[ -f target/model-build/cmu-en-us.unspin ] || bash scripts/build-models.sh
out=target/tune
mkdir -p "$out"
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
dev, rest = [], []
with open("data/corpus/train.txt", encoding="utf-8") as f:
    for i, line in enumerate(f):
        (dev if i % 20 == 10 else rest).append(line)
with open(f"{out}/train19.txt", "w", encoding="utf-8") as f:
    f.writelines(rest)
docs, cur, n = [], [], 0
for line in dev:
    cur.append(line.rstrip("\n"))
    n += len(line.split())
    if n >= 300:
        docs.append(cur)
        cur, n = [], 0
with open(f"{out}/dev.jsonl", "w", encoding="utf-8") as f:
    for k, d in enumerate(docs):
        f.write(json.dumps({"id": f"dev-{k}", "text": "\n".join(d)}) + "\n")
print(f"{len(docs)} dev documents, {sum(len(' '.join(d).split()) for d in docs)} words", file=sys.stderr)
PY
build=(cargo run --quiet --release -p unspin-build --)
"${build[@]}" lm-train --text "$out/train19.txt" --out "$out/train19.unspin"
"${build[@]}" lm-mix --base target/model-build/cmu-en-us.unspin --other "$out/train19.unspin" --lambda 0.5 --out "$out/lm-dev.unspin"
"${build[@]}" lexicon --wordnet models/wordnet.unspin --lm "$out/lm-dev.unspin" --out "$out/lexicon-dev.unspin"
