//! The fixed split of every spinner's dictionary into two halves.
//!
//! A result counts when it holds on a spinner whose table was never seen. So
//! each simulated spinner's table (the `news` profile's per-word choices, the
//! `synonym` profile's synonym lists, the `phrase` thesaurus, the
//! tortured-phrase list) is split by original: models, lexicons and rules
//! learn from half A only, and `unspin bench` spins with half B.
//!
//! An entry belongs to half A when the FNV-1a 64-bit hash of its original
//! (lowercase, words joined by single spaces: "new", "market share", "is a")
//! is even, to half B when it is odd. Every output of one original falls in
//! the same half.
//!
//! Settings are tuned without half B: the second bit of the same hash cuts
//! half A into A1 and A2, a model learns from A1 and is measured on a
//! spinner of A2 (`unspin bench --heldout-dev`).

use serde::{Deserialize, Serialize};

use crate::Error;

/// Which half of a dictionary an original belongs to (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Half {
    /// The half models learn from.
    A,
    /// The half held out of every model: the benchmark's unseen spinner.
    B,
    /// The part of half A that a tuning model learns from.
    A1,
    /// The part of half A that a tuning run spins with.
    A2,
}

impl Half {
    /// `"a"` or `"b"`.
    pub fn name(self) -> &'static str {
        match self {
            Half::A => "a",
            Half::B => "b",
            Half::A1 => "a1",
            Half::A2 => "a2",
        }
    }

    /// The half called `"a"` or `"b"`.
    pub fn from_name(s: &str) -> Result<Half, Error> {
        match s {
            "a" | "A" => Ok(Half::A),
            "b" | "B" => Ok(Half::B),
            "a1" | "A1" => Ok(Half::A1),
            "a2" | "A2" => Ok(Half::A2),
            other => Err(Error::Input(format!(
                "unknown dictionary half '{other}': use \"a\", \"b\", \"a1\" or \"a2\""
            ))),
        }
    }

    /// The halves `"a"`, `"b"` or `"all"` name.
    pub fn parse_set(s: &str) -> Result<Option<Half>, Error> {
        match s {
            "all" | "ALL" => Ok(None),
            h => Half::from_name(h).map(Some),
        }
    }
}

/// The half (A or B) that the dictionary entries of `original` belong to.
pub fn half_of(original: &str) -> Half {
    if crate::hash::fnv1a64(original) & 1 == 0 {
        Half::A
    } else {
        Half::B
    }
}

/// Whether `original` is in `half` (`None`: the whole dictionary); A1 and
/// A2 are the two parts of A.
pub fn in_half(original: &str, half: Option<Half>) -> bool {
    let Some(half) = half else {
        return true;
    };
    let h = crate::hash::fnv1a64(original);
    match half {
        Half::A => h & 1 == 0,
        Half::B => h & 1 == 1,
        Half::A1 => h & 3 == 0,
        Half::A2 => h & 3 == 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_fixed_and_balanced() {
        // The split must never move: models and benchmarks depend on it.
        assert_eq!(half_of("new"), half_of("new"));
        let words = [
            "new",
            "said",
            "market",
            "share",
            "rules",
            "monday",
            "planned",
            "would",
            "time",
            "people",
            "year",
            "government",
            "company",
            "report",
            "week",
            "city",
        ];
        let a = words.iter().filter(|w| half_of(w) == Half::A).count();
        assert!(
            a > 2 && a < words.len() - 2,
            "{a} of {} in half A",
            words.len()
        );
        assert!(in_half("new", None));
        assert_ne!(in_half("new", Some(Half::A)), in_half("new", Some(Half::B)));
        assert_eq!(Half::parse_set("all").unwrap(), None);
        assert_eq!(Half::parse_set("b").unwrap(), Some(Half::B));
        assert!(Half::parse_set("c").is_err());
        // A1 and A2 cut A in two and never touch B.
        for w in words {
            let a = in_half(w, Some(Half::A));
            assert_eq!(
                a,
                in_half(w, Some(Half::A1)) || in_half(w, Some(Half::A2)),
                "{w}"
            );
            assert!(
                !(in_half(w, Some(Half::A1)) && in_half(w, Some(Half::A2))),
                "{w}"
            );
            assert_eq!(half_of(w) == Half::A, a, "{w}");
        }
    }
}
