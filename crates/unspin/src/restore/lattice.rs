//! Building the candidate lattice from the tokens: a slot for every word
//! the lexicon knows (keep it, or the originals that could have produced
//! it), multi-word rewrites, digit slots, and the synonym hypothesis's
//! lattice beside it.

use super::*;
use crate::decode::WordId;
use crate::lexicon::{is_spun_form, Lexicon};
use crate::token::{Token, TokenKind};

impl<'m> Restorer<'m> {
    pub(super) fn build(&mut self, text: &str, tokens: &[Token]) {
        let m = self.model;
        let lex = &m.lexicon;
        let (bos, eos) = (m.lm.bos(), m.lm.eos());
        self.s.lattice.clear();
        self.s.clean.clear();
        self.s.syn.clear();
        self.s.slots.clear();
        self.s.prior.clear();
        self.fill_cache(text, tokens);
        let digits = crate::numbers::DigitEvidence::of(text, tokens);
        let mut i = 0;
        let mut pending_boundary = false;
        let mut sentence_start = true;
        while i < tokens.len() {
            let t = tokens[i];
            match t.kind {
                TokenKind::Word | TokenKind::Number => {
                    if pending_boundary {
                        self.boundary(t.start, i, bos, eos);
                        pending_boundary = false;
                        sentence_start = true;
                    }
                    let word = t.text(text);
                    let at_sentence_start = std::mem::take(&mut sentence_start);
                    if crate::numbers::is_number(word) {
                        // "two" -> "2" is a word spinner's output; digits
                        // themselves are never rewritten, and no number is
                        // rewritten unless the text shows such a spinner.
                        // The language model has no digits, so the digit
                        // reading is scored as its spelled-out source.
                        if t.bare && self.opts.restore_digits && digits.spinner_writes(word) {
                            if let Some(sid) = lex.id(word) {
                                if self.digit_slot(text, t, i, sid) {
                                    i += 1;
                                    continue;
                                }
                            }
                        }
                        let id = m.lm_id(&word.to_lowercase());
                        self.fixed(t.start, t.end, i, &[id]);
                        i += 1;
                        continue;
                    }
                    if t.bare && is_spun_form(word) && !word.bytes().any(|b| b.is_ascii_digit()) {
                        if let Some((phrase, last)) = match_phrase(lex, text, tokens, i) {
                            self.phrase_slot(text, tokens, i, last, phrase);
                            i = last + 1;
                            continue;
                        }
                        if let Some(sid) = lex.id(word) {
                            if self.word_slot(t, i, sid, SlotClass::Plain) {
                                i += 1;
                                continue;
                            }
                        }
                    } else if t.bare
                        && at_sentence_start
                        && self.opts.capitalized_replace_prob > 0.0
                    {
                        // The news spinner leaves capitals alone, but other
                        // spinners rewrite sentence-initial words too
                        // ("Successful the morning"): a weak prior lets strong
                        // context evidence restore them.
                        if let Some(sid) = title_case_lower(word).and_then(|w| lex.id(&w)) {
                            let cap = SlotClass::SentenceStart(self.opts.capitalized_replace_prob);
                            if self.word_slot(t, i, sid, cap) {
                                i += 1;
                                continue;
                            }
                        }
                    } else if let Some((sid, rate)) = self.learned_class(text, t) {
                        // A learned spinner that rewrites capitalized or
                        // punctuation-attached words, for the pairs it asserts.
                        if self.word_slot(t, i, sid, SlotClass::Learned(rate)) {
                            i += 1;
                            continue;
                        }
                    }
                    let lower = word.to_lowercase();
                    let id = m.lm_id(&lower);
                    // Capitalized and punctuation-attached words are a class
                    // the news spinner never touches; they stay fixed under
                    // the synonym hypothesis too unless capitals are opened
                    // ("Feb" in a dateline, "C" in a table are no spun words).
                    let open_class =
                        (t.bare && is_spun_form(word)) || self.opts.capitalized_replace_prob > 0.0;
                    match lex.id(&lower) {
                        Some(sid) if t.kind == TokenKind::Word && open_class => {
                            self.plain_word(t, i, id, sid)
                        }
                        _ => self.fixed(t.start, t.end, i, &[id]),
                    }
                }
                TokenKind::Punct => {
                    let c = t.text(text);
                    if matches!(c, "." | "!" | "?" | ";" | ":") {
                        pending_boundary = true;
                    }
                }
                TokenKind::Space => {
                    if t.text(text).matches('\n').count() >= 2 {
                        pending_boundary = true;
                    }
                }
                TokenKind::Tag | TokenKind::Code => pending_boundary = true,
                TokenKind::Url | TokenKind::Email => {
                    let id = m.lm.unk();
                    self.fixed(t.start, t.end, i, &[id]);
                }
            }
            i += 1;
        }
    }

