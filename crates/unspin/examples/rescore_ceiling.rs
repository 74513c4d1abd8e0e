//! The most `--quality best` could gain: the rescoring step run with an
//! oracle in place of the neural model. The oracle knows the original text
//! and scores each offered candidate by how many word errors the text has
//! with it (0 for the right one), so every slot the rescoring looks at is
//! decided correctly; what is left are errors in slots it never looks at,
//! or where the right word is not among the alternatives offered.
//!
//! ```sh
//! cargo run --release -p unspin --example rescore_ceiling -- data/corpus/heldout.jsonl 10000 news
//! MARGIN=1.01 SMARGIN=1.01 K=8 cargo run --release -p unspin --example rescore_ceiling -- data/corpus/heldout.jsonl 10000 news
//! ```
//! Profiles: `news`, or a synonym rate such as `0.15`. The spinner seeds are
//! those of `unspin bench` (1 for news, 2-4 for the synonym rates in turn).
use unspin::eval::{evaluate, AlignmentRecord, EvalReport};
use unspin::rescore::{ContextQuery, ContextScorer};
use unspin::restore::{Model, Options, Restorer};
use unspin::spinner::{Spinner, Spun};

/// Scores candidates by the word errors they leave against one reference.
struct Oracle<'a> {
    reference: Vec<&'a str>,
}

/// Word-level Levenshtein distance.
fn word_edits(a: &[&str], b: &[&str]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, x) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(x != y);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

impl ContextScorer for Oracle<'_> {
    fn score(&self, text: &str, queries: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        Ok(queries
            .iter()
            .map(|q| {
                q.candidates
                    .iter()
                    .map(|c| {
                        let t = format!("{}{}{}", &text[..q.start], c, &text[q.end..]);
                        let words: Vec<&str> = t.split_whitespace().collect();
                        -(word_edits(&words, &self.reference) as f32) * 20.0
                    })
                    .collect()
            })
            .collect())
    }
}

fn records(s: &Spun) -> Vec<AlignmentRecord> {
    s.changes.iter().map(AlignmentRecord::from).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 4 {
        return Err("usage: rescore_ceiling CORPUS.jsonl WORDS news|RATE".into());
    }
    let words: usize = a[2].parse()?;
    let mut docs = Vec::new();
    let mut total = 0;
    for line in unspin::jsonl::lines(&std::fs::read_to_string(&a[1])?) {
        if total >= words {
            break;
        }
        let t = line
            .map_err(|e| e.error)?
            .text()
            .ok_or("document without text")?
            .to_string();
        total += t.split_whitespace().count();
        docs.push(t);
    }
    let model = Model::new(
        unspin::models::embedded_lm()?,
        unspin::models::embedded_lexicon()?,
    );
    let wn = unspin::models::embedded_wordnet()?;
    let spinner = match a[3].as_str() {
        "news" => Spinner::news(&wn, 1),
        r => {
            let rate: f64 = r.parse()?;
            let seed = [0.05, 0.15, 0.30]
                .iter()
                .position(|x| (x - rate).abs() < 1e-9)
                .map_or(2, |i| 2 + i as u64);
            Spinner::synonym(&wn, rate, seed)
        }
    };
    let spun: Vec<Spun> = docs.iter().map(|d| spinner.spin(d)).collect();
    let env = |k: &str, d: f32| -> f32 { std::env::var(k).map_or(d, |v| v.parse().unwrap_or(d)) };
    let d = Options::default();
    let opts = Options {
        rescore_margin: env("MARGIN", d.rescore_margin),
        rescore_synonym_margin: env("SMARGIN", d.rescore_synonym_margin),
        rescore_candidates: env("K", d.rescore_candidates as f32) as usize,
        rescore_min_prob: env("MIN_PROB", d.rescore_min_prob),
        ..d
    };
    let (mut default_report, mut oracle_report) = (EvalReport::default(), EvalReport::default());
    let (mut slots, mut changed) = (0, 0);
    for (doc, s) in docs.iter().zip(&spun) {
        let recs = records(s);
        let mut r = Restorer::new(&model, opts.clone());
        let out = r.restore_document(&s.text).text;
        default_report.merge(&evaluate(doc, &s.text, &out, Some(&recs)));
        let oracle = Oracle {
            reference: doc.split_whitespace().collect(),
        };
        let out = r.restore_document_best(&s.text, &oracle)?.text;
        slots += r.rescored().len();
        changed += r.rescored().iter().filter(|x| x.after != x.before).count();
        oracle_report.merge(&evaluate(doc, &s.text, &out, Some(&recs)));
    }
    let (dm, om) = (default_report.metrics(), oracle_report.metrics());
    let (dw, ow) = (dm.wer_output.unwrap_or(0.0), om.wer_output.unwrap_or(0.0));
    println!(
        "{} docs, {total} words, profile {}, margin {} K {} min prob {}: default WER {:.4}, oracle rescoring WER {:.4}, ratio {:.3}; clean words changed {:.4} -> {:.4}; {slots} slots rescored, {changed} changed",
        docs.len(),
        a[3],
        opts.rescore_margin,
        opts.rescore_candidates,
        opts.rescore_min_prob,
        dw,
        ow,
        if dw > 0.0 { ow / dw } else { f64::NAN },
        dm.clean_changed_rate.unwrap_or(0.0),
        om.clean_changed_rate.unwrap_or(0.0),
    );
    Ok(())
}
