//! Learning a spinner from its output (`unspin learn`), measured on the
//! held-out halves of the spinners' tables.
//!
//! For each profile, the documents are spun with the held-out half; the
//! first [`LEARN_WORDS`] words of spun output are learned from (no
//! originals), and the next [`LEARN_WORDS`] are restored with and without
//! the learned profile. The learned table is scored against the spinner's
//! own alignments of the learning text; the learned profile is also run on
//! clean text, and learned again from a mixture with 20% clean pages.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use unspin::eval::Metrics;
use unspin::learn::{learn, LearnOptions, SpinnerProfile, MIN_ASSERTED_COUNT};
use unspin::restore::Options;
use unspin::spinner::Spun;
use unspin::Engine;

use super::heldout::{spin_chain, Split};
use super::{ratio_of, score_outputs, Doc};
use unspin::spinner::Thesaurus;

/// Words learned from, and words restored after, per profile.
pub(super) const LEARN_WORDS: usize = 50_000;

/// A spinner pair must occur this often in the learning text to count
/// toward the table's recall (the target).
const MIN_PAIR_OCCURRENCES: usize = 3;

const PROFILES: [&str; 3] = ["news", "phrase", "phrase,news"];

/// One profile: learn, then restore the next words.
#[derive(Serialize)]
pub struct LearnRow {
    pub profile: String,
    pub half: &'static str,
    pub learn_words: usize,
    pub learn_seconds: f64,
    /// Spinner pairs (written -> original, single words) seen at least
    /// [`MIN_PAIR_OCCURRENCES`] times in the learning text.
    pub true_pairs: usize,
    /// Pairs the learned profile asserts.
    pub learned_pairs: usize,
    /// Share of `true_pairs` the profile asserts.
    pub pair_recall: f64,
    /// Share of asserted pairs the spinner made in the learning text.
    pub pair_precision: f64,
    /// The same, learned from 80% of the pages mixed with 20% clean ones.
    pub mixed_pair_precision: f64,
    /// The same, with 20% of the pages from another spinner (the synonym
    /// profile at rate 0.15, same half).
    pub other_pair_precision: f64,
    pub test_words: usize,
    /// WER ratio of the next words without and with the learned profile.
    pub ratio_without: Option<f64>,
    pub ratio_with: Option<f64>,
    /// WER ratio of the next words learned from themselves (`restore --learn`).
    pub ratio_in_place: Option<f64>,
    pub precision_with: Option<f64>,
    pub recall_with: Option<f64>,
    /// Clean words of the test documents changed under the learned profile.
    pub clean_changed_rate: Option<f64>,
    /// The token classes the learned profile says the spinner touches.
    pub classes: unspin::learn::TokenClasses,
    /// What the spinner did, from its alignment: the share of its swaps on
    /// capitalized words and on words touching punctuation.
    pub true_capitalized_share: f64,
    pub true_attached_share: f64,
}

/// The share of `spun`'s swaps (one-word spans) that are capitalized, and
/// that touch punctuation in the spun text.
fn class_shares(spun: &[Spun]) -> (f64, f64) {
    let (mut n, mut cap, mut att) = (0usize, 0usize, 0usize);
    for s in spun {
        for c in &s.changes {
            if c.spun.contains(' ') || c.original.contains(' ') {
                continue;
            }
            n += 1;
            if c.spun.chars().next().is_some_and(char::is_uppercase) {
                cap += 1;
            }
            let before = s.text[..c.spun_start].chars().next_back();
            let after = s.text[c.spun_end..].chars().next();
            let open = |ch: Option<char>| ch.is_none_or(char::is_whitespace);
            if !open(before) || !open(after) {
                att += 1;
            }
        }
    }
    let share = |k: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    (share(cap), share(att))
}

/// A profile learned from clean pages (a user who runs `restore --learn`
/// on text nobody spun).
#[derive(Serialize)]
pub struct CleanLearned {
    pub learn_words: usize,
    /// Pairs it asserts (none would be right).
    pub learned_pairs: usize,
    /// Words of the next clean pages changed when restored with it.
    pub test_words: usize,
    pub changed_rate: Option<f64>,
    /// The same pages learned from themselves (`restore --learn`).
    pub changed_rate_in_place: Option<f64>,
}

