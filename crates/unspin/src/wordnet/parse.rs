//! The build-time reader of Princeton WordNet's dictionary files
//! ([`WordNet::from_dict_dir`]): `unspin-build wordnet` runs it on Debian's
//! `wordnet-base` to write `models/wordnet.unspin`; everything else loads
//! that file. Kept apart from the queries because nothing at run time needs
//! it, and its line-by-line error handling is about the file format only.
//!
//! File format: `wndb(5WN)` and `wninput(5WN)` of WordNet 3.0. Each data
//! line is `offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (ptr_symbol
//! offset pos source/target)* ... | gloss`, with `w_cnt` and source/target in
//! hexadecimal; each index line is `lemma pos synset_cnt p_cnt ptr_symbol*
//! sense_cnt tagsense_cnt synset_offset*`.

use std::collections::HashMap;
use std::path::Path;

use rustc_hash::FxHashMap;

use super::{
    file_index, io_err, LemmaId, Pointer, Pos, Repr, SynsetId, WordNet, P_ALSO, P_ANT, P_DERIV,
    P_HYPER, P_INST, P_PERT, P_SIMILAR,
};
use crate::Error;

fn pointer_code(sym: &str) -> Option<u8> {
    Some(match sym {
        "@" => P_HYPER,
        "@i" => P_INST,
        "&" => P_SIMILAR,
        "^" => P_ALSO,
        "+" => P_DERIV,
        "\\" => P_PERT,
        "!" => P_ANT,
        _ => return None,
    })
}

fn model_err(path: &Path, line: usize, why: &str) -> Error {
    Error::Model(format!("{}:{}: {why}", path.display(), line + 1))
}

/// Strips an adjective position marker such as `(a)`, `(p)` or `(ip)`.
fn strip_marker(word: &str) -> &str {
    if word.ends_with(')') {
        if let Some(i) = word.rfind('(') {
            return &word[..i];
        }
    }
    word
}

struct RawSynset {
    ty: u8,
    lexfile: u8,
    offset: u32,
    words: Vec<String>,
    /// (code, source, target word, file index, offset)
    ptrs: Vec<(u8, u8, u8, u8, u32)>,
}

