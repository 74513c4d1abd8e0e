//! A trace result with the sources' ids, locations, metadata and aligned
//! passages, as the CLI and the server show it.

use serde::Serialize;
use unspin::fingerprint::{Fingerprint, Fingerprinter};
use unspin::trace::TraceResult;

use crate::codec::Location;
use crate::{IndexError, Snapshot, TextUnavailable};

/// A passage of a text: its number, and its byte range and text when the
/// text is available.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Span {
    /// Passage number (0-based).
    pub passage: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A query passage and the source passage it came from.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PassageReport {
    pub query: Span,
    pub source: Span,
    /// Query fingerprints found in that source passage / anywhere in the source / in the query passage.
    pub hits: u32,
    pub doc_hits: u32,
    pub features: u32,
    pub similarity: f32,
}

/// One source of the query.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SourceReport {
    /// Rank, from 1.
    pub rank: usize,
    /// Document number in the index.
    pub doc: u32,
    /// The document's id (a file's path when it has no other).
    pub id: String,
    /// Where its text was read from: a path, or `path:byte-offset` for a JSON line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Metadata recorded at indexing time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
    /// Evidence in nats (the ranking key; see `unspin::trace`).
    pub score: f32,
    /// Estimated share of the copied passages' shingles found in the source.
    pub similarity: f32,
    /// Share of the query's fingerprints in the aligned passages.
    pub coverage: f32,
    /// Why the source passages carry no text, when they don't.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_text: Option<String>,
    pub passages: Vec<PassageReport>,
}

/// Everything about one query.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TraceReport {
    /// Query passages.
    pub passages: usize,
    /// Fingerprints that counted, and those too common to count.
    pub features: u32,
    pub common_features: u32,
    /// Documents sharing a fingerprint with the query.
    pub candidates: u32,
    pub sources: Vec<SourceReport>,
}

/// Assembles the report of `result` for the query `text` (fingerprinted as
/// `query`). Source passages get their byte ranges when the source can be
/// read again unchanged (its passages are recomputed with `fp`), and, with
/// `with_text`, passages carry their text.
pub fn report(
    snap: &Snapshot,
    fp: &Fingerprinter,
    text: &str,
    query: &Fingerprint,
    result: &TraceResult,
    with_text: bool,
) -> Result<TraceReport, IndexError> {
    let mut sources = Vec::new();
    for (k, m) in result.matches.iter().enumerate() {
        let Some(rec) = snap.doc(m.doc)? else {
            continue;
        };
        let location = match rec.location {
            Location::None => None,
            Location::File(f) => snap.file_path(f)?.map(|p| p.display().to_string()),
            Location::JsonLine { file, offset, .. } => snap
                .file_path(file)?
                .map(|p| format!("{}:{offset}", p.display())),
        };
        let id = if rec.id.is_empty() {
            location.clone().unwrap_or_default()
        } else {
            rec.id.clone()
        };
        let meta = if rec.meta.is_empty() {
            None
        } else {
            serde_json::from_str(&rec.meta).ok()
        };
        let (source_text, why) = match snap.load_text(&rec) {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(e)),
        };
        let source_passages = source_text
            .as_deref()
            .map(|t| fp.passages(t))
            .unwrap_or_default();
        let passages = m
            .passages
            .iter()
            .map(|p| {
                let qp = query.passages.get(p.query_passage as usize);
                let sp = source_passages
                    .get(p.source_passage as usize)
                    .map(|s| (s.start as u64, s.end as u64));
                let q_text = match (with_text, qp) {
                    (true, Some(qp)) => text.get(qp.start..qp.end).map(str::to_string),
                    _ => None,
                };
                let s_text = match (with_text, &source_text, sp) {
                    (true, Some(t), Some((s, e))) => {
                        t.get(s as usize..e as usize).map(str::to_string)
                    }
                    _ => None,
                };
                PassageReport {
                    query: Span {
                        passage: p.query_passage,
                        start: qp.map(|q| q.start as u64),
                        end: qp.map(|q| q.end as u64),
                        text: q_text,
                    },
                    source: Span {
                        passage: p.source_passage,
                        start: sp.map(|s| s.0),
                        end: sp.map(|s| s.1),
                        text: s_text,
                    },
                    hits: p.hits,
                    doc_hits: p.doc_hits,
                    features: p.features,
                    similarity: p.similarity,
                }
            })
            .collect();
        sources.push(SourceReport {
            rank: k + 1,
            doc: m.doc,
            id,
            location,
            meta,
            score: m.score,
            similarity: m.similarity,
            coverage: m.coverage,
            source_text: why.map(|w: TextUnavailable| w.to_string()),
            passages,
        });
    }
    for (k, s) in sources.iter_mut().enumerate() {
        s.rank = k + 1;
    }
    Ok(TraceReport {
        passages: query.passages.len(),
        features: result.features,
        common_features: result.common_features,
        candidates: result.candidates,
        sources,
    })
}
