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
//!
//! The code: `align.rs` aligns word sequences and texts (Levenshtein, in
//! windows when long); `report.rs` holds the counts, their merge and the
//! rates derived from them; this file scores one document from the three
//! alignments ([`evaluate`]).

mod align;
mod report;

pub use align::{align_words, edit_count, AlignOp};
pub use report::{
    parse_alignment_jsonl, AlignmentRecord, EditCounts, EvalReport, Metrics, RelationCounts,
};

use align::{align_texts, TextAlignment, Words};

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
    use super::align::tests::{check_path, synthetic};
    use super::*;

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
}
