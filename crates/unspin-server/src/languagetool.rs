//! A LanguageTool-compatible `/v2/check` and `/v2/languages`, so LanguageTool
//! clients (browser extensions, editor plugins) pointed at unspin show spun
//! words as suggestions.
//!
//! The answer has LanguageTool's shape: offsets and lengths count UTF-16
//! code units (Java `char`s), the context is 40 units either side of the
//! match with `...` where it is cut, and with the `data` form (annotated
//! text) offsets point into the text including its markup.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use unspin::restore::Change;

use crate::app::{json_bytes, App};
use crate::engine::RestoreParams;
use crate::error::ApiError;
use crate::input::{body_kind, parse_form, read_body, BodyKind};

/// The rule every match reports.
pub const RULE_ID: &str = "UNSPIN_SPUN_WORD";
/// Its category.
pub const CATEGORY_ID: &str = "UNSPIN";
/// Characters (UTF-16 units) of context either side of a match, as LanguageTool.
const CONTEXT_UNITS: usize = 40;

/// English variants we answer for: (long code, name).
const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("en-AU", "English (Australian)"),
    ("en-CA", "English (Canadian)"),
    ("en-GB", "English (GB)"),
    ("en-NZ", "English (New Zealand)"),
    ("en-US", "English (US)"),
    ("en-ZA", "English (South African)"),
];

#[derive(Serialize)]
struct Language {
    name: &'static str,
    code: &'static str,
    #[serde(rename = "longCode")]
    long_code: &'static str,
}

/// `GET /v2/languages`.
pub async fn languages() -> Response {
    let list: Vec<Language> = LANGUAGES
        .iter()
        .map(|&(long_code, name)| Language {
            name,
            code: "en",
            long_code,
        })
        .collect();
    json_bytes(
        StatusCode::OK,
        serde_json::to_vec(&list).unwrap_or_default(),
    )
}

/// The check's answer, in LanguageTool's field order.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CheckResponse {
    /// What answered.
    pub software: Software,
    /// Whether the answer is complete.
    pub warnings: Warnings,
    /// The language checked.
    pub language: LanguageSection,
    /// One per spun word.
    pub matches: Vec<Match>,
    /// Sentences as [start, end) UTF-16 offsets.
    pub sentence_ranges: Vec<[usize; 2]>,
}

/// `software` section.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Software {
    /// Always "unspin".
    pub name: String,
    /// unspin's version.
    pub version: String,
    /// Build date (unknown: empty).
    pub build_date: String,
    /// LanguageTool API version we follow (1).
    pub api_version: u32,
    /// Always false.
    pub premium: bool,
    /// Always empty.
    pub status: String,
}

/// `warnings` section.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Warnings {
    /// Always false: the whole text is checked.
    pub incomplete_results: bool,
}

/// `language` section.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct LanguageSection {
    /// Name of the language asked for (or detected, for `auto`).
    pub name: String,
    /// Its code.
    pub code: String,
    /// What `auto` found.
    pub detected_language: DetectedLanguage,
}

/// `language.detectedLanguage`.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct DetectedLanguage {
    /// Language name.
    pub name: String,
    /// Language code.
    pub code: String,
    /// For `auto`: the share of words the English model knows; else 1.
    pub confidence: f32,
    /// How it was decided.
    pub source: String,
}

/// One match: a word the restorer believes was spun.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    /// Explanation with the likely original and the confidence.
    pub message: String,
    /// A few words.
    pub short_message: String,
    /// Likely originals, best first.
    pub replacements: Vec<Replacement>,
    /// UTF-16 offset of the spun word in the request text.
    pub offset: usize,
    /// Its length in UTF-16 units.
    pub length: usize,
    /// Text around the match.
    pub context: Context,
    /// The sentence holding the match.
    pub sentence: String,
    /// Match type.
    #[serde(rename = "type")]
    pub kind: MatchType,
    /// The rule.
    pub rule: Rule,
    /// As LanguageTool: whether to skip the match while a sentence is being typed.
    pub ignore_for_incomplete_sentence: bool,
    /// As LanguageTool: words of context needed (0: none).
    pub context_for_sure_match: i32,
}