/// Learns from the clean learning pages and restores the next clean pages.
pub(super) fn run_clean(
    pool: &rayon::ThreadPool,
    docs: &[Doc],
    engine: &Engine,
) -> anyhow::Result<CleanLearned> {
    let (learn_docs, rest) = take_words(docs, LEARN_WORDS);
    let (test_docs, _) = take_words(rest, LEARN_WORDS);
    let texts: Vec<&str> = learn_docs.iter().map(|d| d.text.as_str()).collect();
    let tests: Vec<&str> = test_docs.iter().map(|d| d.text.as_str()).collect();
    let none: Vec<Option<Spun>> = vec![None; test_docs.len()];
    let changed = |p: &SpinnerProfile| -> anyhow::Result<Option<f64>> {
        let opts = Options {
            spinner: Some(engine.spinner_channel(p)),
            ..Options::default()
        };
        let out: Vec<String> = pool.install(|| {
            tests
                .par_iter()
                .map(|t| Ok(engine.restore(t, &opts)?.text))
                .collect::<anyhow::Result<_>>()
        })?;
        Ok(score_outputs(pool, test_docs, &none, &tests, &out)
            .metrics()
            .clean_changed_rate)
    };
    let learned = learn_on(pool, engine, &texts)?;
    let in_place = learn_on(pool, engine, &tests)?;
    Ok(CleanLearned {
        learn_words: words_of(learn_docs),
        learned_pairs: learned.best_pairs(MIN_ASSERTED_COUNT).len(),
        test_words: words_of(test_docs),
        changed_rate: changed(&learned)?,
        changed_rate_in_place: changed(&in_place)?,
    })
}

