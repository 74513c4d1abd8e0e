#!/usr/bin/env bash
# Unpacks the Debian packages that a few tests check unspin's readers against,
# the same sources scripts/build-models.sh builds the embedded models from:
#   wordnet-base        WordNet 3.0 dict files  (crates/unspin/src/wordnet/parse.rs tests)
#   pocketsphinx-en-us  CMU Sphinx en-us trigram (crates/unspin/src/lm/tests.rs)
# into target/test-deps (no root needed: `apt-get download` + `dpkg-deb -x`),
# where the tests look for them when /usr/share lacks them. Under CI those
# tests fail rather than skip without them; .ci/run runs this script.
# Idempotent: a package already unpacked is kept.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=${UNSPIN_TEST_DEPS:-target/test-deps}
mkdir -p "$dest/debs"

need() { # package, a file it installs (relative to /)
    if [[ -f $dest/$2 ]]; then
        echo "$1 already unpacked in $dest"
        return
    fi
    (cd "$dest/debs" && rm -f "$1"_*.deb && apt-get download -q "$1") ||
        { apt-get update -q && (cd "$dest/debs" && apt-get download -q "$1"); }
    dpkg-deb -x "$dest"/debs/"$1"_*.deb "$dest"
    [[ -f $dest/$2 ]] || { echo "install-test-deps: $1 lacks $2" >&2; exit 1; }
    echo "unpacked $1 into $dest"
}

need wordnet-base usr/share/wordnet/data.noun
need pocketsphinx-en-us usr/share/pocketsphinx/model/en-us/en-us.lm.bin
