use super::*;
use std::collections::HashMap;

const SMALL: &str = "\
Some preamble text that readers skip.

\\data\\
ngram 1=6
ngram 2=5
ngram 3=2

\\1-grams:
-1.0\t<s>\t-0.5
-0.7\t</s>
-0.8\tthe\t-0.3
-1.2\tcat\t-0.2
-1.5\tsat\t-0.1
-2.0\t<unk>

\\2-grams:
-0.3\t<s> the\t-0.2
-0.4\tthe cat\t-0.15
-0.6\tcat sat\t-0.05
-0.5\tsat </s>
-1.1\tthe sat

\\3-grams:
-0.1\t<s> the cat
-0.2\tthe cat sat

\\end\\
";

fn small() -> LanguageModel {
    LanguageModel::from_arpa(SMALL.as_bytes()).expect("small ARPA parses")
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() < 1e-5
}

#[test]
fn model_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<LanguageModel>();
}

#[test]
fn small_model_basics() {
    let lm = small();
    assert_eq!(lm.order(), 3);
    assert_eq!(lm.vocab_len(), 6);
    assert_eq!(lm.stats().ngrams, vec![6, 5, 2]);
    let id = |w| lm.id(w).unwrap();
    assert_eq!(lm.bos(), id("<s>"));
    assert_eq!(lm.eos(), id("</s>"));
    assert_eq!(lm.unk(), id("<unk>"));
    for w in ["<s>", "</s>", "the", "cat", "sat", "<unk>"] {
        assert_eq!(lm.word(id(w)), w);
    }
    assert_eq!(lm.id("dog"), None);
    // Ids follow decreasing unigram probability.
    assert_eq!(lm.word(0), "</s>");
    assert_eq!(lm.word(1), "the");
}

#[test]
fn katz_backoff_by_hand() {
    let lm = small();
    let id = |w| lm.id(w).unwrap();
    let (s, the, cat, sat, end) = (id("<s>"), id("the"), id("cat"), id("sat"), id("</s>"));
    // Trigram present.
    assert!(close(lm.log10_prob(s, the, cat), -0.1));
    assert!(close(lm.log10_prob(the, cat, sat), -0.2));
    // Trigram absent, context (<s> the) present with bo -0.2, bigram (the sat) -1.1.
    assert!(close(lm.log10_prob(s, the, sat), -1.3));
    // bo(the cat) -0.15 + bo(cat) -0.2 + p(</s>) -0.7.
    assert!(close(lm.log10_prob(the, cat, end), -1.05));
    // Context (sat cat) absent: 0 + bo(cat) -0.2 + p(the) -0.8.
    assert!(close(lm.log10_prob(sat, cat, the), -1.0));
    // Sentence start history.
    assert!(close(lm.log10_prob(s, s, the), -0.3));
    assert!(close(lm.log10_prob(s, s, cat), -0.5 - 1.2));
    // Bigram and unigram entry points.
    assert!(close(lm.log10_prob_bigram(cat, sat), -0.6));
    assert!(close(lm.log10_prob_bigram(sat, the), -0.1 - 0.8));
    assert!(close(lm.log10_unigram(cat), -1.2));
    // Unknown words use the model's <unk>; out-of-range ids count as <unk>.
    assert!(close(lm.log10_unigram(lm.unk()), -2.0));
    assert!(close(lm.log10_prob(the, cat, 9999), -0.15 - 0.2 - 2.0));
}

#[test]
fn missing_specials_are_added() {
    let arpa = "\\data\\\nngram 1=2\n\n\\1-grams:\n-0.5 a\n-0.5 b\n\\end\\\n";
    let lm = LanguageModel::from_arpa(arpa.as_bytes()).unwrap();
    assert_eq!(lm.order(), 1);
    assert_eq!(lm.vocab_len(), 5);
    assert!(close(lm.log10_unigram(lm.unk()), UNK_FLOOR));
    assert_eq!(lm.word(lm.unk()), "<unk>");
    assert_eq!(lm.word(lm.bos()), "<s>");
    let a = lm.id("a").unwrap();
    let b = lm.id("b").unwrap();
    assert!(close(lm.log10_prob(a, a, b), -0.5));
    assert!(close(lm.log10_prob_bigram(a, b), -0.5));
    let back = LanguageModel::from_bytes(&lm.to_bytes()).unwrap();
    assert!(close(back.log10_prob(a, a, b), -0.5));
    assert_eq!(back.stats(), lm.stats());
}

