//! A check of the pages redb trusts before it can check them: the roots.
//!
//! redb reads a table's root page at the size that the table's definition
//! names, and allocates and zero-fills that buffer before it asks the
//! storage backend for the bytes. One damaged byte in a definition made
//! `unspin trace` allocate 2.1 GB on a 70 KB index (fuzz finding
//! `fuzz/seeds/index/regress-table-root-2gib`). The branch-page guard of
//! [`crate::pages`] cannot see this pointer: it sits inside a value of the
//! table tree.
//!
//! So before redb opens a file, this module walks the table trees itself:
//! the commit slot redb will read (its checksum verified), every page of
//! the user and system table trees, and every table root their definitions
//! name, which must lie inside the file. A table whose root does not is
//! reported by name ([`BadRoot`]): a reader refuses the file with one line
//! naming it, and a salvage masks that definition (the table reads as
//! lost) and reads the rest. A sound file costs a few page reads.
//!
//! Page checksums of the table trees are not required to match: redb does
//! not check them on a read either, and every other read it makes is
//! bounded (by the branch-page guard, or by the file's own geometry), so a
//! damaged definition whose root lies inside the file costs nothing worse
//! than a read error later, which `check` and `repair` count.
//!
//! The layout read here is redb 4.x's file format version 3 (`header.rs`,
//! `btree_base.rs`, `table_tree_base.rs` of redb), pinned by the tests below
//! against files that redb itself writes.

use std::fs::File;
use std::io;

use xxhash_rust::xxh3::xxh3_128;

use crate::pages::{read_exact_at, PAGE_SIZE};

const MAGIC: [u8; 9] = [b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];
const GOD_BYTE: usize = 9;
const PAGE_SIZE_AT: usize = 12;
const REGION_HEADER_PAGES_AT: usize = 16;
const REGION_MAX_DATA_PAGES_AT: usize = 20;
const SLOT_0: usize = 64;
const SLOT_LEN: usize = 128;
const SLOT_CHECKSUM_AT: usize = SLOT_LEN - 16;
const FORMAT_VERSION_3: u8 = 3;
/// In a commit slot: the non-null flags and the two roots (a page number,
/// a 16-byte checksum, an 8-byte length each).
const USER_ROOT_FLAG: usize = 1;
const SYSTEM_ROOT_FLAG: usize = 2;
const USER_ROOT_AT: usize = 8;
const SYSTEM_ROOT_AT: usize = USER_ROOT_AT + 32;

const LEAF: u8 = 1;
const BRANCH: u8 = 2;
/// The table trees of a sound index are a page or two; this bounds the
/// walk of a damaged one.
const MAX_TREE_PAGES: usize = 4096;
const MAX_DEPTH: usize = 16;

/// A page number as redb stores it: region, index within it, and order
/// (the page spans `PAGE_SIZE << order` bytes).
#[derive(Debug, Clone, Copy)]
struct PageNumber {
    region: u64,
    index: u64,
    order: u32,
}

impl PageNumber {
    fn from_le(bytes: &[u8]) -> Self {
        let raw = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
        let order = (raw >> 59) as u32;
        PageNumber {
            region: (raw >> 20) & 0xF_FFFF,
            index: raw & (0xF_FFFF >> order),
            order,
        }
    }

    fn len(self) -> u64 {
        PAGE_SIZE << self.order
    }
}

/// Where the pages of a file lie: the header's region geometry.
struct Layout {
    region_bytes: u64,
    region_header_bytes: u64,
    file_len: u64,
}

impl Layout {
    /// The geometry the file header `header` names, for a file of `file_len`.
    fn of(header: &[u8], file_len: u64) -> Self {
        let region_header_pages = u32_at(header, REGION_HEADER_PAGES_AT).unwrap_or(0) as u64;
        let region_data_pages = u32_at(header, REGION_MAX_DATA_PAGES_AT).unwrap_or(0) as u64;
        Layout {
            region_bytes: (region_header_pages + region_data_pages) * PAGE_SIZE,
            region_header_bytes: region_header_pages * PAGE_SIZE,
            file_len,
        }
    }

