//! The detector's scoring pass (see the module docs of [`super`]): tokens
//! to a language-model stream with sentence boundaries and *sites* (words
//! or phrases a spinner could have written), candidate originals of the
//! surprising sites, one batched language-model call for every query of the
//! text, per-site log-likelihood ratios and posteriors, and their sums per
//! section. Kept apart from [`super::Detector`]'s public methods because it
//! is the hot loop: its buffers ([`Work`]) live per thread and are reused.

use super::{DetectOptions, Detection, Detector, Sums, WordScore, LN10};
use crate::lexicon::is_spun_form;
use crate::lm::WordId;
use crate::restore::match_case;
use crate::rules::Relation;
use crate::stats::sigmoid;
use crate::token::{tokenize, Token, TokenKind};
use crate::wordnet::{regular_spellings, Inflection};

/// A scored site: a word (or phrase) that may be a spinner's substitution.
#[derive(Clone, Copy, Debug)]
struct Site {
    start: u32,
    end: u32,
    /// Stream position of its (first) word.
    pos: u32,
    /// Words it covers in the stream.
    span: u32,
    /// LM id of the written word.
    lm: WordId,
    /// Lexicon entry scored under the news hypothesis (bare lowercase words), or NONE.
    news: u32,
    /// Lexicon entry of the written form (lowercased) with synonyms, or NONE.
    syn: u32,
    /// Lexicon entry of the base of an inflected form (with synonyms), or NONE.
    base: u32,
    sfx: Suffix,
    /// Phrase rewrite index, or NONE.
    phrase: u32,
    /// Whether the site counts under the synonym hypothesis.
    syn_site: bool,
    /// Alternatives: range into `Work::alts`.
    alts: (u32, u32),
}

const NONE: u32 = u32::MAX;
/// A site's base form not looked up yet.
const PENDING: u32 = u32::MAX - 1;

/// Ends like a regular plural, past or present participle.
fn inflected_shape(lower: &str) -> bool {
    (lower.ends_with('s') && !lower.ends_with("ss") && !lower.ends_with("us"))
        || lower.ends_with("ed")
        || lower.ends_with("ing")
}

/// A candidate original at a site, with its language-model queries.
#[derive(Clone, Copy, Debug)]
struct Alt {
    lm: WordId,
    news_ln: f32,
    syn: bool,
    syn_ln: f32,
    relation: Relation,
    /// First of its queries in `Work::queries`, and their count.
    q: u32,
    nq: u32,
}

/// Per-site results of the scoring pass.
#[derive(Clone, Copy, Debug, Default)]
struct SiteScore {
    news_llr: f32,
    news_post: f32,
    syn_llr: f32,
    syn_post: f32,
    ctx_llr: f32,
    best_alt: u32,
    /// Language-model gain of the best alternative over the written word (nats, unweighted).
    gain: f32,
    rarity: f32,
}

/// Reusable buffers of one scoring pass.
#[derive(Default)]
pub(super) struct Work {
    tokens: Vec<Token>,
    /// LM ids of the text as written, with `<s>`/`</s>` around sentences.
    stream: Vec<WordId>,
    /// log10 p(stream[j] | stream[j-2], stream[j-1]) (0 for `<s>` and the two starting slots).
    keep: Vec<f32>,
    sites: Vec<Site>,
    alts: Vec<Alt>,
    queries: Vec<[WordId; 3]>,
    out: Vec<f32>,
    scores: Vec<SiteScore>,
    /// Sentence starts: (stream position, byte offset).
    boundaries: Vec<(u32, u32)>,
    infl: String,
}

thread_local! {
    pub(super) static WORK: std::cell::RefCell<Work> = std::cell::RefCell::new(Work::default());
}

/// Suffix classes for re-inflecting a synonym like the written word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Suffix {
    S,
    Ed,
    Ing,
}

