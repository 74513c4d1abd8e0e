//! Input checking and chunking, so any input gets a clear error or a correct,
//! bounded-memory answer.

use std::io::Read;
use std::path::{Path, PathBuf};

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

/// The largest single document that `trace` and `index add` take: far
/// more than any article or book. A larger input is a corpus; give it as
/// JSON Lines, one document per line.
pub const MAX_DOCUMENT_BYTES: usize = 16 << 20;

/// Reads all of `reader` as one document of at most [`MAX_DOCUMENT_BYTES`],
/// checked as [`check_text`] checks it. Memory never exceeds the cap: a
/// larger input is refused once the cap is passed, and a NUL byte as soon
/// as it is read.
pub fn read_document(reader: impl Read, name: &str) -> Result<String, Error> {
    let mut bytes = Vec::new();
    let mut reader = reader.take(MAX_DOCUMENT_BYTES as u64 + 1);
    let mut block = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Io(format!("{name}: read failed: {e}"))),
        };
        if let Some(p) = memchr0(&block[..n]) {
            return Err(Error::Input(format!(
                "{name}: binary data (NUL byte at offset {}); unspin reads UTF-8 text",
                bytes.len() + p
            )));
        }
        bytes.extend_from_slice(&block[..n]);
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::Input(format!(
            "{name}: larger than {} MiB, the most one document may hold; give a corpus as JSON Lines, one document per line",
            MAX_DOCUMENT_BYTES >> 20
        )));
    }
    check_text(&bytes, name)?;
    Ok(String::from_utf8(bytes).expect("checked UTF-8"))
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

/// A chunk grows past [`CHUNK_BYTES`] to keep a markup region (a `<script>`
/// body, an HTML comment, a fenced code block) whole, but not past this.
pub const MAX_REGION_BYTES: usize = 8 * 1024 * 1024;

