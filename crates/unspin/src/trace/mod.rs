//! Trace a spun copy to its source: rank indexed documents by how much of the
//! query they contain, and align the query's passages with theirs.
//!
//! The storage of fingerprints is behind [`PostingSource`] (the persistent
//! index is the `unspin-index` crate; [`MemoryIndex`] is an in-memory one).
//! A query's fingerprints come from [`query_fingerprint`]: immutable-stream
//! shingles of the text as given, plus all-word shingles of its restoration.
//!
//! Scoring works per query passage. A fingerprint found in `df` of the
//! index's `N` documents weighs `ln((N + B) / (df + 1))` ([`fingerprint_weight`]):
//! finding a rare one in a document is strong evidence, a common one weak.
//! The prior `B` ([`BACKGROUND_DOCS`]) stands for the documents a small index
//! has not seen, in which a typical shingle is as rare as in a large one. For a passage `q` and a document
//! `d`, [`passage_log_ratio`] weighs "q is a spun copy of a part of d" (each
//! fingerprint survived with probability 1/2) against "d holds q's
//! fingerprints by chance". A document's [`SourceMatch::score`] adds up its
//! positive passage ratios and subtracts `ln(N)` for having searched every
//! document, so the score is comparable across index sizes and query lengths,
//! and one copied paragraph inside a long unrelated article still scores for
//! its source. The passages with a positive ratio are the alignment; the
//! share of their fingerprints found in `d` is the reported similarity.
//! Fingerprints found in more than [`TraceOptions::max_postings`] documents
//! say nothing about the source and are left out of every count.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::fingerprint::{Channels, Feature, Fingerprint, Fingerprinter, Passage, Scratch};
use crate::restore::Restoration;
use crate::Error;

/// One occurrence of a fingerprint: a document and the passage it starts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Posting {
    pub doc: u32,
    pub passage: u32,
}

/// Where fingerprints are looked up.
pub trait PostingSource {
    /// Number of documents (for the weight of a fingerprint, [`fingerprint_weight`]).
    fn doc_count(&self) -> u64;

    /// For each of `hashes` (unique), in any order, calls `f(i, df, postings)`:
    /// `df` is the number of postings of `hashes[i]`; `postings` holds them,
    /// sorted by document, unless `df > cap` (then it is empty).
    fn lookup_many(
        &self,
        hashes: &[u64],
        cap: usize,
        f: &mut dyn FnMut(usize, usize, &[Posting]),
    ) -> Result<(), Error>;
}

/// Knobs of [`trace`].
#[derive(Clone, Debug, Serialize)]
pub struct TraceOptions {
    /// Least [`SourceMatch::score`] (evidence in nats) for a source to be reported.
    pub min_score: f32,
    /// Least number of shared fingerprints for a query passage to be aligned.
    pub min_hits: u32,
    /// Fingerprints with more postings than this are ignored.
    pub max_postings: usize,
    /// Most sources reported.
    pub max_results: usize,
}

impl Default for TraceOptions {
    fn default() -> Self {
        Self {
            min_score: DEFAULT_MIN_SCORE,
            min_hits: DEFAULT_MIN_HITS,
            max_postings: DEFAULT_MAX_POSTINGS,
            max_results: 10,
        }
    }
}

/// Default [`TraceOptions::min_score`] (chosen on held-out-free calibration
/// data; see docs/BENCHMARKS.md, `## Trace`).
pub const DEFAULT_MIN_SCORE: f32 = 20.0;
/// Default [`TraceOptions::min_hits`].
pub const DEFAULT_MIN_HITS: u32 = 2;
/// Default [`TraceOptions::max_postings`].
pub const DEFAULT_MAX_POSTINGS: usize = 5_000;

