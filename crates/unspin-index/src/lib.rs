//! A persistent index of trace fingerprints ([`unspin::fingerprint`]) in one
//! [redb](https://www.redb.org) file, for finding the source of a spun copy
//! among millions of originals ([`unspin::trace`]).
//!
//! * **No text is stored**: per document only a small record (id, where to
//!   read the text again, a hash of it, passage offsets, metadata) and its
//!   sampled fingerprints, a few hundred bytes in all.
//! * **Segments**: each commit of [`Writer`] writes the postings of its batch
//!   as a new immutable segment (sorted fingerprint groups in blocks of about
//!   a hundred); segments of similar size are merged in the background of
//!   later commits, so a lookup reads a few blocks whatever the index size.
//! * **Crash safety**: every commit is one redb transaction (copy-on-write
//!   B-trees, checksummed, two-phase commit): a process killed during
//!   `index add` leaves the index as of its last commit.
//! * **Concurrency**: one writer process at a time; any number of reader
//!   processes ([`Index::open_reader`]) and threads ([`Snapshot`]s) at once,
//!   each seeing a consistent committed state.
//!
//! The on-disk layout is documented in docs/FORMATS.md.
//!
//! # Example
//!
//! Index two originals, then trace a spun copy of one of its paragraphs
//! (`unspin index add` and `unspin trace` do the same from files and JSON
//! Lines, with a [`unspin::restore::Restorer`] passed to
//! [`unspin::trace::trace_text`] so that the query's restoration counts too).
//!
//! ```
//! use unspin::fingerprint::{Channels, FingerprintConfig, Fingerprinter};
//! use unspin::trace::{trace_text, TraceOptions};
//! use unspin_index::{codec::text_hash, Index, NewDoc, NewLocation, WriterOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("news.idx");
//! let fp = Fingerprinter::embedded(FingerprintConfig::default())?;
//! let originals = [
//!     ("a", "The Senate voted 52-48 on Tuesday to confirm Judge Maria Lopez, ending a fight that began in March when the White House sent her name to the Judiciary Committee.\n\n\
//!            Lopez, 54, served for 11 years on the Ninth Circuit in San Francisco before the nomination. \
//!            She wrote 300 opinions there, among them Garcia v. Oregon (2019), which Senator Dan Kelly called \"a model of restraint\" on Monday. \
//!            Her hearing in June drew protesters from Texas, Ohio and Maine, and the vote came after 14 hours of debate."),
//!     ("b", "Heavy rain flooded parts of Houston on Friday, and the National Weather Service warned that the Brazos River could crest at 48 feet by Sunday."),
//! ];
//! let mut writer = Index::open_writer(&path, &fp, WriterOptions::default())?;
//! for (id, text) in originals {
//!     let doc = NewDoc {
//!         id: id.into(),
//!         source: NewLocation::None,
//!         meta: String::new(),
//!         text_hash: text_hash(text),
//!         text_len: text.len() as u64,
//!     };
//!     writer.add(&doc, &fp.fingerprint(text, Channels::ALL))?;
//! }
//! writer.commit()?;
//! drop(writer);
//!
//! // Readers may open the index while a writer adds to it.
//! let snap = Index::open_reader(&path)?.snapshot()?;
//! let spun = "Lopez, 54, served for 11 years at the Ninth Circuit in San Francisco ahead of the nomination. \
//!             She authored 300 opinions there, among them Garcia v. Oregon (2019), which Senator Dan Kelly named \"a model of restraint\" on Monday. \
//!             Her hearing in June attracted protesters from Texas, Ohio and Maine, and the ballot arrived after 14 hours of argument.";
//! let opts = TraceOptions { min_score: 0.0, ..TraceOptions::default() };
//! let (_, result) = trace_text(&fp, None, spun, &snap, &opts)?;
//! let best = &result.matches[0];
//! assert_eq!(snap.doc(best.doc)?.unwrap().id, "a");
//! // The query's only paragraph came from the source's second one.
//! assert_eq!(best.passages[0].source_passage, 1);
//! # Ok(())
//! # }
//! ```

pub mod bulk;
pub mod codec;
pub mod report;
pub mod sources;

