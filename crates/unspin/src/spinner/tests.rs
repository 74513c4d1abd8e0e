//! Tests of the spinner simulators. Rule outputs are checked against the real
//! WordNet 3.0 (the embedded model); the behaviour tests run on it too, and the
//! sense-order rule also on a small fixture dictionary written in WordNet's
//! own file format.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;

use super::*;
use crate::halves::Half;
use crate::wordnet::tests::embedded;

// A miniature dictionary in Princeton format. Offsets are arbitrary keys; the
// index files are generated from it, senses in order of appearance.
const FIX_NOUN: &str = "\
100 27 n 03 helium 0 He 0 atomic_number_2 0 001 @ 900 n 0000 | gas
900 27 n 02 chemical_element 0 element 0 000 | element
101 28 n 01 May 0 001 @ 901 n 0000 | month
901 28 n 01 Gregorian_calendar_month 0 000 | month
102 20 n 03 whitethorn 0 English_hawthorn 0 may 0 000 | shrub
103 06 n 03 can 0 tin 0 tin_can 0 000 | container
104 27 n 03 astatine 0 At 0 atomic_number_85 0 000 | element
105 15 n 03 Oregon 0 Beaver_State 0 OR 0 000 | state
106 27 n 04 beryllium 0 Be 0 glucinium 0 atomic_number_4 0 000 | element
107 07 n 03 give 0 spring 0 springiness 0 001 + 300 v 0101 | elasticity
108 23 n 03 drop 0 drib 0 driblet 0 000 | quantity
109 18 n 02 soldier 0 trooper 0 000 | person
110 04 n 02 talks 0 negotiation 0 000 | discussion
111 04 n 02 talk 0 lecture 0 000 | speech
112 04 n 02 conflict 0 struggle 0 000 | fight
113 23 n 02 a 0 ampere 0 000 | unit
114 06 n 02 information_technology 0 IT 0 000 | technology
115 14 n 02 World_Health_Organization 0 WHO 0 000 | agency
116 23 n 02 are 0 ar 0 000 | area
117 23 n 06 one 0 1 0 I 0 ace 0 single 0 unity 0 000 | number
118 18 n 02 child 0 kid 0 000 | person
119 10 n 02 news 0 intelligence 0 000 | information
120 18 n 02 person 0 individual 0 000 | human
";
const FIX_VERB: &str = "\
300 29 v 02 give 0 yield 0 000 | give
301 31 v 02 agree 0 concur 0 000 | agree
302 32 v 02 talk 0 speak 0 000 | talk
303 42 v 02 be 0 exist 0 000 | be
304 38 v 02 drop 0 fall 0 000 | drop
305 35 v 02 can 0 put_up 0 000 | preserve
306 38 v 02 run 0 race 0 000 | run
";
const FIX_ADJ: &str = "\
200 00 a 01 new 0 002 & 201 a 0000 & 202 a 0000 | new
201 00 s 02 brand-new 0 bran-new 0 001 & 200 a 0000 | very new
203 00 a 02 fresh 0 caller 0 000 | fresh
202 00 s 01 fresh 0 001 & 200 a 0000 | new again
210 00 s 01 in(p) 0 001 & 211 a 0000 | in office
211 00 a 01 successful 0 000 | succeeding
212 00 a 01 on 0 001 & 213 a 0000 | operating
213 00 s 01 connected 0 001 & 212 a 0000 | plugged in
214 00 a 01 up(p) 0 001 & 215 a 0000 | up
215 00 s 01 upward 0 001 & 214 a 0000 | up
216 00 a 02 agreed 0 agreed_upon 0 001 & 217 a 0000 | agreed
217 00 s 01 accepted 0 001 & 216 a 0000 | accepted
218 00 a 01 far 0 001 & 219 a 0000 | far
220 00 a 01 cold 0 001 & 221 a 0000 | cold
221 00 s 01 acold 0 001 & 220 a 0000 | cold
219 00 s 01 cold 0 001 & 218 a 0000 | far from it
222 00 a 01 all(a) 0 001 & 223 a 0000 | all
223 00 s 01 each(a) 0 001 & 222 a 0000 | each
";
const FIX_ADV: &str = "\
400 02 r 02 by 0 past 0 000 | by
401 02 r 02 not 0 non 0 000 | not
402 02 r 02 but 0 merely 0 000 | only
";

