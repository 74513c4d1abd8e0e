//! What counts as synonym evidence in the detector: a written type repeated
//! through a text counts once (a synonym spinner draws anew at every token,
//! so repeats are a register's terms), and words on lines of under four
//! words (lists, indexes) have no context to weigh.

use unspin::detect::DetectOptions;
use unspin::Engine;

fn engine() -> Engine {
    Engine::embedded(false).expect("embedded model")
}

#[test]
fn a_repeated_type_counts_once() {
    let e = engine();
    let sentence =
        "You can downcast the value to a concrete type before you append it to the list. ";
    let once = e.detect(sentence, &DetectOptions::default()).unwrap().sums;
    assert!(once.syn_llr > 0.0, "the sentence gives synonym evidence");
    let five = e
        .detect(&sentence.repeat(5), &DetectOptions::default())
        .unwrap()
        .sums;
    assert!(
        (five.syn_llr - once.syn_llr).abs() <= 0.01 * once.syn_llr + 1e-3,
        "five copies {} vs one {}",
        five.syn_llr,
        once.syn_llr
    );
    assert_eq!(five.syn_sites, 5.0 * once.syn_sites);
}

#[test]
fn list_entries_give_no_synonym_evidence() {
    let e = engine();
    let prose = "You can downcast the value to a concrete type before you append it to the list.";
    let as_prose = e.detect(prose, &DetectOptions::default()).unwrap().sums;
    assert!(as_prose.syn_llr > 0.0);
    let list: String = prose
        .split_whitespace()
        .map(|w| format!("- {w}\n"))
        .collect();
    let as_list = e.detect(&list, &DetectOptions::default()).unwrap().sums;
    assert_eq!(as_list.syn_llr, 0.0);
    assert_eq!(as_list.syn_strong, 0.0);
    assert_eq!(as_list.ctx_llr, 0.0);
}
