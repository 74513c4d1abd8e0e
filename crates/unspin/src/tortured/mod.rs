//! Tortured phrases: technical terms a paper mill's paraphraser took apart
//! word by word ("arbitrary timberland" for "random forest").
//!
//! * [`list`] reads the Problematic Paper Screener list and splits it into
//!   the half models learn from and the half benchmarks hold out.
//! * [`model`] is the phrase model (`models/phrases.unspin`): the listed
//!   phrases, word candidates and known terms.
//! * [`find`] finds listed phrases by lookup and unlisted ones by the terms
//!   their words could stand for, each on its own evidence.
//!
//! Restore adds each phrase found as a [`crate::restore::Change`] (relation
//! `tortured_listed` or `tortured_unlisted`); detect reports them the way
//! the Problematic Paper Screener does: count, density and a risk level
//! ([`PhraseReport`]).

pub mod find;
pub mod list;
pub mod model;
pub mod simulate;

pub use find::{find_phrases, find_phrases_cancellable, PhraseKind, PhraseMatch, PhraseOptions};
pub use list::{half_of, parse_pps, Half, PhrasePair};
pub use model::PhraseModel;

use serde::Serialize;

use crate::restore::{Alternative, Change, Restoration};

/// The relation a change of a listed phrase carries.
pub const RELATION_LISTED: &str = "tortured_listed";
/// The relation a change of an unlisted phrase carries.
pub const RELATION_UNLISTED: &str = "tortured_unlisted";
/// The relation of an article mended to agree with a restored phrase
/// ("an arbitrary timberland" -> "a random forest").
pub const RELATION_ARTICLE: &str = "article";

/// How strongly the phrases of a text point to a paper mill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// No phrase found.
    None,
    /// One or two phrases, under 3 per 1,000 words: worth a look.
    Low,
    /// Three or four phrases: likely a paraphrased text.
    Medium,
    /// Five or more, or at least 3 per 1,000 words.
    High,
}

/// Tortured phrases of one text, reported the way the Problematic Paper
/// Screener reports them.
#[derive(Clone, Debug, Serialize)]
pub struct PhraseReport {
    /// Phrases found.
    pub count: usize,
    /// Of them, in the known-phrase table.
    pub listed: usize,
    /// Of them, found by the terms their words stand for.
    pub unlisted: usize,
    /// Phrases per 1,000 words.
    pub per_thousand_words: f32,
    pub risk: Risk,
    /// Sum of the phrases' scores, in nats: a ranking score for the text.
    pub score: f32,
}

/// The report for `matches` found in a text of `words` words.
pub fn report(matches: &[PhraseMatch], words: usize) -> PhraseReport {
    let count = matches.len();
    let listed = matches
        .iter()
        .filter(|m| m.kind == PhraseKind::Listed)
        .count();
    let per_thousand_words = if words == 0 {
        0.0
    } else {
        count as f32 * 1000.0 / words as f32
    };
    let risk = match count {
        0 => Risk::None,
        _ if count >= 5 || per_thousand_words >= 3.0 => Risk::High,
        3 | 4 => Risk::Medium,
        _ => Risk::Low,
    };
    PhraseReport {
        count,
        listed,
        unlisted: count - listed,
        per_thousand_words,
        risk,
        score: matches.iter().map(|m| m.score).sum(),
    }
}

/// "a" or "an" before `word`, by its first sound as far as its spelling
/// tells: "an" before a vowel letter, except where it sounds as a
/// consonant ("a unit", "a one-shot", "a European"); "an" before a silent
/// h ("an hour").
fn indefinite_article(word: &str) -> &'static str {
    let w = word.to_lowercase();
    const CONSONANT_SOUND: &[&str] = &["uni", "use", "usu", "uti", "one", "once", "eu", "ewe"];
    const SILENT_H: &[&str] = &["hour", "honest", "honor", "honour", "heir"];
    let vowel = w.starts_with(['a', 'e', 'i', 'o', 'u']);
    if (vowel && !CONSONANT_SOUND.iter().any(|p| w.starts_with(p)))
        || SILENT_H.iter().any(|p| w.starts_with(p))
    {
        "an"
    } else {
        "a"
    }
}