fn write_fixture() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("unspin-wn-fixture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (suffix, letter, data) in [
        ("noun", 'n', FIX_NOUN),
        ("verb", 'v', FIX_VERB),
        ("adj", 'a', FIX_ADJ),
        ("adv", 'r', FIX_ADV),
    ] {
        let mut order: Vec<String> = Vec::new();
        let mut senses: std::collections::HashMap<String, Vec<String>> = Default::default();
        for line in data.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let n = usize::from_str_radix(f[3], 16).unwrap();
            for k in 0..n {
                let w = f[4 + 2 * k];
                let w = w.split('(').next().unwrap().to_lowercase();
                if !senses.contains_key(&w) {
                    order.push(w.clone());
                }
                senses.entry(w).or_default().push(f[0].to_string());
            }
        }
        order.sort();
        let mut index = String::from("  1 fixture header line\n");
        for w in &order {
            let s = &senses[w];
            index.push_str(&format!(
                "{w} {letter} {} 0 {} 0 {} \n",
                s.len(),
                s.len(),
                s.join(" ")
            ));
        }
        std::fs::write(dir.join(format!("index.{suffix}")), index).unwrap();
        std::fs::write(
            dir.join(format!("data.{suffix}")),
            format!("  1 fixture header line\n{data}"),
        )
        .unwrap();
    }
    std::fs::write(dir.join("verb.exc"), "are be\nis be\nwas be\nran run\n").unwrap();
    std::fs::write(dir.join("noun.exc"), "children child\n").unwrap();
    dir
}

fn fixture_wordnet() -> &'static WordNet {
    static WN: OnceLock<WordNet> = OnceLock::new();
    WN.get_or_init(|| {
        let dir = write_fixture();
        let wn = WordNet::from_dict_dir(&dir).expect("fixture parses");
        let _ = std::fs::remove_dir_all(&dir);
        wn
    })
}

/// The real WordNet 3.0 (embedded).
fn wn() -> &'static WordNet {
    embedded()
}

/// A news spinner that always applies the rule (no skipped, chained or
/// off-rule types), to test the rule's mechanics.
fn rule_only(wn: &WordNet) -> Spinner<'_> {
    let cfg = NewsConfig {
        skip_share: 0.0,
        off_rule_share: 0.0,
        chain_share: 0.0,
        ..NewsConfig::default()
    };
    Spinner::new(wn, Profile::News(cfg), 7)
}

fn changed_words(sp: &Spun) -> Vec<(&str, &str)> {
    sp.changes
        .iter()
        .map(|c| (c.original.as_str(), c.spun.as_str()))
        .collect()
}

/// Checks that `spun` is `original` with exactly the listed changes.
fn check_alignment(original: &str, spun: &Spun) {
    let mut o = 0;
    let mut s = 0;
    for c in &spun.changes {
        assert!(
            c.orig_start >= o && c.spun_start >= s,
            "changes sorted and disjoint"
        );
        assert_eq!(
            &original[o..c.orig_start],
            &spun.text[s..c.spun_start],
            "text between changes kept"
        );
        assert_eq!(&original[c.orig_start..c.orig_end], c.original);
        assert_eq!(&spun.text[c.spun_start..c.spun_end], c.spun);
        assert_ne!(c.original, c.spun);
        o = c.orig_end;
        s = c.spun_end;
    }
    assert_eq!(&original[o..], &spun.text[s..]);
}

// ----- the rule, on real WordNet -----

/// Examples from shared/spinner.md. The last column says whether the rule as
/// stated reproduces them on WordNet 3.0.
const DOC_EXAMPLES: &[(&str, &str)] = &[
    ("he", "helium"),
    ("at", "astatine"),
    ("as", "arsenic"),
    ("or", "oregon"),
    ("can", "tin"),
    ("may", "whitethorn"),
    ("on", "connected"),
    ("in", "successful"),
    ("all", "each"),
    ("no", "nary"),
    ("drop", "driblet"),
    ("give", "springiness"),
    ("be", "beryllium"),
    ("new", "fresh"),
    ("far", "cold"),
];

