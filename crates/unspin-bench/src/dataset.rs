//! Labelled documents for calibration and the benchmark: corpus readers
//! ([`read_paragraph_corpus`], [`read_jsonl_corpus`]), pieces of a fixed
//! number of words, spun copies made by the simulator under a
//! [`Condition`] ([`build_samples`]), and the quality measures over them
//! ([`eval_rows`], [`balanced_ece`], [`word_counts`]). Used by `unspin-build
//! calibrate` and `unspin detect-bench` ([`crate::detect`]); the detector
//! itself never needs it.

use serde::Serialize;

use unspin::detect::{features, Sums, WordScore};
use unspin::stats::{expected_calibration_error, roc_auc};
use unspin::Error;

/// A document of a corpus split.
#[derive(Clone, Debug)]
pub struct CorpusDoc {
    /// Identifier (from the JSONL file, or "train-N").
    pub id: String,
    /// Domain (speech, fiction, dictionary; "train" when unknown).
    pub domain: String,
    /// The text.
    pub text: String,
}

/// Reads `train.txt`/`heldout.txt`: one paragraph per line, documents separated by a blank line.
pub fn read_paragraph_corpus(text: &str) -> Vec<CorpusDoc> {
    text.split("\n\n")
        .map(|d| d.trim_matches('\n'))
        .filter(|d| !d.trim().is_empty())
        .enumerate()
        .map(|(i, d)| CorpusDoc {
            id: format!("doc-{i}"),
            domain: "unknown".into(),
            text: d.to_string(),
        })
        .collect()
}

/// Reads `heldout.jsonl`: {"id", "domain", "text"} per line.
pub fn read_jsonl_corpus(text: &str) -> Result<Vec<CorpusDoc>, Error> {
    let mut out = Vec::new();
    for line in unspin::jsonl::lines(text) {
        let line =
            line.map_err(|e| Error::Input(format!("line {}: not JSON: {}", e.number, e.error)))?;
        let k = line.number;
        let text = line
            .text()
            .ok_or_else(|| Error::Input(format!("line {k}: no string field \"text\"")))?;
        let id = match line.id() {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(x) => x.to_string(),
            None => format!("line-{k}"),
        };
        let domain = line.str_field("domain").unwrap_or("unknown").to_string();
        out.push(CorpusDoc {
            id,
            domain,
            text: text.to_string(),
        });
    }
    Ok(out)
}

/// Cuts a text into consecutive pieces of exactly `n` whitespace-separated
/// words (the separators between them kept as they are); a shorter tail is dropped.
pub fn pieces(text: &str, n: usize) -> Vec<&str> {
    let toks = unspin::spinner::whitespace_tokens(text);
    toks.chunks_exact(n.max(1))
        .map(|c| &text[c[0].0..c[c.len() - 1].1])
        .collect()
}

/// A spinner setting used to make labelled data.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Condition {
    /// Not spun.
    Clean,
    /// The news profile replacing a `rate` share of dictionary word types (default 0.8).
    News(f64),
    /// The synonym profile replacing a `rate` share of content words.
    Synonym(f64),
    /// The phrase thesaurus with half B of its table (a spinner no model
    /// has seen), rewriting a `rate` share of the spans it knows.
    Phrase(f64),
    /// The phrase thesaurus, then the news spinner, both with half B of
    /// their tables.
    PhraseNews,
}

impl Condition {
    /// "clean", "news", "news@0.5", "synonym@0.15".
    pub fn label(&self) -> String {
        match *self {
            Condition::Clean => "clean".into(),
            Condition::News(r) if (r - 0.8).abs() < 1e-9 => "news".into(),
            Condition::News(r) => format!("news@{r}"),
            Condition::Synonym(r) => format!("synonym@{r}"),
            Condition::Phrase(r) => format!("phrase@{r} (half b)"),
            Condition::PhraseNews => "phrase,news (half b)".into(),
        }
    }

