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
pub mod check;
pub mod codec;
mod guard;
mod pages;
pub mod report;
mod roots;
pub mod sources;

use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};

use redb::{
    Builder, ConcurrencyMode, DatabaseError, ReadOnlyDatabase, ReadTransaction, ReadableDatabase,
    ReadableTable, ReadableTableMetadata, TableDefinition,
};
use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use unspin::fingerprint::{FingerprintConfig, Fingerprinter};
use unspin::trace::{Posting, PostingSource};

use codec::{key_of, seal_str, unseal, unseal_str, BlockReader, DocRecord, KEY_BITS};
pub(crate) use guard::{contain, corrupt, drop_contained};

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
        let s = match self {
            IndexError::Db(s)
            | IndexError::Corrupt(s)
            | IndexError::Incompatible(s)
            | IndexError::Busy(s)
            | IndexError::NeedsRepair(s)
            | IndexError::Io(s) => s,
        };
        // A message may quote bytes of a corrupt file (redb names a
        // table's stored type in its errors): escape control characters
        // so that it stays one line (found by the `index` fuzz target).
        if !s.contains(char::is_control) {
            return f.write_str(s);
        }
        for c in s.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                std::fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for IndexError {}

impl IndexError {
    /// Whether the index file is damaged (as opposed to busy, missing, of
    /// another version, or unreadable for an I/O error).
    pub fn is_corrupt(&self) -> bool {
        matches!(self, IndexError::Corrupt(_))
    }

    /// Names the file in a corrupt-value error of the codec ("index PATH is
    /// corrupt: WHAT: ...").
    pub(crate) fn at(self, path: &Path, what: &str) -> IndexError {
        match self {
            IndexError::Corrupt(d) if !d.starts_with("index ") => {
                corrupt(path, format_args!("{what}: {d}"))
            }
            other => other,
        }
    }
}

/// Maps an error of the store while reading `path`: an I/O error stays
/// one; anything else means the file is not what redb wrote.
pub(crate) fn store_err<'a>(
    path: &'a Path,
    what: &'a str,
) -> impl Fn(redb::Error) -> IndexError + 'a {
    move |e| match e {
        redb::Error::Io(io) if io.kind() != std::io::ErrorKind::InvalidData => {
            IndexError::Io(format!("index {}: {what}: {io}", path.display()))
        }
        redb::Error::DatabaseAlreadyOpen => busy(path),
        other => corrupt(path, format_args!("{what}: {other}")),
    }
}

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

/// A read from the store at `$path`: its errors name the file, and a
/// storage failure other than I/O is a corrupt index.
macro_rules! rd {
    ($e:expr, $path:expr, $what:expr) => {
        $e.map_err(|e| $crate::store_err($path, $what)(e.into()))
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

/// Version of the layout in docs/FORMATS.md (2: every value carries a
/// checksum of its key and bytes).
pub const FORMAT_VERSION: u32 = 2;
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

/// Page cache of an index opened for reading: queries revisit the same
/// blocks, so it may hold much of the index.
const READER_CACHE_BYTES: usize = 256 << 20;

/// Writer settings.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Postings buffered before a commit writes them as a segment (16
    /// bytes each, and as much again while the batch is sorted).
    pub batch_postings: usize,
    /// Page cache of the database while writing. Adding reads little back
    /// (id lookups, merge inputs once), so a small cache costs no speed, and
    /// a large one fills up and grows the process with the index.
    pub cache_bytes: usize,
    /// A fingerprint with more postings than this keeps only its count.
    pub max_stored_postings: u64,
    /// Segments of one size tier that trigger a merge.
    pub merge_factor: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        // Small enough that a 20 MB input already reaches every bound, so
        // that peak memory does not grow with the input (issue 17): 62 / 62 /
        // 63 MB for 20 / 100 / 200 MB of JSON Lines, against 74 / 136 MB with
        // 2M postings and a 32 MiB cache, for 1.4x the time on that input and
        // 25% fewer documents/s in `trace-bench` (docs/BENCHMARKS.md, "index add").
        Self {
            batch_postings: 250_000,
            cache_bytes: 4 << 20,
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
    b.set_cache_size(READER_CACHE_BYTES);
    b
}

fn busy(path: &Path) -> IndexError {
    IndexError::Busy(format!(
        "{}: the index is being written by another process (unspin index add); try again when it is done",
        path.display()
    ))
}

/// [`roots::check_roots`] on the file at `path`, before redb reads it: the
/// tables whose roots lie past the file's end.
fn bad_roots(path: &Path) -> Result<Vec<roots::BadRoot>, IndexError> {
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => IndexError::Io(format!(
            "{}: no such index (create one with 'unspin index add')",
            path.display()
        )),
        _ => IndexError::Io(format!("{}: {e}", path.display())),
    })?;
    roots::check_roots(&file).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => corrupt(path, format_args!("{e}")),
        _ => IndexError::Io(format!("{}: {e}", path.display())),
    })
}

