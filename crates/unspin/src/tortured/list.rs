//! The paper-mill phrase list: reading `pps-dictionary.tsv`, cleaning the
//! editors' notes out of it, and the fixed split into two halves.
//!
//! The split is what keeps the benchmark honest: models, lexicons and rules
//! learn from half A only, and `unspin bench` spins scientific text with half
//! B, the "unlisted" phrases (see `docs/BENCHMARKS.md`, "Tortured phrases").
//! A pair belongs to half A when the FNV-1a 64-bit hash of its cleaned
//! original is even, to half B when it is odd, so every tortured form of one
//! term falls in the same half.

use serde::{Deserialize, Serialize};

use crate::Error;

/// One entry of the list: a tortured phrase and the term it tortures, both
/// cleaned (lowercase, single spaces, no editors' notes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhrasePair {
    pub tortured: String,
    pub original: String,
}

pub use crate::halves::{half_of, Half};

/// Longest phrase kept, in words (longer entries are sentences, not terms).
pub const MAX_PHRASE_WORDS: usize = 6;

/// A phrase of the list cleaned: editors' notes in `(...)` and `[...]` and
/// stray quotes removed, lowercased, whitespace collapsed. `None` when the
/// entry is not a usable phrase: marked uncertain (`?`), empty, longer than
/// [`MAX_PHRASE_WORDS`], or holding anything but letters, digits, spaces,
/// hyphens and apostrophes.
pub fn clean_phrase(raw: &str) -> Option<String> {
    if raw.contains('?') {
        return None;
    }
    let mut s = String::with_capacity(raw.len());
    let mut depth = 0usize;
    for c in raw.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            '"' | '\\' => {}
            '\u{a0}' if depth == 0 => s.push(' '),
            c if depth == 0 => s.extend(c.to_lowercase()),
            _ => {}
        }
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.is_empty() || words.len() > MAX_PHRASE_WORDS {
        return None;
    }
    let ok = words.iter().all(|w| {
        w.chars().next().is_some_and(|c| c.is_alphanumeric())
            && w.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '\'')
    });
    ok.then(|| words.join(" "))
}

/// Whether every word of a cleaned phrase is a function word: such
/// "originals" ("by", "and") are list noise, not terms.
fn only_function_words(phrase: &str) -> bool {
    phrase
        .split(' ')
        .all(|w| crate::spinner::SYNONYM_STOPWORDS.contains(&w))
}

/// Reads the list (`tortured<TAB>original` per line, an optional header
/// line `tortured<TAB>original`), cleans both sides and drops unusable
/// entries, pairs whose sides are equal, pairs whose original is only
/// function words, and duplicates. Keeps the file's order.
pub fn parse_pps(tsv: &str) -> Result<Vec<PhrasePair>, Error> {
    let mut out = Vec::new();
    let mut seen = rustc_hash::FxHashSet::default();
    for (i, line) in tsv.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || (i == 0 && line.starts_with("tortured\t")) {
            continue;
        }
        let Some((t, o)) = line.split_once('\t') else {
            return Err(Error::Input(format!(
                "phrase list line {}: expected 'tortured<TAB>original'",
                i + 1
            )));
        };
        let (Some(t), Some(o)) = (clean_phrase(t), clean_phrase(o)) else {
            continue;
        };
        if t == o || only_function_words(&o) {
            continue;
        }
        if seen.insert((t.clone(), o.clone())) {
            out.push(PhrasePair {
                tortured: t,
                original: o,
            });
        }
    }
    if out.is_empty() {
        return Err(Error::Input("phrase list holds no usable pair".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_cleaned_and_uncertain_entries_dropped() {
        assert_eq!(
            clean_phrase("Region of Interest (ROI)").as_deref(),
            Some("region of interest")
        );
        assert_eq!(
            clean_phrase("[neural network] layer outputs").as_deref(),
            Some("layer outputs")
        );
        assert_eq!(clean_phrase("rythm pattern (?)"), None);
        assert_eq!(clean_phrase("???"), None);
        assert_eq!(clean_phrase("see https://example.org/x"), None);
        assert_eq!(
            clean_phrase("machine learning\u{a0}(in this context)").as_deref(),
            Some("machine learning")
        );
    }

    #[test]
    fn parse_drops_noise_and_duplicates() {
        let tsv = "tortured\toriginal\nbolster vector machine\tsupport vector machine\n\
                   bolster vector machine\tsupport vector machine\nthrough\tby\n\
                   same\tsame\nx y\t???\n";
        let p = parse_pps(tsv).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].original, "support vector machine");
        assert!(parse_pps("no tab here\n").is_err());
        assert!(parse_pps("tortured\toriginal\n").is_err());
    }

    #[test]
    fn split_is_fixed_and_keeps_an_original_in_one_half() {
        // The split is part of the benchmark's definition: pin the hash.
        assert_eq!(crate::hash::fnv1a64(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(crate::hash::fnv1a64("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
