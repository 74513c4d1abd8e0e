//! `unspin-loadgen`: load and malformed-request generator for benchmarking
//! `unspin serve` on loopback (see `scripts/bench-serve.sh`). Prints one JSON
//! report on standard output. Refuses any address that is not loopback.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use unspin_bench::loadgen::{run_load, run_malformed, LoadSpec};

#[derive(Parser)]
#[command(
    name = "unspin-loadgen",
    about = "Load generator for unspin serve (loopback only)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How each document is sent.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Encoding {
    /// text/plain body.
    Text,
    /// {"text": ...} JSON body.
    Json,
    /// LanguageTool form: text=...&language=en-US.
    Form,
}

#[derive(Subcommand)]
enum Command {
    /// Closed-loop load: keep-alive connections replaying documents.
    Load {
        /// Server address (http://127.0.0.1:PORT).
        #[arg(long)]
        url: String,
        /// Endpoint path.
        #[arg(long, default_value = "/v1/restore")]
        path: String,
        /// JSONL file of {"text": ...} documents, sent in turn.
        #[arg(long)]
        docs: PathBuf,
        /// Body encoding.
        #[arg(long, value_enum, default_value_t = Encoding::Text)]
        encoding: Encoding,
        /// Concurrent connections.
        #[arg(long, default_value_t = 4)]
        connections: usize,
        /// Measured seconds.
        #[arg(long, default_value_t = 15.0)]
        duration: f64,
        /// Unmeasured seconds first.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
    },
    /// Malformed requests of every kind, one connection each; none may get a 2xx or 5xx.
    Malformed {
        /// Server address (http://127.0.0.1:PORT).
        #[arg(long)]
        url: String,
        /// Requests to send (at most 1,000,000).
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        /// Parallel streams.
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Seed of the damage.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// A well-formed text to damage.
        #[arg(long)]
        text: PathBuf,
    },
}

fn loopback(url: &str) -> anyhow::Result<SocketAddr> {
    let hostport = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("");
    let addr = hostport
        .to_socket_addrs()
        .with_context(|| format!("bad address {url}"))?
        .next()
        .with_context(|| format!("{url} resolves to nothing"))?;
    if !addr.ip().is_loopback() {
        bail!("{url} is not a loopback address; unspin-loadgen only loads this machine");
    }
    Ok(addr)
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unspin-loadgen: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = match cli.command {
        Command::Load {
            url,
            path,
            docs,
            encoding,
            connections,
            duration,
            warmup,
        } => {
            let addr = loopback(&url)?;
            if !(duration > 0.0 && duration <= 3600.0 && (0.0..=600.0).contains(&warmup)) {
                bail!("--duration must be in (0, 3600] s and --warmup in [0, 600] s");
            }
            let text =
                std::fs::read_to_string(&docs).with_context(|| docs.display().to_string())?;
            let mut bodies = Vec::new();
            for line in unspin::jsonl::lines(&text) {
                let line = line.map_err(|e| {
                    anyhow::Error::new(e.error).context(format!("{}:{}", docs.display(), e.number))
                })?;
                let t = line
                    .text()
                    .with_context(|| format!("{}:{}: no \"text\"", docs.display(), line.number))?;
                bodies.push(match encoding {
                    Encoding::Text => t.as_bytes().to_vec(),
                    Encoding::Json => serde_json::json!({ "text": t }).to_string().into_bytes(),
                    Encoding::Form => {
                        serde_urlencoded::to_string([("text", t), ("language", "en-US")])?
                            .into_bytes()
                    }
                });
            }
            if bodies.is_empty() {
                bail!("{}: no documents", docs.display());
            }
            let content_type = match encoding {
                Encoding::Text => "text/plain; charset=utf-8",
                Encoding::Json => "application/json",
                Encoding::Form => "application/x-www-form-urlencoded",
            };
            let r = rt.block_on(run_load(LoadSpec {
                addr,
                path,
                content_type: content_type.into(),
                bodies,
                connections,
                duration: Duration::from_secs_f64(duration),
                warmup: Duration::from_secs_f64(warmup),
            }))?;
            serde_json::to_value(r)?
        }
        Command::Malformed {
            url,
            count,
            connections,
            seed,
            text,
        } => {
            let addr = loopback(&url)?;
            if count > 1_000_000 {
                bail!("--count is at most 1,000,000");
            }
            let t = std::fs::read_to_string(&text).with_context(|| text.display().to_string())?;
            let r = rt.block_on(run_malformed(addr, count, connections, seed, Arc::new(t)));
            serde_json::to_value(r)?
        }
    };
    println!("{report}");
    Ok(())
}
