//! Containment of the storage engine: redb trusts the pages it reads (its
//! checksums are verified only by an integrity check), so a file corrupted
//! outside redb can make it panic. Every call into the store runs inside
//! [`contain`], which turns such a panic into [`IndexError::Corrupt`] naming
//! the file, and keeps the default panic message (and backtrace) off stderr
//! while it does.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;

use crate::IndexError;

thread_local! {
    /// How many [`contain`] calls this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Where the last contained panic happened, for the error message.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs (once) a panic hook that stays quiet for panics inside
/// [`contain`] and hands every other panic to the hook it replaced.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if DEPTH.with(Cell::get) > 0 {
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let line = format!("{msg}{at}").replace('\n', " ");
                LAST.with(|l| *l.borrow_mut() = Some(line));
            } else {
                previous(info);
            }
        }));
    });
}

/// The one-line error of a corrupt index.
pub(crate) fn corrupt(path: &Path, detail: impl std::fmt::Display) -> IndexError {
    IndexError::Corrupt(format!("index {} is corrupt: {detail}", path.display()))
}

/// Runs `f`, a call into the store, turning a panic into a corrupt-index
/// error about `path` while doing `what`.
pub(crate) fn contain<T>(
    path: &Path,
    what: &str,
    f: impl FnOnce() -> Result<T, IndexError>,
) -> Result<T, IndexError> {
    install_hook();
    DEPTH.with(|d| d.set(d.get() + 1));
    let r = catch_unwind(AssertUnwindSafe(f));
    DEPTH.with(|d| d.set(d.get() - 1));
    match r {
        Ok(r) => r,
        Err(_) => {
            let why = LAST
                .with(|l| l.borrow_mut().take())
                .unwrap_or_else(|| "panic".into());
            Err(corrupt(
                path,
                format_args!("the storage engine failed while {what} ({why})"),
            ))
        }
    }
}

/// Drops `v` inside [`contain`] (dropping a transaction reads the store too).
pub(crate) fn drop_contained<T>(path: &Path, v: T) {
    let _ = contain(path, "closing the index", move || {
        drop(v);
        Ok(())
    });
}