/// When the article right before a restored phrase no longer agrees with
/// its first word ("an arbitrary timberland" -> "a random forest"), the
/// change that mends it, as sure as the phrase's.
fn article_change(text: &str, m: &PhraseMatch, confidence: f32) -> Option<Change> {
    let before = &text[..m.start];
    let gap = before.len() - before.trim_end().len();
    if gap == 0 || before[before.len() - gap..].contains('\n') {
        return None;
    }
    let head = before.trim_end();
    let start = head.rfind(|c: char| !c.is_alphabetic()).map_or(0, |p| {
        p + head[p..].chars().next().map_or(1, char::len_utf8)
    });
    let written = &head[start..];
    if !written.eq_ignore_ascii_case("a") && !written.eq_ignore_ascii_case("an") {
        return None;
    }
    let first = m.original.split_whitespace().next()?;
    let wanted = indefinite_article(first);
    if written.eq_ignore_ascii_case(wanted) {
        return None;
    }
    let original = crate::restore::match_case(written, wanted);
    Some(Change {
        start,
        end: head.len(),
        spun: written.to_string(),
        original: original.clone(),
        confidence,
        relation: RELATION_ARTICLE.to_string(),
        alternatives: vec![
            Alternative {
                text: original,
                prob: confidence,
            },
            Alternative {
                text: written.to_string(),
                prob: 1.0 - confidence,
            },
        ],
        applied: true,
    })
}

/// Confidence given to a listed phrase's original.
const LISTED_CONFIDENCE: f32 = 0.99;

/// Confidence of an unlisted phrase from its score: the odds of the term
/// over the phrase as written, past the acceptance threshold.
fn unlisted_confidence(score: f32) -> f32 {
    (1.0 / (1.0 + (-score).exp())).min(0.99)
}

/// Adds `matches` to a restoration of `text`, leaving out any that overlap
/// a change already there, and writes the text again. A listed phrase is
/// applied when its confidence reaches `min_confidence`; an unlisted one
/// only with [`PhraseOptions::apply_unlisted`] as well.
pub fn merge_into(
    r: &mut Restoration,
    text: &str,
    matches: &[PhraseMatch],
    opts: &PhraseOptions,
    min_confidence: f32,
) {
    if matches.is_empty() {
        return;
    }
    let mut added = false;
    for m in matches {
        if r.changes.iter().any(|c| c.start < m.end && m.start < c.end) {
            continue;
        }
        let (relation, confidence, apply) = match m.kind {
            PhraseKind::Listed => (RELATION_LISTED, LISTED_CONFIDENCE, true),
            PhraseKind::Unlisted => (
                RELATION_UNLISTED,
                unlisted_confidence(m.score),
                opts.apply_unlisted,
            ),
        };
        let applied = apply && confidence >= min_confidence;
        r.changes.push(Change {
            start: m.start,
            end: m.end,
            spun: m.spun.clone(),
            original: m.original.clone(),
            confidence,
            relation: relation.to_string(),
            alternatives: vec![
                Alternative {
                    text: m.original.clone(),
                    prob: confidence,
                },
                Alternative {
                    text: m.spun.clone(),
                    prob: 1.0 - confidence,
                },
            ],
            applied,
        });
        added |= applied;
        if applied {
            if let Some(article) = article_change(text, m, confidence) {
                if !r
                    .changes
                    .iter()
                    .any(|c| c.start < article.end && article.start < c.end)
                {
                    r.changes.push(article);
                }
            }
        }
    }
    r.changes.sort_by_key(|c| c.start);
    if added {
        r.text = crate::restore::apply(text, &r.changes);
    }
}

#[cfg(test)]
mod tests {
    use super::indefinite_article;

    #[test]
    fn the_article_follows_the_first_sound() {
        for (word, article) in [
            ("random", "a"),
            ("arbitrary", "an"),
            ("Euclidean", "a"),
            ("unit", "a"),
            ("uncertain", "an"),
            ("hour", "an"),
            ("hidden", "a"),
            ("one-shot", "a"),
            ("outlier", "an"),
        ] {
            assert_eq!(indefinite_article(word), article, "{word}");
        }
    }
}
