# Shared by scripts/build-corpus.sh and scripts/build-clean-bench.sh: cached
# downloads from npm and Debian. The caller defines $cache, $offline, log and die.

fetch_npm() {
    local spec=$1 name version file
    name=${spec%@*}
    version=${spec##*@}
    name=${name#@}
    file="$cache/${name//\//-}-$version.tgz"
    if [[ -s $file ]]; then
        log "cached  $(basename "$file")"
        return
    fi
    ((offline)) && die "$(basename "$file") not in cache and --offline given"
    command -v npm >/dev/null || die "npm not found"
    log "npm pack $spec"
    local tmp
    tmp=$(mktemp -d "$cache/.npm.XXXXXX")
    (cd "$tmp" && npm pack --silent "$spec" >/dev/null) || { rm -rf "$tmp"; die "npm pack $spec failed"; }
    mv "$tmp"/*.tgz "$file"
    rmdir "$tmp"
}

apt_updated=0
fetch_deb() {
    local pkg=$1 found
    found=$(compgen -G "$cache/${pkg}_*.deb" || true)
    if [[ -n $found ]]; then
        log "cached  $(basename "$found")"
        return
    fi
    ((offline)) && die "$pkg .deb not in cache and --offline given"
    command -v apt-get >/dev/null || die "apt-get not found"
    local tmp
    tmp=$(mktemp -d "$cache/.deb.XXXXXX")
    log "apt-get download $pkg"
    # Sandbox::User=root: the cache folder need not be readable by _apt.
    if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1); then
        if ((apt_updated == 0)); then
            log "apt-get update (package lists missing or stale)"
            apt-get update -q >/dev/null || die "apt-get update failed"
            apt_updated=1
        fi
        (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) \
            || { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
    fi
    mv "$tmp"/*.deb "$cache/"
    rmdir "$tmp"
}

unpack_deb() {
    local pkg=$1 deb dest stamp
    deb=$(compgen -G "$cache/${pkg}_*.deb" | head -n 1)
    dest="$cache/extract/$pkg"
    stamp="$dest/.from-$(basename "$deb")"
    [[ -e $stamp ]] && return
    rm -rf "$dest"
    mkdir -p "$dest"
    dpkg-deb -x "$deb" "$dest"
    touch "$stamp"
}
