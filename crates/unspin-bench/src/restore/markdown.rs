//! The Markdown report of `unspin bench`: the machine and the corpus, the
//! table of every condition, the targets, the side-by-side table of the
//! best mode and the per-relation recall of the news profile (as pasted
//! into docs/BENCHMARKS.md).

use std::fmt::Write as _;

use unspin::eval::Metrics;

use super::BenchReport;

/// Restored WER over spun-input WER.
pub(super) fn ratio_of(m: &Metrics) -> Option<f64> {
    match (m.wer_input, m.wer_output) {
        (Some(i), Some(o)) if i > 0.0 => Some(o / i),
        _ => None,
    }
}

fn pct(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".into(), |v| format!("{:.*}%", digits, 100.0 * v))
}

/// 1234567 -> "1,234,567".
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let head = match s.len() % 3 {
        0 => 3.min(s.len()),
        h => h,
    };
    let mut out = s[..head].to_string();
    for group in s.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.extend(group.iter().map(|&b| b as char));
    }
    out
}

fn mark(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

/// The report of the default mode (and of the best one, when it ran).
pub(super) fn markdown(r: &BenchReport) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(s, "- Date: {}", r.date);
    let _ = writeln!(
        s,
        "- Machine: {} CPUs ({}), {:.1} GiB memory, Linux {}; load average {} at the end",
        m.cpus, m.cpu_model, m.memory_gib, m.kernel, m.load_average
    );
    let commit = r
        .git_commit
        .as_deref()
        .map_or(String::new(), |c| format!(", commit {c}"));
    let _ = writeln!(
        s,
        "- unspin {}{commit}; command: `{}`",
        r.unspin_version, r.command
    );
    let _ = writeln!(s, "- Model: {}", r.model);
    let domains: Vec<String> = r
        .corpus
        .words_by_domain
        .iter()
        .map(|(d, w)| format!("{d} {}", thousands(*w as u64)))
        .collect();
    let _ = writeln!(
        s,
        "- Corpus: `{}`, {} of {} held-out documents, {} words ({})",
        r.corpus.path,
        r.corpus.documents,
        r.corpus.documents_total,
        thousands(r.corpus.words as u64),
        domains.join(", ")
    );
    let t = &r.timings;
    let _ = writeln!(
        s,
        "- Time: {:.1} s in all: load model {:.2} s, WordNet {:.2} s; spin {:.1} s and score {:.1} s on {} threads; restore {:.1} s on one thread; peak memory {}",
        t.total_seconds,
        t.load_model_seconds,
        t.load_wordnet_seconds,
        t.spin_seconds,
        t.eval_seconds,
        r.threads,
        t.restore_seconds,
        r.peak_memory_mib.map_or("-".into(), |v| format!("{v:.0} MiB (whole bench process)"))
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| profile | rate | spun-input WER | restored WER | ratio | precision | recall | F1 | clean words changed | words/s, 1 thread (wall / CPU) |"
    );
    let _ = writeln!(s, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    for row in &r.rows {
        let mm = row.eval.metrics();
        let ratio = ratio_of(&mm).map_or("-".into(), |v| format!("{v:.3}"));
        let (p, rc, f) = if row.profile == "clean" {
            // Nothing needs a change: every change is a false positive.
            (pct(mm.precision, 1), "-".into(), "-".into())
        } else {
            (pct(mm.precision, 1), pct(mm.recall, 1), pct(mm.f1, 1))
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} ({} of {}) | {} / {} |",
            row.profile,
            row.rate,
            pct(mm.wer_input, 2),
            pct(mm.wer_output, 2),
            ratio,
            p,
            rc,
            f,
            pct(mm.clean_changed_rate, 2),
            thousands(row.eval.clean_words_changed),
            thousands(row.eval.clean_words),
            thousands(row.words_per_second.round() as u64),
            row.words_per_cpu_second
                .map_or("-".into(), |v| thousands(v.round() as u64))
        );
    }
    let _ = writeln!(s);
    let tg = &r.targets;
    let _ = writeln!(
        s,
        "Targets: news restored/input WER ratio <= {:.2}: {} ({}); clean words changed <= {}: {} ({}); restore >= {} words/s on one thread: {} wall ({}), {} per CPU second ({}).",
        tg.news_ratio_max,
        tg.news_ratio.map_or("-".into(), |v| format!("{v:.3}")),
        mark(tg.news_ratio_ok),
        pct(Some(tg.clean_changed_max), 0),
        pct(tg.clean_changed, 2),
        mark(tg.clean_changed_ok),
        thousands(tg.words_per_second_min as u64),
        thousands(tg.words_per_second.round() as u64),
        mark(tg.words_per_second_ok),
        tg.words_per_cpu_second
            .map_or("-".into(), |v| thousands(v.round() as u64)),
        mark(tg.words_per_cpu_second_ok)
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "WER: word-level Levenshtein errors over reference words (whitespace-separated words, case-sensitive). \
Ratio: restored WER / spun-input WER. Precision/recall/F1: changed words (edit positions) that now match the reference. \
Clean words changed: input words equal to the reference that restore changed anyway. \
words/s: input words over the wall time, and over the thread's CPU time, of `Restorer::restore` on one thread (tokenize, lattice, decode, EM, output), model load excluded."
    );
    if r.rows.iter().any(|x| x.best.is_some()) {
        best_markdown(&mut s, r);
    }
    if let Some(news) = r.rows.iter().find(|x| x.profile == "news") {
        let _ = writeln!(s);
        let _ = writeln!(s, "### Per-relation recall (news)");
        let _ = writeln!(s);
        let _ = writeln!(s, "| relation | spun spans | restored | recall |");
        let _ = writeln!(s, "|---|--:|--:|--:|");
        let mut rels: Vec<_> = news.eval.relations.iter().collect();
        rels.sort_by(|a, b| b.1.total.cmp(&a.1.total).then(a.0.cmp(b.0)));
        let (mut tot, mut res) = (0, 0);
        for (rel, c) in rels {
            tot += c.total;
            res += c.restored;
            let _ = writeln!(
                s,
                "| {rel} | {} | {} | {} |",
                thousands(c.total),
                thousands(c.restored),
                pct((c.total > 0).then(|| c.restored as f64 / c.total as f64), 1)
            );
        }
        let _ = writeln!(
            s,
            "| **all** | {} | {} | {} |",
            thousands(tot),
            thousands(res),
            pct((tot > 0).then(|| res as f64 / tot as f64), 1)
        );
        if news.eval.alignment_records_skipped > 0 {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "({} alignment records skipped: offsets did not match their text.)",
                news.eval.alignment_records_skipped
            );
        }
    }
    s
}

