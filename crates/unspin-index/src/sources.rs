//! Documents to index: text files, folders of them, and JSON Lines files
//! (one `{"id": .., "text": .., ...}` object per line; the other fields are
//! kept as metadata). Also reads an indexed document's text again for
//! passage alignment.

use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use unspin::jsonl::{parse_doc, DocError};

use crate::codec::{text_hash, DocRecord, Location};
use crate::{NewDoc, NewLocation, Snapshot, TextUnavailable};

/// One document read from a source.
#[derive(Clone, Debug)]
pub struct SourceDoc {
    pub doc: NewDoc,
    pub text: String,
}

/// Whether a file is read as JSON Lines (by its extension).
pub fn is_jsonl(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "ndjson")
    )
}

pub use unspin::input::expand_paths;

/// The absolute form of a path (so the text can be found again from
/// another working directory).
pub fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Reads a whole text file as one document (its path is its id).
pub fn read_text_file(path: &Path) -> Result<SourceDoc, String> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
    let text = unspin::input::read_document(file, &name).map_err(|e| e.to_string())?;
    Ok(SourceDoc {
        doc: NewDoc {
            id: String::new(),
            source: NewLocation::File(absolute(path)),
            meta: String::new(),
            text_hash: text_hash(&text),
            text_len: text.len() as u64,
        },
        text,
    })
}

/// Parses one JSON Lines record as [`unspin::jsonl::parse_doc`] reads a
/// document (a key given twice is an error; a numeric id keeps its text):
/// `text` (a string) is required; `id` (a string or number) is the
/// document's id; every other field is metadata, as a compact JSON object.
pub fn parse_json_line(line: &[u8]) -> Result<(String, String, String), String> {
    let doc = parse_doc(line).map_err(|e| match e {
        DocError::Malformed(e) => format!("not valid JSON ({e})"),
        DocError::TextNotString => "\"text\" is not a string".into(),
        e => e.to_string(),
    })?;
    let id = match &doc.id {
        None => String::new(),
        Some(id) if id.value().is_null() => String::new(),
        Some(id) => id.text().ok_or("\"id\" is neither a string nor a number")?,
    };
    let meta = if doc.rest.is_empty() {
        String::new()
    } else {
        // Through a map, so that the metadata is written compactly with
        // its keys in order, however the line spaced or ordered them.
        let mut obj = serde_json::Map::new();
        for (k, v) in doc.rest {
            let v: serde_json::Value =
                serde_json::from_str(v.get()).map_err(|e| format!("not valid JSON ({e})"))?;
            obj.insert(k, v);
        }
        serde_json::Value::Object(obj).to_string()
    };
    Ok((id, doc.text, meta))
}

/// Consumes `reader` up to and including the next line break; returns the
/// bytes consumed.
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<usize> {
    let mut n = 0;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(n);
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(p) => {
                reader.consume(p + 1);
                return Ok(n + p + 1);
            }
            None => {
                let k = buf.len();
                reader.consume(k);
                n += k;
            }
        }
    }
}

/// Reads a JSON Lines file record by record, with each line's byte offset.
pub struct JsonlReader {
    reader: std::io::BufReader<std::fs::File>,
    path: PathBuf,
    name: String,
    offset: u64,
    line_no: u64,
    buf: Vec<u8>,
    /// Total bytes of the file (for progress).
    pub len: u64,
}

impl JsonlReader {
    pub fn open(path: &Path) -> Result<Self, String> {
        let name = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        Ok(Self {
            reader: std::io::BufReader::with_capacity(1 << 20, f),
            path: absolute(path),
            name,
            offset: 0,
            line_no: 0,
            buf: Vec::new(),
            len,
        })
    }

    /// Bytes read so far.
    pub fn position(&self) -> u64 {
        self.offset
    }
}

