//! Evaluation: how close a restoration comes to the original text.
//!
//! Three texts take part: the *reference* (the original wording), the *input*
//! (the spun text given to the system) and the *output* (what the system made
//! of the input). All word-level metrics use the same tokenization:
//!
//! * a word is a maximal run of non-whitespace characters (Unicode
//!   `White_Space` separates words), so punctuation stays attached ("end." is
//!   one word, as for the spinner itself);
//! * words are compared byte for byte: case-sensitive, nothing stripped or
//!   normalised. A restoration that gets the word right but the case or an
//!   attached quote wrong counts as an error, because the reader sees it.
//!
//! Texts are aligned word by word with a Levenshtein alignment (unit costs for
//! substitution, insertion and deletion), so phrase rewrites that change the
//! word count ("because" -> "due to the fact that") are scored properly. Two
//! texts with the same number of lines are aligned line by line; otherwise the
//! whole texts are aligned, in overlapping windows once the matrix would grow
//! past a few million cells (a 585,000-word corpus takes under 2 s line by
//! line, about 4 s as one text, in a release build). Three alignments are made: input-reference, input-output and
//! reference-output.
//!
//! # Metrics
//!
//! * **Word error rate** (WER): substitutions + insertions + deletions of the
//!   output against the reference, over the number of reference words. The
//!   same for the input is the baseline (what doing nothing scores).
//! * **Changed-word precision / recall / F1.** The *edit positions* of the
//!   input are its words plus the gaps between them (and before the first and
//!   after the last). A position *needs a change* when the input-reference
//!   alignment does not match the input word there (a substituted or an extra
//!   input word), or, for a gap, when reference words are missing there. A
//!   position is *changed* when the input-output alignment does not match it
//!   (or inserts words into the gap). A change is *correct* when the output
//!   has exactly what the reference has at that position: the reference word,
//!   no word where the reference has none, or the same inserted words.
//!   Precision = correct / changed, recall = correct / needed. *Detection*
//!   precision and recall count a change at a position that needs one as right
//!   whatever word was chosen. A phrase rewrite of k words counts as k
//!   positions; with line-by-line alignment the gap between two lines is one
//!   position.
//! * **Exact sentences**: reference sentences (split after a word that ends in
//!   `.`, `!` or `?`, optionally followed by closing quotes or brackets, i.e.
//!   sentence punctuation followed by whitespace, and at every line end) that
//!   come out identical: every word matched by the reference-output alignment
//!   and no word inserted inside the sentence or in the gap before it (the gap
//!   after the last sentence of a line belongs to that sentence). Reported for
//!   the output and, as baseline, for the input.
//! * **Clean words changed**: share of the input words that equal their
//!   reference word (matched by the input-reference alignment) which the
//!   system changed anyway.
//! * **Per-relation recall**, when the spinner's alignment records are given:
//!   a record is restored when all reference words that its original byte span
//!   `[orig_start, orig_end)` overlaps are matched in the reference-output
//!   alignment and no word is inserted between them (for an empty span: no
//!   word inserted at that point). Records whose offsets do not select their
//!   `original` / `spun` strings are skipped and counted.
//!
//! Reports hold raw counts, so [`EvalReport::merge`] adds documents up exactly;
//! the rates are derived when printed or serialized.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// Past this many DP cells a pair of segments is aligned in windows.
const MAX_FULL_CELLS: usize = 4_000_000;
/// Window length (words per side) of the windowed alignment.
const WINDOW: usize = 400;

/// One step of a word alignment between sequences `a` and `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlignOp {
    /// `a[i] == b[j]`.
    Match(usize, usize),
    /// `a[i]` replaced by `b[j]`.
    Sub(usize, usize),
    /// `a[i]` has no counterpart in `b`.
    Del(usize),
    /// `b[j]` has no counterpart in `a`.
    Ins(usize),
}

/// A Levenshtein alignment of two word sequences, in order.
///
/// Exact (full dynamic programming) when `a.len() * b.len()` is at most a few
/// million cells; longer sequences are aligned in overlapping windows of
/// 400 words, of which the first half is kept each time, which is exact
/// unless more than about 200 consecutive words differ.
pub fn align_words(a: &[&str], b: &[&str]) -> Vec<AlignOp> {
    let mut ops = Vec::with_capacity(a.len().max(b.len()));
    align_into(a, b, 0, 0, WINDOW, &mut ops);
    ops
}

/// The number of edits (substitutions, insertions, deletions) in `ops`.
pub fn edit_count(ops: &[AlignOp]) -> usize {
    ops.iter()
        .filter(|op| !matches!(op, AlignOp::Match(..)))
        .count()
}

fn align_into(a: &[&str], b: &[&str], ai: usize, bj: usize, window: usize, ops: &mut Vec<AlignOp>) {
    let (mut i, mut j) = (0, 0);
    loop {
        let (ra, rb) = (a.len() - i, b.len() - j);
        if (ra + 1).saturating_mul(rb + 1) <= MAX_FULL_CELLS || ra == 0 || rb == 0 {
            full_dp(
                &a[i..],
                &b[j..],
                ai + i,
                bj + j,
                false,
                usize::MAX,
                usize::MAX,
                ops,
            );
            return;
        }
        let (wa, wb) = (ra.min(window), rb.min(window));
        let keep = (window / 2).max(1);
        let (di, dj) = full_dp(
            &a[i..i + wa],
            &b[j..j + wb],
            ai + i,
            bj + j,
            true,
            keep,
            keep,
            ops,
        );
        i += di;
        j += dj;
    }
}