/// Refuses a file with a table whose root lies past its end: redb would
/// allocate the size that root names before it reads a byte.
fn check_roots(path: &Path) -> Result<(), IndexError> {
    match bad_roots(path)?.first() {
        Some(bad) => Err(corrupt(path, bad)),
        None => Ok(()),
    }
}

fn open_error(path: &Path, e: DatabaseError) -> IndexError {
    match e {
        DatabaseError::DatabaseAlreadyOpen => busy(path),
        DatabaseError::UpgradeRequired(v) => IndexError::Incompatible(format!(
            "{}: written by a newer or older storage format ({v})",
            path.display()
        )),
        // redb reports a bad header as invalid data.
        DatabaseError::Storage(redb::StorageError::Io(io))
            if io.kind() != std::io::ErrorKind::InvalidData =>
        {
            IndexError::Io(format!("{}: {io}", path.display()))
        }
        other => corrupt(path, format_args!("not a readable index file ({other})")),
    }
}

/// The `meta` value of `meta`: checksummed JSON.
pub(crate) fn meta_value(meta: &Meta) -> String {
    let json = serde_json::to_string(meta).expect("meta serializes");
    seal_str(META_KEY.as_bytes(), &json)
}

/// The `segments` value of `info`: checksummed JSON.
pub(crate) fn segment_value(info: &SegmentInfo) -> String {
    let json = serde_json::to_string(info).expect("segment serializes");
    seal_str(&info.id.to_le_bytes(), &json)
}

/// Parses a `meta` value; a format 1 index (plain JSON) is refused as
/// incompatible, anything else unreadable as corrupt.
pub(crate) fn parse_meta(value: &str, path: &Path) -> Result<Meta, IndexError> {
    let json = match unseal_str(META_KEY.as_bytes(), value) {
        Ok(j) => j,
        Err(e) => {
            // Format 1 stored the JSON without a checksum.
            #[derive(Deserialize)]
            struct Version {
                format: u32,
            }
            if let Ok(v) = serde_json::from_str::<Version>(value) {
                if v.format != FORMAT_VERSION {
                    return Err(incompatible_format(path, v.format));
                }
            }
            return Err(e.at(path, "index metadata"));
        }
    };
    let meta: Meta = serde_json::from_str(json)
        .map_err(|e| corrupt(path, format_args!("index metadata: {e}")))?;
    if meta.format != FORMAT_VERSION {
        return Err(incompatible_format(path, meta.format));
    }
    Ok(meta)
}

fn incompatible_format(path: &Path, format: u32) -> IndexError {
    IndexError::Incompatible(format!(
        "{}: index format {format} (this unspin reads format {FORMAT_VERSION}); rebuild the index",
        path.display()
    ))
}

pub(crate) fn read_meta(txn: &ReadTransaction, path: &Path) -> Result<Meta, IndexError> {
    contain(path, "reading the index metadata", || {
        let not_index = || corrupt(path, "not an unspin index (no index metadata)");
        let table = match txn.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Err(not_index()),
            Err(e) => return Err(store_err(path, "reading the index metadata")(e.into())),
        };
        let guard =
            rd!(table.get(META_KEY), path, "reading the index metadata")?.ok_or_else(not_index)?;
        parse_meta(guard.value(), path)
    })
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
    db: ManuallyDrop<ReadOnlyDatabase>,
    path: PathBuf,
}

impl Drop for Reader {
    fn drop(&mut self) {
        // SAFETY: taken once, here, and never used again.
        let db = unsafe { ManuallyDrop::take(&mut self.db) };
        drop_contained(&self.path, db);
    }
}

impl Index {
    /// Opens an index for reading. Other processes may read, and one may
    /// write, at the same time. An index left by a killed writer is repaired
    /// first (which needs that no writer is running).
    pub fn open_reader(path: &Path) -> Result<Reader, IndexError> {
        match Self::open_read_only(path) {
            Err(IndexError::NeedsRepair(_)) => {
                // Recovery needs a writer: repair, close, then read.
                contain(
                    path,
                    "repairing the index after an interrupted writer",
                    || {
                        let backend = pages::GuardedFile::open_read_write(path, false)
                            .map_err(|e| IndexError::Io(format!("{}: {e}", path.display())))?;
                        let db = builder()
                            .create_with_backend(backend)
                            .map_err(|e| open_error(path, e))?;
                        drop(db);
                        Ok(())
                    },
                )?;
                Self::open_read_only(path)
            }
            other => other,
        }
    }