#[test]
fn uppercase_unk_is_canonicalised_and_higher_orders_skipped() {
    let arpa = "\\data\\\nngram 1=3\nngram 2=1\nngram 3=1\nngram 4=1\n\n\\1-grams:\n-0.5 <UNK>\n-0.5 a 0\n-0.5 b -0.1\n\n\\2-grams:\n-0.2 a b -0.3\n\n\\3-grams:\n-0.1 a b a\n\n\\4-grams:\n-0.01 a b a b\n\n\\end\\\n";
    let lm = LanguageModel::from_arpa(arpa.as_bytes()).unwrap();
    assert_eq!(lm.order(), 3);
    assert_eq!(lm.word(lm.unk()), "<unk>");
    assert_eq!(lm.id("<UNK>"), None);
    let (a, b) = (lm.id("a").unwrap(), lm.id("b").unwrap());
    assert!(close(lm.log10_prob(a, b, a), -0.1));
    assert!(close(lm.log10_prob(a, b, b), -0.3 - 0.1 - 0.5));
}

#[test]
fn arpa_errors() {
    for bad in [
        "",
        "no data marker\n",
        "\\data\\\nngram 2=1\n",
        "\\data\\\nngram 1=1\n\n\\1-grams:\nx a\n",
        "\\data\\\nngram 1=1\nngram 2=1\n\n\\1-grams:\n-1 a\n\\2-grams:\n-1 a zz\n",
        "\\data\\\nngram 1=1\n\n\\1-grams:\n-1 a\n-1 a\n",
        "\\data\\\nngram 1=1\n\n\\1-grams:\n-1 a 0 junk\n",
        "\\data\\\nngram 1=1\n\n\\2-grams:\n-1 a a\n",
        "\\data\\\nngram 1=1\n\n\\1-grams:\nnan a\n",
    ] {
        assert!(
            LanguageModel::from_arpa(bad.as_bytes()).is_err(),
            "accepted {bad:?}"
        );
    }
    let invalid_utf8: &[u8] = b"\\data\\\nngram 1=1\n\n\\1-grams:\n-1 \xff\n";
    assert!(LanguageModel::from_arpa(invalid_utf8).is_err());
}