impl WordNet {
    /// Parses a Princeton WordNet dictionary directory (e.g. `/usr/share/wordnet`).
    pub fn from_dict_dir(dir: &Path) -> Result<Self, Error> {
        let read = |name: &str| -> Result<String, Error> {
            let p = dir.join(name);
            let bytes = std::fs::read(&p).map_err(|e| io_err(&p, e))?;
            // The files are ASCII apart from a few Latin-1 bytes in glosses.
            Ok(String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
        };

        // Data files: synsets.
        let mut raw: Vec<RawSynset> = Vec::new();
        for pos in Pos::ALL {
            let name = format!("data.{}", pos.file_suffix());
            let text = read(&name)?;
            let path = dir.join(&name);
            for (ln, line) in text.lines().enumerate() {
                if line.starts_with("  ") || line.is_empty() {
                    continue;
                }
                let body = line.split(" | ").next().unwrap_or(line);
                let mut f = body.split_ascii_whitespace();
                let bad = |why: &str| model_err(&path, ln, why);
                let offset: u32 = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad offset"))?;
                let lexfile: u8 = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad lex_filenum"))?;
                let ty = match f.next() {
                    Some("n") => 0,
                    Some("v") => 1,
                    Some("a") => 2,
                    Some("r") => 3,
                    Some("s") => 4,
                    _ => return Err(bad("bad ss_type")),
                };
                let w_cnt = f
                    .next()
                    .and_then(|s| usize::from_str_radix(s, 16).ok())
                    .ok_or_else(|| bad("bad w_cnt"))?;
                let mut words = Vec::with_capacity(w_cnt);
                for _ in 0..w_cnt {
                    let w = f.next().ok_or_else(|| bad("missing word"))?;
                    f.next().ok_or_else(|| bad("missing lex_id"))?;
                    words.push(strip_marker(w).to_string());
                }
                let p_cnt: usize = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad p_cnt"))?;
                let mut ptrs = Vec::new();
                for _ in 0..p_cnt {
                    let sym = f.next().ok_or_else(|| bad("missing pointer symbol"))?;
                    let off: u32 = f
                        .next()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| bad("bad pointer offset"))?;
                    let tpos = f
                        .next()
                        .and_then(|s| s.chars().next())
                        .and_then(Pos::from_letter)
                        .ok_or_else(|| bad("bad pointer pos"))?;
                    let st = f.next().ok_or_else(|| bad("missing source/target"))?;
                    if st.len() != 4 {
                        return Err(bad("bad source/target"));
                    }
                    let src = u8::from_str_radix(&st[..2], 16).map_err(|_| bad("bad source"))?;
                    let tgt = u8::from_str_radix(&st[2..], 16).map_err(|_| bad("bad target"))?;
                    if let Some(code) = pointer_code(sym) {
                        ptrs.push((code, src, tgt, file_index(tpos), off));
                    }
                }
                raw.push(RawSynset {
                    ty,
                    lexfile,
                    offset,
                    words,
                    ptrs,
                });
            }
        }

        let mut offsets: FxHashMap<(u8, u32), SynsetId> = FxHashMap::default();
        for (i, s) in raw.iter().enumerate() {
            let file = match s.ty {
                0 => 0,
                1 => 1,
                2 | 4 => 2,
                _ => 3,
            };
            offsets.insert((file, s.offset), SynsetId(i as u32));
        }

        // Index files: lemmas and their senses.
        let mut index_senses: Vec<(String, Pos, Vec<SynsetId>)> = Vec::new();
        for pos in Pos::ALL {
            let name = format!("index.{}", pos.file_suffix());
            let text = read(&name)?;
            let path = dir.join(&name);
            for (ln, line) in text.lines().enumerate() {
                if line.starts_with("  ") || line.is_empty() {
                    continue;
                }
                let bad = |why: &str| model_err(&path, ln, why);
                let mut f = line.split_ascii_whitespace();
                let lemma = f.next().ok_or_else(|| bad("missing lemma"))?.to_lowercase();
                f.next();
                let synset_cnt: usize = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad synset_cnt"))?;
                let p_cnt: usize = f
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| bad("bad p_cnt"))?;
                for _ in 0..p_cnt {
                    f.next();
                }
                f.next(); // sense_cnt
                f.next(); // tagsense_cnt
                let mut ids = Vec::with_capacity(synset_cnt);
                for _ in 0..synset_cnt {
                    let off: u32 = f
                        .next()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| bad("bad synset offset"))?;
                    let id = *offsets
                        .get(&(file_index(pos), off))
                        .ok_or_else(|| bad("synset offset not in data file"))?;
                    ids.push(id);
                }
                index_senses.push((lemma, pos, ids));
            }
        }

        // Exception lists.
        let mut exc: [Vec<(String, Vec<String>)>; 4] = Default::default();
        for pos in Pos::ALL {
            let name = format!("{}.exc", pos.file_suffix());
            let p = dir.join(&name);
            if !p.exists() {
                continue;
            }
            let text = read(&name)?;
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for line in text.lines() {
                let mut f = line.split_ascii_whitespace();
                let Some(form) = f.next() else { continue };
                let e = map.entry(form.to_lowercase()).or_default();
                for b in f {
                    let b = b.to_lowercase();
                    if !e.contains(&b) {
                        e.push(b);
                    }
                }
            }
            let mut v: Vec<_> = map.into_iter().filter(|(_, b)| !b.is_empty()).collect();
            v.sort();
            exc[pos.idx()] = v;
        }

        // Lemma table.
        let mut lemma_set: Vec<String> = index_senses.iter().map(|(l, _, _)| l.clone()).collect();
        for s in &raw {
            for w in &s.words {
                lemma_set.push(w.to_lowercase());
            }
        }
        lemma_set.sort_unstable();
        lemma_set.dedup();
        let index: FxHashMap<String, LemmaId> = lemma_set
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), LemmaId(i as u32)))
            .collect();

        let n = lemma_set.len();
        let mut per: Vec<Vec<SynsetId>> = vec![Vec::new(); n * 4];
        for (lemma, pos, ids) in index_senses {
            let l = index[&lemma].0 as usize;
            per[l * 4 + pos.idx()] = ids;
        }
        let mut sense_off = Vec::with_capacity(n * 4 + 1);
        let mut senses = Vec::new();
        sense_off.push(0u32);
        for v in per {
            senses.extend(v);
            sense_off.push(senses.len() as u32);
        }

        let mut r = Repr {
            lemma_freq: vec![0; n],
            sense_off,
            senses,
            exc,
            ..Repr::default()
        };
        r.member_off.push(0);
        r.ptr_off.push(0);
        for s in &raw {
            r.syn_type.push(s.ty);
            r.syn_lexfile.push(s.lexfile);
            r.syn_offset.push(s.offset);
            for w in &s.words {
                let lower = w.to_lowercase();
                if *w != lower {
                    r.cased.push((r.members.len() as u32, w.clone()));
                }
                r.members.push(index[&lower]);
            }
            r.member_off.push(r.members.len() as u32);
            for &(code, src, tgt, file, off) in &s.ptrs {
                let target = *offsets.get(&(file, off)).ok_or_else(|| {
                    Error::Model(format!("WordNet pointer to missing synset {off}"))
                })?;
                r.ptrs.push(Pointer {
                    code,
                    source: src,
                    target_word: tgt,
                    target,
                });
            }
            r.ptr_off.push(r.ptrs.len() as u32);
        }

        // Optional frequency counts.
        let cnt = dir.join("cntlist.rev");
        if cnt.exists() {
            let text = read("cntlist.rev")?;
            for line in text.lines() {
                let mut f = line.split_ascii_whitespace();
                let (Some(key), Some(_), Some(c)) = (f.next(), f.next(), f.next()) else {
                    continue;
                };
                let Some(lemma) = key.split('%').next() else {
                    continue;
                };
                let Ok(c) = c.parse::<u32>() else { continue };
                if let Some(id) = index.get(&lemma.to_lowercase()) {
                    r.lemma_freq[id.0 as usize] = r.lemma_freq[id.0 as usize].saturating_add(c);
                }
            }
        }
        r.lemmas = lemma_set;
        let mut wn = Self::from_repr(r);
        wn.index = index;
        Ok(wn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wordnet::tests::test_dependency;

    #[test]
    fn system_wordnet_parses_to_the_embedded_model() {
        let Some(dir) = test_dependency(
            "UNSPIN_TEST_WORDNET_DIR",
            "usr/share/wordnet",
            "wordnet-base",
        ) else {
            return;
        };
        let wn = WordNet::from_dict_dir(&dir).expect("parse Debian's WordNet");
        assert_eq!(wn.synset_count(), 82115 + 13767 + 18156 + 3621);
        // Byte for byte what `unspin-build wordnet` wrote into models/ (the
        // model build is reproducible), so the tests on the embedded model
        // below test the parser too.
        let embedded = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../models/wordnet.unspin"
        ))
        .expect("models/wordnet.unspin");
        assert!(
            wn.to_bytes() == embedded,
            "parsing {} no longer gives models/wordnet.unspin",
            dir.display()
        );
    }
}
