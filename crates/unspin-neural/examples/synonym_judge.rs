//! How well the neural model alone tells synonym-spun words from the
//! author's own: every word the `synonym` spinner could have replaced is
//! scored in context against all its WordNet synonyms (inflected like it),
//! the candidates the spinner itself draws from. For a threshold τ, a word
//! is "restored" to its best-scoring synonym when that one beats the word as
//! written by more than τ nats. The table gives, per τ, the substituted words
//! restored correctly, those changed to a wrong synonym, the clean words
//! changed, and the resulting word error rate against the spun input's.
//!
//! ```sh
//! cargo run --release -p unspin-neural --example synonym_judge -- MODEL.gguf dev.jsonl 10000 0.05
//! ```
mod common;

use unspin::rescore::{ContextQuery, ContextScorer};
use unspin::spinner::{synonym_eligible, synonym_word, whitespace_tokens, Spinner};

fn main() {
    unspin_neural::prefer_own_parallelism();
    let a: Vec<String> = std::env::args().collect();
    let (model_path, corpus, words, rate) = (
        &a[1],
        &a[2],
        a[3].parse::<usize>().unwrap(),
        a[4].parse::<f64>().unwrap(),
    );
    let (docs, total) = common::read_docs(corpus, words);
    let wn = unspin::models::embedded_wordnet().unwrap();
    let spinner = Spinner::synonym(&wn, rate, 102);
    let neural = unspin_neural::NeuralLm::load(std::path::Path::new(model_path)).unwrap();
    // Optional: a trigram model for the dump's features (env LM), and a dump path (env DUMP).
    let tri = std::env::var("LM")
        .ok()
        .map(|p| unspin::lm::LanguageModel::load_path(std::path::Path::new(&p)).unwrap());
    let mut dump = Vec::new();
    // (margin of the best synonym over the word, best is the original, word was substituted)
    let mut judged: Vec<(f32, bool, bool)> = Vec::new();
    let (mut substituted, mut covered, mut eligible) = (0usize, 0usize, 0usize);
    let t0 = std::time::Instant::now();
    for (di, d) in docs.iter().enumerate() {
        let s = spinner.spin(d);
        let mut queries = Vec::new();
        let mut truth = Vec::new();
        for (ts, te) in whitespace_tokens(&s.text) {
            let Some((cs, ce)) = synonym_word(&s.text[ts..te]) else {
                continue;
            };
            let core = &s.text[ts + cs..ts + ce];
            if !synonym_eligible(&core.to_lowercase()) {
                continue;
            }
            let mut cands = vec![core.to_string()];
            cands.extend(wn.synonyms_like(core));
            if cands.len() < 2 {
                continue;
            }
            eligible += 1;
            let orig = s
                .changes
                .iter()
                .find(|c| c.spun_start == ts + cs && c.spun_end == ts + ce)
                .map(|c| c.original.clone());
            if let Some(o) = &orig {
                substituted += 1;
                covered += usize::from(cands.contains(o));
            }
            truth.push((orig, cands.clone()));
            queries.push(ContextQuery {
                start: ts + cs,
                end: ts + ce,
                candidates: cands,
                base: 0,
            });
        }
        let scores = neural.score(&s.text, &queries).unwrap();
        if let Some(lm) = &tri {
            let id = |w: &str| lm.id_of_written(w);
            for (q, ((orig, cands), sc)) in queries.iter().zip(truth.iter().zip(&scores)) {
                let left: Vec<&str> = s.text[..q.start].split_whitespace().rev().take(2).collect();
                let right: Vec<&str> = s.text[q.end..].split_whitespace().take(2).collect();
                let l1 = left.first().map_or(lm.bos(), |w| id(w));
                let l2 = left.get(1).map_or(lm.bos(), |w| id(w));
                let r1 = right.first().map_or(lm.eos(), |w| id(w));
                let r2 = right.get(1).map_or(lm.eos(), |w| id(w));
                let feats: Vec<(f32, f32)> = cands
                    .iter()
                    .map(|c| {
                        let w = id(c);
                        let t = lm.log10_prob(l2, l1, w)
                            + lm.log10_prob(l1, w, r1)
                            + lm.log10_prob(w, r1, r2);
                        (lm.log10_unigram(w), t)
                    })
                    .collect();
                let fan: Vec<usize> = cands
                    .iter()
                    .map(|c| spinner.synonym_candidates(&c.to_lowercase()).len())
                    .collect();
                dump.push(serde_json::json!({"doc": di, "fan": fan, "cands": cands, "nn": sc, "uni": feats.iter().map(|f| f.0).collect::<Vec<_>>(), "tri": feats.iter().map(|f| f.1).collect::<Vec<_>>(), "orig": orig}).to_string());
            }
        }
        for ((orig, cands), sc) in truth.iter().zip(&scores) {
            let (bi, bv) =
                sc.iter()
                    .enumerate()
                    .skip(1)
                    .fold(
                        (0, f32::NEG_INFINITY),
                        |m, (i, &v)| if v > m.1 { (i, v) } else { m },
                    );
            let right = orig.as_ref().is_some_and(|o| &cands[bi] == o);
            judged.push((bv - sc[0], right, orig.is_some()));
        }
    }
    if let Ok(p) = std::env::var("DUMP") {
        std::fs::write(p, dump.join("\n")).unwrap();
    }
    let errors = substituted;
    println!(
        "{} docs, {total} words, rate {rate}: {eligible} eligible words, {substituted} substituted ({covered} with the original among the candidates); scoring {:.1} s",
        docs.len(),
        t0.elapsed().as_secs_f64()
    );
    println!("| τ (nats) | restored right | changed wrong (substituted) | clean words changed | WER / spun WER |");
    println!("|--:|--:|--:|--:|--:|");
    for tau in [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        let (mut right, mut wrong, mut clean) = (0, 0, 0);
        for &(m, r, sub) in &judged {
            if m > tau {
                match (sub, r) {
                    (true, true) => right += 1,
                    (true, false) => wrong += 1,
                    _ => clean += 1,
                }
            }
        }
        println!(
            "| {tau} | {right} | {wrong} | {clean} | {:.3} |",
            (errors - right + clean) as f64 / errors.max(1) as f64
        );
    }
}
