//! Dev-set tuning of `--quality best` (training split only): WER of the
//! default and best modes over a grid of settings, with the neural scores
//! cached on disk so the grid costs one neural pass per distinct query set.
//!
//! ```sh
//! # dev = every 20th line of the training split, as JSONL documents of 400+ words;
//! # LM = CMU mixed (0.7) with a Kneser-Ney model of the other 19/20 (unspin-build lm-train, lm-mix)
//! MARGIN=0.9 K=3 WN=0.5,0.7,1.0 WINDOW=4 cargo run --release -p unspin-neural --example tune -- \
//!     MODEL.gguf dev.jsonl 3000 news lm-dev.unspin scores-cache.json
//! ```
mod common;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use unspin::eval::{evaluate, AlignmentRecord, EvalReport};
use unspin::rescore::{ContextQuery, ContextScorer};
use unspin::restore::{Model, Options, Restorer};
use unspin::spinner::Spinner;

struct Cached<'a> {
    lm: &'a unspin_neural::NeuralLm,
    map: Mutex<HashMap<u64, Vec<Vec<f32>>>>,
    calls: Mutex<(usize, f64)>,
}

impl ContextScorer for Cached<'_> {
    fn score(&self, text: &str, q: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        for x in q {
            x.start.hash(&mut h);
            x.end.hash(&mut h);
            x.candidates.hash(&mut h);
        }
        self.lookup(h.finish(), || self.lm.score(text, q))
    }

    fn score_pruned(
        &self,
        text: &str,
        q: &[ContextQuery],
        prune: f32,
    ) -> Result<Vec<Vec<f32>>, unspin::Error> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        prune.to_bits().hash(&mut h);
        for x in q {
            x.start.hash(&mut h);
            x.end.hash(&mut h);
            x.candidates.hash(&mut h);
        }
        self.lookup(h.finish(), || self.lm.score_pruned(text, q, prune))
    }
}

impl Cached<'_> {
    fn lookup(
        &self,
        key: u64,
        run: impl FnOnce() -> Result<Vec<Vec<f32>>, unspin::Error>,
    ) -> Result<Vec<Vec<f32>>, unspin::Error> {
        if let Some(v) = self.map.lock().unwrap().get(&key) {
            return Ok(v.clone());
        }
        let t = std::time::Instant::now();
        let v = run()?;
        let mut c = self.calls.lock().unwrap();
        c.0 += 1;
        c.1 += t.elapsed().as_secs_f64();
        self.map.lock().unwrap().insert(key, v.clone());
        Ok(v)
    }
}

