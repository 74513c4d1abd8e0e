//! Numbers in every spelling: digits, roman numerals and number words.
//!
//! Restoring never rewrites a number in either direction unless the text
//! itself shows that its spinner does (see [`DigitEvidence`]): "34" is not
//! "xxxiv", "60" is not "sixty", and "Windows 10" is not "Windows x", even
//! though WordNet lists each pair as one synset and a word spinner that reads
//! WordNet can write either.

use crate::token::{Token, TokenKind};

/// Spelled-out cardinals below twenty, and the tens.
const SMALL: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 8] = [
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const LARGE: [&str; 6] = [
    "hundred", "thousand", "million", "billion", "trillion", "dozen",
];
const ORDINALS: [&str; 10] = [
    "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh",
    "twelfth",
];

/// The spelled-out cardinal words a spinner turns into single digits
/// ("one" -> "1"), one to nine: the numbers that writers spell out.
pub const SPELLED_DIGITS: [&str; 9] = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// Whether `w` (any case) is written with digits: "34", "2nd", "1.5", "10%".
pub fn has_digit(w: &str) -> bool {
    w.bytes().any(|b| b.is_ascii_digit())
}

/// Whether `w` (any case) is a roman numeral of two letters or more ("ii",
/// "XXXIV", "mcmxc"). Single letters ("i", "v", "x") are words first.
pub fn is_roman(w: &str) -> bool {
    let b = w.as_bytes();
    if b.len() < 2 || b.len() > 15 {
        return false;
    }
    let value = |c: u8| match c.to_ascii_lowercase() {
        b'i' => Some(1),
        b'v' => Some(5),
        b'x' => Some(10),
        b'l' => Some(50),
        b'c' => Some(100),
        b'd' => Some(500),
        b'm' => Some(1000),
        _ => None,
    };
    let Some(vals) = b.iter().map(|&c| value(c)).collect::<Option<Vec<u32>>>() else {
        return false;
    };
    // Canonical form: parse, then compare with the value written back.
    let mut total = 0u32;
    for (k, &v) in vals.iter().enumerate() {
        match vals.get(k + 1) {
            Some(&next) if next > v => total = total.wrapping_sub(v),
            _ => total = total.wrapping_add(v),
        }
    }
    (1..4000).contains(&total) && to_roman(total).eq_ignore_ascii_case(w)
}

fn to_roman(mut n: u32) -> String {
    const TABLE: [(u32, &str); 13] = [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ];
    let mut s = String::new();
    for &(v, r) in &TABLE {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    s
}

/// Whether `w` (lowercase) is a number written out: "two", "sixty",
/// "thirty-four", "hundred", "third", "twenty-first". "first" and "second"
/// are words of their own too ("a second look") and do not count.
pub fn is_number_word(w: &str) -> bool {
    let mut parts = w.split('-');
    // "first" and "second" count only inside a compound ("twenty-first").
    parts.next().is_some_and(is_number_part)
        && parts.all(|p| is_number_part(p) || p == "first" || p == "second")
}

fn is_number_part(part: &str) -> bool {
    let cardinal = |s: &str| SMALL.contains(&s) || TENS.contains(&s) || LARGE.contains(&s);
    cardinal(part)
        || ORDINALS.contains(&part)
        // "sixteenth", "hundredth"
        || part.strip_suffix("th").is_some_and(cardinal)
        // "twentieth"
        || part
            .strip_suffix("ieth")
            .is_some_and(|stem| TENS.iter().any(|t| t.strip_suffix('y') == Some(stem)))
}

/// A number below one hundred written out: 7 -> "seven", 42 -> "forty-two".
pub fn spell_below_100(n: u32) -> Option<String> {
    match n {
        0..=19 => Some(SMALL[n as usize].to_string()),
        20..=99 => {
            let tens = TENS[(n / 10 - 2) as usize];
            Some(match n % 10 {
                0 => tens.to_string(),
                u => format!("{tens}-{}", SMALL[u as usize]),
            })
        }
        _ => None,
    }
}

/// Whether `w` is a number in any spelling: digits, a roman numeral, or a
/// number word (case is ignored).
pub fn is_number(w: &str) -> bool {
    if has_digit(w) || is_roman(w) {
        return true;
    }
    if w.bytes().all(|b| !b.is_ascii_uppercase()) {
        is_number_word(w)
    } else {
        is_number_word(&w.to_ascii_lowercase())
    }
}

/// What a text shows about its spinner and numbers. A spinner that writes
/// "two" as "2" does so for every "two" (spinners decide per word type), so
/// a bare spelled-out "two" anywhere in the text shows that its spinner does
/// not write "2" for "two"; and such a spinner leaves bare single digits in
/// running prose, where authors spell small numbers out. The digit slot this
/// opens never sways the spun/clean decision of a section (both hypotheses
/// read the number alike), so a clean text stays closed whatever its digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DigitEvidence {
    /// Which of one..nine appear bare and spelled out (bit k for k + 1).
    spelled: u16,
    /// Bare single digits 1..9 in the text.
    digits: usize,
}

impl DigitEvidence {
    /// Counts the evidence in `text`, tokenized as `tokens`.
    pub fn of(text: &str, tokens: &[Token]) -> Self {
        let mut e = DigitEvidence::default();
        for t in tokens {
            if !t.bare || !matches!(t.kind, TokenKind::Word | TokenKind::Number) {
                continue;
            }
            let w = t.text(text);
            if w.len() == 1 && matches!(w.as_bytes()[0], b'1'..=b'9') {
                e.digits += 1;
            } else if let Some(k) = SPELLED_DIGITS.iter().position(|&s| s == w) {
                e.spelled |= 1 << k;
            }
        }
        e
    }

    /// Whether the text may show a spinner that writes `digit` (a single
    /// digit 1..9, bare in the text) for its spelled-out word: that word is
    /// nowhere bare in the text. (Until 2026-12-07 this also asked for a
    /// second bare single digit; on the dev slice of the training split that
    /// left 119 of 1,512 missed news-spun digits, "the 2 countries", with
    /// no candidate, and changed no clean word of five other registers.)
    pub fn spinner_writes(&self, digit: &str) -> bool {
        match digit.as_bytes() {
            &[d @ b'1'..=b'9'] => self.digits >= 1 && self.spelled & (1 << (d - b'1')) == 0,
            _ => false,
        }
    }

    /// Whether the text holds a bare single digit whose word it never spells out.
    pub fn any(&self) -> bool {
        self.digits >= 1 && self.spelled != (1 << 9) - 1
    }
}

/// Whether the bare digit `digit` may be restored to `word`: a single digit
/// 1..9 whose spelled-out form it is. Longer numbers ("34", "200") are
/// written as digits by authors too, and roman numerals are never originals.
pub fn restorable_digit(digit: &str, word: &str) -> bool {
    digit.len() == 1
        && matches!(digit.as_bytes()[0], b'1'..=b'9')
        && SPELLED_DIGITS.get((digit.as_bytes()[0] - b'1') as usize) == Some(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roman_numerals() {
        for w in ["ii", "iv", "xxxiv", "XXXIV", "mcmxc", "xl", "mix", "cd"] {
            assert!(is_roman(w), "{w}");
        }
        for w in [
            "i", "v", "x", "iiii", "vv", "civil", "dim", "lid", "mid", "ic", "xm", "",
        ] {
            assert!(!is_roman(w), "{w}");
        }
    }

    #[test]
    fn number_words() {
        for w in [
            "two",
            "sixty",
            "thirty-four",
            "hundred",
            "third",
            "twentieth",
            "twenty-first",
            "sixteenth",
            "hundredth",
        ] {
            assert!(is_number_word(w), "{w}");
        }
        for w in [
            "tooth",
            "month",
            "tenth-rate-x",
            "one-off",
            "",
            "-",
            "to",
            "worth",
        ] {
            assert!(!is_number_word(w), "{w}");
        }
    }

    #[test]
    fn numbers_any_spelling() {
        for w in ["34", "2nd", "1.5", "XXXIV", "Sixty", "two"] {
            assert!(is_number(w), "{w}");
        }
        for w in ["the", "I", "x", "clean"] {
            assert!(!is_number(w), "{w}");
        }
    }

    #[test]
    fn digits_restorable_only_to_their_word() {
        assert!(restorable_digit("2", "two"));
        assert!(!restorable_digit("2", "ii"));
        assert!(!restorable_digit("34", "thirty-four"));
        assert!(!restorable_digit("0", "zero"));
        assert!(!restorable_digit("10", "ten"));
    }

    #[test]
    fn evidence_needs_digits_and_no_spelled_counterpart() {
        let e = |s: &str| DigitEvidence::of(s, &crate::token::tokenize(s));
        assert!(e("he had 2 dogs and 3 cats").spinner_writes("2"));
        let mixed = e("he had two dogs and 3 cats and 2 birds");
        assert!(!mixed.spinner_writes("2"));
        assert!(mixed.spinner_writes("3"));
        assert!(!e("It took 34 runs of 200 docs.").any());
        assert!(e("only 1 here").spinner_writes("1"));
        assert!(!e("only 1 here, one there").spinner_writes("1"));
        // The digit must be in the text, bare: "1," or "v1" shows nothing.
        assert!(!e("only one here").spinner_writes("1"));
        assert!(!e("see v1, 2nd").any());
        assert!(!e("he had 2 dogs and 3 cats").spinner_writes("34"));
    }
}
