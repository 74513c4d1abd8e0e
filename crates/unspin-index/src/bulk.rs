//! Adding many documents: the caller's thread reads documents and computes
//! their fingerprints in parallel (rayon), chunk by chunk, while a writer
//! thread adds the previous chunk to the index in input order.

use std::sync::mpsc::sync_channel;

use rayon::prelude::*;
use unspin::fingerprint::{Channels, Fingerprint, Fingerprinter, Scratch};

use crate::sources::SourceDoc;
use crate::{Added, IndexError, NewDoc, Writer};

/// Counts of a bulk add.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct AddSummary {
    pub added: u64,
    pub replaced: u64,
    pub unchanged: u64,
    /// Inputs that could not be read (reported through the error callback).
    pub failed: u64,
    /// Bytes of text fingerprinted.
    pub bytes: u64,
    /// CPU seconds of the writer thread (Linux; 0 elsewhere).
    pub writer_cpu_s: f64,
}

impl Eq for AddSummary {}

/// CPU nanoseconds of the calling thread (Unix; 0 elsewhere). Uses the
/// thread's CPU clock, exact to the nanosecond (scheduler statistics in /proc
/// only advance by whole timer ticks, too coarse for one query).
pub fn thread_cpu_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid, writable timespec; the clock id is a constant.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
        if rc == 0 {
            return t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64;
        }
        0
    }
    #[cfg(not(unix))]
    {
        0
    }
}

/// Most documents per parallel chunk.
pub const CHUNK: usize = 2048;

/// Most text per parallel chunk (a chunk always holds at least one
/// document). Three chunks are in flight (one being fingerprinted, one
/// waiting, one being written), each with its text and fingerprints, so this
/// bounds the pipeline's memory whatever the documents' sizes, and a small
/// input already reaches the bound.
pub const CHUNK_BYTES: usize = 2 << 20;

/// A chunk of documents ready to be added: each with its fingerprints and text length.
pub type Chunk = Vec<(NewDoc, Fingerprint, u64)>;

/// Adds the chunks `produce` returns (until it returns `None`) on a writer
/// thread, while `produce` prepares the next ones on the caller's thread.
/// `on_chunk` sees the running summary after each chunk is added.
pub fn add_pipelined(
    writer: &mut Writer,
    mut produce: impl FnMut() -> Option<Chunk>,
    on_chunk: impl Fn(&AddSummary) + Sync,
) -> Result<AddSummary, IndexError> {
    let (tx, rx) = sync_channel::<Chunk>(1);
    std::thread::scope(|s| {
        let consumer = s.spawn(|| -> Result<AddSummary, IndexError> {
            let cpu = thread_cpu_ns();
            let mut sum = AddSummary::default();
            for chunk in rx {
                for (doc, fp, bytes) in &chunk {
                    match writer.add(doc, fp)? {
                        Added::New(_) => sum.added += 1,
                        Added::Replaced(_) => sum.replaced += 1,
                        Added::Unchanged(_) => sum.unchanged += 1,
                    }
                    sum.bytes += bytes;
                }
                on_chunk(&sum);
            }
            sum.writer_cpu_s = thread_cpu_ns().saturating_sub(cpu) as f64 / 1e9;
            Ok(sum)
        });
        while let Some(chunk) = produce() {
            if tx.send(chunk).is_err() {
                // The writer stopped on an error; join reports it.
                break;
            }
        }
        drop(tx);
        consumer
            .join()
            .unwrap_or_else(|_| Err(IndexError::Db("the index writer thread panicked".into())))
    })
}

/// Fingerprints documents in parallel.
pub fn fingerprint_all(fp: &Fingerprinter, texts: &[&str]) -> Vec<Fingerprint> {
    texts
        .par_iter()
        .map_init(Scratch::default, |scratch, text| {
            let mut f = Fingerprint::default();
            fp.fingerprint_into(text, Channels::ALL, scratch, &mut f);
            f
        })
        .collect()
}

/// Adds `docs` to `writer` ([`add_pipelined`] with chunks of at most
/// [`CHUNK`] documents and [`CHUNK_BYTES`] of text).
/// Unreadable inputs go to `on_error` (on the caller's thread) and are
/// skipped.
pub fn add_all(
    writer: &mut Writer,
    fp: &Fingerprinter,
    docs: impl Iterator<Item = Result<SourceDoc, String>>,
    on_progress: impl Fn(&AddSummary) + Sync,
    mut on_error: impl FnMut(String),
) -> Result<AddSummary, IndexError> {
    let mut docs = docs.peekable();
    let mut failed = 0;
    let produce = || {
        docs.peek()?;
        let mut chunk: Vec<SourceDoc> = Vec::new();
        let mut bytes = 0;
        for d in docs.by_ref() {
            match d {
                Ok(d) => {
                    bytes += d.text.len();
                    chunk.push(d);
                    if chunk.len() == CHUNK || bytes >= CHUNK_BYTES {
                        break;
                    }
                }
                Err(e) => {
                    failed += 1;
                    on_error(e);
                }
            }
        }
        let texts: Vec<&str> = chunk.iter().map(|d| d.text.as_str()).collect();
        let fps = fingerprint_all(fp, &texts);
        Some(
            chunk
                .into_iter()
                .zip(fps)
                .map(|(d, f)| {
                    let n = d.text.len() as u64;
                    (d.doc, f, n)
                })
                .collect(),
        )
    };
    let mut sum = add_pipelined(writer, produce, on_progress)?;
    sum.failed = failed;
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::thread_cpu_ns;

    #[cfg(target_os = "linux")]
    #[test]
    fn thread_cpu_time_advances_with_work_and_not_with_sleep() {
        let start = thread_cpu_ns();
        let mut x = 1u64;
        // A fixed amount of work (tens of milliseconds of CPU on any machine),
        // not a wall-clock interval: a loaded machine only makes it take longer.
        for _ in 0..20_000_000 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let busy = thread_cpu_ns() - start;
        assert!(busy > 1_000_000, "{busy} ns of CPU for 20M steps");
        let start = thread_cpu_ns();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let slept = thread_cpu_ns() - start;
        assert!(slept < 10_000_000, "{slept} ns while sleeping");
    }
}
