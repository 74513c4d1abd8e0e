//! Restoration: from spun text to the most likely original, with confidences.
//!
//! The text is tokenized losslessly; every bare lowercase word the lexicon
//! knows becomes a slot whose alternatives are "keep it" and the originals that
//! could have produced it; multi-word rewrites become slots spanning several
//! words. The lattice is decoded exactly under the trigram model, once under
//! the spun hypothesis and once under the clean one (every word kept): their
//! likelihood ratio gives the probability that a section was spun at all,
//! which scales every word's confidence. Clean text therefore comes back
//! untouched even though, word by word, many of its words could be spun
//! outputs.

use serde::Serialize;

use crate::decode::{Decoder, Lattice, Scorer, WordId};
use crate::lexicon::{is_spun_form, Lexicon};
use crate::lm::LanguageModel;
use crate::rescore::{ContextQuery, ContextScorer};
use crate::sweep::SweepOptions;
use crate::token::{tokenize, Token, TokenKind};
use crate::wordnet::WordNet;
use rustc_hash::{FxHashMap, FxHashSet};

/// The language model and the lexicon, with the word-id mapping between them.
pub struct Model {
    /// Trigram language model.
    pub lm: LanguageModel,
    /// Channel model.
    pub lexicon: Lexicon,
    lex_to_lm: Vec<WordId>,
    /// Lexicon ids that are numbers in any spelling (digits, roman numerals,
    /// number words): never proposed as originals of a word ("34" is not
    /// restored to "xxxiv", nor "C" to "hundred"); only the digit slots of
    /// text that shows a digit-writing spinner restore "2" to "two".
    numeral: Vec<bool>,
    /// WordNet, for the synonym sweep of `--quality best` (absent: no sweep).
    wordnet: Option<WordNet>,
    /// Tortured phrases, listed and unlisted (absent: none looked for).
    phrases: Option<crate::tortured::PhraseModel>,
}

impl Model {
    /// Joins a language model and a lexicon.
    pub fn new(lm: LanguageModel, lexicon: Lexicon) -> Self {
        let (n, _) = lexicon.stats();
        let lex_to_lm = (0..n as u32)
            .map(|i| lm.id(lexicon.word(i)).unwrap_or(lm.unk()))
            .collect();
        let numeral = (0..n as u32)
            .map(|i| crate::numbers::is_number(lexicon.word(i)))
            .collect();
        Self {
            lm,
            lexicon,
            lex_to_lm,
            numeral,
            wordnet: None,
            phrases: None,
        }
    }

    /// Adds WordNet, which [`Restorer::restore_best`] uses to look for
    /// synonym-spun words the lexicon does not know (see [`crate::sweep`]).
    pub fn with_wordnet(mut self, wordnet: WordNet) -> Self {
        self.wordnet = Some(wordnet);
        self
    }

    /// Adds the phrase model: restore then replaces tortured phrases
    /// (see [`crate::tortured`]).
    pub fn with_phrases(mut self, phrases: crate::tortured::PhraseModel) -> Self {
        self.phrases = Some(phrases);
        self
    }

    /// The phrase model given with [`Model::with_phrases`].
    pub fn phrases(&self) -> Option<&crate::tortured::PhraseModel> {
        self.phrases.as_ref()
    }

    /// The WordNet given with [`Model::with_wordnet`].
    pub fn wordnet(&self) -> Option<&WordNet> {
        self.wordnet.as_ref()
    }

    fn lm_id_of_lex(&self, id: u32) -> WordId {
        self.lex_to_lm[id as usize]
    }

    /// Whether lexicon word `id` is a number in any spelling.
    fn is_numeral(&self, id: u32) -> bool {
        self.numeral[id as usize]
    }

    fn lm_id(&self, lower: &str) -> WordId {
        self.lm.id(lower).unwrap_or(self.lm.unk())
    }
}

struct LmScorer<'a>(&'a LanguageModel);

impl Scorer for LmScorer<'_> {
    #[inline]
    fn ln_prob(&self, h2: WordId, h1: WordId, w: WordId) -> f32 {
        self.0.log10_prob(h2, h1, w) * std::f32::consts::LN_10
    }

    fn ln_prob_many(&self, queries: &[[WordId; 3]], out: &mut [f32]) {
        self.0.log10_prob_many(queries, out);
        for o in out.iter_mut() {
            *o *= std::f32::consts::LN_10;
        }
    }
}

