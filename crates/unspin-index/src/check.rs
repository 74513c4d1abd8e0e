//! `unspin index check` and `unspin index repair`.
//!
//! * **Check** reads everything: redb's own integrity check (the checksum of
//!   every B-tree page, run on a private in-memory overlay of the file so
//!   that the file is never written), then every row of every table, each
//!   value's checksum and decoding (every posting of every block), and the
//!   counts the metadata and the segment records keep.
//! * **Repair** writes a new file from what can be read: the rows whose
//!   checksums hold, read from the latest commit redb can verify (it falls
//!   back to the previous commit when the latest one is damaged). Lost
//!   document records drop their documents; lost posting blocks drop the
//!   fingerprints they held (such documents are still found, on fewer
//!   fingerprints). The damaged file is kept next to it as `INDEX.corrupt`.
//!   An index whose metadata cannot be read cannot be repaired: rebuild it.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use redb::{
    Builder, Database, ReadTransaction, ReadableDatabase, ReadableTable, StorageBackend,
    TableDefinition, TableHandle,
};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::codec::{seal_str, unseal, unseal_str, BlockReader, DocRecord, KEY_BITS};
use crate::{
    contain, corrupt, meta_value, parse_segment, segment_value, IndexError, Meta, SegmentInfo,
    BLOCKS, DELETED, DOCS, FILES, FILE_IDS, IDS, META, META_KEY, SEGMENTS,
};

/// Problems listed by name in a report (the count covers all of them).
const MAX_PROBLEMS: usize = 20;

/// What [`check`] found.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub path: String,
    /// Nothing is wrong.
    pub ok: bool,
    /// redb's integrity check: "ok", or what it found.
    pub storage: String,
    /// Rows read and verified.
    pub records: u64,
    /// Corrupt rows, unreadable stretches of a table and broken counts.
    pub corrupt: u64,
    /// The first problems, one line each.
    pub problems: Vec<String>,
}

/// What [`repair`] did.
#[derive(Clone, Debug, Serialize)]
pub struct RepairReport {
    pub path: String,
    /// Where the damaged file was kept.
    pub kept_as: String,
    pub documents_before: u64,
    pub documents_after: u64,
    pub blocks_kept: u64,
    pub blocks_lost: u64,
    /// The check of the damaged file.
    pub before: CheckReport,
}

/// A storage backend that reads a file and keeps every write in memory, so
/// that redb's integrity check (which repairs as it goes) never touches the
/// file it checks.
#[derive(Debug)]
struct Overlay {
    file: File,
    file_len: u64,
    state: Mutex<OverlayState>,
}

#[derive(Debug)]
struct OverlayState {
    len: u64,
    pages: HashMap<u64, Box<[u8]>>,
}

const PAGE: u64 = 4096;