/// Where a markup region that the tokenizer passes through untouched (an
/// HTML tag or comment, a `<script>`/`<style>` body, Markdown code) opens in
/// `buf` and is still open at its end. A chunk must not end inside one: the
/// rest, restored on its own, would read as prose. `buf` must start outside
/// any region. Errs on the side of reporting one (a shorter chunk is harmless).
pub fn open_region(buf: &[u8]) -> Option<usize> {
    let find_before = |from: usize, to: usize, needle: &[u8]| -> Option<usize> {
        buf.get(from..to)?
            .windows(needle.len())
            .position(|w| w.eq_ignore_ascii_case(needle))
            .map(|p| from + p)
    };
    let find = |from: usize, needle: &[u8]| find_before(from, buf.len(), needle);
    // The first paragraph break at or after some earlier position, so that
    // many backticks in one long paragraph cost one scan, not one each.
    let mut next_para: Option<Option<usize>> = None;
    let mut i = 0;
    while i < buf.len() {
        match buf[i] {
            b'<' if buf[i..].starts_with(b"<!--") => match find(i + 4, b"-->") {
                Some(e) => i = e + 3,
                None => return Some(i),
            },
            b'<' => {
                let Some(end) = tag_end(&buf[i..]) else {
                    i += 1;
                    continue;
                };
                let Some(end) = end else {
                    return Some(i); // the tag may close after the cut
                };
                let end = i + end;
                let tag = &buf[i..end];
                let starts = |name: &[u8]| {
                    tag.len() >= name.len() && tag[..name.len()].eq_ignore_ascii_case(name)
                };
                let close: &[u8] = if starts(b"<script") {
                    b"</script"
                } else if starts(b"<style") {
                    b"</style"
                } else {
                    i = end;
                    continue;
                };
                if tag.ends_with(b"/>") {
                    i = end;
                    continue;
                }
                match find(end, close) {
                    Some(e) => i = e,
                    None => return Some(i),
                }
            }
            b'`' => {
                let ticks = buf[i..].iter().take_while(|&&b| b == b'`').count();
                let fence = &buf[i..i + ticks];
                let line_start = match buf[..i].iter().rposition(|b| !b.is_ascii_whitespace()) {
                    None => true,
                    Some(p) => buf[p + 1..i].contains(&b'\n'),
                };
                if ticks >= 3 && line_start {
                    // A fenced block ends at the same fence at the start of a line.
                    let mut from = i + ticks;
                    loop {
                        match find(from, fence) {
                            Some(e) if buf[e - 1] == b'\n' => {
                                i = e;
                                break;
                            }
                            Some(e) => from = e + ticks,
                            None => return Some(i),
                        }
                    }
                    while buf.get(i) == Some(&b'`') {
                        i += 1;
                    }
                } else {
                    // Inline code ends at the same backticks within the paragraph.
                    let body = i + ticks;
                    let para_end = match next_para {
                        Some(Some(p)) if p >= body => Some(p),
                        Some(None) => None,
                        _ => {
                            let p = find(body, b"\n\n");
                            next_para = Some(p);
                            p
                        }
                    };
                    match find_before(body, para_end.unwrap_or(buf.len()), fence) {
                        Some(e) => i = e + ticks,
                        None if para_end.is_some() => i += ticks,
                        None => return Some(i),
                    }
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Scans a tag the way the tokenizer does (quotes respected, at most 4096
/// bytes, no `<` inside): `None` if `b` opens no tag, `Some(None)` if the
/// tag may still close after the end of `b`, else `Some(Some(len))`.
fn tag_end(b: &[u8]) -> Option<Option<usize>> {
    let second = match b.get(1) {
        None => return Some(None),
        Some(&s) => s,
    };
    if !(second.is_ascii_alphabetic() || matches!(second, b'/' | b'!' | b'?')) {
        return None;
    }
    let mut quote = None;
    for (k, &ch) in b.iter().enumerate().take(4096).skip(1) {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == b'"' || ch == b'\'' => quote = Some(ch),
            None if ch == b'>' => return Some(Some(k + 1)),
            None if ch == b'<' => return None,
            None => {}
        }
    }
    (b.len() < 4096).then_some(None)
}

/// The cut for the next chunk of `buf` (not the last one): [`cut_point`],
/// moved back to the start of a markup region open there. `None` when a
/// region opens at the very start and stays open: read more first.
fn chunk_cut(buf: &[u8]) -> Option<usize> {
    let cut = cut_point(buf);
    match open_region(&buf[..cut]) {
        None => Some(cut),
        Some(0) if buf.len() < MAX_REGION_BYTES => None,
        Some(0) => Some(cut),
        Some(start) => Some(start),
    }
}

/// Splits a text into pieces of about [`CHUNK_BYTES`] at safe cut points
/// (never inside a `<script>` body, an HTML comment or Markdown code that
/// fits in [`MAX_REGION_BYTES`]).
pub fn split_text(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut len = CHUNK_BYTES;
    while text.len() - at > len {
        let Some(mut cut) = chunk_cut(&text.as_bytes()[at..at + len]) else {
            len *= 2;
            continue;
        };
        cut += at;
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        out.push((at, &text[at..cut]));
        at = cut;
        len = CHUNK_BYTES;
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
    /// Bytes to buffer before cutting; grows while a markup region stays open.
    want: usize,
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
            want: CHUNK_BYTES,
        }
    }

    /// The next chunk with its byte offset, `None` at the end. An empty stream is an error.
    pub fn next_chunk(&mut self) -> Result<Option<(u64, String)>, Error> {
        while !self.eof && self.buf.len() < self.want {
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
            match chunk_cut(&self.buf) {
                Some(cut) => cut,
                // A markup region opens at the start of the buffer: read on until it closes.
                None => {
                    self.want = self.buf.len() * 2;
                    return self.next_chunk();
                }
            }
        };
        self.want = CHUNK_BYTES;
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

/// Expands paths into files: folders recursively in name order, hidden
/// entries skipped. Unreadable folders are reported in `errors`.
pub fn expand_paths(paths: &[PathBuf], errors: &mut Vec<String>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out, errors);
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            walk(&p, out, errors);
        } else if p.is_file() {
            out.push(p);
        }
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
    fn open_regions_are_found() {
        assert_eq!(open_region(b"plain text\n"), None);
        assert_eq!(open_region(b"a <!-- b --> c"), None);
        assert_eq!(open_region(b"a <!-- b c"), Some(2));
        assert_eq!(open_region(b"a <script>x</script> b"), None);
        assert_eq!(open_region(b"a <SCRIPT type=\"x>\">x"), Some(2));
        assert_eq!(open_region(b"a <style>x</STYLE> <script src=x /> b"), None);
        assert_eq!(open_region(b"a <b>c</b> <p class=\"x"), Some(11));
        assert_eq!(open_region(b"a < b, c <"), Some(9));
        assert_eq!(open_region(b"a < b"), None);
        assert_eq!(open_region(b"x\n```\ncode\n```\ny"), None);
        assert_eq!(open_region(b"x\n  ````\ncode\n```\n"), Some(4));
        assert_eq!(open_region(b"x `a` y `b"), Some(8));
        assert_eq!(open_region(b"x `a\n\nb"), None);
        assert_eq!(open_region(b"x ``a` b"), Some(2));
    }

    type Spans = Vec<(usize, usize)>;

    /// The Tag and Code tokens of the whole text, and of its pieces.
    fn markup_tokens(text: &str, pieces: &[(usize, &str)]) -> (Spans, Spans) {
        use crate::token::{tokenize, TokenKind};
        let keep = |k: TokenKind| matches!(k, TokenKind::Tag | TokenKind::Code);
        let whole = tokenize(text)
            .iter()
            .filter(|t| keep(t.kind))
            .map(|t| (t.start, t.end))
            .collect();
        let mut parts = Vec::new();
        for (off, p) in pieces {
            parts.extend(
                tokenize(p)
                    .iter()
                    .filter(|t| keep(t.kind))
                    .map(|t| (t.start + off, t.end + off)),
            );
        }
        (whole, parts)
    }

    #[test]
    fn chunks_never_end_inside_markup() {
        let texts = [
            format!(
                "<p>helium said</p>\n<script>\n{}</script>\n<p>arsenic</p>\n",
                "var helium = caller;\n".repeat(20_000)
            ),
            format!(
                "text\n```\n{}```\nhelium said\n",
                "helium said\n".repeat(30_000)
            ),
            format!(
                "a <!--\n{}-->\nhelium said\n",
                "helium said\n".repeat(60_000)
            ),
            format!(
                "{}\n```\n{}```\nhelium said\n",
                "word ".repeat(40_000),
                "helium said\n".repeat(30_000)
            ),
        ];
        for text in &texts {
            let pieces = split_text(text);
            assert!(pieces.len() > 1 || text.len() < MAX_REGION_BYTES);
            let (whole, parts) = markup_tokens(text, &pieces);
            assert_eq!(whole, parts);
            let mut r = ChunkReader::new(text.as_bytes(), "t");
            let mut chunks = Vec::new();
            while let Some((off, c)) = r.next_chunk().unwrap() {
                chunks.push((off as usize, c));
            }
            assert_eq!(
                chunks.iter().map(|c| c.1.as_str()).collect::<String>(),
                *text
            );
            let borrowed: Vec<(usize, &str)> =
                chunks.iter().map(|(o, c)| (*o, c.as_str())).collect();
            let (whole, parts) = markup_tokens(text, &borrowed);
            assert_eq!(whole, parts);
        }
    }

    #[test]
    fn an_unclosed_region_is_cut_at_the_cap() {
        let text = format!("<script>{}", "x = 1;\n".repeat(MAX_REGION_BYTES / 4));
        let pieces = split_text(&text);
        assert!(pieces.len() > 1);
        assert!(pieces.iter().all(|p| p.1.len() <= 2 * MAX_REGION_BYTES));
        assert_eq!(pieces.iter().map(|p| p.1).collect::<String>(), text);
        let mut r = ChunkReader::new(text.as_bytes(), "t");
        let mut n = 0;
        while let Some((_, c)) = r.next_chunk().unwrap() {
            assert!(c.len() <= 2 * MAX_REGION_BYTES);
            n += c.len();
        }
        assert_eq!(n, text.len());
    }

    #[test]
    fn empty_stream_is_an_error() {
        let mut r = ChunkReader::new(&b""[..], "<stdin>");
        assert!(r.next_chunk().is_err());
    }
}
