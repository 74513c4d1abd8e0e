# Type stubs of the `unspin` extension module (maturin installs this file as
# unspin/__init__.pyi with py.typed). The dicts are those of
# `unspin restore/detect --format json` and `unspin spin --alignment`, plus
# character offsets (char_*) that index Python strings; start/end are UTF-8
# byte offsets. Field reference: docs/PYTHON.md.
from typing import List, Optional, TypedDict

__version__: str

class Alternative(TypedDict):
    text: str
    prob: float

class Change(TypedDict):
    start: int
    end: int
    char_start: int
    char_end: int
    spun: str
    original: str
    confidence: float
    relation: str
    alternatives: List[Alternative]
    applied: bool

class RestoreSection(TypedDict):
    start: int
    end: int
    char_start: int
    char_end: int
    words: int
    log_likelihood_ratio: float
    spun_prob: float
    synonym_log_likelihood_ratio: float
    synonym_prob: float

class Restoration(TypedDict):
    text: str
    changes: List[Change]
    sections: List[RestoreSection]
    words: int

class WordScore(TypedDict):
    start: int
    end: int
    char_start: int
    char_end: int
    text: str
    prob: float
    original: str
    relation: str
    model: str
    rarity: float
    lm_gain: float
    llr: float

class DetectSection(TypedDict):
    start: int
    end: int
    char_start: int
    char_end: int
    words: int
    prob: float
    news_llr: float
    synonym_llr: float

class Detection(TypedDict):
    prob: float
    spun: bool
    threshold: float
    words: int
    sections: List[DetectSection]
    evidence: List[WordScore]
    flagged: List[WordScore]
    sums: dict
    word_threshold: float

class AlignedChange(TypedDict):
    orig_start: int
    orig_end: int
    spun_start: int
    spun_end: int
    orig_char_start: int
    orig_char_end: int
    spun_char_start: int
    spun_char_end: int
    original: str
    spun: str
    relation: str
    profile: str

class Spun(TypedDict):
    text: str
    changes: List[AlignedChange]
    profile: str
    seed: int

def restore(text: str, min_confidence: Optional[float] = None) -> Restoration:
    """Restores the original wording of spun `text`."""

def detect(
    text: str,
    threshold: Optional[float] = None,
    evidence: int = 10,
    words: bool = True,
    restore: bool = False,
) -> Detection:
    """Tells whether `text` was machine-spun, and where."""

def spin(text: str, profile: str = "news", rate: Optional[float] = None, seed: int = 0) -> Spun:
    """Spins `text` with the news-spinner simulator or a synonym spinner."""
