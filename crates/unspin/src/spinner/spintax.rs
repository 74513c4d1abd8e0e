//! Spintax: `{original|spun}` groups, possibly nested, with `\{`, `\}`, `\|`
//! and `\\` as escapes. A backslash before any other character is literal, as
//! is a `|` outside any group.

use super::{AlignedChange, SplitMix64};
use crate::Error;

/// Which alternative of each group to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpintaxChoice {
    /// The first alternative everywhere (by convention the original).
    First,
    /// The last alternative everywhere.
    Last,
    /// A random alternative, deterministic for the seed.
    Random(u64),
}

/// The result of expanding spintax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpintaxExpansion {
    /// The text with the first alternative of every group.
    pub original: String,
    /// The text with the chosen alternatives.
    pub text: String,
    /// One change per top-level group whose chosen rendering differs from its
    /// first one (relation and profile `"spintax"`).
    pub changes: Vec<AlignedChange>,
}

#[derive(Debug)]
enum Node {
    Text(String),
    Group(Vec<Vec<Node>>),
}

fn escape_into(out: &mut String, s: &str, in_group: bool) {
    for c in s.chars() {
        match c {
            '\\' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '|' if in_group => out.push_str("\\|"),
            _ => out.push(c),
        }
    }
}

/// Escapes literal text so that it reads back unchanged (outside groups).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(&mut out, s, false);
    out
}

/// Writes `original` as spintax with `{original|spun}` for every change.
/// Changes must be sorted by `orig_start` and must not overlap (as
/// [`super::Spinner::spin`] returns them).
pub fn to_spintax(original: &str, changes: &[AlignedChange]) -> String {
    let spans: Vec<(usize, usize, Vec<String>)> = changes
        .iter()
        .map(|c| {
            (
                c.orig_start,
                c.orig_end,
                vec![c.original.clone(), c.spun.clone()],
            )
        })
        .collect();
    to_spintax_alternatives(original, &spans)
}

/// Writes `original` as spintax with one group per span `(start, end,
/// alternatives)` (byte offsets; spans sorted and non-overlapping). The
/// alternatives are written as given; by convention the first is the
/// original text of the span.
///
/// # Panics
/// When spans overlap, are unsorted or are not on character boundaries.
pub fn to_spintax_alternatives(original: &str, spans: &[(usize, usize, Vec<String>)]) -> String {
    let mut out = String::with_capacity(original.len() + 16 * spans.len());
    let mut pos = 0;
    for (start, end, alts) in spans {
        assert!(
            *start >= pos && start <= end,
            "spintax spans must be sorted and disjoint"
        );
        escape_into(&mut out, &original[pos..*start], false);
        out.push('{');
        for (i, a) in alts.iter().enumerate() {
            if i > 0 {
                out.push('|');
            }
            escape_into(&mut out, a, true);
        }
        out.push('}');
        pos = *end;
    }
    escape_into(&mut out, &original[pos..], false);
    out
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
}

impl Parser<'_> {
    /// Parses a sequence until `}` / `|` (in a group) or the end.
    fn seq(&mut self, depth: usize, open_at: usize) -> Result<(Vec<Node>, Option<char>), Error> {
        let mut nodes = Vec::new();
        let mut text = String::new();
        while let Some((i, c)) = self.chars.next() {
            match c {
                '\\' => match self.chars.peek() {
                    Some(&(_, n @ ('{' | '}' | '|' | '\\'))) => {
                        text.push(n);
                        self.chars.next();
                    }
                    _ => text.push('\\'),
                },
                '{' => {
                    if !text.is_empty() {
                        nodes.push(Node::Text(std::mem::take(&mut text)));
                    }
                    let mut alts = Vec::new();
                    loop {
                        let (alt, end) = self.seq(depth + 1, i)?;
                        alts.push(alt);
                        if end == Some('}') {
                            break;
                        }
                    }
                    nodes.push(Node::Group(alts));
                }
                '}' if depth == 0 => {
                    return Err(Error::Input(format!(
                        "spintax: unbalanced '}}' at byte {i}"
                    )));
                }
                '}' | '|' if depth > 0 => {
                    if !text.is_empty() {
                        nodes.push(Node::Text(text));
                    }
                    return Ok((nodes, Some(c)));
                }
                _ => text.push(c),
            }
        }
        if depth > 0 {
            return Err(Error::Input(format!(
                "spintax: '{{' at byte {open_at} is never closed"
            )));
        }
        if !text.is_empty() {
            nodes.push(Node::Text(text));
        }
        Ok((nodes, None))
    }
}

fn parse(text: &str) -> Result<Vec<Node>, Error> {
    let mut p = Parser {
        chars: text.char_indices().peekable(),
    };
    Ok(p.seq(0, 0)?.0)
}

fn render(nodes: &[Node], choice: SpintaxChoice, rng: &mut SplitMix64, out: &mut String) {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Group(alts) => {
                let k = match choice {
                    SpintaxChoice::First => 0,
                    SpintaxChoice::Last => alts.len() - 1,
                    SpintaxChoice::Random(_) => rng.below(alts.len() as u64) as usize,
                };
                render(&alts[k], choice, rng, out);
            }
        }
    }
}

/// Expands spintax with the given choice and aligns it with the
/// first-alternative rendering. Errors on unbalanced braces.
pub fn expand_spintax(text: &str, choice: SpintaxChoice) -> Result<SpintaxExpansion, Error> {
    let nodes = parse(text)?;
    let seed = match choice {
        SpintaxChoice::Random(s) => s,
        _ => 0,
    };
    let mut rng = SplitMix64::new(seed);
    let mut first_rng = SplitMix64::new(0);
    let mut exp = SpintaxExpansion {
        original: String::new(),
        text: String::new(),
        changes: Vec::new(),
    };
    for n in &nodes {
        match n {
            Node::Text(t) => {
                exp.original.push_str(t);
                exp.text.push_str(t);
            }
            Node::Group(_) => {
                let (os, ss) = (exp.original.len(), exp.text.len());
                let one = std::slice::from_ref(n);
                render(one, SpintaxChoice::First, &mut first_rng, &mut exp.original);
                render(one, choice, &mut rng, &mut exp.text);
                if exp.original[os..] != exp.text[ss..] {
                    exp.changes.push(AlignedChange {
                        orig_start: os,
                        orig_end: exp.original.len(),
                        spun_start: ss,
                        spun_end: exp.text.len(),
                        original: exp.original[os..].to_string(),
                        spun: exp.text[ss..].to_string(),
                        relation: "spintax".into(),
                        profile: "spintax".into(),
                    });
                }
            }
        }
    }
    Ok(exp)
}

/// Expands spintax, picking a random alternative in every group
/// (deterministic for `seed`). Errors on unbalanced braces.
pub fn parse_spintax(text: &str, seed: u64) -> Result<String, Error> {
    Ok(expand_spintax(text, SpintaxChoice::Random(seed))?.text)
}
