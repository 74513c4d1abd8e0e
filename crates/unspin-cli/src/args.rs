//! Value parsers and settings shared by the subcommands' flags. A value out
//! of range is refused while the flags are parsed, so it is a usage error
//! (exit 2) like any other bad flag.

/// A probability or share: a number from 0 to 1.
pub fn unit(s: &str) -> Result<f32, String> {
    unit_f64(s).map(|v| v as f32)
}

/// [`unit`] at double precision.
pub fn unit_f64(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0..=1"))
    }
}

/// A count of threads or workers: a whole number of at least 1.
pub fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a whole number")),
    }
}

/// Sizes rayon's global pool for `--jobs` (default: all cores).
pub fn set_jobs(jobs: Option<usize>) {
    if let Some(j) = jobs {
        // Fails only when the pool was built already, which leaves it as it is.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(j)
            .build_global();
    }
}

/// `--color`: when to color terminal output.
#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum Color {
    /// When standard output is a terminal.
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to color output written to standard output.
    pub fn on_stdout(self) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::io::IsTerminal::is_terminal(&std::io::stdout()),
        }
    }
}