impl Detector<'_> {
    /// Work counts of the fast pass on `text`: (stream positions, sites,
    /// candidates, language-model queries), for tuning.
    #[doc(hidden)]
    pub fn pass_counts(&self, text: &str) -> (usize, usize, usize, usize) {
        WORK.with(|w| {
            let mut w = w.borrow_mut();
            self.pass(text, &mut w);
            (
                w.stream.len(),
                w.sites.len(),
                w.alts.len(),
                w.queries.len() + w.stream.len(),
            )
        })
    }

    /// Per-word probabilities: the word's posterior under the hypothesis
    /// that explains its section better, times the section's probability.
    pub(super) fn word_scores(
        &self,
        text: &str,
        w: &Work,
        secs: &[(usize, usize, Sums)],
        det: &mut Detection,
        opts: &DetectOptions,
    ) {
        let lm = &self.model.lm;
        let mut all = Vec::new();
        let mut si = 0;
        for (k, site) in w.sites.iter().enumerate() {
            let sc = &w.scores[k];
            if sc.best_alt == NONE {
                continue;
            }
            while si + 1 < secs.len() && secs[si].1 <= site.start as usize {
                si += 1;
            }
            let sec = &secs[si].2;
            let p_sec = det.sections[si].prob;
            // The news hypothesis explains the section when its likelihood ratio is positive.
            let w_news = sigmoid(sec.news_llr);
            let post = w_news * sc.news_post + (1.0 - w_news) * sc.syn_post;
            let (model, llr) = if w_news >= 0.5 {
                ("news", sc.news_llr)
            } else {
                ("synonym", sc.syn_llr)
            };
            let alt = w.alts[sc.best_alt as usize];
            let written = &text[site.start as usize..site.end as usize];
            let original = if site.phrase != NONE {
                self.model.lexicon.phrases()[site.phrase as usize]
                    .original
                    .join(" ")
            } else {
                lm.word(alt.lm).to_string()
            };
            all.push(WordScore {
                start: site.start as usize,
                end: site.end as usize,
                text: written.to_string(),
                prob: p_sec * post,
                original: match_case(written, &original),
                relation: alt.relation.as_str().to_string(),
                model,
                rarity: sc.rarity,
                lm_gain: sc.gain,
                llr,
            });
        }
        let mut ev: Vec<&WordScore> = all.iter().filter(|s| s.llr > 0.0).collect();
        ev.sort_by(|a, b| super::stream::evidence_order(a, b));
        det.evidence = ev.into_iter().take(opts.evidence).cloned().collect();
        det.flagged = all
            .into_iter()
            .filter(|s| s.prob >= opts.word_floor)
            .collect();
    }

    /// Sections (cut at the first sentence start after `section_words`
    /// words; a tail of under half that joins the previous section) with their sums.
    pub(super) fn aggregate(&self, text: &str, w: &Work) -> (Sums, Vec<(usize, usize, Sums)>) {
        let p = &self.parts.calib.params;
        let strong = p.strong_llr;
        let (bos, eos) = (self.model.lm.bos(), self.model.lm.eos());
        let mut secs: Vec<(usize, usize, Sums)> = Vec::new();
        let mut cur = Sums::default();
        let mut start = 0usize;
        let mut si = 0usize;
        let mut words = 0usize;
        let mut last = 0u32;
        let n_sites = w.sites.len();
        // A synonym spinner draws anew at every token, so one written type
        // repeated through a text is a term of its register ("types",
        // "headers", "licensee"), not a string of separate draws: each
        // type's synonym evidence counts once, as the mean over its tokens.
        let unk = self.model.lm.unk();
        let mut repeats: rustc_hash::FxHashMap<WordId, u32> = Default::default();
        for s in w.sites.iter().filter(|s| s.syn_site && s.lm != unk) {
            *repeats.entry(s.lm).or_default() += 1;
        }
        // Words of a list or an index (lines of under four words) have no
        // context to weigh, so they give no synonym evidence.
        let short = crate::token::short_lines(text);
        let add_sites = |pos: u32, cur: &mut Sums, si: &mut usize| {
            while *si < n_sites && w.sites[*si].pos < pos {
                let s = &w.sites[*si];
                let sc = &w.scores[*si];
                let share = match repeats.get(&s.lm) {
                    _ if crate::token::on_short_line(&short, s.start as usize) => 0.0,
                    Some(&n) if s.lm != unk => 1.0 / n as f32,
                    _ => 1.0,
                };
                if s.news != NONE || s.phrase != NONE {
                    cur.news_sites += 1.0;
                    cur.news_llr += sc.news_llr;
                    if sc.news_llr > strong {
                        cur.news_strong += 1.0;
                    }
                }
                if s.syn_site {
                    cur.syn_sites += 1.0;
                    cur.syn_llr += share * sc.syn_llr;
                    if sc.syn_llr > strong {
                        cur.syn_strong += share;
                    }
                    cur.ctx_llr += share * sc.ctx_llr;
                    if sc.ctx_llr > strong {
                        cur.ctx_strong += share;
                    }
                }
                if (sc.news_llr > strong || sc.syn_llr > strong) && sc.rarity < -5.0 {
                    cur.rare_strong += 1.0;
                }
                *si += 1;
            }
        };
        for &(pos, byte) in &w.boundaries {
            words += word_count_between(&w.stream, last, pos, bos, eos);
            last = pos;
            if words >= p.section_words {
                cur.words = words as f32;
                add_sites(pos, &mut cur, &mut si);
                secs.push((start, byte as usize, cur));
                cur = Sums::default();
                start = byte as usize;
                words = 0;
            }
        }
        words += word_count_between(&w.stream, last, w.stream.len() as u32, bos, eos);
        cur.words = words as f32;
        add_sites(u32::MAX, &mut cur, &mut si);
        if secs.is_empty() || words * 2 >= p.section_words {
            secs.push((start, text.len(), cur));
        } else {
            let prev = secs.last_mut().expect("non-empty");
            prev.1 = text.len();
            prev.2.add(&cur);
        }
        let mut doc = Sums::default();
        for s in &secs {
            doc.add(&s.2);
        }
        (doc, secs)
    }

    /// The scoring pass: tokens, LM stream and sites; the text as written;
    /// candidates in its place; per-site scores.
    pub(super) fn pass(&self, text: &str, w: &mut Work) {
        self.pass_until(text, w, &crate::Cancel::never())
            .expect("work that is never cancelled returns")
    }

    /// [`Self::pass`], checking `cancel` between its stages.
    pub(super) fn pass_until(
        &self,
        text: &str,
        w: &mut Work,
        cancel: &crate::Cancel,
    ) -> Result<(), crate::Error> {
        cancel.check()?;
        self.build(text, w);
        cancel.check()?;
        let lm = &self.model.lm;
        let n = w.stream.len();
        w.queries.clear();
        for j in 2..n {
            w.queries
                .push([w.stream[j - 2], w.stream[j - 1], w.stream[j]]);
        }
        w.out.clear();
        w.out.resize(w.queries.len(), 0.0);
        lm.log10_prob_many(&w.queries, &mut w.out);
        w.keep.clear();
        w.keep.resize(n, 0.0);
        let bos = lm.bos();
        for j in 2..n {
            if w.stream[j] != bos {
                w.keep[j] = w.out[j - 2];
            }
        }
        cancel.check()?;
        self.add_alts(text, w);
        cancel.check()?;
        w.out.clear();
        w.out.resize(w.queries.len(), 0.0);
        lm.log10_prob_many(&w.queries, &mut w.out);
        cancel.check()?;
        self.score_sites(w);
        Ok(())
    }

    /// Tokens -> LM stream, sentence boundaries and sites (without candidates).
    fn build(&self, text: &str, w: &mut Work) {
        let lm = &self.model.lm;
        let (bos, eos, unk) = (lm.bos(), lm.eos(), lm.unk());
        let tokens = std::mem::take(&mut w.tokens);
        let tokens = {
            let mut t = tokens;
            t.clear();
            t.extend(tokenize(text));
            t
        };
        w.stream.clear();
        w.sites.clear();
        w.alts.clear();
        w.boundaries.clear();
        w.stream.push(bos);
        w.stream.push(bos);
        let mut pending = false;
        let mut i = 0;
        while i < tokens.len() {
            let tk = tokens[i];
            match tk.kind {
                TokenKind::Word | TokenKind::Number => {
                    if pending {
                        if w.stream.len() > 2 {
                            w.stream.push(eos);
                            w.boundaries.push((w.stream.len() as u32, tk.start as u32));
                            w.stream.push(bos);
                        }
                        pending = false;
                    }
                    let word = tk.text(text);
                    let pos = w.stream.len() as u32;
                    if tk.bare {
                        if let Some(list) = self.parts.tables.phrase_first.get(word) {
                            if let Some((ph, last)) = self.match_phrase(text, &tokens, i, list) {
                                let mut span = 0;
                                for tj in &tokens[i..=last] {
                                    if tj.kind == TokenKind::Word {
                                        w.stream.push(lm.id(tj.text(text)).unwrap_or(unk));
                                        span += 1;
                                    }
                                }
                                w.sites.push(Site {
                                    start: tk.start as u32,
                                    end: tokens[last].end as u32,
                                    pos,
                                    span,
                                    lm: unk,
                                    news: NONE,
                                    syn: NONE,
                                    base: NONE,
                                    sfx: Suffix::S,
                                    phrase: ph as u32,
                                    syn_site: false,
                                    alts: (0, 0),
                                });
                                i = last + 1;
                                continue;
                            }
                        }
                    }
                    let id = self.add_word(word, tk, pos, w);
                    w.stream.push(id);
                }
                TokenKind::Punct => {
                    if matches!(tk.text(text), "." | "!" | "?" | ";" | ":") {
                        pending = true;
                    }
                }
                TokenKind::Space => {
                    if tk.text(text).bytes().filter(|&b| b == b'\n').count() >= 2 {
                        pending = true;
                    }
                }
                TokenKind::Tag | TokenKind::Code => pending = true,
                TokenKind::Url | TokenKind::Email => w.stream.push(unk),
            }
            i += 1;
        }
        w.tokens = tokens;
        w.stream.push(eos);
    }

    fn match_phrase(
        &self,
        text: &str,
        tokens: &[Token],
        i: usize,
        list: &[usize],
    ) -> Option<(usize, usize)> {
        let phrases = self.model.lexicon.phrases();
        list.iter().find_map(|&pi| {
            crate::restore::phrase_at(&phrases[pi], text, tokens, i).map(|last| (pi, last))
        })
    }

    /// Looks a word up, records its site if it has one, and returns its LM id.
    fn add_word(&self, word: &str, tk: Token, pos: u32, w: &mut Work) -> WordId {
        let m = self.model;
        let lm = &m.lm;
        let t = &self.parts.tables;
        let unk = lm.unk();
        let bytes = word.as_bytes();
        let lower_as_written = is_spun_form(word);
        let capitalized = !lower_as_written
            && bytes.len() > 1
            && bytes[0].is_ascii_uppercase()
            && bytes[1..].iter().all(|b| b.is_ascii_lowercase());
        let mut buf = [0u8; 40];
        let owned: String;
        let lower: &str = if lower_as_written {
            word
        } else if word.is_ascii() && word.len() <= buf.len() {
            buf[..word.len()].copy_from_slice(bytes);
            buf[..word.len()].make_ascii_lowercase();
            std::str::from_utf8(&buf[..word.len()]).expect("ASCII")
        } else {
            owned = word.to_lowercase();
            &owned
        };
        let lm_id = lm.id(lower).unwrap_or(unk);
        let news_ok = tk.bare && lower_as_written;
        let syn_ok = tk.kind == TokenKind::Word
            && (capitalized || lower_as_written)
            && lower.bytes().all(|b| b.is_ascii_lowercase())
            && !t.stop.contains(lower);
        if !news_ok && !syn_ok {
            return lm_id;
        }
        let lex_id = if lm_id != unk {
            t.lm_to_lex[lm_id as usize]
        } else {
            m.lexicon.id(lower).unwrap_or(NONE)
        };
        let (mut news, mut syn) = (NONE, NONE);
        if lex_id != NONE {
            let e = t.entries[lex_id as usize];
            if news_ok && e.news_site {
                news = lex_id;
            }
            if syn_ok && e.n_syn > 0 {
                syn = lex_id;
            }
        }
        // An inflected form's base is looked up later, and only if the word is surprising.
        let base = if syn_ok && lower.len() >= 4 && inflected_shape(lower) {
            PENDING
        } else {
            NONE
        };
        if news != NONE || syn != NONE || base != NONE {
            w.sites.push(Site {
                start: tk.start as u32,
                end: tk.end as u32,
                pos,
                span: 1,
                lm: lm_id,
                news,
                syn,
                base,
                sfx: Suffix::S,
                phrase: NONE,
                syn_site: syn_ok,
                alts: (0, 0),
            });
        }
        lm_id
    }

    /// The lexicon entry (with synonyms) of the base of a regularly inflected form.
    fn base_form(&self, lower: &str, buf: &mut String) -> Option<(u32, Suffix)> {
        let b = lower.as_bytes();
        let n = b.len();
        let mut tries: [(usize, &str, Suffix); 3] = [(0, "", Suffix::S); 3];
        let mut k = 0;
        let mut push = |cut: usize, add: &'static str, s: Suffix| {
            if k < 3 && cut >= 3 {
                tries[k] = (cut, add, s);
                k += 1;
            }
        };
        if lower.ends_with("ies") {
            push(n - 3, "y", Suffix::S);
        } else if lower.ends_with("es") {
            push(n - 1, "", Suffix::S);
            push(n - 2, "", Suffix::S);
        } else if lower.ends_with('s') && !lower.ends_with("ss") && !lower.ends_with("us") {
            push(n - 1, "", Suffix::S);
        } else if lower.ends_with("ied") {
            push(n - 3, "y", Suffix::Ed);
        } else if lower.ends_with("ed") {
            push(n - 1, "", Suffix::Ed);
            push(n - 2, "", Suffix::Ed);
            if n >= 5 && b[n - 3] == b[n - 4] {
                push(n - 3, "", Suffix::Ed);
            }
        } else if lower.ends_with("ing") {
            push(n - 3, "", Suffix::Ing);
            push(n - 3, "e", Suffix::Ing);
            if n >= 6 && b[n - 4] == b[n - 5] {
                push(n - 4, "", Suffix::Ing);
            }
        } else {
            return None;
        }
        for &(cut, add, sfx) in &tries[..k] {
            buf.clear();
            buf.push_str(&lower[..cut]);
            buf.push_str(add);
            if let Some(id) = self.model.lexicon.id(buf) {
                if self.parts.tables.entries[id as usize].n_syn > 0 {
                    return Some((id, sfx));
                }
            }
        }
        None
    }

    /// Candidates of every site and their language-model queries.
    fn add_alts(&self, text: &str, w: &mut Work) {
        let lm = &self.model.lm;
        let t = &self.parts.tables;
        let p = &self.parts.calib.params;
        let (eos, unk) = (lm.eos(), lm.unk());
        let n = w.stream.len();
        w.queries.clear();
        w.alts.clear();
        for si in 0..w.sites.len() {
            let site = w.sites[si];
            let pos = site.pos as usize;
            let a0 = w.alts.len() as u32;
            if site.phrase != NONE {
                let ids = &t.phrase_ids[site.phrase as usize];
                let q = w.queries.len() as u32;
                let (mut h2, mut h1) = (w.stream[pos - 2], w.stream[pos - 1]);
                for &id in ids {
                    w.queries.push([h2, h1, id]);
                    (h2, h1) = (h1, id);
                }
                let mut j = pos + site.span as usize;
                let mut extra = 0;
                while j < n && extra < p.context_after.max(1) {
                    let x = w.stream[j];
                    w.queries.push([h2, h1, x]);
                    if x == eos {
                        break;
                    }
                    (h2, h1) = (h1, x);
                    j += 1;
                    extra += 1;
                }
                w.alts.push(Alt {
                    lm: ids.first().copied().unwrap_or(unk),
                    news_ln: 0.95f32.ln(),
                    syn: false,
                    syn_ln: 0.0,
                    relation: Relation::Phrase,
                    q,
                    nq: w.queries.len() as u32 - q,
                });
                w.sites[si].alts = (a0, w.alts.len() as u32);
                continue;
            }
            if site.news != NONE && w.keep[pos] + w.keep[pos + 1] < p.news_surprise {
                let live = t
                    .cands_of(site.news)
                    .iter()
                    .filter(|c| c.news_ln.is_finite());
                for c in live.take(p.max_candidates) {
                    w.alts.push(Alt {
                        lm: c.lm,
                        news_ln: c.news_ln,
                        syn: c.syn && site.syn_site,
                        syn_ln: c.syn_ln,
                        relation: c.relation,
                        q: 0,
                        nq: 0,
                    });
                }
            }
            if site.syn_site && w.keep[pos] < p.synonym_surprise {
                let mut k = w.alts[a0 as usize..].iter().filter(|a| a.syn).count();
                if site.syn != NONE {
                    for c in t.cands_of(site.syn) {
                        if k >= p.synonym_candidates {
                            break;
                        }
                        if !c.syn || w.alts[a0 as usize..].iter().any(|a| a.lm == c.lm) {
                            continue;
                        }
                        k += 1;
                        w.alts.push(Alt {
                            lm: c.lm,
                            news_ln: f32::NEG_INFINITY,
                            syn: true,
                            syn_ln: c.syn_ln,
                            relation: c.relation,
                            q: 0,
                            nq: 0,
                        });
                    }
                }
                let mut site = site;
                if site.base == PENDING {
                    let word = &text[site.start as usize..site.end as usize];
                    let mut buf = [0u8; 40];
                    site.base = NONE;
                    if word.is_ascii() && word.len() <= buf.len() {
                        buf[..word.len()].copy_from_slice(word.as_bytes());
                        buf[..word.len()].make_ascii_lowercase();
                        let lower = std::str::from_utf8(&buf[..word.len()]).expect("ASCII");
                        if let Some((b, sfx)) = self.base_form(lower, &mut w.infl) {
                            site.base = b;
                            site.sfx = sfx;
                        }
                    }
                    w.sites[si].base = site.base;
                    w.sites[si].sfx = site.sfx;
                }
                if site.base != NONE {
                    for c in t.cands_of(site.base) {
                        if k >= p.synonym_candidates {
                            break;
                        }
                        if !c.syn {
                            continue;
                        }
                        let Some(id) =
                            inflect(self.model.lexicon.word(c.lex), site.sfx, &mut w.infl, |s| {
                                lm.id(s)
                            })
                        else {
                            continue;
                        };
                        if id == site.lm || w.alts[a0 as usize..].iter().any(|a| a.lm == id) {
                            continue;
                        }
                        k += 1;
                        w.alts.push(Alt {
                            lm: id,
                            news_ln: f32::NEG_INFINITY,
                            syn: true,
                            syn_ln: c.syn_ln,
                            relation: c.relation,
                            q: 0,
                            nq: 0,
                        });
                    }
                }
            }
            let a1 = w.alts.len() as u32;
            for a in a0..a1 {
                let c = w.alts[a as usize].lm;
                let q = w.queries.len() as u32;
                w.queries.push([w.stream[pos - 2], w.stream[pos - 1], c]);
                let n1 = w.stream[pos + 1];
                w.queries.push([w.stream[pos - 1], c, n1]);
                if p.context_after >= 2 && n1 != eos && pos + 2 < n {
                    w.queries.push([c, n1, w.stream[pos + 2]]);
                }
                let alt = &mut w.alts[a as usize];
                alt.q = q;
                alt.nq = w.queries.len() as u32 - q;
            }
            w.sites[si].alts = (a0, a1);
        }
    }

    /// Log-likelihood ratios and posteriors of every site.
    fn score_sites(&self, w: &mut Work) {
        let lm = &self.model.lm;
        let p = &self.parts.calib.params;
        let eos = lm.eos();
        let n = w.stream.len();
        let lam_news = p.lm_weight * LN10;
        let lam_syn = p.synonym_lm_weight * LN10;
        let syn_odds = p.synonym_prior / (1.0 - p.synonym_prior);
        let after = p.context_after.max(1);
        w.scores.clear();
        for site in &w.sites {
            let pos = site.pos as usize;
            // The written words and the next two (up to a sentence end).
            let mut keep = 0.0f32;
            let end = pos + site.span as usize;
            let mut j = pos;
            while j < n {
                keep += w.keep[j];
                if j >= end && (w.stream[j] == eos || j + 1 - end >= after) {
                    break;
                }
                j += 1;
            }
            let (mut news_terms, mut syn_terms, mut ctx_terms) = (0.0f32, 0.0f32, 0.0f32);
            let uni = &self.parts.tables.unigram;
            let u_s = uni.get(site.lm as usize).copied().unwrap_or(-7.0);
            let (mut best, mut best_val, mut best_gain) = (NONE, f32::NEG_INFINITY, 0.0f32);
            for a in site.alts.0..site.alts.1 {
                let alt = w.alts[a as usize];
                let s: f32 = w.out[alt.q as usize..(alt.q + alt.nq) as usize]
                    .iter()
                    .sum();
                let d = s - keep;
                let news_v = alt.news_ln + d * lam_news;
                let syn_v = if alt.syn {
                    alt.syn_ln + d * lam_syn
                } else {
                    f32::NEG_INFINITY
                };
                if news_v.is_finite() {
                    news_terms += news_v.min(60.0).exp();
                }
                if syn_v.is_finite() {
                    syn_terms += syn_v.min(60.0).exp();
                    let d_ctx = d - (uni.get(alt.lm as usize).copied().unwrap_or(-7.0) - u_s);
                    ctx_terms += (alt.syn_ln + d_ctx * lam_syn).min(60.0).exp();
                }
                let v = news_v.max(syn_v);
                if v > best_val {
                    (best, best_val, best_gain) = (a, v, d * LN10);
                }
            }
            let mut sc = SiteScore {
                best_alt: best,
                gain: best_gain,
                rarity: if site.phrase != NONE || site.lm == lm.unk() {
                    -99.0
                } else {
                    self.parts.tables.unigram[site.lm as usize]
                },
                ..SiteScore::default()
            };
            if site.phrase != NONE || site.news != NONE {
                let keep_p = if site.phrase != NONE {
                    0.05
                } else {
                    self.parts.tables.entries[site.news as usize].keep_ln.exp()
                };
                let z = keep_p + news_terms;
                sc.news_llr = z.ln();
                sc.news_post = news_terms / z;
            }
            if site.syn_site {
                let r = syn_odds * syn_terms;
                sc.syn_llr = r.ln_1p().min(p.synonym_cap);
                sc.syn_post = r / (1.0 + r);
                sc.ctx_llr = (syn_odds * ctx_terms).ln_1p().min(p.synonym_cap);
            }
            w.scores.push(sc);
        }
    }
}

