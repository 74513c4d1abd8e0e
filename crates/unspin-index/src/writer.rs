//! Adding documents: batches become segments; segments are merged by size tier.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use redb::{Database, ReadableDatabase, ReadableTableMetadata};
use rustc_hash::{FxHashMap, FxHashSet};
use unspin::fingerprint::Fingerprint;
use unspin::trace::Posting;

use crate::codec::{
    key_of, seal, seal_str, unseal, BlockBuilder, BlockReader, DocRecord, GroupHeader, Location,
    KEY_BITS,
};
use crate::{
    block_key, bucket_bits_for, contain, meta_value, read_deleted, read_segments, segment_value,
    Added, IndexError, Meta, NewDoc, NewLocation, SegmentInfo, BLOCKS, DELETED, DOCS, FILES,
    FILE_IDS, IDS, META, META_KEY, SEGMENTS,
};

/// One fingerprint occurrence waiting for a commit.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    key: u64,
    doc: u32,
    passage: u32,
}

#[derive(Default)]
struct Pending {
    entries: Vec<Entry>,
    /// (document, range in `records`) of the batch's document records.
    docs: Vec<(u32, std::ops::Range<usize>)>,
    records: Vec<u8>,
    ids: FxHashMap<u64, (u32, u64)>,
    files: Vec<(u32, String)>,
    file_ids: FxHashMap<String, u32>,
    deleted: Vec<u32>,
    new_docs: u64,
}

/// Adds documents to an index. Buffers a batch and writes it as one
/// transaction ([`Writer::commit`], also called when the batch is full and
/// by [`Writer::finish`]); a process killed mid-batch loses only that batch.
pub struct Writer {
    /// Dropped inside [`drop_contained`]: closing a damaged file must not panic.
    db: std::mem::ManuallyDrop<Database>,
    path: PathBuf,
    meta: Meta,
    options: crate::WriterOptions,
    pending: Pending,
    /// Ids committed by this writer (an index created by this writer needs
    /// no lookups for them).
    session_ids: FxHashMap<u64, (u32, u64)>,
    /// Whether the index had documents before this writer opened it.
    had_docs: bool,
    files_count: Option<u32>,
    key_buf: String,
    record_buf: Vec<u8>,
}

/// The hash under which the `ids` table finds a document again: its id, or
/// for documents without one, where it was read from.
fn id_hash(id: &str, location: &NewLocation, buf: &mut String) -> u64 {
    use std::fmt::Write;
    buf.clear();
    match (id.is_empty(), location) {
        (false, _) => {
            buf.push_str("id\0");
            buf.push_str(id);
        }
        (true, NewLocation::File(p)) => {
            let _ = write!(buf, "file\0{}", p.display());
        }
        (true, NewLocation::JsonLine { file, offset, .. }) => {
            let _ = write!(buf, "line\0{}\0{offset}", file.display());
        }
        (true, NewLocation::None) => return u64::MAX,
    }
    crate::codec::text_hash(buf)
}

/// Sorts entries by key, document and passage: a radix pass on the top key
/// bits, then the small partitions in parallel.
fn sort_entries(entries: &mut Vec<Entry>) {
    const BITS: u32 = 12;
    let shift = KEY_BITS - BITS;
    let mut counts = vec![0usize; 1 << BITS];
    for e in entries.iter() {
        counts[(e.key >> shift) as usize] += 1;
    }
    let mut offsets = Vec::with_capacity(counts.len() + 1);
    let mut sum = 0;
    for &c in &counts {
        offsets.push(sum);
        sum += c;
    }
    offsets.push(sum);
    let mut out = vec![
        Entry {
            key: 0,
            doc: 0,
            passage: 0
        };
        entries.len()
    ];
    let mut next = offsets.clone();
    for e in entries.iter() {
        let b = (e.key >> shift) as usize;
        out[next[b]] = *e;
        next[b] += 1;
    }
    let mut parts: Vec<&mut [Entry]> = Vec::with_capacity(counts.len());
    let mut rest: &mut [Entry] = &mut out;
    for &c in &counts {
        let (a, b) = rest.split_at_mut(c);
        parts.push(a);
        rest = b;
    }
    parts.par_iter_mut().for_each(|p| p.sort_unstable());
    *entries = out;
}