    /// Counts the words the spinner could not have touched: they are the
    /// author's own, so candidates among them are more likely originals.
    pub(super) fn fill_cache(&mut self, text: &str, tokens: &[Token]) {
        self.s.cache.clear();
        if self.opts.cache_weight == 0.0 {
            return;
        }
        let lex = &self.model.lexicon;
        let mut lower = String::new();
        for t in tokens {
            if t.kind != TokenKind::Word {
                continue;
            }
            let w = t.text(text);
            if t.bare && is_spun_form(w) {
                continue;
            }
            lower.clear();
            lower.extend(w.chars().flat_map(char::to_lowercase));
            if let Some(id) = lex.id(&lower) {
                *self.s.cache.entry(id).or_default() += 1.0;
            }
        }
    }

    pub(super) fn boundary(&mut self, at: usize, tok: usize, bos: WordId, eos: WordId) {
        if !self.s.slots.is_empty() {
            self.fixed(at, at, tok, &[eos, bos]);
        }
    }

    pub(super) fn fixed(&mut self, start: usize, end: usize, tok: usize, ids: &[WordId]) {
        self.s.lattice.push_fixed(ids);
        self.s.prior.push(0.0);
        self.s.clean.push_fixed(ids);
        self.s.syn.push_fixed(ids);
        self.s.slots.push(SlotInfo {
            start,
            end,
            first_token: tok,
            kind: SlotKind::Fixed,
            syn: u32::MAX,
        });
    }

    /// Adds a slot for a bare number the spinner may have written for a word.
    pub(super) fn digit_slot(&mut self, text: &str, t: Token, tok: usize, sid: u32) -> bool {
        let m = self.model;
        let lex = &m.lexicon;
        let cands = lex.candidates(sid);
        let digit = t.text(text);
        let Some(rule) = cands.iter().find(|c| {
            c.relation == crate::spinner::Relation::Rule
                && crate::numbers::restorable_digit(digit, lex.word(c.original))
        }) else {
            return false;
        };
        let keep_id = m.lm_id_of_lex(rule.original);
        let keep_ln = (1.0 - lex.replace_prob(rule.original)).max(1e-6).ln();
        // Both hypotheses read the number the same way, so it does not sway
        // the spun/clean decision.
        self.candidate_slot(t, tok, sid, keep_id, keep_ln, |_, c| {
            if crate::numbers::restorable_digit(digit, lex.word(c.original)) {
                lex.replace_prob(c.original).max(1e-9).ln() + c.ln_prob
            } else {
                f32::NEG_INFINITY
            }
        });
        true
    }

    /// The lexicon id and replace-probability scale of a word outside the
    /// plain class (capitalized, or touching punctuation) that the learned
    /// spinner of [`Options::spinner`] rewrites in its class.
    fn learned_class(&self, text: &str, t: Token) -> Option<(u32, f32)> {
        if t.kind != TokenKind::Word {
            return None;
        }
        let learned = self.learned_channel()?;
        let word = t.text(text);
        if t.bare {
            let sid = title_case_lower(word).and_then(|w| self.model.lexicon.id(&w))?;
            learned.capitalized_rate(sid).map(|r| (sid, r))
        } else if is_spun_form(word) && !word.bytes().any(|b| b.is_ascii_digit()) {
            let sid = self.model.lexicon.id(word)?;
            learned.attached_rate(sid).map(|r| (sid, r))
        } else {
            None
        }
    }

