//! Facts about the machine and the process that the benchmark reports
//! print: CPU, memory, kernel and load, CPU time and peak memory of the
//! process, the date, the command line and the git commit. Linux `/proc`
//! files; elsewhere the values are absent (or "-").

use std::path::Path;

use serde::Serialize;

/// Facts about the machine the benchmark ran on.
#[derive(Serialize)]
pub struct Machine {
    /// Logical CPUs.
    pub cpus: usize,
    /// The CPU's model name (the architecture where unknown).
    pub cpu_model: String,
    /// Total memory.
    pub memory_gib: f64,
    /// Kernel release.
    pub kernel: String,
    /// 1, 5 and 15 minute load averages when the report was written.
    pub load_average: String,
}

/// The machine this process runs on.
pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or_else(
            || std::env::consts::ARCH.to_string(),
            |(_, v)| v.trim().to_string(),
        );
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_gib = proc_kib(&meminfo, "MemTotal:").map_or(0.0, |k| k / (1024.0 * 1024.0));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "-".into());
    Machine {
        load_average: load_average().unwrap_or_else(|| "-".into()),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model,
        memory_gib,
        kernel,
    }
}

/// The load averages over 1, 5 and 15 minutes, "0.50 0.40 0.30".
pub fn load_average() -> Option<String> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// A `Key:   123 kB` value of a /proc file, in KiB.
fn proc_kib(text: &str, key: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `getrusage` for `who` (the calling thread or the whole process).
fn usage(who: libc::c_int) -> Option<libc::rusage> {
    // SAFETY: getrusage writes one rusage into the zeroed struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    (unsafe { libc::getrusage(who, &mut u) } == 0).then_some(u)
}

fn cpu_seconds(u: &libc::rusage) -> f64 {
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// User + system CPU time of the calling thread (Linux; the whole process
/// elsewhere, which is the same for the single-threaded timings that ask).
pub fn thread_cpu_seconds() -> Option<f64> {
    #[cfg(target_os = "linux")]
    let who = libc::RUSAGE_THREAD;
    #[cfg(not(target_os = "linux"))]
    let who = libc::RUSAGE_SELF;
    usage(who).map(|u| cpu_seconds(&u))
}

/// User + system CPU time of the whole process, every thread.
pub fn process_cpu_seconds() -> Option<f64> {
    usage(libc::RUSAGE_SELF).map(|u| cpu_seconds(&u))
}

/// Peak resident memory of the process so far (`ru_maxrss`: KiB on Linux,
/// bytes on macOS).
pub fn peak_memory_mib() -> Option<f64> {
    let kib = usage(libc::RUSAGE_SELF)?.ru_maxrss as f64;
    #[cfg(target_os = "macos")]
    let kib = kib / 1024.0;
    Some(kib / 1024.0)
}

/// The command line, the program named without its folder.
pub fn command_line() -> String {
    let mut args = std::env::args();
    let prog = args.next().map(|p| {
        Path::new(&p)
            .file_name()
            .map_or(p.clone(), |n| n.to_string_lossy().into_owned())
    });
    prog.into_iter().chain(args).collect::<Vec<_>>().join(" ")
}

/// `git describe` of the working folder, when it is a git checkout.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

/// The current UTC time as `YYYY-MM-DD HH:MM UTC`.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM UTC`.
pub fn format_utc(secs: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    // RFC 3339 in seconds: "2026-12-07T00:20:00Z".
    let iso = humantime::format_rfc3339_seconds(t).to_string();
    format!("{} {} UTC", &iso[..10], &iso[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_735_689_599), "2024-12-31 23:59 UTC");
    }
}
