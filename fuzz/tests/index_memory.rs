//! The fuzz finding `regress-check-2gib` (issue 17): a 12-byte corruption
//! of a 70 KB index made `check` allocate and zero-fill 2 GiB, because redb
//! sizes a child page by the order its (damaged) pointer gives. The index's
//! storage backends now refuse a branch page that names a child larger than
//! the file (`crates/unspin-index/src/pages.rs`). Alone in its test binary,
//! so that the process's peak memory is this input's.

/// Peak resident memory of this process so far (Linux `VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

#[test]
#[cfg(target_os = "linux")]
fn a_corrupt_child_pointer_allocates_no_more_than_the_file() {
    let input = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/index/regress-check-2gib"),
    )
    .expect("the finding");
    let started = std::time::Instant::now();
    unspin_fuzz::index(&input);
    let peak = peak_rss();
    assert!(
        peak < 512 << 20,
        "peak memory {} MB replaying the finding",
        peak >> 20
    );
    assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
}
