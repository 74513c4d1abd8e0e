//! The best mode ([`crate::Quality::Best`]), last stage: the synonym sweep.
//!
//! The lattice only offers originals the lexicon knows, and a generic
//! synonym spinner (any sense of the word, any synset-mate) writes far more
//! than that: in synonym-spun text about 28% of the replaced words are not in
//! the lexicon at all. The sweep looks at every word such a spinner could
//! have replaced, outside the sections the news hypothesis explains, with
//! all its WordNet synonyms (inflected like it) as candidate originals, and
//! asks the context scorer how well each one fits the text.
//!
//! A word's posterior follows the spinner's own story. With probability ρ,
//! the text's replacement rate, the word was replaced: the original `c` is
//! weighed by the scorer's and the trigram model's evidence, and the spinner
//! wrote this word with probability 1 / (number of synonyms of `c`). Words
//! the text uses elsewhere are likelier to be the author's; candidates it
//! uses elsewhere likelier to be the original. ρ is estimated by EM over the
//! text. A word is changed only when its best original's posterior is above
//! [`SweepOptions::threshold`] and the text's rate is at least
//! [`SweepOptions::min_rate`], so clean text, whose estimated rate is near
//! zero, is left as it is. Markup, code, URLs and e-mail addresses are
//! never looked at.
//!
//! The settings were chosen on a dev slice of the training split (see
//! docs/BENCHMARKS.md, "Synonym sweep").

use rustc_hash::FxHashMap;

use crate::lm::LanguageModel;
use crate::rescore::{checked, ContextQuery, ContextScorer};
use crate::restore::{Alternative, Change, Restoration};
use crate::spinner::{synonym_eligible, synonym_word, whitespace_tokens};
use crate::token::tokenize;
use crate::wordnet::WordNet;

/// Longest run of words looked at as one WordNet lemma.
const MAX_PHRASE_WORDS: usize = 4;

/// Settings of the synonym sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepOptions {
    /// Whether [`crate::restore::Restorer::restore_best`] sweeps at all (it
    /// also needs a model with WordNet).
    pub enabled: bool,
    /// Weight of the context scorer's ln-probabilities.
    pub weight: f32,
    /// Weight of the trigram model's ln-probability of the word and the two
    /// words after it.
    pub trigram_weight: f32,
    /// Nats toward keeping a word the text uses elsewhere.
    pub keep_seen_bonus: f32,
    /// Nats toward a candidate the text uses elsewhere.
    pub candidate_seen_bonus: f32,
    /// Nats toward keeping a run of several words that WordNet knows as one
    /// lemma (authors write fixed expressions too).
    pub phrase_keep_bonus: f32,
    /// Smallest posterior of the best original for a change.
    pub threshold: f32,
    /// Smallest estimated replacement rate of the text for any change.
    pub min_rate: f32,
    /// Passed to [`ContextScorer::score_pruned`]: a candidate needs its own
    /// tokens within this many nats of the word as written (negative: that
    /// many above it) for its right context to be scored.
    pub prune_nats: f32,
    /// EM iterations for the replacement rate.
    pub em_iterations: usize,
}

impl Default for SweepOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            weight: 0.6,
            trigram_weight: 0.3,
            keep_seen_bonus: 2.0,
            candidate_seen_bonus: 2.0,
            phrase_keep_bonus: 0.0,
            // The dev slice's choice: clean text left unchanged, and about
            // as few clean words changed in synonym-spun text as the
            // default mode changes there.
            threshold: 0.995,
            min_rate: 0.05,
            // A replacement needs about 15 nats more than the word as
            // written; -4 scored as well as 1 on the dev slice, with a
            // third of the rows.
            prune_nats: -4.0,
            em_iterations: 5,
        }
    }
}

/// One word the sweep looks at.
struct Word {
    /// Byte range in the input.
    start: usize,
    end: usize,
    /// Candidates, the word as written first.
    cands: Vec<String>,
    /// Evidence per candidate that does not depend on the rate (nats).
    evidence: Vec<f32>,
}