/// Knobs of the restorer.
#[derive(Clone, Debug)]
pub struct Options {
    /// Weight of the language model against the channel.
    pub lm_weight: f32,
    /// Changes whose confidence is below this are not applied (still reported as candidates).
    pub min_confidence: f32,
    /// Prior probability that a section is spun at all.
    pub spun_prior: f32,
    /// Alternatives reported per change.
    pub max_alternatives: usize,
    /// Evidence (nats per word) a section's spun hypothesis must gain over the
    /// clean one before it counts as even odds; clean text gains a little by
    /// chance because the spun hypothesis has more paths.
    pub clean_margin_per_word: f32,
    /// Evidence (nats) every section's spun hypothesis, news or synonym,
    /// must gain over the clean one on top of the per-word margins: one odd
    /// word in a short text is not a spun text.
    pub clean_margin: f32,
    /// Words per section for the spun/clean decision on long texts.
    pub section_words: usize,
    /// Probability that a sentence-initial capitalized word was rewritten
    /// (the news spinner never does it; other spinners do).
    pub capitalized_replace_prob: f32,
    /// Whether bare single digits ("1") may be restored to the words a
    /// spinner turns into digits ("one"); even then only in text that shows
    /// such a spinner (see [`crate::numbers::DigitEvidence`]).
    pub restore_digits: bool,
    /// Most originals considered per spun word (the lexicon's best first).
    pub max_candidates: usize,
    /// Boost (power of 1 + count) for candidates the author visibly used elsewhere in the text.
    pub cache_weight: f32,
    /// Document-level EM steps on the channel (0 disables).
    pub em_iterations: usize,
    /// Weight of the global channel prior against the document's own counts in EM.
    pub em_prior_weight: f32,
    /// Exponent that sharpens each original's re-estimated output
    /// distribution (1 leaves it as EM gives it): the spinner picks exactly
    /// one output per word type, so mass split between two outputs of one
    /// original is pushed toward the better-supported one.
    pub em_sharpen: f32,
    /// Prior share of words a generic synonym spinner (any sense, inflection
    /// kept, capitals and punctuation-attached words too) replaces; sections
    /// the news hypothesis does not explain are also tried under this one.
    /// 0 disables the synonym hypothesis.
    pub synonym_rate: f32,
    /// Like `clean_margin_per_word`, for the synonym hypothesis, which has far
    /// more paths than the news one.
    pub synonym_margin_per_word: f32,
    /// `--quality best`: slots whose two best alternatives differ by less
    /// than this in probability are rescored.
    pub rescore_margin: f32,
    /// `--quality best`: most alternatives rescored per slot (the best first).
    pub rescore_candidates: usize,
    /// `--quality best`: alternatives less probable than this are not rescored.
    pub rescore_min_prob: f32,
    /// `--quality best`: weight of the context scorer's ln-probability (the lattice's is 1).
    pub rescore_weight: f32,
    /// `--quality best`: like `rescore_margin`, for slots of synonym-spun sections.
    pub rescore_synonym_margin: f32,
    /// `--quality best`: like `rescore_weight`, for slots of synonym-spun sections.
    pub rescore_synonym_weight: f32,
    /// `--quality best`: nats of the scorer's evidence a replacement needs
    /// over keeping the word, in synonym-spun sections: a neural model
    /// prefers common words, and most words there were not replaced.
    pub rescore_synonym_keep_bonus: f32,
    /// `--quality best`: rescoring passes; each later pass sees the text as
    /// the one before restored it (stops early when nothing changes).
    pub rescore_passes: usize,
    /// `--quality best`: the synonym sweep (needs a model with WordNet).
    pub sweep: SweepOptions,
    /// Tortured phrases (needs a model with a phrase model).
    pub phrases: crate::tortured::PhraseOptions,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            lm_weight: 0.6,
            min_confidence: 0.0,
            spun_prior: 0.5,
            max_alternatives: 5,
            section_words: 200,
            // Chosen on dev text only (data/clean-bench/clean-dev.jsonl,
            // clean and news-spun; see docs/BENCHMARKS.md, "Do no harm"):
            // clean sections of five registers gain up to 0.20 nats a word
            // under the news hypothesis and 0.06 under the synonym one; with
            // 3 nats on top, none of them opens the gate, and 8% of the
            // news-spun words stay behind it (6% before).
            clean_margin_per_word: 0.2,
            clean_margin: 3.0,
            cache_weight: 1.0,
            max_candidates: 8,
            // Off: a class of tokens the news spinner never touches is not
            // rewritten without evidence that the text's spinner does ("Feb"
            // at the start of a dateline is not a spun "February").
            capitalized_replace_prob: 0.0,
            restore_digits: true,
            em_iterations: 1,
            em_prior_weight: 10.0,
            em_sharpen: 1.5,
            synonym_rate: 0.1,
            synonym_margin_per_word: 0.045,
            rescore_margin: 0.9,
            rescore_candidates: 3,
            rescore_min_prob: 0.001,
            rescore_weight: 0.7,
            // Chosen on the training split's dev slice (synonym profile):
            // every slot with two alternatives is rescored there; a keep
            // bonus of 4 and weight 0.8 are the smallest that change no more
            // clean words than the default mode at rates 0.05, 0.15 and 0.30
            // (20,000 dev words; bonus 3 and weight 1.0 changed more).
            rescore_synonym_margin: 1.01,
            rescore_synonym_weight: 0.8,
            rescore_synonym_keep_bonus: 4.0,
            rescore_passes: 1,
            sweep: SweepOptions::default(),
            phrases: crate::tortured::PhraseOptions::default(),
        }
    }
}

