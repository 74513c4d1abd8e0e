//! Best mode: the uncertain slots of a restoration rescored by a context
//! scorer (the neural model), then decoded again.

use rustc_hash::FxHashMap;

use super::model::LmScorer;
use super::*;
use crate::rescore::{ContextQuery, ContextScorer};
use crate::token::Token;

impl<'m> Restorer<'m> {
    /// The rescoring passes of [`Restorer::restore_best`] over the picked slots.
    pub(super) fn rescore(
        &mut self,
        text: &str,
        tokens: &[Token],
        mut a: Analysis,
        mut r: Restoration,
        picked: Vec<Picked>,
        scorer: &dyn ContextScorer,
    ) -> Result<Restoration, crate::Error> {
        let mut last_scores = Vec::new();
        for _pass in 0..self.opts.rescore_passes.max(1) {
            let (base, queries, asked) = self.queries(text, &r, &picked);
            let cancel = &self.opts.cancel;
            let scores = scorer.score_cancellable(&base, &queries, None, cancel)?;
            let scores = crate::rescore::checked(scores, &queries)?;
            // The scorer's evidence enters the lattice as an extra channel
            // term on the rescored alternatives (relative to the slot's
            // best; the others are ruled out).
            let mut unary = vec![0f32; self.s.prior.len()];
            let mut syn_unary: Vec<(usize, f32)> = Vec::new();
            for (&pi, nn) in asked.iter().zip(&scores) {
                let p = &picked[pi];
                let range = if p.syn {
                    self.s.syn.alt_range(p.slot)
                } else {
                    self.s.lattice.alt_range(p.slot)
                };
                let (weight, bonus) = if p.syn {
                    (
                        self.opts.rescore_synonym_weight,
                        self.opts.rescore_synonym_keep_bonus,
                    )
                } else {
                    (self.opts.rescore_weight, 0.0)
                };
                // Alternative 0 keeps the word as written.
                let nn: Vec<f32> = nn
                    .iter()
                    .zip(&p.alts)
                    .map(|(&v, &x)| if x == 0 { v + bonus } else { v })
                    .collect();
                let max = nn.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                for x in 0..range.len() {
                    let u = match p.alts.iter().position(|&y| y == x) {
                        Some(k) => weight * (nn[k] - max),
                        None => f32::NEG_INFINITY,
                    };
                    if p.syn {
                        syn_unary.push((range.start + x, u));
                    } else {
                        unary[range.start + x] = u;
                    }
                }
            }
            self.s.unary = unary;
            a.spun = self.decode_spun();
            if !syn_unary.is_empty() {
                // The synonym hypothesis is decoded again with the evidence;
                // its sections keep the probabilities the first decode gave.
                let saved: Vec<(usize, f32)> = syn_unary
                    .iter()
                    .map(|&(alt, _)| (alt, self.s.syn.channel(alt)))
                    .collect();
                for (&(alt, u), &(_, c)) in syn_unary.iter().zip(&saved) {
                    self.s.syn.set_channel(alt, c + u);
                }
                let m = self.model;
                a.syn = Some(self.s.decoder.decode(
                    &self.s.syn,
                    &LmScorer(&m.lm),
                    self.opts.lm_weight,
                    [m.lm.bos(), m.lm.bos()],
                ));
                for (alt, c) in saved {
                    self.s.syn.set_channel(alt, c);
                }
            }
            let next = self.restoration(text, tokens, &a);
            let same = next.text == r.text;
            r = next;
            last_scores = asked.into_iter().zip(scores).collect::<Vec<_>>();
            if same {
                break;
            }
        }
        let mut scores: FxHashMap<usize, Vec<f32>> = last_scores.into_iter().collect();
        for (pi, p) in picked.into_iter().enumerate() {
            let Some(nn) = scores.remove(&pi) else {
                continue;
            };
            let info = &self.s.slots[p.slot];
            let now = match (&a.syn, p.syn) {
                (Some(d), true) => d.best[p.slot] as usize,
                _ => a.spun.best[p.slot] as usize,
            };
            self.s.rescored.push(Rescored {
                start: info.start,
                end: info.end,
                after: p.alts.iter().position(|&x| x == now).unwrap_or(p.before),
                candidates: p.texts,
                posteriors: p.trigram,
                scores: nn,
                before: p.before,
            });
        }
        Ok(r)
    }

