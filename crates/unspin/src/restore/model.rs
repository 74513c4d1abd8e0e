//! The restore model: the language model and the lexicon joined by one
//! word-id mapping, with the optional WordNet and phrase model.

use crate::decode::{Scorer, WordId};
use crate::lexicon::Lexicon;
use crate::lm::LanguageModel;
use crate::wordnet::WordNet;

/// The language model and the lexicon, with the word-id mapping between them.
pub struct Model {
    /// Trigram language model.
    pub lm: LanguageModel,
    /// Channel model.
    pub lexicon: Lexicon,
    pub(super) lex_to_lm: Vec<WordId>,
    /// Lexicon ids that are numbers in any spelling (digits, roman numerals,
    /// number words): never proposed as originals of a word ("34" is not
    /// restored to "xxxiv", nor "C" to "hundred"); only the digit slots of
    /// text that shows a digit-writing spinner restore "2" to "two".
    pub(super) numeral: Vec<bool>,
    /// WordNet, for the synonym sweep of the best mode ([`crate::Quality::Best`]) (absent: no sweep).
    pub(super) wordnet: Option<WordNet>,
    /// Tortured phrases, listed and unlisted (absent: none looked for).
    pub(super) phrases: Option<crate::tortured::PhraseModel>,
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

    /// The same model over another lexicon (a benchmark's held-out one),
    /// keeping WordNet and the phrase model.
    pub fn with_lexicon(self, lexicon: Lexicon) -> Self {
        let Model {
            lm,
            wordnet,
            phrases,
            ..
        } = self;
        Model {
            wordnet,
            phrases,
            ..Model::new(lm, lexicon)
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

    pub(crate) fn lm_id_of_lex(&self, id: u32) -> WordId {
        self.lex_to_lm[id as usize]
    }

    /// Whether lexicon word `id` is a number in any spelling.
    pub(crate) fn is_numeral(&self, id: u32) -> bool {
        self.numeral[id as usize]
    }

    pub(super) fn lm_id(&self, lower: &str) -> WordId {
        self.lm.id(lower).unwrap_or(self.lm.unk())
    }
}

/// The trigram model in natural-log units, as the decoder wants it.
pub(super) struct LmScorer<'a>(pub(super) &'a LanguageModel);

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
