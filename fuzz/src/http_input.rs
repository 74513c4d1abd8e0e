//! The server's request parsing (`crates/unspin-server/src/input.rs`, the
//! LanguageTool endpoint's `data` field, the Host header).

use axum::http::{header, HeaderMap, HeaderValue};
use unspin::restore::{Alternative, Change};
use unspin::token::{tokenize, TokenKind};
use unspin_server::app::host_name;
use unspin_server::engine::{DetectParams, RestoreParams, TraceParams, Validate};
use unspin_server::input::{body_kind, check_text, parse_form, parse_text_input, BodyKind};
use unspin_server::languagetool::{matches, Annotated};

const KINDS: [BodyKind; 3] = [BodyKind::Text, BodyKind::Json, BodyKind::Form];

/// The bytes are a selector, then a head line (a `Content-Type` value, a
/// query string, a Host header) and a body after the first newline. Every
/// parser runs; errors are fine, and what parses must hold up: the text is
/// non-empty UTF-8 without NUL, options are in range, a form survives a
/// round trip, LanguageTool offsets stay inside the request's text.
pub fn http_input(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (head, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };

    // Content-Type against every set of accepted kinds.
    if let Ok(v) = HeaderValue::from_bytes(head) {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, v);
        let accepted: Vec<BodyKind> = (0..3)
            .filter(|k| pick >> k & 1 == 1)
            .map(|k| KINDS[k])
            .collect();
        if let Ok(kind) = body_kind(&headers, &accepted) {
            assert!(accepted.contains(&kind), "{kind:?} not in {accepted:?}");
        }
    }

    // The body in each encoding, with the options of the endpoint `pick` names.
    let query = std::str::from_utf8(head).unwrap_or("");
    for kind in KINDS {
        match pick % 3 {
            0 => text_input::<RestoreParams>(kind, body, query),
            1 => text_input::<DetectParams>(kind, body, query),
            _ => text_input::<TraceParams>(kind, body, query),
        }
    }

    // Forms: what parses encodes and parses back to the same fields.
    for form in [body, rest] {
        if let Ok(fields) = parse_form(form) {
            let again = serde_urlencoded::to_string(&fields).expect("fields encode");
            let back = parse_form(again.as_bytes()).ok();
            assert!(back.as_ref() == Some(&fields), "{fields:?} -> {again:?}");
        }
    }

    // LanguageTool's `data` annotation and the offsets of its matches.
    if let Ok(json) = std::str::from_utf8(body) {
        if let Ok(doc) = Annotated::from_data(json) {
            check_matches(&doc);
        }
    }
    if let Ok(text) = std::str::from_utf8(rest) {
        check_matches(&Annotated::plain(text.to_string()));
        let name = host_name(text);
        assert!(text.starts_with(name), "host {name:?} of {text:?}");
    }
}

fn text_input<P>(kind: BodyKind, body: &[u8], query: &str)
where
    P: serde::de::DeserializeOwned + Validate,
{
    if let Ok(input) = parse_text_input::<P>(kind, body.to_vec(), query) {
        assert!(
            check_text(input.text.as_bytes(), "text").is_ok(),
            "{kind:?} body accepted a bad text: {:?}",
            input.text
        );
        assert!(input.params.validate().is_ok());
    }
}

/// Every word of the plain text as a change, mapped back to the request:
/// offsets and lengths (UTF-16) inside the original text.
fn check_matches(doc: &Annotated) {
    let plain = doc.plain.as_str();
    let changes: Vec<Change> = tokenize(plain)
        .iter()
        .filter(|t| t.kind == TokenKind::Word)
        .take(64)
        .map(|t| {
            let spun = plain[t.start..t.end].to_string();
            let original = format!("{spun}x");
            Change {
                start: t.start,
                end: t.end,
                alternatives: vec![
                    Alternative {
                        text: original.clone(),
                        prob: 0.75,
                    },
                    Alternative {
                        text: spun.clone(),
                        prob: 0.25,
                    },
                ],
                spun,
                original,
                confidence: 0.75,
                relation: "rule".into(),
                applied: true,
            }
        })
        .collect();
    let refs: Vec<&Change> = changes.iter().collect();
    let (found, sentences) = matches(doc, &refs);
    let units = doc.original.encode_utf16().count();
    assert_eq!(found.len(), changes.len());
    for m in &found {
        assert!(
            m.offset + m.length <= units,
            "match {m:?} past {units} units"
        );
    }
    for s in &sentences {
        assert!(s[0] <= s[1] && s[1] <= units, "sentence {s:?} past {units}");
    }
}