impl Overlay {
    fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let file_len = file.metadata()?.len();
        Ok(Self {
            file,
            file_len,
            state: Mutex::new(OverlayState {
                len: file_len,
                pages: HashMap::new(),
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, OverlayState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Page `n` as it stands (file bytes, zeros past the file's end).
    fn base_page(&self, n: u64, out: &mut [u8]) -> std::io::Result<()> {
        out.fill(0);
        let start = n * PAGE;
        if start < self.file_len {
            let take = (self.file_len - start).min(PAGE) as usize;
            crate::pages::read_exact_at(&self.file, &mut out[..take], start)?;
        }
        Ok(())
    }
}

fn out_of_range() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "read past the end")
}

impl StorageBackend for Overlay {
    fn len(&self) -> Result<u64, std::io::Error> {
        Ok(self.state().len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        let st = self.state();
        if !matches!(offset.checked_add(out.len() as u64), Some(e) if e <= st.len) {
            return Err(out_of_range());
        }
        let mut page = vec![0u8; PAGE as usize];
        let mut done = 0usize;
        while done < out.len() {
            let at = offset + done as u64;
            let (n, within) = (at / PAGE, (at % PAGE) as usize);
            let take = (PAGE as usize - within).min(out.len() - done);
            match st.pages.get(&n) {
                Some(p) => out[done..done + take].copy_from_slice(&p[within..within + take]),
                None => {
                    self.base_page(n, &mut page)?;
                    out[done..done + take].copy_from_slice(&page[within..within + take]);
                }
            }
            done += take;
        }
        // A corrupt child pointer must not make redb allocate more than the file holds.
        crate::pages::check_page(out, st.len)
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        let mut st = self.state();
        if len < st.len {
            // Bytes past the new end read as zeros if the file grows again.
            let first = len / PAGE;
            st.pages.retain(|&n, _| n <= first);
            if let Some(p) = st.pages.get_mut(&first) {
                p[(len % PAGE) as usize..].fill(0);
            }
            let cut = len.div_ceil(PAGE);
            let mut zero = vec![0u8; PAGE as usize].into_boxed_slice();
            for n in cut..self.file_len.div_ceil(PAGE).min(st.len.div_ceil(PAGE)) {
                st.pages.insert(n, zero.clone());
            }
            if len & (PAGE - 1) != 0 && !st.pages.contains_key(&first) {
                self.base_page(first, &mut zero)?;
                zero[(len % PAGE) as usize..].fill(0);
                st.pages.insert(first, zero);
            }
        }
        st.len = len;
        Ok(())
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        let mut st = self.state();
        if !matches!(offset.checked_add(data.len() as u64), Some(e) if e <= st.len) {
            return Err(out_of_range());
        }
        let mut done = 0usize;
        while done < data.len() {
            let at = offset + done as u64;
            let (n, within) = (at / PAGE, (at % PAGE) as usize);
            let take = (PAGE as usize - within).min(data.len() - done);
            let p = match st.pages.entry(n) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let mut p = vec![0u8; PAGE as usize].into_boxed_slice();
                    self.base_page(n, &mut p)?;
                    v.insert(p)
                }
            };
            p[within..within + take].copy_from_slice(&data[done..done + take]);
            done += take;
        }
        Ok(())
    }
}

/// redb's integrity check of `path` on an overlay: the database as redb
/// would repair it (in memory), and its verdict.
fn verified_db(path: &Path) -> (Option<Database>, String) {
    let overlay = match Overlay::open(path) {
        Ok(o) => o,
        Err(e) => return (None, format!("cannot read the file: {e}")),
    };
    // The repair calls back with progress 0.3 only when the latest commit
    // failed its checksums and redb fell back to the one before.
    let fell_back = Arc::new(Mutex::new(false));
    let flag = fell_back.clone();
    let mut b = Builder::new();
    b.set_cache_size(64 << 20);
    b.set_check_integrity_on_open(true);
    b.set_repair_callback(move |s| {
        if (s.progress() - 0.3).abs() < 1e-9 {
            *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        }
    });
    let opened = contain(path, "checking the storage", || {
        b.create_with_backend(overlay)
            .map_err(|e| IndexError::Corrupt(e.to_string()))
    });
    match opened {
        Ok(db) => {
            let verdict = if *fell_back.lock().unwrap_or_else(|e| e.into_inner()) {
                "the latest commit failed its page checksums; the commit before it is intact".into()
            } else {
                "ok".into()
            };
            (Some(db), verdict)
        }
        Err(IndexError::Corrupt(e)) => (None, format!("page checksums failed ({e})")),
        Err(e) => (None, e.to_string()),
    }
}

/// Rows salvaged for a repair.
#[derive(Default)]
struct Salvage {
    segments: Vec<SegmentInfo>,
    blocks: Vec<(u64, Vec<u8>)>,
    docs: Vec<(u32, Vec<u8>)>,
    files: Vec<(u32, String)>,
    ids: Vec<(u64, u32)>,
    deleted: Vec<u32>,
}

/// What a scan of one committed state found.
#[derive(Default)]
struct Scan {
    meta: Option<Meta>,
    records: u64,
    corrupt: u64,
    problems: Vec<String>,
    salvage: Salvage,
}

impl Scan {
    fn problem(&mut self, p: impl Into<String>) {
        self.corrupt += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p.into());
        }
    }
}