/// Examples the rule as stated does not reproduce on WordNet 3.0 (see the
/// report in `rule_matches_documented_examples`).
const KNOWN_MISMATCHES: &[&str] = &["drop", "give"];

#[test]
fn rule_matches_documented_examples() {
    let wn = wn();
    let mut matched = 0;
    for &(w, want) in DOC_EXAMPLES {
        let got = rule_output(wn, w);
        let trace = rule_trace(wn, w);
        eprintln!(
            "{w:>5} -> {:<14} want {want:<12} {trace:?}",
            got.as_deref().unwrap_or("-")
        );
        if got.as_deref() == Some(want) {
            matched += 1;
            assert!(
                !KNOWN_MISMATCHES.contains(&w),
                "{w} now matches: update KNOWN_MISMATCHES"
            );
        } else {
            assert!(
                KNOWN_MISMATCHES.contains(&w),
                "{w}: rule gives {got:?}, spinner.md says {want}"
            );
        }
    }
    eprintln!(
        "rule matches {matched}/{} documented examples",
        DOC_EXAMPLES.len()
    );
    // Chains.
    assert_eq!(chain_output(wn, "new").as_deref(), Some("caller"));
    assert_eq!(chain_output(wn, "far").as_deref(), Some("acold"));
}

#[test]
fn rule_sense_order_on_real_and_fixture_wordnet() {
    for wn in [wn(), fixture_wordnet()] {
        rule_sense_order(wn);
    }
}

fn rule_sense_order(wn: &WordNet) {
    for (w, want) in [
        ("he", "helium"),
        ("or", "oregon"),
        ("can", "tin"),
        ("at", "astatine"),
        ("in", "successful"),
        ("on", "connected"),
        ("new", "fresh"),
        ("be", "beryllium"),
        ("may", "whitethorn"),
        ("far", "cold"),
        ("all", "each"),
    ] {
        assert_eq!(rule_output(wn, w).as_deref(), Some(want), "{w}");
    }
    assert_eq!(chain_output(wn, "new").as_deref(), Some("caller"));
    // Sources: a sense's own lemma, else similar-to.
    assert_eq!(rule_trace(wn, "he").unwrap().source, RuleSource::Lemma);
    assert_eq!(rule_trace(wn, "in").unwrap().source, RuleSource::SimilarTo);
    assert_eq!(rule_trace(wn, "in").unwrap().pos, Pos::Adj);
    assert_eq!(rule_output(wn, "xyzzy"), None);
    assert_eq!(rule_output(wn, "the"), None);
}

#[test]
fn relations_are_tagged_and_ordered() {
    let wn = wn();
    let r = relations(wn, "new");
    assert_eq!(r[0], (Relation::Rule, "fresh".to_string()));
    assert_eq!(r[1], (Relation::Chain, "caller".to_string()));
    assert!(r.iter().all(|(_, s)| rule::is_output_word(s) && s != "new"));
    let mut seen = std::collections::HashSet::new();
    assert!(
        r.iter().all(|(_, s)| seen.insert(s.clone())),
        "deduplicated"
    );
    let he = relations(wn, "he");
    assert_eq!(he[0], (Relation::Rule, "helium".to_string()));
    assert!(!he.iter().any(|(_, s)| s.contains('_')));
    // Derivation (lemma-level): noun "give" -> verb "give" is the word itself, so
    // not listed; "springiness" is a synonym or the rule output.
    let give = relations(wn, "give");
    assert!(give.iter().any(|(_, s)| s == "springiness"));
    assert!(relations(wn, "xyzzy").is_empty());
}

/// Every lemma's relations (the lexicon build walks them all); speed is
/// measured by `unspin-build lexicon`, not asserted here.
#[test]
fn relations_over_all_lemmas() {
    let wn = wn();
    let mut n = 0usize;
    for l in wn.lemmas() {
        n += relations(wn, l).len();
    }
    eprintln!("relations over {} lemmas: {n} pairs", wn.lemma_count());
    assert!(n > 500_000);
}

// ----- the news profile, one test per rule of spinner.md -----

