//! Decoding the lattice under the spun, clean and synonym hypotheses, the
//! document-level EM of the channel, the sections' spun probabilities, and
//! the changes a decode makes.

use rustc_hash::{FxHashMap, FxHashSet};

use super::model::LmScorer;
use super::*;
use crate::stats::sigmoid;
use crate::token::Token;

impl<'m> Restorer<'m> {
    /// Decodes the spun hypothesis with document-level EM; `self.s.unary`,
    /// when set, is added to every alternative's channel score.
    pub(super) fn decode_spun(&mut self) -> crate::decode::Decoded {
        if !self.s.unary.is_empty() {
            for (alt, (&p, &u)) in self.s.prior.iter().zip(&self.s.unary).enumerate() {
                self.s.lattice.set_channel(alt, p + u);
            }
        }
        let m = self.model;
        let mut spun = self.s.decoder.decode(
            &self.s.lattice,
            &LmScorer(&m.lm),
            self.opts.lm_weight,
            [m.lm.bos(), m.lm.bos()],
        );
        for _ in 0..self.opts.em_iterations {
            self.reestimate(&spun);
            spun = self.s.decoder.redecode(&self.s.lattice);
        }
        spun
    }

    /// Decodes the built lattices: the news hypothesis, the clean one, the
    /// sections' spun probabilities, and the synonym hypothesis where needed.
    pub(super) fn analyse(&mut self, text: &str) -> Analysis {
        let spun = self.decode_spun();
        let m = self.model;
        let scorer = LmScorer(&m.lm);
        let start = [m.lm.bos(), m.lm.bos()];
        let clean = self
            .s
            .decoder
            .decode(&self.s.clean, &scorer, self.opts.lm_weight, start);
        let (mut sections, closing) = self.sections(text, &spun, &clean);
        // The synonym hypothesis only matters where the news one fails, so
        // news-spun text pays nothing for it.
        let syn = if self.opts.synonym_rate > 0.0 && sections.iter().any(|s| s.spun_prob < 0.5) {
            let syn = self
                .s
                .decoder
                .decode(&self.s.syn, &scorer, self.opts.lm_weight, start);
            self.synonym_sections(&mut sections, &closing, &syn, &clean);
            Some(syn)
        } else {
            None
        };
        Analysis {
            spun,
            sections,
            syn,
        }
    }

    /// The probability of every alternative of slot `i` (the mixture of the
    /// section's clean and spun hypotheses) and the slot's section probabilities.
    pub(super) fn slot_probs(
        &self,
        a: &Analysis,
        i: usize,
        section_idx: &mut usize,
    ) -> (Vec<f32>, f32, f32) {
        let info = &self.s.slots[i];
        let sections = &a.sections;
        while *section_idx + 1 < sections.len() && sections[*section_idx].end <= info.start {
            *section_idx += 1;
        }
        let p_spun = sections.get(*section_idx).map_or(0.0, |s| s.spun_prob);
        let p_syn = sections.get(*section_idx).map_or(0.0, |s| s.synonym_prob);
        let range = self.s.lattice.alt_range(i);
        let probs = (0..range.len())
            .map(|x| {
                let post = a.spun.posterior[range.start + x];
                if x == 0 {
                    1.0 - p_spun + p_spun * post
                } else {
                    p_spun * post
                }
            })
            .collect();
        (probs, p_spun, p_syn)
    }