impl Drop for Writer {
    fn drop(&mut self) {
        // SAFETY: taken once, here, and never used again.
        let db = unsafe { std::mem::ManuallyDrop::take(&mut self.db) };
        crate::guard::drop_contained(&self.path, db);
    }
}

impl Writer {
    pub(crate) fn new(
        db: Database,
        path: PathBuf,
        meta: Meta,
        options: crate::WriterOptions,
    ) -> Self {
        let had_docs = meta.next_doc > 0;
        Self {
            db: std::mem::ManuallyDrop::new(db),
            path,
            meta,
            options,
            pending: Pending::default(),
            session_ids: FxHashMap::default(),
            had_docs,
            files_count: None,
            key_buf: String::new(),
            record_buf: Vec::new(),
        }
    }

    /// The index metadata (as of the last commit).
    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Postings waiting for the next commit.
    pub fn pending_postings(&self) -> usize {
        self.pending.entries.len()
    }

    fn lookup_id(&self, h: u64) -> Result<Option<(u32, u64)>, IndexError> {
        if let Some(&v) = self.pending.ids.get(&h) {
            return Ok(Some(v));
        }
        if let Some(&v) = self.session_ids.get(&h) {
            return Ok(Some(v));
        }
        if !self.had_docs {
            return Ok(None);
        }
        let txn = db!(self.db.begin_read(), "reading the index")?;
        let ids = db!(txn.open_table(IDS), "reading the index")?;
        let Some(doc) = db!(ids.get(h), "reading the index")?.map(|v| v.value()) else {
            return Ok(None);
        };
        let docs = db!(txn.open_table(DOCS), "reading the index")?;
        match db!(docs.get(doc), "reading the index")? {
            Some(v) => {
                let rec = unseal(&doc.to_le_bytes(), v.value()).and_then(DocRecord::decode)?;
                Ok(Some((doc, rec.text_hash)))
            }
            None => Ok(None),
        }
    }

    fn file_id(&mut self, path: &Path) -> Result<u32, IndexError> {
        let key = path.display().to_string();
        if let Some(&id) = self.pending.file_ids.get(&key) {
            return Ok(id);
        }
        let txn = db!(self.db.begin_read(), "reading the index")?;
        let t = db!(txn.open_table(FILE_IDS), "reading the index")?;
        if let Some(v) = db!(t.get(key.as_str()), "reading the index")? {
            let id = v.value();
            self.pending.file_ids.insert(key, id);
            return Ok(id);
        }
        let count = match self.files_count {
            Some(c) => c,
            None => {
                let files = db!(txn.open_table(FILES), "reading the index")?;
                db!(files.len(), "reading the index")? as u32
            }
        };
        self.files_count = Some(count + 1);
        self.pending.files.push((count, key.clone()));
        self.pending.file_ids.insert(key, count);
        Ok(count)
    }

    /// Adds one document with its fingerprints (computed with the index's
    /// settings). Commits when the batch is full.
    pub fn add(&mut self, doc: &NewDoc, fp: &Fingerprint) -> Result<Added, IndexError> {
        let path = self.path.clone();
        contain(&path, "adding to the index", || self.add_inner(doc, fp))
            .map_err(|e| e.at(&path, "adding to the index"))
    }

