//! Dev-set tuning of the default restore (training split only): news-spun
//! WER ratio and clean words changed over a grid of settings, and the words
//! changed on clean text of other registers.
//!
//! ```sh
//! # dev = every 20th line of the training split, as JSONL documents of 300+ words;
//! # LM = CMU mixed (0.5) with a Kneser-Ney model of the other 19/20; lexicon built on it
//! MINCONF=0,0.3,0.5 cargo run --release -p unspin --example tune_default -- \
//!     dev.jsonl 120000 lm-dev.unspin lexicon-dev.unspin [clean-dev.jsonl]
//! ```
//!
//! Grid variables (comma-separated lists): `MINCONF` (min_confidence),
//! `LMW` (lm_weight), `SHARPEN` (em_sharpen), `CACHE` (cache_weight),
//! `MARGIN` (clean_margin), `MARGINW` (clean_margin_per_word). `ANALYZE=1`
//! lists instead where each spun word went with the default options.

use unspin::eval::{evaluate, AlignmentRecord, EvalReport};
use unspin::restore::{Model, Options};
use unspin::spinner::Spinner;
use unspin::Engine;

fn read_docs(path: &str, words: usize) -> Vec<String> {
    unspin::jsonl::texts_up_to(&std::fs::read_to_string(path).unwrap(), words).0
}

fn list(key: &str, default: f32) -> Vec<f32> {
    std::env::var(key).map_or(vec![default], |v| {
        v.split(',').map(|x| x.parse().unwrap()).collect()
    })
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let docs = read_docs(&a[1], a[2].parse().unwrap());
    let lm = unspin::lm::LanguageModel::load_path(std::path::Path::new(&a[3])).unwrap();
    let lexicon = unspin::lexicon::Lexicon::from_bytes(&std::fs::read(&a[4]).unwrap()).unwrap();
    let clean: Vec<String> = a.get(5).map_or(Vec::new(), |p| read_docs(p, usize::MAX));
    let model = Model::new(lm, lexicon).with_phrases(unspin::models::embedded_phrases().unwrap());
    let engine = Engine::new(model, unspin::models::embedded_calibration().unwrap());
    let wn = unspin::models::embedded_wordnet().unwrap();
    let spinner = Spinner::news(&wn, 101);
    let spun: Vec<_> = docs.iter().map(|d| spinner.spin(d)).collect();
    let d = Options::default();
    if std::env::var("ANALYZE").is_ok() {
        analyze(&engine, &spun);
        return;
    }
    for &min_confidence in &list("MINCONF", d.min_confidence) {
        for &lm_weight in &list("LMW", d.lm_weight) {
            for &em_sharpen in &list("SHARPEN", d.em_sharpen) {
                for &cache_weight in &list("CACHE", d.cache_weight) {
                    for &clean_margin in &list("MARGIN", d.clean_margin) {
                        for &clean_margin_per_word in &list("MARGINW", d.clean_margin_per_word) {
                            let opts = Options {
                                min_confidence,
                                lm_weight,
                                em_sharpen,
                                cache_weight,
                                clean_margin,
                                clean_margin_per_word,
                                ..Options::default()
                            };
                            let mut e = EvalReport::default();
                            for (doc, s) in docs.iter().zip(&spun) {
                                let out = engine.restore(&s.text, &opts).unwrap().text;
                                let recs: Vec<AlignmentRecord> =
                                    s.changes.iter().map(AlignmentRecord::from).collect();
                                e.merge(&evaluate(doc, &s.text, &out, Some(&recs)));
                            }
                            let m = e.metrics();
                            let (spun_wer, wer) =
                                (m.wer_input.unwrap_or(0.0), m.wer_output.unwrap_or(0.0));
                            let mut changed = 0usize;
                            let mut clean_words = 0usize;
                            for c in &clean {
                                let out = engine.restore(c, &opts).unwrap().text;
                                clean_words += c.split_whitespace().count();
                                changed += c
                                    .split_whitespace()
                                    .zip(out.split_whitespace())
                                    .filter(|(x, y)| x != y)
                                    .count();
                            }
                            println!(
                                "minconf {min_confidence} lmw {lm_weight} sharpen {em_sharpen} cache {cache_weight} margin {clean_margin} marginw {clean_margin_per_word}: ratio {:.4} (WER {:.4} / {:.4}) clean-in-spun {:.4} | other registers {changed} of {clean_words} changed",
                                wer / spun_wer,
                                wer,
                                spun_wer,
                                m.clean_changed_rate.unwrap_or(0.0),
                            );
                        }
                    }
                }
            }
        }
    }
}

/// Where the news-spun words go: per relation, kept / wrong / right, the
/// most frequent misses, and the clean words changed by the relation of
/// the change.
fn analyze(engine: &Engine, spun: &[unspin::spinner::Spun]) {
    use std::collections::HashMap;
    let opts = Options::default();
    let mut cat: HashMap<(String, &str), usize> = HashMap::new();
    let mut missed: HashMap<(String, String, String, &str), usize> = HashMap::new();
    let mut false_changes: HashMap<String, usize> = HashMap::new();
    let mut false_pairs: HashMap<(String, String), usize> = HashMap::new();
    for s in spun {
        let r = engine.restore(&s.text, &opts).unwrap();
        let by_start: HashMap<usize, &unspin::restore::Change> =
            r.changes.iter().map(|c| (c.start, c)).collect();
        let mut spun_starts = std::collections::HashSet::new();
        for c in &s.changes {
            spun_starts.insert(c.spun_start);
            let outcome = match by_start.get(&c.spun_start) {
                None => "no candidate",
                Some(x) if !x.applied => "not applied",
                Some(x) if x.original == c.original => "right",
                Some(x) if x.original == x.spun => "kept",
                Some(_) => "wrong original",
            };
            *cat.entry((c.relation.clone(), outcome)).or_default() += 1;
            if outcome != "right" {
                *missed
                    .entry((
                        c.relation.clone(),
                        c.spun.clone(),
                        c.original.clone(),
                        outcome,
                    ))
                    .or_default() += 1;
            }
        }
        for c in r
            .changes
            .iter()
            .filter(|c| c.applied && c.original != c.spun)
        {
            if !spun_starts.contains(&c.start) {
                *false_changes.entry(c.relation.clone()).or_default() += 1;
                *false_pairs
                    .entry((c.spun.clone(), c.original.clone()))
                    .or_default() += 1;
            }
        }
    }
    let mut v: Vec<_> = cat.into_iter().collect();
    v.sort();
    for ((rel, o), n) in v {
        println!("{rel:12} {o:16} {n}");
    }
    let mut m: Vec<_> = missed.into_iter().collect();
    m.sort_by_key(|x| std::cmp::Reverse(x.1));
    for ((rel, s, o, out), n) in m.iter().take(60) {
        println!("miss {n:4} {rel:10} {s} <- {o} ({out})");
    }
    println!("false changes by relation: {false_changes:?}");
    let mut f: Vec<_> = false_pairs.into_iter().collect();
    f.sort_by_key(|x| std::cmp::Reverse(x.1));
    for ((s, o), n) in f.iter().take(40) {
        println!("false {n:4} {s} -> {o}");
    }
}
