//! `unspin-build calibrate`: fits the detector's calibration on the training split
//! (and, with `--clean-extra`, on clean documents of other registers).
//!
//! Documents of 50, 200 and 1,000 words are cut from the training corpus;
//! each is scored clean and spun (the news profile at two rates, the synonym
//! profile at five, seeds in turn; pieces of 1,000 words also get one spun
//! passage of 200 words). The detector's fast pass turns every document, and
//! every section of the long ones, into a few features, and a logistic
//! regression with the classes balanced per length maps them to a
//! probability. The default threshold is the smallest one at which at most
//! `--max-fpr` of the clean training documents of 200 words or more score
//! at or above it (and never below 0.5).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use unspin::detect::{
    fit_logistic, threshold_for_fpr, Calibration, DetectOptions, Detector, ScoreParams, WordScore,
    FEATURE_NAMES,
};
use unspin::lexicon::Lexicon;
use unspin::lm::train::{train, TrainOptions};
use unspin::lm::LanguageModel;
use unspin::restore::{Model, Options, Restorer};
use unspin::wordnet::WordNet;
use unspin_bench::dataset::{
    balanced_ece, build_samples, eval_rows, par_map, read_jsonl_corpus, read_paragraph_corpus,
    training_units, word_counts, Condition, CorpusDoc, DatasetSpec, Sample,
};

/// Arguments of `unspin-build calibrate`.
#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// WordNet file (for the spinner simulators).
    #[arg(long, value_name = "FILE", default_value = "models/wordnet.unspin")]
    wordnet: PathBuf,
    /// Language model file.
    #[arg(long, value_name = "FILE", default_value = "models/lm.unspin")]
    lm: PathBuf,
    /// Channel lexicon file.
    #[arg(long, value_name = "FILE", default_value = "models/lexicon.unspin")]
    lexicon: PathBuf,
    /// Training split: one paragraph per line, documents separated by a blank line.
    #[arg(long, value_name = "FILE", default_value = "data/corpus/train.txt")]
    train: PathBuf,
    /// Output file.
    #[arg(long, value_name = "FILE", default_value = "models/calibration.unspin")]
    out: PathBuf,
    /// Most documents per length.
    #[arg(long, default_value_t = 6000)]
    max_pieces: usize,
    /// Highest share of clean training documents (200 words or more) the default threshold may flag.
    #[arg(long, default_value_t = 0.002)]
    max_fpr: f64,
    /// L2 penalty of the logistic regression (on standardized features).
    #[arg(long, default_value_t = 1.0)]
    l2: f64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Scoring: weight of the language-model gain.
    #[arg(long)]
    lm_weight: Option<f32>,
    /// Scoring: originals considered per word.
    #[arg(long)]
    max_candidates: Option<usize>,
    /// Scoring: prior share of words a synonym spinner replaces.
    #[arg(long)]
    synonym_prior: Option<f32>,
    /// Scoring: channel probability of one synonym.
    #[arg(long)]
    synonym_channel: Option<f32>,
    /// The language model without the training split (CMU en-us), for
    /// cross-fitting: each fold of the training split is scored with this
    /// model mixed with a Kneser-Ney model of the other folds, the way the
    /// shipped model is built (see scripts/build-models.sh). Without it,
    /// every document is scored with --lm.
    #[arg(long, value_name = "FILE")]
    base_lm: Option<PathBuf>,
    /// Weight of --base-lm in the mixture (as `unspin-build lm-mix --lambda`).
    #[arg(long, default_value_t = 0.7)]
    lm_lambda: f64,
    /// Clean documents of other registers (JSON Lines with "text"; e.g. the
    /// dev split of the clean multi-domain benchmark), fitted beside the
    /// training split: each piece clean and spun, scored with --lm, which
    /// never saw them. The threshold then also keeps at most --max-fpr of
    /// their clean pieces of 200+ words, and of the documents as given,
    /// flagged. Repeatable.
    #[arg(long, value_name = "JSONL")]
    clean_extra: Vec<PathBuf>,
    /// Cross-fitting folds.
    #[arg(long, default_value_t = 4)]
    folds: usize,
    /// Diagnostics only (never used for fitting): also report the metrics on this JSONL corpus.
    #[arg(long, value_name = "JSONL")]
    report_on: Option<PathBuf>,
    /// Print per-word diagnostics for one condition label (e.g. synonym@0.15) and stop.
    #[arg(long, hide = true)]
    diagnose: Option<String>,
    /// Write the per-document features of the training set to this TSV file (for inspection).
    #[arg(long, value_name = "TSV")]
    dump: Option<PathBuf>,
}