    fn add_inner(&mut self, doc: &NewDoc, fp: &Fingerprint) -> Result<Added, IndexError> {
        let h = id_hash(&doc.id, &doc.source, &mut self.key_buf);
        let mut replaced = None;
        if h != u64::MAX {
            if let Some((old, old_hash)) = self.lookup_id(h)? {
                if old_hash == doc.text_hash {
                    return Ok(Added::Unchanged(old));
                }
                replaced = Some(old);
            }
        }
        let location = match &doc.source {
            NewLocation::None => Location::None,
            NewLocation::File(p) => Location::File(self.file_id(p)?),
            NewLocation::JsonLine { file, offset, len } => Location::JsonLine {
                file: self.file_id(file)?,
                offset: *offset,
                len: *len,
            },
        };
        let id = self.meta.next_doc;
        self.meta.next_doc = id
            .checked_add(1)
            .ok_or_else(|| IndexError::Db("the index holds 2^32 documents".into()))?;
        let rec = DocRecord {
            id: doc.id.clone(),
            location,
            text_hash: doc.text_hash,
            text_len: doc.text_len,
            meta: doc.meta.clone(),
        };
        rec.encode(&mut self.record_buf);
        let at = self.pending.records.len();
        self.pending.records.extend_from_slice(&self.record_buf);
        self.pending.docs.push((id, at..self.pending.records.len()));
        if h != u64::MAX {
            self.pending.ids.insert(h, (id, doc.text_hash));
        }
        if let Some(old) = replaced {
            self.pending.deleted.push(old);
        }
        self.pending.new_docs += 1;
        self.pending
            .entries
            .extend(fp.features.iter().map(|f| Entry {
                key: key_of(f.hash),
                doc: id,
                passage: f.passage,
            }));
        if self.pending.entries.len() >= self.options.batch_postings {
            self.commit()?;
        }
        Ok(match replaced {
            Some(old) => Added::Replaced(old),
            None => Added::New(id),
        })
    }

    /// Writes the pending batch as one transaction, then merges segments if
    /// a size tier is full.
    pub fn commit(&mut self) -> Result<(), IndexError> {
        let path = self.path.clone();
        contain(&path, "committing to the index", || self.commit_inner())
            .map_err(|e| e.at(&path, "committing to the index"))
    }

    fn commit_inner(&mut self) -> Result<(), IndexError> {
        if self.pending.docs.is_empty() && self.pending.deleted.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        sort_entries(&mut pending.entries);
        pending.entries.dedup();
        let seg_id = self.meta.next_segment;
        let mut groups = 0u64;
        for (k, e) in pending.entries.iter().enumerate() {
            if k == 0 || pending.entries[k - 1].key != e.key {
                groups += 1;
            }
        }
        let mut out = SegmentOut::new(seg_id, bucket_bits_for(groups));
        let mut meta = self.meta.clone();
        meta.next_segment += 1;
        // A document replaced within this same batch: its record never
        // reaches the table, and its postings are filtered here.
        let in_batch: FxHashSet<u32> = pending.docs.iter().map(|d| d.0).collect();
        let batch_deleted: FxHashSet<u32> = pending
            .deleted
            .iter()
            .copied()
            .filter(|d| in_batch.contains(d))
            .collect();
        meta.docs += pending.new_docs;
        meta.docs -= pending.deleted.len() as u64;
        meta.deleted += (pending.deleted.len() - batch_deleted.len()) as u64;
        let txn = db!(self.db.begin_write(), "writing the index")?;
        {
            let mut blocks = db!(txn.open_table(BLOCKS), "writing the index")?;
            let mut sealed = Vec::new();
            let mut sink = |bucket: u64, bytes: &[u8]| -> Result<(), IndexError> {
                let k = block_key(seg_id, bucket);
                seal(&k.to_le_bytes(), bytes, &mut sealed);
                db!(blocks.insert(k, sealed.as_slice()), "writing the index")?;
                Ok(())
            };
            let e = &pending.entries;
            let mut postings: Vec<Posting> = Vec::new();
            let mut k = 0;
            while k < e.len() {
                let key = e[k].key;
                postings.clear();
                while k < e.len() && e[k].key == key {
                    if !batch_deleted.contains(&e[k].doc) {
                        postings.push(Posting {
                            doc: e[k].doc,
                            passage: e[k].passage,
                        });
                    }
                    k += 1;
                }
                let df = postings.len() as u64;
                if df > 0 {
                    let dropped = df > self.options.max_stored_postings;
                    out.push(key, df, dropped, &postings, &mut sink)?;
                }
            }
            out.flush(&mut sink)?;
            let mut docs = db!(txn.open_table(DOCS), "writing the index")?;
            for (id, range) in &pending.docs {
                if !batch_deleted.contains(id) {
                    seal(
                        &id.to_le_bytes(),
                        &pending.records[range.clone()],
                        &mut self.record_buf,
                    );
                    db!(
                        docs.insert(*id, self.record_buf.as_slice()),
                        "writing the index"
                    )?;
                }
            }
            let mut deleted = db!(txn.open_table(DELETED), "writing the index")?;
            for d in &pending.deleted {
                if !batch_deleted.contains(d) {
                    db!(docs.remove(*d), "writing the index")?;
                    db!(deleted.insert(*d, ()), "writing the index")?;
                }
            }
            let mut ids = db!(txn.open_table(IDS), "writing the index")?;
            let mut sorted_ids: Vec<(u64, u32)> =
                pending.ids.iter().map(|(&h, &(d, _))| (h, d)).collect();
            sorted_ids.sort_unstable();
            for (h, doc) in sorted_ids {
                db!(ids.insert(h, doc), "writing the index")?;
            }
            let mut files = db!(txn.open_table(FILES), "writing the index")?;
            let mut file_ids = db!(txn.open_table(FILE_IDS), "writing the index")?;
            for (id, path) in &pending.files {
                let value = seal_str(&id.to_le_bytes(), path);
                db!(files.insert(*id, value.as_str()), "writing the index")?;
                db!(file_ids.insert(path.as_str(), *id), "writing the index")?;
            }
            let mut segs = db!(txn.open_table(SEGMENTS), "writing the index")?;
            if out.info.groups > 0 {
                db!(
                    segs.insert(seg_id, segment_value(&out.info).as_str()),
                    "writing the index"
                )?;
            }
            let mut m = db!(txn.open_table(META), "writing the index")?;
            db!(
                m.insert(META_KEY, meta_value(&meta).as_str()),
                "writing the index"
            )?;
        }
        db!(txn.commit(), "committing to the index")?;
        self.meta = meta;
        self.session_ids.extend(pending.ids);
        self.merge_tiers()
    }