/// Integer keys a table walk can resume after.
trait IntKey:
    redb::Key + for<'a> redb::Value<SelfType<'a> = Self> + Copy + Into<u64> + TryFrom<u64> + 'static
{
}
impl IntKey for u32 {}
impl IntKey for u64 {}

/// Visits every readable row of `def`. A stretch that cannot be read (an
/// error or a panic of the store) is counted, and the walk resumes past it,
/// skipping ahead in doubling steps until rows read again.
fn walk<K: IntKey, V: redb::Value + 'static>(
    txn: &ReadTransaction,
    path: &Path,
    def: TableDefinition<K, V>,
    scan: &mut Scan,
    mut visit: impl FnMut(&mut Scan, K, &redb::AccessGuard<'_, V>),
) {
    let name = def.name().to_string();
    let mut start: Option<u64> = None;
    let mut last_good: Option<u64> = None;
    let mut skip = 1u64;
    let mut failures = 0;
    loop {
        let mut progressed = false;
        let r = contain(path, "scanning", || {
            let table = txn
                .open_table(def)
                .map_err(|e| IndexError::Corrupt(format!("cannot open the table: {e}")))?;
            let from = match start {
                None => None,
                Some(s) => Some(K::try_from(s).map_err(|_| IndexError::Db(String::new()))?),
            };
            let iter = match from {
                None => table.range::<K>(..),
                Some(f) => table.range(f..),
            }
            .map_err(|e| IndexError::Db(e.to_string()))?;
            for row in iter {
                let (k, v) = row.map_err(|e| IndexError::Db(e.to_string()))?;
                let k = k.value();
                // A damaged branch can lead back to pages already read:
                // keys must rise, or the walk would go round a cycle.
                if last_good.is_some_and(|l| k.into() <= l) {
                    return Err(IndexError::Db(format!("key {} out of order", k.into())));
                }
                last_good = Some(k.into());
                progressed = true;
                scan.records += 1;
                visit(scan, k, &v);
            }
            Ok(())
        });
        match r {
            Ok(()) => return,
            Err(IndexError::Corrupt(e)) if e.starts_with("cannot open") => {
                scan.problem(format!("table {name}: {e}"));
                return;
            }
            Err(e) => {
                if failures == 0 || progressed {
                    let after = last_good.map_or("its start".to_string(), |k| format!("key {k}"));
                    scan.problem(format!("table {name}: unreadable after {after} ({e})"));
                }
                if progressed {
                    skip = 1;
                }
                failures += 1;
                if failures > 200 {
                    return;
                }
                let base = last_good.map_or(0, |k| k.saturating_add(1));
                let next = base.max(start.unwrap_or(0)).saturating_add(skip);
                skip = skip.saturating_mul(2);
                if next == u64::MAX || K::try_from(next).is_err() {
                    return;
                }
                start = Some(next);
            }
        }
    }
}

