//! JSON documents `{"id": .., "text": .., ...}`: the one reader of the
//! API's JSON bodies, the CLI's `--jsonl` lines and the JSON Lines corpora
//! of the benchmarks and calibration.
//!
//! Two ways to read, for two kinds of input:
//!
//! - [`parse_doc`] reads a document strictly (what a user sends):
//!   - A key given twice is an error: serde_json would silently keep the
//!     last one, and which `"text"` the sender meant is a guess.
//!   - A numeric `id` comes back exactly as written, even past u64 (serde_json
//!     reads such a number as a float, which would echo another number, and
//!     an id that does not match is useless for joining results).
//! - [`lines`] reads a corpus file leniently (the project's own data): each
//!   non-blank line parsed as a [`serde_json::Value`], numbered from 1 as in
//!   the file, so every caller reports errors at the same line numbers and
//!   picks the fields it needs ([`Line::text`], [`Line::id_string`]).

use std::collections::HashSet;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

/// A document read from a JSON object.
#[derive(Debug)]
pub struct Doc<'a> {
    /// The `"text"` member.
    pub text: String,
    /// The `"id"` member, if any.
    pub id: Option<ExactId>,
    /// Every other member, in order, unparsed.
    pub rest: Vec<(String, &'a RawValue)>,
}

/// Why a JSON document was refused.
#[derive(Debug)]
pub enum DocError {
    /// Not JSON.
    Malformed(serde_json::Error),
    /// JSON, but not an object.
    NotObject,
    /// This key appears more than once.
    DuplicateKey(String),
    /// No `"text"` member.
    NoText,
    /// `"text"` is not a string.
    TextNotString,
}

impl fmt::Display for DocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocError::Malformed(e) => write!(f, "malformed JSON: {e}"),
            DocError::NotObject => f.write_str("not a JSON object"),
            DocError::DuplicateKey(k) => {
                write!(f, "key {} appears more than once", Value::String(k.clone()))
            }
            DocError::NoText => f.write_str("no \"text\" field"),
            DocError::TextNotString => f.write_str("field \"text\" must be a string"),
        }
    }
}

impl std::error::Error for DocError {}

/// Reads a document from one JSON object.
pub fn parse_doc(json: &[u8]) -> Result<Doc<'_>, DocError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let members = match de.deserialize_map(Members) {
        Ok(m) => m,
        // A type mismatch is the only data error a map of raw values has.
        Err(e) if e.classify() == serde_json::error::Category::Data => {
            return Err(DocError::NotObject)
        }
        Err(e) => return Err(DocError::Malformed(e)),
    };
    de.end().map_err(DocError::Malformed)?;
    let mut seen = HashSet::with_capacity(members.len());
    for (k, _) in &members {
        if !seen.insert(k.as_str()) {
            return Err(DocError::DuplicateKey(k.clone()));
        }
    }
    let mut text = None;
    let mut id = None;
    let mut rest = Vec::with_capacity(members.len());
    for (k, v) in members {
        match k.as_str() {
            "text" => {
                text = Some(
                    serde_json::from_str::<String>(v.get()).map_err(|_| DocError::TextNotString)?,
                )
            }
            "id" => id = Some(ExactId::from_raw(v)),
            _ => rest.push((k, v)),
        }
    }
    Ok(Doc {
        text: text.ok_or(DocError::NoText)?,
        id,
        rest,
    })
}

/// The members of a JSON object, values left unparsed.
struct Members;

impl<'de> Visitor<'de> for Members {
    type Value = Vec<(String, &'de RawValue)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
            out.push(entry);
        }
        Ok(out)
    }
}

/// Stands in for an id that only its own text can hold until
/// [`ExactId::finish`] puts that text back. NUL bytes keep it from clashing
/// with any id or text unspin accepts.
const PLACEHOLDER: &str = "\u{0}unspin:exact-id\u{0}";

/// A document's id, echoed in answers exactly as it was given.
#[derive(Clone, Debug, PartialEq)]
pub struct ExactId {
    value: Value,
    /// The id's own JSON text, when `value` cannot say it.
    raw: Option<String>,
}

