#!/usr/bin/env bash
# Reproduce the restore benchmarks of docs/BENCHMARKS.md from a fresh clone.
#
#   bash scripts/bench.sh [FLAGS FOR unspin bench...]
#
# Runs, timing each step and the whole:
#   1. bash scripts/build-corpus.sh          the held-out corpus (data/corpus/)
#   2. cargo build --release -p unspin-cli   the `unspin` binary
#   3. unspin bench                          restore quality (and its speed per profile)
#   4. bash scripts/bench-speed.sh           speed, start-up and memory on 1k..1M words
# and writes the outputs into the sections "## Restore quality" and
# "## Restore speed" of docs/BENCHMARKS.md (created when missing). Every
# other section of that file (for example "## Detect") is kept as it is.
# The binary goes to $CARGO_TARGET_DIR (default target/); UNSPIN_BENCH_DOC
# names another file to write instead of docs/BENCHMARKS.md. Run as root on a
# fresh Debian machine with a Rust toolchain, python3, npm and apt-get.
set -euo pipefail

started=$(date +%s.%N)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
bin=$target/release/unspin
doc=${UNSPIN_BENCH_DOC:-$root/docs/BENCHMARKS.md}

log() { printf 'bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$1" "$(now)"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/unspin-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

t=$(now)
log "1/4 building the corpus"
bash scripts/build-corpus.sh
t_corpus=$(since "$t")

t=$(now)
log "2/4 cargo build --release -p unspin-cli"
cargo build --release -p unspin-cli
t_build=$(since "$t")

t=$(now)
log "3/4 unspin bench $*"
"$bin" bench "$@" >"$work/quality.md"
t_quality=$(since "$t")

t=$(now)
log "4/4 scripts/bench-speed.sh"
UNSPIN_BIN=$bin bash scripts/bench-speed.sh >"$work/speed.md"
t_speed=$(since "$t")

t_total=$(since "$started")
log "done in ${t_total} s (corpus ${t_corpus} s, build ${t_build} s, bench ${t_quality} s, speed ${t_speed} s)"

mkdir -p "$(dirname "$doc")"
python3 - "$doc" "$work/quality.md" "$work/speed.md" "$t_total" "$t_corpus" "$t_build" "$t_quality" "$t_speed" "$*" <<'PY'
import datetime, os, re, subprocess, sys

doc, quality, speed, total, corpus, build, bench, spd, flags = sys.argv[1:10]
total = int(total)
cmd = "bash scripts/bench.sh" + (f" {flags}" if flags else "")
try:
    commit = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"],
                            capture_output=True, text=True, check=True).stdout.strip()
except Exception:
    commit = "-"
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
now = datetime.datetime.now(datetime.timezone.utc)
machine = f"{os.cpu_count()} CPUs ({cpu})"
run = (f"Reproduce from a fresh clone with `{cmd}` (commit {commit}, {now:%Y-%m-%d %H:%M} UTC, {machine}): "
       f"the whole script took {total // 60} min {total % 60} s here: corpus build {corpus} s, "
       f"`cargo build --release` {build} s, `unspin bench` {bench} s, `scripts/bench-speed.sh` {spd} s.")
sections = {
    "Restore quality": f"{run}\n\nOutput of `unspin bench` (the held-out corpus spun in-process, restored, scored):\n\n"
                       + open(quality).read().strip() + "\n",
    "Restore speed": f"Output of `scripts/bench-speed.sh` (run by `{cmd}`).\n\n" + open(speed).read().strip() + "\n",
}

if os.path.exists(doc):
    text = open(doc, encoding="utf-8").read()
else:
    text = (f"# unspin benchmarks\n\nMeasured on {machine}; first written {now:%Y-%m-%d} UTC. "
            "Each section names the command that reproduces it; the restore sections come from "
            "`bash scripts/bench.sh`.\n")

# Split into a preamble and "## " sections (### and deeper stay inside).
parts = re.split(r"(?m)^(?=## )", text)
pre, secs = parts[0], parts[1:]
seen = set()
out = [pre if pre.endswith("\n\n") or not pre else pre.rstrip("\n") + "\n\n"]
for s in secs:
    title = s.splitlines()[0][3:].strip()
    if title in sections:
        seen.add(title)
        out.append(f"## {title}\n\n{sections[title]}\n")
    else:
        out.append(s if s.endswith("\n\n") else s.rstrip("\n") + "\n\n")
for title, body in sections.items():
    if title not in seen:
        out.append(f"## {title}\n\n{body}\n")
new = "".join(out).rstrip("\n") + "\n"
tmp = doc + ".tmp"
with open(tmp, "w", encoding="utf-8") as f:
    f.write(new)
os.replace(tmp, doc)
print(f"bench: wrote the restore sections of {doc}", file=sys.stderr)
PY