/// Reads and verifies one committed state.
fn scan(txn: &ReadTransaction, path: &Path) -> Scan {
    let mut s = Scan::default();
    match crate::read_meta(txn, path) {
        Ok(m) => {
            s.records += 1;
            s.meta = Some(m);
        }
        Err(e) => s.problem(format!("metadata: {e}")),
    }
    let next_doc = s
        .meta
        .as_ref()
        .map_or(u32::MAX as u64, |m| m.next_doc as u64);
    walk(txn, path, SEGMENTS, &mut s, |s, k, v| {
        match parse_segment(k, v.value()) {
            Ok(info) => s.salvage.segments.push(info),
            Err(e) => s.problem(format!("segment record {k}: {e}")),
        }
    });
    let segs: FxHashMap<u32, SegmentInfo> = s
        .salvage
        .segments
        .iter()
        .map(|i| (i.id, i.clone()))
        .collect();
    // Per segment: blocks, bytes, groups, postings, dropped groups.
    let mut counted: FxHashMap<u32, [u64; 5]> = FxHashMap::default();
    walk(txn, path, BLOCKS, &mut s, |s, k, v| {
        let (seg, bucket) = ((k >> 32) as u32, k & 0xffff_ffff);
        let Some(info) = segs.get(&seg) else {
            s.problem(format!("block {k:#x}: of no known segment"));
            return;
        };
        let checked = (|| {
            if info.bucket_bits < 32 && bucket >> info.bucket_bits != 0 {
                return Err(IndexError::Corrupt("bucket out of range".into()));
            }
            let payload = unseal(&k.to_le_bytes(), v.value())?;
            let base = bucket << (KEY_BITS - info.bucket_bits);
            let mut r = BlockReader::new(payload, base)?;
            let mut c = [1, payload.len() as u64, 0, 0, 0];
            let mut postings = Vec::new();
            while let Some(g) = r.next_group()? {
                c[2] += 1;
                if g.dropped {
                    c[4] += 1;
                    continue;
                }
                postings.clear();
                r.postings(&g, &mut postings)?;
                c[3] += postings.len() as u64;
                if postings.iter().any(|p| p.doc as u64 >= next_doc) {
                    return Err(IndexError::Corrupt("posting of an unknown document".into()));
                }
            }
            Ok(c)
        })();
        match checked {
            Ok(c) => {
                let e = counted.entry(seg).or_default();
                for i in 0..5 {
                    e[i] += c[i];
                }
                s.salvage.blocks.push((k, v.value().to_vec()));
            }
            Err(e) => s.problem(format!("posting block {k:#x}: {e}")),
        }
    });
    for info in s.salvage.segments.clone() {
        let c = counted.get(&info.id).copied().unwrap_or_default();
        let recorded = [
            info.blocks,
            info.bytes,
            info.groups,
            info.postings,
            info.dropped_groups,
        ];
        if c != recorded {
            s.problem(format!(
                "segment {}: {} blocks, {} groups, {} postings readable; its record says {}, {}, {}",
                info.id, c[0], c[2], c[3], info.blocks, info.groups, info.postings
            ));
        }
    }
    walk(txn, path, DOCS, &mut s, |s, k, v| {
        match unseal(&k.to_le_bytes(), v.value()).and_then(DocRecord::decode) {
            Ok(_) if k as u64 >= next_doc => s.problem(format!(
                "document record {k}: past the next document number"
            )),
            Ok(_) => s.salvage.docs.push((k, v.value().to_vec())),
            Err(e) => s.problem(format!("document record {k}: {e}")),
        }
    });
    walk(txn, path, FILES, &mut s, |s, k, v| {
        match unseal_str(&k.to_le_bytes(), v.value()) {
            Ok(p) => s.salvage.files.push((k, p.to_string())),
            Err(e) => s.problem(format!("file record {k}: {e}")),
        }
    });
    walk(txn, path, IDS, &mut s, |s, k, v| {
        let doc = v.value();
        if doc as u64 >= next_doc {
            s.problem(format!(
                "id {k:#x}: names document {doc}, past the last one"
            ));
        } else {
            s.salvage.ids.push((k, doc));
        }
    });
    walk(txn, path, DELETED, &mut s, |s, k, _| {
        if k as u64 >= next_doc {
            s.problem(format!("deleted document {k}: past the last one"));
        } else {
            s.salvage.deleted.push(k);
        }
    });
    // file_ids (path -> number) must mirror files.
    let files: FxHashMap<u32, String> = s.salvage.files.iter().cloned().collect();
    let mut file_ids = 0u64;
    let mut mismatched = Vec::new();
    let r = contain(path, "scanning", || {
        let t = txn
            .open_table(FILE_IDS)
            .map_err(|e| IndexError::Db(e.to_string()))?;
        for row in t.iter().map_err(|e| IndexError::Db(e.to_string()))? {
            let (k, v) = row.map_err(|e| IndexError::Db(e.to_string()))?;
            file_ids += 1;
            if files.get(&v.value()).map(String::as_str) != Some(k.value()) {
                mismatched.push(v.value());
            }
        }
        Ok(())
    });
    s.records += file_ids;
    if let Err(e) = r {
        s.problem(format!("table file_ids: unreadable ({e})"));
    }
    for f in mismatched {
        s.problem(format!("file_ids: file {f} does not match the file list"));
    }
    if let Some(m) = s.meta.clone() {
        let live = s.salvage.docs.len() as u64;
        if live != m.docs {
            s.problem(format!(
                "metadata counts {} documents, {live} records readable",
                m.docs
            ));
        }
        if s.salvage.deleted.len() as u64 != m.deleted {
            s.problem(format!(
                "metadata counts {} replaced documents, the deleted list {}",
                m.deleted,
                s.salvage.deleted.len()
            ));
        }
    }
    s
}