/// A query passage aligned with a passage of a source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlignedPassage {
    /// Index of the query passage.
    pub query_passage: u32,
    /// Index of the source passage that shares most fingerprints with it.
    pub source_passage: u32,
    /// Fingerprints of the query passage found in that source passage.
    pub hits: u32,
    /// Fingerprints of the query passage found anywhere in the source.
    pub doc_hits: u32,
    /// Fingerprints of the query passage (common ones excluded).
    pub features: u32,
    /// `doc_hits / features`: the estimated share of the passage's shingles
    /// that the source contains.
    pub similarity: f32,
    /// Log-likelihood ratio, in nats, of "copied from this source" against
    /// "unrelated" for this passage (see [`passage_log_ratio`]).
    pub log_ratio: f32,
}

/// One ranked source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceMatch {
    /// Document number in the index.
    pub doc: u32,
    /// Evidence, in nats, that the query copies this source: the positive
    /// passage log-likelihood ratios summed, less `ln(documents)` for having
    /// searched them all. The ranking key; reported when at least
    /// [`TraceOptions::min_score`].
    pub score: f32,
    /// Share of the aligned passages' fingerprints found in the source: the
    /// estimated containment of the copied part of the query in the source.
    pub similarity: f32,
    /// Share of the query's fingerprints that lie in aligned passages.
    pub coverage: f32,
    /// Fingerprints the aligned passages share with the source.
    pub hits: u32,
    /// Aligned query passages (positive log-likelihood ratio), in query order.
    pub passages: Vec<AlignedPassage>,
}

/// What [`trace`] found.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TraceResult {
    /// Sources, best first.
    pub matches: Vec<SourceMatch>,
    /// Fingerprints of the query that count (unique per passage).
    pub features: u32,
    /// Fingerprints left out because too many documents have them.
    pub common_features: u32,
    /// Postings read.
    pub postings: u64,
    /// Documents sharing at least one fingerprint with the query.
    pub candidates: u32,
}

/// The fingerprints of a query: immutable-stream shingles of `text` and, with
/// `restored` (a restoration of `text`), all-word shingles of the restored
/// text, attributed to the passages of `text`.
pub fn query_fingerprint(
    fp: &Fingerprinter,
    text: &str,
    restored: Option<&Restoration>,
) -> Fingerprint {
    let mut scratch = Scratch::default();
    let mut out = Fingerprint::default();
    fp.fingerprint_into(text, Channels::IMMUTABLE, &mut scratch, &mut out);
    if let Some(r) = restored {
        let mut words = Fingerprint::default();
        fp.fingerprint_into(&r.text, Channels::WORDS, &mut scratch, &mut words);
        let map = OffsetMap::new(r);
        let to_query: Vec<u32> = words
            .passages
            .iter()
            .map(|p| passage_at(&out.passages, map.to_input(p.start)))
            .collect();
        let mut seen: rustc_hash::FxHashSet<Feature> = out.features.iter().copied().collect();
        for f in words.features {
            let g = Feature {
                hash: f.hash,
                passage: to_query[f.passage as usize],
            };
            if seen.insert(g) {
                out.features.push(g);
            }
        }
    }
    out
}

/// Fingerprints `text` as a query, restoring it first when a restorer is
/// given (see [`query_fingerprint`]), and ranks its sources.
pub fn trace_text(
    fp: &Fingerprinter,
    restorer: Option<&mut crate::restore::Restorer<'_>>,
    text: &str,
    source: &dyn PostingSource,
    opts: &TraceOptions,
) -> Result<(Fingerprint, TraceResult), Error> {
    trace_text_cancellable(fp, restorer, text, source, opts, &crate::Cancel::never())
}