use std::path::{Path, PathBuf};

use redb::{
    Builder, ConcurrencyMode, DatabaseError, ReadOnlyDatabase, ReadTransaction, ReadableDatabase,
    ReadableTable, ReadableTableMetadata, TableDefinition,
};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use unspin::fingerprint::{FingerprintConfig, Fingerprinter};
use unspin::trace::{Posting, PostingSource};

use codec::{key_of, BlockReader, DocRecord, KEY_BITS};

/// Errors of the index. Every variant renders as one line.
#[derive(Debug)]
pub enum IndexError {
    /// The storage engine failed (I/O error, full disk, ...).
    Db(String),
    /// The file is not an unspin index, or its contents are inconsistent.
    Corrupt(String),
    /// The index was built with other fingerprint settings or an unknown format version.
    Incompatible(String),
    /// Another process is writing the index.
    Busy(String),
    /// The last writer was killed and the index must be repaired by a writer first.
    NeedsRepair(String),
    /// A source file cannot be read.
    Io(String),
}

impl std::fmt::Display for IndexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexError::Db(s)
            | IndexError::Corrupt(s)
            | IndexError::Incompatible(s)
            | IndexError::Busy(s)
            | IndexError::NeedsRepair(s)
            | IndexError::Io(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for IndexError {}

impl From<IndexError> for unspin::Error {
    fn from(e: IndexError) -> Self {
        unspin::Error::Io(e.to_string())
    }
}

pub(crate) fn db_err(what: &str) -> impl Fn(redb::Error) -> IndexError + '_ {
    move |e| IndexError::Db(format!("{what}: {e}"))
}

macro_rules! db {
    ($e:expr, $what:expr) => {
        $e.map_err(|e| $crate::db_err($what)(e.into()))
    };
}

mod writer;
pub use writer::Writer;

pub(crate) const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
pub(crate) const DOCS: TableDefinition<u32, &[u8]> = TableDefinition::new("docs");
pub(crate) const IDS: TableDefinition<u64, u32> = TableDefinition::new("ids");
pub(crate) const FILES: TableDefinition<u32, &str> = TableDefinition::new("files");
pub(crate) const FILE_IDS: TableDefinition<&str, u32> = TableDefinition::new("file_ids");
pub(crate) const SEGMENTS: TableDefinition<u32, &str> = TableDefinition::new("segments");
pub(crate) const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
pub(crate) const DELETED: TableDefinition<u32, ()> = TableDefinition::new("deleted");

/// Version of the layout in docs/FORMATS.md.
pub const FORMAT_VERSION: u32 = 1;
pub(crate) const META_KEY: &str = "index";

/// What the `meta` table records about the whole index.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Meta {
    /// [`FORMAT_VERSION`] of the writer that created the index.
    pub format: u32,
    /// Fingerprint settings every document and query must use.
    pub fingerprint: FingerprintConfig,
    /// [`Fingerprinter::digest`] (settings and dictionary), hex.
    pub fingerprint_digest: String,
    /// Live documents.
    pub docs: u64,
    /// The next document number.
    pub next_doc: u32,
    /// The next segment number.
    pub next_segment: u32,
    /// Documents replaced or removed whose postings are still in segments.
    pub deleted: u64,
    /// unspin version that last wrote the index.
    pub writer: String,
}

/// One segment, as the `segments` table records it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SegmentInfo {
    pub id: u32,
    /// Blocks are keyed by the top `bucket_bits` of a fingerprint key.
    pub bucket_bits: u32,
    /// Distinct fingerprints.
    pub groups: u64,
    /// Stored postings.
    pub postings: u64,
    /// Fingerprints whose postings were dropped as too common.
    pub dropped_groups: u64,
    /// Bytes of block values.
    pub bytes: u64,
    pub blocks: u64,
}

pub(crate) fn block_key(segment: u32, bucket: u64) -> u64 {
    ((segment as u64) << 32) | bucket
}

pub(crate) fn bucket_bits_for(groups: u64) -> u32 {
    // About 64 fingerprint groups per block: a lookup decodes a few hundred bytes.
    let mut bits = 0;
    while bits < 30.min(KEY_BITS) && (groups >> bits) > 64 {
        bits += 1;
    }
    bits
}