/// A suggested replacement.
#[derive(Serialize, Deserialize, Debug)]
pub struct Replacement {
    /// The replacement text.
    pub value: String,
}

/// A match's context.
#[derive(Serialize, Deserialize, Debug)]
pub struct Context {
    /// Up to 40 units either side, newlines as spaces, `...` where cut.
    pub text: String,
    /// UTF-16 offset of the match in `text`.
    pub offset: usize,
    /// UTF-16 length of the match.
    pub length: usize,
}

/// `type` of a match.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct MatchType {
    /// "Hint": a style issue, not a misspelling.
    pub type_name: String,
}

/// `rule` of a match.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// [`RULE_ID`].
    pub id: String,
    /// How the spun word relates to the original (rule, chain, synonym, ...).
    pub sub_id: String,
    /// What the rule finds.
    pub description: String,
    /// LanguageTool issue type ("style").
    pub issue_type: String,
    /// [`CATEGORY_ID`].
    pub category: Category,
}

/// A rule category.
#[derive(Serialize, Deserialize, Debug)]
pub struct Category {
    /// [`CATEGORY_ID`].
    pub id: String,
    /// "Machine-spun text".
    pub name: String,
}

/// Text to check: the plain text the model reads and, for annotated input,
/// where each plain piece sits in the original text with markup.
pub struct Annotated {
    /// Text parts and markup interpretations joined.
    pub plain: String,
    /// The original, markup included (what offsets count in).
    pub original: String,
    /// (plain byte offset, original byte offset, byte length) of each text part.
    pieces: Vec<(usize, usize, usize)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnnotationData {
    annotation: Vec<AnnotationPart>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnnotationPart {
    text: Option<String>,
    markup: Option<String>,
    #[serde(rename = "interpretAs")]
    interpret_as: Option<String>,
}

impl Annotated {
    /// Plain text: one piece.
    pub fn plain(text: String) -> Self {
        let n = text.len();
        Self {
            original: text.clone(),
            plain: text,
            pieces: vec![(0, 0, n)],
        }
    }

    /// LanguageTool's `data` form: `{"annotation": [{"text": ..}, {"markup": .., "interpretAs": ..}]}`.
    pub fn from_data(json: &str) -> Result<Self, String> {
        let d: AnnotationData =
            serde_json::from_str(json).map_err(|e| format!("field \"data\": {e}"))?;
        let mut a = Self {
            plain: String::new(),
            original: String::new(),
            pieces: Vec::new(),
        };
        for (i, p) in d.annotation.into_iter().enumerate() {
            match (p.text, p.markup) {
                (Some(t), None) if p.interpret_as.is_none() => {
                    a.pieces.push((a.plain.len(), a.original.len(), t.len()));
                    a.plain.push_str(&t);
                    a.original.push_str(&t);
                }
                (None, Some(m)) => {
                    a.original.push_str(&m);
                    if let Some(x) = p.interpret_as {
                        a.plain.push_str(&x);
                    }
                }
                _ => {
                    return Err(format!(
                        "field \"data\": annotation {i} needs either \"text\" or \"markup\" (with an optional \"interpretAs\")"
                    ))
                }
            }
        }
        Ok(a)
    }

    /// Original byte offset of plain byte offset `b`; `end` picks the piece
    /// that ends at `b` when `b` is also where the next one starts.
    fn to_original(&self, b: usize, end: bool) -> usize {
        let found = self.pieces.iter().find(|&&(p, _, n)| {
            if end {
                p < b && b <= p + n
            } else {
                p <= b && b < p + n
            }
        });
        match found {
            Some(&(p, o, _)) => o + (b - p),
            // Inside interpreted markup: map to the nearest piece boundary.
            None => self
                .pieces
                .iter()
                .rev()
                .find(|&&(p, _, _)| p <= b)
                .map_or(0, |&(p, o, n)| o + n.min(b - p)),
        }
    }
}

/// UTF-16 length of a string.
fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// UTF-16 offsets of sorted byte offsets into `s`, in one pass.
fn utf16_offsets(s: &str, bytes: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..bytes.len()).collect();
    order.sort_by_key(|&i| bytes[i]);
    let mut out = vec![0; bytes.len()];
    let (mut at, mut units) = (0usize, 0usize);
    for i in order {
        let b = bytes[i].min(s.len());
        if b > at {
            units += utf16_len(&s[at..b]);
            at = b;
        }
        out[i] = units;
    }
    out
}

/// The sentence around bytes `start..end` of `text`, trimmed: from after the
/// previous sentence end or line break to the next one.
fn sentence_around(text: &str, start: usize, end: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let mut a = start;
    while a > 0 {
        let c = bytes[a - 1];
        if c == b'\n' {
            break;
        }
        if c.is_ascii_whitespace() && a >= 2 && matches!(bytes[a - 2], b'.' | b'!' | b'?') {
            break;
        }
        a -= 1;
    }
    let mut b = end;
    while b < bytes.len() {
        let c = bytes[b];
        if c == b'\n' {
            break;
        }
        b += 1;
        if matches!(c, b'.' | b'!' | b'?')
            && !matches!(bytes.get(b), Some(n) if !n.is_ascii_whitespace())
        {
            break;
        }
    }
    let s = &text[a..b];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    (a + lead, b - trail)
}

/// Sentence ranges of the whole plain text (bytes).
fn sentence_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let skip = text[at..].len() - text[at..].trim_start().len();
        at += skip;
        if at >= text.len() {
            break;
        }
        let (a, b) = sentence_around(text, at, at);
        let b = b.max(a + 1).min(text.len());
        let b = (b..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        out.push((a, b));
        at = b;
    }
    out
}