    /// The simulator (`None` for clean), the way `unspin spin --rate` and
    /// `--half` set it.
    pub fn spinner<'w>(
        &self,
        wn: &'w unspin::wordnet::WordNet,
        seed: u64,
    ) -> Option<unspin::spinner::Chain<'w>> {
        use unspin::halves::Half;
        use unspin::spinner::{Chain, Spinner};
        match *self {
            Condition::PhraseNews => Some(
                Chain::from_names(wn, "phrase,news", None, seed, Some(Half::B))
                    .expect("known profiles"),
            ),
            Condition::Phrase(_) => {
                let p = self.profile()?;
                Some(Chain::new(vec![
                    Spinner::new(wn, p, seed).with_half(Some(Half::B))
                ]))
            }
            _ => Some(Chain::new(vec![Spinner::new(wn, self.profile()?, seed)])),
        }
    }

    /// The simulator profile (`None` for clean and chains), the way `unspin spin --rate` sets it.
    pub fn profile(&self) -> Option<unspin::spinner::Profile> {
        use unspin::spinner::{NewsConfig, PhraseConfig, Profile, SynonymConfig};
        match *self {
            Condition::Clean | Condition::PhraseNews => None,
            Condition::Phrase(r) => Some(Profile::Phrase(PhraseConfig {
                rate: r,
                ..PhraseConfig::default()
            })),
            Condition::News(r) => {
                let mut cfg = NewsConfig::default();
                let replaced = 1.0 - cfg.skip_share;
                let scale = if replaced > 0.0 { r / replaced } else { 0.0 };
                cfg.skip_share = 1.0 - r;
                cfg.off_rule_share *= scale;
                cfg.chain_share *= scale;
                Some(Profile::News(cfg))
            }
            Condition::Synonym(r) => Some(Profile::Synonym(SynonymConfig { rate: r })),
        }
    }
}

/// A labelled document: clean, spun as a whole, or with one spun passage.
#[derive(Clone, Debug)]
pub struct Sample {
    /// The text given to the detector.
    pub text: String,
    /// Whether any of it was spun.
    pub spun: bool,
    /// The setting that made it.
    pub condition: Condition,
    /// Its length class in words (50, 200, 1000).
    pub length: usize,
    /// Its corpus domain.
    pub domain: String,
    /// Byte spans of the spun words in `text`.
    pub spans: Vec<(usize, usize)>,
    /// The original wording of each span.
    pub originals: Vec<String>,
    /// Only a passage of the document was spun.
    pub passage: bool,
}

impl Sample {
    /// The condition's label, with "+passage" when only a passage was spun.
    pub fn label(&self) -> String {
        if self.passage {
            format!("{}+passage", self.condition.label())
        } else {
            self.condition.label()
        }
    }
}

/// Spins `text` (a whole piece) with `spinner`, or only the words
/// `[from, to)` of it when `passage` is given, and labels it.
pub fn spun_sample(
    spinner: &unspin::spinner::Chain,
    condition: Condition,
    text: &str,
    length: usize,
    domain: &str,
    passage: Option<(usize, usize)>,
) -> Sample {
    let (prefix, middle, suffix) = match passage {
        Some((a, b)) => {
            let toks = unspin::spinner::whitespace_tokens(text);
            let a = a.min(toks.len());
            let b = b.min(toks.len()).max(a);
            if a == b {
                (text, "", "")
            } else {
                let s = toks[a].0;
                let e = toks[b - 1].1;
                (&text[..s], &text[s..e], &text[e..])
            }
        }
        None => ("", text, ""),
    };
    let spun = spinner.spin(middle);
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    out.push_str(prefix);
    let off = out.len();
    out.push_str(&spun.text);
    out.push_str(suffix);
    let spans: Vec<(usize, usize)> = spun
        .changes
        .iter()
        .map(|c| (c.spun_start + off, c.spun_end + off))
        .collect();
    Sample {
        text: out,
        spun: !spans.is_empty(),
        condition,
        length,
        domain: domain.to_string(),
        spans,
        originals: spun.changes.iter().map(|c| c.original.clone()).collect(),
        passage: passage.is_some(),
    }
}