/// Runs the rows. `engine` carries the held-out model (its lexicon learned
/// from `split.learn`).
#[allow(clippy::too_many_arguments)]
pub(super) fn run(
    pool: &rayon::ThreadPool,
    docs: &[Doc],
    engine: &Engine,
    wn: &unspin::wordnet::WordNet,
    thesaurus: &std::sync::Arc<Thesaurus>,
    seed: u64,
    split: Split,
    log: &dyn Fn(&str),
) -> anyhow::Result<Vec<LearnRow>> {
    let (learn_docs, rest) = take_words(docs, LEARN_WORDS);
    let (test_docs, _) = take_words(rest, LEARN_WORDS);
    let mut rows = Vec::new();
    for (k, profile) in PROFILES.iter().enumerate() {
        let row_seed = seed + 20 + k as u64;
        let chain = spin_chain(wn, thesaurus, profile, None, row_seed, split.test)?;
        let spin = |d: &[Doc]| -> Vec<Spun> {
            pool.install(|| d.par_iter().map(|d| chain.spin(&d.text)).collect())
        };
        let learn_spun = spin(learn_docs);
        let test_spun = spin(test_docs);

        let t = Instant::now();
        let texts: Vec<&str> = learn_spun.iter().map(|s| s.text.as_str()).collect();
        let learned = learn_on(pool, engine, &texts)?;
        let learn_seconds = t.elapsed().as_secs_f64();

        // 20% of the pages clean: every fifth document is its original.
        let mixed: Vec<&str> = learn_spun
            .iter()
            .zip(learn_docs)
            .enumerate()
            .map(|(i, (s, d))| {
                if i % 5 == 4 {
                    d.text.as_str()
                } else {
                    s.text.as_str()
                }
            })
            .collect();
        let mixed_learned = learn_on(pool, engine, &mixed)?;
        // 20% of the pages from another spinner.
        let other = spin_chain(
            wn,
            thesaurus,
            "synonym",
            Some(0.15),
            row_seed + 100,
            split.test,
        )?;
        let other_spun: Vec<Spun> = pool.install(|| {
            learn_docs
                .par_iter()
                .enumerate()
                .map(|(i, d)| {
                    if i % 5 == 4 {
                        other.spin(&d.text)
                    } else {
                        learn_spun[i].clone()
                    }
                })
                .collect()
        });
        let other_texts: Vec<&str> = other_spun.iter().map(|s| s.text.as_str()).collect();
        let other_learned = learn_on(pool, engine, &other_texts)?;

        let truth = spinner_pairs(&learn_spun);
        let frequent: HashSet<&(String, String)> = truth
            .iter()
            .filter(|(_, &n)| n >= MIN_PAIR_OCCURRENCES)
            .map(|(p, _)| p)
            .collect();
        let score = |p: &SpinnerProfile| {
            let asserted: HashSet<(String, String)> =
                p.best_pairs(MIN_ASSERTED_COUNT).into_iter().collect();
            let right = asserted.iter().filter(|p| truth.contains_key(*p)).count();
            let found = frequent.iter().filter(|p| asserted.contains(**p)).count();
            (
                asserted.len(),
                found as f64 / frequent.len().max(1) as f64,
                right as f64 / asserted.len().max(1) as f64,
            )
        };
        let (learned_pairs, pair_recall, pair_precision) = score(&learned);
        let (_, _, mixed_pair_precision) = score(&mixed_learned);
        let (_, _, other_pair_precision) = score(&other_learned);

        let with = Options {
            spinner: Some(engine.spinner_channel(&learned)),
            ..Options::default()
        };
        let restore_all = |texts: &[&str], opts: &Options| -> anyhow::Result<Vec<String>> {
            pool.install(|| {
                texts
                    .par_iter()
                    .map(|t| Ok(engine.restore(t, opts)?.text))
                    .collect()
            })
        };
        let spun_opt: Vec<Option<Spun>> = test_spun.into_iter().map(Some).collect();
        let inputs: Vec<&str> = spun_opt.iter().flatten().map(|s| s.text.as_str()).collect();
        let metrics = |opts: &Options| -> anyhow::Result<Metrics> {
            let out = restore_all(&inputs, opts)?;
            Ok(score_outputs(pool, test_docs, &spun_opt, &inputs, &out).metrics())
        };
        let without_m = metrics(&Options::default())?;
        let with_m = metrics(&with)?;
        let in_place = learn_on(pool, engine, &inputs)?;
        let in_place_m = metrics(&Options {
            spinner: Some(engine.spinner_channel(&in_place)),
            ..Options::default()
        })?;
        let clean_inputs: Vec<&str> = test_docs.iter().map(|d| d.text.as_str()).collect();
        let clean_out = restore_all(&clean_inputs, &with)?;
        let none: Vec<Option<Spun>> = vec![None; test_docs.len()];
        let clean_m = score_outputs(pool, test_docs, &none, &clean_inputs, &clean_out).metrics();

        let row = LearnRow {
            profile: profile.to_string(),
            half: split.test.name(),
            learn_words: words_of(learn_docs),
            learn_seconds,
            true_pairs: frequent.len(),
            learned_pairs,
            pair_recall,
            pair_precision,
            mixed_pair_precision,
            other_pair_precision,
            test_words: words_of(test_docs),
            ratio_without: ratio_of(&without_m),
            ratio_with: ratio_of(&with_m),
            ratio_in_place: ratio_of(&in_place_m),
            precision_with: with_m.precision,
            recall_with: with_m.recall,
            clean_changed_rate: clean_m.clean_changed_rate,
            classes: learned.classes,
            true_capitalized_share: class_shares(&learn_spun).0,
            true_attached_share: class_shares(&learn_spun).1,
        };
        log(&format!(
            "learn {profile}, half {}: pairs recall {:.3} precision {:.3} (20% clean {:.3}, 20% another spinner {:.3}); ratio {} -> {} (in place {}); clean changed {}",
            row.half,
            row.pair_recall,
            row.pair_precision,
            row.mixed_pair_precision,
            row.other_pair_precision,
            fmt(row.ratio_without),
            fmt(row.ratio_with),
            fmt(row.ratio_in_place),
            row.clean_changed_rate.map_or("-".into(), |r| format!("{:.4}%", 100.0 * r)),
        ));
        rows.push(row);
    }
    Ok(rows)
}

