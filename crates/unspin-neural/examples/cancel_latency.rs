//! How long after its deadline a best-mode restore returns (issue 17;
//! docs/BENCHMARKS.md, "Cancellation and SIGTERM"): the text is restored
//! with `quality: best` and a deadline of each of the given seconds; each
//! run prints how long past the deadline the engine returned
//! `Error::Cancelled`, and which context-scorer calls it was in.
//!
//! ```sh
//! cargo run --release -p unspin-neural --example cancel_latency -- FILE [SECONDS...]
//! ```
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use unspin::rescore::{ContextQuery, ContextScorer};
use unspin::restore::Options;
use unspin::{Cancel, Engine, Quality};

/// The neural scorer, with the start and end of every call.
struct Logged {
    lm: unspin_neural::NeuralLm,
    calls: Mutex<Vec<(Instant, Option<Instant>)>>,
}

impl ContextScorer for Logged {
    fn score(&self, text: &str, q: &[ContextQuery]) -> Result<Vec<Vec<f32>>, unspin::Error> {
        self.score_cancellable(text, q, None, &Cancel::never())
    }

    fn score_cancellable(
        &self,
        text: &str,
        q: &[ContextQuery],
        prune: Option<f32>,
        cancel: &Cancel,
    ) -> Result<Vec<Vec<f32>>, unspin::Error> {
        let i = {
            let mut c = self.calls.lock().unwrap();
            c.push((Instant::now(), None));
            c.len() - 1
        };
        let r = self.lm.score_cancellable(text, q, prune, cancel);
        self.calls.lock().unwrap()[i].1 = Some(Instant::now());
        r
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    unspin_neural::prefer_own_parallelism();
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .ok_or("usage: cancel_latency FILE [SECONDS...]")?;
    let text = std::fs::read_to_string(&file)?;
    let mut deadlines: Vec<f64> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    if deadlines.is_empty() {
        deadlines = vec![1.0, 2.0, 3.0, 5.0, 8.0, 10.0];
    }
    let logged = Arc::new(Logged {
        lm: unspin_neural::NeuralLm::load_default()?,
        calls: Mutex::new(Vec::new()),
    });
    let engine = Engine::embedded(true)?.with_scorer(logged.clone());
    println!(
        "{} bytes, {} words",
        text.len(),
        text.split_whitespace().count()
    );
    println!("deadline_s\treturned_past_deadline_ms\tresult\tin_scorer_call");
    let mut worst = Duration::ZERO;
    for d in deadlines {
        logged.calls.lock().unwrap().clear();
        let start = Instant::now();
        let deadline = start + Duration::from_secs_f64(d);
        let opts = Options {
            quality: Quality::Best,
            cancel: Cancel::with_deadline(deadline),
            ..Options::default()
        };
        let r = engine.restore(&text, &opts);
        let past = deadline.elapsed();
        let result = match &r {
            Ok(_) => "finished".to_string(),
            Err(unspin::Error::Cancelled(_)) => "cancelled".to_string(),
            Err(e) => format!("error: {e}"),
        };
        let calls = logged.calls.lock().unwrap();
        let within = calls
            .iter()
            .position(|&(s, e)| s <= deadline && e.is_none_or(|e| e >= deadline))
            .map_or("none".to_string(), |i| {
                format!("{} of {}", i + 1, calls.len())
            });
        if r.is_err() {
            worst = worst.max(past);
        }
        println!(
            "{d}\t{:.0}\t{result}\t{within}",
            if r.is_err() {
                past.as_secs_f64() * 1e3
            } else {
                f64::NAN
            }
        );
    }
    println!(
        "worst: {:.0} ms past the deadline",
        worst.as_secs_f64() * 1e3
    );
    Ok(())
}