    /// Opens an index for reading without ever writing to it: an index left
    /// by a killed writer is refused ([`IndexError::NeedsRepair`]).
    pub fn open_read_only(path: &Path) -> Result<Reader, IndexError> {
        check_roots(path)?;
        Self::open_guarded(path, Vec::new())
    }

    /// Opens a damaged index to salvage what it still holds: a table whose
    /// root lies past the file's end reads as empty. Returns the reader and
    /// one line per such table.
    pub(crate) fn open_for_salvage(path: &Path) -> Result<(Reader, Vec<String>), IndexError> {
        let bad = bad_roots(path)?;
        let lost = bad.iter().map(|b| b.to_string()).collect();
        let masked = bad.iter().map(|b| b.flag_at).collect();
        Ok((Self::open_guarded(path, masked)?, lost))
    }

    /// Opens `path` read-only through [`pages::GuardedFile`], which reads
    /// each byte at an offset of `masked` as zero.
    fn open_guarded(path: &Path, masked: Vec<u64>) -> Result<Reader, IndexError> {
        let backend = pages::GuardedFile::open_read_only(path, masked)
            .map_err(|e| IndexError::Io(format!("{}: {e}", path.display())))?;
        match contain(path, "opening the index", || {
            Ok(builder().open_read_only_with_backend(backend))
        })? {
            Ok(db) => Ok(Reader {
                db: ManuallyDrop::new(db),
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
        // An existing index is checked whole before anything is added:
        // every page checksum, so a damaged file is refused, not written to.
        if existed {
            check_roots(path)?;
        }
        let db = contain(path, "opening the index", || {
            let mut b = builder();
            b.set_cache_size(options.cache_bytes);
            b.set_check_integrity_on_open(existed);
            let backend = pages::GuardedFile::open_read_write(path, true)
                .map_err(|e| IndexError::Io(format!("{}: {e}", path.display())))?;
            b.create_with_backend(backend)
                .map_err(|e| open_error(path, e))
        })?;
        let meta = if existed {
            let txn = contain(path, "reading the index", || {
                Ok(rd!(db.begin_read(), path, "reading the index")?)
            })?;
            let meta = read_meta(&txn, path)?;
            drop_contained(path, txn);
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
                db!(
                    t.insert(META_KEY, meta_value(&meta).as_str()),
                    "creating the index"
                )?;
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
        let path = &self.path;
        let txn = contain(path, "reading the index", || {
            Ok(rd!(self.db.begin_read(), path, "reading the index")?)
        })?;
        Snapshot::new(txn, path)
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A consistent read-only view of an index: a [`PostingSource`] plus the
/// document records.
pub struct Snapshot {
    // Dropped inside `contain` (see `Drop`), tables before the transaction.
    txn: ManuallyDrop<ReadTransaction>,
    blocks: ManuallyDrop<redb::ReadOnlyTable<u64, &'static [u8]>>,
    docs: ManuallyDrop<redb::ReadOnlyTable<u32, &'static [u8]>>,
    meta: Meta,
    segments: Vec<SegmentInfo>,
    deleted: FxHashSet<u32>,
    path: PathBuf,
}

/// Parses a `segments` value of key `id`, checked.
pub(crate) fn parse_segment(id: u32, value: &str) -> Result<SegmentInfo, IndexError> {
    let json = unseal_str(&id.to_le_bytes(), value)?;
    let info: SegmentInfo = serde_json::from_str(json)
        .map_err(|e| IndexError::Corrupt(format!("bad segment record: {e}")))?;
    if info.id != id || info.bucket_bits > 30 {
        return Err(IndexError::Corrupt(format!("bad segment record {id}")));
    }
    Ok(info)
}

pub(crate) fn read_segments(
    txn: &ReadTransaction,
    path: &Path,
) -> Result<Vec<SegmentInfo>, IndexError> {
    const WHAT: &str = "reading the segment list";
    contain(path, WHAT, || {
        let table = rd!(txn.open_table(SEGMENTS), path, WHAT)?;
        let mut out = Vec::new();
        for row in rd!(table.iter(), path, WHAT)? {
            let (k, v) = rd!(row, path, WHAT)?;
            out.push(parse_segment(k.value(), v.value()).map_err(|e| e.at(path, "segment list"))?);
        }
        Ok(out)
    })
}

pub(crate) fn read_deleted(
    txn: &ReadTransaction,
    path: &Path,
) -> Result<FxHashSet<u32>, IndexError> {
    const WHAT: &str = "reading the deleted list";
    contain(path, WHAT, || {
        let table = rd!(txn.open_table(DELETED), path, WHAT)?;
        let mut out = FxHashSet::default();
        for row in rd!(table.iter(), path, WHAT)? {
            out.insert(rd!(row, path, WHAT)?.0.value());
        }
        Ok(out)
    })
}

/// Appends the group of `key` in `seg` (if any) to `postings`; returns (df, dropped).
fn lookup_in_segment(
    blocks: &impl ReadableTable<u64, &'static [u8]>,
    seg: &SegmentInfo,
    key: u64,
    postings: &mut Vec<Posting>,
    path: &Path,
) -> Result<(u64, bool), IndexError> {
    let bucket = if seg.bucket_bits == 0 {
        0
    } else {
        key >> (KEY_BITS - seg.bucket_bits)
    };
    let bk = block_key(seg.id, bucket);
    let Some(block) = rd!(blocks.get(bk), path, "reading postings")? else {
        return Ok((0, false));
    };
    let base = bucket << (KEY_BITS - seg.bucket_bits);
    let bytes = unseal(&bk.to_le_bytes(), block.value())?;
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
        let opened = (|| {
            let meta = read_meta(&txn, path)?;
            let segments = read_segments(&txn, path)?;
            let deleted = read_deleted(&txn, path)?;
            contain(path, "reading the index", || {
                let blocks = rd!(txn.open_table(BLOCKS), path, "reading the index")?;
                let docs = rd!(txn.open_table(DOCS), path, "reading the index")?;
                Ok((meta, segments, deleted, blocks, docs))
            })
        })();
        let (meta, segments, deleted, blocks, docs) = match opened {
            Ok(v) => v,
            Err(e) => {
                drop_contained(path, txn);
                return Err(e);
            }
        };
        Ok(Self {
            txn: ManuallyDrop::new(txn),
            blocks: ManuallyDrop::new(blocks),
            docs: ManuallyDrop::new(docs),
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
        const WHAT: &str = "reading a document record";
        let path = &self.path;
        contain(path, WHAT, || match rd!(self.docs.get(doc), path, WHAT)? {
            Some(v) => Ok(Some(
                unseal(&doc.to_le_bytes(), v.value())
                    .and_then(DocRecord::decode)
                    .map_err(|e| e.at(path, &format!("document record {doc}")))?,
            )),
            None => Ok(None),
        })
    }

    /// The path of source file `file`.
    pub fn file_path(&self, file: u32) -> Result<Option<PathBuf>, IndexError> {
        const WHAT: &str = "reading the file list";
        let path = &self.path;
        contain(path, WHAT, || {
            let t = rd!(self.txn.open_table(FILES), path, WHAT)?;
            match rd!(t.get(file), path, WHAT)? {
                Some(v) => Ok(Some(PathBuf::from(
                    unseal_str(&file.to_le_bytes(), v.value())
                        .map_err(|e| e.at(path, &format!("file record {file}")))?,
                ))),
                None => Ok(None),
            }
        })
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
        const WHAT: &str = "reading the file list";
        let path = &self.path;
        let source_files = contain(path, WHAT, || {
            let files = rd!(self.txn.open_table(FILES), path, WHAT)?;
            Ok(rd!(files.len(), path, WHAT)?)
        })?;
        let seg = &self.segments;
        Ok(IndexStats {
            path: self.path.display().to_string(),
            file_bytes,
            documents: self.meta.docs,
            deleted_documents: self.meta.deleted,
            source_files,
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
        let path = &self.path;
        Ok(contain(path, "reading postings", || {
            self.lookup_sorted(hashes, cap, f)
        })?)
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        // SAFETY: each field is taken once, here, and never used again.
        let (blocks, docs, txn) = unsafe {
            (
                ManuallyDrop::take(&mut self.blocks),
                ManuallyDrop::take(&mut self.docs),
                ManuallyDrop::take(&mut self.txn),
            )
        };
        drop_contained(&self.path, (blocks, docs));
        drop_contained(&self.path, txn);
    }
}

impl Snapshot {
    /// [`PostingSource::lookup_many`] inside [`contain`].
    fn lookup_sorted(
        &self,
        hashes: &[u64],
        cap: usize,
        f: &mut dyn FnMut(usize, usize, &[Posting]),
    ) -> Result<(), IndexError> {
        let path = &self.path;
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
                let (d, dr) = lookup_in_segment(&*self.blocks, seg, key, &mut postings, path)
                    .map_err(|e| e.at(path, &format!("posting block of segment {}", seg.id)))?;
                df += d;
                dropped |= dr;
                if postings.len() > before {
                    parts += 1;
                }
            }
            if !self.deleted.is_empty() {
                let n = postings.len();
                postings.retain(|p| !self.deleted.contains(&p.doc));
                df = df.saturating_sub((n - postings.len()) as u64);
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