/// Levenshtein DP of `a` against `b`, pushing the ops (offset by `ai`, `bj`).
///
/// With `free_end` the path may end anywhere on the last row or column (the
/// cheapest such cell), and only the ops up to `keep_a` words of `a` or
/// `keep_b` words of `b` are pushed. Returns how many words of `a` and `b`
/// the pushed ops consume.
#[allow(clippy::too_many_arguments)]
fn full_dp(
    a: &[&str],
    b: &[&str],
    ai: usize,
    bj: usize,
    free_end: bool,
    keep_a: usize,
    keep_b: usize,
    ops: &mut Vec<AlignOp>,
) -> (usize, usize) {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    let mut d = vec![0u32; (n + 1) * w];
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j as u32;
    }
    for i in 1..=n {
        let (prev, cur) = d[(i - 1) * w..(i + 1) * w].split_at_mut(w);
        cur[0] = i as u32;
        let ai_word = a[i - 1];
        for j in 1..=m {
            let sub = prev[j - 1] + u32::from(ai_word != b[j - 1]);
            let del = prev[j] + 1;
            let ins = cur[j - 1] + 1;
            cur[j] = sub.min(del).min(ins);
        }
    }
    let (mut i, mut j) = (n, m);
    if free_end {
        let mut best = d[n * w + m];
        for jj in 0..=m {
            if d[n * w + jj] < best {
                best = d[n * w + jj];
                (i, j) = (n, jj);
            }
        }
        for ii in 0..=n {
            if d[ii * w + m] < best {
                best = d[ii * w + m];
                (i, j) = (ii, m);
            }
        }
    }
    // Trace back from the end; ties prefer a gap in `b`, then in `a`, so a
    // substitution lands on the first word of a rewritten phrase.
    let mut rev = Vec::with_capacity(i.max(j));
    while i > 0 || j > 0 {
        let here = d[i * w + j];
        if j > 0 && d[i * w + j - 1] + 1 == here {
            rev.push(AlignOp::Ins(j - 1));
            j -= 1;
        } else if i > 0 && d[(i - 1) * w + j] + 1 == here {
            rev.push(AlignOp::Del(i - 1));
            i -= 1;
        } else {
            let same = a[i - 1] == b[j - 1];
            rev.push(if same {
                AlignOp::Match(i - 1, j - 1)
            } else {
                AlignOp::Sub(i - 1, j - 1)
            });
            i -= 1;
            j -= 1;
        }
    }
    let (mut ca, mut cb) = (0, 0);
    for op in rev.into_iter().rev() {
        if free_end && (ca >= keep_a || cb >= keep_b) {
            break;
        }
        ops.push(match op {
            AlignOp::Match(x, y) => {
                ca += 1;
                cb += 1;
                AlignOp::Match(x + ai, y + bj)
            }
            AlignOp::Sub(x, y) => {
                ca += 1;
                cb += 1;
                AlignOp::Sub(x + ai, y + bj)
            }
            AlignOp::Del(x) => {
                ca += 1;
                AlignOp::Del(x + ai)
            }
            AlignOp::Ins(y) => {
                cb += 1;
                AlignOp::Ins(y + bj)
            }
        });
    }
    (ca, cb)
}

/// A text split into whitespace-separated words with byte spans and lines.
struct Words<'a> {
    words: Vec<&'a str>,
    spans: Vec<(usize, usize)>,
    /// Index of the first word of each line, plus `words.len()` at the end.
    line_starts: Vec<usize>,
}

impl<'a> Words<'a> {
    fn new(text: &'a str) -> Self {
        let mut spans = Vec::new();
        let mut line_starts = vec![0];
        let mut start = None;
        for (i, c) in text.char_indices() {
            if c.is_whitespace() {
                if let Some(s) = start.take() {
                    spans.push((s, i));
                }
                if c == '\n' {
                    line_starts.push(spans.len());
                }
            } else if start.is_none() {
                start = Some(i);
            }
        }
        if let Some(s) = start {
            spans.push((s, text.len()));
        }
        if text.ends_with('\n') {
            line_starts.pop(); // a final newline ends the last line, no new one
        }
        line_starts.push(spans.len());
        let words = spans.iter().map(|&(s, e)| &text[s..e]).collect();
        Words {
            words,
            spans,
            line_starts,
        }
    }

    fn lines(&self) -> usize {
        self.line_starts.len() - 1
    }

    fn line(&self, k: usize) -> std::ops::Range<usize> {
        self.line_starts[k]..self.line_starts[k + 1]
    }
}

/// An alignment of two texts: the ops in order, and the index of the first op
/// of each aligned segment (one per line, or one for the whole text).
struct TextAlignment {
    ops: Vec<AlignOp>,
    segments: Vec<usize>,
}

impl TextAlignment {
    fn segments(&self) -> impl Iterator<Item = &[AlignOp]> {
        let bounds = self
            .segments
            .iter()
            .copied()
            .chain(std::iter::once(self.ops.len()));
        bounds
            .clone()
            .zip(bounds.skip(1))
            .map(|(s, e)| &self.ops[s..e])
    }
}

/// Aligns two texts line by line when their line counts agree, else whole.
fn align_texts(a: &Words, b: &Words) -> TextAlignment {
    let mut ops = Vec::with_capacity(a.words.len().max(b.words.len()));
    let mut segments = Vec::new();
    if a.lines() == b.lines() {
        for k in 0..a.lines() {
            let (ra, rb) = (a.line(k), b.line(k));
            segments.push(ops.len());
            align_into(
                &a.words[ra.clone()],
                &b.words[rb.clone()],
                ra.start,
                rb.start,
                WINDOW,
                &mut ops,
            );
        }
    } else {
        segments.push(0);
        align_into(&a.words, &b.words, 0, 0, WINDOW, &mut ops);
    }
    TextAlignment { ops, segments }
}

/// Substitutions, insertions and deletions against the reference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditCounts {
    /// Reference words replaced by another word.
    pub substitutions: u64,
    /// Words present that the reference does not have.
    pub insertions: u64,
    /// Reference words missing.
    pub deletions: u64,
}

impl EditCounts {
    /// All edits.
    pub fn total(&self) -> u64 {
        self.substitutions + self.insertions + self.deletions
    }

    fn add(&mut self, o: &EditCounts) {
        self.substitutions += o.substitutions;
        self.insertions += o.insertions;
        self.deletions += o.deletions;
    }
}

/// Restoration counts of one spinner relation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationCounts {
    /// Alignment records with this relation.
    pub total: u64,
    /// Of those, the ones whose original words came back exactly.
    pub restored: u64,
}