/// One ranked alternative for a changed span.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Alternative {
    /// The candidate original, cased like the input.
    pub text: String,
    /// Its posterior probability.
    pub prob: f32,
}

/// A word (or phrase) the restorer believes was spun.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    /// Byte offset of the span in the input.
    pub start: usize,
    /// Byte offset one past the span in the input.
    pub end: usize,
    /// The input text of the span.
    pub spun: String,
    /// The chosen original, cased like the input.
    pub original: String,
    /// Posterior probability that the original is right (includes the section's spun probability).
    pub confidence: f32,
    /// How the original relates to the spun word (rule, chain, synonym, ...;
    /// `generic_synonym` under the generic synonym-spinner hypothesis).
    pub relation: String,
    /// Ranked alternatives, the chosen one first; "keep" appears as the spun text itself.
    pub alternatives: Vec<Alternative>,
    /// Whether the change was applied to the output text (confidence at least `min_confidence`).
    pub applied: bool,
}

/// A section of the input with its probability of being spun.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    /// Byte offset where the section starts.
    pub start: usize,
    /// Byte offset where it ends.
    pub end: usize,
    /// Words in the section.
    pub words: usize,
    /// ln p(text | spun) - ln p(text | clean).
    pub log_likelihood_ratio: f32,
    /// Posterior probability that the section was spun (uncalibrated model posterior).
    pub spun_prob: f32,
    /// ln p(text | synonym spinner) - ln p(text | clean); 0 when the
    /// synonym hypothesis was not needed (the news one already explains the text).
    pub synonym_log_likelihood_ratio: f32,
    /// Posterior probability that a generic synonym spinner wrote the
    /// section, when the news hypothesis does not explain it.
    pub synonym_prob: f32,
}

/// The result of restoring one text.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Restoration {
    /// The restored text.
    pub text: String,
    /// Every proposed change, applied or not, in input order.
    pub changes: Vec<Change>,
    /// Sections with their spun probabilities.
    pub sections: Vec<Section>,
    /// Number of word tokens in the input.
    pub words: usize,
}

impl Restoration {
    /// Appends the restoration of a piece that starts at byte `offset` of the whole input.
    pub fn append(&mut self, piece: Restoration, offset: usize) {
        self.text.push_str(&piece.text);
        self.words += piece.words;
        self.changes
            .extend(piece.changes.into_iter().map(|c| Change {
                start: c.start + offset,
                end: c.end + offset,
                ..c
            }));
        self.sections
            .extend(piece.sections.into_iter().map(|mut s| {
                s.start += offset;
                s.end += offset;
                s
            }));
    }
}

/// One slot rescored by `--quality best`: what the context scorer was asked and what it changed.
#[derive(Clone, Debug, Serialize)]
pub struct Rescored {
    /// Byte offset of the slot in the input.
    pub start: usize,
    /// Byte offset one past the slot.
    pub end: usize,
    /// The alternatives rescored, cased like the input.
    pub candidates: Vec<String>,
    /// Their probabilities under the trigram lattice.
    pub posteriors: Vec<f32>,
    /// The context scorer's ln-probabilities.
    pub scores: Vec<f32>,
    /// Index of the trigram lattice's choice.
    pub before: usize,
    /// Index of the choice after rescoring.
    pub after: usize,
}

/// The decodes behind one restoration.
struct Analysis {
    spun: crate::decode::Decoded,
    sections: Vec<Section>,
    syn: Option<crate::decode::Decoded>,
}

