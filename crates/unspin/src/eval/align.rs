//! Word alignment for the evaluation: a Levenshtein alignment of two word
//! sequences ([`align_words`]), exact by dynamic programming while the
//! matrix stays small and in overlapping windows past that, and of two
//! texts, line by line when their line counts agree (`align_texts`).
//! Kept apart from the metrics because it is the costly part and has its
//! own invariants (a valid path, the windowed cost equal to the exact one
//! unless long runs differ), tested here.

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
pub(super) struct Words<'a> {
    pub(super) words: Vec<&'a str>,
    pub(super) spans: Vec<(usize, usize)>,
    /// Index of the first word of each line, plus `words.len()` at the end.
    line_starts: Vec<usize>,
}

impl<'a> Words<'a> {
    pub(super) fn new(text: &'a str) -> Self {
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

    pub(super) fn lines(&self) -> usize {
        self.line_starts.len() - 1
    }

    pub(super) fn line(&self, k: usize) -> std::ops::Range<usize> {
        self.line_starts[k]..self.line_starts[k + 1]
    }
}

/// An alignment of two texts: the ops in order, and the index of the first op
/// of each aligned segment (one per line, or one for the whole text).
pub(super) struct TextAlignment {
    pub(super) ops: Vec<AlignOp>,
    segments: Vec<usize>,
}

impl TextAlignment {
    pub(super) fn segments(&self) -> impl Iterator<Item = &[AlignOp]> {
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
pub(super) fn align_texts(a: &Words, b: &Words) -> TextAlignment {
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

#[cfg(test)]
pub(super) mod tests {
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
    pub(in crate::eval) fn check_path(ops: &[AlignOp], a: &[&str], b: &[&str]) {
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

    pub(in crate::eval) fn synthetic(
        n: usize,
        seed: u64,
    ) -> (Vec<&'static str>, Vec<&'static str>) {
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
}
