//! Writing `--out-dir` outputs safely: each output goes to a temporary file
//! in the folder and is renamed over its target, so a symlink at the target
//! is replaced, never followed (a planted `out/a.txt -> ../precious.txt`
//! cannot redirect the write), a reader never sees half a file, and an
//! output never replaces one of the inputs.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context};

/// The inputs of one run, to tell whether an output would replace one.
pub struct InputGuard {
    /// Identity of every input that exists (symlinks followed).
    inputs: Vec<FileId>,
}

impl InputGuard {
    /// Notes the identity of `inputs` ('-' and unreadable ones are skipped:
    /// nothing can overwrite them, and reading them reports the error).
    pub fn new(inputs: &[PathBuf]) -> Self {
        let inputs = inputs
            .iter()
            .filter(|p| p.as_os_str() != "-")
            .filter_map(|p| FileId::of(p))
            .collect();
        Self { inputs }
    }

    /// Fails when writing `target` would replace an input. A symlink at
    /// `target` is fine: the rename replaces the link, not what it names.
    pub fn check(&self, input: &Path, target: &Path) -> anyhow::Result<()> {
        let Ok(meta) = std::fs::symlink_metadata(target) else {
            return Ok(());
        };
        if meta.file_type().is_symlink() {
            return Ok(());
        }
        if FileId::of(target).is_some_and(|t| self.inputs.contains(&t)) {
            bail!(
                "{}: the output {} is an input file; it is left as it is (choose another --out-dir)",
                input.display(),
                target.display()
            );
        }
        Ok(())
    }
}

/// What makes two paths the same file.
#[derive(PartialEq, Eq)]
struct FileId {
    #[cfg(unix)]
    dev_ino: (u64, u64),
    #[cfg(not(unix))]
    path: PathBuf,
}

impl FileId {
    fn of(path: &Path) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(path).ok()?;
            Some(Self {
                dev_ino: (m.dev(), m.ino()),
            })
        }
        #[cfg(not(unix))]
        {
            Some(Self {
                path: std::fs::canonicalize(path).ok()?,
            })
        }
    }
}

/// Writes what `write` writes to `target`, through a new temporary file
/// beside it and a rename; on an error the temporary file is removed and
/// `target` is left as it was.
pub fn write_atomic(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .with_context(|| format!("{}: not a file name", target.display()))?;
    let (tmp, mut file) = loop {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(
            ".unspin-{}-{}.tmp",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let tmp = dir.join(tmp_name);
        // create_new never follows a symlink, and never reuses a file.
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("{}", target.display())),
        }
    };
    let written = write_and_rename(&mut file, write, &tmp, target);
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn write_and_rename(
    file: &mut File,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    tmp: &Path,
    target: &Path,
) -> anyhow::Result<()> {
    let mut w = std::io::BufWriter::new(file);
    write(&mut w)?;
    w.flush()
        .and_then(|()| std::fs::rename(tmp, target))
        .with_context(|| format!("{}", target.display()))
}