    /// The byte range of page `p`, or None when it is not inside the file.
    fn range(&self, p: PageNumber) -> Option<(u64, u64)> {
        let start = PAGE_SIZE
            .checked_add(p.region.checked_mul(self.region_bytes)?)?
            .checked_add(self.region_header_bytes)?
            .checked_add(p.index.checked_mul(p.len())?)?;
        let end = start.checked_add(p.len())?;
        (end <= self.file_len).then_some((start, end))
    }
}

fn damaged(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

/// A table definition whose root page lies past the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadRoot {
    /// The table's name, as stored (escaped when not UTF-8).
    pub table: String,
    /// The byte of the file that holds the definition's "root non-null"
    /// flag: zero it, and redb reads the table as empty.
    pub flag_at: u64,
    /// The size the damaged root names.
    pub bytes: u64,
}

impl std::fmt::Display for BadRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "table '{}' names a root page of {} bytes past the end of the file",
            self.table.escape_default(),
            self.bytes
        )
    }
}

/// Checks the roots of the redb file `file` (see the module doc) and lists
/// the tables whose roots lie past its end. A table tree that cannot be
/// walked is an error. A file that is not redb's, or whose commit slots
/// both fail their checksums, is left to redb, which refuses it itself.
pub(crate) fn check_roots(file: &File) -> io::Result<Vec<BadRoot>> {
    // A writer in another process may commit, and reuse the pages of the
    // commit before, while this reads: a walk counts only when the header
    // is the same after it as before.
    let mut attempts = 0;
    loop {
        let before = read_header(file)?;
        let found = walk_commit(file, &before);
        if read_header(file)? == before {
            return found;
        }
        attempts += 1;
        if attempts == 3 {
            // Still changing: what redb opens next is a newer commit, which
            // this cannot pin; leave the check of this open to redb.
            return Ok(Vec::new());
        }
    }
}

fn read_header(file: &File) -> io::Result<Vec<u8>> {
    let mut header = vec![0u8; SLOT_0 + 2 * SLOT_LEN];
    if file.metadata()?.len() >= PAGE_SIZE {
        read_exact_at(file, &mut header, 0)?;
    }
    Ok(header)
}

/// The walk of the table trees of the commit that `header` names.
fn walk_commit(file: &File, header: &[u8]) -> io::Result<Vec<BadRoot>> {
    let file_len = file.metadata()?.len();
    if file_len < PAGE_SIZE
        || header[..MAGIC.len()] != MAGIC
        || u32_at(header, PAGE_SIZE_AT) != Some(PAGE_SIZE as usize)
    {
        return Ok(Vec::new());
    }
    let layout = Layout::of(header, file_len);
    // redb reads the primary slot, and falls back to the other one (in a
    // repair) when the primary fails its checksum.
    let primary = usize::from(header[GOD_BYTE] & 1);
    let slot = [primary, 1 - primary].into_iter().find_map(|i| {
        let s = &header[SLOT_0 + i * SLOT_LEN..SLOT_0 + (i + 1) * SLOT_LEN];
        let stored = u128::from_le_bytes(s[SLOT_CHECKSUM_AT..].try_into().expect("16 bytes"));
        (s[0] == FORMAT_VERSION_3 && xxh3_128(&s[..SLOT_CHECKSUM_AT]) == stored).then_some(s)
    });
    let Some(slot) = slot else {
        return Ok(Vec::new());
    };
    let mut walk = Walk {
        file,
        layout: &layout,
        pages: 0,
        bad: Vec::new(),
    };
    for (flag, at, tree) in [
        (USER_ROOT_FLAG, USER_ROOT_AT, "table tree"),
        (SYSTEM_ROOT_FLAG, SYSTEM_ROOT_AT, "system table tree"),
    ] {
        if slot[flag] != 0 {
            let root = PageNumber::from_le(&slot[at..]);
            walk.page(root, tree, 0)?;
        }
    }
    Ok(walk.bad)
}

struct Walk<'a> {
    file: &'a File,
    layout: &'a Layout,
    pages: usize,
    bad: Vec<BadRoot>,
}