/// One record of the spinner's alignment JSONL: what it replaced where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlignmentRecord {
    /// Byte offset of the replaced span in the original (reference) text.
    pub orig_start: usize,
    /// Byte offset one past the replaced span in the original text.
    pub orig_end: usize,
    /// Byte offset of the replacement in the spun (input) text.
    pub spun_start: usize,
    /// Byte offset one past the replacement in the spun text.
    pub spun_end: usize,
    /// The original words.
    pub original: String,
    /// What the spinner wrote instead.
    pub spun: String,
    /// How the replacement relates to the original (e.g. a WordNet relation).
    pub relation: String,
    /// The spinner profile that made it.
    #[serde(default)]
    pub profile: String,
}

impl From<&crate::spinner::AlignedChange> for AlignmentRecord {
    /// The record the spinner writes for one of its changes.
    fn from(c: &crate::spinner::AlignedChange) -> Self {
        AlignmentRecord {
            orig_start: c.orig_start,
            orig_end: c.orig_end,
            spun_start: c.spun_start,
            spun_end: c.spun_end,
            original: c.original.clone(),
            spun: c.spun.clone(),
            relation: c.relation.clone(),
            profile: c.profile.clone(),
        }
    }
}

/// Parses alignment JSONL (one [`AlignmentRecord`] per non-blank line).
pub fn parse_alignment_jsonl(text: &str) -> Result<Vec<AlignmentRecord>, crate::Error> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(k, l)| {
            serde_json::from_str(l)
                .map_err(|e| crate::Error::Input(format!("alignment line {}: {e}", k + 1)))
        })
        .collect()
}

/// Evaluation counts of one or more documents; rates are derived from them.
///
/// Serializes as `{"counts": {...}, "metrics": {...}}` (see [`Metrics`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct EvalReport {
    /// Documents (calls of [`evaluate`]) merged into this report.
    pub documents: u64,
    /// Words of the reference texts.
    pub reference_words: u64,
    /// Words of the spun input texts.
    pub input_words: u64,
    /// Words of the system outputs.
    pub output_words: u64,
    /// Edits of the input against the reference (the do-nothing baseline).
    pub input_edits: EditCounts,
    /// Edits of the output against the reference.
    pub output_edits: EditCounts,
    /// Input edit positions (words and gaps) that differ from the reference.
    pub needed_changes: u64,
    /// Input edit positions the system changed.
    pub system_changes: u64,
    /// Changed positions that now hold exactly what the reference has.
    pub correct_changes: u64,
    /// Changed positions that needed a change (whatever the new words).
    pub detected_changes: u64,
    /// Input words equal to their reference word.
    pub clean_words: u64,
    /// Of those, the ones the system changed.
    pub clean_words_changed: u64,
    /// Sentences of the reference.
    pub reference_sentences: u64,
    /// Reference sentences found unchanged in the input.
    pub input_exact_sentences: u64,
    /// Reference sentences found unchanged in the output.
    pub output_exact_sentences: u64,
    /// Per relation of the alignment records, when they were given.
    pub relations: BTreeMap<String, RelationCounts>,
    /// Alignment records whose offsets did not select their strings.
    pub alignment_records_skipped: u64,
}