/// An uncertain slot offered to the context scorer.
struct Picked {
    slot: usize,
    alts: Vec<usize>,
    texts: Vec<String>,
    /// The lattice's probabilities of `alts`.
    trigram: Vec<f32>,
    /// Index into `alts` of the lattice's choice.
    before: usize,
    /// Whether the slot is read under the synonym hypothesis (its section
    /// is synonym-spun), so `alts` index the synonym lattice.
    syn: bool,
}

/// Where a lattice slot came from.
#[derive(Clone, Copy)]
struct SlotInfo {
    start: usize,
    end: usize,
    /// Index of the first token of the slot, for casing.
    first_token: usize,
    /// Lexicon id of each alternative's source, or a phrase index, per kind.
    kind: SlotKind,
    /// Lexicon id of the word form whose synonym candidates fill the slot
    /// under the synonym hypothesis, or `u32::MAX`.
    syn: u32,
}

#[derive(Clone, Copy)]
enum SlotKind {
    Fixed,
    Word { spun: u32 },
    Phrase { phrase: usize },
}

/// Reusable restorer (one per thread): holds decoding buffers.
pub struct Restorer<'m> {
    model: &'m Model,
    opts: Options,
    decoder: Decoder,
    lattice: Lattice,
    clean: Lattice,
    /// The generic synonym-spinner hypothesis, slot for slot with `lattice`.
    syn: Lattice,
    slots: Vec<SlotInfo>,
    ids: Vec<WordId>,
    /// Channel score of every lattice alternative before EM (the EM prior).
    prior: Vec<f32>,
    /// Words the author demonstrably used: lexicon ids seen where the spinner
    /// cannot write (capitalized, punctuation-attached), with counts.
    cache: FxHashMap<u32, f32>,
    /// What the last `restore_best` rescored.
    rescored: Vec<Rescored>,
    /// Extra channel score per lattice alternative from the context scorer
    /// (empty in the default mode).
    unary: Vec<f32>,
}

impl<'m> Restorer<'m> {
    /// A restorer over `model` with `opts`.
    pub fn new(model: &'m Model, opts: Options) -> Self {
        Self {
            model,
            opts,
            decoder: Decoder::new(),
            lattice: Lattice::new(),
            clean: Lattice::new(),
            syn: Lattice::new(),
            slots: Vec::new(),
            ids: Vec::new(),
            prior: Vec::new(),
            cache: FxHashMap::default(),
            rescored: Vec::new(),
            unary: Vec::new(),
        }
    }

