//! A bound on what a corrupt page can make the store allocate.
//!
//! redb trusts the page numbers it reads: a branch page's child pointer
//! carries the child's size (its page order), and redb allocates and
//! zero-fills a buffer of that size before it asks the storage backend for
//! the bytes. One damaged pointer in a 70 KB index made `unspin index check`
//! allocate 2 GiB (fuzz finding `fuzz/seeds/index/regress-check-2gib`). No page of a
//! sound file is larger than the file, so the backends of this crate refuse
//! to hand redb a branch page that names such a child: redb gets an I/O
//! error instead, before it descends.
//!
//! What is read here is redb's page layout (redb 4.x, `btree_base.rs`):
//! byte 0 is the page type (2: branch), bytes 2..4 the key count, then one
//! 16-byte checksum per child, then one 8-byte little-endian page number per
//! child, whose top 5 bits are the page order (size = page size << order).
//! Roots named by table definitions are checked before redb opens a file,
//! by `crate::roots`; those of the file header are sealed by its checksum.

use std::fs::File;
use std::io;
use std::ops::Bound;
use std::path::Path;

use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

/// redb's page size: the default, which the index never changes.
pub(crate) const PAGE_SIZE: u64 = 4096;

/// redb's page type byte of a branch page.
const BRANCH: u8 = 2;

/// The size in bytes of the largest child a redb branch page names, or None
/// when `page` is not a branch page (or names no child inside it).
///
/// A damaged key count may put the end of the child pointers past the
/// page; redb still reads the pointers that lie inside it (fuzz finding
/// `regress-branch-count`), so those are checked.
pub(crate) fn largest_child(page: &[u8]) -> Option<u64> {
    if page.len() < PAGE_SIZE as usize || page[0] != BRANCH {
        return None;
    }
    let children = u16::from_le_bytes([page[2], page[3]]) as usize + 1;
    let start = 8 + 16 * children;
    let numbers = page.get(start..(start + 8 * children).min(page.len()))?;
    numbers
        .chunks_exact(8)
        .map(|b| {
            let n = u64::from_le_bytes(b.try_into().expect("8 bytes"));
            PAGE_SIZE << (n >> 59)
        })
        .max()
}

/// Refuses a page read that is a branch page naming a child larger than
/// the file (`file_len` bytes).
pub(crate) fn check_page(page: &[u8], file_len: u64) -> io::Result<()> {
    match largest_child(page) {
        Some(size) if size > file_len => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a branch page names a child page of {size} bytes in a file of {file_len}"),
        )),
        _ => Ok(()),
    }
}

/// Reads `out.len()` bytes of `f` at offset `at`, without moving a shared
/// file position (the overlay of `check` and the root walk read this way).
#[cfg(unix)]
pub(crate) fn read_exact_at(f: &File, out: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, out, at)
}

/// Reads `out.len()` bytes of `f` at offset `at` (through a clone of the
/// handle, whose position moves).
#[cfg(not(unix))]
pub(crate) fn read_exact_at(f: &File, out: &mut [u8], at: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = f.try_clone()?;
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(out)
}

/// redb's file backend with [`check_page`] on every read: what the index
/// opens, for reading and for writing. Bytes at the `masked` offsets read
/// as zero: a salvage masks the "root non-null" flag of a table whose root
/// is past the end of the file (`crate::roots`).
#[derive(Debug)]
pub(crate) struct GuardedFile {
    file: FileBackend,
    masked: Vec<u64>,
}

impl GuardedFile {
    /// Opens `path` for reading.
    pub(crate) fn open_read_only(path: &Path, masked: Vec<u64>) -> io::Result<Self> {
        Self::over(File::open(path)?, masked)
    }

    /// Opens `path` for reading and writing (a writer, or the recovery
    /// after an interrupted one), creating it when `create` is set.
    pub(crate) fn open_read_write(path: &Path, create: bool) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(path)?;
        Self::over(file, Vec::new())
    }

    fn over(file: File, masked: Vec<u64>) -> io::Result<Self> {
        FileBackend::new(file)
            .map(|file| Self { file, masked })
            .map_err(|e| io::Error::other(e.to_string()))
    }
}

impl StorageBackend for GuardedFile {
    fn len(&self) -> io::Result<u64> {
        self.file.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.file.read(offset, out)?;
        for &m in &self.masked {
            if let Some(b) = m.checked_sub(offset).and_then(|i| out.get_mut(i as usize)) {
                *b = 0;
            }
        }
        if out.first() == Some(&BRANCH) {
            check_page(out, self.file.len()?)?;
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.file.write(offset, data)
    }

    fn close(&self) -> io::Result<()> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(orders: &[u64]) -> Vec<u8> {
        let mut p = vec![0u8; PAGE_SIZE as usize];
        p[0] = BRANCH;
        let keys = (orders.len() - 1) as u16;
        p[2..4].copy_from_slice(&keys.to_le_bytes());
        let start = 8 + 16 * orders.len();
        for (i, &o) in orders.iter().enumerate() {
            let n = (o << 59) | 7;
            p[start + 8 * i..start + 8 * i + 8].copy_from_slice(&n.to_le_bytes());
        }
        p
    }

    #[test]
    fn a_child_larger_than_the_file_is_refused() {
        assert_eq!(largest_child(&branch(&[0, 2, 1])), Some(4 * PAGE_SIZE));
        assert!(check_page(&branch(&[0, 2, 1]), 1 << 20).is_ok());
        // Order 19: 2 GiB, in a file of 70 KB.
        let err = check_page(&branch(&[0, 19]), 73_728).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("2147483648 bytes"), "{err}");
    }

    #[test]
    fn pointers_inside_the_page_are_checked_when_the_count_overruns_it() {
        // 200 children: their pointers start at 8 + 16 * 200 = 3,208 and
        // would end at 4,808, past the page; the first 111 lie inside it.
        let mut p = branch(&[0]);
        p[2..4].copy_from_slice(&199u16.to_le_bytes());
        assert_eq!(largest_child(&p), Some(PAGE_SIZE));
        let first = 8 + 16 * 200;
        p[first..first + 8].copy_from_slice(&((19u64 << 59) | 7).to_le_bytes());
        assert!(check_page(&p, 73_728).is_err());
    }

    #[test]
    fn other_pages_pass() {
        let mut leaf = branch(&[19]);
        leaf[0] = 1;
        assert_eq!(largest_child(&leaf), None);
        assert!(check_page(&leaf, 4096).is_ok());
        // A key count whose checksums alone fill the page names no child.
        let mut odd = branch(&[0]);
        odd[2..4].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(largest_child(&odd), None);
        assert_eq!(largest_child(&[BRANCH; 100]), None);
    }
}
