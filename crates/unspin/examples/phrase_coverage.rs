//! How much of a held-out half of the tortured-phrase list the phrase model
//! could find at all: whether each original is a known term, and whether the
//! model's word candidates and learned runs can spell it from the tortured
//! phrase. A ceiling for the unlisted-phrase finder, not a benchmark:
//! `cargo run --release --example phrase_coverage -- models/phrases.unspin b [TEXT.jsonl]`
//! (the half: a, b, a1 or a2).
//! With a JSON Lines file of `{"text"}` documents, only pairs whose original
//! occurs in it count, once per occurrence.

use std::collections::HashMap;

use unspin::tortured::{Half, PhraseModel};

fn reachable(model: &PhraseModel, spun: &[&str], orig: &[&str]) -> bool {
    // ok[i][j]: spun[..i] can spell orig[..j].
    let (n, m) = (spun.len(), orig.len());
    let mut ok = vec![vec![false; m + 1]; n + 1];
    ok[0][0] = true;
    for i in 0..n {
        for j in 0..=m {
            if !ok[i][j] {
                continue;
            }
            if j < m
                && (spun[i] == orig[j]
                    || model.candidates(spun[i]).iter().any(|(c, _)| c == orig[j]))
            {
                ok[i + 1][j + 1] = true;
            }
            for k in 2..=3.min(n - i) {
                let run = spun[i..i + k].join(" ");
                for (o, _) in model.chunk(&run) {
                    let ow: Vec<&str> = o.split(' ').collect();
                    if j + ow.len() <= m && orig[j..j + ow.len()] == ow[..] {
                        ok[i + k][j + ow.len()] = true;
                    }
                }
            }
            // A single word may also stand for a run of originals.
            for (o, _) in model.chunk(spun[i]) {
                let ow: Vec<&str> = o.split(' ').collect();
                if j + ow.len() <= m && orig[j..j + ow.len()] == ow[..] {
                    ok[i + 1][j + ow.len()] = true;
                }
            }
        }
    }
    ok[n][m]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model = PhraseModel::from_bytes(&std::fs::read(&args[0])?)?;
    let half = Half::from_name(args.get(1).map(String::as_str).unwrap_or("b"))?;
    let text = match args.get(2) {
        Some(p) => {
            let mut all = String::new();
            for line in std::fs::read_to_string(p)?.lines() {
                let v: serde_json::Value = serde_json::from_str(line)?;
                all.push(' ');
                all.push_str(&v["text"].as_str().unwrap_or("").to_lowercase());
                all.push(' ');
            }
            let norm: String = all
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || c == '-' || c == '\'' {
                        c
                    } else {
                        ' '
                    }
                })
                .collect();
            Some(format!(
                " {} ",
                norm.split_whitespace().collect::<Vec<_>>().join(" ")
            ))
        }
        None => None,
    };
    let mut counts: HashMap<(bool, bool), usize> = HashMap::new();
    let mut by_len: HashMap<(usize, bool, bool), usize> = HashMap::new();
    let mut missing_terms: Vec<(usize, String, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (t, o, _) in model.pairs() {
        if !unspin::halves::in_half(o, Some(half)) || !seen.insert(o.to_string()) {
            continue;
        }
        let weight = match &text {
            Some(tx) => tx.matches(&format!(" {o} ")).count(),
            None => 1,
        };
        if weight == 0 {
            continue;
        }
        let spun: Vec<&str> = t.split(' ').collect();
        let orig: Vec<&str> = o.split(' ').collect();
        if spun.len() == 1 && orig.len() == 1 {
            continue;
        }
        let term = model.term(o).is_some();
        let reach = reachable(&model, &spun, &orig);
        *counts.entry((term, reach)).or_default() += weight;
        *by_len.entry((orig.len(), term, reach)).or_default() += weight;
        if !(term && reach) {
            missing_terms.push((weight, t.to_string(), o.to_string()));
        }
    }
    let total: usize = counts.values().sum();
    println!("half {:?}: {total} (weighted) phrases", half);
    for term in [true, false] {
        for reach in [true, false] {
            let c = counts.get(&(term, reach)).copied().unwrap_or(0);
            println!(
                "  term known {term:5}  spellable {reach:5}: {c:6} ({:.1}%)",
                100.0 * c as f64 / total.max(1) as f64
            );
        }
    }
    let mut keys: Vec<_> = by_len.keys().copied().collect();
    keys.sort();
    for k in keys {
        println!(
            "  original words {} term {} spellable {}: {}",
            k.0, k.1, k.2, by_len[&k]
        );
    }
    missing_terms.sort_by_key(|m| std::cmp::Reverse(m.0));
    for (w, t, o) in missing_terms.iter().take(40) {
        println!(
            "  x{w:<4} {t} -> {o}  term={} spell={}",
            model.term(o).is_some(),
            reachable(
                &model,
                &t.split(' ').collect::<Vec<_>>(),
                &o.split(' ').collect::<Vec<_>>()
            )
        );
    }
    Ok(())
}
