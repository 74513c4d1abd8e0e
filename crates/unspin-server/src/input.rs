//! Reading request bodies: size limit, content type, text checks, and the
//! three ways to send a text with options (text/plain with query
//! parameters, a JSON object, or a form).

use axum::body::Body;
use axum::http::{header, HeaderMap};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::Validate;
use crate::error::ApiError;
use crate::json_doc::{parse_doc, DocError, ExactId};

/// How a body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// `text/plain` (UTF-8).
    Text,
    /// `application/json` (or any `+json` type).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

impl BodyKind {
    fn name(self) -> &'static str {
        match self {
            BodyKind::Text => "text/plain",
            BodyKind::Json => "application/json",
            BodyKind::Form => "application/x-www-form-urlencoded",
        }
    }
}

/// The body's kind from its `Content-Type`, if it is one of `accepted`.
pub fn body_kind(headers: &HeaderMap, accepted: &[BodyKind]) -> Result<BodyKind, ApiError> {
    let names: Vec<&str> = accepted.iter().map(|k| k.name()).collect();
    let expected = names.join(" or ");
    let Some(raw) = headers.get(header::CONTENT_TYPE) else {
        return Err(ApiError::unsupported_media(format!(
            "missing Content-Type; send {expected}"
        )));
    };
    let raw = raw
        .to_str()
        .map_err(|_| ApiError::unsupported_media("the Content-Type header is not ASCII"))?;
    let mut parts = raw.split(';');
    let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let kind = match media.as_str() {
        "text/plain" => BodyKind::Text,
        "application/json" => BodyKind::Json,
        m if m.starts_with("application/") && m.ends_with("+json") => BodyKind::Json,
        "application/x-www-form-urlencoded" => BodyKind::Form,
        _ => {
            return Err(ApiError::unsupported_media(format!(
                "Content-Type {media:?} is not accepted here; send {expected}"
            )))
        }
    };
    if !accepted.contains(&kind) {
        return Err(ApiError::unsupported_media(format!(
            "Content-Type {media:?} is not accepted here; send {expected}"
        )));
    }
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("charset") {
            let cs = v.trim().trim_matches('"').to_ascii_lowercase();
            if !matches!(cs.as_str(), "utf-8" | "utf8" | "us-ascii") {
                return Err(ApiError::unsupported_media(format!(
                    "charset {cs:?} is not supported; send UTF-8"
                )));
            }
        }
    }
    Ok(kind)
}

/// Reads the whole body, refusing more than `limit` bytes (early when
/// `Content-Length` says so).
pub async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Vec<u8>, ApiError> {
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > limit as u64 {
            return Err(ApiError::too_large(limit));
        }
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes().to_vec()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::too_large(limit)),
        Err(e) => Err(ApiError::bad_request(
            "body_unreadable",
            format!("could not read the request body: {e}"),
        )),
    }
}

/// Checks that a text is non-empty UTF-8 without NUL bytes.
pub fn check_text(bytes: &[u8], what: &str) -> Result<(), ApiError> {
    unspin::input::check_text(bytes, what)
        .map(|_| ())
        .map_err(|e| ApiError::bad_request("invalid_text", e.to_string()))
}

/// A text to work on, an optional id echoed in the answer, and options.
#[derive(Debug)]
pub struct TextInput<P> {
    /// The text.
    pub text: String,
    /// Echoed as `id` in the answer (any JSON value, exactly as given; a
    /// string from a form).
    pub id: Option<ExactId>,
    /// Endpoint options.
    pub params: P,
}

