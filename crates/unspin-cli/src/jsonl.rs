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

/// The longest line a `--jsonl` corpus may hold (one document); a longer
/// line gets its error and the corpus goes on.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// A batch of lines is worked on in parallel once it holds this many bytes
/// (or [`BATCH_LINES`] lines): what bounds the memory of a corpus run.
pub const BATCH_BYTES: usize = 8 << 20;

/// Lines per parallel batch at most.
pub const BATCH_LINES: usize = 256;

/// Reads the lines of a corpus, each at most [`MAX_LINE_BYTES`] long, with
/// their 1-based numbers; blank lines are skipped. A line past the cap is
/// skipped to its end without being held, and comes back as an error.
pub struct Lines<R> {
    reader: R,
    lineno: usize,
}

impl<R: std::io::BufRead> Lines<R> {
    /// Lines of `reader`.
    pub fn new(reader: R) -> Self {
        Self { reader, lineno: 0 }
    }

    /// The next non-blank line: `Ok(Some((lineno, Ok(bytes))))`, or
    /// `Ok(Some((lineno, Err(()))))` for a line over the cap; `Ok(None)` at
    /// the end. A NUL byte is an `InvalidData` error: the input is binary.
    #[allow(clippy::type_complexity)]
    pub fn next_line(&mut self) -> std::io::Result<Option<(usize, Result<Vec<u8>, ()>)>> {
        loop {
            let mut line = Vec::new();
            let mut too_long = false;
            let mut any = false;
            loop {
                let buf = match self.reader.fill_buf() {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if buf.is_empty() {
                    break;
                }
                any = true;
                let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                    Some(p) => (p + 1, true),
                    None => (buf.len(), false),
                };
                // JSON text never holds a NUL byte: this is binary data (or
                // /dev/zero), which has no lines to go on with.
                if buf[..take].contains(&0) {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "line {}: binary data (NUL byte); a --jsonl corpus is UTF-8 text",
                            self.lineno + 1
                        ),
                    ));
                }
                if !too_long {
                    let keep = if done { take - 1 } else { take };
                    if line.len() + keep > MAX_LINE_BYTES {
                        too_long = true;
                        line = Vec::new();
                    } else {
                        line.extend_from_slice(&buf[..keep]);
                    }
                }
                self.reader.consume(take);
                if done {
                    break;
                }
            }
            if !any {
                return Ok(None);
            }
            self.lineno += 1;
            if too_long {
                return Ok(Some((self.lineno, Err(()))));
            }
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            return Ok(Some((self.lineno, Ok(line))));
        }
    }
}

/// The error of a line over [`MAX_LINE_BYTES`].
pub fn too_long(name: &str, lineno: usize) -> anyhow::Error {
    anyhow::anyhow!(
        "{name}:{lineno}: line longer than {} MiB; a --jsonl line holds one document",
        MAX_LINE_BYTES >> 20
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_blank_ones_skipped_and_long_ones_refused_without_being_held() {
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        let input = format!("a\n\n  \n{long}\nb\nc");
        let mut lines = Lines::new(std::io::BufReader::with_capacity(1000, input.as_bytes()));
        let mut got = Vec::new();
        while let Some((n, l)) = lines.next_line().unwrap() {
            got.push((n, l.map(|b| String::from_utf8(b).unwrap())));
        }
        assert_eq!(
            got,
            vec![
                (1, Ok("a".to_string())),
                (4, Err(())),
                (5, Ok("b".to_string())),
                (6, Ok("c".to_string())),
            ]
        );
        let mut zeros = Lines::new(std::io::BufReader::new(std::io::Read::take(
            std::io::repeat(0),
            1 << 30,
        )));
        let e = zeros.next_line().unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    }
}