/// Writer settings.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Postings buffered before a commit writes them as a segment.
    pub batch_postings: usize,
    /// A fingerprint with more postings than this keeps only its count.
    pub max_stored_postings: u64,
    /// Segments of one size tier that trigger a merge.
    pub merge_factor: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            batch_postings: 8_000_000,
            max_stored_postings: unspin::trace::DEFAULT_MAX_POSTINGS as u64,
            merge_factor: 8,
        }
    }
}

/// An index file.
pub struct Index;

fn builder() -> Builder {
    let mut b = Builder::new();
    b.set_concurrency_mode(ConcurrencyMode::SingleWriter);
    b.set_cache_size(256 << 20);
    b
}

fn busy(path: &Path) -> IndexError {
    IndexError::Busy(format!(
        "{}: the index is being written by another process (unspin index add); try again when it is done",
        path.display()
    ))
}

fn open_error(path: &Path, e: DatabaseError) -> IndexError {
    match e {
        DatabaseError::DatabaseAlreadyOpen => busy(path),
        DatabaseError::UpgradeRequired(v) => IndexError::Incompatible(format!(
            "{}: written by a newer or older storage format ({v})",
            path.display()
        )),
        DatabaseError::Storage(redb::StorageError::Io(io)) => {
            IndexError::Io(format!("{}: {io}", path.display()))
        }
        other => IndexError::Corrupt(format!(
            "{}: not a readable unspin index ({other})",
            path.display()
        )),
    }
}

fn read_meta(txn: &ReadTransaction, path: &Path) -> Result<Meta, IndexError> {
    let not_index = || {
        IndexError::Corrupt(format!(
            "{}: not an unspin index (no index metadata)",
            path.display()
        ))
    };
    let table = match txn.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Err(not_index()),
        Err(e) => return Err(db_err("reading the index metadata")(e.into())),
    };
    let guard = db!(table.get(META_KEY), "reading the index metadata")?.ok_or_else(not_index)?;
    let meta: Meta = serde_json::from_str(guard.value())
        .map_err(|e| IndexError::Corrupt(format!("{}: bad index metadata: {e}", path.display())))?;
    if meta.format != FORMAT_VERSION {
        return Err(IndexError::Incompatible(format!(
            "{}: index format {} (this unspin reads format {FORMAT_VERSION}); rebuild the index",
            path.display(),
            meta.format
        )));
    }
    Ok(meta)
}

/// The digest as the metadata records it.
pub fn digest_hex(fp: &Fingerprinter) -> String {
    format!("{:016x}", fp.digest())
}

/// Checks that `fp` computes the fingerprints the index holds.
pub fn check_fingerprinter(meta: &Meta, fp: &Fingerprinter, path: &Path) -> Result<(), IndexError> {
    if meta.fingerprint != *fp.config() || meta.fingerprint_digest != digest_hex(fp) {
        return Err(IndexError::Incompatible(format!(
            "{}: built with other fingerprint settings or another dictionary (digest {}, this unspin {}); rebuild the index",
            path.display(),
            meta.fingerprint_digest,
            digest_hex(fp)
        )));
    }
    Ok(())
}

/// An open index for queries; cheap [`Snapshot`]s share it between threads.
pub struct Reader {
    db: ReadOnlyDatabase,
    path: PathBuf,
}

impl Index {
    /// Opens an index for reading. Other processes may read, and one may
    /// write, at the same time. An index left by a killed writer is repaired
    /// first (which needs that no writer is running).
    pub fn open_reader(path: &Path) -> Result<Reader, IndexError> {
        match Self::open_read_only(path) {
            Err(IndexError::NeedsRepair(_)) => {
                // Recovery needs a writer: repair, close, then read.
                let db = builder().open(path).map_err(|e| open_error(path, e))?;
                drop(db);
                Self::open_read_only(path)
            }
            other => other,
        }
    }