    /// The uncertain slots of the spun sections: under the news hypothesis
    /// where it explains the section, else under the synonym hypothesis
    /// where that one does.
    pub(super) fn pick_uncertain(&self, text: &str, tokens: &[Token], a: &Analysis) -> Vec<Picked> {
        let o = &self.opts;
        let mut picked = Vec::new();
        let mut section_idx = 0;
        for (i, info) in self.s.slots.iter().enumerate() {
            let (probs, p_spun, p_syn) = self.slot_probs(a, i, &mut section_idx);
            let syn = p_spun < 0.5;
            let (probs, chosen) = if !syn {
                if matches!(info.kind, SlotKind::Fixed) {
                    continue;
                }
                (probs, a.spun.best[i] as usize)
            } else {
                let Some(d) = a.syn.as_ref().filter(|_| p_syn >= 0.5) else {
                    continue;
                };
                if info.syn == u32::MAX {
                    continue;
                }
                let range = self.s.syn.alt_range(i);
                let probs: Vec<f32> = range
                    .clone()
                    .enumerate()
                    .map(|(x, alt)| {
                        let post = d.posterior[alt];
                        if x == 0 {
                            1.0 - p_syn + p_syn * post
                        } else {
                            p_syn * post
                        }
                    })
                    .collect();
                (probs, d.best[i] as usize)
            };
            if probs.len() < 2 {
                continue;
            }
            let mut order: Vec<usize> = (0..probs.len()).collect();
            order.sort_by(|&x, &y| probs[y].total_cmp(&probs[x]).then(x.cmp(&y)));
            let margin = if syn {
                o.rescore_synonym_margin
            } else {
                o.rescore_margin
            };
            if probs[order[0]] - probs[order[1]] >= margin {
                continue;
            }
            let mut alts: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&x| probs[x] >= o.rescore_min_prob)
                .take(o.rescore_candidates.max(2))
                .collect();
            if !alts.contains(&chosen) {
                alts.push(chosen);
            }
            if alts.len() < 2 {
                continue;
            }
            picked.push(Picked {
                slot: i,
                texts: alts
                    .iter()
                    .map(|&x| {
                        if syn {
                            self.syn_alt_text(text, tokens, info, x)
                        } else {
                            self.alt_text(text, tokens, info, x)
                        }
                    })
                    .collect(),
                trigram: alts.iter().map(|&x| probs[x]).collect(),
                before: alts.iter().position(|&x| x == chosen).expect("added"),
                alts,
                syn,
            });
        }
        picked
    }

    /// The restored text `r` with the span of every picked slot in it, as
    /// queries; also which picked slots they are (a slot whose current text
    /// is none of its alternatives is not asked).
    pub(super) fn queries(
        &self,
        text: &str,
        r: &Restoration,
        picked: &[Picked],
    ) -> (String, Vec<ContextQuery>, Vec<usize>) {
        let applied: Vec<&Change> = r.changes.iter().filter(|c| c.applied).collect();
        let mut queries = Vec::with_capacity(picked.len());
        let mut asked = Vec::with_capacity(picked.len());
        let (mut ci, mut shift) = (0usize, 0isize);
        for (pi, p) in picked.iter().enumerate() {
            let info = &self.s.slots[p.slot];
            while ci < applied.len() && applied[ci].end <= info.start {
                shift += applied[ci].original.len() as isize
                    - (applied[ci].end - applied[ci].start) as isize;
                ci += 1;
            }
            let current = match applied.get(ci) {
                Some(c) if c.start == info.start && c.end == info.end => c.original.as_str(),
                Some(c) if c.start < info.end => continue, // inside a longer change
                _ => &text[info.start..info.end],
            };
            let Some(base) = p.texts.iter().position(|t| t == current) else {
                continue;
            };
            let start = (info.start as isize + shift) as usize;
            queries.push(ContextQuery {
                start,
                end: start + current.len(),
                candidates: p.texts.clone(),
                base,
            });
            asked.push(pi);
        }
        (r.text.clone(), queries, asked)
    }
}