/// Like [`trace_text`], stopping with [`Error::Cancelled`] once `cancel` is
/// cancelled (checked between the pieces and stages of the restore, and
/// before and after the index lookups).
pub fn trace_text_cancellable(
    fp: &Fingerprinter,
    restorer: Option<&mut crate::restore::Restorer<'_>>,
    text: &str,
    source: &dyn PostingSource,
    opts: &TraceOptions,
    cancel: &crate::Cancel,
) -> Result<(Fingerprint, TraceResult), Error> {
    cancel.check()?;
    let restored = match restorer {
        Some(r) => {
            r.options_mut().cancel = cancel.clone();
            let restored = r.restore_document_checked(text);
            r.options_mut().cancel = crate::Cancel::never();
            Some(restored?)
        }
        None => None,
    };
    let query = query_fingerprint(fp, text, restored.as_ref());
    cancel.check()?;
    let result = trace(&query, source, opts)?;
    cancel.check()?;
    Ok((query, result))
}

/// The passage containing byte `pos` (or the last one starting before it).
fn passage_at(passages: &[Passage], pos: usize) -> u32 {
    let i = passages.partition_point(|p| p.start <= pos);
    i.saturating_sub(1) as u32
}

/// Maps byte offsets of a restored text back to the input.
struct OffsetMap {
    /// (restored offset, input offset) at the end of each applied change.
    points: Vec<(usize, usize)>,
}

impl OffsetMap {
    fn new(r: &Restoration) -> Self {
        let mut points = Vec::new();
        let mut delta: isize = 0;
        for c in r.changes.iter().filter(|c| c.applied) {
            delta += c.original.len() as isize - (c.end - c.start) as isize;
            points.push(((c.end as isize + delta) as usize, c.end));
        }
        Self { points }
    }

    fn to_input(&self, pos: usize) -> usize {
        let i = self.points.partition_point(|&(r, _)| r <= pos);
        if i == 0 {
            pos
        } else {
            let (r, inp) = self.points[i - 1];
            inp + (pos - r)
        }
    }
}

/// One shared fingerprint: query passage `qp` and source passage `sp` of
/// document `doc` share it. `weight` counts once per (fingerprint, document,
/// query passage), on the event marked `first`.
#[derive(Clone, Copy, Default)]
struct Event {
    doc: u32,
    qp: u32,
    sp: u32,
    /// The weight, negative when this is not the first event of its
    /// (fingerprint, document, query passage).
    weight: f32,
}

impl Event {
    fn first(&self) -> bool {
        self.weight >= 0.0
    }
}

