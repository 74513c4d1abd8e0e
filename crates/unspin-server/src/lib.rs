//! The unspin HTTP server: a JSON API for restore and detect, a
//! LanguageTool-compatible `/v2/check`, health and Prometheus metrics, and a
//! web page, over one shared model.
//!
//! The CPU-bound work runs on a bounded blocking pool (see [`limits`]), so
//! the async runtime only moves bytes. Entry points: [`run`] (blocks until
//! SIGINT or SIGTERM; what `unspin serve` calls) and [`spawn`] (a server on a
//! background thread, for tests and benchmarks).

pub mod app;
pub mod engine;
pub mod error;
pub mod input;
pub mod json_doc;
pub mod languagetool;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod page;
mod server;

use std::time::Duration;

pub use engine::Engine;
pub use log::LogTarget;
pub use server::{run, spawn, Running};

/// Limits and options of a server.
#[derive(Clone, Debug)]
pub struct Config {
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Longest a request may take, body upload and queueing included (503 beyond).
    pub timeout: Duration,
    /// Requests restored or scored at once (CPU threads).
    pub workers: usize,
    /// Requests that may wait for a worker; more at once get 503.
    pub queue: usize,
    /// Longest a client may take to send the request headers.
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub grace: Duration,
    /// `/v2/check` reports changes at least this confident.
    pub check_min_confidence: f32,
    /// Where the log lines go.
    pub log: LogTarget,
    /// Host header names served besides `localhost`, `127.0.0.1`, `[::1]`,
    /// the address the server was started on and the address a client
    /// connected to (`*`: any). Requests naming another host get 421, so a
    /// web page on a DNS-rebound name cannot read the API.
    pub allowed_hosts: Vec<String>,
    /// `/v1/trace` reports the indexed files' paths and the source
    /// passages' text; by default only document ids (the server would
    /// otherwise hand out local files to anyone who can reach it).
    pub trace_show_paths: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            timeout: Duration::from_secs(10),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            queue: 64,
            header_timeout: Duration::from_secs(10),
            grace: Duration::from_secs(10),
            check_min_confidence: 0.5,
            log: LogTarget::Stderr,
            allowed_hosts: Vec::new(),
            trace_show_paths: false,
        }
    }
}