/// The rates derived from an [`EvalReport`]; `None` where a denominator is 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    /// Word error rate of the input against the reference (baseline).
    pub wer_input: Option<f64>,
    /// Word error rate of the output against the reference.
    pub wer_output: Option<f64>,
    /// Share of the baseline's word errors that the system removed.
    pub wer_reduction: Option<f64>,
    /// Correct changes over system changes.
    pub precision: Option<f64>,
    /// Correct changes over needed changes.
    pub recall: Option<f64>,
    /// Harmonic mean of precision and recall.
    pub f1: Option<f64>,
    /// Changes at positions that needed one, over system changes.
    pub detection_precision: Option<f64>,
    /// Changes at positions that needed one, over needed changes.
    pub detection_recall: Option<f64>,
    /// Harmonic mean of the detection precision and recall.
    pub detection_f1: Option<f64>,
    /// Share of clean input words that the system changed.
    pub clean_changed_rate: Option<f64>,
    /// Share of reference sentences unchanged in the input.
    pub exact_sentences_input: Option<f64>,
    /// Share of reference sentences unchanged in the output.
    pub exact_sentences_output: Option<f64>,
    /// Restored share of the alignment records, per relation.
    pub relation_recall: BTreeMap<String, Option<f64>>,
    /// Restored share of all alignment records.
    pub relation_recall_all: Option<f64>,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn f1(p: Option<f64>, r: Option<f64>) -> Option<f64> {
    match (p, r) {
        (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
        (Some(_), Some(_)) => Some(0.0),
        _ => None,
    }
}

impl EvalReport {
    /// Adds the counts of `other` (another document) to this report.
    pub fn merge(&mut self, other: &EvalReport) {
        self.documents += other.documents;
        self.reference_words += other.reference_words;
        self.input_words += other.input_words;
        self.output_words += other.output_words;
        self.input_edits.add(&other.input_edits);
        self.output_edits.add(&other.output_edits);
        self.needed_changes += other.needed_changes;
        self.system_changes += other.system_changes;
        self.correct_changes += other.correct_changes;
        self.detected_changes += other.detected_changes;
        self.clean_words += other.clean_words;
        self.clean_words_changed += other.clean_words_changed;
        self.reference_sentences += other.reference_sentences;
        self.input_exact_sentences += other.input_exact_sentences;
        self.output_exact_sentences += other.output_exact_sentences;
        for (rel, c) in &other.relations {
            let mine = self.relations.entry(rel.clone()).or_default();
            mine.total += c.total;
            mine.restored += c.restored;
        }
        self.alignment_records_skipped += other.alignment_records_skipped;
    }

    /// The derived rates.
    pub fn metrics(&self) -> Metrics {
        let precision = ratio(self.correct_changes, self.system_changes);
        let recall = ratio(self.correct_changes, self.needed_changes);
        let detection_precision = ratio(self.detected_changes, self.system_changes);
        let detection_recall = ratio(self.detected_changes, self.needed_changes);
        let wer_input = ratio(self.input_edits.total(), self.reference_words);
        let wer_output = ratio(self.output_edits.total(), self.reference_words);
        let wer_reduction = match (wer_input, wer_output) {
            (Some(i), Some(o)) if i > 0.0 => Some(1.0 - o / i),
            _ => None,
        };
        let (mut all_total, mut all_restored) = (0, 0);
        let relation_recall = self
            .relations
            .iter()
            .map(|(k, c)| {
                all_total += c.total;
                all_restored += c.restored;
                (k.clone(), ratio(c.restored, c.total))
            })
            .collect();
        Metrics {
            wer_input,
            wer_output,
            wer_reduction,
            precision,
            recall,
            f1: f1(precision, recall),
            detection_precision,
            detection_recall,
            detection_f1: f1(detection_precision, detection_recall),
            clean_changed_rate: ratio(self.clean_words_changed, self.clean_words),
            exact_sentences_input: ratio(self.input_exact_sentences, self.reference_sentences),
            exact_sentences_output: ratio(self.output_exact_sentences, self.reference_sentences),
            relation_recall,
            relation_recall_all: ratio(all_restored, all_total),
        }
    }

    /// A plain-text table of the counts and rates.
    pub fn to_table(&self) -> String {
        fn pct(x: Option<f64>) -> String {
            x.map_or_else(|| "-".to_string(), |v| format!("{:.2}%", 100.0 * v))
        }
        let m = self.metrics();
        let mut t = String::new();
        let _ = writeln!(
            t,
            "documents {}   words: reference {}  input {}  output {}",
            self.documents, self.reference_words, self.input_words, self.output_words
        );
        let _ = writeln!(t);
        let _ = writeln!(t, "{:<26}{:>12}{:>12}", "", "input", "output");
        let _ = writeln!(
            t,
            "{:<26}{:>12}{:>12}",
            "word error rate",
            pct(m.wer_input),
            pct(m.wer_output)
        );
        for (name, i, o) in [
            (
                "  substitutions",
                self.input_edits.substitutions,
                self.output_edits.substitutions,
            ),
            (
                "  insertions",
                self.input_edits.insertions,
                self.output_edits.insertions,
            ),
            (
                "  deletions",
                self.input_edits.deletions,
                self.output_edits.deletions,
            ),
        ] {
            let _ = writeln!(t, "{name:<26}{i:>12}{o:>12}");
        }
        let _ = writeln!(
            t,
            "{:<26}{:>12}{:>12}",
            "exact sentences",
            pct(m.exact_sentences_input),
            pct(m.exact_sentences_output)
        );
        let _ = writeln!(
            t,
            "{:<26}{:>12}",
            "  reference sentences", self.reference_sentences
        );
        let _ = writeln!(
            t,
            "{:<26}{:>24}",
            "word errors removed",
            pct(m.wer_reduction)
        );
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "{:<26}{:>12}{:>12}{:>12}",
            "changed words", "precision", "recall", "F1"
        );
        let _ = writeln!(
            t,
            "{:<26}{:>12}{:>12}{:>12}",
            "  restored",
            pct(m.precision),
            pct(m.recall),
            pct(m.f1)
        );
        let _ = writeln!(
            t,
            "{:<26}{:>12}{:>12}{:>12}",
            "  detected",
            pct(m.detection_precision),
            pct(m.detection_recall),
            pct(m.detection_f1)
        );
        let _ = writeln!(
            t,
            "  positions: needed {}  changed {}  correct {}  detected {}",
            self.needed_changes, self.system_changes, self.correct_changes, self.detected_changes
        );
        let _ = writeln!(
            t,
            "clean words changed       {:>12}   ({} of {})",
            pct(m.clean_changed_rate),
            self.clean_words_changed,
            self.clean_words
        );
        if !self.relations.is_empty() || self.alignment_records_skipped > 0 {
            let _ = writeln!(t);
            let _ = writeln!(
                t,
                "{:<26}{:>12}{:>12}{:>12}",
                "relation", "records", "restored", "recall"
            );
            for (rel, c) in &self.relations {
                let _ = writeln!(
                    t,
                    "{:<26}{:>12}{:>12}{:>12}",
                    format!("  {rel}"),
                    c.total,
                    c.restored,
                    pct(ratio(c.restored, c.total))
                );
            }
            let (tot, res) = self
                .relations
                .values()
                .fold((0, 0), |(t, r), c| (t + c.total, r + c.restored));
            let _ = writeln!(
                t,
                "{:<26}{:>12}{:>12}{:>12}",
                "  all",
                tot,
                res,
                pct(m.relation_recall_all)
            );
            if self.alignment_records_skipped > 0 {
                let _ = writeln!(
                    t,
                    "  skipped {} records whose offsets do not match their text",
                    self.alignment_records_skipped
                );
            }
        }
        t
    }
}

impl Serialize for EvalReport {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Counts<'a> {
            documents: u64,
            reference_words: u64,
            input_words: u64,
            output_words: u64,
            input_edits: &'a EditCounts,
            output_edits: &'a EditCounts,
            needed_changes: u64,
            system_changes: u64,
            correct_changes: u64,
            detected_changes: u64,
            clean_words: u64,
            clean_words_changed: u64,
            reference_sentences: u64,
            input_exact_sentences: u64,
            output_exact_sentences: u64,
            relations: &'a BTreeMap<String, RelationCounts>,
            alignment_records_skipped: u64,
        }
        #[derive(Serialize)]
        struct View<'a> {
            counts: Counts<'a>,
            metrics: Metrics,
        }
        View {
            counts: Counts {
                documents: self.documents,
                reference_words: self.reference_words,
                input_words: self.input_words,
                output_words: self.output_words,
                input_edits: &self.input_edits,
                output_edits: &self.output_edits,
                needed_changes: self.needed_changes,
                system_changes: self.system_changes,
                correct_changes: self.correct_changes,
                detected_changes: self.detected_changes,
                clean_words: self.clean_words,
                clean_words_changed: self.clean_words_changed,
                reference_sentences: self.reference_sentences,
                input_exact_sentences: self.input_exact_sentences,
                output_exact_sentences: self.output_exact_sentences,
                relations: &self.relations,
                alignment_records_skipped: self.alignment_records_skipped,
            },
            metrics: self.metrics(),
        }
        .serialize(s)
    }
}

