//! Renderings of results: word diff, a self-contained HTML page, and the JSON
//! objects that the CLI and the server both write.

use crate::detect::Detection;
use crate::restore::Restoration;

pub mod stream;

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A word diff in the style of `wdiff`: `[-spun-]{+original+}` for every
/// applied change; with `color`, ANSI red and green instead of brackets.
pub fn diff(input: &str, r: &Restoration, color: bool) -> String {
    let mut out = String::with_capacity(input.len() + r.changes.len() * 12);
    let mut at = 0;
    for c in r.changes.iter().filter(|c| c.applied) {
        out.push_str(&input[at..c.start]);
        if color {
            out.push_str(&format!(
                "\x1b[9;31m{}\x1b[0m\x1b[1;32m{}\x1b[0m",
                c.spun, c.original
            ));
        } else {
            out.push_str(&format!("[-{}-]{{+{}+}}", c.spun, c.original));
        }
        at = c.end;
    }
    out.push_str(&input[at..]);
    out
}

/// A standalone HTML page showing the restored text; each change is marked,
/// with the spun word and the alternatives in its tooltip.
pub fn html(input: &str, r: &Restoration, title: &str) -> String {
    let mut page = html_head(title, r.words, applied(r), spun_prob(r));
    html_body(input, r, &mut page);
    page.push_str(HTML_TAIL);
    page
}

/// Applied changes of `r`: the count [`html_head`] shows.
pub fn applied(r: &Restoration) -> usize {
    r.changes.iter().filter(|c| c.applied).count()
}

/// The highest section probability of `r`: what [`html_head`] shows.
pub fn spun_prob(r: &Restoration) -> f32 {
    r.sections
        .iter()
        .map(|s| s.spun_prob)
        .fold(0.0f32, f32::max)
}

/// The opening of [`html`]'s page, up to the `<pre>` that holds the body;
/// the header counts `words` and `changed` words and shows `spun_prob`.
pub fn html_head(title: &str, words: usize, changed: usize, spun_prob: f32) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>\
body{{font:16px/1.6 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;color:#222}}\
pre{{white-space:pre-wrap;font:inherit}}mark{{background:none;border-bottom:2px solid #2a7}}\
mark.mid{{border-color:#d90}}mark.lo{{border-color:#c33}}del{{color:#b22;font-size:.85em}}ins{{color:#171;text-decoration:none;font-weight:600}}\
header{{color:#555;font-size:.9em;margin-bottom:1em}}</style></head>\n<body><header>{t}: {words} words, {changed} changed, spun probability {spun_prob:.2}</header>\n<pre>",
        t = html_escape(title),
    )
}

/// What closes [`html`]'s page after the body.
pub const HTML_TAIL: &str = "</pre>\n</body></html>\n";

/// Appends the marked-up body of [`html`]'s page for `input` (a whole text
/// or one piece of it) and its restoration `r` (offsets into `input`).
pub fn html_body(input: &str, r: &Restoration, body: &mut String) {
    body.reserve(input.len() + input.len() / 8);
    let mut at = 0;
    for c in r.changes.iter().filter(|c| c.applied) {
        body.push_str(&html_escape(&input[at..c.start]));
        let alts: Vec<String> = c
            .alternatives
            .iter()
            .map(|a| format!("{} {:.0}%", a.text, a.prob * 100.0))
            .collect();
        let tip = format!("spun: {} | {} | {}", c.spun, c.relation, alts.join(", "));
        let level = if c.confidence >= 0.9 {
            "hi"
        } else if c.confidence >= 0.6 {
            "mid"
        } else {
            "lo"
        };
        body.push_str(&format!(
            "<mark class=\"{level}\" title=\"{}\"><del>{}</del> <ins>{}</ins></mark>",
            html_escape(&tip),
            html_escape(&c.spun),
            html_escape(&c.original)
        ));
        at = c.end;
    }
    body.push_str(&html_escape(&input[at..]));
}

/// The JSON object `unspin restore --format json` writes for one text: the
/// [`Restoration`] fields, plus `path` (the input's name) when given and
/// `id` (a JSONL record's or API request's id) when given.
pub fn restoration_json(
    r: &Restoration,
    path: Option<&str>,
    id: Option<&serde_json::Value>,
) -> serde_json::Value {
    let mut v = serde_json::to_value(r).expect("a Restoration serializes");
    if let Some(p) = path {
        v["path"] = serde_json::Value::String(p.to_string());
    }
    if let Some(id) = id {
        v["id"] = id.clone();
    }
    v
}

/// The JSON object `unspin detect --format json` writes for one text: the
/// [`Detection`] fields, `word_threshold` (the probability at which a word is
/// shown as spun), plus `path` and `id` when given.
pub fn detection_json(
    det: &Detection,
    word_threshold: f32,
    path: Option<&str>,
    id: Option<&serde_json::Value>,
) -> serde_json::Value {
    let mut v = serde_json::to_value(det).expect("a Detection serializes");
    if let Some(p) = path {
        v["path"] = serde_json::Value::String(p.to_string());
    }
    if let Some(id) = id {
        v["id"] = id.clone();
    }
    v["word_threshold"] = serde_json::json!(word_threshold);
    v
}