/// The committed state to scan: redb's verified one, else the file as a
/// plain reader sees it. Returns the scan and redb's verdict.
fn scan_path(path: &Path) -> Result<(Scan, String), IndexError> {
    if !path.exists() {
        return Err(IndexError::Io(format!("{}: no such index", path.display())));
    }
    let (db, storage) = verified_db(path);
    if let Some(db) = db {
        let txn = contain(path, "reading the index", || {
            db.begin_read()
                .map_err(|e| corrupt(path, format_args!("reading the index: {e}")))
        })?;
        let s = scan(&txn, path);
        crate::drop_contained(path, txn);
        crate::drop_contained(path, db);
        return Ok((s, storage));
    }
    let reader = crate::Index::open_for_salvage(path);
    let mut s = match reader {
        Ok((r, lost)) => {
            let txn = contain(path, "reading the index", || {
                r.db.begin_read()
                    .map_err(|e| corrupt(path, format_args!("reading the index: {e}")))
            });
            match txn {
                Ok(txn) => {
                    let mut s = scan(&txn, path);
                    crate::drop_contained(path, txn);
                    // First, so that the cap on listed problems keeps them.
                    for table in lost.iter().rev() {
                        s.corrupt += 1;
                        s.problems.insert(0, format!("{table}: its rows are lost"));
                    }
                    s.problems.truncate(MAX_PROBLEMS);
                    s
                }
                Err(e) => {
                    let mut s = Scan::default();
                    s.problem(e.to_string());
                    s
                }
            }
        }
        Err(e) => {
            let mut s = Scan::default();
            s.problem(e.to_string());
            s
        }
    };
    // The storage check failed: that is one problem whatever the rows say.
    s.corrupt += 1;
    Ok((s, storage))
}

fn report(path: &Path, s: &Scan, storage: String) -> CheckReport {
    CheckReport {
        path: path.display().to_string(),
        ok: s.corrupt == 0 && storage == "ok",
        storage,
        records: s.records,
        corrupt: s.corrupt,
        problems: s.problems.clone(),
    }
}

/// Verifies everything in the index at `path` without writing to it.
pub fn check(path: &Path) -> Result<CheckReport, IndexError> {
    let (s, storage) = scan_path(path)?;
    Ok(report(path, &s, storage))
}

