//! A lossless tokenizer: tokens are byte spans that tile the input exactly.
//!
//! Restoration only ever rewrites the bytes of [`TokenKind::Word`] tokens, so
//! everything else (spacing, punctuation, quotes, URLs, markup) comes back
//! byte for byte. The tokenizer also records what a whitespace-splitting
//! spinner would have seen: a word is [`Token::bare`] when nothing but
//! whitespace, the text's edges or markup tags touch it, which is the only
//! case in which the news spinner replaces a word.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Letters with inner apostrophes or hyphens ("don't", "well-known").
    Word,
    /// Digits, possibly with inner separators ("1,200.50", "3rd").
    Number,
    /// Any run of whitespace.
    Space,
    /// A single punctuation or symbol character (straight or curly quotes included).
    Punct,
    /// `http(s)://…` or `www.…` up to the next whitespace, minus trailing punctuation.
    Url,
    /// `local@domain.tld`.
    Email,
    /// An HTML/XML tag, comment or doctype, or the raw body of `<script>`/`<style>`.
    Tag,
    /// Markdown code (inline `` `code` `` spans and fenced blocks), passed through untouched.
    Code,
}

impl TokenKind {
    /// Markup, code, URLs and e-mail addresses: spans no rewrite may touch.
    pub fn is_opaque(self) -> bool {
        matches!(
            self,
            TokenKind::Tag | TokenKind::Code | TokenKind::Url | TokenKind::Email
        )
    }
}

/// One span of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// What the span is.
    pub kind: TokenKind,
    /// For words and numbers: whitespace, a tag or the edge of the text on both sides.
    pub bare: bool,
}

impl Token {
    /// The token's text.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphabetic() || c.is_ascii_digit() || is_combining(c)
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F)
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

fn is_joiner(c: char) -> bool {
    is_apostrophe(c) || c == '-' || c == '\u{2010}' || c == '\u{2011}'
}

/// Words a line needs before the words on it have context to weigh: entries
/// of an index or a word list ("- crevice, 409") have no running text around
/// them, so a language model's preference between synonyms there says
/// nothing about spinning.
pub const MIN_LINE_WORDS: usize = 4;

/// Byte ranges of the lines of `text` with fewer than [`MIN_LINE_WORDS`]
/// words (whitespace-separated tokens with a letter), in order.
pub fn short_lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let words = line
            .split_whitespace()
            .filter(|w| w.chars().any(char::is_alphabetic))
            .take(MIN_LINE_WORDS)
            .count();
        if words < MIN_LINE_WORDS {
            out.push((start, start + line.len()));
        }
        start += line.len();
    }
    out
}

/// Whether the byte offset `at` is on one of the `short` lines of
/// [`short_lines`].
pub fn on_short_line(short: &[(usize, usize)], at: usize) -> bool {
    let k = short.partition_point(|&(_, e)| e <= at);
    short.get(k).is_some_and(|&(s, _)| s <= at)
}

/// Splits `text` into tokens covering every byte exactly once, in order.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::with_capacity(text.len() / 4 + 1);
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut line_start = true;
    while i < text.len() {
        let c = text[i..].chars().next().expect("in bounds");
        let (kind, end) = if c.is_whitespace() {
            let mut j = i;
            for (k, ch) in text[i..].char_indices() {
                if !ch.is_whitespace() {
                    break;
                }
                j = i + k + ch.len_utf8();
            }
            (TokenKind::Space, j)
        } else if c == '<' {
            match scan_tag(text, i) {
                Some(end) => (TokenKind::Tag, end),
                None => (TokenKind::Punct, i + 1),
            }
        } else if c == '`' {
            match scan_code(text, i, line_start) {
                Some(end) => (TokenKind::Code, end),
                None => (TokenKind::Punct, i + 1),
            }
        } else if let Some(end) = scan_url(text, i) {
            (TokenKind::Url, end)
        } else if let Some(end) = scan_initialism(text, i) {
            (TokenKind::Word, end)
        } else if is_word_char(c) {
            let end = scan_word(text, i);
            if let Some(e) = scan_email(text, i, end) {
                (TokenKind::Email, e)
            } else if text[i..end].chars().any(|ch| ch.is_alphabetic()) {
                (TokenKind::Word, end)
            } else if c.is_ascii_digit() {
                (TokenKind::Number, scan_number(text, i))
            } else {
                // A combining mark with no letter before it: one symbol
                // (a number scan from here would end inside the character).
                (TokenKind::Punct, i + c.len_utf8())
            }
        } else {
            (TokenKind::Punct, i + c.len_utf8())
        };
        line_start = kind == TokenKind::Space && bytes[i..end].contains(&b'\n');
        tokens.push(Token {
            start: i,
            end,
            kind,
            bare: false,
        });
        i = end;
    }
    mark_bare(&mut tokens);
    // After a raw-text element's opening tag the tokenizer has no special
    // state, so we re-scan `<script>`/`<style>` bodies here as one tag.
    merge_raw_elements(text, tokens)
}

