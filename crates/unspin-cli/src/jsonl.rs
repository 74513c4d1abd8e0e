//! One line of a `--jsonl` corpus, `{"id": .., "text": ..}`, read as the
//! server reads a JSON body (see `unspin::jsonl`): a key given
//! twice is an error, and the id comes back exactly as written.

use unspin::jsonl::{parse_doc, Doc, DocError};

/// Reads line `lineno` of `name`; errors start with `NAME:LINE:`.
pub fn parse_line<'a>(line: &'a str, name: &str, lineno: usize) -> anyhow::Result<Doc<'a>> {
    parse_doc(line.as_bytes()).map_err(|e| {
        let why = match e {
            DocError::Malformed(e) => format!("not a JSON object ({e})"),
            DocError::NoText | DocError::TextNotString => "no string field \"text\"".into(),
            e => e.to_string(),
        };
        anyhow::anyhow!("{name}:{lineno}: {why}")
    })
}