    /// Merges segments while some size tier holds `merge_factor` of them.
    fn merge_tiers(&mut self) -> Result<(), IndexError> {
        loop {
            let segs = {
                let txn = db!(self.db.begin_read(), "reading the index")?;
                read_segments(&txn, &self.path)?
            };
            let factor = self.options.merge_factor.max(2) as u64;
            let unit = (self.options.batch_postings as u64 / 4).max(1);
            let tier = |s: &SegmentInfo| {
                let mut t = 0;
                let mut v = s.postings / unit;
                while v >= factor {
                    v /= factor;
                    t += 1;
                }
                t
            };
            let mut by_tier: std::collections::BTreeMap<u32, Vec<SegmentInfo>> = Default::default();
            for s in segs {
                by_tier.entry(tier(&s)).or_default().push(s);
            }
            let Some((_, group)) = by_tier.into_iter().find(|(_, v)| v.len() as u64 >= factor)
            else {
                return Ok(());
            };
            self.merge(&group)?;
        }
    }

    /// Merges every segment into one, drops the postings of replaced
    /// documents, and gives unused file space back to the file system.
    pub fn compact(&mut self) -> Result<(), IndexError> {
        let path = self.path.clone();
        contain(&path, "compacting the index", || self.compact_inner())
            .map_err(|e| e.at(&path, "compacting the index"))
    }

    fn compact_inner(&mut self) -> Result<(), IndexError> {
        self.commit()?;
        let segs = {
            let txn = db!(self.db.begin_read(), "reading the index")?;
            read_segments(&txn, &self.path)?
        };
        if segs.len() > 1 || (self.meta.deleted > 0 && !segs.is_empty()) {
            self.merge(&segs)?;
        }
        // Fails harmlessly while another process holds a read transaction.
        let _ = self.db.compact();
        Ok(())
    }

    /// Gives the file space freed by merges back to the file system (fails
    /// harmlessly while another process is reading).
    pub fn compact_file(&mut self) {
        let path = self.path.clone();
        let _ = contain(&path, "compacting the index", || {
            let _ = self.db.compact();
            Ok(())
        });
    }