/// Parses a text request in any of its three encodings.
pub fn parse_text_input<P>(
    kind: BodyKind,
    body: Vec<u8>,
    query: &str,
) -> Result<TextInput<P>, ApiError>
where
    P: DeserializeOwned + Validate,
{
    let input = match kind {
        BodyKind::Text => {
            check_text(&body, "request body")?;
            let text = String::from_utf8(body).expect("checked UTF-8");
            TextInput {
                text,
                id: None,
                params: params_from_query(query)?,
            }
        }
        BodyKind::Json => {
            no_query(query, "the JSON body")?;
            let doc = parse_doc(&body).map_err(|e| match e {
                DocError::Malformed(_) | DocError::DuplicateKey(_) => {
                    ApiError::bad_request("malformed_json", e.to_string())
                }
                DocError::NotObject => ApiError::bad_request(
                    "malformed_json",
                    "the JSON body must be an object like {\"text\": \"...\"}",
                ),
                DocError::NoText => {
                    ApiError::bad_request("missing_text", "the JSON object has no \"text\" field")
                }
                DocError::TextNotString => ApiError::bad_request("bad_field", e.to_string()),
            })?;
            check_text(doc.text.as_bytes(), "field \"text\"")?;
            let mut map = serde_json::Map::new();
            for (k, v) in doc.rest {
                let v: Value = serde_json::from_str(v.get())
                    .map_err(|e| ApiError::bad_request("bad_option", format!("{k}: {e}")))?;
                map.insert(k, v);
            }
            let params: P = serde_json::from_value(Value::Object(map))
                .map_err(|e| ApiError::bad_request("bad_option", e.to_string()))?;
            TextInput {
                text: doc.text,
                id: doc.id,
                params,
            }
        }
        BodyKind::Form => {
            no_query(query, "the form")?;
            let pairs = parse_form(&body)?;
            let mut text = None;
            let mut id = None;
            let mut rest = Vec::new();
            for (k, v) in pairs {
                match k.as_str() {
                    // As in a JSON body: which text was meant is a guess.
                    "text" if text.is_some() => {
                        return Err(ApiError::bad_request(
                            "malformed_form",
                            "the form has the field \"text\" more than once",
                        ))
                    }
                    "text" => text = Some(v),
                    "id" => id = Some(ExactId::from_value(Value::String(v))),
                    _ => rest.push((k, v)),
                }
            }
            let text = text.ok_or_else(|| {
                ApiError::bad_request(
                    "missing_text",
                    "the form has no \"text\" field (to send a raw text, use Content-Type: text/plain)",
                )
            })?;
            check_text(text.as_bytes(), "field \"text\"")?;
            let query = serde_urlencoded::to_string(&rest).unwrap_or_default();
            TextInput {
                text,
                id,
                params: params_from_query(&query)?,
            }
        }
    };
    input
        .params
        .validate()
        .map_err(|e| ApiError::bad_request("bad_option", e))?;
    Ok(input)
}

/// Decodes an `application/x-www-form-urlencoded` body strictly: every
/// name and value must decode to UTF-8 (a lenient decoder would silently
/// turn bad bytes into U+FFFD).
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for pair in body.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        let k = percent_decode(k)?;
        let v = percent_decode(v).map_err(|e| {
            ApiError::bad_request(e.code, format!("form field {k:?}: {}", e.message))
        })?;
        out.push((k, v));
    }
    Ok(out)
}

