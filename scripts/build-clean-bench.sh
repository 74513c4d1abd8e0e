#!/usr/bin/env bash
# Build the clean multi-domain benchmark corpus in data/clean-bench/ (git-ignored).
#
#   scripts/build-clean-bench.sh            download what is missing, then build
#   scripts/build-clean-bench.sh --offline  build from the caches only
#
# Output: clean.jsonl ({"id","domain","text"}, ~1,000-word documents of the
# domains legal, software, science (test half only), news and lists),
# science-train.jsonl / science-test.jsonl, MANIFEST.json (sources, versions,
# sha256, licences, word counts). See scripts/clean_bench.py for the rules.
#
# Sources (all from registries; pinned where the registry keeps versions):
#   legal     npm pack spdx-license-list@6.12.0 (+ LICENSE files of the crates)
#   software  .crate files of Cargo.lock's crates.io packages (cargo fetch)
#   science   pip download --no-binary astropy==6.1.4 sympy==1.13.3 networkx==3.4.2 lmfit==1.3.2
#             nibabel==5.3.2 sunpy==6.0.3 (these two: test half only)
#             statsmodels==0.14.4 xarray==2024.10.0 photutils==2.0.2 pint==0.24.4
#             emcee==3.1.6 uncertainties==3.2.2 (these: training half only)
#   news      apt-get download r-cran-tm (Reuters samples); gensim==4.3.3 sdist (Lee ABC news)
#   lists     crate CHANGELOGs; apt-get download wamerican (word list)
#
# Needs bash, python3 (standard library), npm, pip, cargo, apt-get, dpkg-deb.
# Debian packages are downloaded and unpacked into the cache, never installed.
# Downloads are cached in data/cache/clean-bench-sources/ (UNSPIN_CLEAN_CACHE);
# the crates are read from cargo's registry cache (CARGO_HOME). The build is
# deterministic: rerunning it rewrites byte-identical files.
# Output folder: UNSPIN_CLEAN_OUT (default data/clean-bench).
set -euo pipefail

started=$(date +%s.%N)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${UNSPIN_CLEAN_CACHE:-$root/data/cache/clean-bench-sources}
out=${UNSPIN_CLEAN_OUT:-$root/data/clean-bench}
offline=0
[[ ${1:-} == --offline ]] && offline=1

npm_packages=("spdx-license-list@6.12.0")
pip_packages=("astropy==6.1.4" "sympy==1.13.3" "networkx==3.4.2" "lmfit==1.3.2" "nibabel==5.3.2" "sunpy==6.0.3"
              "statsmodels==0.14.4" "xarray==2024.10.0" "photutils==2.0.2" "pint==0.24.4"
              "emcee==3.1.6" "uncertainties==3.2.2" "gensim==4.3.3")
deb_packages=(r-cran-tm wamerican)

log() { printf 'build-clean-bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in python3 dpkg-deb; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
mkdir -p "$cache" "$out"

# shellcheck source=scripts/fetch-lib.sh
source "$root/scripts/fetch-lib.sh"

fetch_pip() {
    # Source distribution only for the package itself; its build requirements
    # (needed by pip to read the metadata) may come as wheels, so nothing compiles.
    local spec=$1 name version file tmp
    name=${spec%%==*}
    version=${spec##*==}
    file="$cache/$name-$version.tar.gz"
    if [[ -s $file ]]; then log "cached  $(basename "$file")"; return; fi
    ((offline)) && die "$(basename "$file") not in cache and --offline given"
    command -v pip >/dev/null || die "pip not found"
    log "pip download --no-binary $name $spec"
    tmp=$(mktemp -d "$cache/.pip.XXXXXX")
    pip download -q --no-deps --no-binary "$name" -d "$tmp" "$spec" >&2 \
        || { rm -rf "$tmp"; die "pip download $spec failed"; }
    mv "$tmp/$name-$version.tar.gz" "$file" || { rm -rf "$tmp"; die "no sdist for $spec"; }
    rm -rf "$tmp"
}

for spec in "${npm_packages[@]}"; do fetch_npm "$spec"; done
for spec in "${pip_packages[@]}"; do fetch_pip "$spec"; done
for pkg in "${deb_packages[@]}"; do
    fetch_deb "$pkg"
    unpack_deb "$pkg"
done

# Crates: exactly the crates.io versions pinned in Cargo.lock, from cargo's cache.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
crate_dir=$(compgen -G "$cargo_home/registry/cache/index.crates.io-*" | head -n 1 || true)
if ((offline == 0)); then
    log "cargo fetch (only downloads what Cargo.lock pins and the cache lacks)"
    (cd "$root" && cargo fetch --locked -q) || die "cargo fetch failed"
    crate_dir=$(compgen -G "$cargo_home/registry/cache/index.crates.io-*" | head -n 1)
fi
[[ -n $crate_dir ]] || die "no crates in $cargo_home/registry/cache (run without --offline)"

sdist_args=()
for spec in "${pip_packages[@]}"; do
    name=${spec%%==*}
    sdist_args+=(--sdist "$name=$cache/$name-${spec##*==}.tar.gz")
done

log "building corpus in $out"
python3 "$root/scripts/clean_bench.py" --cache "$cache" --out "$out" \
    --cargo-lock "$root/Cargo.lock" --crate-dir "$crate_dir" \
    --spdx "$cache/spdx-license-list-6.12.0.tgz" "${sdist_args[@]}"

elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
log "done in ${elapsed}s: $(cd "$out" && ls clean.jsonl clean-dev.jsonl science-train.jsonl science-test.jsonl MANIFEST.json | tr '\n' ' ')"