impl Iterator for JsonlReader {
    /// A document, or a one-line error naming the file and line.
    type Item = Result<SourceDoc, String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            // At most one document's bytes are held: a longer line is
            // skipped to its end and reported.
            let cap = unspin::input::MAX_DOCUMENT_BYTES as u64 + 1;
            let mut n = match (&mut self.reader)
                .take(cap)
                .read_until(b'\n', &mut self.buf)
            {
                Ok(0) => return None,
                Ok(n) => n,
                Err(e) => return Some(Err(format!("{}: {e}", self.name))),
            };
            let too_long = self.buf.last() != Some(&b'\n') && n as u64 == cap;
            if too_long {
                self.buf.clear();
                n += match skip_line(&mut self.reader) {
                    Ok(k) => k,
                    Err(e) => return Some(Err(format!("{}: {e}", self.name))),
                };
            }
            let start = self.offset;
            self.offset += n as u64;
            self.line_no += 1;
            if too_long {
                return Some(Err(format!(
                    "{}:{}: line longer than {} MiB, the most one document may hold",
                    self.name,
                    self.line_no,
                    unspin::input::MAX_DOCUMENT_BYTES >> 20
                )));
            }
            let mut line = &self.buf[..];
            while let Some((&last, rest)) = line.split_last() {
                if last == b'\n' || last == b'\r' {
                    line = rest;
                } else {
                    break;
                }
            }
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let at = format!("{}:{}", self.name, self.line_no);
            let (id, text, meta) = match parse_json_line(line) {
                Ok(v) => v,
                Err(e) => return Some(Err(format!("{at}: {e}"))),
            };
            if text.trim().is_empty() {
                return Some(Err(format!("{at}: \"text\" is empty")));
            }
            let Ok(len) = u32::try_from(line.len()) else {
                return Some(Err(format!("{at}: line longer than 4 GiB")));
            };
            return Some(Ok(SourceDoc {
                doc: NewDoc {
                    id,
                    source: NewLocation::JsonLine {
                        file: self.path.clone(),
                        offset: start,
                        len,
                    },
                    meta,
                    text_hash: text_hash(&text),
                    text_len: text.len() as u64,
                },
                text,
            }));
        }
    }
}

pub(crate) fn load_text(snap: &Snapshot, rec: &DocRecord) -> Result<String, TextUnavailable> {
    let path_of = |file: u32| -> Result<PathBuf, TextUnavailable> {
        snap.file_path(file)
            .map_err(|e| TextUnavailable::Missing(e.to_string()))?
            .ok_or_else(|| TextUnavailable::Missing(format!("file #{file} not in the index")))
    };
    let text = match rec.location {
        Location::None => return Err(TextUnavailable::NotStored),
        Location::File(f) => {
            let path = path_of(f)?;
            let file = std::fs::File::open(&path)
                .map_err(|e| TextUnavailable::Missing(format!("{}: {e}", path.display())))?;
            // A file that grew past one document's cap since it was indexed
            // is not read whole.
            unspin::input::read_document(file, &path.display().to_string())
                .map_err(|e| TextUnavailable::Changed(e.to_string()))?
        }
        Location::JsonLine { file, offset, len } => {
            let path = path_of(file)?;
            let missing =
                |e: std::io::Error| TextUnavailable::Missing(format!("{}: {e}", path.display()));
            let mut f = std::fs::File::open(&path).map_err(missing)?;
            f.seek(SeekFrom::Start(offset)).map_err(missing)?;
            let mut line = vec![0u8; len as usize];
            f.read_exact(&mut line).map_err(|_| {
                TextUnavailable::Changed(format!("{}: shorter than when indexed", path.display()))
            })?;
            parse_json_line(&line)
                .map_err(|e| TextUnavailable::Changed(format!("{}: {e}", path.display())))?
                .1
        }
    };
    if text.len() as u64 != rec.text_len || text_hash(&text) != rec.text_hash {
        return Err(TextUnavailable::Changed(
            "text differs from the indexed version".into(),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::parse_json_line;

    #[test]
    fn json_lines_as_documents() {
        let ok = |line: &str| parse_json_line(line.as_bytes()).unwrap();
        let err = |line: &str| parse_json_line(line.as_bytes()).unwrap_err();
        assert_eq!(
            ok(r#"{"text":"a b","z":[1, 2],"id":"d1","a":{"k":null}}"#),
            (
                "d1".into(),
                "a b".into(),
                r#"{"a":{"k":null},"z":[1,2]}"#.into()
            )
        );
        assert_eq!(ok(r#"{"id":7,"text":"x"}"#).0, "7");
        // A number id keeps its text (as the CLI's --jsonl and the server do).
        assert_eq!(
            ok(r#"{"id":18446744073709551616,"text":"x"}"#).0,
            "18446744073709551616"
        );
        assert_eq!(ok(r#"{"id":null,"text":"x"}"#).0, "");
        assert_eq!(ok(r#"{"text":"x"}"#), ("".into(), "x".into(), "".into()));
        assert!(err("{not json").starts_with("not valid JSON ("));
        assert_eq!(err("[1]"), "not a JSON object");
        assert_eq!(err(r#"{"id":"x"}"#), "no \"text\" field");
        assert_eq!(err(r#"{"text":1}"#), "\"text\" is not a string");
        assert_eq!(
            err(r#"{"text":"x","id":[1]}"#),
            "\"id\" is neither a string nor a number"
        );
        assert_eq!(
            err(r#"{"text":"x","text":"y"}"#),
            "key \"text\" appears more than once"
        );
    }
}