impl Walk<'_> {
    /// Walks page `p` of a table tree: its children (a branch) or the
    /// roots its definitions name (a leaf).
    fn page(&mut self, p: PageNumber, tree: &str, depth: usize) -> io::Result<()> {
        self.pages += 1;
        if depth > MAX_DEPTH || self.pages > MAX_TREE_PAGES {
            return Err(damaged(format!("the {tree} has a cycle or is too deep")));
        }
        let Some((start, end)) = self.layout.range(p) else {
            return Err(damaged(format!(
                "the {tree} names a page of {} bytes past the end of the file ({} bytes)",
                p.len(),
                self.layout.file_len
            )));
        };
        let mut page = vec![0u8; (end - start) as usize];
        read_exact_at(self.file, &mut page, start)?;
        let bad_page = || damaged(format!("a page of the {tree} at byte {start} is damaged"));
        let count = u16::from_le_bytes([page[2], page[3]]) as usize;
        match page[0] {
            BRANCH => {
                let children = count + 1;
                let numbers_at = 8 + 16 * children;
                let numbers = page
                    .get(numbers_at..numbers_at + 8 * children)
                    .ok_or_else(bad_page)?
                    .to_vec();
                for n in numbers.chunks_exact(8) {
                    self.page(PageNumber::from_le(n), tree, depth + 1)?;
                }
                Ok(())
            }
            // redb never writes an empty leaf; nothing to check in one.
            LEAF if count == 0 => Ok(()),
            LEAF => {
                // Key ends, then value ends (both variable: names and
                // definitions), then the keys, then the values.
                let key_end = |i: usize| u32_at(&page, 4 + 4 * i);
                let value_end = |i: usize| u32_at(&page, 4 + 4 * count + 4 * i);
                let mut key_start = 4 + 8 * count;
                let mut value_start = key_end(count - 1).ok_or_else(bad_page)?;
                for i in 0..count {
                    let (k, v) = (
                        key_end(i).ok_or_else(bad_page)?,
                        value_end(i).ok_or_else(bad_page)?,
                    );
                    let name = page.get(key_start..k).ok_or_else(bad_page)?;
                    let definition = page.get(value_start..v).ok_or_else(bad_page)?;
                    let flag_at = start + value_start as u64 + 9;
                    self.table_root(name, definition, flag_at, tree)?;
                    (key_start, value_start) = (k, v);
                }
                Ok(())
            }
            _ => Err(bad_page()),
        }
    }

    /// A table definition: type (1 byte), length (8), root non-null (1),
    /// root page number (8), ...; the root must lie inside the file.
    fn table_root(
        &mut self,
        name: &[u8],
        definition: &[u8],
        flag_at: u64,
        tree: &str,
    ) -> io::Result<()> {
        let Some(root) = definition.get(10..18) else {
            return Err(damaged(format!(
                "a table definition of the {tree} is cut short"
            )));
        };
        if definition[9] == 0 {
            return Ok(());
        }
        let root = PageNumber::from_le(root);
        if self.layout.range(root).is_none() {
            self.bad.push(BadRoot {
                table: String::from_utf8_lossy(name).into_owned(),
                flag_at,
                bytes: root.len(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, TableDefinition};

    const T: TableDefinition<&str, &str> = TableDefinition::new("t");
    const U: TableDefinition<u64, &[u8]> = TableDefinition::new("u");

    /// A redb file with two tables, some rows in each, written by redb.
    fn sample(dir: &std::path::Path, rows: u64) -> std::path::PathBuf {
        let path = dir.join("sample.redb");
        let db = Database::create(&path).unwrap();
        for batch in 0..3 {
            let txn = db.begin_write().unwrap();
            {
                let mut t = txn.open_table(T).unwrap();
                let mut u = txn.open_table(U).unwrap();
                for i in 0..rows {
                    let k = format!("key {batch} {i}");
                    t.insert(k.as_str(), "value").unwrap();
                    u.insert(batch * rows + i, [7u8; 100].as_slice()).unwrap();
                }
            }
            txn.commit().unwrap();
        }
        drop(db);
        path
    }

    /// The byte offset of the first table root of the user table tree.
    /// The byte offset of the root page of the user table tree.
    fn user_root_start(bytes: &[u8]) -> usize {
        let primary = usize::from(bytes[GOD_BYTE] & 1);
        let root = PageNumber::from_le(&bytes[SLOT_0 + primary * SLOT_LEN + USER_ROOT_AT..]);
        let layout = Layout::of(bytes, bytes.len() as u64);
        layout.range(root).unwrap().0 as usize
    }

    fn first_definition_root(bytes: &[u8]) -> usize {
        let start = user_root_start(bytes);
        let page = &bytes[start..];
        assert_eq!(page[0], LEAF, "a small table tree is one leaf");
        let count = u16::from_le_bytes([page[2], page[3]]) as usize;
        let value_start = u32_at(page, 4 + 4 * (count - 1)).unwrap();
        start + value_start + 10
    }

    #[test]
    fn files_redb_writes_pass() {
        let dir = tempfile::tempdir().unwrap();
        for rows in [0, 10, 5_000] {
            let path = sample(dir.path(), rows);
            assert_eq!(check_roots(&File::open(&path).unwrap()).unwrap(), []);
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn a_table_tree_of_branch_pages_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.redb");
        let db = Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        for i in 0..400 {
            let name = format!("a table with a long name to fill the pages faster {i:04}");
            let mut t = txn
                .open_table(TableDefinition::<u64, u64>::new(&name))
                .unwrap();
            t.insert(i, i).unwrap();
        }
        txn.commit().unwrap();
        drop(db);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            bytes[user_root_start(&bytes)],
            BRANCH,
            "400 definitions need more than a leaf"
        );
        assert_eq!(check_roots(&File::open(&path).unwrap()).unwrap(), []);
    }

    /// A sample whose first table's root is given page order 19 (2 GiB).
    /// The leaf's checksum no longer holds, which redb does not check on a
    /// read. Returns the file and the offset of the damaged page number.
    fn damaged_sample(dir: &std::path::Path) -> (std::path::PathBuf, usize) {
        let path = sample(dir, 10);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = first_definition_root(&bytes);
        bytes[at + 7] |= 19 << 3;
        std::fs::write(&path, &bytes).unwrap();
        (path, at)
    }

    #[test]
    fn a_root_past_the_end_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (path, at) = damaged_sample(dir.path());
        let bad = check_roots(&File::open(&path).unwrap()).unwrap();
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!(bad[0].table, "t");
        assert_eq!(bad[0].bytes, 2 << 30);
        assert_eq!(bad[0].flag_at as usize, at - 1);
        assert_eq!(
            bad[0].to_string(),
            "table 't' names a root page of 2147483648 bytes past the end of the file"
        );
    }

    #[test]
    fn a_salvage_reads_the_other_tables() {
        use redb::{ReadableDatabase, ReadableTableMetadata};
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = damaged_sample(dir.path());
        let err = crate::Index::open_read_only(&path).err().expect("refused");
        assert!(err.is_corrupt(), "{err}");
        assert!(
            err.to_string().contains("table 't' names a root page"),
            "{err}"
        );
        let (reader, lost) = crate::Index::open_for_salvage(&path).unwrap();
        assert_eq!(lost.len(), 1);
        let txn = reader.db.begin_read().unwrap();
        assert_eq!(txn.open_table(U).unwrap().len().unwrap(), 30);
        assert_eq!(txn.open_table(T).unwrap().len().unwrap(), 0);
    }

    #[test]
    fn a_table_tree_that_cannot_be_walked_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample(dir.path(), 10);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = first_definition_root(&bytes);
        let leaf = at / PAGE_SIZE as usize * PAGE_SIZE as usize;
        // A key count far past what the page holds.
        bytes[leaf + 2..leaf + 4].copy_from_slice(&u16::MAX.to_le_bytes());
        std::fs::write(&path, &bytes).unwrap();
        let err = check_roots(&File::open(&path).unwrap()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("is damaged"), "{err}");
    }

    #[test]
    fn foreign_and_short_files_are_left_to_redb() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, b"not redb").unwrap();
        check_roots(&File::open(&path).unwrap()).unwrap();
        std::fs::write(&path, vec![0u8; 3 * PAGE_SIZE as usize]).unwrap();
        check_roots(&File::open(&path).unwrap()).unwrap();
    }
}