fn learn_on(
    pool: &rayon::ThreadPool,
    engine: &Engine,
    texts: &[&str],
) -> anyhow::Result<SpinnerProfile> {
    Ok(pool.install(|| learn(engine, &texts, &LearnOptions::default(), &mut |_| {}))?)
}

fn fmt(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.3}"))
}

fn words_of(docs: &[Doc]) -> usize {
    docs.iter().map(|d| d.words).sum()
}

/// The first documents holding `want` words, and the rest.
fn take_words(docs: &[Doc], want: usize) -> (&[Doc], &[Doc]) {
    let mut words = 0;
    let mut n = 0;
    while n < docs.len() && words < want {
        words += docs[n].words;
        n += 1;
    }
    docs.split_at(n)
}

/// The spinner's single-word replacements (written -> original, lowercase)
/// with their occurrences.
fn spinner_pairs(spun: &[Spun]) -> HashMap<(String, String), usize> {
    let mut m = HashMap::new();
    for c in spun.iter().flat_map(|s| &s.changes) {
        if c.original.contains(char::is_whitespace) || c.spun.contains(char::is_whitespace) {
            continue;
        }
        *m.entry((c.spun.to_lowercase(), c.original.to_lowercase()))
            .or_default() += 1;
    }
    m
}

/// The Markdown table of the rows.
pub(super) fn markdown(rows: &[LearnRow], clean: Option<&CleanLearned>) -> String {
    let mut s = String::from(
        "\n### Learned spinners (`unspin learn` on held-out spinner output, no originals)\n\n\
         | profile | table half | learned from | pairs (>= 3 times) | pairs asserted | pair recall | pair precision | precision, 20% clean pages | precision, 20% another spinner | restored words | ratio without | ratio with | ratio, learned in place | clean changed |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} words, {:.1} s | {} | {} | {:.1}% | {:.1}% | {:.1}% | {:.1}% | {} | {} | {} | {} | {} |\n",
            r.profile,
            r.half.to_uppercase(),
            r.learn_words,
            r.learn_seconds,
            r.true_pairs,
            r.learned_pairs,
            100.0 * r.pair_recall,
            100.0 * r.pair_precision,
            100.0 * r.mixed_pair_precision,
            100.0 * r.other_pair_precision,
            r.test_words,
            fmt(r.ratio_without),
            fmt(r.ratio_with),
            fmt(r.ratio_in_place),
            r.clean_changed_rate
                .map_or("-".into(), |v| format!("{:.3}%", 100.0 * v)),
        ));
    }
    s.push_str(
        "\nToken classes the learned profiles say each spinner touches (1 = as often as bare lowercase words; \
         restore opens a class at 0.5), beside the share of the spinner's one-word swaps in that class:\n\n\
         | profile | capitalized, learned | capitalized swaps | punctuation-attached, learned | attached swaps | function words, learned |\n\
         |---|--:|--:|--:|--:|--:|\n",
    );
    for r in rows {
        let c = &r.classes;
        let rate = |x: &unspin::learn::ClassRate| {
            format!("{:.2} ({:.0} / {:.0})", x.touched, x.written, x.original)
        };
        s.push_str(&format!(
            "| {} | {} | {:.1}% | {} | {:.1}% | {} |\n",
            r.profile,
            rate(&c.capitalized),
            100.0 * r.true_capitalized_share,
            rate(&c.attached),
            100.0 * r.true_attached_share,
            rate(&c.function_words),
        ));
    }
    if let Some(c) = clean {
        let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.3}%", 100.0 * v));
        s.push_str(&format!(
            "\nLearned from {} words of clean pages: {} pairs asserted; the next {} clean words restored with that profile: {} changed; learned from themselves (`restore --learn`): {} changed.\n",
            c.learn_words,
            c.learned_pairs,
            c.test_words,
            pct(c.changed_rate),
            pct(c.changed_rate_in_place),
        ));
    }
    s
}
