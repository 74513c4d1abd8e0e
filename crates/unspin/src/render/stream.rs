//! Writing JSON and HTML results of long inputs in bounded memory.
//!
//! A long input is restored or detected piece by piece, but its JSON object
//! and its HTML page put totals (word counts, the verdict) before or between
//! the per-piece parts. The writers here keep each growing part in a spool
//! (an in-memory buffer that moves to a temporary file past a size; the
//! caller chooses it), and write the whole at the end with the same bytes
//! as the all-in-memory renderings ([`super::restoration_json`],
//! [`super::html`]): memory stays at one piece plus the spools' in-memory
//! parts, whatever the input's size.

use std::io::{self, Read, Seek, SeekFrom, Write};

use serde::Serialize;

use crate::restore::{Change, Restoration};

/// A growing part of an output: written to, then read back from the start.
pub trait Spool: Read + Write + Seek {}
impl<T: Read + Write + Seek> Spool for T {}

/// Copies everything written to `spool` into `out`.
pub fn copy_spool(spool: &mut dyn Spool, out: &mut dyn Write) -> io::Result<()> {
    spool.flush()?;
    spool.seek(SeekFrom::Start(0))?;
    io::copy(spool, out)?;
    Ok(())
}

/// Writes the items of a JSON array, with the commas between them, the way
/// [`serde_json::Value`] prints them (numbers through `f64`, keys sorted),
/// so streamed output matches [`super::restoration_json`]'s. Items are
/// gathered in blocks of about 64 KiB before they are written (a spool on
/// disk is a file, and one write per item would be a system call each):
/// call [`JsonItems::flush`] before reading back what was written.
#[derive(Default)]
pub struct JsonItems {
    written: usize,
    pending: Vec<u8>,
}

impl JsonItems {
    /// Items written so far.
    pub fn len(&self) -> usize {
        self.written
    }

    /// Whether no item was written.
    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// Writes `item`, preceded by a comma unless it is the first.
    pub fn push<T: Serialize>(&mut self, out: &mut dyn Write, item: &T) -> io::Result<()> {
        if self.written > 0 {
            self.pending.push(b',');
        }
        let v = serde_json::to_value(item).map_err(io::Error::other)?;
        serde_json::to_writer(&mut self.pending, &v).map_err(io::Error::other)?;
        self.written += 1;
        if self.pending.len() >= 64 * 1024 {
            self.flush(out)?;
        }
        Ok(())
    }

    /// Writes the items gathered but not yet written.
    pub fn flush(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.pending)?;
        self.pending.clear();
        Ok(())
    }
}

/// Writes `s` as the inside of a JSON string (escaped, without the quotes).
/// Escaping is per character, so the fragments of a text written one after
/// the other are the escaped text.
pub fn write_json_fragment(out: &mut dyn Write, s: &str) -> io::Result<()> {
    let quoted = serde_json::to_string(s).map_err(io::Error::other)?;
    out.write_all(&quoted.as_bytes()[1..quoted.len() - 1])
}

/// Writes `skeleton`, a JSON object serialized with some fields empty, with
/// each `(marker, spool)` streamed in after its marker. A marker is the
/// opening of an empty top-level field, such as `"changes":[` or `"text":"`;
/// markers must appear in the skeleton in the order given, once each (a
/// marker cannot occur inside a string value: its quotes would be escaped).
pub fn write_spliced(
    out: &mut dyn Write,
    skeleton: &str,
    fills: &mut [(&str, &mut dyn Spool)],
) -> io::Result<()> {
    let mut at = 0;
    for (marker, spool) in fills.iter_mut() {
        let found = skeleton[at..]
            .find(*marker)
            .ok_or_else(|| io::Error::other(format!("no {marker} in the JSON skeleton")))?;
        let end = at + found + marker.len();
        out.write_all(&skeleton.as_bytes()[at..end])?;
        copy_spool(&mut **spool, out)?;
        at = end;
    }
    out.write_all(&skeleton.as_bytes()[at..])
}

/// The JSON object of [`super::restoration_json`] for a text restored
/// piece by piece: changes, sections and the restored text go to spools.
pub struct RestorationJson<S> {
    changes: S,
    sections: S,
    text: S,
    change_items: JsonItems,
    section_items: JsonItems,
    words: usize,
}

impl<S: Spool> RestorationJson<S> {
    /// A writer whose three growing parts go to spools made by `spool`.
    pub fn new(mut spool: impl FnMut() -> io::Result<S>) -> io::Result<Self> {
        Ok(Self {
            changes: spool()?,
            sections: spool()?,
            text: spool()?,
            change_items: JsonItems::default(),
            section_items: JsonItems::default(),
            words: 0,
        })
    }

    /// Adds the restoration of the piece that starts at byte `offset`.
    pub fn push(&mut self, piece: &Restoration, offset: usize) -> io::Result<()> {
        for c in &piece.changes {
            let shifted = Change {
                start: c.start + offset,
                end: c.end + offset,
                ..c.clone()
            };
            self.change_items.push(&mut self.changes, &shifted)?;
        }
        for s in &piece.sections {
            let mut s = s.clone();
            s.start += offset;
            s.end += offset;
            self.section_items.push(&mut self.sections, &s)?;
        }
        write_json_fragment(&mut self.text, &piece.text)?;
        self.words += piece.words;
        Ok(())
    }