/// LanguageTool's context: `CONTEXT_UNITS` UTF-16 units either side of
/// `[from, to)` in `units`, `...` where cut, newlines as spaces.
fn context(units: &[u16], from: usize, to: usize) -> Context {
    let mut start = from.saturating_sub(CONTEXT_UNITS);
    let mut end = (to + CONTEXT_UNITS).min(units.len());
    // Never split a surrogate pair.
    if start > 0 && (0xDC00..0xE000).contains(&units[start]) {
        start += 1;
    }
    if end < units.len() && end > 0 && (0xD800..0xDC00).contains(&units[end - 1]) {
        end -= 1;
    }
    let prefix = if start > 0 { "..." } else { "" };
    let suffix = if end < units.len() { "..." } else { "" };
    let body = String::from_utf16_lossy(&units[start..end]).replace('\n', " ");
    Context {
        text: format!("{prefix}{body}{suffix}"),
        offset: prefix.len() + from - start,
        length: to - from,
    }
}

/// Builds LanguageTool matches from a restoration of `doc.plain`.
pub fn matches(doc: &Annotated, changes: &[&Change]) -> (Vec<Match>, Vec<[usize; 2]>) {
    let units: Vec<u16> = doc.original.encode_utf16().collect();
    let mut orig_bytes = Vec::with_capacity(changes.len() * 2);
    for c in changes {
        orig_bytes.push(doc.to_original(c.start, false));
        orig_bytes.push(
            doc.to_original(c.end, true)
                .max(doc.to_original(c.start, false)),
        );
    }
    let u = utf16_offsets(&doc.original, &orig_bytes);
    let out = changes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (from, to) = (u[2 * i], u[2 * i + 1]);
            let (sa, sb) = sentence_around(&doc.plain, c.start, c.end);
            let mut replacements: Vec<Replacement> = Vec::new();
            for a in &c.alternatives {
                if a.text != c.spun && !replacements.iter().any(|r| r.value == a.text) {
                    replacements.push(Replacement {
                        value: a.text.clone(),
                    });
                }
            }
            Match {
                message: format!(
                    "This looks like a word swapped in by a text spinner: the original was probably \u{201c}{}\u{201d} ({:.0}% confident).",
                    c.original,
                    c.confidence * 100.0
                ),
                short_message: "Spun word".into(),
                replacements,
                offset: from,
                length: to - from,
                context: context(&units, from, to),
                sentence: doc.plain[sa..sb].to_string(),
                kind: MatchType {
                    type_name: "Hint".into(),
                },
                rule: Rule {
                    id: RULE_ID.into(),
                    sub_id: c.relation.clone(),
                    description: "Word replaced by a synonym spinner".into(),
                    issue_type: "style".into(),
                    category: Category {
                        id: CATEGORY_ID.into(),
                        name: "Machine-spun text".into(),
                    },
                },
                ignore_for_incomplete_sentence: false,
                context_for_sure_match: 0,
            }
        })
        .collect();
    let ranges = sentence_ranges(&doc.plain);
    let mut rb = Vec::with_capacity(ranges.len() * 2);
    for &(a, b) in &ranges {
        rb.push(doc.to_original(a, false));
        rb.push(doc.to_original(b, true));
    }
    let ru = utf16_offsets(&doc.original, &rb);
    let sentence_ranges = ru.chunks(2).map(|p| [p[0], p[1]]).collect();
    (out, sentence_ranges)
}