fn main() {
    unspin_neural::prefer_own_parallelism();
    let a: Vec<String> = std::env::args().collect();
    let (model_path, corpus, words, profile, lm_path, cache_path) = (
        &a[1],
        &a[2],
        a[3].parse::<usize>().unwrap(),
        &a[4],
        &a[5],
        &a[6],
    );
    let (docs, total) = common::read_docs(corpus, words);
    let lm = unspin::lm::LanguageModel::load_path(std::path::Path::new(lm_path)).unwrap();
    let mut model = Model::new(lm, unspin::models::embedded_lexicon().unwrap());
    if std::env::var("SWEEP").map_or(true, |v| v != "0") {
        model = model.with_wordnet(unspin::models::embedded_wordnet().unwrap());
    }
    let wn = unspin::models::embedded_wordnet().unwrap();
    let spinner = match profile.as_str() {
        "news" => Spinner::news(&wn, 101),
        r => Spinner::synonym(&wn, r.parse().unwrap(), 102),
    };
    let spun: Vec<_> = docs.iter().map(|d| spinner.spin(d)).collect();
    let mut neural = unspin_neural::NeuralLm::load(std::path::Path::new(model_path)).unwrap();
    if let Ok(w) = std::env::var("WINDOW") {
        let mut o = neural.options().clone();
        o.window = w.parse().unwrap();
        neural.set_options(o);
    }
    if let Ok(w) = std::env::var("PRUNE") {
        let mut o = neural.options().clone();
        o.prune_nats = w.parse().unwrap();
        neural.set_options(o);
    }
    if let Ok(w) = std::env::var("BLOCK") {
        let mut o = neural.options().clone();
        o.block_tokens = w.parse().unwrap();
        neural.set_options(o);
    }
    let map: HashMap<u64, Vec<Vec<f32>>> = std::fs::read(cache_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let cached = Cached {
        lm: &neural,
        map: Mutex::new(map),
        calls: Mutex::new((0, 0.0)),
    };
    let list = |k: &str, d: &str| -> Vec<f32> {
        std::env::var(k)
            .unwrap_or(d.into())
            .split(',')
            .map(|x| x.parse().unwrap())
            .collect()
    };
    let eval = |outs: &[String]| -> (f64, f64) {
        let mut e = EvalReport::default();
        for ((d, s), o) in docs.iter().zip(&spun).zip(outs) {
            let recs: Vec<AlignmentRecord> = s.changes.iter().map(AlignmentRecord::from).collect();
            e.merge(&evaluate(d, &s.text, o, Some(&recs)));
        }
        let m = e.metrics();
        (
            m.wer_output.unwrap_or(0.0),
            m.clean_changed_rate.unwrap_or(0.0),
        )
    };
    let mut r = Restorer::new(&model, Options::default());
    let outs: Vec<String> = spun
        .iter()
        .map(|s| r.restore_document(&s.text).text)
        .collect();
    let (dw, dc) = eval(&outs);
    println!(
        "{} docs {} words: default WER {:.4} clean-changed {:.4}",
        docs.len(),
        total,
        dw,
        dc
    );
    for &margin in &list("MARGIN", "0.9") {
        for &k in &list("K", "3") {
            for &passes in &list("PASSES", "1") {
                for &w in &list("WN", "0.5") {
                    let env = |k: &str, d: f32| -> f32 {
                        std::env::var(k).map_or(d, |v| v.parse().unwrap())
                    };
                    let opts = Options {
                        rescore_synonym_margin: env("SMARGIN", margin),
                        rescore_synonym_weight: env("SWN", w),
                        rescore_synonym_keep_bonus: env("SKB", 0.0),
                        rescore_margin: margin,
                        rescore_candidates: k as usize,
                        rescore_weight: w,
                        rescore_passes: passes as usize,
                        sweep: unspin::sweep::SweepOptions {
                            weight: env("SW_W", 0.6),
                            trigram_weight: env("SW_TRI", 0.3),
                            keep_seen_bonus: env("SW_KEEP", 2.0),
                            candidate_seen_bonus: env("SW_CAND", 2.0),
                            phrase_keep_bonus: env("SW_PHRASE", 0.0),
                            threshold: env("SW_TH", 0.995),
                            min_rate: env("SW_RATE", 0.05),
                            prune_nats: env("SW_PRUNE", -4.0),
                            ..Default::default()
                        },
                        ..Options::default()
                    };
                    let mut r = Restorer::new(&model, opts);
                    let (mut q, mut ch) = (0, 0);
                    let mut dump = Vec::new();
                    let outs: Vec<String> = spun
                        .iter()
                        .map(|s| {
                            let o = r.restore_document_best(&s.text, &cached).unwrap().text;
                            if std::env::var("DUMP").is_ok() {
                                for x in r.rescored() {
                                    let truth = s
                                        .changes
                                        .iter()
                                        .find(|c| c.spun_start <= x.start && x.end <= c.spun_end)
                                        .map_or(s.text[x.start..x.end].to_string(), |c| c.original.clone());
                                    dump.push(serde_json::json!({
                                        "truth": truth, "spun": &s.text[x.start..x.end],
                                        "cands": x.candidates, "post": x.posteriors, "nn": x.scores,
                                        "before": x.before, "after": x.after,
                                        "ctx": &s.text[(x.start.saturating_sub(60)..=x.start).find(|&i| s.text.is_char_boundary(i)).unwrap()..((x.end + 40).min(s.text.len())..=s.text.len()).find(|&i| s.text.is_char_boundary(i)).unwrap()],
                                    }));
                                }
                            }
                            q += r.rescored().len();
                            ch += r.rescored().iter().filter(|x| x.after != x.before).count();
                            o
                        })
                        .collect();
                    if let Ok(p) = std::env::var("DUMP") {
                        let body: Vec<String> = dump.iter().map(|v| v.to_string()).collect();
                        std::fs::write(p, body.join("\n")).unwrap();
                    }
                    let (bw, bc) = eval(&outs);
                    let c = *cached.calls.lock().unwrap();
                    println!("margin {margin} K {k} passes {passes} wn {w}: best WER {:.4} ratio {:.3} clean-changed {:.4} | queries {q} changed {ch} | neural calls {} {:.1} s ({:.2} s/1000 words) rows {}", bw, bw / dw, bc, c.0, c.1, c.1 * 1000.0 / total as f64, unspin_neural::PROF[4].load(std::sync::atomic::Ordering::Relaxed));
                }
            }
        }
    }
    std::fs::write(
        cache_path,
        serde_json::to_vec(&*cached.map.lock().unwrap()).unwrap(),
    )
    .unwrap();
}