    /// The changes the decodes make, and the restored text.
    pub(super) fn restoration(&self, text: &str, tokens: &[Token], a: &Analysis) -> Restoration {
        let words = tokens.iter().filter(|t| t.kind == TokenKind::Word).count();
        let (spun, sections, syn) = (&a.spun, &a.sections, &a.syn);
        let mut changes = Vec::new();
        let mut section_idx = 0;
        for (i, info) in self.s.slots.iter().enumerate() {
            if matches!(info.kind, SlotKind::Fixed) && info.syn == u32::MAX {
                continue;
            }
            while section_idx + 1 < sections.len() && sections[section_idx].end <= info.start {
                section_idx += 1;
            }
            let p_spun = sections.get(section_idx).map_or(0.0, |s| s.spun_prob);
            let p_syn = sections.get(section_idx).map_or(0.0, |s| s.synonym_prob);
            if p_spun < 0.5 && p_syn >= 0.5 {
                if let Some(d) = &syn {
                    if let Some(c) = self.synonym_change(text, tokens, i, d, p_syn) {
                        changes.push(c);
                    }
                }
                continue;
            }
            let range = self.s.lattice.alt_range(i);
            let best = spun.best[i] as usize;
            let post = |a: usize| spun.posterior[range.start + a];
            // Mixture of the clean hypothesis (keep, alternative 0) and the spun one.
            let mix = |a: usize| {
                if a == 0 {
                    1.0 - p_spun + p_spun * post(0)
                } else {
                    p_spun * post(a)
                }
            };
            let chosen = if p_spun >= 0.5 { best } else { 0 };
            // The decode's best path can pass through a word that, on its
            // own, is less likely than keeping the input: never apply that.
            if chosen == 0 || matches!(info.kind, SlotKind::Fixed) || mix(chosen) <= mix(0) {
                continue;
            }
            let spun_text = &text[info.start..info.end];
            let alts = ranked_alternatives(range.len(), chosen, &mix, self.opts.max_alternatives);
            let confidence = mix(chosen);
            changes.push(Change {
                start: info.start,
                end: info.end,
                spun: spun_text.to_string(),
                original: self.alt_text(text, tokens, info, chosen),
                confidence,
                relation: self.relation(info, chosen),
                alternatives: alts
                    .iter()
                    .map(|&(a, p)| Alternative {
                        text: self.alt_text(text, tokens, info, a),
                        prob: p,
                    })
                    .collect(),
                applied: confidence >= self.opts.min_confidence,
            });
        }
        let text_out = apply(text, &changes);
        Restoration {
            text: text_out,
            changes,
            sections: sections.clone(),
            words,
        }
    }

    /// One EM step on the channel, for this document alone: the spinner maps
    /// each word type to one output (or keeps it), so the expected counts of
    /// every (original, spun) pair over the whole document sharpen the
    /// per-type choice: a word seen restored confidently in one place pulls
    /// its other occurrences along, and an original shown to be replaced
    /// makes its bare occurrences unlikely to be originals.
    pub(super) fn reestimate(&mut self, d: &crate::decode::Decoded) {
        let alpha = self.opts.em_prior_weight;
        // (original, choice) -> expected count; choice == original means kept.
        let mut counts: FxHashMap<(u32, u32), f32> = FxHashMap::default();
        let mut totals: FxHashMap<u32, f32> = FxHashMap::default();
        let alts: Vec<(usize, u32, u32)> = self.word_alternatives().collect();
        for &(alt, orig, spun) in &alts {
            let p = d.posterior[alt];
            *counts.entry((orig, spun)).or_default() += p;
            *totals.entry(orig).or_default() += p;
        }
        let thetas: Vec<f32> = alts
            .iter()
            .map(|&(alt, orig, spun)| {
                let prior = self.s.prior[alt].exp();
                let n = totals.get(&orig).copied().unwrap_or(0.0);
                let c = counts.get(&(orig, spun)).copied().unwrap_or(0.0);
                (alpha * prior + c) / (alpha + n)
            })
            .collect();
        // Sharpening keeps each original's total mass over the outputs seen
        // here and redistributes it in proportion to theta^gamma.
        let gamma = self.opts.em_sharpen;
        let mut mass: FxHashMap<u32, (f32, f32)> = FxHashMap::default();
        let mut seen: FxHashSet<(u32, u32)> = FxHashSet::default();
        for (&(_, orig, spun), &t) in alts.iter().zip(&thetas) {
            if seen.insert((orig, spun)) {
                let e = mass.entry(orig).or_default();
                e.0 += t;
                e.1 += t.powf(gamma);
            }
        }
        for (&(alt, orig, _), &t) in alts.iter().zip(&thetas) {
            if self.s.prior[alt] == f32::NEG_INFINITY {
                continue; // ruled out (a numeral, an impossible source): EM must not revive it
            }
            let (m, mg) = mass[&orig];
            let theta = if gamma != 1.0 && mg > 0.0 {
                m * t.powf(gamma) / mg
            } else {
                t
            };
            let extra = self.s.unary.get(alt).copied().unwrap_or(0.0);
            self.s
                .lattice
                .set_channel(alt, theta.max(1e-9).ln() + extra);
        }
    }

