//! Held-out dictionaries: a lexicon built from half A of the news table knows
//! nothing of half B's table, and restores a half-B spinner only through the
//! generic WordNet-relation channel of unseen originals.

mod common;

use unspin::halves::{in_half, Half};
use unspin::lexicon::Lexicon;
use unspin::restore::{Model, Options, Restorer};
use unspin::spinner::Spinner;

fn half_a_lexicon(unseen_replace: f32) -> Lexicon {
    let lm = unspin::models::embedded_lm().unwrap();
    Lexicon::build_for_lm(common::wordnet(), &lm, Some(Half::A), unseen_replace)
}

#[test]
fn half_a_lexicon_holds_no_rule_of_half_b() {
    let wn = common::wordnet();
    let lex = half_a_lexicon(0.0);
    let (mut a_rules, mut b_rules) = (0, 0);
    for w in [
        "new", "said", "far", "give", "drop", "large", "small", "city", "year", "leader",
    ] {
        let Some(id) = lex.id(w) else { continue };
        let rule = lex.rule_output(id).is_some();
        if in_half(w, Some(Half::A)) {
            a_rules += usize::from(rule);
        } else {
            b_rules += usize::from(rule);
            assert_eq!(lex.replace_prob(id), 0.0, "{w}: half B is unseen");
        }
    }
    assert!(a_rules > 0, "half A keeps its rules");
    assert_eq!(b_rules, 0);
    // Spun words of half-B originals get no candidate from them.
    let sp = Spinner::news(wn, 3).with_half(Some(Half::B));
    let mut checked = 0;
    for w in [
        "new", "far", "give", "large", "leader", "city", "year", "small",
    ] {
        if !in_half(w, Some(Half::B)) {
            continue;
        }
        let Some((out, _)) = sp.news_replacement(w) else {
            continue;
        };
        if let (Some(sid), Some(wid)) = (lex.id(&out), lex.id(w)) {
            assert!(
                lex.candidates(sid).iter().all(|c| c.original != wid),
                "{w} -> {out}"
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

#[test]
fn unseen_channel_restores_some_of_a_half_b_spinner() {
    let wn = common::wordnet();
    let text = "he said the new rules would be published on monday as planned and that the \
                government would give small companies more time to meet the large costs of \
                the change, which leaders of the city had asked for since last year. "
        .repeat(8);
    let spun = Spinner::news(wn, 1).with_half(Some(Half::B)).spin(&text);
    assert!(!spun.changes.is_empty());
    let restored = |unseen: f32| {
        let model = Model::new(
            unspin::models::embedded_lm().unwrap(),
            half_a_lexicon(unseen),
        );
        let mut r = Restorer::new(&model, Options::default());
        let out = r.restore(&spun.text);
        out.check_passthrough(&spun.text).unwrap();
        unspin::eval::evaluate(&text, &spun.text, &out.text, None)
            .metrics()
            .wer_output
            .unwrap()
    };
    let (without, with) = (restored(0.0), restored(0.2));
    assert!(with < without, "unseen channel: {with} vs {without}");
}