/// Rewrites the index at `path` from what can be read (see the module
/// documentation); the damaged file is kept as `PATH.corrupt`. Refuses an
/// index that checks clean, and one whose metadata cannot be read.
pub fn repair(path: &Path) -> Result<RepairReport, IndexError> {
    let (s, storage) = scan_path(path)?;
    let before = report(path, &s, storage);
    if before.ok {
        return Err(IndexError::Db(format!(
            "{}: the index checks clean; nothing to repair",
            path.display()
        )));
    }
    let Some(old_meta) = s.meta.clone() else {
        return Err(IndexError::Corrupt(format!(
            "index {} is corrupt beyond repair: its metadata cannot be read (rebuild it with 'unspin index add')",
            path.display()
        )));
    };
    let tmp = sibling(path, "repair-tmp");
    let _ = std::fs::remove_file(&tmp);
    let written = write_salvage(&tmp, &old_meta, &s.salvage);
    let (meta, blocks_kept) = match written {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let kept = sibling(path, "corrupt");
    let io = |e: std::io::Error| IndexError::Io(format!("{}: {e}", path.display()));
    std::fs::rename(path, &kept).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(RepairReport {
        path: path.display().to_string(),
        kept_as: kept.display().to_string(),
        documents_before: old_meta.docs,
        documents_after: meta.docs,
        blocks_kept,
        // Blocks the segment records count that did not make it.
        blocks_lost: s
            .salvage
            .segments
            .iter()
            .map(|i| i.blocks)
            .sum::<u64>()
            .saturating_sub(blocks_kept),
        before,
    })
}

fn sibling(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(ext);
    path.with_file_name(name)
}

/// Writes the salvaged rows as a new index; returns its metadata and the
/// number of blocks kept.
fn write_salvage(tmp: &Path, old: &Meta, sv: &Salvage) -> Result<(Meta, u64), IndexError> {
    let err = |e: redb::Error| {
        IndexError::Db(format!(
            "{}: writing the repaired index: {e}",
            tmp.display()
        ))
    };
    macro_rules! w {
        ($e:expr) => {
            $e.map_err(|e| err(e.into()))
        };
    }
    let db = w!(crate::builder().create(tmp))?;
    let docs: FxHashSet<u32> = sv.docs.iter().map(|d| d.0).collect();
    let mut deleted: FxHashSet<u32> = sv.deleted.iter().copied().collect();
    // Recount each segment from its readable blocks; postings of documents
    // whose record was lost are filtered as deleted ones are.
    let segs: FxHashMap<u32, SegmentInfo> = sv.segments.iter().map(|i| (i.id, i.clone())).collect();
    let mut infos: FxHashMap<u32, SegmentInfo> = FxHashMap::default();
    let mut blocks_kept = 0u64;
    let txn = w!(db.begin_write())?;
    let meta = {
        let mut blocks = w!(txn.open_table(BLOCKS))?;
        for (k, v) in &sv.blocks {
            let seg = (*k >> 32) as u32;
            let info = &segs[&seg];
            let bucket = k & 0xffff_ffff;
            let payload = unseal(&k.to_le_bytes(), v)?;
            let mut r = BlockReader::new(payload, bucket << (KEY_BITS - info.bucket_bits))?;
            let out = infos.entry(seg).or_insert_with(|| SegmentInfo {
                id: seg,
                bucket_bits: info.bucket_bits,
                groups: 0,
                postings: 0,
                dropped_groups: 0,
                bytes: 0,
                blocks: 0,
            });
            let mut postings = Vec::new();
            while let Some(g) = r.next_group()? {
                out.groups += 1;
                if g.dropped {
                    out.dropped_groups += 1;
                    continue;
                }
                postings.clear();
                r.postings(&g, &mut postings)?;
                out.postings += postings.len() as u64;
                for p in &postings {
                    if !docs.contains(&p.doc) {
                        deleted.insert(p.doc);
                    }
                }
            }
            out.blocks += 1;
            out.bytes += payload.len() as u64;
            w!(blocks.insert(*k, v.as_slice()))?;
            blocks_kept += 1;
        }
        let mut t = w!(txn.open_table(DOCS))?;
        for (k, v) in &sv.docs {
            if !deleted.contains(k) {
                w!(t.insert(*k, v.as_slice()))?;
            }
        }
        let mut t = w!(txn.open_table(FILES))?;
        let mut f = w!(txn.open_table(FILE_IDS))?;
        for (k, p) in &sv.files {
            w!(t.insert(*k, seal_str(&k.to_le_bytes(), p).as_str()))?;
            w!(f.insert(p.as_str(), *k))?;
        }
        let mut t = w!(txn.open_table(IDS))?;
        for (k, d) in &sv.ids {
            if docs.contains(d) && !deleted.contains(d) {
                w!(t.insert(*k, *d))?;
            }
        }
        let mut t = w!(txn.open_table(DELETED))?;
        for d in &deleted {
            w!(t.insert(*d, ()))?;
        }
        let mut t = w!(txn.open_table(SEGMENTS))?;
        for info in infos.values() {
            w!(t.insert(info.id, segment_value(info).as_str()))?;
        }
        let meta = Meta {
            docs: docs.iter().filter(|d| !deleted.contains(d)).count() as u64,
            deleted: deleted.len() as u64,
            ..old.clone()
        };
        let mut t = w!(txn.open_table(META))?;
        w!(t.insert(META_KEY, meta_value(&meta).as_str()))?;
        meta
    };
    w!(txn.commit())?;
    Ok((meta, blocks_kept))
}