fn scan_word(text: &str, start: usize) -> usize {
    let mut end = start;
    let mut chars = text[start..].char_indices().peekable();
    while let Some((k, c)) = chars.next() {
        if is_word_char(c) {
            end = start + k + c.len_utf8();
        } else if is_joiner(c) {
            // A joiner counts only between two word characters.
            match chars.peek() {
                Some(&(_, n)) if is_word_char(n) && end == start + k => continue,
                _ => break,
            }
        } else {
            break;
        }
    }
    end
}

/// "u.s.", "a.m.", "e.g.": single letters each followed by a dot, kept as one
/// word because spinners write such forms ("us" -> "u.s.").
fn scan_initialism(text: &str, start: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = start;
    let mut letters = 0;
    while i + 1 < b.len() && b[i].is_ascii_alphabetic() && b[i + 1] == b'.' {
        letters += 1;
        i += 2;
    }
    let next_is_word = b.get(i).is_some_and(|c| c.is_ascii_alphanumeric());
    (letters >= 2 && !next_is_word && (start == 0 || !b[start - 1].is_ascii_alphanumeric()))
        .then_some(i)
}

fn scan_number(text: &str, start: usize) -> usize {
    let b = text.as_bytes();
    let mut end = start;
    let mut i = start;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            i += 1;
            end = i;
        } else if (b[i] == b'.' || b[i] == b',')
            && i + 1 < b.len()
            && b[i + 1].is_ascii_digit()
            && end == i
        {
            i += 1;
        } else {
            break;
        }
    }
    end.max(start + 1)
}

fn scan_email(text: &str, start: usize, word_end: usize) -> Option<usize> {
    let b = text.as_bytes();
    // Local part: the word plus [._%+-] and more word characters.
    let mut i = word_end;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b"._%+-".contains(&b[i])) {
        i += 1;
    }
    if i >= b.len() || b[i] != b'@' || i == start {
        return None;
    }
    let domain_start = i + 1;
    let mut j = domain_start;
    let mut last_dot = None;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-' || b[j] == b'.') {
        if b[j] == b'.' {
            last_dot = Some(j);
        }
        j += 1;
    }
    // Trailing dots belong to the sentence.
    while j > domain_start && b[j - 1] == b'.' {
        j -= 1;
    }
    match last_dot {
        Some(d) if d > domain_start && d + 1 < j => Some(j),
        _ => None,
    }
}

fn scan_url(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start..];
    let lower_prefix = |p: &str| {
        rest.len() >= p.len() && rest.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    };
    if !(lower_prefix("http://") || lower_prefix("https://") || lower_prefix("www.")) {
        return None;
    }
    let mut end = start;
    for (k, c) in rest.char_indices() {
        if c.is_whitespace() || c == '<' || c == '>' || c == '"' {
            break;
        }
        end = start + k + c.len_utf8();
    }
    // Trailing sentence punctuation and unbalanced closing brackets are not part of a URL.
    loop {
        let s = &text[start..end];
        let Some(last) = s.chars().last() else { break };
        let trim = matches!(
            last,
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '\u{2019}' | '\u{201d}'
        ) || (last == ')' && s.matches('(').count() < s.matches(')').count());
        if !trim {
            break;
        }
        end -= last.len_utf8();
    }
    let min = if lower_prefix("www.") { 5 } else { 9 };
    (end - start >= min).then_some(end)
}

