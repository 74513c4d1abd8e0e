#!/usr/bin/env python3
"""Run `unspin restore` or `unspin detect` over JSON Lines corpora on a Dask cluster.

The corpus is cut into byte-sized partitions at line ends; every partition is
piped through the `unspin` binary on some worker (`unspin COMMAND --jsonl -`),
and each partition's output becomes one file, `DIR/part-NNNNN.jsonl`, so
that the parts concatenated in name order are what one `unspin COMMAND
--jsonl` process writes for the whole input (the same lines, in input order;
only `path`, which names the input, reads `<stdin>`). `DIR/_SUCCESS.json` is
written last, when every part is complete.
The logic stays in the Rust binary; this file only moves lines around.

One machine:    unspin_batch.py --local-workers 2 corpus.jsonl --out restored/ -- restore
A cluster:      unspin_batch.py --scheduler tcp://head:8786 --unspin /opt/unspin/bin/unspin \\
                    's3-mounted/corpus/*.jsonl' --out /shared/restored/ -- detect --format json

Every worker needs the `unspin` binary at the given path (the embedded model
travels inside it) and must be able to read the input and write --out (a
shared file system). A learned spinner (`-- restore --spinner site.spinner`)
is read here and shipped to the workers with each partition, so it need not
be on their file systems. Exit status: 0 done, 1 error (one line on stderr).
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time

# The exit statuses that mean success, per subcommand: `detect` answers like
# grep (0 spun text found, 1 none), `restore` with 0.
OK_STATUS = {"restore": (0,), "detect": (0, 1)}


class BatchError(Exception):
    """A failure to report in one line."""


def run_partition(block, unspin, command, args, where, part_path, spinner=None):
    """Pipes one partition (whole lines of JSON) through `unspin COMMAND --jsonl -`
    and writes what it prints to `part_path`. Runs on a worker. `spinner`: the
    bytes of a learned spinner profile, written to a temporary file here and
    passed as `--spinner`.

    The file appears only when complete (written aside, then renamed), so a
    folder never holds a half-written part.
    """
    out = b""
    # `unspin --jsonl` skips blank lines and refuses an input of nothing else.
    if block.strip():
        with tempfile.TemporaryDirectory() as tmp:
            extra = []
            if spinner is not None:
                path = os.path.join(tmp, "profile.spinner")
                with open(path, "wb") as f:
                    f.write(spinner)
                extra = ["--spinner", path]
            proc = subprocess.run(
                [unspin, command, "--jsonl", "-", *extra, *args],
                input=block,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                check=False,
            )
        if proc.returncode not in OK_STATUS[command]:
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = message[-1].removeprefix("unspin: error: ") if message else f"exit status {proc.returncode}"
            # `unspin` names the line within the partition ("-:12: ..."); say where the partition is.
            raise BatchError(f"{where}: {detail}")
        out = proc.stdout
    tmp = part_path + ".partial"
    with open(tmp, "wb") as f:
        f.write(out)
    os.replace(tmp, part_path)
    return block.count(b"\n"), out.count(b"\n")


def expand_inputs(patterns):
    """Input paths in a stable order: each pattern's matches, sorted."""
    paths = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise BatchError(f"{pattern}: no such file")
        for p in matches:
            if not os.path.exists(p):
                raise BatchError(f"{p}: no such file")
            if not os.path.isfile(p):
                raise BatchError(f"{p}: not a file (give JSON Lines files or glob patterns)")
            paths.append(os.path.abspath(p))
    return paths


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="unspin_batch.py",
        description="Run `unspin restore` or `unspin detect` over JSON Lines corpora on a Dask cluster.",
        epilog="Everything after `--` is the unspin subcommand and its flags, e.g. `-- restore --format json`.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDR", help="address of a running Dask scheduler (tcp://host:8786)")
    where.add_argument(
        "--local-workers",
        type=int,
        metavar="N",
        help="start a cluster of N worker processes on this machine (default: one per core)",
    )
    p.add_argument("--unspin", default=shutil.which("unspin") or "unspin", help="path of the unspin binary on the workers")
    p.add_argument(
        "--partition-mb",
        type=float,
        default=8.0,
        help="input bytes per partition, in MB (default 8; smaller spreads better, larger costs less start-up)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; must not hold part files already)")
    p.add_argument("--progress", action="store_true", help="show a progress bar (default: when stderr is a terminal)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="JSON Lines files or glob patterns ({\"id\", \"text\", ...} per line)")
    if "--" not in argv:
        p.error("give the unspin subcommand after `--`, e.g. `-- restore`")
    split = argv.index("--")
    a = p.parse_args(argv[:split])
    rest = argv[split + 1 :]
    if not rest or rest[0] not in OK_STATUS:
        p.error(f"the subcommand after `--` must be one of: {', '.join(OK_STATUS)}")
    a.command, a.args = rest[0], rest[1:]
    if "--jsonl" in a.args:
        p.error("--jsonl is added by the job; leave it out")
    a.args, a.spinner = take_spinner(a.args, p)
    if a.partition_mb <= 0:
        p.error("--partition-mb must be positive")
    if a.local_workers is not None and a.local_workers < 1:
        p.error("--local-workers must be at least 1")
    return a


def take_spinner(args, parser):
    """Takes `--spinner FILE` (or `--spinner=FILE`) out of the subcommand's
    flags: the job ships the file's bytes to the workers. Returns the other
    flags and the file's path (or None)."""
    rest, path = [], None
    i = 0
    while i < len(args):
        if args[i] == "--spinner":
            if i + 1 >= len(args):
                parser.error("--spinner needs a FILE")
            path = args[i + 1]
            i += 2
            continue
        if args[i].startswith("--spinner="):
            path = args[i].split("=", 1)[1]
        else:
            rest.append(args[i])
        i += 1
    return rest, path


def main(argv):
    a = parse_args(argv)
    try:
        return run(a)
    except BatchError as e:
        print(f"unspin-batch: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("unspin-batch: error: interrupted", file=sys.stderr)
        return 1


def run(a):
    # Imported here so that `--help` and argument errors need no Dask.
    try:
        from dask import delayed
        from dask.bytes import read_bytes
        from dask.distributed import Client, LocalCluster, progress
    except ImportError as e:
        raise BatchError(f"{e}; install the job's dependencies with `bash scripts/install-batch-deps.sh`") from None

    inputs = expand_inputs(a.inputs)
    spinner = None
    if a.spinner is not None:
        try:
            with open(a.spinner, "rb") as f:
                spinner = f.read()
        except OSError as e:
            raise BatchError(f"{a.spinner}: {e.strerror}") from None
    # On a cluster the binary must be on the workers, not necessarily here; a
    # worker without it fails its partition with that message.
    if not a.scheduler and not (os.path.isfile(a.unspin) and os.access(a.unspin, os.X_OK)):
        raise BatchError(f"{a.unspin}: no unspin binary there (give --unspin PATH; build it with `cargo build --release -p unspin-cli`)")
    unspin = a.unspin if a.scheduler else os.path.abspath(a.unspin)
    out_dir = os.path.abspath(a.out)
    os.makedirs(out_dir, exist_ok=True)
    if glob.glob(os.path.join(out_dir, "part-*")):
        raise BatchError(f"{a.out}: already holds part files; give an empty folder")

    t0 = time.monotonic()
    if a.scheduler:
        try:
            client = Client(a.scheduler, timeout="30s")
        except OSError as e:
            raise BatchError(f"cannot reach the Dask scheduler at {a.scheduler}: {e}") from None
    else:
        n = a.local_workers or os.cpu_count() or 1
        # One single-threaded worker process per core: each runs one unspin process at a time.
        # Workers' own logs would bury the one-line error; the failure reaches us as an exception.
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        )
        client = Client(cluster)
    try:
        # Whole lines only: blocks are cut at the first line end after each boundary.
        _, blocks = read_bytes(inputs, delimiter=b"\n", blocksize=int(a.partition_mb * 1e6), sample=False)
        where = [(path, k) for path, file_blocks in zip(inputs, blocks) for k in range(len(file_blocks))]
        flat = [b for file_blocks in blocks for b in file_blocks]
        count = len(flat)
        width = max(5, len(str(count - 1)))
        tasks = [
            delayed(run_partition, pure=False)(
                block,
                unspin,
                a.command,
                a.args,
                f"{where[i][0]}, block {where[i][1]} of {a.partition_mb:g} MB",
                os.path.join(out_dir, f"part-{i:0{width}d}.jsonl"),
                spinner,
            )
            for i, block in enumerate(flat)
        ]
        futures = client.compute(tasks)
        if a.progress or sys.stderr.isatty():
            progress(futures)
        try:
            counts = client.gather(futures)
        except Exception as e:  # noqa: BLE001 - a worker's exception, reported in one line
            # The worker's BatchError arrives as a copy of the class, so match it by name.
            if type(e).__name__ == "BatchError":
                raise BatchError(str(e)) from None
            raise BatchError(f"{type(e).__name__}: {e}") from None
    finally:
        client.close()
        if not a.scheduler:
            cluster.close()
    seconds = time.monotonic() - t0
    summary = {
        "command": [a.command, *a.args, *(["--spinner", a.spinner] if a.spinner else [])],
        "inputs": inputs,
        "partitions": count,
        "lines_in": sum(c[0] for c in counts),
        "lines_out": sum(c[1] for c in counts),
        "seconds": round(seconds, 3),
    }
    with open(os.path.join(out_dir, "_SUCCESS.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    print(
        f"unspin-batch: {a.command}: {summary['lines_out']} documents in {count} partitions, {seconds:.1f} s -> {a.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