    /// Commits what is pending and gives the space freed by merges back to
    /// the file system (when no other process is reading at that moment).
    pub fn finish(mut self) -> Result<Meta, IndexError> {
        self.commit()?;
        self.compact_file();
        Ok(self.meta.clone())
    }

    /// Merges `inputs` into one new segment in one transaction. Worker
    /// threads merge disjoint key ranges; this thread writes their blocks.
    fn merge(&mut self, inputs: &[SegmentInfo]) -> Result<(), IndexError> {
        let read = db!(self.db.begin_read(), "reading the index")?;
        let all_segments = read_segments(&read, &self.path)?;
        let deleted = read_deleted(&read, &self.path)?;
        let seg_id = self.meta.next_segment;
        let groups: u64 = inputs.iter().map(|s| s.groups).sum();
        let bucket_bits = bucket_bits_for(groups);
        let mut meta = self.meta.clone();
        meta.next_segment += 1;
        let covers_all = inputs.len() == all_segments.len();
        // Key ranges on output bucket boundaries, merged by the worker
        // threads a few at a time while this thread writes the finished
        // ones in key order (in-order inserts keep the B-tree pages full).
        // Each range's blocks are held until written: at least 64 ranges,
        // and more for a large merge, so that none holds more than
        // MERGE_RANGE_GROUPS groups or MERGE_RANGE_POSTINGS postings (a
        // corpus of near-duplicates has few groups of many postings) and
        // memory stays flat as the index grows.
        let postings: u64 = inputs.iter().map(|s| s.postings).sum();
        let ranges = if bucket_bits >= 6 {
            (groups / MERGE_RANGE_GROUPS)
                .max(postings / MERGE_RANGE_POSTINGS)
                .next_power_of_two()
                .clamp(64, 1u64 << bucket_bits)
        } else {
            1
        };
        let bucket_span = 1u64 << (KEY_BITS - bucket_bits);
        let buckets = 1u64 << bucket_bits;
        let bounds: Vec<(u64, u64)> = (0..ranges)
            .map(|r| {
                (
                    (buckets * r / ranges) * bucket_span,
                    (buckets * (r + 1) / ranges) * bucket_span,
                )
            })
            .collect();
        let max_stored = self.options.max_stored_postings;
        let txn = db!(self.db.begin_write(), "writing the index")?;
        let mut info = SegmentInfo {
            id: seg_id,
            bucket_bits,
            groups: 0,
            postings: 0,
            dropped_groups: 0,
            bytes: 0,
            blocks: 0,
        };
        {
            let mut blocks = db!(txn.open_table(BLOCKS), "writing the index")?;
            type Merged = Result<(Blocks, SegmentInfo), IndexError>;
            let workers = rayon::current_num_threads().max(1);
            let (tx, rx) = std::sync::mpsc::sync_channel::<Merged>(workers);
            let read = &read;
            let deleted = &deleted;
            let bounds = &bounds;
            let merged: Result<Vec<SegmentInfo>, IndexError> = std::thread::scope(|scope| {
                scope.spawn(move || {
                    for chunk in bounds.chunks(workers) {
                        let parts: Vec<Merged> = chunk
                            .par_iter()
                            .map(|&(lo, hi)| {
                                merge_range(read, inputs, deleted, lo, hi, bucket_bits, max_stored)
                            })
                            .collect();
                        for p in parts {
                            let failed = p.is_err();
                            if tx.send(p).is_err() || failed {
                                return;
                            }
                        }
                    }
                });
                let mut infos = Vec::new();
                let mut sealed = Vec::new();
                for part in rx {
                    let (out, part_info) = part?;
                    for (bucket, bytes) in out {
                        let k = block_key(seg_id, bucket);
                        seal(&k.to_le_bytes(), &bytes, &mut sealed);
                        db!(blocks.insert(k, sealed.as_slice()), "writing the index")?;
                    }
                    infos.push(part_info);
                }
                Ok(infos)
            });
            for part in merged? {
                info.groups += part.groups;
                info.postings += part.postings;
                info.dropped_groups += part.dropped_groups;
                info.bytes += part.bytes;
                info.blocks += part.blocks;
            }
            for s in inputs {
                db!(
                    blocks.retain_in(block_key(s.id, 0)..block_key(s.id + 1, 0), |_, _| false),
                    "writing the index"
                )?;
            }
            let mut segs = db!(txn.open_table(SEGMENTS), "writing the index")?;
            for s in inputs {
                db!(segs.remove(s.id), "writing the index")?;
            }
            if info.groups > 0 {
                db!(
                    segs.insert(seg_id, segment_value(&info).as_str()),
                    "writing the index"
                )?;
            }
            if covers_all && !deleted.is_empty() {
                // Every posting of a deleted document is gone now.
                let mut d = db!(txn.open_table(DELETED), "writing the index")?;
                db!(d.retain(|_, _| false), "writing the index")?;
                meta.deleted = 0;
            }
            let mut m = db!(txn.open_table(META), "writing the index")?;
            db!(
                m.insert(META_KEY, meta_value(&meta).as_str()),
                "writing the index"
            )?;
        }
        drop(read);
        db!(txn.commit(), "committing to the index")?;
        self.meta = meta;
        Ok(())
    }
}

