//! What a restoration returns: the changes with their alternatives and
//! confidences, the sections, the restored text; and the byte-exact writer
//! that applies changes to the input.

use serde::Serialize;

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
    /// Checks the never-lose-text invariant against the `input` this
    /// restores: outside the applied changes the text is the input byte for
    /// byte, and each applied change's original stands in its place. Returns
    /// where it first fails (for tests and fuzzing; restoring never fails it).
    pub fn check_passthrough(&self, input: &str) -> Result<(), String> {
        let out = self.text.as_str();
        let (mut i, mut o) = (0, 0);
        for c in self.changes.iter().filter(|c| c.applied) {
            let keep = input
                .get(i..c.start)
                .ok_or_else(|| format!("change {}..{} out of order or bounds", c.start, c.end))?;
            if !out[o..].starts_with(keep) {
                return Err(format!("text before {}..{} differs", c.start, c.end));
            }
            o += keep.len();
            if !out[o..].starts_with(c.original.as_str()) {
                return Err(format!("original of {c:?} missing"));
            }
            o += c.original.len();
            i = c.end;
        }
        match input.get(i..) {
            Some(tail) if &out[o..] == tail => Ok(()),
            _ => Err(format!(
                "tail differs: {:?} for {:?}",
                &out[o..],
                input.get(i..)
            )),
        }
    }

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

/// One slot rescored by the best mode ([`crate::Quality::Best`]): what the context scorer was asked and what it changed.
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
    fn passthrough_check_names_the_first_difference() {
        let input = "helium said so.";
        let change = Change {
            start: 0,
            end: 6,
            spun: "helium".into(),
            original: "he".into(),
            confidence: 0.9,
            relation: "rule".into(),
            alternatives: Vec::new(),
            applied: true,
        };
        let mut r = Restoration {
            text: "he said so.".into(),
            changes: vec![change],
            ..Restoration::default()
        };
        assert_eq!(r.check_passthrough(input), Ok(()));
        r.text = "he said so!".into();
        assert!(r.check_passthrough(input).unwrap_err().contains("tail"));
        r.text = "she said so.".into();
        assert!(r.check_passthrough(input).is_err());
    }

    #[test]
    fn case_follows_the_input() {
        assert_eq!(match_case("Successful", "in"), "In");
        assert_eq!(match_case("ARSENIC", "as"), "AS");
        assert_eq!(match_case("helium", "he"), "he");
        assert_eq!(match_case("A", "an"), "An");
    }
}
