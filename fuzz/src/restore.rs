//! The tokenizer and restore on the embedded engine.

use std::sync::OnceLock;

use unspin::restore::{Options, Restoration};
use unspin::token::{tokenize, TokenKind};
use unspin::Engine;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::embedded(false).expect("the embedded engine loads"))
}

/// Arbitrary bytes; when they are UTF-8, tokenize and restore them (every
/// change applied, `min_confidence` 0) and check what
/// `crates/unspin/tests/restore_props.rs` checks: tokens tile the text,
/// changes are sorted, disjoint spans of the input on character boundaries,
/// the output equals the input outside the applied spans byte for byte, no
/// applied change touches markup, and the word count is the tokenizer's.
pub fn restore(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tokens = tokenize(text);
    let mut at = 0;
    for t in &tokens {
        assert_eq!(t.start, at, "tokens do not tile the text: {tokens:?}");
        assert!(t.end > t.start, "empty token {t:?}");
        assert!(
            text.is_char_boundary(t.end),
            "token {t:?} ends inside a char"
        );
        at = t.end;
    }
    assert_eq!(at, text.len(), "tokens stop short of the end");

    let opts = Options {
        min_confidence: 0.0,
        ..Options::default()
    };
    let Ok(r) = engine().restore(text, &opts) else {
        return;
    };
    check_changes(text, &r);
    // The never-lose-text invariant: outside applied spans, the bytes are kept.
    if let Err(e) = r.check_passthrough(text) {
        panic!("{e}");
    }
    check_markup_untouched(text, &r, &tokens);
    let words = tokens.iter().filter(|t| t.kind == TokenKind::Word).count();
    assert_eq!(r.words, words, "word count");
}

fn check_changes(input: &str, r: &Restoration) {
    let mut at = 0;
    for c in &r.changes {
        assert!(
            c.start >= at,
            "changes overlap or are unsorted: {:?}",
            r.changes
        );
        assert!(
            c.start < c.end && c.end <= input.len(),
            "bad span {}..{}",
            c.start,
            c.end
        );
        assert!(input.is_char_boundary(c.start) && input.is_char_boundary(c.end));
        assert_eq!(&input[c.start..c.end], c.spun.as_str());
        assert!(c.original != c.spun, "a change that changes nothing: {c:?}");
        assert!(
            (0.0..=1.0 + 1e-5).contains(&c.confidence),
            "confidence {}",
            c.confidence
        );
        assert!(!c.alternatives.is_empty());
        assert_eq!(c.alternatives[0].text, c.original);
        for a in &c.alternatives {
            assert!(
                (0.0..=1.0 + 1e-5).contains(&a.prob),
                "probability {}",
                a.prob
            );
        }
        at = c.end;
    }
    for s in &r.sections {
        assert!(s.start <= s.end && s.end <= input.len(), "section {s:?}");
        assert!((0.0..=1.0).contains(&s.spun_prob), "section {s:?}");
    }
}

fn check_markup_untouched(input: &str, r: &Restoration, tokens: &[unspin::token::Token]) {
    let opaque: Vec<(usize, usize)> = tokens
        .iter()
        .filter(|t| t.kind.is_opaque())
        .map(|t| (t.start, t.end))
        .collect();
    for c in r.changes.iter().filter(|c| c.applied) {
        let k = opaque.partition_point(|&(_, end)| end <= c.start);
        if let Some(&(s, e)) = opaque.get(k) {
            assert!(
                s >= c.end,
                "change {c:?} inside markup {:?}",
                input[s..e].chars().take(60).collect::<String>()
            );
        }
    }
}