/// Counts word positions in `stream[from..to]` (everything but sentence markers).
fn word_count_between(stream: &[WordId], from: u32, to: u32, bos: WordId, eos: WordId) -> usize {
    stream[from as usize..to as usize]
        .iter()
        .filter(|&&x| x != bos && x != eos)
        .count()
}

/// Inflects a base form like a written word's suffix class: the first of
/// its regular spellings (`wordnet::regular_spellings`) that the model knows.
fn inflect(
    base: &str,
    sfx: Suffix,
    buf: &mut String,
    known: impl Fn(&str) -> Option<WordId>,
) -> Option<WordId> {
    let infl = match sfx {
        Suffix::S => Inflection::Plural,
        Suffix::Ed => Inflection::Past,
        Suffix::Ing => Inflection::PresentParticiple,
    };
    regular_spellings(base, infl, buf, known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflection_rules() {
        let mut buf = String::new();
        let known = |s: &str| {
            ["runs", "carried", "making", "boxes", "stopped"]
                .iter()
                .position(|k| *k == s)
                .map(|i| i as WordId)
        };
        assert_eq!(inflect("run", Suffix::S, &mut buf, known), Some(0));
        assert_eq!(inflect("carry", Suffix::Ed, &mut buf, known), Some(1));
        assert_eq!(inflect("make", Suffix::Ing, &mut buf, known), Some(2));
        assert_eq!(inflect("box", Suffix::S, &mut buf, known), Some(3));
        assert_eq!(inflect("stop", Suffix::Ed, &mut buf, known), Some(4));
        assert_eq!(inflect("walk", Suffix::Ed, &mut buf, known), None);
    }
}
