//! `unspin serve`: a thin call into the `unspin-server` crate.

use std::sync::Arc;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, ValueEnum};

use crate::models::ModelFlags;

/// Where the server's log lines go.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Log {
    /// One JSON object per line on standard error.
    Json,
    /// No log.
    Off,
}

#[derive(Args, Debug)]
#[command(after_help = "Endpoints:\n  \
GET  /                 web page: paste or drop a text, review and accept the restored words\n  \
GET  /app.js           the web page's script\n  \
POST /v1/restore       text/plain or {\"text\": ..}: the JSON of `unspin restore --format json`\n  \
POST /v1/detect        text/plain or {\"text\": ..}: the JSON of `unspin detect --format json`\n  \
POST /v1/trace         text/plain or {\"text\": ..}: sources in the --index (the report of `unspin trace --format json`)\n  \
POST /v2/check         LanguageTool-compatible check (form fields text or data, and language)\n  \
GET  /v2/languages     LanguageTool-compatible language list\n  \
GET  /healthz          liveness and the model in use\n  \
GET  /metrics          Prometheus metrics\n\n\
Examples:\n  \
unspin serve                                   listen on 127.0.0.1:8080\n  \
curl -s --data-binary @spun.txt -H 'Content-Type: text/plain' localhost:8080/v1/restore | jq .text\n  \
curl -s -d language=en-US --data-urlencode text@spun.txt localhost:8080/v2/check\n\n\
Requests whose Host is not allowed (see --allow-host) get 421, against DNS rebinding.\n\
Stops gracefully on SIGINT or SIGTERM (exit 0). See docs/SERVER.md.")]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: String,
    /// Largest request body accepted, in bytes (K, M suffixes allowed; 413 beyond).
    #[arg(long, default_value = "1M", value_name = "SIZE", value_parser = parse_size)]
    pub max_body: usize,
    /// Longest a request may take, in seconds, body upload and queueing included (503 beyond).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Requests restored or scored at once (default: all cores).
    #[arg(long, value_name = "N", value_parser = crate::args::at_least_one)]
    pub workers: Option<usize>,
    /// Requests that may wait for a worker; beyond that the server answers 503.
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub queue: usize,
    /// /v2/check reports only changes at least this confident (0 to 1).
    #[arg(long, default_value_t = 0.5, value_name = "P")]
    pub check_min_confidence: f32,
    /// Log format.
    #[arg(long, value_enum, default_value_t = Log::Json)]
    pub log: Log,
    /// Trace index for POST /v1/trace (built with `unspin index add`; it may grow while served).
    #[arg(long, value_name = "INDEX")]
    pub index: Option<std::path::PathBuf>,
    /// A spinner learned by `unspin learn`, under a name requests use
    /// (`"spinner": "NAME"`); repeatable. `/healthz` lists them.
    #[arg(long, value_name = "NAME=FILE")]
    pub spinner: Vec<String>,
    /// Calibration file from `unspin-build calibrate` (default: the embedded one).
    #[arg(long, value_name = "FILE", env = "UNSPIN_CALIBRATION")]
    pub calibration: Option<std::path::PathBuf>,
    /// Also answer requests for this Host name (repeatable; '*': any). By
    /// default only localhost, 127.0.0.1, [::1], the --addr host and the
    /// address a client connected to are answered; others get 421.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// /v1/trace reports the indexed files' paths and the source passages'
    /// text (by default only document ids: anyone who can reach the server
    /// could read the files).
    #[arg(long)]
    pub trace_show_paths: bool,
    #[command(flatten)]
    pub model: ModelFlags,
}

/// Bytes with an optional K/M/G (binary) suffix.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let lower = lower.trim_end_matches("ib").trim_end_matches('b');
    let (num, mult) = match lower.chars().last() {
        Some('k') => (&lower[..lower.len() - 1], 1usize << 10),
        Some('m') => (&lower[..lower.len() - 1], 1 << 20),
        Some('g') => (&lower[..lower.len() - 1], 1 << 30),
        _ => (lower, 1),
    };
    let n: usize = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size (for example 1048576, 512K or 4M)"))?;
    n.checked_mul(mult)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("'{s}' is out of range"))
}

/// Runs `unspin serve` until SIGINT or SIGTERM.
pub fn run(args: &ServeArgs) -> anyhow::Result<u8> {
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        bail!("--timeout must be a positive number of seconds");
    }
    if !(0.0..=1.0).contains(&args.check_min_confidence) {
        bail!("--check-min-confidence must be between 0 and 1");
    }
    // With WordNet: requests may ask for `"quality": "best"`, whose synonym sweep needs it.
    let model = args.model.load_for(unspin::Quality::Best)?;
    let calibration = crate::models::load_calibration(args.calibration.as_deref())?;
    // The neural model loads on the first request for the best mode.
    let core = unspin::Engine::new(model, calibration)
        .with_scorer_loader(unspin_neural::scorer_loader(None));
    let mut engine = unspin_server::Engine::new(Arc::new(core));
    for spec in &args.spinner {
        let (name, path) = spec
            .split_once('=')
            .filter(|(n, p)| !n.is_empty() && !p.is_empty())
            .ok_or_else(|| crate::Usage(format!("--spinner '{spec}': expected NAME=FILE")))?;
        let profile = crate::cmd_learn::load_profile(std::path::Path::new(path))?;
        engine = engine.with_spinner(name, &profile);
    }
    if let Some(path) = &args.index {
        engine = engine.with_tracer(unspin_server::engine::Tracer::open(path)?);
    }
    let engine = Arc::new(engine);
    let defaults = unspin_server::Config::default();
    let timeout = Duration::from_secs_f64(args.timeout);
    let config = unspin_server::Config {
        max_body_bytes: args.max_body,
        timeout,
        workers: args.workers.unwrap_or(defaults.workers),
        queue: args.queue,
        header_timeout: timeout,
        grace: timeout,
        check_min_confidence: args.check_min_confidence,
        log: match args.log {
            Log::Json => unspin_server::LogTarget::Stderr,
            Log::Off => unspin_server::LogTarget::Off,
        },
        allowed_hosts: args.allow_host.clone(),
        trace_show_paths: args.trace_show_paths,
    };
    unspin_server::run(&args.addr, engine, config)?;
    Ok(crate::EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("4M"), Ok(4 << 20));
        assert_eq!(parse_size("4MiB"), Ok(4 << 20));
        assert_eq!(parse_size("2kb"), Ok(2048));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999G").is_err());
    }
}