#[test]
fn news_attached_punctuation_never_changes() {
    let wn = wn();
    let sp = rule_only(wn);
    let text = "he, he. “he (he) he! can; new: he";
    let out = sp.spin(text);
    check_alignment(text, &out);
    let changed: Vec<&str> = out.changes.iter().map(|c| c.original.as_str()).collect();
    assert_eq!(
        changed,
        ["he"],
        "only the bare final token changes: {changed:?}"
    );
    assert!(out.text.ends_with("helium"));
}

#[test]
fn news_capitalized_never_changes() {
    let wn = wn();
    let sp = rule_only(wn);
    let text = "He he On on\nAt at NEW new Can can";
    let out = sp.spin(text);
    check_alignment(text, &out);
    assert_eq!(
        changed_words(&out),
        [
            ("he", "helium"),
            ("on", "connected"),
            ("at", "astatine"),
            ("new", "fresh"),
            ("can", "tin")
        ]
    );
}

#[test]
fn news_inflected_forms_never_change() {
    let wn = wn();
    let sp = rule_only(wn);
    // "agreed" and "talks" are WordNet lemmas themselves, yet unchanged.
    for w in ["agreed", "soldiers", "talks", "children", "are", "ran"] {
        assert!(!sp.news_eligible(w), "{w}");
        assert_eq!(sp.news_replacement(w), None, "{w}");
    }
    let out = sp.spin("soldiers agreed to talks");
    assert!(out.changes.is_empty(), "{:?}", out.changes);
}

#[test]
fn news_digits_never_change() {
    let wn = wn();
    assert!(wn.is_lemma("1"), "WordNet has '1' as a lemma");
    let sp = rule_only(wn);
    let out = sp.spin("1 one");
    assert!(out.changes.iter().all(|c| c.original != "1"));
    assert!(!sp.news_eligible("1"));
}

#[test]
fn news_non_wordnet_words_only_phrase_rewrites() {
    let wn = wn();
    let sp = Spinner::news(wn, 3);
    let text = "the\tof to and because where how something it is a\nthe is  a the";
    let out = sp.spin(text);
    check_alignment(text, &out);
    assert_eq!(
        changed_words(&out),
        [
            ("because", "due to the fact that"),
            ("where", "wherever"),
            ("how", "however"),
            ("something", "thing"),
            ("is a", "is simply a"),
            ("is  a", "is simply  a"),
        ]
    );
    assert!(out.changes.iter().all(|c| c.relation == "phrase"));
    // Not bare, or capitalized: no rewrite.
    assert!(sp
        .spin("Because because, where. Is a is a.")
        .changes
        .is_empty());
}

#[test]
fn news_never_changed_list() {
    let wn = wn();
    for seed in 0..20 {
        let sp = Spinner::news(wn, seed);
        for w in NEVER_CHANGED {
            assert_eq!(sp.news_replacement(w), None, "{w} seed {seed}");
        }
    }
    // They are WordNet lemmas with rule outputs all the same.
    assert!(rule_output(wn, "by").is_some() && rule_output(wn, "but").is_some());
}

#[test]
fn news_per_type_determinism_across_documents() {
    let wn = wn();
    let words = [
        "he", "can", "new", "on", "in", "at", "drop", "give", "be", "far", "may", "conflict",
        "person",
    ];
    let mut doc = String::new();
    for i in 0..200 {
        doc.push_str(words[(i * 7) % words.len()]);
        doc.push(if i % 11 == 0 { '\n' } else { ' ' });
    }
    for seed in 0..10 {
        let sp = Spinner::news(wn, seed);
        let out = sp.spin(&doc);
        check_alignment(&doc, &out);
        let mut seen: std::collections::HashMap<&str, Option<&str>> = Default::default();
        let changed: std::collections::HashMap<usize, &str> = out
            .changes
            .iter()
            .map(|c| (c.orig_start, c.spun.as_str()))
            .collect();
        for (s, e) in whitespace_tokens(&doc) {
            let got = changed.get(&s).copied();
            let prev = *seen.entry(&doc[s..e]).or_insert(got);
            assert_eq!(prev, got, "type {:?} seed {seed}", &doc[s..e]);
        }
        // Another document: the same decisions.
        let other = Spinner::news(wn, seed).spin("a new can at new he");
        for c in &other.changes {
            assert_eq!(
                seen.get(c.original.as_str()).copied().flatten(),
                Some(c.spun.as_str())
            );
        }
    }
}

