//! `--quality best` in the library (issue 6), with stand-in context
//! scorers: what is asked, what changes, what never changes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use unspin::rescore::{ContextQuery, ContextScorer};
use unspin::restore::{Options, Restorer};

mod common;
use common::model;

const SPUN: &str = "helium said the caller rules would beryllium published connected Monday, arsenic planned. \
The caller rules would beryllium debated successful the fall, and the authorities said it would look astatine them.";

/// Scores a candidate 0 when a word list names it, -30 otherwise; records what it was asked.
struct Prefers {
    words: Vec<&'static str>,
    asked: Mutex<Vec<(String, ContextQuery)>>,
}

impl ContextScorer for Prefers {
    fn score(&self, text: &str, queries: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        let mut asked = self.asked.lock().unwrap();
        for q in queries {
            asked.push((text.to_string(), q.clone()));
        }
        Ok(queries
            .iter()
            .map(|q| {
                q.candidates
                    .iter()
                    .map(|c| {
                        if self.words.contains(&c.as_str()) {
                            0.0
                        } else {
                            -30.0
                        }
                    })
                    .collect()
            })
            .collect())
    }
}

#[test]
fn queries_describe_the_text_as_restored_so_far() {
    let s = Prefers {
        words: vec![],
        asked: Mutex::new(Vec::new()),
    };
    let mut r = Restorer::new(model(), Options::default());
    let _ = r.restore_best(SPUN, &s).unwrap();
    let asked = s.asked.lock().unwrap();
    assert!(!asked.is_empty(), "some slot of a spun text is uncertain");
    let base = r.restore(SPUN).text;
    let mut last_end = 0;
    for (text, q) in asked.iter() {
        assert_eq!(text, &base, "the scorer sees the default restoration");
        assert!(
            q.start >= last_end && q.end > q.start,
            "sorted, non-overlapping spans"
        );
        last_end = q.end;
        assert!(q.candidates.len() >= 2);
        assert_eq!(
            &text[q.start..q.end],
            q.candidates[q.base],
            "base names the current text"
        );
    }
}

#[test]
fn the_scorer_decides_uncertain_slots_and_nothing_else_changes() {
    let default = Restorer::new(model(), Options::default()).restore(SPUN);
    // A scorer that prefers every alternative the default did not choose,
    // wherever it is asked.
    let probe = Prefers {
        words: vec![],
        asked: Mutex::new(Vec::new()),
    };
    let mut r = Restorer::new(model(), Options::default());
    let _ = r.restore_best(SPUN, &probe).unwrap();
    let flip: Vec<&'static str> = probe
        .asked
        .lock()
        .unwrap()
        .iter()
        .map(|(_, q)| {
            let other = q
                .candidates
                .iter()
                .enumerate()
                .find(|(i, _)| *i != q.base)
                .unwrap()
                .1;
            &*Box::leak(other.clone().into_boxed_str())
        })
        .collect();
    let s = Prefers {
        words: flip.clone(),
        asked: Mutex::new(Vec::new()),
    };
    let best = r.restore_best(SPUN, &s).unwrap();
    assert_ne!(
        best.text, default.text,
        "a decisive scorer changes the restoration"
    );
    let rescored = r.rescored();
    assert!(rescored.iter().any(|x| x.after != x.before));
    for x in rescored {
        assert!(flip.contains(&x.candidates[x.after].as_str()) || x.after == x.before);
    }
    // Bytes outside the reported changes are the input's.
    let mut at = 0;
    let mut rebuilt = String::new();
    for c in best.changes.iter().filter(|c| c.applied) {
        rebuilt.push_str(&SPUN[at..c.start]);
        rebuilt.push_str(&c.original);
        at = c.end;
    }
    rebuilt.push_str(&SPUN[at..]);
    assert_eq!(rebuilt, best.text);
}

/// Counts calls and answers zeros.
struct Counting(AtomicUsize);

impl ContextScorer for Counting {
    fn score(&self, _: &str, queries: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(queries
            .iter()
            .map(|q| vec![0.0; q.candidates.len()])
            .collect())
    }
}