/// Most fingerprint groups one merge range holds in memory (about 1,000
/// blocks).
const MERGE_RANGE_GROUPS: u64 = 1 << 16;

/// Most postings one merge range holds in memory (a few MB encoded).
const MERGE_RANGE_POSTINGS: u64 = 1 << 18;

/// Blocks of a segment: (bucket, encoded block), in bucket order.
type Blocks = Vec<(u64, Vec<u8>)>;

/// Merges the groups with keys in `lo..hi` of `inputs` into blocks of the
/// new segment; returns them, in key order, and their counts.
fn merge_range(
    read: &redb::ReadTransaction,
    inputs: &[SegmentInfo],
    deleted: &FxHashSet<u32>,
    lo: u64,
    hi: u64,
    bucket_bits: u32,
    max_stored: u64,
) -> Result<(Blocks, SegmentInfo), IndexError> {
    let blocks_in = db!(read.open_table(BLOCKS), "reading the index")?;
    let mut cursors = inputs
        .iter()
        .map(|s| SegmentCursor::new(&blocks_in, s, lo, hi))
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = SegmentOut::new(0, bucket_bits);
    let mut blocks: Blocks = Vec::new();
    let mut sink = |bucket: u64, bytes: &[u8]| -> Result<(), IndexError> {
        blocks.push((bucket, bytes.to_vec()));
        Ok(())
    };
    let mut postings: Vec<Posting> = Vec::new();
    while let Some(key) = cursors.iter().filter_map(|c| c.peek_key()).min() {
        postings.clear();
        let mut df = 0u64;
        let mut dropped = false;
        let mut parts = 0;
        for c in cursors.iter_mut() {
            if c.peek_key() == Some(key) {
                let before = postings.len();
                let (d, dr) = c.take_into(&mut postings)?;
                df += d;
                dropped |= dr;
                parts += (postings.len() > before) as u32;
            }
        }
        if !deleted.is_empty() && !dropped {
            postings.retain(|p| !deleted.contains(&p.doc));
            df = postings.len() as u64;
        }
        if parts > 1 {
            postings.sort_unstable();
        }
        dropped |= df > max_stored;
        if df > 0 {
            out.push(key, df, dropped, &postings, &mut sink)?;
        }
    }
    out.flush(&mut sink)?;
    Ok((blocks, out.info))
}

/// Encodes a segment's groups, in key order, into blocks handed to a sink.
struct SegmentOut {
    info: SegmentInfo,
    bucket: Option<u64>,
    block: BlockBuilder,
    buf: Vec<u8>,
}

impl SegmentOut {
    fn new(id: u32, bucket_bits: u32) -> Self {
        Self {
            info: SegmentInfo {
                id,
                bucket_bits,
                groups: 0,
                postings: 0,
                dropped_groups: 0,
                bytes: 0,
                blocks: 0,
            },
            bucket: None,
            block: BlockBuilder::default(),
            buf: Vec::new(),
        }
    }

    fn bucket_of(&self, key: u64) -> u64 {
        if self.info.bucket_bits == 0 {
            0
        } else {
            key >> (KEY_BITS - self.info.bucket_bits)
        }
    }

