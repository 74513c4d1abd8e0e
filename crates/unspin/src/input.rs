//! Input checking and chunking, so any input gets a clear error or a correct,
//! bounded-memory answer.

use std::io::Read;

use crate::Error;

/// Target size of a chunk; cuts fall on line breaks, sentence ends or spaces.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// Checks that `bytes` is non-empty UTF-8 text (no NUL bytes) and returns it as `&str`.
/// `name` labels the input in the error message.
pub fn check_text<'a>(bytes: &'a [u8], name: &str) -> Result<&'a str, Error> {
    if bytes.is_empty() {
        return Err(Error::Input(format!("{name}: input is empty")));
    }
    check_piece(bytes, name, 0)
}

fn check_piece<'a>(bytes: &'a [u8], name: &str, offset: u64) -> Result<&'a str, Error> {
    if let Some(p) = memchr0(bytes) {
        return Err(Error::Input(format!(
            "{name}: binary data (NUL byte at offset {}); unspin reads UTF-8 text",
            offset + p as u64
        )));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Error::Input(format!(
            "{name}: invalid UTF-8 at byte offset {}; convert the input to UTF-8 first",
            offset + e.valid_up_to() as u64
        ))
    })
}

fn memchr0(b: &[u8]) -> Option<usize> {
    b.iter().position(|&x| x == 0)
}

/// Where to cut `buf`: after the last line break, else
/// after the last sentence end, else after the last whitespace, else at a UTF-8
/// boundary. Never returns 0 for a non-empty buffer.
pub fn cut_point(buf: &[u8]) -> usize {
    let window = &buf[buf.len() / 2..];
    let base = buf.len() / 2;
    if let Some(p) = window.iter().rposition(|&b| b == b'\n') {
        return base + p + 1;
    }
    if let Some(p) = window
        .windows(2)
        .rposition(|w| matches!(w[0], b'.' | b'!' | b'?') && w[1] == b' ')
    {
        return base + p + 2;
    }
    if let Some(p) = buf.iter().rposition(|b| b.is_ascii_whitespace()) {
        if p > 0 {
            return p + 1;
        }
    }
    // No whitespace at all: cut before an incomplete trailing character.
    let mut p = buf.len() - 1;
    while p > 0 && buf[p] & 0b1100_0000 == 0b1000_0000 && buf.len() - p < 4 {
        p -= 1;
    }
    let need = match buf[p] {
        b if b >= 0b1111_0000 => 4,
        b if b >= 0b1110_0000 => 3,
        b if b >= 0b1100_0000 => 2,
        _ => 1,
    };
    if p + need > buf.len() && p > 0 {
        p
    } else {
        buf.len()
    }
}

/// Splits a text into pieces of about [`CHUNK_BYTES`] at safe cut points.
pub fn split_text(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    while text.len() - at > CHUNK_BYTES {
        let mut cut = at + cut_point(&text.as_bytes()[at..at + CHUNK_BYTES]);
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        out.push((at, &text[at..cut]));
        at = cut;
    }
    if at < text.len() || out.is_empty() {
        out.push((at, &text[at..]));
    }
    out
}

/// Reads a stream in validated chunks of about [`CHUNK_BYTES`].
pub struct ChunkReader<R> {
    reader: R,
    name: String,
    buf: Vec<u8>,
    offset: u64,
    eof: bool,
    seen_any: bool,
}

impl<R: Read> ChunkReader<R> {
    /// Wraps `reader`; `name` labels errors (a path or `<stdin>`).
    pub fn new(reader: R, name: &str) -> Self {
        Self {
            reader,
            name: name.to_string(),
            buf: Vec::with_capacity(CHUNK_BYTES * 2),
            offset: 0,
            eof: false,
            seen_any: false,
        }
    }

    /// The next chunk with its byte offset, `None` at the end. An empty stream is an error.
    pub fn next_chunk(&mut self) -> Result<Option<(u64, String)>, Error> {
        while !self.eof && self.buf.len() < CHUNK_BYTES {
            let old = self.buf.len();
            self.buf.resize(old + CHUNK_BYTES, 0);
            match self.reader.read(&mut self.buf[old..]) {
                Ok(0) => {
                    self.buf.truncate(old);
                    self.eof = true;
                }
                Ok(n) => self.buf.truncate(old + n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => self.buf.truncate(old),
                Err(e) => return Err(Error::Io(format!("{}: read failed: {e}", self.name))),
            }
        }
        if self.buf.is_empty() {
            if !self.seen_any {
                return Err(Error::Input(format!("{}: input is empty", self.name)));
            }
            return Ok(None);
        }
        self.seen_any = true;
        let cut = if self.eof {
            self.buf.len()
        } else {
            cut_point(&self.buf)
        };
        let piece: Vec<u8> = self.buf.drain(..cut).collect();
        // A multi-byte character may straddle the cut only in the fallback case.
        let piece = match check_piece(&piece, &self.name, self.offset) {
            Ok(_) => piece,
            Err(e) => {
                let valid = std::str::from_utf8(&piece).err().map(|u| u.valid_up_to());
                match valid {
                    Some(v)
                        if !self.eof
                            && piece.len() - v < 4
                            && std::str::from_utf8(&piece[v..]).is_err()
                            && v > 0 =>
                    {
                        let (head, tail) = piece.split_at(v);
                        let mut rest = tail.to_vec();
                        rest.extend_from_slice(&self.buf);
                        self.buf = rest;
                        head.to_vec()
                    }
                    _ => return Err(e),
                }
            }
        };
        let at = self.offset;
        self.offset += piece.len() as u64;
        Ok(Some((at, String::from_utf8(piece).expect("validated"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_input_with_offsets() {
        assert!(check_text(b"", "x")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(check_text(b"ab\0c", "x")
            .unwrap_err()
            .to_string()
            .contains("offset 2"));
        assert!(check_text(b"ab\xffc", "x")
            .unwrap_err()
            .to_string()
            .contains("offset 2"));
        assert_eq!(check_text("héllo".as_bytes(), "x").unwrap(), "héllo");
    }

    #[test]
    fn chunks_reassemble_exactly() {
        let mut text = String::new();
        for i in 0..60_000 {
            text.push_str(if i % 7 == 0 { "é. " } else { "word " });
            if i % 1000 == 0 {
                text.push('\n');
            }
        }
        let mut r = ChunkReader::new(text.as_bytes(), "t");
        let mut joined = String::new();
        while let Some((off, c)) = r.next_chunk().unwrap() {
            assert_eq!(off as usize, joined.len());
            joined.push_str(&c);
        }
        assert_eq!(joined, text);
        let pieces = split_text(&text);
        assert!(pieces.len() > 1);
        assert_eq!(pieces.iter().map(|p| p.1).collect::<String>(), text);
    }

    #[test]
    fn one_long_line_without_spaces_is_cut_on_char_boundaries() {
        let text = "é".repeat(CHUNK_BYTES);
        let mut r = ChunkReader::new(text.as_bytes(), "t");
        let mut joined = String::new();
        while let Some((_, c)) = r.next_chunk().unwrap() {
            joined.push_str(&c);
        }
        assert_eq!(joined, text);
        assert_eq!(
            split_text(&text).iter().map(|p| p.1).collect::<String>(),
            text
        );
    }

    #[test]
    fn empty_stream_is_an_error() {
        let mut r = ChunkReader::new(&b""[..], "<stdin>");
        assert!(r.next_chunk().is_err());
    }
}