/// Decodes one name or value of a form: `+` is a space, `%XY` a byte. An
/// incomplete escape is an error here, where `percent_encoding` would pass
/// it through as text and hide the sender's mistake.
fn percent_decode(s: &[u8]) -> Result<String, ApiError> {
    let hex = |k: usize| s.get(k).is_some_and(u8::is_ascii_hexdigit);
    // No escape holds a '%', so every '%' must open one.
    if let Some(i) = (0..s.len()).find(|&i| s[i] == b'%' && !(hex(i + 1) && hex(i + 2))) {
        return Err(ApiError::bad_request(
            "malformed_form",
            format!("malformed form: bad percent escape at byte {i}"),
        ));
    }
    // '+' before decoding, so that an escaped "%2B" stays a plus sign.
    let spaced: Vec<u8> = s
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let out: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(out).map_err(|e| {
        ApiError::bad_request(
            "invalid_text",
            format!(
                "invalid UTF-8 at byte offset {} (after decoding); send UTF-8 text",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn no_query(query: &str, place: &str) -> Result<(), ApiError> {
    if query.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "bad_option",
            format!("put the options in {place}, not in the query string"),
        ))
    }
}

fn params_from_query<P: DeserializeOwned>(query: &str) -> Result<P, ApiError> {
    serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::bad_request("bad_option", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{DetectParams, RestoreParams};
    use axum::http::HeaderValue;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    const ALL: &[BodyKind] = &[BodyKind::Text, BodyKind::Json, BodyKind::Form];

    #[test]
    fn content_types() {
        assert_eq!(
            body_kind(&headers("text/plain"), ALL).unwrap(),
            BodyKind::Text
        );
        assert_eq!(
            body_kind(&headers("Text/Plain; charset=UTF-8"), ALL).unwrap(),
            BodyKind::Text
        );
        assert_eq!(
            body_kind(&headers("application/json; charset=utf-8"), ALL).unwrap(),
            BodyKind::Json
        );
        assert_eq!(
            body_kind(&headers("application/vnd.api+json"), ALL).unwrap(),
            BodyKind::Json
        );
        let e = body_kind(&headers("text/plain; charset=latin1"), ALL).unwrap_err();
        assert_eq!(e.status, 415);
        assert!(e.message.contains("latin1"));
        assert_eq!(
            body_kind(&headers("image/png"), ALL).unwrap_err().status,
            415
        );
        assert_eq!(body_kind(&HeaderMap::new(), ALL).unwrap_err().status, 415);
        let e = body_kind(&headers("application/json"), &[BodyKind::Form]).unwrap_err();
        assert!(
            e.message.contains("application/x-www-form-urlencoded"),
            "{e}"
        );
    }

    #[test]
    fn three_encodings_one_input() {
        let t: TextInput<RestoreParams> =
            parse_text_input(BodyKind::Text, b"he said".to_vec(), "min_confidence=0.5").unwrap();
        assert_eq!(t.text, "he said");
        assert_eq!(t.params.min_confidence, Some(0.5));
        let j: TextInput<RestoreParams> = parse_text_input(
            BodyKind::Json,
            br#"{"text":"he said","id":7,"min_confidence":0.5}"#.to_vec(),
            "",
        )
        .unwrap();
        assert_eq!(j.text, "he said");
        assert_eq!(j.id.unwrap().value(), &serde_json::json!(7));
        assert_eq!(j.params.min_confidence, Some(0.5));
        let f: TextInput<DetectParams> = parse_text_input(
            BodyKind::Form,
            b"text=he+said%21&id=a&threshold=0.3&restore=true".to_vec(),
            "",
        )
        .unwrap();
        assert_eq!(f.text, "he said!");
        assert_eq!(f.id.unwrap().value(), &serde_json::json!("a"));
        assert_eq!(f.params.threshold, Some(0.3));
        assert_eq!(f.params.restore, Some(true));
    }

    #[test]
    fn bad_inputs_name_the_problem() {
        let code = |kind, body: &[u8], q: &str| {
            parse_text_input::<RestoreParams>(kind, body.to_vec(), q)
                .unwrap_err()
                .code
        };
        assert_eq!(code(BodyKind::Json, b"{\"text\": ", ""), "malformed_json");
        assert_eq!(code(BodyKind::Json, b"[1,2]", ""), "malformed_json");
        assert_eq!(
            code(BodyKind::Json, b"{\"txt\": \"a\"}", ""),
            "missing_text"
        );
        assert_eq!(code(BodyKind::Json, b"{\"text\": 5}", ""), "bad_field");
        assert_eq!(
            code(BodyKind::Json, br#"{"text":"a","text":"b"}"#, ""),
            "malformed_json"
        );
        assert_eq!(code(BodyKind::Form, b"text=a&text=b", ""), "malformed_form");
        assert_eq!(
            code(BodyKind::Json, b"{\"text\": \"\"}", ""),
            "invalid_text"
        );
        assert_eq!(
            code(BodyKind::Json, b"{\"text\": \"a\\u0000b\"}", ""),
            "invalid_text"
        );
        assert_eq!(
            code(BodyKind::Json, b"{\"text\": \"a\", \"x\": 1}", ""),
            "bad_option"
        );
        assert_eq!(
            code(
                BodyKind::Json,
                b"{\"text\": \"a\", \"min_confidence\": 2}",
                ""
            ),
            "bad_option"
        );
        assert_eq!(
            code(BodyKind::Json, b"{\"text\": \"a\"}", "min_confidence=1"),
            "bad_option"
        );
        assert_eq!(code(BodyKind::Text, b"", ""), "invalid_text");
        assert_eq!(code(BodyKind::Text, b"ab\xff\xfe", ""), "invalid_text");
        assert_eq!(code(BodyKind::Text, b"\x00\x01\x02", ""), "invalid_text");
        assert_eq!(code(BodyKind::Text, b"a", "min_confidence=x"), "bad_option");
        assert_eq!(code(BodyKind::Text, b"a", "colour=red"), "bad_option");
        assert_eq!(code(BodyKind::Form, b"he said the", ""), "missing_text");
        assert_eq!(code(BodyKind::Form, b"text=a%ffb", ""), "invalid_text");
        assert_eq!(code(BodyKind::Form, b"text=a%f", ""), "malformed_form");
        assert_eq!(code(BodyKind::Form, b"text=\xff", ""), "invalid_text");
        let e =
            parse_text_input::<RestoreParams>(BodyKind::Text, b"ab\xff".to_vec(), "").unwrap_err();
        assert!(e.message.contains("invalid UTF-8 at byte offset 2"), "{e}");
    }

    #[test]
    fn form_fields_decode_strictly() {
        let pairs = parse_form(b"text=a+b%2Bc%20%C3%A9&&empty=&bare&k%3D=v%26w").unwrap();
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&**k, &**v)).collect();
        assert_eq!(
            pairs,
            [
                ("text", "a b+c \u{e9}"),
                ("empty", ""),
                ("bare", ""),
                ("k=", "v&w")
            ]
        );
        let why = |body: &[u8]| parse_form(body).unwrap_err().message;
        assert_eq!(
            why(b"%zz=1"),
            "malformed form: bad percent escape at byte 0"
        );
        assert!(why(b"text=ab%4").ends_with("bad percent escape at byte 2"));
        assert!(why(b"text=%%41").ends_with("bad percent escape at byte 0"));
        assert!(why(b"text=a%C3").contains("invalid UTF-8 at byte offset 1"));
    }
}