/// Runs the sweep over `r`, the restoration of `text` so far, and returns it
/// with the sweep's changes applied; stops with [`crate::Error::Cancelled`]
/// once `cancel` is cancelled.
#[allow(clippy::too_many_arguments)]
pub(crate) fn sweep(
    text: &str,
    mut r: Restoration,
    lm: &LanguageModel,
    wn: &WordNet,
    scorer: &dyn ContextScorer,
    opts: &SweepOptions,
    min_confidence: f32,
    cancel: &crate::Cancel,
) -> Result<Restoration, crate::Error> {
    let tokens = whitespace_tokens(text);
    let mut seen: FxHashMap<String, u32> = FxHashMap::default();
    for &(s, e) in &tokens {
        if let Some((cs, ce)) = synonym_word(&text[s..e]) {
            *seen.entry(text[s + cs..s + ce].to_lowercase()).or_default() += 1;
        }
    }
    let applied: Vec<(usize, usize, isize)> = r
        .changes
        .iter()
        .filter(|c| c.applied)
        .map(|c| {
            let delta = c.original.len() as isize - (c.end - c.start) as isize;
            (c.start, c.end, delta)
        })
        .collect();

    // The words to look at, and where each sits in the restored text. A
    // run of two to four plain words that WordNet knows as one lemma ("look
    // into", "reddish brown") is looked at as a whole: the spinner writes
    // such lemmas for single words.
    // Markup, code, URLs and e-mail addresses are never touched.
    let opaque: Vec<(usize, usize)> = tokenize(text)
        .iter()
        .filter(|t| t.kind.is_opaque())
        .map(|t| (t.start, t.end))
        .collect();
    let in_markup = |start: usize, end: usize| {
        let k = opaque.partition_point(|&(_, e)| e <= start);
        opaque.get(k).is_some_and(|&(s, _)| s < end)
    };
    // Entries of lists and indexes have no running text to weigh.
    let short = crate::token::short_lines(text);
    let cores: Vec<Option<(usize, usize)>> = tokens
        .iter()
        .map(|&(s, e)| {
            synonym_word(&text[s..e])
                .map(|(cs, ce)| (s + cs, s + ce))
                .filter(|&(a, b)| !in_markup(a, b) && !crate::token::on_short_line(&short, s))
        })
        .collect();
    let phrase_at = |i: usize| -> Option<(usize, usize, usize)> {
        for n in (2..=MAX_PHRASE_WORDS).rev() {
            if i + n > tokens.len() {
                continue;
            }
            let plain = (i..i + n).all(|k| {
                cores[k].is_some_and(|(cs, ce)| {
                    (k == i || cs == tokens[k].0) && (k == i + n - 1 || ce == tokens[k].1)
                }) && (k == i || &text[tokens[k - 1].1..tokens[k].0] == " ")
            });
            if !plain {
                continue;
            }
            let (start, end) = (
                cores[i].expect("plain").0,
                cores[i + n - 1].expect("plain").1,
            );
            if !wn.synonyms(&text[start..end].to_lowercase()).is_empty() {
                return Some((start, end, n));
            }
        }
        None
    };
    let mut words = Vec::new();
    let mut queries = Vec::new();
    let (mut ai, mut shift, mut si) = (0usize, 0isize, 0usize);
    let mut i = 0;
    while i < tokens.len() {
        let (start, end, n) = match phrase_at(i) {
            Some(p) => p,
            None => match cores[i] {
                Some((s, e)) => (s, e, 1),
                None => {
                    i += 1;
                    continue;
                }
            },
        };
        i += n;
        while ai < applied.len() && applied[ai].1 <= start {
            shift += applied[ai].2;
            ai += 1;
        }
        if applied.get(ai).is_some_and(|a| a.0 < end) {
            continue;
        }
        while si + 1 < r.sections.len() && r.sections[si].end <= start {
            si += 1;
        }
        if r.sections.get(si).is_some_and(|x| x.spun_prob >= 0.5) {
            continue;
        }
        let core = &text[start..end];
        let lower = core.to_lowercase();
        if n == 1 && !synonym_eligible(&lower) {
            continue;
        }
        // Numbers are never rewritten in either direction ("sixty" is not
        // "lx"), and never written for a word.
        if crate::numbers::is_number(core) {
            continue;
        }
        let mut cands = vec![core.to_string()];
        cands.extend(
            wn.synonyms_like(core)
                .into_iter()
                .filter(|c| !crate::numbers::is_number(c)),
        );
        if cands.len() < 2 {
            continue;
        }
        let out = (start as isize + shift) as usize;
        if r.text.get(out..out + core.len()) != Some(core) {
            // The restored text does not hold the word where the changes
            // say it should; leave it rather than score the wrong span.
            continue;
        }
        queries.push(ContextQuery {
            start: out,
            end: out + core.len(),
            candidates: cands.clone(),
            base: 0,
        });
        words.push(Word {
            start,
            end,
            cands,
            evidence: Vec::new(),
        });
    }
    if words.is_empty() {
        return Ok(r);
    }
    let scores = checked(
        scorer.score_cancellable(&r.text, &queries, Some(opts.prune_nats), cancel)?,
        &queries,
    )?;

    // Evidence that does not depend on the rate.
    let id = |w: &str| lm.id_of_written(w);
    let ln10 = std::f32::consts::LN_10;
    for ((w, q), nn) in words.iter_mut().zip(&queries).zip(&scores) {
        let mut left = r.text[..q.start].split_whitespace().rev();
        let l1 = left.next().map_or(lm.bos(), id);
        let l2 = left.next().map_or(lm.bos(), id);
        let mut right = r.text[q.end..].split_whitespace();
        let r1 = right.next().map_or(lm.eos(), id);
        let r2 = right.next().map_or(lm.eos(), id);
        w.evidence = w
            .cands
            .iter()
            .zip(nn)
            .enumerate()
            .map(|(j, (c, &nn))| {
                // ln p(the candidate's words, then the next two | the two before).
                let (mut h1, mut h2, mut tri) = (l2, l1, 0.0);
                for x in c.split_whitespace().map(id).chain([r1, r2]) {
                    tri += lm.log10_prob(h1, h2, x);
                    (h1, h2) = (h2, x);
                }
                let lower = c.to_lowercase();
                let mut v = opts.weight * nn + opts.trigram_weight * ln10 * tri;
                if j == 0 {
                    if seen.get(&lower).copied().unwrap_or(0) > 1 {
                        v += opts.keep_seen_bonus;
                    }
                    if c.contains(' ') {
                        v += opts.phrase_keep_bonus;
                    }
                } else {
                    v -= (wn.synonyms(&lower).len().max(1) as f32).ln();
                    if seen.contains_key(&lower) {
                        v += opts.candidate_seen_bonus;
                    }
                }
                v
            })
            .collect();
    }

    // EM for the rate; then each word's posteriors under it.
    let posteriors = |rate: f32, w: &Word| -> Vec<f32> {
        let (keep, replace) = ((1.0 - rate).ln(), rate.ln());
        let v: Vec<f32> = w
            .evidence
            .iter()
            .enumerate()
            .map(|(j, &e)| e + if j == 0 { keep } else { replace })
            .collect();
        let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let z: f32 = v.iter().map(|x| (x - max).exp()).sum();
        v.iter().map(|x| (x - max).exp() / z).collect()
    };
    let mut rate = 0.1f32;
    for _ in 0..opts.em_iterations {
        let replaced: f32 = words.iter().map(|w| 1.0 - posteriors(rate, w)[0]).sum();
        rate = (replaced / words.len() as f32).clamp(1e-4, 0.5);
    }
    if rate < opts.min_rate {
        return Ok(r);
    }

    let mut added = Vec::new();
    let mut spans = Vec::new();
    for (w, q) in words.iter().zip(&queries) {
        let p = posteriors(rate, w);
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
        let best = order[0];
        if best == 0 || p[best] <= opts.threshold || p[best] < min_confidence {
            continue;
        }
        added.push(Change {
            start: w.start,
            end: w.end,
            spun: w.cands[0].clone(),
            original: w.cands[best].clone(),
            confidence: p[best],
            relation: "generic_synonym".into(),
            alternatives: order
                .iter()
                .take(4)
                .map(|&j| Alternative {
                    text: w.cands[j].clone(),
                    prob: p[j],
                })
                .collect(),
            applied: true,
        });
        spans.push((q.start, q.end, w.cands[best].as_str()));
    }
    if added.is_empty() {
        return Ok(r);
    }
    // The sweep's changes replace proposals at the same words that were not applied.
    r.changes
        .retain(|c| c.applied || !added.iter().any(|a| a.start < c.end && c.start < a.end));
    r.changes.extend(added);
    r.changes.sort_by_key(|c| (c.start, c.end));
    // Spliced into the restored text, whose other bytes stay as they are.
    let mut out = String::with_capacity(r.text.len() + 16 * spans.len());
    let mut at = 0;
    for (s, e, w) in spans {
        out.push_str(&r.text[at..s]);
        out.push_str(w);
        at = e;
    }
    out.push_str(&r.text[at..]);
    r.text = out;
    Ok(r)
}