/// Sorts events by document with a least-significant-digit radix sort
/// (`bits` significant bits).
fn sort_by_doc(events: &mut Vec<Event>, scratch: &mut Vec<Event>, bits: u32) {
    const DIGIT: u32 = 11;
    let mut shift = 0;
    while shift < bits {
        let mut counts = [0usize; 1 << DIGIT];
        for e in events.iter() {
            counts[((e.doc >> shift) & ((1 << DIGIT) - 1)) as usize] += 1;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        scratch.clear();
        scratch.resize(events.len(), Event::default());
        for e in events.iter() {
            let d = ((e.doc >> shift) & ((1 << DIGIT) - 1)) as usize;
            scratch[counts[d]] = *e;
            counts[d] += 1;
        }
        std::mem::swap(events, scratch);
        shift += DIGIT;
    }
}

/// Pseudo-count of unseen documents in [`fingerprint_weight`].
pub const BACKGROUND_DOCS: f64 = 10_000.0;

/// The evidence, in nats, of finding a fingerprint that `df` of `docs`
/// documents hold: `-ln p`, with `p = (df + 1) / (docs + B)` the chance that
/// an unrelated document holds it (`B` = [`BACKGROUND_DOCS`]).
pub fn fingerprint_weight(df: u64, docs: u64) -> f32 {
    ((docs as f64 + BACKGROUND_DOCS) / (df as f64 + 1.0))
        .ln()
        .max(0.0) as f32
}

/// Log-likelihood ratio, in nats, that a query passage was copied from a
/// document: "each of the passage's `features` fingerprints survived the
/// spinning with probability 1/2 and is then in the document" against "the
/// document holds each fingerprint by chance, with probability `df / docs`".
/// `weight` is the sum of [`fingerprint_weight`] over the fingerprints found.
pub fn passage_log_ratio(weight: f32, features: u32) -> f32 {
    weight - features as f32 * std::f32::consts::LN_2
}

/// Ranks the sources of a query (see the module docs).
pub fn trace(
    query: &Fingerprint,
    source: &dyn PostingSource,
    opts: &TraceOptions,
) -> Result<TraceResult, Error> {
    // Unique (hash, query passage) pairs, grouped by hash.
    let mut feats: Vec<(u64, u32)> = query.features.iter().map(|f| (f.hash, f.passage)).collect();
    feats.sort_unstable();
    feats.dedup();
    let mut hashes: Vec<u64> = feats.iter().map(|f| f.0).collect();
    hashes.dedup();
    // Query passages of each unique hash: feats[group[i]..group[i + 1]].
    let mut group = Vec::with_capacity(hashes.len() + 1);
    for (k, f) in feats.iter().enumerate() {
        if k == 0 || feats[k - 1].0 != f.0 {
            group.push(k);
        }
    }
    group.push(feats.len());

    let passages = query
        .passages
        .len()
        .max(feats.iter().map(|f| f.1 as usize + 1).max().unwrap_or(0));
    let mut features_per_passage = vec![0u32; passages];
    let mut result = TraceResult::default();
    let mut events: Vec<Event> = Vec::new();
    let docs = source.doc_count().max(1);
    let mut max_doc = 0u32;
    source.lookup_many(&hashes, opts.max_postings, &mut |i, df, postings| {
        let qps = &feats[group[i]..group[i + 1]];
        if df > opts.max_postings {
            result.common_features += qps.len() as u32;
            return;
        }
        for &(_, qp) in qps {
            features_per_passage[qp as usize] += 1;
        }
        result.postings += postings.len() as u64;
        let weight = fingerprint_weight(df as u64, docs);
        for &(_, qp) in qps {
            let mut last = u32::MAX;
            for p in postings {
                // Postings are sorted by document: the first of a run carries the weight.
                let first = p.doc != last;
                last = p.doc;
                max_doc = max_doc.max(p.doc);
                events.push(Event {
                    doc: p.doc,
                    qp,
                    sp: p.passage,
                    weight: if first { weight } else { -1.0 },
                });
            }
        }
    })?;
    result.features = features_per_passage.iter().sum();
    let mut scratch = Vec::new();
    sort_by_doc(&mut events, &mut scratch, 32 - max_doc.leading_zeros());
    drop(scratch);

    // Score the candidates whose bound (the sum of their fingerprints'
    // weights) can reach the threshold or beat the best so far.
    let search_cost = (docs as f64).ln() as f32;
    let mut per_qp: Vec<(u32, u32, f32)> = Vec::new();
    // The best so far, best first: (score, hits, start of the document's events, end).
    let mut scored: Vec<(f32, u32, u32, u32)> = Vec::new();
    let better = |a: &(f32, u32, u32, u32), b: &(f32, u32, u32, u32)| {
        b.0.total_cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(events[a.2 as usize].doc.cmp(&events[b.2 as usize].doc))
    };
    let keep = opts.max_results;
    let mut k = 0;
    while k < events.len() {
        let doc = events[k].doc;
        let mut end = k;
        let mut total = 0.0f32;
        while end < events.len() && events[end].doc == doc {
            total += events[end].weight.max(0.0);
            end += 1;
        }
        result.candidates += 1;
        let bar = match scored.len() == keep {
            true if keep > 0 => scored[keep - 1].0.max(opts.min_score),
            _ => opts.min_score,
        };
        if keep > 0 && total - search_cost >= bar {
            tally_passages(&events[k..end], &mut per_qp);
            let positive: f32 = per_qp
                .iter()
                .map(|&(qp, _, w)| passage_log_ratio(w, features_per_passage[qp as usize]).max(0.0))
                .sum();
            let score = positive - search_cost;
            if score >= opts.min_score {
                let hits = per_qp.iter().map(|p| p.1).sum();
                let entry = (score, hits, k as u32, end as u32);
                let at = scored.partition_point(|x| better(x, &entry).is_lt());
                if at < keep {
                    scored.insert(at, entry);
                    scored.truncate(keep);
                }
            }
        }
        k = end;
    }

    let mut pairs: Vec<(u32, u32, u32)> = Vec::new();
    for &(score, _, start, end) in &scored {
        let evs = &events[start as usize..end as usize];
        tally_passages(evs, &mut per_qp);
        pairs.clear();
        for ev in evs {
            match pairs
                .iter_mut()
                .find(|(q, s, _)| *q == ev.qp && *s == ev.sp)
            {
                Some((_, _, n)) => *n += 1,
                None => pairs.push((ev.qp, ev.sp, 1)),
            }
        }
        let mut m = SourceMatch {
            doc: evs[0].doc,
            score,
            similarity: 0.0,
            coverage: 0.0,
            hits: 0,
            passages: Vec::new(),
        };
        let mut aligned_features = 0u32;
        for &(qp, hits, weight) in &per_qp {
            let n = features_per_passage[qp as usize];
            let log_ratio = passage_log_ratio(weight, n);
            if hits < opts.min_hits || log_ratio <= 0.0 {
                continue;
            }
            let (_, sp, pair_hits) = pairs
                .iter()
                .filter(|(q, _, _)| *q == qp)
                .max_by_key(|(_, s, n)| (*n, std::cmp::Reverse(*s)))
                .copied()
                .unwrap_or((qp, 0, 0));
            m.hits += hits;
            aligned_features += n;
            m.passages.push(AlignedPassage {
                query_passage: qp,
                source_passage: sp,
                hits: pair_hits,
                doc_hits: hits,
                features: n,
                similarity: hits as f32 / n.max(1) as f32,
                log_ratio,
            });
        }
        m.passages.sort_by_key(|p| p.query_passage);
        m.similarity = m.hits as f32 / aligned_features.max(1) as f32;
        m.coverage = aligned_features as f32 / result.features.max(1) as f32;
        result.matches.push(m);
    }
    Ok(result)
}

/// Sums a document's events per query passage: (passage, fingerprints found, weight).
fn tally_passages(events: &[Event], out: &mut Vec<(u32, u32, f32)>) {
    out.clear();
    for ev in events.iter().filter(|e| e.first()) {
        match out.iter_mut().find(|(q, _, _)| *q == ev.qp) {
            Some((_, n, w)) => {
                *n += 1;
                *w += ev.weight;
            }
            None => out.push((ev.qp, 1, ev.weight)),
        }
    }
}

/// An in-memory [`PostingSource`] (tests, small collections, benchmarks of the scoring alone).
#[derive(Default)]
pub struct MemoryIndex {
    postings: FxHashMap<u64, Vec<Posting>>,
    docs: u32,
}

impl MemoryIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a document's fingerprints; returns its document number.
    pub fn add(&mut self, fp: &Fingerprint) -> u32 {
        let doc = self.docs;
        self.docs += 1;
        let mut features: Vec<(u64, u32)> =
            fp.features.iter().map(|f| (f.hash, f.passage)).collect();
        features.sort_unstable();
        features.dedup();
        for (hash, passage) in features {
            self.postings
                .entry(hash)
                .or_default()
                .push(Posting { doc, passage });
        }
        doc
    }

    /// Number of documents.
    pub fn docs(&self) -> u32 {
        self.docs
    }

    /// Number of postings.
    pub fn postings(&self) -> usize {
        self.postings.values().map(Vec::len).sum()
    }
}