/// The language a request names, as (code, name), or why it is refused.
fn resolve_language(code: &str) -> Result<Option<(&'static str, &'static str)>, ApiError> {
    if code.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    LANGUAGES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|&(c, n)| Some((c, n)))
        .ok_or_else(|| {
            ApiError::bad_request(
                "unsupported_language",
                format!(
                    "language {:?} is not supported: unspin checks English (auto, en, en-US, en-GB, en-AU, en-CA, en-NZ, en-ZA)",
                    code.chars().take(40).collect::<String>()
                ),
            )
        })
}

/// `POST /v2/check` (form fields `text` or `data`, and `language`; other
/// LanguageTool fields are accepted and ignored, except that disabling our
/// rule or category, or `enabledOnly` without it, turns matches off).
/// `GET` with the same fields in the query string works too, as in LanguageTool.
pub async fn check(State(app): State<Arc<App>>, req: Request) -> Result<Response, ApiError> {
    let cancel = crate::app::request_cancel(&req);
    let (parts, body) = req.into_parts();
    let fields = if parts.method == Method::GET {
        parse_form(parts.uri.query().unwrap_or("").as_bytes())?
    } else {
        body_kind(&parts.headers, &[BodyKind::Form])?;
        let bytes = read_body(body, &parts.headers, app.config.max_body_bytes).await?;
        parse_form(&bytes)?
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let listed =
        |name: &str, id: &str| field(name).is_some_and(|v| v.split(',').any(|x| x.trim() == id));
    let language = field("language").ok_or_else(|| {
        ApiError::bad_request(
            "missing_language",
            "missing field \"language\" (for example language=en-US or language=auto)",
        )
    })?;
    let asked = resolve_language(language)?;
    let doc = match (field("text"), field("data")) {
        (Some(t), None) => Annotated::plain(t.to_string()),
        (None, Some(d)) => {
            Annotated::from_data(d).map_err(|e| ApiError::bad_request("bad_data", e))?
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "bad_field",
                "send either \"text\" or \"data\", not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_text",
                "missing field \"text\" (or \"data\")",
            ))
        }
    };
    crate::input::check_text(doc.plain.as_bytes(), "field \"text\"")?;
    let enabled = !listed("disabledRules", RULE_ID)
        && !listed("disabledCategories", CATEGORY_ID)
        && (field("enabledOnly") != Some("true")
            || listed("enabledRules", RULE_ID)
            || listed("enabledCategories", CATEGORY_ID));
    let min_confidence = app.config.check_min_confidence;
    let bytes = app
        .work("/v2/check", &cancel, move |engine, cancel| {
            let (name, code, confidence, source) = match asked {
                Some((code, name)) => (name, code, 1.0, "request"),
                None => (
                    "English (US)",
                    "en-US",
                    engine.known_word_share(&doc.plain),
                    "unspin: share of known English words",
                ),
            };
            // The default quality fails only when cancelled (only `best`
            // needs a model file).
            let r = match engine.restore_cancellable(&doc.plain, &RestoreParams::default(), cancel)
            {
                Ok(r) => r,
                Err(e) => return (Err(e), 0),
            };
            let chosen: Vec<&Change> = r
                .changes
                .iter()
                .filter(|c| enabled && c.confidence >= min_confidence)
                .collect();
            let (matches, sentence_ranges) = matches(&doc, &chosen);
            let resp = CheckResponse {
                software: Software {
                    name: "unspin".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    build_date: String::new(),
                    api_version: 1,
                    premium: false,
                    status: String::new(),
                },
                warnings: Warnings {
                    incomplete_results: false,
                },
                language: LanguageSection {
                    name: name.into(),
                    code: code.into(),
                    detected_language: DetectedLanguage {
                        name: name.into(),
                        code: code.into(),
                        confidence,
                        source: source.into(),
                    },
                },
                matches,
                sentence_ranges,
            };
            (Ok(serde_json::to_vec(&resp).unwrap_or_default()), r.words)
        })
        .await??;
    Ok(json_bytes(StatusCode::OK, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_offsets_count_java_chars() {
        let s = "a\u{e9}\u{1F600}b"; // a, é (2 bytes, 1 unit), 😀 (4 bytes, 2 units), b
        assert_eq!(utf16_offsets(s, &[0, 1, 3, 7, 8]), vec![0, 1, 2, 4, 5]);
        assert_eq!(utf16_offsets(s, &[7, 0]), vec![4, 0]);
    }

    #[test]
    fn context_like_languagetool() {
        let text = "x".repeat(50) + " caller " + &"y".repeat(50);
        let units: Vec<u16> = text.encode_utf16().collect();
        let c = context(&units, 51, 57);
        assert!(c.text.starts_with("...") && c.text.ends_with("..."));
        assert_eq!(c.text.len(), 3 + 40 + 6 + 40 + 3);
        assert_eq!(&c.text[c.offset..c.offset + c.length], "caller");
        let short: Vec<u16> = "he said\nthe caller rules".encode_utf16().collect();
        let c = context(&short, 12, 18);
        assert_eq!(c.text, "he said the caller rules");
        assert_eq!(c.offset, 12);
    }

    #[test]
    fn sentences() {
        let t = "First one. The caller rules! Last\nline here";
        let s = t.find("caller").unwrap();
        let (a, b) = sentence_around(t, s, s + 6);
        assert_eq!(&t[a..b], "The caller rules!");
        let s = t.find("here").unwrap();
        let (a, b) = sentence_around(t, s, s + 4);
        assert_eq!(&t[a..b], "line here");
        let r: Vec<&str> = sentence_ranges(t).iter().map(|&(a, b)| &t[a..b]).collect();
        assert_eq!(
            r,
            vec!["First one.", "The caller rules!", "Last", "line here"]
        );
    }

    #[test]
    fn annotated_offsets_point_into_the_markup() {
        let d = r#"{"annotation":[{"text":"A "},{"markup":"<b>"},{"text":"caller"},{"markup":"</b>"},{"markup":"<p>","interpretAs":"\n\n"},{"text":"rule"}]}"#;
        let a = Annotated::from_data(d).unwrap();
        assert_eq!(a.plain, "A caller\n\nrule");
        assert_eq!(a.original, "A <b>caller</b><p>rule");
        let s = a.plain.find("caller").unwrap();
        assert_eq!(a.to_original(s, false), 5);
        assert_eq!(a.to_original(s + 6, true), 11);
        let r = a.plain.find("rule").unwrap();
        assert_eq!(a.to_original(r, false), 18);
        assert!(Annotated::from_data(r#"{"annotation":[{"bogus":1}]}"#).is_err());
        assert!(Annotated::from_data(r#"{"annotation":[{}]}"#).is_err());
    }
}