/// Which labelled documents to make from a corpus split.
#[derive(Clone, Debug)]
pub struct DatasetSpec {
    /// Document lengths in words.
    pub lengths: Vec<usize>,
    /// At most this many pieces per length (spread evenly over the corpus).
    pub max_pieces: usize,
    /// Spinner settings.
    pub conditions: Vec<Condition>,
    /// Spinner seeds, used in turn.
    pub seeds: Vec<u64>,
    /// Every piece spun under every condition (benchmark), or under one in turn (calibration).
    pub all_conditions: bool,
    /// Also one spun passage of about 200 words inside each piece of 1,000 words or more.
    pub partial: bool,
}

impl DatasetSpec {
    /// The benchmark's documents: every piece of each length clean and spun
    /// by news and synonym at 5%, 15% and 30%, the half-B phrase thesaurus
    /// and the half-B phrase,news chain (seeds 1-4), plus spun passages.
    pub fn benchmark(lengths: Vec<usize>, max_pieces: usize) -> Self {
        Self {
            lengths,
            max_pieces,
            conditions: vec![
                Condition::News(0.8),
                Condition::Synonym(0.05),
                Condition::Synonym(0.15),
                Condition::Synonym(0.3),
                Condition::Phrase(0.9),
                Condition::PhraseNews,
            ],
            seeds: vec![1, 2, 3, 4],
            all_conditions: true,
            partial: true,
        }
    }
}

/// Makes the labelled documents: each piece clean, and spun as `spec` says.
/// Deterministic. Spinners are built once per (condition, seed).
pub fn build_samples(
    wn: &unspin::wordnet::WordNet,
    docs: &[CorpusDoc],
    spec: &DatasetSpec,
) -> Vec<Sample> {
    let spinners: Vec<Vec<unspin::spinner::Chain>> = spec
        .conditions
        .iter()
        .map(|c| {
            spec.seeds
                .iter()
                .map(|&s| c.spinner(wn, s).expect("a spinning condition"))
                .collect()
        })
        .collect();
    // Consecutive documents of one domain are read as one running text, so
    // pieces longer than a document exist.
    let mut runs: Vec<(String, &str)> = Vec::new();
    for d in docs {
        match runs.last_mut() {
            Some((text, dom)) if *dom == d.domain.as_str() => {
                text.push('\n');
                text.push_str(&d.text);
            }
            _ => runs.push((d.text.clone(), d.domain.as_str())),
        }
    }
    let mut out = Vec::new();
    for &len in &spec.lengths {
        let all: Vec<(&str, &str)> = runs
            .iter()
            .flat_map(|(text, dom)| pieces(text, len).into_iter().map(move |p| (p, *dom)))
            .collect();
        let step = (all.len() as f64 / spec.max_pieces.max(1) as f64).max(1.0);
        let mut k = 0usize;
        let mut x = 0.0f64;
        while (x as usize) < all.len() {
            let (piece, domain) = all[x as usize];
            x += step;
            out.push(clean_sample(piece, len, domain));
            let seed_i = k % spec.seeds.len().max(1);
            if spec.all_conditions {
                for (ci, &c) in spec.conditions.iter().enumerate() {
                    out.push(spun_sample(
                        &spinners[ci][seed_i],
                        c,
                        piece,
                        len,
                        domain,
                        None,
                    ));
                }
            } else if !spec.conditions.is_empty() {
                let ci = k % spec.conditions.len();
                let seed_i = (k / spec.conditions.len()) % spec.seeds.len().max(1);
                out.push(spun_sample(
                    &spinners[ci][seed_i],
                    spec.conditions[ci],
                    piece,
                    len,
                    domain,
                    None,
                ));
            }
            if spec.partial && len >= 1000 {
                // One passage of 200 words, spun by the news profile or the synonym profile's highest rate.
                let strong: Vec<usize> = (0..spec.conditions.len())
                    .filter(|&i| match spec.conditions[i] {
                        Condition::News(r) => r >= 0.8 - 1e-9,
                        Condition::Synonym(r) => r >= 0.3 - 1e-9,
                        Condition::Clean | Condition::Phrase(_) | Condition::PhraseNews => false,
                    })
                    .collect();
                if !strong.is_empty() {
                    let ci = strong[k % strong.len()];
                    let at = (k * 131) % (len - 200);
                    out.push(spun_sample(
                        &spinners[ci][seed_i],
                        spec.conditions[ci],
                        piece,
                        len,
                        domain,
                        Some((at, at + 200)),
                    ));
                }
            }
            k += 1;
        }
    }
    out
}

