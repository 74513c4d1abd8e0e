//! Held-out dictionaries: restore on spinners whose tables no model has seen.
//!
//! Every profile's table is split in two by original ([`unspin::halves`]).
//! The restore model here uses a lexicon built from half A only
//! ([`Lexicon::build_from_half`]); each profile spins the corpus twice, with
//! half B (the target: a spinner nobody has seen) and with half A (the
//! first-half numbers, printed beside). The clean text is restored with the
//! same model. Digits changed by restore are counted on every row.
//!
//! Settings are chosen with `--heldout-dev`: the model learns from A1 and
//! the spinners use A2, so half B is never looked at while tuning.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use unspin::eval::{EvalReport, Metrics};
use unspin::halves::Half;
use unspin::lexicon::Lexicon;
use unspin::restore::Options;
use unspin::spinner::{Chain, Spinner, Thesaurus};
use unspin::wordnet::WordNet;
use unspin::Engine;

use super::{ratio_of, score_outputs, Doc};

/// Probability that an unseen original was replaced (see
/// [`Lexicon::build_from_half`]); chosen on the dev split (A1 -> A2), see
/// docs/BENCHMARKS.md, "Held-out dictionaries".
pub(super) const UNSEEN_REPLACE: f32 = 0.2;

/// Which halves a run uses: the model learns from `learn`, the target rows
/// spin with `test`.
#[derive(Clone, Copy)]
pub(super) struct Split {
    pub learn: Half,
    pub test: Half,
    pub unseen_replace: f32,
}

/// The profiles measured, with the rate each is spun at (`None`: its default).
const PROFILES: [(&str, Option<f64>); 4] = [
    ("news", None),
    ("synonym", Some(0.15)),
    ("phrase", None),
    ("phrase,news", None),
];

/// Targets from the phrase-thesauri issue, on half B (printed, never enforced).
const TARGETS: [(&str, f64); 3] = [("news", 0.20), ("phrase", 0.5), ("phrase,news", 0.4)];

/// One profile spun with one half of its table.
#[derive(Serialize)]
pub struct HeldoutRow {
    pub profile: String,
    /// The half spun with: the held-out one (`"b"`, or `"a2"` when tuning)
    /// or the one the model learned from.
    pub half: &'static str,
    /// Whether `half` is the held-out one.
    pub held_out: bool,
    pub seed: u64,
    pub input_words: usize,
    /// Words inside the spinner's changed spans, over the original's words.
    pub spun_word_share: f64,
    pub restore_seconds: f64,
    /// Applied changes of a digit that the spinner did not write.
    pub digits_changed: usize,
    pub eval: EvalReport,
}

/// The held-out part of `unspin bench`.
#[derive(Serialize)]
pub struct HeldoutReport {
    /// How the model was built.
    pub model: String,
    pub lexicon_build_seconds: f64,
    pub rows: Vec<HeldoutRow>,
    /// Clean corpus words, and words the held-out model changed.
    pub clean_words: usize,
    pub clean_changed: usize,
    pub clean_digits_changed: usize,
    /// Spinners learned from their held-out output ([`super::learn`]).
    pub learned: Vec<super::learn::LearnRow>,
    /// A profile learned from clean pages.
    pub learned_clean: Option<super::learn::CleanLearned>,
}

/// The held-out model: `engine`'s language model and phrase model with a
/// lexicon rebuilt from `split.learn` (the news table's half); returns it
/// with a description and the lexicon's build time.
pub(super) fn heldout_engine(engine: Engine, wn: &WordNet, split: Split) -> (Engine, String, f64) {
    let t = Instant::now();
    let (model, calibration) = engine.into_parts();
    let lexicon = Lexicon::build_for_lm(wn, &model.lm, Some(split.learn), split.unseen_replace);
    let seconds = t.elapsed().as_secs_f64();
    let (words, pairs) = lexicon.stats();
    let name = format!(
        "embedded language model and phrase model; lexicon rebuilt from half {} of the news table, \
         unseen originals replaced with probability {} ({words} words, {pairs} pairs, {seconds:.1} s)",
        split.learn.name().to_uppercase(),
        split.unseen_replace
    );
    (
        Engine::new(model.with_lexicon(lexicon), calibration),
        name,
        seconds,
    )
}

/// The spinner of `profile` (a chain like "phrase,news" too) cut to `half`
/// of its table, sharing one phrase thesaurus.
pub(super) fn spin_chain<'w>(
    wn: &'w WordNet,
    thesaurus: &std::sync::Arc<Thesaurus>,
    profile: &str,
    rate: Option<f64>,
    seed: u64,
    half: Half,
) -> anyhow::Result<Chain<'w>> {
    let chain = Chain::from_names(wn, profile, rate, seed, Some(half))?;
    Ok(Chain::new(
        chain
            .stages()
            .iter()
            .map(|s| {
                Spinner::new(wn, s.profile().clone(), s.seed())
                    .with_half(Some(half))
                    .with_thesaurus(thesaurus.clone())
            })
            .collect(),
    ))
}

impl HeldoutReport {
    /// A report with no rows yet (the learned-spinner rows alone).
    pub(super) fn empty(model: String, lexicon_build_seconds: f64) -> Self {
        HeldoutReport {
            model,
            lexicon_build_seconds,
            rows: Vec::new(),
            clean_words: 0,
            clean_changed: 0,
            clean_digits_changed: 0,
            learned: Vec::new(),
            learned_clean: None,
        }
    }
}

