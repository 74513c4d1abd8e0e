//! Scoring candidate words in context with a shared prefix computation.
//!
//! The text is tokenized with every query span as its own piece (with the
//! single space before it, as the byte-level tokenizer attaches it), then cut
//! into blocks of at most `block_tokens` tokens at sentence ends. Only blocks
//! that hold queries run. For each such block:
//!
//! 1. one *prefix pass* runs the block's tokens as they stand (up to the
//!    last query's window) and keeps every layer's keys and values; the
//!    log-probabilities of the span's current text and of the `window`
//!    tokens after it come straight out of this pass;
//! 2. every other candidate runs as a short *window* (its own tokens, then
//!    the same right-context tokens) that attends to the cached keys and
//!    values of the block up to the span.
//!
//! So the cost is one pass over the blocks that hold uncertain words plus a
//! few tokens per candidate, and it grows with the number of uncertain words,
//! not with the number of paths through them. Windows of many blocks are
//! batched into one forward pass, so the matrix products see many rows.

use std::collections::HashMap;

use rayon::prelude::*;

use tokenizers::pre_tokenizers::{byte_level::ByteLevel, digits::Digits, sequence::Sequence};
use tokenizers::Tokenizer;
use unspin::rescore::ContextQuery;

use crate::model::{KvCache, Model, Segment};
use crate::Error;

/// `<|endoftext|>`: SmolLM2's document separator, put before every block.
pub const DOC_START: u32 = 0;

/// Knobs of the context scorer.
#[derive(Clone, Debug)]
pub struct ScoreOptions {
    /// Most tokens per block (the left context a query can see), the separator included.
    pub block_tokens: usize,
    /// Tokens of right context scored after each candidate.
    pub window: usize,
    /// Rows per forward pass (bounds memory; larger batches use the matrix kernels better).
    pub batch_rows: usize,
    /// A candidate whose first token alone is this many nats less likely
    /// than the text's whole current span skips its window (the costly
    /// part): its right context is taken to score as the current text's
    /// does. Such a candidate is out of the running anyway; infinity
    /// scores every window.
    pub prune_nats: f32,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        Self {
            block_tokens: 256,
            window: 6,
            batch_rows: 1024,
            prune_nats: 1.0,
        }
    }
}

/// The GGUF file's tokenizer with SmolLM2's own pre-tokenizer: digits one by
/// one, then byte-level BPE without an added leading space (so that a piece
/// like "," after a query span is not read as " ,").
pub fn tokenizer_from_gguf(
    ct: &candle_core::quantized::gguf_file::Content,
) -> Result<Tokenizer, Error> {
    use candle_core::quantized::tokenizer::TokenizerFromGguf;
    let mut tok = Tokenizer::from_gguf(ct)?;
    tok.with_pre_tokenizer(Some(Sequence::new(vec![
        Digits::new(true).into(),
        ByteLevel::new(false, true, true).into(),
    ])));
    Ok(tok)
}

/// Token ids of `text`, no special tokens.
pub fn encode(tok: &Tokenizer, text: &str) -> Result<Vec<u32>, Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    tok.encode(text, false)
        .map(|e| e.get_ids().to_vec())
        .map_err(|e| Error::Model(format!("tokenizer: {e}")))
}

/// A query placed in the token stream.
struct Placed {
    /// Token range of the span (with its leading space) in the stream.
    t0: usize,
    t1: usize,
    /// The leading space the candidates get.
    lead: &'static str,
}

/// A block: stream tokens `s0..s1`, run after [`DOC_START`].
struct Block {
    s0: usize,
    s1: usize,
    queries: Vec<usize>,
}