#[test]
fn news_shares_are_roughly_respected() {
    let wn = wn();
    let words: Vec<&str> = wn
        .lemmas()
        .filter(|l| l.bytes().all(|b| b.is_ascii_lowercase()) && rule_output(wn, l).is_some())
        .collect();
    let sp = Spinner::news(wn, 11);
    let cfg = NewsConfig::default();
    let (mut kept, mut rule_n, mut chain_n, mut off) = (0usize, 0usize, 0usize, 0usize);
    let mut eligible = 0usize;
    for w in &words {
        if !sp.news_eligible(w) || cfg.never_changed.iter().any(|n| n == w) {
            continue;
        }
        eligible += 1;
        match sp.news_replacement(w) {
            None => kept += 1,
            Some((_, Relation::Rule)) => rule_n += 1,
            Some((_, Relation::Chain)) => chain_n += 1,
            Some(_) => off += 1,
        }
    }
    eprintln!("eligible {eligible}: kept {kept} rule {rule_n} chain {chain_n} off-rule {off}");
    if eligible > 5000 {
        let f = |n: usize| n as f64 / eligible as f64;
        assert!((f(kept) - 0.20).abs() < 0.02, "kept {}", f(kept));
        assert!((f(off) - 0.15).abs() < 0.02, "off {}", f(off));
        assert!(
            f(chain_n) > 0.03 && f(chain_n) < 0.09,
            "chain {}",
            f(chain_n)
        );
        assert!(f(rule_n) > 0.5, "rule {}", f(rule_n));
    }
}

#[test]
fn news_rule_is_the_main_choice() {
    let wn = wn();
    let sp = rule_only(wn);
    let text = "he or can at in on new be may far all";
    let out = sp.spin(text);
    check_alignment(text, &out);
    assert_eq!(
        out.text,
        "helium oregon tin astatine successful connected fresh beryllium whitethorn cold each"
    );
    assert!(out
        .changes
        .iter()
        .all(|c| c.relation == "rule" && c.profile == "news"));
    // With every type chained, "new" goes to "caller".
    let cfg = NewsConfig {
        skip_share: 0.0,
        off_rule_share: 0.0,
        chain_share: 1.0,
        ..NewsConfig::default()
    };
    let chained = Spinner::new(wn, Profile::News(cfg), 1).spin("new far");
    assert_eq!(chained.text, "caller acold");
    // Off-rule types draw another related word or a random lemma, never the rule output.
    let cfg = NewsConfig {
        skip_share: 0.0,
        off_rule_share: 1.0,
        chain_share: 0.0,
        ..NewsConfig::default()
    };
    let off = Spinner::new(wn, Profile::News(cfg), 1);
    for w in ["he", "new", "can", "conflict"] {
        let (s, r) = off.news_replacement(w).unwrap();
        assert_ne!(Some(s.clone()), rule_output(wn, w), "{w}");
        assert!(!matches!(r, Relation::Rule | Relation::Chain));
        assert_ne!(s, w);
    }
}

#[test]
fn news_deterministic_for_a_seed() {
    let wn = wn();
    let text =
        "he can drop the new conflict on the far side where the person may be\n\n  in all of it";
    let a = Spinner::news(wn, 42).spin(text);
    let b = Spinner::news(wn, 42).spin(text);
    assert_eq!(a, b);
    // Different seeds give different type decisions somewhere over many types.
    let words: Vec<&str> = wn
        .lemmas()
        .filter(|l| l.bytes().all(|b| b.is_ascii_lowercase()))
        .take(3000)
        .collect();
    let doc = words.join(" ");
    assert_ne!(
        Spinner::news(wn, 1).spin(&doc).text,
        Spinner::news(wn, 2).spin(&doc).text
    );
}

#[test]
fn alignment_serializes_to_jsonl() {
    let wn = wn();
    let sp = rule_only(wn);
    let out = sp.spin("he said it can");
    let jsonl = out.alignment_jsonl();
    let lines: Vec<&str> = jsonl.lines().collect();
    assert_eq!(lines.len(), out.changes.len());
    let back: AlignedChange = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(back, out.changes[0]);
    assert!(lines[0].contains("\"relation\":\"rule\""));
}