/// What an alignment of the input (side `a`) against another text says about
/// each input word and each gap between input words.
struct InputView {
    /// Per input word: the aligned word index of the other text, if any.
    target: Vec<Option<usize>>,
    /// Per input word: aligned to an identical word.
    matched: Vec<bool>,
    /// Words of the other text inserted in gap `g` (before input word `g`):
    /// `inserted[gap_start[g]..gap_start[g + 1]]`.
    gap_start: Vec<usize>,
    inserted: Vec<usize>,
}

impl InputView {
    fn new(ops: &[AlignOp], n: usize) -> Self {
        let mut target = vec![None; n];
        let mut matched = vec![false; n];
        let mut gap_start = Vec::with_capacity(n + 2);
        let mut inserted = Vec::new();
        gap_start.push(0);
        for op in ops {
            match *op {
                AlignOp::Match(i, j) | AlignOp::Sub(i, j) => {
                    target[i] = Some(j);
                    matched[i] = matches!(op, AlignOp::Match(..));
                    gap_start.push(inserted.len()); // gap i+1 starts here
                }
                AlignOp::Del(_) => gap_start.push(inserted.len()),
                AlignOp::Ins(j) => inserted.push(j),
            }
        }
        gap_start.push(inserted.len());
        debug_assert_eq!(gap_start.len(), n + 2);
        InputView {
            target,
            matched,
            gap_start,
            inserted,
        }
    }

    fn gap(&self, g: usize) -> &[usize] {
        &self.inserted[self.gap_start[g]..self.gap_start[g + 1]]
    }
}

/// What an alignment with the reference says about each reference word.
struct ReferenceView {
    matched: Vec<bool>,
    /// Words inserted right after reference word `w`, in the same segment.
    after: Vec<u32>,
    /// Words inserted at the start of a segment, before reference word `g`.
    lead: Vec<u32>,
}

impl ReferenceView {
    /// `ref_is_a`: the reference is side `a` of the alignment.
    fn new(al: &TextAlignment, n: usize, ref_is_a: bool) -> Self {
        let mut view = ReferenceView {
            matched: vec![false; n],
            after: vec![0; n],
            lead: vec![0; n + 1],
        };
        let ref_word = |op: &AlignOp| match (*op, ref_is_a) {
            (AlignOp::Match(i, _) | AlignOp::Sub(i, _) | AlignOp::Del(i), true) => Some(i),
            (AlignOp::Match(_, i) | AlignOp::Sub(_, i) | AlignOp::Ins(i), false) => Some(i),
            _ => None,
        };
        let mut next = 0; // the next reference word
        for seg in al.segments() {
            if !seg.iter().any(|op| ref_word(op).is_some()) {
                continue; // words facing an empty reference line touch no sentence
            }
            let mut last = None;
            for op in seg {
                if let Some(i) = ref_word(op) {
                    view.matched[i] = matches!(op, AlignOp::Match(..));
                    last = Some(i);
                    next = i + 1;
                } else if let Some(w) = last {
                    view.after[w] += 1;
                } else {
                    view.lead[next] += 1;
                }
            }
        }
        view
    }

    /// Nothing inserted at the gap before reference word `g`; `line_start`:
    /// `g` starts a line, so what follows the previous word is not counted.
    fn clear_before(&self, g: usize, line_start: bool) -> bool {
        self.lead[g] == 0 && (line_start || g == 0 || self.after[g - 1] == 0)
    }

    /// Reference words `range` (not empty) came through unchanged, with
    /// nothing inserted between them, and, with `tail`, nothing after them.
    fn intact(&self, range: std::ops::Range<usize>, tail: bool) -> bool {
        let last = range.end - 1;
        self.matched[range.clone()].iter().all(|&m| m)
            && self.after[range.start..last].iter().all(|&c| c == 0)
            && (!tail || self.after[last] == 0)
    }
}

fn edit_counts(ops: &[AlignOp], ref_is_a: bool) -> EditCounts {
    let mut c = EditCounts::default();
    for op in ops {
        match (op, ref_is_a) {
            (AlignOp::Match(..), _) => {}
            (AlignOp::Sub(..), _) => c.substitutions += 1,
            (AlignOp::Del(_), true) | (AlignOp::Ins(_), false) => c.deletions += 1,
            (AlignOp::Ins(_), true) | (AlignOp::Del(_), false) => c.insertions += 1,
        }
    }
    c
}

fn ends_sentence(word: &str) -> bool {
    let trimmed =
        word.trim_end_matches(['"', '\'', ')', ']', '}', '\u{201d}', '\u{2019}', '\u{bb}']);
    trimmed.ends_with(['.', '!', '?'])
}

