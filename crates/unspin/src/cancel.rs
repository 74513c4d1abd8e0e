//! [`Cancel`]: a cheap token that long work checks between its steps, so a
//! caller can stop it (a server whose request timed out, or that is shutting
//! down).
//!
//! Restore checks it between the pieces of a document and between the
//! stages of each piece (lattice, decoding and EM, sections, output, phrases);
//! the best mode also between the context scorer's batches and the layers of
//! every forward pass; detect between the stages of its pass; trace after the
//! restore and the index lookups. Cancelled work returns
//! [`crate::Error::Cancelled`] and nothing else: no partial result.
//!
//! A token is an `Arc` of an atomic flag, an optional deadline and an
//! optional parent (a server-wide token whose cancellation reaches every
//! request's): cloning it is cheap, and [`Cancel::is_cancelled`] is one
//! relaxed atomic load per level, plus a clock read when a deadline is set.
//! The default token ([`Cancel::never`]) holds nothing and costs one branch.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use unspin::{restore::Options, Cancel, Engine, Error};
//!
//! let engine = Engine::embedded(false)?;
//! let cancel = Cancel::new();
//! cancel.cancel();
//! let opts = Options { cancel, ..Options::default() };
//! let e = engine.restore("helium said the caller rules", &opts).unwrap_err();
//! assert!(matches!(e, Error::Cancelled(_)));
//! // A deadline cancels by itself once it has passed.
//! let late = Cancel::with_deadline(Instant::now() - Duration::from_millis(1));
//! assert!(late.is_cancelled());
//! # Ok::<(), unspin::Error>(())
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A cancellation token (see the module docs). `Cancel::default()` never
/// cancels.
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    flag: AtomicBool,
    deadline: Option<Instant>,
    parent: Option<Cancel>,
}

impl Cancel {
    /// A token that is never cancelled (the default; free to check).
    pub fn never() -> Self {
        Self { inner: None }
    }

    /// A token cancelled by [`Cancel::cancel`] on it or on any clone.
    pub fn new() -> Self {
        Self::build(None, None)
    }

    /// A token that is also cancelled once `deadline` has passed.
    pub fn with_deadline(deadline: Instant) -> Self {
        Self::build(Some(deadline), None)
    }

    /// A token cancelled with this one (and by its own [`Cancel::cancel`],
    /// which does not reach the parent), or once `deadline` has passed.
    pub fn child(&self, deadline: Option<Instant>) -> Self {
        Self::build(deadline, self.inner.is_some().then(|| self.clone()))
    }

    fn build(deadline: Option<Instant>, parent: Option<Cancel>) -> Self {
        Self {
            inner: Some(Arc::new(Inner {
                flag: AtomicBool::new(false),
                deadline,
                parent,
            })),
        }
    }

    /// Cancels the token, its clones and its children. Cannot be undone.
    pub fn cancel(&self) {
        if let Some(i) = &self.inner {
            i.flag.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the work should stop: cancelled, a parent cancelled, or the
    /// deadline passed.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        match &self.inner {
            None => false,
            Some(i) => i.cancelled(),
        }
    }

    /// `Err(Error::Cancelled)` when [`Cancel::is_cancelled`].
    #[inline]
    pub fn check(&self) -> Result<(), crate::Error> {
        if self.is_cancelled() {
            Err(self.error())
        } else {
            Ok(())
        }
    }

    /// The error cancelled work returns: it says whether the deadline passed.
    pub fn error(&self) -> crate::Error {
        let why = match &self.inner {
            Some(i) if i.deadline.is_some_and(|d| Instant::now() >= d) => "its deadline passed",
            _ => "it was cancelled",
        };
        crate::Error::Cancelled(format!("the work was stopped: {why}"))
    }

    /// The deadline, if one was set on this token.
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.as_ref().and_then(|i| i.deadline)
    }
}

impl Inner {
    fn cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
            || self.deadline.is_some_and(|d| Instant::now() >= d)
            || self.parent.as_ref().is_some_and(Cancel::is_cancelled)
    }
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            None => f.write_str("Cancel::never"),
            Some(i) => f
                .debug_struct("Cancel")
                .field("cancelled", &self.is_cancelled())
                .field("deadline", &i.deadline)
                .finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn never_is_never_cancelled() {
        let c = Cancel::never();
        c.cancel();
        assert!(!c.is_cancelled());
        assert!(c.check().is_ok());
    }

    #[test]
    fn clones_and_children_see_a_cancel() {
        let root = Cancel::new();
        let clone = root.clone();
        let child = root.child(None);
        let grandchild = child.child(Some(Instant::now() + Duration::from_secs(3600)));
        assert!(!grandchild.is_cancelled());
        child.cancel();
        assert!(grandchild.is_cancelled());
        assert!(!root.is_cancelled(), "a child's cancel stays below it");
        root.cancel();
        assert!(clone.is_cancelled());
        assert!(matches!(clone.check(), Err(crate::Error::Cancelled(_))));
    }

    #[test]
    fn a_deadline_cancels_by_itself() {
        let c = Cancel::with_deadline(Instant::now() + Duration::from_millis(30));
        assert!(!c.is_cancelled());
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.is_cancelled());
        assert!(c.error().to_string().contains("deadline"), "{}", c.error());
        let child = Cancel::never().child(Some(Instant::now()));
        assert!(child.is_cancelled());
    }
}
