"""Checks of the Dask batch job against the `unspin` binary run directly.

Run by `cargo test` (crates/unspin-cli/tests/batch_dask.rs) with the job's
virtual environment (`bash scripts/install-batch-deps.sh`); the binary comes
from UNSPIN_BIN. Each test starts a two-worker local cluster.
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
JOB = os.path.join(HERE, "unspin_batch.py")
UNSPIN = os.environ.get("UNSPIN_BIN", "unspin")

SENTENCES = [
    "He said the new rules would be published on Monday, as planned.",
    "The company may raise prices in March or April if costs keep rising.",
    "Officials at the ministry can not confirm how many people were affected.",
    "She told reporters that the <b>committee</b> would meet again next week.",
    "Prices rose 3.2% in the year to October, the fastest pace since 1992.",
    "Residents of the small town were asked to leave their homes on Sunday.",
    "The report, which was seen by the newspaper, describes a deep crisis.",
    "Café owners in Zürich say the change will cost them “a great deal”.",
    "It is not clear whether the plan will be approved by parliament.",
    "Police said a man had been arrested and was being questioned.",
]


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, **kw)


def spun_corpus(n, seed):
    """JSON lines of n documents, each a few sentences spun by `unspin spin`, with blank lines between some."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        text = " ".join(rng.sample(SENTENCES, rng.randint(2, 6)))
        spun = run([UNSPIN, "spin", "--profile", "news", "--seed", str(i)], input=text.encode())
        assert spun.returncode == 0, spun.stderr
        lines.append(json.dumps({"id": f"doc-{seed}-{i}", "text": spun.stdout.decode()}, ensure_ascii=False) + "\n")
        if i % 7 == 3:
            lines.append("\n")
    return "".join(lines)


def job(out, *args):
    return run([sys.executable, JOB, "--local-workers", "2", "--unspin", UNSPIN, *args[:-1], "--out", out, "--", *args[-1]])


def parts(folder):
    names = sorted(n for n in os.listdir(folder) if n.startswith("part-"))
    data = b""
    for n in names:
        with open(os.path.join(folder, n), "rb") as f:
            data += f.read()
    return names, data


class BatchJob(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.a = os.path.join(cls.tmp.name, "a.jsonl")
        cls.b = os.path.join(cls.tmp.name, "b.jsonl")
        with open(cls.a, "w", encoding="utf-8") as f:
            f.write(spun_corpus(40, 1))
        with open(cls.b, "w", encoding="utf-8") as f:
            f.write(spun_corpus(25, 2).rstrip("\n"))  # no line end at the end of the file
        with open(cls.a, "rb") as f:
            whole = f.read()
        with open(cls.b, "rb") as f:
            whole += f.read() + b"\n"
        cls.whole = whole

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def out(self, name):
        return os.path.join(self.tmp.name, name)

    def test_restore_matches_one_process(self):
        expected = run([UNSPIN, "restore", "--jsonl", "-", "--format", "json"], input=self.whole)
        self.assertEqual(expected.returncode, 0, expected.stderr)
        r = job(self.out("restore"), "--partition-mb", "0.002", self.a, self.b, ["restore", "--format", "json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        names, data = parts(self.out("restore"))
        self.assertGreater(len(names), 4, "the input should be cut into several partitions")
        self.assertEqual(data, expected.stdout)
        with open(os.path.join(self.out("restore"), "_SUCCESS.json"), encoding="utf-8") as f:
            summary = json.load(f)
        self.assertEqual(summary["lines_out"], 65)
        self.assertEqual(summary["partitions"], len(names))

    def test_detect_matches_one_process(self):
        expected = run([UNSPIN, "detect", "--jsonl", "-", "--format", "json"], input=self.whole)
        self.assertIn(expected.returncode, (0, 1), expected.stderr)
        r = job(self.out("detect"), "--partition-mb", "0.003", self.a, self.b, ["detect", "--format", "json"])
        self.assertEqual(r.returncode, 0, r.stderr)
        _, data = parts(self.out("detect"))
        self.assertEqual(data, expected.stdout)
        probs = [json.loads(line)["prob"] for line in data.splitlines()]
        self.assertGreater(sum(p >= 0.5 for p in probs), len(probs) // 2, "most spun documents should score as spun")

    def test_spinner_profile_reaches_the_workers(self):
        # A profile learned from the corpus, given as a relative path from
        # another folder: the workers get its bytes, not the path.
        profile = self.out("site.spinner")
        learned = run([UNSPIN, "learn", "--out", profile, self.a, "--jsonl"])
        self.assertEqual(learned.returncode, 0, learned.stderr)
        expected = run([UNSPIN, "restore", "--jsonl", "-", "--format", "json", "--spinner", profile], input=self.whole)
        self.assertEqual(expected.returncode, 0, expected.stderr)
        plain = run([UNSPIN, "restore", "--jsonl", "-", "--format", "json"], input=self.whole)
        self.assertNotEqual(expected.stdout, plain.stdout, "the profile should change some restorations")
        r = job(self.out("learned"), "--partition-mb", "0.002", self.a, self.b, ["restore", "--format", "json", "--spinner", profile])
        self.assertEqual(r.returncode, 0, r.stderr)
        _, data = parts(self.out("learned"))
        self.assertEqual(data, expected.stdout)
        missing = job(self.out("nospinner"), self.a, ["restore", "--spinner", self.out("missing.spinner")])
        self.assertEqual(missing.returncode, 1)
        self.assertIn("missing.spinner", missing.stderr.decode())

    def test_bad_line_is_one_line_error(self):
        bad = self.out("bad.jsonl")
        with open(self.a, encoding="utf-8") as f:
            lines = f.readlines()
        lines.insert(len(lines) // 2, '{"id": "x", "txt": "no text field"}\n')
        with open(bad, "w", encoding="utf-8") as f:
            f.writelines(lines)
        r = job(self.out("bad"), "--partition-mb", "0.002", bad, ["restore"])
        self.assertEqual(r.returncode, 1)
        err = r.stderr.decode().strip()
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("bad.jsonl, block", err)
        self.assertIn('no string field "text"', err)
        self.assertFalse(os.path.exists(os.path.join(self.out("bad"), "_SUCCESS.json")))

    def test_refusals(self):
        # A folder that already holds parts, a missing binary, a missing input, no subcommand.
        r = job(self.out("restore2"), self.a, ["restore"])
        self.assertEqual(r.returncode, 0, r.stderr)
        again = job(self.out("restore2"), self.a, ["restore"])
        self.assertEqual(again.returncode, 1)
        self.assertIn("already holds part files", again.stderr.decode())
        nobin = run([sys.executable, JOB, "--unspin", "/nonexistent/unspin", self.a, "--out", self.out("x"), "--", "restore"])
        self.assertEqual(nobin.returncode, 1)
        self.assertIn("no unspin binary", nobin.stderr.decode())
        noinput = job(self.out("y"), os.path.join(self.tmp.name, "missing.jsonl"), ["restore"])
        self.assertEqual(noinput.returncode, 1)
        self.assertIn("missing.jsonl: no such file", noinput.stderr.decode())
        nocmd = run([sys.executable, JOB, self.a, "--out", self.out("z")])
        self.assertEqual(nocmd.returncode, 2)


if __name__ == "__main__":
    unittest.main()