#[test]
fn clean_text_is_never_rescored() {
    let clean = "The town council met on Tuesday evening to discuss the new budget for the coming year. \
Most of the money will go to schools, roads and the public library, which has been closed for repairs since \
the spring. Several residents spoke during the meeting, and the mayor thanked everyone for their comments.";
    let s = Counting(AtomicUsize::new(0));
    let mut r = Restorer::new(model(), Options::default());
    let best = r.restore_document_best(clean, &s).unwrap();
    assert_eq!(best.text, clean);
    assert_eq!(
        s.0.load(Ordering::SeqCst),
        0,
        "no section of clean text is judged spun"
    );
}

/// Answers one score too few.
struct Broken;

impl ContextScorer for Broken {
    fn score(&self, _: &str, queries: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        Ok(queries
            .iter()
            .skip(1)
            .map(|q| vec![0.0; q.candidates.len()])
            .collect())
    }
}

/// Fails like a model that cannot run.
struct Failing;

impl ContextScorer for Failing {
    fn score(&self, _: &str, _: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        Err(unspin::Error::Model("model exploded".into()))
    }
}

#[test]
fn scorer_errors_are_errors_not_panics() {
    let mut r = Restorer::new(model(), Options::default());
    let e = r.restore_best(SPUN, &Broken).unwrap_err().to_string();
    assert!(e.contains("scores"), "{e}");
    let e = r
        .restore_document_best(SPUN, &Failing)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "model exploded");
    // The restorer still works afterwards, in both modes.
    assert_eq!(
        r.restore(SPUN).text,
        Restorer::new(model(), Options::default())
            .restore(SPUN)
            .text
    );
}

#[test]
fn the_default_mode_is_unchanged_by_a_best_run() {
    let mut r = Restorer::new(model(), Options::default());
    let before = r.restore(SPUN).text;
    let s = Counting(AtomicUsize::new(0));
    let _ = r.restore_best(SPUN, &s).unwrap();
    assert_eq!(r.restore(SPUN).text, before);
}

/// A slow scorer: each call takes `per_call` unless its token is cancelled,
/// which it checks every few milliseconds (as the neural scorer checks
/// between layers). On its first call it cancels `trigger`: the caller's
/// token, so that the cancellation lands inside the scorer whatever the
/// machine's speed.
struct Slow {
    per_call: std::time::Duration,
    calls: AtomicUsize,
    trigger: unspin::Cancel,
}

impl ContextScorer for Slow {
    fn score(&self, _: &str, queries: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        self.score_cancellable("", queries, None, &unspin::Cancel::never())
    }

    fn score_cancellable(
        &self,
        _: &str,
        queries: &[ContextQuery],
        _: Option<f32>,
        cancel: &unspin::Cancel,
    ) -> Result<Vec<Vec<f32>>, unspin::Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.trigger.cancel();
        let start = std::time::Instant::now();
        while start.elapsed() < self.per_call {
            cancel.check()?;
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(queries
            .iter()
            .map(|q| vec![0.0; q.candidates.len()])
            .collect())
    }
}

#[test]
fn a_cancelled_best_restore_stops_inside_the_scorer() {
    let cancel = unspin::Cancel::new();
    let scorer = Slow {
        per_call: std::time::Duration::from_secs(30),
        calls: AtomicUsize::new(0),
        trigger: cancel.clone(),
    };
    let opts = Options {
        cancel,
        ..Options::default()
    };
    let mut r = Restorer::new(model(), opts);
    let start = std::time::Instant::now();
    let out = r.restore_document_best(SPUN, &scorer);
    assert!(
        matches!(&out, Err(unspin::Error::Cancelled(_))),
        "{:?}",
        out.map(|r| r.text)
    );
    assert_eq!(
        scorer.calls.load(Ordering::SeqCst),
        1,
        "the scorer was asked once, and stopped"
    );
    // Cancelled inside a 30 s call: it returned at its next check.
    assert!(start.elapsed().as_secs() < 10, "ran {:?}", start.elapsed());
}