fn scan_tag(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start..];
    let b = rest.as_bytes();
    if rest.starts_with("<!--") {
        return rest.find("-->").map(|e| start + e + 3);
    }
    let second = *b.get(1)?;
    if !(second.is_ascii_alphabetic() || second == b'/' || second == b'!' || second == b'?') {
        return None;
    }
    // Tags are short; a lone '<' in prose must not swallow the document.
    let limit = rest.len().min(4096);
    let mut quote: Option<u8> = None;
    for (k, &ch) in b[..limit].iter().enumerate().skip(1) {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == b'"' || ch == b'\'' => quote = Some(ch),
            None if ch == b'>' => return Some(start + k + 1),
            None if ch == b'<' => return None,
            None => {}
        }
    }
    None
}

fn scan_code(text: &str, start: usize, line_start: bool) -> Option<usize> {
    let rest = &text[start..];
    let ticks = rest.bytes().take_while(|&b| b == b'`').count();
    if ticks >= 3 && (line_start || start == 0) {
        // Fenced block: up to a closing fence at the start of a line, or the end of the text.
        let fence = &rest[..ticks];
        let mut search = ticks;
        while let Some(p) = rest[search..].find(fence) {
            let at = search + p;
            if rest[..at].ends_with('\n') {
                let mut end = at + ticks;
                end += rest[end..].bytes().take_while(|&b| b == b'`').count();
                return Some(start + end);
            }
            search = at + ticks;
        }
        return Some(text.len());
    }
    let fence = &rest[..ticks];
    let body = &rest[ticks..];
    // Inline code ends at the same number of backticks on the same line, so
    // an old-style `quote' cannot hide the rest of a paragraph.
    let para_end = body.find('\n').unwrap_or(body.len());
    let close = body[..para_end].find(fence)?;
    Some(start + ticks + close + ticks)
}

fn mark_bare(tokens: &mut [Token]) {
    let n = tokens.len();
    for i in 0..n {
        if !matches!(tokens[i].kind, TokenKind::Word | TokenKind::Number) {
            continue;
        }
        let open = |t: Option<&Token>| {
            t.is_none_or(|t| matches!(t.kind, TokenKind::Space | TokenKind::Tag))
        };
        let before = if i == 0 { None } else { tokens.get(i - 1) };
        tokens[i].bare = open(before) && open(tokens.get(i + 1));
    }
}

fn merge_raw_elements(text: &str, tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        out.push(t);
        i += 1;
        if t.kind != TokenKind::Tag {
            continue;
        }
        let tag = t.text(text).to_ascii_lowercase();
        let name = if tag.starts_with("<script") {
            "</script"
        } else if tag.starts_with("<style") {
            "</style"
        } else {
            continue;
        };
        if tag.ends_with("/>") {
            continue;
        }
        let close = find_ascii_ci(&text[t.end..], name)
            .map(|p| t.end + p)
            .unwrap_or(text.len());
        if close > t.end {
            out.push(Token {
                start: t.end,
                end: close,
                kind: TokenKind::Tag,
                bare: false,
            });
        }
        while i < tokens.len() && tokens[i].start < close {
            if tokens[i].end > close {
                // A token straddling the close: split it so spans stay exact.
                out.push(Token {
                    start: close,
                    end: tokens[i].end,
                    kind: tokens[i].kind,
                    bare: false,
                });
            }
            i += 1;
        }
    }
    out
}

fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let h = hay.as_bytes();
    let n = needle.as_bytes();
    if n.len() > h.len() {
        return None;
    }
    (0..=h.len() - n.len())
        .find(|&k| h[k..k + n.len()].eq_ignore_ascii_case(n) && hay.is_char_boundary(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_lines_are_lines_of_under_four_words() {
        let text = "- crevice, 409\nthe rest of this line is prose\n\n2 3 4 5 six\nend";
        let short = short_lines(text);
        let at = |w: &str| text.find(w).unwrap();
        assert!(on_short_line(&short, at("crevice")));
        assert!(!on_short_line(&short, at("prose")));
        // Numbers are no words: a line of digits and one word is short.
        assert!(on_short_line(&short, at("six")));
        assert!(on_short_line(&short, at("end")));
        assert!(short_lines("one two three four").is_empty());
    }

    fn kinds(text: &str) -> Vec<(&str, TokenKind)> {
        tokenize(text)
            .iter()
            .map(|t| (t.text(text), t.kind))
            .collect()
    }

    #[test]
    fn words_punctuation_and_spacing() {
        use TokenKind::*;
        assert_eq!(
            kinds("He said: “don’t go,” well-known 1,200.5 times."),
            vec![
                ("He", Word),
                (" ", Space),
                ("said", Word),
                (":", Punct),
                (" ", Space),
                ("“", Punct),
                ("don’t", Word),
                (" ", Space),
                ("go", Word),
                (",", Punct),
                ("”", Punct),
                (" ", Space),
                ("well-known", Word),
                (" ", Space),
                ("1,200.5", Number),
                (" ", Space),
                ("times", Word),
                (".", Punct),
            ]
        );
    }

    #[test]
    fn urls_emails_tags_code() {
        use TokenKind::*;
        assert_eq!(
            kinds("see https://ex.com/a_(b). or <a href=\"x>y\">me@ex.org</a> `in code`"),
            vec![
                ("see", Word),
                (" ", Space),
                ("https://ex.com/a_(b)", Url),
                (".", Punct),
                (" ", Space),
                ("or", Word),
                (" ", Space),
                ("<a href=\"x>y\">", Tag),
                ("me@ex.org", Email),
                ("</a>", Tag),
                (" ", Space),
                ("`in code`", Code),
            ]
        );
    }

    #[test]
    fn initialisms_are_one_word() {
        use TokenKind::*;
        assert_eq!(
            kinds("the u.s. army, e.g. x.y"),
            vec![
                ("the", Word),
                (" ", Space),
                ("u.s.", Word),
                (" ", Space),
                ("army", Word),
                (",", Punct),
                (" ", Space),
                ("e.g.", Word),
                (" ", Space),
                ("x", Word),
                (".", Punct),
                ("y", Word),
            ]
        );
    }

    #[test]
    fn bare_words_follow_the_spinner() {
        let text = "helium said, <b>arsenic</b> “new” rules\nat end";
        let bare: Vec<&str> = tokenize(text)
            .iter()
            .filter(|t| t.bare)
            .map(|t| t.text(text))
            .collect();
        assert_eq!(bare, vec!["helium", "arsenic", "rules", "at", "end"]);
    }

    #[test]
    fn script_bodies_are_opaque() {
        let text = "<script>if (a < b) { in = 1 }</script> in";
        let toks = tokenize(text);
        let words: Vec<&str> = toks
            .iter()
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| t.text(text))
            .collect();
        assert_eq!(words, vec!["in"]);
    }

    #[test]
    fn fenced_code_is_one_token() {
        let text = "text\n```\nin on at\n```\nafter";
        let toks = tokenize(text);
        assert!(toks
            .iter()
            .any(|t| t.kind == TokenKind::Code && t.text(text) == "```\nin on at\n```"));
    }

    #[test]
    fn stray_combining_marks_are_symbols() {
        use TokenKind::*;
        assert_eq!(kinds("\u{300}"), vec![("\u{300}", Punct)]);
        assert_eq!(kinds("\u{301}12"), vec![("\u{301}", Punct), ("12", Number)]);
        assert_eq!(
            kinds("me@ex.orge\u{301}<b>"),
            vec![("me@ex.orge", Email), ("\u{301}", Punct), ("<b>", Tag)]
        );
        assert_eq!(kinds("e\u{301}t\u{e9}"), vec![("e\u{301}t\u{e9}", Word)]);
    }

    proptest::proptest! {
        #[test]
        fn spans_tile_the_input(s in "\\PC*") {
            let toks = tokenize(&s);
            let mut at = 0;
            for t in &toks {
                proptest::prop_assert_eq!(t.start, at);
                proptest::prop_assert!(t.end > t.start);
                at = t.end;
            }
            proptest::prop_assert_eq!(at, s.len());
        }

        #[test]
        fn spans_tile_input_with_combining_marks(s in "[a-z0-9\u{300}\u{301}\u{e9}@.,<>' ]{0,40}") {
            let toks = tokenize(&s);
            let joined: String = toks.iter().map(|t| t.text(&s)).collect();
            proptest::prop_assert_eq!(joined, s);
        }

        #[test]
        fn spans_tile_markup_like_input(s in "[a-z <>/`'’\\-@.:\n\"]{0,80}") {
            let toks = tokenize(&s);
            let joined: String = toks.iter().map(|t| t.text(&s)).collect();
            proptest::prop_assert_eq!(joined, s);
        }
    }
}