    fn push(
        &mut self,
        key: u64,
        df: u64,
        dropped: bool,
        postings: &[Posting],
        sink: &mut impl FnMut(u64, &[u8]) -> Result<(), IndexError>,
    ) -> Result<(), IndexError> {
        let b = self.bucket_of(key);
        if self.bucket != Some(b) {
            self.flush(sink)?;
            self.bucket = Some(b);
            self.block.start(b << (KEY_BITS - self.info.bucket_bits));
        }
        self.info.groups += 1;
        self.info.dropped_groups += dropped as u64;
        if !dropped {
            self.info.postings += postings.len() as u64;
        }
        self.block.push(key, df, dropped, postings);
        Ok(())
    }

    fn flush(
        &mut self,
        sink: &mut impl FnMut(u64, &[u8]) -> Result<(), IndexError>,
    ) -> Result<(), IndexError> {
        let Some(b) = self.bucket.take() else {
            return Ok(());
        };
        if self.block.count() == 0 {
            return Ok(());
        }
        self.block.finish(&mut self.buf);
        sink(b, &self.buf)?;
        self.info.bytes += self.buf.len() as u64;
        self.info.blocks += 1;
        Ok(())
    }
}

/// Reads a segment's groups with keys in a range, in key order.
struct SegmentCursor {
    range: redb::Range<'static, u64, &'static [u8]>,
    bucket_bits: u32,
    segment: u32,
    lo: u64,
    hi: u64,
    reader: Option<BlockReader<Vec<u8>>>,
    head: Option<GroupHeader>,
}

impl SegmentCursor {
    fn new(
        blocks: &redb::ReadOnlyTable<u64, &'static [u8]>,
        seg: &SegmentInfo,
        lo: u64,
        hi: u64,
    ) -> Result<Self, IndexError> {
        let bucket = |key: u64| {
            if seg.bucket_bits == 0 {
                0
            } else {
                key >> (KEY_BITS - seg.bucket_bits)
            }
        };
        let first = block_key(seg.id, bucket(lo));
        let last = block_key(seg.id, bucket(hi.saturating_sub(1)));
        let range = db!(blocks.range(first..=last), "reading the index")?;
        let mut c = Self {
            range,
            bucket_bits: seg.bucket_bits,
            segment: seg.id,
            lo,
            hi,
            reader: None,
            head: None,
        };
        c.advance()?;
        Ok(c)
    }

    fn advance(&mut self) -> Result<(), IndexError> {
        loop {
            if let Some(r) = self.reader.as_mut() {
                if let Some(h) = r.next_group()? {
                    if h.key < self.lo {
                        continue;
                    }
                    if h.key >= self.hi {
                        self.head = None;
                        self.reader = None;
                        return Ok(());
                    }
                    self.head = Some(h);
                    return Ok(());
                }
            }
            let Some(row) = self.range.next() else {
                self.head = None;
                self.reader = None;
                return Ok(());
            };
            let (k, v) = db!(row, "reading the index")?;
            let key = k.value();
            if (key >> 32) as u32 != self.segment {
                return Err(IndexError::Corrupt("block outside its segment".into()));
            }
            let bucket = key & 0xffff_ffff;
            let base = if self.bucket_bits == 0 {
                0
            } else {
                bucket << (KEY_BITS - self.bucket_bits)
            };
            let payload = unseal(&key.to_le_bytes(), v.value())?;
            self.reader = Some(BlockReader::new(payload.to_vec(), base)?);
        }
    }

    fn peek_key(&self) -> Option<u64> {
        self.head.as_ref().map(|g| g.key)
    }

    /// Appends the head group's postings to `out`, returns its (df,
    /// dropped), and moves to the next group.
    fn take_into(&mut self, out: &mut Vec<Posting>) -> Result<(u64, bool), IndexError> {
        let h = self.head.take().expect("peeked");
        if !h.dropped {
            self.reader
                .as_ref()
                .expect("a head has a reader")
                .postings(&h, out)?;
        }
        let r = (h.df, h.dropped);
        self.advance()?;
        Ok(r)
    }
}