    /// Opens an index for reading without ever writing to it: an index left
    /// by a killed writer is refused ([`IndexError::NeedsRepair`]).
    pub fn open_read_only(path: &Path) -> Result<Reader, IndexError> {
        if !path.exists() {
            return Err(IndexError::Io(format!(
                "{}: no such index (create one with 'unspin index add')",
                path.display()
            )));
        }
        match builder().open_read_only(path) {
            Ok(db) => Ok(Reader {
                db,
                path: path.to_path_buf(),
            }),
            Err(DatabaseError::RepairAborted) => Err(IndexError::NeedsRepair(format!(
                "{}: the last writer was interrupted; open it for writing once to repair it",
                path.display()
            ))),
            Err(e) => Err(open_error(path, e)),
        }
    }

    /// Opens an index for adding documents, creating it when the file does
    /// not exist. Fails when another process is writing it.
    pub fn open_writer(
        path: &Path,
        fp: &Fingerprinter,
        options: WriterOptions,
    ) -> Result<Writer, IndexError> {
        let existed = path.exists()
            && std::fs::metadata(path)
                .map(|m| m.len() > 0)
                .unwrap_or(false);
        let db = builder().create(path).map_err(|e| open_error(path, e))?;
        let meta = if existed {
            let txn = db!(db.begin_read(), "reading the index")?;
            let meta = read_meta(&txn, path)?;
            check_fingerprinter(&meta, fp, path)?;
            meta
        } else {
            let meta = Meta {
                format: FORMAT_VERSION,
                fingerprint: fp.config().clone(),
                fingerprint_digest: digest_hex(fp),
                docs: 0,
                next_doc: 0,
                next_segment: 0,
                deleted: 0,
                writer: env!("CARGO_PKG_VERSION").to_string(),
            };
            let txn = db!(db.begin_write(), "creating the index")?;
            {
                let mut t = db!(txn.open_table(META), "creating the index")?;
                let json = serde_json::to_string(&meta).expect("meta serializes");
                db!(t.insert(META_KEY, json.as_str()), "creating the index")?;
                db!(txn.open_table(DOCS), "creating the index")?;
                db!(txn.open_table(IDS), "creating the index")?;
                db!(txn.open_table(FILES), "creating the index")?;
                db!(txn.open_table(FILE_IDS), "creating the index")?;
                db!(txn.open_table(SEGMENTS), "creating the index")?;
                db!(txn.open_table(BLOCKS), "creating the index")?;
                db!(txn.open_table(DELETED), "creating the index")?;
            }
            db!(txn.commit(), "creating the index")?;
            meta
        };
        Ok(Writer::new(db, path.to_path_buf(), meta, options))
    }
}