/// Scores every query's candidates (see [`unspin::rescore::ContextScorer::score`]);
/// stops with [`Error::Cancelled`] once `cancel` is cancelled (checked
/// between batches and, inside a forward pass, before every layer).
pub fn score(
    model: &Model,
    tok: &Tokenizer,
    opts: &ScoreOptions,
    text: &str,
    queries: &[ContextQuery],
    cancel: &unspin::Cancel,
) -> Result<Vec<Vec<f32>>, Error> {
    let mut out: Vec<Vec<f32>> = queries
        .iter()
        .map(|q| vec![0.0; q.candidates.len()])
        .collect();
    if queries.is_empty() {
        return Ok(out);
    }
    let block_tokens = opts.block_tokens.clamp(
        16,
        model.cfg.context.saturating_sub(opts.window + 64).max(16),
    );

    // 1. Tokenize: pieces between spans, and each span with its leading space.
    let mut stream: Vec<u32> = Vec::new();
    let mut sentence_end: Vec<bool> = Vec::new();
    let mut placed = Vec::with_capacity(queries.len());
    let mut at = 0;
    let push = |s: &str, stream: &mut Vec<u32>, ends: &mut Vec<bool>| -> Result<(), Error> {
        let ids = encode(tok, s)?;
        let n = ids.len();
        stream.extend(ids);
        ends.resize(stream.len(), false);
        if n > 0 {
            let t = s.trim_end_matches([' ', '"', '\'', ')', '\u{201d}', '\u{2019}']);
            *ends.last_mut().expect("non-empty") =
                t.ends_with(['.', '!', '?', '\n']) || s.ends_with('\n');
        }
        Ok(())
    };
    for (qi, q) in queries.iter().enumerate() {
        if q.start < at
            || q.end < q.start
            || q.end > text.len()
            || !text.is_char_boundary(q.start)
            || !text.is_char_boundary(q.end)
            || q.base >= q.candidates.len().max(1)
        {
            return Err(Error::Model(format!(
                "query {qi} ({}..{}) is out of order, overlapping or out of range",
                q.start, q.end
            )));
        }
        let lead_start = if q.start > at && text.as_bytes()[q.start - 1] == b' ' {
            q.start - 1
        } else {
            q.start
        };
        push(&text[at..lead_start], &mut stream, &mut sentence_end)?;
        let t0 = stream.len();
        push(&text[lead_start..q.end], &mut stream, &mut sentence_end)?;
        placed.push(Placed {
            t0,
            t1: stream.len(),
            lead: if lead_start < q.start { " " } else { "" },
        });
        at = q.end;
    }
    push(&text[at..], &mut stream, &mut sentence_end)?;

    // 2. Blocks: cut at a sentence end when one is in the second half of a
    // full block, never inside a span; only blocks with queries matter.
    let mut blocks: Vec<Block> = Vec::new();
    {
        let mut inside = vec![false; stream.len() + 1];
        for p in &placed {
            for x in inside.iter_mut().take(p.t1).skip(p.t0 + 1) {
                *x = true;
            }
        }
        let cap = block_tokens - 1;
        let mut s0 = 0;
        let mut qi = 0;
        while s0 < stream.len() && qi < placed.len() {
            let mut s1 = (s0 + cap).min(stream.len());
            if s1 < stream.len() {
                let lo = s0 + cap / 2;
                let best = (lo..s1)
                    .rev()
                    .find(|&c| !inside[c + 1] && sentence_end[c])
                    .map(|c| c + 1)
                    .or_else(|| (s0 + 1..=s1).rev().find(|&c| !inside[c]));
                s1 = best.unwrap_or(s1);
            }
            let mut b = Block {
                s0,
                s1,
                queries: Vec::new(),
            };
            while qi < placed.len() && placed[qi].t0 < s1 {
                if placed[qi].t1 <= s1 {
                    b.queries.push(qi);
                } // a span longer than a block is left unscored (all zeros)
                qi += 1;
            }
            if !b.queries.is_empty() {
                blocks.push(b);
            }
            s0 = s1;
        }
    }

    // 3. Split the blocks into one part per thread, of about equal rows
    // (a block goes to the part its middle row falls in), and run the parts
    // in parallel. Each part runs its blocks in groups that fit one batch.
    // Parts are independent (each has its own caches), so the matrix
    // products run single-threaded side by side instead of handing every
    // product to a pool of threads that mostly wait at barriers.
    let need: Vec<usize> = blocks
        .iter()
        .map(|b| run_end(b, &placed, opts.window) - b.s0 + 1)
        .collect();
    let total: usize = need.iter().sum();
    let threads = rayon::current_num_threads().clamp(1, blocks.len().max(1));
    let mut parts: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut before, mut last_part) = (0, usize::MAX);
    for (bi, &n) in need.iter().enumerate() {
        let part = ((before + n / 2) * threads / total.max(1)).min(threads - 1);
        match parts.last_mut() {
            Some(r) if part == last_part => r.end = bi + 1,
            _ => parts.push(bi..bi + 1),
        }
        (before, last_part) = (before + n, part);
    }
    // Each part's queries are a contiguous run, so `out` splits into disjoint slices.
    let mut jobs = Vec::with_capacity(parts.len());
    let mut rest: &mut [Vec<f32>] = &mut out;
    let mut q0 = 0;
    for r in &parts {
        let q_end = blocks[r.end - 1]
            .queries
            .last()
            .map_or(q0, |&q| q + 1)
            .max(q0);
        let (mine, tail) = std::mem::take(&mut rest).split_at_mut(q_end - q0);
        jobs.push((r.clone(), q0, mine));
        rest = tail;
        q0 = q_end;
    }
    jobs.into_par_iter()
        .map(|(r, q0, out)| {
            let mut cand_tokens: HashMap<String, Vec<u32>> = HashMap::new();
            let mut gi = r.start;
            while gi < r.end {
                let mut gj = gi;
                let mut rows = 0;
                while gj < r.end {
                    if gj > gi && rows + need[gj] > opts.batch_rows {
                        break;
                    }
                    rows += need[gj];
                    gj += 1;
                }
                score_group(
                    model,
                    tok,
                    opts,
                    cancel,
                    &stream,
                    &blocks[gi..gj],
                    &placed,
                    queries,
                    &mut cand_tokens,
                    q0,
                    out,
                )?;
                gi = gj;
            }
            Ok(())
        })
        .collect::<Result<Vec<()>, Error>>()?;
    Ok(out)
}

