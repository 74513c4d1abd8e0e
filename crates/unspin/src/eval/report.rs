//! The counts of an evaluation ([`EvalReport`]) and the rates derived from
//! them ([`Metrics`]), with the spinner's alignment records that the
//! per-relation recall is counted over. Reports hold raw counts so that
//! [`EvalReport::merge`] adds documents up exactly; rates are derived only
//! when printed ([`EvalReport::to_table`]) or serialized.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::evaluate;

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
