//! Chains of spinners: a content farm runs a page through a phrase
//! thesaurus, then a word spinner. The alignment of the chain's output to the
//! original is composed from the stages' alignments ([`compose`]).

use super::{AlignedChange, Profile, Spinner, Spun};
use crate::halves::Half;
use crate::wordnet::WordNet;

/// Spinners applied one after another (see the module docs).
pub struct Chain<'a> {
    stages: Vec<Spinner<'a>>,
}

impl<'a> Chain<'a> {
    /// A chain of the given stages, first applied first.
    pub fn new(stages: Vec<Spinner<'a>>) -> Self {
        Chain { stages }
    }

    /// The chain that `names` describes: profile names joined by `,`
    /// (`"phrase,news"`); `rate` is passed to every stage, stage `k` draws
    /// with seed `seed + k`, and every stage's table is cut to `half`.
    pub fn from_names(
        wn: &'a WordNet,
        names: &str,
        rate: Option<f64>,
        seed: u64,
        half: Option<Half>,
    ) -> Result<Self, crate::Error> {
        let stages = names
            .split(',')
            .enumerate()
            .map(|(k, name)| {
                let profile = Profile::from_name(name.trim(), rate)?;
                Ok(Spinner::new(wn, profile, seed.wrapping_add(k as u64)).with_half(half))
            })
            .collect::<Result<Vec<_>, crate::Error>>()?;
        if stages.is_empty() {
            return Err(crate::Error::Input("empty spinner chain".into()));
        }
        Ok(Chain { stages })
    }

    /// The stages, first applied first.
    pub fn stages(&self) -> &[Spinner<'a>] {
        &self.stages
    }

    /// The profile names joined by `,`.
    pub fn name(&self) -> String {
        self.stages
            .iter()
            .map(|s| s.profile().name())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Spins `text` through every stage; the alignment maps the original to
    /// the last stage's output.
    pub fn spin(&self, text: &str) -> Spun {
        let mut stages = self.stages.iter();
        let Some(first) = stages.next() else {
            return Spun {
                text: text.to_string(),
                changes: Vec::new(),
            };
        };
        let mut acc = first.spin(text);
        for stage in stages {
            let next = stage.spin(&acc.text);
            acc = compose(text, &acc, &next);
        }
        acc
    }
}

/// The alignment of `second` (a spin of `first.text`) back to `original`
/// (the text `first` was spun from). Changes of the two stages that overlap
/// in the middle text become one change; a span the second stage turned back
/// into the original words is no change at all.
pub fn compose(original: &str, first: &Spun, second: &Spun) -> Spun {
    // Intervals in the middle text: the first stage's outputs and the second
    // stage's inputs, each with where it came from.
    let mut iv: Vec<(usize, usize, Option<usize>, Option<usize>)> = first
        .changes
        .iter()
        .enumerate()
        .map(|(k, c)| (c.spun_start, c.spun_end, Some(k), None))
        .chain(
            second
                .changes
                .iter()
                .enumerate()
                .map(|(k, c)| (c.orig_start, c.orig_end, None, Some(k))),
        )
        .collect();
    iv.sort_by_key(|&(s, e, a, _)| (s, e, a.is_none()));
    // Groups of overlapping intervals (touching ones stay apart).
    let mut groups: Vec<(usize, usize, Vec<usize>, Vec<usize>)> = Vec::new();
    for (s, e, a, b) in iv {
        if groups.last().is_none_or(|g| s >= g.1) {
            groups.push((s, e, Vec::new(), Vec::new()));
        }
        let g = groups.last_mut().expect("a group was pushed");
        g.1 = g.1.max(e);
        g.2.extend(a);
        g.3.extend(b);
    }
    // Middle offsets to original and to final offsets, valid outside the
    // other stage's spans (group bounds always are).
    let to_original = |pos: usize| {
        shift(
            pos,
            first
                .changes
                .iter()
                .map(|c| (c.spun_start..c.spun_end, c.orig_end - c.orig_start)),
        )
    };
    let to_final = |pos: usize| {
        shift(
            pos,
            second
                .changes
                .iter()
                .map(|c| (c.orig_start..c.orig_end, c.spun_end - c.spun_start)),
        )
    };
    let mut changes = Vec::with_capacity(groups.len());
    for (ms, me, from_first, from_second) in groups {
        let (os, oe) = (to_original(ms), to_original(me));
        let (fs, fe) = (to_final(ms), to_final(me));
        let orig = &original[os..oe];
        let spun = &second.text[fs..fe];
        if orig == spun {
            continue;
        }
        let pick = |c: &AlignedChange| (c.relation.clone(), c.profile.clone());
        let (relation, profile) = match (from_first.first(), from_second.last()) {
            (Some(&a), Some(&b)) => {
                let (ra, pa) = pick(&first.changes[a]);
                let (rb, pb) = pick(&second.changes[b]);
                (format!("{ra}+{rb}"), format!("{pa},{pb}"))
            }
            (Some(&a), None) => pick(&first.changes[a]),
            (None, Some(&b)) => pick(&second.changes[b]),
            (None, None) => continue,
        };
        changes.push(AlignedChange {
            orig_start: os,
            orig_end: oe,
            spun_start: fs,
            spun_end: fe,
            original: orig.to_string(),
            spun: spun.to_string(),
            relation,
            profile,
        });
    }
    Spun {
        text: second.text.clone(),
        changes,
    }
}

/// `pos` moved past every change that ends at or before it: each is a span
/// of the text `pos` is in, and the length it has on the other side.
fn shift(pos: usize, changes: impl Iterator<Item = (std::ops::Range<usize>, usize)>) -> usize {
    let mut at = pos as isize;
    for (span, other_len) in changes.take_while(|(span, _)| span.end <= pos) {
        at += other_len as isize - span.len() as isize;
    }
    at as usize
}
