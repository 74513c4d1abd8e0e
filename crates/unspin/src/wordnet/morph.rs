//! English morphology on WordNet: WordNet's `morphy` (the lemmas an
//! inflected form can come from: [`WordNet::base_forms`]) and its inverse
//! ([`WordNet::inflect_as`], [`WordNet::inflect`]: a lemma put into the
//! inflection of another word), with the exception lists read both ways and
//! regular English spelling rules ([`regular_inflection`]) for the rest.
//!
//! This is the one place English inflection is written: the spinner
//! simulator and the synonym sweep call it, so a spelling rule fixed here is
//! fixed for each of them.

use serde::{Deserialize, Serialize};

use super::{Pos, WordNet};
use crate::restore::match_case;

impl WordNet {
    /// The exception-list base forms of an inflected form (`"went"` → `["go"]`).
    pub fn exceptions(&self, form: &str, pos: Pos) -> &[String] {
        self.exc[pos.idx()]
            .get(form)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
    }

    /// The synonyms of `word` (any case) inflected and cased like it, each
    /// once, `word` itself left out: the words a generic synonym spinner
    /// could have written for it, or, since synonymy is symmetric, the
    /// originals it could have been written for.
    pub fn synonyms_like(&self, word: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (lemma, pos) in self.synonyms(&word.to_lowercase()) {
            let w = self.inflect(&lemma, pos, word);
            if w != word && !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }

    /// Every synonym of a lowercase word: (lemma, part of speech) over every
    /// sense of every base form, the word itself left out. These are the
    /// words a generic synonym spinner picks from.
    pub fn synonyms(&self, lower: &str) -> Vec<(String, Pos)> {
        let mut out: Vec<(String, Pos)> = Vec::new();
        for (base, pos) in self.base_forms(lower) {
            for &s in self.senses(&base, pos) {
                for l in self.synset_lemmas(s) {
                    if l != base && l != lower && !out.iter().any(|(o, p)| o == l && *p == pos) {
                        out.push((l.to_string(), pos));
                    }
                }
            }
        }
        out
    }

    /// WordNet's `morphy`: the lemmas `word` can be a form of, with their part
    /// of speech, in the order noun, verb, adjective, adverb. The word itself is
    /// included when it is a lemma of that part of speech. For each part of
    /// speech an exception-list entry suppresses the suffix rules, as in
    /// WordNet. Input is lowercased; spaces become `_`.
    pub fn base_forms(&self, word: &str) -> Vec<(String, Pos)> {
        let w = word.trim().to_lowercase().replace(' ', "_");
        let mut out: Vec<(String, Pos)> = Vec::new();
        if w.is_empty() {
            return out;
        }
        let push = |out: &mut Vec<(String, Pos)>, s: String, p: Pos| {
            if self.has_pos(&s, p) && !out.iter().any(|(o, q)| *o == s && *q == p) {
                out.push((s, p));
            }
        };
        for pos in Pos::ALL {
            if let Some(bases) = self.exc[pos.idx()].get(&w) {
                for b in bases {
                    push(&mut out, b.clone(), pos);
                }
                push(&mut out, w.clone(), pos);
                continue;
            }
            push(&mut out, w.clone(), pos);
            for cand in morph_rules(&w, pos) {
                push(&mut out, cand, pos);
            }
            // Multiword: morph one word at a time ("attorneys_general", "hot_dogs", "gave_up").
            if w.contains('_') && (pos == Pos::Noun || pos == Pos::Verb) {
                let parts: Vec<&str> = w.split('_').collect();
                for k in 0..parts.len() {
                    let head = parts[k];
                    let mut heads: Vec<String> =
                        self.exc[pos.idx()].get(head).cloned().unwrap_or_default();
                    heads.extend(morph_rules(head, pos));
                    for h in heads {
                        let mut p2: Vec<&str> = parts.clone();
                        p2[k] = &h;
                        push(&mut out, p2.join("_"), pos);
                    }
                }
            }
        }
        out
    }

    /// Whether `word` (lowercase) is an inflected form of some other lemma: it
    /// is an exception-list form, or a suffix rule maps it to a different lemma
    /// of at least `min_base_len` bytes. `"agreed"`, `"talks"`, `"are"`, `"men"`
    /// are; `"as"` (→ "a", too short for morphy) and `"news"` are not.
    pub fn is_inflected_form(&self, word: &str, min_base_len: usize) -> bool {
        for pos in Pos::ALL {
            if let Some(bases) = self.exc[pos.idx()].get(word) {
                if bases.iter().any(|b| b != word && self.has_pos(b, pos)) {
                    return true;
                }
                continue;
            }
            for c in morph_rules(word, pos) {
                if c != word && c.len() >= min_base_len && self.has_pos(&c, pos) {
                    return true;
                }
            }
        }
        false
    }

    /// Classifies how `form` is inflected as a `pos` word.
    pub fn inflection_of(&self, form: &str, pos: Pos) -> Inflection {
        let w = form.to_lowercase().replace(' ', "_");
        let head = match pos {
            Pos::Noun => w.rsplit('_').next().unwrap_or(&w).to_string(),
            Pos::Verb => w.split('_').next().unwrap_or(&w).to_string(),
            _ => w.clone(),
        };
        let exc_bases: Vec<String> = self.exc[pos.idx()].get(&head).cloned().unwrap_or_default();
        let is_exc = exc_bases.iter().any(|b| *b != head);
        let rule_base = morph_rules(&head, pos).iter().any(|b| self.has_pos(b, pos))
            || (w.contains('_')
                && self
                    .base_forms(&w)
                    .iter()
                    .any(|(s, p)| *p == pos && *s != w));
        let known = self.has_pos(&w, pos) || self.has_pos(&head, pos);
        let inflected = is_exc || rule_base || (!known && looks_inflected(&head, pos));
        if !inflected {
            return Inflection::None;
        }
        match pos {
            Pos::Noun => Inflection::Plural,
            Pos::Verb => {
                if head.ends_with("ing") {
                    Inflection::PresentParticiple
                } else if is_exc {
                    if ["is", "has", "does", "goes"].contains(&head.as_str()) {
                        Inflection::ThirdSingular
                    } else if head == "been" || head.ends_with('n') || head.ends_with("ne") {
                        Inflection::PastParticiple
                    } else {
                        Inflection::Past
                    }
                } else if head.ends_with("ed") {
                    Inflection::Past
                } else if head.ends_with('s') {
                    Inflection::ThirdSingular
                } else {
                    Inflection::Past
                }
            }
            Pos::Adj | Pos::Adv => {
                if head.ends_with("st") {
                    Inflection::Superlative
                } else {
                    Inflection::Comparative
                }
            }
        }
    }

    /// Puts `lemma` (a `pos` lemma, `_` or spaces between words) into the
    /// inflection `infl`, preferring the exception lists read backwards
    /// (`go` + Past → `went`, `child` + Plural → `children`) and otherwise
    /// regular English spelling rules. Words are joined by spaces.
    pub fn inflect_as(&self, lemma: &str, pos: Pos, infl: Inflection) -> String {
        let l = lemma.to_lowercase().replace(' ', "_");
        if infl == Inflection::None {
            return l.replace('_', " ");
        }
        // Try the whole lemma first, then its head word.
        if let Some(f) = self.irregular(&l, pos, infl) {
            return f.replace('_', " ");
        }
        let parts: Vec<&str> = l.split('_').collect();
        let k = match pos {
            Pos::Verb => 0,
            _ => parts.len() - 1,
        };
        let head = parts[k];
        let new_head = self
            .irregular(head, pos, infl)
            .unwrap_or_else(|| regular_inflection(head, infl));
        let mut out: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        out[k] = new_head;
        out.join(" ")
    }

    fn irregular(&self, base: &str, pos: Pos, infl: Inflection) -> Option<String> {
        if pos == Pos::Verb {
            if let Some(f) = irregular_verb_table(base, infl) {
                return Some(f.to_string());
            }
        }
        let forms = self.rev_exc[pos.idx()].get(base)?;
        let pick = |pred: &dyn Fn(&str) -> bool| forms.iter().find(|f| pred(f)).cloned();
        match (pos, infl) {
            (Pos::Noun, Inflection::Plural) => forms.first().cloned(),
            (Pos::Verb, Inflection::PresentParticiple) => pick(&|f| f.ends_with("ing")),
            (Pos::Verb, Inflection::ThirdSingular) => None,
            (Pos::Verb, Inflection::Past) => {
                pick(&|f| !f.ends_with("ing") && !f.ends_with('n') && !f.ends_with("ne"))
                    .or_else(|| pick(&|f| !f.ends_with("ing")))
            }
            (Pos::Verb, Inflection::PastParticiple) => {
                pick(&|f| f.ends_with('n') || f.ends_with("ne"))
                    .or_else(|| pick(&|f| !f.ends_with("ing")))
            }
            (Pos::Adj | Pos::Adv, Inflection::Comparative) => pick(&|f| !f.ends_with("st")),
            (Pos::Adj | Pos::Adv, Inflection::Superlative) => pick(&|f| f.ends_with("st")),
            _ => None,
        }
    }

    /// Every form of `lemma` in the parts of speech it has: the lemma
    /// itself, plurals, verb forms, comparatives and superlatives.
    pub fn inflected_forms(&self, lemma: &str) -> Vec<String> {
        use Inflection::*;
        let mut out = vec![lemma.to_string()];
        for pos in Pos::ALL {
            if !self.has_pos(lemma, pos) {
                continue;
            }
            let infls: &[Inflection] = match pos {
                Pos::Noun => &[Plural],
                Pos::Verb => &[ThirdSingular, Past, PastParticiple, PresentParticiple],
                Pos::Adj => &[Comparative, Superlative],
                Pos::Adv => &[],
            };
            for &infl in infls {
                let f = self.inflect_as(lemma, pos, infl);
                if !out.contains(&f) {
                    out.push(f);
                }
            }
        }
        out
    }

    /// Re-inflects a replacement `lemma` of part of speech `pos` the way
    /// `like_original` was inflected, and copies its capitalization
    /// (`inflect("kid", Noun, "Children")` → `"Kids"`, `inflect("go", Verb,
    /// "walked")` → `"went"`). Multiword lemmas come back with spaces.
    pub fn inflect(&self, lemma: &str, pos: Pos, like_original: &str) -> String {
        let infl = self.inflection_of(like_original, pos);
        let out = self.inflect_as(lemma, pos, infl);
        match_case(like_original, &out)
    }
}

/// An inflection of an English word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Inflection {
    None,
    Plural,
    ThirdSingular,
    Past,
    PastParticiple,
    PresentParticiple,
    Comparative,
    Superlative,
}