/// One past the last stream token a block's prefix pass must cover.
fn run_end(b: &Block, placed: &[Placed], window: usize) -> usize {
    let last = b
        .queries
        .iter()
        .map(|&q| placed[q].t1)
        .max()
        .unwrap_or(b.s0);
    (last + window).min(b.s1)
}

#[allow(clippy::too_many_arguments)]
fn score_group(
    model: &Model,
    tok: &Tokenizer,
    opts: &ScoreOptions,
    cancel: &unspin::Cancel,
    stream: &[u32],
    blocks: &[Block],
    placed: &[Placed],
    queries: &[ContextQuery],
    cand_tokens: &mut HashMap<String, Vec<u32>>,
    q0: usize,
    out: &mut [Vec<f32>],
) -> Result<(), Error> {
    // `out` holds the queries from `q0` on.
    // Prefix pass over every block of the group. Stream token t of block b
    // sits at position 1 + t - s0, after the separator, in batch row
    // row0 + 1 + t - s0; the row before it predicts it.
    let mut tokens = Vec::new();
    let mut segs = Vec::new();
    let mut caches: Vec<KvCache> = Vec::with_capacity(blocks.len());
    let mut row0 = Vec::with_capacity(blocks.len());
    for (bi, b) in blocks.iter().enumerate() {
        let end = run_end(b, placed, opts.window);
        let r0 = tokens.len();
        row0.push(r0);
        tokens.push(DOC_START);
        tokens.extend_from_slice(&stream[b.s0..end]);
        segs.push(Segment {
            rows: r0..tokens.len(),
            cache: bi,
            prefix: 0,
            store: true,
        });
        caches.push(model.new_cache(end - b.s0 + 1));
    }
    let hidden = model.forward_until(&tokens, &segs, &mut caches, cancel)?;

    /// A candidate whose tokens differ from the text: scored by a window.
    struct Window {
        query: usize,
        cand: usize,
        block: usize,
        /// Cached tokens before the span (the separator included).
        prefix: usize,
        /// Every token it predicts: its own, then the right context.
        targets: Vec<u32>,
    }
    let mut requests: Vec<(usize, u32)> = Vec::new();
    // Per query and candidate: the requests whose sum is its prefix-pass part.
    let mut parts: Vec<(usize, usize, std::ops::Range<usize>)> = Vec::new();
    let mut windows: Vec<Window> = Vec::new();
    // Per query: the requests of the current text's span and of its right context.
    let mut base_parts: HashMap<usize, (std::ops::Range<usize>, std::ops::Range<usize>)> =
        HashMap::new();
    for (bi, b) in blocks.iter().enumerate() {
        let end = run_end(b, placed, opts.window);
        let row_before = |t: usize| row0[bi] + (t - b.s0);
        for &qi in &b.queries {
            let p = &placed[qi];
            let targets_end = (p.t1 + opts.window).min(end);
            let base_targets = &stream[p.t0..targets_end];
            let right = &stream[p.t1..targets_end];
            for (ci, cand) in queries[qi].candidates.iter().enumerate() {
                let key = format!("{}{}", p.lead, cand);
                if !cand_tokens.contains_key(&key) {
                    let ids = encode(tok, &key)?;
                    cand_tokens.insert(key.clone(), ids);
                }
                let mut targets = cand_tokens[&key].clone();
                targets.extend_from_slice(right);
                let r = requests.len();
                if targets.as_slice() == base_targets {
                    // The text as it stands: all read off the prefix pass.
                    for (j, &t) in base_targets.iter().enumerate() {
                        requests.push((row_before(p.t0 + j), t));
                    }
                    let split = r + (p.t1 - p.t0);
                    base_parts.insert(qi, (r..split, split..requests.len()));
                } else if let Some(&first) = targets.first() {
                    requests.push((row_before(p.t0), first));
                    if targets.len() > 1 {
                        windows.push(Window {
                            query: qi,
                            cand: ci,
                            block: bi,
                            prefix: 1 + p.t0 - b.s0,
                            targets,
                        });
                    }
                }
                parts.push((qi, ci, r..requests.len()));
            }
        }
    }
    let lp = log_probs_at(model, &hidden, &requests, cancel)?;
    drop(hidden);
    for (qi, ci, r) in parts {
        out[qi - q0][ci] = lp[r].iter().sum();
    }
    if opts.prune_nats.is_finite() {
        windows.retain(|w| {
            let Some((span, right)) = base_parts.get(&w.query) else {
                return true;
            };
            let span_lp: f32 = lp[span.clone()].iter().sum();
            if out[w.query - q0][w.cand] >= span_lp - opts.prune_nats {
                return true;
            }
            out[w.query - q0][w.cand] += lp[right.clone()].iter().sum::<f32>();
            false
        });
    }

    // Candidate windows, batched: each feeds its targets but the last and
    // reads the log-probability of the next target at every row.
    let mut i = 0;
    while i < windows.len() {
        let mut tokens = Vec::new();
        let mut segs = Vec::new();
        let mut j = i;
        while j < windows.len() {
            let w = &windows[j];
            let len = w.targets.len() - 1;
            if j > i && tokens.len() + len > opts.batch_rows {
                break;
            }
            let r0 = tokens.len();
            tokens.extend_from_slice(&w.targets[..len]);
            segs.push(Segment {
                rows: r0..tokens.len(),
                cache: w.block,
                prefix: w.prefix,
                store: false,
            });
            j += 1;
        }
        let hidden = model.forward_until(&tokens, &segs, &mut caches, cancel)?;
        let mut requests = Vec::with_capacity(tokens.len());
        for (w, s) in windows[i..j].iter().zip(&segs) {
            for (k, r) in s.rows.clone().enumerate() {
                requests.push((r, w.targets[k + 1]));
            }
        }
        let lp = log_probs_at(model, &hidden, &requests, cancel)?;
        let mut at = 0;
        for (w, s) in windows[i..j].iter().zip(&segs) {
            let n = s.rows.len();
            out[w.query - q0][w.cand] += lp[at..at + n].iter().sum::<f32>();
            at += n;
        }
        i = j;
    }
    Ok(())
}

