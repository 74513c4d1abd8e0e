//! Hooks for the best mode ([`crate::Quality::Best`]): rescoring uncertain word choices with a
//! language model that sees the whole context (a neural model in
//! `unspin-neural`; the core library has no neural code and never needs it).
//!
//! The restorer decodes the lattice with the trigram model as usual, picks
//! the slots whose posterior margin is small, and asks a [`ContextScorer`]
//! how well each of their top alternatives fits the text around it. The
//! answer is combined with the lattice's own evidence (see
//! [`crate::restore::Restorer::restore_best`]).

/// Which restorer runs: the trigram lattice alone, or with context rescoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Quality {
    /// Trigram lattice only (embedded model, fast).
    #[default]
    Default,
    /// Uncertain slots rescored by a context scorer (the neural model).
    Best,
}

impl std::str::FromStr for Quality {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "default" => Ok(Quality::Default),
            "best" => Ok(Quality::Best),
            _ => Err(crate::Error::Input(format!(
                "unknown quality `{s}` (expected `default` or `best`)"
            ))),
        }
    }
}

/// One word choice to score in context.
#[derive(Clone, Debug, PartialEq)]
pub struct ContextQuery {
    /// Byte offset of the span in the text given to [`ContextScorer::score`].
    pub start: usize,
    /// Byte offset one past the span.
    pub end: usize,
    /// The texts the span could hold; `candidates[base]` is what it holds now.
    pub candidates: Vec<String>,
    /// Index of the candidate equal to the text's current span.
    pub base: usize,
}

/// A language model that scores word choices with the whole left context
/// and a few words of right context.
pub trait ContextScorer: Send + Sync {
    /// For every query and each of its candidates: ln p(the candidate, then
    /// the next few tokens of `text` | the text before the span). Queries
    /// are sorted by `start` and do not overlap; while one query's
    /// candidates are scored, every other span reads as `text` has it.
    fn score(&self, text: &str, queries: &[ContextQuery]) -> Result<Vec<Vec<f32>>, crate::Error>;

    /// Like [`ContextScorer::score`], with a say in how much is computed: a
    /// candidate whose own tokens score more than `prune_nats` below the
    /// text's current span (or, when negative, less than `-prune_nats`
    /// above it) may skip its right context, which is then taken to score
    /// as the current text's does. Scorers that always score everything
    /// ignore it.
    fn score_pruned(
        &self,
        text: &str,
        queries: &[ContextQuery],
        prune_nats: f32,
    ) -> Result<Vec<Vec<f32>>, crate::Error> {
        let _ = prune_nats;
        self.score(text, queries)
    }

    /// [`ContextScorer::score`] (`prune_nats` `None`) or
    /// [`ContextScorer::score_pruned`], stopping with
    /// [`crate::Error::Cancelled`] once `cancel` is cancelled. This default
    /// checks before and after the call; a scorer that takes long (the
    /// neural one) checks between its batches too, so it stops promptly.
    fn score_cancellable(
        &self,
        text: &str,
        queries: &[ContextQuery],
        prune_nats: Option<f32>,
        cancel: &crate::Cancel,
    ) -> Result<Vec<Vec<f32>>, crate::Error> {
        cancel.check()?;
        let scores = match prune_nats {
            None => self.score(text, queries)?,
            Some(p) => self.score_pruned(text, queries, p)?,
        };
        cancel.check()?;
        Ok(scores)
    }
}

/// `scores` when it has one score per candidate of every query, else the
/// error a scorer that answers out of shape deserves.
pub(crate) fn checked(
    scores: Vec<Vec<f32>>,
    queries: &[ContextQuery],
) -> Result<Vec<Vec<f32>>, crate::Error> {
    if scores.len() != queries.len()
        || scores
            .iter()
            .zip(queries)
            .any(|(s, q)| s.len() != q.candidates.len())
    {
        return Err(crate::Error::Model(
            "context scorer answered a different number of scores than asked".into(),
        ));
    }
    Ok(scores)
}