impl ExactId {
    /// The id of a JSON member. Numbers that a JSON value would change
    /// (past u64 or f64 precision, or written as `1e2`) keep their text.
    pub fn from_raw(raw: &RawValue) -> Self {
        let text = raw.get();
        match serde_json::from_str::<Value>(text) {
            Ok(v) if !v.is_number() || writes_as(&v, text) => Self {
                value: v,
                raw: None,
            },
            // A number that reads differently, or one past f64's range.
            _ => Self {
                value: Value::String(PLACEHOLDER.into()),
                raw: Some(text.to_string()),
            },
        }
    }

    /// An id from a value (a form's string).
    pub fn from_value(value: Value) -> Self {
        Self { value, raw: None }
    }

    /// The id to put in a JSON answer under the key `"id"`; pass the
    /// serialized answer through [`ExactId::finish`].
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The id when it is a JSON string.
    pub fn as_str(&self) -> Option<&str> {
        match (&self.raw, &self.value) {
            (None, Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The id as plain text when it is a string or a number, a number as
    /// it was written (how an index or a report names a document).
    pub fn text(&self) -> Option<String> {
        match (&self.raw, &self.value) {
            // Only a number keeps its raw text.
            (Some(raw), _) => Some(raw.clone()),
            (None, Value::String(s)) => Some(s.clone()),
            (None, Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The serialized answer `json` (compact, as `serde_json::to_vec`
    /// writes it) with the id's exact text in place of its stand-in.
    pub fn finish(&self, json: Vec<u8>) -> Vec<u8> {
        let Some(raw) = &self.raw else {
            return json;
        };
        let needle = format!("\"id\":{}", Value::String(PLACEHOLDER.into()));
        // An unescaped quote opens or closes a string, so this can only
        // match the key "id" with the stand-in as its value.
        let Some(at) = json
            .windows(needle.len())
            .position(|w| w == needle.as_bytes())
        else {
            return json;
        };
        let mut out = Vec::with_capacity(json.len() + raw.len());
        out.extend_from_slice(&json[..at]);
        out.extend_from_slice(b"\"id\":");
        out.extend_from_slice(raw.as_bytes());
        out.extend_from_slice(&json[at + needle.len()..]);
        out
    }
}

/// Whether `v` serializes to `text`.
fn writes_as(v: &Value, text: &str) -> bool {
    let written = v.to_string();
    written == text
}

impl fmt::Display for ExactId {
    /// The id as JSON text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.raw {
            Some(raw) => f.write_str(raw),
            None => write!(f, "{}", self.value),
        }
    }
}

/// One non-blank line of a JSON Lines file, parsed (see [`lines`]).
#[derive(Clone, Debug)]
pub struct Line {
    /// Line number in the file, from 1 (blank lines counted).
    pub number: usize,
    /// The line's JSON value (any JSON, not only objects).
    pub value: Value,
}

/// A line of a JSON Lines file that is not JSON.
#[derive(Debug)]
pub struct LineError {
    /// Line number in the file, from 1.
    pub number: usize,
    /// What serde_json said.
    pub error: serde_json::Error,
}

impl Line {
    /// The `"text"` member when it is a string.
    pub fn text(&self) -> Option<&str> {
        self.str_field("text")
    }

    /// The `"id"` member, whatever its type.
    pub fn id(&self) -> Option<&Value> {
        self.value.get("id")
    }

    /// The `"id"` member when it is a string or a number, as text.
    pub fn id_string(&self) -> Option<String> {
        match self.id()? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A member when it is a string.
    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(Value::as_str)
    }
}

/// The non-blank lines of a JSON Lines file, each parsed leniently (a key
/// given twice keeps its last value), in order. Blank lines (only white
/// space) are skipped but counted in the line numbers.
pub fn lines(text: &str) -> impl Iterator<Item = Result<Line, LineError>> + '_ {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(k, l)| match serde_json::from_str(l) {
            Ok(value) => Ok(Line {
                number: k + 1,
                value,
            }),
            Err(error) => Err(LineError {
                number: k + 1,
                error,
            }),
        })
}

/// The `"text"` of each document of a JSON Lines corpus, in order, until
/// `words` whitespace-separated words are taken (the document that crosses
/// the count is kept whole); returns them and their word count. Lines that
/// do not parse or have no text are skipped. For benchmarks and tuning.
pub fn texts_up_to(corpus: &str, words: usize) -> (Vec<String>, usize) {
    let mut texts = Vec::new();
    let mut total = 0;
    for line in lines(corpus).flatten() {
        if total >= words {
            break;
        }
        if let Some(t) = line.text() {
            total += t.split_whitespace().count();
            texts.push(t.to_string());
        }
    }
    (texts, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_up_to_a_word_count() {
        let corpus = "{\"text\": \"a b c\"}\nnot json\n{\"id\": 1}\n{\"text\": \"d e\"}\n{\"text\": \"f\"}\n";
        assert_eq!(
            texts_up_to(corpus, 4),
            (vec!["a b c".to_string(), "d e".to_string()], 5)
        );
        assert_eq!(texts_up_to(corpus, 0), (vec![], 0));
    }

    #[test]
    fn ids_come_back_exactly() {
        for id in [
            "18446744073709551616",
            "-99999999999999999999999",
            "1e2",
            "1e400",
            "0.10000000000000000000001",
        ] {
            let json = format!("{{\"text\":\"a\",\"id\":{id}}}");
            let doc = parse_doc(json.as_bytes()).unwrap();
            let id_ = doc.id.unwrap();
            assert_eq!(id_.to_string(), id);
            assert_eq!(id_.text().as_deref(), Some(id));
            let answer = serde_json::json!({"a": 1, "id": id_.value(), "text": "x\"id\":"});
            let out = id_.finish(serde_json::to_vec(&answer).unwrap());
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("{{\"a\":1,\"id\":{id},\"text\":\"x\\\"id\\\":\"}}")
            );
        }
        for id in ["7", "\"x\"", "1.5", "null", "{\"a\":[1]}"] {
            let json = format!("{{\"text\":\"a\",\"id\":{id}}}");
            let id_ = parse_doc(json.as_bytes()).unwrap().id.unwrap();
            assert_eq!(id_.value(), &serde_json::from_str::<Value>(id).unwrap());
            let text = id_.text();
            match id {
                "7" | "1.5" => assert_eq!(text.as_deref(), Some(id)),
                "\"x\"" => assert_eq!(text.as_deref(), Some("x")),
                _ => assert_eq!(text, None),
            }
        }
    }

    #[test]
    fn strict_objects() {
        let err = |s: &str| parse_doc(s.as_bytes()).unwrap_err().to_string();
        assert!(err(r#"{"text":"a","text":"b"}"#).contains("\"text\" appears more"));
        assert!(err(r#"{"id":1,"id":2,"text":"b"}"#).contains("\"id\""));
        assert_eq!(err("[1]"), "not a JSON object");
        assert_eq!(err("7"), "not a JSON object");
        assert!(err("{\"text\":").starts_with("malformed JSON"));
        assert!(err("{\"text\":\"a\"} x").starts_with("malformed JSON"));
        assert_eq!(err("{\"id\":1}"), "no \"text\" field");
        assert_eq!(err("{\"text\":1}"), "field \"text\" must be a string");
        let doc = parse_doc(br#"{"text":"a\nb","x":[1, 2]}"#).unwrap();
        assert_eq!(doc.text, "a\nb");
        assert_eq!(doc.rest.len(), 1);
        assert_eq!(doc.rest[0].1.get(), "[1, 2]");
    }

    #[test]
    fn lines_are_numbered_as_in_the_file() {
        let text = "{\"id\":\"a\",\"text\":\"x\"}\n\n  \n{\"id\":7,\"text\":1}\nnope\n";
        let got: Vec<_> = lines(text).collect();
        assert_eq!(got.len(), 3);
        let first = got[0].as_ref().unwrap();
        assert_eq!((first.number, first.text()), (1, Some("x")));
        assert_eq!(first.id_string().as_deref(), Some("a"));
        let second = got[1].as_ref().unwrap();
        assert_eq!((second.number, second.text()), (4, None));
        assert_eq!(second.id_string().as_deref(), Some("7"));
        assert_eq!(got[2].as_ref().unwrap_err().number, 5);
    }
}