/// Runs the held-out rows over `docs` with the held-out model
/// ([`heldout_engine`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    pool: &rayon::ThreadPool,
    docs: &[Doc],
    engine: &Engine,
    model_name: String,
    lexicon_build_seconds: f64,
    wn: &WordNet,
    thesaurus: &std::sync::Arc<Thesaurus>,
    seed: u64,
    split: Split,
    log: &dyn Fn(&str),
) -> anyhow::Result<HeldoutReport> {
    let opts = Options::default();

    let mut rows = Vec::new();
    for (k, (profile, rate)) in PROFILES.iter().enumerate() {
        for half in [split.test, split.learn] {
            let row_seed = seed + 10 + k as u64;
            let chain = spin_chain(wn, thesaurus, profile, *rate, row_seed, half)?;
            let spun: Vec<Option<unspin::spinner::Spun>> =
                pool.install(|| docs.par_iter().map(|d| Some(chain.spin(&d.text))).collect());
            let row = restore_row(pool, docs, &spun, engine, &opts)?;
            let original_words: usize = docs.iter().map(|d| d.words).sum();
            let spun_words: usize = spun
                .iter()
                .flatten()
                .flat_map(|s| &s.changes)
                .map(|c| c.original.split_whitespace().count())
                .sum();
            let m = row.eval.metrics();
            log(&format!(
                "held-out {profile}, half {}: ratio {}",
                half.name(),
                ratio_of(&m).map_or("-".into(), |r| format!("{r:.3}"))
            ));
            rows.push(HeldoutRow {
                profile: profile.to_string(),
                half: half.name(),
                held_out: half == split.test,
                seed: row_seed,
                input_words: row.input_words,
                spun_word_share: spun_words as f64 / original_words.max(1) as f64,
                restore_seconds: row.seconds,
                digits_changed: row.digits_changed,
                eval: row.eval,
            });
        }
    }
    let clean: Vec<Option<unspin::spinner::Spun>> = vec![None; docs.len()];
    let c = restore_row(pool, docs, &clean, engine, &opts)?;
    let clean_changed = c.eval.metrics().clean_changed_rate.unwrap_or(0.0);
    Ok(HeldoutReport {
        model: model_name,
        lexicon_build_seconds,
        rows,
        clean_words: c.input_words,
        clean_changed: (clean_changed * c.input_words as f64).round() as usize,
        clean_digits_changed: c.digits_changed,
        learned: Vec::new(),
        learned_clean: None,
    })
}

struct Restored {
    input_words: usize,
    seconds: f64,
    digits_changed: usize,
    eval: EvalReport,
}

fn restore_row(
    pool: &rayon::ThreadPool,
    docs: &[Doc],
    spun: &[Option<unspin::spinner::Spun>],
    engine: &Engine,
    opts: &Options,
) -> anyhow::Result<Restored> {
    let inputs: Vec<&str> = docs
        .iter()
        .zip(spun)
        .map(|(d, s)| s.as_ref().map_or(d.text.as_str(), |s| s.text.as_str()))
        .collect();
    let t = Instant::now();
    let restored = inputs
        .iter()
        .map(|text| engine.restore(text, opts))
        .collect::<Result<Vec<_>, _>>()?;
    let seconds = t.elapsed().as_secs_f64();
    // A digit the spinner did not write is one restore must keep.
    let digits_changed = restored
        .iter()
        .zip(spun)
        .map(|(r, s)| {
            let written = |c: &unspin::restore::Change| {
                s.iter()
                    .flat_map(|s| &s.changes)
                    .any(|w| c.start < w.spun_end && w.spun_start < c.end)
            };
            r.changes
                .iter()
                .filter(|c| c.applied && unspin::numbers::has_digit(&c.spun) && !written(c))
                .count()
        })
        .sum();
    let outputs: Vec<String> = restored.into_iter().map(|r| r.text).collect();
    let eval = score_outputs(pool, docs, spun, &inputs, &outputs);
    Ok(Restored {
        input_words: inputs.iter().map(|t| t.split_whitespace().count()).sum(),
        seconds,
        digits_changed,
        eval,
    })
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.2}%", 100.0 * v))
}

/// The Markdown table of the held-out rows.
pub(super) fn markdown(r: &HeldoutReport) -> String {
    let mut s = String::new();
    s.push_str("\n### Held-out dictionaries (the model learns from one half of each table; target rows spin with the other)\n\n");
    s.push_str(&format!("Model: {}.\n\n", r.model));
    s.push_str("| profile | table half | words | words spun | WER spun | WER restored | ratio | target | precision | recall | clean digits changed |\n");
    s.push_str("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for row in &r.rows {
        let m: Metrics = row.eval.metrics();
        let ratio = ratio_of(&m);
        let target = TARGETS
            .iter()
            .find(|(p, _)| *p == row.profile && row.held_out)
            .map(|(_, t)| {
                let met = ratio.is_some_and(|v| v <= *t);
                format!("<= {t:.2} {}", if met { "met" } else { "missed" })
            })
            .unwrap_or_else(|| "-".into());
        s.push_str(&format!(
            "| {} | {} ({}) | {} | {:.1}% | {} | {} | {} | {} | {} | {} | {} |\n",
            row.profile,
            row.half.to_uppercase(),
            if row.held_out { "held out" } else { "learned" },
            row.input_words,
            100.0 * row.spun_word_share,
            cell(m.wer_input),
            cell(m.wer_output),
            ratio.map_or("-".into(), |v| format!("{v:.3}")),
            target,
            cell(m.precision),
            cell(m.recall),
            row.digits_changed,
        ));
    }
    s.push_str(&format!(
        "\nClean text with the same model: {} of {} words changed ({:.3}%), {} digits changed.\n",
        r.clean_changed,
        r.clean_words,
        100.0 * r.clean_changed as f64 / r.clean_words.max(1) as f64,
        r.clean_digits_changed
    ));
    s.push_str(&super::learn::markdown(
        &r.learned,
        r.learned_clean.as_ref(),
    ));
    s
}