// ----- the synonym profile -----

#[test]
fn synonym_profile_replaces_and_reinflects() {
    let wn = wn();
    let text = "The soldiers talked about children, and Children ran.";
    let all = Spinner::synonym(wn, 1.0, 5).spin(text);
    check_alignment(text, &all);
    assert!(!all.changes.is_empty());
    for c in &all.changes {
        assert_eq!(c.relation, "synonym");
        assert_eq!(c.profile, "synonym");
        // Capitalization kept.
        let cap = |s: &str| s.chars().next().unwrap().is_uppercase();
        assert_eq!(cap(&c.original), cap(&c.spun), "{c:?}");
    }
    // Punctuation stays outside the change.
    assert!(all
        .changes
        .iter()
        .all(|c| c.original.chars().all(|ch| ch.is_alphabetic())));
    let none = Spinner::synonym(wn, 0.0, 5).spin(text);
    assert!(none.changes.is_empty() && none.text == text);
    assert_eq!(
        Spinner::synonym(wn, 0.5, 9).spin(text),
        Spinner::synonym(wn, 0.5, 9).spin(text)
    );
}

#[test]
fn synonym_profile_rate_is_roughly_respected() {
    let wn = wn();
    let text = "the soldier said the conflict would end soon after long talks between leaders of both nations ".repeat(200);
    let out = Spinner::synonym(wn, 0.15, 3).spin(&text);
    check_alignment(&text, &out);
    let eligible = 200 * 9; // soldier said conflict end soon long talks leaders nations
    let share = out.changes.len() as f64 / eligible as f64;
    assert!(share > 0.08 && share < 0.2, "{share}");
}

// ----- spintax -----

#[test]
fn spintax_round_trip() {
    let wn = wn();
    let text = "he can {not} drop | the new \\ conflict\n on time";
    let out = rule_only(wn).spin(text);
    let sx = out.to_spintax(text);
    let first = expand_spintax(&sx, SpintaxChoice::First).unwrap();
    assert_eq!(first.text, text);
    assert_eq!(first.original, text);
    assert!(first.changes.is_empty());
    let last = expand_spintax(&sx, SpintaxChoice::Last).unwrap();
    assert_eq!(last.text, out.text);
    assert_eq!(last.original, text);
    let pairs: Vec<_> = last
        .changes
        .iter()
        .map(|c| (c.orig_start, c.orig_end, c.spun_start, c.spun_end))
        .collect();
    let want: Vec<_> = out
        .changes
        .iter()
        .map(|c| (c.orig_start, c.orig_end, c.spun_start, c.spun_end))
        .collect();
    assert_eq!(pairs, want);
}

#[test]
fn spintax_parse_nesting_escapes_errors() {
    assert_eq!(parse_spintax("plain | text", 1).unwrap(), "plain | text");
    assert_eq!(
        parse_spintax("a \\{b\\} \\| c \\x", 1).unwrap(),
        "a {b} | c \\x"
    );
    for seed in 0..50 {
        let s = parse_spintax("{a|{b|c}|d\\|e} z", seed).unwrap();
        assert!(["a z", "b z", "c z", "d|e z"].contains(&s.as_str()), "{s}");
    }
    let seen: std::collections::HashSet<String> = (0..200)
        .map(|s| parse_spintax("{x|y|z}", s).unwrap())
        .collect();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        parse_spintax("{x|y}", 9).unwrap(),
        parse_spintax("{x|y}", 9).unwrap()
    );
    assert_eq!(parse_spintax("{}", 1).unwrap(), "");
    assert!(parse_spintax("{a|}", 0).unwrap().len() <= 1);
    assert!(parse_spintax("{a|b", 1).is_err());
    assert!(parse_spintax("a}b", 1).is_err());
    assert!(parse_spintax("{a|{b}", 1).is_err());
    let e = expand_spintax("x {a|{b|c}} y", SpintaxChoice::Last).unwrap();
    assert_eq!(e.original, "x a y");
    assert_eq!(e.text, "x c y");
    assert_eq!(e.changes.len(), 1);
    assert_eq!(
        (e.changes[0].original.as_str(), e.changes[0].spun.as_str()),
        ("a", "c")
    );
    let multi = to_spintax_alternatives(
        "one two",
        &[(4, 7, vec!["two".into(), "2|b".into(), "{x}".into()])],
    );
    assert_eq!(multi, "one {two|2\\|b|\\{x\\}}");
    assert_eq!(
        expand_spintax(&multi, SpintaxChoice::Last).unwrap().text,
        "one {x}"
    );
}