/// Targets of `--quality best` (issue 6).
const TARGET_BEST_RATIO: f64 = 0.70;
const TARGET_BEST_SECONDS_PER_1000: f64 = 3.0;
const TARGET_BEST_PEAK_MIB: f64 = 1e9 / (1024.0 * 1024.0);

/// The side-by-side table of `--quality best`.
fn best_markdown(s: &mut String, r: &BenchReport) {
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "### Neural rescoring (`--quality best`) against the default mode"
    );
    let _ = writeln!(s);
    if let Some(t) = r.timings.load_neural_seconds {
        let _ = writeln!(s, "Neural model loaded in {t:.2} s (not included below).");
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "| profile | rate | spun-input WER | default WER | best WER | best / default | clean words changed (default / best) | rescored slots (changed) | s per 1,000 words, best (wall / CPU) | default (wall) |"
    );
    let _ = writeln!(s, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    let mut ratios = Vec::new();
    let mut clean_ok = true;
    let (mut words, mut secs) = (0usize, 0.0f64);
    for row in &r.rows {
        let Some(b) = &row.best else { continue };
        let d = row.eval.metrics();
        let m = b.eval.metrics();
        let ratio = match (d.wer_output, m.wer_output) {
            (Some(x), Some(y)) if x > 0.0 => Some(y / x),
            _ => None,
        };
        if row.profile != "clean" {
            ratios.push((format!("{} {}", row.profile, row.rate), ratio));
        }
        clean_ok &= m.clean_changed_rate.unwrap_or(0.0) <= d.clean_changed_rate.unwrap_or(0.0);
        // The time target is for spun articles (clean text costs nothing).
        if row.profile == "news" {
            words += row.input_words;
            secs += b.restore_seconds;
        }
        let per_k = |x: f64| x * 1000.0 / row.input_words.max(1) as f64;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} / {} | {} ({}) | {:.2} / {} | {:.3} |",
            row.profile,
            row.rate,
            pct(d.wer_input, 2),
            pct(d.wer_output, 2),
            pct(m.wer_output, 2),
            ratio.map_or("-".into(), |v| format!("{v:.3}")),
            pct(d.clean_changed_rate, 2),
            pct(m.clean_changed_rate, 2),
            thousands(b.rescored_slots as u64),
            thousands(b.rescored_changed as u64),
            per_k(b.restore_seconds),
            b.restore_cpu_seconds
                .map_or("-".into(), |c| format!("{:.2}", per_k(c))),
            per_k(row.restore_seconds),
        );
    }
    let per_1000 = secs * 1000.0 / words.max(1) as f64;
    let _ = writeln!(s);
    let ratio_txt: Vec<String> = ratios
        .iter()
        .map(|(name, v)| {
            format!(
                "{name} {} ({})",
                v.map_or("-".into(), |v| format!("{v:.3}")),
                mark(v.is_some_and(|v| v <= TARGET_BEST_RATIO))
            )
        })
        .collect();
    let peak = r.peak_memory_mib;
    let _ = writeln!(
        s,
        "Targets: best/default WER <= {TARGET_BEST_RATIO:.2}: {}; clean words changed no higher than default: {}; \
at most {TARGET_BEST_SECONDS_PER_1000:.0} s per 1,000 words of news-spun text (wall): {per_1000:.2} s ({}); peak memory under 1 GB: {} ({}).",
        ratio_txt.join(", "),
        mark(clean_ok),
        mark(per_1000 <= TARGET_BEST_SECONDS_PER_1000),
        peak.map_or("-".into(), |v| format!("{:.0} MB", v * 1.048_576)),
        mark(peak.is_some_and(|v| v < TARGET_BEST_PEAK_MIB)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_format() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