    /// Every alternative of every word slot as (lattice alternative, original
    /// word, spun word); the first alternative of a slot keeps the spun word.
    pub(super) fn word_alternatives(&self) -> impl Iterator<Item = (usize, u32, u32)> + '_ {
        let lex = &self.model.lexicon;
        self.s.slots.iter().enumerate().flat_map(move |(i, info)| {
            let spun = match info.kind {
                SlotKind::Word { spun } => Some(spun),
                _ => None,
            };
            let range = if spun.is_some() {
                self.s.lattice.alt_range(i)
            } else {
                0..0
            };
            let spun = spun.unwrap_or(0);
            range.enumerate().map(move |(a, alt)| {
                let orig = if a == 0 {
                    spun
                } else {
                    lex.candidates(spun)[a - 1].original
                };
                (alt, orig, spun)
            })
        })
    }

    /// Splits the text into sections of about `section_words` words, cut at
    /// sentence boundaries, each with its spun-versus-clean likelihood ratio,
    /// and the slot index that closes each.
    pub(super) fn sections(
        &self,
        text: &str,
        spun: &crate::decode::Decoded,
        clean: &crate::decode::Decoded,
    ) -> (Vec<Section>, Vec<usize>) {
        let logit_prior = (self.opts.spun_prior / (1.0 - self.opts.spun_prior)).ln();
        let mut out = Vec::new();
        let mut closing = Vec::new();
        let (mut si, mut ci) = (0, 0);
        let (mut z_spun, mut z_clean) = (0.0f64, 0.0f64);
        let mut words = 0;
        let mut start_slot = 0;
        let n = self.s.slots.len();
        for (i, info) in self.s.slots.iter().enumerate() {
            if !matches!(info.kind, SlotKind::Fixed) || info.end > info.start {
                words += 1;
            }
            while si < spun.segments.len() && spun.segments[si].0 <= i + 1 {
                z_spun += spun.segments[si].1;
                si += 1;
            }
            while ci < clean.segments.len() && clean.segments[ci].0 <= i + 1 {
                z_clean += clean.segments[ci].1;
                ci += 1;
            }
            // A section closes at a sentence boundary both decodes have finished.
            let boundary = info.start == info.end
                && spun
                    .segments
                    .get(si.wrapping_sub(1))
                    .is_some_and(|s| s.0 == i + 1);
            if (boundary && words >= self.opts.section_words) || i + 1 == n {
                let start = if out.is_empty() {
                    0
                } else {
                    self.s.slots[start_slot].start
                };
                let end = if i + 1 == n { text.len() } else { info.start };
                let llr = (z_spun - z_clean) as f32;
                out.push(Section {
                    start,
                    end,
                    words,
                    log_likelihood_ratio: llr,
                    spun_prob: sigmoid(
                        llr + logit_prior
                            - self.opts.clean_margin_per_word * words as f32
                            - self.opts.clean_margin,
                    ),
                    synonym_log_likelihood_ratio: 0.0,
                    synonym_prob: 0.0,
                });
                closing.push(i);
                z_spun = 0.0;
                z_clean = 0.0;
                words = 0;
                start_slot = i + 1;
            }
        }
        if out.is_empty() {
            out.push(Section {
                start: 0,
                end: text.len(),
                words: 0,
                log_likelihood_ratio: 0.0,
                spun_prob: 0.0,
                synonym_log_likelihood_ratio: 0.0,
                synonym_prob: 0.0,
            });
        }
        (out, closing)
    }

    /// Fills the synonym hypothesis's evidence into `sections` (cut where
    /// [`Restorer::sections`] cut them).
    pub(super) fn synonym_sections(
        &self,
        sections: &mut [Section],
        closing: &[usize],
        syn: &crate::decode::Decoded,
        clean: &crate::decode::Decoded,
    ) {
        let logit_prior = (self.opts.spun_prior / (1.0 - self.opts.spun_prior)).ln();
        let (mut si, mut ci) = (0, 0);
        let (mut z_syn, mut z_clean) = (0.0f64, 0.0f64);
        let mut k = 0;
        for i in 0..self.s.slots.len() {
            while si < syn.segments.len() && syn.segments[si].0 <= i + 1 {
                z_syn += syn.segments[si].1;
                si += 1;
            }
            while ci < clean.segments.len() && clean.segments[ci].0 <= i + 1 {
                z_clean += clean.segments[ci].1;
                ci += 1;
            }
            if closing.get(k) == Some(&i) {
                let sec = &mut sections[k];
                let llr = (z_syn - z_clean) as f32;
                sec.synonym_log_likelihood_ratio = llr;
                sec.synonym_prob = sigmoid(
                    llr + logit_prior
                        - self.opts.synonym_margin_per_word * sec.words as f32
                        - self.opts.clean_margin,
                );
                z_syn = 0.0;
                z_clean = 0.0;
                k += 1;
            }
        }
    }

    /// The change the synonym hypothesis makes at slot `i`, if any.
    pub(super) fn synonym_change(
        &self,
        text: &str,
        tokens: &[Token],
        i: usize,
        d: &crate::decode::Decoded,
        p_syn: f32,
    ) -> Option<Change> {
        let info = &self.s.slots[i];
        if info.syn == u32::MAX {
            return None;
        }
        let best = d.best[i] as usize;
        if best == 0 {
            return None;
        }
        let range = self.s.syn.alt_range(i);
        let mix = |a: usize| {
            let p = d.posterior[range.start + a];
            if a == 0 {
                1.0 - p_syn + p_syn * p
            } else {
                p_syn * p
            }
        };
        if mix(best) <= mix(0) {
            return None;
        }
        let lex = &self.model.lexicon;
        let cands = lex.synonym_candidates(info.syn);
        let spun_text = &text[info.start..info.end];
        let alt_text = |a: usize| {
            if a == 0 {
                spun_text.to_string()
            } else {
                match_case(
                    tokens[info.first_token].text(text),
                    lex.word(cands[a - 1].original),
                )
            }
        };
        let alts = ranked_alternatives(range.len(), best, &mix, self.opts.max_alternatives);
        let confidence = mix(best);
        Some(Change {
            start: info.start,
            end: info.end,
            spun: spun_text.to_string(),
            original: alt_text(best),
            confidence,
            relation: "generic_synonym".into(),
            alternatives: alts
                .iter()
                .map(|&(a, p)| Alternative {
                    text: alt_text(a),
                    prob: p,
                })
                .collect(),
            applied: confidence >= self.opts.min_confidence,
        })
    }

    /// The text of alternative `alt` of slot `info` under the synonym hypothesis.
    pub(super) fn syn_alt_text(
        &self,
        text: &str,
        tokens: &[Token],
        info: &SlotInfo,
        alt: usize,
    ) -> String {
        let spun_text = &text[info.start..info.end];
        if alt == 0 || info.syn == u32::MAX {
            return spun_text.to_string();
        }
        let lex = &self.model.lexicon;
        let cands = lex.synonym_candidates(info.syn);
        match_case(
            tokens[info.first_token].text(text),
            lex.word(cands[alt - 1].original),
        )
    }

    pub(super) fn relation(&self, info: &SlotInfo, alt: usize) -> String {
        match info.kind {
            SlotKind::Word { spun } if alt > 0 => {
                let c = self.model.lexicon.candidates(spun)[alt - 1];
                c.relation.as_str().to_string()
            }
            SlotKind::Phrase { .. } => "phrase".into(),
            _ => "keep".into(),
        }
    }

    pub(super) fn alt_text(
        &self,
        text: &str,
        tokens: &[Token],
        info: &SlotInfo,
        alt: usize,
    ) -> String {
        let lex = &self.model.lexicon;
        let spun_text = &text[info.start..info.end];
        let raw = match info.kind {
            _ if alt == 0 => return spun_text.to_string(),
            SlotKind::Word { spun } => lex.word(lex.candidates(spun)[alt - 1].original).to_string(),
            SlotKind::Phrase { phrase } => lex.phrases()[phrase].original.join(" "),
            SlotKind::Fixed => return spun_text.to_string(),
        };
        match_case(tokens[info.first_token].text(text), &raw)
    }
}

/// The alternatives of a slot to report, by probability `mix`: the chosen one
/// first, then the others of probability 0.005 or more, best first, at most
/// `max` (at least one).
fn ranked_alternatives(
    n: usize,
    chosen: usize,
    mix: &impl Fn(usize) -> f32,
    max: usize,
) -> Vec<(usize, f32)> {
    let mut alts: Vec<(usize, f32)> = (0..n).map(|a| (a, mix(a))).collect();
    alts.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    alts.retain(|&(a, p)| a == chosen || p >= 0.005);
    if let Some(pos) = alts.iter().position(|&(a, _)| a == chosen) {
        let c = alts.remove(pos);
        alts.insert(0, c);
    }
    alts.truncate(max.max(1));
    alts
}