// ----- phrase thesaurus -----

/// One thesaurus for every test (building it takes a third of a second).
fn thesaurus() -> std::sync::Arc<Thesaurus> {
    static TH: OnceLock<std::sync::Arc<Thesaurus>> = OnceLock::new();
    TH.get_or_init(|| std::sync::Arc::new(Thesaurus::build(wn())))
        .clone()
}

fn phrase_spinner(rate: f64, seed: u64) -> Spinner<'static> {
    Spinner::new(
        wn(),
        Profile::from_name("phrase", Some(rate)).unwrap(),
        seed,
    )
    .with_thesaurus(thesaurus())
}

#[test]
fn phrase_thesaurus_has_spans_and_words() {
    let sp = phrase_spinner(1.0, 1);
    let th = sp.thesaurus();
    let (spans, words) = th.len();
    assert!(
        spans > 10_000 && words > 10_000,
        "{spans} spans, {words} words"
    );
    // A phrase verb becomes one word, and function words are never keys.
    assert!(th
        .span("take part")
        .is_some_and(|o| o.iter().any(|w| w == "participate")));
    assert!(th.word("the").is_none() && th.word("of").is_none());
    assert!(th.word("two").is_none(), "number words are never keys");
}

#[test]
fn phrase_reorders_noun_compounds_and_touches_capitals_and_punctuation() {
    let text = "Market share rose. The market share of the firm grew, and Rates, too.";
    let out = phrase_spinner(1.0, 3).spin(text);
    check_alignment(text, &out);
    let rels: Vec<&str> = out.changes.iter().map(|c| c.relation.as_str()).collect();
    assert!(
        out.changes
            .iter()
            .any(|c| c.original == "market share" && c.spun == "share of the market"),
        "{:?}",
        changed_words(&out)
    );
    assert!(
        out.changes
            .iter()
            .any(|c| c.original == "Market share" && c.spun == "Share of the market"),
        "{:?}",
        changed_words(&out)
    );
    assert!(rels.contains(&"reorder"), "{rels:?}");
    // "Rates," keeps its comma and its capital.
    let rates = out.changes.iter().find(|c| c.original == "Rates");
    if let Some(c) = rates {
        assert!(c.spun.chars().next().unwrap().is_uppercase(), "{c:?}");
    }
}

#[test]
fn phrase_spells_small_digit_runs_only() {
    let sp = Spinner::new(
        wn(),
        Profile::Phrase(PhraseConfig {
            rate: 0.0,
            digit_rate: 1.0,
        }),
        1,
    );
    let text = "It rose 2% in 10 days; 3.5 and 10,000 and 1990 stay.";
    let out = sp.spin(text);
    check_alignment(text, &out);
    assert_eq!(
        out.text,
        "It rose two% in ten days; 3.5 and 10,000 and 1990 stay."
    );
    assert!(out.changes.iter().all(|c| c.relation == "number"));
}

#[test]
fn phrase_changes_about_a_third_of_the_words() {
    let text = "The government said on Monday that the new rules would help small companies \
                raise money from investors, and officials expect the market share of local \
                firms to grow over the next five years as demand for their products increases. ";
    let text = text.repeat(30);
    let out = phrase_spinner(PhraseConfig::default().rate, 5).spin(&text);
    check_alignment(&text, &out);
    let words = text.split_whitespace().count() as f64;
    let changed: usize = out
        .changes
        .iter()
        .map(|c| c.original.split_whitespace().count())
        .sum();
    let share = changed as f64 / words;
    assert!((0.2..0.5).contains(&share), "{share}");
}

// ----- halves and chains -----

