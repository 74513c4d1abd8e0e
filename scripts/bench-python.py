#!/usr/bin/env python3
"""Speed of `unspin.restore` from Python against the `unspin restore` CLI.

    bash scripts/build-corpus.sh && bash scripts/build-python.sh && cargo build --release -p unspin-cli
    target/python-venv/bin/python scripts/bench-python.py [--rounds 3]

The input is data/corpus/heldout.txt spun with the news profile, seed 1
(`unspin.spin`, the simulator behind `unspin spin --profile news --seed 1`).
Everything runs on one core (this process and the CLI pinned to CPU 0) and
the median of --rounds runs is reported for:
  - model load: the first `unspin.restore` call of the process (one word);
  - `unspin.restore(whole_text)`: one call over the whole corpus, the result
    converted to Python dicts (every change with its alternatives);
  - `unspin.restore(paragraph)` for each paragraph: many small calls, so the
    per-call overhead (argument checks, GIL release, dict building) shows;
  - `unspin restore FILE > /dev/null` and `unspin restore --format json FILE
    > /dev/null`, and, to compare with the per-paragraph calls, `unspin
    restore --jsonl --format json --jobs 1` over the paragraphs as JSON Lines
    (the CLI rows include start-up and model load; the Python rows exclude
    the load, which is reported on its own).
Words are whitespace-separated words of the spun text. Prints a Markdown section.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib():
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kib = int(f.readline().split()[1])
        return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def loadavg():
    try:
        with open("/proc/loadavg", encoding="utf-8") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def timed(f):
    """Wall and this thread's CPU seconds of f()."""
    w0, c0 = time.perf_counter(), time.thread_time()
    f()
    return time.perf_counter() - w0, time.thread_time() - c0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpus", default=os.path.join(ROOT, "data/corpus/heldout.txt"))
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release/unspin"))
    args = ap.parse_args()
    if not os.path.exists(args.corpus):
        sys.exit(f"bench-python: {args.corpus} not found: run `bash scripts/build-corpus.sh` first")
    pinned = hasattr(os, "sched_setaffinity")
    if pinned:
        os.sched_setaffinity(0, {0})
    load_before = loadavg()
    started = datetime.datetime.now(datetime.timezone.utc)

    t0 = time.perf_counter()
    import unspin

    unspin.restore("Hello")
    load_s = time.perf_counter() - t0

    with open(args.corpus, encoding="utf-8") as f:
        original = f.read()
    spun = unspin.spin(original, profile="news", seed=1)["text"]
    words = len(spun.split())
    paragraphs = [p for p in spun.split("\n") if p.strip()]

    rows = {}

    def measure(name, f):
        runs = [timed(f) for _ in range(args.rounds)]
        rows[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        print(f"bench-python: {name}: {rows[name][0]:.2f} s wall", file=sys.stderr)

    measure("python_whole", lambda: unspin.restore(spun))
    measure("python_paragraphs", lambda: [unspin.restore(p) for p in paragraphs])

    cli = {}
    if os.access(args.bin, os.X_OK):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
            f.write(spun)
            path = f.name
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8", delete=False) as f:
            for i, p in enumerate(paragraphs):
                f.write(json.dumps({"id": i, "text": p}) + "\n")
            jsonl = f.name
        try:
            for name, extra in (
                ("cli_text", [path]),
                ("cli_json", ["--format", "json", path]),
                ("cli_jsonl", ["--jsonl", "--format", "json", "--jobs", "1", jsonl]),
            ):
                runs = []
                for _ in range(args.rounds):
                    w0 = time.perf_counter()
                    r0 = os.times()
                    subprocess.run(
                        ["taskset", "-c", "0", args.bin, "restore", *extra],
                        stdout=subprocess.DEVNULL,
                        check=True,
                    )
                    r1 = os.times()
                    runs.append((time.perf_counter() - w0, (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)))
                cli[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
                print(f"bench-python: {name}: {cli[name][0]:.2f} s wall", file=sys.stderr)
        finally:
            os.unlink(path)
            os.unlink(jsonl)
    else:
        print(f"bench-python: {args.bin} not found: CLI rows left out", file=sys.stderr)

    load_after = loadavg()
    rate = lambda s: f"{words / s:,.0f}"
    print("## Python bindings\n")
    print("Output of `target/python-venv/bin/python scripts/bench-python.py` (after `bash scripts/build-python.sh`).\n")
    print(f"- Date: {started:%Y-%m-%d %H:%M} UTC")
    print(
        f"- Machine: {os.cpu_count()} CPUs ({cpu_name()}), {memory_gib()} memory; load average {load_before} before, {load_after} after"
        + ("; this process and the CLI pinned to one core (CPU 0)" if pinned else "")
    )
    print(f"- Python {platform.python_version()}, unspin module {unspin.__version__} (release wheel, abi3); {args.rounds} rounds, medians")
    print(f"- Input: {os.path.relpath(args.corpus, ROOT)} spun with the news profile, seed 1: {words:,} words, {len(spun.encode()):,} bytes, {len(paragraphs):,} paragraphs")
    print(f"- Model load (first call in the process, `import unspin` included): {load_s * 1000:.0f} ms\n")
    print("| what | wall (median) | CPU (median) | words/s, wall | words/s, CPU |")
    print("|:--|--:|--:|--:|--:|")
    labels = {
        "python_whole": "`unspin.restore(text)`, one call, result as dicts",
        "python_paragraphs": f"`unspin.restore(p)` per paragraph ({len(paragraphs):,} calls)",
        "cli_text": "`unspin restore FILE`, start-up included",
        "cli_json": "`unspin restore --format json FILE`, start-up included",
        "cli_jsonl": f"`unspin restore --jsonl --format json --jobs 1` over the {len(paragraphs):,} paragraphs, start-up included",
    }
    for name, (wall, cpu) in list(rows.items()) + list(cli.items()):
        print(f"| {labels[name]} | {wall:.2f} s | {cpu:.2f} s | {rate(wall)} | {rate(cpu) if cpu > 0 else '-'} |")


if __name__ == "__main__":
    main()