impl Reader {
    /// A consistent view of the index as of its latest commit.
    pub fn snapshot(&self) -> Result<Snapshot, IndexError> {
        let txn = db!(self.db.begin_read(), "reading the index")?;
        Snapshot::new(txn, &self.path)
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A consistent read-only view of an index: a [`PostingSource`] plus the
/// document records.
pub struct Snapshot {
    txn: ReadTransaction,
    blocks: redb::ReadOnlyTable<u64, &'static [u8]>,
    docs: redb::ReadOnlyTable<u32, &'static [u8]>,
    meta: Meta,
    segments: Vec<SegmentInfo>,
    deleted: FxHashSet<u32>,
    path: PathBuf,
}

pub(crate) fn read_segments(txn: &ReadTransaction) -> Result<Vec<SegmentInfo>, IndexError> {
    let table = db!(txn.open_table(SEGMENTS), "reading the segment list")?;
    let mut out = Vec::new();
    for row in db!(table.iter(), "reading the segment list")? {
        let (_, v) = db!(row, "reading the segment list")?;
        let info: SegmentInfo = serde_json::from_str(v.value())
            .map_err(|e| IndexError::Corrupt(format!("bad segment record: {e}")))?;
        out.push(info);
    }
    Ok(out)
}

pub(crate) fn read_deleted(txn: &ReadTransaction) -> Result<FxHashSet<u32>, IndexError> {
    let table = db!(txn.open_table(DELETED), "reading the deleted list")?;
    let mut out = FxHashSet::default();
    for row in db!(table.iter(), "reading the deleted list")? {
        out.insert(db!(row, "reading the deleted list")?.0.value());
    }
    Ok(out)
}

/// Appends the group of `key` in `seg` (if any) to `postings`; returns (df, dropped).
fn lookup_in_segment(
    blocks: &impl ReadableTable<u64, &'static [u8]>,
    seg: &SegmentInfo,
    key: u64,
    postings: &mut Vec<Posting>,
) -> Result<(u64, bool), IndexError> {
    let bucket = if seg.bucket_bits == 0 {
        0
    } else {
        key >> (KEY_BITS - seg.bucket_bits)
    };
    let Some(block) = db!(blocks.get(block_key(seg.id, bucket)), "reading postings")? else {
        return Ok((0, false));
    };
    let base = bucket << (KEY_BITS - seg.bucket_bits);
    let bytes = block.value();
    let mut r = BlockReader::new(bytes, base)?;
    while let Some(g) = r.next_group()? {
        if g.key == key {
            if !g.dropped {
                r.postings(&g, postings)?;
            }
            return Ok((g.df, g.dropped));
        }
        if g.key > key {
            break;
        }
    }
    Ok((0, false))
}

impl Snapshot {
    fn new(txn: ReadTransaction, path: &Path) -> Result<Self, IndexError> {
        let meta = read_meta(&txn, path)?;
        let segments = read_segments(&txn)?;
        let deleted = read_deleted(&txn)?;
        let blocks = db!(txn.open_table(BLOCKS), "reading the index")?;
        let docs = db!(txn.open_table(DOCS), "reading the index")?;
        Ok(Self {
            txn,
            blocks,
            docs,
            meta,
            segments,
            deleted,
            path: path.to_path_buf(),
        })
    }

    /// The index metadata.
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The segments.
    pub fn segments(&self) -> &[SegmentInfo] {
        &self.segments
    }

    /// Checks that `fp` computes the fingerprints this index holds.
    pub fn check_fingerprinter(&self, fp: &Fingerprinter) -> Result<(), IndexError> {
        check_fingerprinter(&self.meta, fp, &self.path)
    }

    /// A fingerprinter with this index's settings and the embedded
    /// dictionary, checked against the index.
    pub fn fingerprinter(&self) -> Result<Fingerprinter, IndexError> {
        let fp = Fingerprinter::embedded(self.meta.fingerprint.clone())
            .map_err(|e| IndexError::Incompatible(e.to_string()))?;
        self.check_fingerprinter(&fp)?;
        Ok(fp)
    }

    /// The record of document `doc` (None when unknown or deleted).
    pub fn doc(&self, doc: u32) -> Result<Option<DocRecord>, IndexError> {
        if self.deleted.contains(&doc) {
            return Ok(None);
        }
        match db!(self.docs.get(doc), "reading a document record")? {
            Some(v) => Ok(Some(DocRecord::decode(v.value())?)),
            None => Ok(None),
        }
    }

    /// The path of source file `file`.
    pub fn file_path(&self, file: u32) -> Result<Option<PathBuf>, IndexError> {
        let t = db!(self.txn.open_table(FILES), "reading the file list")?;
        Ok(db!(t.get(file), "reading the file list")?.map(|v| PathBuf::from(v.value())))
    }

    /// The document's display id: its own id, else its file path.
    pub fn display_id(&self, rec: &DocRecord) -> Result<String, IndexError> {
        if !rec.id.is_empty() {
            return Ok(rec.id.clone());
        }
        match rec.location {
            codec::Location::File(f) | codec::Location::JsonLine { file: f, .. } => Ok(self
                .file_path(f)?
                .map(|p| p.display().to_string())
                .unwrap_or_default()),
            codec::Location::None => Ok(String::new()),
        }
    }

    /// Reads a document's text again from its source, if it is still there
    /// and unchanged (same length and hash as when indexed).
    pub fn load_text(&self, rec: &DocRecord) -> Result<String, TextUnavailable> {
        sources::load_text(self, rec)
    }

    /// Numbers for `unspin index stats`.
    pub fn stats(&self) -> Result<IndexStats, IndexError> {
        let file_bytes = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        let files = db!(self.txn.open_table(FILES), "reading the file list")?;
        let seg = &self.segments;
        Ok(IndexStats {
            path: self.path.display().to_string(),
            file_bytes,
            documents: self.meta.docs,
            deleted_documents: self.meta.deleted,
            source_files: db!(files.len(), "reading the file list")?,
            segments: seg.len(),
            fingerprints: seg.iter().map(|s| s.groups).sum(),
            postings: seg.iter().map(|s| s.postings).sum(),
            dropped_fingerprints: seg.iter().map(|s| s.dropped_groups).sum(),
            block_bytes: seg.iter().map(|s| s.bytes).sum(),
            bytes_per_document: if self.meta.docs > 0 {
                file_bytes as f64 / self.meta.docs as f64
            } else {
                0.0
            },
            fingerprint: self.meta.fingerprint.clone(),
            format: self.meta.format,
        })
    }
}

/// Why a source text could not be shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TextUnavailable {
    /// The index has no location for it (standard input, generated text).
    NotStored,
    /// The file is gone or unreadable.
    Missing(String),
    /// The file changed since it was indexed.
    Changed(String),
}

impl std::fmt::Display for TextUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextUnavailable::NotStored => f.write_str("source text not stored"),
            TextUnavailable::Missing(s) => write!(f, "source unavailable: {s}"),
            TextUnavailable::Changed(s) => write!(f, "source changed since indexing: {s}"),
        }
    }
}