    /// Adds a slot for a word the lexicon knows (a bare lowercase word, or
    /// one of another class, see [`SlotClass`]); false if it has no candidates.
    pub(super) fn word_slot(&mut self, t: Token, tok: usize, sid: u32, class: SlotClass) -> bool {
        let m = self.model;
        let lex = &m.lexicon;
        let cands = lex.candidates(sid);
        if cands.is_empty() {
            return false;
        }
        let keep_id = m.lm_id_of_lex(sid);
        let replaced = match class {
            // The sentence-start prior holds for the word as written.
            SlotClass::SentenceStart(cap) => cap,
            c => c.replace_prob(lex.replace_prob(sid)),
        };
        let mut keep_ln = (1.0 - replaced).max(1e-6).ln();
        let learned = self.learned_channel();
        if let Some(ch) = &learned {
            keep_ln = ch.ln_prob(sid, sid, keep_ln);
        }
        if let Some(&n) = self.s.cache.get(&sid) {
            keep_ln += self.opts.cache_weight * (1.0 + n).ln();
        }
        let cache_weight = self.opts.cache_weight;
        self.candidate_slot(t, tok, sid, keep_id, keep_ln, |cache, c| {
            if m.is_numeral(c.original) {
                return f32::NEG_INFINITY;
            }
            let p = class.replace_prob(lex.replace_prob(c.original));
            let mut ln = if p > 0.0 {
                p.ln() + c.ln_prob
            } else {
                f32::NEG_INFINITY
            };
            if let Some(ch) = &learned {
                ln = ch.ln_prob(c.original, sid, ln);
            }
            if let Some(&n) = cache.get(&c.original) {
                ln += cache_weight * (1.0 + n).ln();
            }
            ln
        });
        true
    }

    /// The learned spinner of [`Options::spinner`], when it was bound to
    /// this model's lexicon (one bound to another is ignored).
    fn learned_channel(&self) -> Option<std::sync::Arc<crate::learn::LearnedChannel>> {
        let words = self.model.lexicon.stats().0;
        self.opts.spinner.clone().filter(|c| c.fits(words))
    }

    /// Pushes a slot for spun word `sid`: "keep" (read as `keep_id`) and the
    /// lexicon's best candidates, each scored by `channel`. The clean
    /// hypothesis reads the slot as `keep_id` too.
    pub(super) fn candidate_slot(
        &mut self,
        t: Token,
        tok: usize,
        sid: u32,
        keep_id: WordId,
        keep_ln: f32,
        channel: impl Fn(&FxHashMap<u32, f32>, &crate::lexicon::Candidate) -> f32,
    ) {
        let m = self.model;
        self.s.lattice.begin_slot();
        self.s.lattice.push_alt(&[keep_id], keep_ln);
        self.s.prior.push(keep_ln);
        for c in m
            .lexicon
            .candidates(sid)
            .iter()
            .take(self.opts.max_candidates)
        {
            let ln = channel(&self.s.cache, c);
            self.s.lattice.push_alt(&[m.lm_id_of_lex(c.original)], ln);
            self.s.prior.push(ln);
        }
        self.s.clean.push_fixed(&[keep_id]);
        let syn = self.syn_slot(sid, keep_id);
        self.s.slots.push(SlotInfo {
            start: t.start,
            end: t.end,
            first_token: tok,
            kind: SlotKind::Word { spun: sid },
            syn,
        });
    }

    /// A word the news spinner would not have written (capitalized,
    /// punctuation-attached, or without news candidates): fixed in the news
    /// and clean hypotheses, open under the synonym one.
    pub(super) fn plain_word(&mut self, t: Token, tok: usize, id: WordId, sid: u32) {
        self.s.lattice.push_fixed(&[id]);
        self.s.prior.push(0.0);
        self.s.clean.push_fixed(&[id]);
        let syn = self.syn_slot(sid, id);
        self.s.slots.push(SlotInfo {
            start: t.start,
            end: t.end,
            first_token: tok,
            kind: SlotKind::Fixed,
            syn,
        });
    }

    /// Pushes the synonym hypothesis's slot for word form `sid` (read as
    /// `keep_id` when kept); returns `sid` if it has synonym candidates,
    /// else `u32::MAX` (the slot is then fixed).
    pub(super) fn syn_slot(&mut self, sid: u32, keep_id: WordId) -> u32 {
        let m = self.model;
        let r = self.opts.synonym_rate;
        let cands = m.lexicon.synonym_candidates(sid);
        if r <= 0.0 || cands.is_empty() {
            self.s.syn.push_fixed(&[keep_id]);
            return u32::MAX;
        }
        let learned = self.learned_channel();
        let keep_ln = (1.0 - r).ln();
        self.s.syn.begin_slot();
        self.s.syn.push_alt(
            &[keep_id],
            learned
                .as_ref()
                .map_or(keep_ln, |ch| ch.ln_prob(sid, sid, keep_ln)),
        );
        // Five synonyms keep nearly all the gain of eight (measured on a dev
        // slice) at two thirds of the decoding cost; a learned spinner may
        // point past them (its type-level pass looks at eight).
        let take = if learned.is_some() {
            self.opts.max_candidates
        } else {
            self.opts.max_candidates.min(5)
        };
        for c in cands.iter().take(take) {
            let ln = if m.is_numeral(c.original) {
                f32::NEG_INFINITY
            } else {
                let base = r.ln() + c.ln_prob;
                learned
                    .as_ref()
                    .map_or(base, |ch| ch.ln_prob(c.original, sid, base))
            };
            self.s.syn.push_alt(&[m.lm_id_of_lex(c.original)], ln);
        }
        sid
    }