/// ln p(token | hidden state of `row`) for every `(row, token)` request, in
/// request order. Rows are normalized 128 at a time, so the full
/// vocabulary is never held for more than that many rows; `cancel` is
/// checked before each such group.
fn log_probs_at(
    model: &Model,
    hidden: &[f32],
    requests: &[(usize, u32)],
    cancel: &unspin::Cancel,
) -> Result<Vec<f32>, Error> {
    let (h, vocab) = (model.cfg.hidden, model.cfg.vocab);
    let mut rows: Vec<usize> = requests.iter().map(|r| r.0).collect();
    rows.sort_unstable();
    rows.dedup();
    let mut out = vec![0f32; requests.len()];
    let mut by_row: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, &(r, _)) in requests.iter().enumerate() {
        by_row.entry(r).or_default().push(k);
    }
    for chunk in rows.chunks(128) {
        // The output layer over the vocabulary is the costliest product.
        if cancel.is_cancelled() {
            return Err(Error::Cancelled(cancel.error().to_string()));
        }
        let mut sel = Vec::with_capacity(chunk.len() * h);
        for &r in chunk {
            sel.extend_from_slice(&hidden[r * h..(r + 1) * h]);
        }
        let lp = model.log_softmax_rows(&sel, chunk.len())?;
        for (j, r) in chunk.iter().enumerate() {
            for &k in &by_row[r] {
                out[k] = lp[j * vocab + requests[k].1 as usize];
            }
        }
    }
    Ok(out)
}
