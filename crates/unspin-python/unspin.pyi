# Type stubs of the `unspin` extension module (maturin installs this file as
# unspin/__init__.pyi with py.typed). The dicts are those of
# `unspin restore/detect --format json` and `unspin spin --alignment`, plus
# character offsets (char_*) that index Python strings; start/end are UTF-8
# byte offsets. Field reference: docs/PYTHON.md.
from os import PathLike
from typing import Dict, Iterable, List, Mapping, Optional, Tuple, TypedDict, Union

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

class SpinnerRow(TypedDict):
    written: str
    count: float
    originals: List[Tuple[str, float]]

class Spinner:
    """A spinner learned from its own output (`unspin learn`)."""

    @staticmethod
    def load(path: Union[str, "PathLike[str]"]) -> "Spinner":
        """Reads a `.spinner` file."""
    def save(self, path: Union[str, "PathLike[str]"]) -> None:
        """Writes the profile (the format `unspin learn` writes)."""
    def table(self, min_count: float = 1.0) -> List[SpinnerRow]:
        """The learned table, best first."""
    @property
    def words(self) -> int: ...
    @property
    def classes(self) -> Dict[str, Dict[str, float]]:
        """Which token classes the spinner touches: capitalized, attached, function_words, digits, plain."""

def learn(texts: List[str]) -> Spinner:
    """Learns the spinner behind `texts`, pages of its output (no originals needed)."""

def restore(
    text: str,
    min_confidence: Optional[float] = None,
    spinner: Union[Spinner, str, "PathLike[str]", None] = None,
) -> Restoration:
    """Restores the original wording of spun `text`."""

def detect(
    text: str,
    threshold: Optional[float] = None,
    evidence: int = 10,
    words: bool = True,
    restore: bool = False,
    spinner: Union[Spinner, str, "PathLike[str]", None] = None,
) -> Detection:
    """Tells whether `text` was machine-spun, and where."""

def spin(text: str, profile: str = "news", rate: Optional[float] = None, seed: int = 0) -> Spun:
    """Spins `text` with the news-spinner simulator, a synonym spinner or a phrase thesaurus."""

class AddSummary(TypedDict):
    added: int
    replaced: int
    unchanged: int
    bytes: int
    documents: int

class Index:
    """A trace index on disk (the file of `unspin index add` and `unspin trace`)."""

    def __init__(self, path: Union[str, "PathLike[str]"]) -> None: ...
    @property
    def path(self) -> str: ...
    def add(self, docs: Union[Mapping[str, str], Iterable[Tuple[str, str]]]) -> AddSummary:
        """Adds original documents ({id: text} or (id, text) pairs); one commit."""
    def trace(
        self,
        text: str,
        k: int = 5,
        min_score: Optional[float] = None,
        restore: bool = True,
        passage_text: bool = True,
    ) -> dict:
        """Ranks the indexed originals `text` was copied from (`unspin trace --format json`)."""