/// The spinner settings of the benchmark (issue 4): the news profile, the synonym profile at 5%, 15% and 30%.
fn conditions() -> Vec<Condition> {
    vec![
        Condition::News(0.8),
        Condition::Synonym(0.05),
        Condition::Synonym(0.15),
        Condition::Synonym(0.3),
    ]
}

/// One cross-fitting fold: the model that never saw its documents, and the documents.
struct Fold {
    model: Model,
    samples: Vec<Sample>,
    /// Documents of other registers (`--clean-extra`), not of the training split.
    extra: bool,
}

/// Runs `unspin-build calibrate`.
pub fn run(a: &CalibrateArgs) -> Result<()> {
    let t0 = Instant::now();
    let threads = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let wn =
        WordNet::load(&a.wordnet).with_context(|| format!("loading {}", a.wordnet.display()))?;
    let lex_bytes =
        std::fs::read(&a.lexicon).with_context(|| format!("reading {}", a.lexicon.display()))?;
    let lexicon = Lexicon::from_bytes(&lex_bytes)
        .with_context(|| format!("loading {}", a.lexicon.display()))?;
    let train_text = std::fs::read_to_string(&a.train)
        .with_context(|| format!("reading {}", a.train.display()))?;
    let docs = read_paragraph_corpus(&train_text);
    eprintln!("read {} training documents", docs.len());

    let mut params = ScoreParams::default();
    if let Some(v) = a.lm_weight {
        params.lm_weight = v;
    }
    if let Some(v) = a.max_candidates {
        params.max_candidates = v;
    }
    if let Some(v) = a.synonym_prior {
        params.synonym_prior = v;
    }
    if let Some(v) = a.synonym_channel {
        params.synonym_channel = v;
    }
    let mut calib = Calibration::uncalibrated();
    calib.params = params.clone();
    let spec = DatasetSpec {
        lengths: vec![50, 200, 1000],
        max_pieces: a.max_pieces,
        conditions: conditions(),
        seeds: vec![101, 102, 103, 104],
        all_conditions: false,
        partial: true,
    };

    // The documents of each fold are scored with a language model that never
    // saw them, as held-out text is scored with the shipped one.
    let mut folds: Vec<Fold> = Vec::new();
    match &a.base_lm {
        Some(base_path) => {
            let base = LanguageModel::load_path(base_path)
                .with_context(|| format!("loading {}", base_path.display()))?;
            let k = a.folds.max(2);
            for f in 0..k {
                let t = Instant::now();
                let rest: Vec<&str> = docs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % k != f)
                    .map(|(_, d)| d.text.as_str())
                    .collect();
                let kn = train(&rest.join("\n\n"), &TrainOptions::default())
                    .context("training the fold's language model")?;
                let lm = LanguageModel::mix(&base, &kn, a.lm_lambda).context("mixing")?;
                let mine: Vec<CorpusDoc> = docs
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % k == f)
                    .map(|(_, d)| d.clone())
                    .collect();
                let fold_spec = DatasetSpec {
                    max_pieces: a.max_pieces.div_ceil(k),
                    ..spec.clone()
                };
                let samples = build_samples(&wn, &mine, &fold_spec);
                eprintln!(
                    "fold {}/{k}: language model without its {} documents built in {:.1?}; {} labelled documents",
                    f + 1,
                    mine.len(),
                    t.elapsed(),
                    samples.len()
                );
                folds.push(Fold {
                    model: Model::new(lm, lexicon.clone()),
                    samples,
                    extra: false,
                });
            }
        }
        None => {
            eprintln!(
                "warning: no --base-lm: every document is scored with {}; if that model was trained on {}, \
                 the calibration will be too confident about clean text",
                a.lm.display(),
                a.train.display()
            );
            let lm = LanguageModel::load_path(&a.lm)
                .with_context(|| format!("loading {}", a.lm.display()))?;
            let samples = build_samples(&wn, &docs, &spec);
            folds.push(Fold {
                model: Model::new(lm, lexicon.clone()),
                samples,
                extra: false,
            });
        }
    }
    let mut extra = Vec::new();
    if !a.clean_extra.is_empty() {
        for path in &a.clean_extra {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            extra.extend(read_jsonl_corpus(&text).with_context(|| path.display().to_string())?);
        }
        let lm = LanguageModel::load_path(&a.lm)
            .with_context(|| format!("loading {}", a.lm.display()))?;
        let samples = build_samples(&wn, &extra, &spec);
        eprintln!(
            "other registers: {} documents, {} labelled documents, scored with {}",
            extra.len(),
            samples.len(),
            a.lm.display()
        );
        folds.push(Fold {
            model: Model::new(lm, lexicon.clone()),
            samples,
            extra: true,
        });
    }

    if let Some(label) = &a.diagnose {
        let f = &folds[0];
        diagnose(&Detector::new(&f.model, calib.clone()), &f.samples, label);
        return Ok(());
    }
    let t = Instant::now();
    let mut samples: Vec<&Sample> = Vec::new();
    let mut scored = Vec::new();
    let mut is_extra = Vec::new();
    for f in &folds {
        let detector = Detector::new(&f.model, calib.clone());
        scored.extend(par_map(&f.samples, threads, |s| detector.sums(&s.text)));
        samples.extend(f.samples.iter());
        is_extra.resize(is_extra.len() + f.samples.len(), f.extra);
    }
    let words: f64 = samples.iter().map(|s| s.length as f64).sum();
    eprintln!(
        "scored {} documents ({words:.0} words) in {:.1?} on {threads} threads",
        samples.len(),
        t.elapsed()
    );

    // Units (documents and sections) with weights balancing the classes per length.
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut group = Vec::new();
    for (s, (doc, secs)) in samples.iter().zip(&scored) {
        if s.condition != Condition::Clean && !s.spun {
            continue; // the spinner changed nothing
        }
        for (k, (f, label)) in training_units(s, doc, secs).into_iter().enumerate() {
            let len = if k == 0 { s.length } else { 200 };
            x.push(f);
            y.push(if label { 1.0 } else { 0.0 });
            group.push((len, label));
        }
    }
    let mut counts: std::collections::BTreeMap<(usize, bool), f64> = Default::default();
    for g in &group {
        *counts.entry(*g).or_default() += 1.0;
    }
    let weight: Vec<f64> = group.iter().map(|g| 1000.0 / counts[g]).collect();
    if let Some(path) = &a.dump {
        let mut out = String::from("label\tlength\tcondition");
        for n in FEATURE_NAMES {
            out.push('\t');
            out.push_str(n);
        }
        out.push('\n');
        for (s, (doc, _)) in samples.iter().zip(&scored) {
            let f = unspin::detect::features(doc);
            out.push_str(&format!("{}\t{}\t{}", s.spun as u8, s.length, s.label()));
            for v in f {
                out.push_str(&format!("\t{v:.4}"));
            }
            out.push('\n');
        }
        std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
    }
    let fit = fit_logistic(&x, &y, &weight, a.l2);
    eprintln!(
        "fitted on {} units in {} Newton steps: bias {:.3}, weights {:?}",
        x.len(),
        fit.iterations,
        fit.bias,
        fit.weights
            .iter()
            .map(|w| (w * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>()
    );
    calib.mean = fit.mean.clone();
    calib.scale = fit.scale.clone();
    calib.weights = fit.weights.clone();
    calib.bias = fit.bias;
    // Texts of several sections: their largest log-odds, recalibrated (classes balanced).
    let (mut mx, mut my, mut mw) = (Vec::new(), Vec::new(), Vec::new());
    for (s, (d, secs)) in samples.iter().zip(&scored) {
        if secs.len() > 1 && (s.spun || s.condition == Condition::Clean) {
            mx.push(vec![calib.max_logit(d, secs)]);
            my.push(if s.spun { 1.0 } else { 0.0 });
            mw.push(s.spun);
        }
    }
    if !mx.is_empty() {
        let n_pos = mw.iter().filter(|&&p| p).count().max(1) as f64;
        let n_neg = mw.iter().filter(|&&p| !p).count().max(1) as f64;
        let w: Vec<f64> = mw
            .iter()
            .map(|&p| if p { 1000.0 / n_pos } else { 1000.0 / n_neg })
            .collect();
        let m = fit_logistic(&mx, &my, &w, 0.0);
        calib.multi_scale = m.weights[0] / m.scale[0];
        calib.multi_bias = m.bias - m.weights[0] * m.mean[0] / m.scale[0];
        eprintln!(
            "texts of several sections ({}): log-odds scaled by {:.3}, shifted by {:.3}",
            mx.len(),
            calib.multi_scale,
            calib.multi_bias
        );
    }

    // Document probabilities the way detection computes them.
    let probs: Vec<f64> = scored
        .iter()
        .map(|(d, s)| calib.doc_prob(d, s) as f64)
        .collect();
    // The threshold keeps each population of clean documents (the training
    // split, and the other registers when given) under --max-fpr; for the
    // other registers, at each length of 200+ words apart (long documents
    // of an unseen register score higher than short ones).
    let clean = |extra: bool, lengths: &[usize]| -> Vec<f64> {
        samples
            .iter()
            .zip(&probs)
            .zip(&is_extra)
            .filter(|((s, _), &e)| {
                e == extra && s.condition == Condition::Clean && lengths.contains(&s.length)
            })
            .map(|((_, &p), _)| p)
            .collect()
    };
    calib.threshold = threshold_for_fpr(&clean(false, &[200, 1000]), a.max_fpr).max(0.5);
    if !a.clean_extra.is_empty() {
        for len in [200, 1000] {
            let other = threshold_for_fpr(&clean(true, &[len]), a.max_fpr);
            eprintln!(
                "threshold: {:.4} so far; {other:.4} on the other registers' {len}-word documents",
                calib.threshold
            );
            calib.threshold = calib.threshold.max(other);
        }
        // The other registers' documents as they are (whole, uncut), the way
        // a user hands them to `unspin detect`: a 1,037-word document splits
        // into other sections than its 1,000-word piece, and scored higher.
        let fold = folds.iter().find(|f| f.extra).expect("the extra fold");
        let detector = Detector::new(&fold.model, calib.clone());
        let whole: Vec<f64> = par_map(&extra, threads, |d| {
            let (doc, secs) = detector.sums(&d.text);
            calib.doc_prob(&doc, &secs) as f64
        });
        let other = threshold_for_fpr(&whole, a.max_fpr);
        eprintln!(
            "threshold: {:.4} so far; {other:.4} on the other registers' {} whole documents",
            calib.threshold,
            whole.len()
        );
        calib.threshold = calib.threshold.max(other);
    }

    // Word thresholds: where precision meets recall on the spun news documents.
    let (fast, refined) = word_scores(&folds, &calib, threads);
    calib.word_threshold = break_even("fast pass", &fast);
    calib.restore_word_threshold = break_even("with the restorer", &refined);
    calib.provenance = format!(
        "fitted by unspin-build calibrate on {} ({} documents: {} clean / spun pieces of 50, 200 and 1,000 words, \
         conditions {}; {}); threshold: at most {:.2}% of clean training documents of 200+ words flagged{}",
        a.train.display(),
        samples.len(),
        samples.iter().filter(|s| !s.spun).count(),
        conditions()
            .iter()
            .map(|c| c.label())
            .collect::<Vec<_>>()
            .join(", "),
        if folds.len() > 1 {
            format!(
                "{}-fold cross-fitting: each fold scored with {} mixed (lambda {}) with a Kneser-Ney model of the other folds",
                folds.len(),
                a.base_lm.as_ref().map_or(String::new(), |p| p.display().to_string()),
                a.lm_lambda
            )
        } else {
            format!("scored with {}", a.lm.display())
        },
        a.max_fpr * 100.0,
        if a.clean_extra.is_empty() {
            String::new()
        } else {
            format!(
                ", and of the other registers' clean documents, in pieces and whole ({}, fitted beside it, scored with {})",
                a.clean_extra
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                a.lm.display()
            )
        }
    );
    let owned: Vec<Sample> = samples.iter().map(|s| (*s).clone()).collect();
    report("training split", &owned, &probs, calib.threshold);

    let bytes = calib.to_bytes();
    Calibration::from_bytes(&bytes).context("reloading the written calibration")?;
    crate::write_file(&a.out, &bytes)?;
    println!(
        "wrote {} ({} bytes): threshold {:.4}, word thresholds {:.2} (fast) / {:.2} (restorer), in {:.1?}",
        a.out.display(),
        bytes.len(),
        calib.threshold,
        calib.word_threshold,
        calib.restore_word_threshold,
        t0.elapsed()
    );

    if let Some(path) = &a.report_on {
        let lm = LanguageModel::load_path(&a.lm)
            .with_context(|| format!("loading {}", a.lm.display()))?;
        let model = Model::new(lm, lexicon.clone());
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let docs = read_jsonl_corpus(&text).with_context(|| path.display().to_string())?;
        let spec = DatasetSpec::benchmark(vec![50, 200, 1000], 4000);
        let samples = build_samples(&wn, &docs, &spec);
        let detector = Detector::new(&model, calib.clone());
        let probs: Vec<f64> = par_map(&samples, threads, |s| detector.score(&s.text) as f64);
        report(
            &format!(
                "{} with {} (diagnostics only)",
                path.display(),
                a.lm.display()
            ),
            &samples,
            &probs,
            calib.threshold,
        );
    }
    Ok(())
}

/// Per-word scores of the spun news documents of every fold: (flagged
/// words, spinner spans) for the fast pass and with the restorer.
type WordRuns = Vec<(String, Vec<(usize, usize)>, Vec<WordScore>)>;

fn word_scores(folds: &[Fold], calib: &Calibration, threads: usize) -> (WordRuns, WordRuns) {
    let opts = DetectOptions {
        word_floor: 0.0,
        ..DetectOptions::default()
    };
    let (mut fast, mut refined) = (Vec::new(), Vec::new());
    for f in folds {
        let detector = Detector::new(&f.model, calib.clone());
        let news: Vec<&Sample> = f
            .samples
            .iter()
            .filter(|s| s.condition == Condition::News(0.8) && s.spun && !s.passage)
            .collect();
        let runs = par_map(&news, threads, |s| {
            let d = detector.detect(&s.text, &opts);
            let mut r = Restorer::new(&f.model, Options::default());
            let mut d2 = d.clone();
            detector.refine(&s.text, &mut d2, &mut r, &opts);
            (
                (s.text.clone(), s.spans.clone(), d.flagged),
                (s.text.clone(), s.spans.clone(), d2.flagged),
            )
        });
        for (a, b) in runs {
            fast.push(a);
            refined.push(b);
        }
    }
    (fast, refined)
}

/// The word threshold at which precision and recall are closest (ties: the higher F1).
fn break_even(what: &str, runs: &WordRuns) -> f64 {
    let mut best = (f64::INFINITY, 0.5);
    let mut line = String::new();
    for k in 1..=18 {
        let t = k as f64 * 0.05;
        let (tp, fp, fneg) = runs.iter().fold((0, 0, 0), |acc, (text, spans, flagged)| {
            let c = word_counts(text, spans, flagged, t as f32);
            (acc.0 + c.0, acc.1 + c.1, acc.2 + c.2)
        });
        let p = tp as f64 / (tp + fp).max(1) as f64;
        let r = tp as f64 / (tp + fneg).max(1) as f64;
        line.push_str(&format!(" {t:.2}:{p:.3}/{r:.3}"));
        if (p - r).abs() < best.0 {
            best = ((p - r).abs(), t);
        }
    }
    eprintln!("word precision/recall by threshold, {what}:{line}");
    best.1
}

fn report(what: &str, samples: &[Sample], probs: &[f64], threshold: f64) {
    eprintln!("{what}: threshold {threshold:.4}");
    eprintln!(
        "  {:>6} {:<14} {:>6} {:>6} {:>8} {:>7} {:>7}",
        "words", "condition", "clean", "spun", "AUC", "FPR", "TPR"
    );
    for r in eval_rows(samples, probs, threshold) {
        eprintln!(
            "  {:>6} {:<14} {:>6} {:>6} {:>8.4} {:>6.2}% {:>6.1}%",
            r.length,
            r.condition,
            r.clean,
            r.spun,
            r.auc,
            r.fpr * 100.0,
            r.tpr * 100.0
        );
    }
    eprintln!(
        "  ECE (balanced): all {:.4}; 50 {:.4}; 200 {:.4}; 1000 {:.4}",
        balanced_ece(samples, probs, &[]),
        balanced_ece(samples, probs, &[50]),
        balanced_ece(samples, probs, &[200]),
        balanced_ece(samples, probs, &[1000])
    );
}

fn diagnose(detector: &Detector, samples: &[Sample], label: &str) {
    let opts = DetectOptions {
        word_floor: -1.0,
        ..DetectOptions::default()
    };
    let mut spun_llr = Vec::new();
    let mut clean_llr = Vec::new();
    let (mut spans, mut covered, mut right) = (0, 0, 0);
    let mut shown = 0;
    let mut shown_clean = 0;
    let mut ranks: std::collections::BTreeMap<usize, usize> = Default::default();
    for s in samples.iter().filter(|s| s.length == 200) {
        let is_target = s.condition.label() == label;
        if !is_target && s.condition != Condition::Clean {
            continue;
        }
        let d = detector.detect(&s.text, &opts);
        for w in &d.flagged {
            let truth = s.spans.iter().position(|sp| sp.0 < w.end && w.start < sp.1);
            let llr = w.llr;
            match truth {
                Some(_) => spun_llr.push(llr),
                None if s.condition == Condition::Clean => {
                    clean_llr.push(llr);
                    if llr > 3.0 && shown_clean < 60 {
                        shown_clean += 1;
                        let a = s.text[..w.start]
                            .rfind(' ')
                            .map_or(0, |x| s.text[..x].rfind(' ').map_or(0, |y| y + 1));
                        let b = s.text[w.end..].find(' ').map_or(s.text.len(), |x| {
                            w.end + x + 1 + s.text[w.end + x + 1..].find(' ').unwrap_or(0)
                        });
                        eprintln!(
                            "  clean {:.2} gain {:.1} rarity {:.1}: {:?} -> {:?} ({}) in {:?}",
                            llr,
                            w.lm_gain,
                            w.rarity,
                            w.text,
                            w.original,
                            w.relation,
                            &s.text[a..b.min(s.text.len())]
                        );
                    }
                }
                None => {}
            }
        }
        if is_target {
            for (k, sp) in s.spans.iter().enumerate() {
                spans += 1;
                match d.flagged.iter().find(|w| w.start < sp.1 && sp.0 < w.end) {
                    Some(w) => {
                        covered += 1;
                        let lex = &detector.model().lexicon;
                        let spun_l = w.text.to_lowercase();
                        let orig_l = s.originals[k].to_lowercase();
                        if let (Some(sid), Some(oid)) = (lex.id(&spun_l), lex.id(&orig_l)) {
                            let c = lex.candidates(sid);
                            match c.iter().position(|c| c.original == oid) {
                                Some(r) => *ranks.entry(r.min(16)).or_insert(0) += 1,
                                None => *ranks.entry(99).or_insert(0) += 1,
                            }
                            if c.len() >= 16 {
                                *ranks.entry(100).or_insert(0) += 1;
                            }
                        } else {
                            *ranks.entry(999).or_insert(0) += 1;
                        }
                        if w.original.eq_ignore_ascii_case(&s.originals[k]) {
                            right += 1;
                        } else if shown < 10 {
                            shown += 1;
                            eprintln!(
                                "  wrong: {:?} -> best {:?} (true {:?}) llr {:.2} gain {:.2}",
                                w.text, w.original, s.originals[k], w.llr, w.lm_gain
                            );
                        }
                    }
                    None => {
                        if shown < 10 {
                            shown += 1;
                            eprintln!(
                                "  missed: {:?} (true {:?})",
                                &s.text[sp.0..sp.1],
                                s.originals[k]
                            );
                        }
                    }
                }
            }
        }
    }
    eprintln!("rank of the true original among the lexicon's candidates (99: absent, 100: list full, 999: not in lexicon): {ranks:?}");
    eprintln!(
        "{label}: {spans} spun spans, {covered} with a site, {right} with the right original"
    );
    for v in [&mut spun_llr, &mut clean_llr] {
        v.sort_by(|a, b| a.total_cmp(b));
    }
    let q = |v: &Vec<f32>, p: f64| {
        v.get(((v.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(f32::NAN)
    };
    for (name, v) in [("spun", &spun_llr), ("clean", &clean_llr)] {
        eprintln!(
            "  {name} sites {}: llr q10 {:.2} q50 {:.2} q90 {:.2} q99 {:.2} q999 {:.2}",
            v.len(),
            q(v, 0.1),
            q(v, 0.5),
            q(v, 0.9),
            q(v, 0.99),
            q(v, 0.999)
        );
    }
}