    /// The options in use, to change between calls: a long-lived restorer
    /// (one per server worker thread) keeps its buffers across requests.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.opts
    }

    /// Restores a text of any length in bounded memory: it is cut into pieces
    /// of about [`crate::input::CHUNK_BYTES`] at line or sentence ends.
    pub fn restore_document(&mut self, text: &str) -> Restoration {
        let mut whole = Restoration::default();
        for (offset, piece) in crate::input::split_text(text) {
            let r = self.restore(piece);
            whole.append(r, offset);
        }
        whole
    }

    /// Restores `text` as one piece (memory grows with its length; see [`Restorer::restore_document`]).
    pub fn restore(&mut self, text: &str) -> Restoration {
        let tokens = tokenize(text);
        self.unary.clear();
        self.build(text, &tokens);
        let a = self.analyse(text);
        let mut r = self.restoration(text, &tokens, &a);
        self.add_phrases(text, &tokens, &mut r);
        r
    }

    /// Adds the tortured phrases of `text` to its restoration.
    fn add_phrases(&self, text: &str, tokens: &[Token], r: &mut Restoration) {
        if let Some(pm) = &self.model.phrases {
            let found =
                crate::tortured::find_phrases(pm, &self.model.lm, text, tokens, &self.opts.phrases);
            crate::tortured::merge_into(r, text, &found);
        }
    }

    /// Like [`Restorer::restore_document`], with the uncertain slots of every
    /// piece rescored by `scorer` (`--quality best`; see [`Restorer::restore_best`]).
    pub fn restore_document_best(
        &mut self,
        text: &str,
        scorer: &dyn ContextScorer,
    ) -> Result<Restoration, crate::Error> {
        let mut whole = Restoration::default();
        for (offset, piece) in crate::input::split_text(text) {
            let r = self.restore_best(piece, scorer)?;
            whole.append(r, offset);
        }
        Ok(whole)
    }

    /// Restores `text` like [`Restorer::restore`], then rescores the slots
    /// whose decision is uncertain with `scorer`, a model of the whole
    /// context: in every section judged spun by the news hypothesis, each
    /// slot whose two best alternatives are closer than
    /// [`Options::rescore_margin`] offers its best
    /// [`Options::rescore_candidates`] alternatives; the scorer rates each in
    /// the text as restored so far; `rescore_weight` times its
    /// ln-probability (relative to the slot's best) joins the alternative's
    /// channel score, the others are ruled out, and the lattice is decoded
    /// again (with its EM step), so neighbouring words and other occurrences
    /// of the same spun word follow the new evidence. Sections that the
    /// synonym hypothesis explains are rescored the same way on its lattice
    /// (decoded again without EM, as the default mode decodes it). Last,
    /// when the model has WordNet ([`Model::with_wordnet`]), the synonym
    /// sweep ([`crate::sweep`]) looks at every word outside news-spun
    /// sections with all its WordNet synonyms; it changes words only in text
    /// whose estimated replacement rate is high enough, so clean text comes
    /// back as it went in (or nearly: see docs/BENCHMARKS.md).
    pub fn restore_best(
        &mut self,
        text: &str,
        scorer: &dyn ContextScorer,
    ) -> Result<Restoration, crate::Error> {
        let tokens = tokenize(text);
        self.unary.clear();
        self.rescored.clear();
        self.build(text, &tokens);
        let a = self.analyse(text);
        let mut r = self.restoration(text, &tokens, &a);
        let picked = self.pick_uncertain(text, &tokens, &a);
        if !picked.is_empty() {
            r = self.rescore(text, &tokens, a, r, picked, scorer)?;
        }
        self.add_phrases(text, &tokens, &mut r);
        match self.model.wordnet() {
            Some(wn) if self.opts.sweep.enabled => crate::sweep::sweep(
                text,
                r,
                &self.model.lm,
                wn,
                scorer,
                &self.opts.sweep,
                self.opts.min_confidence,
            ),
            _ => Ok(r),
        }
    }

    /// The rescoring passes of [`Restorer::restore_best`] over the picked slots.
    fn rescore(
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
            let scores = crate::rescore::checked(scorer.score(&base, &queries)?, &queries)?;
            // The scorer's evidence enters the lattice as an extra channel
            // term on the rescored alternatives (relative to the slot's
            // best; the others are ruled out).
            let mut unary = vec![0f32; self.prior.len()];
            let mut syn_unary: Vec<(usize, f32)> = Vec::new();
            for (&pi, nn) in asked.iter().zip(&scores) {
                let p = &picked[pi];
                let range = if p.syn {
                    self.syn.alt_range(p.slot)
                } else {
                    self.lattice.alt_range(p.slot)
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
            self.unary = unary;
            a.spun = self.decode_spun();
            if !syn_unary.is_empty() {
                // The synonym hypothesis is decoded again with the evidence;
                // its sections keep the probabilities the first decode gave.
                let saved: Vec<(usize, f32)> = syn_unary
                    .iter()
                    .map(|&(alt, _)| (alt, self.syn.channel(alt)))
                    .collect();
                for (&(alt, u), &(_, c)) in syn_unary.iter().zip(&saved) {
                    self.syn.set_channel(alt, c + u);
                }
                let m = self.model;
                a.syn = Some(self.decoder.decode(
                    &self.syn,
                    &LmScorer(&m.lm),
                    self.opts.lm_weight,
                    [m.lm.bos(), m.lm.bos()],
                ));
                for (alt, c) in saved {
                    self.syn.set_channel(alt, c);
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
            let info = &self.slots[p.slot];
            let now = match (&a.syn, p.syn) {
                (Some(d), true) => d.best[p.slot] as usize,
                _ => a.spun.best[p.slot] as usize,
            };
            self.rescored.push(Rescored {
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

    /// What the last [`Restorer::restore_best`] asked the scorer and decided,
    /// slot by slot (for analysis and tuning).
    pub fn rescored(&self) -> &[Rescored] {
        &self.rescored
    }

    /// Decodes the spun hypothesis with document-level EM; `self.unary`,
    /// when set, is added to every alternative's channel score.
    fn decode_spun(&mut self) -> crate::decode::Decoded {
        if !self.unary.is_empty() {
            for (alt, (&p, &u)) in self.prior.iter().zip(&self.unary).enumerate() {
                self.lattice.set_channel(alt, p + u);
            }
        }
        let m = self.model;
        let mut spun = self.decoder.decode(
            &self.lattice,
            &LmScorer(&m.lm),
            self.opts.lm_weight,
            [m.lm.bos(), m.lm.bos()],
        );
        for _ in 0..self.opts.em_iterations {
            self.reestimate(&spun);
            spun = self.decoder.redecode(&self.lattice);
        }
        spun
    }

    /// Decodes the built lattices: the news hypothesis, the clean one, the
    /// sections' spun probabilities, and the synonym hypothesis where needed.
    fn analyse(&mut self, text: &str) -> Analysis {
        let spun = self.decode_spun();
        let m = self.model;
        let scorer = LmScorer(&m.lm);
        let start = [m.lm.bos(), m.lm.bos()];
        let clean = self
            .decoder
            .decode(&self.clean, &scorer, self.opts.lm_weight, start);
        let (mut sections, closing) = self.sections(text, &spun, &clean);
        // The synonym hypothesis only matters where the news one fails, so
        // news-spun text pays nothing for it.
        let syn = if self.opts.synonym_rate > 0.0 && sections.iter().any(|s| s.spun_prob < 0.5) {
            let syn = self
                .decoder
                .decode(&self.syn, &scorer, self.opts.lm_weight, start);
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
    fn slot_probs(&self, a: &Analysis, i: usize, section_idx: &mut usize) -> (Vec<f32>, f32, f32) {
        let info = &self.slots[i];
        let sections = &a.sections;
        while *section_idx + 1 < sections.len() && sections[*section_idx].end <= info.start {
            *section_idx += 1;
        }
        let p_spun = sections.get(*section_idx).map_or(0.0, |s| s.spun_prob);
        let p_syn = sections.get(*section_idx).map_or(0.0, |s| s.synonym_prob);
        let range = self.lattice.alt_range(i);
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

    /// The uncertain slots of the spun sections: under the news hypothesis
    /// where it explains the section, else under the synonym hypothesis
    /// where that one does.
    fn pick_uncertain(&self, text: &str, tokens: &[Token], a: &Analysis) -> Vec<Picked> {
        let o = &self.opts;
        let mut picked = Vec::new();
        let mut section_idx = 0;
        for (i, info) in self.slots.iter().enumerate() {
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
                let range = self.syn.alt_range(i);
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
    fn queries(
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
            let info = &self.slots[p.slot];
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

    /// The changes the decodes make, and the restored text.
    fn restoration(&self, text: &str, tokens: &[Token], a: &Analysis) -> Restoration {
        let words = tokens.iter().filter(|t| t.kind == TokenKind::Word).count();
        let (spun, sections, syn) = (&a.spun, &a.sections, &a.syn);
        let mut changes = Vec::new();
        let mut section_idx = 0;
        for (i, info) in self.slots.iter().enumerate() {
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
            let range = self.lattice.alt_range(i);
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
            let mut alts: Vec<(usize, f32)> = (0..range.len()).map(|a| (a, mix(a))).collect();
            alts.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            alts.retain(|&(a, p)| a == chosen || p >= 0.005);
            if let Some(pos) = alts.iter().position(|&(a, _)| a == chosen) {
                let c = alts.remove(pos);
                alts.insert(0, c);
            }
            alts.truncate(self.opts.max_alternatives.max(1));
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
    fn reestimate(&mut self, d: &crate::decode::Decoded) {
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
                let prior = self.prior[alt].exp();
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
            if self.prior[alt] == f32::NEG_INFINITY {
                continue; // ruled out (a numeral, an impossible source): EM must not revive it
            }
            let (m, mg) = mass[&orig];
            let theta = if gamma != 1.0 && mg > 0.0 {
                m * t.powf(gamma) / mg
            } else {
                t
            };
            let extra = self.unary.get(alt).copied().unwrap_or(0.0);
            self.lattice.set_channel(alt, theta.max(1e-9).ln() + extra);
        }
    }

    /// Every alternative of every word slot as (lattice alternative, original
    /// word, spun word); the first alternative of a slot keeps the spun word.
    fn word_alternatives(&self) -> impl Iterator<Item = (usize, u32, u32)> + '_ {
        let lex = &self.model.lexicon;
        self.slots.iter().enumerate().flat_map(move |(i, info)| {
            let spun = match info.kind {
                SlotKind::Word { spun } => Some(spun),
                _ => None,
            };
            let range = if spun.is_some() {
                self.lattice.alt_range(i)
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
    fn sections(
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
        let n = self.slots.len();
        for (i, info) in self.slots.iter().enumerate() {
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
                    self.slots[start_slot].start
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
    fn synonym_sections(
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
        for i in 0..self.slots.len() {
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
    fn synonym_change(
        &self,
        text: &str,
        tokens: &[Token],
        i: usize,
        d: &crate::decode::Decoded,
        p_syn: f32,
    ) -> Option<Change> {
        let info = &self.slots[i];
        if info.syn == u32::MAX {
            return None;
        }
        let best = d.best[i] as usize;
        if best == 0 {
            return None;
        }
        let range = self.syn.alt_range(i);
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
        let mut alts: Vec<(usize, f32)> = (0..range.len()).map(|a| (a, mix(a))).collect();
        alts.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        alts.retain(|&(a, p)| a == best || p >= 0.005);
        if let Some(pos) = alts.iter().position(|&(a, _)| a == best) {
            let c = alts.remove(pos);
            alts.insert(0, c);
        }
        alts.truncate(self.opts.max_alternatives.max(1));
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
    fn syn_alt_text(&self, text: &str, tokens: &[Token], info: &SlotInfo, alt: usize) -> String {
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

    fn relation(&self, info: &SlotInfo, alt: usize) -> String {
        match info.kind {
            SlotKind::Word { spun } if alt > 0 => {
                let c = self.model.lexicon.candidates(spun)[alt - 1];
                c.relation.as_str().to_string()
            }
            SlotKind::Phrase { .. } => "phrase".into(),
            _ => "keep".into(),
        }
    }

    fn alt_text(&self, text: &str, tokens: &[Token], info: &SlotInfo, alt: usize) -> String {
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

    fn build(&mut self, text: &str, tokens: &[Token]) {
        let m = self.model;
        let lex = &m.lexicon;
        let (bos, eos) = (m.lm.bos(), m.lm.eos());
        self.lattice.clear();
        self.clean.clear();
        self.syn.clear();
        self.slots.clear();
        self.prior.clear();
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
                            if self.word_slot(t, i, sid, false) {
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
                            if self.word_slot(t, i, sid, true) {
                                i += 1;
                                continue;
                            }
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
    fn fill_cache(&mut self, text: &str, tokens: &[Token]) {
        self.cache.clear();
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
                *self.cache.entry(id).or_default() += 1.0;
            }
        }
    }

    fn boundary(&mut self, at: usize, tok: usize, bos: WordId, eos: WordId) {
        if !self.slots.is_empty() {
            self.fixed(at, at, tok, &[eos, bos]);
        }
    }

    fn fixed(&mut self, start: usize, end: usize, tok: usize, ids: &[WordId]) {
        self.lattice.push_fixed(ids);
        self.prior.push(0.0);
        self.clean.push_fixed(ids);
        self.syn.push_fixed(ids);
        self.slots.push(SlotInfo {
            start,
            end,
            first_token: tok,
            kind: SlotKind::Fixed,
            syn: u32::MAX,
        });
    }

    /// Adds a slot for a bare number the spinner may have written for a word.
    fn digit_slot(&mut self, text: &str, t: Token, tok: usize, sid: u32) -> bool {
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

    /// Adds a slot for a bare word the lexicon knows (lowercase, or a
    /// capitalized sentence start); false if it has no candidates.
    fn word_slot(&mut self, t: Token, tok: usize, sid: u32, capitalized: bool) -> bool {
        let m = self.model;
        let lex = &m.lexicon;
        let cands = lex.candidates(sid);
        if cands.is_empty() {
            return false;
        }
        let keep_id = m.lm_id_of_lex(sid);
        let cap = self.opts.capitalized_replace_prob;
        let replaced = if capitalized {
            cap
        } else {
            lex.replace_prob(sid)
        };
        let mut keep_ln = (1.0 - replaced).max(1e-6).ln();
        if let Some(&n) = self.cache.get(&sid) {
            keep_ln += self.opts.cache_weight * (1.0 + n).ln();
        }
        let cache_weight = self.opts.cache_weight;
        self.candidate_slot(t, tok, sid, keep_id, keep_ln, |cache, c| {
            if m.is_numeral(c.original) {
                return f32::NEG_INFINITY;
            }
            let p = match lex.replace_prob(c.original) {
                p if capitalized && p > 0.0 => cap,
                p => p,
            };
            let mut ln = if p > 0.0 {
                p.ln() + c.ln_prob
            } else {
                f32::NEG_INFINITY
            };
            if let Some(&n) = cache.get(&c.original) {
                ln += cache_weight * (1.0 + n).ln();
            }
            ln
        });
        true
    }

    /// Pushes a slot for spun word `sid`: "keep" (read as `keep_id`) and the
    /// lexicon's best candidates, each scored by `channel`. The clean
    /// hypothesis reads the slot as `keep_id` too.
    fn candidate_slot(
        &mut self,
        t: Token,
        tok: usize,
        sid: u32,
        keep_id: WordId,
        keep_ln: f32,
        channel: impl Fn(&FxHashMap<u32, f32>, &crate::lexicon::Candidate) -> f32,
    ) {
        let m = self.model;
        self.lattice.begin_slot();
        self.lattice.push_alt(&[keep_id], keep_ln);
        self.prior.push(keep_ln);
        for c in m
            .lexicon
            .candidates(sid)
            .iter()
            .take(self.opts.max_candidates)
        {
            let ln = channel(&self.cache, c);
            self.lattice.push_alt(&[m.lm_id_of_lex(c.original)], ln);
            self.prior.push(ln);
        }
        self.clean.push_fixed(&[keep_id]);
        let syn = self.syn_slot(sid, keep_id);
        self.slots.push(SlotInfo {
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
    fn plain_word(&mut self, t: Token, tok: usize, id: WordId, sid: u32) {
        self.lattice.push_fixed(&[id]);
        self.prior.push(0.0);
        self.clean.push_fixed(&[id]);
        let syn = self.syn_slot(sid, id);
        self.slots.push(SlotInfo {
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
    fn syn_slot(&mut self, sid: u32, keep_id: WordId) -> u32 {
        let m = self.model;
        let r = self.opts.synonym_rate;
        let cands = m.lexicon.synonym_candidates(sid);
        if r <= 0.0 || cands.is_empty() {
            self.syn.push_fixed(&[keep_id]);
            return u32::MAX;
        }
        self.syn.begin_slot();
        self.syn.push_alt(&[keep_id], (1.0 - r).ln());
        // Five synonyms keep nearly all the gain of eight (measured on a dev
        // slice) at two thirds of the decoding cost.
        for c in cands.iter().take(self.opts.max_candidates.min(5)) {
            let ln = if m.is_numeral(c.original) {
                f32::NEG_INFINITY
            } else {
                r.ln() + c.ln_prob
            };
            self.syn.push_alt(&[m.lm_id_of_lex(c.original)], ln);
        }
        sid
    }

    fn phrase_slot(
        &mut self,
        text: &str,
        tokens: &[Token],
        first: usize,
        last: usize,
        phrase: usize,
    ) {
        let m = self.model;
        let p = &m.lexicon.phrases()[phrase];
        self.ids.clear();
        for t in &tokens[first..=last] {
            if t.kind == TokenKind::Word {
                self.ids.push(m.lm_id(t.text(text)));
            }
        }
        let orig: Vec<WordId> = p.original.iter().map(|w| m.lm_id(w)).collect();
        // The rewrite is deterministic, so the literal phrase is rarely an original.
        self.lattice.begin_slot();
        self.lattice.push_alt(&self.ids, 0.05f32.ln());
        self.lattice.push_alt(&orig, 0.95f32.ln());
        self.prior.extend([0.05f32.ln(), 0.95f32.ln()]);
        self.clean.push_fixed(&self.ids);
        self.syn.push_fixed(&self.ids);
        self.slots.push(SlotInfo {
            start: tokens[first].start,
            end: tokens[last].end,
            first_token: first,
            kind: SlotKind::Phrase { phrase },
            syn: u32::MAX,
        });
    }
}

fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
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

/// Gives `word` the capitalization pattern of `like`.
pub fn match_case(like: &str, word: &str) -> String {
    let mut chars = like.chars();
    let first_upper = chars.next().is_some_and(|c| c.is_uppercase());
    let letters: Vec<char> = like.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() > 1 && letters.iter().all(|c| c.is_uppercase()) {
        word.to_uppercase()
    } else if first_upper {
        let mut c = word.chars();
        match c.next() {
            Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
            None => String::new(),
        }
    } else {
        word.to_string()
    }
}

/// Writes `text` with the applied changes; every other byte is copied as is.
pub fn apply(text: &str, changes: &[Change]) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut at = 0;
    for c in changes.iter().filter(|c| c.applied) {
        out.push_str(&text[at..c.start]);
        out.push_str(&c.original);
        at = c.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_follows_the_input() {
        assert_eq!(match_case("Successful", "in"), "In");
        assert_eq!(match_case("ARSENIC", "as"), "AS");
        assert_eq!(match_case("helium", "he"), "he");
        assert_eq!(match_case("A", "an"), "An");
    }
}