impl PostingSource for MemoryIndex {
    fn doc_count(&self) -> u64 {
        self.docs as u64
    }

    fn lookup_many(
        &self,
        hashes: &[u64],
        cap: usize,
        f: &mut dyn FnMut(usize, usize, &[Posting]),
    ) -> Result<(), Error> {
        for (i, h) in hashes.iter().enumerate() {
            match self.postings.get(h) {
                Some(p) if p.len() <= cap => f(i, p.len(), p),
                Some(p) => f(i, p.len(), &[]),
                None => f(i, 0, &[]),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::{FingerprintConfig, MutableWords};

    fn fingerprinter() -> Fingerprinter {
        Fingerprinter::new(
            FingerprintConfig {
                immutable_shingle: 3,
                immutable_sample_bits: 0,
                word_shingle: 3,
                word_sample_bits: 0,
                passage_bytes: 10_000,
            },
            MutableWords::from_words(["new", "caller", "big", "large", "said", "state"]),
        )
    }

    #[test]
    fn finds_the_source_of_a_spun_paragraph() {
        let f = fingerprinter();
        let docs = [
            "The cat sat on the mat, and Tom said it was new.\n\nThen the Dog, a big one, barked at 3 o'clock.",
            "Prices rose 4% in May, the Bank said, and new rules follow.\n\nAnalysts expect more in June.",
            "Nothing here is like the others; Zebras graze in Kenya.",
        ];
        let mut index = MemoryIndex::new();
        for d in docs {
            index.add(&f.fingerprint(d, Channels::ALL));
        }
        // The second paragraph of document 0, spun.
        let q = f.fingerprint(
            "Then the Dog, a large one, barked at 3 o'clock.",
            Channels::IMMUTABLE,
        );
        let opts = TraceOptions {
            min_score: 1.0,
            ..TraceOptions::default()
        };
        let r = trace(&q, &index, &opts).unwrap();
        assert_eq!(r.matches.len(), 1, "{r:?}");
        let m = &r.matches[0];
        assert_eq!(m.doc, 0);
        assert!(m.similarity > 0.99, "{m:?}");
        assert_eq!(m.passages[0].source_passage, 1);
        // Unrelated text matches nothing.
        let q = f.fingerprint(
            "Totally Different words; Here and There, 1999.",
            Channels::IMMUTABLE,
        );
        let r = trace(&q, &index, &opts).unwrap();
        assert!(r.matches.is_empty(), "{r:?}");
    }

    #[test]
    fn common_fingerprints_are_ignored() {
        let f = fingerprinter();
        let mut index = MemoryIndex::new();
        for _ in 0..5 {
            index.add(&f.fingerprint("Same Old Words Everywhere Here.", Channels::ALL));
        }
        let q = f.fingerprint("Same Old Words Everywhere Here.", Channels::ALL);
        let opts = TraceOptions {
            max_postings: 4,
            min_score: f32::NEG_INFINITY,
            ..TraceOptions::default()
        };
        let r = trace(&q, &index, &opts).unwrap();
        assert!(r.matches.is_empty());
        assert_eq!(r.features, 0);
        assert!(r.common_features > 0);
    }

    #[test]
    fn offsets_map_back_through_changes() {
        let r = Restoration {
            text: "he said the new rules".into(),
            changes: vec![change(0, 6, "he"), change(16, 22, "new")],
            ..Restoration::default()
        };
        // Input: "helium said the caller rules"
        let m = OffsetMap::new(&r);
        assert_eq!(m.to_input(0), 0);
        assert_eq!(m.to_input(3), 7); // "said"
        assert_eq!(m.to_input(16), 23); // "rules"
    }

    fn change(start: usize, end: usize, original: &str) -> crate::restore::Change {
        crate::restore::Change {
            start,
            end,
            spun: String::new(),
            original: original.into(),
            confidence: 1.0,
            relation: String::new(),
            alternatives: Vec::new(),
            applied: true,
        }
    }
}
