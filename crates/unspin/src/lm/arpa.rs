//! Streaming reader for ARPA back-off language models (orders 1-3 kept;
//! sections of higher orders are read past and ignored).

use std::io::BufRead;

use rustc_hash::FxHashMap;

use super::raw::{Bigram, RawModel, Trigram};
use crate::Error;

fn bad(line: u64, why: impl std::fmt::Display) -> Error {
    Error::Model(format!("ARPA language model, line {line}: {why}"))
}

fn parse_f32(s: &str, line: u64) -> Result<f32, Error> {
    let v: f32 = s
        .parse()
        .map_err(|_| bad(line, format!("bad number {s:?}")))?;
    if v.is_nan() {
        return Err(bad(line, "NaN value"));
    }
    // Some writers use -inf for impossible events.
    Ok(v.clamp(-99.0, 99.0))
}

struct Lines<'a, R> {
    r: &'a mut R,
    lineno: u64,
}

impl<R: BufRead> Lines<'_, R> {
    /// Reads the next line into `line` (without its end); false at EOF.
    fn next(&mut self, line: &mut String) -> Result<bool, Error> {
        line.clear();
        let n = self.r.read_line(line).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                bad(self.lineno + 1, "not UTF-8 text")
            } else {
                Error::Io(format!("reading ARPA language model: {e}"))
            }
        })?;
        if n == 0 {
            return Ok(false);
        }
        self.lineno += 1;
        let trimmed = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(trimmed);
        Ok(true)
    }
}

/// Reads the model. Lines are read one at a time; only the n-grams are kept.
pub(super) fn read<R: BufRead>(mut r: R) -> Result<RawModel, Error> {
    let mut line = String::new();
    let mut lines = Lines {
        r: &mut r,
        lineno: 0,
    };
    let header_err = |t: &str| Error::Model(format!("ARPA language model: bad header line {t:?}"));

    // Header.
    loop {
        if !lines.next(&mut line)? {
            return Err(Error::Model(
                "ARPA language model: no \\data\\ section".into(),
            ));
        }
        if line.trim() == "\\data\\" {
            break;
        }
    }
    let mut declared: Vec<u64> = Vec::new();
    loop {
        if !lines.next(&mut line)? {
            return Err(Error::Model("ARPA language model: truncated header".into()));
        }
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let Some(rest) = t.strip_prefix("ngram ") else {
            break;
        };
        let (a, b) = rest.split_once('=').ok_or_else(|| header_err(t))?;
        let k: usize = a.trim().parse().map_err(|_| header_err(t))?;
        let c: u64 = b.trim().parse().map_err(|_| header_err(t))?;
        if k != declared.len() + 1 {
            return Err(Error::Model(format!(
                "ARPA language model: n-gram counts out of order at {t:?}"
            )));
        }
        declared.push(c);
    }
    if declared.is_empty() {
        return Err(Error::Model(
            "ARPA language model: no n-gram counts in the header".into(),
        ));
    }
    let order = declared.len().min(3);
    let mut m = RawModel {
        order,
        ..Default::default()
    };
    let cap = |c: u64| c.min(50_000_000) as usize;
    m.words.reserve(cap(declared[0]));
    m.uni.reserve(cap(declared[0]));
    if order >= 2 {
        m.bi.reserve(cap(declared[1]));
    }
    if order >= 3 {
        m.tri.reserve(cap(declared[2]));
    }
    let mut ids: FxHashMap<String, u32> = FxHashMap::default();
    let mut section = 0usize; // order of the current section, 0 = none
    let mut n_uni = 0u64;
    // Entries found per order, to hold against the header's counts.
    let mut found = vec![0u64; declared.len()];
    loop {
        let t = line.trim();
        if t == "\\end\\" {
            break;
        }
        if let Some(k) = t.strip_prefix('\\').and_then(|s| s.strip_suffix("-grams:")) {
            let k: usize = k
                .parse()
                .map_err(|_| bad(lines.lineno, format!("bad section header {t:?}")))?;
            if k == 0 || k > declared.len() {
                return Err(bad(
                    lines.lineno,
                    format!("section {t:?} not declared in the header"),
                ));
            }
            section = k;
        } else if !t.is_empty() && section == 0 {
            return Err(bad(lines.lineno, format!("unexpected line {t:?}")));
        } else if !t.is_empty() && section > 3 {
            // Orders above 3 are not used, but still counted.
            found[section - 1] += 1;
        } else if !t.is_empty() {
            found[section - 1] += 1;
            let mut f = t.split_whitespace();
            let prob = parse_f32(f.next().unwrap_or(""), lines.lineno)?;
            let mut w = [0u32; 3];
            for slot in w.iter_mut().take(section) {
                let word = f
                    .next()
                    .ok_or_else(|| bad(lines.lineno, format!("expected {section} words")))?;
                *slot = if section == 1 {
                    let id = m.words.len() as u32;
                    if ids.insert(word.to_string(), id).is_some() {
                        return Err(bad(lines.lineno, format!("duplicate unigram {word:?}")));
                    }
                    m.words.push(word.to_string());
                    id
                } else {
                    *ids.get(word).ok_or_else(|| {
                        bad(
                            lines.lineno,
                            format!("word {word:?} is not among the unigrams"),
                        )
                    })?
                };
            }
            let bo = match f.next() {
                Some(s) => parse_f32(s, lines.lineno)?,
                None => 0.0,
            };
            if f.next().is_some() {
                return Err(bad(lines.lineno, "too many fields"));
            }
            match section {
                1 => {
                    m.uni.push((prob, bo));
                    n_uni += 1;
                }
                2 => m.bi.push(Bigram {
                    w1: w[0],
                    w2: w[1],
                    prob,
                    bo,
                }),
                _ => m.tri.push(Trigram {
                    w1: w[0],
                    w2: w[1],
                    w3: w[2],
                    prob,
                }),
            }
        }
        if !lines.next(&mut line)? {
            break; // tolerate a missing end marker
        }
    }
    if n_uni == 0 {
        return Err(Error::Model("ARPA language model: no unigrams".into()));
    }
    for (k, (&d, &f)) in declared.iter().zip(&found).enumerate() {
        if d != f {
            return Err(Error::Model(format!(
                "ARPA language model: the header declares {d} {}-grams, the file has {f} (a truncated or edited file?)",
                k + 1
            )));
        }
    }
    m.validate("ARPA language model")?;
    Ok(m)
}