/// Runs `f` over `items` on `threads` threads (scoped; results in order).
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.max(1).min(items.len().max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Calibration units of one scored sample: the whole document and, when it
/// has several sections, each section, with their labels (a section is spun
/// when a spun span starts inside it).
pub fn training_units(
    sample: &Sample,
    doc: &Sums,
    secs: &[(usize, usize, Sums)],
) -> Vec<(Vec<f64>, bool)> {
    let mut out = vec![(features(doc), sample.spun)];
    if secs.len() > 1 {
        for (a, b, s) in secs {
            let spun = sample.spans.iter().any(|sp| sp.0 >= *a && sp.0 < *b);
            out.push((features(s), spun));
        }
    }
    out
}

/// A clean labelled document.
pub fn clean_sample(text: &str, length: usize, domain: &str) -> Sample {
    Sample {
        text: text.to_string(),
        spun: false,
        condition: Condition::Clean,
        length,
        domain: domain.to_string(),
        spans: Vec::new(),
        originals: Vec::new(),
        passage: false,
    }
}

/// Word-level counts of a detection against the spinner's spans: a
/// whitespace word is spun when it overlaps a changed span, flagged when it
/// overlaps a flagged word at or above `threshold`.
pub fn word_counts(
    text: &str,
    spans: &[(usize, usize)],
    flagged: &[WordScore],
    threshold: f32,
) -> (usize, usize, usize) {
    let flags: Vec<(usize, usize)> = flagged
        .iter()
        .filter(|w| w.prob >= threshold)
        .map(|w| (w.start, w.end))
        .collect();
    let overlaps = |list: &[(usize, usize)], a: usize, b: usize| {
        let i = list.partition_point(|s| s.1 <= a);
        list.get(i).is_some_and(|s| s.0 < b)
    };
    let (mut tp, mut fp, mut fneg) = (0, 0, 0);
    for (a, b) in unspin::spinner::whitespace_tokens(text) {
        let truth = overlaps(spans, a, b);
        let flag = overlaps(&flags, a, b);
        match (truth, flag) {
            (true, true) => tp += 1,
            (false, true) => fp += 1,
            (true, false) => fneg += 1,
            _ => {}
        }
    }
    (tp, fp, fneg)
}

/// Detection quality on one group of labelled documents.
#[derive(Clone, Debug, Serialize)]
pub struct EvalRow {
    /// Document length in words.
    pub length: usize,
    /// Spinner setting of the spun documents (compared with the clean ones of the same length).
    pub condition: String,
    /// Clean documents.
    pub clean: usize,
    /// Spun documents.
    pub spun: usize,
    /// ROC AUC of spun against clean.
    pub auc: f64,
    /// Share of clean documents at or above the threshold.
    pub fpr: f64,
    /// Share of spun documents at or above the threshold.
    pub tpr: f64,
}

/// ROC AUC, false- and true-positive rates per (length, condition): the
/// spun documents of each condition against all clean documents of that length.
pub fn eval_rows(samples: &[Sample], probs: &[f64], threshold: f64) -> Vec<EvalRow> {
    let mut lengths: Vec<usize> = samples.iter().map(|s| s.length).collect();
    lengths.sort_unstable();
    lengths.dedup();
    let mut conds: Vec<String> = Vec::new();
    for s in samples.iter().filter(|s| s.condition != Condition::Clean) {
        let l = s.label();
        if !conds.contains(&l) {
            conds.push(l);
        }
    }
    let mut rows = Vec::new();
    for &len in &lengths {
        let clean: Vec<f64> = samples
            .iter()
            .zip(probs)
            .filter(|(s, _)| s.length == len && s.condition == Condition::Clean)
            .map(|(_, &p)| p)
            .collect();
        let fpr =
            clean.iter().filter(|&&p| p >= threshold).count() as f64 / clean.len().max(1) as f64;
        for c in &conds {
            // Documents the spinner left unchanged are not spun; they are left out.
            let spun: Vec<f64> = samples
                .iter()
                .zip(probs)
                .filter(|(s, _)| s.length == len && s.spun && &s.label() == c)
                .map(|(_, &p)| p)
                .collect();
            if spun.is_empty() {
                continue;
            }
            let scores: Vec<f64> = clean.iter().chain(&spun).copied().collect();
            let labels: Vec<bool> = clean
                .iter()
                .map(|_| false)
                .chain(spun.iter().map(|_| true))
                .collect();
            rows.push(EvalRow {
                length: len,
                condition: c.clone(),
                clean: clean.len(),
                spun: spun.len(),
                auc: roc_auc(&scores, &labels).unwrap_or(f64::NAN),
                fpr,
                tpr: spun.iter().filter(|&&p| p >= threshold).count() as f64 / spun.len() as f64,
            });
        }
    }
    rows
}

/// Expected calibration error (10 bins) over documents whose length is in
/// `lengths` (all when empty), with the clean documents repeated so both
/// classes count alike, as in calibration.
pub fn balanced_ece(samples: &[Sample], probs: &[f64], lengths: &[usize]) -> f64 {
    let keep = |s: &Sample| {
        (lengths.is_empty() || lengths.contains(&s.length))
            && (s.spun || s.condition == Condition::Clean)
    };
    let n_clean = samples.iter().filter(|s| keep(s) && !s.spun).count();
    let n_spun = samples.iter().filter(|s| keep(s) && s.spun).count();
    if n_clean == 0 || n_spun == 0 {
        return f64::NAN;
    }
    let rep = ((n_spun as f64 / n_clean as f64).round() as usize).max(1);
    let mut p = Vec::new();
    let mut l = Vec::new();
    for (s, &q) in samples.iter().zip(probs) {
        if !keep(s) {
            continue;
        }
        let times = if s.spun { 1 } else { rep };
        for _ in 0..times {
            p.push(q);
            l.push(s.spun);
        }
    }
    expected_calibration_error(&p, &l, 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_separators() {
        let t = "a b\nc  d e f g";
        assert_eq!(pieces(t, 2), vec!["a b", "c  d", "e f"]);
        assert!(pieces("a b", 3).is_empty());
    }

    #[test]
    fn word_counts_by_overlap() {
        let text = "he went to arsenic town";
        let spans = [(11, 18)];
        let flagged = vec![WordScore {
            start: 11,
            end: 18,
            text: "arsenic".into(),
            prob: 0.9,
            original: "as".into(),
            relation: "rule".into(),
            model: "news",
            rarity: -6.0,
            lm_gain: 5.0,
            llr: 4.0,
        }];
        assert_eq!(word_counts(text, &spans, &flagged, 0.5), (1, 0, 0));
        assert_eq!(word_counts(text, &spans, &flagged, 0.95), (0, 0, 1));
        assert_eq!(word_counts(text, &[], &flagged, 0.5), (0, 1, 0));
    }
}