#[test]
fn arpa_counts_must_match_the_header() {
    // Issue 17: a wrong n-gram count (a truncated or edited file) is an
    // error naming the order and both counts, not a silently smaller model.
    let body = "\n\\1-grams:\n-1 a\n-1 b\n-1 c\n\n\\2-grams:\n-0.5 a b\n-0.5 b c\n\n\\end\\\n";
    let ok = format!("\\data\\\nngram 1=3\nngram 2=2\n{body}");
    assert!(LanguageModel::from_arpa(ok.as_bytes()).is_ok());
    for (header, want) in [
        ("ngram 1=4\nngram 2=2", "declares 4 1-grams, the file has 3"),
        ("ngram 1=3\nngram 2=1", "declares 1 2-grams, the file has 2"),
        (
            "ngram 1=3\nngram 2=2\nngram 3=5",
            "declares 5 3-grams, the file has 0",
        ),
    ] {
        let text = format!("\\data\\\n{header}\n{body}");
        let e = LanguageModel::from_arpa(text.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{header:?}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

/// A deterministic pseudo-random ARPA model with many distinct values, and the
/// exact Katz reference computed from the same numbers.
struct Reference {
    arpa: String,
    uni: HashMap<String, (f32, f32)>,
    bi: HashMap<(String, String), (f32, f32)>,
    tri: HashMap<(String, String, String), f32>,
    words: Vec<String>,
}

impl Reference {
    fn new(vocab: usize, seed: u64) -> Self {
        let mut x = seed;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut words: Vec<String> = (0..vocab).map(|i| format!("w{i}")).collect();
        words.push("<s>".into());
        words.push("</s>".into());
        let val = |r: u64, scale: f32| -((r % 100_000) as f32) / 100_000.0 * scale;
        let mut uni = HashMap::new();
        for w in &words {
            uni.insert(w.clone(), (val(rnd(), 6.0) - 0.5, val(rnd(), 1.5)));
        }
        let mut bi = HashMap::new();
        for _ in 0..vocab * 8 {
            let a = &words[(rnd() % words.len() as u64) as usize];
            let b = &words[(rnd() % words.len() as u64) as usize];
            bi.insert((a.clone(), b.clone()), (val(rnd(), 4.0), val(rnd(), 1.0)));
        }
        let mut tri = HashMap::new();
        let keys: Vec<(String, String)> = bi.keys().cloned().collect();
        for _ in 0..vocab * 6 {
            let (a, b) = &keys[(rnd() % keys.len() as u64) as usize];
            let c = &words[(rnd() % words.len() as u64) as usize];
            tri.insert((a.clone(), b.clone(), c.clone()), val(rnd(), 3.0));
        }
        let mut arpa = format!(
            "\\data\\\nngram 1={}\nngram 2={}\nngram 3={}\n\n\\1-grams:\n",
            uni.len(),
            bi.len(),
            tri.len()
        );
        for w in &words {
            let (p, b) = uni[w];
            arpa += &format!("{p:.5} {w} {b:.5}\n");
        }
        arpa += "\n\\2-grams:\n";
        for ((a, b), (p, bo)) in &bi {
            arpa += &format!("{p:.5} {a} {b} {bo:.5}\n");
        }
        arpa += "\n\\3-grams:\n";
        for ((a, b, c), p) in &tri {
            arpa += &format!("{p:.5} {a} {b} {c}\n");
        }
        arpa += "\n\\end\\\n";
        // Re-read the printed values so the reference matches the text.
        let r5 = |v: f32| format!("{v:.5}").parse::<f32>().unwrap();
        let uni = uni
            .into_iter()
            .map(|(k, (p, b))| (k, (r5(p), r5(b))))
            .collect();
        let bi = bi
            .into_iter()
            .map(|(k, (p, b))| (k, (r5(p), r5(b))))
            .collect();
        let tri = tri.into_iter().map(|(k, p)| (k, r5(p))).collect();
        Reference {
            arpa,
            uni,
            bi,
            tri,
            words,
        }
    }

    fn prob(&self, a: &str, b: &str, c: &str) -> f32 {
        let key3 = (a.to_string(), b.to_string(), c.to_string());
        if let Some(&p) = self.tri.get(&key3) {
            return p;
        }
        let ctx = self
            .bi
            .get(&(a.to_string(), b.to_string()))
            .map_or(0.0, |v| v.1);
        ctx + match self.bi.get(&(b.to_string(), c.to_string())) {
            Some(v) => v.0,
            None => self.uni[b].1 + self.uni[c].0,
        }
    }
}

#[test]
fn quantized_model_tracks_exact_katz_and_round_trips() {
    let r = Reference::new(300, 0x9E37_79B9_7F4A_7C15);
    let lm = LanguageModel::from_arpa(r.arpa.as_bytes()).unwrap();
    assert_eq!(
        lm.stats().ngrams,
        vec![
            r.uni.len() as u64 + 1,
            r.bi.len() as u64,
            r.tri.len() as u64
        ]
    );
    let bytes = lm.to_bytes_with_level(3);
    let back = LanguageModel::from_bytes(&bytes).unwrap();
    assert_eq!(back.stats(), lm.stats());
    assert_eq!(
        lm.to_bytes_with_level(3),
        back.to_bytes_with_level(3),
        "serialisation is deterministic"
    );
    let mut max_err = 0f32;
    let mut checked = 0;
    let mut check = |a: &str, b: &str, c: &str| {
        let ids = [lm.id(a).unwrap(), lm.id(b).unwrap(), lm.id(c).unwrap()];
        let got = lm.log10_prob(ids[0], ids[1], ids[2]);
        // The portable and the AVX2 code paths agree.
        assert_eq!(got, lm.log10_prob_impl::<false>(ids[0], ids[1], ids[2]));
        assert_eq!(got, back.log10_prob(ids[0], ids[1], ids[2]));
        assert_eq!(
            lm.log10_prob_bigram(ids[1], ids[2]),
            back.log10_prob_bigram(ids[1], ids[2])
        );
        max_err = max_err.max((got - r.prob(a, b, c)).abs());
        checked += 1;
    };
    for (a, b, c) in r.tri.keys() {
        check(a, b, c);
    }
    for (a, b) in r.bi.keys().take(500) {
        for c in r.words.iter().take(40) {
            check(a, b, c);
        }
    }
    // The batch entry point gives the same numbers.
    let queries: Vec<[WordId; 3]> = r
        .tri
        .keys()
        .take(300)
        .map(|(a, b, c)| [lm.id(a).unwrap(), lm.id(b).unwrap(), lm.id(c).unwrap()])
        .chain([[0, 1, 2], [lm.bos(), lm.bos(), 5], [7, 99_999, 3]])
        .collect();
    let mut out = vec![0f32; queries.len()];
    lm.log10_prob_many(&queries, &mut out);
    for (q, o) in queries.iter().zip(&out) {
        assert_eq!(*o, lm.log10_prob(q[0], q[1], q[2]));
    }
    // Three quantized terms at most, each off by well under 0.02.
    assert!(max_err < 0.05, "max error {max_err} over {checked} lookups");
    for w in &r.words {
        let id = lm.id(w).unwrap();
        assert_eq!(back.id(w), Some(id));
        assert_eq!(lm.log10_unigram(id), r.uni[w].0, "unigrams are exact");
    }
}

#[test]
fn corrupt_container_never_panics() {
    let lm = small();
    let bytes = lm.to_bytes_with_level(3);
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            let r = LanguageModel::from_bytes(&b);
            if !(36..40).contains(&i) {
                assert!(r.is_err(), "flip {flip:#x} at byte {i} accepted");
            }
        }
    }
    for n in 0..bytes.len() {
        assert!(LanguageModel::from_bytes(&bytes[..n]).is_err());
    }
    assert!(LanguageModel::from_bytes(b"").is_err());
    assert!(LanguageModel::from_bytes(&crate::container::encode(*b"LEXI", 1, b"xx", 1)).is_err());
}

#[test]
fn corrupt_payload_never_panics() {
    // Mutate the payload under a valid container, so the parser itself is tested.
    let r = Reference::new(40, 7);
    let lm = LanguageModel::from_arpa(r.arpa.as_bytes()).unwrap();
    let payload = crate::container::decode(&lm.to_bytes_with_level(1), KIND, VERSION).unwrap();
    let wrap = |p: &[u8]| crate::container::encode(KIND, VERSION, p, 1);
    assert!(LanguageModel::from_bytes(&wrap(&payload)).is_ok());
    let step = (payload.len() / 1500).max(1);
    for i in (0..payload.len()).step_by(step) {
        for v in [0u8, 1, 0x7f, 0x80, 0xff] {
            let mut p = payload.clone();
            p[i] = v;
            let _ = LanguageModel::from_bytes(&wrap(&p));
        }
    }
    for n in (0..payload.len()).step_by(step) {
        assert!(LanguageModel::from_bytes(&wrap(&payload[..n])).is_err());
    }
    let mut longer = payload.clone();
    longer.push(0);
    assert!(LanguageModel::from_bytes(&wrap(&longer)).is_err());
}

#[test]
fn load_path_sniffs_formats() {
    let dir = std::env::temp_dir().join(format!("unspin-lm-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let arpa = dir.join("small.arpa");
    std::fs::write(&arpa, SMALL).unwrap();
    let ours = dir.join("small.unspin");
    std::fs::write(&ours, small().to_bytes_with_level(3)).unwrap();
    let a = LanguageModel::load_path(&arpa).unwrap();
    let b = LanguageModel::load_path(&ours).unwrap();
    assert_eq!(a.stats(), b.stats());
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"Trie Language Model\x03junk").unwrap();
    let err = LanguageModel::load_path(&junk).unwrap_err().to_string();
    assert!(err.contains("junk.bin") && err.contains("Sphinx"), "{err}");
    assert!(LanguageModel::load_path(&dir.join("missing")).is_err());
    std::fs::remove_dir_all(&dir).ok();
}

/// The reader against the real CMU Sphinx model (Debian `pocketsphinx-en-us`;
/// skipped with the reason printed when absent, failed under `CI`).
#[test]
fn real_sphinx_model() {
    let Some(path) = crate::wordnet::tests::test_dependency(
        "UNSPIN_TEST_SPHINX_LM",
        "usr/share/pocketsphinx/model/en-us/en-us.lm.bin",
        "pocketsphinx-en-us",
    ) else {
        return;
    };
    let bytes = std::fs::read(&path).expect("read the Sphinx model");
    let (raw, info) = sphinx::read_with_info(&bytes).unwrap();
    eprintln!("sphinx read: {info:?}");
    assert_eq!(info.header_counts, vec![72_547, 2_051_547, 1_669_625]);
    // The trie allocates a few more bigram slots than it fills.
    assert_eq!(info.found_counts[0], 72_547);
    assert!(info.found_counts[1] <= 2_051_547 && info.found_counts[1] > 2_000_000);
    assert!(info.found_counts[2] <= 1_669_625 && info.found_counts[2] > 1_600_000);
    assert_eq!(info.scale_ppm_off, 0, "logmath base 1.0001");
    let lm = LanguageModel::from_raw(raw).unwrap();
    eprintln!("{}", lm.stats());
    // Quantization error against the file's own (16-bit) values, through the
    // public lookups; dropped fillers must come out as their backed-off value.
    let (raw, _) = sphinx::read_with_info(&bytes).unwrap();
    let map = |w: u32| lm.id(&raw.words[w as usize]).unwrap();
    let (mut sum, mut max, mut n) = (0f64, 0f32, 0usize);
    for g in &raw.tri {
        let e = (lm.log10_prob(map(g.w1), map(g.w2), map(g.w3)) - g.prob).abs();
        (sum, max, n) = (sum + e as f64, max.max(e), n + 1);
    }
    eprintln!(
        "trigram prob error: mean {:.4}, max {max:.4} over {n}",
        sum / n as f64
    );
    let off = raw
        .tri
        .iter()
        .filter(|g| (lm.log10_prob(map(g.w1), map(g.w2), map(g.w3)) - g.prob).abs() > 0.05);
    eprintln!("{} trigrams off by more than 0.05", off.count());
    assert!(sum / (n as f64) < 0.01 && max < 0.2);
    let (mut sum, mut max, mut n) = (0f64, 0f32, 0usize);
    for g in &raw.bi {
        let e = (lm.log10_prob_bigram(map(g.w1), map(g.w2)) - g.prob).abs();
        (sum, max, n) = (sum + e as f64, max.max(e), n + 1);
    }
    eprintln!(
        "bigram prob error: mean {:.4}, max {max:.4} over {n}",
        sum / n as f64
    );
    assert!(sum / (n as f64) < 0.01 && max < 0.2);
    let min_uni = raw
        .uni
        .iter()
        .map(|u| u.0)
        .filter(|&p| p > -90.0)
        .fold(0f32, f32::min);
    eprintln!("lowest unigram log10 prob {min_uni} (unknown words get {UNK_FLOOR})");
    let id = |w: &str| lm.id(w).unwrap_or_else(|| panic!("{w} missing"));
    assert_eq!(lm.vocab_len(), 72_548, "72,547 words plus <unk>");
    let p_the = lm.log10_unigram(id("the"));
    assert!((-1.5..-1.2).contains(&p_the), "p(the) = {p_the}");
    let (of, the, helium, one) = (id("of"), id("the"), id("helium"), id("one"));
    let of_the = lm.log10_prob_bigram(of, the);
    let of_helium = lm.log10_prob_bigram(of, helium);
    assert!(
        of_the > -1.0 && of_the > of_helium + 2.0,
        "of the {of_the}, of helium {of_helium}"
    );
    let one_of_the = lm.log10_prob(one, of, the);
    assert!(one_of_the > -0.7, "one of the {one_of_the}");
    assert!(lm.log10_prob(one, of, helium) < one_of_the - 2.0);
    assert!(lm.log10_prob(lm.bos(), lm.bos(), the) > lm.log10_prob(lm.bos(), lm.bos(), helium));
    let back = LanguageModel::from_bytes(&lm.to_bytes_with_level(1)).unwrap();
    assert_eq!(back.log10_prob(one, of, the), one_of_the);
    // Truncated files fail cleanly.
    for n in [
        0,
        10,
        20,
        30,
        1000,
        800_000,
        1_657_044,
        20_000_000,
        bytes.len() - 1,
    ] {
        assert!(
            LanguageModel::from_sphinx_bin(&bytes[..n]).is_err(),
            "prefix {n}"
        );
    }
}