    /// Writes what is gathered to the spools.
    fn flush(&mut self) -> io::Result<()> {
        self.change_items.flush(&mut self.changes)?;
        self.section_items.flush(&mut self.sections)
    }

    /// Writes the object (no newline after it), with `path` and `id` as
    /// [`super::restoration_json`] adds them.
    pub fn finish(
        mut self,
        out: &mut dyn Write,
        path: Option<&str>,
        id: Option<&serde_json::Value>,
    ) -> io::Result<()> {
        self.flush()?;
        let empty = Restoration {
            words: self.words,
            ..Restoration::default()
        };
        let skeleton = serde_json::to_string(&super::restoration_json(&empty, path, id))
            .map_err(io::Error::other)?;
        write_spliced(
            out,
            &skeleton,
            &mut [
                ("\"changes\":[", &mut self.changes),
                ("\"sections\":[", &mut self.sections),
                ("\"text\":\"", &mut self.text),
            ],
        )
    }
}

/// The page of [`super::html`] for a text restored piece by piece: the body
/// goes to a spool, and the header with the totals is written at the end.
pub struct RestorationHtml<S> {
    body: S,
    words: usize,
    changed: usize,
    spun_prob: f32,
}

impl<S: Spool> RestorationHtml<S> {
    /// A writer whose body goes to `body`.
    pub fn new(body: S) -> Self {
        Self {
            body,
            words: 0,
            changed: 0,
            spun_prob: 0.0,
        }
    }

    /// Adds `input`, one piece of the text, and its restoration `r`
    /// (offsets into the piece).
    pub fn push(&mut self, input: &str, r: &Restoration) -> io::Result<()> {
        let mut body = String::new();
        super::html_body(input, r, &mut body);
        self.body.write_all(body.as_bytes())?;
        self.words += r.words;
        self.changed += super::applied(r);
        self.spun_prob = self.spun_prob.max(super::spun_prob(r));
        Ok(())
    }

    /// Writes the page, titled `title`.
    pub fn finish(mut self, out: &mut dyn Write, title: &str) -> io::Result<()> {
        let head = super::html_head(title, self.words, self.changed, self.spun_prob);
        out.write_all(head.as_bytes())?;
        copy_spool(&mut self.body, out)?;
        out.write_all(super::HTML_TAIL.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::{Alternative, Section};
    use std::io::Cursor;

    fn piece(text: &str, word: (usize, usize), original: &str) -> Restoration {
        let spun = &text[word.0..word.1];
        Restoration {
            text: text.replacen(spun, original, 1),
            changes: vec![Change {
                start: word.0,
                end: word.1,
                spun: spun.to_string(),
                original: original.to_string(),
                confidence: 0.8,
                relation: "rule".into(),
                alternatives: vec![Alternative {
                    text: original.to_string(),
                    prob: 0.8,
                }],
                applied: true,
            }],
            sections: vec![Section {
                start: 0,
                end: text.len(),
                words: 3,
                log_likelihood_ratio: 1.5,
                spun_prob: 0.7,
                synonym_log_likelihood_ratio: 0.0,
                synonym_prob: 0.1,
            }],
            words: 3,
        }
    }

    #[test]
    fn streamed_json_and_html_match_the_whole_renderings() {
        let (a, b) = ("helium said \"so\".\n", "arsenic <b>planned</b> \u{e9}.\n");
        let pa = piece(a, (0, 6), "he");
        let pb = piece(b, (0, 7), "as");
        let mut whole = Restoration::default();
        whole.append(pa.clone(), 0);
        whole.append(pb.clone(), a.len());
        let input = format!("{a}{b}");
        let id = serde_json::json!(7);

        let mut json = RestorationJson::new(|| Ok(Cursor::new(Vec::new()))).unwrap();
        json.push(&pa, 0).unwrap();
        json.push(&pb, a.len()).unwrap();
        let mut out = Vec::new();
        json.finish(&mut out, Some("in.txt"), Some(&id)).unwrap();
        let want = serde_json::to_vec(&super::super::restoration_json(
            &whole,
            Some("in.txt"),
            Some(&id),
        ))
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(want).unwrap()
        );

        let mut html = RestorationHtml::new(Cursor::new(Vec::new()));
        html.push(a, &pa).unwrap();
        html.push(b, &pb).unwrap();
        let mut out = Vec::new();
        html.finish(&mut out, "in.txt").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            super::super::html(&input, &whole, "in.txt")
        );
    }

    #[test]
    fn an_empty_text_streams_as_an_empty_object() {
        let json = RestorationJson::new(|| Ok(Cursor::new(Vec::new()))).unwrap();
        let mut out = Vec::new();
        json.finish(&mut out, None, None).unwrap();
        let want = serde_json::to_vec(&super::super::restoration_json(
            &Restoration::default(),
            None,
            None,
        ))
        .unwrap();
        assert_eq!(out, want);
    }
}