const NOUN_RULES: &[(&str, &str)] = &[
    ("s", ""),
    ("ses", "s"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("ies", "y"),
];
const VERB_RULES: &[(&str, &str)] = &[
    ("s", ""),
    ("ies", "y"),
    ("es", "e"),
    ("es", ""),
    ("ed", "e"),
    ("ed", ""),
    ("ing", "e"),
    ("ing", ""),
];
const ADJ_RULES: &[(&str, &str)] = &[("er", ""), ("est", ""), ("er", "e"), ("est", "e")];

/// WordNet's suffix-detachment candidates (not filtered by the lexicon).
fn morph_rules(w: &str, pos: Pos) -> Vec<String> {
    let rules = match pos {
        Pos::Noun => {
            // morphy: nouns ending in "ss" or of two letters or fewer are left alone.
            if w.ends_with("ss") || w.len() <= 2 {
                return Vec::new();
            }
            NOUN_RULES
        }
        Pos::Verb => VERB_RULES,
        Pos::Adj => ADJ_RULES,
        Pos::Adv => return Vec::new(),
    };
    let mut out = Vec::new();
    for (suf, rep) in rules {
        if let Some(stem) = w.strip_suffix(suf) {
            if stem.is_empty() {
                continue;
            }
            let c = format!("{stem}{rep}");
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

fn looks_inflected(w: &str, pos: Pos) -> bool {
    match pos {
        Pos::Noun => w.ends_with('s') && !w.ends_with("ss") && w.len() > 3,
        Pos::Verb => {
            w.ends_with("ing") || w.ends_with("ed") || (w.ends_with('s') && !w.ends_with("ss"))
        }
        Pos::Adj | Pos::Adv => (w.ends_with("er") || w.ends_with("est")) && w.len() > 4,
    }
}

fn irregular_verb_table(base: &str, infl: Inflection) -> Option<&'static str> {
    use Inflection::*;
    let row: [&'static str; 4] = match base {
        "be" => ["is", "was", "been", "being"],
        "have" => ["has", "had", "had", "having"],
        "do" => ["does", "did", "done", "doing"],
        "go" => ["goes", "went", "gone", "going"],
        _ => return Option::None,
    };
    Some(match infl {
        ThirdSingular => row[0],
        Past => row[1],
        PastParticiple => row[2],
        PresentParticiple => row[3],
        _ => return Option::None,
    })
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// A short word ending consonant-vowel-consonant doubles its last letter
/// ("stop" → "stopped", "big" → "bigger").
fn doubles_final(w: &str) -> bool {
    let b = w.as_bytes();
    let n = b.len();
    if n < 3 || !b.iter().all(|c| c.is_ascii_lowercase()) {
        return false;
    }
    let (c1, v, c2) = (b[n - 3], b[n - 2], b[n - 1]);
    if is_vowel(c1) || !is_vowel(v) || is_vowel(c2) || matches!(c2, b'w' | b'x' | b'y') {
        return false;
    }
    // Only one vowel group: monosyllables.
    let groups = b
        .iter()
        .enumerate()
        .filter(|&(i, &c)| (is_vowel(c) || (c == b'y' && i > 0)) && (i == 0 || !is_vowel(b[i - 1])))
        .count();
    groups == 1
}

fn ends_consonant_y(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() >= 2 && b[b.len() - 1] == b'y' && !is_vowel(b[b.len() - 2])
}

fn syllables(w: &str) -> usize {
    let b = w.as_bytes();
    let mut n = 0;
    let mut prev = false;
    for &c in b {
        let v = is_vowel(c) || c == b'y';
        if v && !prev {
            n += 1;
        }
        prev = v;
    }
    if w.ends_with('e') && !w.ends_with("le") && n > 1 {
        n -= 1;
    }
    n.max(1)
}

/// Regular English inflection of a single word: the first of its
/// [`regular_spellings`].
pub fn regular_inflection(w: &str, infl: Inflection) -> String {
    let mut form = String::new();
    regular_spellings(w, infl, &mut form, |_| Some(()));
    form
}

/// The regular spellings of the single word `w` in the inflection `infl`,
/// written into `buf` one at a time and handed to `accept` until it takes
/// one (its answer is returned; `None` when it takes none). The spelling
/// rules' choice comes first. Where the rules can only guess whether a
/// final consonant doubles (stress decides: "visited" but "omitted", and
/// spelling cannot see stress) the other choice follows, so that a caller
/// with a vocabulary can find the form that exists.
pub fn regular_spellings<T>(
    w: &str,
    infl: Inflection,
    buf: &mut String,
    mut accept: impl FnMut(&str) -> Option<T>,
) -> Option<T> {
    use Inflection::*;
    let mut spell = |parts: [&str; 3]| {
        buf.clear();
        for p in parts {
            buf.push_str(p);
        }
        accept(buf)
    };
    // `w` less its last letter, where a rule replaces that letter (always
    // an ASCII 'e' or 'y' there).
    let cut = || &w[..w.len() - 1];
    // The final consonant doubled, by the rule's guess first.
    let mut doubled = |suffix: &str| {
        let last = match w.as_bytes().last() {
            Some(b) if b.is_ascii() => &w[w.len() - 1..],
            _ => "",
        };
        let (first, second) = if doubles_final(w) {
            (last, "")
        } else {
            ("", last)
        };
        spell([w, first, suffix]).or_else(|| {
            if last.is_empty() {
                Option::None
            } else {
                spell([w, second, suffix])
            }
        })
    };
    let sibilant = w.ends_with('s')
        || w.ends_with('x')
        || w.ends_with('z')
        || w.ends_with("ch")
        || w.ends_with("sh");
    match infl {
        None => spell([w, "", ""]),
        Plural => {
            if ends_consonant_y(w) {
                spell([cut(), "ies", ""])
            } else if sibilant {
                spell([w, "es", ""])
            } else {
                spell([w, "s", ""])
            }
        }
        ThirdSingular => {
            let b = w.as_bytes();
            if ends_consonant_y(w) {
                spell([cut(), "ies", ""])
            } else if sibilant || (w.ends_with('o') && b.len() >= 2 && !is_vowel(b[b.len() - 2])) {
                spell([w, "es", ""])
            } else {
                spell([w, "s", ""])
            }
        }
        Past | PastParticiple => {
            if w.ends_with('e') {
                spell([w, "d", ""])
            } else if ends_consonant_y(w) {
                spell([cut(), "ied", ""])
            } else {
                doubled("ed")
            }
        }
        PresentParticiple => {
            if let Some(stem) = w.strip_suffix("ie") {
                spell([stem, "ying", ""])
            } else if w.ends_with('e')
                && !w.ends_with("ee")
                && !w.ends_with("ye")
                && !w.ends_with("oe")
                && w.len() > 2
            {
                spell([cut(), "ing", ""])
            } else {
                doubled("ing")
            }
        }
        Comparative | Superlative => {
            let (suf, more) = if infl == Comparative {
                ("er", "more ")
            } else {
                ("est", "most ")
            };
            if syllables(w) >= 3 || (syllables(w) == 2 && !w.ends_with('y')) {
                spell([more, w, ""])
            } else if w.ends_with('e') {
                spell([w, &suf[1..], ""])
            } else if ends_consonant_y(w) {
                spell([cut(), "i", suf])
            } else {
                doubled(suf)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wordnet::tests::embedded;

    #[test]
    fn regular_inflections() {
        use Inflection::*;
        let cases = [
            ("box", Plural, "boxes"),
            ("city", Plural, "cities"),
            ("day", Plural, "days"),
            ("stop", Past, "stopped"),
            ("visit", Past, "visited"),
            ("hope", Past, "hoped"),
            ("try", Past, "tried"),
            ("stop", PresentParticiple, "stopping"),
            ("make", PresentParticiple, "making"),
            ("die", PresentParticiple, "dying"),
            ("see", PresentParticiple, "seeing"),
            ("go", ThirdSingular, "goes"),
            ("big", Comparative, "bigger"),
            ("happy", Superlative, "happiest"),
            ("large", Comparative, "larger"),
            ("beautiful", Comparative, "more beautiful"),
        ];
        for (w, i, want) in cases {
            assert_eq!(regular_inflection(w, i), want, "{w} {i:?}");
        }
        // Every spelling, the rule's first: a doubled final consonant is a
        // guess, so the other choice follows.
        let all = |w: &str, i: Inflection| {
            let mut seen = Vec::new();
            regular_spellings(w, i, &mut String::new(), |s| {
                seen.push(s.to_string());
                Option::<()>::None
            });
            seen
        };
        assert_eq!(all("stop", Past), ["stopped", "stoped"]);
        assert_eq!(all("visit", Past), ["visited", "visitted"]);
        assert_eq!(all("plan", PresentParticiple), ["planning", "planing"]);
        assert_eq!(all("big", Comparative), ["bigger", "biger"]);
        assert_eq!(all("hope", Past), ["hoped"]);
        assert_eq!(all("tie", PresentParticiple), ["tying"]);
        assert_eq!(all("box", Plural), ["boxes"]);
        // The first one taken ends the search.
        let known = ["visited", "stoped"];
        let take = |w: &str| {
            regular_spellings(w, Past, &mut String::new(), |s| {
                known.contains(&s).then(|| s.to_string())
            })
        };
        assert_eq!(take("visit").as_deref(), Some("visited"));
        assert_eq!(take("stop").as_deref(), Some("stoped"));
        assert_eq!(take("walk"), Option::None);
        assert_eq!(match_case("Children", "kids"), "Kids");
        assert_eq!(match_case("CHILDREN", "kids"), "KIDS");
        assert_eq!(match_case("children", "kids"), "kids");
    }

    #[test]
    fn morphy() {
        let wn = embedded();
        let has = |w: &str, b: &str, p: Pos| wn.base_forms(w).contains(&(b.to_string(), p));
        assert!(has("went", "go", Pos::Verb));
        assert!(has("children", "child", Pos::Noun));
        assert!(has("soldiers", "soldier", Pos::Noun));
        assert!(has("agreed", "agree", Pos::Verb));
        assert!(has("agreed", "agreed", Pos::Adj));
        assert!(has("boxes", "box", Pos::Noun));
        assert!(has("better", "good", Pos::Adj));
        assert!(has("running", "run", Pos::Verb));
        assert!(has("talks", "talk", Pos::Verb));
        assert!(has("attorneys general", "attorney_general", Pos::Noun));
        assert!(!has("as", "a", Pos::Noun));
        assert!(wn.base_forms("xyzzy").is_empty());
        assert!(wn.is_inflected_form("agreed", 3));
        assert!(wn.is_inflected_form("talks", 3));
        assert!(wn.is_inflected_form("are", 3));
        assert!(!wn.is_inflected_form("as", 3));
        assert!(!wn.is_inflected_form("new", 3));
        assert!(!wn.is_inflected_form("he", 3));
    }

    #[test]
    fn inflect_like_original() {
        let wn = embedded();
        assert_eq!(wn.inflect("kid", Pos::Noun, "Children"), "Kids");
        assert_eq!(wn.inflect("child", Pos::Noun, "kids"), "children");
        assert_eq!(wn.inflect("mouse", Pos::Noun, "rats"), "mice");
        assert_eq!(wn.inflect("go", Pos::Verb, "walked"), "went");
        assert_eq!(wn.inflect("go", Pos::Verb, "taken"), "gone");
        assert_eq!(wn.inflect("run", Pos::Verb, "walked"), "ran");
        assert_eq!(wn.inflect("stop", Pos::Verb, "walking"), "stopping");
        assert_eq!(wn.inflect("walk", Pos::Verb, "ran"), "walked");
        assert_eq!(wn.inflect("try", Pos::Verb, "goes"), "tries");
        assert_eq!(wn.inflect("be", Pos::Verb, "has"), "is");
        assert_eq!(wn.inflect("good", Pos::Adj, "bigger"), "better");
        assert_eq!(wn.inflect("big", Pos::Adj, "best"), "biggest");
        assert_eq!(wn.inflect("hot_dog", Pos::Noun, "sandwiches"), "hot dogs");
        assert_eq!(wn.inflect("give_up", Pos::Verb, "stopped"), "gave up");
        assert_eq!(wn.inflect("news", Pos::Noun, "news"), "news");
        assert_eq!(wn.inflect("tin", Pos::Noun, "can"), "tin");
    }
}