    pub(super) fn phrase_slot(
        &mut self,
        text: &str,
        tokens: &[Token],
        first: usize,
        last: usize,
        phrase: usize,
    ) {
        let m = self.model;
        let p = &m.lexicon.phrases()[phrase];
        self.s.ids.clear();
        for t in &tokens[first..=last] {
            if t.kind == TokenKind::Word {
                self.s.ids.push(m.lm_id(t.text(text)));
            }
        }
        let orig: Vec<WordId> = p.original.iter().map(|w| m.lm_id(w)).collect();
        // The rewrite is deterministic, so the literal phrase is rarely an original.
        self.s.lattice.begin_slot();
        self.s.lattice.push_alt(&self.s.ids, 0.05f32.ln());
        self.s.lattice.push_alt(&orig, 0.95f32.ln());
        self.s.prior.extend([0.05f32.ln(), 0.95f32.ln()]);
        self.s.clean.push_fixed(&self.s.ids);
        self.s.syn.push_fixed(&self.s.ids);
        self.s.slots.push(SlotInfo {
            start: tokens[first].start,
            end: tokens[last].end,
            first_token: first,
            kind: SlotKind::Phrase { phrase },
            syn: u32::MAX,
        });
    }
}

/// Finds a multi-word rewrite whose spun words start at token `i`. Returns the phrase and its last token.
fn match_phrase(lex: &Lexicon, text: &str, tokens: &[Token], i: usize) -> Option<(usize, usize)> {
    lex.phrases()
        .iter()
        .enumerate()
        .find_map(|(pi, p)| phrase_at(p, text, tokens, i).map(|last| (pi, last)))
}

/// The last token of `phrase` when its spun words start at token `i` (bare
/// words, one whitespace run between them).
pub(crate) fn phrase_at(
    phrase: &crate::lexicon::Phrase,
    text: &str,
    tokens: &[Token],
    i: usize,
) -> Option<usize> {
    let mut j = i;
    for (k, w) in phrase.spun.iter().enumerate() {
        if k > 0 {
            if tokens.get(j + 1).is_none_or(|t| t.kind != TokenKind::Space) {
                return None;
            }
            j += 2;
        }
        match tokens.get(j) {
            Some(t) if t.kind == TokenKind::Word && t.bare && t.text(text) == w => {}
            _ => return None,
        }
    }
    Some(j)
}

/// "Successful" -> "successful"; None unless the word is capitalized ASCII letters.
fn title_case_lower(word: &str) -> Option<String> {
    let b = word.as_bytes();
    let ok =
        b.len() > 1 && b[0].is_ascii_uppercase() && b[1..].iter().all(|c| c.is_ascii_lowercase());
    ok.then(|| word.to_ascii_lowercase())
}

/// The class of a word slot, which sets how likely the spinner replaced it.
#[derive(Clone, Copy, Debug)]
pub(super) enum SlotClass {
    /// A bare lowercase word: the lexicon's replace probability.
    Plain,
    /// A capitalized sentence start, at [`Options::capitalized_replace_prob`].
    SentenceStart(f32),
    /// A class a learned spinner touches, at this share of the lexicon's rate.
    Learned(f32),
}

impl SlotClass {
    /// The replace probability of an original the lexicon replaces with `p`
    /// (0: never replaced, in every class).
    fn replace_prob(self, p: f32) -> f32 {
        match self {
            _ if p <= 0.0 => p,
            SlotClass::Plain => p,
            SlotClass::SentenceStart(cap) => cap,
            SlotClass::Learned(scale) => scale * p,
        }
    }
}