/// Evaluates one document: `output` restored from `input`, against `reference`.
///
/// `alignment` holds the spinner's records for this document (byte offsets
/// into `reference` and `input`) for the per-relation breakdown.
pub fn evaluate(
    reference: &str,
    input: &str,
    output: &str,
    alignment: Option<&[AlignmentRecord]>,
) -> EvalReport {
    let r = Words::new(reference);
    let i = Words::new(input);
    let o = Words::new(output);
    let ir = align_texts(&i, &r);
    let io = align_texts(&i, &o);
    let ro = align_texts(&r, &o);

    let mut rep = EvalReport {
        documents: 1,
        reference_words: r.words.len() as u64,
        input_words: i.words.len() as u64,
        output_words: o.words.len() as u64,
        input_edits: edit_counts(&ir.ops, false),
        output_edits: edit_counts(&ro.ops, true),
        ..EvalReport::default()
    };

    // Changed words: input words and gaps.
    let need = InputView::new(&ir.ops, i.words.len());
    let done = InputView::new(&io.ops, i.words.len());
    for k in 0..i.words.len() {
        let needed = !need.matched[k];
        let changed = !done.matched[k];
        if !needed {
            rep.clean_words += 1;
            rep.clean_words_changed += u64::from(changed);
        }
        rep.needed_changes += u64::from(needed);
        rep.system_changes += u64::from(changed);
        if changed && needed {
            rep.detected_changes += 1;
            let correct = match (need.target[k], done.target[k]) {
                (None, None) => true,
                (Some(x), Some(y)) => r.words[x] == o.words[y],
                _ => false,
            };
            rep.correct_changes += u64::from(correct);
        }
    }
    for g in 0..=i.words.len() {
        let (want, got) = (need.gap(g), done.gap(g));
        let (needed, changed) = (!want.is_empty(), !got.is_empty());
        rep.needed_changes += u64::from(needed);
        rep.system_changes += u64::from(changed);
        if needed && changed {
            rep.detected_changes += 1;
            let same = want.len() == got.len()
                && want
                    .iter()
                    .zip(got)
                    .all(|(&x, &y)| r.words[x] == o.words[y]);
            rep.correct_changes += u64::from(same);
        }
    }

    // Exact sentences, per reference line.
    let out_view = ReferenceView::new(&ro, r.words.len(), true);
    let in_view = ReferenceView::new(&ir, r.words.len(), false);
    for line in 0..r.lines() {
        let range = r.line(line);
        let mut start = range.start;
        for k in range.clone() {
            let last = k + 1 == range.end;
            if last || ends_sentence(r.words[k]) {
                let first = start == range.start;
                rep.reference_sentences += 1;
                for (view, count) in [
                    (&out_view, &mut rep.output_exact_sentences),
                    (&in_view, &mut rep.input_exact_sentences),
                ] {
                    *count += u64::from(
                        view.clear_before(start, first) && view.intact(start..k + 1, last),
                    );
                }
                start = k + 1;
            }
        }
    }

    // Per-relation recall.
    if let Some(records) = alignment {
        for rec in records {
            let ok_orig =
                reference.get(rec.orig_start..rec.orig_end) == Some(rec.original.as_str());
            let ok_spun = input.get(rec.spun_start..rec.spun_end) == Some(rec.spun.as_str());
            if !ok_orig || !ok_spun {
                rep.alignment_records_skipped += 1;
                continue;
            }
            let first = r.spans.partition_point(|&(_, e)| e <= rec.orig_start);
            let end = r.spans.partition_point(|&(s, _)| s < rec.orig_end);
            let restored = if end > first {
                out_view.intact(first..end, false)
            } else {
                // Nothing of the reference there: restored when nothing is inserted.
                out_view.clear_before(first, false)
            };
            let c = rep.relations.entry(rec.relation.clone()).or_default();
            c.total += 1;
            c.restored += u64::from(restored);
        }
    }
    rep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    fn full_cost(a: &[&str], b: &[&str]) -> usize {
        let mut ops = Vec::new();
        full_dp(a, b, 0, 0, false, usize::MAX, usize::MAX, &mut ops);
        edit_count(&ops)
    }

    /// Checks that `ops` is a valid alignment path of `a` and `b`.
    fn check_path(ops: &[AlignOp], a: &[&str], b: &[&str]) {
        let (mut i, mut j) = (0, 0);
        for op in ops {
            match *op {
                AlignOp::Match(x, y) => {
                    assert_eq!((x, y), (i, j));
                    assert_eq!(a[x], b[y]);
                    i += 1;
                    j += 1;
                }
                AlignOp::Sub(x, y) => {
                    assert_eq!((x, y), (i, j));
                    assert_ne!(a[x], b[y]);
                    i += 1;
                    j += 1;
                }
                AlignOp::Del(x) => {
                    assert_eq!(x, i);
                    i += 1;
                }
                AlignOp::Ins(y) => {
                    assert_eq!(y, j);
                    j += 1;
                }
            }
        }
        assert_eq!((i, j), (a.len(), b.len()));
    }

    #[test]
    fn levenshtein_alignment_by_hand() {
        let a = ws("the cat sat on the mat");
        let b = ws("the cat sat on mat");
        let ops = align_words(&a, &b);
        check_path(&ops, &a, &b);
        assert_eq!(edit_count(&ops), 1);
        assert!(ops.contains(&AlignOp::Del(4)), "{ops:?}");

        let a = ws("x because y");
        let b = ws("x due to the fact that y");
        let ops = align_words(&a, &b);
        check_path(&ops, &a, &b);
        assert_eq!(edit_count(&ops), 5);
        assert_eq!(
            ops,
            vec![
                AlignOp::Match(0, 0),
                AlignOp::Sub(1, 1),
                AlignOp::Ins(2),
                AlignOp::Ins(3),
                AlignOp::Ins(4),
                AlignOp::Ins(5),
                AlignOp::Match(2, 6),
            ]
        );
        assert_eq!(
            align_words(&[], &ws("a b")),
            vec![AlignOp::Ins(0), AlignOp::Ins(1)]
        );
        assert_eq!(align_words(&ws("a"), &[]), vec![AlignOp::Del(0)]);
        assert!(align_words(&[], &[]).is_empty());
    }

    #[test]
    fn wer_counts_substitutions_insertions_deletions() {
        // reference 6 words; output drops one word and changes one.
        let rep = evaluate(
            "the cat sat on the mat",
            "the cat sat on the mat",
            "the dog sat on mat",
            None,
        );
        assert_eq!(
            rep.output_edits,
            EditCounts {
                substitutions: 1,
                insertions: 0,
                deletions: 1
            }
        );
        assert_eq!(rep.metrics().wer_output, Some(2.0 / 6.0));
        assert_eq!(rep.metrics().wer_input, Some(0.0));
        // Two clean words changed ("cat" -> "dog", "the" dropped) out of 6.
        assert_eq!(rep.clean_words, 6);
        assert_eq!(rep.clean_words_changed, 2);
        assert_eq!(rep.metrics().precision, Some(0.0));
        assert_eq!(rep.metrics().recall, None);
    }

    #[test]
    fn phrase_expansion_restored() {
        // "because" -> "due to the fact that": the input has 4 extra words.
        let rep = evaluate(
            "x because y",
            "x due to the fact that y",
            "x because y",
            None,
        );
        assert_eq!(
            rep.input_edits,
            EditCounts {
                substitutions: 1,
                insertions: 4,
                deletions: 0
            }
        );
        assert_eq!(rep.metrics().wer_input, Some(5.0 / 3.0));
        assert_eq!(rep.output_edits.total(), 0);
        assert_eq!(rep.metrics().wer_reduction, Some(1.0));
        // due->because, and to/the/fact/that deleted: five positions.
        assert_eq!(rep.needed_changes, 5);
        assert_eq!(rep.system_changes, 5);
        assert_eq!(rep.correct_changes, 5);
        assert_eq!(rep.metrics().f1, Some(1.0));
        assert_eq!(rep.clean_words, 2);
        assert_eq!(rep.clean_words_changed, 0);
        assert_eq!(
            (
                rep.reference_sentences,
                rep.output_exact_sentences,
                rep.input_exact_sentences
            ),
            (1, 1, 0)
        );
    }

    #[test]
    fn phrase_expansion_half_restored() {
        // The system only shortens the phrase: "due to the fact that" -> "due to".
        let rep = evaluate(
            "x because y",
            "x due to the fact that y",
            "x due to y",
            None,
        );
        // output vs reference: x [due->because] [to inserted] y
        assert_eq!(
            rep.output_edits,
            EditCounts {
                substitutions: 1,
                insertions: 1,
                deletions: 0
            }
        );
        // input positions needing change: due, to, the, fact, that (5).
        // changed by the system: the, fact, that deleted (3), all correctly.
        assert_eq!(rep.needed_changes, 5);
        assert_eq!(rep.system_changes, 3);
        assert_eq!(rep.detected_changes, 3);
        assert_eq!(rep.correct_changes, 3);
        let m = rep.metrics();
        assert_eq!(m.precision, Some(1.0));
        assert_eq!(m.recall, Some(0.6));
        assert!((m.f1.unwrap() - 0.75).abs() < 1e-12);
        assert_eq!(rep.output_exact_sentences, 0);
    }

    #[test]
    fn phrase_contraction_and_deleted_words() {
        // The spinner dropped a reference word ("b"); the gap before "c" needs it.
        let rep = evaluate("a b c d", "a c d", "a b c d", None);
        assert_eq!(
            rep.input_edits,
            EditCounts {
                substitutions: 0,
                insertions: 0,
                deletions: 1
            }
        );
        assert_eq!(rep.needed_changes, 1);
        assert_eq!(rep.system_changes, 1);
        assert_eq!(rep.correct_changes, 1);
        assert_eq!(rep.clean_words, 3);
        // Inserting the wrong word there is detected but not correct.
        let rep = evaluate("a b c d", "a c d", "a z c d", None);
        assert_eq!(
            (
                rep.system_changes,
                rep.detected_changes,
                rep.correct_changes
            ),
            (1, 1, 0)
        );
        // Reference phrase collapsed by the spinner: "due to the fact that" -> "because".
        let rep = evaluate(
            "x due to the fact that y",
            "x because y",
            "x due to the fact that y",
            None,
        );
        assert_eq!(
            rep.input_edits,
            EditCounts {
                substitutions: 1,
                insertions: 0,
                deletions: 4
            }
        );
        // "because" -> "due" (word) and "to the fact that" into the gap after it.
        assert_eq!(
            (rep.needed_changes, rep.system_changes, rep.correct_changes),
            (2, 2, 2)
        );
        assert_eq!(rep.output_edits.total(), 0);
    }

    #[test]
    fn precision_recall_detection_by_hand() {
        // needed: x (1); system changes a->z (clean word) and x->b (correct).
        let rep = evaluate("a b c", "a x c", "z b c", None);
        assert_eq!(
            (rep.needed_changes, rep.system_changes, rep.correct_changes),
            (1, 2, 1)
        );
        let m = rep.metrics();
        assert_eq!(m.precision, Some(0.5));
        assert_eq!(m.recall, Some(1.0));
        assert_eq!(m.detection_precision, Some(0.5));
        assert_eq!((rep.clean_words, rep.clean_words_changed), (2, 1));
        assert_eq!(m.clean_changed_rate, Some(0.5));
        // right position, wrong word
        let m = evaluate("a b c", "a x c", "a y c", None).metrics();
        assert_eq!((m.precision, m.recall), (Some(0.0), Some(0.0)));
        assert_eq!(
            (m.detection_precision, m.detection_recall),
            (Some(1.0), Some(1.0))
        );
        assert_eq!(m.f1, Some(0.0));
        // nothing changed at all
        let m = evaluate("a b c", "a x c", "a x c", None).metrics();
        assert_eq!((m.precision, m.recall, m.f1), (None, Some(0.0), None));
        // case matters
        let rep = evaluate("The end.", "The end.", "the end.", None);
        assert_eq!(rep.output_edits.substitutions, 1);
    }

    #[test]
    fn exact_sentences() {
        let r = "A b. C d! E \"f?\" G h";
        let rep = evaluate(r, "A b. C x! E \"f?\" G h", "A b. C d! E \"f?\" G z", None);
        assert_eq!(rep.reference_sentences, 4);
        assert_eq!(rep.input_exact_sentences, 3);
        assert_eq!(rep.output_exact_sentences, 3);
        // An inserted word inside a sentence breaks it, even if all words match.
        let rep = evaluate("A b c.", "A b c.", "A b extra c.", None);
        assert_eq!(rep.output_exact_sentences, 0);
        // Inserted at the end of the line: belongs to the last sentence.
        let rep = evaluate("A b. C d.", "A b. C d.", "A b. C d. more", None);
        assert_eq!(
            (rep.reference_sentences, rep.output_exact_sentences),
            (2, 1)
        );
        // Lines end sentences too.
        let rep = evaluate("A b\nC d\n", "A b\nC d\n", "A b\nC x\n", None);
        assert_eq!(
            (rep.reference_sentences, rep.output_exact_sentences),
            (2, 1)
        );
    }

    #[test]
    fn line_by_line_equals_whole_text() {
        let r = "one two three four.\nfive six seven.\n\neight nine ten.\n";
        let i = "one 2 three four.\nfive six seven eleven.\n\neight nine.\n";
        let o = "one two three.\nfive six seven.\n\neight nine ten ten.\n";
        let by_line = evaluate(r, i, o, None);
        // Same content without the line structure on the output side.
        let o_flat = o.replace('\n', " ");
        let whole = evaluate(r, i, &o_flat, None);
        assert_eq!(by_line.output_edits, whole.output_edits);
        assert_eq!(by_line.correct_changes, whole.correct_changes);
        assert_eq!(by_line.needed_changes, whole.needed_changes);
        // "three four." -> "three." (a substitution and a deletion), "ten" added.
        assert_eq!(
            by_line.output_edits,
            EditCounts {
                substitutions: 1,
                insertions: 1,
                deletions: 1
            }
        );
    }

    /// A tiny deterministic generator for synthetic texts.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    const VOCAB: [&str; 12] = [
        "the", "a", "of", "ship", "sea", "whale", "to", "and", "in", "he", "was", "it",
    ];

    fn synthetic(n: usize, seed: u64) -> (Vec<&'static str>, Vec<&'static str>) {
        let mut g = Lcg(seed);
        let a: Vec<&str> = (0..n).map(|_| VOCAB[g.next(VOCAB.len())]).collect();
        let mut b = Vec::with_capacity(n);
        for &w in &a {
            match g.next(20) {
                0 => {}
                1 => b.push("due"),
                2 => {
                    b.push(w);
                    b.push("to");
                    b.push("fact");
                }
                3 => b.push("changed"),
                _ => b.push(w),
            }
        }
        (a, b)
    }

    #[test]
    fn windowed_alignment_matches_full_dp() {
        for seed in 1..6 {
            let (a, b) = synthetic(1500, seed);
            let mut ops = Vec::new();
            align_into(&a, &b, 0, 0, 20, &mut ops); // force tiny windows
            check_path(&ops, &a, &b);
            let exact = full_cost(&a, &b);
            let windowed = edit_count(&ops);
            assert!(
                windowed <= exact + exact / 100,
                "seed {seed}: windowed {windowed} vs exact {exact}"
            );
            let mut ops = Vec::new();
            align_into(&a, &b, 0, 0, WINDOW, &mut ops);
            check_path(&ops, &a, &b);
            assert_eq!(edit_count(&ops), exact, "seed {seed}");
        }
    }

    #[test]
    fn long_texts_align_in_windows() {
        // 20,000 words on one line: far past MAX_FULL_CELLS.
        let (a, b) = synthetic(20_000, 7);
        let ops = align_words(&a, &b);
        check_path(&ops, &a, &b);
        let r = a.join(" ");
        let i = b.join(" ");
        let rep = evaluate(&r, &i, &r, None);
        assert_eq!(rep.output_edits.total(), 0);
        assert_eq!(rep.input_edits.total() as usize, edit_count(&ops));
        assert_eq!(rep.correct_changes, rep.needed_changes);
    }

    #[test]
    fn relation_recall_from_byte_offsets() {
        let reference = "He left because it rained. Big ships sail.";
        let input = "He left due to the fact that it rained. Large ships sail.";
        let output = "He left because it rained. Large ships sail.";
        let rec = |os: usize, oe: usize, ss: usize, se: usize, rel: &str| AlignmentRecord {
            orig_start: os,
            orig_end: oe,
            spun_start: ss,
            spun_end: se,
            original: reference[os..oe].to_string(),
            spun: input[ss..se].to_string(),
            relation: rel.to_string(),
            profile: "news".to_string(),
        };
        let recs = vec![
            rec(8, 15, 8, 28, "phrase"),
            rec(27, 30, 40, 45, "synonym"),
            AlignmentRecord {
                orig_start: 0,
                ..rec(27, 30, 40, 45, "synonym")
            }, // bad offsets
        ];
        assert_eq!(&reference[8..15], "because");
        assert_eq!(&input[40..45], "Large");
        let rep = evaluate(reference, input, output, Some(&recs));
        assert_eq!(
            rep.relations["phrase"],
            RelationCounts {
                total: 1,
                restored: 1
            }
        );
        assert_eq!(
            rep.relations["synonym"],
            RelationCounts {
                total: 1,
                restored: 0
            }
        );
        assert_eq!(rep.alignment_records_skipped, 1);
        let m = rep.metrics();
        assert_eq!(m.relation_recall["phrase"], Some(1.0));
        assert_eq!(m.relation_recall_all, Some(0.5));
        let table = rep.to_table();
        assert!(
            table.contains("phrase") && table.contains("skipped 1"),
            "{table}"
        );

        let jsonl: String = recs[..2]
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect();
        assert_eq!(parse_alignment_jsonl(&jsonl).unwrap(), recs[..2].to_vec());
        assert!(parse_alignment_jsonl("{\"orig_start\": 1}\n").is_err());
    }

    #[test]
    fn merge_adds_counts_and_serializes() {
        let a = evaluate("a b c", "a x c", "a b c", None);
        let b = evaluate("d e. f g.", "d e. f g.", "d e. f h.", None);
        let mut all = EvalReport::default();
        all.merge(&a);
        all.merge(&b);
        assert_eq!(all.documents, 2);
        assert_eq!(all.reference_words, 7);
        assert_eq!(all.output_edits.substitutions, 1);
        assert_eq!(all.input_edits.substitutions, 1);
        assert_eq!(all.reference_sentences, 3);
        assert_eq!(all.output_exact_sentences, 2);
        assert_eq!(all.metrics().wer_output, Some(1.0 / 7.0));
        let json = serde_json::to_value(&all).unwrap();
        assert_eq!(json["counts"]["documents"], 2);
        assert_eq!(json["metrics"]["precision"], 0.5);
        assert!(json["metrics"]["relation_recall_all"].is_null());
        assert!(all.to_table().contains("word error rate"));
    }
}