/// Numbers about an index.
#[derive(Clone, Debug, Serialize)]
pub struct IndexStats {
    pub path: String,
    pub file_bytes: u64,
    pub documents: u64,
    pub deleted_documents: u64,
    pub source_files: u64,
    pub segments: usize,
    pub fingerprints: u64,
    pub postings: u64,
    pub dropped_fingerprints: u64,
    pub block_bytes: u64,
    pub bytes_per_document: f64,
    pub fingerprint: FingerprintConfig,
    pub format: u32,
}

impl PostingSource for Snapshot {
    fn doc_count(&self) -> u64 {
        self.meta.docs
    }

    fn lookup_many(
        &self,
        hashes: &[u64],
        cap: usize,
        f: &mut dyn FnMut(usize, usize, &[Posting]),
    ) -> Result<(), unspin::Error> {
        // Visit keys in order: neighbouring lookups share B-tree pages.
        let mut order: Vec<(u64, usize)> = hashes.iter().map(|&h| key_of(h)).zip(0..).collect();
        order.sort_unstable();
        let mut postings = Vec::new();
        for &(key, i) in &order {
            postings.clear();
            let mut df = 0u64;
            let mut dropped = false;
            let mut parts = 0;
            for seg in &self.segments {
                let before = postings.len();
                let (d, dr) = lookup_in_segment(&self.blocks, seg, key, &mut postings)?;
                df += d;
                dropped |= dr;
                if postings.len() > before {
                    parts += 1;
                }
            }
            if !self.deleted.is_empty() {
                let n = postings.len();
                postings.retain(|p| !self.deleted.contains(&p.doc));
                df -= (n - postings.len()) as u64;
            }
            if parts > 1 {
                postings.sort_unstable();
            }
            let df = if dropped { df.max(cap as u64 + 1) } else { df } as usize;
            f(i, df, if df > cap { &[] } else { &postings });
        }
        Ok(())
    }
}

/// A new document for [`Writer::add`].
#[derive(Clone, Debug)]
pub struct NewDoc {
    /// The caller's id ("" for a file, whose path is its id).
    pub id: String,
    /// Where the text can be read again (a path for [`Location::File`]-like sources).
    pub source: NewLocation,
    /// Metadata (JSON object text) or "".
    pub meta: String,
    /// Hash ([`codec::text_hash`]) and length of the text.
    pub text_hash: u64,
    pub text_len: u64,
}

/// Where a new document's text lives.
#[derive(Clone, Debug)]
pub enum NewLocation {
    None,
    File(PathBuf),
    JsonLine {
        file: PathBuf,
        offset: u64,
        len: u32,
    },
}

/// What [`Writer::add`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Added {
    /// A new document.
    New(u32),
    /// The id was indexed with other text: the old document is replaced.
    Replaced(u32),
    /// The id is already indexed with the same text.
    Unchanged(u32),
}
