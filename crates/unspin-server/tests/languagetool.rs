//! `/v2/check` and `/v2/languages` with LanguageTool's request and response
//! shapes: the requests are the form posts LanguageTool clients send (fields
//! from LanguageTool's HTTP API: text or data, language, and the optional
//! motherTongue, preferredVariants, enabledRules, disabledRules,
//! enabledCategories, disabledCategories, enabledOnly, level); the answers
//! are read with types that mirror LanguageTool's JSON, every field required.

mod common;

use common::*;
use serde::Deserialize;

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct LtResponse {
    software: LtSoftware,
    warnings: LtWarnings,
    language: LtLanguage,
    matches: Vec<LtMatch>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct LtSoftware {
    name: String,
    version: String,
    #[allow(dead_code)]
    build_date: String,
    api_version: u32,
    premium: bool,
    #[allow(dead_code)]
    status: String,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct LtWarnings {
    incomplete_results: bool,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct LtLanguage {
    name: String,
    code: String,
    detected_language: LtDetected,
}

#[derive(Deserialize, Debug)]
struct LtDetected {
    name: String,
    code: String,
    confidence: f64,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct LtMatch {
    message: String,
    short_message: String,
    replacements: Vec<LtReplacement>,
    offset: usize,
    length: usize,
    context: LtContext,
    sentence: String,
    #[serde(rename = "type")]
    kind: LtType,
    rule: LtRule,
    ignore_for_incomplete_sentence: bool,
    context_for_sure_match: i64,
}

#[derive(Deserialize, Debug)]
struct LtReplacement {
    value: String,
}

#[derive(Deserialize, Debug)]
struct LtContext {
    text: String,
    offset: usize,
    length: usize,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct LtType {
    type_name: String,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct LtRule {
    id: String,
    description: String,
    issue_type: String,
    category: LtCategory,
}

#[derive(Deserialize, Debug)]
struct LtCategory {
    id: String,
    name: String,
}

fn check(addr: std::net::SocketAddr, fields: &[(&str, &str)]) -> LtResponse {
    let r = post(
        addr,
        "/v2/check",
        "application/x-www-form-urlencoded",
        &form(fields),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("not LanguageTool's shape: {e}: {}", r.text()))
}

/// The UTF-16 slice `[offset, offset + length)` of `s`, as a Java client reads it.
fn utf16_slice(s: &str, offset: usize, length: usize) -> String {
    let u: Vec<u16> = s.encode_utf16().collect();
    String::from_utf16(&u[offset..offset + length]).unwrap()
}

#[test]
fn check_answers_like_languagetool() {
    let s = start(config());
    let text = sample();
    // As a LanguageTool browser extension sends it.
    let resp = check(
        s.addr,
        &[
            ("text", &text),
            ("language", "en-US"),
            ("motherTongue", "de-DE"),
            ("preferredVariants", "en-US,de-DE"),
            ("enabledOnly", "false"),
            ("level", "default"),
        ],
    );
    assert_eq!(resp.software.name, "unspin");
    assert_eq!(resp.software.api_version, 1);
    assert!(!resp.software.premium && !resp.software.version.is_empty());
    assert!(!resp.warnings.incomplete_results);
    assert_eq!(
        (resp.language.name.as_str(), resp.language.code.as_str()),
        ("English (US)", "en-US")
    );
    assert_eq!(resp.language.detected_language.code, "en-US");
    assert!(resp.matches.len() >= 15, "{} matches", resp.matches.len());
    let restored = engine().restore(&text, &Default::default()).unwrap();
    let confident: Vec<_> = restored
        .changes
        .iter()
        .filter(|c| c.confidence >= 0.5)
        .collect();
    assert_eq!(resp.matches.len(), confident.len());
    for (m, c) in resp.matches.iter().zip(&confident) {
        // Offsets point at the spun word; the first replacement is the restorer's choice.
        assert_eq!(utf16_slice(&text, m.offset, m.length), c.spun);
        assert_eq!(m.replacements[0].value, c.original);
        assert!(m.replacements.iter().all(|r| r.value != c.spun));
        assert!(m.message.contains(&c.original), "{}", m.message);
        assert_eq!(m.short_message, "Spun word");
        assert_eq!(
            utf16_slice(&m.context.text, m.context.offset, m.context.length),
            c.spun
        );
        assert_eq!(m.context.length, m.length);
        assert!(m.sentence.contains(&c.spun) && !m.sentence.contains('\n'));
        assert_eq!(m.kind.type_name, "Hint");
        assert_eq!(m.rule.id, "UNSPIN_SPUN_WORD");
        assert_eq!(m.rule.issue_type, "style");
        assert!(!m.rule.description.is_empty());
        assert_eq!(
            (m.rule.category.id.as_str(), m.rule.category.name.as_str()),
            ("UNSPIN", "Machine-spun text")
        );
        assert!(!m.ignore_for_incomplete_sentence);
        assert_eq!(m.context_for_sure_match, 0);
    }
    let first = &resp.matches[0];
    assert_eq!(
        first.context.text,
        "The government said connected Tuesday that the caller rules would ber..."
    );
    assert_eq!(first.sentence, "The government said connected Tuesday that the caller rules would beryllium published successful March, arsenic planned.");
}

#[test]
fn offsets_count_utf16_code_units() {
    let s = start(config());
    // Astral-plane emoji are two UTF-16 units, accented letters one: byte
    // offsets would be wrong by 2 per emoji and 1 per accent.
    let text = "😀😀 Café déjà vu — \"the caller rules would beryllium published connected Monday, arsenic planned\", said the 👩‍💻 engineer.";
    let resp = check(s.addr, &[("text", text), ("language", "en")]);
    let words: Vec<String> = resp
        .matches
        .iter()
        .map(|m| utf16_slice(text, m.offset, m.length))
        .collect();
    assert_eq!(
        words,
        vec!["caller", "beryllium", "connected", "arsenic"],
        "{resp:?}"
    );
    let caller = &resp.matches[0];
    let byte_offset = text.find("caller").unwrap();
    assert!(
        caller.offset < byte_offset,
        "{} is a byte offset",
        caller.offset
    );
    assert_eq!(caller.offset, text[..byte_offset].encode_utf16().count());
    assert_eq!(resp.language.code, "en");
}

#[test]
fn annotated_data_offsets_include_markup() {
    let s = start(config());
    let data = serde_json::json!({"annotation": [
        {"markup": "<p>"},
        {"text": "The caller rules would "},
        {"markup": "<b>"},
        {"text": "beryllium"},
        {"markup": "</b>"},
        {"text": " published connected Monday, arsenic planned."},
        {"markup": "</p>\n<p>", "interpretAs": "\n\n"},
        {"text": "Officials said helium would spell."},
        {"markup": "</p>"},
    ]});
    let original: String = data["annotation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.get("text").or(p.get("markup")).unwrap().as_str().unwrap())
        .collect();
    let resp = check(
        s.addr,
        &[("data", &data.to_string()), ("language", "en-GB")],
    );
    let words: Vec<String> = resp
        .matches
        .iter()
        .map(|m| utf16_slice(&original, m.offset, m.length))
        .collect();
    assert!(
        words.contains(&"caller".to_string()) && words.contains(&"beryllium".to_string()),
        "{words:?}"
    );
    assert!(words.contains(&"helium".to_string()), "{words:?}");
    let be = resp
        .matches
        .iter()
        .find(|m| utf16_slice(&original, m.offset, m.length) == "beryllium")
        .unwrap();
    assert_eq!(be.offset, original.find("beryllium").unwrap());
    assert_eq!(
        be.sentence,
        "The caller rules would beryllium published connected Monday, arsenic planned."
    );
    assert_eq!(resp.language.name, "English (GB)");
}

#[test]
fn auto_language_rules_and_clean_text() {
    let s = start(config());
    let text = sample();
    let auto = check(s.addr, &[("text", &text), ("language", "auto")]);
    assert_eq!(auto.language.code, "en-US");
    let conf = auto.language.detected_language.confidence;
    assert!(conf > 0.9 && conf <= 1.0, "{conf}");
    assert_eq!(auto.language.detected_language.name, "English (US)");
    assert!(!auto.matches.is_empty());
    // Turning our rule or category off, or enabledOnly without it, silences it.
    for fields in [
        vec![("disabledRules", "WHITESPACE_RULE,UNSPIN_SPUN_WORD")],
        vec![("disabledCategories", "UNSPIN")],
        vec![("enabledOnly", "true"), ("enabledRules", "EN_A_VS_AN")],
    ] {
        let mut all = vec![("text", text.as_str()), ("language", "en-US")];
        all.extend(fields.iter().copied());
        assert!(check(s.addr, &all).matches.is_empty(), "{fields:?}");
    }
    let only = check(
        s.addr,
        &[
            ("text", &text),
            ("language", "en-US"),
            ("enabledOnly", "true"),
            ("enabledCategories", "UNSPIN"),
        ],
    );
    assert_eq!(only.matches.len(), auto.matches.len());
    let clean = "The government said on Tuesday that the new rules would be published in March, as planned.";
    assert!(check(s.addr, &[("text", clean), ("language", "en-US")])
        .matches
        .is_empty());
    // GET with a query string, as LanguageTool also allows.
    let q = String::from_utf8(form(&[
        ("text", "the caller rules would beryllium published"),
        ("language", "en-US"),
    ]))
    .unwrap();
    let g = get(s.addr, &format!("/v2/check?{q}"));
    assert_eq!(g.status, 200, "{}", g.text());
    assert!(!g.json()["matches"].as_array().unwrap().is_empty());
}

#[test]
fn languages_list() {
    let s = start(config());
    let r = get(s.addr, "/v2/languages");
    assert_eq!(r.status, 200);
    let v = r.json();
    let list = v.as_array().unwrap();
    assert!(list
        .iter()
        .any(|l| l["longCode"] == "en-US" && l["code"] == "en" && l["name"] == "English (US)"));
    assert!(list
        .iter()
        .all(|l| l["name"].is_string() && l["code"].is_string() && l["longCode"].is_string()));
}

#[test]
fn check_errors_are_clear() {
    let s = start(config());
    let a = s.addr;
    let f = |fields: &[(&str, &str)]| {
        post(
            a,
            "/v2/check",
            "application/x-www-form-urlencoded",
            &form(fields),
        )
    };
    let cases = vec![
        ("no language", f(&[("text", "a")]), 400, "missing_language"),
        (
            "German",
            f(&[("text", "a"), ("language", "de-DE")]),
            400,
            "unsupported_language",
        ),
        ("no text", f(&[("language", "en")]), 400, "missing_text"),
        (
            "both",
            f(&[("text", "a"), ("data", "{}"), ("language", "en")]),
            400,
            "bad_field",
        ),
        (
            "bad data",
            f(&[("data", "{\"annotation\": 5}"), ("language", "en")]),
            400,
            "bad_data",
        ),
        (
            "empty",
            f(&[("text", ""), ("language", "en")]),
            400,
            "invalid_text",
        ),
        (
            "JSON body",
            post(a, "/v2/check", "application/json", b"{\"text\":\"a\"}"),
            415,
            "unsupported_media_type",
        ),
        (
            "bad bytes",
            post(
                a,
                "/v2/check",
                "application/x-www-form-urlencoded",
                b"language=en&text=%C3%28",
            ),
            400,
            "invalid_text",
        ),
    ];
    for (what, r, status, code) in cases {
        assert_eq!(r.status, status, "{what}: {}", r.text());
        assert_eq!(r.json()["error"], code, "{what}");
    }
}