#[test]
fn halves_split_one_spinners_changes() {
    let text = "he said the new rules would be published on monday as planned and the old \
                rules would stay in force for a while because the court has to decide ";
    let text = text.repeat(3);
    for full in [Spinner::news(wn(), 4), Spinner::synonym(wn(), 0.5, 4)] {
        let profile = full.profile().clone();
        let all = full.spin(&text);
        let a = Spinner::new(wn(), profile.clone(), 4)
            .with_half(Some(Half::A))
            .spin(&text);
        let b = Spinner::new(wn(), profile, 4)
            .with_half(Some(Half::B))
            .spin(&text);
        check_alignment(&text, &a);
        check_alignment(&text, &b);
        assert!(!a.changes.is_empty() && !b.changes.is_empty());
        assert_eq!(a.changes.len() + b.changes.len(), all.changes.len());
        for c in &a.changes {
            let key = c.original.to_lowercase();
            let key = if key == "is" { "is a".to_string() } else { key };
            assert_eq!(crate::halves::half_of(&key), Half::A, "{c:?}");
        }
    }
    let b = phrase_spinner(1.0, 2).with_half(Some(Half::B)).spin(&text);
    check_alignment(&text, &b);
}

#[test]
fn chain_composes_alignments() {
    let text = "The market share of the new firm rose on Monday, and he said the rules \
                would help small companies take part in the trade as planned. ";
    let text = text.repeat(4);
    for seed in 0..20 {
        let chain = Chain::from_names(wn(), "phrase,news", None, seed, None).unwrap();
        assert_eq!(chain.name(), "phrase,news");
        let out = chain.spin(&text);
        check_alignment(&text, &out);
        let two = chain.stages()[1].spin(&chain.stages()[0].spin(&text).text);
        assert_eq!(out.text, two.text);
        assert!(out.changes.iter().any(|c| c.profile == "news"));
    }
    assert!(Chain::from_names(wn(), "phrase,bogus", None, 0, None).is_err());
}

// ----- byte preservation -----

fn word_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "he",
            "He",
            "can",
            "new",
            "on",
            "in",
            "at",
            "be",
            "far",
            "may",
            "all",
            "drop",
            "give",
            "the",
            "because",
            "is",
            "a",
            "where",
            "how",
            "something",
            "soldiers",
            "talks",
            "agreed",
            "1",
            "conflict",
            "person",
            "news",
            "children",
            "it",
            "by",
            "but",
            "é",
            "naïve",
            "“new”",
            "{x|y}",
            "\\",
            "market",
            "share",
            "Rate,",
            "take",
            "part",
            "2%",
            "10",
            "3.5",
            "rules",
            "company",
        ])
        .prop_map(|s| s.to_string()),
        "[a-zA-Z,.;:!?'\"()\\-]{1,8}",
    ]
}

fn sep_strategy() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        " ", "  ", "\n", "\t", "\r\n", "\n\n", " \u{a0} ", "\u{2003}",
    ])
    .prop_map(|s| s.to_string())
}

fn text_strategy() -> impl Strategy<Value = String> {
    (
        sep_strategy(),
        prop::collection::vec((word_strategy(), sep_strategy()), 0..40),
    )
        .prop_map(|(lead, v)| {
            let mut s = lead;
            for (w, sep) in v {
                s.push_str(&w);
                s.push_str(&sep);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn prop_bytes_outside_changes_preserved(text in text_strategy(), seed in 0u64..1000) {
        let wn = wn();
        for sp in [Spinner::news(wn, seed), Spinner::synonym(wn, 0.5, seed), phrase_spinner(0.8, seed)] {
            let out = sp.spin(&text);
            check_alignment(&text, &out);
            // Spintax round trip.
            let sx = out.to_spintax(&text);
            prop_assert_eq!(expand_spintax(&sx, SpintaxChoice::First).unwrap().text, text.clone());
            prop_assert_eq!(expand_spintax(&sx, SpintaxChoice::Last).unwrap().text, out.text.clone());
        }
        let chain = Chain::new(vec![phrase_spinner(0.8, seed), Spinner::news(wn, seed + 1)]);
        check_alignment(&text, &chain.spin(&text));
    }
}
